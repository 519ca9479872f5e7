/*
 * Seizing tasks with PTRACE_SEIZE + PTRACE_INTERRUPT, whole trees of them
 * (or, with --freeze-cgroup, every thread of a frozen cgroup). Their
 * state is read through ptrace in ptrace/regs.c.
 *
 * What the kernel does for us, and why release is PTRACE_DETACH from the
 * PTRACE_INTERRUPT stop (seize_retrap() first puts a thread back there
 * after injections):
 * - PTRACE_SEIZE does not stop the task or touch its signal state; the
 *   stop comes from PTRACE_INTERRUPT, reported as PTRACE_EVENT_STOP with
 *   SIGTRAP, or with the stop signal when the group is stopped (SIGSTOP).
 * - A thread in a group stop may be resumed by its tracer, but the group
 *   stays "stopped" (SIGNAL_STOP_STOPPED): on detach the kernel makes the
 *   thread stop again, without a new notification to its parent. So a
 *   stopped task is back in its stop after release, and a running one runs.
 * - A syscall interrupted by our stop (read, nanosleep...) is stopped with
 *   -ERESTART* in rax inside get_signal(); the kernel restarts it when the
 *   thread resumes from that stop, as for any signal that has no handler.
 */
#define LOG_PREFIX "seize: "

#include <cpuid.h>
#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/time.h>
#include <sys/wait.h>

#include "util/hashmap.h"
#include "util/log.h"
#include "ptrace/seize.h"
#include "util/kerndat.h"
#include "util/util.h"

/* Signals we let through while waiting for the first stop, at most. */
#define MAX_SEIZE_STOPS 64
/* Passes over a tree that keeps changing before we give up. */
#define MAX_TREE_PASSES 1000

struct task_status {
	char state; /* R, S, D, T, t, Z, X... */
	pid_t tgid;
	pid_t tracer;
};

/* Reads State, Tgid and TracerPid from /proc/TID/status. */
static int read_task_status(pid_t tid, struct task_status *st)
{
	_cleanup_free_ char *buf = NULL;
	char path[64];
	int ret;

	snprintf(path, sizeof(path), "/proc/%d/status", tid);
	ret = read_file_at(AT_FDCWD, path, &buf, NULL);
	if (ret == -ENOENT)
		return -ESRCH;
	if (ret < 0)
		return ret;
	memset(st, 0, sizeof(*st));
	for (char *line = buf, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (!strncmp(line, "State:", 6))
			st->state = line[6 + strspn(line + 6, " \t")];
		else if (!strncmp(line, "Tgid:", 5))
			st->tgid = (pid_t)strtol(line + 5, NULL, 10);
		else if (!strncmp(line, "TracerPid:", 10))
			st->tracer = (pid_t)strtol(line + 10, NULL, 10);
	}
	if (!st->state || st->tgid <= 0) {
		pr_err("unexpected format of %s\n", path);
		return -EINVAL;
	}
	return 0;
}

static bool is_stop_signal(int sig)
{
	return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

/* seize_tree_timeout(): set by SIGALRM once the time to freeze the tree is up */
static volatile sig_atomic_t seize_expired;
static unsigned seize_timeout_s;

static void on_seize_alarm(int sig)
{
	(void)sig;
	seize_expired = 1;
}

/*
 * waitpid() for t; `timed`: only the wait for a thread to stop as it is
 * seized, which --timeout ends (the alarm repeats once it has run out, so
 * a wait begun just after it is cut short too). The waits that release a
 * tree are never timed: a thread that can stop is not given up for hung.
 */
static int wait_thread(struct seized_thread *t, int *status, bool timed)
{
	for (;;) {
		bool late = timed && seize_expired;
		pid_t r = waitpid(t->tid, status, __WALL | (late ? WNOHANG : 0));

		if (r == t->tid)
			break;
		if (timed && seize_expired && (r == 0 || (r < 0 && errno == EINTR))) {
			struct task_status st = {0};

			read_task_status(t->tid, &st);
			t->hung = true;
			pr_err("thread %d did not stop within %u s (state %c%s)\n", t->tid, seize_timeout_s,
			       st.state ? st.state : '?',
			       st.state == 'D' ? ": uninterruptible sleep, a vfork parent or a hung filesystem" : "");
			pr_hint("raise --timeout, or dump it when it can stop\n");
			return -ETIMEDOUT;
		}
		if (r < 0 && errno == EINTR)
			continue;
		pr_perror("waitpid(%d)", t->tid);
		return r < 0 ? -errno : -EIO;
	}
	if (WIFEXITED(*status) || WIFSIGNALED(*status)) {
		pr_debug("thread %d died while seized (status %#x)\n", t->tid, *status);
		t->dead = true;
		t->seized = false;
		return -ESRCH;
	}
	return 0;
}

int seize_wait(struct seized_thread *t, int *status)
{
	return wait_thread(t, status, false);
}

/*
 * PTRACE_SEIZE, with seccomp suspended while we hold the task so that the
 * syscalls we inject are not filtered. That needs CAP_SYS_ADMIN and a tracer
 * without seccomp; without it we seize anyway.
 */
static int attach(struct seized_thread *t)
{
	long opts = PTRACE_O_TRACESYSGOOD;

	if (kdat_has(KF_SECCOMP_SUSPEND)) {
		if (!ptrace(PTRACE_SEIZE, t->tid, NULL, (void *)(opts | PTRACE_O_SUSPEND_SECCOMP))) {
			t->seccomp_suspended = true;
			return 0;
		}
		if (errno != EPERM && errno != EINVAL)
			return -errno;
	}
	if (!ptrace(PTRACE_SEIZE, t->tid, NULL, (void *)opts)) {
		pr_debug("thread %d: seized without PTRACE_O_SUSPEND_SECCOMP\n", t->tid);
		return 0;
	}
	return -errno;
}

static int set_exitkill(struct seized_thread *t, bool on)
{
	long opts = PTRACE_O_TRACESYSGOOD | (t->seccomp_suspended ? PTRACE_O_SUSPEND_SECCOMP : 0) |
		    (on ? PTRACE_O_EXITKILL : 0);

	if (!t->seized || t->dead)
		return 0;
	if (ptrace(PTRACE_SETOPTIONS, t->tid, NULL, (void *)opts)) {
		pr_perror("thread %d: can't set its ptrace options", t->tid);
		return -errno;
	}
	return 0;
}

int seize_exitkill(struct seized_thread *t, bool on)
{
	int err = set_exitkill(t, on);

	if (!err)
		t->exitkill = on;
	return err;
}

int seize_guard(struct seized_thread *t, bool on)
{
	return t->exitkill ? 0 : set_exitkill(t, on);
}

/* A task that died under us: -ESRCH, and is it a zombie now? */
static int task_gone(struct seized_thread *t)
{
	struct task_status st;

	t->zombie = read_task_status(t->tid, &st) == 0 && st.state == 'Z';
	return -ESRCH;
}

/* Says why PTRACE_SEIZE failed; a task that died meanwhile gives -ESRCH. */
static int seize_failed(struct seized_thread *t, int err)
{
	struct task_status st;

	if (read_task_status(t->tid, &st) < 0 || st.state == 'X')
		return -ESRCH;
	if (st.state == 'Z') {
		t->zombie = true;
		return -ESRCH;
	}
	if (st.tracer)
		pr_err("thread %d is already traced by %d\n", t->tid, st.tracer);
	else
		pr_err("can't seize thread %d: %s\n", t->tid, strerror(-err));
	return err;
}

/*
 * Waits for the stop PTRACE_INTERRUPT asked for. A signal being delivered
 * gets there first as a signal-delivery-stop: we let the thread take it, as
 * it was about to (the trap still comes before it returns to user mode).
 */
static int wait_seize_stop(struct seized_thread *t)
{
	for (int i = 0; i < MAX_SEIZE_STOPS; i++) {
		int status, ret, sig;

		ret = wait_thread(t, &status, true);
		if (ret < 0)
			return ret;
		sig = WSTOPSIG(status);
		if (status >> 16 == PTRACE_EVENT_STOP) {
			t->was_stopped = is_stop_signal(sig);
			t->stop_signo = t->was_stopped ? sig : 0;
			return 0;
		}
		pr_debug("thread %d: signal %d delivered while seizing\n", t->tid, sig);
		if (ptrace(PTRACE_CONT, t->tid, NULL, (void *)(long)sig)) {
			pr_perror("can't resume thread %d", t->tid);
			return -errno;
		}
	}
	pr_err("thread %d does not stop (signal storm?)\n", t->tid);
	return -EAGAIN;
}

/* attached: PTRACE_SEIZE and PTRACE_INTERRUPT were done (seize_pre_attach),
 * with seccomp suspended if `suspended` */
static int seize_task_attached(pid_t tid, struct seized_thread *t, bool attached, bool suspended);

int seize_task(pid_t tid, struct seized_thread *t)
{
	return seize_task_attached(tid, t, false, false);
}

static int seize_task_attached(pid_t tid, struct seized_thread *t, bool attached, bool suspended)
{
	struct task_status st;
	int ret;

	memset(t, 0, sizeof(*t));
	t->tid = tid;
	ret = read_task_status(tid, &st);
	if (ret < 0 && ret != -ESRCH && ret != -EINVAL) /* gone; or said */
		pr_err("can't read the status of thread %d: %s\n", tid, strerror(-ret));
	if (ret < 0)
		return ret;
	t->pid = st.tgid;
	if (st.state == 'Z' || st.state == 'X') {
		t->zombie = st.state == 'Z';
		return -ESRCH;
	}
	if (attached) {
		t->seccomp_suspended = suspended;
		goto wait;
	}
	ret = attach(t);
	if (ret < 0)
		return seize_failed(t, ret);
	if (ptrace(PTRACE_INTERRUPT, tid, NULL, NULL)) {
		/* Only a task that is no longer ours: it died, collect it. */
		int status;

		ret = -errno;
		waitpid(tid, &status, __WALL | WNOHANG);
		return ret == -ESRCH ? task_gone(t) : seize_failed(t, ret);
	}
wait:
	ret = wait_seize_stop(t);
	if (ret < 0 && t->dead) {
		/* We collected its death as its tracer: it is its parent's zombie now. */
		t->dead = false;
		return task_gone(t);
	}
	t->seized = true;
	if (ret < 0) {
		release_task(t); /* it may be running: release stops it first */
		return ret;
	}
	pr_debug("seized thread %d of %d%s\n", tid, t->pid, t->was_stopped ? " (stopped)" : "");
	return 0;
}

int seize_retrap(struct seized_thread *t)
{
	int sig = 0;

	/* ESRCH: killed, it left its stop to die; release_task() collects it. */
	if (ptrace(PTRACE_INTERRUPT, t->tid, NULL, NULL)) {
		if (errno != ESRCH)
			pr_perror("can't interrupt thread %d", t->tid);
		return -errno;
	}
	for (int i = 0; i < MAX_SEIZE_STOPS; i++) {
		int status, ret;

		if (ptrace(PTRACE_CONT, t->tid, NULL, (void *)(long)sig)) {
			if (errno != ESRCH)
				pr_perror("can't resume thread %d", t->tid);
			return -errno;
		}
		ret = seize_wait(t, &status);
		if (ret < 0)
			return ret;
		if (status >> 16 == PTRACE_EVENT_STOP) {
			t->needs_retrap = false;
			return 0;
		}
		/* Not expected: a signal before the trap, delivered as usual. */
		sig = WSTOPSIG(status) == (SIGTRAP | 0x80) ? 0 : WSTOPSIG(status);
	}
	pr_err("thread %d does not stop again\n", t->tid);
	return -EAGAIN;
}

/*
 * Detaching needs the thread in a ptrace stop. If it is not, it is running
 * (an injection failed half-way) or dying (SIGKILL): stop it, or collect
 * its death, which the kernel reports to us as its tracer first.
 */
static int detach_harder(struct seized_thread *t)
{
	struct task_status st;
	int status, sig;

	if (read_task_status(t->tid, &st) < 0 || st.tracer != getpid() ||
	    ptrace(PTRACE_INTERRUPT, t->tid, NULL, NULL)) {
		waitpid(t->tid, &status, __WALL | WNOHANG);
		return 0;
	}
	t->seized = true;
	if (seize_wait(t, &status) < 0)
		return t->dead ? 0 : -ESRCH;
	t->seized = false;
	/* At a signal-delivery stop, detaching with the signal delivers it. */
	sig = status >> 16 || WSTOPSIG(status) == (SIGTRAP | 0x80) ? 0 : WSTOPSIG(status);
	if (ptrace(PTRACE_DETACH, t->tid, NULL, (void *)(long)sig)) {
		pr_perror("can't detach thread %d", t->tid);
		return -errno;
	}
	return 0;
}

int release_task(struct seized_thread *t)
{
	if (!t->seized)
		return 0;
	if (t->hung) {
		/* it can't stop, so it can't be detached: the kernel unlinks it as criu exits */
		t->seized = false;
		pr_debug("thread %d never stopped: left traced until criu exits\n", t->tid);
		return 0;
	}
	if (t->needs_retrap && seize_retrap(t) < 0 && t->dead)
		return 0;
	t->seized = false;
	if (!ptrace(PTRACE_DETACH, t->tid, NULL, NULL)) {
		pr_debug("released thread %d\n", t->tid);
		return 0;
	}
	if (errno != ESRCH) {
		pr_perror("can't detach thread %d", t->tid);
		return -errno;
	}
	return detach_harder(t);
}

/* ------------------------------------------------------------------------
 * Trees
 */

/* What we know of a thread id (values of tree_walk.tids). */
#define TID_SEIZED ((void *)1)
#define TID_ZOMBIE ((void *)2)
#define TID_GONE   ((void *)3)
/* seize_pre's: attached (with seccomp suspended, or not), not yet taken by a walk */
#define PRE_ATTACHED	     ((void *)1)
#define PRE_ATTACHED_NO_SUSP ((void *)3)
#define PRE_TAKEN	     ((void *)2)

struct tree_walk {
	pid_t root;
	struct seized_tree *tree;
	size_t cap_threads, cap_zombies;
	pid_t *procs;	  /* every process found, in order */
	bool *procs_done; /* gone or zombie: nothing more to look at */
	size_t nr_procs, cap_procs;
	struct hmap tids; /* thread id -> TID_* */
	struct hmap pids; /* process id -> non-NULL once found */
	struct seize_pre *pre; /* threads attached while their cgroup was frozen */
	bool changed;	  /* this pass found something new */
};

static void add_proc(struct tree_walk *w, pid_t pid)
{
	if (hmap_get_int(&w->pids, (uint64_t)pid))
		return;
	if (w->nr_procs == w->cap_procs) {
		w->cap_procs = w->cap_procs ? w->cap_procs * 2 : 16;
		w->procs = xrealloc(w->procs, w->cap_procs * sizeof(*w->procs));
		w->procs_done = xrealloc(w->procs_done, w->cap_procs * sizeof(*w->procs_done));
	}
	w->procs[w->nr_procs] = pid;
	w->procs_done[w->nr_procs++] = false;
	hmap_put_int(&w->pids, (uint64_t)pid, (void *)1);
	w->changed = true;
}

static void add_zombie(struct tree_walk *w, pid_t pid)
{
	struct seized_tree *tree = w->tree;

	if (tree->nr_zombies == w->cap_zombies) {
		w->cap_zombies = w->cap_zombies ? w->cap_zombies * 2 : 16;
		tree->zombies = xrealloc(tree->zombies, w->cap_zombies * sizeof(*tree->zombies));
	}
	tree->zombies[tree->nr_zombies++] = pid;
}

/* Seizes a thread seen for the first time; returns its TID_* state. */
static void *seize_new_thread(struct tree_walk *w, pid_t tid, int *err)
{
	struct seized_tree *tree = w->tree;
	struct seized_thread *t;
	void *state;
	int ret;

	if (tree->nr_threads == w->cap_threads) {
		w->cap_threads = w->cap_threads ? w->cap_threads * 2 : 16;
		tree->threads = xrealloc(tree->threads, w->cap_threads * sizeof(*tree->threads));
	}
	t = &tree->threads[tree->nr_threads];
	void *pre = w->pre ? hmap_get_int(&w->pre->tids, (uint64_t)tid) : NULL;

	if (pre == PRE_ATTACHED || pre == PRE_ATTACHED_NO_SUSP) {
		hmap_put_int(&w->pre->tids, (uint64_t)tid, PRE_TAKEN);
		ret = seize_task_attached(tid, t, true, pre == PRE_ATTACHED);
	} else {
		ret = seize_task(tid, t);
	}
	if (!ret) {
		tree->nr_threads++;
		state = TID_SEIZED;
	} else if (ret == -ESRCH) {
		state = t->zombie ? TID_ZOMBIE : TID_GONE;
	} else {
		*err = ret;
		return NULL;
	}
	hmap_put_int(&w->tids, (uint64_t)tid, state);
	w->changed = true;
	return state;
}

/* Adds the children of a stopped thread, from /proc/PID/task/TID/children. */
static int read_children(struct tree_walk *w, pid_t pid, pid_t tid)
{
	_cleanup_free_ char *buf = NULL;
	char path[96], *p, *end;
	int ret;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", pid, tid);
	ret = read_file_at(AT_FDCWD, path, &buf, NULL);
	if (ret == -ENOENT || ret == -ESRCH)
		return 0; /* killed under us: its children went to a reaper */
	if (ret < 0) {
		pr_err("can't read %s: %s\n", path, strerror(-ret));
		return ret;
	}
	for (p = buf;; p = end) {
		long child = strtol(p, &end, 10);

		if (end == p)
			break;
		if (child <= 0) {
			pr_err("bad pid in %s\n", path);
			return -EINVAL;
		}
		add_proc(w, (pid_t)child);
	}
	return 0;
}

/*
 * One look at a process: seizes the threads we have not seen yet and reads
 * the children of every seized one. A process with no live thread is gone,
 * or a zombie when its leader is one.
 */
static int walk_process(struct tree_walk *w, size_t idx)
{
	pid_t pid = w->procs[idx];
	_cleanup_closedir_ DIR *dir = NULL;
	bool leader_zombie = false;
	size_t live = 0;
	struct dirent *de;
	char path[64];
	int ret = 0;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	dir = opendir(path);
	if (!dir && errno != ENOENT && errno != ESRCH) {
		pr_perror("can't open %s", path);
		return -errno;
	}
	while (dir && (de = readdir(dir))) {
		pid_t tid = (pid_t)strtol(de->d_name, NULL, 10);
		void *state;

		if (tid <= 0)
			continue;
		state = hmap_get_int(&w->tids, (uint64_t)tid);
		if (!state && !(state = seize_new_thread(w, tid, &ret)))
			return ret;
		if (state == TID_ZOMBIE && tid == pid)
			leader_zombie = true;
		if (state != TID_SEIZED)
			continue;
		live++;
		ret = read_children(w, pid, tid);
		if (ret < 0)
			return ret;
	}
	if (live)
		return 0;
	w->procs_done[idx] = true;
	if (leader_zombie && pid != w->root) {
		pr_debug("process %d is a zombie\n", pid);
		add_zombie(w, pid);
		return 0;
	}
	if (pid == w->root) {
		pr_err("process %d is %s\n", pid, leader_zombie ? "a zombie" : "gone");
		return -ESRCH;
	}
	return 0;
}

static void tree_walk_free(struct tree_walk *w)
{
	free(w->procs);
	free(w->procs_done);
	hmap_free(&w->tids);
	hmap_free(&w->pids);
}

static int seize_tree_pre(pid_t root, struct seized_tree *out, struct seize_pre *pre);

int seize_tree(pid_t root, struct seized_tree *out)
{
	return seize_tree_pre(root, out, NULL);
}

static int seize_tree_pre(pid_t root, struct seized_tree *out, struct seize_pre *pre)
{
	struct tree_walk w = {.root = root, .tree = out, .pre = pre};
	struct task_status st;
	int ret, pass;

	memset(out, 0, sizeof(*out));
	hmap_init(&w.tids);
	hmap_init(&w.pids);
	ret = read_task_status(root, &st);
	if (ret < 0) {
		pr_err("no process %d\n", root);
		return ret;
	}
	if (st.tgid != root) {
		pr_err("%d is a thread of %d, not a process\n", root, st.tgid);
		return -EINVAL;
	}
	add_proc(&w, root);
	for (pass = 0; w.changed; pass++) {
		if (pass == MAX_TREE_PASSES) {
			pr_err("the tree of %d keeps changing, giving up\n", root);
			ret = -EAGAIN;
			goto fail;
		}
		w.changed = false;
		for (size_t i = 0; i < w.nr_procs; i++) {
			if (w.procs_done[i])
				continue;
			ret = walk_process(&w, i);
			if (ret < 0)
				goto fail;
		}
	}
	pr_info("seized %zu threads of the tree of %d in %d passes, %zu zombies\n", out->nr_threads, root, pass,
		out->nr_zombies);
	tree_walk_free(&w);
	return 0;
fail:
	tree_walk_free(&w);
	release_tree(out);
	return ret;
}

int seize_tree_timeout(pid_t root, struct seized_tree *out, unsigned timeout_s)
{
	return seize_tree_frozen(root, out, timeout_s, NULL);
}

/*
 * Threads of a frozen cgroup: each is attached and asked to stop
 * (PTRACE_INTERRUPT) while it can't run; once the cgroup is thawed each
 * enters that stop before running a single instruction of its own, so a
 * tree that forks fast is caught whole.
 */
int seize_pre_attach(struct seize_pre *pre, const pid_t *tids, size_t n)
{
	hmap_init(&pre->tids);
	for (size_t i = 0; i < n; i++) {
		struct seized_thread t = {.tid = tids[i]};
		int ret = attach(&t);

		if (ret == -ESRCH)
			continue; /* gone, or a zombie: the walk finds what is left */
		if (ret < 0 || ptrace(PTRACE_INTERRUPT, tids[i], NULL, NULL)) {
			ret = ret < 0 ? ret : -errno;
			pr_err("can't seize thread %d of the frozen cgroup: %s\n", tids[i], strerror(-ret));
			return ret; /* the caller thaws the cgroup, then lets go of those taken */
		}
		hmap_put_int(&pre->tids, (uint64_t)tids[i], t.seccomp_suspended ? PRE_ATTACHED : PRE_ATTACHED_NO_SUSP);
	}
	return 0;
}

/* Threads attached by seize_pre_attach that the tree walk did not take
 * (in the cgroup, not in the tree): each is let go as it was. */
void seize_pre_release(struct seize_pre *pre)
{
	hmap_for_each(&pre->tids, it) {
		struct seized_thread t;

		if (it.val != PRE_ATTACHED && it.val != PRE_ATTACHED_NO_SUSP)
			continue;
		if (seize_task_attached((pid_t)it.ikey, &t, true, it.val == PRE_ATTACHED) == 0)
			release_task(&t);
	}
	hmap_free(&pre->tids);
}

int seize_tree_frozen(pid_t root, struct seized_tree *out, unsigned timeout_s, struct seize_pre *pre)
{
	struct sigaction sa = {.sa_handler = on_seize_alarm}, old;
	/* then every 50 ms: a waitpid() that began as it ran out is cut short by the next */
	struct itimerval it = {.it_value = {.tv_sec = timeout_s}, .it_interval = {.tv_usec = 50000}}, off = {0};
	int ret;

	if (!timeout_s)
		return seize_tree_pre(root, out, pre);
	/* no SA_RESTART: the alarm interrupts a waitpid() for a thread that can't stop */
	sigemptyset(&sa.sa_mask);
	seize_expired = 0;
	seize_timeout_s = timeout_s;
	sigaction(SIGALRM, &sa, &old);
	setitimer(ITIMER_REAL, &it, NULL);
	ret = seize_tree_pre(root, out, pre);
	setitimer(ITIMER_REAL, &off, NULL);
	sigaction(SIGALRM, &old, NULL);
	if (!ret && seize_expired)
		pr_debug("the tree froze just as --timeout ran out\n");
	seize_expired = 0;
	return ret;
}

void release_tree(struct seized_tree *tree)
{
	for (size_t i = tree->nr_threads; i-- > 0;)
		release_task(&tree->threads[i]);
	free(tree->threads);
	free(tree->zombies);
	memset(tree, 0, sizeof(*tree));
}

/*
 * state-task-static OUTDIR CASE: task state across checkpoint/restore
 * (statecheck.h). Cases:
 *   stop-tstp, stop-tstp-threads, stop-ttin, stop-sigstop
 *                      a child stopped by that signal, in a process group
 *                      of its own that is not orphaned (its parent is in
 *                      another group of the same session, or SIGTSTP would
 *                      be discarded): the parent's waitid(WSTOPPED|WNOWAIT)
 *                      reports it stopped by the same signal, /proc says T;
 *                      in the last round SIGCONT makes it run again (both
 *                      its threads, with -threads).
 *   zombie-setsid, zombie-setpgid, zombie-sibling-pgrp
 *                      a zombie child that made a session or a process
 *                      group of its own, or joined a sibling's group,
 *                      before exiting: /proc/PID/stat's pgrp and session,
 *                      and the status its parent reaps (waitid WNOWAIT).
 *   mb-none, mb-private, mb-sync-core, mb-private-sync-core, mb-rseq,
 *   mb-global, mb-all
 *                      membarrier(2) registrations: MEMBARRIER_CMD_GET_
 *                      REGISTRATIONS, and each private expedited command
 *                      works when registered, fails EPERM when not.
 *   sched-nice, sched-batch, sched-idle, sched-fifo, sched-rr,
 *   sched-fifo-reset, sched-other-reset, sched-threads, sched-deadline
 *                      scheduling policy, flags, priority and nice of every
 *                      thread (sched_getattr), as set up.
 *   proc-parent-status, proc-parent-fddir, proc-parent-cwd, proc-sibling-cwd,
 *   proc-self-status
 *                      a child holding its parent's /proc/PPID/status open,
 *                      /proc/PPID/fd open as a directory, or with its cwd
 *                      in /proc/PPID or in an older sibling's entry (or a
 *                      process holding its own /proc/self/status): what it
 *                      reads through them is about that process, by pid
 *                      and name.
 */
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "statecheck.h"

#ifndef SCHED_FLAG_RESET_ON_FORK
#define SCHED_FLAG_RESET_ON_FORK 0x01
#endif

/* ------------------------------------------------------------------------
 * Common: /proc inside the container, a child's pid, /proc/PID/stat fields
 */

static pid_t kid, kid2;

static void need_proc(void)
{
	if (access("/proc/self/stat", F_OK) && mount("proc", "/proc", "proc", 0, NULL))
		setup_failed("mount /proc");
}

/* State (field 3), pgrp (5) and session (6) of /proc/PID/stat. */
static int read_stat(pid_t pid, char *state, int *pgrp, int *sid)
{
	char path[64], buf[512], *p;
	ssize_t n;
	int fd, ppid;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 1, " %c %d %d %d", state, &ppid, pgrp, sid) != 4)
		return -1;
	return 0;
}

/* ------------------------------------------------------------------------
 * Stopped children
 */

static volatile uint64_t *counter; /* shared with the child: it counts while it runs */
static int stop_sig;

static uint64_t counter_after(int ms);

/* The child's second thread: counts too. */
static void *stop_thread(void *arg)
{
	struct timespec ts = {0, 1000000};

	for (;;) {
		counter[1]++;
		nanosleep(&ts, NULL);
	}
	return arg;
}

static void stop_setup_sig(int sig, bool threads)
{
	siginfo_t si;

	need_proc();
	stop_sig = sig;
	counter = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (counter == MAP_FAILED)
		setup_failed("mmap");
	kid = fork();
	if (kid < 0)
		setup_failed("fork");
	if (kid == 0) {
		struct timespec ts = {0, 1000000};
		pthread_t th;

		if (threads && pthread_create(&th, NULL, stop_thread, NULL))
			_exit(5);
		for (;;) {
			(*counter)++;
			nanosleep(&ts, NULL);
		}
	}
	/* a group of its own, with its parent in another one of the session */
	if (setpgid(kid, kid))
		setup_failed("setpgid");
	if (kill(kid, sig))
		setup_failed("kill");
	memset(&si, 0, sizeof(si));
	if (waitid(P_PID, (id_t)kid, &si, WSTOPPED | WNOWAIT))
		setup_failed("waitid");
}

static void stop_tstp_setup(void)
{
	stop_setup_sig(SIGTSTP, false);
}

static void stop_tstp_threads_setup(void)
{
	stop_setup_sig(SIGTSTP, true);
	for (int i = 0; i < 100 && !counter[1]; i++)
		counter_after(10);
}

static void stop_ttin_setup(void)
{
	stop_setup_sig(SIGTTIN, false);
}

static void stop_sigstop_setup(void)
{
	stop_setup_sig(SIGSTOP, false);
}

static uint64_t counter_after(int ms)
{
	struct timespec ts = {0, ms * 1000000L};

	nanosleep(&ts, NULL);
	return *counter;
}

static const char *stop_check(int round)
{
	siginfo_t si;
	char state;
	int pgrp, sid;
	uint64_t c0, c1;

	memset(&si, 0, sizeof(si));
	if (waitid(P_PID, (id_t)kid, &si, WSTOPPED | WNOWAIT | WNOHANG))
		return bad("waitid(WSTOPPED|WNOWAIT): %s", strerror(errno));
	if (si.si_pid != kid || si.si_code != CLD_STOPPED || si.si_status != stop_sig)
		return bad("waitid(WSTOPPED|WNOWAIT): pid %d code %d status %d, want %d CLD_STOPPED %d", si.si_pid,
			   si.si_code, si.si_status, kid, stop_sig);
	if (read_stat(kid, &state, &pgrp, &sid))
		return bad("can't read /proc/%d/stat", kid);
	if (state != 'T' || pgrp != kid || sid != getsid(0))
		return bad("child state %c pgrp %d sid %d, want T %d %d", state, pgrp, sid, kid, getsid(0));
	c0 = *counter;
	c1 = counter[1];
	if (counter_after(100) != c0 || counter[1] != c1)
		return bad("the stopped child runs");
	if (round < 2)
		return NULL;
	if (kill(kid, SIGCONT))
		return bad("SIGCONT: %s", strerror(errno));
	for (int i = 0; i < 40 && *counter == c0; i++)
		counter_after(50);
	for (int i = 0; i < 40 && counter[1] == c1 && c1; i++)
		counter_after(50);
	if (*counter == c0 || (c1 && counter[1] == c1))
		return bad("the child (or its second thread) does not run after SIGCONT");
	memset(&si, 0, sizeof(si));
	if (waitid(P_PID, (id_t)kid, &si, WCONTINUED | WNOHANG) || si.si_code != CLD_CONTINUED)
		return bad("waitid(WCONTINUED): code %d (%s)", si.si_code, strerror(errno));
	return NULL;
}

/* ------------------------------------------------------------------------
 * Zombies
 */

static int zombie_status, zombie_pgrp, zombie_sid;

/* The zombie child: exits with `status` after `how` (0 setsid, 1 setpgid, 2 join kid2's group). */
static void zombie_setup_how(int how, int status)
{
	siginfo_t si;
	pid_t leader = 0;

	need_proc();
	if (how == 2) {
		leader = fork();
		if (leader < 0)
			setup_failed("fork");
		if (leader == 0) {
			setpgid(0, 0);
			for (;;)
				pause();
		}
		if (setpgid(leader, leader))
			setup_failed("setpgid leader");
		kid2 = leader;
	}
	kid = fork();
	if (kid < 0)
		setup_failed("fork");
	if (kid == 0) {
		if (how == 0 && setsid() < 0)
			_exit(100);
		if (how == 1 && setpgid(0, 0))
			_exit(101);
		if (how == 2 && setpgid(0, leader))
			_exit(102);
		_exit(status);
	}
	memset(&si, 0, sizeof(si));
	if (waitid(P_PID, (id_t)kid, &si, WEXITED | WNOWAIT))
		setup_failed("waitid");
	if (si.si_code != CLD_EXITED || si.si_status != status) {
		errno = 0;
		setup_failed("the zombie exited with %d, code %d", si.si_status, si.si_code);
	}
	zombie_status = status;
	zombie_pgrp = how == 2 ? leader : kid;
	zombie_sid = how == 0 ? kid : getsid(0);
}

static void zombie_setsid_setup(void)
{
	zombie_setup_how(0, 7);
}

static void zombie_setpgid_setup(void)
{
	zombie_setup_how(1, 9);
}

static void zombie_sibling_setup(void)
{
	zombie_setup_how(2, 3);
}

static const char *zombie_check(int round)
{
	siginfo_t si;
	char state;
	int pgrp, sid;

	if (read_stat(kid, &state, &pgrp, &sid))
		return bad("can't read /proc/%d/stat", kid);
	if (state != 'Z' || pgrp != zombie_pgrp || sid != zombie_sid)
		return bad("zombie %d: state %c pgrp %d sid %d, want Z %d %d", kid, state, pgrp, sid, zombie_pgrp,
			   zombie_sid);
	memset(&si, 0, sizeof(si));
	if (waitid(P_PID, (id_t)kid, &si, WEXITED | WNOWAIT | WNOHANG))
		return bad("waitid: %s", strerror(errno));
	if (si.si_pid != kid || si.si_code != CLD_EXITED || si.si_status != zombie_status)
		return bad("waitid: pid %d code %d status %d, want %d CLD_EXITED %d", si.si_pid, si.si_code,
			   si.si_status, kid, zombie_status);
	if (round < 2)
		return NULL;
	/* reaped for real at the end: the status the parent gets */
	int status;

	if (waitpid(kid, &status, 0) != kid || !WIFEXITED(status) || WEXITSTATUS(status) != zombie_status)
		return bad("waitpid: status %#x, want exit %d", status, zombie_status);
	return NULL;
}

/* ------------------------------------------------------------------------
 * membarrier
 */

#define MB_GET_REGISTRATIONS (1 << 9)
#define MB_REG_GLOBAL	     (1 << 2)
#define MB_PRIVATE	     (1 << 3)
#define MB_REG_PRIVATE	     (1 << 4)
#define MB_SYNC_CORE	     (1 << 5)
#define MB_REG_SYNC_CORE     (1 << 6)
#define MB_RSEQ		     (1 << 7)
#define MB_REG_RSEQ	     (1 << 8)

static long mb(int cmd)
{
	return syscall(SYS_membarrier, cmd, 0, 0);
}

static int mb_mask;  /* the registrations made */
static long mb_seen; /* what GET_REGISTRATIONS said then (SYNC_CORE and RSEQ show as PRIVATE too) */

static void mb_register(int mask)
{
	mb_mask = mask;
	for (int bit = 0; bit < 10; bit++)
		if ((mask & (1 << bit)) && mb(1 << bit))
			setup_failed("membarrier register %#x", 1 << bit);
	mb_seen = mb(MB_GET_REGISTRATIONS);
	if (mb_seen < 0)
		setup_failed("membarrier(GET_REGISTRATIONS)");
}

static void mb_none_setup(void)
{
	mb_register(0);
}

static void mb_private_setup(void)
{
	mb_register(MB_REG_PRIVATE);
}

static void mb_sync_core_setup(void)
{
	mb_register(MB_REG_SYNC_CORE);
}

static void mb_private_sync_core_setup(void)
{
	mb_register(MB_REG_PRIVATE | MB_REG_SYNC_CORE);
}

static void mb_rseq_setup(void)
{
	mb_register(MB_REG_RSEQ);
}

static void mb_global_setup(void)
{
	mb_register(MB_REG_GLOBAL);
}

static void mb_all_setup(void)
{
	mb_register(MB_REG_GLOBAL | MB_REG_PRIVATE | MB_REG_SYNC_CORE | MB_REG_RSEQ);
}

static const char *mb_check(int round)
{
	static const int cmd[3] = {MB_PRIVATE, MB_SYNC_CORE, MB_RSEQ};
	static const int reg[3] = {MB_REG_PRIVATE, MB_REG_SYNC_CORE, MB_REG_RSEQ};
	long r = mb(MB_GET_REGISTRATIONS);

	if (r != mb_seen)
		return bad("GET_REGISTRATIONS: %#lx (%s), want %#lx", r, r < 0 ? strerror(errno) : "", mb_seen);
	for (int i = 0; i < 3; i++) {
		errno = 0;
		r = mb(cmd[i]);
		if (mb_mask & reg[i] ? r != 0 : !(r == -1 && errno == EPERM))
			return bad("membarrier(%#x): %ld (%s), want %s", cmd[i], r, strerror(errno),
				   mb_mask & reg[i] ? "0" : "EPERM");
	}
	return NULL;
}

/* ------------------------------------------------------------------------
 * Scheduling
 */

struct sched_attr_k {
	uint32_t size, policy;
	uint64_t flags;
	int32_t nice;
	uint32_t priority;
	uint64_t runtime, deadline, period;
	uint32_t util_min, util_max;
};

#define NR_SCHED_THREADS 3

static struct sched_attr_k sched_want[NR_SCHED_THREADS];
static int sched_want_nice[NR_SCHED_THREADS]; /* getpriority's: a real-time thread keeps one too */
static pid_t sched_tid[NR_SCHED_THREADS];
static int sched_nr;

static int set_attr(pid_t tid, const struct sched_attr_k *a)
{
	struct sched_attr_k in = *a;

	in.size = sizeof(in);
	return (int)syscall(SYS_sched_setattr, tid, &in, 0);
}

static int get_attr(pid_t tid, struct sched_attr_k *a)
{
	memset(a, 0, sizeof(*a));
	return (int)syscall(SYS_sched_getattr, tid, a, sizeof(*a), 0);
}

/*
 * Thread i takes `a`; what the kernel then reports is the state to keep
 * (e.g. the nice value a SCHED_IDLE thread keeps), once it has the policy
 * and flags asked for.
 */
static void sched_take(int i, struct sched_attr_k a)
{
	struct sched_attr_k got;

	if (set_attr(0, &a))
		setup_failed("thread %d: sched_setattr(policy %u)", i, a.policy);
	if (get_attr(0, &got) || got.policy != a.policy || got.flags != a.flags) {
		errno = 0;
		setup_failed("thread %d: policy %u flags %#llx after sched_setattr", i, got.policy,
			     (unsigned long long)got.flags);
	}
	sched_want[i] = got;
	errno = 0;
	sched_want_nice[i] = getpriority(PRIO_PROCESS, 0);
	if (errno)
		setup_failed("getpriority");
}

/* One thread (the main one) with `a`. */
static void sched_setup_one(struct sched_attr_k a)
{
	sched_nr = 1;
	sched_tid[0] = (pid_t)syscall(SYS_gettid);
	sched_take(0, a);
}

static void sched_nice_setup(void)
{
	sched_setup_one((struct sched_attr_k){.policy = SCHED_OTHER, .nice = 6});
}

static void sched_batch_setup(void)
{
	sched_setup_one((struct sched_attr_k){.policy = SCHED_BATCH, .nice = -3});
}

static void sched_idle_setup(void)
{
	sched_setup_one((struct sched_attr_k){.policy = SCHED_IDLE, .nice = 4});
}

static void sched_fifo_setup(void)
{
	sched_setup_one((struct sched_attr_k){.policy = SCHED_FIFO, .priority = 10});
}

static void sched_rr_setup(void)
{
	sched_setup_one((struct sched_attr_k){.policy = SCHED_RR, .priority = 20});
}

static void sched_fifo_reset_setup(void)
{
	sched_setup_one((struct sched_attr_k){.policy = SCHED_FIFO, .priority = 7, .flags = SCHED_FLAG_RESET_ON_FORK});
}

static void sched_other_reset_setup(void)
{
	sched_setup_one((struct sched_attr_k){.policy = SCHED_OTHER, .nice = 5, .flags = SCHED_FLAG_RESET_ON_FORK});
}

static void sched_deadline_setup(void)
{
	sched_setup_one((struct sched_attr_k){
		.policy = SCHED_DEADLINE, .runtime = 1000000, .deadline = 10000000, .period = 20000000});
}

static pthread_barrier_t sched_barrier;

static void *sched_thread(void *arg)
{
	int i = (int)(intptr_t)arg;

	sched_tid[i] = (pid_t)syscall(SYS_gettid);
	sched_take(i, sched_want[i]);
	pthread_barrier_wait(&sched_barrier);
	for (;;)
		pause();
	return NULL;
}

/* The main thread SCHED_OTHER nice 2, one thread SCHED_FIFO 5, one SCHED_BATCH nice 7 with RESET_ON_FORK. */
static void sched_threads_setup(void)
{
	pthread_t th;

	sched_nr = NR_SCHED_THREADS;
	sched_want[0] = (struct sched_attr_k){.policy = SCHED_OTHER, .nice = 2};
	sched_want[1] = (struct sched_attr_k){.policy = SCHED_FIFO, .priority = 5};
	sched_want[2] = (struct sched_attr_k){.policy = SCHED_BATCH, .nice = 7, .flags = SCHED_FLAG_RESET_ON_FORK};
	sched_tid[0] = (pid_t)syscall(SYS_gettid);
	sched_take(0, sched_want[0]);
	pthread_barrier_init(&sched_barrier, NULL, NR_SCHED_THREADS);
	for (int i = 1; i < NR_SCHED_THREADS; i++)
		if (pthread_create(&th, NULL, sched_thread, (void *)(intptr_t)i))
			setup_failed("pthread_create");
	pthread_barrier_wait(&sched_barrier);
}

static const char *sched_check(int round)
{
	for (int i = 0; i < sched_nr; i++) {
		const struct sched_attr_k *w = &sched_want[i];
		struct sched_attr_k a;
		int nice;

		if (get_attr(sched_tid[i], &a))
			return bad("sched_getattr(%d): %s", sched_tid[i], strerror(errno));
		if (a.policy != w->policy || a.flags != w->flags || a.priority != w->priority || a.nice != w->nice ||
		    a.runtime != w->runtime || a.deadline != w->deadline || a.period != w->period)
			return bad(
				"thread %d: policy %u flags %#llx prio %u nice %d dl %llu/%llu/%llu, want %u %#llx %u "
				"%d %llu/%llu/%llu",
				i, a.policy, (unsigned long long)a.flags, a.priority, a.nice,
				(unsigned long long)a.runtime, (unsigned long long)a.deadline,
				(unsigned long long)a.period, w->policy, (unsigned long long)w->flags, w->priority,
				w->nice, (unsigned long long)w->runtime, (unsigned long long)w->deadline,
				(unsigned long long)w->period);
		errno = 0;
		nice = getpriority(PRIO_PROCESS, (id_t)sched_tid[i]);
		if (errno || nice != sched_want_nice[i])
			return bad("thread %d: getpriority %d (%s), want %d", i, nice, strerror(errno),
				   sched_want_nice[i]);
	}
	return NULL;
}

/* ------------------------------------------------------------------------
 * /proc entries of the parent, held by a child
 *
 * The child answers the parent's checks over a pipe: one byte asks, one
 * line (empty: all well) answers.
 */

static int ask_fd = -1, answer_fd = -1;
static int proc_kind; /* 0 status, 1 fd dir, 2 cwd, 3 self status, 4 cwd in an older sibling's */
static int proc_fd = -1;
static pid_t proc_target;
static char proc_name[16];

/* What /proc/PID/status says through fd (pread from 0): Pid and Name. */
static const char *status_is(int fd, pid_t pid, const char *name)
{
	char buf[4096], want[64];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);

	if (n <= 0)
		return bad("reading the status file: %s", n ? strerror(errno) : "empty");
	buf[n] = '\0';
	snprintf(want, sizeof(want), "\nPid:\t%d\n", pid);
	if (!strstr(buf, want))
		return bad("status file is not of %d: %.60s", pid, strstr(buf, "\nPid:") ?: buf);
	snprintf(want, sizeof(want), "Name:\t%s\n", name);
	if (strncmp(buf, want, strlen(want)))
		return bad("status file names %.30s, want %s", buf, name);
	return NULL;
}

static const char *proc_child_check(void)
{
	char path[64], link[64];
	ssize_t n;
	int fd;
	const char *why;

	switch (proc_kind) {
	case 0:
	case 3:
		return status_is(proc_fd, proc_target, proc_name);
	case 1:
		/* the parent's fd 0..: its ask pipe, seen through the held directory */
		snprintf(path, sizeof(path), "%d", ask_fd);
		n = readlinkat(proc_fd, path, link, sizeof(link) - 1);
		if (n < 0)
			return bad("readlinkat(fd dir, %s): %s", path, strerror(errno));
		link[n] = '\0';
		if (strncmp(link, "pipe:", 5))
			return bad("the parent's fd %d is %s, not a pipe", ask_fd, link);
		fd = openat(proc_fd, "..", O_RDONLY | O_DIRECTORY);
		if (fd < 0)
			return bad("openat(fd dir, ..): %s", strerror(errno));
		close(fd);
		fd = openat(proc_fd, "../status", O_RDONLY);
		if (fd < 0)
			return bad("openat(fd dir, ../status): %s", strerror(errno));
		why = status_is(fd, proc_target, proc_name);
		close(fd);
		return why;
	default:
		fd = open("status", O_RDONLY);
		if (fd < 0)
			return bad("open(status) in cwd: %s", strerror(errno));
		why = status_is(fd, proc_target, proc_name);
		close(fd);
		return why;
	}
}

static void __attribute__((noreturn)) proc_child(int ask, int answer)
{
	char path[64], c;

	snprintf(path, sizeof(path), "/proc/%d%s", proc_target,
		 proc_kind == 1			    ? "/fd"
		 : proc_kind == 2 || proc_kind == 4 ? ""
						    : "/status");
	if (proc_kind == 2 || proc_kind == 4) {
		if (chdir(path))
			_exit(3);
	} else {
		proc_fd = open(path, O_RDONLY | (proc_kind == 1 ? O_DIRECTORY : 0));
		if (proc_fd < 0)
			_exit(3);
	}
	for (;;) {
		const char *why;
		char line[sizeof(state_why) + 2];

		if (read(ask, &c, 1) != 1)
			_exit(0);
		why = proc_child_check();
		snprintf(line, sizeof(line), "%s\n", why ? why : "");
		if (write(answer, line, strlen(line)) < 0)
			_exit(4);
	}
}

static void proc_setup_kind(int kind)
{
	int ask[2], answer[2];
	FILE *f;

	need_proc();
	proc_kind = kind;
	f = fopen("/proc/self/comm", "r");
	if (!f || !fgets(proc_name, sizeof(proc_name), f))
		setup_failed("comm");
	fclose(f);
	proc_name[strcspn(proc_name, "\n")] = '\0';
	if (kind == 3) {
		proc_target = getpid();
		proc_fd = open("/proc/self/status", O_RDONLY);
		if (proc_fd < 0)
			setup_failed("open /proc/self/status");
		return;
	}
	if (pipe(ask) || pipe(answer))
		setup_failed("pipe");
	ask_fd = ask[1]; /* the child looks for it in the parent's fd directory */
	proc_target = getpid();
	if (kind == 4) {
		kid2 = fork();
		if (kid2 < 0)
			setup_failed("fork");
		if (kid2 == 0) {
			prctl(PR_SET_NAME, "older-sibling");
			for (;;)
				pause();
		}
		proc_target = kid2;
		snprintf(proc_name, sizeof(proc_name), "older-sibling");
	}
	kid = fork();
	if (kid < 0)
		setup_failed("fork");
	if (kid == 0) {
		close(ask[1]);
		close(answer[0]);
		proc_child(ask[0], answer[1]);
	}
	close(ask[0]);
	close(answer[1]);
	ask_fd = ask[1];
	answer_fd = answer[0];
}

static void proc_status_setup(void)
{
	proc_setup_kind(0);
}

static void proc_fddir_setup(void)
{
	proc_setup_kind(1);
}

static void proc_cwd_setup(void)
{
	proc_setup_kind(2);
}

static void proc_sibling_cwd_setup(void)
{
	proc_setup_kind(4);
}

static void proc_self_setup(void)
{
	proc_setup_kind(3);
}

static const char *proc_check(int round)
{
	static char line[sizeof(state_why) + 2];
	size_t len = 0;

	if (proc_kind == 3)
		return status_is(proc_fd, proc_target, proc_name);
	if (write(ask_fd, "?", 1) != 1)
		return bad("asking the child: %s", strerror(errno));
	while (len < sizeof(line) - 1) {
		ssize_t n = read(answer_fd, line + len, 1);

		if (n <= 0)
			return bad("the child does not answer (%s)", n ? strerror(errno) : "gone");
		if (line[len++] == '\n')
			break;
	}
	line[len - 1] = '\0';
	return line[0] ? bad("child: %s", line) : NULL;
}

static const struct state_case cases[] = {
	{"stop-tstp", stop_tstp_setup, stop_check},
	{"stop-tstp-threads", stop_tstp_threads_setup, stop_check},
	{"stop-ttin", stop_ttin_setup, stop_check},
	{"stop-sigstop", stop_sigstop_setup, stop_check},
	{"zombie-setsid", zombie_setsid_setup, zombie_check},
	{"zombie-setpgid", zombie_setpgid_setup, zombie_check},
	{"zombie-sibling-pgrp", zombie_sibling_setup, zombie_check},
	{"mb-none", mb_none_setup, mb_check},
	{"mb-private", mb_private_setup, mb_check},
	{"mb-sync-core", mb_sync_core_setup, mb_check},
	{"mb-private-sync-core", mb_private_sync_core_setup, mb_check},
	{"mb-rseq", mb_rseq_setup, mb_check},
	{"mb-global", mb_global_setup, mb_check},
	{"mb-all", mb_all_setup, mb_check},
	{"sched-nice", sched_nice_setup, sched_check},
	{"sched-batch", sched_batch_setup, sched_check},
	{"sched-idle", sched_idle_setup, sched_check},
	{"sched-fifo", sched_fifo_setup, sched_check},
	{"sched-rr", sched_rr_setup, sched_check},
	{"sched-fifo-reset", sched_fifo_reset_setup, sched_check},
	{"sched-other-reset", sched_other_reset_setup, sched_check},
	{"sched-threads", sched_threads_setup, sched_check},
	{"sched-deadline", sched_deadline_setup, sched_check},
	{"proc-parent-status", proc_status_setup, proc_check},
	{"proc-parent-fddir", proc_fddir_setup, proc_check},
	{"proc-parent-cwd", proc_cwd_setup, proc_check},
	{"proc-sibling-cwd", proc_sibling_cwd_setup, proc_check},
	{"proc-self-status", proc_self_setup, proc_check},
	{NULL, NULL, NULL},
};

int main(int argc, char **argv)
{
	return state_main(argc, argv, cases);
}

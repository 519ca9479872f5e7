/*
 * Restore, act step inside the new namespaces: what plain C can do.
 *
 * The root task (pid 1 of the new pid namespace, already pivoted into the
 * restored mount namespace) opens every file of the tree once, then each
 * task forks its children with clone3(set_tid) so that every pid is the
 * dumped one, creates its threads the same way, puts its descriptors at
 * their numbers, changes to its cwd and root, and reports on the ready
 * pipe. Then it waits (in pause(), all signals but SIGCHLD blocked) for
 * criu to seize it and replace its address space (mem/mm-restore.c).
 * Children that shared their parent's fd table are forked into it
 * (CLONE_FILES) once it is filled, and don't fill it again.
 *
 * A zombie is forked like any process and exits at once with its dumped
 * status; its parent reports only once it has exited (unreaped).
 */
#define LOG_PREFIX "restore: "

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup/cgroup.h"
#include "files/files-restore.h"
#include "files/tty.h"
#include "mem/cow-restore.h"
#include "util/log.h"
#include "task/rtree.h"
#include "task/userns.h"
#include "util/syscalls.h"
#include "util/util.h"
#include "image/vma-status.h"

#define THREAD_STACK (64 << 10)

static void task_fail(struct rtree *t, struct rproc *p)
{
	int32_t v = -p->vpid;

	if (write(rtree_task_fd(t, RFD_READY), &v, sizeof(v)) < 0)
		_exit(2);
	_exit(1);
}

/* ------------------------------------------------------------------------
 * One task
 */

static int install_fds(struct rtree *t, struct rproc *p)
{
	close_range(0, (unsigned)t->fd_base - 1, 0);
	for (size_t i = 0; i < p->nr_fds; i++) {
		const FdinfoEntry *e = p->fds[i];
		struct rfile *f = rtree_file(t, e->id);

		if (dup3(f->table_fd, (int)e->fd, (e->flags & FD_CLOEXEC) ? O_CLOEXEC : 0) < 0) {
			pr_perror("process %d: can't put file %u at fd %u", p->vpid, e->id, e->fd);
			return -errno;
		}
	}
	return 0;
}

/*
 * A file a process maps (its executable, a file mapping): its pages come
 * from the file, not the images, so it must be the file of the dump. The
 * size is what the images can tell (upstream also writes a build id).
 */
static int open_mapped(const RegFileEntry *r, int flags, int slot, const char *what)
{
	int fd = open(r->name, flags | O_CLOEXEC);
	struct stat st;

	if (fd < 0) {
		pr_perror("can't open %s %s", what, r->name);
		return -errno;
	}
	if (r->has_size && !fstat(fd, &st) && S_ISREG(st.st_mode) && (uint64_t)st.st_size != r->size) {
		pr_err("%s %s is %lld bytes, %llu when it was dumped: not the same file, its pages would differ\n",
		       what, r->name, (long long)st.st_size, (unsigned long long)r->size);
		pr_hint("restore with the container's files as they were at dump (--root)\n");
		close(fd);
		return -EINVAL;
	}
	return rtree_move_fd(fd, slot);
}

/*
 * The mode a mapped file is opened with: the one it was mapped from (its
 * fdflags), since that decides what mprotect may later allow (a shared
 * mapping of a file opened O_RDWR may become writable, one of an O_RDONLY
 * file may not). Images without it: what the protection needs.
 */
static int mapped_file_mode(const VmaEntry *v)
{
	if (v->has_fdflags && (v->fdflags & O_ACCMODE) == O_RDWR)
		return O_RDWR;
	if (v->has_fdflags)
		return O_RDONLY;
	return (v->status & VMA_FILE_SHARED) && (v->prot & PROT_WRITE) ? O_RDWR : O_RDONLY;
}

/* What the injected mmaps and reads will use (mem/mm-restore.c). */
static int open_mm_fds(struct rtree *t, struct rproc *p)
{
	char name[64];
	int fd, ret;

	snprintf(name, sizeof(name), "pages-%u.img", p->pages_id);
	fd = open_pages_file(rtree_task_fd(t, RFD_IMGS), p->pages_id, false);
	if (fd == -ENOENT && !p->nr_pagemap)
		fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		pr_err("process %d: can't open %s: %s\n", p->vpid, name, strerror(fd == -1 ? errno : -fd));
		return fd == -1 ? -errno : fd;
	}
	ret = rtree_move_fd(fd, rtree_proc_fd(t, p, RFD_PAGES));
	if (!ret && p->mm->exe_file_id) {
		struct rfile *f = rtree_file(t, p->mm->exe_file_id);

		if (f && f->fe->type == FD_TYPES__MEMFD) {
			/* a program run from a memfd: another open file of it */
			fd = rtree_open_memfd(t, f);
			ret = fd < 0 ? fd : rtree_move_fd(fd, rtree_proc_fd(t, p, RFD_EXE));
		} else if (!f || f->fe->type != FD_TYPES__REG) {
			pr_err("process %d: its executable is file %u, not in files.img\n", p->vpid,
			       p->mm->exe_file_id);
			return -EINVAL;
		} else {
			ret = open_mapped(f->fe->reg, O_RDONLY, rtree_proc_fd(t, p, RFD_EXE), "executable");
		}
	}
	for (size_t i = 0; !ret && i < p->mm->n_vmas; i++) {
		const VmaEntry *v = p->mm->vmas[i];
		struct rfile *f;

		if (v->status & VMA_ANON_SHARED) {
			/* the object criu made before fork, inherited */
			int fd = rtree_shmem_fd(t, v->shmid);

			if (fd < 0 || dup2(fd, rtree_proc_fd(t, p, RFD_MAP) + (int)i) < 0) {
				pr_err("process %d: no shared memory %llu for its area %#llx\n", p->vpid,
				       (unsigned long long)v->shmid, (unsigned long long)v->start);
				return -EINVAL;
			}
			continue;
		}
		if (!(v->status & (VMA_FILE_PRIVATE | VMA_FILE_SHARED)))
			continue;
		f = rtree_file(t, (uint32_t)v->shmid);
		if (f && f->fe->type == FD_TYPES__MEMFD) {
			/* another open file of the memfd criu made before fork */
			int fd = rtree_open_memfd(t, f);

			ret = fd < 0 ? fd : rtree_move_fd(fd, rtree_proc_fd(t, p, RFD_MAP) + (int)i);
			continue;
		}
		if (!f || f->fe->type != FD_TYPES__REG) {
			pr_err("process %d: mapping %#llx is of file %llu, not in files.img\n", p->vpid,
			       (unsigned long long)v->start, (unsigned long long)v->shmid);
			return -EINVAL;
		}
		ret = open_mapped(f->fe->reg, mapped_file_mode(v), rtree_proc_fd(t, p, RFD_MAP) + (int)i, "mapped file");
	}
	return ret;
}

static int enter_fs(struct rproc *p)
{
	if (strcmp(p->root, "/") && chroot(p->root) < 0) {
		pr_perror("process %d: can't chroot to %s", p->vpid, p->root);
		return -errno;
	}
	if (chdir(p->cwd) < 0) {
		pr_perror("process %d: can't change to %s", p->vpid, p->cwd);
		return -errno;
	}
	if (p->fs->has_umask)
		umask(p->fs->umask);
	return 0;
}

/* A thread that only waits, on a stack of its own: it never returns to C. */
static long clone3_waiting_thread(struct clone_args *a)
{
	long ret;

	__asm__ volatile("syscall\n\t"
			 "test %%rax, %%rax\n\t"
			 "jnz 1f\n\t"
			 "2: mov %[pause], %%eax\n\t"
			 "syscall\n\t"
			 "jmp 2b\n\t"
			 "1:\n\t"
			 : "=a"(ret)
			 : "0"((long)__NR_clone3), "D"(a), "S"(sizeof(*a)), [pause] "i"(__NR_pause)
			 : "rcx", "r11", "memory");
	return ret;
}

static int make_threads(struct rproc *p)
{
	for (size_t i = 1; i < p->nr_threads; i++) {
		void *stack = mmap(NULL, THREAD_STACK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		pid_t tid = p->threads[i].vtid;
		struct clone_args a = {
			.flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM,
			.stack = (uint64_t)(uintptr_t)stack,
			.stack_size = THREAD_STACK,
			.set_tid = (uint64_t)(uintptr_t)&tid,
			.set_tid_size = 1,
		};
		long r;

		if (stack == MAP_FAILED)
			return -ENOMEM;
		r = clone3_waiting_thread(&a);
		if (r < 0) {
			pr_err("process %d: can't create thread %d: %s\n", p->vpid, tid, strerror((int)-r));
			return (int)r;
		}
	}
	return 0;
}

static void zombie_exit(struct rproc *p)
{
	int status = (int)p->core->tc->exit_code;
	struct rlimit none = {0, 0};
	sigset_t mask;

	/* what /proc shows of a zombie: its name and blocked signals */
	prctl(PR_SET_NAME, p->core->tc->comm);
	sigemptyset(&mask);
	for (int sig = 1; sig <= 64; sig++)
		if (p->core->tc->blk_sigset & (1ULL << (sig - 1)))
			sigaddset(&mask, sig);
	sigprocmask(SIG_SETMASK, &mask, NULL);

	if (WIFSIGNALED(status)) {
		sigset_t all;

		setrlimit(RLIMIT_CORE, &none);
		signal(WTERMSIG(status), SIG_DFL);
		sigemptyset(&all);
		sigprocmask(SIG_SETMASK, &all, NULL);
		kill(getpid(), WTERMSIG(status));
	}
	_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 0);
}

static void run_task(struct rtree *t, struct rproc *p);

/*
 * The children that share p's fd table (CLONE_FILES, `sharers`), or the
 * others. A sharer is forked once the table is filled: its slots too, by
 * the first task of the table (open_sharers_mm_fds), as tasks opening
 * files at once in one table would take each other's numbers.
 */
static int fork_children(struct rtree *t, struct rproc *p, bool sharers)
{
	for (size_t i = 0; i < p->nr_children; i++) {
		struct rproc *c = p->children[i];
		pid_t tid = c->vpid;
		struct clone_args a = {
			.flags = sharers ? CLONE_FILES : 0,
			.exit_signal = SIGCHLD,
			.set_tid = (uint64_t)(uintptr_t)&tid,
			.set_tid_size = 1,
		};
		long r;

		if (rproc_shares_files(c) != sharers)
			continue;
		r = sys_clone3(&a);

		if (r < 0) {
			pr_perror("process %d: can't fork child %d (pid taken?)", p->vpid, c->vpid);
			return -errno;
		}
		if (r == 0)
			run_task(t, c);
	}
	/* Zombies must be dead, unreaped, before we say we are ready. */
	for (size_t i = 0; !sharers && i < p->nr_children; i++) {
		siginfo_t si;

		if (p->children[i]->zombie && waitid(P_PID, (id_t)p->children[i]->vpid, &si, WEXITED | WNOWAIT) < 0) {
			pr_perror("process %d: zombie %d did not exit", p->vpid, p->children[i]->vpid);
			return -errno;
		}
	}
	return 0;
}

/* The slots of the tasks that will share p's fd table, and theirs. */
static int open_sharers_mm_fds(struct rtree *t, struct rproc *p)
{
	int ret = 0;

	for (size_t i = 0; !ret && i < p->nr_children; i++)
		if (rproc_shares_files(p->children[i])) {
			/* its mappings' paths are as its own mount namespace has them */
			ret = rtree_enter_mntns(t, p->children[i]);
			if (!ret)
				ret = open_mm_fds(t, p->children[i]);
			if (!ret)
				ret = open_sharers_mm_fds(t, p->children[i]);
		}
	return ret ? ret : rtree_enter_mntns(t, p);
}

/*
 * The loginuid, which only a task can set for itself (and with
 * CAP_AUDIT_CONTROL): through the host's /proc, as the new namespace may
 * have none. A failure only warns: the task keeps criu's.
 */
static int restore_loginuid(struct rtree *t, struct rproc *p)
{
	const TaskCoreEntry *tc = p->core->tc;
	char buf[16];
	int fd, n;

	if (!tc->has_loginuid)
		return 0;
	/* read-only first: a task of a user namespace is undumpable here, its /proc files root's */
	fd = openat(rtree_task_fd(t, RFD_PROC), "self/loginuid", O_RDONLY | O_CLOEXEC);
	n = fd < 0 ? -1 : (int)read(fd, buf, sizeof(buf) - 1);
	if (fd >= 0)
		close(fd);
	if (n > 0 && (buf[n] = '\0', strtoul(buf, NULL, 10) == tc->loginuid))
		return 0;
	fd = openat(rtree_task_fd(t, RFD_PROC), "self/loginuid", O_WRONLY | O_CLOEXEC);
	n = snprintf(buf, sizeof(buf), "%u", tc->loginuid);
	if (fd < 0 || pwrite(fd, buf, (size_t)n, 0) != n)
		pr_warn("process %d: can't set its loginuid to %u (%m); it keeps %s\n", p->vpid, tc->loginuid,
			userns_tree() ? "the one it was forked with" : "criu's");
	if (fd >= 0)
		close(fd);
	return 0;
}

/*
 * The task into its cgroups, from its parent's (criu's for the root), and
 * the root into a cgroup namespace of its own; first, so that its
 * children and memory are in them from the start.
 */
static int enter_cgroups(struct rtree *t, struct rproc *p)
{
	const struct rproc *a = p->parent;
	uint32_t to = rproc_cg_set(p);

	while (a && !rproc_cg_set(a)) /* zombies carry none */
		a = a->parent;
	/* t->cg NULL (--manage-cgroups=ignore): the root's namespace is still made */
	return cg_restore_enter(t->cg, rtree_task_fd(t, RFD_PROC), t->criu_host_pid,
				a ? rproc_cg_set(a) : t->criu_cg_set, to ? to : (a ? rproc_cg_set(a) : t->criu_cg_set),
				0, p == &t->procs[0] && t->cg_own_ns);
}

/* Threads in other cgroups than their process (v1, v2 threaded ones). */
static int thread_cgroups(struct rtree *t, struct rproc *p)
{
	int ret = 0;

	for (size_t i = 1; t->cg && !ret && i < p->nr_threads; i++)
		ret = cg_restore_enter(t->cg, rtree_task_fd(t, RFD_PROC), t->criu_host_pid, rproc_cg_set(p),
				       rthread_cg_set(&p->threads[i]), p->threads[i].vtid, false);
	return ret;
}

static void run_task(struct rtree *t, struct rproc *p)
{
	int32_t v = p->vpid;

	if (getpid() != p->vpid) {
		pr_err("process %d came up as pid %d\n", p->vpid, getpid());
		task_fail(t, p);
	}
	if (enter_cgroups(t, p) || rtree_enter_mntns(t, p))
		task_fail(t, p);
	if (p->new_session && setsid() < 0)
		pr_perror("process %d: setsid", p->vpid);
	else if (p->new_pgrp && setpgid(0, 0) < 0)
		pr_perror("process %d: setpgid", p->vpid);
	/* its controlling terminal before its children: they inherit it */
	if (p->new_session && tty_orphan_take_ctty(t, p))
		task_fail(t, p);
	/* in its own session or group first: a zombie keeps them (another's group: rtree_zombie_pgrps) */
	if (p->zombie)
		zombie_exit(p);
	/*
	 * In a pid namespace of its own the tree dies with its init if the
	 * restore fails, and the init (the root, criu's child) with criu; in
	 * criu's, each task dies with its parent instead (criu for the root)
	 * until restore_thread() sets the dumped signal.
	 */
	prctl(PR_SET_PDEATHSIG, t->host_mode || p == &t->procs[0] ? SIGKILL : 0);
	/* a parent gone before that prctl took effect: nobody would kill us */
	if (t->host_mode && getppid() != (p->parent ? p->parent->vpid : t->criu_pid))
		_exit(1);
	restore_loginuid(t, p);
	/* the areas its children share with it first: they get them by the fork */
	if (premap_fill(t, p) || fork_children(t, p, false) || make_threads(p) || thread_cgroups(t, p))
		task_fail(t, p);
	/* the first task of an fd table fills it for those that share it */
	if (!rproc_shares_files(p) &&
	    (install_fds(t, p) || rtree_files_installed(t, p) || open_mm_fds(t, p) || open_sharers_mm_fds(t, p)))
		task_fail(t, p);
	if (fork_children(t, p, true) || enter_fs(p))
		task_fail(t, p);
	if (write(rtree_task_fd(t, RFD_READY), &v, sizeof(v)) != sizeof(v))
		_exit(1);
	for (;;)
		pause();
}

/* Every fd criu itself holds goes above the range the tasks use. */
static int move_criu_fds(struct rtree *t, int ready_fd)
{
	int ret = tty_keep_premade(t);

	if (!ret)
		ret = rtree_move_fd(ready_fd, rtree_task_fd(t, RFD_READY));

	if (!ret && dup2(t->imgs_dirfd, rtree_task_fd(t, RFD_IMGS)) < 0)
		ret = -errno;
	if (!ret && rtree_move_fd(t->host_proc_fd, rtree_task_fd(t, RFD_PROC)))
		ret = -errno;
	t->host_proc_fd = rtree_task_fd(t, RFD_PROC);
	if (!ret)
		ret = log_move_fds(rtree_task_fd(t, RFD_LOG), rtree_task_fd(t, RFD_ERR));
	if (ret)
		return ret;
	t->imgs_dirfd = rtree_task_fd(t, RFD_IMGS);
	/* criu's own stdio and other descriptors: the tasks get their own */
	close_range(3, (unsigned)t->fd_base - 1, 0);
	return 0;
}

void rtree_fork_root(struct rtree *t, int ready_fd)
{
	struct rproc *root = &t->procs[0];
	sigset_t mask;

	sigfillset(&mask);
	sigdelset(&mask, SIGCHLD);
	sigprocmask(SIG_SETMASK, &mask, NULL);
	/*
	 * Every disposition the default one: the tree's own are set from the
	 * images later, and only those that aren't SIG_DFL; whatever criu got
	 * from its parent (an ignored SIGPIPE or SIGHUP is inherited across
	 * exec) or a sanitizer's handlers must not reach the tasks.
	 */
	for (long sig = 1; sig <= 64; sig++) {
		/* the kernel's struct sigaction: handler, flags, restorer, mask */
		static const unsigned long dfl[4] = {0, 0, 0, 0};

		if (sig != SIGKILL && sig != SIGSTOP)
			syscall(SYS_rt_sigaction, sig, dfl, NULL, 8); /* glibc refuses its own 32 and 33 */
	}
	if (move_criu_fds(t, ready_fd))
		task_fail(t, root);
	if (t->nodename &&
	    (sethostname(t->nodename, strlen(t->nodename)) || setdomainname(t->domainname, strlen(t->domainname)))) {
		pr_perror("can't set the host name to %s", t->nodename);
		task_fail(t, root);
	}
	if (rtree_open_file_table(t) || tty_premade_taken())
		task_fail(t, root);
	run_task(t, root);
}

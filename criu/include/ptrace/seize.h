/*
 * Seizing tasks with ptrace and reading their state through kernel
 * interfaces, with no code loaded into them.
 *
 * A seized thread is attached with PTRACE_SEIZE and held in a ptrace stop
 * (PTRACE_INTERRUPT, or its group stop if it was stopped by SIGSTOP & co).
 * Release detaches it and it goes on exactly as it was: running, or back in
 * its group stop. Nothing here ever kills a task. If criu dies, the kernel
 * detaches its tracees and they go on, as they were: PTRACE_O_EXITKILL is
 * armed only while a task would not be as it was (seize_guard(), and
 * seize_exitkill() for good when it can no longer run on).
 *
 * All functions return 0 (or a count) on success and -errno on failure.
 * -ESRCH always means "the task is gone" (exited, killed, or a zombie).
 */
#ifndef CRIU_SEIZE_H
#define CRIU_SEIZE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/user.h>

#include "util/hashmap.h"

/*
 * What a syscall interrupted by our stop left in rax (orig_rax holds its
 * number): internal kernel codes that never reach a running program. On
 * resume the kernel restarts the syscall (the first three; the second-last
 * through restart_syscall()) unless a signal handler runs first.
 */
#define KERNEL_ERESTARTSYS	     512
#define KERNEL_ERESTARTNOINTR	     513
#define KERNEL_ERESTARTNOHAND	     514
#define KERNEL_ERESTART_RESTARTBLOCK 516

struct seized_thread {
	pid_t tid;
	pid_t pid;		  /* its thread group (process) */
	bool seized;		  /* attached by us and held in a ptrace stop */
	bool zombie;		  /* found exited but not reaped: never seized */
	bool dead;		  /* died while seized (SIGKILL): nothing to release */
	bool was_stopped;	  /* in a group stop when seized: stays stopped */
	int stop_signo;		  /* the signal of that group stop */
	bool seccomp_suspended;	  /* PTRACE_O_SUSPEND_SECCOMP is in effect */
	bool needs_retrap;	  /* ptrace/inject.c left it in another stop than seize_task() */
	bool hung;		  /* did not stop within --timeout: left to be untraced as criu exits */
	bool exitkill;		  /* seize_exitkill(): dies with criu until released */
	uint64_t syscall_ip;	  /* ptrace/inject.c: a `syscall` instruction, 0: not found yet */
	unsigned int nr_requeued; /* ptrace/inject.c: signals caught during injections, queued again */
	uint64_t held_signals;	  /* ptrace/inject.c: those signals, kept blocked in later injections */
};

struct seized_tree {
	struct seized_thread *threads; /* every seized thread, root process first */
	size_t nr_threads;
	pid_t *zombies; /* zombie processes of the tree: found, not seized */
	size_t nr_zombies;
};

/*
 * Seizes one thread and waits until it is in a ptrace stop. A zombie or a
 * task that exits meanwhile gives -ESRCH (t->zombie tells a zombie apart).
 * A signal that was being delivered when we came is delivered as it would
 * have been (its handler runs after release).
 */
int seize_task(pid_t tid, struct seized_thread *t);
/* Detaches one thread, leaving it running or in its group stop. */
int release_task(struct seized_thread *t);

/*
 * Seizes every thread of every process of the tree rooted at the process
 * `root`, discovering threads in /proc/PID/task and children in
 * /proc/PID/task/TID/children, until a whole pass finds nothing new (tasks
 * that fork or clone meanwhile are caught). Zombies are listed, not seized.
 * On failure everything seized so far is released and *out is empty.
 */
int seize_tree(pid_t root, struct seized_tree *out);
/* seize_tree within timeout_s seconds (0: no limit): a thread that can't
 * stop by then (uninterruptible sleep) fails it with -ETIMEDOUT, named. */
int seize_tree_timeout(pid_t root, struct seized_tree *out, unsigned timeout_s);
/* Threads attached while their cgroup was frozen (--freeze-cgroup): the
 * tree walk takes them as seized without attaching again. */
struct seize_pre {
	struct hmap tids; /* tid -> attached / taken by the walk */
};
/* On failure too, `pre` holds what was attached: thaw, then seize_pre_release. */
int seize_pre_attach(struct seize_pre *pre, const pid_t *tids, size_t n);
/* seize_tree_timeout taking the threads of `pre` (may be NULL). */
int seize_tree_frozen(pid_t root, struct seized_tree *out, unsigned timeout_s, struct seize_pre *pre);
/* Lets go the threads of `pre` the walk did not take; frees it. */
void seize_pre_release(struct seize_pre *pre);

/* Detaches every thread (each left as it was) and frees the tree. */
void release_tree(struct seized_tree *tree);
/* With on, t is killed if criu exits or dies before it is detached
 * (PTRACE_O_EXITKILL): a task that must not run on half restored, or
 * with memory given back. 0 or -errno. */
int seize_exitkill(struct seized_thread *t, bool on);
/*
 * With on, t dies with criu until seize_guard(t, false): for the moments
 * its registers or signal mask are not its own (ptrace/inject.c), when a
 * criu killed (SIGKILL, the OOM killer) would leave it running on with
 * them. No effect while seize_exitkill() holds it. 0 or -errno.
 */
int seize_guard(struct seized_thread *t, bool on);

/*
 * Puts a seized thread that was driven elsewhere (a syscall-exit stop after
 * an injection) back into a PTRACE_INTERRUPT stop inside get_signal(), where
 * seize_task() left it; release_task() does it first when needed. From
 * there, an interrupted syscall is restarted on resume exactly as the kernel
 * does for a stop without a signal handler: the decision is taken after
 * get_signal() returns, from the registers as we put them back.
 */
int seize_retrap(struct seized_thread *t);

/*
 * Waits for the next stop (or death) of a seized thread. On death the thread
 * is marked dead and not seized, and -ESRCH is returned.
 */
int seize_wait(struct seized_thread *t, int *status);

/* Registers (NT_PRSTATUS). 32-bit tasks are refused with -EOPNOTSUPP. */
int get_regs(struct seized_thread *t, struct user_regs_struct *regs);
int set_regs(struct seized_thread *t, const struct user_regs_struct *regs);
/* The legacy FXSAVE area (NT_PRFPREG). */
int get_fpregs(struct seized_thread *t, struct user_fpregs_struct *fpregs);
/* The XSAVE area (NT_X86_XSTATE): a malloc'd buffer of *len bytes. */
int get_xsave(struct seized_thread *t, void **buf, size_t *len);
/* Blocked signals: bit (signo - 1). */
int get_sigmask(struct seized_thread *t, uint64_t *mask);
int set_sigmask(struct seized_thread *t, uint64_t mask);
/*
 * Queued signals, without dequeuing them: the thread's own queue, or with
 * `shared` the process-wide one. *infos is malloc'd (NULL when *nr is 0).
 */
int get_pending_siginfo(struct seized_thread *t, bool shared, siginfo_t **infos, size_t *nr);

/* PTRACE_GET_RSEQ_CONFIGURATION; rseq_abi_pointer is 0 without rseq. */
struct rseq_config {
	uint64_t rseq_abi_pointer;
	uint32_t rseq_abi_size;
	uint32_t signature;
	uint32_t flags;
	uint32_t pad;
};
int get_rseq_config(struct seized_thread *t, struct rseq_config *conf);

#endif

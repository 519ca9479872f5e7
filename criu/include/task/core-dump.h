/*
 * What the dump of one process learns before it writes a core-<tid>.img
 * per thread (core-dump.c): each thread's state and the process's, read
 * from /proc and through ptrace (core-dump-read.c) and asked by syscalls
 * injected into the process (core-dump-query.c). Only those three files
 * include this header.
 */
#ifndef CRIU_TASK_CORE_DUMP_H
#define CRIU_TASK_CORE_DUMP_H

#include <asm/ldt.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/time.h>
#include <sys/user.h>
#include <time.h>

#include "proc/proc-limits.h"
#include "proc/proc-status.h"
#include "proc/proc-timers.h"
#include "ptrace/seize.h"
#include "task/task-dump.h"

#define SIG_MAX		64
#define TLS_ENTRY_FIRST 12 /* GDT_ENTRY_TLS_MIN on x86_64 */
#define TLS_ENTRIES	3

/* The kernel's struct sigaction on x86_64 (rt_sigaction). */
struct k_sigaction {
	uint64_t handler, flags, restorer, mask;
};

/* What one thread told us. */
struct thread_state {
	struct seized_thread *t;
	pid_t vtid;
	struct user_regs_struct regs;
	void *xsave;
	size_t xsave_len;
	struct user_fpregs_struct fp; /* without XSAVE */
	uint64_t sigmask;
	siginfo_t *pending;
	size_t nr_pending;
	struct rseq_config rseq;
	uint64_t rseq_cs;
	uint64_t tid_addr;
	uint32_t secbits;
	stack_t sas;
	int pdeath_sig;
	uint64_t robust_head;
	size_t robust_len;
	int sched_policy, sched_prio, nice;
	struct user_desc tls[TLS_ENTRIES];
	bool has_tls;
	struct proc_status status;
	uint32_t seccomp_filter; /* its newest filter in seccomp.img */
};

/* What the process as a whole told us. */
struct process_state {
	struct k_sigaction sa[SIG_MAX + 1];
	struct itimerval itimers[3];
	struct proc_timers ptimers;    /* /proc/PID/timers */
	struct itimerspec *ptimer_val; /* timer_gettime of each */
	int *ptimer_overrun;	       /* timer_getoverrun of each */
	int32_t *ptimer_vtid;	       /* SIGEV_THREAD_ID: the thread, virtual */
	siginfo_t *shared;
	size_t nr_shared;
	struct proc_limits limits;
	uint32_t personality;
	uint32_t loginuid;
	bool has_loginuid;
	int32_t oom_score_adj;
	uint32_t membarrier_mask; /* MEMBARRIER_CMD_REGISTER_* the process did */
};

/* core-dump-read.c. Before any injection: status, signal mask, and what a
 * tid is enough for (robust list, scheduling); seccomp that can't be
 * suspended is refused, as nothing could be injected. */
int core_read_thread_early(struct td_proc *p, struct thread_state *ts);
/* Limits, personality, loginuid, oom_score_adj and the POSIX timers. */
int core_read_process(struct td_proc *p, struct process_state *ps);
/* After the injections, as the thread will resume: registers, FPU/XSAVE,
 * rseq, TLS descriptors. */
int core_read_thread_late(struct thread_state *ts);

/* core-dump-query.c: maps a scratch page in the process, asks every
 * injected query (sigactions, timers and signal queues together, per
 * thread state), unmaps it whatever happened. */
int core_run_queries(struct td_proc *p, struct process_state *ps, struct thread_state *ts, bool no_global_mb);

#endif

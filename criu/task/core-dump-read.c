/*
 * core-<tid>.img, what the kernel shows from outside (see core-dump.h):
 * /proc/PID/{status,limits,personality,loginuid,oom_score_adj,timers},
 * ptrace (registers, FPU/XSAVE, signal mask, rseq, TLS descriptors) and
 * calls that take a tid (get_robust_list, sched_getparam, getpriority).
 */
#define LOG_PREFIX "task-dump: "

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "ptrace/inject.h"
#include "task/core-dump.h"
#include "util/log.h"
#include "util/util.h"

static int read_small_file(pid_t pid, const char *name, char *buf, size_t size)
{
	_cleanup_free_ char *b = NULL;
	char path[64];
	size_t len;
	int ret;

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, name);
	ret = read_file_at(AT_FDCWD, path, &b, &len);
	if (ret < 0)
		return ret;
	snprintf(buf, size, "%s", b);
	return 0;
}

/* The POSIX timers, with the thread each SIGEV_THREAD_ID one names. */
static int read_ptimers(struct td_proc *p, struct process_state *ps)
{
	struct proc_err perr;
	_cleanup_free_ char *text = NULL;
	char path[64];
	size_t len;
	int ret;

	snprintf(path, sizeof(path), "/proc/%d/timers", p->pid);
	ret = read_file_at(AT_FDCWD, path, &text, &len);
	if (ret == -ENOENT) /* a kernel without POSIX timers: none to save */
		return 0;
	if (ret < 0) {
		pr_err("can't read %s: %s\n", path, strerror(-ret));
		return ret;
	}
	ret = proc_timers_parse(text, len, &ps->ptimers, &perr);
	if (ret) {
		pr_err("%s: %s\n", path, proc_err_msg(&perr).s);
		return ret;
	}
	ps->ptimer_val = xzalloc((ps->ptimers.nr + 1) * sizeof(*ps->ptimer_val));
	ps->ptimer_overrun = xzalloc((ps->ptimers.nr + 1) * sizeof(*ps->ptimer_overrun));
	ps->ptimer_vtid = xzalloc((ps->ptimers.nr + 1) * sizeof(*ps->ptimer_vtid));
	for (size_t i = 0; i < ps->ptimers.nr; i++) {
		const struct proc_timer *t = &ps->ptimers.t[i];
		size_t k;

		/*
		 * A CPU clock of "the calling thread" (pid 0, per thread) times
		 * the thread that made the timer, which /proc doesn't tell.
		 */
		if (p->nr_threads > 1 && (t->clock == CLOCK_THREAD_CPUTIME_ID ||
					  (t->clock < 0 && (t->clock & 4) && ~(t->clock >> 3) == 0))) {
			pr_err("process %d: POSIX timer %d counts the CPU time of the thread that made it, and which "
			       "of its %zu threads that is can't be known: not supported\n",
			       p->pid, t->id, p->nr_threads);
			return -EOPNOTSUPP;
		}
		if (!(t->notify & 4 /* SIGEV_THREAD_ID */))
			continue;
		for (k = 0; k < p->nr_threads && p->threads[k]->tid != t->notify_pid; k++)
			;
		if (k == p->nr_threads) {
			pr_err("process %d: POSIX timer %d signals thread %d, which is not one of its threads\n",
			       p->pid, t->id, t->notify_pid);
			return -EOPNOTSUPP;
		}
		ps->ptimer_vtid[i] = p->vtids[k];
	}
	return 0;
}

int core_read_process(struct td_proc *p, struct process_state *ps)
{
	struct proc_err perr;
	_cleanup_free_ char *limits = NULL;
	char path[64], buf[64], *end;
	size_t len;
	int ret;

	snprintf(path, sizeof(path), "/proc/%d/limits", p->pid);
	ret = read_file_at(AT_FDCWD, path, &limits, &len);
	if (ret < 0) {
		pr_err("can't read %s: %s\n", path, strerror(-ret));
		return ret;
	}
	ret = proc_limits_parse(limits, len, &ps->limits, &perr);
	if (ret < 0) {
		pr_err("%s: %s\n", path, proc_err_msg(&perr).s);
		return ret;
	}
	ret = read_small_file(p->pid, "personality", buf, sizeof(buf));
	if (ret < 0)
		return ret;
	ps->personality = (uint32_t)strtoul(buf, &end, 16);
	ps->has_loginuid = !read_small_file(p->pid, "loginuid", buf, sizeof(buf));
	ps->loginuid = (uint32_t)strtoul(buf, NULL, 10);
	ret = read_small_file(p->pid, "oom_score_adj", buf, sizeof(buf));
	if (ret < 0)
		return ret;
	ps->oom_score_adj = (int32_t)strtol(buf, NULL, 10);
	return read_ptimers(p, ps);
}

static int check_seccomp(struct thread_state *ts)
{
	uint32_t mode = ts->status.seccomp;

	if (mode && !ts->t->seccomp_suspended) {
		pr_err("thread %d is in seccomp mode %u and seccomp can't be suspended "
		       "(needs CAP_SYS_ADMIN): syscalls can't be injected\n",
		       ts->t->tid, mode);
		return -EPERM;
	}
	return 0;
}

/* struct sched_attr of sched_getattr(2) (with the utilization clamps of Linux 5.3). */
struct sched_attr_v1 {
	uint32_t size, policy;
	uint64_t flags;
	int32_t nice;
	uint32_t priority;
	uint64_t runtime, deadline, period;
	uint32_t util_min, util_max;
};

#define SCHED_FLAG_RESET_ON_FORK_ 0x01
#define SCHED_DEADLINE_		  6

/*
 * The thread's scheduling policy, as core images hold it: the policy with
 * SCHED_RESET_ON_FORK or'ed in (as sched_getscheduler(2) says it), the
 * real-time priority, and the nice value, which a real-time thread keeps
 * too (getpriority(2) shows it, and it is back in force once the thread
 * leaves the real-time class). Images have no place for SCHED_DEADLINE's
 * runtime, deadline and period: refused. (Utilization clamps are not
 * looked at: a kernel without them reports 0 and 0, as one with a clamp
 * of 0 would.)
 */
static int read_sched(struct thread_state *ts)
{
	pid_t tid = ts->t->tid;
	struct sched_attr_v1 a = {0};

	if (syscall(SYS_sched_getattr, tid, &a, sizeof(a), 0)) {
		pr_perror("can't read the scheduling policy of thread %d", tid);
		return -errno;
	}
	switch (a.policy) {
	case SCHED_OTHER:
	case SCHED_FIFO:
	case SCHED_RR:
	case SCHED_BATCH:
	case SCHED_IDLE:
		break;
	case SCHED_DEADLINE_:
		pr_err("thread %d runs under SCHED_DEADLINE (runtime %llu ns, deadline %llu ns, period %llu ns), "
		       "which core images have no place for\n",
		       tid, (unsigned long long)a.runtime, (unsigned long long)a.deadline,
		       (unsigned long long)a.period);
		pr_hint("move it to another policy for the dump (chrt -p), or dump it without criu's help\n");
		return -EOPNOTSUPP;
	default:
		pr_err("thread %d has scheduling policy %u, which criu doesn't know\n", tid, a.policy);
		return -EOPNOTSUPP;
	}
	ts->sched_policy = (int)a.policy | (a.flags & SCHED_FLAG_RESET_ON_FORK_ ? SCHED_RESET_ON_FORK : 0);
	ts->sched_prio = (int)a.priority;
	/* sched_getattr gives a real-time thread's nice as 0: ask getpriority */
	errno = 0;
	ts->nice = getpriority(PRIO_PROCESS, (id_t)tid);
	if (errno) {
		pr_perror("getpriority(%d)", tid);
		return -errno;
	}
	return 0;
}

/* Before injections: status, mask, and what a tid is enough for. */
int core_read_thread_early(struct td_proc *p, struct thread_state *ts)
{
	struct seized_thread *t = ts->t;
	int ret;

	ret = td_read_status(p->pid, t->tid, &ts->status);
	if (!ret)
		ret = check_seccomp(ts);
	if (!ret)
		ret = get_sigmask(t, &ts->sigmask);
	if (ret < 0)
		return ret;
	if (syscall(SYS_get_robust_list, t->tid, &ts->robust_head, &ts->robust_len)) {
		pr_perror("get_robust_list(%d)", t->tid);
		return -errno;
	}
	return read_sched(ts);
}

/* After injections: registers, FPU, rseq, TLS descriptors. */
int core_read_thread_late(struct thread_state *ts)
{
	struct seized_thread *t = ts->t;
	int ret;

	ret = get_regs(t, &ts->regs);
	if (ret < 0)
		return ret;
	ret = get_xsave(t, &ts->xsave, &ts->xsave_len);
	if (ret == -ENODEV || ret == -EINVAL) /* a CPU without XSAVE */
		ret = get_fpregs(t, &ts->fp);
	if (ret < 0)
		return ret;
	ret = get_rseq_config(t, &ts->rseq);
	if (ret == -EOPNOTSUPP)
		memset(&ts->rseq, 0, sizeof(ts->rseq));
	else if (ret < 0)
		return ret;
	if (ts->rseq.rseq_abi_pointer &&
	    remote_read(t->pid, ts->rseq.rseq_abi_pointer + 8, &ts->rseq_cs, sizeof(ts->rseq_cs)))
		ts->rseq_cs = 0;
	ts->has_tls = true;
	for (int i = 0; i < TLS_ENTRIES; i++) {
		if (ptrace(PTRACE_GET_THREAD_AREA, t->tid, (void *)(long)(TLS_ENTRY_FIRST + i), &ts->tls[i])) {
			ts->has_tls = false; /* a kernel without IA32 emulation */
			break;
		}
	}
	return 0;
}

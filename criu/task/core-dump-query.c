/*
 * core-<tid>.img, what only the process can tell (see core-dump.h): signal
 * handlers, itimers and POSIX timers, the alternate signal stack, the
 * clear_child_tid address, securebits, the parent-death signal, dumpable,
 * the child subreaper bit, brk, membarrier(2) registrations. Asked by injecting one syscall at a time
 * (ptrace/inject.c) that writes its answer into a scratch page mapped into the
 * process for the purpose and unmapped afterwards.
 *
 * The timers are read together with the signal queues, again until no
 * timer can have fired in between (read_timers_and_queues()).
 */
#define LOG_PREFIX "task-dump: "

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/time.h>

#include "ptrace/inject.h"
#include "task/core-dump.h"
#include "util/log.h"
#include "util/util.h"

#define SCRATCH_SIZE 4096

/* One injected query of up to four arguments; a failure is printed (inject_call). */
static int query(struct seized_thread *t, long nr, const long a[4], long *ret, const char *what)
{
	*ret = 0;
	return inject_call(t, what, nr, a[0], a[1], a[2], a[3], 0, 0, ret);
}

/* A query whose answer the syscall writes to the scratch page. */
static int query_mem(struct seized_thread *t, uint64_t scratch, long nr, const long a[4], void *out, size_t len,
		     const char *what)
{
	long ret;
	int err = query(t, nr, a, &ret, what);

	if (!err)
		err = remote_read(t->pid, scratch, out, len);
	return err;
}

static int query_thread(struct thread_state *ts, uint64_t s)
{
	struct seized_thread *t = ts->t;
	long ret;
	int err;

	err = query_mem(t, s, SYS_prctl, (long[4]){PR_GET_TID_ADDRESS, (long)s}, &ts->tid_addr, sizeof(ts->tid_addr),
			"prctl(PR_GET_TID_ADDRESS)");
	if (!err)
		err = query(t, SYS_prctl, (long[4]){PR_GET_SECUREBITS}, &ret, "prctl(PR_GET_SECUREBITS)");
	ts->secbits = (uint32_t)ret;
	if (!err)
		err = query_mem(t, s, SYS_prctl, (long[4]){PR_GET_PDEATHSIG, (long)s}, &ts->pdeath_sig,
				sizeof(ts->pdeath_sig), "prctl(PR_GET_PDEATHSIG)");
	if (!err)
		err = query_mem(t, s, SYS_sigaltstack, (long[4]){0, (long)s}, &ts->sas, sizeof(ts->sas), "sigaltstack");
	return err;
}

/* membarrier(2) commands (linux/membarrier.h; GET_REGISTRATIONS is Linux 6.3's) */
#define MB_CMD_PRIVATE_EXPEDITED	  (1 << 3)
#define MB_CMD_REGISTER_PRIVATE_EXPEDITED (1 << 4)
#define MB_CMD_GET_REGISTRATIONS	  (1 << 9)
#define MB_REGISTRATIONS_KNOWN		  ((1 << 2) | (1 << 4) | (1 << 6) | (1 << 8))

/*
 * Kernels before 6.3: each private registration is told by its barrier
 * (0 when registered, -EPERM when not; -EINVAL: a variant this kernel or
 * CPU lacks, so never registered). The global one has no such test.
 */
static int probe_private_membarriers(struct td_proc *p, struct process_state *ps)
{
	static const struct {
		int barrier, registration;
	} variants[] = {
		{1 << 3, 1 << 4}, /* PRIVATE_EXPEDITED */
		{1 << 5, 1 << 6}, /* PRIVATE_EXPEDITED_SYNC_CORE */
		{1 << 7, 1 << 8}, /* PRIVATE_EXPEDITED_RSEQ */
	};
	long ret;

	ps->membarrier_mask = 0;
	for (size_t i = 0; i < sizeof(variants) / sizeof(variants[0]); i++) {
		int err = (int)inject_syscall(p->threads[0], SYS_membarrier, variants[i].barrier, 0, 0, 0, 0, 0, &ret);

		if (err) {
			pr_err("task %d: membarrier(%#x): %s\n", p->threads[0]->tid, variants[i].barrier,
			       inject_strerror(err));
			return err;
		}
		if (ret == 0)
			ps->membarrier_mask |= (uint32_t)variants[i].registration;
		else if (ret != -EPERM && ret != -EINVAL) {
			pr_err("task %d: membarrier(%#x): %s\n", p->threads[0]->tid, variants[i].barrier,
			       strerror((int)-ret));
			return (int)ret;
		}
	}
	return 0;
}

/*
 * The membarrier registrations of the process's mm, as the mask of the
 * MEMBARRIER_CMD_REGISTER_* commands it made (task_core_entry's
 * membarrier_registration_mask). MEMBARRIER_CMD_GET_REGISTRATIONS says
 * which, but for one: registering the SYNC_CORE or RSEQ variant shows as
 * plain PRIVATE_EXPEDITED too, although only a registration of that one
 * makes MEMBARRIER_CMD_PRIVATE_EXPEDITED work. So that one is asked of the
 * process: a barrier on its own threads (all stopped), 0 when registered,
 * -EPERM when not. Without GET_REGISTRATIONS (kernels before 6.3) nothing
 * tells whether the process registered for GLOBAL_EXPEDITED: refused.
 */
static int query_membarrier(struct td_proc *p, struct process_state *ps, bool no_global_mb)
{
	struct seized_thread *t = p->threads[0];
	long ret = 0;
	int err;

	err = (int)inject_syscall(t, SYS_membarrier, MB_CMD_GET_REGISTRATIONS, 0, 0, 0, 0, 0, &ret);
	if (!err && ret == -ENOSYS) /* a kernel without membarrier: nothing registered */
		return 0;
	if (!err && ret == -EINVAL) {
		if (no_global_mb)
			return probe_private_membarriers(p, ps);
		pr_err("process %d: this kernel (before 6.3: no MEMBARRIER_CMD_GET_REGISTRATIONS) can't tell whether "
		       "it registered for global expedited membarrier(2), which the restored process would lose\n",
		       p->pid);
		pr_hint("dump on Linux 6.3 or later, or, if no program of the tree uses global expedited barriers "
			"(liburcu's membarrier flavour does), add --assume-no-global-membarrier\n");
		return -EOPNOTSUPP;
	}
	if (!err && ret < 0)
		err = (int)ret;
	if (err) {
		pr_err("task %d: membarrier(MEMBARRIER_CMD_GET_REGISTRATIONS): %s\n", t->tid, inject_strerror(err));
		return err;
	}
	if (ret & ~(long)MB_REGISTRATIONS_KNOWN) {
		pr_err("process %d: membarrier(2) registrations %#lx, some of a kind criu doesn't know\n", p->pid, ret);
		return -EOPNOTSUPP;
	}
	ps->membarrier_mask = (uint32_t)ret;
	if (!(ret & MB_CMD_REGISTER_PRIVATE_EXPEDITED))
		return 0;
	err = (int)inject_syscall(t, SYS_membarrier, MB_CMD_PRIVATE_EXPEDITED, 0, 0, 0, 0, 0, &ret);
	if (!err && ret == -EPERM)
		ps->membarrier_mask &= ~(uint32_t)MB_CMD_REGISTER_PRIVATE_EXPEDITED;
	else if (!err && ret < 0)
		err = (int)ret;
	if (err)
		pr_err("task %d: membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED): %s\n", t->tid, inject_strerror(err));
	return err;
}

static int query_process(struct td_proc *p, struct process_state *ps, uint64_t s, bool no_global_mb)
{
	struct seized_thread *t = p->threads[0];
	long ret;
	int err = 0;

	for (int sig = 1; !err && sig <= SIG_MAX; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		err = query_mem(t, s, SYS_rt_sigaction, (long[4]){sig, 0, (long)s, 8}, &ps->sa[sig],
				sizeof(ps->sa[sig]), "rt_sigaction");
	}
	if (!err)
		err = query_mem(t, s, SYS_prctl, (long[4]){PR_GET_CHILD_SUBREAPER, (long)s}, &p->misc.child_subreaper,
				sizeof(p->misc.child_subreaper), "prctl(PR_GET_CHILD_SUBREAPER)");
	if (!err)
		err = query(t, SYS_prctl, (long[4]){PR_GET_DUMPABLE}, &ret, "prctl(PR_GET_DUMPABLE)");
	p->misc.dumpable = (int)ret;
	if (!err)
		err = query(t, SYS_prctl, (long[4]){PR_GET_THP_DISABLE}, &ret, "prctl(PR_GET_THP_DISABLE)");
	p->misc.thp_disabled = (int)ret;
	if (!err)
		err = query(t, SYS_brk, (long[4]){0}, &ret, "brk(0)");
	p->misc.brk = (uint64_t)ret;
	if (!err)
		err = query_membarrier(p, ps, no_global_mb);
	return err;
}

/* The itimers and POSIX timers: time left, interval, overrun. */
static int read_timers(struct td_proc *p, struct process_state *ps, uint64_t s)
{
	struct seized_thread *t = p->threads[0];
	long ret = 0;
	int err = 0;

	for (int which = 0; !err && which < 3; which++)
		err = query_mem(t, s, SYS_getitimer, (long[4]){which, (long)s}, &ps->itimers[which],
				sizeof(ps->itimers[which]), "getitimer");
	for (size_t i = 0; !err && i < ps->ptimers.nr; i++) {
		int id = ps->ptimers.t[i].id;

		err = query_mem(t, s, SYS_timer_gettime, (long[4]){id, (long)s}, &ps->ptimer_val[i],
				sizeof(ps->ptimer_val[i]), "timer_gettime");
		if (!err)
			err = query(t, SYS_timer_getoverrun, (long[4]){id}, &ret, "timer_getoverrun");
		ps->ptimer_overrun[i] = (int)ret;
	}
	return err;
}

static void free_queues(struct td_proc *p, struct process_state *ps, struct thread_state *ts)
{
	for (size_t i = 0; i < p->nr_threads; i++) {
		free(ts[i].pending);
		ts[i].pending = NULL;
		ts[i].nr_pending = 0;
	}
	free(ps->shared);
	ps->shared = NULL;
	ps->nr_shared = 0;
}

/* Every signal queue of the process: its threads' and the shared one. */
static int read_queues(struct td_proc *p, struct process_state *ps, struct thread_state *ts)
{
	int ret = 0;

	for (size_t i = 0; !ret && i < p->nr_threads; i++)
		ret = get_pending_siginfo(ts[i].t, false, &ts[i].pending, &ts[i].nr_pending);
	if (!ret)
		ret = get_pending_siginfo(p->threads[0], true, &ps->shared, &ps->nr_shared);
	return ret;
}

#define TIMER_SNAPSHOT_TRIES 16

/*
 * Timers keep running while the tasks are stopped: one that expires
 * between reading its time left and reading the signal queues would lose
 * its signal (or count it twice, the other way round). So: timers first,
 * then the queues, and again until no armed timer that sends a signal
 * could have expired in that window (every clock a timer can use advances
 * no faster than CLOCK_MONOTONIC meanwhile; CPU clocks: only the thread
 * we inject into runs, one at a time). A timer faster than the window
 * never settles: its state is then taken as read, and one of its
 * expiries may be seen twice.
 */
static int read_timers_and_queues(struct td_proc *p, struct process_state *ps, struct thread_state *ts, uint64_t s)
{
	for (int attempt = 1;; attempt++) {
		uint64_t t0 = monotonic_ns(), window, soonest;
		int err = read_timers(p, ps, s);

		if (!err)
			err = read_queues(p, ps, ts);
		if (err)
			return err;
		window = monotonic_ns() - t0;
		soonest = timers_soonest_signal(ps->itimers, &ps->ptimers, ps->ptimer_val);
		if (soonest > window)
			return 0;
		if (attempt == TIMER_SNAPSHOT_TRIES) {
			pr_warn("process %d: a timer expires every %llu ns, faster than criu reads its state "
				"(%llu ns): one expiry may be delivered twice after restore\n",
				p->pid, (unsigned long long)soonest, (unsigned long long)window);
			return 0;
		}
		pr_debug("process %d: a timer may have expired while read (%llu ns left, %llu ns window): again\n",
			 p->pid, (unsigned long long)soonest, (unsigned long long)window);
		free_queues(p, ps, ts);
	}
}

/* Maps the scratch page, runs every query, unmaps it, whatever happened. */
int core_run_queries(struct td_proc *p, struct process_state *ps, struct thread_state *ts, bool no_global_mb)
{
	uint64_t scratch;
	int err, err2;

	err = inject_mmap(p->threads[0], 0, SCRATCH_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0,
			  &scratch);
	if (err) {
		pr_err("task %d: can't map a scratch page in it: %s\n", p->pid, inject_strerror(err));
		return err;
	}
	err = query_process(p, ps, scratch, no_global_mb);
	if (!err)
		err = read_timers_and_queues(p, ps, ts, scratch);
	for (size_t i = 0; !err && i < p->nr_threads; i++)
		err = query_thread(&ts[i], scratch);
	err2 = inject_munmap(p->threads[0], scratch, SCRATCH_SIZE);
	if (err2)
		pr_err("task %d: can't unmap the scratch page at %#lx: %s\n", p->pid, (unsigned long)scratch,
		       inject_strerror(err2));
	return err ? err : err2;
}

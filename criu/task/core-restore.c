/*
 * Restore, act step from criu: the state of core-<tid>.img put back into
 * a seized task whose memory mem/mm-restore.c has already replaced, by
 * injected syscalls (their arguments in the scratch page it mapped):
 *
 *   process: signal handlers, itimers, rlimits, personality, subreaper,
 *            process group, the shared queue of pending signals;
 *   thread:  clear_child_tid, robust futex list, alternate signal stack,
 *            name, parent-death signal, nice, rseq area, credentials and
 *            capabilities, its own pending signals;
 *   last:    criu's descriptors closed, the scratch page unmapped, then
 *            registers, FPU/XSAVE state and blocked signals set through
 *            ptrace: once released the task runs on from where it was.
 *
 * Limits are set from inside the task with prlimit64(0, ...): criu needs
 * no CAP_SYS_RESOURCE for limits the task may set itself; raising a hard
 * limit above criu's own then fails with a warning, not an error.
 */
#define LOG_PREFIX "restore: "

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <sys/uio.h>

#include "ptrace/inject.h"
#include "util/log.h"
#include "task/rtree.h"
#include "task/userns.h"
#include "util/kerndat.h"
#include "task/xsave.h"
#include "util/util.h"

#define SIG_MAX 64

struct k_sigaction {
	uint64_t handler, flags, restorer, mask;
};

/* ------------------------------------------------------------------------
 * The process
 */

static int restore_sigactions(struct rproc *p, struct seized_thread *st)
{
	const TaskCoreEntry *tc = p->core->tc;
	int sig = 0, ret = 0;

	for (size_t i = 0; !ret && i < tc->n_sigactions; i++) {
		const SaEntry *sa = tc->sigactions[i];
		struct k_sigaction ka = {sa->sigaction, sa->flags, sa->restorer, sa->mask};

		/* entries for 1..64 but SIGKILL and SIGSTOP, in order */
		do
			sig++;
		while (sig == SIGKILL || sig == SIGSTOP);
		if (sig > SIG_MAX)
			break;
		if (!ka.handler && !ka.flags && !ka.mask)
			continue; /* SIG_DFL: what the task has already */
		ret = remote_write(st->pid, p->scratch, &ka, sizeof(ka));
		if (!ret)
			ret = inject_call(st, "rt_sigaction", __NR_rt_sigaction, sig, (long)p->scratch, 0, 8, 0, 0,
					  NULL);
	}
	return ret;
}

#define PR_TIMER_CREATE_RESTORE_IDS 77 /* Linux 6.15: timer_create takes the id asked for */

/* struct sigevent as the kernel reads it */
struct k_sigevent {
	uint64_t value;
	int32_t signo, notify;
	int32_t tid; /* SIGEV_THREAD_ID */
	int32_t pad[11];
};

/*
 * The POSIX timers, each with its dumped id (the program holds it), sigevent
 * and time left, armed relative to now. Their overrun counts are not kept.
 */
static int restore_ptimers(struct rproc *p, struct seized_thread *st)
{
	const TaskTimersEntry *tm = p->core->tc->timers;
	int ret, ret2;

	if (!tm || !tm->n_posix)
		return 0;
	if (!kdat_has(KF_TIMER_RESTORE_IDS))
		ret = -EOPNOTSUPP;
	else
		ret = inject_call(st, "prctl(PR_TIMER_CREATE_RESTORE_IDS)", __NR_prctl, PR_TIMER_CREATE_RESTORE_IDS, 1,
				  0, 0, 0, 0, NULL);
	if (ret) {
		pr_err("process %d: this kernel can't create POSIX timers with given ids (Linux 6.15 or later "
		       "needed)\n",
		       p->vpid);
		return ret;
	}
	/* /proc/PID/timers (and so the image) lists the newest first: made oldest first */
	for (size_t i = tm->n_posix; !ret && i-- > 0;) {
		const PosixTimerEntry *e = tm->posix[i];
		struct k_sigevent ev = {.value = e->sival_ptr,
					.signo = (int32_t)e->si_signo,
					.notify = (int32_t)e->it_sigev_notify,
					.tid = e->has_notify_thread_id ? e->notify_thread_id : 0};
		struct itimerspec its = {{(time_t)e->isec, (long)e->insec}, {(time_t)e->vsec, (long)e->vnsec}};
		int32_t id = (int32_t)e->it_id;

		ret = remote_write(st->pid, p->scratch, &ev, sizeof(ev));
		if (!ret)
			ret = remote_write(st->pid, p->scratch + 128, &id, sizeof(id));
		if (!ret)
			ret = inject_call(st, "timer_create", __NR_timer_create, (long)e->clock_id, (long)p->scratch,
					  (long)p->scratch + 128, 0, 0, 0, NULL);
		if (!ret)
			ret = remote_read(st->pid, p->scratch + 128, &id, sizeof(id));
		if (!ret && id != (int32_t)e->it_id) {
			pr_err("process %d: POSIX timer %u came back as %d\n", p->vpid, e->it_id, id);
			ret = -EINVAL;
		}
		if (!ret && (e->vsec || e->vnsec)) {
			ret = remote_write(st->pid, p->scratch + 192, &its, sizeof(its));
			if (!ret)
				ret = inject_call(st, "timer_settime", __NR_timer_settime, id, 0,
						  (long)p->scratch + 192, 0, 0, 0, NULL);
		}
	}
	/* off again whatever happened: the program's own timer_create picks free ids */
	ret2 = inject_call(st, "prctl(PR_TIMER_CREATE_RESTORE_IDS)", __NR_prctl, PR_TIMER_CREATE_RESTORE_IDS, 0, 0, 0,
			   0, 0, NULL);
	return ret ? ret : ret2;
}

static int restore_itimers(struct rproc *p, struct seized_thread *st)
{
	const TaskTimersEntry *tm = p->core->tc->timers;
	const ItimerEntry *it[3];
	int ret = 0;

	if (!tm)
		return 0;
	it[ITIMER_REAL] = tm->real;
	it[ITIMER_VIRTUAL] = tm->virt;
	it[ITIMER_PROF] = tm->prof;
	for (int k = 0; !ret && k < 3; k++) {
		struct itimerval v;

		if (!it[k] || (!it[k]->vsec && !it[k]->vusec))
			continue;
		v.it_interval.tv_sec = (time_t)it[k]->isec;
		v.it_interval.tv_usec = (suseconds_t)it[k]->iusec;
		v.it_value.tv_sec = (time_t)it[k]->vsec;
		v.it_value.tv_usec = (suseconds_t)it[k]->vusec;
		ret = remote_write(st->pid, p->scratch, &v, sizeof(v));
		if (!ret)
			ret = inject_call(st, "setitimer", __NR_setitimer, k, (long)p->scratch, 0, 0, 0, 0, NULL);
	}
	return ret;
}

static int restore_rlimits(struct rproc *p, struct seized_thread *st)
{
	const TaskRlimitsEntry *rl = p->core->tc->rlimits;

	for (size_t i = 0; rl && i < rl->n_rlimits && i < RLIM_NLIMITS; i++) {
		struct rlimit cur, want = {rl->rlimits[i]->cur, rl->rlimits[i]->max};
		long ret;
		int err;

		/* criu's own limits are the task's now (it was forked from criu) */
		if (!getrlimit((int)i, &cur) && cur.rlim_cur == want.rlim_cur && cur.rlim_max == want.rlim_max)
			continue;
		err = remote_write(st->pid, p->scratch, &want, sizeof(want));
		if (!err)
			err = (int)inject_syscall(st, __NR_prlimit64, 0, (long)i, (long)p->scratch, 0, 0, 0, &ret);
		if (err) {
			pr_err("process %d: can't set limit %zu: %s\n", p->vpid, i, inject_strerror(err));
			return err;
		}
		if (ret == -EPERM)
			pr_warn("process %d: limit %zu can't be raised to %llu/%llu without CAP_SYS_RESOURCE; kept "
				"%llu/%llu\n",
				p->vpid, i, (unsigned long long)want.rlim_cur, (unsigned long long)want.rlim_max,
				(unsigned long long)cur.rlim_cur, (unsigned long long)cur.rlim_max);
		else if (ret < 0) {
			pr_err("process %d: can't set limit %zu: %s\n", p->vpid, i, strerror((int)-ret));
			return (int)ret;
		}
	}
	return 0;
}

static int queue_signals(struct rproc *p, struct seized_thread *st, const SignalQueueEntry *q, pid_t vtid)
{
	for (size_t i = 0; q && i < q->n_signals; i++) {
		const SiginfoEntry *e = q->signals[i];
		siginfo_t si;
		int ret;

		if (e->siginfo.len != sizeof(si)) {
			pr_err("process %d: a pending signal's siginfo is %zu bytes, not %zu\n", p->vpid,
			       e->siginfo.len, sizeof(si));
			return -EINVAL;
		}
		memcpy(&si, e->siginfo.data, sizeof(si));
		ret = remote_write(st->pid, p->scratch, &si, sizeof(si));
		if (!ret && vtid)
			ret = inject_call(st, "rt_tgsigqueueinfo", __NR_rt_tgsigqueueinfo, p->vpid, vtid, si.si_signo,
					  (long)p->scratch, 0, 0, NULL);
		else if (!ret)
			ret = inject_call(st, "rt_sigqueueinfo", __NR_rt_sigqueueinfo, p->vpid, si.si_signo,
					  (long)p->scratch, 0, 0, 0, NULL);
		if (ret)
			return ret;
	}
	return 0;
}

/* ------------------------------------------------------------------------
 * Threads
 */

#define SECBIT_NO_SETUID_FIXUP_BIT (1U << 2)
#define SECBIT_NO_AMB_RAISE_BIT	   (1U << 6) /* SECBIT_NO_CAP_AMBIENT_RAISE */
#define SECBIT_ALL_LOCKS	   0xaaU     /* the *_LOCKED bits: 1 << 1, 3, 5, 7 */

static int set_secbits(struct seized_thread *st, uint32_t bits)
{
	return inject_call(st, "prctl(PR_SET_SECUREBITS)", __NR_prctl, PR_SET_SECUREBITS, bits, 0, 0, 0, 0, NULL);
}

/*
 * The thread's inheritable set becomes the dumped one, its permitted and
 * effective sets (still criu's) unchanged: first of all, while the bounding
 * set is still whole (capset won't add an inheritable capability outside
 * it, and the dumped thread may have one that it later dropped from its
 * bounding set).
 */
static int set_inheritable(struct rproc *p, struct seized_thread *st, const CredsEntry *c)
{
	struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct data[2];
	int ret;

	ret = remote_write(st->pid, p->scratch, &hdr, sizeof(hdr));
	if (!ret)
		ret = inject_call(st, "capget", __NR_capget, (long)p->scratch, (long)p->scratch + 64, 0, 0, 0, 0, NULL);
	if (!ret)
		ret = remote_read(st->pid, p->scratch + 64, data, sizeof(data));
	if (ret)
		return ret;
	data[0].inheritable = c->cap_inh[0];
	data[1].inheritable = c->cap_inh[1];
	ret = remote_write(st->pid, p->scratch, &hdr, sizeof(hdr));
	if (!ret)
		ret = remote_write(st->pid, p->scratch + 64, data, sizeof(data));
	if (!ret)
		ret = inject_call(st, "capset (inheritable)", __NR_capset, (long)p->scratch, (long)p->scratch + 64, 0,
				  0, 0, 0, NULL);
	return ret;
}

/* The dumped ambient set: each capability raised (set_inheritable() ran). */
static int raise_ambient(struct seized_thread *st, const CredsEntry *c)
{
	uint64_t amb = (uint64_t)c->cap_amb[1] << 32 | c->cap_amb[0];
	int ret = 0;

	for (int cap = 0; !ret && cap < 64; cap++)
		if (amb & (1ULL << cap))
			ret = inject_call(st, "prctl(PR_CAP_AMBIENT_RAISE)", __NR_prctl, PR_CAP_AMBIENT,
					  PR_CAP_AMBIENT_RAISE, cap, 0, 0, 0, NULL);
	return ret;
}

/*
 * A thread's credentials, in an order that works for every combination:
 *   0. the dumped inheritable set, while the bounding set is whole;
 *   1. the bounding set, while it still has CAP_SETPCAP: every capability
 *      the dumped thread lacked is dropped (a runtime's restrictions stay);
 *   2. the securebits without their locks and SECBIT_NO_CAP_AMBIENT_RAISE,
 *      plus SECBIT_NO_SETUID_FIXUP, so that the uid and fsuid changes
 *      clear no capability;
 *   3. groups, gids, uids, fs ids;
 *   4. each ambient capability raised (it must be permitted and
 *      inheritable, and SECBIT_NO_CAP_AMBIENT_RAISE not set yet);
 *   5. the dumped securebits, locks and all (CAP_SETPCAP is still there);
 *   6. capset: the dumped sets (the ambient ones are in them, so they
 *      stay);
 *   7. no_new_privs, for good.
 */
/*
 * The thread has the dumped supplementary groups already, as its user
 * namespace sees them (task/userns.h): then none are set. In a user
 * namespace with setgroups denied none can be: the tasks keep the groups
 * they came in with from outside (criu's, as the dumped ones came from
 * whoever made the namespace), which show as the overflow gid inside.
 */
static bool groups_already(pid_t tid, const CredsEntry *c)
{
	const struct userns_info *u = userns_tree();
	_cleanup_free_ char *buf = NULL;
	char path[64], *line, *p;
	size_t len, n = 0;

	snprintf(path, sizeof(path), "/proc/%d/status", tid);
	if (read_file_at(AT_FDCWD, path, &buf, &len) < 0 || !(line = strstr(buf, "\nGroups:")))
		return false;
	p = line + 8;
	while (*p && *p != '\n') {
		char *end;
		unsigned long g = strtoul(p, &end, 10);

		if (end == p)
			break;
		/* a group the namespace doesn't map is no dumped one (it shows as the overflow gid) */
		if (u && userns_map_down(&u->gid, (uint32_t)g) == USERNS_NO_ID)
			return false;
		if (n >= c->n_groups || userns_gid((uint32_t)g) != c->groups[n])
			return false;
		n++;
		p = end;
		while (*p == ' ' || *p == '\t')
			p++;
	}
	return n == c->n_groups;
}

static int restore_groups(struct rproc *p, struct seized_thread *st, const CredsEntry *c)
{
	const struct userns_info *u = userns_tree();
	int ret;

	if (groups_already(st->tid, c))
		return 0;
	if (u && u->setgroups_deny) {
		pr_err("process %d: its supplementary groups can't be set: setgroups is denied in its user namespace, "
		       "and criu's own differ from the dumped ones as the namespace sees them\n",
		       p->vpid);
		pr_hint("run criu restore with the supplementary groups of whoever made the namespace\n");
		return -EPERM;
	}
	ret = remote_write(st->pid, p->scratch, c->groups, c->n_groups * sizeof(uint32_t));
	if (!ret)
		ret = inject_call(st, "setgroups", __NR_setgroups, (long)c->n_groups, (long)p->scratch, 0, 0, 0, 0,
				  NULL);
	return ret;
}

static int restore_creds(struct rproc *p, struct seized_thread *st, const CredsEntry *c)
{
	struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct data[2];
	uint64_t bnd;
	int ret = 0;

	if (!c)
		return 0;
	bnd = (uint64_t)c->cap_bnd[1] << 32 | c->cap_bnd[0];
	ret = set_inheritable(p, st, c);
	for (int cap = 0; !ret && cap <= kdat_cap_last_cap(); cap++)
		if (!(bnd & (1ULL << cap)))
			ret = inject_call(st, "prctl(PR_CAPBSET_DROP)", __NR_prctl, PR_CAPBSET_DROP, cap, 0, 0, 0, 0,
					  NULL);
	if (!ret)
		ret = set_secbits(st, (c->secbits & ~(SECBIT_ALL_LOCKS | SECBIT_NO_AMB_RAISE_BIT)) |
					      SECBIT_NO_SETUID_FIXUP_BIT);
	if (!ret)
		ret = restore_groups(p, st, c);
	if (!ret)
		ret = inject_call(st, "setresgid", __NR_setresgid, c->gid, c->egid, c->sgid, 0, 0, 0, NULL);
	if (!ret)
		ret = inject_call(st, "setresuid", __NR_setresuid, c->uid, c->euid, c->suid, 0, 0, 0, NULL);
	if (!ret)
		ret = inject_call(st, "setfsgid", __NR_setfsgid, c->fsgid, 0, 0, 0, 0, 0, NULL);
	if (!ret)
		ret = inject_call(st, "setfsuid", __NR_setfsuid, c->fsuid, 0, 0, 0, 0, 0, NULL);
	if (!ret && c->n_cap_amb)
		ret = raise_ambient(st, c);
	if (!ret)
		ret = set_secbits(st, c->secbits);
	if (!ret) {
		for (int k = 0; k < 2; k++) {
			data[k].effective = c->cap_eff[k];
			data[k].permitted = c->cap_prm[k];
			data[k].inheritable = c->cap_inh[k];
		}
		ret = remote_write(st->pid, p->scratch, &hdr, sizeof(hdr));
		if (!ret)
			ret = remote_write(st->pid, p->scratch + 64, data, sizeof(data));
		if (!ret)
			ret = inject_call(st, "capset", __NR_capset, (long)p->scratch, (long)p->scratch + 64, 0, 0, 0,
					  0, NULL);
	}
	if (!ret && c->has_no_new_privs && c->no_new_privs)
		ret = inject_call(st, "prctl(PR_SET_NO_NEW_PRIVS)", __NR_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0, 0,
				  NULL);
	return ret;
}

static int restore_thread(struct rproc *p, struct rthread *th)
{
	struct seized_thread *st = th->st;
	const CoreEntry *c = th->core;
	const ThreadCoreEntry *tc = c->thread_core;
	int ret;

	ret = inject_call(st, "set_tid_address", __NR_set_tid_address, (long)c->thread_info->clear_tid_addr, 0, 0, 0, 0,
			  0, NULL);
	if (!ret && tc->futex_rla)
		ret = inject_call(st, "set_robust_list", __NR_set_robust_list, (long)tc->futex_rla, tc->futex_rla_len,
				  0, 0, 0, 0, NULL);
	if (!ret && tc->sas && tc->sas->ss_sp) {
		stack_t ss = {(void *)(uintptr_t)tc->sas->ss_sp, (int)tc->sas->ss_flags, tc->sas->ss_size};

		ret = remote_write(st->pid, p->scratch, &ss, sizeof(ss));
		if (!ret)
			ret = inject_call(st, "sigaltstack", __NR_sigaltstack, (long)p->scratch, 0, 0, 0, 0, 0, NULL);
	}
	if (!ret && tc->comm) {
		char comm[16] = {0};

		strncpy(comm, tc->comm, sizeof(comm) - 1);
		ret = remote_write(st->pid, p->scratch, comm, sizeof(comm));
		if (!ret)
			ret = inject_call(st, "prctl(PR_SET_NAME)", __NR_prctl, PR_SET_NAME, (long)p->scratch, 0, 0, 0,
					  0, NULL);
	}
	/* always: what the task inherited from criu need not be it */
	if (!ret && tc->has_sched_nice)
		ret = inject_call(st, "setpriority", __NR_setpriority, PRIO_PROCESS, 0, tc->sched_nice, 0, 0, 0, NULL);
	if (!ret && tc->has_sched_policy) {
		struct sched_param sp = {.sched_priority = tc->has_sched_prio ? (int)tc->sched_prio : 0};

		ret = remote_write(st->pid, p->scratch, &sp, sizeof(sp));
		if (!ret)
			ret = inject_call(st, "sched_setscheduler", __NR_sched_setscheduler, 0, tc->sched_policy,
					  (long)p->scratch, 0, 0, 0, NULL);
	}
	if (!ret && tc->rseq_entry && tc->rseq_entry->rseq_abi_pointer)
		ret = inject_call(st, "rseq", __NR_rseq, (long)tc->rseq_entry->rseq_abi_pointer,
				  tc->rseq_entry->rseq_abi_size, 0, tc->rseq_entry->signature, 0, 0, NULL);
	if (!ret)
		ret = queue_signals(p, st, tc->signals_p, th->vtid);
	return ret;
}

/*
 * Writes `val` to /proc/PID/NAME. Lowering oom_score_adj takes
 * CAP_SYS_RESOURCE: without it the task keeps what it inherited, with a
 * warning, as for limits. (loginuid can only be written by the task
 * itself: task/fork.c does it.)
 */
static void write_proc_value(pid_t pid, const char *name, long long val)
{
	char path[64], buf[32];
	int fd, n;

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, name);
	n = snprintf(buf, sizeof(buf), "%lld", val);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, buf, (size_t)n) != n)
		pr_warn("process %d: can't set its %s to %lld (%m); it keeps the one it inherited\n", pid, name, val);
	if (fd >= 0)
		close(fd);
}

/* oom_score_adj always: criu's own (a runtime's -998, say) is no default */
static void restore_proc_values(struct rproc *p, const TaskCoreEntry *tc)
{
	char path[64], buf[32];
	int fd;

	if (!tc->has_oom_score_adj)
		return;
	snprintf(path, sizeof(path), "/proc/%d/oom_score_adj", p->host_pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		ssize_t n = read(fd, buf, sizeof(buf) - 1);

		close(fd);
		buf[n > 0 ? n : 0] = '\0';
		if (n > 0 && atoi(buf) == tc->oom_score_adj)
			return;
	}
	write_proc_value(p->host_pid, "oom_score_adj", tc->oom_score_adj);
}

/*
 * The membarrier(2) registrations of the process's mm: each
 * MEMBARRIER_CMD_REGISTER_* command the mask holds (bits 2, 4, 6 and 8,
 * checked when the image was read), made again.
 */
static int restore_membarrier(struct seized_thread *st, const TaskCoreEntry *tc)
{
	int ret = 0;

	if (!tc->has_membarrier_registration_mask)
		return 0;
	for (int bit = 2; !ret && bit <= 8; bit += 2)
		if (tc->membarrier_registration_mask & (1U << bit))
			ret = inject_call(st, "membarrier(MEMBARRIER_CMD_REGISTER_*)", __NR_membarrier, 1L << bit, 0,
					  0, 0, 0, 0, NULL);
	return ret;
}

int restore_core(struct rtree *t, struct rproc *p)
{
	struct seized_thread *st = p->threads[0].st;
	const TaskCoreEntry *tc = p->core->tc;
	int ret;

	ret = restore_sigactions(p, st);
	/* timers after the limits: each POSIX timer holds a queued signal of RLIMIT_SIGPENDING */
	if (!ret)
		ret = restore_rlimits(p, st);
	if (!ret)
		ret = restore_itimers(p, st);
	if (!ret)
		ret = restore_ptimers(p, st);
	if (!ret)
		ret = restore_membarrier(st, tc);
	if (!ret && tc->personality != 0)
		ret = inject_call(st, "personality", __NR_personality, tc->personality, 0, 0, 0, 0, 0, NULL);
	if (!ret && tc->has_child_subreaper && tc->child_subreaper)
		ret = inject_call(st, "prctl(PR_SET_CHILD_SUBREAPER)", __NR_prctl, PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0,
				  0, NULL);
	/* what fork gave may not be it: the parent's own setpgid comes later */
	if (!ret && !p->new_session && !p->new_pgrp && p->vpgid && p->vpgid != p->vpid)
		ret = inject_call(st, "setpgid", __NR_setpgid, 0, p->vpgid, 0, 0, 0, 0, NULL);
	if (!ret)
		ret = queue_signals(p, st, tc->signals_s, 0);
	if (!ret)
		restore_proc_values(p, tc);
	for (size_t i = 0; !ret && i < p->nr_threads; i++)
		ret = restore_thread(p, &p->threads[i]);
	if (ret)
		pr_err("process %d: its state could not be restored\n", p->vpid);
	return ret;
}

/* ------------------------------------------------------------------------
 * Registers
 */

static void gpregs_from_image(const UserX86RegsEntry *g, struct user_regs_struct *r)
{
	memset(r, 0, sizeof(*r));
	r->r15 = g->r15;
	r->r14 = g->r14;
	r->r13 = g->r13;
	r->r12 = g->r12;
	r->rbp = g->bp;
	r->rbx = g->bx;
	r->r11 = g->r11;
	r->r10 = g->r10;
	r->r9 = g->r9;
	r->r8 = g->r8;
	r->rax = g->ax;
	r->rcx = g->cx;
	r->rdx = g->dx;
	r->rsi = g->si;
	r->rdi = g->di;
	r->orig_rax = (unsigned long long)-1; /* no syscall to restart: the image already rewound it */
	r->rip = g->ip;
	r->cs = g->cs;
	r->eflags = g->flags;
	r->rsp = g->sp;
	r->ss = g->ss;
	r->fs_base = g->fs_base;
	r->gs_base = g->gs_base;
	r->ds = g->ds;
	r->es = g->es;
	r->fs = g->fs;
	r->gs = g->gs;
}

/* Copies an XSAVE component from the image if this CPU lays it out there. */
static void xsave_put(void *buf, size_t len, enum xsave_feature feature, const void *src, size_t bytes, uint64_t *bv)
{
	size_t size, off;

	if (!src || !bytes)
		return;
	if (!xsave_component(feature, &off, &size) || off + bytes > len || bytes > size)
		return;
	memcpy((char *)buf + off, src, bytes);
	*bv |= 1ULL << feature;
}

static int set_fpu(struct seized_thread *st, const UserX86FpregsEntry *f)
{
	_cleanup_free_ void *buf = NULL;
	struct user_fpregs_struct *fx;
	struct iovec iov;
	uint64_t bv = 0x3; /* x87, SSE */
	size_t len;
	int ret = get_xsave(st, &buf, &len);

	if (ret)
		return ret;
	if (len < XSAVE_HDR_OFF + 64)
		return -EINVAL;
	fx = buf;
	fx->cwd = (unsigned short)f->cwd;
	fx->swd = (unsigned short)f->swd;
	fx->ftw = (unsigned short)f->twd;
	fx->fop = (unsigned short)f->fop;
	fx->rip = f->rip;
	fx->rdp = f->rdp;
	fx->mxcsr = f->mxcsr;
	fx->mxcr_mask = f->mxcsr_mask;
	if (f->n_st_space == 32)
		memcpy(fx->st_space, f->st_space, sizeof(fx->st_space));
	if (f->n_xmm_space == 64)
		memcpy(fx->xmm_space, f->xmm_space, sizeof(fx->xmm_space));
	/* the extended components: only those the image holds, the others
	 * in their initial state */
	memset((char *)buf + XSAVE_HDR_OFF, 0, 64);
	memset((char *)buf + XSAVE_HDR_OFF + 64, 0, len - XSAVE_HDR_OFF - 64);
	if (f->xsave) {
		const UserX86XsaveEntry *x = f->xsave;

		xsave_put(buf, len, XF_YMM, x->ymmh_space, x->n_ymmh_space * 4, &bv);
		xsave_put(buf, len, XF_OPMASK, x->opmask_reg, x->n_opmask_reg * 8, &bv);
		xsave_put(buf, len, XF_ZMM_HI256, x->zmm_upper, x->n_zmm_upper * 8, &bv);
		xsave_put(buf, len, XF_HI16_ZMM, x->hi16_zmm, x->n_hi16_zmm * 8, &bv);
		xsave_put(buf, len, XF_PKRU, x->pkru, x->n_pkru * 4, &bv);
		bv &= x->xstate_bv | 0x3;
	}
	memcpy((char *)buf + XSAVE_HDR_OFF, &bv, sizeof(bv));
	iov.iov_base = buf;
	iov.iov_len = len;
	if (ptrace(PTRACE_SETREGSET, st->tid, (void *)NT_X86_XSTATE, &iov)) {
		pr_perror("can't set the FPU state of thread %d", st->tid);
		return -errno;
	}
	return 0;
}

static int set_thread_regs(struct rthread *th)
{
	const CoreEntry *c = th->core;
	struct user_regs_struct r;
	int ret;

	gpregs_from_image(c->thread_info->gpregs, &r);
	ret = set_fpu(th->st, c->thread_info->fpregs);
	if (!ret)
		ret = set_regs(th->st, &r);
	if (!ret && c->thread_core->has_blk_sigset)
		ret = set_sigmask(th->st, c->thread_core->blk_sigset);
	if (ret)
		pr_err("thread %d: can't set its registers: %s\n", th->vtid, strerror(-ret));
	return ret;
}

/*
 * A thread's seccomp state, while it is still root (installing a filter
 * takes CAP_SYS_ADMIN or no_new_privs): its filters oldest first, or
 * strict mode. criu seized it with PTRACE_O_SUSPEND_SECCOMP, so they don't
 * apply to the syscalls injected after them, only once it is released.
 */
static int restore_seccomp(struct rtree *t, struct rproc *p, struct rthread *th)
{
	const ThreadCoreEntry *tc = th->core->thread_core;
	uint32_t chain[64], n = 0, mode = tc->has_seccomp_mode ? tc->seccomp_mode : 0;
	struct seized_thread *st = th->st;
	int ret = 0;

	if (!mode)
		return 0;
	if (!st->seccomp_suspended) {
		pr_err("thread %d: its seccomp %s can't be restored: criu could not suspend seccomp while restoring "
		       "(PTRACE_O_SUSPEND_SECCOMP needs CAP_SYS_ADMIN)\n",
		       th->vtid, mode == 2 ? "filters" : "strict mode");
		return -EPERM;
	}
	if (mode == 1)
		return inject_call(st, "prctl(PR_SET_SECCOMP, strict)", __NR_prctl, PR_SET_SECCOMP, 1, 0, 0, 0, 0,
				   NULL);
	for (uint32_t i = tc->seccomp_filter;; i = t->seccomp->seccomp_filters[i]->prev) {
		if (n == ARRAY_SIZE(chain)) {
			pr_err("thread %d: more than %zu seccomp filters\n", th->vtid, ARRAY_SIZE(chain));
			return -EOPNOTSUPP;
		}
		chain[n++] = i;
		if (!t->seccomp->seccomp_filters[i]->has_prev)
			break;
	}
	while (!ret && n--) {
		const SeccompFilter *f = t->seccomp->seccomp_filters[chain[n]];
		size_t need = 16 + f->filter.len;
		struct {
			uint16_t len;
			uint16_t pad[3];
			uint64_t filter;
		} prog;
		uint64_t area = p->scratch;

		if (need > RSCRATCH_SIZE) {
			ret = inject_mmap(st, 0, need, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0,
					  &area);
			if (ret) {
				pr_err("thread %d: no room for a seccomp filter of %zu bytes: %s\n", th->vtid,
				       f->filter.len, inject_strerror(ret));
				return ret;
			}
		}
		memset(&prog, 0, sizeof(prog));
		prog.len = (uint16_t)(f->filter.len / 8);
		prog.filter = area + 16;
		ret = remote_write(st->pid, area, &prog, sizeof(prog));
		if (!ret)
			ret = remote_write(st->pid, area + 16, f->filter.data, f->filter.len);
		if (!ret) {
			long got = 0;

			ret = inject_call(st, "seccomp(SECCOMP_SET_MODE_FILTER)", __NR_seccomp, 1 /* SET_MODE_FILTER */,
					  f->has_flags ? f->flags : 0, (long)area, 0, 0, 0, &got);
			if (!ret && got) {
				pr_err("thread %d: seccomp(SECCOMP_SET_MODE_FILTER) gave %ld\n", th->vtid, got);
				ret = -EINVAL;
			}
		}
		if (area != p->scratch && inject_munmap(st, area, need) && !ret) {
			pr_err("thread %d: can't unmap the area of its seccomp filter\n", th->vtid);
			ret = -EIO;
		}
	}
	return ret;
}

int restore_finish(struct rtree *t, struct rproc *p)
{
	struct seized_thread *st = p->threads[0].st;
	int ret = 0;

	for (size_t i = 0; !ret && i < p->nr_threads; i++)
		ret = restore_seccomp(t, p, &p->threads[i]);
	/* credentials last: they may take away what the steps above needed */
	for (size_t i = 0; !ret && i < p->nr_threads; i++)
		ret = restore_creds(p, p->threads[i].st, p->threads[i].core->thread_core->creds);
	/*
	 * After the credentials: changing ids or capabilities resets the
	 * parent-death signal and the dumpable flag.
	 */
	for (size_t i = 0; !ret && i < p->nr_threads; i++) {
		const ThreadCoreEntry *tc = p->threads[i].core->thread_core;

		/* always: until now it was SIGKILL, for a restore criu might not finish */
		ret = inject_call(p->threads[i].st, "prctl(PR_SET_PDEATHSIG)", __NR_prctl, PR_SET_PDEATHSIG,
				  tc->has_pdeath_sig ? tc->pdeath_sig : 0, 0, 0, 0, 0, NULL);
	}
	/* criu's descriptors gone before it may be dumpable (ptrace, pidfd_getfd by others) */
	if (!ret)
		ret = inject_call(st, "close_range", __NR_close_range, t->fd_base, ~0U, 0, 0, 0, 0, NULL);
	if (!ret && p->mm && p->mm->has_dumpable)
		ret = inject_call(st, "prctl(PR_SET_DUMPABLE)", __NR_prctl, PR_SET_DUMPABLE, p->mm->dumpable, 0, 0, 0,
				  0, NULL);
	if (!ret && p->scratch)
		ret = inject_call(st, "munmap", __NR_munmap, (long)p->scratch, RSCRATCH_SIZE, 0, 0, 0, 0, NULL);
	p->scratch = 0;
	for (size_t i = 0; !ret && i < p->nr_threads; i++)
		ret = set_thread_regs(&p->threads[i]);
	return ret;
}

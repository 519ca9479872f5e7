/*
 * core-<tid>.img: each thread's registers, FPU state and thread state, and
 * in the leader's core the process-wide state (see task-dump.h). This file
 * runs the steps and builds the entries; what goes into them is read in
 * core-dump-read.c and asked in core-dump-query.c (see core-dump.h).
 *
 * What no kernel interface shows from outside (signal handlers, itimers,
 * the alternate signal stack, the clear_child_tid address, securebits...)
 * is asked by injecting one syscall at a time (ptrace/inject.c) that writes its
 * answer into a scratch page we map into the process for the purpose and
 * unmap afterwards. Everything else comes from /proc, ptrace and calls
 * that take a tid (get_robust_list, sched_getparam...).
 *
 * Pending signals are peeked before any injection, so the images hold the
 * queues as the tasks had them; registers are read after, as the tasks
 * will resume (ptrace/inject.c leaves a thread caught in an rseq critical section
 * at its abort handler, as the kernel would on resume).
 */
#define LOG_PREFIX "task-dump: "

#include <cpuid.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
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
#include <unistd.h>

#include "task/core-dump.h"
#include "task/userns.h"
#include "task/task-dump.h"
#include "task/xsave.h"
#include "cgroup/cgroup.h"
#include "util/log.h"
#include "util/util.h"

#define NR_SIGACTIONS	 (SIG_MAX - 2) /* all but SIGKILL and SIGSTOP */
#define CAP_WORDS	 2
#define FP_XSTATE_MAGIC1 0x46505853U /* fx_sw_bytes.magic1: the kernel says which components follow */

/* ------------------------------------------------------------------------
 * Building the entries
 */

void task_regs_for_image(struct user_regs_struct *r)
{
	/* A syscall our stop interrupted: record it as about to be made again. */
	if ((long long)r->orig_rax < 0)
		return;
	switch ((long long)r->rax) {
	case -KERNEL_ERESTARTSYS:
	case -KERNEL_ERESTARTNOINTR:
	case -KERNEL_ERESTARTNOHAND:
		r->rax = r->orig_rax;
		r->rip -= 2;
		break;
	case -KERNEL_ERESTART_RESTARTBLOCK:
		/* restart_syscall() needs kernel state we can't carry over. */
		r->rax = (unsigned long long)-EINTR;
		break;
	}
}

static void fill_gpregs(UserX86RegsEntry *g, const struct user_regs_struct *in)
{
	struct user_regs_struct r = *in;

	task_regs_for_image(&r);
	g->r15 = r.r15;
	g->r14 = r.r14;
	g->r13 = r.r13;
	g->r12 = r.r12;
	g->bp = r.rbp;
	g->bx = r.rbx;
	g->r11 = r.r11;
	g->r10 = r.r10;
	g->r9 = r.r9;
	g->r8 = r.r8;
	g->ax = r.rax;
	g->cx = r.rcx;
	g->dx = r.rdx;
	g->si = r.rsi;
	g->di = r.rdi;
	g->orig_ax = r.orig_rax;
	g->ip = r.rip;
	g->cs = r.cs;
	g->flags = r.eflags;
	g->sp = r.rsp;
	g->ss = r.ss;
	g->fs_base = r.fs_base;
	g->gs_base = r.gs_base;
	g->ds = r.ds;
	g->es = r.es;
	g->fs = r.fs;
	g->gs = r.gs;
	g->has_mode = true;
	g->mode = USER_X86_REGS_MODE__NATIVE;
}

/* Everything a core entry points to, in one allocation. */
struct core_msg {
	CoreEntry core;
	ThreadInfoX86 ti;
	UserX86RegsEntry gp;
	UserX86FpregsEntry fp;
	UserX86XsaveEntry xs;
	uint32_t st_space[32], xmm_space[64], ymmh[64], pkru[2];
	uint64_t opmask[8], zmm_upper[64], hi16_zmm[128];
	UserDescT tls[TLS_ENTRIES], *tlsp[TLS_ENTRIES];
	ThreadCoreEntry thc;
	ThreadSasEntry sas;
	CredsEntry creds;
	uint32_t caps[5][CAP_WORDS]; /* inh, prm, eff, bnd, amb */
	RseqEntry rseq;
	SignalQueueEntry sigq_p, sigq_s;
	SiginfoEntry *si_p, *si_s, **si_pp, **si_sp;
	TaskCoreEntry tc;
	TaskKobjIdsEntry ids;
	TaskTimersEntry timers;
	ItimerEntry it[3];
	PosixTimerEntry *pt, **ptp;
	TaskRlimitsEntry rl;
	RlimitEntry rle[PROC_LIMITS_NR], *rlp[PROC_LIMITS_NR];
	SaEntry sa[NR_SIGACTIONS], *sap[NR_SIGACTIONS];
	uint32_t *groups; /* the groups in the tree's user namespace, if not criu's */
};

static void core_msg_free(struct core_msg *m)
{
	if (!m)
		return;
	free(m->pt);
	free(m->ptp);
	free(m->si_p);
	free(m->si_s);
	free(m->si_pp);
	free(m->si_sp);
	free(m->groups);
	free(m);
}

static uint64_t xgetbv0(void)
{
	unsigned int a, b, c, d, lo, hi;

	if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_OSXSAVE))
		return 0x3; /* x87 and SSE */
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return (uint64_t)hi << 32 | lo;
}

/* Copies `n` elements of XSAVE component `feature` if the task has it. */
static size_t xsave_copy(const struct thread_state *ts, uint64_t features, enum xsave_feature feature, void *dst,
			 size_t elem, size_t n)
{
	size_t size, off;

	if (!(features & (1ULL << feature)))
		return 0;
	if (!xsave_component(feature, &off, &size) || off + elem * n > ts->xsave_len || elem * n > size)
		return 0;
	memcpy(dst, (const char *)ts->xsave + off, elem * n);
	return n;
}

static void fill_fpregs(struct core_msg *m, const struct thread_state *ts)
{
	const struct user_fpregs_struct *fx = ts->xsave ? ts->xsave : &ts->fp;
	UserX86FpregsEntry *f = &m->fp;
	UserX86XsaveEntry *x = &m->xs;
	uint64_t features = 0;
	uint32_t magic1;

	f->cwd = fx->cwd;
	f->swd = fx->swd;
	f->twd = fx->ftw;
	f->fop = fx->fop;
	f->rip = fx->rip;
	f->rdp = fx->rdp;
	f->mxcsr = fx->mxcsr;
	f->mxcsr_mask = fx->mxcr_mask;
	memcpy(m->st_space, fx->st_space, sizeof(m->st_space));
	memcpy(m->xmm_space, fx->xmm_space, sizeof(m->xmm_space));
	f->n_st_space = ARRAY_SIZE(m->st_space);
	f->st_space = m->st_space;
	f->n_xmm_space = ARRAY_SIZE(m->xmm_space);
	f->xmm_space = m->xmm_space;
	if (!ts->xsave || ts->xsave_len < XSAVE_HDR_OFF + 64)
		return;
	/* The kernel's fx_sw_bytes (in the legacy area's software-reserved
	 * bytes) say which components the task's state holds. */
	memcpy(&magic1, (const char *)ts->xsave + 464, sizeof(magic1));
	if (magic1 == FP_XSTATE_MAGIC1)
		memcpy(&features, (const char *)ts->xsave + 472, sizeof(features));
	else
		features = xgetbv0();
	memcpy(&x->xstate_bv, (const char *)ts->xsave + XSAVE_HDR_OFF, sizeof(x->xstate_bv));
	x->n_ymmh_space = xsave_copy(ts, features, XF_YMM, m->ymmh, 4, 64);
	x->ymmh_space = m->ymmh;
	x->n_opmask_reg = xsave_copy(ts, features, XF_OPMASK, m->opmask, 8, 8);
	x->opmask_reg = m->opmask;
	x->n_zmm_upper = xsave_copy(ts, features, XF_ZMM_HI256, m->zmm_upper, 8, 64);
	x->zmm_upper = m->zmm_upper;
	x->n_hi16_zmm = xsave_copy(ts, features, XF_HI16_ZMM, m->hi16_zmm, 8, 128);
	x->hi16_zmm = m->hi16_zmm;
	x->n_pkru = xsave_copy(ts, features, XF_PKRU, m->pkru, 4, 2);
	x->pkru = m->pkru;
	f->xsave = x;
}

static void fill_tls(struct core_msg *m, const struct thread_state *ts)
{
	if (!ts->has_tls)
		return;
	for (int i = 0; i < TLS_ENTRIES; i++) {
		const struct user_desc *u = &ts->tls[i];
		UserDescT *d = &m->tls[i];

		user_desc_t__init(d);
		d->entry_number = u->entry_number;
		d->base_addr = u->base_addr;
		d->limit = u->limit;
		d->seg_32bit = u->seg_32bit;
		d->contents_h = (u->contents & 2) != 0;
		d->contents_l = (u->contents & 1) != 0;
		d->read_exec_only = u->read_exec_only;
		d->limit_in_pages = u->limit_in_pages;
		d->seg_not_present = u->seg_not_present;
		d->usable = u->useable;
		m->tlsp[i] = d;
	}
	m->ti.n_tls = TLS_ENTRIES;
	m->ti.tls = m->tlsp;
}

static void fill_sigqueue(SignalQueueEntry *q, const siginfo_t *v, size_t n, SiginfoEntry **arr, SiginfoEntry ***ptrs)
{
	*arr = xzalloc((n ? n : 1) * sizeof(**arr));
	*ptrs = xzalloc((n ? n : 1) * sizeof(**ptrs));
	for (size_t i = 0; i < n; i++) {
		siginfo_entry__init(&(*arr)[i]);
		(*arr)[i].siginfo.len = sizeof(siginfo_t);
		(*arr)[i].siginfo.data = (uint8_t *)&v[i];
		(*ptrs)[i] = &(*arr)[i];
	}
	q->n_signals = n;
	q->signals = *ptrs;
}

static void fill_creds(struct core_msg *m, const struct thread_state *ts)
{
	const struct proc_status *s = &ts->status;
	CredsEntry *c = &m->creds;
	const uint64_t caps[5] = {s->cap_inh, s->cap_prm, s->cap_eff, s->cap_bnd, s->cap_amb};
	uint32_t **fields[5] = {&c->cap_inh, &c->cap_prm, &c->cap_eff, &c->cap_bnd, &c->cap_amb};
	size_t *counts[5] = {&c->n_cap_inh, &c->n_cap_prm, &c->n_cap_eff, &c->n_cap_bnd, &c->n_cap_amb};

	c->uid = s->uid[0];
	c->euid = s->uid[1];
	c->suid = s->uid[2];
	c->fsuid = s->uid[3];
	c->gid = s->gid[0];
	c->egid = s->gid[1];
	c->sgid = s->gid[2];
	c->fsgid = s->gid[3];
	for (int k = 0; k < 5; k++) {
		if (k == 4 && !caps[k])
			break; /* no ambient set: as images without the field say */
		m->caps[k][0] = (uint32_t)caps[k];
		m->caps[k][1] = (uint32_t)(caps[k] >> 32);
		*fields[k] = m->caps[k];
		*counts[k] = CAP_WORDS;
	}
	c->secbits = ts->secbits;
	c->has_no_new_privs = s->no_new_privs;
	c->no_new_privs = s->no_new_privs;
	c->n_groups = s->groups.nr;
	c->groups = s->groups.ids;
}

/*
 * Ids as the tree's user namespace sees them (task/userns.h), when it has
 * one: /proc showed criu's. A thread's ids are mapped in its namespace
 * unless it came in by setns with ids of the outside, which restore
 * could not give it back.
 */
static int creds_in_userns(struct core_msg *m, pid_t tid)
{
	CredsEntry *c = &m->creds;
	uint32_t *uids[4] = {&c->uid, &c->euid, &c->suid, &c->fsuid};
	uint32_t *gids[4] = {&c->gid, &c->egid, &c->sgid, &c->fsgid};
	uint32_t host = 0;
	int ret = 0;

	if (!userns_tree())
		return 0;
	for (int k = 0; !ret && k < 4; k++) {
		host = *uids[k];
		ret = userns_uid_strict(host, uids[k]);
	}
	for (int k = 0; !ret && k < 4; k++) {
		host = *gids[k];
		ret = userns_gid_strict(host, gids[k]);
	}
	/* a supplementary group the namespace doesn't map (one from outside)
	 * would be written as the overflow gid, a real group inside: refused */
	m->groups = xzalloc((c->n_groups ? c->n_groups : 1) * sizeof(*m->groups));
	for (size_t i = 0; !ret && i < c->n_groups; i++) {
		host = c->groups[i];
		ret = userns_gid_strict(host, &m->groups[i]);
	}
	c->groups = m->groups;
	if (ret) {
		pr_err("thread %d has id %u, which its user namespace doesn't map (it entered the namespace with "
		       "setns): restore can't give it back\n",
		       tid, host);
		return -EOPNOTSUPP;
	}
	return 0;
}

static void fill_thread_core(struct core_msg *m, const struct thread_state *ts)
{
	ThreadCoreEntry *tc = &m->thc;
	int policy = ts->sched_policy & ~SCHED_RESET_ON_FORK;
	bool rt = policy == SCHED_FIFO || policy == SCHED_RR;

	tc->futex_rla = ts->robust_head;
	tc->futex_rla_len = (uint32_t)ts->robust_len;
	tc->has_sched_policy = true;
	tc->sched_policy = (uint32_t)ts->sched_policy;
	tc->has_sched_prio = rt;
	tc->sched_prio = (uint32_t)ts->sched_prio;
	tc->has_sched_nice = true; /* a real-time thread's too: it keeps one */
	tc->sched_nice = ts->nice;
	tc->has_blk_sigset = true;
	tc->blk_sigset = ts->sigmask;
	tc->has_pdeath_sig = true;
	tc->pdeath_sig = (uint32_t)ts->pdeath_sig;
	m->sas.ss_sp = (uint64_t)(uintptr_t)ts->sas.ss_sp;
	m->sas.ss_size = ts->sas.ss_size;
	m->sas.ss_flags = (uint32_t)ts->sas.ss_flags;
	tc->sas = &m->sas;
	fill_sigqueue(&m->sigq_p, ts->pending, ts->nr_pending, &m->si_p, &m->si_pp);
	tc->signals_p = &m->sigq_p;
	fill_creds(m, ts);
	tc->creds = &m->creds;
	if (ts->status.seccomp) {
		tc->has_seccomp_mode = true;
		tc->seccomp_mode = (SeccompMode)ts->status.seccomp;
		tc->has_seccomp_filter = ts->status.seccomp == 2 /* SECCOMP_MODE_FILTER */;
		tc->seccomp_filter = ts->seccomp_filter;
	}
	tc->comm = ts->status.name;
	if (ts->rseq.rseq_abi_pointer) {
		m->rseq.rseq_abi_pointer = ts->rseq.rseq_abi_pointer;
		m->rseq.rseq_abi_size = ts->rseq.rseq_abi_size;
		m->rseq.signature = ts->rseq.signature;
		m->rseq.has_rseq_cs_pointer = ts->rseq_cs != 0;
		m->rseq.rseq_cs_pointer = ts->rseq_cs;
		tc->rseq_entry = &m->rseq;
	}
}

static void fill_itimers(struct core_msg *m, const struct process_state *ps)
{
	for (int i = 0; i < 3; i++) {
		itimer_entry__init(&m->it[i]);
		m->it[i].isec = (uint64_t)ps->itimers[i].it_interval.tv_sec;
		m->it[i].iusec = (uint64_t)ps->itimers[i].it_interval.tv_usec;
		m->it[i].vsec = (uint64_t)ps->itimers[i].it_value.tv_sec;
		m->it[i].vusec = (uint64_t)ps->itimers[i].it_value.tv_usec;
	}
	m->timers.real = &m->it[ITIMER_REAL];
	m->timers.virt = &m->it[ITIMER_VIRTUAL];
	m->timers.prof = &m->it[ITIMER_PROF];
}

static void fill_posix_timers(struct core_msg *m, const struct process_state *ps)
{
	if (!ps->ptimers.nr)
		return;
	m->pt = xzalloc(ps->ptimers.nr * sizeof(*m->pt));
	m->ptp = xzalloc(ps->ptimers.nr * sizeof(*m->ptp));
	for (size_t i = 0; i < ps->ptimers.nr; i++) {
		const struct proc_timer *t = &ps->ptimers.t[i];
		PosixTimerEntry *e = &m->pt[i];

		posix_timer_entry__init(e);
		e->it_id = (uint32_t)t->id;
		e->clock_id = (uint32_t)t->clock;
		e->si_signo = (uint32_t)t->signo;
		e->it_sigev_notify = (uint32_t)t->notify;
		e->sival_ptr = t->sival;
		e->overrun = (uint32_t)ps->ptimer_overrun[i];
		e->isec = (uint64_t)ps->ptimer_val[i].it_interval.tv_sec;
		e->insec = (uint64_t)ps->ptimer_val[i].it_interval.tv_nsec;
		e->vsec = (uint64_t)ps->ptimer_val[i].it_value.tv_sec;
		e->vnsec = (uint64_t)ps->ptimer_val[i].it_value.tv_nsec;
		if (t->notify & 4 /* SIGEV_THREAD_ID */) {
			e->has_notify_thread_id = true;
			e->notify_thread_id = ps->ptimer_vtid[i];
		}
		m->ptp[i] = e;
	}
	m->timers.n_posix = ps->ptimers.nr;
	m->timers.posix = m->ptp;
}

static void fill_rlimits(struct core_msg *m, const struct process_state *ps)
{
	for (int i = 0; i < PROC_LIMITS_NR; i++) {
		rlimit_entry__init(&m->rle[i]);
		m->rle[i].cur = ps->limits.lim[i].cur;
		m->rle[i].max = ps->limits.lim[i].max;
		m->rlp[i] = &m->rle[i];
	}
	m->rl.n_rlimits = PROC_LIMITS_NR;
	m->rl.rlimits = m->rlp;
}

static void fill_sigactions(struct core_msg *m, const struct process_state *ps)
{
	size_t n = 0;

	for (int sig = 1; sig <= SIG_MAX; sig++) {
		SaEntry *sa = &m->sa[n];

		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		sa_entry__init(sa);
		sa->sigaction = ps->sa[sig].handler;
		sa->flags = ps->sa[sig].flags;
		sa->restorer = ps->sa[sig].restorer;
		sa->mask = ps->sa[sig].mask;
		sa->has_compat_sigaction = true;
		sa->compat_sigaction = false;
		m->sap[n++] = sa;
	}
	m->tc.n_sigactions = n;
	m->tc.sigactions = m->sap;
}

static void fill_task_core(struct core_msg *m, const struct td_proc *p, const struct process_state *ps)
{
	TaskCoreEntry *tc = &m->tc;

	tc->task_state = p->threads[0]->was_stopped ? TASK_STATE_STOPPED : TASK_STATE_ALIVE;
	/* which signal stopped it: a shell's SIGTSTP is not SIGSTOP to its parent's waitid */
	tc->has_stop_signo = p->threads[0]->was_stopped;
	tc->stop_signo = (uint32_t)p->threads[0]->stop_signo;
	tc->exit_code = 0;
	tc->personality = ps->personality;
	tc->flags = p->stat.flags;
	tc->blk_sigset = m->thc.blk_sigset;
	tc->comm = p->status.name;
	fill_itimers(m, ps);
	fill_posix_timers(m, ps);
	tc->timers = &m->timers;
	fill_rlimits(m, ps);
	tc->rlimits = &m->rl;
	fill_sigqueue(&m->sigq_s, ps->shared, ps->nr_shared, &m->si_s, &m->si_sp);
	tc->signals_s = &m->sigq_s;
	tc->has_loginuid = ps->has_loginuid;
	tc->loginuid = userns_uid(ps->loginuid);
	tc->has_oom_score_adj = true;
	tc->oom_score_adj = ps->oom_score_adj;
	fill_sigactions(m, ps);
	tc->has_child_subreaper = true;
	tc->child_subreaper = p->misc.child_subreaper != 0;
	tc->has_membarrier_registration_mask = ps->membarrier_mask != 0;
	tc->membarrier_registration_mask = ps->membarrier_mask;
}

static struct core_msg *core_msg_new(void)
{
	struct core_msg *m = xzalloc(sizeof(*m));

	core_entry__init(&m->core);
	thread_info_x86__init(&m->ti);
	user_x86_regs_entry__init(&m->gp);
	user_x86_fpregs_entry__init(&m->fp);
	user_x86_xsave_entry__init(&m->xs);
	thread_core_entry__init(&m->thc);
	thread_sas_entry__init(&m->sas);
	creds_entry__init(&m->creds);
	rseq_entry__init(&m->rseq);
	signal_queue_entry__init(&m->sigq_p);
	signal_queue_entry__init(&m->sigq_s);
	task_core_entry__init(&m->tc);
	task_kobj_ids_entry__init(&m->ids);
	task_timers_entry__init(&m->timers);
	task_rlimits_entry__init(&m->rl);
	m->core.mtype = CORE_ENTRY__MARCH__X86_64;
	return m;
}

static int write_core(struct td_ctx *c, struct td_proc *p, struct process_state *ps, struct thread_state *ts,
		      bool leader)
{
	struct core_msg *m = core_msg_new();
	struct img_writer *w;
	int ret;

	fill_gpregs(&m->gp, &ts->regs);
	fill_fpregs(m, ts);
	fill_tls(m, ts);
	m->ti.clear_tid_addr = ts->tid_addr;
	m->ti.gpregs = &m->gp;
	m->ti.fpregs = &m->fp;
	m->core.thread_info = &m->ti;
	fill_thread_core(m, ts);
	m->core.thread_core = &m->thc;
	if (creds_in_userns(m, ts->t->tid)) {
		core_msg_free(m);
		return -EOPNOTSUPP;
	}
	m->thc.has_cg_set = c->d->cg != NULL;
	if (c->d->cg && cg_dump_thread(c->d->cg, p->pid, ts->t->tid, &m->thc.cg_set)) {
		core_msg_free(m);
		return -EINVAL;
	}
	if (leader) {
		fill_task_core(m, p, ps);
		m->core.tc = &m->tc;
		td_fill_ids(p, &m->ids);
		m->core.ids = &m->ids;
	}
	w = img_set_new(&c->d->imgs, IMG_CORE, (unsigned)ts->vtid);
	ret = w ? img_write_entry(w, &m->core.base) : -EIO;
	core_msg_free(m);
	return ret;
}

/* ------------------------------------------------------------------------
 * Entry points
 */

int td_dump_cores(struct td_ctx *c, struct td_proc *p)
{
	struct process_state *ps = xzalloc(sizeof(*ps));
	struct thread_state *ts = xzalloc(p->nr_threads * sizeof(*ts));
	int ret = 0;

	for (size_t i = 0; !ret && i < p->nr_threads; i++) {
		ts[i].t = p->threads[i];
		ts[i].vtid = p->vtids[i];
		ret = core_read_thread_early(p, &ts[i]);
	}
	if (!ret)
		ret = core_read_process(p, ps);
	if (!ret)
		ret = core_run_queries(p, ps, ts, c->opts.assume_no_global_membarrier);
	for (size_t i = 0; !ret && i < p->nr_threads; i++)
		ret = core_read_thread_late(&ts[i]);
	for (size_t i = 0; !ret && i < p->nr_threads; i++)
		if (ts[i].status.seccomp == 2 /* SECCOMP_MODE_FILTER */)
			ret = td_seccomp_thread(c, ts[i].t->tid, &ts[i].seccomp_filter);
	for (size_t i = 0; !ret && i < p->nr_threads; i++)
		ret = write_core(c, p, ps, &ts[i], i == 0);
	for (size_t i = 0; i < p->nr_threads; i++) {
		free(ts[i].xsave);
		free(ts[i].pending);
		proc_status_free(&ts[i].status);
	}
	free(ts);
	free(ps->shared);
	proc_timers_free(&ps->ptimers);
	free(ps->ptimer_val);
	free(ps->ptimer_overrun);
	free(ps->ptimer_vtid);
	free(ps);
	return ret;
}

int td_dump_zombie_core(struct td_ctx *c, struct td_proc *p)
{
	struct core_msg *m = core_msg_new();
	struct img_writer *w;
	int ret;

	m->tc.task_state = TASK_STATE_DEAD;
	m->tc.exit_code = (uint32_t)p->stat.exit_code;
	m->tc.blk_sigset = p->status.sig_blocked;
	m->tc.comm = p->status.name;
	m->core.tc = &m->tc;
	w = img_set_new(&c->d->imgs, IMG_CORE, (unsigned)p->vpid);
	ret = w ? img_write_entry(w, &m->core.base) : -EIO;
	core_msg_free(m);
	return ret;
}

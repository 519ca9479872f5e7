/*
 * Restore, parse step: the process images of a dump -> struct rtree.
 *
 * Everything a later step relies on is checked here, before any task or
 * namespace exists: pids unique and in range, parents before children and
 * inside the tree, every thread's core present and of this architecture,
 * every descriptor naming a file of files.img, fd numbers in range. The
 * files themselves are the file table's (files/files-restore.c), each
 * checked by its kind. An image that fails a check is rejected with the
 * file and what is wrong.
 */
#define LOG_PREFIX "restore: "

#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "files/files-restore.h"
#include "image/image.h"
#include "image/vma-status.h"
#include "net/netns.h"
#include "options.h"
#include "image/kobj-ids.h"
#include "mem/cow-restore.h"
#include "mem/pagemap-image.h"
#include "task/rtree.h"
#include "util/log.h"
#include "util/util.h"
#include "utsns.pb-c.h"
#include "timens.pb-c.h"

#define MAX_PID		   (4 << 20) /* PID_MAX_LIMIT */
#define MAX_FD		   (1 << 20) /* fs.nr_open's default */
#define TASK_STATE_ALIVE   0x01
#define TASK_STATE_DEAD	   0x02
#define TASK_STATE_STOPPED 0x03

/* ------------------------------------------------------------------------
 * Processes
 */

static const char *path_file(struct rtree *t, uint32_t id, const char *img, const char *what)
{
	struct rfile *f = rtree_file(t, id);

	if (!f || f->fe->type != FD_TYPES__REG) {
		pr_err("%s: %s is file %u, which files.img does not describe\n", img, what, id);
		return NULL;
	}
	return f->fe->reg->name;
}

/* MEMBARRIER_CMD_REGISTER_{GLOBAL_EXPEDITED,PRIVATE_EXPEDITED{,_SYNC_CORE,_RSEQ}} */
#define MEMBARRIER_REGISTRATIONS ((1U << 2) | (1U << 4) | (1U << 6) | (1U << 8))

/*
 * Task state of upstream 4.x images: a CET shadow stack, which criu can't
 * put back (the tree would come back without it). The stop signal of a
 * stopped task is used (rproc.stop_signo), membarrier registrations are
 * made again (core-restore.c): only the commands that register. And a
 * scheduling policy restore can set (SCHED_DEADLINE's parameters have no
 * place in images).
 */
static int check_core_4x(const CoreEntry *c, const char *name)
{
	const UserX86XsaveEntry *x = c->thread_info->fpregs->xsave;

	if (c->tc && c->tc->has_membarrier_registration_mask &&
	    (c->tc->membarrier_registration_mask & ~MEMBARRIER_REGISTRATIONS)) {
		pr_err("%s: membarrier_registration_mask %#x holds commands that are not registrations\n", name,
		       c->tc->membarrier_registration_mask);
		return -EINVAL;
	}
	if (x && x->cet && (x->cet->cet || x->cet->ssp)) {
		pr_err("%s: the thread has a CET shadow stack (U_CET %#llx), which criu can't restore yet\n", name,
		       (unsigned long long)x->cet->cet);
		return -EOPNOTSUPP;
	}
	/* SCHED_OTHER, FIFO, RR, BATCH, IDLE, with SCHED_RESET_ON_FORK (0x40000000): what sched_setscheduler takes */
	if (c->thread_core && c->thread_core->has_sched_policy &&
	    ((c->thread_core->sched_policy & ~0x40000000U) > 5 || (c->thread_core->sched_policy & ~0x40000000U) == 4)) {
		pr_err("%s: scheduling policy %#x, which criu can't restore\n", name, c->thread_core->sched_policy);
		return -EOPNOTSUPP;
	}
	if (c->tc && c->tc->has_stop_signo && c->tc->task_state == TASK_STATE_STOPPED &&
	    c->tc->stop_signo != SIGSTOP && c->tc->stop_signo != SIGTSTP && c->tc->stop_signo != SIGTTIN &&
	    c->tc->stop_signo != SIGTTOU) {
		pr_err("%s: stop_signo %u is not a stop signal\n", name, c->tc->stop_signo);
		return -EINVAL;
	}
	return 0;
}

static int check_core(const CoreEntry *c, const char *name, bool leader)
{
	if (c->mtype != CORE_ENTRY__MARCH__X86_64) {
		pr_err("%s: architecture %d; only x86_64 images can be restored\n", name, c->mtype);
		return -EINVAL;
	}
	if (leader && !c->tc) {
		pr_err("%s: the task's core is missing\n", name);
		return -EINVAL;
	}
	if (c->tc && c->tc->task_state == TASK_STATE_DEAD)
		return 0;
	if (!c->thread_info || !c->thread_info->gpregs || !c->thread_info->fpregs || !c->thread_core) {
		pr_err("%s: registers or thread state missing\n", name);
		return -EINVAL;
	}
	if (c->thread_info->gpregs->has_mode && c->thread_info->gpregs->mode != USER_X86_REGS_MODE__NATIVE) {
		pr_err("%s: a 32-bit task; not supported\n", name);
		return -EOPNOTSUPP;
	}
	/* a thread without its credentials would keep criu's, all of them */
	{
		const CredsEntry *cr = c->thread_core->creds;

		if (!cr || cr->n_cap_inh != 2 || cr->n_cap_prm != 2 || cr->n_cap_eff != 2 || cr->n_cap_bnd != 2 ||
		    (cr->n_cap_amb != 0 && cr->n_cap_amb != 2) || cr->n_groups > 65536 ||
		    (cr->has_no_new_privs && cr->no_new_privs > 1)) {
			pr_err("%s: credentials missing or malformed (each capability set must be 2 words, the ambient "
			       "one 0 or 2; no_new_privs 0 or 1)\n",
			       name);
			return -EINVAL;
		}
		if (cr->n_cap_amb) {
			uint64_t amb = (uint64_t)cr->cap_amb[1] << 32 | cr->cap_amb[0];
			uint64_t prm = (uint64_t)cr->cap_prm[1] << 32 | cr->cap_prm[0];
			uint64_t inh = (uint64_t)cr->cap_inh[1] << 32 | cr->cap_inh[0];

			if (amb & ~(prm & inh)) {
				pr_err("%s: ambient capabilities %#llx outside the permitted and inheritable sets: no "
				       "thread can have them\n",
				       name, (unsigned long long)amb);
				return -EINVAL;
			}
		}
	}
	return check_core_4x(c, name);
}

/*
 * The POSIX timers of a process (its leader's core): each id once, a
 * sigevent timer_create takes (a real signal unless SIGEV_NONE, a thread
 * of the process for SIGEV_THREAD_ID), times in range.
 */
static bool ptimer_ok(const PosixTimerEntry *e, const PstreeEntry *pe)
{
	uint32_t how = e->it_sigev_notify & ~4U; /* without SIGEV_THREAD_ID */
	bool tid_ok = false;

	if (e->it_id > INT32_MAX || (e->it_sigev_notify & ~7U) || how > 2 || e->insec >= 1000000000 ||
	    e->vnsec >= 1000000000 || e->isec > INT64_MAX || e->vsec > INT64_MAX)
		return false;
	if (how != 1 /* SIGEV_NONE */ && (e->si_signo < 1 || e->si_signo > 64))
		return false;
	if (!(e->it_sigev_notify & 4))
		return true;
	if (how != 0 || !e->has_notify_thread_id) /* SIGEV_THREAD_ID goes with SIGEV_SIGNAL only */
		return false;
	for (size_t k = 0; k < pe->n_threads; k++)
		tid_ok |= (int32_t)pe->threads[k] == e->notify_thread_id;
	return tid_ok;
}

static int check_ptimers(const CoreEntry *c, const char *name, const PstreeEntry *pe)
{
	const TaskTimersEntry *tm = c->tc && c->tc->timers ? c->tc->timers : NULL;
	struct hmap ids;
	int bad = 0;

	if (!tm || !tm->n_posix)
		return 0;
	if (tm->n_posix > 65536) {
		pr_err("%s: %zu POSIX timers\n", name, tm->n_posix);
		return -EINVAL;
	}
	hmap_init(&ids);
	for (size_t i = 0; !bad && i < tm->n_posix; i++) {
		const PosixTimerEntry *e = tm->posix[i];

		if (!ptimer_ok(e, pe)) {
			pr_err("%s: POSIX timer %zu (id %u) is malformed (notify %u, signal %u, thread %d)\n", name, i,
			       e->it_id, e->it_sigev_notify, e->si_signo, e->notify_thread_id);
			bad = 1;
		} else if (hmap_get_int(&ids, e->it_id)) {
			pr_err("%s: POSIX timer id %u appears twice\n", name, e->it_id);
			bad = 1;
		} else {
			hmap_put_int(&ids, e->it_id, (void *)1);
		}
	}
	hmap_free(&ids);
	return bad ? -EINVAL : 0;
}

static int read_threads(struct rtree *t, struct rproc *p)
{
	char name[64];
	int ret;

	p->nr_threads = p->pe->n_threads;
	p->threads = xzalloc(p->nr_threads * sizeof(*p->threads));
	for (size_t i = 0; i < p->nr_threads; i++) {
		ProtobufCMessage *m;

		p->threads[i].vtid = (pid_t)p->pe->threads[i];
		rtree_image_name(IMG_CORE, (unsigned)p->threads[i].vtid, name, sizeof(name));
		ret = rtree_read_one(t, IMG_CORE, (unsigned)p->threads[i].vtid, &m);
		if (!ret)
			ret = check_core((CoreEntry *)m, name, i == 0);
		if (ret)
			return ret;
		p->threads[i].core = (CoreEntry *)m;
	}
	p->core = p->threads[0].core;
	rtree_image_name(IMG_CORE, (unsigned)p->vpid, name, sizeof(name));
	ret = check_ptimers(p->core, name, p->pe);
	if (ret)
		return ret;
	p->zombie = p->core->tc->task_state == TASK_STATE_DEAD;
	p->stopped = p->core->tc->task_state == TASK_STATE_STOPPED;
	/*
	 * Stopped again with the signal that stopped it (a shell's SIGTSTP).
	 * Pid 1 of a pid namespace takes only SIGSTOP from outside it; no other
	 * signal can have stopped it either.
	 */
	p->stop_signo = p->core->tc->has_stop_signo && p->vpid != 1 ? (int)p->core->tc->stop_signo : SIGSTOP;
	if (p->core->tc->task_state != TASK_STATE_ALIVE && !p->zombie && !p->stopped) {
		pr_err("process %d: task_state %u in its core; only alive, stopped and dead (zombie) tasks can be "
		       "restored\n",
		       p->vpid, p->core->tc->task_state);
		return -EINVAL;
	}
	return 0;
}

static int read_pagemap(struct rtree *t, struct rproc *p)
{
	_cleanup_free_ ProtobufCMessage **v = NULL;
	char name[64];
	size_t n;
	int ret = rtree_read_image(t, IMG_PAGEMAP, (unsigned)p->vpid, true, &v, &n);

	if (ret)
		return ret;
	if (!n) {
		pr_err("pagemap-%d.img has no head\n", p->vpid);
		return -EINVAL;
	}
	snprintf(name, sizeof(name), "pagemap-%d.img", p->vpid);
	p->pages_id = ((PagemapHead *)v[0])->pages_id;
	p->nr_pagemap = n - 1;
	p->pagemap = xzalloc(n * sizeof(*p->pagemap));
	for (size_t i = 1, prev_end = 0; i < n; i++) {
		PagemapEntry *pe = (PagemapEntry *)v[i];

		/* in address order, none overlapping: mem/page-restore.c walks them so */
		ret = pagemap_entry_check(name, pe, prev_end);
		if (ret)
			return ret;
		prev_end = pe->vaddr + pe->nr_pages * 4096;
		p->pagemap[i - 1] = pe;
	}
	return 0;
}

static int check_mm(const struct rproc *p)
{
	uint64_t prev_end = 0;

	for (size_t i = 0; i < p->mm->n_vmas; i++) {
		const VmaEntry *v = p->mm->vmas[i];

		if (v->start >= v->end || (v->start & 4095) || (v->end & 4095) || v->start < prev_end) {
			pr_err("mm-%d.img: area %zu [%#llx, %#llx) is malformed or out of order\n", p->vpid, i,
			       (unsigned long long)v->start, (unsigned long long)v->end);
			return -EINVAL;
		}
		prev_end = v->end;
	}
	return 0;
}

/*
 * Attached System V segments: each area group a whole attachment, from
 * offset 0 on, of a segment ipcns-shm-1.img has (restore attaches it whole
 * at the first area's address).
 */
static int check_sysv_areas(const struct rtree *t, const struct rproc *p)
{
	for (size_t i = 0; p->mm && i < p->mm->n_vmas; i++) {
		const VmaEntry *v = p->mm->vmas[i];
		const IpcShmEntry *seg;
		uint64_t have = 0, want;
		size_t j;

		if (!(v->status & VMA_AREA_SYSVIPC) || !(v->status & VMA_AREA_REGULAR))
			continue;
		seg = sysv_shm(&t->sysv, v->shmid);
		if (!seg || v->pgoff) {
			pr_err("mm-%d.img: area %#llx attaches System V shared memory segment %llu at offset %llu, "
			       "%s\n",
			       p->vpid, (unsigned long long)v->start, (unsigned long long)v->shmid,
			       (unsigned long long)v->pgoff,
			       seg ? "not at its start" : "which ipcns-shm-1.img doesn't have");
			return -EINVAL;
		}
		want = (seg->size + 4095) & ~4095ULL;
		for (j = i; j < p->mm->n_vmas && have < want; j++) {
			const VmaEntry *w = p->mm->vmas[j];

			if (!(w->status & VMA_AREA_SYSVIPC) || w->shmid != v->shmid || w->pgoff != have ||
			    (j > i && w->start != p->mm->vmas[j - 1]->end))
				break;
			have += w->end - w->start;
		}
		if (have != want) {
			pr_err("mm-%d.img: areas from %#llx attach %llu bytes of System V shared memory segment %llu, "
			       "which has %llu\n",
			       p->vpid, (unsigned long long)v->start, (unsigned long long)have,
			       (unsigned long long)v->shmid, (unsigned long long)want);
			return -EINVAL;
		}
		i = j - 1;
	}
	return 0;
}

/*
 * Each pages image is read by one process or one shared memory object:
 * two naming the same would get each other's pages (and with
 * --auto-dedup the second would read the holes the first left).
 */
static int check_pages_ids(const struct rtree *t)
{
	struct hmap seen;
	int ret = 0;

	hmap_init(&seen);
	for (size_t i = 0; !ret && i < t->nr + t->nr_shmems; i++) {
		bool proc = i < t->nr;
		uint32_t id = proc ? t->procs[i].pages_id : t->shmems[i - t->nr].pages_id;

		if (proc && !t->procs[i].nr_pagemap)
			continue;
		if (hmap_get_int(&seen, id)) {
			pr_err("pages-%u.img is named by two pagemaps (%s %llu): each must have its own\n", id,
			       proc ? "process" : "shared memory",
			       proc ? (unsigned long long)t->procs[i].vpid
				    : (unsigned long long)t->shmems[i - t->nr].shmid);
			ret = -EINVAL;
		}
		hmap_put_int(&seen, id, (void *)1);
	}
	hmap_free(&seen);
	return ret;
}

static int read_fds(struct rtree *t, struct rproc *p, int *max_fd)
{
	ProtobufCMessage **v = NULL;
	int ret;

	ret = rtree_read_image(t, IMG_FDINFO, p->ids->files_id, false, &v, &p->nr_fds);
	if (ret == -ENOENT)
		return 0;
	if (ret)
		return ret;
	p->fds = (FdinfoEntry **)v;
	for (size_t i = 0; i < p->nr_fds; i++) {
		FdinfoEntry *fd = p->fds[i];

		if (!rtree_file(t, fd->id)) {
			pr_err("fdinfo-%u.img: fd %u is file %u, which files.img does not describe\n", p->ids->files_id,
			       fd->fd, fd->id);
			return -EINVAL;
		}
		if (fd->fd >= MAX_FD) {
			pr_err("fdinfo-%u.img: fd %u is out of range\n", p->ids->files_id, fd->fd);
			return -EINVAL;
		}
		if ((int)fd->fd > *max_fd)
			*max_fd = (int)fd->fd;
	}
	return 0;
}

/*
 * seccomp.img, when there is one: every filter a program of whole
 * instructions, each `prev` an earlier entry (so chains end); every thread
 * in filter mode naming one. Strict mode needs no image.
 */
static int read_seccomp(struct rtree *t)
{
	bool any = false;
	int ret;

	for (size_t i = 0; i < t->nr; i++)
		for (size_t k = 0; !t->procs[i].zombie && k < t->procs[i].nr_threads; k++) {
			const ThreadCoreEntry *tc = t->procs[i].threads[k].core->thread_core;
			uint32_t mode = tc->has_seccomp_mode ? tc->seccomp_mode : 0;

			if (mode > 2) {
				pr_err("core-%d.img: seccomp mode %u is none of disabled, strict, filter\n",
				       t->procs[i].threads[k].vtid, mode);
				return -EINVAL;
			}
			any = any || mode == 2;
		}
	if (!any)
		return 0;
	{
		ProtobufCMessage *m;

		ret = rtree_read_one(t, IMG_SECCOMP, 0, &m);
		if (ret)
			return ret;
		t->seccomp = (SeccompEntry *)m;
	}
	for (size_t i = 0; i < t->seccomp->n_seccomp_filters; i++) {
		const SeccompFilter *f = t->seccomp->seccomp_filters[i];

		/* flags: SECCOMP_FILTER_FLAG_LOG (2), _SPEC_ALLOW (4) only: TSYNC or
		 * NEW_LISTENER would reach other threads or leave an fd behind */
		if (f->has_flags && (f->flags & ~6U)) {
			pr_err("seccomp.img: filter %zu has flags %#x; only LOG and SPEC_ALLOW can be restored\n", i,
			       f->flags);
			return -EINVAL;
		}
		if (!f->filter.len || f->filter.len % 8 || f->filter.len > 4096 * 8 || (f->has_prev && f->prev >= i)) {
			pr_err("seccomp.img: filter %zu: %zu bytes%s; expected whole instructions (8 bytes each, at "
			       "most 4096) after an earlier filter\n",
			       i, f->filter.len, f->has_prev && f->prev >= i ? ", after a later filter" : "");
			return -EINVAL;
		}
	}
	for (size_t i = 0; i < t->nr; i++)
		for (size_t k = 0; !t->procs[i].zombie && k < t->procs[i].nr_threads; k++) {
			const ThreadCoreEntry *tc = t->procs[i].threads[k].core->thread_core;

			if (tc->has_seccomp_mode && tc->seccomp_mode == 2 &&
			    (!tc->has_seccomp_filter || tc->seccomp_filter >= t->seccomp->n_seccomp_filters)) {
				pr_err("core-%d.img: seccomp filter %u, which seccomp.img does not have\n",
				       t->procs[i].threads[k].vtid, tc->seccomp_filter);
				return -EINVAL;
			}
		}
	return 0;
}

static int read_proc(struct rtree *t, struct rproc *p, int *max_fd)
{
	ProtobufCMessage *m;
	char name[64];
	int ret;

	ret = read_threads(t, p);
	if (ret || p->zombie)
		return ret;
	ret = rtree_read_one(t, IMG_IDS, (unsigned)p->vpid, &m);
	if (ret)
		return ret;
	p->ids = (TaskKobjIdsEntry *)m;
	ret = rtree_read_one(t, IMG_MM, (unsigned)p->vpid, &m);
	if (ret)
		return ret;
	p->mm = (MmEntry *)m;
	ret = check_mm(p);
	if (!ret)
		ret = read_pagemap(t, p);
	if (!ret)
		ret = read_fds(t, p, max_fd);
	if (!ret)
		ret = rtree_read_one(t, IMG_FS, (unsigned)p->vpid, &m);
	if (ret)
		return ret;
	p->fs = (FsEntry *)m;
	rtree_image_name(IMG_FS, (unsigned)p->vpid, name, sizeof(name));
	p->cwd = path_file(t, p->fs->cwd_id, name, "cwd");
	p->root = path_file(t, p->fs->root_id, name, "root");
	return p->cwd && p->root ? 0 : -EINVAL;
}

/* Parents before children, all inside the tree; sessions as fork gives them. */
static int link_tree(struct rtree *t)
{
	for (size_t i = 0; i < t->nr; i++) {
		struct rproc *p = &t->procs[i];

		if (i == 0) {
			if (p->vppid) {
				/* the root's parent is outside the tree: fine */
			}
			p->new_session = p->vsid == p->vpid;
			p->new_pgrp = !p->new_session && p->vpgid == p->vpid;
			continue;
		}
		p->parent = rtree_proc(t, p->vppid);
		if (!p->parent || p->parent >= p) {
			pr_err("pstree.img: process %d: parent %d is not before it in the tree\n", p->vpid, p->vppid);
			return -EINVAL;
		}
		p->parent->children =
			xrealloc(p->parent->children, (p->parent->nr_children + 1) * sizeof(*p->parent->children));
		p->parent->children[p->parent->nr_children++] = p;
		p->new_session = p->vsid == p->vpid;
		if (!p->new_session && p->vsid != p->parent->vsid) {
			pr_err("process %d: its session %d is neither its own nor its parent's; such trees can't be "
			       "restored yet\n",
			       p->vpid, p->vsid);
			return -EOPNOTSUPP;
		}
		p->new_pgrp = !p->new_session && p->vpgid == p->vpid;
	}
	return 0;
}

static int read_pstree(struct rtree *t)
{
	_cleanup_free_ ProtobufCMessage **v = NULL;
	size_t n;
	int ret = rtree_read_image(t, IMG_PSTREE, 0, false, &v, &n);

	if (ret)
		return ret;
	if (!n) {
		pr_err("pstree.img is empty\n");
		return -EINVAL;
	}
	t->procs = xzalloc(n * sizeof(*t->procs));
	t->nr = n;
	for (size_t i = 0; i < n; i++) {
		struct rproc *p = &t->procs[i];

		p->pe = (PstreeEntry *)v[i];
		p->vpid = (pid_t)p->pe->pid;
		p->vppid = (pid_t)p->pe->ppid;
		p->vpgid = (pid_t)p->pe->pgid;
		p->vsid = (pid_t)p->pe->sid;
		if (p->vpid <= 0 || p->vpid >= MAX_PID || !p->pe->n_threads || p->pe->threads[0] != p->pe->pid) {
			pr_err("pstree.img: entry %zu (pid %d) is malformed\n", i, p->vpid);
			return -EINVAL;
		}
		for (size_t k = 0; k < p->pe->n_threads; k++) {
			if (!p->pe->threads[k] || p->pe->threads[k] >= MAX_PID) {
				pr_err("pstree.img: process %d: thread id %u out of range\n", p->vpid,
				       p->pe->threads[k]);
				return -EINVAL;
			}
		}
		if (hmap_get_int(&t->by_vpid, (uint64_t)p->vpid)) {
			pr_err("pstree.img: pid %d appears twice\n", p->vpid);
			return -EINVAL;
		}
		hmap_put_int(&t->by_vpid, (uint64_t)p->vpid, p);
	}
	return 0;
}

int rtree_read(int dirfd, struct rtree *t)
{
	int max_fd = 2, ret;

	memset(t, 0, sizeof(*t));
	t->imgs_dirfd = dirfd;
	t->host_proc_fd = -1;
	t->sysv.shm_r.fd = t->sysv.sem_r.fd = t->sysv.msg_r.fd = -1;
	hmap_init(&t->by_vpid);
	hmap_init(&t->file_by_id);
	if (faccessat(dirfd, "pstree.img", F_OK, 0))
		return 0; /* mounts only */
	ret = read_pstree(t);
	if (!ret)
		ret = link_tree(t);
	if (!ret)
		ret = rtree_read_files(t);
	for (size_t i = 0; !ret && i < t->nr; i++)
		ret = read_proc(t, &t->procs[i], &max_fd);
	if (!ret) {
		rtree_link_holders(t);
		ret = rtree_plan_fd_tables(t);
	}
	if (!ret)
		ret = rtree_read_shmem(t);
	if (!ret)
		ret = rtree_resolve_files(t);
	if (!ret)
		ret = check_pages_ids(t);
	if (!ret)
		ret = read_seccomp(t);
	if (ret)
		return ret;
	t->fd_base = max_fd + 1;
	for (size_t i = 0; i < t->nr_files; i++)
		t->files[i].table_fd = t->fd_base + (int)i;
	return 0;
}

int rtree_open_host_files(struct rtree *t, const struct options *o)
{
	int above = rtree_fd_above(t);

	{
		int fd = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);

		t->host_proc_fd = fd < 0 ? -1 : fcntl(fd, F_DUPFD_CLOEXEC, above);
		if (fd >= 0)
			close(fd);
		if (t->host_proc_fd < 0) {
			pr_perror("can't open the host's /proc");
			return -errno;
		}
	}
	{
		int ret = rtree_open_shmem(t, above);

		if (!ret)
			ret = rtree_plan_premap(t);
		if (ret)
			return ret;
	}
	return rtree_files_open_host(t, o, above);
}

void rtree_free(struct rtree *t)
{
	rtree_free_mntns(t);
	rtree_free_files(t);
	rtree_free_shmem(t);
	sysv_free(&t->sysv);
	if (t->host_proc_fd >= 0)
		close(t->host_proc_fd);
	for (size_t i = 0; i < t->nr; i++) {
		free(t->procs[i].premap);
		free(t->procs[i].threads);
		free(t->procs[i].pagemap);
		free(t->procs[i].fds);
		free(t->procs[i].children);
	}
	free(t->procs);
	free(t->files);
	for (size_t i = 0; i < t->nr_msgs; i++)
		protobuf_c_message_free_unpacked(t->msgs[i], NULL);
	free(t->msgs);
	hmap_free(&t->by_vpid);
	hmap_free(&t->file_by_id);
	memset(t, 0, sizeof(*t));
}

/* Clocks a time namespace's offsets can reach (nanoseconds in an int64). */
static int check_timens(const TimensEntry *e, unsigned id)
{
	const Timespec *c[2] = {e->monotonic, e->boottime};

	for (int i = 0; i < 2; i++) {
		if (c[i]->tv_nsec >= 1000000000ULL || c[i]->tv_sec > (uint64_t)INT64_MAX / 1000000000ULL / 2) {
			pr_err("timens-%u.img: %s clock %" PRIu64 ".%09" PRIu64 " s is out of range\n", id,
			       i ? "boottime" : "monotonic", c[i]->tv_sec, c[i]->tv_nsec);
			return -EINVAL;
		}
	}
	return 0;
}

/* The kernel.sem sysctl is four numbers. */
static int read_ipc_var(struct rtree *t, unsigned id)
{
	ProtobufCMessage *m;
	int ret = rtree_read_one(t, IMG_IPC_VAR, id, &m);

	if (!ret && ((IpcVarEntry *)m)->n_sem_ctls != 4) {
		pr_err("ipcns-var-%u.img: kernel.sem has %zu numbers, expected 4\n", id, ((IpcVarEntry *)m)->n_sem_ctls);
		ret = -EINVAL;
	}
	if (!ret)
		t->ipc_var = (IpcVarEntry *)m;
	/* its System V objects, which only a namespace of the tree's own has */
	return ret ? ret : sysv_read(t->imgs_dirfd, id, &t->sysv);
}

/*
 * With --empty-ns net the runtime configures the namespace, but not its
 * lo, which every namespace has and runtimes set up only when they create
 * a container (runc, containerd): lo comes back as dumped, the rest is
 * left to the runtime.
 */
static int read_netdev(struct rtree *t, unsigned id, bool lo_only)
{
	_cleanup_free_ ProtobufCMessage **v = NULL;
	size_t n;
	int ret = rtree_read_image(t, IMG_NETDEV, id, true, &v, &n);

	if (!ret && lo_only) {
		for (size_t i = 0; i < n; i++) {
			const NetDeviceEntry *d = (const NetDeviceEntry *)v[i];

			if (d->type == ND_TYPE__LOOPBACK && d->name && !strcmp(d->name, "lo"))
				t->netdev = (NetDeviceEntry *)v[i];
		}
		return 0;
	}
	if (!ret)
		ret = netns_check_image((const NetDeviceEntry *const *)v, n);
	if (!ret && n) /* none: --empty-ns net at dump by an older criu or upstream */
		t->netdev = (NetDeviceEntry *)v[0];
	return ret;
}

/*
 * Every live process in the root task's namespaces, but for mount ones:
 * restore recreates the root's only, so a process of another (possible in
 * upstream's images: a nested pid namespace, an unshare) would come back in
 * the root's. Each mount namespace is recreated (restore.c checks that each
 * task's has its image).
 */
static int check_same_ns(const struct rtree *t)
{
	const TaskKobjIdsEntry *r = t->nr ? t->procs[0].ids : NULL;

	for (size_t i = 1; r && i < t->nr; i++) {
		const TaskKobjIdsEntry *p = t->procs[i].ids;

		if (!p || t->procs[i].zombie)
			continue;
		for (int k = KNS_MNT + 1; k < KNS_NR; k++) {
			uint32_t a, b;

			kobj_ns_id(r, (enum kobj_ns)k, &a);
			kobj_ns_id(p, (enum kobj_ns)k, &b);
			if (a != b) {
				pr_err("process %d is in a %s namespace (%u) other than the root task's (%u): nested "
				       "namespaces can't be restored yet\n",
				       t->procs[i].vpid, kobj_ns_name((enum kobj_ns)k), b, a);
				return -EOPNOTSUPP;
			}
		}
	}
	return 0;
}

int rtree_read_ns(struct rtree *t, const struct rtree_ns_images *ns)
{
	ProtobufCMessage *m;
	int ret = check_same_ns(t);

	if (!ret && ns->uts) {
		ret = rtree_read_one(t, IMG_UTSNS, ns->uts, &m);
		if (!ret) {
			t->nodename = ((UtsnsEntry *)m)->nodename;
			t->domainname = ((UtsnsEntry *)m)->domainname;
		}
	}
	if (!ret && ns->ipc)
		ret = read_ipc_var(t, ns->ipc);
	if (!ret && ns->net)
		ret = read_netdev(t, ns->net, ns->net_lo_only);
	if (!ret && ns->timens) {
		ret = rtree_read_one(t, IMG_TIMENS, ns->timens_id, &m);
		if (!ret)
			ret = check_timens((TimensEntry *)m, ns->timens_id);
		if (!ret)
			t->timens = (TimensEntry *)m;
	}
	for (size_t i = 0; !ret && !ns->sysv_joined && i < t->nr; i++)
		ret = check_sysv_areas(t, &t->procs[i]);
	return ret;
}

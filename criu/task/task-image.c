/*
 * Restore, parse step: the process images of a dump -> struct rtree.
 *
 * Everything a later step relies on is checked here, before any task or
 * namespace exists: pids unique and in range, parents before children and
 * inside the tree, every thread's core present and of this architecture,
 * every descriptor naming a file of files.img, fd numbers in range. An
 * image that fails a check is rejected with the file and what is wrong.
 */
#define LOG_PREFIX "restore: "

#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "options.h"
#include <unistd.h>

#include "image/image.h"
#include "util/log.h"
#include <sys/ioctl.h>
#include <termios.h>
#include "net/netns.h"
#include "pipe-data.pb-c.h"
#include "task/rtree.h"
#include "image/vma-status.h"
#include "util/util.h"
#include "utsns.pb-c.h"

#define MAX_PID	    (4 << 20) /* PID_MAX_LIMIT */
#define MAX_FD	    (1 << 20) /* fs.nr_open's default */
#define TASK_STATE_ALIVE   0x01
#define TASK_STATE_DEAD	   0x02
#define TASK_STATE_STOPPED 0x03

static void keep_msg(struct rtree *t, ProtobufCMessage *m)
{
	t->msgs = xrealloc(t->msgs, (t->nr_msgs + 1) * sizeof(*t->msgs));
	t->msgs[t->nr_msgs++] = m;
}

static void image_name(enum img_type type, unsigned id, char *buf, size_t len)
{
	snprintf(buf, len, img_desc(type)->name_fmt, id);
}

/*
 * Every entry of an image; *msgs is malloc'd, the entries are kept by the
 * tree. A missing file gives -ENOENT (printed only when `required`).
 */
static int read_all(struct rtree *t, enum img_type type, unsigned id, bool required, ProtobufCMessage ***msgs,
		    size_t *nr)
{
	struct img_reader r;
	ProtobufCMessage *m;
	char name[64];
	int ret;

	*msgs = NULL;
	*nr = 0;
	image_name(type, id, name, sizeof(name));
	if (faccessat(t->imgs_dirfd, name, F_OK, 0)) {
		if (required)
			pr_err("%s is missing from the images directory\n", name);
		return -ENOENT;
	}
	ret = img_reader_open(&r, t->imgs_dirfd, name, type);
	if (ret)
		return ret;
	while ((ret = img_read_entry(&r, &m)) > 0) {
		keep_msg(t, m);
		*msgs = xrealloc(*msgs, (*nr + 1) * sizeof(**msgs));
		(*msgs)[(*nr)++] = m;
	}
	img_reader_close(&r);
	return ret;
}

/* An image that holds exactly one entry. */
static int read_one(struct rtree *t, enum img_type type, unsigned id, ProtobufCMessage **msg)
{
	_cleanup_free_ ProtobufCMessage **v = NULL;
	char name[64];
	size_t n;
	int ret = read_all(t, type, id, true, &v, &n);

	if (ret)
		return ret;
	if (n != 1) {
		image_name(type, id, name, sizeof(name));
		pr_err("%s holds %zu entries, expected one\n", name, n);
		return -EINVAL;
	}
	*msg = v[0];
	return 0;
}

/* ------------------------------------------------------------------------
 * Files
 */

/*
 * tty-info.img: the terminals the TTY files of files.img name. Only those a
 * shell job has (a pty slave, /dev/tty) can be restored: -j connects them
 * to criu's own terminal.
 */
static int read_ttys(struct rtree *t)
{
	_cleanup_free_ ProtobufCMessage **v = NULL;
	struct hmap by_id;
	bool any = false;
	size_t n = 0;
	int ret = 0;

	for (size_t i = 0; i < t->nr_files; i++)
		any = any || t->files[i].fe->type == FD_TYPES__TTY;
	if (!any)
		return 0;
	ret = read_all(t, IMG_TTY_INFO, 0, true, &v, &n);
	if (ret)
		return ret;
	hmap_init(&by_id);
	for (size_t i = 0; !ret && i < n; i++) {
		TtyInfoEntry *ti = (TtyInfoEntry *)v[i];

		if (ti->type != TTY_TYPE__PTY && ti->type != TTY_TYPE__CTTY) {
			pr_err("tty-info.img: terminal %u is of type %d; only a shell job's terminal (a pty slave or /dev/tty) can be restored\n",
			       ti->id, ti->type);
			ret = -EOPNOTSUPP;
		} else if (!ti->id || hmap_get_int(&by_id, ti->id)) {
			pr_err("tty-info.img: terminal id %u is %s\n", ti->id, ti->id ? "used twice" : "0");
			ret = -EINVAL;
		} else {
			hmap_put_int(&by_id, ti->id, ti);
		}
	}
	for (size_t i = 0; !ret && i < t->nr_files; i++) {
		struct rfile *f = &t->files[i];

		if (f->fe->type != FD_TYPES__TTY)
			continue;
		f->tty = hmap_get_int(&by_id, f->fe->tty->tty_info_id);
		if (!f->tty) {
			pr_err("files.img: terminal file %u names terminal %u, which tty-info.img lacks\n", f->fe->id,
			       f->fe->tty->tty_info_id);
			ret = -EINVAL;
		}
	}
	hmap_free(&by_id);
	return ret;
}

/* Watches once each by number, on absolute paths, with events to watch. */
#define INOTIFY_MAX_SKIP (1U << 20) /* about 30 s of spare watches */

static int check_inotify(const InotifyFileEntry *e)
{
	struct hmap wds;
	uint32_t max = 0;
	int ret = 0;

	if (e->n_wd > 65536) {
		pr_err("files.img: inotify %u has %zu watches\n", e->id, e->n_wd);
		return -EINVAL;
	}
	hmap_init(&wds);
	for (size_t i = 0; !ret && i < e->n_wd; i++) {
		const InotifyWdEntry *w = e->wd[i];
		const char *path = w->f_handle ? w->f_handle->path : NULL;

		if (!w->wd || w->wd > INT32_MAX || !(w->mask & 0xfff /* IN_ALL_EVENTS */) ||
		    (w->mask & ~(0xfffU | 0x80000000U /* IN_ONESHOT */ | 0x04000000U /* IN_EXCL_UNLINK */)) || !path ||
		    path[0] != '/') {
			pr_err("files.img: inotify %u: watch %zu (wd %u, mask %#x, path %s) is malformed\n", e->id, i,
			       w->wd, w->mask, path ? path : "none");
			ret = -EINVAL;
		} else if (hmap_get_int(&wds, w->wd)) {
			pr_err("files.img: inotify %u: watch %u appears twice\n", e->id, w->wd);
			ret = -EINVAL;
		} else {
			hmap_put_int(&wds, w->wd, (void *)1);
			max = w->wd > max ? w->wd : max;
		}
	}
	hmap_free(&wds);
	/* each number skipped costs a spare watch added and removed at restore */
	if (!ret && max > e->n_wd + INOTIFY_MAX_SKIP) {
		pr_err("files.img: inotify %u: watch number %u, with %zu watches: more than %u numbers to skip at "
		       "restore\n",
		       e->id, max, e->n_wd, INOTIFY_MAX_SKIP);
		ret = -EINVAL;
	}
	return ret;
}

/*
 * An IPv4/IPv6 socket restore can make: TCP listening or unconnected, UDP;
 * addresses of the family's size, ports that are ports.
 */
static int check_inet(const InetSkEntry *e)
{
	size_t words = e->family == AF_INET ? 1 : 4;
	bool tcp = e->type == SOCK_STREAM && e->proto == IPPROTO_TCP;
	bool udp = e->type == SOCK_DGRAM && e->proto == IPPROTO_UDP;

	if ((e->family != AF_INET && e->family != AF_INET6) || !(tcp || udp) || e->src_port > 65535 ||
	    e->dst_port > 65535 || (e->n_src_addr && e->n_src_addr != words) ||
	    (e->n_dst_addr && e->n_dst_addr != words) || (tcp && e->state != 10 && e->state != 7 && e->state != 1) ||
	    (tcp && e->state == 1 && (!e->dst_port || !e->n_dst_addr || !e->src_port || !e->n_src_addr)) ||
	    (udp && e->state != 1 && e->state != 7) || (udp && e->state == 1 && (!e->dst_port || !e->n_dst_addr)) ||
	    e->backlog > INT32_MAX || (e->opts->so_bound_dev && strlen(e->opts->so_bound_dev) >= 16)) {
		pr_err("files.img: socket %u (family %u, type %u, protocol %u, state %u) is one restore can't make: "
		       "only TCP listening, unconnected or established sockets and UDP sockets of IPv4 or IPv6\n",
		       e->id, e->family, e->type, e->proto, e->state);
		return -EINVAL;
	}
	return 0;
}

static int read_files(struct rtree *t)
{
	_cleanup_free_ ProtobufCMessage **v = NULL;
	size_t n;
	int ret = read_all(t, IMG_FILES, 0, false, &v, &n);

	if (ret == -ENOENT)
		return 0;
	if (ret)
		return ret;
	t->files = xzalloc((n ? n : 1) * sizeof(*t->files));
	for (size_t i = 0; i < n; i++) {
		FileEntry *fe = (FileEntry *)v[i];

		if (hmap_get_int(&t->file_by_id, fe->id)) {
			pr_err("files.img: file id %u appears twice\n", fe->id);
			return -EINVAL;
		}
		if ((fe->type == FD_TYPES__REG && !fe->reg) || (fe->type == FD_TYPES__PIPE && !fe->pipe) ||
		    (fe->type == FD_TYPES__FIFO && !fe->fifo) || (fe->type == FD_TYPES__TTY && !fe->tty) ||
		    (fe->type == FD_TYPES__EVENTFD && !fe->efd) || (fe->type == FD_TYPES__SIGNALFD && !fe->sgfd) ||
		    (fe->type == FD_TYPES__TIMERFD && !fe->tfd) || (fe->type == FD_TYPES__EVENTPOLL && !fe->epfd) ||
		    (fe->type == FD_TYPES__UNIXSK && (!fe->usk || !fe->usk->opts)) ||
		    (fe->type == FD_TYPES__INOTIFY && !fe->ify) || (fe->type == FD_TYPES__MEMFD && !fe->memfd) ||
		    (fe->type == FD_TYPES__INETSK && (!fe->isk || !fe->isk->opts))) {
			pr_err("files.img: file %u of type %d lacks its description\n", fe->id, fe->type);
			return -EINVAL;
		}
		if (fe->type == FD_TYPES__INOTIFY && (ret = check_inotify(fe->ify)))
			return ret;
		if (fe->type == FD_TYPES__INETSK && (ret = check_inet(fe->isk)))
			return ret;
		t->files[i].fe = fe;
		t->files[i].table_fd = -1;
		t->files[i].host_fd = -1;
		hmap_put_int(&t->file_by_id, fe->id, &t->files[i]);
		if (rfile_tcp_established(&t->files[i]) && (ret = rtree_read_tcp(t, &t->files[i]))) {
			t->nr_files = i + 1; /* freed with the others */
			return ret;
		}
	}
	t->nr_files = n;
	for (size_t i = 0; i < n; i++) {
		struct rfile *f = &t->files[i], *r;

		if (f->fe->type != FD_TYPES__FIFO)
			continue;
		r = f->fe->fifo->has_regf_id ? rtree_file(t, f->fe->fifo->regf_id) : NULL;
		if (!r || r->fe->type != FD_TYPES__REG) {
			pr_err("files.img: FIFO %u names no path entry\n", f->fe->id);
			return -EINVAL;
		}
		f->fifo_reg = r->fe->reg;
	}
	ret = read_ttys(t);
	return ret ? ret : rtree_link_unix(t);
}

/* What was queued in FIFOs: given to the first descriptor of each. */
static int read_fifo_data(struct rtree *t)
{
	struct hmap by_pipe; /* pipe_id -> first FIFO file */
	struct img_reader *r;
	ProtobufCMessage *m;
	int ret;

	if (faccessat(t->imgs_dirfd, "fifo-data.img", F_OK, 0))
		return 0;
	r = xzalloc(sizeof(*r));
	ret = img_reader_open(r, t->imgs_dirfd, "fifo-data.img", IMG_FIFO_DATA);
	if (ret) {
		free(r);
		return ret;
	}
	t->fifo_data = r;
	hmap_init(&by_pipe);
	for (size_t i = t->nr_files; i-- > 0;) /* the first FIFO of a pipe id wins */
		if (t->files[i].fe->type == FD_TYPES__FIFO)
			hmap_put_int(&by_pipe, t->files[i].fe->fifo->pipe_id, &t->files[i]);
	while ((ret = img_read_entry(r, &m)) > 0) {
		PipeDataEntry *pd = (PipeDataEntry *)m;
		struct rfile *f = hmap_get_int(&by_pipe, pd->pipe_id);

		keep_msg(t, m);
		if (!f) {
			pr_err("fifo-data.img: data for FIFO %u, which no descriptor uses\n", pd->pipe_id);
			ret = -EINVAL;
			break;
		}
		f->data = r->payload;
		f->data_len = r->payload_len;
	}
	hmap_free(&by_pipe);
	return ret < 0 ? ret : 0;
}

/* Pairs pipe ends and gives each pipe its queued data. */
static int read_pipe_data(struct rtree *t)
{
	struct hmap by_pipe; /* pipe_id -> first end */
	struct img_reader *r = xzalloc(sizeof(*r));
	ProtobufCMessage *m;
	int ret = 0;

	hmap_init(&by_pipe);
	for (size_t i = 0; i < t->nr_files; i++) {
		struct rfile *f = &t->files[i], *other;

		if (f->fe->type != FD_TYPES__PIPE)
			continue;
		other = hmap_get_int(&by_pipe, f->fe->pipe->pipe_id);
		if (other && !other->peer) {
			other->peer = f;
			f->peer = other;
		} else if (!other) {
			hmap_put_int(&by_pipe, f->fe->pipe->pipe_id, f);
		}
	}
	ret = read_fifo_data(t);
	if (ret || faccessat(t->imgs_dirfd, "pipes-data.img", F_OK, 0))
		goto out;
	ret = img_reader_open(r, t->imgs_dirfd, "pipes-data.img", IMG_PIPES_DATA);
	if (ret)
		goto out;
	t->pipes_data = r;
	while ((ret = img_read_entry(r, &m)) > 0) {
		PipeDataEntry *pd = (PipeDataEntry *)m;
		struct rfile *f = hmap_get_int(&by_pipe, pd->pipe_id);

		keep_msg(t, m);
		if (!f) {
			pr_err("pipes-data.img: data for pipe %u, which no descriptor uses\n", pd->pipe_id);
			ret = -EINVAL;
			break;
		}
		f->data = r->payload;
		f->data_len = r->payload_len;
		f->pipe_size = pd->has_size ? pd->size : 0;
		if (f->peer) {
			f->peer->data = f->data;
			f->peer->data_len = f->data_len;
			f->peer->pipe_size = f->pipe_size;
		}
	}
out:
	if (!t->pipes_data)
		free(r);
	hmap_free(&by_pipe);
	return ret < 0 ? ret : 0;
}

static const char *path_file(struct rtree *t, uint32_t id, const char *img, const char *what)
{
	struct rfile *f = rtree_file(t, id);

	if (!f || f->fe->type != FD_TYPES__REG) {
		pr_err("%s: %s is file %u, which files.img does not describe\n", img, what, id);
		return NULL;
	}
	return f->fe->reg->name;
}

/* ------------------------------------------------------------------------
 * Processes
 */

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
			pr_err("%s: credentials missing or malformed (each capability set must be 2 words, the ambient one 0 or 2; no_new_privs 0 or 1)\n",
			       name);
			return -EINVAL;
		}
		if (cr->n_cap_amb) {
			uint64_t amb = (uint64_t)cr->cap_amb[1] << 32 | cr->cap_amb[0];
			uint64_t prm = (uint64_t)cr->cap_prm[1] << 32 | cr->cap_prm[0];
			uint64_t inh = (uint64_t)cr->cap_inh[1] << 32 | cr->cap_inh[0];

			if (amb & ~(prm & inh)) {
				pr_err("%s: ambient capabilities %#llx outside the permitted and inheritable sets: no thread can have them\n",
				       name, (unsigned long long)amb);
				return -EINVAL;
			}
		}
	}
	return 0;
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
		image_name(IMG_CORE, (unsigned)p->threads[i].vtid, name, sizeof(name));
		ret = read_one(t, IMG_CORE, (unsigned)p->threads[i].vtid, &m);
		if (!ret)
			ret = check_core((CoreEntry *)m, name, i == 0);
		if (ret)
			return ret;
		p->threads[i].core = (CoreEntry *)m;
	}
	p->core = p->threads[0].core;
	image_name(IMG_CORE, (unsigned)p->vpid, name, sizeof(name));
	ret = check_ptimers(p->core, name, p->pe);
	if (ret)
		return ret;
	p->zombie = p->core->tc->task_state == TASK_STATE_DEAD;
	p->stopped = p->core->tc->task_state == TASK_STATE_STOPPED;
	if (p->core->tc->task_state != TASK_STATE_ALIVE && !p->zombie && !p->stopped) {
		pr_err("process %d: task_state %u in its core; only alive, stopped and dead (zombie) tasks can be restored\n",
		       p->vpid, p->core->tc->task_state);
		return -EINVAL;
	}
	return 0;
}

static int read_pagemap(struct rtree *t, struct rproc *p)
{
	_cleanup_free_ ProtobufCMessage **v = NULL;
	size_t n;
	int ret = read_all(t, IMG_PAGEMAP, (unsigned)p->vpid, true, &v, &n);

	if (ret)
		return ret;
	if (!n) {
		pr_err("pagemap-%d.img has no head\n", p->vpid);
		return -EINVAL;
	}
	p->pages_id = ((PagemapHead *)v[0])->pages_id;
	p->nr_pagemap = n - 1;
	p->pagemap = xzalloc(n * sizeof(*p->pagemap));
	for (size_t i = 1, prev_end = 0; i < n; i++) {
		PagemapEntry *pe = (PagemapEntry *)v[i];

		/* in address order, none overlapping: restore-pages.c walks them so */
		if ((pe->vaddr & 4095) || !pe->nr_pages || pe->vaddr + (uint64_t)pe->nr_pages * 4096 < pe->vaddr ||
		    pe->vaddr < prev_end) {
			pr_err("pagemap-%d.img: bad run at %#llx of %u pages (misaligned, empty, or not after the one before)\n",
			       p->vpid, (unsigned long long)pe->vaddr, pe->nr_pages);
			return -EINVAL;
		}
		prev_end = pe->vaddr + (uint64_t)pe->nr_pages * 4096;
		if (pe->has_in_parent && pe->in_parent) {
			pr_err("pagemap-%d.img: pages in a parent (pre-dump) image; not supported\n", p->vpid);
			return -EOPNOTSUPP;
		}
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
			       proc ? (unsigned long long)t->procs[i].vpid : (unsigned long long)t->shmems[i - t->nr].shmid);
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

	ret = read_all(t, IMG_FDINFO, p->ids->files_id, false, &v, &p->nr_fds);
	if (ret == -ENOENT)
		return 0;
	if (ret)
		return ret;
	p->fds = (FdinfoEntry **)v;
	for (size_t i = 0; i < p->nr_fds; i++) {
		FdinfoEntry *fd = p->fds[i];

		if (!rtree_file(t, fd->id)) {
			pr_err("fdinfo-%u.img: fd %u is file %u, which files.img does not describe\n",
			       p->ids->files_id, fd->fd, fd->id);
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

		ret = read_one(t, IMG_SECCOMP, 0, &m);
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
			pr_err("seccomp.img: filter %zu: %zu bytes%s; expected whole instructions (8 bytes each, at most 4096) after an earlier filter\n",
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

/*
 * Each file's first holder, in pstree order. An epoll's registers the
 * watched fds, each of which must be one of its own.
 */
static int link_holders(struct rtree *t)
{
	int ret = 0;

	for (size_t i = 0; !ret && i < t->nr; i++) {
		struct rproc *p = &t->procs[i];
		struct hmap fds;
		bool any = false;

		for (size_t k = 0; k < p->nr_fds; k++) {
			struct rfile *f = rtree_file(t, p->fds[k]->id);

			if (f->holder)
				continue;
			f->holder = p;
			f->holder_fd = (int)p->fds[k]->fd;
			any |= f->fe->type == FD_TYPES__EVENTPOLL;
		}
		if (!any)
			continue;
		hmap_init(&fds);
		for (size_t k = 0; k < p->nr_fds; k++)
			hmap_put_int(&fds, p->fds[k]->fd, p->fds[k]);
		for (size_t k = 0; !ret && k < p->nr_fds; k++) {
			struct rfile *f = rtree_file(t, p->fds[k]->id);
			const EventpollFileEntry *ep = f->fe->epfd;

			if (f->fe->type != FD_TYPES__EVENTPOLL || f->holder != p || f->holder_fd != (int)p->fds[k]->fd)
				continue;
			for (size_t j = 0; !ret && j < ep->n_tfd; j++)
				if (!hmap_get_int(&fds, ep->tfd[j]->tfd)) {
					pr_err("files.img: epoll %u watches fd %u, which process %d (its first holder) does not have\n",
					       f->fe->id, ep->tfd[j]->tfd, p->vpid);
					ret = -EINVAL;
				}
		}
		hmap_free(&fds);
	}
	return ret;
}

static int read_proc(struct rtree *t, struct rproc *p, int *max_fd)
{
	ProtobufCMessage *m;
	char name[64];
	int ret;

	ret = read_threads(t, p);
	if (ret || p->zombie)
		return ret;
	ret = read_one(t, IMG_IDS, (unsigned)p->vpid, &m);
	if (ret)
		return ret;
	p->ids = (TaskKobjIdsEntry *)m;
	ret = read_one(t, IMG_MM, (unsigned)p->vpid, &m);
	if (ret)
		return ret;
	p->mm = (MmEntry *)m;
	ret = check_mm(p);
	if (!ret)
		ret = read_pagemap(t, p);
	if (!ret)
		ret = read_fds(t, p, max_fd);
	if (!ret)
		ret = read_one(t, IMG_FS, (unsigned)p->vpid, &m);
	if (ret)
		return ret;
	p->fs = (FsEntry *)m;
	image_name(IMG_FS, (unsigned)p->vpid, name, sizeof(name));
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
		p->parent->children = xrealloc(p->parent->children,
					       (p->parent->nr_children + 1) * sizeof(*p->parent->children));
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
	int ret = read_all(t, IMG_PSTREE, 0, false, &v, &n);

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
		ret = read_files(t);
	if (!ret)
		ret = read_pipe_data(t);
	for (size_t i = 0; !ret && i < t->nr; i++)
		ret = read_proc(t, &t->procs[i], &max_fd);
	if (!ret)
		ret = link_holders(t);
	if (!ret)
		ret = rtree_read_shmem(t);
	for (size_t i = 0; !ret && i < t->nr_files; i++)
		if (t->files[i].fe->type == FD_TYPES__MEMFD && !rtree_memfd(t, t->files[i].fe->memfd->inode_id)) {
			pr_err("files.img: memfd file %u names inode %u, which memfd.img doesn't have\n",
			       t->files[i].fe->id, t->files[i].fe->memfd->inode_id);
			ret = -EINVAL;
		}
	if (!ret)
		ret = check_pages_ids(t);
	if (!ret)
		ret = read_seccomp(t);
	if (!ret && !faccessat(dirfd, "utsns-1.img", F_OK, 0)) {
		ProtobufCMessage *m;

		ret = read_one(t, IMG_UTSNS, 1, &m);
		if (!ret) {
			t->nodename = ((UtsnsEntry *)m)->nodename;
			t->domainname = ((UtsnsEntry *)m)->domainname;
		}
	}
	if (!ret && !faccessat(dirfd, "ipcns-var-1.img", F_OK, 0)) {
		ProtobufCMessage *m;

		ret = read_one(t, IMG_IPC_VAR, 1, &m);
		if (!ret && ((IpcVarEntry *)m)->n_sem_ctls != 4) {
			pr_err("ipcns-var-1.img: kernel.sem has %zu numbers, expected 4\n",
			       ((IpcVarEntry *)m)->n_sem_ctls);
			ret = -EINVAL;
		}
		if (!ret)
			t->ipc_var = (IpcVarEntry *)m;
		/* its System V objects, which only a namespace of the tree's own has */
		if (!ret)
			ret = sysv_read(dirfd, &t->sysv);
	}
	if (!ret && !faccessat(dirfd, "netdev-1.img", F_OK, 0)) {
		_cleanup_free_ ProtobufCMessage **v = NULL;
		size_t n;

		ret = read_all(t, IMG_NETDEV, 1, true, &v, &n);
		if (!ret)
			ret = netns_check_image((const NetDeviceEntry *const *)v, n);
		if (!ret)
			t->netdev = (NetDeviceEntry *)v[0];
	}
	for (size_t i = 0; !ret && i < t->nr; i++)
		ret = check_sysv_areas(t, &t->procs[i]);
	if (ret)
		return ret;
	t->fd_base = max_fd + 1;
	for (size_t i = 0; i < t->nr_files; i++)
		t->files[i].table_fd = t->fd_base + (int)i;
	return 0;
}

struct rproc *rtree_proc(const struct rtree *t, pid_t vpid)
{
	return hmap_get_int(&t->by_vpid, (uint64_t)vpid);
}

struct rfile *rtree_file(const struct rtree *t, uint32_t id)
{
	return hmap_get_int(&t->file_by_id, id);
}

static bool is_memory_device(const RegFileEntry *r)
{
	static const char *const names[] = {"/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom"};

	if (!r->has_mode || !S_ISCHR(r->mode))
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (!strcmp(r->name, names[i]))
			return true;
	return false;
}

/* What --inherit-fd calls a file: pipe:[ID] for a pipe, else its path. */
static void resource_name(const struct rfile *f, char *buf, size_t len)
{
	if (f->fe->type == FD_TYPES__PIPE)
		snprintf(buf, len, "pipe:[%u]", f->fe->pipe->pipe_id);
	else if (f->tty)
		snprintf(buf, len, "tty[%x:%x]", f->tty->rdev, f->tty->has_dev ? f->tty->dev : 0);
	else if (f->fe->reg)
		snprintf(buf, len, "%s", f->fe->reg->name);
	else if (f->fifo_reg)
		snprintf(buf, len, "%s", f->fifo_reg->name);
	else
		buf[0] = '\0';
}

static int inherited_fd(const struct options *o, const struct rfile *f)
{
	char name[PATH_MAX];

	resource_name(f, name, sizeof(name));
	for (size_t i = 0; name[0] && i < o->nr_inherit_fds; i++)
		if (!strcmp(o->inherit_fds[i].res, name))
			return o->inherit_fds[i].fd;
	return -1;
}

/*
 * The dumped terminal's modes and window size onto criu's terminal, as
 * upstream does for a shell job: a full-screen program restored there
 * finds the terminal as it left it. Failures only warn.
 */
static void apply_tty_params(int fd, const TtyInfoEntry *ti)
{
	const TermiosEntry *te = ti->termios;
	struct termios t;

	if (te && !tcgetattr(fd, &t)) {
		t.c_iflag = te->c_iflag;
		t.c_oflag = te->c_oflag;
		t.c_cflag = te->c_cflag;
		t.c_lflag = te->c_lflag;
		t.c_line = (cc_t)te->c_line;
		for (size_t i = 0; i < te->n_c_cc && i < NCCS; i++)
			t.c_cc[i] = (cc_t)te->c_cc[i];
		cfsetispeed(&t, te->c_ispeed);
		cfsetospeed(&t, te->c_ospeed);
		if (tcsetattr(fd, TCSANOW, &t))
			pr_warn("-j: can't set the terminal's modes: %m\n");
	}
	if (ti->winsize) {
		struct winsize w = {(unsigned short)ti->winsize->ws_row, (unsigned short)ti->winsize->ws_col,
				    (unsigned short)ti->winsize->ws_xpixel, (unsigned short)ti->winsize->ws_ypixel};

		if (ioctl(fd, TIOCSWINSZ, &w))
			pr_warn("-j: can't set the terminal's window size: %m\n");
	}
}

/*
 * A terminal file of a shell job (-j): a new open file of criu's own
 * terminal, its standard input's (or /dev/tty, criu's controlling
 * terminal, for a /dev/tty file), with the dumped flags.
 */
static int open_shell_tty(const struct rfile *f, const struct options *o, int above)
{
	const char *path = f->tty->type == TTY_TYPE__CTTY ? "/dev/tty" : "/proc/self/fd/0";
	int flags = (int)(f->fe->tty->flags & (O_ACCMODE | O_APPEND | O_NONBLOCK)), fd, moved;
	char res[64];

	resource_name(f, res, sizeof(res));
	if (!o->shell_job) {
		pr_err("file %u is a terminal (%s) of a shell job: restore with -j/--shell-job to connect it to criu's terminal, or give it with --inherit-fd fd[N]:%s\n",
		       f->fe->id, f->tty->type == TTY_TYPE__CTTY ? "/dev/tty" : "a pty slave", res);
		return -EOPNOTSUPP;
	}
	if (f->tty->type == TTY_TYPE__PTY && !isatty(0)) {
		pr_err("-j: criu's standard input is not a terminal; run criu restore -j from the terminal the job is to use (or give the terminal with --inherit-fd fd[N]:%s)\n",
		       res);
		return -ENOTTY;
	}
	fd = open(path, flags | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		pr_perror("-j: can't open criu's terminal (%s) for file %u", path, f->fe->id);
		return -errno;
	}
	apply_tty_params(fd, f->tty);
	moved = fcntl(fd, F_DUPFD_CLOEXEC, above);
	close(fd);
	if (moved < 0) {
		pr_perror("can't move the terminal's descriptor above %d", above);
		return -errno;
	}
	pr_info("file %u (terminal %s) is criu's terminal\n", f->fe->id, res);
	return moved;
}

int rtree_open_host_files(struct rtree *t, const struct options *o)
{
	int above = rtree_task_fd(t, RFD_MAP) + 64;

	for (size_t i = 0; i < t->nr; i++)
		if (t->procs[i].mm && (int)t->procs[i].mm->n_vmas + rtree_task_fd(t, RFD_MAP) + 64 > above)
			above = (int)t->procs[i].mm->n_vmas + rtree_task_fd(t, RFD_MAP) + 64;
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

		if (ret)
			return ret;
	}
	for (size_t i = 0; i < t->nr_files; i++) {
		struct rfile *f = &t->files[i];
		int flags, fd = inherited_fd(o, f);

		if (fd >= 0) {
			pr_info("file %u is criu's fd %d (--inherit-fd)\n", f->fe->id, fd);
			f->host_fd = fcntl(fd, F_DUPFD, above);
			if (f->host_fd < 0)
				return -errno;
			continue;
		}
		if (f->fe->type == FD_TYPES__TTY) {
			f->host_fd = open_shell_tty(f, o, above);
			if (f->host_fd < 0)
				return f->host_fd;
			continue;
		}
		if (f->fe->type != FD_TYPES__REG || !is_memory_device(f->fe->reg))
			continue;
		flags = (int)(f->fe->reg->flags & (O_ACCMODE | O_APPEND | O_NONBLOCK));
		fd = open(f->fe->reg->name, flags | O_CLOEXEC);
		if (fd < 0) {
			pr_perror("can't open %s", f->fe->reg->name);
			return -errno;
		}
		f->host_fd = fcntl(fd, F_DUPFD, above);
		close(fd);
		if (f->host_fd < 0) {
			pr_perror("can't move the descriptor of %s above %d", f->fe->reg->name, above);
			return -errno;
		}
	}
	return 0;
}

void rtree_free(struct rtree *t)
{
	rtree_free_unix(t);
	rtree_free_shmem(t);
	sysv_free(&t->sysv);
	if (t->host_proc_fd >= 0)
		close(t->host_proc_fd);
	for (size_t i = 0; i < t->nr_files; i++) {
		if (t->files[i].host_fd >= 0)
			close(t->files[i].host_fd);
		rfile_free_tcp(&t->files[i]);
	}
	for (size_t i = 0; i < t->nr; i++) {
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
	if (t->pipes_data) {
		img_reader_close(t->pipes_data);
		free(t->pipes_data);
	}
	if (t->fifo_data) {
		img_reader_close(t->fifo_data);
		free(t->fifo_data);
	}
	hmap_free(&t->by_vpid);
	hmap_free(&t->file_by_id);
	memset(t, 0, sizeof(*t));
}

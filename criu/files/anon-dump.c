/*
 * Anon-inode files of a seized tree (see task-dump.h): eventfd, signalfd,
 * timerfd and epoll, each a file_entry of its kind. All they hold is told
 * by /proc/PID/fdinfo (fdinfo-anon.c parses it):
 * - eventfd: the counter (semaphore mode is refused: the image has no field
 *   for it);
 * - signalfd: the signal mask;
 * - timerfd: clock, time left to the next expiry and interval, expirations
 *   not read yet;
 * - epoll: every watched descriptor with its events and data. The watched
 *   fd numbers are those of the process that added them; each must be open
 *   in the process dumped first with this epoll, and be the same file
 *   (inode), or the dump is refused: restore registers them there.
 */
#define LOG_PREFIX "task-dump: "

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/kcmp.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "proc/fdinfo-anon.h"
#include "fdinfo.pb-c.h"
#include "util/log.h"
#include "task/task-dump.h"
#include "util/util.h"

static int parse_failed(pid_t pid, int fd, const char *kind, const struct proc_err *e)
{
	pr_err("process %d: /proc/%d/fdinfo/%d of the %s: %s\n", pid, pid, fd, kind, proc_err_msg(e).s);
	return -EINVAL;
}

int td_write_file_entry(struct td_ctx *c, FileEntry *fe)
{
	int ret = img_write_entry(c->files_img, &fe->base);

	if (!ret && c->stats)
		c->stats->nr_files++;
	return ret;
}

/*
 * Is the `toff`-th file epoll `efd` of `pid` watches as fd `tfd` the one at
 * fd `tfd` now? kcmp(KCMP_EPOLL_TFD) says; every anon-inode file shares
 * one inode, so an inode check could not.
 */
static bool same_target(pid_t pid, int efd, int tfd, uint32_t toff)
{
	struct {
		uint32_t efd, tfd, toff;
	} slot = {(uint32_t)efd, (uint32_t)tfd, toff};

	return syscall(SYS_kcmp, pid, pid, KCMP_EPOLL_TFD, tfd, &slot) == 0;
}

static int dump_epoll(struct td_ctx *c, struct td_proc *p, const struct td_anon_fd *f, FileEntry *fe)
{
	EventpollFileEntry ep = EVENTPOLL_FILE_ENTRY__INIT;
	_cleanup_free_ struct fdinfo_epoll_tfd *tfds = NULL;
	_cleanup_free_ EventpollTfdEntry *te = NULL;
	_cleanup_free_ EventpollTfdEntry **tp = NULL;
	struct proc_err e = {0};
	struct hmap seen; /* fd number -> watches of it met so far */
	size_t n;

	if (fdinfo_epoll(f->fi, &tfds, &n, &e))
		return parse_failed(p->pid, f->fd, "epoll", &e);
	te = xzalloc((n ? n : 1) * sizeof(*te));
	tp = xzalloc((n ? n : 1) * sizeof(*tp));
	hmap_init(&seen);
	for (size_t i = 0; i < n; i++) {
		/* the toff-th watch of this fd number: those before it counted */
		uint32_t toff = (uint32_t)(uintptr_t)hmap_get_int(&seen, (uint64_t)tfds[i].tfd);

		hmap_put_int(&seen, (uint64_t)tfds[i].tfd, (void *)(uintptr_t)(toff + 1));
		if (!same_target(p->pid, f->fd, tfds[i].tfd, toff)) {
			hmap_free(&seen);
			pr_err("process %d: epoll fd %d watches fd %d, which is not open in it as that file now (added by another process, or closed); not supported\n",
			       p->pid, f->fd, tfds[i].tfd);
			return -EOPNOTSUPP;
		}
		eventpoll_tfd_entry__init(&te[i]);
		te[i].id = fe->id;
		te[i].tfd = (uint32_t)tfds[i].tfd;
		te[i].events = tfds[i].events;
		te[i].data = tfds[i].data;
		te[i].has_dev = true;
		te[i].dev = tfds[i].sdev;
		te[i].has_inode = true;
		te[i].inode = tfds[i].ino;
		te[i].has_pos = true;
		te[i].pos = (uint64_t)tfds[i].pos;
		tp[i] = &te[i];
	}
	hmap_free(&seen);
	ep.id = fe->id;
	ep.flags = f->fi->flags & ~(uint32_t)O_CLOEXEC;
	ep.fown = f->fown;
	ep.n_tfd = n;
	ep.tfd = tp;
	fe->epfd = &ep;
	return td_write_file_entry(c, fe);
}

int td_dump_anon(struct td_ctx *c, struct td_proc *p, const struct td_anon_fd *f, int type, uint32_t id)
{
	FileEntry fe = FILE_ENTRY__INIT;
	struct proc_err e = {0};
	uint32_t flags = f->fi->flags & ~(uint32_t)O_CLOEXEC;

	fe.type = type;
	fe.id = id;
	switch (type) {
	case FD_TYPES__EVENTFD: {
		EventfdFileEntry ef = EVENTFD_FILE_ENTRY__INIT;
		struct fdinfo_eventfd v;

		if (fdinfo_eventfd(f->fi, &v, &e))
			return parse_failed(p->pid, f->fd, "eventfd", &e);
		if (!v.mode_known)
			pr_warn("process %d: this kernel does not tell whether eventfd %d is in semaphore mode; it is restored as a counter\n",
				p->pid, f->fd);
		if (v.semaphore) {
			pr_err("process %d: fd %d is an eventfd in semaphore mode, which can't be dumped yet\n", p->pid,
			       f->fd);
			return -EOPNOTSUPP;
		}
		ef.id = id;
		ef.flags = flags;
		ef.fown = f->fown;
		ef.counter = v.count;
		fe.efd = &ef;
		return td_write_file_entry(c, &fe);
	}
	case FD_TYPES__SIGNALFD: {
		SignalfdEntry sf = SIGNALFD_ENTRY__INIT;

		if (fdinfo_signalfd(f->fi, &sf.sigmask, &e))
			return parse_failed(p->pid, f->fd, "signalfd", &e);
		sf.id = id;
		sf.flags = flags;
		sf.fown = f->fown;
		fe.sgfd = &sf;
		return td_write_file_entry(c, &fe);
	}
	case FD_TYPES__TIMERFD: {
		TimerfdEntry tf = TIMERFD_ENTRY__INIT;
		struct fdinfo_timerfd v;

		if (fdinfo_timerfd(f->fi, &v, &e))
			return parse_failed(p->pid, f->fd, "timerfd", &e);
		tf.id = id;
		tf.flags = flags;
		tf.fown = f->fown;
		tf.clockid = v.clockid;
		tf.ticks = v.ticks;
		tf.settime_flags = v.settime_flags;
		tf.vsec = v.vsec;
		tf.vnsec = v.vnsec;
		tf.isec = v.isec;
		tf.insec = v.insec;
		fe.tfd = &tf;
		return td_write_file_entry(c, &fe);
	}
	case FD_TYPES__EVENTPOLL:
		return dump_epoll(c, p, f, &fe);
	}
	return -EINVAL;
}

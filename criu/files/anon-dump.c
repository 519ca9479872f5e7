/*
 * The anon-inode kinds of open file (file-kind.h): eventfd, signalfd,
 * timerfd and epoll, each a file_entry of its kind. All they hold is told
 * by /proc/PID/fdinfo (proc/fdinfo-anon.c parses it):
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
#include <sys/timerfd.h>
#include <unistd.h>

#include "files/anon.h"
#include "files/files-dump.h"
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

int td_dump_epoll(struct td_ctx *c, struct td_proc *p, const struct td_fd *f, uint32_t id, FownEntry *fown)
{
	FileEntry fe = FILE_ENTRY__INIT;
	EventpollFileEntry ep = EVENTPOLL_FILE_ENTRY__INIT;
	_cleanup_free_ struct fdinfo_epoll_tfd *tfds = NULL;
	_cleanup_free_ EventpollTfdEntry *te = NULL;
	_cleanup_free_ EventpollTfdEntry **tp = NULL;
	struct proc_err e = {0};
	struct hmap seen; /* fd number -> watches of it met so far */
	size_t n;

	if (fdinfo_epoll(&f->fi, &tfds, &n, &e))
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
			pr_err("process %d: epoll fd %d watches fd %d, which is not open in it as that file now (added "
			       "by another process, or closed); not supported\n",
			       p->pid, f->fd, tfds[i].tfd);
			return -EOPNOTSUPP;
		}
		eventpoll_tfd_entry__init(&te[i]);
		te[i].id = id;
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
	ep.id = id;
	ep.flags = f->fi.flags & ~(uint32_t)O_CLOEXEC;
	ep.fown = fown;
	ep.n_tfd = n;
	ep.tfd = tp;
	fe.type = FD_TYPES__EVENTPOLL;
	fe.id = id;
	fe.epfd = &ep;
	return td_write_file_entry(c, &fe);
}

int td_dump_eventfd(struct td_ctx *c, struct td_proc *p, const struct td_fd *f, uint32_t id, FownEntry *fown)
{
	FileEntry fe = FILE_ENTRY__INIT;
	EventfdFileEntry ef = EVENTFD_FILE_ENTRY__INIT;
	struct proc_err e = {0};
	struct fdinfo_eventfd v;

	if (fdinfo_eventfd(&f->fi, &v, &e))
		return parse_failed(p->pid, f->fd, "eventfd", &e);
	if (!v.mode_known)
		pr_warn("process %d: this kernel does not tell whether eventfd %d is in semaphore mode; it is restored "
			"as a counter\n",
			p->pid, f->fd);
	if (v.semaphore) {
		pr_err("process %d: fd %d is an eventfd in semaphore mode, which can't be dumped yet\n", p->pid, f->fd);
		return -EOPNOTSUPP;
	}
	ef.id = id;
	ef.flags = f->fi.flags & ~(uint32_t)O_CLOEXEC;
	ef.fown = fown;
	ef.counter = v.count;
	fe.type = FD_TYPES__EVENTFD;
	fe.id = id;
	fe.efd = &ef;
	return td_write_file_entry(c, &fe);
}

int td_dump_signalfd(struct td_ctx *c, struct td_proc *p, const struct td_fd *f, uint32_t id, FownEntry *fown)
{
	FileEntry fe = FILE_ENTRY__INIT;
	SignalfdEntry sf = SIGNALFD_ENTRY__INIT;
	struct proc_err e = {0};

	if (fdinfo_signalfd(&f->fi, &sf.sigmask, &e))
		return parse_failed(p->pid, f->fd, "signalfd", &e);
	sf.id = id;
	sf.flags = f->fi.flags & ~(uint32_t)O_CLOEXEC;
	sf.fown = fown;
	fe.type = FD_TYPES__SIGNALFD;
	fe.id = id;
	fe.sgfd = &sf;
	return td_write_file_entry(c, &fe);
}

/* The timer as fdinfo `fi` shows it. */
static int write_timerfd(struct td_ctx *c, struct td_proc *p, const struct td_fd *f, const struct proc_fdinfo *fi,
			 uint32_t id, FownEntry *fown)
{
	FileEntry fe = FILE_ENTRY__INIT;
	TimerfdEntry tf = TIMERFD_ENTRY__INIT;
	struct proc_err e = {0};
	struct fdinfo_timerfd v;

	if (fdinfo_timerfd(fi, &v, &e))
		return parse_failed(p->pid, f->fd, "timerfd", &e);
	tf.id = id;
	tf.flags = fi->flags & ~(uint32_t)O_CLOEXEC;
	tf.fown = fown;
	tf.clockid = v.clockid;
	tf.ticks = v.ticks;
	tf.settime_flags = v.settime_flags;
	tf.vsec = v.vsec;
	tf.vnsec = v.vnsec;
	tf.isec = v.isec;
	tf.insec = v.insec;
	fe.type = FD_TYPES__TIMERFD;
	fe.id = id;
	fe.tfd = &tf;
	return td_write_file_entry(c, &fe);
}

/*
 * A periodic timer that expired unread waits for a read to be moved on,
 * and fdinfo shows no time left meanwhile: timerfd_gettime() moves it on
 * as a read would (counting what expired) without taking the count; then
 * fdinfo again.
 */
int td_dump_timerfd(struct td_ctx *c, struct td_proc *p, const struct td_fd *f, uint32_t id, FownEntry *fown)
{
	struct proc_fdinfo fi;
	struct itimerspec cur;
	int ret;

	memset(&fi, 0, sizeof(fi));
	if (timerfd_gettime(f->lfd, &cur) < 0) {
		pr_perror("process %d: timerfd_gettime on fd %d", p->pid, f->fd);
		return -errno;
	}
	ret = td_read_fdinfo(p->pid, f->fd, &fi);
	if (!ret)
		ret = write_timerfd(c, p, f, &fi, id, fown);
	proc_fdinfo_free(&fi);
	return ret;
}

bool td_is_eventfd(const struct td_fd *f)
{
	return td_fd_is_anon(f, "eventfd");
}

bool td_is_signalfd(const struct td_fd *f)
{
	return td_fd_is_anon(f, "signalfd");
}

bool td_is_timerfd(const struct td_fd *f)
{
	return td_fd_is_anon(f, "timerfd");
}

bool td_is_epoll(const struct td_fd *f)
{
	return td_fd_is_anon(f, "eventpoll");
}

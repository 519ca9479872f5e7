/*
 * Restore: the anon-inode kinds of open file (eventfd, signalfd, timerfd,
 * epoll; files/anon-dump.c says what is dumped), made by the root in the
 * new namespaces before it forks; the descriptors each epoll watches are
 * checked to be its first holder's (parse) and registered in that holder
 * once its descriptors are in place (act).
 */
#define LOG_PREFIX "restore: "

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "files/anon.h"
#include "util/log.h"
#include "task/rtree.h"
#include "util/util.h"

#ifndef TFD_IOC_SET_TICKS
#define TFD_IOC_SET_TICKS _IOW('T', 0, uint64_t)
#endif

/* ------------------------------------------------------------------------
 * Parse
 */

int eventfd_check(const FileEntry *fe)
{
	return fe->efd ? 0 : file_lacks(fe);
}

int signalfd_check(const FileEntry *fe)
{
	return fe->sgfd ? 0 : file_lacks(fe);
}

int timerfd_check(const FileEntry *fe)
{
	return fe->tfd ? 0 : file_lacks(fe);
}

int epoll_check(const FileEntry *fe)
{
	return fe->epfd ? 0 : file_lacks(fe);
}

const FownEntry *eventfd_fown(const FileEntry *fe)
{
	return fe->efd ? fe->efd->fown : NULL;
}

const FownEntry *signalfd_fown(const FileEntry *fe)
{
	return fe->sgfd ? fe->sgfd->fown : NULL;
}

const FownEntry *timerfd_fown(const FileEntry *fe)
{
	return fe->tfd ? fe->tfd->fown : NULL;
}

const FownEntry *epoll_fown(const FileEntry *fe)
{
	return fe->epfd ? fe->epfd->fown : NULL;
}

/* The fds an epoll watches are registered by its first holder: each must be one of its own. */
int epoll_resolve(const struct rtree *t, const struct rfile *f)
{
	const EventpollFileEntry *ep = f->fe->epfd;
	const struct rproc *p = f->holder;
	struct hmap fds;
	int ret = 0;

	if (!p)
		return 0; /* no descriptor holds it: never made */
	hmap_init(&fds);
	for (size_t k = 0; k < p->nr_fds; k++)
		hmap_put_int(&fds, p->fds[k]->fd, p->fds[k]);
	for (size_t j = 0; !ret && j < ep->n_tfd; j++)
		if (!hmap_get_int(&fds, ep->tfd[j]->tfd)) {
			pr_err("files.img: epoll %u watches fd %u, which process %d (its first holder) does not have\n",
			       f->fe->id, ep->tfd[j]->tfd, p->vpid);
			ret = -EINVAL;
		}
	hmap_free(&fds);
	return ret;
}

/* ------------------------------------------------------------------------
 * Act
 */

static int open_eventfd(const EventfdFileEntry *e)
{
	int fd = eventfd(0, (int)(e->flags & EFD_NONBLOCK) | EFD_CLOEXEC);

	if (fd < 0) {
		pr_perror("eventfd %u", e->id);
		return -errno;
	}
	if (e->counter && write(fd, &e->counter, sizeof(e->counter)) != sizeof(e->counter)) {
		pr_perror("eventfd %u: can't set its counter to %llu", e->id, (unsigned long long)e->counter);
		close(fd);
		return -EINVAL;
	}
	return fd;
}

static int open_signalfd(const SignalfdEntry *e)
{
	/* the kernel's 64-bit mask as such: glibc's sigaddset refuses 32, 33 */
	uint64_t mask = e->sigmask;
	int fd = (int)syscall(SYS_signalfd4, -1, &mask, sizeof(mask), (int)(e->flags & SFD_NONBLOCK) | SFD_CLOEXEC);

	if (fd < 0) {
		pr_perror("signalfd %u", e->id);
		return -errno;
	}
	return fd;
}

/* Armed for the time that was left (relative: the clock moved on meanwhile). */
static int open_timerfd(const TimerfdEntry *e)
{
	struct itimerspec its = {
		.it_value = {(time_t)e->vsec, (long)e->vnsec},
		.it_interval = {(time_t)e->isec, (long)e->insec},
	};
	int fd = timerfd_create((int)e->clockid, (int)(e->flags & TFD_NONBLOCK) | TFD_CLOEXEC);

	if (fd < 0) {
		pr_perror("timerfd %u (clock %u)", e->id, e->clockid);
		return -errno;
	}
	/* a periodic timer that expired unread shows no time left: next period */
	if (!e->vsec && !e->vnsec)
		its.it_value = its.it_interval;
	if ((its.it_value.tv_sec || its.it_value.tv_nsec) && timerfd_settime(fd, 0, &its, NULL) < 0) {
		pr_perror("timerfd %u: can't arm it", e->id);
		close(fd);
		return -EINVAL;
	}
	if (e->ticks && ioctl(fd, TFD_IOC_SET_TICKS, &e->ticks) < 0) {
		pr_perror("timerfd %u: can't give it back %llu expirations (TFD_IOC_SET_TICKS)", e->id,
			  (unsigned long long)e->ticks);
		close(fd);
		return -EINVAL;
	}
	return fd;
}

int eventfd_open(struct rtree *t, struct rfile *f)
{
	int fd = open_eventfd(f->fe->efd);

	return fd < 0 ? fd : rtree_move_fd(fd, f->table_fd);
}

int signalfd_open(struct rtree *t, struct rfile *f)
{
	int fd = open_signalfd(f->fe->sgfd);

	return fd < 0 ? fd : rtree_move_fd(fd, f->table_fd);
}

int timerfd_open(struct rtree *t, struct rfile *f)
{
	int fd = open_timerfd(f->fe->tfd);

	return fd < 0 ? fd : rtree_move_fd(fd, f->table_fd);
}

int epoll_open(struct rtree *t, struct rfile *f)
{
	int fd = epoll_create1(EPOLL_CLOEXEC);

	if (fd < 0) {
		pr_perror("epoll %u", f->fe->id);
		return -errno;
	}
	return rtree_move_fd(fd, f->table_fd);
}

/* In its first holder, at its fd there, once every descriptor of the holder is in place. */
int epoll_installed(const struct rtree *t, const struct rproc *p, const struct rfile *f)
{
	const EventpollFileEntry *ep = f->fe->epfd;

	for (size_t k = 0; k < ep->n_tfd; k++) {
		struct epoll_event ev = {.events = ep->tfd[k]->events, .data.u64 = ep->tfd[k]->data};

		if (epoll_ctl(f->holder_fd, EPOLL_CTL_ADD, (int)ep->tfd[k]->tfd, &ev) < 0) {
			pr_perror("process %d: epoll fd %d can't watch fd %u again", p->vpid, f->holder_fd,
				  ep->tfd[k]->tfd);
			return -errno;
		}
	}
	return 0;
}

/*
 * Restore, in the new namespaces: the anon-inode files of the file table
 * (eventfd, signalfd, timerfd, epoll), made by the root before it forks,
 * and the descriptors each epoll watches, registered once every descriptor
 * of its owner (the first process with it, in pstree order) is in place.
 */
#define LOG_PREFIX "restore: "

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "util/log.h"
#include "task/rtree.h"
#include "util/util.h"

#ifndef TFD_IOC_SET_TICKS
#define TFD_IOC_SET_TICKS _IOW('T', 0, uint64_t)
#endif

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

static int by_wd(const void *a, const void *b)
{
	uint32_t x = (*(const InotifyWdEntry *const *)a)->wd, y = (*(const InotifyWdEntry *const *)b)->wd;

	return x < y ? -1 : x > y;
}

/*
 * A path to watch and unwatch while moving the next watch number on: one
 * that is none of the real watches' inodes (watching one of those again
 * would give its number back instead of a new one).
 */
static const char *spare_path(InotifyWdEntry *const *w, size_t n)
{
	static const char *const candidates[] = {"/", "/dev", "/proc", "/sys", "/tmp", "/etc", "/usr", "/bin"};

	for (size_t c = 0; c < ARRAY_SIZE(candidates); c++) {
		struct stat st;
		bool used = false;

		if (lstat(candidates[c], &st))
			continue;
		for (size_t i = 0; i < n && !used; i++) {
			struct stat ws;

			used = !lstat(w[i]->f_handle->path, &ws) && ws.st_ino == st.st_ino && ws.st_dev == st.st_dev;
		}
		if (!used)
			return candidates[c];
	}
	return NULL;
}

/*
 * A new inotify file with the same watches, each with its own number
 * again: the kernel numbers watches in turn (the next after the last it
 * gave, freed ones not reused until it wraps), so they are added lowest
 * number first, a spare watch added and removed for each number skipped.
 * Events that were queued and not read yet are lost.
 */
static int open_inotify(const InotifyFileEntry *e)
{
	_cleanup_free_ InotifyWdEntry **w = xmalloc((e->n_wd + 1) * sizeof(*w));
	const char *spare = NULL;
	/* non-blocking until the spare watches' events are drained */
	int fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK), next = 1;

	if (fd < 0) {
		pr_perror("inotify %u", e->id);
		return -errno;
	}
	if (e->n_wd)
		memcpy(w, e->wd, e->n_wd * sizeof(*w));
	qsort(w, e->n_wd, sizeof(*w), by_wd);
	for (size_t i = 0; i < e->n_wd; i++) {
		int got;

		while (next < (int)w[i]->wd) {
			if (!spare && !(spare = spare_path(w, e->n_wd))) {
				pr_err("inotify %u: no spare path to number watch %u with\n", e->id, w[i]->wd);
				goto fail;
			}
			got = inotify_add_watch(fd, spare, IN_ATTRIB | IN_DONT_FOLLOW);
			if (got < 0 || inotify_rm_watch(fd, got)) {
				pr_perror("inotify %u: can't move on to watch %u (at %d)", e->id, w[i]->wd, next);
				goto fail;
			}
			next = got + 1;
		}
		/* the path names the watched inode itself (a symlink too): never followed */
		got = inotify_add_watch(fd, w[i]->f_handle->path, w[i]->mask | IN_DONT_FOLLOW);
		if (got < 0) {
			pr_perror("inotify %u: can't watch %s again", e->id, w[i]->f_handle->path);
			goto fail;
		}
		if (got != (int)w[i]->wd) {
			pr_err("inotify %u: %s came back as watch %d, not %u (two watches of one inode?)\n", e->id,
			       w[i]->f_handle->path, got, w[i]->wd);
			errno = EINVAL;
			goto fail;
		}
		next = got + 1;
	}
	/* the spare watches' removal queued IN_IGNORED events: not the program's */
	if (spare) {
		char buf[4096] __attribute__((aligned(8)));

		while (read(fd, buf, sizeof(buf)) > 0)
			;
	}
	if (!(e->flags & O_NONBLOCK) && fcntl(fd, F_SETFL, 0)) {
		pr_perror("inotify %u: can't make it blocking again", e->id);
		goto fail;
	}
	return fd;
fail:
	{
		int err = errno ? -errno : -EINVAL;

		close(fd);
		return err;
	}
}

int rtree_open_anon(const struct rfile *f)
{
	const FileEntry *fe = f->fe;
	int fd;

	switch (fe->type) {
	case FD_TYPES__EVENTFD:
		return open_eventfd(fe->efd);
	case FD_TYPES__SIGNALFD:
		return open_signalfd(fe->sgfd);
	case FD_TYPES__TIMERFD:
		return open_timerfd(fe->tfd);
	case FD_TYPES__INOTIFY:
		return open_inotify(fe->ify);
	case FD_TYPES__EVENTPOLL:
		fd = epoll_create1(EPOLL_CLOEXEC);
		if (fd < 0)
			pr_perror("epoll %u", fe->id);
		return fd < 0 ? -errno : fd;
	default:
		return -EINVAL;
	}
}

int rtree_register_epolls(struct rtree *t, struct rproc *p)
{
	for (size_t i = 0; i < p->nr_fds; i++) {
		struct rfile *f = rtree_file(t, p->fds[i]->id);
		const EventpollFileEntry *ep;

		if (f->fe->type != FD_TYPES__EVENTPOLL || f->holder != p || f->holder_fd != (int)p->fds[i]->fd)
			continue;
		ep = f->fe->epfd;
		for (size_t k = 0; k < ep->n_tfd; k++) {
			struct epoll_event ev = {.events = ep->tfd[k]->events, .data.u64 = ep->tfd[k]->data};

			if (epoll_ctl(f->holder_fd, EPOLL_CTL_ADD, (int)ep->tfd[k]->tfd, &ev) < 0) {
				pr_perror("process %d: epoll fd %d can't watch fd %u again", p->vpid, f->holder_fd,
					  ep->tfd[k]->tfd);
				return -errno;
			}
		}
	}
	return 0;
}

/*
 * The kind-specific lines of /proc/PID/fdinfo/N (struct proc_fdinfo's
 * `lines`) of eventfd, signalfd, timerfd, epoll and inotify files. Pure:
 * text in, struct out; on anything unexpected -EINVAL and `err` (may be
 * NULL) filled, with the line number in the fdinfo file (0 for a line that
 * is missing).
 *
 *   eventfd-count:                7      hex
 *   eventfd-semaphore: 0                 (6.6+)
 *   sigmask:	0000000000000200           hex
 *   clockid: 1 / ticks: 0 / settime flags: 01 (octal) /
 *   it_value: (0, 99993541) / it_interval: (0, 100000000)
 *   tfd:        5 events:       19 data:                5  pos:0 ino:37828 sdev:f
 *   inotify wd:2 ino:a7426e sdev:fe00000 mask:80000002 ignored_mask:0
 *     fhandle-bytes:8 fhandle-type:1 f_handle:6e42a7006972ff92   (one line)
 */
#ifndef CRIU_FDINFO_ANON_H
#define CRIU_FDINFO_ANON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proc/proc-fdinfo.h"

struct fdinfo_eventfd {
	uint64_t count;
	bool semaphore;
	bool mode_known; /* kernels before 6.6 do not print eventfd-semaphore */
};

struct fdinfo_timerfd {
	uint32_t clockid;
	uint64_t ticks;
	uint32_t settime_flags;
	uint64_t vsec, vnsec; /* time left to the next expiry */
	uint64_t isec, insec; /* interval */
};

struct fdinfo_epoll_tfd {
	int32_t tfd;
	uint32_t events;
	uint64_t data;
	int64_t pos;
	uint64_t ino;
	uint32_t sdev;
};

#define FDINFO_FH_MAX 128 /* MAX_HANDLE_SZ */

struct fdinfo_inotify_wd {
	int32_t wd;
	uint64_t ino;
	uint32_t sdev; /* the kernel's dev_t: major << 20 | minor */
	uint32_t mask, ignored_mask;
	uint32_t fh_bytes; /* 0: the kernel could not make a handle */
	int32_t fh_type;
	uint8_t fh[FDINFO_FH_MAX];
};

int fdinfo_eventfd(const struct proc_fdinfo *fi, struct fdinfo_eventfd *e, struct proc_err *err);
int fdinfo_signalfd(const struct proc_fdinfo *fi, uint64_t *sigmask, struct proc_err *err);
int fdinfo_timerfd(const struct proc_fdinfo *fi, struct fdinfo_timerfd *t, struct proc_err *err);
/* *tfds is malloc'd (NULL when the epoll watches nothing). */
int fdinfo_epoll(const struct proc_fdinfo *fi, struct fdinfo_epoll_tfd **tfds, size_t *nr, struct proc_err *err);
/* The watches of an inotify file, as listed (newest first); *wds is
 * malloc'd (NULL when it watches nothing). */
int fdinfo_inotify(const struct proc_fdinfo *fi, struct fdinfo_inotify_wd **wds, size_t *nr, struct proc_err *err);

#endif

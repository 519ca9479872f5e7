/*
 * Restore, act: the tree's new time namespace (see task/timens.h). criu
 * unshares a time namespace for its children, writes its offsets (only
 * possible before any task is in it), lets the root task be cloned into
 * it, then makes its own later children in its own namespace again.
 */
#define LOG_PREFIX "timens: "

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "task/timens.h"
#include "util/log.h"
#include "util/util.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

#define NSEC_PER_SEC 1000000000LL

static int64_t ts_ns(const Timespec *t)
{
	return (int64_t)t->tv_sec * NSEC_PER_SEC + (int64_t)t->tv_nsec;
}

void timens_offsets(const TimensEntry *e, int64_t mono_now, int64_t boot_now, int64_t own_mono, int64_t own_boot,
		    int64_t *mono_off, int64_t *boot_off)
{
	/* the host's clocks are criu's less criu's own namespace's offsets */
	*mono_off = ts_ns(e->monotonic) - (mono_now - own_mono);
	*boot_off = ts_ns(e->boottime) - (boot_now - own_boot);
}

static int64_t offset_ns(struct proc_timespec t)
{
	return t.sec * NSEC_PER_SEC + t.nsec;
}

static int64_t now_ns(clockid_t id)
{
	struct timespec t;

	clock_gettime(id, &t);
	return (int64_t)t.tv_sec * NSEC_PER_SEC + t.tv_nsec;
}

/* "<clock> <sec> <nsec>" with 0 <= nsec < 1e9, as timens_offsets takes it. */
static int offset_line(char *buf, size_t len, const char *clock, int64_t off)
{
	int64_t sec = off / NSEC_PER_SEC, nsec = off % NSEC_PER_SEC;

	if (nsec < 0) {
		nsec += NSEC_PER_SEC;
		sec--;
	}
	return snprintf(buf, len, "%s %" PRId64 " %" PRId64 "\n", clock, sec, nsec);
}

static int write_offsets(const char *who, const TimensEntry *e, const struct proc_timens_offsets *own)
{
	int64_t mono, boot;
	char buf[128], path[64];
	int n, fd, ret = 0;

	timens_offsets(e, now_ns(CLOCK_MONOTONIC), now_ns(CLOCK_BOOTTIME), offset_ns(own->monotonic),
		       offset_ns(own->boottime), &mono, &boot);
	n = offset_line(buf, sizeof(buf), "monotonic", mono);
	n += offset_line(buf + n, sizeof(buf) - (size_t)n, "boottime", boot);
	snprintf(path, sizeof(path), "/proc/%s/timens_offsets", who);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, buf, (size_t)n) != n) {
		ret = -errno;
		pr_perror("can't set the offsets of the tree's time namespace (%.*s)", n - 1, buf);
	} else {
		pr_info("clocks of the tree: monotonic %+.3f s, boottime %+.3f s from the host's\n", mono / 1e9,
			boot / 1e9);
	}
	if (fd >= 0)
		close(fd);
	return ret;
}

int timens_begin(const TimensEntry *e)
{
	int own = open("/proc/self/ns/time_for_children", O_RDONLY | O_CLOEXEC);
	struct proc_timens_offsets own_off;
	int ret;

	if (own < 0 && errno == ENOENT)
		return -ENOSYS;
	/* criu's own namespace's offsets, while /proc/self still shows them */
	if (own >= 0 && (ret = timens_read_offsets("self", &own_off))) {
		close(own);
		return ret;
	}
	if (own < 0) {
		pr_perror("can't open criu's time namespace");
		return -errno;
	}
	if (unshare(CLONE_NEWTIME)) {
		ret = errno == EINVAL ? -ENOSYS : -errno;
		if (ret != -ENOSYS)
			pr_perror("can't make a time namespace for the tree");
		close(own);
		return ret;
	}
	ret = write_offsets("self", e, &own_off);
	if (ret) {
		timens_end(own);
		return ret;
	}
	return own;
}

int timens_end(int own_ns_fd)
{
	int ret = 0;

	if (own_ns_fd < 0)
		return 0;
	if (setns(own_ns_fd, CLONE_NEWTIME)) {
		ret = -errno;
		pr_perror("can't go back to criu's time namespace for its children");
	}
	close(own_ns_fd);
	return ret;
}

int timens_set_offsets(pid_t pid, const TimensEntry *e)
{
	struct proc_timens_offsets own_off;
	char who[16];
	int ret = timens_read_offsets("self", &own_off);

	snprintf(who, sizeof(who), "%d", pid);
	return ret ? ret : write_offsets(who, e, &own_off);
}

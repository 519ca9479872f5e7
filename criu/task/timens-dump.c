/*
 * The clocks of the dumped tree (see task/timens.h).
 *
 * A namespace's clocks are the initial namespace's plus its offsets
 * (/proc/PID/timens_offsets), so the clocks of the root's own namespace
 * are criu's clocks, less criu's own offsets (zero unless criu itself
 * runs in a time namespace), plus the root's. Offsets never change once a
 * task is in the namespace; they are read first and the clocks right
 * after, so that the two clocks are read as close together as upstream
 * reads them (it reads them inside the namespace).
 */
#define LOG_PREFIX "dump: "

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dump.h"
#include "proc/proc-timens.h"
#include "task/timens.h"
#include "timens.pb-c.h"
#include "util/log.h"
#include "util/util.h"

/* The offsets of the time namespace `who` ("self" or a pid) is in. */
int timens_read_offsets(const char *who, struct proc_timens_offsets *off)
{
	_cleanup_free_ char *buf = NULL;
	struct proc_err perr;
	char path[64];
	size_t len;
	int ret;

	snprintf(path, sizeof(path), "/proc/%s/timens_offsets", who);
	ret = read_file_at(AT_FDCWD, path, &buf, &len);
	if (ret < 0) {
		pr_err("can't read %s: %s\n", path, strerror(-ret));
		return ret;
	}
	ret = proc_timens_parse(buf, len, off, &perr);
	if (ret < 0)
		pr_err("%s: %s\n", path, proc_err_msg(&perr).s);
	return ret;
}

/*
 * /proc/self/timens_offsets shows the namespace of criu's future children:
 * criu's own only if it has not unshared one since.
 */
static int check_self_offsets_are_ours(void)
{
	struct stat own, children;

	if (stat("/proc/self/ns/time", &own) || stat("/proc/self/ns/time_for_children", &children)) {
		pr_perror("can't stat criu's own time namespace");
		return -errno;
	}
	if (own.st_ino != children.st_ino) {
		pr_err("criu's children would be in another time namespace than criu: can't tell its clock offsets\n");
		return -EINVAL;
	}
	return 0;
}

static int read_clocks(struct proc_timespec *mono, struct proc_timespec *boot)
{
	struct timespec m, b;

	if (clock_gettime(CLOCK_MONOTONIC, &m) || clock_gettime(CLOCK_BOOTTIME, &b)) {
		pr_perror("can't read the clocks");
		return -errno;
	}
	*mono = (struct proc_timespec){m.tv_sec, m.tv_nsec};
	*boot = (struct proc_timespec){b.tv_sec, b.tv_nsec};
	return 0;
}

/* The root's clocks, from criu's and the two namespaces' offsets. */
static int read_tree_clocks(pid_t root, struct proc_timespec *mono, struct proc_timespec *boot)
{
	struct proc_timens_offsets ours, theirs;
	struct proc_timespec m, b;
	char pid[16];
	int ret;

	snprintf(pid, sizeof(pid), "%d", root);
	ret = check_self_offsets_are_ours();
	if (!ret)
		ret = timens_read_offsets("self", &ours);
	if (!ret)
		ret = timens_read_offsets(pid, &theirs);
	if (!ret)
		ret = read_clocks(&m, &b);
	if (ret)
		return ret;
	if (timens_clock_shift(m, ours.monotonic, theirs.monotonic, mono) ||
	    timens_clock_shift(b, ours.boottime, theirs.boottime, boot)) {
		pr_err("the clocks of process %d's time namespace are out of range (offsets monotonic %lld.%09lld, "
		       "boottime %lld.%09lld s)\n",
		       root, (long long)theirs.monotonic.sec, (long long)theirs.monotonic.nsec,
		       (long long)theirs.boottime.sec, (long long)theirs.boottime.nsec);
		return -ERANGE;
	}
	return 0;
}

int timens_dump(struct dump_ctx *d)
{
	TimensEntry e = TIMENS_ENTRY__INIT;
	Timespec mono = TIMESPEC__INIT, boot = TIMESPEC__INIT;
	struct proc_timespec m, b;
	struct img_writer *w;
	int ret;

	if (d->time_ns_id)
		ret = read_tree_clocks(d->pid, &m, &b);
	else
		ret = read_clocks(&m, &b);
	if (ret)
		return ret;
	mono.tv_sec = (uint64_t)m.sec;
	mono.tv_nsec = (uint64_t)m.nsec;
	boot.tv_sec = (uint64_t)b.sec;
	boot.tv_nsec = (uint64_t)b.nsec;
	e.monotonic = &mono;
	e.boottime = &boot;
	pr_info("clocks of the tree%s: monotonic %lld.%09lld, boottime %lld.%09lld s\n",
		d->time_ns_id ? " (its own time namespace)" : "", (long long)m.sec, (long long)m.nsec, (long long)b.sec,
		(long long)b.nsec);
	w = img_set_new(&d->imgs, IMG_TIMENS, d->time_ns_id);
	return w ? img_write_entry(w, &e.base) : -EIO;
}

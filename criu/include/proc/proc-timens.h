/*
 * Parse /proc/PID/timens_offsets: the clock offsets of a time namespace
 * (time_namespaces(7)). Pure: no syscalls, never prints, returns -EINVAL
 * and fills a struct proc_err on bad input.
 *
 *   monotonic        3600         0
 *   boottime           -1 500000000
 *
 * One line per clock the namespace shifts: its name ("monotonic",
 * "boottime"; kernels and writers also use the clock ids 1 and 7), the
 * seconds (signed) and the nanoseconds (0..999999999) of the offset, in
 * columns padded with spaces ("%-10s %10lld %9ld"). A negative offset has
 * negative seconds and positive nanoseconds, as the kernel normalises it.
 * Both clocks must appear, once each.
 *
 * The file shows the namespace of the task's *children* (ns/time_for_children),
 * which is the task's own unless it unshared a time namespace since.
 * The offsets are from the clocks of the initial time namespace, not from
 * a parent's: a clock in the namespace reads the host's clock plus them.
 */
#ifndef CRIU_PROC_TIMENS_H
#define CRIU_PROC_TIMENS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "proc/proc-text.h"

/* An offset or a clock reading: seconds and 0..999999999 nanoseconds. */
struct proc_timespec {
	int64_t sec;
	int64_t nsec;
};

struct proc_timens_offsets {
	struct proc_timespec monotonic;
	struct proc_timespec boottime;
};

/*
 * Parses `len` bytes of `buf` (need not be NUL-terminated); `out` is
 * overwritten. On error returns -EINVAL and fills `err` (may be NULL).
 */
int proc_timens_parse(const char *buf, size_t len, struct proc_timens_offsets *out, struct proc_err *err);

/*
 * decide, pure: a clock of the namespace, from the same clock read outside
 * it (`clock`, in a namespace whose offset is `from`: zero for the initial
 * one) and the namespace's offset `to`: clock - from + to, normalised.
 * -ERANGE if that is negative or does not fit.
 */
int timens_clock_shift(struct proc_timespec clock, struct proc_timespec from, struct proc_timespec to,
		       struct proc_timespec *out);

#endif

/*
 * Parse /proc/PID/limits: the task's resource limits, text in, a table out.
 * Pure: no syscalls, never prints, returns -EINVAL and fills a struct
 * proc_err on bad input.
 *
 * Reading this file needs only ptrace-read access to the task, unlike
 * prlimit(2) on another user's task, which needs CAP_SYS_RESOURCE.
 *
 *   Limit                     Soft Limit           Hard Limit           Units
 *   Max cpu time              unlimited            unlimited            seconds
 *   Max stack size            8388608              unlimited            bytes
 *   Max nice priority         0                    0
 *
 * A header line, then one row per limit in RLIMIT_* order: the name (words
 * separated by single spaces), padding, the soft and hard values (decimal,
 * or "unlimited" for RLIM_INFINITY) and an optional unit word. Rows are
 * matched by name, so their order does not matter; a row with a name we do
 * not know (a newer kernel's) is checked and skipped; each of the 16 limits
 * must appear exactly once.
 */
#ifndef CRIU_PROC_LIMITS_H
#define CRIU_PROC_LIMITS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>

#include "proc/proc-text.h"

#define PROC_LIMITS_NR 16 /* RLIMIT_CPU .. RLIMIT_RTTIME */

struct proc_limits {
	struct {
		uint64_t cur;  /* soft limit; RLIM_INFINITY for "unlimited" */
		uint64_t max;  /* hard limit */
	} lim[PROC_LIMITS_NR]; /* indexed by RLIMIT_* */
};

/*
 * Parses `len` bytes of `buf` (need not be NUL-terminated; any line
 * length). `l` is overwritten. On error returns -EINVAL and fills `err`
 * (may be NULL).
 */
int proc_limits_parse(const char *buf, size_t len, struct proc_limits *l, struct proc_err *err);

/* The row name of RLIMIT_* number `res`, e.g. "Max open files"; NULL if unknown. */
const char *proc_limit_name(unsigned res);

#endif

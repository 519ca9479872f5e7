/*
 * /proc/PID/timens_offsets parser (see proc-timens.h).
 *
 * A line is split into words by runs of spaces: exactly three, the clock,
 * the seconds and the nanoseconds. Empty lines are skipped.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "proc/proc-timens.h"

#define NSEC_PER_SEC 1000000000LL

/* The clock a line is about: 0 monotonic, 1 boottime, -1 neither. */
static int clock_index(struct proc_span w)
{
	/* the names the kernel prints, and CLOCK_MONOTONIC / CLOCK_BOOTTIME */
	if (proc_span_eq(w, "monotonic") || proc_span_eq(w, "1"))
		return 0;
	if (proc_span_eq(w, "boottime") || proc_span_eq(w, "7"))
		return 1;
	return -1;
}

static int parse_line(struct proc_span line, unsigned lineno, struct proc_timespec *v, bool *seen, struct proc_err *err)
{
	static const char *const names[] = {"monotonic", "boottime"};
	struct proc_span whole = line, clock, sec, nsec, extra;
	const char *why;
	int64_t n;
	int k;

	if (!proc_next_word(&line, &clock) || !proc_next_word(&line, &sec) || !proc_next_word(&line, &nsec))
		return proc_fail(err, lineno, NULL, "expected \"<clock> <seconds> <nanoseconds>\"", whole);
	if (proc_next_word(&line, &extra))
		return proc_fail(err, lineno, NULL, "more than three fields", extra);
	k = clock_index(clock);
	if (k < 0)
		return proc_fail(err, lineno, "clock", "unknown clock", clock);
	if (seen[k])
		return proc_fail(err, lineno, names[k], "listed twice", clock);
	seen[k] = true;
	why = proc_parse_int(sec, INT64_MIN, INT64_MAX, &n);
	if (why)
		return proc_fail_part(err, lineno, names[k], "seconds", why, sec);
	v[k].sec = n;
	why = proc_parse_int(nsec, 0, NSEC_PER_SEC - 1, &n);
	if (why)
		return proc_fail_part(err, lineno, names[k], "nanoseconds", why, nsec);
	v[k].nsec = n;
	return 0;
}

int proc_timens_parse(const char *buf, size_t len, struct proc_timens_offsets *out, struct proc_err *err)
{
	static const char *const names[] = {"monotonic", "boottime"};
	struct proc_timespec v[2] = {{0, 0}, {0, 0}};
	bool seen[2] = {false, false};
	struct proc_lines it;
	struct proc_span line;

	proc_err_reset(err);
	memset(out, 0, sizeof(*out));
	proc_lines_init(&it, buf, len);
	while (proc_next_line(&it, &line)) {
		struct proc_span rest = line;
		int ret;

		proc_skip_spaces(&rest);
		if (!rest.len)
			continue;
		ret = proc_refuse_nul(err, it.lineno, line);
		if (!ret)
			ret = parse_line(line, it.lineno, v, seen, err);
		if (ret)
			return ret;
	}
	for (int k = 0; k < 2; k++)
		if (!seen[k])
			return proc_fail(err, 0, names[k], "missing", PROC_NO_TEXT);
	out->monotonic = v[0];
	out->boottime = v[1];
	return 0;
}

int timens_clock_shift(struct proc_timespec clock, struct proc_timespec from, struct proc_timespec to,
		       struct proc_timespec *out)
{
	int64_t sec, nsec;

	/* each nsec is below 1e9 in magnitude: their sum can't overflow */
	nsec = clock.nsec - from.nsec + to.nsec;
	if (__builtin_sub_overflow(clock.sec, from.sec, &sec) || __builtin_add_overflow(sec, to.sec, &sec))
		return -ERANGE;
	while (nsec < 0) {
		nsec += NSEC_PER_SEC;
		if (__builtin_sub_overflow(sec, 1, &sec))
			return -ERANGE;
	}
	while (nsec >= NSEC_PER_SEC) {
		nsec -= NSEC_PER_SEC;
		if (__builtin_add_overflow(sec, 1, &sec))
			return -ERANGE;
	}
	if (sec < 0)
		return -ERANGE;
	out->sec = sec;
	out->nsec = nsec;
	return 0;
}

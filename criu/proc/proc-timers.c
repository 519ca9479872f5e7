/*
 * /proc/PID/timers: see proc-timers.h.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "proc/proc-timers.h"
#include "util/util.h"

#ifndef SIGEV_THREAD_ID
#define SIGEV_THREAD_ID 4
#endif

/*
 * The next line of the timer, which must start with `key`: its value in *v.
 * Fails naming the key (as printed, without ": "); the caller shows `what`
 * is expected there.
 */
static int next_line(struct proc_lines *it, const char *key, const char *what, struct proc_span *v,
		     struct proc_err *err)
{
	if (!proc_next_line(it, v))
		return proc_fail(err, it->lineno, key, "missing line", PROC_NO_TEXT);
	if (!proc_skip_prefix(v, key) || !proc_skip_prefix(v, ": "))
		return proc_fail(err, it->lineno, key, what, *v);
	return 0;
}

/* "signal: 10/0000000000000000": the signal and sigev_value (hex). */
static int parse_signal(struct proc_span v, unsigned lineno, struct proc_timer *t, struct proc_err *err)
{
	struct proc_span signo;
	const char *why;
	int64_t n;

	if (!proc_split(&v, '/', &signo))
		return proc_fail(err, lineno, "signal", "expected \"<signo>/<hex value>\"", v);
	why = proc_parse_int(signo, INT32_MIN, INT32_MAX, &n);
	if (why)
		return proc_fail(err, lineno, "signal", why, signo);
	t->signo = (int32_t)n;
	why = proc_parse_uint(v, 16, UINT64_MAX, &t->sival);
	return why ? proc_fail(err, lineno, "signal", why, v) : 0;
}

/* "notify: signal/pid.8247": how, then whose pid or tid. */
static int parse_notify(struct proc_span v, unsigned lineno, struct proc_timer *t, struct proc_err *err)
{
	struct proc_span how, whose;
	const char *why;
	int64_t n;

	if (!proc_split(&v, '/', &how) || !proc_split(&v, '.', &whose))
		return proc_fail(err, lineno, "notify", "expected \"<how>/<pid|tid>.<n>\"", v);
	if (proc_span_eq(how, "signal"))
		t->notify = SIGEV_SIGNAL;
	else if (proc_span_eq(how, "none"))
		t->notify = SIGEV_NONE;
	else if (proc_span_eq(how, "thread"))
		t->notify = SIGEV_THREAD;
	else
		return proc_fail(err, lineno, "notify", "unknown notification", how);
	if (proc_span_eq(whose, "tid"))
		t->notify |= SIGEV_THREAD_ID;
	else if (!proc_span_eq(whose, "pid"))
		return proc_fail(err, lineno, "notify", "expected pid or tid", whose);
	why = proc_parse_int(v, 0, INT32_MAX, &n);
	if (why)
		return proc_fail(err, lineno, "notify", why, v);
	t->notify_pid = (pid_t)n;
	return 0;
}

/* One timer: its four lines, the first already read. */
static int parse_one(struct proc_lines *it, struct proc_span first, struct proc_timer *t, struct proc_err *err)
{
	struct proc_span v = first;
	const char *why;
	int64_t n;
	int ret;

	if (!proc_skip_prefix(&v, "ID: "))
		return proc_fail(err, it->lineno, "ID", "expected \"ID: <timer id>\"", first);
	why = proc_parse_int(v, 0, INT32_MAX, &n);
	if (why)
		return proc_fail(err, it->lineno, "ID", why, v);
	t->id = (int32_t)n;

	ret = next_line(it, "signal", "expected \"signal: <signo>/<hex value>\"", &v, err);
	if (!ret)
		ret = parse_signal(v, it->lineno, t, err);
	if (ret)
		return ret;

	ret = next_line(it, "notify", "expected \"notify: <how>/<pid|tid>.<n>\"", &v, err);
	if (!ret)
		ret = parse_notify(v, it->lineno, t, err);
	if (ret)
		return ret;

	ret = next_line(it, "ClockID", "expected \"ClockID: <clock>\"", &v, err);
	if (ret)
		return ret;
	why = proc_parse_int(v, INT32_MIN, INT32_MAX, &n);
	if (why)
		return proc_fail(err, it->lineno, "ClockID", why, v);
	t->clock = (int32_t)n;
	return 0;
}

int proc_timers_parse(const char *buf, size_t len, struct proc_timers *out, struct proc_err *err)
{
	struct proc_lines it;
	struct proc_span line;
	size_t cap = 0;

	proc_err_reset(err);
	memset(out, 0, sizeof(*out));
	proc_lines_init(&it, buf, len);
	while (proc_next_line(&it, &line)) {
		int ret;

		if (!line.len)
			continue;
		if (out->nr == cap) {
			cap = cap ? cap * 2 : 4;
			out->t = xrealloc(out->t, cap * sizeof(*out->t));
		}
		ret = parse_one(&it, line, &out->t[out->nr], err);
		if (ret) {
			proc_timers_free(out);
			return ret;
		}
		out->nr++;
	}
	return 0;
}

uint64_t timers_soonest_signal(const struct itimerval it[3], const struct proc_timers *t, const struct itimerspec *val)
{
	uint64_t soonest = UINT64_MAX, v;

	for (int which = 0; which < 3; which++) {
		v = (uint64_t)it[which].it_value.tv_sec * 1000000000ULL +
		    (uint64_t)it[which].it_value.tv_usec * 1000ULL;
		if (v && v < soonest)
			soonest = v;
	}
	for (size_t i = 0; i < t->nr; i++) {
		if ((t->t[i].notify & ~SIGEV_THREAD_ID) == SIGEV_NONE)
			continue;
		v = (uint64_t)val[i].it_value.tv_sec * 1000000000ULL + (uint64_t)val[i].it_value.tv_nsec;
		if (v && v < soonest)
			soonest = v;
	}
	return soonest;
}

void proc_timers_free(struct proc_timers *t)
{
	free(t->t);
	t->t = NULL;
	t->nr = 0;
}

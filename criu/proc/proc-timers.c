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

/* Does `line` start with `key`? Then the rest after it. */
static bool field(struct proc_span line, const char *key, struct proc_span *rest)
{
	size_t n = strlen(key);

	if (line.len < n || memcmp(line.s, key, n))
		return false;
	*rest = (struct proc_span){line.s + n, line.len - n};
	return true;
}

/* `v` cut at the first `sep`: the part before in *head, after in *tail. */
static bool split(struct proc_span v, char sep, struct proc_span *head, struct proc_span *tail)
{
	const char *at = memchr(v.s, sep, v.len);

	if (!at)
		return false;
	*head = (struct proc_span){v.s, (size_t)(at - v.s)};
	*tail = (struct proc_span){at + 1, v.len - (size_t)(at - v.s) - 1};
	return true;
}

static bool is(struct proc_span v, const char *s)
{
	return v.len == strlen(s) && !memcmp(v.s, s, v.len);
}

static int parse_one(struct proc_lines *it, struct proc_span first, struct proc_timer *t,
		     struct proc_parse_error *err)
{
	struct proc_span line, v, a, b, c;
	const char *why;
	int64_t n;
	uint64_t u;

	if (!field(first, "ID: ", &v) || (why = proc_parse_int(v, 0, INT32_MAX, &n)))
		return proc_fail(err, it->lineno, "expected \"ID: <timer id>\"");
	t->id = (int32_t)n;
	if (!proc_next_line(it, &line) || !field(line, "signal: ", &v) || !split(v, '/', &a, &b) ||
	    (why = proc_parse_int(a, INT32_MIN, INT32_MAX, &n)) || (why = proc_parse_uint(b, 16, UINT64_MAX, &u)))
		return proc_fail(err, it->lineno, "timer %d: expected \"signal: <signo>/<hex value>\"", t->id);
	t->signo = (int32_t)n;
	t->sival = u;
	if (!proc_next_line(it, &line) || !field(line, "notify: ", &v) || !split(v, '/', &a, &b) ||
	    !split(b, '.', &b, &c) || (why = proc_parse_int(c, 0, INT32_MAX, &n)))
		return proc_fail(err, it->lineno, "timer %d: expected \"notify: <how>/<pid|tid>.<n>\"", t->id);
	if (is(a, "signal"))
		t->notify = SIGEV_SIGNAL;
	else if (is(a, "none"))
		t->notify = SIGEV_NONE;
	else if (is(a, "thread"))
		t->notify = SIGEV_THREAD;
	else
		return proc_fail(err, it->lineno, "timer %d: unknown notification", t->id);
	if (is(b, "tid"))
		t->notify |= SIGEV_THREAD_ID;
	else if (!is(b, "pid"))
		return proc_fail(err, it->lineno, "timer %d: expected pid or tid", t->id);
	t->notify_pid = (pid_t)n;
	if (!proc_next_line(it, &line) || !field(line, "ClockID: ", &v) || (why = proc_parse_int(v, INT32_MIN, INT32_MAX, &n)))
		return proc_fail(err, it->lineno, "timer %d: expected \"ClockID: <clock>\"", t->id);
	t->clock = (int32_t)n;
	return 0;
}

int proc_timers_parse(const char *buf, size_t len, struct proc_timers *out, struct proc_parse_error *err)
{
	struct proc_lines it;
	struct proc_span line;
	size_t cap = 0;

	proc_error_reset(err);
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
		v = (uint64_t)it[which].it_value.tv_sec * 1000000000ULL + (uint64_t)it[which].it_value.tv_usec * 1000ULL;
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

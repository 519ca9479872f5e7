/*
 * /proc/PID/limits parser (see proc-limits.h).
 *
 * The kernel prints each row as "%-25s %-20s %-20s %-10s": the name is
 * left-aligned and padded, so a row is split into words by spaces. The last
 * word is the unit when it is neither a number nor "unlimited"; the two
 * before it are the soft and the hard limit; the words before those are the
 * name. (A value is never a unit word, and no name ends in a number, so the
 * split is unambiguous; a row with three values is rejected.)
 */
#include <errno.h>
#include <string.h>

#include "proc/proc-limits.h"
#include "util/util.h"

/* clang-format off */
static const char *const limit_names[PROC_LIMITS_NR] = {
	[RLIMIT_CPU] = "Max cpu time",
	[RLIMIT_FSIZE] = "Max file size",
	[RLIMIT_DATA] = "Max data size",
	[RLIMIT_STACK] = "Max stack size",
	[RLIMIT_CORE] = "Max core file size",
	[RLIMIT_RSS] = "Max resident set",
	[RLIMIT_NPROC] = "Max processes",
	[RLIMIT_NOFILE] = "Max open files",
	[RLIMIT_MEMLOCK] = "Max locked memory",
	[RLIMIT_AS] = "Max address space",
	[RLIMIT_LOCKS] = "Max file locks",
	[RLIMIT_SIGPENDING] = "Max pending signals",
	[RLIMIT_MSGQUEUE] = "Max msgqueue size",
	[RLIMIT_NICE] = "Max nice priority",
	[RLIMIT_RTPRIO] = "Max realtime priority",
	[RLIMIT_RTTIME] = "Max realtime timeout",
};
/* clang-format on */

#define MAX_WORDS 16 /* a name has at most 4 words; anything longer is not a row */

const char *proc_limit_name(unsigned res)
{
	return res < PROC_LIMITS_NR ? limit_names[res] : NULL;
}

/* Splits a line into words separated by one or more spaces. */
static size_t split_words(struct proc_span line, struct proc_span *w, size_t max, bool *too_many)
{
	struct proc_span word;
	size_t n = 0;

	*too_many = false;
	while (proc_next_word(&line, &word)) {
		if (n == max) {
			*too_many = true;
			return n;
		}
		w[n++] = word;
	}
	return n;
}

static bool is_value_word(struct proc_span w)
{
	return proc_span_eq(w, "unlimited") || (w.len && w.s[0] >= '0' && w.s[0] <= '9');
}

static const char *parse_limit(struct proc_span w, uint64_t *out)
{
	if (proc_span_eq(w, "unlimited")) {
		*out = RLIM_INFINITY;
		return NULL;
	}
	return proc_parse_uint(w, 10, UINT64_MAX, out);
}

/* The row name: words [0, n) joined by single spaces, looked up. */
static int find_limit(const struct proc_span *w, size_t n)
{
	for (int r = 0; r < PROC_LIMITS_NR; r++) {
		const char *name = limit_names[r];
		size_t k;

		for (k = 0; k < n; k++) {
			size_t l = w[k].len;

			if (strncmp(name, w[k].s, l) || (name[l] != (k + 1 < n ? ' ' : '\0')))
				break;
			name += l + (k + 1 < n);
		}
		if (k == n)
			return r;
	}
	return -1;
}

#define HEADER "expected the header \"Limit Soft Limit Hard Limit Units\""

static int check_header(const struct proc_span *w, size_t n, unsigned lineno, struct proc_err *err)
{
	static const char *const want[] = {"Limit", "Soft", "Limit", "Hard", "Limit", "Units"};

	if (n != ARRAY_SIZE(want))
		return proc_fail(err, lineno, NULL, HEADER, PROC_NO_TEXT);
	for (size_t i = 0; i < n; i++)
		if (!proc_span_eq(w[i], want[i]))
			return proc_fail(err, lineno, NULL, HEADER, w[i]);
	return 0;
}

/* One row: name..., soft, hard[, unit]; *res is -1 for a limit newer than us. */
static int parse_row(const struct proc_span *w, size_t n, struct proc_span line, unsigned lineno, struct proc_err *err,
		     int *res, uint64_t *cur, uint64_t *max)
{
	size_t nvals = n >= 1 && !is_value_word(w[n - 1]) ? n - 1 : n;
	const char *why;

	if (nvals < 3)
		return proc_fail(err, lineno, NULL, "expected \"Name  soft  hard  [unit]\"", line);
	why = parse_limit(w[nvals - 2], cur);
	if (why)
		return proc_fail(err, lineno, "soft limit", why, w[nvals - 2]);
	why = parse_limit(w[nvals - 1], max);
	if (why)
		return proc_fail(err, lineno, "hard limit", why, w[nvals - 1]);
	/* No name ends in a number: a third value means a broken row. */
	if (is_value_word(w[nvals - 3]))
		return proc_fail(err, lineno, NULL, "too many values", line);
	*res = find_limit(w, nvals - 2);
	return 0;
}

int proc_limits_parse(const char *buf, size_t len, struct proc_limits *l, struct proc_err *err)
{
	struct proc_span line, w[MAX_WORDS];
	struct proc_lines it;
	unsigned seen = 0;
	bool too_many;

	memset(l, 0, sizeof(*l));
	proc_err_reset(err);
	proc_lines_init(&it, buf, len);
	if (!proc_next_line(&it, &line))
		return proc_fail(err, 0, NULL, "empty file", PROC_NO_TEXT);
	do {
		uint64_t cur, max;
		size_t n;
		int r = -1, ret;

		ret = proc_refuse_nul(err, it.lineno, line);
		if (ret)
			return ret;
		n = split_words(line, w, MAX_WORDS, &too_many);
		if (it.lineno == 1) {
			ret = check_header(w, too_many ? 0 : n, it.lineno, err);
			if (ret)
				return ret;
			continue;
		}
		if (too_many)
			return proc_fail(err, it.lineno, NULL, "too many words", line);
		ret = parse_row(w, n, line, it.lineno, err, &r, &cur, &max);
		if (ret)
			return ret;
		if (r < 0)
			continue; /* a limit newer than us */
		if (seen & (1U << r))
			return proc_fail(err, it.lineno, limit_names[r], "repeated row", PROC_NO_TEXT);
		seen |= 1U << r;
		l->lim[r].cur = cur;
		l->lim[r].max = max;
	} while (proc_next_line(&it, &line));

	for (int r = 0; r < PROC_LIMITS_NR; r++)
		if (!(seen & (1U << r)))
			return proc_fail(err, 0, limit_names[r], "missing", PROC_NO_TEXT);
	return 0;
}

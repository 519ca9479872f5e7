/*
 * /proc/PID/fdinfo/FD parser (see proc-fdinfo.h).
 *
 * fs/proc/fd.c prints the common fields first, each as "key:\tvalue"; the
 * file's own show_fdinfo() and the lock lines follow. A line is one of
 * ours when its key (the text before the first ':') is pos, flags, mnt_id
 * or ino; any other line, whatever its shape, is kept raw.
 */
#include <errno.h>
#include <string.h>

#include "proc/proc-fdinfo.h"
#include "util/util.h"

enum {
	FI_POS,
	FI_FLAGS,
	FI_MNT_ID,
	FI_INO,
	FI_NR,
};

static const char *const fi_keys[FI_NR] = {"pos", "flags", "mnt_id", "ino"};

static int fail_value(struct proc_parse_error *err, unsigned lineno, int key, const char *why, struct proc_span v)
{
	char ex[PROC_EXCERPT_MAX + 4];

	proc_excerpt(v, ex);
	return proc_fail(err, lineno, "%s: %s: \"%s\"", fi_keys[key], why, ex);
}

/* "flags:\t0100001": octal with the leading 0 that "0%o" prints. */
static const char *parse_flags(struct proc_span v, uint32_t *out)
{
	uint64_t n;
	const char *why;

	if (!v.len || v.s[0] != '0')
		return "expected octal with a leading 0";
	why = proc_parse_uint(v, 8, UINT32_MAX, &n);
	if (!why)
		*out = (uint32_t)n;
	return why;
}

static int parse_field(struct proc_fdinfo *fi, int key, struct proc_span v, unsigned lineno,
		       struct proc_parse_error *err)
{
	const char *why = NULL;
	int64_t s;

	if (!v.len || v.s[0] != '\t')
		return fail_value(err, lineno, key, "expected a tab after the ':'", v);
	v.s++;
	v.len--;
	switch (key) {
	case FI_POS:
		why = proc_parse_int(v, INT64_MIN, INT64_MAX, &fi->pos);
		break;
	case FI_FLAGS:
		why = parse_flags(v, &fi->flags);
		break;
	case FI_MNT_ID:
		why = proc_parse_int(v, INT32_MIN, INT32_MAX, &s);
		if (!why)
			fi->mnt_id = (int32_t)s;
		break;
	case FI_INO:
		why = proc_parse_uint(v, 10, UINT64_MAX, &fi->ino);
		fi->has_ino = !why;
		break;
	}
	return why ? fail_value(err, lineno, key, why, v) : 0;
}

static void keep_line(struct proc_fdinfo *fi, struct proc_span line)
{
	if (!(fi->nr_lines & (fi->nr_lines - 1)))
		fi->lines = xrealloc(fi->lines, (fi->nr_lines ? fi->nr_lines * 2 : 1) * sizeof(*fi->lines));
	fi->lines[fi->nr_lines++] = proc_span_dup(line);
}

int proc_fdinfo_parse(const char *buf, size_t len, struct proc_fdinfo *fi, struct proc_parse_error *err)
{
	struct proc_lines it;
	struct proc_span line;
	unsigned seen = 0;

	memset(fi, 0, sizeof(*fi));
	proc_error_reset(err);
	proc_lines_init(&it, buf, len);
	while (proc_next_line(&it, &line)) {
		struct proc_span key, v = line;
		size_t col;
		int k, ret;

		if (proc_has_nul(line, &col))
			return proc_fail(err, it.lineno, "NUL byte at column %zu", col);
		if (!line.len)
			return proc_fail(err, it.lineno, "empty line");
		k = FI_NR;
		if (proc_split(&v, ':', &key))
			for (k = 0; k < FI_NR && !proc_span_eq(key, fi_keys[k]); k++)
				;
		if (k == FI_NR) {
			keep_line(fi, line);
			continue;
		}
		if (seen & (1U << k))
			return proc_fail(err, it.lineno, "%s: repeated key", fi_keys[k]);
		seen |= 1U << k;
		ret = parse_field(fi, k, v, it.lineno, err);
		if (ret)
			return ret;
	}
	for (int k = 0; k < FI_INO; k++)
		if (!(seen & (1U << k)))
			return proc_fail(err, 0, "%s: missing", fi_keys[k]);
	return 0;
}

void proc_fdinfo_free(struct proc_fdinfo *fi)
{
	for (size_t i = 0; i < fi->nr_lines; i++)
		free(fi->lines[i]);
	free(fi->lines);
	memset(fi, 0, sizeof(*fi));
}

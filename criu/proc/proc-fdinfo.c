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

/* "flags:\t0100001": octal with the leading 0 that "0%o" prints. */
static const char *parse_flags(struct proc_span v, uint32_t *out)
{
	if (!v.len || v.s[0] != '0')
		return "expected octal with a leading 0";
	return proc_parse_u32(v, 8, out);
}

/* The value of one of the four common keys: "\tvalue". */
static int parse_field(struct proc_fdinfo *fi, int key, struct proc_span v, unsigned lineno, struct proc_err *err)
{
	const char *why = NULL;
	int64_t s;

	if (!proc_skip_char(&v, '\t'))
		return proc_fail(err, lineno, fi_keys[key], "expected a tab after the ':'", v);
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
	return why ? proc_fail(err, lineno, fi_keys[key], why, v) : 0;
}

static void keep_line(struct proc_fdinfo *fi, struct proc_span line, unsigned lineno)
{
	/* Grows when nr_lines is a power of two (or 0). */
	if (!(fi->nr_lines & (fi->nr_lines - 1))) {
		size_t cap = fi->nr_lines ? fi->nr_lines * 2 : 1;

		fi->lines = xrealloc(fi->lines, cap * sizeof(*fi->lines));
		fi->lineno = xrealloc(fi->lineno, cap * sizeof(*fi->lineno));
	}
	fi->lineno[fi->nr_lines] = lineno;
	fi->lines[fi->nr_lines++] = proc_span_dup(line);
}

int proc_fdinfo_parse(const char *buf, size_t len, struct proc_fdinfo *fi, struct proc_err *err)
{
	struct proc_lines it;
	struct proc_span line;
	unsigned seen = 0;

	memset(fi, 0, sizeof(*fi));
	proc_err_reset(err);
	proc_lines_init(&it, buf, len);
	while (proc_next_line(&it, &line)) {
		struct proc_span key, v;
		int k, ret;

		ret = proc_refuse_nul(err, it.lineno, line);
		if (ret)
			return ret;
		if (!line.len)
			return proc_fail(err, it.lineno, NULL, "empty line", PROC_NO_TEXT);
		k = FI_NR;
		if (proc_key_value(line, &key, &v))
			for (k = 0; k < FI_NR && !proc_span_eq(key, fi_keys[k]); k++)
				;
		if (k == FI_NR) {
			keep_line(fi, line, it.lineno);
			continue;
		}
		if (seen & (1U << k))
			return proc_fail(err, it.lineno, fi_keys[k], "repeated key", PROC_NO_TEXT);
		seen |= 1U << k;
		ret = parse_field(fi, k, v, it.lineno, err);
		if (ret)
			return ret;
	}
	for (int k = 0; k < FI_INO; k++)
		if (!(seen & (1U << k)))
			return proc_fail(err, 0, fi_keys[k], "missing", PROC_NO_TEXT);
	return 0;
}

void proc_fdinfo_free(struct proc_fdinfo *fi)
{
	for (size_t i = 0; i < fi->nr_lines; i++)
		free(fi->lines[i]);
	free(fi->lines);
	free(fi->lineno);
	memset(fi, 0, sizeof(*fi));
}

/*
 * Helpers shared by the /proc text parsers; see proc-text.h.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "proc/proc-text.h"
#include "util/util.h"

void proc_lines_init(struct proc_lines *it, const char *buf, size_t len)
{
	it->pos = len ? buf : NULL;
	it->end = len ? buf + len : NULL;
	it->lineno = 0;
}

bool proc_next_line(struct proc_lines *it, struct proc_span *line)
{
	const char *nl;

	if (it->pos == it->end)
		return false;
	nl = memchr(it->pos, '\n', it->end - it->pos);
	line->s = it->pos;
	if (nl) {
		line->len = nl - it->pos;
		it->pos = nl + 1;
	} else {
		line->len = it->end - it->pos;
		it->pos = it->end;
	}
	it->lineno++;
	return true;
}

int proc_fail(struct proc_parse_error *err, unsigned line, const char *fmt, ...)
{
	va_list ap;

	if (err) {
		err->line = line;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

void proc_error_reset(struct proc_parse_error *err)
{
	if (err) {
		err->line = 0;
		err->msg[0] = '\0';
	}
}

void proc_excerpt(struct proc_span v, char out[static PROC_EXCERPT_MAX + 4])
{
	size_t n = v.len < PROC_EXCERPT_MAX ? v.len : PROC_EXCERPT_MAX;
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = v.s[i];

		out[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	if (v.len > n) {
		memcpy(out + i, "...", 3);
		i += 3;
	}
	out[i] = '\0';
}

static int digit_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return 99;
}

const char *proc_parse_uint(struct proc_span v, unsigned base, uint64_t max, uint64_t *out)
{
	uint64_t n = 0;

	if (!v.len)
		return "empty number";
	if (v.s[0] == '-' || v.s[0] == '+')
		return "sign not allowed";
	for (size_t i = 0; i < v.len; i++) {
		int d = digit_value((unsigned char)v.s[i]);

		if (d >= (int)base)
			return base == 16  ? "expected hex digits"
			       : base == 8 ? "expected octal digits"
					   : "expected digits";
		/* n * base + d > max, without overflowing */
		if ((uint64_t)d > max || n > (max - (uint64_t)d) / base)
			return "number out of range";
		n = n * base + (uint64_t)d;
	}
	*out = n;
	return NULL;
}

const char *proc_parse_int(struct proc_span v, int64_t min, int64_t max, int64_t *out)
{
	struct proc_span digits = v;
	bool neg = false;
	const char *why;
	uint64_t mag, limit;

	if (v.len && v.s[0] == '-') {
		neg = true;
		digits.s++;
		digits.len--;
		if (!digits.len)
			return "empty number";
		if (digits.s[0] == '-' || digits.s[0] == '+')
			return "expected digits";
	}
	if (neg && min >= 0)
		return "sign not allowed";
	if (!neg && max < 0)
		return "number out of range";
	/* The magnitude may reach 2^63 for INT64_MIN. */
	limit = neg ? (uint64_t)(-(min + 1)) + 1 : (uint64_t)max;
	why = proc_parse_uint(digits, 10, limit, &mag);
	if (why)
		return why;
	if (neg)
		*out = mag ? -(int64_t)(mag - 1) - 1 : 0;
	else
		*out = (int64_t)mag;
	if (*out < min || *out > max)
		return "number out of range";
	return NULL;
}

bool proc_has_nul(struct proc_span v, size_t *col)
{
	const char *nul = v.len ? memchr(v.s, '\0', v.len) : NULL;

	if (!nul)
		return false;
	*col = (size_t)(nul - v.s) + 1;
	return true;
}

bool proc_split(struct proc_span *v, char sep, struct proc_span *head)
{
	const char *p = v->len ? memchr(v->s, sep, v->len) : NULL;

	if (!p)
		return false;
	head->s = v->s;
	head->len = p - v->s;
	v->len -= head->len + 1;
	v->s = p + 1;
	return true;
}

bool proc_span_eq(struct proc_span v, const char *s)
{
	size_t n = strlen(s);

	return v.len == n && !memcmp(v.s, s, n);
}

char *proc_span_dup(struct proc_span v)
{
	char *p = xmalloc(v.len + 1);

	if (v.len)
		memcpy(p, v.s, v.len);
	p[v.len] = '\0';
	return p;
}

/*
 * The tokenizer and the error type shared by the /proc text parsers; see
 * proc-text.h.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "proc/proc-text.h"
#include "util/util.h"

/* ---- errors ---- */

void proc_err_reset(struct proc_err *err)
{
	if (err)
		memset(err, 0, sizeof(*err));
}

/* A short printable copy of v: other bytes as '?', "..." when cut. */
static void excerpt(struct proc_span v, char out[static PROC_EXCERPT_MAX + 4])
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

int proc_fail_part(struct proc_err *err, unsigned line, const char *field, const char *part, const char *why,
		   struct proc_span text)
{
	if (err) {
		proc_err_reset(err);
		err->line = line;
		err->field = field;
		err->part = part;
		err->why = why;
		if (text.s)
			excerpt(text, err->text);
	}
	return -EINVAL;
}

int proc_fail(struct proc_err *err, unsigned line, const char *field, const char *why, struct proc_span text)
{
	return proc_fail_part(err, line, field, NULL, why, text);
}

/* Appends to m->s at *n, never past its end (a cut message stays terminated). */
static void __attribute__((format(printf, 3, 4))) append(struct proc_err_msg *m, size_t *n, const char *fmt, ...)
{
	va_list ap;
	int r;

	if (*n >= sizeof(m->s) - 1)
		return;
	va_start(ap, fmt);
	r = vsnprintf(m->s + *n, sizeof(m->s) - *n, fmt, ap);
	va_end(ap);
	if (r > 0)
		*n += (size_t)r < sizeof(m->s) - *n ? (size_t)r : sizeof(m->s) - *n - 1;
}

struct proc_err_msg proc_err_msg(const struct proc_err *err)
{
	struct proc_err_msg m;
	size_t n = 0;

	m.s[0] = '\0';
	if (err->line)
		append(&m, &n, "line %u", err->line);
	if (err->line && err->col)
		append(&m, &n, ", column %u", err->col);
	if (err->line)
		append(&m, &n, ": ");
	if (err->field)
		append(&m, &n, "%s: ", err->field);
	if (err->part)
		append(&m, &n, "%s: ", err->part);
	append(&m, &n, "%s", err->why ? err->why : "no error");
	if (err->text[0])
		append(&m, &n, ": \"%.*s\"", PROC_EXCERPT_MAX + 3, err->text);
	return m;
}

/* ---- lines ---- */

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

bool proc_lines_only_newlines_left(const struct proc_lines *it)
{
	for (const char *p = it->pos; p != it->end; p++)
		if (*p != '\n')
			return false;
	return true;
}

int proc_refuse_nul(struct proc_err *err, unsigned line, struct proc_span v)
{
	const char *nul = v.len ? memchr(v.s, '\0', v.len) : NULL;

	if (!nul)
		return 0;
	proc_fail(err, line, NULL, "NUL byte", PROC_NO_TEXT);
	if (err)
		err->col = (unsigned)(nul - v.s) + 1;
	return -EINVAL;
}

/* ---- fields ---- */

void proc_fields_init(struct proc_fields *fw, struct proc_span line, char sep)
{
	fw->rest = line;
	fw->sep = sep;
	fw->more = true;
}

bool proc_next_field(struct proc_fields *fw, struct proc_span *f)
{
	if (!fw->more)
		return false;
	if (!proc_split(&fw->rest, fw->sep, f)) {
		/* The last field: the rest of the line. */
		*f = fw->rest;
		fw->rest.s += fw->rest.len;
		fw->rest.len = 0;
		fw->more = false;
	}
	return true;
}

void proc_skip_spaces(struct proc_span *v)
{
	while (v->len && v->s[0] == ' ') {
		v->s++;
		v->len--;
	}
}

bool proc_next_word(struct proc_span *v, struct proc_span *word)
{
	const char *sp;

	proc_skip_spaces(v);
	if (!v->len)
		return false;
	sp = memchr(v->s, ' ', v->len);
	word->s = v->s;
	word->len = sp ? (size_t)(sp - v->s) : v->len;
	v->s += word->len;
	v->len -= word->len;
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

bool proc_skip_prefix(struct proc_span *v, const char *prefix)
{
	size_t n = strlen(prefix);

	if (v->len < n || memcmp(v->s, prefix, n))
		return false;
	v->s += n;
	v->len -= n;
	return true;
}

bool proc_skip_char(struct proc_span *v, char c)
{
	if (!v->len || v->s[0] != c)
		return false;
	v->s++;
	v->len--;
	return true;
}

bool proc_key_value(struct proc_span line, struct proc_span *key, struct proc_span *value)
{
	*value = line;
	return proc_split(value, ':', key) && key->len;
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

/* ---- values ---- */

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

const char *proc_parse_u32(struct proc_span v, unsigned base, uint32_t *out)
{
	uint64_t n;
	const char *why = proc_parse_uint(v, base, UINT32_MAX, &n);

	if (!why)
		*out = (uint32_t)n;
	return why;
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

static bool is_odigit(char c)
{
	return c >= '0' && c <= '7';
}

const char *proc_unescape_octal(char *dst, struct proc_span src, size_t *bad)
{
	size_t i = 0, o = 0;

	while (i < src.len) {
		const char *bs = memchr(src.s + i, '\\', src.len - i);
		size_t run = bs ? (size_t)(bs - (src.s + i)) : src.len - i;
		unsigned v;

		/* Copy the plain run up to the next backslash. */
		if (run) {
			if (dst + o != src.s + i)
				memmove(dst + o, src.s + i, run);
			o += run;
			i += run;
		}
		if (!bs)
			break;

		/* i is at a backslash: it must start \ooo. */
		*bad = i;
		for (size_t k = 1; k <= 3; k++) {
			if (i + k >= src.len)
				return "truncated escape";
			if (!is_odigit(src.s[i + k]))
				return "bad escape (want \\ooo octal)";
		}
		v = (src.s[i + 1] - '0') * 64 + (src.s[i + 2] - '0') * 8 + (src.s[i + 3] - '0');
		if (v > 0377)
			return "bad escape (value above \\377)";
		if (v == 0)
			return "bad escape (\\000)";
		dst[o++] = (char)v;
		i += 4;
	}
	dst[o] = '\0';
	return NULL;
}

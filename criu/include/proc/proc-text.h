/*
 * The one tokenizer of every /proc text parser (mountinfo, maps, status,
 * limits, fdinfo and its kind-specific lines, timers, timens_offsets) and
 * their one error type.
 *
 * Text is handled as spans (pointer + length) into the caller's buffer, so
 * nothing is copied into fixed-size buffers and lines may be of any length;
 * no helper ever reads outside the span it is given. Layers, from the
 * bottom:
 *
 *   lines     proc_lines_init / proc_next_line: '\n'-separated lines of a
 *             buffer that need not be NUL-terminated; the last may lack '\n'
 *   fields    proc_fields_init / proc_next_field: fields separated by exactly
 *             one separator (two in a row make an empty field), as mountinfo
 *             prints them; proc_next_word: words separated by runs of spaces,
 *             as padded columns (limits, epoll lines) are printed
 *   pieces    proc_split, proc_skip_prefix, proc_skip_char, proc_skip_spaces,
 *             proc_key_value ("Key:\tvalue" lines), proc_span_eq, proc_span_dup
 *   values    proc_parse_uint / proc_parse_int: strict decimal, hex or octal
 *             integers with range checks; proc_unescape_octal: "\ooo"
 *
 * A parser reports bad input by filling a struct proc_err (proc_fail) and
 * returning -EINVAL; it never prints. The caller prints it once with
 * proc_err_msg():
 *
 *	ret = proc_maps_parse(buf, len, &maps, &err);
 *	if (ret < 0)
 *		pr_err("%s: %s\n", path, proc_err_msg(&err).s);
 *
 * Like the parsers built on them, these helpers are pure: no syscalls, no
 * printing, no globals.
 */
#ifndef CRIU_PROC_TEXT_H
#define CRIU_PROC_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A piece of the input; not NUL-terminated. */
struct proc_span {
	const char *s;
	size_t len;
};

#define PROC_EXCERPT_MAX 32

/*
 * What a /proc parser says about bad input. Every member points to static
 * text or is copied in, so the record outlives the buffer that was parsed.
 */
struct proc_err {
	unsigned line;	   /* 1-based line of the problem; 0: the input as a whole (e.g. a key missing) */
	unsigned col;	   /* 1-based column, when it says more than the field does (a NUL byte); else 0 */
	const char *field; /* the field or key at fault, e.g. "field 3 (major:minor)", "NSpid"; NULL: the line */
	const char *part;  /* the part of the field, e.g. "minor"; NULL: all of it */
	const char *why;   /* what is wrong, e.g. "number out of range"; NULL: no error */
	char text[PROC_EXCERPT_MAX + 4]; /* printable excerpt of the bad text ('?' for other bytes, "..." when
					    cut); "" when there is none */
};

/* Clears err (may be NULL): no error. Every parser does it first. */
void proc_err_reset(struct proc_err *err);

/*
 * Records a failure in err (may be NULL) and returns -EINVAL:
 * line, field (or NULL), why, and the offending text (text.s NULL or
 * text.len 0: none).
 */
int proc_fail(struct proc_err *err, unsigned line, const char *field, const char *why, struct proc_span text);
/* The same about one part of a field ("major" of "major:minor"). */
int proc_fail_part(struct proc_err *err, unsigned line, const char *field, const char *part, const char *why,
		   struct proc_span text);

/* A formatted error, returned by value so it can be used in one expression. */
#define PROC_ERR_MSG_MAX 256
struct proc_err_msg {
	char s[PROC_ERR_MSG_MAX];
};

/*
 * The one formatter: "line 3: field 4 (root): bad escape: "\09"",
 * "line 2, column 7: NUL byte", "NSpid: missing" (no line: the whole input).
 */
struct proc_err_msg proc_err_msg(const struct proc_err *err);

/* No span: for proc_fail() when there is no text to show. */
#define PROC_NO_TEXT ((struct proc_span){NULL, 0})

/* ---- lines ---- */

/* Walks the lines of buf[0..len): '\n' ends a line, the last may lack it. */
struct proc_lines {
	const char *pos;
	const char *end;
	unsigned lineno; /* number of the line last returned */
};

void proc_lines_init(struct proc_lines *it, const char *buf, size_t len);
/* The next line without its '\n'; false at the end of the input. */
bool proc_next_line(struct proc_lines *it, struct proc_span *line);
/* Is everything left after the line last returned made of '\n's (or nothing)? */
bool proc_lines_only_newlines_left(const struct proc_lines *it);

/* Refuses a NUL byte in the line (it would cut a C string short): fills err
 * with its column and returns -EINVAL; 0 when there is none. */
int proc_refuse_nul(struct proc_err *err, unsigned line, struct proc_span v);

/* ---- fields ---- */

/* Walks fields separated by exactly one `sep`: "a  b" is "a", "", "b". */
struct proc_fields {
	struct proc_span rest; /* the text after the last field taken */
	char sep;
	bool more; /* is there a next field (possibly empty)? */
};

void proc_fields_init(struct proc_fields *fw, struct proc_span line, char sep);
/* The next field (may be empty); false when the line has no more. */
bool proc_next_field(struct proc_fields *fw, struct proc_span *f);

/* Removes leading spaces from v. */
void proc_skip_spaces(struct proc_span *v);
/* The next word of v: leading spaces are skipped, the word runs to the next
 * space or the end (v keeps the rest, from that space); false when only
 * spaces are left. */
bool proc_next_word(struct proc_span *v, struct proc_span *word);

/* Splits v at the first `sep`: head before it, v becomes the rest after it.
 * false (and v unchanged) when sep does not occur. */
bool proc_split(struct proc_span *v, char sep, struct proc_span *head);

/* If v starts with the C string prefix, removes it and returns true. */
bool proc_skip_prefix(struct proc_span *v, const char *prefix);
/* If v starts with c, removes it and returns true. */
bool proc_skip_char(struct proc_span *v, char c);

/*
 * A "Key:value" line (status, fdinfo: "Key:\tvalue"): key is the text before
 * the first ':', value all of it after (its leading tab or spaces included,
 * for the caller to check). false when there is no ':' or the key is empty.
 */
bool proc_key_value(struct proc_span line, struct proc_span *key, struct proc_span *value);

/* Is v exactly the C string s? */
bool proc_span_eq(struct proc_span v, const char *s);

/* A NUL-terminated malloc'd copy. */
char *proc_span_dup(struct proc_span v);

/* ---- values ---- */

/*
 * Strict unsigned integer in `base` (8, 10 or 16): at least one digit, only
 * digits of that base (hex: 0-9a-fA-F, no "0x"), no sign, no spaces, not
 * above `max`. Returns NULL, or why the text was rejected (static text).
 */
const char *proc_parse_uint(struct proc_span v, unsigned base, uint64_t max, uint64_t *out);
/* Strict signed decimal: an optional '-', then as above, within [min, max]. */
const char *proc_parse_int(struct proc_span v, int64_t min, int64_t max, int64_t *out);
/* proc_parse_uint() into a uint32_t, not above UINT32_MAX. */
const char *proc_parse_u32(struct proc_span v, unsigned base, uint32_t *out);

/*
 * Decodes "\ooo" escapes (as the kernel's mangle() writes space, tab,
 * newline and backslash, and any other octal triple) from src into dst,
 * which has room for src.len + 1 bytes and may be src.s itself, and
 * NUL-terminates it. A backslash must be followed by exactly three octal
 * digits giving a byte 001..377: a truncated escape, a non-octal digit, a
 * value above 0377 or \000 (it would cut the string) is refused. Returns
 * NULL, or why, with *bad set to the offset of the bad backslash in src.
 */
const char *proc_unescape_octal(char *dst, struct proc_span src, size_t *bad);

#endif

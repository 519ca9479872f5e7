/*
 * Shared pieces of the /proc text parsers (proc-maps, proc-status,
 * proc-limits, proc-fdinfo): an error record, a line walker that never reads
 * past the buffer, strict integer parsing and error formatting.
 *
 * Like the parsers built on them, these helpers are pure: no syscalls, no
 * printing, no globals.
 */
#ifndef CRIU_PROC_TEXT_H
#define CRIU_PROC_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What a parser says about bad input. */
struct proc_parse_error {
	unsigned line; /* 1-based line of the problem; 0 when it is about the whole file */
	char msg[160]; /* e.g. "field 1 (address range): expected hex digits: \"xyz\"" */
};

/* A piece of the input; not NUL-terminated. */
struct proc_span {
	const char *s;
	size_t len;
};

/* Walks the lines of buf[0..len): '\n' ends a line, the last may lack it. */
struct proc_lines {
	const char *pos;
	const char *end;
	unsigned lineno; /* number of the line last returned */
};

void proc_lines_init(struct proc_lines *it, const char *buf, size_t len);
/* The next line without its '\n'; false at the end of the input. */
bool proc_next_line(struct proc_lines *it, struct proc_span *line);

/* Sets err (if any) to `line` and the formatted message; returns -EINVAL. */
int proc_fail(struct proc_parse_error *err, unsigned line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Clears err (if any) before a parse. */
void proc_error_reset(struct proc_parse_error *err);

#define PROC_EXCERPT_MAX 32
/* A short printable copy of v for messages: at most PROC_EXCERPT_MAX bytes,
 * other bytes as '?', "..." when cut. */
void proc_excerpt(struct proc_span v, char out[static PROC_EXCERPT_MAX + 4]);

/*
 * Strict unsigned integer in `base` (8, 10 or 16): at least one digit, only
 * digits of that base (hex: 0-9a-fA-F, no "0x"), no sign, no spaces, not
 * above `max`. Returns NULL, or why the text was rejected.
 */
const char *proc_parse_uint(struct proc_span v, unsigned base, uint64_t max, uint64_t *out);
/* Strict signed decimal: an optional '-', then as above, within [min, max]. */
const char *proc_parse_int(struct proc_span v, int64_t min, int64_t max, int64_t *out);

/* Does a NUL byte occur in v? Sets *col to its 1-based column. */
bool proc_has_nul(struct proc_span v, size_t *col);

/* Splits v at the first `sep`: head before it, v becomes the rest after it.
 * false (and v unchanged) when sep does not occur. */
bool proc_split(struct proc_span *v, char sep, struct proc_span *head);

/* Is v exactly the C string s? */
bool proc_span_eq(struct proc_span v, const char *s);

/* A NUL-terminated malloc'd copy. */
char *proc_span_dup(struct proc_span v);

#endif

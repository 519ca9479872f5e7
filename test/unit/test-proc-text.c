/*
 * Unit tests for the tokenizer and the error type every /proc parser shares
 * (criu/proc/proc-text.c): lines of any length in buffers that are not
 * NUL-terminated, fields and words, "Key:\tvalue" lines, strict integers
 * (overflow, sign, empty, trailing junk), "\ooo" unescaping, the error
 * record and its formatter; and that every parser reports a bad line
 * through struct proc_err with its line number.
 */
#include <errno.h>
#include <stdint.h>

#include "unit-proc.h"
#include "proc/fdinfo-anon.h"
#include "proc/mountinfo.h"
#include "proc/proc-fdinfo.h"
#include "proc/proc-limits.h"
#include "proc/proc-maps.h"
#include "proc/proc-status.h"
#include "proc/proc-text.h"
#include "proc/proc-timens.h"
#include "proc/proc-timers.h"

static struct proc_span span(const char *s)
{
	return (struct proc_span){s, strlen(s)};
}

/* Is v exactly `want`? */
#define CHECK_SPAN(v, want) CHECK((v).len == strlen(want) && !memcmp((v).s, want, (v).len))

/* A copy of exactly len bytes, so ASan sees a read past the end. */
static char *exact_copy(const char *s, size_t len)
{
	char *p = malloc(len ? len : 1);

	if (p && len)
		memcpy(p, s, len);
	return p;
}

static int test_lines(void)
{
	static const char text[] = "one\n\nthree\nlast";
	char *buf = exact_copy(text, sizeof(text) - 1);
	struct proc_lines it;
	struct proc_span l;

	CHECK(buf);
	proc_lines_init(&it, buf, sizeof(text) - 1);
	CHECK(proc_next_line(&it, &l) && it.lineno == 1);
	CHECK_SPAN(l, "one");
	CHECK(!proc_lines_only_newlines_left(&it));
	CHECK(proc_next_line(&it, &l) && it.lineno == 2 && l.len == 0);
	CHECK(proc_next_line(&it, &l) && it.lineno == 3);
	CHECK_SPAN(l, "three");
	/* the last line lacks its '\n' */
	CHECK(proc_next_line(&it, &l) && it.lineno == 4);
	CHECK_SPAN(l, "last");
	CHECK(!proc_next_line(&it, &l) && it.lineno == 4);
	CHECK(proc_lines_only_newlines_left(&it));
	free(buf);

	/* nothing, NULL with length 0, one empty line, trailing newlines */
	proc_lines_init(&it, NULL, 0);
	CHECK(!proc_next_line(&it, &l) && proc_lines_only_newlines_left(&it));
	proc_lines_init(&it, "\n", 1);
	CHECK(proc_next_line(&it, &l) && l.len == 0 && !proc_next_line(&it, &l));
	proc_lines_init(&it, "a\n\n\n", 4);
	CHECK(proc_next_line(&it, &l) && proc_lines_only_newlines_left(&it));
	return 0;
}

/* Lines far longer than any fixed buffer, in a buffer exactly their size. */
static int test_long_lines(void)
{
	const size_t n = 3 << 20;
	char *buf = malloc(n);
	struct proc_lines it;
	struct proc_span l;

	CHECK(buf);
	memset(buf, 'x', n);
	buf[n / 3] = '\n';
	proc_lines_init(&it, buf, n);
	CHECK(proc_next_line(&it, &l) && l.s == buf && l.len == n / 3);
	CHECK(proc_next_line(&it, &l) && l.len == n - n / 3 - 1 && it.lineno == 2);
	CHECK(!proc_next_line(&it, &l));
	free(buf);
	return 0;
}

static int test_fields(void)
{
	struct proc_fields fw;
	struct proc_span f;

	/* exactly one separator between fields: two make an empty one */
	proc_fields_init(&fw, span("a  b "), ' ');
	CHECK(proc_next_field(&fw, &f));
	CHECK_SPAN(f, "a");
	CHECK(proc_next_field(&fw, &f) && f.len == 0);
	CHECK(proc_next_field(&fw, &f));
	CHECK_SPAN(f, "b");
	CHECK(proc_next_field(&fw, &f) && f.len == 0); /* after the trailing space */
	CHECK(!proc_next_field(&fw, &f));
	CHECK(!proc_next_field(&fw, &f));

	/* an empty line is one empty field */
	proc_fields_init(&fw, span(""), ' ');
	CHECK(proc_next_field(&fw, &f) && f.len == 0 && !proc_next_field(&fw, &f));

	/* another separator; the rest of the line stays reachable */
	proc_fields_init(&fw, span("x\ty\tthe rest"), '\t');
	CHECK(proc_next_field(&fw, &f) && proc_next_field(&fw, &f));
	CHECK_SPAN(f, "y");
	CHECK_SPAN(fw.rest, "the rest");
	return 0;
}

static int test_words(void)
{
	struct proc_span v = span("   Max cpu time    unlimited  1 "), w;

	CHECK(proc_next_word(&v, &w));
	CHECK_SPAN(w, "Max");
	CHECK(proc_next_word(&v, &w));
	CHECK_SPAN(w, "cpu");
	CHECK(proc_next_word(&v, &w) && proc_next_word(&v, &w));
	CHECK_SPAN(w, "unlimited");
	CHECK(proc_next_word(&v, &w));
	CHECK_SPAN(w, "1");
	CHECK(!proc_next_word(&v, &w) && v.len == 0);
	v = span("");
	CHECK(!proc_next_word(&v, &w));
	/* a tab is part of a word: columns are padded with spaces only */
	v = span("a\tb c");
	CHECK(proc_next_word(&v, &w));
	CHECK_SPAN(w, "a\tb");

	v = span("  pad");
	proc_skip_spaces(&v);
	CHECK_SPAN(v, "pad");
	return 0;
}

static int test_pieces(void)
{
	struct proc_span v, head, key, value;
	char *dup;

	v = span("8:0:1");
	CHECK(proc_split(&v, ':', &head));
	CHECK_SPAN(head, "8");
	CHECK_SPAN(v, "0:1");
	v = span("nosep");
	CHECK(!proc_split(&v, ':', &head));
	CHECK_SPAN(v, "nosep");
	v = span(":");
	CHECK(proc_split(&v, ':', &head) && head.len == 0 && v.len == 0);

	v = span("shared:12");
	CHECK(!proc_skip_prefix(&v, "master:"));
	CHECK(proc_skip_prefix(&v, "shared:"));
	CHECK_SPAN(v, "12");
	CHECK(!proc_skip_prefix(&v, "123"));
	CHECK(proc_skip_char(&v, '1') && !proc_skip_char(&v, '1'));
	CHECK(proc_skip_char(&v, '2') && !proc_skip_char(&v, '2'));

	/* "Key:\tvalue": the value keeps its tab for the caller to check */
	CHECK(proc_key_value(span("NSpid:\t42\t1"), &key, &value));
	CHECK_SPAN(key, "NSpid");
	CHECK_SPAN(value, "\t42\t1");
	CHECK(proc_key_value(span("a:b:c"), &key, &value));
	CHECK_SPAN(key, "a");
	CHECK_SPAN(value, "b:c");
	CHECK(proc_key_value(span("NSpid:"), &key, &value) && value.len == 0);
	CHECK(!proc_key_value(span(":\tno key"), &key, &value));
	CHECK(!proc_key_value(span("no colon"), &key, &value));
	CHECK(!proc_key_value(span(""), &key, &value));

	CHECK(proc_span_eq(span("abc"), "abc") && !proc_span_eq(span("abc"), "ab") && !proc_span_eq(span("ab"), "abc"));
	dup = proc_span_dup((struct proc_span){"abcdef", 3});
	CHECK_STR(dup, "abc");
	free(dup);
	dup = proc_span_dup(PROC_NO_TEXT);
	CHECK_STR(dup, "");
	free(dup);
	return 0;
}

static int test_integers(void)
{
	static const struct {
		const char *in;
		unsigned base;
		uint64_t max;
		const char *why; /* NULL: ok */
		uint64_t out;
	} u[] = {
		{"0", 10, 0, NULL, 0},
		{"1", 10, 0, "number out of range", 0},
		{"9", 10, 8, "number out of range", 0},
		{"8", 10, 8, NULL, 8},
		{"18446744073709551615", 10, UINT64_MAX, NULL, UINT64_MAX},
		{"18446744073709551616", 10, UINT64_MAX, "number out of range", 0},
		{"99999999999999999999999", 10, UINT64_MAX, "number out of range", 0},
		{"ffffffffffffffff", 16, UINT64_MAX, NULL, UINT64_MAX},
		{"10000000000000000", 16, UINT64_MAX, "number out of range", 0},
		{"FfFf", 16, 0xffff, NULL, 0xffff},
		{"10000", 16, 0xffff, "number out of range", 0},
		{"1777777777777777777777", 8, UINT64_MAX, NULL, UINT64_MAX},
		{"2000000000000000000000", 8, UINT64_MAX, "number out of range", 0},
		{"8", 8, UINT64_MAX, "expected octal digits", 0},
		{"a", 10, UINT64_MAX, "expected digits", 0},
		{"g", 16, UINT64_MAX, "expected hex digits", 0},
		{"0x10", 16, UINT64_MAX, "expected hex digits", 0},
		{"", 10, UINT64_MAX, "empty number", 0},
		{"", 16, UINT64_MAX, "empty number", 0},
		{"-0", 10, UINT64_MAX, "sign not allowed", 0},
		{"+1", 10, UINT64_MAX, "sign not allowed", 0},
		{" 1", 10, UINT64_MAX, "expected digits", 0},
		{"1 ", 10, UINT64_MAX, "expected digits", 0},
		{"12x", 10, UINT64_MAX, "expected digits", 0},
		{"12\n", 10, UINT64_MAX, "expected digits", 0},
		{"000000000000000000000000000001", 10, 1, NULL, 1},
	};
	static const struct {
		const char *in;
		int64_t min, max;
		const char *why;
		int64_t out;
	} s[] = {
		{"-9223372036854775808", INT64_MIN, INT64_MAX, NULL, INT64_MIN},
		{"9223372036854775807", INT64_MIN, INT64_MAX, NULL, INT64_MAX},
		{"-9223372036854775809", INT64_MIN, INT64_MAX, "number out of range", 0},
		{"9223372036854775808", INT64_MIN, INT64_MAX, "number out of range", 0},
		{"-1", -1, 1, NULL, -1},
		{"-2", -1, 1, "number out of range", 0},
		{"2", -1, 1, "number out of range", 0},
		{"-1", 0, 1, "sign not allowed", 0},
		{"-0", -5, 5, NULL, 0},
		{"1", -5, -2, "number out of range", 0},
		{"-3", -5, -2, NULL, -3},
		{"-", INT64_MIN, INT64_MAX, "empty number", 0},
		{"--1", INT64_MIN, INT64_MAX, "expected digits", 0},
		{"-+1", INT64_MIN, INT64_MAX, "expected digits", 0},
		{"+1", INT64_MIN, INT64_MAX, "sign not allowed", 0},
		{"", INT64_MIN, INT64_MAX, "empty number", 0},
		{"-1x", INT64_MIN, INT64_MAX, "expected digits", 0},
	};
	uint32_t u32;

	for (size_t i = 0; i < ARRAY_SIZE(u); i++) {
		uint64_t out = 12345;
		const char *why = proc_parse_uint(span(u[i].in), u[i].base, u[i].max, &out);

		if (u[i].why ? !why || strcmp(why, u[i].why) || out != 12345 : why || out != u[i].out) {
			snprintf(unit_fail_msg, sizeof(unit_fail_msg), "uint case %zu \"%s\": %s", i, u[i].in,
				 why ? why : "ok");
			return 1;
		}
	}
	for (size_t i = 0; i < ARRAY_SIZE(s); i++) {
		int64_t out = 12345;
		const char *why = proc_parse_int(span(s[i].in), s[i].min, s[i].max, &out);

		if (s[i].why ? !why || strcmp(why, s[i].why) : why || out != s[i].out) {
			snprintf(unit_fail_msg, sizeof(unit_fail_msg), "int case %zu \"%s\": %s", i, s[i].in,
				 why ? why : "ok");
			return 1;
		}
	}
	CHECK(!proc_parse_u32(span("4294967295"), 10, &u32) && u32 == UINT32_MAX);
	CHECK(!proc_parse_u32(span("ffffffff"), 16, &u32) && u32 == UINT32_MAX);
	CHECK_STR(proc_parse_u32(span("4294967296"), 10, &u32), "number out of range");
	CHECK_STR(proc_parse_u32(span("100000000"), 16, &u32), "number out of range");
	/* only the span is read: digits right after it don't count */
	CHECK(!proc_parse_u32((struct proc_span){"1234", 2}, 10, &u32) && u32 == 12);
	return 0;
}

static int test_unescape(void)
{
	static const struct {
		const char *in;
		const char *out; /* NULL: refused */
		size_t bad;	 /* offset of the bad backslash */
	} cases[] = {
		{"", "", 0},
		{"/plain/path", "/plain/path", 0},
		{"a\\040b", "a b", 0},
		{"\\011\\012\\134\\040", "\t\n\\ ", 0},
		{"x\\134040", "x\\040", 0}, /* decoded once, not twice */
		{"caf\\303\\251", "caf\xc3\xa9", 0},
		{"\\001\\377", "\001\377", 0},
		{"\\", NULL, 0},
		{"\\1", NULL, 0},
		{"a\\04", NULL, 1},
		{"\\09", NULL, 0},
		{"\\098", NULL, 0},
		{"\\x41", NULL, 0},
		{"\\n", NULL, 0},
		{"\\400", NULL, 0},
		{"\\777", NULL, 0},
		{"\\000", NULL, 0},
		{"ok\\040\\", NULL, 6},
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		size_t len = strlen(cases[i].in), bad = 999;
		char *src = exact_copy(cases[i].in, len);
		char *dst = malloc(len + 1);
		const char *why;
		int fail = 0;

		CHECK(src && dst);
		/* into another buffer, then in place */
		why = proc_unescape_octal(dst, (struct proc_span){src, len}, &bad);
		if (cases[i].out ? why || strcmp(dst, cases[i].out) : !why || bad != cases[i].bad)
			fail = 1;
		free(dst);
		dst = malloc(len + 1);
		CHECK(dst);
		memcpy(dst, cases[i].in, len + 1);
		why = proc_unescape_octal(dst, (struct proc_span){dst, len}, &bad);
		if (cases[i].out ? why || strcmp(dst, cases[i].out) : !why)
			fail = 1;
		free(src);
		free(dst);
		if (fail) {
			snprintf(unit_fail_msg, sizeof(unit_fail_msg), "case %zu \"%s\": %s, bad %zu", i, cases[i].in,
				 why ? why : "ok", bad);
			return 1;
		}
	}
	return 0;
}

static int test_errors(void)
{
	static const char junk[] = "\x01long text that will not fit in the excerpt of an error";
	struct proc_err err;
	char field[400];

	/* a clean record says so */
	memset(&err, 0x55, sizeof(err));
	proc_err_reset(&err);
	CHECK(!err.line && !err.col && !err.field && !err.part && !err.why && !err.text[0]);
	CHECK_ERR_MSG(err, "no error");

	/* every part, then without a line (about the whole input) */
	CHECK(proc_fail_part(&err, 3, "field 3 (major:minor)", "minor", "sign not allowed", span("8:-1")) == -EINVAL);
	CHECK_ERR_MSG(err, "line 3: field 3 (major:minor): minor: sign not allowed: \"8:-1\"");
	CHECK(proc_fail(&err, 0, "NSpid", "missing", PROC_NO_TEXT) == -EINVAL);
	CHECK(!err.part && !err.text[0]);
	CHECK_ERR_MSG(err, "NSpid: missing");
	CHECK(proc_fail(&err, 2, NULL, "empty line", span("")) == -EINVAL);
	CHECK_ERR_MSG(err, "line 2: empty line");

	/* the excerpt: printable, cut with "...", never longer than its room */
	proc_fail(&err, 1, "f", "bad", span(junk));
	CHECK(strlen(err.text) == PROC_EXCERPT_MAX + 3);
	CHECK(err.text[0] == '?' && !strcmp(err.text + PROC_EXCERPT_MAX, "..."));
	CHECK(!strncmp(err.text + 1, junk + 1, PROC_EXCERPT_MAX - 1));

	/* a NUL byte: its column */
	CHECK(proc_refuse_nul(&err, 7, span("no nul")) == 0);
	CHECK(proc_refuse_nul(&err, 7, (struct proc_span){"ab\0c", 4}) == -EINVAL && err.col == 3);
	CHECK_ERR_MSG(err, "line 7, column 3: NUL byte");

	/* err may be NULL everywhere */
	proc_err_reset(NULL);
	CHECK(proc_fail(NULL, 1, "f", "why", span("x")) == -EINVAL);
	CHECK(proc_refuse_nul(NULL, 1, (struct proc_span){"\0", 1}) == -EINVAL);

	/* a message longer than its buffer is cut, still terminated */
	memset(field, 'k', sizeof(field) - 1);
	field[sizeof(field) - 1] = '\0';
	proc_fail(&err, 4294967295U, field, "why", span(junk));
	CHECK(strlen(ERR_MSG(err)) == PROC_ERR_MSG_MAX - 1);
	CHECK(!strncmp(ERR_MSG(err), "line 4294967295: kkk", 20));
	return 0;
}

/* Parsers of whole files, adapted to one shape for the next test. */
static int parse_mountinfo(const char *buf, size_t len, struct proc_err *err)
{
	struct mountinfo_table t = {0};
	int ret = mountinfo_parse(buf, len, &t, err);

	mountinfo_table_free(&t);
	return ret;
}

static int parse_maps(const char *buf, size_t len, struct proc_err *err)
{
	struct proc_maps m = {0};
	int ret = proc_maps_parse(buf, len, &m, err);

	proc_maps_free(&m);
	return ret;
}

static int parse_status(const char *buf, size_t len, struct proc_err *err)
{
	struct proc_status st;
	int ret = proc_status_parse(buf, len, &st, err);

	proc_status_free(&st);
	return ret;
}

static int parse_limits(const char *buf, size_t len, struct proc_err *err)
{
	struct proc_limits l;

	return proc_limits_parse(buf, len, &l, err);
}

static int parse_fdinfo(const char *buf, size_t len, struct proc_err *err)
{
	struct proc_fdinfo fi;
	int ret = proc_fdinfo_parse(buf, len, &fi, err);

	proc_fdinfo_free(&fi);
	return ret;
}

static int parse_timers(const char *buf, size_t len, struct proc_err *err)
{
	struct proc_timers t;
	int ret = proc_timers_parse(buf, len, &t, err);

	proc_timers_free(&t);
	return ret;
}

static int parse_timens(const char *buf, size_t len, struct proc_err *err)
{
	struct proc_timens_offsets o;

	return proc_timens_parse(buf, len, &o, err);
}

/* fdinfo, then the kind-specific parser its lines are for. */
static int parse_fdinfo_kind(const char *buf, size_t len, struct proc_err *err)
{
	struct proc_fdinfo fi;
	struct fdinfo_eventfd e;
	struct fdinfo_timerfd t;
	struct fdinfo_epoll_tfd *tfds = NULL;
	struct fdinfo_inotify_wd *wds = NULL;
	uint64_t mask;
	size_t n;
	int ret = proc_fdinfo_parse(buf, len, &fi, err);

	if (!ret && memmem(buf, len, "eventfd-count", strlen("eventfd-count")))
		ret = fdinfo_eventfd(&fi, &e, err);
	else if (!ret && memmem(buf, len, "sigmask", strlen("sigmask")))
		ret = fdinfo_signalfd(&fi, &mask, err);
	else if (!ret && memmem(buf, len, "clockid", strlen("clockid")))
		ret = fdinfo_timerfd(&fi, &t, err);
	else if (!ret && memmem(buf, len, "tfd:", strlen("tfd:")))
		ret = fdinfo_epoll(&fi, &tfds, &n, err);
	else if (!ret && memmem(buf, len, "inotify", strlen("inotify")))
		ret = fdinfo_inotify(&fi, &wds, &n, err);
	free(tfds);
	free(wds);
	proc_fdinfo_free(&fi);
	return ret;
}

#define STATUS_HEAD "Name:\tx\nUmask:\t0022\n"
#define FDINFO_HEAD "pos:\t0\nflags:\t02\n"

/* Every parser says which line was bad, through struct proc_err. */
static int test_every_parser_names_the_line(void)
{
	static const struct {
		const char *name;
		int (*parse)(const char *buf, size_t len, struct proc_err *err);
		const char *text; /* bad on line 3 */
		const char *msg;  /* the formatted error */
	} cases[] = {
		{"mountinfo", parse_mountinfo,
		 "1 0 0:1 / / rw - t s o\n2 1 0:2 / /a rw - t s o\n3 1 0:x / /b rw - t s o\n",
		 "line 3: field 3 (major:minor): minor: expected digits: \"0:x\""},
		{"maps", parse_maps, "1000-2000 r--p 0 0:0 0\n2000-3000 r--p 0 0:0 0\n3000-4000 r--p 0 0:0 x\n",
		 "line 3: field 5 (inode): expected digits: \"x\""},
		{"status", parse_status, STATUS_HEAD "Pid:\t-1\n", "line 3: Pid: sign not allowed: \"-1\""},
		{"limits", parse_limits,
		 "Limit                     Soft Limit           Hard Limit           Units\n"
		 "Max cpu time              unlimited            unlimited            seconds\n"
		 "Max file size             unlimited            0x1                  bytes\n",
		 "line 3: hard limit: expected digits: \"0x1\""},
		{"fdinfo", parse_fdinfo, FDINFO_HEAD "mnt_id:\tx\n", "line 3: mnt_id: expected digits: \"x\""},
		{"timers", parse_timers, "ID: 1\nsignal: 14/0\nnotify: loud/pid.1\nClockID: 1\n",
		 "line 3: notify: unknown notification: \"loud\""},
		{"timens", parse_timens, "monotonic 0 0\nboottime 0 0\nrealtime 0 0\n",
		 "line 3: clock: unknown clock: \"realtime\""},
		{"eventfd", parse_fdinfo_kind, FDINFO_HEAD "eventfd-count: 1g\nmnt_id:\t1\n",
		 "line 3: eventfd-count: expected hex digits: \"1g\""},
		{"signalfd", parse_fdinfo_kind, FDINFO_HEAD "sigmask:\t-1\nmnt_id:\t1\n",
		 "line 3: sigmask: sign not allowed: \"-1\""},
		{"timerfd", parse_fdinfo_kind,
		 FDINFO_HEAD
		 "clockid: 65\nmnt_id:\t1\nticks: 0\nsettime flags: 00\nit_value: (0, 0)\nit_interval: (0, 0)\n",
		 "line 3: clockid: number out of range: \"65\""},
		{"epoll", parse_fdinfo_kind, FDINFO_HEAD "tfd: 5 events: 19 data: 5  pos:0 ino:1 sdev:-1\nmnt_id:\t1\n",
		 "line 3: sdev: sign not allowed: \"-1\""},
		{"inotify", parse_fdinfo_kind,
		 FDINFO_HEAD "inotify wd:1 ino:1 sdev:0 mask:1 ignored_mask:0 fhandle-bytes:0 fhandle-type:1 "
			     "f_handle:\nmnt_id:\t1\n",
		 "line 3: fhandle-bytes: number out of range: \"0\""},
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		size_t len = strlen(cases[i].text);
		char *buf = exact_copy(cases[i].text, len);
		struct proc_err err;
		int ret;

		CHECK(buf);
		memset(&err, 0x55, sizeof(err));
		ret = cases[i].parse(buf, len, &err);
		free(buf);
		if (ret != -EINVAL || err.line != 3 || !proc_err_sane(&err) || strcmp(ERR_MSG(err), cases[i].msg)) {
			snprintf(unit_fail_msg, sizeof(unit_fail_msg), "%s: ret %d line %u \"%s\"; want \"%s\"",
				 cases[i].name, ret, err.line, proc_err_sane(&err) ? ERR_MSG(err) : "?", cases[i].msg);
			return 1;
		}
	}
	return 0;
}

static const struct unit_case cases[] = {
	{"proc_text_lines", test_lines},
	{"proc_text_long_lines", test_long_lines},
	{"proc_text_fields", test_fields},
	{"proc_text_words", test_words},
	{"proc_text_pieces", test_pieces},
	{"proc_text_integers", test_integers},
	{"proc_text_unescape", test_unescape},
	{"proc_text_errors", test_errors},
	{"proc_text_every_parser_names_the_line", test_every_parser_names_the_line},
	{},
};

UNIT_MAIN(cases)

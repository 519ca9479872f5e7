/*
 * Unit tests for the /proc/PID/fdinfo/FD parser (criu/proc-fdinfo.c) on
 * files captured from one process (a regular file, a deleted locked one, a
 * memfd, a pipe, eventfd, epoll, signalfd, inotify, timerfd) plus a
 * hand-made one, with golden files; bad values; corpus replay. Also the
 * strict integer helpers of criu/proc-text.c that every /proc parser uses.
 * UNIT_UPDATE_GOLDEN=1 rewrites the golden files.
 */
#include <errno.h>
#include <stdint.h>

#include "unit-proc.h"
#include "proc/proc-fdinfo.h"

#define CORPUS_DIR "test/fuzz/corpus/proc-fdinfo"

static char *dump_fdinfo(const struct proc_fdinfo *fi)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	if (!f)
		return NULL;
	fprintf(f, "pos=%" PRId64 " flags=0%o mnt_id=%d", fi->pos, fi->flags, fi->mnt_id);
	if (fi->has_ino)
		fprintf(f, " ino=%" PRIu64, fi->ino);
	fputc('\n', f);
	for (size_t i = 0; i < fi->nr_lines; i++) {
		fputs("line ", f);
		put_escaped(f, fi->lines[i]);
		fputc('\n', f);
	}
	fclose(f);
	return out;
}

static const char *const fixtures[] = {"reg",	"deleted-locked", "memfd",   "pipe",	"eventfd",
				       "epoll", "signalfd",	  "inotify", "timerfd", "no-ino"};

/* All fixtures into one golden file, each under a "== name" header. */
static int test_fixtures(void)
{
	char *out = NULL;
	size_t outlen = 0;
	FILE *f = open_memstream(&out, &outlen);
	int ret;

	CHECK(f);
	for (size_t i = 0; i < ARRAY_SIZE(fixtures); i++) {
		struct proc_fdinfo fi;
		struct proc_parse_error err;
		char path[256], *buf, *dump;
		size_t len;

		snprintf(path, sizeof(path), PROC_FIXTURES "%s.fdinfo", fixtures[i]);
		buf = unit_slurp(path, &len);
		if (!buf) {
			fclose(f);
			free(out);
			snprintf(unit_fail_msg, sizeof(unit_fail_msg), "can't read %s", path);
			return 1;
		}
		ret = proc_fdinfo_parse(buf, len, &fi, &err);
		free(buf);
		if (ret) {
			proc_fdinfo_free(&fi);
			fclose(f);
			free(out);
			CHECK_PARSED(ret, err, path);
		}
		dump = dump_fdinfo(&fi);
		proc_fdinfo_free(&fi);
		fprintf(f, "== %s\n%s", fixtures[i], dump ? dump : "(null)\n");
		free(dump);
	}
	fclose(f);
	CHECK(out);
	ret = unit_golden(PROC_FIXTURES "fdinfo.golden", out);
	free(out);
	return ret;
}

static int parse_fixture(const char *name, struct proc_fdinfo *fi)
{
	char path[256];
	struct proc_parse_error err;
	size_t len;
	char *buf;
	int ret;

	snprintf(path, sizeof(path), PROC_FIXTURES "%s.fdinfo", name);
	buf = unit_slurp(path, &len);
	if (!buf)
		return -ENOENT;
	ret = proc_fdinfo_parse(buf, len, fi, &err);
	free(buf);
	return ret;
}

static int test_fields(void)
{
	struct proc_fdinfo fi;

	CHECK(parse_fixture("reg", &fi) == 0);
	CHECK(fi.pos == 1234 && fi.flags == 0100002 && fi.mnt_id == 27 && fi.has_ino && fi.ino == 10953628);
	CHECK(fi.nr_lines == 0);
	proc_fdinfo_free(&fi);

	CHECK(parse_fixture("deleted-locked", &fi) == 0);
	CHECK(fi.nr_lines == 1 && !strncmp(fi.lines[0], "lock:\t1: FLOCK  ADVISORY  WRITE ", 32));
	proc_fdinfo_free(&fi);

	CHECK(parse_fixture("eventfd", &fi) == 0);
	CHECK(fi.flags == 04002 && fi.nr_lines == 3);
	CHECK_STR(fi.lines[0], "eventfd-count:                7");
	proc_fdinfo_free(&fi);

	CHECK(parse_fixture("pipe", &fi) == 0);
	CHECK(fi.flags == 0 && fi.mnt_id == 16 && fi.ino == 179011);
	proc_fdinfo_free(&fi);

	CHECK(parse_fixture("no-ino", &fi) == 0);
	CHECK(fi.pos == INT64_MIN && fi.flags == UINT32_MAX && fi.mnt_id == -1 && !fi.has_ino);
	CHECK(fi.nr_lines == 3);
	CHECK_STR(fi.lines[2], "weird line without colon");
	proc_fdinfo_free(&fi);
	CHECK(!fi.lines && !fi.nr_lines);
	return 0;
}

static int test_errors(void)
{
	static const struct {
		const char *in;
		size_t len;
		unsigned line;
		const char *msg;
	} cases[] = {
		{"", 0, 0, "pos: missing"},
		{"pos:\t0\nmnt_id:\t1\n", 0, 0, "flags: missing"},
		{"pos:\t0\nflags:\t02\n", 0, 0, "mnt_id: missing"},
		{"pos:\t0\npos:\t1\n", 0, 2, "pos: repeated key"},
		{"pos: 0\n", 0, 1, "pos: expected a tab"},
		{"pos:\t\n", 0, 1, "pos: empty number"},
		{"pos:\t-\n", 0, 1, "pos: empty number"},
		{"pos:\t--1\n", 0, 1, "pos: expected digits"},
		{"pos:\t-+1\n", 0, 1, "pos: expected digits"},
		{"pos:\t+1\n", 0, 1, "pos: sign not allowed"},
		{"pos:\t9223372036854775808\n", 0, 1, "pos: number out of range"},
		{"pos:\t-9223372036854775809\n", 0, 1, "pos: number out of range"},
		{"pos:\t1 \n", 0, 1, "pos: expected digits"},
		{"pos:\t0\nflags:\t2\n", 0, 2, "flags: expected octal with a leading 0"},
		{"pos:\t0\nflags:\t08\n", 0, 2, "flags: expected octal digits"},
		{"pos:\t0\nflags:\t040000000000\n", 0, 2, "flags: number out of range"},
		{"pos:\t0\nflags:\t\n", 0, 2, "flags: expected octal with a leading 0"},
		{"pos:\t0\nflags:\t00\nmnt_id:\t2147483648\n", 0, 3, "mnt_id: number out of range"},
		{"pos:\t0\nflags:\t00\nmnt_id:\t1\nino:\t-1\n", 0, 4, "ino: sign not allowed"},
		{"pos:\t0\nflags:\t00\nmnt_id:\t1\nino:\t1\nino:\t1\n", 0, 5, "ino: repeated key"},
		{"pos:\t0\n\nflags:\t00\n", 0, 2, "empty line"},
		{"pos:\t0\nx\0y\n", 11, 2, "NUL byte at column 2"},
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct proc_fdinfo fi;
		struct proc_parse_error err;
		size_t len = cases[i].len ? cases[i].len : strlen(cases[i].in);
		int ret;

		memset(&err, 0x55, sizeof(err));
		ret = proc_fdinfo_parse(cases[i].in, len, &fi, &err);
		if (ret != -EINVAL || err.line != cases[i].line || !memchr(err.msg, '\0', sizeof(err.msg)) ||
		    !strstr(err.msg, cases[i].msg)) {
			snprintf(unit_fail_msg, sizeof(unit_fail_msg),
				 "case %zu: ret %d line %u msg \"%.160s\"; want %u \"%s\"", i, ret, err.line,
				 memchr(err.msg, '\0', sizeof(err.msg)) ? err.msg : "?", cases[i].line, cases[i].msg);
			proc_fdinfo_free(&fi);
			return 1;
		}
		proc_fdinfo_free(&fi);
	}
	return 0;
}

/* Many raw lines (an epoll watching thousands of fds) and a long one. */
static int test_long(void)
{
	const size_t n = 20000;
	struct proc_fdinfo fi;
	struct proc_parse_error err;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int ret;

	CHECK(f);
	fputs("pos:\t0\nflags:\t02\nmnt_id:\t17\nino:\t1038\n", f);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "tfd: %8zu events:       19 data:             %zx  pos:0 ino:2bb43 sdev:f\n", i, i);
	for (size_t i = 0; i < 100000; i++)
		fputc('x', f);
	fclose(f);
	CHECK(buf);
	ret = proc_fdinfo_parse(buf, len, &fi, &err);
	free(buf);
	CHECK_PARSED(ret, err, "long");
	CHECK(fi.nr_lines == n + 1 && strlen(fi.lines[n]) == 100000);
	CHECK(!strncmp(fi.lines[n - 1], "tfd:    19999 ", 14));
	proc_fdinfo_free(&fi);
	return 0;
}

static int test_text_integers(void)
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
		{"ffffffffffffffff", 16, UINT64_MAX, NULL, UINT64_MAX},
		{"FfFf", 16, 0xffff, NULL, 0xffff},
		{"10000", 16, 0xffff, "number out of range", 0},
		{"1777777777777777777777", 8, UINT64_MAX, NULL, UINT64_MAX},
		{"2000000000000000000000", 8, UINT64_MAX, "number out of range", 0},
		{"8", 8, UINT64_MAX, "expected octal digits", 0},
		{"a", 10, UINT64_MAX, "expected digits", 0},
		{"g", 16, UINT64_MAX, "expected hex digits", 0},
		{"", 10, UINT64_MAX, "empty number", 0},
		{"-0", 10, UINT64_MAX, "sign not allowed", 0},
		{" 1", 10, UINT64_MAX, "expected digits", 0},
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
		{"-1", -1, 1, NULL, -1},
		{"-2", -1, 1, "number out of range", 0},
		{"2", -1, 1, "number out of range", 0},
		{"-1", 0, 1, "sign not allowed", 0},
		{"-0", -5, 5, NULL, 0},
		{"1", -5, -2, "number out of range", 0},
		{"-3", -5, -2, NULL, -3},
	};

	for (size_t i = 0; i < ARRAY_SIZE(u); i++) {
		struct proc_span v = {u[i].in, strlen(u[i].in)};
		uint64_t out = 12345;
		const char *why = proc_parse_uint(v, u[i].base, u[i].max, &out);

		if (u[i].why ? !why || strcmp(why, u[i].why) : why || out != u[i].out) {
			snprintf(unit_fail_msg, sizeof(unit_fail_msg), "uint case %zu \"%s\": %s", i, u[i].in,
				 why ? why : "ok");
			return 1;
		}
	}
	for (size_t i = 0; i < ARRAY_SIZE(s); i++) {
		struct proc_span v = {s[i].in, strlen(s[i].in)};
		int64_t out = 12345;
		const char *why = proc_parse_int(v, s[i].min, s[i].max, &out);

		if (s[i].why ? !why || strcmp(why, s[i].why) : why || out != s[i].out) {
			snprintf(unit_fail_msg, sizeof(unit_fail_msg), "int case %zu \"%s\": %s", i, s[i].in,
				 why ? why : "ok");
			return 1;
		}
	}
	return 0;
}

static int parse_for_replay(const char *buf, size_t len, struct proc_parse_error *err)
{
	struct proc_fdinfo fi;
	int ret = proc_fdinfo_parse(buf, len, &fi, err);

	proc_fdinfo_free(&fi);
	return ret;
}

static int test_fuzz_corpus(void)
{
	return replay_corpus(CORPUS_DIR, parse_for_replay);
}

static const struct unit_case cases[] = {
	{"proc_fdinfo_fixtures", test_fixtures},
	{"proc_fdinfo_fields", test_fields},
	{"proc_fdinfo_errors", test_errors},
	{"proc_fdinfo_long", test_long},
	{"proc_text_integers", test_text_integers},
	{"proc_fdinfo_fuzz_corpus", test_fuzz_corpus},
	{},
};

UNIT_MAIN(cases)

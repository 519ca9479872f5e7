/*
 * Unit tests for the /proc/PID/fdinfo/FD parser (criu/proc/proc-fdinfo.c)
 * on files captured from one process (a regular file, a deleted locked one,
 * a memfd, a pipe, eventfd, epoll, signalfd, inotify, timerfd) plus a
 * hand-made one, with golden files; bad values; corpus replay. (The strict
 * integer helpers every /proc parser uses are tested in test-proc-text.c.)
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
		struct proc_err err;
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
	struct proc_err err;
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
		{"pos:\t0\nx\0y\n", 11, 2, "column 2: NUL byte"},
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct proc_fdinfo fi;
		struct proc_err err;
		size_t len = cases[i].len ? cases[i].len : strlen(cases[i].in);
		int ret;

		memset(&err, 0x55, sizeof(err));
		ret = proc_fdinfo_parse(cases[i].in, len, &fi, &err);
		if (ret != -EINVAL || err.line != cases[i].line || !proc_err_sane(&err) ||
		    !strstr(ERR_MSG(err), cases[i].msg)) {
			snprintf(unit_fail_msg, sizeof(unit_fail_msg),
				 "case %zu: ret %d line %u msg \"%.160s\"; want %u \"%s\"", i, ret, err.line,
				 proc_err_sane(&err) ? ERR_MSG(err) : "?", cases[i].line, cases[i].msg);
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
	struct proc_err err;
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

static int parse_for_replay(const char *buf, size_t len, struct proc_err *err)
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
	{"proc_fdinfo_fixtures", test_fixtures},       {"proc_fdinfo_fields", test_fields},
	{"proc_fdinfo_errors", test_errors},	       {"proc_fdinfo_long", test_long},
	{"proc_fdinfo_fuzz_corpus", test_fuzz_corpus}, {},
};

UNIT_MAIN(cases)

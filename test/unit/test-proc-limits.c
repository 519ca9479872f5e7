/*
 * Unit tests for the /proc/PID/limits parser (criu/proc/proc-limits.c): files
 * captured on this machine and a hand-made one (rows out of order, a row
 * without units, a row from a newer kernel), golden files, bad rows, corpus
 * replay. UNIT_UPDATE_GOLDEN=1 rewrites the golden files.
 */
#include <errno.h>
#include <stdint.h>
#include <sys/resource.h>

#include "unit-proc.h"
#include "proc/proc-limits.h"

#define CORPUS_DIR "test/fuzz/corpus/proc-limits"

static char *dump_limits(const struct proc_limits *l)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	if (!f)
		return NULL;
	for (unsigned r = 0; r < PROC_LIMITS_NR; r++) {
		fprintf(f, "%u %s:", r, proc_limit_name(r));
		if (l->lim[r].cur == RLIM_INFINITY)
			fputs(" unlimited", f);
		else
			fprintf(f, " %" PRIu64, l->lim[r].cur);
		if (l->lim[r].max == RLIM_INFINITY)
			fputs(" unlimited\n", f);
		else
			fprintf(f, " %" PRIu64 "\n", l->lim[r].max);
	}
	fclose(f);
	return out;
}

static int check_fixture(const char *name)
{
	char path[256], golden[256];
	struct proc_limits l;
	struct proc_err err;
	size_t len;
	char *buf, *dump;
	int ret;

	snprintf(path, sizeof(path), PROC_FIXTURES "%s.limits", name);
	snprintf(golden, sizeof(golden), PROC_FIXTURES "%s.limits.golden", name);
	buf = unit_slurp(path, &len);
	if (!buf) {
		snprintf(unit_fail_msg, sizeof(unit_fail_msg), "can't read %s", path);
		return 1;
	}
	ret = proc_limits_parse(buf, len, &l, &err);
	free(buf);
	CHECK_PARSED(ret, err, path);
	dump = dump_limits(&l);
	CHECK(dump);
	ret = unit_golden(golden, dump);
	free(dump);
	return ret;
}

static int test_glibc_threads(void)
{
	return check_fixture("glibc-threads");
}

static int test_busybox_static(void)
{
	return check_fixture("busybox-static");
}

static int test_python3(void)
{
	return check_fixture("python3");
}

static int test_edge(void)
{
	return check_fixture("edge");
}

/* The fixture's program set these with setrlimit(2). */
static int test_fields(void)
{
	struct proc_limits l;
	struct proc_err err;
	size_t len;
	char *buf;
	int ret;

	LOAD_FIXTURE(buf, len, "glibc-threads.limits");
	ret = proc_limits_parse(buf, len, &l, &err);
	free(buf);
	CHECK_PARSED(ret, err, "glibc-threads.limits");
	CHECK(l.lim[RLIMIT_NOFILE].cur == 1024 && l.lim[RLIMIT_NOFILE].max == 4096);
	CHECK(l.lim[RLIMIT_CORE].cur == 12345 && l.lim[RLIMIT_CORE].max == RLIM_INFINITY);
	CHECK(l.lim[RLIMIT_CPU].cur == RLIM_INFINITY && l.lim[RLIMIT_STACK].cur == 8388608);
	CHECK(l.lim[RLIMIT_NICE].cur == 0 && l.lim[RLIMIT_RTTIME].max == RLIM_INFINITY);

	LOAD_FIXTURE(buf, len, "edge.limits");
	ret = proc_limits_parse(buf, len, &l, &err);
	free(buf);
	CHECK_PARSED(ret, err, "edge.limits");
	CHECK(l.lim[RLIMIT_CPU].cur == 10 && l.lim[RLIMIT_CPU].max == 20);
	CHECK(l.lim[RLIMIT_DATA].max == UINT64_MAX - 1);
	CHECK(l.lim[RLIMIT_NICE].cur == 40 && l.lim[RLIMIT_RTPRIO].max == 99);
	CHECK(!strcmp(proc_limit_name(RLIMIT_MSGQUEUE), "Max msgqueue size") && !proc_limit_name(16));
	return 0;
}

/* The captured file of this very process agrees with getrlimit(2). */
static int test_self(void)
{
	struct proc_limits l;
	struct proc_err err;
	size_t len;
	char *buf = unit_slurp("/proc/self/limits", &len);
	int ret;

	if (!buf) {
		unit_skip_reason = "no /proc/self/limits";
		return UNIT_SKIP;
	}
	ret = proc_limits_parse(buf, len, &l, &err);
	free(buf);
	CHECK_PARSED(ret, err, "/proc/self/limits");
	for (int r = 0; r < PROC_LIMITS_NR; r++) {
		struct rlimit rl;

		CHECK(getrlimit(r, &rl) == 0);
		CHECK(rl.rlim_cur == l.lim[r].cur && rl.rlim_max == l.lim[r].max);
	}
	return 0;
}

#define HEADER "Limit                     Soft Limit           Hard Limit           Units     \n"

/* Builds a file from the header and 16 rows, row `r` replaced by `line`
 * (NULL: left out); `extra` is appended. */
static char *build(int r, const char *line, const char *extra)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	fputs(HEADER, f);
	for (int i = 0; i < PROC_LIMITS_NR; i++) {
		if (i != r)
			fprintf(f, "%-25s %-20s %-20s %-10s\n", proc_limit_name(i), "1", "unlimited", "bytes");
		else if (line)
			fprintf(f, "%s\n", line);
	}
	fputs(extra ? extra : "", f);
	fclose(f);
	return out;
}

static int test_errors(void)
{
	static const struct {
		int row;
		const char *line;
		const char *extra;
		unsigned lineno;
		const char *msg;
	} cases[] = {
		{-1, NULL, "Max cpu time 1 1 seconds\n", 18, "Max cpu time: repeated row"},
		{0, NULL, NULL, 0, "Max cpu time: missing"},
		{15, NULL, NULL, 0, "Max realtime timeout: missing"},
		{3, "Max stack size 1", NULL, 5, "soft limit: expected digits"},
		{3, "Max stack size", NULL, 5, "expected \"Name  soft  hard"},
		{3, "", NULL, 5, "expected \"Name  soft  hard"},
		{3, "1 2", NULL, 5, "expected \"Name  soft  hard"},
		{3, "Max stack size 1 2 3", NULL, 5, "too many values"},
		{3, "Max stack size 1 2 3 bytes", NULL, 5, "too many values"},
		{3, "Max stack size x 2", NULL, 5, "soft limit: expected digits"},
		{3, "Max stack size -1 2 bytes", NULL, 5, "soft limit: sign not allowed"},
		{3, "Max stack size 1 18446744073709551616", NULL, 5, "hard limit: number out of range"},
		{3, "Max stack size 1 0x10 bytes", NULL, 5, "hard limit: expected digits"},
		{3, "Max stack size unlimitedx 1", NULL, 5, "soft limit: expected digits"},
		{3, "Max stack size Unlimited 1", NULL, 5, "soft limit: expected digits"},
		{3, "a b c d e f g h i j k l m n o p q 1 2", NULL, 5, "too many words"},
		{-1, NULL, "\n", 18, "expected \"Name  soft  hard"},
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct proc_limits l;
		struct proc_err err;
		char *buf = build(cases[i].row, cases[i].line, cases[i].extra);
		int ret;

		CHECK(buf);
		memset(&err, 0x55, sizeof(err));
		ret = proc_limits_parse(buf, strlen(buf), &l, &err);
		free(buf);
		if (ret != -EINVAL || err.line != cases[i].lineno || !proc_err_sane(&err) ||
		    !strstr(ERR_MSG(err), cases[i].msg)) {
			snprintf(unit_fail_msg, sizeof(unit_fail_msg),
				 "case %zu: ret %d line %u msg \"%.160s\"; want %u \"%s\"", i, ret, err.line,
				 proc_err_sane(&err) ? ERR_MSG(err) : "?", cases[i].lineno, cases[i].msg);
			return 1;
		}
	}
	return 0;
}

static int test_shapes(void)
{
	struct proc_limits l;
	struct proc_err err;
	char *buf;

	/* The row names need not be padded: words are split on any spaces. */
	buf = build(7, "Max   open  files 3 4", "Max unknown thing 1 2 widgets\nBrand new 5 unlimited\n");
	CHECK(proc_limits_parse(buf, strlen(buf), &l, &err) == 0);
	free(buf);
	CHECK(l.lim[RLIMIT_NOFILE].cur == 3 && l.lim[RLIMIT_NOFILE].max == 4);
	/* A name must match whole words. */
	buf = build(7, "Max open file 3 4", NULL);
	CHECK(proc_limits_parse(buf, strlen(buf), &l, &err) == -EINVAL &&
	      strstr(ERR_MSG(err), "Max open files: missing"));
	free(buf);
	buf = build(7, "Max open files x 3 4", NULL);
	CHECK(proc_limits_parse(buf, strlen(buf), &l, &err) == -EINVAL &&
	      strstr(ERR_MSG(err), "Max open files: missing"));
	free(buf);
	/* No newline at the end. */
	buf = build(-1, NULL, "Max cpu time 1 1");
	CHECK(proc_limits_parse(buf, strlen(buf) - 17, &l, NULL) == 0);
	free(buf);

	/* The header. */
	CHECK(proc_limits_parse(NULL, 0, &l, &err) == -EINVAL && strstr(ERR_MSG(err), "empty file"));
	CHECK(proc_limits_parse("Limit Soft Limit Hard Limit\n", 28, &l, &err) == -EINVAL);
	CHECK(err.line == 1 && strstr(ERR_MSG(err), "header"));
	CHECK(proc_limits_parse("Max cpu time 1 1 seconds\n", 25, &l, &err) == -EINVAL && err.line == 1);
	CHECK(proc_limits_parse(HEADER "Max cpu\0time 1 1\n", sizeof(HEADER) + 16, &l, &err) == -EINVAL);
	CHECK(err.line == 2 && strstr(ERR_MSG(err), "column 8: NUL byte"));
	return 0;
}

static int parse_for_replay(const char *buf, size_t len, struct proc_err *err)
{
	struct proc_limits l;

	return proc_limits_parse(buf, len, &l, err);
}

static int test_fuzz_corpus(void)
{
	return replay_corpus(CORPUS_DIR, parse_for_replay);
}

static const struct unit_case cases[] = {
	{"proc_limits_fixture_glibc_threads", test_glibc_threads},
	{"proc_limits_fixture_busybox_static", test_busybox_static},
	{"proc_limits_fixture_python3", test_python3},
	{"proc_limits_fixture_edge", test_edge},
	{"proc_limits_fields", test_fields},
	{"proc_limits_self", test_self},
	{"proc_limits_errors", test_errors},
	{"proc_limits_shapes", test_shapes},
	{"proc_limits_fuzz_corpus", test_fuzz_corpus},
	{},
};

UNIT_MAIN(cases)

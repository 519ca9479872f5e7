/*
 * proc_timens_parse: /proc/PID/timens_offsets text as the kernel prints it,
 * and what it must refuse; timens_clock_shift: a namespace's clock from
 * criu's.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "proc/proc-timens.h"
#include "unit.h"
#include "unit-proc.h"

static int test_parse(void)
{
	/* as the kernel prints it: "%-10s %10lld %9ld" */
	static const char text[] = "monotonic        3600         0\n"
				   "boottime           -1 500000000\n";
	struct proc_timens_offsets o;
	struct proc_err e;

	CHECK(proc_timens_parse(text, sizeof(text) - 1, &o, &e) == 0);
	CHECK(o.monotonic.sec == 3600 && o.monotonic.nsec == 0);
	CHECK(o.boottime.sec == -1 && o.boottime.nsec == 500000000);
	/* the initial namespace's, in either order, the last line without '\n' */
	CHECK(proc_timens_parse("boottime 0 0\nmonotonic 0 0", 26, &o, &e) == 0);
	CHECK(o.monotonic.sec == 0 && o.boottime.sec == 0 && o.boottime.nsec == 0);
	/* clock ids instead of names (CLOCK_MONOTONIC 1, CLOCK_BOOTTIME 7), blank lines */
	CHECK(proc_timens_parse("1 -5 7\n\n7 9223372036854775807 999999999\n", 40, &o, &e) == 0);
	CHECK(o.monotonic.sec == -5 && o.monotonic.nsec == 7);
	CHECK(o.boottime.sec == INT64_MAX && o.boottime.nsec == 999999999);
	return 0;
}

/* 0 if text is refused on that line with that message; else 1, saying how not. */
static int refused(const char *text, unsigned line, const char *msg)
{
	struct proc_timens_offsets o;
	struct proc_err e;
	int ret;

	memset(&e, 0x55, sizeof(e));
	ret = proc_timens_parse(text, strlen(text), &o, &e);
	if (ret != -EINVAL || e.line != line || !proc_err_sane(&e) || strcmp(ERR_MSG(e), msg)) {
		snprintf(unit_fail_msg, sizeof(unit_fail_msg), "\"%.80s\": ret %d line %u \"%s\"; want \"%s\"", text,
			 ret, e.line, proc_err_sane(&e) ? ERR_MSG(e) : "?", msg);
		return 1;
	}
	return 0;
}

#define CHECK_REFUSED(text, line, msg)                                                                                 \
	do {                                                                                                           \
		if (refused(text, line, msg))                                                                          \
			return 1;                                                                                      \
	} while (0)

static int test_refused(void)
{
	CHECK_REFUSED("", 0, "monotonic: missing");
	CHECK_REFUSED("monotonic 0 0\n", 0, "boottime: missing");
	CHECK_REFUSED("monotonic 0 0\nmonotonic 1 0\nboottime 0 0\n", 2,
		      "line 2: monotonic: listed twice: \"monotonic\"");
	CHECK_REFUSED("monotonic 0 0\nboottime 0 0\nrealtime 0 0\n", 3, "line 3: clock: unknown clock: \"realtime\"");
	CHECK_REFUSED("monotonic 0\nboottime 0 0\n", 1,
		      "line 1: expected \"<clock> <seconds> <nanoseconds>\": \"monotonic 0\"");
	CHECK_REFUSED("monotonic 0 0 0\nboottime 0 0\n", 1, "line 1: more than three fields: \"0\"");
	CHECK_REFUSED("monotonic 0 1000000000\nboottime 0 0\n", 1,
		      "line 1: monotonic: nanoseconds: number out of range: \"1000000000\"");
	CHECK_REFUSED("monotonic 0 0\nboottime 0 -1\n", 2, "line 2: boottime: nanoseconds: sign not allowed: \"-1\"");
	CHECK_REFUSED("monotonic 9223372036854775808 0\nboottime 0 0\n", 1,
		      "line 1: monotonic: seconds: number out of range: \"9223372036854775808\"");
	CHECK_REFUSED("monotonic 0x10 0\nboottime 0 0\n", 1, "line 1: monotonic: seconds: expected digits: \"0x10\"");
	CHECK_REFUSED("monotonic\t0 0\nboottime 0 0\n", 1,
		      "line 1: expected \"<clock> <seconds> <nanoseconds>\": \"monotonic?0 0\"");
	return 0;
}

static int test_nul_byte(void)
{
	static const char text[] = "monotonic 0 0\nboottime 0\0 0\n";
	struct proc_timens_offsets o;
	struct proc_err e;

	CHECK(proc_timens_parse(text, sizeof(text) - 1, &o, &e) == -EINVAL);
	CHECK(e.line == 2 && e.col == 11);
	return 0;
}

static struct proc_timespec ts(int64_t sec, int64_t nsec)
{
	return (struct proc_timespec){sec, nsec};
}

static int test_clock_shift(void)
{
	struct proc_timespec out;

	/* criu in the initial namespace: its clock plus the namespace's offset */
	CHECK(timens_clock_shift(ts(100, 900000000), ts(0, 0), ts(3600, 200000000), &out) == 0);
	CHECK(out.sec == 3701 && out.nsec == 100000000);
	/* a negative offset, as the kernel normalises it: -0.5 s is "-1 500000000" */
	CHECK(timens_clock_shift(ts(100, 200000000), ts(0, 0), ts(-1, 500000000), &out) == 0);
	CHECK(out.sec == 99 && out.nsec == 700000000);
	/* criu in a namespace of its own: its offset comes off first */
	CHECK(timens_clock_shift(ts(1000, 0), ts(900, 100), ts(5, 0), &out) == 0);
	CHECK(out.sec == 104 && out.nsec == 999999900);
	/* the same namespace as criu's: criu's clock */
	CHECK(timens_clock_shift(ts(42, 7), ts(-10, 3), ts(-10, 3), &out) == 0);
	CHECK(out.sec == 42 && out.nsec == 7);
	/* a clock before 0, or beyond int64 */
	CHECK(timens_clock_shift(ts(10, 0), ts(0, 0), ts(-11, 0), &out) == -ERANGE);
	CHECK(timens_clock_shift(ts(10, 0), ts(0, 1), ts(-10, 0), &out) == -ERANGE);
	CHECK(timens_clock_shift(ts(INT64_MAX, 0), ts(0, 0), ts(1, 0), &out) == -ERANGE);
	CHECK(timens_clock_shift(ts(INT64_MAX, 999999999), ts(0, 0), ts(0, 1), &out) == -ERANGE);
	CHECK(timens_clock_shift(ts(0, 0), ts(INT64_MIN, 0), ts(0, 0), &out) == -ERANGE);
	return 0;
}

static int parse_for_replay(const char *buf, size_t len, struct proc_err *err)
{
	struct proc_timens_offsets o;

	return proc_timens_parse(buf, len, &o, err);
}

/* the fuzz corpus (test/fuzz/corpus/proc-timens): none may crash */
static int test_fuzz_corpus(void)
{
	return replay_corpus("test/fuzz/corpus/proc-timens", parse_for_replay);
}

static const struct unit_case cases[] = {
	{"proc_timens_parse", test_parse},
	{"proc_timens_refused", test_refused},
	{"proc_timens_nul_byte", test_nul_byte},
	{"timens_clock_shift", test_clock_shift},
	{"proc_timens_fuzz_corpus", test_fuzz_corpus},
	{},
};

int main(void)
{
	return unit_run(cases);
}

/*
 * Unit tests for the lock lines of /proc/locks and fdinfo
 * (criu/files/file-locks.c): every kind the kernel prints, waiters,
 * lines that aren't locks, and the words a refusal uses.
 */
#include <errno.h>
#include <stdint.h>

#include "unit.h"
#include "files/file-locks.h"

static int test_kinds(void)
{
	struct file_lock_info l;
	char d[128];

	CHECK(!file_lock_parse("1: POSIX  ADVISORY  WRITE 1234 00:05:6 100 299", &l));
	CHECK_STR(l.kind, "POSIX");
	CHECK_STR(l.type, "WRITE");
	CHECK(l.pid == 1234 && l.has_inode && l.dev_major == 0 && l.dev_minor == 5 && l.ino == 6);
	CHECK(l.start == 100 && l.end == 299 && !l.waiter);
	file_lock_describe(&l, d, sizeof(d));
	CHECK_STR(d, "a POSIX write lock on bytes 100-299");

	CHECK(!file_lock_parse(" 2: FLOCK  ADVISORY  WRITE 12532 fe:00:10953655 0 EOF", &l));
	CHECK_STR(l.kind, "FLOCK");
	CHECK(l.dev_major == 0xfe && l.dev_minor == 0 && l.ino == 10953655 && l.end == -1);
	file_lock_describe(&l, d, sizeof(d));
	CHECK_STR(d, "an exclusive flock");

	CHECK(!file_lock_parse("3: OFDLCK ADVISORY  READ -1 00:2d:77 10 EOF", &l));
	CHECK(l.pid == -1 && l.start == 10 && l.end == -1);
	file_lock_describe(&l, d, sizeof(d));
	CHECK_STR(d, "an OFD read lock from byte 10 to the end");

	CHECK(!file_lock_parse("4: LEASE  ACTIVE    READ 99 00:2d:77 0 EOF", &l));
	CHECK_STR(l.kind, "LEASE");
	file_lock_describe(&l, d, sizeof(d));
	CHECK_STR(d, "a read lease (F_SETLEASE)");

	CHECK(!file_lock_parse("5: LEASE  BREAKING  UNLCK 99 00:2d:77 0 EOF", &l));
	CHECK_STR(l.type, "UNLCK");
	CHECK(!file_lock_parse("6: POSIX  *NOINODE* WRITE 7 <none>:0 0 EOF", &l));
	CHECK(!l.has_inode);
	return 0;
}

static int test_waiter(void)
{
	struct file_lock_info l;

	CHECK(!file_lock_parse("1: -> FLOCK  ADVISORY  WRITE 55 00:05:6 0 EOF", &l));
	CHECK(l.waiter);
	CHECK_STR(l.kind, "FLOCK");
	CHECK(l.pid == 55);
	return 0;
}

static int test_bad(void)
{
	static const char *const bad[] = {
		"",
		"pos:\t0",
		"1: POSIX ADVISORY",
		"x: POSIX  ADVISORY  WRITE 1 00:05:6 0 EOF",
		"1 POSIX  ADVISORY  WRITE 1 00:05:6 0 EOF",
		"1: POSIX  ADVISORY  BOTH 1 00:05:6 0 EOF",
		"1: POSIX  ADVISORY  WRITE 1x 00:05:6 0 EOF",
		"1: POSIX  ADVISORY  WRITE 1 00:05 0 EOF",
		"1: POSIX  ADVISORY  WRITE 1 00:05:6 9 3",
		"1: POSIX  ADVISORY  WRITE 1 00:05:6 0 EOFX",
		"1: POSIX  ADVISORY  WRITE 99999999999 00:05:6 0 EOF",
	};
	struct file_lock_info l;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (file_lock_parse(bad[i], &l) != -EINVAL) {
			snprintf(unit_fail_msg, sizeof(unit_fail_msg), "accepted \"%s\"", bad[i]);
			return 1;
		}
	return 0;
}

static const struct unit_case cases[] = {
	{"file-locks-kinds", test_kinds},
	{"file-locks-waiter", test_waiter},
	{"file-locks-bad-lines", test_bad},
	{},
};

UNIT_MAIN(cases)

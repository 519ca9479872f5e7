/*
 * Unit tests for the kind-specific fdinfo parsers (criu/proc/fdinfo-anon.c):
 * eventfd, signalfd, timerfd and epoll fixtures captured from a process,
 * exact values; malformed lines refused with the line number and the field.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "unit-proc.h"
#include "proc/fdinfo-anon.h"

static int parse_fixture(const char *name, struct proc_fdinfo *fi)
{
	struct proc_err err = {0};
	size_t len;
	char *buf = unit_slurp(name, &len);
	int ret;

	if (!buf)
		return -ENOENT;
	ret = proc_fdinfo_parse(buf, len, fi, &err);
	free(buf);
	return ret;
}

/* An fdinfo of the four common lines and `extra`. */
static int parse_text(const char *extra, struct proc_fdinfo *fi)
{
	char buf[512];
	int n = snprintf(buf, sizeof(buf), "pos:\t0\nflags:\t02\nmnt_id:\t17\nino:\t1038\n%s", extra);

	return proc_fdinfo_parse(buf, (size_t)n, fi, NULL);
}

static int test_eventfd(void)
{
	struct proc_fdinfo fi;
	struct fdinfo_eventfd e;
	struct proc_err err = {0};

	CHECK(!parse_fixture(PROC_FIXTURES "eventfd.fdinfo", &fi));
	CHECK(!fdinfo_eventfd(&fi, &e, &err) && e.count == 7 && !e.semaphore);
	proc_fdinfo_free(&fi);
	CHECK(!parse_text("eventfd-count: fffffffffffffffe\neventfd-semaphore: 1\n", &fi));
	CHECK(!fdinfo_eventfd(&fi, &e, &err) && e.count == 0xfffffffffffffffeULL && e.semaphore);
	proc_fdinfo_free(&fi);
	CHECK(!parse_text("eventfd-count: zz\n", &fi));
	CHECK(fdinfo_eventfd(&fi, &e, &err) == -EINVAL && err.line == 5);
	CHECK_ERR_MSG(err, "line 5: eventfd-count: expected hex digits: \"zz\"");
	proc_fdinfo_free(&fi);
	/* the kernel prints 0 or 1 */
	CHECK(!parse_text("eventfd-count: 0\neventfd-semaphore: 2\n", &fi));
	CHECK(fdinfo_eventfd(&fi, &e, &err) == -EINVAL && err.line == 6);
	proc_fdinfo_free(&fi);
	CHECK(!parse_text("", &fi));
	CHECK(fdinfo_eventfd(&fi, &e, &err) == -EINVAL && err.line == 0);
	CHECK_ERR_MSG(err, "eventfd-count: missing");
	proc_fdinfo_free(&fi);
	return 0;
}

static int test_signalfd(void)
{
	struct proc_fdinfo fi;
	struct proc_err err = {0};
	uint64_t mask = 0;

	CHECK(!parse_fixture(PROC_FIXTURES "signalfd.fdinfo", &fi));
	CHECK(!fdinfo_signalfd(&fi, &mask, &err) && mask == 0x4200);
	proc_fdinfo_free(&fi);
	CHECK(!parse_text("sigmask:\t00000000000042x0\n", &fi));
	CHECK(fdinfo_signalfd(&fi, &mask, &err) == -EINVAL && err.line == 5);
	CHECK(strstr(ERR_MSG(err), "sigmask: expected hex digits"));
	proc_fdinfo_free(&fi);
	return 0;
}

static int test_timerfd(void)
{
	struct proc_fdinfo fi;
	struct fdinfo_timerfd t;
	struct proc_err err = {0};

	CHECK(!parse_fixture(PROC_FIXTURES "timerfd.fdinfo", &fi));
	CHECK(!fdinfo_timerfd(&fi, &t, &err));
	CHECK(t.clockid == 1 && t.ticks == 0 && t.settime_flags == 0);
	CHECK(t.vsec == 87 && t.vnsec == 61787761 && t.isec == 5 && t.insec == 0);
	proc_fdinfo_free(&fi);
	CHECK(!parse_text("clockid: 0\nticks: 3\nsettime flags: 03\nit_value: (1, 2)\nit_interval: (0, 1000000000)\n",
			  &fi));
	CHECK(fdinfo_timerfd(&fi, &t, &err) == -EINVAL && err.line == 9);
	CHECK(strstr(ERR_MSG(err), "it_interval: nanoseconds: number out of range"));
	proc_fdinfo_free(&fi);
	CHECK(!parse_text("clockid: 0\nticks: 3\nsettime flags: 03\nit_value: 1, 2\nit_interval: (0, 0)\n", &fi));
	CHECK(fdinfo_timerfd(&fi, &t, &err) == -EINVAL && err.line == 8);
	CHECK(strstr(ERR_MSG(err), "it_value: expected (SEC, NSEC)"));
	proc_fdinfo_free(&fi);
	CHECK(!parse_text("clockid: 0\nticks: 3\nsettime flags: 01\nit_value: (1, 2)\nit_interval: (0, 5)\n", &fi));
	CHECK(!fdinfo_timerfd(&fi, &t, &err) && t.ticks == 3 && t.settime_flags == 1 && t.vnsec == 2);
	proc_fdinfo_free(&fi);
	return 0;
}

static int test_epoll(void)
{
	struct proc_fdinfo fi;
	struct proc_err err = {0};
	struct fdinfo_epoll_tfd *t = NULL;
	size_t n = 0;

	CHECK(!parse_fixture(PROC_FIXTURES "epoll.fdinfo", &fi));
	CHECK(!fdinfo_epoll(&fi, &t, &n, &err) && n == 1);
	CHECK(t[0].tfd == 6 && t[0].events == 0x19 && t[0].data == 0x1234 && t[0].ino == 0x2bb43 && t[0].sdev == 0xf);
	free(t);
	proc_fdinfo_free(&fi);
	CHECK(!parse_text("tfd:        5 events: 80000019 data:                5  pos:0 ino:37828 sdev:f\n"
			  "tfd:        3 events:       19 data: ffffffffffffffff  pos:0 ino:40e sdev:10\n",
			  &fi));
	CHECK(!fdinfo_epoll(&fi, &t, &n, &err) && n == 2);
	CHECK(t[0].events == 0x80000019 && t[1].tfd == 3 && t[1].data == UINT64_MAX);
	free(t);
	proc_fdinfo_free(&fi);
	CHECK(!parse_text("", &fi));
	CHECK(!fdinfo_epoll(&fi, &t, &n, &err) && n == 0 && !t);
	proc_fdinfo_free(&fi);
	CHECK(!parse_text("tfd: x events: 19\n", &fi));
	CHECK(fdinfo_epoll(&fi, &t, &n, &err) == -EINVAL && !t && n == 0 && err.line == 5);
	CHECK_ERR_MSG(err, "line 5: tfd: expected digits: \"x\"");
	proc_fdinfo_free(&fi);
	return 0;
}

/* inotify: as 6.x prints it (newest watch first), one without a handle, bad lines */
static int test_inotify(void)
{
	struct proc_fdinfo fi;
	struct proc_err err = {0};
	struct fdinfo_inotify_wd *w;
	size_t n;

	CHECK(!parse_text("inotify wd:2 ino:a7426e sdev:fe00000 mask:80000002 ignored_mask:0 fhandle-bytes:8 "
			  "fhandle-type:1 f_handle:6e42a7006972ff92\n"
			  "inotify wd:1 ino:a7426d sdev:fe00000 mask:302 ignored_mask:0\n",
			  &fi));
	CHECK(!fdinfo_inotify(&fi, &w, &n, &err) && n == 2);
	CHECK(w[0].wd == 2 && w[0].ino == 0xa7426e && w[0].sdev == 0xfe00000 && w[0].mask == 0x80000002 &&
	      w[0].fh_bytes == 8 && w[0].fh_type == 1 && w[0].fh[0] == 0x6e && w[0].fh[7] == 0x92);
	CHECK(w[1].wd == 1 && w[1].mask == 0x302 && w[1].fh_bytes == 0);
	free(w);
	proc_fdinfo_free(&fi);
	/* no watches */
	CHECK(!parse_text("", &fi) && !fdinfo_inotify(&fi, &w, &n, &err) && n == 0 && !w);
	proc_fdinfo_free(&fi);
	/* the kernel ends a watch without a handle (a filesystem that can't
	 * make one) with a space */
	CHECK(!parse_text("inotify wd:3 ino:1 sdev:14 mask:fff ignored_mask:0 \n", &fi));
	CHECK(!fdinfo_inotify(&fi, &w, &n, &err) && n == 1 && w[0].wd == 3 && w[0].fh_bytes == 0);
	free(w);
	proc_fdinfo_free(&fi);
	/* an odd hex digit, a handle longer than it says, one too long, wd 0 */
	static const struct {
		const char *line, *msg;
	} bad[] = {
		{"inotify wd:2 ino:1 sdev:0 mask:2 ignored_mask:0 fhandle-bytes:2 fhandle-type:1 f_handle:6g42\n",
		 "line 5: f_handle: expected hex digits: \"6g\""},
		{"inotify wd:2 ino:1 sdev:0 mask:2 ignored_mask:0 fhandle-bytes:2 fhandle-type:1 f_handle:6e4211\n",
		 "line 5: f_handle: not as long as fhandle-bytes says: \"6e4211\""},
		{"inotify wd:2 ino:1 sdev:0 mask:2 ignored_mask:0 fhandle-bytes:81 fhandle-type:1 f_handle:00\n",
		 "line 5: fhandle-bytes: number out of range: \"81\""},
		{"inotify wd:0 ino:1 sdev:0 mask:2 ignored_mask:0\n", "line 5: wd: number out of range: \"0\""},
		{"inotify wd:2 ino:zz sdev:0 mask:2 ignored_mask:0\n", "line 5: ino: expected hex digits: \"zz\""},
		{"inotify wd:2 ino:1 sdev:0 mask:2\n", "line 5: ignored_mask: missing"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK(!parse_text(bad[i].line, &fi));
		CHECK(fdinfo_inotify(&fi, &w, &n, &err) == -EINVAL && !w && n == 0 && err.line == 5);
		CHECK_ERR_MSG(err, bad[i].msg);
		proc_fdinfo_free(&fi);
	}
	return 0;
}

static const struct unit_case cases[] = {
	{"fdinfo_eventfd", test_eventfd}, {"fdinfo_signalfd", test_signalfd}, {"fdinfo_timerfd", test_timerfd},
	{"fdinfo_epoll", test_epoll},	  {"fdinfo_inotify", test_inotify},   {},
};

int main(void)
{
	return unit_run(cases);
}

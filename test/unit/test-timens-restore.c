/*
 * The offsets of a restored tree's time namespace (task/timens-restore.c):
 * its clocks go on from the saved ones, whatever the host's now; and, on
 * this machine, a real time namespace made with them shows a child those
 * clocks.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "task/timens.h"
#include "unit.h"

static TimensEntry entry(Timespec *m, Timespec *b, uint64_t mono_s, uint64_t boot_s)
{
	TimensEntry e = TIMENS_ENTRY__INIT;

	timespec__init(m);
	timespec__init(b);
	m->tv_sec = mono_s, m->tv_nsec = 250000000;
	b->tv_sec = boot_s, b->tv_nsec = 0;
	e.monotonic = m;
	e.boottime = b;
	return e;
}

static int test_offsets(void)
{
	Timespec m, b;
	TimensEntry e = entry(&m, &b, 2685, 3000);
	int64_t mo, bo;

	/* a host up longer than the tree was: negative offsets */
	timens_offsets(&e, 10000LL * 1000000000, 10100LL * 1000000000, 0, 0, &mo, &bo);
	CHECK(mo == 2685250000000LL - 10000000000000LL && bo == 3000000000000LL - 10100000000000LL);
	/* a host just booted: positive ones */
	timens_offsets(&e, 5LL * 1000000000, 6LL * 1000000000, 0, 0, &mo, &bo);
	CHECK(mo == 2680250000000LL && bo == 2994000000000LL);
	/* criu in a time namespace 1000 s ahead: its clocks are the host's plus 1000 s */
	timens_offsets(&e, 1005LL * 1000000000, 1006LL * 1000000000, 1000LL * 1000000000, 1000LL * 1000000000, &mo,
		       &bo);
	CHECK(mo == 2680250000000LL && bo == 2994000000000LL);
	return 0;
}

/* A child made between timens_begin() and timens_end() sees the saved
 * clocks (plus the moments since); criu's own children after it, the host's. */
static int test_real_namespace(void)
{
	Timespec m, b;
	TimensEntry e = entry(&m, &b, 123456, 234567);
	struct timespec host;
	int p[2], own, st;
	double seen[2] = {0, 0};
	pid_t pid;

	if (access("/proc/self/ns/time", F_OK)) {
		unit_skip_reason = "no time namespaces in this kernel";
		return UNIT_SKIP;
	}
	CHECK(pipe(p) == 0);
	own = timens_begin(&e);
	CHECK(own >= 0);
	pid = fork();
	if (pid == 0) {
		struct timespec t[2];

		clock_gettime(CLOCK_MONOTONIC, &t[0]);
		clock_gettime(CLOCK_BOOTTIME, &t[1]);
		double v[2] = {t[0].tv_sec + t[0].tv_nsec / 1e9, t[1].tv_sec + t[1].tv_nsec / 1e9};
		_exit(write(p[1], v, sizeof(v)) == sizeof(v) ? 0 : 1);
	}
	CHECK(timens_end(own) == 0);
	CHECK(pid > 0 && read(p[0], seen, sizeof(seen)) == sizeof(seen));
	waitpid(pid, &st, 0);
	close(p[0]);
	close(p[1]);
	CHECK(seen[0] >= 123456.25 && seen[0] < 123456.25 + 5);
	CHECK(seen[1] >= 234567 && seen[1] < 234567 + 5);
	/* criu itself and its later children: the host's clocks */
	clock_gettime(CLOCK_MONOTONIC, &host);
	CHECK(host.tv_sec < 123456 || host.tv_sec > 123456 + 5);
	return 0;
}

static const struct unit_case cases[] = {
	{"timens_offsets", test_offsets},
	{"timens_real_namespace", test_real_namespace},
	{},
};

UNIT_MAIN(cases)

/*
 * proc_timers_parse: /proc/PID/timers text as the kernel prints it, and
 * what it must refuse.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <sys/time.h>
#include <time.h>

#include "proc/proc-timers.h"
#include "unit.h"
#include "unit-proc.h"

static int test_parse(void)
{
	static const char text[] = "ID: 3\nsignal: 0/0000000000000000\nnotify: none/pid.19993\nClockID: 1\n"
				   "ID: 2\nsignal: 12/000000000000000c\nnotify: signal/tid.19995\nClockID: 1\n"
				   "ID: 0\nsignal: 10/ffff88810000000a\nnotify: signal/pid.19993\nClockID: 0\n";
	struct proc_timers t;
	struct proc_err e;

	CHECK(proc_timers_parse(text, sizeof(text) - 1, &t, &e) == 0);
	CHECK(t.nr == 3);
	CHECK(t.t[0].id == 3 && t.t[0].signo == 0 && t.t[0].notify == SIGEV_NONE && t.t[0].notify_pid == 19993 &&
	      t.t[0].clock == 1);
	CHECK(t.t[1].id == 2 && t.t[1].signo == 12 && t.t[1].sival == 12 && t.t[1].notify == (SIGEV_SIGNAL | 4) &&
	      t.t[1].notify_pid == 19995);
	CHECK(t.t[2].id == 0 && t.t[2].sival == 0xffff88810000000aULL && t.t[2].notify == SIGEV_SIGNAL &&
	      t.t[2].clock == 0);
	proc_timers_free(&t);
	CHECK(proc_timers_parse("", 0, &t, &e) == 0 && t.nr == 0);
	/* the last line may lack its newline */
	CHECK(proc_timers_parse("ID: 1\nsignal: 14/0\nnotify: thread/pid.5\nClockID: 7", 50, &t, &e) == 0 &&
	      t.nr == 1 && t.t[0].notify == SIGEV_THREAD && t.t[0].clock == 7);
	proc_timers_free(&t);
	/* SIGEV_NONE keeps whatever sigev_signo the program gave, valid or not */
	CHECK(proc_timers_parse("ID: 4\nsignal: 99/0\nnotify: none/pid.5\nClockID: 1\n"
				"ID: 5\nsignal: -3/0\nnotify: none/pid.5\nClockID: 1\n",
				98, &t, &e) == 0 &&
	      t.nr == 2 && t.t[0].signo == 99 && t.t[1].signo == -3 && t.t[1].notify == SIGEV_NONE);
	proc_timers_free(&t);
	return 0;
}

static int refused(const char *text, unsigned line)
{
	struct proc_timers t;
	struct proc_err e;
	int ret = proc_timers_parse(text, strlen(text), &t, &e);

	return ret == -EINVAL && e.line == line && t.nr == 0 && !t.t;
}

static int test_refused(void)
{
	CHECK(refused("ID: x\n", 1));
	CHECK(refused("ID: 1\n", 1)); /* cut short */
	CHECK(refused("ID: 1\nsignal: ten/0\nnotify: signal/pid.1\nClockID: 1\n", 2));
	CHECK(refused("ID: 1\nsignal: 10/zz\nnotify: signal/pid.1\nClockID: 1\n", 2));
	CHECK(refused("ID: 1\nsignal: 10/0\nnotify: loud/pid.1\nClockID: 1\n", 3));
	CHECK(refused("ID: 1\nsignal: 10/0\nnotify: signal/pgid.1\nClockID: 1\n", 3));
	CHECK(refused("ID: 1\nsignal: 10/0\nnotify: signal/pid.1\nClock: 1\n", 4));
	CHECK(refused("ID: 1\nsignal: 10/0\nnotify: signal/pid.1\nClockID: 1\nID: -1\n", 5));
	return 0;
}

static int parse_for_replay(const char *buf, size_t len, struct proc_err *err)
{
	struct proc_timers t;
	int ret = proc_timers_parse(buf, len, &t, err);

	proc_timers_free(&t);
	return ret;
}

/* Which timers bound the window in which a dump may read timers, then queues. */
static int test_soonest(void)
{
	struct proc_timer k[3] = {
		{.id = 0, .notify = SIGEV_NONE},
		{.id = 1, .notify = SIGEV_SIGNAL},
		{.id = 2, .notify = SIGEV_SIGNAL | 4 /* SIGEV_THREAD_ID */},
	};
	struct proc_timers t = {.t = k, .nr = 3};
	struct itimerspec v[3] = {0};
	struct itimerval it[3] = {0};

	/* nothing armed */
	CHECK(timers_soonest_signal(it, &t, v) == UINT64_MAX);
	/* a SIGEV_NONE timer sends nothing: it never bounds the window */
	v[0].it_value.tv_nsec = 20000;
	CHECK(timers_soonest_signal(it, &t, v) == UINT64_MAX);
	/* signal timers do, process- or thread-directed */
	v[1].it_value.tv_sec = 2;
	v[2].it_value.tv_nsec = 700000;
	CHECK(timers_soonest_signal(it, &t, v) == 700000);
	/* and itimers (ITIMER_PROF here), in microseconds */
	it[2].it_value.tv_usec = 300;
	CHECK(timers_soonest_signal(it, &t, v) == 300000);
	it[0].it_value.tv_sec = 1;
	CHECK(timers_soonest_signal(it, &t, v) == 300000);
	return 0;
}

/* the fuzz corpus (test/fuzz/corpus/proc-timers): none may crash */
static int test_fuzz_corpus(void)
{
	return replay_corpus("test/fuzz/corpus/proc-timers", parse_for_replay);
}

static const struct unit_case cases[] = {
	{"proc_timers_parse", test_parse},
	{"proc_timers_refused", test_refused},
	{"proc_timers_fuzz_corpus", test_fuzz_corpus},
	{"timers_soonest_signal", test_soonest},
	{},
};

int main(void)
{
	return unit_run(cases);
}

/*
 * ptimer-static OUTDIR [fast|threadcpu]: POSIX timers of the kinds programs
 * make:
 *   A  CLOCK_MONOTONIC, SIGEV_SIGNAL (SIGUSR1), every 50 ms: counted
 *   B  CLOCK_REALTIME, SIGEV_NONE (sigev_signo 99, which the kernel keeps
 *      unchecked), one-shot in an hour: only looked at
 *   C  CLOCK_MONOTONIC, SIGEV_THREAD_ID (SIGUSR2) to a second thread, every
 *      100 ms: that thread counts them (sigwait)
 *   D  created, never armed
 * and with "fast" E, CLOCK_MONOTONIC, SIGEV_SIGNAL (SIGRTMIN), every 1 ms:
 * counted ("e N" in state); with "threadcpu" F, a CLOCK_THREAD_CPUTIME_ID
 * timer of the main thread, never armed.
 * OUTDIR/ids gets "A B C D" once; every 100 ms OUTDIR/state gets
 *   a N c M b-left S d-armed X ids-ok Y
 * (A's and C's counts, B's seconds left, whether D is armed, and whether
 * timer_gettime still knows all four ids and no fifth).
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "outfile.h"

#ifndef SIGEV_THREAD_ID
#define SIGEV_THREAD_ID 4
#endif

static volatile unsigned long count_a, count_c, count_e;
static volatile pid_t tid_c;

static void on_usr1(int sig)
{
	(void)sig;
	count_a++;
}

static void on_rtmin(int sig)
{
	(void)sig;
	count_e++;
}

static void *thread_c(void *arg)
{
	sigset_t set;
	int sig;

	(void)arg;
	tid_c = (pid_t)syscall(SYS_gettid);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	for (;;)
		if (!sigwait(&set, &sig))
			count_c++;
	return NULL;
}

static int make(clockid_t clock, int notify, int signo, pid_t tid, timer_t *id)
{
	struct sigevent ev;

	memset(&ev, 0, sizeof(ev));
	ev.sigev_notify = notify;
	ev.sigev_signo = signo;
	ev.sigev_value.sival_int = signo;
	ev._sigev_un._tid = tid;
	return (int)syscall(SYS_timer_create, clock, &ev, id);
}

static int arm(timer_t id, long value_ms, long interval_ms)
{
	struct itimerspec its = {{interval_ms / 1000, interval_ms % 1000 * 1000000},
				 {value_ms / 1000, value_ms % 1000 * 1000000}};

	return (int)syscall(SYS_timer_settime, id, 0, &its, NULL);
}

int main(int argc, char **argv)
{
	struct timespec ts = {0, 100000000};
	struct sigaction sa;
	timer_t a, b, c, d, e, f;
	sigset_t set;
	pthread_t th;
	char line[256];

	const char *mode = argc == 3 ? argv[2] : "";

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: %s OUTDIR [fast|threadcpu]\n", argv[0]);
		return 2;
	}
	outdir = argv[1];
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGUSR1, &sa, NULL);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &set, NULL); /* only thread C takes it, by sigwait */
	pthread_create(&th, NULL, thread_c, NULL);
	while (!tid_c)
		nanosleep(&ts, NULL);
	if (make(CLOCK_MONOTONIC, SIGEV_SIGNAL, SIGUSR1, 0, &a) || make(CLOCK_REALTIME, SIGEV_NONE, 99, 0, &b) ||
	    make(CLOCK_MONOTONIC, SIGEV_THREAD_ID, SIGUSR2, tid_c, &c) || make(CLOCK_MONOTONIC, SIGEV_NONE, 0, 0, &d))
		return perror("timer_create"), 1;
	if (arm(a, 50, 50) || arm(b, 3600 * 1000, 0) || arm(c, 100, 100))
		return perror("timer_settime"), 1;
	if (!strcmp(mode, "fast")) {
		sa.sa_handler = on_rtmin;
		sigaction(SIGRTMIN, &sa, NULL);
		if (make(CLOCK_MONOTONIC, SIGEV_SIGNAL, SIGRTMIN, 0, &e) ||
		    syscall(SYS_timer_settime, e, 0, &(struct itimerspec){{0, 1000000}, {0, 1000000}}, NULL))
			return perror("timer E"), 1;
	}
	if (!strcmp(mode, "threadcpu") && make(CLOCK_THREAD_CPUTIME_ID, SIGEV_NONE, 0, 0, &f))
		return perror("timer F"), 1;
	snprintf(line, sizeof(line), "%ld %ld %ld %ld\n", (long)a, (long)b, (long)c, (long)d);
	write_file("ids", line, 0);
	for (;;) {
		struct itimerspec ib, id, ix;
		int ok = !syscall(SYS_timer_gettime, a, &ix) && !syscall(SYS_timer_gettime, c, &ix) &&
			 !syscall(SYS_timer_gettime, b, &ib) && !syscall(SYS_timer_gettime, d, &id) &&
			 syscall(SYS_timer_gettime, (timer_t)(long)((long)a + (long)b + (long)c + (long)d + 1), &ix);

		snprintf(line, sizeof(line), "a %lu c %lu b-left %ld d-armed %d ids-ok %d e %lu\n", count_a, count_c,
			 (long)ib.it_value.tv_sec, id.it_value.tv_sec || id.it_value.tv_nsec, ok, count_e);
		write_file("state", line, 0);
		nanosleep(&ts, NULL);
	}
}

/*
 * anonfds-static OUTDIR: holds an eventfd (counter 7), a signalfd for
 * SIGUSR1 with one SIGUSR1 pending, a timerfd firing every 100 ms and an
 * epoll watching the eventfd (data 1), the timerfd (data 2) and the read
 * end of a pipe with 3 bytes in it (data 3, edge-triggered), then waits,
 * touching nothing, until OUTDIR/go appears. Writes OUTDIR/ready first, and
 * at go OUTDIR/result, a line each:
 *   epoll DATA...     what one epoll_wait reports ready (sorted)
 *   eventfd N         read from the eventfd
 *   signalfd SIG      the signal read from the signalfd
 *   timerfd OK|NONE   whether the timer expired by then, and again 250 ms
 *                     after that read (a periodic timer goes on firing)
 *   fown self|PID SIG the pipe's owner (F_SETOWN to itself) and F_SETSIG
 */
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

static int cmp(const void *a, const void *b)
{
	return (int)(*(const uint64_t *)a - *(const uint64_t *)b);
}

int main(int argc, char **argv)
{
	struct itimerspec its = {.it_value = {0, 100000000}, .it_interval = {0, 100000000}};
	struct timespec nap = {0, 50000000};
	struct epoll_event ev, got[8];
	struct signalfd_siginfo si;
	char path[4096], tmp[4096];
	uint64_t v = 0, datas[8];
	int efd, sfd, tfd, ep, p[2], n;
	sigset_t mask;
	FILE *f;

	if (argc != 2) {
		fprintf(stderr, "usage: %s OUTDIR\n", argv[0]);
		return 2;
	}
	sigemptyset(&mask);
	sigaddset(&mask, SIGUSR1);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	efd = eventfd(7, EFD_NONBLOCK);
	sfd = signalfd(-1, &mask, SFD_NONBLOCK);
	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
	ep = epoll_create1(0);
	if (efd < 0 || sfd < 0 || tfd < 0 || ep < 0 || pipe(p) || timerfd_settime(tfd, 0, &its, NULL))
		return perror("setup"), 1;
	if (write(p[1], "abc", 3) != 3)
		return 1;
	if (fcntl(p[0], F_SETOWN, getpid()) || fcntl(p[0], F_SETSIG, SIGUSR2))
		return perror("F_SETOWN"), 1;
	raise(SIGUSR1);
	ev.events = EPOLLIN;
	ev.data.u64 = 1;
	epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev);
	ev.data.u64 = 2;
	epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &ev);
	ev.events = EPOLLIN | EPOLLET;
	ev.data.u64 = 3;
	epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev);
	snprintf(path, sizeof(path), "%s/ready", argv[1]);
	if ((f = fopen(path, "w")))
		fclose(f);
	snprintf(path, sizeof(path), "%s/go", argv[1]);
	while (access(path, F_OK))
		nanosleep(&nap, NULL);
	nanosleep(&nap, NULL);
	nanosleep(&nap, NULL); /* at least one expiry after restore */
	snprintf(tmp, sizeof(tmp), "%s/result.tmp", argv[1]);
	f = fopen(tmp, "w");
	if (!f)
		return 1;
	n = epoll_wait(ep, got, 8, 0);
	for (int i = 0; i < n; i++)
		datas[i] = got[i].data.u64;
	qsort(datas, n > 0 ? (size_t)n : 0, sizeof(datas[0]), cmp);
	fprintf(f, "epoll");
	for (int i = 0; i < n; i++)
		fprintf(f, " %llu", (unsigned long long)datas[i]);
	fprintf(f, "\n");
	fprintf(f, "eventfd %lld\n", read(efd, &v, sizeof(v)) == sizeof(v) ? (long long)v : -1LL);
	fprintf(f, "signalfd %d\n", read(sfd, &si, sizeof(si)) == sizeof(si) ? (int)si.ssi_signo : -1);
	{
		struct timespec quarter = {0, 250000000};
		uint64_t v2 = 0;
		bool first = read(tfd, &v, sizeof(v)) == sizeof(v) && v > 0;

		nanosleep(&quarter, NULL);
		fprintf(f, "timerfd %s\n",
			first && read(tfd, &v2, sizeof(v2)) == sizeof(v2) && v2 > 0 ? "OK" : "NONE");
	}
	n = fcntl(p[0], F_GETOWN);
	if (n == getpid())
		fprintf(f, "fown self %d\n", fcntl(p[0], F_GETSIG));
	else
		fprintf(f, "fown %d %d\n", n, fcntl(p[0], F_GETSIG));
	fclose(f);
	snprintf(path, sizeof(path), "%s/result", argv[1]);
	rename(tmp, path);
	for (;;)
		pause();
}

/*
 * vmshare-static OUTDIR: a process and a child that shares its memory
 * (clone(CLONE_VM) without CLONE_THREAD, as a vfork child before exec
 * does): a dump must refuse the pair, not dump them as two copies or give
 * their memory back. Both count into memory they share; the parent writes
 * OUTDIR/count every 50 ms (it only moves if the child runs).
 */
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <time.h>

#include "outfile.h"

static volatile unsigned long counter;

static int child(void *arg)
{
	struct timespec ts = {0, 20000000};

	(void)arg;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	for (;;) {
		counter++;
		nanosleep(&ts, NULL);
	}
	return 0;
}

int main(int argc, char **argv)
{
	static char stack[64 * 1024] __attribute__((aligned(16)));
	struct timespec ts = {0, 50000000};
	char line[64];

	if (argc != 2) {
		fprintf(stderr, "usage: %s OUTDIR\n", argv[0]);
		return 2;
	}
	outdir = argv[1];
	if (clone(child, stack + sizeof(stack), CLONE_VM | SIGCHLD, NULL) < 0)
		return perror("clone"), 1;
	for (;;) {
		snprintf(line, sizeof(line), "%lu\n", counter);
		write_file("count", line, 0);
		nanosleep(&ts, NULL);
	}
}

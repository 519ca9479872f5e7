/*
 * credhold-static OUTFILE [-b CAP]... [-s SECBITS] [-p batch|idle] [-n]:
 * takes on credentials and scheduling a container runtime might give
 * (drops CAP from its bounding set, sets the securebits, the scheduling
 * policy, no_new_privs with -n), then every 100 ms writes what it has to
 * OUTFILE (atomically: a temporary file renamed), counting:
 *   count N secbits S keepcaps K nnp P policy Y
 * so that a test can tell the restored process still has them, seen from
 * inside, where /proc has no field for some of them.
 */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct timespec ts = {0, 100000000};
	struct sched_param sp = {0};
	char tmp[4096];
	unsigned long i = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s OUTFILE [-b CAP]... [-s SECBITS] [-p batch|idle] [-n]\n", argv[0]);
		return 2;
	}
	for (int a = 2; a < argc; a++) {
		if (!strcmp(argv[a], "-b") && a + 1 < argc) {
			if (prctl(PR_CAPBSET_DROP, atoi(argv[++a]), 0, 0, 0))
				return perror("PR_CAPBSET_DROP"), 1;
		} else if (!strcmp(argv[a], "-s") && a + 1 < argc) {
			if (prctl(PR_SET_SECUREBITS, strtoul(argv[++a], NULL, 0), 0, 0, 0))
				return perror("PR_SET_SECUREBITS"), 1;
		} else if (!strcmp(argv[a], "-p") && a + 1 < argc) {
			a++;
			if (sched_setscheduler(0, !strcmp(argv[a], "idle") ? SCHED_IDLE : SCHED_BATCH, &sp))
				return perror("sched_setscheduler"), 1;
		} else if (!strcmp(argv[a], "-n")) {
			if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
				return perror("PR_SET_NO_NEW_PRIVS"), 1;
		} else {
			fprintf(stderr, "unknown argument %s\n", argv[a]);
			return 2;
		}
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp", argv[1]);
	for (;;) {
		FILE *f = fopen(tmp, "w");

		if (f) {
			fprintf(f, "count %lu secbits %d keepcaps %d nnp %d policy %d\n", ++i,
				prctl(PR_GET_SECUREBITS, 0, 0, 0, 0), prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0),
				prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0), sched_getscheduler(0));
			fclose(f);
			rename(tmp, argv[1]);
		}
		nanosleep(&ts, NULL);
	}
}

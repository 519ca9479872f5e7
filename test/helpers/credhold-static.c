/*
 * credhold-static OUTFILE [-i CAP]... [-b CAP]... [-s SECBITS] [-p batch|idle]
 *                 [-n] [-u UID] [-a CAP]...:
 * takes on credentials and scheduling a container runtime might give
 * (adds CAP to its inheritable set with -i, in order with the rest; drops
 * CAP from its bounding set, sets the securebits, the scheduling
 * policy, no_new_privs with -n; with -u becomes UID, keeping only the -a
 * capabilities, which it makes ambient, as a runtime does for a non-root
 * user given capabilities), then every 100 ms writes what it has to
 * OUTFILE (atomically: a temporary file renamed), counting:
 *   count N secbits S keepcaps K nnp P policy Y
 * so that a test can tell the restored process still has them, seen from
 * inside, where /proc has no field for some of them.
 */
#include <linux/capability.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* -u and -a: UID (or root, if none) with `amb` permitted, inheritable, ambient. */
static int become(long uid, uint64_t amb)
{
	struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[2];

	if (uid >= 0 && (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) || setresgid(uid, uid, uid) || setresuid(uid, uid, uid)))
		return perror("setresuid"), 1;
	if (syscall(SYS_capget, &hdr, d))
		return perror("capget"), 1;
	for (int k = 0; k < 2; k++) {
		uint32_t w = (uint32_t)(amb >> (32 * k));

		d[k].inheritable |= w;
		if (uid >= 0)
			d[k].permitted = d[k].effective = d[k].inheritable = w;
	}
	if (syscall(SYS_capset, &hdr, d))
		return perror("capset"), 1;
	for (int cap = 0; cap < 64; cap++)
		if ((amb >> cap & 1) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0))
			return perror("PR_CAP_AMBIENT_RAISE"), 1;
	if (uid >= 0)
		prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
	return 0;
}

int main(int argc, char **argv)
{
	uint64_t amb = 0;
	long uid = -1;
	struct timespec ts = {0, 100000000};
	struct sched_param sp = {0};
	char tmp[4096];
	unsigned long i = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s OUTFILE [-b CAP]... [-s SECBITS] [-p batch|idle] [-n] [-u UID] [-a CAP]...\n",
			argv[0]);
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
		} else if (!strcmp(argv[a], "-i") && a + 1 < argc) {
			struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
			struct __user_cap_data_struct d[2];
			int cap = atoi(argv[++a]);

			if (syscall(SYS_capget, &hdr, d))
				return perror("capget"), 1;
			d[cap / 32].inheritable |= 1U << (cap % 32);
			if (syscall(SYS_capset, &hdr, d))
				return perror("capset"), 1;
		} else if (!strcmp(argv[a], "-u") && a + 1 < argc) {
			uid = atol(argv[++a]);
		} else if (!strcmp(argv[a], "-a") && a + 1 < argc) {
			amb |= 1ULL << atoi(argv[++a]);
		} else if (!strcmp(argv[a], "-n")) {
			if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
				return perror("PR_SET_NO_NEW_PRIVS"), 1;
		} else {
			fprintf(stderr, "unknown argument %s\n", argv[a]);
			return 2;
		}
	}
	if ((uid >= 0 || amb) && become(uid, amb))
		return 1;
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

/*
 * unshare-mnt-static PROG ARGS...: runs PROG in a mount namespace of its
 * own, a copy of the caller's that keeps every mount's propagation as it
 * was (`unshare -m --propagation unchanged`, which busybox 1.35 gets wrong:
 * it mounts "/" with no flags and fails). Static, for busybox roots.
 */
#include <sched.h>
#include <stdio.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: unshare-mnt-static PROG [ARGS...]\n");
		return 2;
	}
	if (unshare(CLONE_NEWNS)) {
		perror("unshare(CLONE_NEWNS)");
		return 1;
	}
	execvp(argv[1], argv + 1);
	perror(argv[1]);
	return 127;
}

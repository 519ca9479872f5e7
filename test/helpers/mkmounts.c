/*
 * mkmounts SRC DIR N: makes N directories DIR/0..N-1 and bind-mounts SRC on
 * each, with plain mount(2) calls in a loop (spawning mount(8) 10,000 times
 * would measure fork/exec, not mounts). Prints the seconds the mounts took,
 * which is the "bare kernel loop" the benchmarks compare against.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>

int main(int argc, char **argv)
{
	char path[4096];
	struct timespec a, b;
	long n;

	if (argc != 4 || (n = strtol(argv[3], NULL, 10)) <= 0) {
		fprintf(stderr, "usage: mkmounts SRC DIR N\n");
		return 2;
	}
	for (long i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%ld", argv[2], i);
		if (mkdir(path, 0755) && errno != EEXIST) {
			perror(path);
			return 1;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (long i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%ld", argv[2], i);
		if (mount(argv[1], path, NULL, MS_BIND, NULL)) {
			fprintf(stderr, "mount %s on %s: %s\n", argv[1], path, strerror(errno));
			return 1;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("%.6f\n", (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9);
	return 0;
}

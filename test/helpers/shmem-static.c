/*
 * shmem-static OUTDIR: shared anonymous memory the way a server's
 * processes share it (postgres' shared buffers, nginx's zones).
 *
 * The parent maps 16 MiB MAP_SHARED|MAP_ANONYMOUS, fills the first 8 MiB
 * with a pattern and leaves the rest untouched, unmaps its first page (so
 * the area left starts at offset 4096 of its object), maps /dev/zero
 * MAP_SHARED too, and forks a child. The child bumps a counter in the
 * shared area every 50 ms; the parent reads it and writes OUTDIR/count (so
 * the count only moves if the two still share the memory). Each time
 * OUTDIR/trigger appears the parent checks every byte of the pattern and
 * that the untouched part is still not resident, and writes OUTDIR/result:
 *   round N: verified OK untouched-resident R
 * or round N: BAD ...
 */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "outfile.h"

#define MB	(1UL << 20)
#define SIZE	(16 * MB)
#define FILLED	(8 * MB)
#define PG	4096UL

static uint64_t pattern(uint64_t off)
{
	return off * 0x9E3779B97F4A7C15ULL ^ 0x5bd1e995;
}

int main(int argc, char **argv)
{
	struct timespec ts = {0, 50000000};
	char trigger[4096], line[256];
	volatile uint64_t *counter;
	uint64_t *z;
	char *p;
	int round = 0, fd;

	if (argc != 2) {
		fprintf(stderr, "usage: %s OUTDIR\n", argv[0]);
		return 2;
	}
	outdir = argv[1];
	p = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	fd = open("/dev/zero", O_RDWR);
	z = fd < 0 ? MAP_FAILED : mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED || z == MAP_FAILED)
		return perror("mmap"), 1;
	close(fd);
	for (uint64_t o = 0; o < FILLED; o += 8)
		*(uint64_t *)(p + o) = pattern(o);
	munmap(p, PG); /* what is left starts at offset 4096 of the object */
	counter = (volatile uint64_t *)z;
	z[1] = 0x1122334455667788ULL;
	if (fork() == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		for (;;) {
			(*counter)++;
			nanosleep(&ts, NULL);
		}
	}
	snprintf(trigger, sizeof(trigger), "%s/trigger", outdir);
	write_file("ready", "ready\n", 0);
	for (;;) {
		unsigned char vec[(SIZE - FILLED) / PG];
		long resident = 0;
		const char *bad = NULL;

		snprintf(line, sizeof(line), "%llu\n", (unsigned long long)*counter);
		write_file("count", line, 0);
		nanosleep(&ts, NULL);
		if (access(trigger, F_OK))
			continue;
		unlink(trigger);
		round++;
		if (mincore(p + FILLED, SIZE - FILLED, vec) == 0)
			for (size_t i = 0; i < sizeof(vec); i++)
				resident += vec[i] & 1;
		for (uint64_t o = PG; !bad && o < FILLED; o += 8)
			if (*(uint64_t *)(p + o) != pattern(o))
				bad = "pattern";
		for (uint64_t o = FILLED; !bad && o < SIZE; o += PG)
			if (*(uint64_t *)(p + o))
				bad = "untouched";
		if (!bad && z[1] != 0x1122334455667788ULL)
			bad = "dev-zero";
		/* reading the untouched part allocated it: give it back */
		madvise(p + FILLED, SIZE - FILLED, MADV_REMOVE);
		if (bad)
			snprintf(line, sizeof(line), "round %d: BAD %s untouched-resident %ld\n", round, bad, resident);
		else
			snprintf(line, sizeof(line), "round %d: verified OK untouched-resident %ld\n", round, resident);
		write_file("result", line, 0);
	}
}

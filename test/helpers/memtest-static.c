/*
 * memtest-static OUTDIR [FILL_MB [UNTOUCHED_MB [RO_MB [sock]]]]  (default 256 64 16)
 *
 * Memory contents across checkpoint/restore:
 *  - FILL_MB of anonymous memory filled with a pattern derived from the
 *    offset of each 64-bit word;
 *  - UNTOUCHED_MB mapped and never written: must read as zeros and should
 *    not be resident (checked with mincore before it is read);
 *  - RO_MB filled with another pattern, then mprotect(PROT_READ).
 * Writes OUTDIR/ready ("ready fill F untouched U ro R untouched-resident N
 * fill-ms T") once filled. Then, each time OUTDIR/trigger appears (polled
 * every 100 ms), removes it and verifies every byte, writing OUTDIR/result:
 *   round N: verified OK untouched-resident R
 * or
 *   round N: BAD REGION offset 0xOFF got 0xX want 0xY untouched-resident R
 * (the first bad word). Reading the untouched area maps the zero page; it is
 * dropped again (MADV_DONTNEED) after each round, so the area stays as never
 * touched for the next dump. OUTDIR/starts gets a line per start.
 * "sock": also holds a netlink socket, a descriptor dump refuses once the
 * memory is dumped (tests of a dump failing after that); "thp": the fill
 * area is madvise(MADV_HUGEPAGE)d before it is written.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "outfile.h"

#define MB (1UL << 20)



static inline uint64_t pattern(uint64_t off, uint64_t seed)
{
	return (off * 0x9E3779B97F4A7C15ULL) ^ seed ^ (off >> 12);
}

static void fill(uint64_t *p, size_t len, uint64_t seed)
{
	for (size_t i = 0; i < len / 8; i++)
		p[i] = pattern(i * 8, seed);
}

/* 0 when all good, else the offset of the first bad word + 1 in *bad. */
static int check(const uint64_t *p, size_t len, uint64_t seed, int zero, size_t *bad, uint64_t *got,
		 uint64_t *want)
{
	for (size_t i = 0; i < len / 8; i++) {
		uint64_t w = zero ? 0 : pattern(i * 8, seed);

		if (p[i] != w) {
			*bad = i * 8;
			*got = p[i];
			*want = w;
			return 1;
		}
	}
	return 0;
}

static long resident(void *p, size_t len)
{
	size_t pages = len / 4096;
	unsigned char *vec;
	long n = 0;

	if (!len)
		return 0;
	vec = malloc(pages);
	if (!vec || mincore(p, len, vec)) {
		free(vec);
		return -1;
	}
	for (size_t i = 0; i < pages; i++)
		n += vec[i] & 1;
	free(vec);
	return n;
}

static void *map(size_t len)
{
	void *p;

	if (!len)
		return NULL;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	return p;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
	size_t fill_len, untouched_len, ro_len;
	struct timespec ts = { 0, 100000000 };
	char trigger[4096], line[512];
	uint64_t *fillp, *untouched, *ro;
	double t0;
	int round = 0;

	if (argc < 2 || argc > 6 || (argc == 6 && strcmp(argv[5], "sock") && strcmp(argv[5], "thp"))) {
		fprintf(stderr, "usage: %s OUTDIR [FILL_MB [UNTOUCHED_MB [RO_MB [sock|thp]]]]\n", argv[0]);
		return 2;
	}
	if (argc == 6 && !strcmp(argv[5], "sock") && socket(AF_NETLINK, SOCK_RAW, 0 /* NETLINK_ROUTE */) < 0) {
		perror("socket");
		return 1;
	}
	outdir = argv[1];
	fill_len = (argc > 2 ? strtoul(argv[2], NULL, 0) : 256) * MB;
	untouched_len = (argc > 3 ? strtoul(argv[3], NULL, 0) : 64) * MB;
	ro_len = (argc > 4 ? strtoul(argv[4], NULL, 0) : 16) * MB;
	snprintf(line, sizeof(line), "start pid %d\n", getpid());
	write_file("starts", line, 1);

	t0 = now_ms();
	fillp = map(fill_len);
	if (fillp && argc == 6 && !strcmp(argv[5], "thp"))
		madvise(fillp, fill_len, MADV_HUGEPAGE);
	untouched = map(untouched_len);
	ro = map(ro_len);
	if (fillp)
		fill(fillp, fill_len, 0x0123456789ABCDEFULL);
	if (ro) {
		fill(ro, ro_len, 0xFEDCBA9876543210ULL);
		if (mprotect(ro, ro_len, PROT_READ)) {
			perror("mprotect");
			return 1;
		}
	}
	snprintf(line, sizeof(line), "ready fill %zu untouched %zu ro %zu untouched-resident %ld fill-ms %.0f\n",
		 fill_len / MB, untouched_len / MB, ro_len / MB, resident(untouched, untouched_len), now_ms() - t0);
	write_file("ready", line, 0);

	snprintf(trigger, sizeof(trigger), "%s/trigger", outdir);
	for (;;) {
		size_t off = 0;
		uint64_t got = 0, want = 0;
		const char *what = NULL;
		long res;

		nanosleep(&ts, NULL);
		if (access(trigger, F_OK))
			continue;
		unlink(trigger);
		round++;
		/* before anything reads the untouched area */
		res = resident(untouched, untouched_len);
		if (fillp && check(fillp, fill_len, 0x0123456789ABCDEFULL, 0, &off, &got, &want))
			what = "fill";
		else if (ro && check(ro, ro_len, 0xFEDCBA9876543210ULL, 0, &off, &got, &want))
			what = "ro";
		else if (untouched && check(untouched, untouched_len, 0, 1, &off, &got, &want))
			what = "untouched";
		/* reading mapped the zero page: drop it, the area stays as never touched */
		if (untouched)
			madvise(untouched, untouched_len, MADV_DONTNEED);
		if (what)
			snprintf(line, sizeof(line),
				 "round %d: BAD %s offset %#zx got %#" PRIx64 " want %#" PRIx64 " untouched-resident %ld\n",
				 round, what, off, got, want, res);
		else
			snprintf(line, sizeof(line), "round %d: verified OK untouched-resident %ld\n", round, res);
		write_file("result", line, 0);
	}
}

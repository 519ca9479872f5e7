/*
 * state-mem-static OUTDIR CASE: memory state across checkpoint/restore
 * (statecheck.h). Cases:
 *   anon-private     a private anonymous area with a pattern: same contents.
 * Copy-on-write sharing with forked children (pagemap PFNs, as root):
 *   cow-shared       one child; pages written by either side after the fork
 *                    are separate, the others one page for both (same PFN),
 *                    pages one side dropped or never had read as zeros.
 *   cow-scale        8 children of a 4 MiB area, each wrote one page: the
 *                    rest stays one copy (PFNs, and the parent's Pss).
 *   cow-chain        parent, child, grandchild, each wrote a page at a
 *                    different time: who shares which page.
 * Areas changed after their pages were written, contents checked:
 *   remap-move, remap-grow, remap-grow-inplace, remap-shrink, remap-swap,
 *   split-mprotect, split-hole, split-protnone, brk-grow, remap-big (48 MiB,
 *   sparse, grown by a move), adjacent-areas (one run over a file and an
 *   anonymous area), huge-split (THP split by mprotect and mremap),
 *   growsdown (grown by a fault below it), stack-deep
 * File mappings and the protection they may get later (mprotect):
 *   file-shared-rw   MAP_SHARED PROT_READ of a file opened O_RDWR: may
 *                    become writable, writes reach the file.
 *   file-shared-ro   the same of a file opened O_RDONLY: EACCES.
 *   file-private     MAP_PRIVATE of an O_RDONLY file, one page written:
 *                    contents kept, may become writable, file untouched.
 *   file-remap       a file mapping moved by mremap: the file's pages.
 * Per-area state (VmFlags in /proc/self/smaps, and what they do):
 *   madv-dontfork, madv-wipeonfork, madv-dontdump, madv-hugepage,
 *   madv-nohugepage, madv-mergeable, madv-sequential, madv-random,
 *   ksm-merge-any (prctl(PR_SET_MEMORY_MERGE): refused), mlock, mlock-onfault (refused),
 *   mlock-setuid (locked, then setuid to nobody), mlockall-current,
 *   mlockall-future (refused), no-vdso (vDSO and vvar unmapped: none after),
 *   mseal (a sealed area stays sealed)
 */
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "statecheck.h"

#define PAGE 4096UL

#ifndef MLOCK_ONFAULT
#define MLOCK_ONFAULT 1
#endif
#ifndef MCL_ONFAULT
#define MCL_ONFAULT 4
#endif

static uint64_t *area;
static size_t area_len = 64 * PAGE;

static uint64_t pat(size_t i, uint64_t seed)
{
	return (i * 0x9E3779B97F4A7C15ULL) ^ (seed << 56) ^ seed;
}

/* page `pg` of a (of whatever area) with seed s (0: zeros) */
static void fill_page(void *a, size_t pg, uint64_t seed)
{
	uint64_t *w = (uint64_t *)((char *)a + pg * PAGE);

	for (size_t i = 0; i < PAGE / 8; i++)
		w[i] = seed ? pat(pg * PAGE / 8 + i, seed) : 0;
}

static void fill_pages(void *a, size_t from, size_t to, uint64_t seed)
{
	for (size_t pg = from; pg < to; pg++)
		fill_page(a, pg, seed);
}

/* NULL when page `pg` of the buffer a holds seed s's pattern */
static const char *page_is(const void *a, size_t pg, uint64_t seed, const char *who)
{
	const uint64_t *w = (const uint64_t *)((const char *)a + pg * PAGE);

	for (size_t i = 0; i < PAGE / 8; i++)
		if (w[i] != (seed ? pat(pg * PAGE / 8 + i, seed) : 0))
			return bad("%s: page %zu word %zu: got %#llx, want seed %llu", who, pg, i,
				   (unsigned long long)w[i], (unsigned long long)seed);
	return NULL;
}

static const char *pages_are(const void *a, size_t from, size_t to, uint64_t seed, const char *who)
{
	const char *why;

	for (size_t pg = from; pg < to; pg++)
		if ((why = page_is(a, pg, seed, who)))
			return why;
	return NULL;
}

static void *map_anon(size_t len)
{
	void *a = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (a == MAP_FAILED)
		setup_failed("mmap");
	return a;
}

/* ------------------------------------------------------------------------
 * /proc readers
 */

/* The PFN of pid's page at addr; 0 when not present (or hidden). */
static uint64_t pfn_of(pid_t pid, const void *addr)
{
	char path[64];
	uint64_t e = 0;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/pagemap", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	if (pread(fd, &e, 8, (off_t)((uintptr_t)addr / PAGE * 8)) != 8)
		e = 0;
	close(fd);
	return (e >> 63) ? (e & ((1ULL << 55) - 1)) : 0;
}

static uint64_t zero_pfn; /* the shared zero page's, found by cow_setup */

/* Does pid have a page of its own (not the zero page) at addr? */
static bool has_page(pid_t pid, const void *addr)
{
	uint64_t pfn = pfn_of(pid, addr);

	return pfn && pfn != zero_pfn;
}

/* Reads len bytes of pid's memory at addr into buf: 0 or -1. */
static int read_mem(pid_t pid, const void *addr, void *buf, size_t len)
{
	char path[64];
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/mem", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = pread(fd, buf, len, (off_t)(uintptr_t)addr);
	close(fd);
	return n == (ssize_t)len ? 0 : -1;
}

static char smaps_buf[1 << 20];

/*
 * The smaps block of the area that starts at addr: its VmFlags (into
 * flags) and the value of field `field` in kB (into kb). 0, or -1 when
 * there is no such area.
 */
static int smaps_area(const void *addr, char *flags, size_t flen, const char *field, long *kb)
{
	char head[32];
	ssize_t n = 0, r;
	int fd = open("/proc/self/smaps", O_RDONLY | O_CLOEXEC);
	char *p, *end;

	if (fd < 0)
		return -1;
	while ((r = read(fd, smaps_buf + n, sizeof(smaps_buf) - 1 - (size_t)n)) > 0)
		n += r;
	close(fd);
	smaps_buf[n] = '\0';
	snprintf(head, sizeof(head), "%lx-", (unsigned long)(uintptr_t)addr);
	for (p = smaps_buf; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (!strncmp(p, head, strlen(head)))
			break;
	if (!p || !*p)
		return -1;
	end = p + 1;
	/* up to the next header line (one that starts with a hex address and '-') */
	for (;;) {
		end = strchr(end, '\n');
		if (!end || !end[1])
			break;
		end++;
		if (strchr("0123456789abcdef", *end) && strchr(end, '-') && strchr(end, '-') < strchr(end, ' '))
			break;
	}
	if (flags) {
		char *f = strstr(p, "VmFlags:");

		flags[0] = '\0';
		if (f && (!end || f < end)) {
			size_t k = strcspn(f + 8, "\n");

			snprintf(flags, flen, "%.*s ", (int)k, f + 8);
		}
	}
	if (field) {
		char *f = strstr(p, field);

		*kb = -1;
		if (f && (!end || f < end))
			*kb = strtol(f + strlen(field) + 1, NULL, 10);
	}
	return 0;
}

/* Is the two-letter flag among the VmFlags of the area at addr? -1: no area. */
static int has_flag(const void *addr, const char *flag)
{
	char flags[256], want[8];

	if (smaps_area(addr, flags, sizeof(flags), NULL, NULL))
		return -1;
	snprintf(want, sizeof(want), " %s ", flag);
	return strstr(flags, want) != NULL;
}

static const char *want_flag(const void *addr, const char *flag, int want)
{
	int h = has_flag(addr, flag);

	if (h < 0)
		return bad("no area at %p in smaps", addr);
	if (h != want)
		return bad("area %p: VmFlags %s '%s'", addr, want ? "lack" : "have", flag);
	return NULL;
}

/* /proc/self/maps text (into smaps_buf). */
static const char *self_maps(void)
{
	ssize_t n = 0, r;
	int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);

	smaps_buf[0] = '\0';
	if (fd < 0)
		return smaps_buf;
	while ((r = read(fd, smaps_buf + n, sizeof(smaps_buf) - 1 - (size_t)n)) > 0)
		n += r;
	close(fd);
	smaps_buf[n > 0 ? n : 0] = '\0';
	return smaps_buf;
}

/* ------------------------------------------------------------------------
 * anon-private
 */

static void anon_setup(void)
{
	area = map_anon(area_len);
	fill_pages(area, 0, area_len / PAGE, 1);
}

static const char *anon_check(int round)
{
	return pages_are(area, 0, area_len / PAGE, 1, "area");
}

/* ------------------------------------------------------------------------
 * Copy-on-write sharing with children
 */

#define MAX_KIDS 8

static pid_t kids[MAX_KIDS];
static int nr_kids;

/* Forks a child that runs fn() then sleeps forever; returns once fn is done. */
static pid_t fork_child(void (*fn)(int k), int k)
{
	int p[2];
	char c;
	pid_t pid;

	if (pipe(p))
		setup_failed("pipe");
	pid = fork();
	if (pid < 0)
		setup_failed("fork");
	if (!pid) {
		close(p[0]);
		fn(k);
		if (write(p[1], "x", 1) != 1)
			_exit(1);
		close(p[1]);
		for (;;)
			pause();
	}
	close(p[1]);
	if (read(p[0], &c, 1) != 1)
		setup_failed("child %d did not get ready", k);
	close(p[0]);
	return pid;
}

/*
 * cow-shared, 64 pages. Before the fork the parent writes [0,48) seed 1.
 * The child writes [0,8) seed 2, drops [8,10), writes page 50 seed 4; the
 * parent writes [16,24) seed 3 and [56,64) seed 5.
 */
static void cow_child(int k)
{
	fill_pages(area, 0, 8, 2);
	madvise((char *)area + 8 * PAGE, 2 * PAGE, MADV_DONTNEED);
	fill_page(area, 50, 4);
}

static void cow_setup(void)
{
	volatile char *z = map_anon(PAGE);

	(void)z[0]; /* a read fault maps the zero page */
	zero_pfn = pfn_of(getpid(), (const void *)z);
	area = map_anon(area_len);
	fill_pages(area, 0, 48, 1);
	kids[nr_kids++] = fork_child(cow_child, 0);
	fill_pages(area, 16, 24, 3);
	fill_pages(area, 56, 64, 5);
}

struct span_want {
	size_t from, to;
	uint64_t seed;
};

static const char *cow_check(int round)
{
	static const struct span_want parent[] = {{0, 16, 1}, {16, 24, 3}, {24, 48, 1}, {48, 56, 0}, {56, 64, 5}};
	static const struct span_want child[] = {{0, 8, 2},   {8, 10, 0},  {10, 48, 1},
						 {48, 50, 0}, {50, 51, 4}, {51, 64, 0}};
	static char buf[64 * PAGE];
	const char *why;

	/* sharing first: reading the child's absent pages maps the zero page there */
	for (size_t pg = 0; pg < 48; pg++) {
		const char *a = (const char *)area + pg * PAGE;
		uint64_t mine = pfn_of(getpid(), a), its = pfn_of(kids[0], a);
		bool shared = (pg >= 10 && pg < 16) || pg >= 24;

		if (pg >= 8 && pg < 10)
			continue; /* absent in the child */
		if (!mine || !its)
			return bad("page %zu not present (pfn %#llx, child's %#llx)", pg, (unsigned long long)mine,
				   (unsigned long long)its);
		if (shared != (mine == its))
			return bad("page %zu: %s with the child, should %s", pg, mine == its ? "shared" : "not shared",
				   shared ? "be shared" : "be separate");
	}
	/* (the zero page, mapped where round 1 read the child's absent pages, is none) */
	if (has_page(kids[0], (char *)area + 8 * PAGE) || has_page(kids[0], (char *)area + 56 * PAGE))
		return bad("the child has pages it dropped or never had: pfns %#llx %#llx",
			   (unsigned long long)pfn_of(kids[0], (char *)area + 8 * PAGE),
			   (unsigned long long)pfn_of(kids[0], (char *)area + 56 * PAGE));
	for (size_t i = 0; i < sizeof(parent) / sizeof(parent[0]); i++)
		if ((why = pages_are(area, parent[i].from, parent[i].to, parent[i].seed, "parent")))
			return why;
	/* the child's pages as it reads them: an absent one reads as zeros (not read
	 * here, which would map the zero page there and change what the dump sees) */
	for (size_t i = 0; i < sizeof(child) / sizeof(child[0]); i++) {
		for (size_t pg = child[i].from; pg < child[i].to; pg++) {
			if (!child[i].seed && !pfn_of(kids[0], (char *)area + pg * PAGE))
				continue;
			if (read_mem(kids[0], (char *)area + pg * PAGE, buf + pg * PAGE, PAGE))
				return bad("can't read the child's memory: %s", strerror(errno));
			if ((why = page_is(buf, pg, child[i].seed, "child")))
				return why;
		}
	}
	return NULL;
}

#define SCALE_PAGES 1024 /* 4 MiB */

static void scale_child(int k)
{
	fill_page(area, (size_t)k * 100, 10 + (uint64_t)k);
}

static void scale_setup(void)
{
	area_len = SCALE_PAGES * PAGE;
	area = map_anon(area_len);
	fill_pages(area, 0, SCALE_PAGES, 1);
	for (int k = 0; k < MAX_KIDS; k++)
		kids[nr_kids++] = fork_child(scale_child, k);
}

static const char *scale_check(int round)
{
	static char buf[PAGE];
	long pss;
	const char *why;

	for (int k = 0; k < nr_kids; k++) {
		for (size_t pg = 0; pg < SCALE_PAGES; pg++) {
			const char *a = (const char *)area + pg * PAGE;
			uint64_t mine = pfn_of(getpid(), a), its = pfn_of(kids[k], a);
			bool own = pg == (size_t)k * 100;

			if (!mine || !its)
				return bad("child %d page %zu not present", k, pg);
			if (own == (mine == its))
				return bad("child %d page %zu: %s", k, pg, own ? "shared, was written" : "not shared");
		}
		if (read_mem(kids[k], (char *)area + (size_t)k * 100 * PAGE, buf, PAGE))
			return bad("can't read child %d: %s", k, strerror(errno));
		/* buf holds page k*100 at its start: compare as page 0 of a shifted base */
		for (size_t i = 0; i < PAGE / 8; i++)
			if (((uint64_t *)buf)[i] != pat((size_t)k * 100 * PAGE / 8 + i, 10 + (uint64_t)k))
				return bad("child %d: its own page differs", k);
		if (read_mem(kids[k], (char *)area + 7 * PAGE, buf, PAGE))
			return bad("can't read child %d: %s", k, strerror(errno));
		if (k != 0 && memcmp(buf, (char *)area + 7 * PAGE, PAGE))
			return bad("child %d: page 7 differs from the parent's", k);
	}
	for (size_t pg = 0; pg < SCALE_PAGES; pg++)
		if ((why = page_is(area, pg, 1, "parent")))
			return why;
	/* one copy for 9 processes: Pss about a ninth of the area */
	if (smaps_area(area, NULL, 0, "Pss:", &pss) || pss < 0)
		return bad("no Pss for the area");
	if ((unsigned long)pss * 1024 > area_len / 4)
		return bad("the parent's Pss of the area is %ld kB of %zu kB: not shared", pss, area_len >> 10);
	return NULL;
}

/*
 * cow-chain, 32 pages, three generations: the parent writes them all (seed
 * 1) and forks C; C writes page 0 (seed 2) and forks G; G writes page 1
 * (seed 3); then the parent writes page 2 (seed 4). Page 0: C and G share
 * C's copy; page 1: parent and C share; page 2: C and G share; the rest:
 * all three share.
 */
static void chain_grandchild(int k)
{
	fill_page(area, 1, 3);
}

static void chain_child(int k)
{
	fill_page(area, 0, 2);
	fork_child(chain_grandchild, 1);
}

static void chain_setup(void)
{
	area_len = 32 * PAGE;
	area = map_anon(area_len);
	fill_pages(area, 0, 32, 1);
	kids[nr_kids++] = fork_child(chain_child, 0);
	fill_page(area, 2, 4);
}

static pid_t child_of(pid_t pid)
{
	char path[64];
	FILE *f;
	int c = 0;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", pid, pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (fscanf(f, "%d", &c) != 1)
		c = 0;
	fclose(f);
	return c;
}

static const char *chain_check(int round)
{
	/* seeds of pages 0..2 in parent, C, G; the rest seed 1 everywhere */
	static const uint64_t seed[3][3] = {{1, 1, 4}, {2, 1, 1}, {2, 3, 1}};
	static char buf[PAGE];
	pid_t who[3] = {getpid(), kids[0], child_of(kids[0])};
	const char *why;

	if (!who[2])
		return bad("no grandchild");
	for (size_t pg = 0; pg < 32; pg++) {
		uint64_t f[3];

		for (int i = 0; i < 3; i++) {
			f[i] = pfn_of(who[i], (char *)area + pg * PAGE);
			if (!f[i])
				return bad("generation %d: page %zu not present", i, pg);
			if (read_mem(who[i], (char *)area + pg * PAGE, buf, PAGE))
				return bad("can't read generation %d: %s", i, strerror(errno));
			for (size_t w = 0; w < PAGE / 8; w++)
				if (((uint64_t *)buf)[w] != pat(pg * PAGE / 8 + w, pg < 3 ? seed[i][pg] : 1))
					return bad("generation %d page %zu differs", i, pg);
		}
		why = NULL;
		if (pg == 0 && !(f[1] == f[2] && f[0] != f[1]))
			why = "page 0: C and G should share, not the parent";
		if (pg == 1 && !(f[0] == f[1] && f[1] != f[2]))
			why = "page 1: the parent and C should share, not G";
		if (pg == 2 && !(f[1] == f[2] && f[0] != f[1]))
			why = "page 2: C and G should share, not the parent";
		if (pg > 2 && !(f[0] == f[1] && f[1] == f[2]))
			why = "all three should share";
		if (why)
			return bad("page %zu: %s", pg, why);
	}
	return NULL;
}

/* ------------------------------------------------------------------------
 * Areas changed after their pages were written
 */

static char *spot; /* a free place, made by mapping and unmapping */

static char *free_spot(size_t len)
{
	char *a = map_anon(len);

	munmap(a, len);
	return a;
}

static void remap_move_setup(void)
{
	char *a = map_anon(32 * PAGE);

	fill_pages(a, 0, 32, 1);
	spot = free_spot(64 * PAGE) + 16 * PAGE;
	area = mremap(a, 32 * PAGE, 32 * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, spot);
	if (area == MAP_FAILED)
		setup_failed("mremap");
	fill_page(area, 31, 2); /* written after the move too */
}

static const char *remap_move_check(int round)
{
	const char *why = pages_are(area, 0, 31, 1, "moved");

	return why ? why : page_is(area, 31, 2, "moved");
}

/* grown by moving: [0,16) seed 1, [16,40) zeros, page 40 seed 2, rest zeros */
static void remap_grow_setup(void)
{
	char *a = map_anon(16 * PAGE);
	char *block = map_anon(PAGE);

	(void)block; /* likely right after a: growing must move */
	fill_pages(a, 0, 16, 1);
	area = mremap(a, 16 * PAGE, 48 * PAGE, MREMAP_MAYMOVE);
	if (area == MAP_FAILED)
		setup_failed("mremap");
	fill_page(area, 40, 2);
}

static const char *remap_grow_check(int round)
{
	const char *why = pages_are(area, 0, 16, 1, "grown");

	if (!why)
		why = pages_are(area, 16, 40, 0, "grown");
	if (!why)
		why = page_is(area, 40, 2, "grown");
	return why ? why : pages_are(area, 41, 48, 0, "grown");
}

/* grown in place into a hole kept free for it */
static void remap_grow_inplace_setup(void)
{
	char *a = map_anon(64 * PAGE);

	munmap(a + 16 * PAGE, 48 * PAGE);
	fill_pages(a, 0, 16, 1);
	area = mremap(a, 16 * PAGE, 64 * PAGE, 0);
	if (area == MAP_FAILED)
		setup_failed("mremap in place");
	fill_pages(area, 60, 64, 3);
}

static const char *remap_grow_inplace_check(int round)
{
	const char *why = pages_are(area, 0, 16, 1, "grown");

	if (!why)
		why = pages_are(area, 16, 60, 0, "grown");
	return why ? why : pages_are(area, 60, 64, 3, "grown");
}

static void remap_shrink_setup(void)
{
	char *a = map_anon(32 * PAGE);

	fill_pages(a, 0, 32, 1);
	area = mremap(a, 32 * PAGE, 8 * PAGE, 0);
	if (area == MAP_FAILED)
		setup_failed("mremap shrink");
}

static const char *remap_shrink_check(int round)
{
	return pages_are(area, 0, 8, 1, "shrunk");
}

/* two areas swapped by mremap through a third place */
static char *swap_b;

static void remap_swap_setup(void)
{
	char *a = map_anon(8 * PAGE), *b = map_anon(8 * PAGE), *tmp = free_spot(8 * PAGE);

	fill_pages(a, 0, 8, 1);
	fill_pages(b, 0, 8, 2);
	if (mremap(a, 8 * PAGE, 8 * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, tmp) == MAP_FAILED ||
	    mremap(b, 8 * PAGE, 8 * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, a) == MAP_FAILED ||
	    mremap(tmp, 8 * PAGE, 8 * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, b) == MAP_FAILED)
		setup_failed("mremap");
	area = (uint64_t *)a; /* holds seed 2 now */
	swap_b = b;	      /* holds seed 1 */
}

static const char *remap_swap_check(int round)
{
	const char *why = pages_are(area, 0, 8, 2, "a");

	return why ? why : pages_are(swap_b, 0, 8, 1, "b");
}

static void split_mprotect_setup(void)
{
	area = map_anon(32 * PAGE);
	fill_pages(area, 0, 32, 1);
	if (mprotect((char *)area + 8 * PAGE, 8 * PAGE, PROT_READ))
		setup_failed("mprotect");
	fill_page(area, 20, 2);
}

static const char *split_mprotect_check(int round)
{
	const char *why = pages_are(area, 0, 20, 1, "split");

	if (!why)
		why = page_is(area, 20, 2, "split");
	if (!why)
		why = pages_are(area, 21, 32, 1, "split");
	if (!why)
		why = want_flag((char *)area + 8 * PAGE, "wr", 0);
	return why ? why : want_flag((char *)area + 16 * PAGE, "wr", 1);
}

static void split_hole_setup(void)
{
	area = map_anon(32 * PAGE);
	fill_pages(area, 0, 32, 1);
	if (munmap((char *)area + 8 * PAGE, 8 * PAGE))
		setup_failed("munmap");
}

static const char *split_hole_check(int round)
{
	const char *why = pages_are(area, 0, 8, 1, "split");
	unsigned char v;

	if (!why)
		why = pages_are(area, 16, 32, 1, "split");
	if (!why && !(mincore((char *)area + 8 * PAGE, PAGE, &v) < 0 && errno == ENOMEM))
		why = bad("the hole is mapped");
	return why;
}

static char *brk0;

static void brk_setup(void)
{
	brk0 = sbrk(0);
	if (sbrk(16 * PAGE) == (void *)-1)
		setup_failed("sbrk");
	fill_pages(brk0, 0, 16, 1);
	if (sbrk(16 * PAGE) == (void *)-1)
		setup_failed("sbrk");
	fill_pages(brk0, 24, 32, 2);
}

static const char *brk_check(int round)
{
	const char *why = pages_are(brk0, 0, 16, 1, "heap");

	if (!why)
		why = pages_are(brk0, 16, 24, 0, "heap");
	if (!why)
		why = pages_are(brk0, 24, 32, 2, "heap");
	if (!why && sbrk(0) != brk0 + 32 * PAGE)
		why = bad("brk at %p, want %p", sbrk(0), brk0 + 32 * PAGE);
	return why;
}


/* the main stack grown deep by a call, its pages written, and left below the stack pointer */
#define DEEP (1UL << 20)
static char *deep;

static void __attribute__((noinline)) deep_write(void)
{
	char big[DEEP];

	uintptr_t at;

	/* from the first page boundary in it (the array itself is not page aligned) */
	at = ((uintptr_t)big + PAGE - 1) & ~(PAGE - 1);
	fill_pages((char *)at, 0, DEEP / PAGE - 1, 6);
	__asm__ volatile("" : : "r"(big) : "memory");
	deep = (char *)at; /* kept as a number: the pages stay, below the stack pointer */
}

static void stack_deep_setup(void)
{
	deep_write();
}

static const char *stack_deep_check(int round)
{
	/* the lower 3/4: far below what the check's own calls use */
	const char *why = pages_are(deep, 0, DEEP / PAGE * 3 / 4, 6, "stack");

	return why;
}

/* ------------------------------------------------------------------------
 * File mappings
 */

#define FILE_PAGES 8
static char *fmap;
static const char *fname;

static int make_file(const char *name, int flags)
{
	int fd = open(name, O_RDWR | O_CREAT | O_TRUNC, 0644);
	static char page[PAGE];

	if (fd < 0)
		setup_failed("create %s", name);
	for (size_t pg = 0; pg < FILE_PAGES; pg++) {
		fill_page(page, 0, 7 + pg);
		if (write(fd, page, PAGE) != PAGE)
			setup_failed("write %s", name);
	}
	close(fd);
	fname = name;
	fd = open(name, flags);
	if (fd < 0)
		setup_failed("open %s", name);
	return fd;
}

static const char *file_page_is(const char *a, size_t pg, uint64_t seed)
{
	const uint64_t *w = (const uint64_t *)(a + pg * PAGE);

	for (size_t i = 0; i < PAGE / 8; i++)
		if (w[i] != pat(i, seed))
			return bad("mapped page %zu differs at word %zu", pg, i);
	return NULL;
}

static void file_shared_setup_mode(int flags)
{
	int fd = make_file(flags == O_RDWR ? "/mapped-rw" : "/mapped-ro", flags);

	fmap = mmap(NULL, FILE_PAGES * PAGE, PROT_READ, MAP_SHARED, fd, 0);
	if (fmap == MAP_FAILED)
		setup_failed("mmap");
	close(fd);
}

static void file_shared_rw_setup(void)
{
	file_shared_setup_mode(O_RDWR);
}

static void file_shared_ro_setup(void)
{
	file_shared_setup_mode(O_RDONLY);
}

static const char *file_contents(void)
{
	const char *why;

	for (size_t pg = 0; pg < FILE_PAGES; pg++)
		if ((why = file_page_is(fmap, pg, 7 + pg)))
			return why;
	return NULL;
}

static const char *file_shared_rw_check(int round)
{
	const char *why = file_contents();
	uint64_t v;
	int fd;

	if (why)
		return why;
	if (mprotect(fmap, FILE_PAGES * PAGE, PROT_READ | PROT_WRITE))
		return bad("mprotect(PROT_WRITE) of a shared mapping of a file opened O_RDWR: %s", strerror(errno));
	/* written through the mapping, read from the file, put back */
	v = ((uint64_t *)fmap)[1];
	((uint64_t *)fmap)[1] = 0x1234;
	fd = open(fname, O_RDONLY);
	if (fd < 0)
		return bad("open %s: %s", fname, strerror(errno));
	{
		uint64_t got = 0;

		if (pread(fd, &got, 8, 8) != 8 || got != 0x1234) {
			close(fd);
			return bad("a write through the mapping is not in the file");
		}
	}
	close(fd);
	((uint64_t *)fmap)[1] = v;
	if (mprotect(fmap, FILE_PAGES * PAGE, PROT_READ))
		return bad("mprotect back: %s", strerror(errno));
	return want_flag(fmap, "mw", 1);
}

static const char *file_shared_ro_check(int round)
{
	const char *why = file_contents();

	if (why)
		return why;
	if (!mprotect(fmap, FILE_PAGES * PAGE, PROT_READ | PROT_WRITE))
		return bad("mprotect(PROT_WRITE) of a shared mapping of a file opened O_RDONLY succeeded");
	if (errno != EACCES)
		return bad("mprotect(PROT_WRITE): %s, want EACCES", strerror(errno));
	return want_flag(fmap, "mw", 0);
}

static void file_private_setup(void)
{
	int fd = make_file("/mapped-priv", O_RDONLY);

	fmap = mmap(NULL, FILE_PAGES * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	if (fmap == MAP_FAILED)
		setup_failed("mmap");
	close(fd);
	fill_page(fmap, 3, 99);
	if (mprotect(fmap, FILE_PAGES * PAGE, PROT_READ))
		setup_failed("mprotect");
}

static const char *file_private_check(int round)
{
	const char *why;
	uint64_t got = 0;
	int fd;

	for (size_t pg = 0; pg < FILE_PAGES; pg++) {
		why = pg == 3 ? page_is(fmap, 3, 99, "private") : file_page_is(fmap, pg, 7 + pg);
		if (why)
			return why;
	}
	if (mprotect(fmap, FILE_PAGES * PAGE, PROT_READ | PROT_WRITE))
		return bad("mprotect(PROT_WRITE) of a private file mapping: %s", strerror(errno));
	if (mprotect(fmap, FILE_PAGES * PAGE, PROT_READ))
		return bad("mprotect back: %s", strerror(errno));
	fd = open(fname, O_RDONLY);
	if (fd < 0 || pread(fd, &got, 8, 3 * PAGE) != 8) {
		if (fd >= 0)
			close(fd);
		return bad("read %s: %s", fname, strerror(errno));
	}
	close(fd);
	if (got != pat(0, 10))
		return bad("the private write reached the file");
	return NULL;
}

/* pages [2,6) of a file, mapped at offset 2 pages, moved by mremap */
static void file_remap_setup(void)
{
	int fd = make_file("/mapped-moved", O_RDONLY);
	char *a = mmap(NULL, 4 * PAGE, PROT_READ, MAP_PRIVATE, fd, 2 * PAGE);

	if (a == MAP_FAILED)
		setup_failed("mmap");
	close(fd);
	spot = free_spot(16 * PAGE) + 4 * PAGE;
	fmap = mremap(a, 4 * PAGE, 4 * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, spot);
	if (fmap == MAP_FAILED)
		setup_failed("mremap");
}

static const char *file_remap_check(int round)
{
	const char *why;

	for (size_t pg = 0; pg < 4; pg++)
		if ((why = file_page_is(fmap, pg, 9 + pg)))
			return why;
	return NULL;
}

/* a middle part made PROT_NONE after it was written */
static void split_protnone_setup(void)
{
	area = map_anon(32 * PAGE);
	fill_pages(area, 0, 32, 1);
	if (mprotect((char *)area + 8 * PAGE, 8 * PAGE, PROT_NONE))
		setup_failed("mprotect");
}

static const char *split_protnone_check(int round)
{
	const char *why = pages_are(area, 0, 8, 1, "split");
	static char buf[8 * PAGE];

	if (!why)
		why = pages_are(area, 16, 32, 1, "split");
	if (!why && read_mem(getpid(), (char *)area + 8 * PAGE, buf, sizeof(buf)))
		why = bad("can't read the PROT_NONE part: %s", strerror(errno));
	for (size_t pg = 0; !why && pg < 8; pg++)
		for (size_t i = 0; !why && i < PAGE / 8; i++)
			if (((uint64_t *)buf)[pg * PAGE / 8 + i] != pat((8 + pg) * PAGE / 8 + i, 1))
				why = bad("PROT_NONE page %zu differs", 8 + pg);
	return why ? why : want_flag((char *)area + 8 * PAGE, "rd", 0);
}

/* big (helper thread, userfaultfd), sparse, then grown by a move and written past the old end */
#define BIG_PAGES (48UL << 8) /* 48 MiB */

static void remap_big_setup(void)
{
	char *a = map_anon(BIG_PAGES * PAGE);

	area_len = (BIG_PAGES + 4096) * PAGE;
	for (size_t pg = 0; pg < BIG_PAGES; pg += (pg % 1024 < 700) ? 1 : 37)
		fill_page(a, pg, 1);
	map_anon(PAGE); /* likely right after: growing moves it */
	area = mremap(a, BIG_PAGES * PAGE, area_len, MREMAP_MAYMOVE);
	if (area == MAP_FAILED)
		setup_failed("mremap");
	fill_pages(area, BIG_PAGES + 100, BIG_PAGES + 2000, 2);
}

static const char *remap_big_check(int round)
{
	const char *why;

	/* recompute what setup wrote the same way setup did */
	{
		static unsigned char want[BIG_PAGES];
		size_t pg;

		memset(want, 0, sizeof(want));
		for (pg = 0; pg < BIG_PAGES; pg += (pg % 1024 < 700) ? 1 : 37)
			want[pg] = 1;
		for (pg = 0; pg < BIG_PAGES; pg++)
			if ((why = page_is(area, pg, want[pg], "big")))
				return why;
		for (; pg < area_len / PAGE; pg++)
			if ((why = page_is(area, pg, pg >= BIG_PAGES + 100 && pg < BIG_PAGES + 2000 ? 2 : 0, "big")))
				return why;
	}
	return NULL;
}

/* a private file mapping with an anonymous area right after it, both written: one run over both */
static char *adj_anon;

static void adjacent_setup(void)
{
	int fd = make_file("/mapped-adj", O_RDONLY);
	char *a = mmap(NULL, (FILE_PAGES + 8) * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);

	if (a == MAP_FAILED)
		setup_failed("mmap");
	close(fd);
	fmap = a;
	adj_anon = mmap(a + FILE_PAGES * PAGE, 8 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
			-1, 0);
	if (adj_anon == MAP_FAILED)
		setup_failed("mmap fixed");
	fill_pages(fmap, FILE_PAGES - 2, FILE_PAGES, 3);
	fill_pages(adj_anon, 0, 8, 4);
}

static const char *adjacent_check(int round)
{
	const char *why;

	for (size_t pg = 0; pg < FILE_PAGES - 2; pg++)
		if ((why = file_page_is(fmap, pg, 7 + pg)))
			return why;
	why = pages_are(fmap, FILE_PAGES - 2, FILE_PAGES, 3, "file");
	return why ? why : pages_are(adj_anon, 0, 8, 4, "anon");
}

/* huge pages split by an mprotect after they were written */
static void huge_split_setup(void)
{
	char *a = map_anon(8UL << 20);

	area = (uint64_t *)(((uintptr_t)a + (2UL << 20) - 1) & ~((2UL << 20) - 1));
	area_len = 4UL << 20;
	if (madvise(area, area_len, MADV_HUGEPAGE))
		setup_failed("madvise");
	fill_pages(area, 0, area_len / PAGE, 1);
	if (mprotect((char *)area + 600 * PAGE, PAGE, PROT_READ))
		setup_failed("mprotect");
	/* a part made smaller in place: the rest of the huge page goes */
	if (mremap((char *)area + 700 * PAGE, 16 * PAGE, 8 * PAGE, 0) == MAP_FAILED)
		setup_failed("mremap");
}

static const char *huge_split_check(int round)
{
	const char *why = pages_are(area, 0, 708, 1, "huge");

	return why ? why : pages_are(area, 716, area_len / PAGE, 1, "huge");
}

/* a MAP_GROWSDOWN area grown down by a write below it, after its pages were written */
static void growsdown_setup(void)
{
	char *base = free_spot(64 * PAGE), *a;

	a = mmap(base + 48 * PAGE, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_GROWSDOWN | MAP_FIXED,
		 -1, 0);
	if (a == MAP_FAILED)
		setup_failed("mmap growsdown");
	fill_pages(a, 0, 4, 1);
	area = (uint64_t *)(a - 8 * PAGE);
	fill_pages(area, 0, 2, 2); /* grows it by 8 pages */
}

static const char *growsdown_check(int round)
{
	const char *why = pages_are(area, 0, 2, 2, "grown");

	if (!why)
		why = pages_are(area, 2, 8, 0, "grown");
	for (size_t pg = 0; !why && pg < 4; pg++)
		why = page_is((char *)area + 8 * PAGE, pg, 1, "first");
	return why ? why : want_flag(area, "gd", 1);
}

/* ------------------------------------------------------------------------
 * Per-area state
 */

static int advice;
static const char *advice_flag;

static void madv_setup(void)
{
	area = map_anon(area_len);
	fill_pages(area, 0, area_len / PAGE, 1);
	if (madvise(area, area_len, advice))
		setup_failed("madvise(%d)", advice);
}

/* What a child forked now sees of the area: 0 its contents, 1 zeros, 2 unmapped, 3 else. */
static int forked_sees(void)
{
	pid_t pid = fork();
	int status;

	if (pid < 0)
		return -1;
	if (!pid) {
		unsigned char v;

		if (mincore(area, PAGE, &v) < 0 && errno == ENOMEM)
			_exit(2);
		if (!pages_are(area, 0, area_len / PAGE, 1, "child"))
			_exit(0);
		if (!pages_are(area, 0, area_len / PAGE, 0, "child"))
			_exit(1);
		_exit(3);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

static const char *madv_check(int round)
{
	const char *why = pages_are(area, 0, area_len / PAGE, 1, "area");
	int want = advice == MADV_DONTFORK ? 2 : advice == MADV_WIPEONFORK ? 1 : 0, got;

	if (!why)
		why = want_flag(area, advice_flag, 1);
	if (why)
		return why;
	got = forked_sees();
	if (got != want)
		return bad("a child forked now sees case %d of the area, want %d (0 contents, 1 zeros, 2 unmapped)",
			   got, want);
	return NULL;
}

#define MADV_CASE(name, adv, flag)                                                                                     \
	static void name##_setup(void)                                                                                 \
	{                                                                                                              \
		advice = adv;                                                                                          \
		advice_flag = flag;                                                                                    \
		madv_setup();                                                                                          \
	}
MADV_CASE(dontfork, MADV_DONTFORK, "dc")
MADV_CASE(wipeonfork, MADV_WIPEONFORK, "wf")
MADV_CASE(dontdump, MADV_DONTDUMP, "dd")
MADV_CASE(hugepage, MADV_HUGEPAGE, "hg")
MADV_CASE(nohugepage, MADV_NOHUGEPAGE, "nh")
MADV_CASE(mergeable, MADV_MERGEABLE, "mg")
MADV_CASE(sequential, MADV_SEQUENTIAL, "sr")
MADV_CASE(random, MADV_RANDOM, "rr")

#ifndef PR_SET_MEMORY_MERGE
#define PR_SET_MEMORY_MERGE 67
#endif

/* KSM for every area, now and later (prctl): a new area is mergeable too */
static void merge_any_setup(void)
{
	area = map_anon(area_len);
	fill_pages(area, 0, area_len / PAGE, 1);
	if (prctl(PR_SET_MEMORY_MERGE, 1, 0, 0, 0))
		setup_failed("prctl(PR_SET_MEMORY_MERGE)");
}

static const char *merge_any_check(int round)
{
	/* read-only: not merged with a neighbour, so an area starts at a */
	void *a = mmap(NULL, 4 * PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	const char *why = a == MAP_FAILED ? bad("mmap: %s", strerror(errno)) : want_flag(area, "mg", 1);

	if (!why)
		why = want_flag(a, "mg", 1);
	munmap(a, 4 * PAGE);
	return why ? why : pages_are(area, 0, area_len / PAGE, 1, "area");
}

static long status_kb(const char *field)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long v = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, strlen(field)))
			v = strtol(line + strlen(field) + 1, NULL, 10);
	fclose(f);
	return v;
}

static int lock_how; /* 0 mlock, 1 mlock2(MLOCK_ONFAULT) */
static uid_t lock_uid;

static void mlock_setup(void)
{
	area_len = 16 * PAGE;
	area = map_anon(area_len);
	fill_pages(area, 0, area_len / PAGE, 1);
	if (lock_how == 0 && mlock(area, area_len))
		setup_failed("mlock");
	if (lock_how == 1 && syscall(__NR_mlock2, area, area_len, MLOCK_ONFAULT))
		setup_failed("mlock2");
	if (lock_uid) {
		if (chmod(outdir, 0777))
			setup_failed("chmod %s", outdir);
		if (setgid(lock_uid) || setuid(lock_uid))
			setup_failed("setuid");
	}
}

static void mlock_onfault_setup(void)
{
	lock_how = 1;
	mlock_setup();
}

static void mlock_setuid_setup(void)
{
	lock_uid = 65534;
	mlock_setup();
}

static const char *mlock_check(int round)
{
	const char *why = pages_are(area, 0, area_len / PAGE, 1, "area");
	long locked, vmlck;

	if (!why)
		why = want_flag(area, "lo", 1);
	if (!why)
		why = want_flag(area, "lf", lock_how == 1);
	if (why)
		return why;
	if (lock_uid && getuid() != lock_uid)
		return bad("uid %d, want %d", (int)getuid(), (int)lock_uid);
	if (smaps_area(area, NULL, 0, "Locked:", &locked) || locked != (long)(area_len >> 10))
		return bad("Locked: %ld kB of the area, want %zu", locked, area_len >> 10);
	vmlck = status_kb("VmLck:");
	if (vmlck < (long)(area_len >> 10))
		return bad("VmLck: %ld kB, want at least %zu", vmlck, area_len >> 10);
	return NULL;
}

static int lockall_flags = MCL_FUTURE;

static void mlockall_setup(void)
{
	if (mlockall(lockall_flags))
		setup_failed("mlockall");
}

static const char *mlockall_check(int round)
{
	void *a = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	const char *why;

	if (a == MAP_FAILED)
		return bad("mmap: %s", strerror(errno));
	why = want_flag(a, "lo", 1);
	munmap(a, 4 * PAGE);
	return why;
}

/* every area locked now, later ones not */
static void mlockall_current_setup(void)
{
	area_len = 16 * PAGE;
	area = map_anon(area_len);
	fill_pages(area, 0, area_len / PAGE, 1);
	if (mlockall(MCL_CURRENT))
		setup_failed("mlockall");
}

static const char *mlockall_current_check(int round)
{
	void *a;
	const char *why = mlock_check(round);

	if (why)
		return why;
	a = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (a == MAP_FAILED)
		return bad("mmap: %s", strerror(errno));
	why = want_flag(a, "lo", 0);
	munmap(a, 4 * PAGE);
	return why;
}

#ifndef __NR_mseal
#define __NR_mseal 462
#endif

/* an area sealed (mseal): it can't be unmapped or have its protection changed */
static void mseal_setup(void)
{
	area = map_anon(area_len);
	fill_pages(area, 0, area_len / PAGE, 1);
	if (syscall(__NR_mseal, area, area_len, 0))
		setup_failed("mseal");
}

static const char *mseal_check(int round)
{
	const char *why = pages_are(area, 0, area_len / PAGE, 1, "area");

	if (!why)
		why = want_flag(area, "sl", 1);
	if (!why && !mprotect(area, PAGE, PROT_READ))
		why = bad("mprotect of a sealed area succeeded");
	else if (!why && errno != EPERM)
		why = bad("mprotect of a sealed area: %s, want EPERM", strerror(errno));
	return why;
}

static unsigned long vdso_ehdr;

static void no_vdso_setup(void)
{
	const char *m = self_maps();
	unsigned long spans[8][2];
	int n = 0;

	vdso_ehdr = getauxval(AT_SYSINFO_EHDR);
	for (const char *l = m; l && *l && n < 8; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		unsigned long s, e;
		const char *nl = strchr(l, '\n');

		if (sscanf(l, "%lx-%lx", &s, &e) != 2)
			continue;
		if ((strstr(l, "[vdso]") && strstr(l, "[vdso]") < nl) || (strstr(l, "[vvar") && strstr(l, "[vvar") < nl)) {
			spans[n][0] = s;
			spans[n++][1] = e;
		}
	}
	if (!n)
		setup_failed("no vDSO to unmap");
	for (int i = 0; i < n; i++)
		if (munmap((void *)spans[i][0], spans[i][1] - spans[i][0]))
			setup_failed("munmap");
}

static const char *no_vdso_check(int round)
{
	const char *m = self_maps();

	if (strstr(m, "[vdso]") || strstr(m, "[vvar"))
		return bad("a vDSO is mapped: %s", strstr(m, "[vdso]") ? "[vdso]" : "[vvar]");
	if (getauxval(AT_SYSINFO_EHDR) != vdso_ehdr)
		return bad("AT_SYSINFO_EHDR %#lx, was %#lx", getauxval(AT_SYSINFO_EHDR), vdso_ehdr);
	return NULL;
}

static const struct state_case cases[] = {
	{"anon-private", anon_setup, anon_check},
	{"cow-shared", cow_setup, cow_check},
	{"cow-scale", scale_setup, scale_check},
	{"cow-chain", chain_setup, chain_check},
	{"remap-move", remap_move_setup, remap_move_check},
	{"remap-grow", remap_grow_setup, remap_grow_check},
	{"remap-grow-inplace", remap_grow_inplace_setup, remap_grow_inplace_check},
	{"remap-shrink", remap_shrink_setup, remap_shrink_check},
	{"remap-swap", remap_swap_setup, remap_swap_check},
	{"split-mprotect", split_mprotect_setup, split_mprotect_check},
	{"split-hole", split_hole_setup, split_hole_check},
	{"brk-grow", brk_setup, brk_check},
	{"split-protnone", split_protnone_setup, split_protnone_check},
	{"remap-big", remap_big_setup, remap_big_check},
	{"adjacent-areas", adjacent_setup, adjacent_check},
	{"huge-split", huge_split_setup, huge_split_check},
	{"growsdown", growsdown_setup, growsdown_check},
	{"stack-deep", stack_deep_setup, stack_deep_check},
	{"file-shared-rw", file_shared_rw_setup, file_shared_rw_check},
	{"file-shared-ro", file_shared_ro_setup, file_shared_ro_check},
	{"file-private", file_private_setup, file_private_check},
	{"file-remap", file_remap_setup, file_remap_check},
	{"madv-dontfork", dontfork_setup, madv_check},
	{"madv-wipeonfork", wipeonfork_setup, madv_check},
	{"madv-dontdump", dontdump_setup, madv_check},
	{"madv-hugepage", hugepage_setup, madv_check},
	{"madv-nohugepage", nohugepage_setup, madv_check},
	{"madv-mergeable", mergeable_setup, madv_check},
	{"madv-sequential", sequential_setup, madv_check},
	{"madv-random", random_setup, madv_check},
	{"ksm-merge-any", merge_any_setup, merge_any_check},
	{"mlock", mlock_setup, mlock_check},
	{"mlock-onfault", mlock_onfault_setup, mlock_check},
	{"mlock-setuid", mlock_setuid_setup, mlock_check},
	{"mlockall-current", mlockall_current_setup, mlockall_current_check},
	{"mlockall-future", mlockall_setup, mlockall_check},
	{"no-vdso", no_vdso_setup, no_vdso_check},
	{"mseal", mseal_setup, mseal_check},
	{NULL, NULL, NULL},
};

int main(int argc, char **argv)
{
	/* the checks read /proc/self and the children's /proc entries */
	if (access("/proc/self", F_OK) && mount("proc", "/proc", "proc", 0, NULL)) {
		perror("mount /proc");
		return 2;
	}
	return state_main(argc, argv, cases);
}

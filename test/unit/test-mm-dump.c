/*
 * td_dump_mm (mem/mm-dump.c): the pure classification of maps lines, and
 * real dumps of a forked child with known memory: which pages the pagemap
 * lists (both with PAGEMAP_SCAN and from /proc/PID/pagemap entries, which
 * must agree), what the pages image holds, what mm-<pid>.img says about the
 * areas, and that upstream's crit decodes the images. The child is seized,
 * released and killed by every case, also when it fails. The child sends
 * its addresses back through a pipe: a MAP_SHARED|MAP_ANONYMOUS page would
 * make td_dump_mm refuse it (shared anon memory is not supported).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "unit.h"
#include "dump.h"
#include "image/image.h"
#include "util/log.h"
#include "mm.pb-c.h"
#include "pagemap.pb-c.h"
#include "proc/proc-maps.h"
#include "ptrace/seize.h"
#include "task/task-dump.h"
#include "util/util.h"
#include "image/vma-status.h"

/*
 * criu's RSS must not grow with the memory it dumps: 512 MiB go through it
 * with a peak of about 16 MiB. Under AddressSanitizer the bound is not
 * checked: its shadow memory and its quarantine of freed blocks (up to
 * 256 MiB, kept across the passes) grow the RSS whatever criu does; the
 * normal build checks it.
 */
#define RSS_BOUND_KB (64U << 10)
#ifdef __SANITIZE_ADDRESS__
#define RSS_CHECKED false
#else
#define RSS_CHECKED true
#endif

#define PG 4096UL

/* ------------------------------------------------------------------ pure */

struct vma_case {
	const char *line, *vmflags;
	int ret;
	uint32_t status, flags, prot;
	uint64_t shmid, madv;
};

/* clang-format off */
static const struct vma_case vma_cases[] = {
	{"00400000-00452000 r-xp 00001000 08:02 173521     /usr/bin/dbus-daemon", "rd ex mr mw me dw", 0,
	 VMA_AREA_REGULAR | VMA_FILE_PRIVATE, MAP_PRIVATE, PROT_READ | PROT_EXEC, 0, 0},
	{"7ffd0000-7ffd2000 rw-p 00000000 00:00 0          [stack]", "rd wr mr mw me gd ac", 0,
	 VMA_AREA_REGULAR | VMA_AREA_STACK | VMA_ANON_PRIVATE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_GROWSDOWN,
	 PROT_READ | PROT_WRITE, 0, 0},
	{"7ffd0000-7ffd2000 rw-p 00000000 00:00 0          [stack]", NULL, 0,
	 VMA_AREA_REGULAR | VMA_AREA_STACK | VMA_ANON_PRIVATE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_GROWSDOWN,
	 PROT_READ | PROT_WRITE, 0, 0},
	{"01000000-01100000 rw-p 00000000 00:00 0          [heap]", "rd wr mr mw me ac", 0,
	 VMA_AREA_REGULAR | VMA_AREA_HEAP | VMA_ANON_PRIVATE, MAP_PRIVATE | MAP_ANONYMOUS, PROT_READ | PROT_WRITE, 0, 0},
	{"7fff1000-7fff3000 r-xp 00000000 00:00 0          [vdso]", "rd ex mr mw me de sd", 0,
	 VMA_AREA_REGULAR | VMA_AREA_VDSO | VMA_ANON_PRIVATE, MAP_PRIVATE | MAP_ANONYMOUS, PROT_READ | PROT_EXEC, 0, 0},
	{"7fff0000-7fff1000 r--p 00000000 00:00 0          [vvar]", "rd mr pf io de dd sd", 0,
	 VMA_AREA_REGULAR | VMA_AREA_VVAR | VMA_ANON_PRIVATE, MAP_PRIVATE | MAP_ANONYMOUS, PROT_READ, 0, 0},
	{"7ffef000-7fff0000 r--p 00000000 00:00 0          [vvar_vclock]", "rd mr pf io de dd sd", 0,
	 VMA_AREA_REGULAR | VMA_AREA_VVAR | VMA_ANON_PRIVATE, MAP_PRIVATE | MAP_ANONYMOUS, PROT_READ, 0, 0},
	{"ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0  [vsyscall]", NULL, 0,
	 VMA_AREA_VSYSCALL | VMA_ANON_PRIVATE, MAP_PRIVATE | MAP_ANONYMOUS, PROT_EXEC, 0, 0},
	{"7f0000000000-7f0000004000 rw-s 00000000 00:01 1234       /dev/zero (deleted)", "rd wr sh mr mw me ms sd", 0,
	 VMA_AREA_REGULAR | VMA_ANON_SHARED, MAP_SHARED | MAP_ANONYMOUS, PROT_READ | PROT_WRITE, 1234, 0},
	{"7f0000000000-7f0000004000 rw-s 00000000 00:01 99         [anon_shmem:ring]", NULL, 0,
	 VMA_AREA_REGULAR | VMA_ANON_SHARED, MAP_SHARED | MAP_ANONYMOUS, PROT_READ | PROT_WRITE, 99, 0},
	{"7f0000000000-7f0000004000 rw-p 00000000 00:00 0          [anon:arena]", "rd wr mr mw me ac", 0,
	 VMA_AREA_REGULAR | VMA_ANON_PRIVATE, MAP_PRIVATE | MAP_ANONYMOUS, PROT_READ | PROT_WRITE, 0, 0},
	{"7f0000000000-7f0000004000 rw-p 00000000 00:00 0 ", "rd wr mr mw me dc dd hg wf ac", 0,
	 VMA_AREA_REGULAR | VMA_ANON_PRIVATE, MAP_PRIVATE | MAP_ANONYMOUS, PROT_READ | PROT_WRITE, 0,
	 (1ULL << MADV_DONTFORK) | (1ULL << MADV_DONTDUMP) | (1ULL << MADV_HUGEPAGE) | (1ULL << MADV_WIPEONFORK)},
	{"7f0000000000-7f0000004000 ---p 00000000 00:00 0 ", "mr mw me", 0,
	 VMA_AREA_REGULAR | VMA_ANON_PRIVATE | VMA_FORCE_READ, MAP_PRIVATE | MAP_ANONYMOUS, 0, 0, 0},
	{"7f0000000000-7f0000004000 rw-s 00002000 fe:00 42         /tmp/data file", "rd wr sh mr mw me ms lo nr", 0,
	 VMA_AREA_REGULAR | VMA_FILE_SHARED, MAP_SHARED | MAP_LOCKED | MAP_NORESERVE, PROT_READ | PROT_WRITE, 0, 0},
	{"7f0000000000-7f0000004000 rw-p 00000000 00:06 5          /dev/zero", NULL, 0,
	 VMA_AREA_REGULAR | VMA_FILE_PRIVATE, MAP_PRIVATE, PROT_READ | PROT_WRITE, 0, 0},
	/* a memfd's mapping: a file one whose file is a memfd file_entry */
	{"7f0000000000-7f0000004000 rw-s 00000000 00:01 1198       /memfd:cache (deleted)", NULL, 0,
	 VMA_AREA_REGULAR | VMA_FILE_SHARED | VMA_AREA_MEMFD, MAP_SHARED, PROT_READ | PROT_WRITE, 0, 0},
	/* an attached System V segment: its id is the inode; shared, no file */
	{"7f0000000000-7f0000004000 rw-s 00000000 00:01 65538      /SYSV00000000 (deleted)", NULL, 0,
	 VMA_AREA_REGULAR | VMA_AREA_SYSVIPC, MAP_SHARED, PROT_READ | PROT_WRITE, 65538, 0},
	{"7f0000000000-7f0000004000 r--p 00000000 00:01 65538      /SYSV00000000 (deleted)", NULL, -EOPNOTSUPP, 0, 0, 0, 0, 0},
	{"7f0000000000-7f0000004000 rw-s 00000000 00:0e 2071       anon_inode:[io_uring]", NULL, -EOPNOTSUPP, 0, 0, 0, 0, 0},
	{"7f0000000000-7f0000004000 rw-s 00000000 00:0e 2071       anon_inode:[perf_event]", NULL, -EOPNOTSUPP, 0, 0, 0, 0, 0},
	{"7f0000000000-7f0000001000 r-xp 00000000 00:00 0          [uprobes]", NULL, -EOPNOTSUPP, 0, 0, 0, 0, 0},
	{"7f0000000000-7f0000400000 rw-s 00000000 00:05 321        /dev/fb0", "rd wr sh mr mw me ms io pf dd", -EOPNOTSUPP, 0, 0, 0, 0, 0},
	{"7f0000000000-7f0000400000 rw-p 00000000 00:10 321        /anon_hugepage (deleted)", "rd wr mr mw me ht", -EOPNOTSUPP, 0, 0, 0, 0, 0},
};
/* clang-format on */

static int test_classify(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(vma_cases); i++) {
		const struct vma_case *k = &vma_cases[i];
		struct proc_maps m = {0};
		const char *why = NULL;
		VmaEntry v;
		int ret;

		if (proc_maps_parse(k->line, strlen(k->line), &m, NULL) || m.nr != 1) {
			snprintf(unit_fail_msg, sizeof(unit_fail_msg), "case %zu: bad fixture line", i);
			proc_maps_free(&m);
			return 1;
		}
		ret = td_vma_classify(&m.entries[0], k->vmflags, &v, &why);
		proc_maps_free(&m);
		if (ret != k->ret || (ret && !why) ||
		    (!ret &&
		     (v.status != k->status || v.flags != k->flags || v.prot != k->prot || v.shmid != k->shmid ||
		      v.madv != k->madv || v.has_madv != (k->madv != 0) || v.fd != -1))) {
			snprintf(unit_fail_msg, sizeof(unit_fail_msg),
				 "case %zu (%.60s): ret %d status %#x flags %#x prot %#x shmid %" PRIu64
				 " madv %#" PRIx64,
				 i, k->line, ret, v.status, v.flags, v.prot, v.shmid, v.madv);
			return 1;
		}
	}
	return 0;
}

/* ------------------------------------------------------ the child's memory */

enum {
	A_PAGES = 64,
	B_PAGES = 32,
	X_PAGES = 8,
	N_PAGES = 4,
	F_PAGES = 4,
	Z_PAGES = 16,
	S_PAGES = 4
};
#define THP_SIZE (2UL << 20)

struct areas {
	uint64_t a, b, x, none, file, zero, thp, big, shared;
	uint64_t big_len;
	char path[64];
};
/* Set by the parent before fork, filled in by the child, sent back. */
static struct areas areas, *sh = &areas;

static uint64_t pattern(uint64_t addr)
{
	return addr * 0x9E3779B97F4A7C15ULL + 1;
}

static void fill(uint64_t start, uint64_t len)
{
	for (uint64_t w = start; w < start + len; w += 8)
		*(uint64_t *)w = pattern(w);
}

static char *map(size_t len, int prot, int flags)
{
	char *p = mmap(NULL, len, prot, flags | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		_exit(2);
	return p;
}

/* Pages B touches: 0, 3-5, 31. */
static const int b_touched[] = {0, 3, 4, 5, 31};

static void child_areas(void)
{
	char *p;
	int fd;

	p = map(A_PAGES * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE);
	fill((uintptr_t)p, A_PAGES * PG);
	sh->a = (uintptr_t)p;
	p = map(B_PAGES * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE);
	for (size_t i = 0; i < ARRAY_SIZE(b_touched); i++)
		fill((uintptr_t)p + b_touched[i] * PG, PG);
	sh->b = (uintptr_t)p;
	/* Two areas side by side: their pages make one run. */
	p = map(X_PAGES * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE);
	fill((uintptr_t)p, X_PAGES * PG);
	mprotect(p + X_PAGES / 2 * PG, X_PAGES / 2 * PG, PROT_READ);
	sh->x = (uintptr_t)p;
	/* Unreadable: read through /proc/PID/mem. */
	p = map(N_PAGES * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE);
	fill((uintptr_t)p + 2 * PG, PG);
	mprotect(p, N_PAGES * PG, PROT_NONE);
	sh->none = (uintptr_t)p;
	/* A private file mapping: pages 0 and 2 read (page cache), 1 written. */
	fd = open(sh->path, O_RDWR);
	p = mmap(NULL, F_PAGES * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	if (fd < 0 || p == MAP_FAILED)
		_exit(3);
	(void)*(volatile char *)p;
	(void)*(volatile char *)(p + 2 * PG);
	fill((uintptr_t)p + PG, PG);
	sh->file = (uintptr_t)p;
	/* Only read: the zero page, and the huge zero page. */
	p = map(Z_PAGES * PG, PROT_READ, MAP_PRIVATE);
	for (int i = 0; i < Z_PAGES; i++)
		(void)*(volatile char *)(p + i * PG);
	sh->zero = (uintptr_t)p;
	p = map(2 * THP_SIZE, PROT_READ, MAP_PRIVATE);
	p = (char *)(((uintptr_t)p + THP_SIZE - 1) & ~(THP_SIZE - 1));
	madvise(p, THP_SIZE, MADV_HUGEPAGE);
	for (unsigned i = 0; i < THP_SIZE / PG; i += 64)
		(void)*(volatile char *)(p + i * PG);
	sh->thp = (uintptr_t)p;
}

static void child_big(void)
{
	char *p = map(sh->big_len, PROT_READ | PROT_WRITE, MAP_PRIVATE);

	fill((uintptr_t)p, sh->big_len);
	sh->big = (uintptr_t)p;
}

static void child_sysv(void)
{
	int id = shmget(IPC_PRIVATE, 4 * PG, IPC_CREAT | 0600);
	void *p = id >= 0 ? shmat(id, NULL, 0) : (void *)-1;

	if (id >= 0)
		shmctl(id, IPC_RMID, NULL);
	if (p == (void *)-1)
		_exit(4);
}

/* A shared anonymous area, page 1 never touched. */
static void child_shared(void)
{
	char *p = map(S_PAGES * PG, PROT_READ | PROT_WRITE, MAP_SHARED);

	fill((uintptr_t)p, PG);
	fill((uintptr_t)p + 2 * PG, (S_PAGES - 2) * PG);
	sh->shared = (uintptr_t)p;
}

static void kill_child(pid_t *pid)
{
	if (*pid > 0) {
		kill(*pid, SIGKILL);
		waitpid(*pid, NULL, 0);
	}
}

/* Fork a child that runs fn, then sends *sh back through a pipe. */
static pid_t spawn(void (*fn)(void))
{
	struct pollfd pfd = {.events = POLLIN};
	struct areas got;
	size_t off = 0;
	int p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC))
		return -1;
	pid = fork();
	if (pid == 0) {
		cpu_set_t one;

		/* On one CPU for good: the kernel rewrites the rseq area's cpu id
		 * when the child moves, e.g. while it runs injected syscalls, and
		 * the dumps are compared with each other and with live memory. */
		CPU_ZERO(&one);
		CPU_SET(sched_getcpu() > 0 ? sched_getcpu() : 0, &one);
		sched_setaffinity(0, sizeof(one), &one);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(p[0]);
		fn();
		if (write(p[1], sh, sizeof(*sh)) != (ssize_t)sizeof(*sh))
			_exit(5);
		close(p[1]);
		for (;;)
			pause();
	}
	close(p[1]);
	pfd.fd = p[0];
	while (pid > 0 && off < sizeof(got) && poll(&pfd, 1, 10000) > 0) {
		ssize_t n = read(p[0], (char *)&got + off, sizeof(got) - off);

		if (n <= 0)
			break;
		off += n;
	}
	close(p[0]);
	if (pid > 0 && off == sizeof(got)) {
		*sh = got;
		return pid;
	}
	kill_child(&pid);
	return -1;
}

/* ------------------------------------------------------------ dumping it */

struct dump {
	char dir[64];
	int dirfd;
	struct dump_ctx d;
	struct task_dump_stats stats;
	uint64_t ns;
};

static void dump_clean(struct dump *dp)
{
	DIR *d;
	struct dirent *de;

	img_set_discard(&dp->d.imgs);
	if (!dp->dir[0])
		return;
	d = opendir(dp->dir);
	while (d && (de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			unlinkat(dirfd(d), de->d_name, 0);
	if (d)
		closedir(d);
	if (dp->dirfd >= 0)
		close(dp->dirfd);
	rmdir(dp->dir);
	dp->dir[0] = '\0';
}

static int read_stat(pid_t pid, struct td_stat *st)
{
	char path[64], *buf;
	size_t len;
	int ret;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	buf = unit_slurp(path, &len);
	ret = buf ? td_parse_stat(buf, len, st) : -ENOENT;
	free(buf);
	return ret;
}

static uint64_t self_mnt_ns(void)
{
	struct stat st;

	return stat("/proc/self/ns/mnt", &st) ? 0 : st.st_ino;
}

/*
 * td_dump_mm of the seized `pid` into a fresh directory (on tmpfs), images
 * committed, the pages found and copied one of three ways.
 */
enum way {
	WAY_DEFAULT, /* PAGEMAP_SCAN; worker threads into the mapped image */
	WAY_READ,    /* /proc/PID/pagemap entries; process_vm_readv + write */
	WAY_SPLICE,  /* PAGEMAP_SCAN; the task vmsplices, criu splices */
};

static int dump_mm(pid_t pid, struct seized_tree *tree, enum way way, struct dump *dp, int *dump_ret)
{
	struct seized_thread *leader = tree->nr_threads ? &tree->threads[0] : NULL;
	struct td_proc p = {.pid = pid, .vpid = pid, .threads = &leader, .nr_threads = leader ? 1 : 0};
	struct td_ctx c = {.d = &dp->d, .stats = &dp->stats, .procs = &p, .nr_procs = 1};
	uint64_t t0;

	memset(dp, 0, sizeof(*dp));
	dp->dirfd = -1;
	snprintf(dp->dir, sizeof(dp->dir), "/dev/shm/criu-test-mm.XXXXXX");
	if (!mkdtemp(dp->dir)) {
		dp->dir[0] = '\0';
		return -1;
	}
	dp->dirfd = open(dp->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	dp->d.imgs.dirfd = dp->dirfd;
	dp->d.pid = pid;
	if (dp->dirfd < 0 || read_stat(pid, &p.stat))
		return -1;
	c.opts.no_pagemap_scan = way == WAY_READ;
	c.opts.no_vmsplice = way == WAY_READ;
	c.opts.no_threads = way != WAY_DEFAULT;
	c.self_mnt_ns = self_mnt_ns();
	hmap_init(&c.by_pid);
	hmap_put_int(&c.by_pid, (uint64_t)pid, &p);
	if (td_files_init(&c)) {
		hmap_free(&c.by_pid);
		return -1;
	}
	t0 = monotonic_ns();
	*dump_ret = td_dump_mm(&c, &p);
	dp->ns = monotonic_ns() - t0;
	td_files_fini(&c);
	hmap_free(&c.by_pid);
	hmap_free(&c.shmems);
	for (size_t i = 0; !*dump_ret && i < dp->d.imgs.nr; i++)
		if (img_writer_commit(dp->d.imgs.w[i]))
			return -1;
	return 0;
}

struct run {
	uint64_t vaddr, nr;
};

struct images {
	MmEntry *mm;
	struct run *runs;
	size_t nr_runs;
	uint32_t pages_id;
	uint64_t total_pages;
};

static void images_free(struct images *im)
{
	if (im->mm)
		protobuf_c_message_free_unpacked(&im->mm->base, NULL);
	free(im->runs);
	memset(im, 0, sizeof(*im));
}

static int read_images(struct dump *dp, pid_t pid, struct images *im)
{
	struct img_reader r;
	ProtobufCMessage *msg;
	char name[64];
	int ret;

	memset(im, 0, sizeof(*im));
	snprintf(name, sizeof(name), "mm-%d.img", pid);
	if (img_reader_open(&r, dp->dirfd, name, IMG_MM))
		return -1;
	ret = img_read_entry(&r, &msg);
	img_reader_close(&r);
	if (ret != 1)
		return -1;
	im->mm = (MmEntry *)msg;
	snprintf(name, sizeof(name), "pagemap-%d.img", pid);
	if (img_reader_open(&r, dp->dirfd, name, IMG_PAGEMAP))
		return -1;
	while ((ret = img_read_entry(&r, &msg)) == 1) {
		if (r.nr_entries == 1) {
			im->pages_id = ((PagemapHead *)msg)->pages_id;
		} else {
			PagemapEntry *pe = (PagemapEntry *)msg;

			im->runs = realloc(im->runs, (im->nr_runs + 1) * sizeof(*im->runs));
			im->runs[im->nr_runs++] = (struct run){pe->vaddr, pe->nr_pages};
			im->total_pages += pe->nr_pages;
			if (!pe->has_flags || pe->flags != PE_PRESENT)
				ret = -1;
		}
		protobuf_c_message_free_unpacked(msg, NULL);
		if (ret < 0)
			break;
	}
	img_reader_close(&r);
	return ret;
}

/* Is the page at addr in some run? */
static bool dumped(const struct images *im, uint64_t addr)
{
	for (size_t i = 0; i < im->nr_runs; i++)
		if (addr >= im->runs[i].vaddr && addr < im->runs[i].vaddr + im->runs[i].nr * PG)
			return true;
	return false;
}

static const VmaEntry *find_vma(const struct images *im, uint64_t addr)
{
	for (size_t i = 0; i < im->mm->n_vmas; i++)
		if (im->mm->vmas[i]->start <= addr && addr < im->mm->vmas[i]->end)
			return im->mm->vmas[i];
	return NULL;
}

/* Exactly the pages `want` (a bitmap of n pages from start) are dumped. */
static int check_area(const struct images *im, uint64_t start, int n, uint64_t want, const char *what)
{
	for (int i = 0; i < n; i++) {
		bool w = i < 64 ? (want >> i) & 1 : true;

		if (dumped(im, start + i * PG) != w) {
			snprintf(unit_fail_msg, sizeof(unit_fail_msg), "%s: page %d %s", what, i,
				 w ? "not dumped" : "dumped");
			return 1;
		}
	}
	return 0;
}

/* The PFNs of n pages from start in pid's memory, 0 where none is present. */
static int read_pfns(pid_t pid, uint64_t start, unsigned n, uint64_t *pfn)
{
	char path[64];
	int fd, ret = 0;

	snprintf(path, sizeof(path), "/proc/%d/pagemap", pid);
	fd = open(path, O_RDONLY);
	if (fd < 0 || pread(fd, pfn, n * 8, (off_t)(start / PG * 8)) != (ssize_t)(n * 8))
		ret = -1;
	for (unsigned i = 0; !ret && i < n; i++)
		pfn[i] = (pfn[i] >> 63) ? pfn[i] & ((1ULL << 55) - 1) : 0;
	if (fd >= 0)
		close(fd);
	return ret;
}

/* The PFN a read fault maps on a fresh huge-page-aligned area of ours. */
static uint64_t own_huge_read_pfn(void)
{
	static char *m;
	char *a;
	uint64_t pfn = 0;

	if (!m)
		m = mmap(NULL, 2 * THP_SIZE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return 0;
	a = (char *)(((uintptr_t)m + THP_SIZE - 1) & ~(THP_SIZE - 1));
	madvise(a, THP_SIZE, MADV_HUGEPAGE);
	(void)*(volatile char *)a;
	return read_pfns(getpid(), (uintptr_t)a, 1, &pfn) ? 0 : pfn;
}

/*
 * Which of the n pages from start, only ever read, must be dumped: none if
 * the kernel backed them with a zero page, else every present one. Kernels
 * differ (some VMs' give a read fault a fresh page of its own), so the test
 * asks the child's pagemap instead of assuming: the small zero page shows as
 * one PFN on every page, the huge one as 512 PFNs from a 512-aligned first
 * that a huge read fault of ours maps too (a fresh huge page of the child's
 * has the same layout, but no one else's PFN).
 */
static int expect_read_only(pid_t pid, uint64_t start, unsigned n, bool *want)
{
	uint64_t pfn[THP_SIZE / PG], first = 0, base = 0;
	bool small = true, huge = true;

	if (n > ARRAY_SIZE(pfn) || read_pfns(pid, start, n, pfn))
		return -1;
	for (unsigned i = 0; i < n; i++) {
		if (!pfn[i])
			continue;
		if (!first) {
			first = pfn[i];
			base = pfn[i] - i;
		}
		small = small && pfn[i] == first;
		huge = huge && pfn[i] == base + i && !(base & 511);
	}
	huge = huge && first && base == own_huge_read_pfn();
	for (unsigned i = 0; i < n; i++)
		want[i] = pfn[i] && !small && !huge;
	return 0;
}

static int check_read_only(pid_t pid, const struct images *im, uint64_t start, unsigned n, const char *what)
{
	bool want[THP_SIZE / PG];

	CHECK(!expect_read_only(pid, start, n, want));
	for (unsigned i = 0; i < n; i++) {
		if (dumped(im, start + i * PG) != want[i]) {
			snprintf(unit_fail_msg, sizeof(unit_fail_msg), "%s: page %u %s", what, i,
				 want[i] ? "not dumped" : "dumped, though a zero page");
			return 1;
		}
	}
	return 0;
}

static int check_runs(pid_t pid, const struct images *im)
{
	uint64_t b = 0;

	for (size_t i = 0; i < ARRAY_SIZE(b_touched); i++)
		b |= 1ULL << b_touched[i];
	for (size_t i = 0; i < im->nr_runs; i++)
		CHECK(im->runs[i].nr > 0 &&
		      (i == 0 || im->runs[i].vaddr > im->runs[i - 1].vaddr + (im->runs[i - 1].nr - 1) * PG));
	for (size_t i = 1; i < im->nr_runs; i++) /* merged when contiguous */
		CHECK(im->runs[i].vaddr != im->runs[i - 1].vaddr + im->runs[i - 1].nr * PG);
	if (check_area(im, sh->a, A_PAGES, ~0ULL, "anon") || check_area(im, sh->b, B_PAGES, b, "sparse") ||
	    check_area(im, sh->x, X_PAGES, 0xff, "split") || check_area(im, sh->none, N_PAGES, 1 << 2, "prot_none") ||
	    check_area(im, sh->file, F_PAGES, 1 << 1, "file") ||
	    check_read_only(pid, im, sh->zero, Z_PAGES, "zero") ||
	    check_read_only(pid, im, sh->thp, THP_SIZE / PG, "huge zero"))
		return 1;
	for (size_t i = 0; i < im->nr_runs; i++) /* X: one run over both areas */
		if (im->runs[i].vaddr <= sh->x && sh->x < im->runs[i].vaddr + im->runs[i].nr * PG)
			CHECK(sh->x + X_PAGES * PG <= im->runs[i].vaddr + im->runs[i].nr * PG);
	return 0;
}

static bool in_area(uint64_t a, uint64_t start, int pages)
{
	return a >= start && a < start + pages * PG;
}

static bool has_pattern(uint64_t a)
{
	return in_area(a, sh->a, A_PAGES) || in_area(a, sh->b, B_PAGES) || in_area(a, sh->x, X_PAGES) ||
	       in_area(a, sh->none, N_PAGES) || in_area(a, sh->file, F_PAGES);
}

/* The pages image: each page as the child has it now, ours with the pattern. */
static int check_pages(struct dump *dp, pid_t pid, const struct images *im)
{
	char name[64], path[64];
	uint64_t page[PG / 8], live[PG / 8];
	int fd, mem, ret = 0;
	off_t off = 0;
	struct stat st;

	snprintf(name, sizeof(name), "pages-%u.img", im->pages_id);
	snprintf(path, sizeof(path), "/proc/%d/mem", pid);
	fd = openat(dp->dirfd, name, O_RDONLY);
	mem = open(path, O_RDONLY);
	CHECK(fd >= 0 && mem >= 0 && !fstat(fd, &st));
	if (st.st_size != (off_t)(im->total_pages * PG))
		ret = 1;
	for (size_t i = 0; !ret && i < im->nr_runs; i++) {
		for (uint64_t a = im->runs[i].vaddr; !ret && a < im->runs[i].vaddr + im->runs[i].nr * PG; a += PG) {
			ret = pread(fd, page, PG, off) != (ssize_t)PG ||
			      pread(mem, live, PG, (off_t)a) != (ssize_t)PG || memcmp(page, live, PG);
			for (unsigned w = 0; !ret && has_pattern(a) && w < PG / 8; w++)
				ret = page[w] != pattern(a + w * 8);
			off += PG;
			if (ret)
				snprintf(unit_fail_msg, sizeof(unit_fail_msg), "page %#" PRIx64 " differs", a);
		}
	}
	close(fd);
	close(mem);
	return ret;
}

static int check_vmas(pid_t pid, const struct images *im)
{
	const VmaEntry *v;
	char path[64], *maps;
	size_t len, lines = 0;
	struct td_stat st;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	maps = unit_slurp(path, &len);
	CHECK(maps);
	for (size_t i = 0; i < len; i++)
		lines += maps[i] == '\n';
	/* [vvar_vclock] (6.x) is saved with [vvar], the area before it, as one */
	for (const char *v = maps; (v = strstr(v, "[vvar_vclock]")); v++)
		lines--;
	free(maps);
	CHECK(im->mm->n_vmas == lines);
	for (size_t i = 1; i < im->mm->n_vmas; i++)
		CHECK(!((im->mm->vmas[i]->status & VMA_AREA_VVAR) && (im->mm->vmas[i - 1]->status & VMA_AREA_VVAR)));
	CHECK((v = find_vma(im, sh->a)) && v->status == (VMA_AREA_REGULAR | VMA_ANON_PRIVATE) &&
	      v->flags == (MAP_PRIVATE | MAP_ANONYMOUS) && v->prot == (PROT_READ | PROT_WRITE) && v->fd == -1);
	CHECK((v = find_vma(im, sh->none)) && (v->status & VMA_FORCE_READ) && v->prot == 0);
	CHECK((v = find_vma(im, sh->file)) && v->status == (VMA_AREA_REGULAR | VMA_FILE_PRIVATE) && v->shmid > 0 &&
	      v->flags == MAP_PRIVATE && v->has_fdflags && v->fdflags == O_RDWR);
	CHECK((v = find_vma(im, (uintptr_t)__builtin_frame_address(0))) && (v->status & VMA_AREA_STACK) &&
	      (v->flags & MAP_GROWSDOWN));
	CHECK(!read_stat(pid, &st));
	CHECK(im->mm->mm_start_code == st.start_code && im->mm->mm_env_end == st.env_end);
	CHECK(im->mm->mm_brk == st.start_brk); /* misc.brk unknown here: start_brk */
	/* type/value pairs up to AT_NULL, which goes when there are 22 pairs before it
	 * (at most 44 words, as upstream reads and restores them) */
	CHECK(im->mm->n_mm_saved_auxv >= 2 && im->mm->n_mm_saved_auxv % 2 == 0 && im->mm->n_mm_saved_auxv <= 44);
	CHECK(im->mm->mm_saved_auxv[im->mm->n_mm_saved_auxv - 2] == 0 || im->mm->n_mm_saved_auxv == 44);
	CHECK(im->mm->has_dumpable && im->mm->exe_file_id > 0);
	return 0;
}

static int crit_decodes(const struct dump *dp, const char *name)
{
	char cmd[256];

	if (access("/usr/bin/crit", X_OK))
		return 0;
	snprintf(cmd, sizeof(cmd), "crit decode -i %s/%s --pretty >/dev/null", dp->dir, name);
	return system(cmd);
}

/* /proc/PID/maps as text, or the names in /proc/PID/fd, one a line. */
static char *proc_text(pid_t pid, const char *what)
{
	char path[64], *out = NULL;
	size_t len = 0;
	struct dirent *de;
	DIR *d;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, what);
	if (strcmp(what, "fd"))
		return unit_slurp(path, NULL);
	d = opendir(path);
	f = d ? open_memstream(&out, &len) : NULL;
	while (f && (de = readdir(d)))
		fprintf(f, "%s\n", de->d_name);
	if (f)
		fclose(f);
	if (d)
		closedir(d);
	return out;
}

static bool same_runs(const struct images *x, const struct images *y)
{
	return x->nr_runs == y->nr_runs && !memcmp(x->runs, y->runs, x->nr_runs * sizeof(*x->runs));
}

static bool same_file(const struct dump *x, const struct dump *y, const char *name)
{
	char px[128], py[128], cmd[300];


	snprintf(px, sizeof(px), "%s/%s", x->dir, name);
	snprintf(py, sizeof(py), "%s/%s", y->dir, name);
	snprintf(cmd, sizeof(cmd), "cmp -s %s %s", px, py);
	return system(cmd) == 0;
}

static int check_dump(pid_t pid, struct seized_tree *tree, enum way way, struct dump *dp, struct images *im)
{
	int dret = -1;

	CHECK(dump_mm(pid, tree, way, dp, &dret) == 0 && dret == 0);
	CHECK(read_images(dp, pid, im) == 0);
	if (check_runs(pid, im) || check_pages(dp, pid, im) || check_vmas(pid, im))
		return 1;
	CHECK(dp->stats.pages_bytes == im->total_pages * PG && dp->stats.pages_ns > 0);
	return 0;
}

static int test_dump_child(void)
{
	char name[64], buf[PG];
	struct dump d1 = {.dirfd = -1}, d2 = {.dirfd = -1}, d3 = {.dirfd = -1};
	struct images i1 = {0}, i2 = {0}, i3 = {0};
	struct seized_tree tree = {0};
	char *maps0 = NULL, *maps1 = NULL, *fds0 = NULL, *fds1 = NULL;
	int fd, ret = 1;
	pid_t pid;

	snprintf(sh->path, sizeof(sh->path), "/tmp/criu-test-mm.XXXXXX");
	fd = mkstemp(sh->path);
	memset(buf, 'F', sizeof(buf));
	for (int i = 0; fd >= 0 && i < F_PAGES; i++)
		CHECK(write(fd, buf, PG) == (ssize_t)PG);
	if (fd >= 0)
		close(fd);
	CHECK(fd >= 0);
	pid = spawn(child_areas);
	if (pid < 0 || seize_tree(pid, &tree)) {
		snprintf(unit_fail_msg, sizeof(unit_fail_msg), "can't start or seize the child");
		goto out;
	}
	maps0 = proc_text(pid, "maps");
	fds0 = proc_text(pid, "fd");
	if (check_dump(pid, &tree, WAY_DEFAULT, &d1, &i1) || check_dump(pid, &tree, WAY_READ, &d2, &i2) ||
	    check_dump(pid, &tree, WAY_SPLICE, &d3, &i3))
		goto out;
	snprintf(name, sizeof(name), "pages-%u.img", i1.pages_id);
	if (!same_runs(&i1, &i2) || !same_file(&d1, &d2, name) || !same_runs(&i1, &i3) ||
	    !same_file(&d1, &d3, name)) {
		snprintf(unit_fail_msg, sizeof(unit_fail_msg),
			 "threads + mapped image, pagemap entries + buffer and vmsplice disagree: runs %zu/%zu/%zu, %d%d%d%d",
			 i1.nr_runs, i2.nr_runs, i3.nr_runs, same_runs(&i1, &i2), same_file(&d1, &d2, name),
			 same_runs(&i1, &i3), same_file(&d1, &d3, name));
		goto out;
	}
	/* vmsplice's pipe end and scratch area are gone from the child */
	maps1 = proc_text(pid, "maps");
	fds1 = proc_text(pid, "fd");
	if (!maps0 || !fds0 || !maps1 || !fds1 || strcmp(maps0, maps1) || strcmp(fds0, fds1)) {
		snprintf(unit_fail_msg, sizeof(unit_fail_msg), "the child's maps or fds changed: %s / %s",
			 fds0 ? fds0 : "?", fds1 ? fds1 : "?");
		goto out;
	}
	snprintf(name, sizeof(name), "mm-%d.img", pid);
	ret = crit_decodes(&d1, name);
	snprintf(name, sizeof(name), "pagemap-%d.img", pid);
	ret = ret || crit_decodes(&d1, name);
	if (ret)
		snprintf(unit_fail_msg, sizeof(unit_fail_msg), "crit decode failed");
out:
	release_tree(&tree);
	kill_child(&pid);
	images_free(&i1);
	images_free(&i2);
	images_free(&i3);
	dump_clean(&d1);
	dump_clean(&d2);
	dump_clean(&d3);
	unlink(sh->path);
	free(maps0);
	free(maps1);
	free(fds0);
	free(fds1);
	return ret;
}

static int test_sysv_unsupported(void)
{
	struct seized_tree tree = {0};
	struct dump d = {.dirfd = -1};
	int dret = 0, ret = 1;
	pid_t pid = spawn(child_sysv);

	if (pid > 0 && !seize_tree(pid, &tree) && !dump_mm(pid, &tree, WAY_DEFAULT, &d, &dret))
		ret = dret != -EOPNOTSUPP;
	release_tree(&tree);
	kill_child(&pid);
	dump_clean(&d);
	return ret;
}

/*
 * The shmem object's pages, with their offsets in it: pagemap-shmem-<ino>.img
 * has runs [0, 1) and [2, S_PAGES) (page 1 is a hole), the pages image their
 * bytes; the area's vma_entry names the object.
 */
static int check_shmem(struct dump *dp, pid_t pid)
{
	struct images im = {0};
	struct img_reader r;
	ProtobufCMessage *msg;
	const VmaEntry *v;
	uint64_t want[2][2] = {{0, 1}, {2 * PG, S_PAGES - 2}}, buf[PG / 8];
	size_t n = 0;
	char name[64];
	int fd, ret;

	CHECK(read_images(dp, pid, &im) == 0);
	v = find_vma(&im, sh->shared);
	ret = !v || !(v->status & VMA_ANON_SHARED) || !v->shmid;
	snprintf(name, sizeof(name), "pagemap-shmem-%llu.img", v ? (unsigned long long)v->shmid : 0ULL);
	images_free(&im);
	CHECK(!ret);
	if (img_reader_open(&r, dp->dirfd, name, IMG_PAGEMAP_SHMEM)) {
		snprintf(unit_fail_msg, sizeof(unit_fail_msg), "can't read %s", name);
		return 1;
	}
	while ((ret = img_read_entry(&r, &msg)) == 1) {
		if (r.nr_entries == 1) {
			snprintf(name, sizeof(name), "pages-%u.img", ((PagemapHead *)msg)->pages_id);
		} else {
			PagemapEntry *pe = (PagemapEntry *)msg;

			if (n >= 2 || pe->vaddr != want[n][0] || pe->nr_pages != want[n][1])
				ret = -1;
			n++;
		}
		protobuf_c_message_free_unpacked(msg, NULL);
		if (ret < 0)
			break;
	}
	img_reader_close(&r);
	CHECK(ret == 0 && n == 2);
	fd = openat(dp->dirfd, name, O_RDONLY | O_CLOEXEC);
	CHECK(fd >= 0);
	for (int pg = 0, at = 0; pg < S_PAGES; pg++) {
		if (pg == 1)
			continue;
		if (pread(fd, buf, PG, (off_t)at++ * PG) != (ssize_t)PG) {
			close(fd);
			CHECK(!"pages image short");
		}
		for (size_t w = 0; w < PG / 8; w++)
			if (buf[w] != pattern(sh->shared + pg * PG + w * 8)) {
				close(fd);
				CHECK(!"shared page content");
			}
	}
	close(fd);
	return 0;
}

static int test_shared_anon(void)
{
	struct seized_tree tree = {0};
	struct dump d = {.dirfd = -1};
	int dret = -1, ret = 1;
	pid_t pid = spawn(child_shared);

	if (pid > 0 && !seize_tree(pid, &tree) && !dump_mm(pid, &tree, WAY_DEFAULT, &d, &dret) && !dret)
		ret = check_shmem(&d, pid);
	else
		snprintf(unit_fail_msg, sizeof(unit_fail_msg), "dump of the shared area failed: %d", dret);
	release_tree(&tree);
	kill_child(&pid);
	dump_clean(&d);
	return ret;
}

static uint64_t vm_hwm_kb(void)
{
	char *s = unit_slurp("/proc/self/status", NULL), *p = s ? strstr(s, "VmHWM:") : NULL;
	uint64_t v = p ? strtoull(p + 6, NULL, 10) : 0;

	free(s);
	return v;
}

/* 512 MiB into tmpfs (/dev/shm): speed (printed) and criu's peak memory. */
static int test_big(void)
{
	struct seized_tree tree = {0};
	struct dump d = {.dirfd = -1};
	struct images im = {0};
	int dret = -1, ret = 1;
	pid_t pid;

	sh->big_len = 512UL << 20;
	pid = spawn(child_big);
	/* The three ways in turn, twice: the first pass over fresh memory is
	 * slow on some VMs. */
	for (int pass = 0; pass < 6; pass++) {
		static const char *const names[] = {"PAGEMAP_SCAN, threads", "pagemap read, buffer",
						    "PAGEMAP_SCAN, vmsplice"};
		enum way way = (enum way)(pass % 3);

		if (pid < 0 || (!pass && seize_tree(pid, &tree)) || dump_mm(pid, &tree, way, &d, &dret) || dret ||
		    read_images(&d, pid, &im))
			goto out;
		if (!dumped(&im, sh->big) || !dumped(&im, sh->big + sh->big_len - PG) ||
		    d.stats.pages_bytes < sh->big_len) {
			snprintf(unit_fail_msg, sizeof(unit_fail_msg), "big area not dumped whole");
			goto out;
		}
		printf("# %s: %.0f MiB in %.0f ms (pages %.0f ms): %.2f GB/s; criu peak RSS %" PRIu64 " MiB\n",
		       names[way], d.stats.pages_bytes / 1048576.0, d.ns / 1e6,
		       d.stats.pages_ns / 1e6, d.stats.pages_bytes / (double)d.stats.pages_ns, vm_hwm_kb() >> 10);
		if (RSS_CHECKED && vm_hwm_kb() > RSS_BOUND_KB) {
			snprintf(unit_fail_msg, sizeof(unit_fail_msg), "peak RSS %" PRIu64 " KiB", vm_hwm_kb());
			goto out;
		}
		images_free(&im);
		dump_clean(&d);
	}
	ret = 0;
out:
	release_tree(&tree);
	kill_child(&pid);
	images_free(&im);
	dump_clean(&d);
	return ret;
}

static const struct unit_case cases[] = {
	{"classify_vmas", test_classify},
	{"dump_child_memory", test_dump_child},
	{"sysv_shm_unsupported", test_sysv_unsupported},
	{"shared_anon_dumped_once", test_shared_anon},
	{"dump_512mib", test_big},
	{},
};

int main(void)
{
	log_init(getenv("UNIT_DEBUG") ? LOG_DEBUG : LOG_ERROR, NULL);
	if (geteuid() != 0) {
		printf("skip all: needs root\n");
		return 0;
	}
	return unit_run(cases);
}

/*
 * mem/page-release.c on a real child: its ranges given back (both ways: one
 * process_madvise, and one madvise per range as before Linux 6.14), the
 * page kept (as a syscall instruction's would be), a read-only area kept,
 * an mlocked range refused but journaled, then every byte put back from
 * the "image" by page_release_undo().
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/prctl.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ptrace/inject.h"
#include "util/log.h"
#include "mem/page-release.h"
#include "ptrace/seize.h"
#include "unit.h"

#define PG	4096UL
#define A_PAGES 64 /* read-write */
#define B_PAGES 8  /* read-only */
#define L_PAGES 4  /* mlocked */

struct areas {
	uint64_t a, b, l;
	int locked;
};

static uint64_t pattern(uint64_t addr)
{
	return addr * 0x9E3779B97F4A7C15ULL + 7;
}

static void fill(char *p, size_t len)
{
	for (size_t o = 0; o < len; o += 8)
		*(uint64_t *)(p + o) = pattern((uint64_t)(uintptr_t)(p + o));
}

static char *map(size_t len)
{
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		_exit(2);
	fill(p, len);
	return p;
}

/* A child with its areas filled; their addresses come back through a pipe. */
static pid_t spawn(struct areas *ar)
{
	int p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC))
		return -1;
	pid = fork();
	if (pid == 0) {
		struct areas a;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		a.a = (uintptr_t)map(A_PAGES * PG);
		a.b = (uintptr_t)map(B_PAGES * PG);
		mprotect((void *)(uintptr_t)a.b, B_PAGES * PG, PROT_READ);
		a.l = (uintptr_t)map(L_PAGES * PG);
		/* the syscall itself: AddressSanitizer's mlock() does nothing */
		a.locked = !syscall(SYS_mlock, (void *)(uintptr_t)a.l, L_PAGES * PG);
		if (write(p[1], &a, sizeof(a)) != (ssize_t)sizeof(a))
			_exit(3);
		for (;;)
			pause();
	}
	close(p[1]);
	if (pid < 0 || read(p[0], ar, sizeof(*ar)) != (ssize_t)sizeof(*ar)) {
		if (pid > 0) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
		}
		pid = -1;
	}
	close(p[0]);
	return pid;
}

/* Pages of [addr, addr + n pages) present in pid, from /proc/PID/pagemap. */
static int present(pid_t pid, uint64_t addr, int n)
{
	char path[64];
	uint64_t e;
	int fd, got = 0;

	snprintf(path, sizeof(path), "/proc/%d/pagemap", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	for (int i = 0; fd >= 0 && i < n; i++)
		if (pread(fd, &e, 8, (off_t)((addr / PG + i) * 8)) == 8 && (e >> 63))
			got++;
	if (fd >= 0)
		close(fd);
	return got;
}

/* Every word of the child's range has its pattern. */
static bool intact(pid_t pid, uint64_t addr, size_t len)
{
	char *buf = malloc(len);
	bool ok = buf && !remote_read(pid, addr, buf, len);

	for (size_t o = 0; ok && o < len; o += 8)
		ok = *(uint64_t *)(buf + o) == pattern(addr + o);
	free(buf);
	return ok;
}

/* The "pages image": the ranges' bytes, in order, on tmpfs. */
static int write_image(pid_t pid, const struct iovec *v, int n)
{
	char name[] = "/dev/shm/criu-test-prel.XXXXXX";
	int fd = mkstemp(name);
	off_t off = 0;

	if (fd < 0)
		return -1;
	unlink(name);
	for (int i = 0; i < n; i++) {
		char *buf = malloc(v[i].iov_len);

		if (!buf || remote_read(pid, (uintptr_t)v[i].iov_base, buf, v[i].iov_len) ||
		    pwrite(fd, buf, v[i].iov_len, off) != (ssize_t)v[i].iov_len) {
			free(buf);
			close(fd);
			return -1;
		}
		free(buf);
		off += (off_t)v[i].iov_len;
	}
	return fd;
}

static int release_and_undo(bool per_range)
{
	struct page_release_journal j = {0};
	struct page_releaser r;
	struct seized_tree tree = {0};
	struct seized_thread *t;
	struct areas ar;
	uint64_t keep;
	int img = -1, ret = 1;
	pid_t pid = spawn(&ar);

	CHECK(pid > 0);
	if (seize_tree(pid, &tree) || tree.nr_threads != 1)
		goto out;
	t = &tree.threads[0];
	keep = ar.a + 10 * PG;
	{
		struct iovec v[] = {
			{(void *)(uintptr_t)ar.a, A_PAGES * PG},
			{(void *)(uintptr_t)ar.b, B_PAGES * PG},
			{(void *)(uintptr_t)ar.l, L_PAGES * PG},
		};

		img = write_image(pid, v, 3);
		if (img < 0)
			goto out;
		/* B is read-only: the dump keeps such areas (kept_areas()) */
		struct page_kept_area kept[] = {{ar.b, ar.b + B_PAGES * PG}};

		if (page_release_open(&r, &j, &t, 1, img, kept, 1))
			goto out;
		/* as if a thread's syscall instruction were in A */
		r.keep[r.nr_keep++] = keep;
		if (per_range)
			r.per_range = true;
		if (page_release_ranges(&r, v, 3, 0) || page_release_close(&r))
			goto out;
	}
	/* given back: A but its kept page; B is kept; the mlocked area is refused */
	if (present(pid, ar.a, A_PAGES) != 1 || present(pid, keep, 1) != 1 || present(pid, ar.b, B_PAGES) != B_PAGES ||
	    (ar.locked && present(pid, ar.l, L_PAGES) != L_PAGES)) {
		snprintf(unit_fail_msg, sizeof(unit_fail_msg), "present after release: A %d (want 1), B %d, L %d",
			 present(pid, ar.a, A_PAGES), present(pid, ar.b, B_PAGES), present(pid, ar.l, L_PAGES));
		goto out;
	}
	/* journaled: A but the kept page (two runs) and L */
	if (j.nr != 1 || j.procs[0].pid != pid || j.procs[0].nr < 2) {
		snprintf(unit_fail_msg, sizeof(unit_fail_msg), "journal: %zu procs, %zu ranges", j.nr,
			 j.nr ? j.procs[0].nr : 0);
		goto out;
	}
	if (page_release_undo(&j)) {
		snprintf(unit_fail_msg, sizeof(unit_fail_msg), "page_release_undo failed");
		goto out;
	}
	if (!intact(pid, ar.a, A_PAGES * PG) || !intact(pid, ar.b, B_PAGES * PG) || !intact(pid, ar.l, L_PAGES * PG) ||
	    present(pid, ar.a, A_PAGES) != A_PAGES || present(pid, ar.b, B_PAGES) != B_PAGES) {
		snprintf(unit_fail_msg, sizeof(unit_fail_msg), "not all put back: A %d/%d present, B %d/%d",
			 present(pid, ar.a, A_PAGES), A_PAGES, present(pid, ar.b, B_PAGES), B_PAGES);
		goto out;
	}
	ret = 0;
out:
	if (ret && !unit_fail_msg[0])
		snprintf(unit_fail_msg, sizeof(unit_fail_msg), "can't seize, inject into or release the child");
	release_tree(&tree);
	page_release_journal_free(&j);
	if (img >= 0)
		close(img);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return ret;
}

static int test_process_madvise(void)
{
	return release_and_undo(false);
}

static int test_per_range(void)
{
	return release_and_undo(true);
}

static const struct unit_case cases[] = {
	{"release_process_madvise_and_undo", test_process_madvise},
	{"release_per_range_and_undo", test_per_range},
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

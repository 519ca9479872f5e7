/*
 * Giving a dumped process's memory back as it goes: see page-release.h.
 */
#define LOG_PREFIX "page-release: "

#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ptrace/inject.h"
#include "util/log.h"
#include "mem/page-release.h"
#include "util/kerndat.h"
#include "util/util.h"

#define PAGE_SZ			   4096ULL
#define PAGE_RELEASE_IOVS	   1024U /* IOV_MAX: ranges per process_madvise */
#define PAGE_RELEASE_SCRATCH	   (PAGE_RELEASE_IOVS * sizeof(struct iovec))
#define PIDFD_SELF_PROC		   -10001 /* PIDFD_SELF_THREAD_GROUP, Linux 6.14 */
#define UNDO_BUF		   (4U << 20)
#define PAGE_RELEASE_PER_RANGE_MAX 64 /* ranges of a batch given back one by one */

#ifndef SYS_process_madvise
#define SYS_process_madvise 440
#endif

/* ------------------------------------------------------------------------
 * The journal
 */

static void journal_add(struct page_release_proc *p, uint64_t addr, uint64_t len, uint64_t off)
{
	struct page_release_range *last = p->nr ? &p->r[p->nr - 1] : NULL;

	if (last && last->addr + last->len == addr && last->off + last->len == off) {
		last->len += len;
		return;
	}
	if (p->nr == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 64;
		p->r = xrealloc(p->r, p->cap * sizeof(*p->r));
	}
	p->r[p->nr++] = (struct page_release_range){.addr = addr, .len = len, .off = off};
}

void page_release_journal_free(struct page_release_journal *j)
{
	for (size_t i = 0; i < j->nr; i++) {
		if (j->procs[i].img_fd >= 0)
			close(j->procs[i].img_fd);
		free(j->procs[i].r);
	}
	free(j->procs);
	memset(j, 0, sizeof(*j));
}

/* One process's ranges back from its image; 0 or -errno. */
static int undo_proc(const struct page_release_proc *p, char *buf)
{
	_cleanup_close_ int mem = -1;
	char path[64];
	uint64_t bytes = 0;

	if (!p->nr)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/mem", p->pid);
	mem = open(path, O_RDWR | O_CLOEXEC);
	if (mem < 0) {
		pr_perror("process %d: can't open %s to put its memory back", p->pid, path);
		return -errno;
	}
	for (size_t i = 0; i < p->nr; i++) {
		const struct page_release_range *r = &p->r[i];

		for (uint64_t done = 0; done < r->len;) {
			size_t n = r->len - done < UNDO_BUF ? (size_t)(r->len - done) : UNDO_BUF;
			ssize_t got = pread(p->img_fd, buf, n, (off_t)(r->off + done));

			if (got != (ssize_t)n) {
				pr_err("process %d: can't read back %zu bytes at offset %llu of its pages image: %s\n",
				       p->pid, n, (unsigned long long)(r->off + done), got < 0 ? strerror(errno) : "short read");
				return got < 0 ? -errno : -EIO;
			}
			got = pwrite(mem, buf, n, (off_t)(r->addr + done));
			if (got != (ssize_t)n) {
				pr_err("process %d: can't put back %zu bytes at %#llx: %s\n", p->pid, n,
				       (unsigned long long)(r->addr + done), got < 0 ? strerror(errno) : "short write");
				return got < 0 ? -errno : -EIO;
			}
			/* the image of a failed dump: its memory back to the process */
			fallocate(p->img_fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)(r->off + done), (off_t)n);
			done += n;
		}
		bytes += r->len;
	}
	pr_info("process %d: %llu KiB of memory put back from its pages image\n", p->pid,
		(unsigned long long)(bytes >> 10));
	return 0;
}

int page_release_undo(struct page_release_journal *j)
{
	_cleanup_free_ char *buf = NULL;
	int ret = 0;

	for (size_t i = 0; i < j->nr; i++) {
		int err;

		if (!j->procs[i].nr)
			continue;
		if (!buf)
			buf = xmalloc(UNDO_BUF);
		err = undo_proc(&j->procs[i], buf);
		if (err) {
			pr_err("process %d did not get all of its memory back: it may fail when it runs on\n",
			       j->procs[i].pid);
			ret = ret ? ret : err;
		}
	}
	return ret;
}

/* ------------------------------------------------------------------------
 * Giving back
 */

int page_release_open(struct page_releaser *r, struct page_release_journal *j, struct seized_thread **threads,
		      size_t nr_threads, int img_fd, const struct page_kept_area *areas, size_t nr_areas)
{
	struct page_release_proc *p;
	struct rlimit rl;
	int fd, err;

	memset(r, 0, sizeof(*r));
	if (!nr_threads)
		return -ESRCH;
	r->areas = areas;
	r->nr_areas = nr_areas;
	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur != RLIM_INFINITY && j->nr_fds >= rl.rlim_cur / 2) {
		/* a descriptor per process: leave the rest of the dump its share */
		pr_debug("process %d: %zu pages images held open already: its memory is not given back\n",
			 threads[0]->pid, j->nr_fds);
		return -EMFILE;
	}
	fd = fcntl(img_fd, F_DUPFD_CLOEXEC, 0);
	if (fd < 0) {
		pr_perror("can't keep a descriptor of the pages image");
		return -errno;
	}
	/*
	 * From now on the process can't run on without page_release_undo(): if criu
	 * died (SIGKILL, a crash) before that, it would run with memory
	 * missing. It dies with criu instead.
	 */
	for (size_t i = 0; i < nr_threads; i++) {
		err = seize_exitkill(threads[i], true);
		if (err) {
			close(fd);
			return err;
		}
	}
	r->t = threads[0];
	err = inject_mmap(r->t, 0, PAGE_RELEASE_SCRATCH, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0,
			  &r->scratch);
	if (err) {
		pr_info("process %d: no scratch area (%s): its memory is not given back as it is dumped\n",
			r->t->pid, strerror(-err));
		close(fd);
		r->t = NULL;
		return err;
	}
	for (size_t i = 0; i < nr_threads && r->nr_keep < PAGE_RELEASE_KEEP; i++) {
		uint64_t ip = threads[i]->syscall_ip;

		if (!ip)
			continue;
		/* the instruction may cross into the next page */
		r->keep[r->nr_keep++] = ip & ~(PAGE_SZ - 1);
		if (r->nr_keep < PAGE_RELEASE_KEEP && ((ip + 1) & ~(PAGE_SZ - 1)) != (ip & ~(PAGE_SZ - 1)))
			r->keep[r->nr_keep++] = (ip + 1) & ~(PAGE_SZ - 1);
	}
	if (!kdat_has(KF_PROCESS_MADVISE_SELF)) {
		r->per_range = true;
	} else {
		/* the kernel can (Linux 6.14: PIDFD_SELF, any advice); can this process,
		 * or does a seccomp filter of its own refuse it? */
		struct iovec none = {.iov_base = (void *)(uintptr_t)r->scratch, .iov_len = 0};
		long ret = -1;

		err = remote_write(r->t->pid, r->scratch, &none, sizeof(none));
		if (!err)
			err = (int)inject_syscall(r->t, SYS_process_madvise, PIDFD_SELF_PROC, (long)r->scratch, 1,
						  MADV_DONTNEED, 0, 0, &ret);
		if (err) {
			inject_munmap(r->t, r->scratch, PAGE_RELEASE_SCRATCH);
			close(fd);
			r->t = NULL;
			return err;
		}
		r->per_range = ret != 0;
		if (r->per_range)
			pr_debug("process %d: process_madvise(PIDFD_SELF) gave %ld: one madvise per range\n", r->t->pid,
				 ret);
	}
	if (j->nr == j->cap) {
		j->cap = j->cap ? j->cap * 2 : 8;
		j->procs = xrealloc(j->procs, j->cap * sizeof(*j->procs));
	}
	p = &j->procs[j->nr];
	memset(p, 0, sizeof(*p));
	p->pid = r->t->pid;
	p->img_fd = fd;
	j->nr_fds++;
	r->j = j;
	r->proc = j->nr++;
	return 0;
}

/*
 * The first kept area (read-only, or registered on a userfaultfd) that
 * starts before *to and ends after `from` (areas are sorted: a binary
 * search) moves *to to its start (or `from`) and *past to its end.
 */
static void kept_area(const struct page_releaser *r, uint64_t from, uint64_t *to, uint64_t *past)
{
	size_t lo = 0, hi = r->nr_areas;

	while (lo < hi) { /* the first area ending after `from` */
		size_t mid = (lo + hi) / 2;

		if (r->areas[mid].end <= from)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < r->nr_areas && r->areas[lo].start < *to) {
		*to = r->areas[lo].start > from ? r->areas[lo].start : from;
		*past = r->areas[lo].end;
	}
}

/*
 * Drops v[0..nr) (nr <= PAGE_RELEASE_IOVS, page-aligned) in the process. The bytes
 * of the ranges the kernel took before the first it refused in *done. 0 or
 * -errno from the injection.
 */
static int drop(struct page_releaser *r, const struct iovec *v, size_t nr, size_t *done)
{
	long ret;
	int err;

	*done = 0;
	if (!r->per_range) {
		err = remote_write(r->t->pid, r->scratch, v, nr * sizeof(*v));
		if (!err)
			err = (int)inject_syscall(r->t, SYS_process_madvise, PIDFD_SELF_PROC, (long)r->scratch, (long)nr,
						  MADV_DONTNEED, 0, 0, &ret);
		if (err)
			return err;
		if (ret >= 0) {
			*done = (size_t)ret;
			return 0;
		}
		return 0; /* the first range refused */
	}
	for (size_t i = 0; i < nr; i++) {
		err = (int)inject_syscall(r->t, SYS_madvise, (long)v[i].iov_base, (long)v[i].iov_len, MADV_DONTNEED, 0, 0,
					  0, &ret);
		if (err)
			return err;
		if (ret < 0)
			return 0;
		*done += v[i].iov_len;
	}
	return 0;
}

/*
 * Gives back v[0..nr) (image offsets o[]). A range the kernel refuses may
 * still have been dropped in part (madvise goes VMA by VMA), so it is
 * journaled whole: writing back bytes that never left is harmless.
 */
static int release_some(struct page_releaser *r, const struct iovec *v, const uint64_t *o, size_t nr)
{
	struct page_release_proc *p = &r->j->procs[r->proc];
	size_t i = 0;

	while (i < nr) {
		size_t end = i + (nr - i < PAGE_RELEASE_IOVS ? nr - i : PAGE_RELEASE_IOVS), done;
		int err = drop(r, &v[i], end - i, &done);

		if (err) {
			/* the syscall may have run (the injection failed after it, or a
			 * madvise before this one did): the whole rest is journaled */
			for (; i < nr; i++)
				journal_add(p, (uint64_t)(uintptr_t)v[i].iov_base, v[i].iov_len, o[i]);
			return err;
		}
		for (; i < end && done >= v[i].iov_len; i++) {
			journal_add(p, (uint64_t)(uintptr_t)v[i].iov_base, v[i].iov_len, o[i]);
			r->released += v[i].iov_len;
			done -= v[i].iov_len;
		}
		if (i < end) {
			pr_debug("process %d: %#llx+%zu kept (MADV_DONTNEED refused)\n", r->t->pid,
				 (unsigned long long)(uintptr_t)v[i].iov_base, v[i].iov_len);
			journal_add(p, (uint64_t)(uintptr_t)v[i].iov_base, v[i].iov_len, o[i]);
			i++;
		}
	}
	return 0;
}

int page_release_ranges(struct page_releaser *r, const struct iovec *v, size_t nr, uint64_t img_off)
{
	/* every range may be split at each kept page */
	size_t cap = nr + r->nr_keep, m = 0;
	_cleanup_free_ struct iovec *out = NULL;
	_cleanup_free_ uint64_t *offs = NULL;
	uint64_t off = img_off;

	if (!r->t || !nr)
		return 0;
	out = xmalloc(cap * sizeof(*out));
	offs = xmalloc(cap * sizeof(*offs));
	for (size_t i = 0; i < nr; i++) {
		uint64_t a = (uint64_t)(uintptr_t)v[i].iov_base, end = a + v[i].iov_len;

		for (uint64_t from = a; from < end;) {
			uint64_t to = end, past = end; /* up to the first kept range, past it */

			for (size_t k = 0; k < r->nr_keep; k++)
				if (r->keep[k] >= from && r->keep[k] < to)
					to = r->keep[k], past = to + PAGE_SZ;
			kept_area(r, from, &to, &past);
			if (to > from) {
				if (m == cap) {
					cap *= 2;
					out = xrealloc(out, cap * sizeof(*out));
					offs = xrealloc(offs, cap * sizeof(*offs));
				}
				out[m] = (struct iovec){.iov_base = (void *)(uintptr_t)from, .iov_len = to - from};
				offs[m++] = off + (from - a);
			}
			from = past;
		}
		off += v[i].iov_len;
	}
	if (r->per_range && m > PAGE_RELEASE_PER_RANGE_MAX)
		return 0; /* an injection per range would cost more than it saves */
	return release_some(r, out, offs, m);
}

int page_release_close(struct page_releaser *r)
{
	int err = 0;

	if (!r->t)
		return 0;
	struct page_release_proc *p = &r->j->procs[r->proc];

	if (r->released)
		pr_debug("process %d: %llu KiB given back as dumped\n", r->t->pid,
			 (unsigned long long)(r->released >> 10));
	if (!p->nr && p->img_fd >= 0) {
		close(p->img_fd); /* nothing to put back: no need to keep it */
		p->img_fd = -1;
		r->j->nr_fds--;
	}
	if (inject_munmap(r->t, r->scratch, PAGE_RELEASE_SCRATCH)) {
		pr_err("process %d: can't unmap the scratch area at %#llx\n", r->t->pid,
		       (unsigned long long)r->scratch);
		err = -EIO;
	}
	r->t = NULL;
	return err;
}

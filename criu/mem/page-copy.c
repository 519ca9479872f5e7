/*
 * Copying a seized process's pages into a pages image: see page-copy.h.
 */
#define LOG_PREFIX "page-copy: "

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ptrace/inject.h"
#include "util/log.h"
#include "mem/page-copy.h"
#include "util/util.h"

#define SCRATCH_SIZE (PAGE_COPY_IOVS * sizeof(struct iovec))

/* ------------------------------------------------------------------------
 * The buffer way
 */

static int open_mem(struct page_copier *pc)
{
	char path[64];

	if (pc->mem_fd >= 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/mem", pc->pid);
	pc->mem_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (pc->mem_fd < 0) {
		pr_perror("can't open %s", path);
		return -errno;
	}
	return 0;
}

static int mem_pread(struct page_copier *pc, char *dst, const struct iovec *r)
{
	int ret = open_mem(pc);

	for (size_t done = 0; !ret && done < r->iov_len;) {
		ssize_t n = pread(pc->mem_fd, dst + done, r->iov_len - done, (off_t)(uintptr_t)r->iov_base + done);

		if (n <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			pr_err("process %d: can't read memory at %p: %s\n", pc->pid, (char *)r->iov_base + done,
			       n ? strerror(errno) : "end of file");
			return n ? -errno : -EIO;
		}
		done += (size_t)n;
	}
	return ret;
}

/*
 * Reads ranges `r[0..nr)` (modified), `total` bytes, into `dst`:
 * process_vm_readv, and /proc/PID/mem for a range it stops at (or for all,
 * no_pin).
 */
static int read_ranges(struct page_copier *pc, char *dst, struct iovec *r, size_t nr, size_t total)
{
	size_t i = 0, pos = 0;
	int ret;

	while (i < nr) {
		struct iovec l = {.iov_base = dst + pos, .iov_len = total - pos};
		ssize_t n = pc->no_pin ? 0 : process_vm_readv(pc->pid, &l, 1, &r[i], nr - i, 0);
		size_t got = n > 0 ? (size_t)n : 0;

		pos += got;
		while (i < nr && got >= r[i].iov_len)
			got -= r[i++].iov_len;
		if (i == nr)
			break;
		r[i].iov_base = (char *)r[i].iov_base + got;
		r[i].iov_len -= got;
		ret = mem_pread(pc, dst + pos, &r[i]);
		if (ret)
			return ret;
		pos += r[i++].iov_len;
	}
	return 0;
}

static size_t ranges_len(const struct iovec *r, size_t nr)
{
	size_t total = 0;

	for (size_t k = 0; k < nr; k++)
		total += r[k].iov_len;
	return total;
}

/* The ranges through the buffer into the image. */
static int copy_buffered(struct page_copier *pc, struct iovec *r, size_t nr)
{
	size_t total = ranges_len(r, nr);
	int ret;

	if (!pc->buf)
		pc->buf = xmalloc(PAGE_COPY_BUF_SIZE);
	ret = read_ranges(pc, pc->buf, r, nr, total);
	pc->copied += total;
	return !ret && total ? img_write_raw(pc->w, pc->buf, total) : ret;
}

/* ------------------------------------------------------------------------
 * The workers way: batches queued to worker threads
 */

/* Drops the first `n` bytes of ranges r[*i..nr). */
static void advance(struct iovec *r, size_t nr, size_t *i, size_t n)
{
	while (*i < nr && n >= r[*i].iov_len)
		n -= r[(*i)++].iov_len;
	if (*i < nr && n) {
		r[*i].iov_base = (char *)r[*i].iov_base + n;
		r[*i].iov_len -= n;
	}
}

/*
 * A batch into its part of the image, a piece at a time: read from the
 * process into the worker's buffer (small enough to stay in its CPU's
 * cache), then pwrite(2) at the piece's place. A tmpfs page written whole
 * is never cleared first, where a page faulted into a mapping is: this is
 * one pass over fresh memory instead of two. pwrite gets the inode lock,
 * the reads from the process run in parallel.
 */
static int worker_write(struct page_copier *pc, const struct page_copy_batch *b, char *buf)
{
	struct iovec r[PAGE_COPY_IOVS], piece[PAGE_COPY_IOVS];
	uint64_t off = b->off;
	size_t i = 0;
	int err = 0;

	memcpy(r, b->remote, b->nr * sizeof(*r));
	while (!err && i < b->nr) {
		size_t n = 0, len = 0;

		for (size_t k = i; k < b->nr && len < PAGE_COPY_PIECE; k++) {
			size_t take = r[k].iov_len < PAGE_COPY_PIECE - len ? r[k].iov_len : PAGE_COPY_PIECE - len;

			piece[n++] = (struct iovec){.iov_base = r[k].iov_base, .iov_len = take};
			len += take;
		}
		err = read_ranges(pc, buf, piece, n, len);
		for (size_t done = 0; !err && done < len;) {
			ssize_t w = pwrite(pc->w->fd, buf + done, len - done, (off_t)(off + done));

			if (w < 0 && errno == EINTR)
				continue;
			if (w > 0) {
				done += (size_t)w;
				continue;
			}
			err = w ? -errno : -EIO;
			if (err == -ENOSPC || err == -EDQUOT)
				pr_err("%s: no space left on the images' filesystem\n", pc->w->name);
			else
				pr_perror("%s: can't write %zu bytes at offset %llu", pc->w->name, len - done,
					  (unsigned long long)(off + done));
		}
		off += len;
		advance(r, b->nr, &i, len);
	}
	return err;
}

static void *worker_main(void *arg)
{
	struct page_copier *pc = arg;
	struct page_copy_workers *wk = pc->wk;
	struct page_copy_batch b;
	char *buf = malloc(PAGE_COPY_PIECE);
	int err = 0;

	if (!buf) {
		pthread_mutex_lock(&wk->lock);
		wk->err = -ENOMEM;
		pthread_cond_broadcast(&wk->cond);
		pthread_mutex_unlock(&wk->lock);
		return NULL;
	}
	for (;;) {
		pthread_mutex_lock(&wk->lock);
		while (wk->queued == 0 && !wk->done && !wk->err)
			pthread_cond_wait(&wk->cond, &wk->lock);
		if (wk->queued == 0 || wk->err) {
			pthread_mutex_unlock(&wk->lock);
			break;
		}
		b = wk->ring[wk->first];
		wk->first = (wk->first + 1) % PAGE_COPY_RING;
		wk->queued--;
		pthread_cond_broadcast(&wk->cond);
		pthread_mutex_unlock(&wk->lock);

		err = worker_write(pc, &b, buf);
		if (!err && pc->releasing) {
			pthread_mutex_lock(&wk->lock);
			/*
			 * Not reached: the caller drains fin[] each time it queues,
			 * and at most PAGE_COPY_RING queued + one per worker are unfinished
			 * in between.
			 */
			while (wk->nr_fin == PAGE_COPY_DONE && !wk->err)
				pthread_cond_wait(&wk->cond, &wk->lock);
			if (!wk->err)
				wk->fin[wk->nr_fin++] = b;
			pthread_cond_broadcast(&wk->cond);
			pthread_mutex_unlock(&wk->lock);
		}
		if (err) {
			pthread_mutex_lock(&wk->lock);
			wk->err = err;
			pthread_cond_broadcast(&wk->cond);
			pthread_mutex_unlock(&wk->lock);
			break;
		}
	}
	free(buf);
	return NULL;
}

/* The image on tmpfs and CPUs to spare: start the workers, or say no. */
static bool mapped_open(struct page_copier *pc, int nr_threads)
{
	struct page_copy_workers *wk;
	struct statfs sfs;

	if (nr_threads < 2 || fstatfs(pc->w->fd, &sfs) || sfs.f_type != TMPFS_MAGIC || open_mem(pc))
		return false;
	wk = xzalloc(sizeof(*wk));
	pthread_mutex_init(&wk->lock, NULL);
	pthread_cond_init(&wk->cond, NULL);
	pc->wk = wk;
	for (int i = 0; i < nr_threads && i < PAGE_COPY_MAX_THREADS; i++) {
		if (pthread_create(&wk->th[i], NULL, worker_main, pc))
			break;
		wk->nr_threads++;
	}
	if (!wk->nr_threads) {
		pthread_mutex_destroy(&wk->lock);
		pthread_cond_destroy(&wk->cond);
		free(wk);
		pc->wk = NULL;
		return false;
	}
	pr_debug("process %d: pages written by %d threads into the image\n", pc->pid, wk->nr_threads);
	return true;
}

/*
 * Gives back the batches the workers finished; called with wk->lock held,
 * which it drops while injecting. The first error, if any.
 */
static int mapped_release(struct page_copier *pc)
{
	struct page_copy_workers *wk = pc->wk;
	size_t n = wk->nr_fin;
	int err = 0;

	if (!n)
		return 0;
	if (!pc->drain)
		pc->drain = xmalloc(PAGE_COPY_DONE * sizeof(*pc->drain));
	memcpy(pc->drain, wk->fin, n * sizeof(*pc->drain));
	wk->nr_fin = 0;
	pthread_cond_broadcast(&wk->cond);
	pthread_mutex_unlock(&wk->lock);
	for (size_t i = 0; !err && i < n; i++)
		err = page_release_ranges(&pc->rel, pc->drain[i].remote, pc->drain[i].nr, pc->drain[i].off);
	pthread_mutex_lock(&wk->lock);
	if (err && !wk->err) {
		wk->err = err;
		pthread_cond_broadcast(&wk->cond);
	}
	return err;
}

/* The batch to the workers: the image grows to hold it first. */
static int mapped_queue(struct page_copier *pc)
{
	struct page_copy_workers *wk = pc->wk;
	struct page_copy_batch *b;
	int err;

	if (ftruncate(pc->w->fd, (off_t)(pc->w->off + pc->used)) < 0) {
		pr_perror("%s: can't grow it to %llu bytes", pc->w->name, (unsigned long long)(pc->w->off + pc->used));
		return -errno;
	}
	pthread_mutex_lock(&wk->lock);
	for (;;) {
		if (!wk->err && wk->nr_fin && pc->releasing) {
			mapped_release(pc);
			continue;
		}
		if (wk->queued < PAGE_COPY_RING || wk->err)
			break;
		pthread_cond_wait(&wk->cond, &wk->lock);
	}
	err = wk->err;
	if (!err) {
		b = &wk->ring[(wk->first + wk->queued) % PAGE_COPY_RING];
		memcpy(b->remote, pc->remote, pc->nr * sizeof(*pc->remote));
		b->nr = pc->nr;
		b->off = pc->w->off;
		b->len = pc->used;
		wk->queued++;
		pthread_cond_broadcast(&wk->cond);
	}
	pthread_mutex_unlock(&wk->lock);
	if (!err) {
		pc->w->off += pc->used;
		pc->copied += pc->used;
	}
	return err;
}

/* Waits for the workers to finish what is queued; their error, if any. */
static int mapped_close(struct page_copier *pc)
{
	struct page_copy_workers *wk = pc->wk;
	int err;

	pthread_mutex_lock(&wk->lock);
	wk->done = true;
	pthread_cond_broadcast(&wk->cond);
	pthread_mutex_unlock(&wk->lock);
	for (int i = 0; i < wk->nr_threads; i++)
		pthread_join(wk->th[i], NULL);
	if (!wk->err && pc->releasing && !pc->closing) {
		pthread_mutex_lock(&wk->lock);
		mapped_release(pc);
		pthread_mutex_unlock(&wk->lock);
	}
	err = wk->err;
	pthread_mutex_destroy(&wk->lock);
	pthread_cond_destroy(&wk->cond);
	free(wk);
	pc->wk = NULL;
	return err;
}

/* ------------------------------------------------------------------------
 * The splice way
 */

static int remote_close(struct seized_thread *t, int fd)
{
	long ret;
	int err = (int)inject_syscall(t, SYS_close, fd, 0, 0, 0, 0, 0, &ret);

	if (!err && ret < 0)
		err = (int)ret;
	if (err)
		pr_err("process %d: can't close the pipe end %d we opened in it: %s\n", t->pid, fd,
		       inject_strerror(err));
	return err;
}

/* The largest pipe the kernel lets us have, up to a whole batch. */
static size_t grow_pipe(int fd)
{
	static const int sizes[] = {PAGE_COPY_BUF_SIZE, 4 << 20, 2 << 20, 1 << 20, 512 << 10, 256 << 10};
	int got;

	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++)
		if (fcntl(fd, F_SETPIPE_SZ, sizes[i]) >= 0)
			break;
	got = fcntl(fd, F_GETPIPE_SZ);
	return got > 0 ? (size_t)got : 0;
}

/*
 * A pipe in the process (its write end stays there; we take a copy of the
 * read end and close the process's), and the scratch area for iovecs.
 * 0; -EAGAIN with everything undone when the process can't take part (the
 * buffer way then); another -errno when it died or could not be cleaned up.
 */
static int splice_open(struct page_copier *pc, struct seized_thread *t)
{
	int fds[2] = {-1, -1}, pidfd, err, hard = 0;
	long ret;

	err = inject_mmap(t, 0, SCRATCH_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0, &pc->scratch);
	if (err) {
		pr_info("process %d: no scratch area for vmsplice (%s): copying through a buffer\n", pc->pid,
			strerror(-err));
		pc->scratch = 0;
		return err == -ESRCH ? err : -EAGAIN;
	}
	err = (int)inject_syscall(t, SYS_pipe2, (long)pc->scratch, O_CLOEXEC, 0, 0, 0, 0, &ret);
	if (err == -ESRCH)
		return err;
	if (!err && ret < 0)
		err = (int)ret;
	if (!err)
		err = remote_read(t->pid, pc->scratch, fds, sizeof(fds));
	if (err) {
		pr_info("process %d: can't make a pipe in it (%s): copying through a buffer\n", pc->pid,
			strerror(-err));
		fds[0] = fds[1] = -1;
		goto undo;
	}
	pidfd = (int)syscall(SYS_pidfd_open, t->pid, 0);
	pc->pipe_rd = pidfd < 0 ? -1 : (int)syscall(SYS_pidfd_getfd, pidfd, fds[0], 0);
	if (pc->pipe_rd < 0)
		pr_info("process %d: can't take its pipe's read end: %m: copying through a buffer\n", pc->pid);
	if (pidfd >= 0)
		close(pidfd);
	hard = remote_close(t, fds[0]);
	fds[0] = -1;
	if (hard || pc->pipe_rd < 0)
		goto undo;
	pc->limit = grow_pipe(pc->pipe_rd);
	if (pc->limit < 4096)
		goto undo;
	pc->remote_wr = fds[1];
	pc->t = t;
	pr_debug("process %d: pages go through a %zu KiB pipe (fd %d in it)\n", pc->pid, pc->limit >> 10, fds[1]);
	return 0;
undo:
	if (pc->pipe_rd >= 0)
		close(pc->pipe_rd);
	pc->pipe_rd = -1;
	if (fds[1] >= 0 && remote_close(t, fds[1]))
		hard = hard ? hard : -EIO;
	if (inject_munmap(t, pc->scratch, SCRATCH_SIZE)) {
		pr_err("process %d: can't unmap the scratch area at %#llx\n", pc->pid, (unsigned long long)pc->scratch);
		hard = hard ? hard : -EIO;
	}
	pc->scratch = 0;
	return hard ? hard : -EAGAIN;
}

/*
 * The batch through the pipe: the process vmsplices its ranges in, we
 * splice them into the image. A range vmsplice refuses (an area it may not
 * read, EFAULT) and whatever follows it in the batch go the buffer way.
 */
static int copy_spliced(struct page_copier *pc, struct iovec *r, size_t nr)
{
	size_t i = 0;

	while (i < nr) {
		long n;
		int err = remote_write(pc->pid, pc->scratch, &r[i], (nr - i) * sizeof(*r));

		if (!err)
			err = (int)inject_syscall(pc->t, SYS_vmsplice, pc->remote_wr, (long)pc->scratch, (long)(nr - i),
						  SPLICE_F_NONBLOCK, 0, 0, &n);
		if (err)
			return err;
		if (n <= 0) {
			if (n != -EFAULT)
				pr_debug("process %d: vmsplice at %p gave %ld: copying through a buffer\n", pc->pid,
					 r[i].iov_base, n);
			return copy_buffered(pc, &r[i], nr - i);
		}
		err = img_splice_raw(pc->w, pc->pipe_rd, (size_t)n);
		if (err)
			return err;
		pc->spliced += (uint64_t)n;
		advance(r, nr, &i, (size_t)n);
	}
	return 0;
}

/* ------------------------------------------------------------------------
 * The copier
 */

int page_copy_open(struct page_copier *pc, pid_t pid, struct seized_thread *t, struct img_writer *w,
		   const struct page_copy_opts *o)
{
	int err;

	memset(pc, 0, sizeof(*pc));
	pc->pid = pid;
	pc->w = w;
	pc->mem_fd = -1;
	pc->pipe_rd = -1;
	pc->remote_wr = -1;
	pc->limit = PAGE_COPY_BUF_SIZE;
	if (o->release && o->nr_seized) {
		err = page_release_open(&pc->rel, o->release, o->seized, o->nr_seized, w->fd, o->keep, o->nr_keep);
		if (err == -ESRCH)
			return err;
		pc->releasing = !err;
	}
	if (o->shared_pages) {
		pr_info("process %d shares pages with another process: read through /proc/%d/mem\n", pid, pid);
		pc->no_pin = true;
		return 0;
	}
	if (o->threads > 1 && mapped_open(pc, o->threads))
		return 0;
	if (o->no_vmsplice || !t)
		return 0;
	err = splice_open(pc, t);
	if (err == -EAGAIN) {
		pc->limit = PAGE_COPY_BUF_SIZE;
		return 0;
	}
	if (err)
		page_copy_close(pc); /* what page_release_open and open_mem left in place */
	return err;
}

/* The batch, whichever way. */
static int batch_flush(struct page_copier *pc)
{
	int ret = 0;

	if (!pc->nr)
		return 0;
	if (pc->wk) {
		ret = mapped_queue(pc);
	} else {
		uint64_t off = pc->w->off;

		/* both ways consume the ranges: giving back needs them whole */
		if (pc->releasing && !pc->drain)
			pc->drain = xmalloc(sizeof(*pc->drain));
		if (pc->releasing)
			memcpy(pc->drain->remote, pc->remote, pc->nr * sizeof(*pc->remote));
		ret = pc->t ? copy_spliced(pc, pc->remote, pc->nr) : copy_buffered(pc, pc->remote, pc->nr);
		if (!ret && pc->releasing)
			ret = page_release_ranges(&pc->rel, pc->drain->remote, pc->nr, off);
	}
	pc->nr = 0;
	pc->used = 0;
	return ret;
}

int page_copy_flush(struct page_copier *pc)
{
	int ret = batch_flush(pc);

	if (pc->wk) {
		int err = mapped_close(pc);

		ret = ret ? ret : err;
	}
	return ret;
}

int page_copy_add(struct page_copier *pc, uint64_t addr, uint64_t len)
{
	int ret;

	while (len) {
		struct iovec *last = pc->nr ? &pc->remote[pc->nr - 1] : NULL;
		bool extends = last && (uintptr_t)last->iov_base + last->iov_len == addr;
		size_t n;

		if (pc->used == pc->limit || (pc->nr == PAGE_COPY_IOVS && !extends)) {
			ret = batch_flush(pc);
			if (ret)
				return ret;
			extends = false;
		}
		n = pc->limit - pc->used < len ? pc->limit - pc->used : (size_t)len;
		if (extends)
			last->iov_len += n;
		else
			pc->remote[pc->nr++] = (struct iovec){.iov_base = (void *)(uintptr_t)addr, .iov_len = n};
		pc->used += n;
		addr += n;
		len -= n;
	}
	return 0;
}

int page_copy_close(struct page_copier *pc)
{
	int err = 0;

	pc->closing = true;
	if (pc->wk)
		mapped_close(pc); /* a failed dump: its error was already told */
	if (pc->t) {
		err = remote_close(pc->t, pc->remote_wr);
		if (inject_munmap(pc->t, pc->scratch, SCRATCH_SIZE)) {
			pr_err("process %d: can't unmap the scratch area at %#llx\n", pc->pid,
			       (unsigned long long)pc->scratch);
			err = err ? err : -EIO;
		}
		pc->t = NULL;
	}
	if (pc->releasing) {
		int e = page_release_close(&pc->rel);

		err = err ? err : e;
		pc->releasing = false;
	}
	free(pc->drain);
	pc->drain = NULL;
	if (pc->pipe_rd >= 0)
		close(pc->pipe_rd);
	if (pc->mem_fd >= 0)
		close(pc->mem_fd);
	free(pc->buf);
	pc->pipe_rd = pc->mem_fd = -1;
	pc->buf = NULL;
	if (pc->spliced || pc->copied)
		pr_debug("process %d: %llu KiB of pages spliced, %llu KiB copied\n", pc->pid,
			 (unsigned long long)(pc->spliced >> 10), (unsigned long long)(pc->copied >> 10));
	return err;
}

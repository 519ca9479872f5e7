/*
 * Restore, act step from criu: the dumped pages into the task's new areas
 * (restore-mm.c has mapped them, writable). Two workers share the work, so
 * that two CPUs fault in and fill the task's fresh memory at once:
 *
 * - the task itself, driven by injected syscalls from criu's main thread
 *   (the tracer): madvise(MADV_POPULATE_WRITE) over a chunk, so the kernel
 *   allocates its pages in one pass rather than one fault at a time, then
 *   pread64() from its pages-N.img descriptor straight into place (the
 *   kernel copies page cache into the task: one copy);
 * - a criu thread: pread() of a chunk into its buffer, process_vm_writev()
 *   into the task (remote_write(): /proc/PID/mem where that can't write).
 *
 * Chunks are taken in order from a shared counter, so whichever worker is
 * faster does more. A small restore runs on the task alone.
 */
#define LOG_PREFIX "restore: "

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "inject.h"
#include "log.h"
#include "restore-tasks.h"
#include "util.h"

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

#define PAGE	     4096ULL
#define CHUNK	     (8ULL << 20)  /* bytes per unit of work */
#define HELPER_AFTER (32ULL << 20) /* smaller restores: the task alone */

struct chunk {
	uint64_t addr, off, len;
};

struct fill {
	struct chunk *chunks;
	size_t nr;
	atomic_size_t next;
	atomic_int stop; /* a worker failed: the other stops too */

	/* the helper thread */
	pid_t pid;
	int img_fd; /* criu's own descriptor of pages-N.img */
	int err;
	uint64_t addr_failed;
	uint64_t helper_bytes;
};

/* The pagemap runs cut into chunks, with their offsets in pages-N.img. */
static int make_chunks(const struct rproc *p, struct fill *f, uint64_t *total)
{
	size_t cap = 0;
	uint64_t off = 0;

	for (size_t i = 0; i < p->nr_pagemap; i++) {
		uint64_t addr = p->pagemap[i]->vaddr, left = (uint64_t)p->pagemap[i]->nr_pages * PAGE;

		while (left) {
			uint64_t n = left < CHUNK ? left : CHUNK;

			if (f->nr == cap) {
				cap = cap ? cap * 2 : 64;
				f->chunks = xrealloc(f->chunks, cap * sizeof(*f->chunks));
			}
			f->chunks[f->nr++] = (struct chunk){.addr = addr, .off = off, .len = n};
			addr += n;
			off += n;
			left -= n;
		}
	}
	*total = off;
	return 0;
}

static struct chunk *take(struct fill *f)
{
	size_t i;

	if (atomic_load(&f->stop))
		return NULL;
	i = atomic_fetch_add(&f->next, 1);
	return i < f->nr ? &f->chunks[i] : NULL;
}

static void *helper_main(void *arg)
{
	struct fill *f = arg;
	char *buf = malloc(CHUNK);
	struct chunk *c;

	if (!buf)
		return NULL; /* the task does it all */
	while ((c = take(f))) {
		size_t got = 0;

		while (got < c->len) {
			ssize_t n = pread(f->img_fd, buf + got, c->len - got, (off_t)(c->off + got));

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				f->err = n < 0 ? -errno : -EINVAL;
				break;
			}
			got += (size_t)n;
		}
		if (!f->err)
			f->err = remote_write(f->pid, c->addr, buf, c->len);
		if (f->err) {
			f->addr_failed = c->addr;
			atomic_store(&f->stop, 1);
			break;
		}
		f->helper_bytes += c->len;
	}
	free(buf);
	return NULL;
}

/* One chunk by the task: populate, then read into place. */
static int task_fill(struct rproc *p, struct seized_thread *st, int fd, const struct chunk *c, bool *populate)
{
	uint64_t addr = c->addr, off = c->off, left = c->len;
	long got;
	int ret;

	if (*populate) {
		ret = (int)inject_syscall(st, __NR_madvise, (long)addr, (long)left, MADV_POPULATE_WRITE, 0, 0, 0,
					  &got);
		if (ret)
			return ret;
		if (got == -EINVAL) /* a kernel before 5.14: faults one by one */
			*populate = false;
		/* other failures (EFAULT past a file's end...) show in pread */
	}
	while (left) {
		ret = rsys(st, "pread64 of pages", __NR_pread64, fd, (long)addr, (long)left, (long)off, 0, 0, &got);
		if (!ret && got <= 0) {
			pr_err("process %d: pages-%u.img ends at %llu, before the pages of %#llx\n", p->vpid,
			       p->pages_id, (unsigned long long)off, (unsigned long long)addr);
			ret = -EINVAL;
		}
		if (ret)
			return ret;
		addr += (uint64_t)got;
		off += (uint64_t)got;
		left -= (uint64_t)got;
	}
	return 0;
}

int fill_pages(struct rtree *t, struct rproc *p, struct seized_thread *st, uint64_t *bytes)
{
	struct fill f = {.pid = st->pid, .img_fd = -1};
	int fd = rtree_task_fd(t, RFD_PAGES), ret = 0;
	bool populate = true, helper = false;
	pthread_t th;
	uint64_t total;
	struct chunk *c;
	char name[32];

	make_chunks(p, &f, &total);
	if (total >= HELPER_AFTER) {
		snprintf(name, sizeof(name), "pages-%u.img", p->pages_id);
		f.img_fd = openat(t->imgs_dirfd, name, O_RDONLY | O_CLOEXEC);
		helper = f.img_fd >= 0 && !pthread_create(&th, NULL, helper_main, &f);
		if (!helper)
			pr_info("process %d: its pages are read by the task alone: %m\n", p->vpid);
	}
	while (!ret && (c = take(&f)))
		ret = task_fill(p, st, fd, c, &populate);
	if (ret)
		atomic_store(&f.stop, 1);
	if (helper)
		pthread_join(th, NULL);
	if (!ret && f.err) {
		pr_err("process %d: can't write its pages at %#llx from pages-%u.img: %s\n", p->vpid,
		       (unsigned long long)f.addr_failed, p->pages_id, strerror(-f.err));
		ret = f.err;
	}
	if (f.img_fd >= 0)
		close(f.img_fd);
	free(f.chunks);
	if (!ret) {
		*bytes += total;
		if (helper)
			pr_debug("process %d: %llu of %llu KiB of pages written by criu's helper thread\n", p->vpid,
				 (unsigned long long)(f.helper_bytes >> 10), (unsigned long long)(total >> 10));
	}
	return ret;
}

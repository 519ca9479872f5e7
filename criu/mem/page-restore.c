/*
 * Restore, act step from criu: the dumped pages into the task's new areas
 * (mem/mm-restore.c has mapped them, writable). Two workers share the work, so
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
 *
 * Private anonymous areas go faster still, through userfaultfd(2): the task
 * makes one (injected), criu takes a copy (pidfd_getfd) and registers the
 * areas on it, and then both workers UFFDIO_COPY chunks of the image,
 * mapped read-only in criu a chunk at a time, into the task: each page is
 * allocated and filled in one step, never cleared first (half the work of
 * populate + read), and no injection per chunk. Areas userfaultfd can't
 * take (private file mappings), a kernel or seccomp that refuses it, and a
 * page already present (EEXIST) go the ways above.
 *
 * With --auto-dedup (as upstream), each chunk is punched out of pages-N.img
 * once it is in place: on tmpfs the image's memory goes back to the kernel
 * as the task's is taken, and the task's new pages are those just freed
 * rather than memory the machine must first find (in a VM, fetch from the
 * host). Every chunk is read exactly once, so nothing reads a hole.
 */
#define LOG_PREFIX "restore: "

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/userfaultfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "mem/cow-restore.h"
#include "mem/pagemap-image.h"
#include "ptrace/inject.h"
#include "util/log.h"
#include "task/rtree.h"
#include "util/kerndat.h"
#include "util/util.h"
#include "image/vma-status.h"

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

#define PAGE	     4096ULL
#define CHUNK	     (8ULL << 20)  /* bytes per unit of work */
#define HELPER_AFTER (32ULL << 20) /* smaller restores: the task alone */

#ifndef UFFD_USER_MODE_ONLY
#define UFFD_USER_MODE_ONLY 1
#endif

struct chunk {
	uint64_t addr, off, len;
	bool uffd; /* inside an area registered on the userfaultfd */
};

struct fill {
	struct chunk *chunks;
	size_t nr;
	atomic_size_t next;
	atomic_int stop; /* a worker failed: the other stops too */

	int uffd; /* criu's copy of the task's userfaultfd, or -1 */

	const struct rtree *t;
	unsigned pages_id;

	/* the helper thread */
	pid_t pid;
	int img_fd; /* criu's own descriptor of pages-N.img */
	int err;
	uint64_t addr_failed;
	uint64_t helper_bytes;
};

static atomic_int dedup_broken; /* punching refused once: said once, not tried again */

int open_pages_file(int dirfd, unsigned pages_id, bool punch)
{
	struct stat st, dir;
	char name[32];
	int fd, err;

	snprintf(name, sizeof(name), "pages-%u.img", pages_id);
	/* not through a link, and nothing a mere open would start (a FIFO, a device) */
	fd = openat(dirfd, name, (punch ? O_RDWR : O_RDONLY) | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		if (punch) {
			pr_err("--auto-dedup: can't open %s for writing: %s\n", name, strerror(-err));
			pr_hint("restore without --auto-dedup, or from images criu may change\n");
		} else if (err == -ELOOP) {
			pr_err("%s is a symbolic link: refused\n", name);
		}
		return err;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		pr_err("%s is not a regular file: refused\n", name);
		close(fd);
		return -EINVAL;
	}
	/* punching holes in a file that is also elsewhere would damage that */
	if (punch && (st.st_nlink != 1 || fstat(dirfd, &dir) || dir.st_dev != st.st_dev)) {
		pr_err("--auto-dedup: %s has %lu links or is on another filesystem than the images directory: "
		       "refused (its pages would be punched out of that file too)\n",
		       name, (unsigned long)st.st_nlink);
		close(fd);
		return -EINVAL;
	}
	return fd;
}

int open_pages_image(const struct rtree *t, unsigned pages_id)
{
	return open_pages_file(t->imgs_dirfd, pages_id, t->auto_dedup);
}

int rtree_check_dedup(const struct rtree *t)
{
	int fd;

	if (!t->auto_dedup)
		return 0;
	for (size_t i = 0; i < t->nr + t->nr_shmems; i++) {
		bool proc = i < t->nr;

		if (proc && !t->procs[i].nr_pagemap)
			continue;
		fd = open_pages_image(t, proc ? t->procs[i].pages_id : t->shmems[i - t->nr].pages_id);
		if (fd < 0)
			return fd;
		close(fd);
	}
	return 0;
}

void dedup_pages(const struct rtree *t, int fd, unsigned pages_id, uint64_t off, uint64_t len)
{
	if (!t->auto_dedup || !len || atomic_load(&dedup_broken))
		return;
	if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len) &&
	    !atomic_exchange(&dedup_broken, 1))
		pr_warn("--auto-dedup: can't punch restored pages out of pages-%u.img (%m): the images keep them\n",
			pages_id);
}

/*
 * An area the program asked huge pages for: mm-restore.c advises it so
 * before its pages are filled, and it is filled by populate + read, which
 * takes huge pages (UFFDIO_COPY and a page at a time would not).
 */
bool vma_huge(const VmaEntry *v)
{
	return v->has_madv && (v->madv & (1ULL << MADV_HUGEPAGE)) && (v->status & VMA_ANON_PRIVATE);
}

/*
 * How much of [addr, addr + len), from addr on, lies all inside areas of p
 * shared with its parent or children (mem/cow-restore.h) or all outside
 * them (*inside says which): cow-restore.c fills the inside.
 */
static uint64_t premap_split(const struct rproc *p, uint64_t addr, uint64_t len, bool *inside)
{
	size_t lo = 0, hi = p->mm->n_vmas;

	*inside = false;
	if (!p->premap)
		return len;
	/* the first area that ends after addr */
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (p->mm->vmas[mid]->end <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t j = lo; j < p->mm->n_vmas && p->mm->vmas[j]->start < addr + len; j++) {
		const VmaEntry *v = p->mm->vmas[j];
		bool in = p->premap[j].addr != 0;

		if (v->start <= addr) {
			*inside = in;
			if (in || v->end >= addr + len)
				return (v->end < addr + len ? v->end : addr + len) - addr;
		} else if (in) {
			return v->start - addr; /* outside up to there */
		}
	}
	return len;
}

/*
 * The pagemap runs cut into chunks, with their offsets in pages-N.img; the
 * dumped vDSO's pages are not read (mm-restore.c maps the running kernel's
 * vDSO there: mem/pagemap-image.h), nor those of areas shared with a parent
 * or children (mem/cow-restore.h fills them).
 */
static int make_chunks(const struct rproc *p, struct fill *f, uint64_t *total)
{
	size_t cap = 0;
	uint64_t off = 0;

	for (size_t i = 0; i < p->nr_pagemap; i++) {
		uint64_t addr = p->pagemap[i]->vaddr, left = (uint64_t)p->pagemap[i]->nr_pages * PAGE;

		while (left) {
			bool vdso;
			uint64_t n = pagemap_vdso_split(p->mm->vmas, p->mm->n_vmas, addr, left < CHUNK ? left : CHUNK,
							&vdso);

			if (!vdso)
				n = premap_split(p, addr, n, &vdso); /* filled by premap_fill */
			if (vdso) {
				addr += n;
				off += n;
				left -= n;
				continue;
			}
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

/*
 * A chunk copied by UFFDIO_COPY from the image, mapped for the time of it.
 * 0 or -errno. (No other way can fill a registered area: with
 * UFFD_USER_MODE_ONLY, the kernel's own accesses to a missing page there
 * fail with EFAULT.)
 */
static int uffd_fill(struct fill *f, const struct chunk *c)
{
	void *src = mmap(NULL, c->len, PROT_READ, MAP_SHARED | MAP_POPULATE, f->img_fd, (off_t)c->off);
	uint64_t done = 0;
	int err;

	if (src == MAP_FAILED) {
		/* an image that can't be mapped (FUSE direct I/O...): through a buffer */
		src = mmap(NULL, c->len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (src == MAP_FAILED)
			return -errno;
		err = pread_full(f->img_fd, src, c->len, c->off);
		if (err) {
			munmap(src, c->len);
			return err;
		}
	}
	while (done < c->len) {
		struct uffdio_copy cp = {
			.dst = c->addr + done,
			.src = (uint64_t)(uintptr_t)src + done,
			.len = c->len - done,
		};

		if (!ioctl(f->uffd, UFFDIO_COPY, &cp)) {
			done += (uint64_t)cp.copy;
			continue;
		}
		if (cp.copy > 0) {
			done += (uint64_t)cp.copy;
			continue;
		}
		if (errno == EAGAIN || errno == EINTR)
			continue;
		if (errno == EEXIST) {
			/* a page already there: written over as is (a present page
			 * never reaches the userfaultfd), the others still copied */
			int err = remote_write(f->pid, c->addr + done, (char *)src + done, PAGE);

			if (err) {
				munmap(src, c->len);
				return err;
			}
			done += PAGE;
			continue;
		}
		err = -errno;
		pr_err("UFFDIO_COPY of %llu bytes at %#llx: %s\n", (unsigned long long)(c->len - done),
		       (unsigned long long)(c->addr + done), strerror(-err));
		munmap(src, c->len);
		return err;
	}
	munmap(src, c->len);
	return 0;
}

/*
 * The task's userfaultfd, with its private anonymous areas that hold pages
 * registered on it; chunks inside them marked. -1 (and nothing marked)
 * when any step is refused: the other ways do it all.
 */
static int uffd_open(struct rproc *p, struct seized_thread *st, struct fill *f)
{
	struct uffdio_api api = {.api = UFFD_API};
	long fd = -1;
	int pidfd, uffd = -1, ret;
	size_t k = 0, nr = 0;

	if (!kdat_has(KF_UFFD))
		return -1;
	ret = inject_syscall(st, __NR_userfaultfd, O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY, 0, 0, 0, 0, 0, &fd);
	if (ret || fd < 0) {
		pr_debug("process %d: no userfaultfd (%s)\n", p->vpid, strerror(ret ? -ret : (int)-fd));
		return -1;
	}
	pidfd = (int)syscall(SYS_pidfd_open, st->pid, 0);
	if (pidfd >= 0) {
		uffd = (int)syscall(SYS_pidfd_getfd, pidfd, (int)fd, 0);
		close(pidfd);
	}
	if (inject_call(st, "close(userfaultfd)", __NR_close, fd, 0, 0, 0, 0, 0, NULL)) {
		if (uffd >= 0)
			close(uffd);
		return -1;
	}
	if (uffd < 0 || ioctl(uffd, UFFDIO_API, &api)) {
		pr_debug("process %d: its userfaultfd can't be used from here: %m\n", p->vpid);
		if (uffd >= 0)
			close(uffd);
		return -1;
	}
	/* areas and chunks are both in address order */
	for (size_t i = 0; i < p->mm->n_vmas; i++) {
		const VmaEntry *v = p->mm->vmas[i];
		struct uffdio_register reg = {.range = {.start = v->start, .len = v->end - v->start},
					      .mode = UFFDIO_REGISTER_MODE_MISSING};
		size_t first;

		/* UFFDIO_COPY places small pages: a huge-page area is filled the other ways */
		if (!(v->status & VMA_ANON_PRIVATE) || (v->flags & MAP_SHARED) || vma_huge(v))
			continue;
		bool inside = true;
		size_t j;

		while (k < f->nr && f->chunks[k].addr + f->chunks[k].len <= v->start)
			k++;
		first = k;
		for (j = k; j < f->nr && f->chunks[j].addr < v->end; j++)
			inside &= f->chunks[j].addr >= v->start && f->chunks[j].addr + f->chunks[j].len <= v->end;
		/*
		 * No pages there; or a run crosses into a neighbour area (which
		 * only one way can fill, and a registered area only this one).
		 */
		if (j == first || !inside)
			continue;
		k = j;
		if (ioctl(uffd, UFFDIO_REGISTER, &reg)) {
			pr_debug("process %d: can't register %#llx-%#llx on its userfaultfd: %m\n", p->vpid,
				 (unsigned long long)v->start, (unsigned long long)v->end);
			continue;
		}
		for (size_t c = first; c < k; c++)
			f->chunks[c].uffd = true;
		nr++;
	}
	if (!nr) {
		close(uffd);
		return -1;
	}
	pr_debug("process %d: %zu areas filled through userfaultfd\n", p->vpid, nr);
	return uffd;
}

/* Unregisters whatever was registered (closing would, too) and closes. */
static void uffd_close(struct rproc *p, struct fill *f)
{
	if (f->uffd < 0)
		return;
	for (size_t i = 0; i < p->mm->n_vmas; i++) {
		const VmaEntry *v = p->mm->vmas[i];
		struct uffdio_range r = {.start = v->start, .len = v->end - v->start};

		if ((v->status & VMA_ANON_PRIVATE) && !(v->flags & MAP_SHARED))
			ioctl(f->uffd, UFFDIO_UNREGISTER, &r); /* EINVAL for one never registered */
	}
	close(f->uffd);
	f->uffd = -1;
}

static void *helper_main(void *arg)
{
	struct fill *f = arg;
	char *buf = malloc(CHUNK);
	struct chunk *c;

	if (!buf)
		return NULL; /* the task does it all */
	while ((c = take(f))) {
		if (c->uffd) {
			f->err = uffd_fill(f, c);
			if (f->err) {
				f->addr_failed = c->addr;
				atomic_store(&f->stop, 1);
				break;
			}
			f->helper_bytes += c->len;
			dedup_pages(f->t, f->img_fd, f->pages_id, c->off, c->len);
			continue;
		}
		f->err = pread_full(f->img_fd, buf, c->len, c->off);
		if (!f->err)
			f->err = remote_write(f->pid, c->addr, buf, c->len);
		if (f->err) {
			f->addr_failed = c->addr;
			atomic_store(&f->stop, 1);
			break;
		}
		f->helper_bytes += c->len;
		dedup_pages(f->t, f->img_fd, f->pages_id, c->off, c->len);
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
		ret = (int)inject_syscall(st, __NR_madvise, (long)addr, (long)left, MADV_POPULATE_WRITE, 0, 0, 0, &got);
		if (ret)
			return ret;
		if (got == -EINVAL) /* an area it can't populate (the kernel can): faults one by one */
			*populate = false;
		/* other failures (EFAULT past a file's end...) show in pread */
	}
	while (left) {
		ret = inject_call(st, "pread64 of pages", __NR_pread64, fd, (long)addr, (long)left, (long)off, 0, 0,
				  &got);
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
	struct fill f = {.pid = st->pid, .img_fd = -1, .uffd = -1, .t = t, .pages_id = p->pages_id};
	int fd = rtree_proc_fd(t, p, RFD_PAGES), ret = 0;
	bool populate = kdat_has(KF_MADV_POPULATE_WRITE), helper = false;
	pthread_t th;
	uint64_t total;
	struct chunk *c;

	make_chunks(p, &f, &total);
	if (total) {
		f.img_fd = open_pages_image(t, p->pages_id);
		/* without it, the task alone reads the pages; punching them needs it */
		if (f.img_fd < 0 && t->auto_dedup) {
			free(f.chunks);
			return f.img_fd;
		}
	}
	if (f.img_fd >= 0)
		f.uffd = uffd_open(p, st, &f);
	if (total >= HELPER_AFTER) {
		helper = f.img_fd >= 0 && !pthread_create(&th, NULL, helper_main, &f);
		if (!helper)
			pr_info("process %d: its pages are read by the task alone: %m\n", p->vpid);
	}
	while (!ret && (c = take(&f))) {
		if (!c->uffd) {
			ret = task_fill(p, st, fd, c, &populate);
		} else {
			ret = uffd_fill(&f, c);
			if (ret)
				pr_err("process %d: can't fill %#llx from offset %llu of pages-%u.img: %s\n", p->vpid,
				       (unsigned long long)c->addr, (unsigned long long)c->off, p->pages_id,
				       strerror(-ret));
		}
		if (!ret)
			dedup_pages(t, f.img_fd, p->pages_id, c->off, c->len);
	}
	if (ret)
		atomic_store(&f.stop, 1);
	if (helper)
		pthread_join(th, NULL);
	uffd_close(p, &f);
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

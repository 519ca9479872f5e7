/*
 * Copy-on-write sharing between restored parents and children: see
 * mem/cow-restore.h. The plan (decide) and the reservation are made by
 * criu before the tree is forked; premap_fill runs in each task before it
 * forks its children; the rest from criu, in restore_mm (mm-restore.c)
 * and fill_pages (page-restore.c).
 */
#define LOG_PREFIX "restore: "

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "image/vma-status.h"
#include "mem/cow-restore.h"
#include "proc/proc-maps.h"
#include "ptrace/inject.h"
#include "task/rtree.h"
#include "util/log.h"
#include "util/util.h"

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

#define PAGE	   4096ULL
#define MERGE_BUF  (1ULL << 20)	     /* bytes compared at a time */
#define LOWEST	   (1ULL << 32)	     /* the reservation goes above */
#define HIGHEST	   0x7ffffffff000ULL /* and below (47-bit user space) */
#define STACK_ROOM (1ULL << 30)	     /* kept free below criu's stack */
#define KEEP_ADV   ((1ULL << MADV_DONTFORK) | (1ULL << MADV_WIPEONFORK))

/* ------------------------------------------------------------------------
 * decide: which areas
 */

/* A private anonymous area that fork hands down as it is. */
static bool inheritable(const VmaEntry *v)
{
	return (v->status & VMA_AREA_REGULAR) && (v->status & VMA_ANON_PRIVATE) && !(v->flags & MAP_SHARED) &&
	       !(v->flags & MAP_GROWSDOWN) &&
	       !(v->status & (VMA_AREA_VDSO | VMA_AREA_VVAR | VMA_AREA_VSYSCALL | VMA_AREA_SYSVIPC)) &&
	       !(v->has_madv && (v->madv & KEEP_ADV));
}

/* A child's area that may have come from its parent's v by fork. */
static bool same_area(const VmaEntry *v, const VmaEntry *c)
{
	return c->start == v->start && c->end == v->end && (c->status & VMA_ANON_PRIVATE) && !(c->flags & MAP_SHARED) &&
	       (c->flags & (MAP_GROWSDOWN | MAP_NORESERVE)) == (v->flags & (MAP_GROWSDOWN | MAP_NORESERVE));
}

/* The index of p's area [start, end), or -1. */
static long find_area(const struct rproc *p, const VmaEntry *v)
{
	size_t lo = 0, hi = p->mm ? p->mm->n_vmas : 0;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (p->mm->vmas[mid]->start < v->start)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < (p->mm ? p->mm->n_vmas : 0) && same_area(v, p->mm->vmas[lo]))
		return (long)lo;
	return -1;
}

static bool own_mm(const struct rproc *a, const struct rproc *b)
{
	return !a->ids || !b->ids || a->ids->vm_id != b->ids->vm_id;
}

/* Does a child of p have area v of p (and a memory of its own)? */
static bool child_has(const struct rproc *p, const VmaEntry *v)
{
	for (size_t i = 0; i < p->nr_children; i++) {
		const struct rproc *c = p->children[i];

		if (!c->zombie && c->mm && own_mm(p, c) && find_area(c, v) >= 0)
			return true;
	}
	return false;
}

/* p's areas: offsets in the reservation (from PAGE on), *total grown. */
static void plan_proc(struct rproc *p, uint64_t *total)
{
	const struct rproc *par = p->parent;

	for (size_t j = 0; j < p->mm->n_vmas; j++) {
		const VmaEntry *v = p->mm->vmas[j];
		long k;

		if (!(v->status & VMA_AREA_REGULAR) || !(v->status & VMA_ANON_PRIVATE))
			continue;
		k = par && par->premap && own_mm(par, p) ? find_area(par, v) : -1;
		if (k >= 0 && par->premap[k].addr && inheritable(par->mm->vmas[k])) {
			if (!p->premap)
				p->premap = xzalloc(p->mm->n_vmas * sizeof(*p->premap));
			p->premap[j] = (struct rpremap){par->premap[k].addr, false};
			continue;
		}
		if (!inheritable(v) || !child_has(p, v))
			continue;
		if (!p->premap)
			p->premap = xzalloc(p->mm->n_vmas * sizeof(*p->premap));
		p->premap[j] = (struct rpremap){*total, true};
		pr_debug("process %d: area %#llx-%#llx premapped for its children\n", p->vpid,
			 (unsigned long long)v->start, (unsigned long long)v->end);
		*total += v->end - v->start + PAGE; /* a page apart: never merged */
	}
}

/* ------------------------------------------------------------------------
 * decide: where (a gap no dumped area and none of criu's own is in)
 */

struct range {
	uint64_t start, end;
};

static int by_start(const void *a, const void *b)
{
	const struct range *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

static void add_range(struct range **r, size_t *n, size_t *cap, uint64_t start, uint64_t end)
{
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 256;
		*r = xrealloc(*r, *cap * sizeof(**r));
	}
	(*r)[(*n)++] = (struct range){start, end};
}

/* Every area of the tree's images and of criu itself (its stack with room to grow). */
static struct range *taken_ranges(const struct rtree *t, size_t *n)
{
	struct range *r = NULL;
	size_t cap = 0;
	_cleanup_free_ char *buf = NULL;
	size_t len;
	struct proc_maps m;
	struct proc_err perr;

	*n = 0;
	for (size_t i = 0; i < t->nr; i++)
		for (size_t j = 0; t->procs[i].mm && j < t->procs[i].mm->n_vmas; j++)
			add_range(&r, n, &cap, t->procs[i].mm->vmas[j]->start, t->procs[i].mm->vmas[j]->end);
	memset(&m, 0, sizeof(m));
	if (!read_file_at(AT_FDCWD, "/proc/self/maps", &buf, &len) && !proc_maps_parse(buf, len, &m, &perr)) {
		for (size_t i = 0; i < m.nr; i++) {
			uint64_t s = m.entries[i].start;

			if (m.entries[i].kind == PROC_VMA_STACK)
				s = s > STACK_ROOM ? s - STACK_ROOM : 0;
			add_range(&r, n, &cap, s, m.entries[i].end);
		}
	}
	proc_maps_free(&m);
	qsort(r, *n, sizeof(*r), by_start);
	return r;
}

/* Maps the reservation of len bytes in a free gap, from the top down; 0 or -ENOMEM. */
static int reserve(const struct rtree *t, uint64_t len, uint64_t *start)
{
	size_t n, ng = 0;
	_cleanup_free_ struct range *r = taken_ranges(t, &n);
	_cleanup_free_ struct range *gaps = xmalloc((n + 1) * sizeof(*gaps));
	uint64_t end = LOWEST;

	for (size_t i = 0; i <= n; i++) {
		uint64_t s = i < n ? r[i].start : HIGHEST;

		if (s > HIGHEST)
			s = HIGHEST;
		if (s > end && s - end >= len)
			gaps[ng++] = (struct range){end, s};
		if (i < n && r[i].end > end)
			end = r[i].end;
	}
	while (ng--) {
		for (int tries = 0; tries < 4; tries++) {
			uint64_t at = gaps[ng].end - len * (uint64_t)(tries + 1);
			void *got;

			if (gaps[ng].end - gaps[ng].start < len * (uint64_t)(tries + 1))
				break;
			got = mmap((void *)(uintptr_t)at, len, PROT_NONE,
				   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
			if (got == (void *)(uintptr_t)at) {
				*start = at;
				return 0;
			}
			if (got != MAP_FAILED)
				munmap(got, len); /* an old kernel that took it as a hint */
		}
	}
	return -ENOMEM;
}

int rtree_plan_premap(struct rtree *t)
{
	uint64_t total = PAGE, start;

	/* pstree order: a parent is planned before its children */
	for (size_t i = 0; i < t->nr; i++)
		if (!t->procs[i].zombie && t->procs[i].mm)
			plan_proc(&t->procs[i], &total);
	if (total == PAGE)
		return 0;
	if (reserve(t, total, &start)) {
		pr_warn("no room for the %llu KiB of memory the tree's children share with their parents: each "
			"restored child gets a copy of its own\n",
			(unsigned long long)(total >> 10));
		for (size_t i = 0; i < t->nr; i++) {
			free(t->procs[i].premap);
			t->procs[i].premap = NULL;
		}
		return 0;
	}
	for (size_t i = 0; i < t->nr; i++)
		for (size_t j = 0; t->procs[i].premap && j < t->procs[i].mm->n_vmas; j++)
			if (t->procs[i].premap[j].addr)
				t->procs[i].premap[j].addr += start;
	t->premap_start = start;
	t->premap_len = total;
	pr_info("%llu KiB of memory shared by parents and children premapped at %#llx\n",
		(unsigned long long)(total >> 10), (unsigned long long)start);
	return 0;
}

/* ------------------------------------------------------------------------
 * act: the runs of pages of an area, with their place in pages-N.img
 */

struct run_part {
	uint64_t addr, len, off;
};

/*
 * Calls fn for each part of p's pagemap runs inside [start, end), in
 * order; *k, *koff: the run to start from and its offset (kept between
 * calls for areas in address order). Stops at fn's first non-zero.
 */
static int each_part(const struct rproc *p, uint64_t start, uint64_t end, size_t *k, uint64_t *koff,
		     int (*fn)(const struct run_part *part, void *arg), void *arg)
{
	for (; *k < p->nr_pagemap; (*koff) += p->pagemap[*k]->nr_pages * PAGE, (*k)++) {
		uint64_t rs = p->pagemap[*k]->vaddr, re = rs + p->pagemap[*k]->nr_pages * PAGE;
		uint64_t lo = rs > start ? rs : start, hi = re < end ? re : end;
		int ret;

		if (rs >= end)
			return 0;
		if (lo >= hi)
			continue;
		ret = fn(&(struct run_part){lo, hi - lo, *koff + (lo - rs)}, arg);
		if (ret)
			return ret;
		if (re > end)
			return 0; /* the rest of this run is in the next area */
	}
	return 0;
}

/*
 * One task's premapped areas, in the task (criu's code, before it forks):
 * its own ones filled; the inherited ones made what its image says, the
 * pages that differ written (copied on write, in this task only), those it
 * doesn't have dropped. Its children then inherit what it has, as the
 * dumped ones did.
 */
struct fill_arg {
	const struct rtree *t;
	const struct rproc *p;
	int fd;
	bool own;
	uint64_t delta;	 /* premapped address - dumped address */
	uint64_t cursor; /* an inherited area is done up to there (dumped address) */
	char *buf;
	uint64_t kept, written;
};

static int read_pages(struct fill_arg *a, void *to, uint64_t len, uint64_t off, uint64_t addr)
{
	int ret = pread_full(a->fd, to, len, off);

	if (ret)
		pr_err("process %d: can't read its pages at %#llx from pages-%u.img: %s\n", a->p->vpid,
		       (unsigned long long)addr, a->p->pages_id, strerror(-ret));
	return ret;
}

/* An inherited area's pages the task doesn't have, up to `to`: dropped (zeros). */
static int drop_gap(struct fill_arg *a, uint64_t to)
{
	if (to > a->cursor && madvise((void *)(uintptr_t)(a->cursor + a->delta), to - a->cursor, MADV_DONTNEED)) {
		pr_perror("process %d: can't drop pages at %#llx", a->p->vpid, (unsigned long long)a->cursor);
		return -errno;
	}
	return 0;
}

static int merge_part(struct fill_arg *a, const struct run_part *part)
{
	int ret = drop_gap(a, part->addr);

	for (uint64_t done = 0; !ret && done < part->len;) {
		uint64_t n = part->len - done < MERGE_BUF ? part->len - done : MERGE_BUF;
		char *at = (char *)(uintptr_t)(part->addr + a->delta + done);

		ret = read_pages(a, a->buf, n, part->off + done, part->addr + done);
		for (uint64_t pg = 0; !ret && pg < n; pg += PAGE) {
			/* a write, even of the same bytes, would copy the page */
			if (!memcmp(at + pg, a->buf + pg, PAGE)) {
				a->kept += PAGE;
				continue;
			}
			memcpy(at + pg, a->buf + pg, PAGE);
			a->written += PAGE;
		}
		done += n;
	}
	a->cursor = part->addr + part->len;
	return ret;
}

static int fill_part(const struct run_part *part, void *arg)
{
	struct fill_arg *a = arg;
	int ret;

	if (!a->own)
		ret = merge_part(a, part);
	else
		ret = read_pages(a, (void *)(uintptr_t)(part->addr + a->delta), part->len, part->off, part->addr);
	if (!ret)
		dedup_pages(a->t, a->fd, a->p->pages_id, part->off, part->len);
	return ret;
}

static int map_own(const struct rproc *p, const VmaEntry *v, uint64_t addr)
{
	uint64_t len = v->end - v->start;
	void *at = (void *)(uintptr_t)addr;

	if (mmap(at, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | (v->flags & MAP_NORESERVE),
		 -1, 0) != at) {
		pr_perror("process %d: can't premap its area %#llx", p->vpid, (unsigned long long)v->start);
		return -errno;
	}
	if (vma_huge(v))
		madvise(at, len, MADV_HUGEPAGE);
	return 0;
}

int premap_fill(const struct rtree *t, struct rproc *p)
{
	struct fill_arg a = {.t = t, .p = p, .fd = -1};
	size_t k = 0;
	uint64_t koff = 0;
	int ret = 0;

	for (size_t j = 0; p->premap && !ret && j < p->mm->n_vmas; j++) {
		const VmaEntry *v = p->mm->vmas[j];

		if (!p->premap[j].addr)
			continue;
		a.own = p->premap[j].own;
		a.delta = p->premap[j].addr - v->start;
		a.cursor = v->start;
		if (a.own)
			ret = map_own(p, v, p->premap[j].addr);
		if (!ret && a.fd < 0 && p->nr_pagemap) {
			a.fd = open_pages_image(t, p->pages_id);
			a.buf = xmalloc(MERGE_BUF);
			if (a.fd < 0)
				ret = a.fd;
		}
		if (!ret && a.fd >= 0)
			ret = each_part(p, v->start, v->end, &k, &koff, fill_part, &a);
		if (!ret && !a.own)
			ret = drop_gap(&a, v->end);
	}
	if (!ret && (a.kept || a.written))
		pr_debug("process %d: %llu KiB shared with its parent, %llu KiB its own\n", p->vpid,
			 (unsigned long long)(a.kept >> 10), (unsigned long long)(a.written >> 10));
	if (a.fd >= 0)
		close(a.fd);
	free(a.buf);
	return ret;
}

/* ------------------------------------------------------------------------
 * act, from criu
 */

bool premap_reserved(const struct rtree *t, uint64_t start, uint64_t end)
{
	return t->premap_len && start >= t->premap_start && end <= t->premap_start + t->premap_len;
}

int premap_move(struct rproc *p, struct seized_thread *st, size_t i, bool *moved)
{
	const VmaEntry *v = p->mm->vmas[i];
	uint64_t len = v->end - v->start;
	long got;
	int ret;

	*moved = p->premap && p->premap[i].addr;
	if (!*moved)
		return 0;
	ret = inject_call(st, "mremap of a premapped area", __NR_mremap, (long)p->premap[i].addr, (long)len, (long)len,
			  MREMAP_MAYMOVE | MREMAP_FIXED, (long)v->start, 0, &got);
	if (!ret && (uint64_t)got != v->start)
		ret = -EFAULT;
	if (!ret && (v->prot | PROT_WRITE) != (PROT_READ | PROT_WRITE))
		ret = inject_call(st, "mprotect", __NR_mprotect, (long)v->start, (long)len,
				  (long)(v->prot | PROT_WRITE), 0, 0, 0, NULL);
	if (ret)
		pr_err("process %d: can't move its premapped area %#llx into place: %s\n", p->vpid,
		       (unsigned long long)v->start, inject_strerror(ret));
	return ret;
}

int premap_unreserve(const struct rtree *t, struct seized_thread *st)
{
	if (!t->premap_len)
		return 0;
	return inject_call(st, "munmap of the premap reservation", __NR_munmap, (long)t->premap_start,
			   (long)t->premap_len, 0, 0, 0, 0, NULL);
}

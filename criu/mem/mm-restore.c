/*
 * Restore, act step from criu: a seized task's address space becomes the
 * dumped one, by syscalls injected into its main thread (ptrace/inject.c). The
 * only code the task runs meanwhile is a `syscall` instruction of its vDSO,
 * which is why the vDSO (and its data pages, [vvar], [vvar_vclock]) is
 * moved first, to where the dumped task had it, and never unmapped:
 *
 *   1. unregister glibc's rseq area of the criu process the task was forked
 *      from (the kernel would keep writing to it);
 *   2. mremap [vvar]..[vdso] to the dumped addresses (the dumped and the
 *      current kernel must lay them out alike: same sizes, same order);
 *   3. munmap everything else (but the premap reservation);
 *   4. mmap every dumped area at its address, private ones writable (those
 *      shared with a parent or children are mremapped from where the task
 *      premapped or inherited them: mem/cow-restore.h), and unmap the rest
 *      of the premap reservation;
 *   5. fill them with the dumped pages (mem/page-restore.c: the task preads
 *      pages-N.img into place, a criu thread writes alongside);
 *   6. mprotect the areas that were not writable, apply madvise bits, mlock;
 *   7. prctl(PR_SET_MM_MAP): code, data, brk, stack, args, env, auxv, exe;
 *   8. a task that had unmapped its vDSO: the new one unmapped.
 */
#define LOG_PREFIX "restore: "

#include <errno.h>
#include <fcntl.h>
#include <linux/prctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <time.h>

#include "mem/cow-restore.h"
#include "mem/pagemap-image.h"
#include "ptrace/inject.h"
#include "util/log.h"
#include "proc/proc-maps.h"
#include "task/rtree.h"
#include "util/util.h"
#include "image/vma-status.h"

#define PAGE		4096ULL
#define RSEQ_UNREGISTER 1
#define NR_SPECIAL	4

/* ------------------------------------------------------------------------
 * vDSO and its data pages
 */

struct span {
	uint64_t start, end;
	bool vdso; /* else its data pages (vvar) */
};

static bool special_kind(enum proc_vma_kind k)
{
	return k == PROC_VMA_VDSO || k == PROC_VMA_VVAR || k == PROC_VMA_VVAR_VCLOCK;
}

static int read_maps(pid_t pid, struct proc_maps *m)
{
	_cleanup_free_ char *buf = NULL;
	struct proc_err perr;
	char path[64];
	size_t len;
	int ret;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	ret = read_file_at(AT_FDCWD, path, &buf, &len);
	if (ret < 0)
		return ret;
	memset(m, 0, sizeof(*m));
	ret = proc_maps_parse(buf, len, m, &perr);
	if (ret)
		pr_err("%s: %s\n", path, proc_err_msg(&perr).s);
	return ret;
}

static int current_specials(pid_t pid, struct span *cur, size_t *nr)
{
	struct proc_maps m;
	int ret = read_maps(pid, &m);

	*nr = 0;
	for (size_t i = 0; !ret && i < m.nr; i++) {
		if (!special_kind(m.entries[i].kind))
			continue;
		if (*nr == NR_SPECIAL) {
			ret = -EINVAL;
			break;
		}
		cur[(*nr)++] = (struct span){m.entries[i].start, m.entries[i].end, m.entries[i].kind == PROC_VMA_VDSO};
	}
	proc_maps_free(&m);
	return ret;
}

static size_t dumped_specials(const struct rproc *p, struct span *d)
{
	size_t n = 0;

	for (size_t i = 0; i < p->mm->n_vmas && n < NR_SPECIAL; i++)
		if (p->mm->vmas[i]->status & (VMA_AREA_VDSO | VMA_AREA_VVAR))
			d[n++] = (struct span){p->mm->vmas[i]->start, p->mm->vmas[i]->end,
					       (p->mm->vmas[i]->status & VMA_AREA_VDSO) != 0};
	return n;
}

/*
 * Adjacent spans of one kind as one: 6.x kernels show the vvar pages as
 * [vvar] and [vvar_vclock], which upstream (and criu since) saves as one
 * area, and older dumps of ours as two.
 */
static size_t merge_spans(const struct span *in, size_t n, struct span *out)
{
	size_t m = 0;

	for (size_t i = 0; i < n; i++) {
		if (m && out[m - 1].end == in[i].start && out[m - 1].vdso == in[i].vdso)
			out[m - 1].end = in[i].end;
		else
			out[m++] = in[i];
	}
	return m;
}

static int move_spans(struct seized_thread *st, struct span *from, size_t n, int64_t delta)
{
	for (size_t i = 0; i < n; i++) {
		/* moving up: the highest first, so none lands on one not yet moved */
		size_t k = delta > 0 ? n - 1 - i : i;
		uint64_t len = from[k].end - from[k].start;
		int ret = inject_call(st, "mremap of the vDSO", __NR_mremap, (long)from[k].start, (long)len, (long)len,
				      MREMAP_MAYMOVE | MREMAP_FIXED, (long)(from[k].start + (uint64_t)delta), 0, NULL);

		if (ret)
			return ret;
		from[k].start += (uint64_t)delta;
		from[k].end += (uint64_t)delta;
	}
	st->syscall_ip = 0; /* ptrace/inject.c finds the moved instruction again */
	return 0;
}

static int move_vdso(struct seized_thread *st, struct rproc *p)
{
	struct span cur[NR_SPECIAL], want[NR_SPECIAL], cm[NR_SPECIAL], wm[NR_SPECIAL];
	size_t nc, ncm, nwm, nw = dumped_specials(p, want);
	int64_t delta;
	int ret = current_specials(st->pid, cur, &nc);

	if (ret)
		return ret;
	if (!nw)
		return 0; /* the task had unmapped its vDSO: ours goes at the end (drop_vdso) */
	if (!nc) {
		pr_err("process %d: the new task has no vDSO to move where the dumped one was\n", p->vpid);
		return -EOPNOTSUPP;
	}
	delta = (int64_t)(want[0].start - cur[0].start);
	/* compared kind by kind, whole; moved area by area */
	ncm = merge_spans(cur, nc, cm);
	nwm = merge_spans(want, nw, wm);
	for (size_t i = 0; i < nwm; i++) {
		if (ncm != nwm || wm[i].vdso != cm[i].vdso || wm[i].end - wm[i].start != cm[i].end - cm[i].start ||
		    (int64_t)(wm[i].start - cm[i].start) != delta) {
			pr_err("process %d: the vDSO of this kernel is laid out unlike the dumped one; images from "
			       "another kernel version can't be restored here yet\n",
			       p->vpid);
			return -EOPNOTSUPP;
		}
	}
	if (!delta)
		return 0;
	if (want[0].start < cur[nc - 1].end && cur[0].start < want[nw - 1].end) {
		/* overlapping: through a free area the kernel picks for us */
		uint64_t span = cur[nc - 1].end - cur[0].start, tmp;

		ret = inject_mmap(st, 0, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0, &tmp);
		if (ret)
			pr_err("process %d: no room to move the vDSO through: %s\n", p->vpid, inject_strerror(ret));
		if (!ret)
			ret = move_spans(st, cur, nc, (int64_t)(tmp - cur[0].start));
		if (ret)
			return ret;
		delta = (int64_t)(want[0].start - cur[0].start);
	}
	return move_spans(st, cur, nc, delta);
}

/*
 * A task that had unmapped its vDSO (and its data pages) gets none: the
 * new task's are unmapped last, once its own code is in place, where later
 * injections find a `syscall` instruction (ptrace/inject.c looks again).
 * Its auxv keeps AT_SYSINFO_EHDR as it was, as the dumped one did.
 */
static int drop_vdso(struct seized_thread *st, struct rproc *p)
{
	struct span d[NR_SPECIAL], cur[NR_SPECIAL];
	size_t nc;
	int ret;

	if (dumped_specials(p, d))
		return 0;
	ret = current_specials(st->pid, cur, &nc);
	for (size_t i = 0; !ret && i < nc; i++)
		ret = inject_call(st, "munmap of the vDSO", __NR_munmap, (long)cur[i].start,
				  (long)(cur[i].end - cur[i].start), 0, 0, 0, 0, NULL);
	st->syscall_ip = 0;
	return ret;
}

/* ------------------------------------------------------------------------
 * The areas
 */

static int unmap_all(const struct rtree *t, struct seized_thread *st)
{
	struct proc_maps m;
	int ret = read_maps(st->pid, &m);

	for (size_t i = 0; !ret && i < m.nr; i++) {
		const struct proc_maps_entry *e = &m.entries[i];

		if (special_kind(e->kind) || e->kind == PROC_VMA_VSYSCALL || premap_reserved(t, e->start, e->end))
			continue;
		ret = inject_call(st, "munmap", __NR_munmap, (long)e->start, (long)(e->end - e->start), 0, 0, 0, 0,
				  NULL);
	}
	proc_maps_free(&m);
	return ret;
}

static bool vma_restored(const VmaEntry *v)
{
	return (v->status & VMA_AREA_REGULAR) && !(v->status & (VMA_AREA_VDSO | VMA_AREA_VVAR | VMA_AREA_VSYSCALL));
}

static bool vma_private(const VmaEntry *v)
{
	return !(v->flags & MAP_SHARED);
}

/*
 * An attached System V segment (made by restore_child in the new IPC
 * namespace): attached again whole at its address, as writable and
 * executable as any of its areas; finish_areas() then gives each area its
 * own protection.
 */
static int attach_sysv(struct rproc *p, struct seized_thread *st, size_t first)
{
	const VmaEntry *v = p->mm->vmas[first];
	uint32_t prot = 0;
	long flags = SHM_REMAP, got;
	int ret;

	for (size_t j = first; j < p->mm->n_vmas && (p->mm->vmas[j]->status & VMA_AREA_SYSVIPC) &&
			       p->mm->vmas[j]->shmid == v->shmid && (j == first || p->mm->vmas[j]->pgoff);
	     j++)
		prot |= p->mm->vmas[j]->prot;
	if (!(prot & PROT_WRITE))
		flags |= SHM_RDONLY;
	if (prot & PROT_EXEC)
		flags |= SHM_EXEC;
	ret = inject_call(st, "shmat", __NR_shmat, (long)v->shmid, (long)v->start, flags, 0, 0, 0, &got);
	if (!ret && (uint64_t)got != v->start) {
		pr_err("process %d: System V shared memory segment %llu attached at %#lx, not %#llx\n", p->vpid,
		       (unsigned long long)v->shmid, got, (unsigned long long)v->start);
		ret = -EFAULT;
	}
	return ret;
}

static int map_areas(struct rtree *t, struct rproc *p, struct seized_thread *st)
{
	const uint32_t keep = MAP_SHARED | MAP_PRIVATE | MAP_ANONYMOUS | MAP_GROWSDOWN | MAP_NORESERVE;

	for (size_t i = 0; i < p->mm->n_vmas; i++) {
		const VmaEntry *v = p->mm->vmas[i];
		int prot = (int)v->prot, flags = (int)(v->flags & keep) | MAP_FIXED, fd = -1;
		uint64_t got;
		bool moved;
		int ret;

		if (!vma_restored(v))
			continue;
		if (v->status & VMA_AREA_SYSVIPC) {
			/* the later areas of an attachment come with its first */
			ret = v->pgoff ? 0 : attach_sysv(p, st, i);
			if (ret)
				return ret;
			continue;
		}
		if (v->status & (VMA_AREA_SOCKET | VMA_AREA_AIORING | VMA_UNSUPP)) {
			pr_err("process %d: area %#llx of a kind that can't be restored (status %#x)\n", p->vpid,
			       (unsigned long long)v->start, v->status);
			return -EOPNOTSUPP;
		}
		if (vma_private(v))
			prot |= PROT_WRITE;
		ret = premap_move(p, st, i, &moved);
		if (ret)
			return ret;
		if (moved)
			goto advise;
		if (v->status & (VMA_FILE_PRIVATE | VMA_FILE_SHARED | VMA_ANON_SHARED)) {
			fd = rtree_proc_fd(t, p, RFD_MAP) + (int)i; /* shared anonymous: its shmem object */
			flags &= ~MAP_ANONYMOUS;
		} else {
			flags |= MAP_ANONYMOUS;
		}
		ret = inject_mmap(st, v->start, v->end - v->start, prot, flags, fd, fd >= 0 ? (off_t)v->pgoff : 0,
				  &got);
		if (!ret && got != v->start)
			ret = -EFAULT;
		if (ret) {
			pr_err("process %d: can't map area [%#llx, %#llx): %s\n", p->vpid, (unsigned long long)v->start,
			       (unsigned long long)v->end, inject_strerror(ret));
			return ret;
		}
	advise:
		/*
		 * An area the program asked huge pages for gets them before its
		 * pages are filled (mem/page-restore.c fills it by populate + read,
		 * which takes them; a page at a time would not), as it had them.
		 */
		if (vma_huge(v)) {
			ret = inject_call(st, "madvise(MADV_HUGEPAGE)", __NR_madvise, (long)v->start,
					  (long)(v->end - v->start), MADV_HUGEPAGE, 0, 0, 0, NULL);
			if (ret)
				return ret;
		}
	}
	return 0;
}

/*
 * Every run must lie inside a private area we mapped, or the vDSO (whose
 * dumped pages stay in the image: page-restore.c): both lists are sorted.
 */
static int check_runs(const struct rproc *p)
{
	size_t k = 0;

	for (size_t i = 0; i < p->nr_pagemap; i++) {
		const PagemapEntry *pe = p->pagemap[i];
		uint64_t end = pe->vaddr + pe->nr_pages * PAGE;

		while (k < p->mm->n_vmas && p->mm->vmas[k]->end <= pe->vaddr)
			k++;
		/* a run may span adjacent areas */
		for (size_t j = k; j < p->mm->n_vmas; j++) {
			const VmaEntry *v = p->mm->vmas[j];
			uint64_t lo = j == k ? pe->vaddr : p->mm->vmas[j - 1]->end;

			if (v->start > lo || !((vma_restored(v) && vma_private(v)) || pagemap_vma_is_vdso(v))) {
				pr_err("pagemap-%d.img: pages at %#llx are outside the private areas of mm-%d.img\n",
				       p->vpid, (unsigned long long)lo, p->vpid);
				return -EINVAL;
			}
			if (v->end >= end)
				break;
			if (j + 1 == p->mm->n_vmas) {
				pr_err("pagemap-%d.img: run at %#llx goes past the last area\n", p->vpid,
				       (unsigned long long)pe->vaddr);
				return -EINVAL;
			}
		}
	}
	return 0;
}

/* madvise(2) bits that say how an area is to be treated, not what to drop. */
static const int kept_advice[] = {MADV_DONTFORK,   MADV_DONTDUMP,  MADV_HUGEPAGE,   MADV_NOHUGEPAGE,
				  MADV_WIPEONFORK, MADV_MERGEABLE, MADV_SEQUENTIAL, MADV_RANDOM};

/*
 * A locked area locked again, once filled (its pages are all there and
 * stay). Done before the task gets its own credentials and limits: with
 * criu's CAP_IPC_LOCK the task's RLIMIT_MEMLOCK doesn't apply, as it did
 * not when a privileged task locked it before it changed its uid.
 */
static int lock_area(struct rproc *p, struct seized_thread *st, const VmaEntry *v)
{
	long got;
	int ret = inject_syscall(st, __NR_mlock, (long)v->start, (long)(v->end - v->start), 0, 0, 0, 0, &got);

	if (!ret && got < 0)
		ret = (int)got;
	if (ret) {
		pr_err("process %d: can't lock its area %#llx-%#llx again: %s\n", p->vpid, (unsigned long long)v->start,
		       (unsigned long long)v->end, inject_strerror(ret));
		if (ret == -ENOMEM || ret == -EPERM || ret == -EAGAIN)
			pr_hint("criu needs CAP_IPC_LOCK, or a RLIMIT_MEMLOCK as large as the locked memory\n");
	}
	return ret;
}

static int finish_areas(struct rproc *p, struct seized_thread *st)
{
	for (size_t i = 0; i < p->mm->n_vmas; i++) {
		const VmaEntry *v = p->mm->vmas[i];
		long len = (long)(v->end - v->start);
		int ret = 0;

		if (!vma_restored(v))
			continue;
		if ((vma_private(v) && !(v->prot & PROT_WRITE)) || (v->status & VMA_AREA_SYSVIPC))
			ret = inject_call(st, "mprotect", __NR_mprotect, (long)v->start, len, (long)v->prot, 0, 0, 0,
					  NULL);
		for (size_t k = 0; !ret && v->has_madv && k < ARRAY_SIZE(kept_advice); k++)
			/* a huge-page area was advised as mapped (map_areas) */
			if ((v->madv & (1ULL << kept_advice[k])) && !(kept_advice[k] == MADV_HUGEPAGE && vma_huge(v)))
				ret = inject_call(st, "madvise", __NR_madvise, (long)v->start, len, kept_advice[k], 0,
						  0, 0, NULL);
		if (!ret && (v->flags & MAP_LOCKED))
			ret = lock_area(p, st, v);
		if (ret)
			return ret;
	}
	return 0;
}

/* ------------------------------------------------------------------------
 * PR_SET_MM_MAP
 */

static int set_mm_map(struct rtree *t, struct rproc *p, struct seized_thread *st, uint64_t scratch)
{
	const MmEntry *mm = p->mm;
	struct prctl_mm_map map = {
		.start_code = mm->mm_start_code,
		.end_code = mm->mm_end_code,
		.start_data = mm->mm_start_data,
		.end_data = mm->mm_end_data,
		.start_stack = mm->mm_start_stack,
		.start_brk = mm->mm_start_brk,
		.brk = mm->mm_brk,
		.arg_start = mm->mm_arg_start,
		.arg_end = mm->mm_arg_end,
		.env_start = mm->mm_env_start,
		.env_end = mm->mm_env_end,
		.exe_fd = mm->exe_file_id ? (uint32_t)rtree_proc_fd(t, p, RFD_EXE) : (uint32_t)-1,
	};
	size_t nauxv = mm->n_mm_saved_auxv;
	int ret;

	if (nauxv * 8 > RSCRATCH_SIZE / 2)
		nauxv = RSCRATCH_SIZE / 16;
	map.auxv = (__u64 *)(uintptr_t)(scratch + RSCRATCH_SIZE / 2);
	map.auxv_size = (uint32_t)(nauxv * 8);
	ret = remote_write(st->pid, scratch, &map, sizeof(map));
	if (!ret && nauxv)
		ret = remote_write(st->pid, scratch + RSCRATCH_SIZE / 2, mm->mm_saved_auxv, nauxv * 8);
	if (!ret)
		ret = inject_call(st, "prctl(PR_SET_MM_MAP)", __NR_prctl, PR_SET_MM, PR_SET_MM_MAP, (long)scratch,
				  sizeof(map), 0, 0, NULL);
	if (!ret && mm->has_thp_disabled && mm->thp_disabled)
		ret = inject_call(st, "prctl(PR_SET_THP_DISABLE)", __NR_prctl, PR_SET_THP_DISABLE, 1, 0, 0, 0, 0, NULL);
	return ret;
}

/* The page later injections take their arguments from (core-restore.c). */
static int map_scratch(struct rproc *p, struct seized_thread *st)
{
	int ret = inject_mmap(st, 0, RSCRATCH_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0,
			      &p->scratch);

	if (ret)
		pr_err("process %d: can't map a scratch area in it: %s\n", p->vpid, inject_strerror(ret));
	return ret;
}

static int unregister_rseq(struct seized_thread *st)
{
	struct rseq_config c;
	int ret = get_rseq_config(st, &c);

	if (ret || !c.rseq_abi_pointer)
		return ret;
	return inject_call(st, "rseq unregister", __NR_rseq, (long)c.rseq_abi_pointer, c.rseq_abi_size, RSEQ_UNREGISTER,
			   c.signature, 0, 0, NULL);
}

int restore_mm(struct rtree *t, struct rproc *p)
{
	struct seized_thread *st = p->threads[0].st;
	uint64_t t0 = 0, bytes = 0;
	int ret;

	ret = check_runs(p);
	if (!ret)
		ret = unregister_rseq(st);
	if (!ret)
		ret = move_vdso(st, p);
	if (!ret)
		ret = unmap_all(t, st);
	if (!ret)
		ret = map_areas(t, p, st);
	if (!ret)
		ret = premap_unreserve(t, st);
	if (!ret) {
		t0 = monotonic_ns();
		ret = fill_pages(t, p, st, &bytes);
		t->pages_bytes += bytes;
		t->pages_ns += monotonic_ns() - t0;
	}
	if (!ret)
		ret = finish_areas(p, st);
	if (!ret)
		ret = map_scratch(p, st);
	if (!ret)
		ret = set_mm_map(t, p, st, p->scratch);
	if (!ret)
		ret = drop_vdso(st, p);
	if (ret)
		pr_err("process %d: its memory could not be restored\n", p->vpid);
	return ret;
}

/*
 * The memory of a seized process (see task-dump.h): mm-<pid>.img with one
 * vma_entry per area, pagemap-<pid>.img and pages-<id>.img with the pages
 * that exist only in the process (anonymous private memory, and the pages
 * of private file mappings that were written to: COW copies).
 *
 * Three steps:
 * - parse: /proc/PID/smaps into vma_entry fields, td_vma_classify(), pure,
 *   and the files behind the areas (vma-dump.c);
 * - decide: which pages to save, from the PAGEMAP_SCAN ioctl (kernel >= 6.7)
 *   or from /proc/PID/pagemap entries; both skip pages that are not there,
 *   page-cache pages, and the shared zero page;
 * - act: copy those pages in large batches, streamed to the pages image so
 *   memory use does not grow with the task (mem/page-copy.c: the task vmsplices
 *   them into a pipe we splice from; process_vm_readv through a buffer when
 *   it can't).
 */
#define LOG_PREFIX "task-dump: "

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/kcmp.h>
#include <linux/types.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <unistd.h>

#include "util/log.h"
#include "mm.pb-c.h"
#include "mem/pagemap-image.h"
#include "mem/page-copy.h"
#include "mem/pagemap.h"
#include "mem/vma-dump.h"
#include "pagemap.pb-c.h"
#include "proc/proc-maps.h"
#include "task/task-dump.h"
#include "util/kerndat.h"
#include "util/util.h"
#include "image/vma-status.h"

#define PAGE_SZ 4096ULL

#define SCAN_REGIONS 512U  /* page_region per PAGEMAP_SCAN call */
#define PME_BATCH    4096U /* pagemap entries per pread */

/* ------------------------------------------------------------------------
 * mm-<pid>.img
 */

/*
 * Upstream's restore refuses an auxv of more than AT_VECTOR_SIZE words, 44
 * on x86_64 (cr-restore.c:prepare_mm), and its dump reads no more than that
 * (cr-dump.c:get_task_auxv). Kernels since 6.x keep 22 entries and the
 * AT_NULL pair, 46 words: the pair goes, as upstream's dump drops it, and
 * PR_SET_MM_MAP puts it back at restore (the kernel zero-fills the vector).
 */
#define UPSTREAM_AUXV_WORDS 44

/* How many words of the auxv to keep: up to its AT_NULL pair, at most 44. */
static size_t auxv_words(pid_t pid, const uint64_t *auxv, size_t words)
{
	size_t n = 0;

	while (n + 1 < words && auxv[n] != 0 /* AT_NULL */)
		n += 2;
	if (n < UPSTREAM_AUXV_WORDS)
		return n + 2 <= words ? n + 2 : words; /* with its AT_NULL pair */
	if (n > UPSTREAM_AUXV_WORDS)
		pr_warn("process %d: its auxv has %zu entries; the last %zu are not saved (CRIU 4.x keeps 22)\n", pid,
			n / 2, (n - UPSTREAM_AUXV_WORDS) / 2);
	return UPSTREAM_AUXV_WORDS;
}

static int write_mm(struct td_ctx *c, struct td_proc *p, VmaEntry **vmas, size_t nr)
{
	MmEntry mm = MM_ENTRY__INIT;
	_cleanup_free_ char *auxv = NULL;
	struct img_writer *w;
	size_t len;
	char path[64];
	int64_t exe;
	int ret;

	snprintf(path, sizeof(path), "/proc/%d/auxv", p->pid);
	ret = read_file_at(AT_FDCWD, path, &auxv, &len);
	if (ret < 0) {
		pr_err("can't read %s: %s\n", path, strerror(-ret));
		return ret;
	}
	exe = td_dump_path_file(c, p, "exe", O_RDONLY);
	if (exe < 0)
		return (int)exe;
	mm.mm_start_code = p->stat.start_code;
	mm.mm_end_code = p->stat.end_code;
	mm.mm_start_data = p->stat.start_data;
	mm.mm_end_data = p->stat.end_data;
	mm.mm_start_stack = p->stat.start_stack;
	mm.mm_start_brk = p->stat.start_brk;
	mm.mm_brk = p->misc.brk ? p->misc.brk : p->stat.start_brk;
	mm.mm_arg_start = p->stat.arg_start;
	mm.mm_arg_end = p->stat.arg_end;
	mm.mm_env_start = p->stat.env_start;
	mm.mm_env_end = p->stat.env_end;
	mm.exe_file_id = (uint32_t)exe;
	mm.n_mm_saved_auxv = auxv_words(p->pid, (const uint64_t *)auxv, len / sizeof(uint64_t));
	mm.mm_saved_auxv = (uint64_t *)auxv;
	mm.n_vmas = nr;
	mm.vmas = vmas;
	mm.has_dumpable = true;
	mm.dumpable = p->misc.dumpable;
	mm.has_thp_disabled = true;
	mm.thp_disabled = p->misc.thp_disabled != 0;
	w = img_set_new(&c->d->imgs, IMG_MM, (unsigned)p->vpid);
	return w ? img_write_entry(w, &mm.base) : -EIO;
}

/* ------------------------------------------------------------------------
 * Runs of pages: merged, then a pagemap_entry and their contents
 */

struct runs {
	struct img_writer *pagemap;
	struct page_copier cp;
	uint64_t start, nr_pages; /* the run being extended */
};

static int run_flush(struct runs *r)
{
	PagemapEntry pe = PAGEMAP_ENTRY__INIT;
	int ret;

	if (!r->nr_pages)
		return 0;
	pe.vaddr = r->start;
	pagemap_entry_set_pages(&pe, r->nr_pages);
	pe.has_flags = true;
	pe.flags = PE_PRESENT;
	ret = img_write_entry(r->pagemap, &pe.base);
	if (!ret)
		ret = page_copy_add(&r->cp, r->start, r->nr_pages * PAGE_SZ);
	r->nr_pages = 0;
	return ret;
}

static int run_add(struct runs *r, uint64_t addr, uint64_t nr_pages)
{
	int ret;

	while (nr_pages) {
		uint64_t n;

		if (!r->nr_pages || r->start + r->nr_pages * PAGE_SZ != addr || r->nr_pages == UINT32_MAX) {
			ret = run_flush(r);
			if (ret)
				return ret;
			r->start = addr;
		}
		n = UINT32_MAX - r->nr_pages < nr_pages ? UINT32_MAX - r->nr_pages : nr_pages;
		r->nr_pages += n;
		addr += n * PAGE_SZ;
		nr_pages -= n;
	}
	return 0;
}

/* ------------------------------------------------------------------------
 * Decide: the pages of an area that must be saved
 */

/* What pages to take, in PAGEMAP_SCAN terms: present or swapped, neither a
 * page-cache page nor the zero page nor a guard marker. */
#define SCAN_SKIP (PAGE_IS_FILE | PAGE_IS_PFNZERO | PAGE_IS_GUARD)

/* What to skip on this kernel: 6.7 to 6.14 know no PAGE_IS_GUARD (nor guard regions). */
static __u64 scan_skip(void)
{
	return kdat_has(KF_PAGEMAP_SCAN_GUARD) ? SCAN_SKIP : SCAN_SKIP & ~(__u64)PAGE_IS_GUARD;
}

/* 0, or -EOPNOTSUPP if the kernel has no PAGEMAP_SCAN. */
static int scan_ioctl(int pm_fd, const VmaEntry *v, struct runs *r)
{
	struct page_region regs[SCAN_REGIONS];
	struct pm_scan_arg a = {
		.size = sizeof(a),
		.start = v->start,
		.end = v->end,
		.vec = (uintptr_t)regs,
		.vec_len = SCAN_REGIONS,
		.category_inverted = scan_skip(),
		.category_mask = scan_skip(),
		.category_anyof_mask = PAGE_IS_PRESENT | PAGE_IS_SWAPPED,
		.return_mask = PAGE_IS_PRESENT | PAGE_IS_SWAPPED,
	};
	int ret;

	while (a.start < a.end) {
		long n = ioctl(pm_fd, PAGEMAP_SCAN, &a);

		if (n < 0 && errno == EINVAL && (a.category_mask & PAGE_IS_GUARD)) {
			kdat_set(KF_PAGEMAP_SCAN_GUARD, false);
			a.category_inverted = a.category_mask = scan_skip();
			continue;
		}
		if (n < 0 && (errno == ENOTTY || errno == EINVAL)) {
			kdat_set(KF_PAGEMAP_SCAN, false);
			return -EOPNOTSUPP;
		}
		if (n < 0)
			return -errno;
		for (long i = 0; i < n; i++) {
			ret = run_add(r, regs[i].start, (regs[i].end - regs[i].start) / PAGE_SZ);
			if (ret)
				return ret;
		}
		if (a.walk_end <= a.start)
			break;
		a.start = a.walk_end;
	}
	return 0;
}

/* The zero pages' PFNs: the small one and the THP one (see kerndat.h). */
struct zero_pfns {
	uint64_t small, huge; /* huge: first of 512, 0 if unknown */
};

static bool pme_wanted(uint64_t e, const struct zero_pfns *z)
{
	uint64_t pfn = e & PME_PFN_MASK;

	if (!(e & (PME_PRESENT | PME_SWAP)) || (e & (PME_FILE | PME_GUARD)))
		return false;
	if (!(e & PME_PRESENT))
		return true;
	return !((z->small && pfn == z->small) || (z->huge && pfn >= z->huge && pfn < z->huge + 512));
}

static int scan_read(int pm_fd, const struct zero_pfns *z, const VmaEntry *v, struct runs *r)
{
	uint64_t buf[PME_BATCH];
	int ret;

	for (uint64_t addr = v->start; addr < v->end;) {
		size_t n = (v->end - addr) / PAGE_SZ < PME_BATCH ? (v->end - addr) / PAGE_SZ : PME_BATCH;
		ssize_t got = pread(pm_fd, buf, n * sizeof(*buf), (off_t)(addr / PAGE_SZ * sizeof(*buf)));

		if (got != (ssize_t)(n * sizeof(*buf))) {
			pr_perror("can't read pagemap at %" PRIx64, addr);
			return got < 0 ? -errno : -EIO;
		}
		for (size_t i = 0; i < n; i++) {
			if (!pme_wanted(buf[i], z))
				continue;
			ret = run_add(r, addr + i * PAGE_SZ, 1);
			if (ret)
				return ret;
		}
		addr += n * PAGE_SZ;
	}
	return 0;
}

/*
 * Areas whose pages live only in the process. Shared file mappings are in
 * their file; shared anonymous memory is in shmem, dumped once per object
 * (mem/shmem-dump.c).
 */
static bool vma_has_own_pages(const VmaEntry *v)
{
	if (!(v->status & VMA_AREA_REGULAR) || (v->status & (VMA_AREA_VDSO | VMA_AREA_VVAR | VMA_AREA_VSYSCALL)))
		return false;
	return (v->status & (VMA_ANON_PRIVATE | VMA_FILE_PRIVATE)) != 0;
}

/*
 * The vDSO's pages are saved whole, as upstream saves them
 * (mem.c:should_dump_entire_vma): its restorer reads the dumped vDSO's ELF
 * at its old address to compare it with the running kernel's and, when
 * they differ, to patch jumps into the new one. criu's restore moves the
 * running kernel's vDSO there instead, and skips these pages.
 */
static bool vma_saved_whole(const VmaEntry *v)
{
	return (v->status & VMA_AREA_REGULAR) && (v->status & VMA_AREA_VDSO);
}

/* ------------------------------------------------------------------------
 * pagemap-<pid>.img and pages-<id>.img
 */

static int scan_vmas(struct td_ctx *c, struct td_proc *p, int pm_fd, VmaEntry *vmas, size_t nr, struct runs *r)
{
	bool use_ioctl = !c->opts.no_pagemap_scan;
	struct zero_pfns z = {0};
	int ret = 0;

	if (use_ioctl && !kdat_has(KF_PAGEMAP_SCAN)) {
		pr_info("no PAGEMAP_SCAN here, reading /proc/%d/pagemap\n", p->pid);
		use_ioctl = false;
	}

	for (size_t i = 0; !ret && i < nr; i++) {
		if (vma_saved_whole(&vmas[i])) {
			ret = run_add(r, vmas[i].start, (vmas[i].end - vmas[i].start) / PAGE_SZ);
			continue;
		}
		if (!vma_has_own_pages(&vmas[i]))
			continue;
		if (use_ioctl) {
			ret = scan_ioctl(pm_fd, &vmas[i], r);
			if (ret != -EOPNOTSUPP)
				continue;
			/* It fails on its first call, having found nothing. */
			pr_info("no PAGEMAP_SCAN here, reading /proc/%d/pagemap\n", p->pid);
			use_ioctl = false;
		}
		if (!z.small) {
			z.small = kdat_zero_pfn();
			z.huge = kdat_huge_zero_pfn();
		}
		ret = scan_read(pm_fd, &z, &vmas[i], r);
	}
	if (ret < 0)
		pr_err("process %d: can't find its pages: %s\n", p->pid, strerror(-ret));
	return ret;
}

/*
 * May the dump give this process's memory back as it goes? Not if another
 * process shares it (CLONE_VM without CLONE_THREAD, a vfork child that has
 * not exec'd): its pages would go for both, and from a process outside
 * the tree for good.
 */
static bool may_release(const struct td_ctx *c, const struct td_proc *p)
{
	if (!c->opts.release)
		return false;
	for (size_t i = 0; i < c->nr_procs; i++)
		if (&c->procs[i] != p && !c->procs[i].zombie && c->procs[i].vm_id == p->vm_id)
			return false;
	if (!p->vppid && p->status.ppid > 0 && syscall(SYS_kcmp, p->pid, p->status.ppid, KCMP_VM, 0, 0) == 0)
		return false; /* the root with its parent outside the tree */
	return true;
}

/*
 * The areas whose pages are never given back (page-release.h): read-only
 * ones and those a userfaultfd watches (VmFlags um, uw, ui). NULL if none.
 */
static struct page_kept_area *kept_areas(const VmaEntry *vmas, char *const *vmflags, size_t nr, size_t *n)
{
	struct page_kept_area *a = NULL;

	*n = 0;
	for (size_t i = 0; i < nr; i++) {
		const char *f = vmflags ? vmflags[i] : NULL;

		if (!vma_has_own_pages(&vmas[i]) && !vma_saved_whole(&vmas[i]))
			continue;
		if ((vmas[i].prot & PROT_WRITE) &&
		    !(f && (td_has_vmflag(f, "um") || td_has_vmflag(f, "uw") || td_has_vmflag(f, "ui"))))
			continue;
		a = xrealloc(a, (*n + 1) * sizeof(*a));
		a[(*n)++] = (struct page_kept_area){vmas[i].start, vmas[i].end};
	}
	return a;
}

#define PME_EXCLUSIVE (1ULL << 56) /* mapped by this process only */

/*
 * Does the process have a page of its own areas that another process maps
 * too (inherited by fork, written by neither since)? Then it is read
 * without pinning (page_copy_opts.shared_pages). The first such page
 * answers; the zero page, mapped everywhere, is none.
 */
static bool shares_pages(int pm_fd, const VmaEntry *vmas, size_t nr)
{
	uint64_t buf[PME_BATCH], zero = kdat_zero_pfn(), huge = kdat_huge_zero_pfn();

	for (size_t i = 0; i < nr; i++) {
		if (!vma_has_own_pages(&vmas[i]))
			continue;
		for (uint64_t addr = vmas[i].start; addr < vmas[i].end;) {
			size_t n =
				(vmas[i].end - addr) / PAGE_SZ < PME_BATCH ? (vmas[i].end - addr) / PAGE_SZ : PME_BATCH;

			if (pread(pm_fd, buf, n * sizeof(*buf), (off_t)(addr / PAGE_SZ * sizeof(*buf))) !=
			    (ssize_t)(n * sizeof(*buf)))
				return true; /* can't tell: the way that is right either way */
			for (size_t k = 0; k < n; k++) {
				uint64_t e = buf[k], pfn = e & PME_PFN_MASK;

				if (!(e & PME_PRESENT) || (e & (PME_FILE | PME_EXCLUSIVE)))
					continue;
				if ((zero && pfn == zero) || (huge && pfn >= huge && pfn < huge + 512))
					continue;
				return true;
			}
			addr += n * PAGE_SZ;
		}
	}
	return false;
}

static int open_pages_images(struct td_ctx *c, struct td_proc *p, struct runs *r, const struct page_kept_area *keep,
			     size_t nr_keep, bool shared)
{
	PagemapHead head = PAGEMAP_HEAD__INIT;
	uint32_t pages_id = ++c->next_pages_id;
	struct img_writer *pages;
	struct page_copy_opts o = {
		.threads = c->opts.no_threads ? 1 : (int)sysconf(_SC_NPROCESSORS_ONLN),
		.no_vmsplice = c->opts.no_vmsplice,
		.release = may_release(c, p) ? c->opts.release : NULL,
		.seized = p->threads,
		.nr_seized = p->nr_threads,
		.keep = keep,
		.nr_keep = nr_keep,
		.shared_pages = shared,
	};

	r->pagemap = img_set_new(&c->d->imgs, IMG_PAGEMAP, (unsigned)p->vpid);
	if (!r->pagemap)
		return -EIO;
	head.pages_id = pages_id;
	if (img_write_entry(r->pagemap, &head.base))
		return -EIO;
	pages = img_set_new(&c->d->imgs, IMG_PAGES, pages_id);
	if (!pages)
		return -EIO;
	return page_copy_open(&r->cp, p->pid, p->nr_threads ? p->threads[0] : NULL, pages, &o);
}

static int dump_pages(struct td_ctx *c, struct td_proc *p, VmaEntry *vmas, char *const *vmflags, size_t nr)
{
	size_t nr_keep;
	_cleanup_free_ struct page_kept_area *keep = kept_areas(vmas, vmflags, nr, &nr_keep);
	struct runs r = {0};
	_cleanup_close_ int pm_fd = -1;
	uint64_t t0 = monotonic_ns();
	char path[64];
	int ret, ret2;

	snprintf(path, sizeof(path), "/proc/%d/pagemap", p->pid);
	pm_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (pm_fd < 0) {
		pr_perror("can't open %s", path);
		return -errno;
	}
	/* (a process alone in its tree is not asked: a pagemap pass costs ~15 ms a GiB) */
	ret = open_pages_images(c, p, &r, keep, nr_keep, c->nr_procs > 1 && shares_pages(pm_fd, vmas, nr));
	if (ret)
		return ret;
	ret = scan_vmas(c, p, pm_fd, vmas, nr, &r);
	if (!ret)
		ret = run_flush(&r);
	if (!ret)
		ret = page_copy_flush(&r.cp);
	if (!ret && c->stats) {
		c->stats->pages_bytes += r.cp.w->off;
		c->stats->pages_ns += monotonic_ns() - t0;
	}
	ret2 = page_copy_close(&r.cp);
	return ret ? ret : ret2;
}

/*
 * The vDSO's data pages as one area, as upstream writes them
 * (proc_parse.c merges [vvar] and [vvar_vclock]): its restorer compares
 * the dumped vvar's size with the running kernel's and, on a mismatch,
 * leaves the dumped vDSO behind as a proxy jumping into a new one, which
 * every later dump then has to see through. vmflags stays in step with
 * vmas. Returns the new number of areas.
 */
static size_t merge_vvar(VmaEntry *vmas, char **vmflags, size_t nr)
{
	size_t n = 0;

	for (size_t i = 0; i < nr; i++) {
		if (n && (vmas[i].status & VMA_AREA_VVAR) && (vmas[n - 1].status & VMA_AREA_VVAR) &&
		    vmas[n - 1].end == vmas[i].start) {
			vmas[n - 1].end = vmas[i].end;
			continue;
		}
		vmas[n] = vmas[i];
		if (vmflags)
			vmflags[n] = vmflags[i];
		n++;
	}
	return n;
}

int td_dump_mm(struct td_ctx *c, struct td_proc *p)
{
	struct td_smaps s = {0};
	VmaEntry *vmas = NULL, **ptrs = NULL;
	size_t nr = 0;
	int ret;

	ret = td_check_lock_future(p);
	if (!ret)
		ret = td_read_smaps(p->pid, &s);
	if (!ret) {
		vmas = xzalloc((s.maps.nr + 1) * sizeof(*vmas));
		ptrs = xzalloc((s.maps.nr + 1) * sizeof(*ptrs));
		for (size_t i = 0; i < s.maps.nr; i++)
			ptrs[i] = &vmas[i];
		ret = td_collect_vmas(c, p, &s, vmas);
	}
	if (!ret)
		nr = merge_vvar(vmas, s.vmflags, s.maps.nr);
	if (!ret)
		ret = write_mm(c, p, ptrs, nr);
	if (!ret)
		ret = dump_pages(c, p, vmas, s.vmflags, nr);
	if (!ret)
		ret = td_dump_shmem(c, p, vmas, nr);
	free(ptrs);
	free(vmas);
	td_smaps_free(&s);
	return ret;
}

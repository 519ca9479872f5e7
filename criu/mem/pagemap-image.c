/*
 * pagemap_entry in both spellings (see mem/pagemap-image.h): parse-and-check
 * for the readers of pagemap-<pid>.img and pagemap-shmem-<id>.img, and the
 * one place writers set a run's length.
 */
#define LOG_PREFIX "pagemap: "

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>

#include "image/vma-status.h"
#include "mem/pagemap-image.h"
#include "util/log.h"

#define PAGE_SIZE_BYTES 4096ULL

void pagemap_entry_set_pages(PagemapEntry *pe, uint64_t nr_pages)
{
	pe->has_nr_pages = true;
	pe->nr_pages = nr_pages;
	pe->compat_nr_pages = nr_pages <= UINT32_MAX ? (uint32_t)nr_pages : 0;
}

/* The run's length, or -EINVAL when the two spellings disagree. */
static int64_t entry_pages(const PagemapEntry *pe)
{
	if (!pe->has_nr_pages)
		return pe->compat_nr_pages;
	/* upstream 4.x leaves field 2 at 0; criu writes the same length in both */
	if (pe->compat_nr_pages && pe->compat_nr_pages != pe->nr_pages)
		return -EINVAL;
	return pe->nr_pages > INT64_MAX / PAGE_SIZE_BYTES ? -EINVAL : (int64_t)pe->nr_pages;
}

int pagemap_entry_check(const char *img, PagemapEntry *pe, uint64_t prev_end)
{
	int64_t n = entry_pages(pe);
	uint32_t flags = pe->has_flags ? pe->flags : PE_PRESENT;

	if (n < 0) {
		pr_err("%s: run at %#" PRIx64 " says %" PRIu64 " pages in field 5 and %u in field 2\n", img, pe->vaddr,
		       pe->nr_pages, pe->compat_nr_pages);
		return -EINVAL;
	}
	if ((pe->vaddr & (PAGE_SIZE_BYTES - 1)) || !n || pe->vaddr + (uint64_t)n * PAGE_SIZE_BYTES < pe->vaddr ||
	    pe->vaddr < prev_end) {
		pr_err("%s: bad run at %#" PRIx64 " of %" PRId64 " pages (misaligned, empty, or not after the one "
		       "before)\n",
		       img, pe->vaddr, n);
		return -EINVAL;
	}
	if ((pe->has_in_parent && pe->in_parent) || (flags & PE_PARENT)) {
		pr_err("%s: pages at %#" PRIx64 " are in a parent (pre-dump) image; not supported\n", img, pe->vaddr);
		return -EOPNOTSUPP;
	}
	/* PE_LAZY with PE_PRESENT: the pages are here too (upstream marks private anonymous memory so) */
	if (!(flags & PE_PRESENT)) {
		pr_err("%s: pages at %#" PRIx64 " are not in the image (flags %#x: lazy pages, served by a page "
		       "server); not supported\n",
		       img, pe->vaddr, flags);
		return -EOPNOTSUPP;
	}
	pe->has_nr_pages = true;
	pe->nr_pages = (uint64_t)n;
	return 0;
}

bool pagemap_vma_is_vdso(const VmaEntry *v)
{
	return (v->status & VMA_AREA_REGULAR) && (v->status & VMA_AREA_VDSO);
}

uint64_t pagemap_vdso_split(VmaEntry *const *vmas, size_t nr, uint64_t addr, uint64_t len, bool *vdso)
{
	size_t lo = 0, hi = nr;
	uint64_t end = addr + len;

	/* the first area that ends after addr */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (vmas[mid]->end <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	*vdso = lo < nr && vmas[lo]->start <= addr && pagemap_vma_is_vdso(vmas[lo]);
	if (*vdso) {
		/* through adjacent vDSO areas */
		while (lo + 1 < nr && vmas[lo]->end < end && vmas[lo + 1]->start == vmas[lo]->end &&
		       pagemap_vma_is_vdso(vmas[lo + 1]))
			lo++;
		return vmas[lo]->end < end ? vmas[lo]->end - addr : len;
	}
	/* up to the next vDSO area */
	for (; lo < nr && vmas[lo]->start < end; lo++)
		if (pagemap_vma_is_vdso(vmas[lo]))
			return vmas[lo]->start > addr ? vmas[lo]->start - addr : len;
	return len;
}

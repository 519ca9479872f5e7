/*
 * pagemap_entry as images carry it: the run length in either spelling
 * (field 5, uint64, since CRIU 4.0; field 2, uint32, before), read into one
 * and written in both, and the checks every reader of a pagemap image makes.
 */
#ifndef CRIU_MEM_PAGEMAP_IMAGE_H
#define CRIU_MEM_PAGEMAP_IMAGE_H

#include <stdint.h>

#include <stdbool.h>
#include <stddef.h>

#include "pagemap.pb-c.h"
#include "vma.pb-c.h"

/* Sets both spellings of the run length (field 2 only when it fits). */
void pagemap_entry_set_pages(PagemapEntry *pe, uint64_t nr_pages);

/*
 * Checks one entry of image `img` that follows a run ending at prev_end
 * and leaves its length in pe->nr_pages (has_nr_pages set), whichever
 * spelling the image used. 0; -EINVAL (printed, naming img) for an empty,
 * misaligned, overflowing, overlapping or self-contradicting run;
 * -EOPNOTSUPP for pages kept in a parent (pre-dump) image or lazy pages
 * the image doesn't hold.
 */
int pagemap_entry_check(const char *img, PagemapEntry *pe, uint64_t prev_end);

/*
 * decide, pure: how much of [addr, addr + len), from addr on, lies all in
 * vDSO areas of vmas[0..nr) (sorted), or all outside them; *vdso says
 * which. Both dumps save the vDSO's pages, as upstream's restorer reads
 * the dumped vDSO; criu's restore maps the running kernel's there instead
 * and leaves those pages in the image.
 */
/* An area whose dumped pages are the vDSO's (restore keeps the kernel's). */
bool pagemap_vma_is_vdso(const VmaEntry *v);
uint64_t pagemap_vdso_split(VmaEntry *const *vmas, size_t nr, uint64_t addr, uint64_t len, bool *vdso);

#endif

/*
 * The kernel's page table views: /proc/PID/pagemap entries and the
 * PAGEMAP_SCAN ioctl (Documentation/admin-guide/mm/pagemap.rst), for the
 * dump's page finder (mm-dump.c) and the feature probes (kerndat.c).
 */
#ifndef CRIU_MEM_PAGEMAP_H
#define CRIU_MEM_PAGEMAP_H

#include <linux/types.h>
#include <sys/ioctl.h>

/* /proc/PID/pagemap entries. */
#define PME_PRESENT  (1ULL << 63)
#define PME_SWAP     (1ULL << 62)
#define PME_FILE     (1ULL << 61) /* page-cache page or shared anonymous */
#define PME_GUARD    (1ULL << 58) /* MADV_GUARD_INSTALL region (6.15) */
#define PME_PFN_MASK ((1ULL << 55) - 1)

/* The PAGEMAP_SCAN ABI (linux/fs.h of 6.7+, which is not included: it clashes
 * with sys/mount.h on some libcs, and our headers may be older). */
#ifndef PAGEMAP_SCAN
struct page_region {
	__u64 start;
	__u64 end;
	__u64 categories;
};

struct pm_scan_arg {
	__u64 size;
	__u64 flags;
	__u64 start;
	__u64 end;
	__u64 walk_end;
	__u64 vec;
	__u64 vec_len;
	__u64 max_pages;
	__u64 category_inverted;
	__u64 category_mask;
	__u64 category_anyof_mask;
	__u64 return_mask;
};
#define PAGEMAP_SCAN	_IOWR('f', 16, struct pm_scan_arg)
#define PAGE_IS_FILE	(1 << 2)
#define PAGE_IS_PRESENT (1 << 3)
#define PAGE_IS_SWAPPED (1 << 4)
#define PAGE_IS_PFNZERO (1 << 5)
#endif
#ifndef PAGE_IS_GUARD
#define PAGE_IS_GUARD (1 << 8) /* 6.15 */
#endif

#endif

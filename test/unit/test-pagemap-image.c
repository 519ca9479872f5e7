/*
 * pagemap_entry in both spellings (mem/pagemap-image.c): the run length in
 * field 2 (CRIU 3.x, crit 3.17), in field 5 with field 2 left 0 (upstream
 * 4.x, as in test/fixtures/upstream-4.2), and in both (what criu writes).
 * Each case packs the entry as that writer would, unpacks it with our
 * schema and checks what the readers are given; then the refusals.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include "image/vma-status.h"
#include "mem/pagemap-image.h"
#include "unit.h"

/* Packs e and reads it back with our schema, as a reader gets it. */
static PagemapEntry *roundtrip(const PagemapEntry *e)
{
	uint8_t buf[64];
	size_t len = pagemap_entry__pack(e, buf);

	return pagemap_entry__unpack(NULL, len, buf);
}

static int check_len(const PagemapEntry *e, uint64_t want)
{
	PagemapEntry *r = roundtrip(e);
	int ret;

	CHECK(r);
	ret = pagemap_entry_check("pagemap-1.img", r, 0);
	if (ret || !r->has_nr_pages || r->nr_pages != want) {
		snprintf(unit_fail_msg, sizeof(unit_fail_msg), "check %d, nr_pages %llu (want %llu)", ret,
			 (unsigned long long)r->nr_pages, (unsigned long long)want);
		pagemap_entry__free_unpacked(r, NULL);
		return 1;
	}
	pagemap_entry__free_unpacked(r, NULL);
	return 0;
}

static int test_old_spelling(void)
{
	PagemapEntry e = PAGEMAP_ENTRY__INIT;

	e.vaddr = 0x400000;
	e.compat_nr_pages = 7; /* 3.x: nr_pages was field 2 */
	return check_len(&e, 7);
}

static int test_upstream4_spelling(void)
{
	PagemapEntry e = PAGEMAP_ENTRY__INIT;

	e.vaddr = 0x400000;
	e.compat_nr_pages = 0; /* required, so present, and 0 */
	e.has_nr_pages = true;
	e.nr_pages = 5;
	e.has_flags = true;
	e.flags = PE_LAZY | PE_PRESENT; /* as upstream marks private anonymous memory */
	return check_len(&e, 5);
}

static int test_criu_writes_both(void)
{
	PagemapEntry e = PAGEMAP_ENTRY__INIT, *r;

	e.vaddr = 0x400000;
	pagemap_entry_set_pages(&e, 3);
	CHECK(e.compat_nr_pages == 3 && e.has_nr_pages && e.nr_pages == 3);
	r = roundtrip(&e);
	CHECK(r && r->compat_nr_pages == 3 && r->has_nr_pages && r->nr_pages == 3);
	pagemap_entry__free_unpacked(r, NULL);
	/* a run too long for field 2 leaves it 0, as upstream does */
	pagemap_entry_set_pages(&e, 1ULL << 33);
	CHECK(e.compat_nr_pages == 0 && e.nr_pages == 1ULL << 33);
	return check_len(&e, 1ULL << 33);
}

static int refused(PagemapEntry *e, uint64_t prev_end, int want)
{
	PagemapEntry *r = roundtrip(e);
	int ret;

	CHECK(r);
	ret = pagemap_entry_check("pagemap-1.img", r, prev_end);
	pagemap_entry__free_unpacked(r, NULL);
	if (ret != want) {
		snprintf(unit_fail_msg, sizeof(unit_fail_msg), "check gave %d, want %d", ret, want);
		return 1;
	}
	return 0;
}

static int test_refusals(void)
{
	PagemapEntry e = PAGEMAP_ENTRY__INIT;

	e.vaddr = 0x400000;
	e.compat_nr_pages = 0;
	CHECK(!refused(&e, 0, -EINVAL)); /* empty in both spellings */
	e.compat_nr_pages = 2;
	e.has_nr_pages = true;
	e.nr_pages = 3;
	CHECK(!refused(&e, 0, -EINVAL)); /* the spellings disagree */
	e.nr_pages = 2;
	CHECK(!refused(&e, 0, 0));
	CHECK(!refused(&e, 0x401000, -EINVAL)); /* overlaps the run before */
	e.vaddr = 0x400010;
	CHECK(!refused(&e, 0, -EINVAL)); /* misaligned */
	e.vaddr = UINT64_MAX & ~4095ULL;
	CHECK(!refused(&e, 0, -EINVAL)); /* wraps around */
	e.vaddr = 0x400000;
	e.has_nr_pages = false;
	e.has_in_parent = e.in_parent = true;
	CHECK(!refused(&e, 0, -EOPNOTSUPP)); /* pre-dump parent, 3.x way */
	e.has_in_parent = e.in_parent = false;
	e.has_flags = true;
	e.flags = PE_PARENT;
	CHECK(!refused(&e, 0, -EOPNOTSUPP)); /* pre-dump parent, 4.x way */
	e.flags = PE_LAZY;
	CHECK(!refused(&e, 0, -EOPNOTSUPP)); /* lazy pages not in the image */
	return 0;
}

/*
 * Which parts of a run restore skips: those over the vDSO, whose pages
 * both dumps save (upstream 4.x: mem.c:should_dump_entire_vma; the
 * fixtures have a 2-page run on it) and criu's restore doesn't read.
 */
static int test_vdso_split(void)
{
	VmaEntry a[5];
	VmaEntry *v[5];
	const struct {
		uint64_t start, end, status;
	} areas[] = {
		{0x1000, 0x3000, VMA_AREA_REGULAR | VMA_ANON_PRIVATE},
		{0x3000, 0x5000, VMA_AREA_REGULAR | VMA_ANON_PRIVATE | VMA_AREA_VVAR},
		{0x5000, 0x7000, VMA_AREA_REGULAR | VMA_ANON_PRIVATE | VMA_AREA_VDSO},
		{0x7000, 0x9000, VMA_AREA_REGULAR | VMA_ANON_PRIVATE},
		{0xa000, 0xb000, VMA_AREA_VDSO}, /* not regular: never a vDSO to skip */
	};
	bool vdso;

	for (size_t i = 0; i < 5; i++) {
		vma_entry__init(&a[i]);
		a[i].start = areas[i].start;
		a[i].end = areas[i].end;
		a[i].status = (uint32_t)areas[i].status;
		v[i] = &a[i];
	}
	/* outside: up to the vDSO */
	CHECK(pagemap_vdso_split(v, 5, 0x1000, 0x2000, &vdso) == 0x2000 && !vdso);
	CHECK(pagemap_vdso_split(v, 5, 0x2000, 0x8000, &vdso) == 0x3000 && !vdso);
	/* the vDSO (upstream's run on it), and a run going on past it */
	CHECK(pagemap_vdso_split(v, 5, 0x5000, 0x2000, &vdso) == 0x2000 && vdso);
	CHECK(pagemap_vdso_split(v, 5, 0x6000, 0x3000, &vdso) == 0x1000 && vdso);
	/* after it, in a gap, beyond every area */
	CHECK(pagemap_vdso_split(v, 5, 0x7000, 0x4000, &vdso) == 0x4000 && !vdso);
	CHECK(pagemap_vdso_split(v, 5, 0x9000, 0x1000, &vdso) == 0x1000 && !vdso);
	CHECK(pagemap_vdso_split(v, 5, 0xc000, 0x1000, &vdso) == 0x1000 && !vdso);
	CHECK(pagemap_vdso_split(v, 0, 0x5000, 0x1000, &vdso) == 0x1000 && !vdso);
	return 0;
}

static const struct unit_case cases[] = {
	{"pagemap_entry_3x_field2", test_old_spelling},
	{"pagemap_entry_4x_field5", test_upstream4_spelling},
	{"pagemap_entry_criu_writes_both", test_criu_writes_both},
	{"pagemap_entry_refusals", test_refusals},
	{"pagemap_vdso_split", test_vdso_split},
	{NULL, NULL},
};

UNIT_MAIN(cases)

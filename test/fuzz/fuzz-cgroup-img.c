/*
 * libFuzzer target for what restore does with a cgroup.img before any
 * cgroup is touched: decode it, check it (cg_image_check), and, when it
 * passes, re-root it under a new cgroup root as --cgroup-root does
 * (cg_reroot_image, with a default root and one per controller) and look
 * its sets up. No crash, no leak, and nothing it accepts may hold a path
 * that leaves the cgroups it names. Seeds: test/fuzz/corpus/cgroup-img/
 * (an upstream 4.2.1 image among them); test-cgroup replays them.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup/cgroup.h"
#include "image/image.h"
#include "util/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every member path the image holds after re-rooting is still clean. */
static void check_clean(const CgroupEntry *e)
{
	if (cg_image_check(e))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool quiet;
	static const char *const ctrls[] = {"cpu,cpuacct", NULL}, *const roots[] = {"/elsewhere", "/restored/ct"};
	const struct cg_root_map map = {.ctrls = ctrls, .roots = roots, .n = 2};
	struct img_reader r;
	ProtobufCMessage *m = NULL;

	if (!quiet) {
		log_init(-1, NULL);
		quiet = true;
	}
	if (img_reader_open_mem(&r, data, size, "cgroup.img", IMG_CGROUP) < 0)
		return 0;
	if (img_read_entry(&r, &m) > 0 && m) {
		CgroupEntry *e = (CgroupEntry *)m;

		if (!cg_image_check(e)) {
			for (size_t i = 0; i < e->n_sets; i++)
				(void)cg_image_set(e, e->sets[i]->id);
			if (e->n_sets && !cg_reroot_image(e, e->sets[0]->id, &map))
				check_clean(e);
		}
		protobuf_c_message_free_unpacked(m, NULL);
	}
	img_reader_close(&r);
	return 0;
}

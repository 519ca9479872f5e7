/*
 * libFuzzer target for the restore planner on a set of mount images (one
 * per mount namespace): what restore does with mountpoints-<id>.img files
 * before anything is mounted. The input is records "u8 namespace id, u32
 * little-endian length, that many bytes of a mountpoints image file". No
 * crash, no leak, and a plan it accepts must be whole: every mount ordered
 * once, after its parent and its source, each namespace with its root.
 * Seeds: test/fuzz/corpus/mntns-plan/ (a container and its unshare -m copy,
 * dumped by test-nested-mntns's scenario).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "image/image.h"
#include "mount/mount-restore.h"
#include "options.h"
#include "util/hashmap.h"
#include "util/log.h"
#include "util/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_ENTRIES 4096

/* The entries of one image file in memory, appended; false: not an image. */
static bool read_image(const uint8_t *d, size_t len, unsigned id, MntEntry **e, unsigned *ns, size_t *n)
{
	struct img_reader r;
	ProtobufCMessage *m = NULL;
	int ret;

	if (img_reader_open_mem(&r, d, len, "mountpoints.img", IMG_MNTS) < 0)
		return false;
	while (*n < MAX_ENTRIES && (ret = img_read_entry(&r, &m)) > 0) {
		e[*n] = (MntEntry *)m;
		ns[(*n)++] = id;
	}
	img_reader_close(&r);
	return true;
}

/* A plan accepted is whole: all mounts ordered once, each after its parent and source. */
static void check_plan(const struct mount_plan *p)
{
	struct hmap seen;

	hmap_init(&seen);
	for (size_t i = 0; i < p->nr; i++) {
		const struct rmount *m = p->order[i];

		if ((m->parent && !hmap_get_int(&seen, (uint64_t)(uintptr_t)m->parent)) ||
		    (m->source && !hmap_get_int(&seen, (uint64_t)(uintptr_t)m->source)) ||
		    hmap_put_int(&seen, (uint64_t)(uintptr_t)m, (void *)1))
			abort();
	}
	for (size_t k = 0; k < p->nr_ns; k++)
		if (!p->ns[k].root || p->ns[k].root->parent)
			abort();
	hmap_free(&seen);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct options o;
	static bool ready;
	MntEntry **entries = xmalloc(MAX_ENTRIES * sizeof(*entries));
	unsigned *ns = xmalloc(MAX_ENTRIES * sizeof(*ns));
	size_t n = 0, off = 0;
	struct mount_plan p;

	if (!ready) {
		char *argv[] = {"criu",	       "restore",    "--external",  "mnt[]", "--external",
				"mnt[e1]:/h1", "--external", "mnt[e2]:/h2", NULL};

		log_init(-1, NULL);
		if (parse_options(8, argv, &o))
			abort();
		ready = true;
	}
	while (off + 5 <= size && n < MAX_ENTRIES) {
		uint32_t len;

		memcpy(&len, data + off + 1, 4);
		if (len > size - off - 5)
			break;
		if (!read_image(data + off + 5, len, data[off], entries, ns, &n))
			break;
		off += 5 + (size_t)len;
	}
	if (mount_plan_from_entries(&p, entries, ns, n) == 0 && mount_plan_decide(&p, &o, false) == 0) {
		char *s = mount_plan_format(&p);

		check_plan(&p);
		free(s);
	}
	mount_plan_free(&p);
	free(ns);
	return 0;
}

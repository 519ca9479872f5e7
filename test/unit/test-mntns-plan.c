/*
 * The restore planner on hand-made images of several mount namespaces: how
 * each mount of a nested namespace is made (a bind of a mount of another
 * namespace, a new filesystem, a host path), the order across namespaces
 * (each namespace begun with its root, every mount after its parent and its
 * source wherever they are), peer groups and masters across namespaces, and
 * the rejection of inconsistent sets of images. Entries:
 *   "NS ID PARENT MOUNTPOINT ROOT DEV FSTYPE [ext=NAME] [shared=N] [master=N] [internal]"
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image/image.h"
#include "mount/fstype.h"
#include "util/log.h"
#include "mount/mount-restore.h"
#include "options.h"
#include "unit.h"
#include "unit-mntplan.h"
#include "util/util.h"

static MntEntry *entry(const char *spec, unsigned *ns)
{
	MntEntry *e = xzalloc(sizeof(*e));
	char mp[256], root[256], fstype[32], extra[4][64] = {"", "", "", ""};
	unsigned id, parent, dev;
	int n;

	mnt_entry__init(e);
	n = sscanf(spec, "%u %u %u %255s %255s %u %31s %63s %63s %63s %63s", ns, &id, &parent, mp, root, &dev, fstype,
		   extra[0], extra[1], extra[2], extra[3]);
	if (n < 7)
		abort();
	e->mnt_id = id;
	e->parent_mnt_id = parent;
	e->mountpoint = xstrdup(mp);
	e->root = xstrdup(root);
	e->root_dev = dev;
	e->fsname = xstrdup(fstype);
	e->fstype = fs_ops_lookup(fstype)->code;
	e->source = xstrdup("none");
	e->options = xstrdup("");
	for (int i = 0; i < 4; i++) {
		if (!strncmp(extra[i], "ext=", 4))
			e->ext_key = xstrdup(extra[i] + 4);
		else if (!strncmp(extra[i], "shared=", 7))
			e->has_shared_id = true, e->shared_id = (uint32_t)atoi(extra[i] + 7);
		else if (!strncmp(extra[i], "master=", 7))
			e->has_master_id = true, e->master_id = (uint32_t)atoi(extra[i] + 7);
		else if (!strcmp(extra[i], "internal"))
			e->has_internal_sharing = e->internal_sharing = true;
	}
	return e;
}

/* Plans `specs`; returns the error count (-1: images rejected) and the plan text. */
static int plan(const char **specs, const char *args, char **out)
{
	int n = 0, ret;
	MntEntry **entries;
	unsigned *ns;

	while (specs[n])
		n++;
	entries = xmalloc(n * sizeof(*entries));
	ns = xmalloc(n * sizeof(*ns));
	for (int i = 0; i < n; i++)
		entries[i] = entry(specs[i], &ns[i]);
	ret = plan_entries(entries, ns, n, args, out);
	free(ns);
	return ret;
}

/* ns 2 made by `unshare -m --propagation unchanged` in the container:
 * every mount a copy of ns 1's, the shared ones peers of their originals. */
static const char *copy_ns[] = {
	"1 10 0 / /c 3 ext4",
	"1 11 10 /proc / 5 proc",
	"1 12 10 /shared / 7 tmpfs shared=40 internal",
	"1 13 10 /ext1 e1 3 ext4 ext=e1",
	"2 20 0 / /c 3 ext4",
	"2 21 20 /proc / 5 proc",
	"2 22 20 /shared / 7 tmpfs shared=40 internal",
	"2 23 20 /ext1 e1 3 ext4 ext=e1",
	NULL,
};

static int test_copy(void)
{
	EXPECT_PLAN(copy_ns, "--external mnt[e1]:/h1",
		    "ns1 10 / root\n"
		    "ns1 11 /proc fresh fs=proc\n"
		    "ns1 12 /shared fresh fs=tmpfs shared=40(leader)\n"
		    "ns1 13 /ext1 external host=/h1\n"
		    "ns2 20 / bind from=ns1:10 rel=.\n"
		    "ns2 21 /proc bind from=ns1:11 rel=.\n"
		    "ns2 22 /shared bind from=ns1:12 rel=. shared=40\n"
		    "ns2 23 /ext1 external host=/h1\n");
	return 0;
}

/* A tmpfs mounted whole only in ns 2, a sub directory of it bound in ns 1:
 * ns 1's bind waits for ns 2's mount; a slave in ns 2 of ns 1's group;
 * the leader of a group spanning both is the widest root, in ns 2. */
static int test_across(void)
{
	static const char *across[] = {
		"1 10 0 / /c 3 ext4",
		"1 11 10 /a /sub 8 tmpfs",
		"1 12 10 /g /x 9 tmpfs shared=50 internal",
		"1 13 10 /s / 7 tmpfs shared=40 internal",
		"2 20 0 / /c 3 ext4",
		"2 21 20 /t / 8 tmpfs",
		"2 22 20 /g / 9 tmpfs shared=50 internal",
		"2 23 20 /s / 7 tmpfs master=40",
		NULL,
	};

	EXPECT_PLAN(across, "",
		    "ns1 10 / root\n"
		    "ns1 13 /s fresh fs=tmpfs shared=40(leader)\n"
		    "ns2 20 / bind from=ns1:10 rel=.\n"
		    "ns2 21 /t fresh fs=tmpfs\n"
		    "ns1 11 /a bind from=ns2:21 rel=sub\n"
		    "ns2 22 /g fresh fs=tmpfs shared=50(leader)\n"
		    "ns1 12 /g bind from=ns2:22 rel=x shared=50\n"
		    "ns2 23 /s bind from=ns1:13 rel=. master=40\n");
	return 0;
}

/* A nested namespace whose root is a new tmpfs (a chroot-like build
 * sandbox) begins with that filesystem. */
static int test_fresh_root(void)
{
	static const char *f[] = {
		"1 10 0 / /c 3 ext4",
		"2 20 0 / / 8 tmpfs",
		"2 21 20 /proc / 5 proc",
		NULL,
	};

	EXPECT_PLAN(f, "", "ns1 10 / root\nns2 20 / fresh fs=tmpfs\nns2 21 /proc fresh fs=proc\n");
	return 0;
}

/* A name mapped once serves the mounts of every namespace that has it. */
static int test_name_in_both(void)
{
	char *got;

	CHECK(plan(copy_ns, "", &got) == 2); /* one error per mount without a mapping */
	free(got);
	CHECK(plan(copy_ns, "--external mnt[e1]:/h1 --external mnt[e2]:/h2", &got) == 1); /* e2 names nothing */
	free(got);
	return 0;
}

static int test_malformed(void)
{
	static const char *bad[][5] = {
		{"1 10 0 / /c 3 ext4", "2 10 0 / /c 3 ext4", NULL},			    /* id in two images */
		{"1 10 0 / /c 3 ext4", "2 20 10 /a /c 3 ext4", NULL},			    /* parent in another */
		{"1 10 0 / /c 3 ext4", "2 20 0 / /c 3 ext4", "1 11 10 /a / 8 tmpfs", NULL}, /* ns 1 given twice */
		{"1 10 0 / /c 3 ext4", "2 20 0 /x /c 3 ext4", NULL},			    /* root not at / */
		{"1 10 0 / /c 3 ext4", "2 20 0 / /y 4 ext4", NULL}, /* nothing to make it from */
		/* a loop across namespaces: ns 2's root from ns 1's /a, which binds below ns 2's /b */
		{"1 10 0 / /c 3 ext4", "1 11 10 /a /r/s 8 tmpfs", "2 20 0 / /r 8 tmpfs", "2 21 20 /b / 8 tmpfs", NULL},
	};
	char *got;

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		int r = plan(bad[i], "", &got);

		free(got);
		if (r == 0) {
			snprintf(unit_fail_msg, sizeof(unit_fail_msg), "inconsistent images %zu accepted", i);
			return 1;
		}
	}
	return 0;
}

/* One namespace plans as it always did. */
static int test_single(void)
{
	static const char *one[] = {"1 10 0 / /c 3 ext4", "1 11 10 /proc / 5 proc", NULL};

	EXPECT_PLAN(one, "", "10 / root\n11 /proc fresh fs=proc\n");
	return 0;
}

/*
 * Real images: the fuzz target's seeds (test/fuzz/corpus/mntns-plan/, records
 * "u8 namespace id, u32 length, a mountpoints image file"), dumped from a
 * container and its unshare -m copy: the pair plans (each namespace begun
 * with its root, the nested /ext1 from e1's host path, /ext2 named e2), and
 * the root's image alone too; every other corpus file is replayed for crashes.
 */
static int plan_records(const uint8_t *d, size_t size, const char *args, char **out)
{
	MntEntry **e = xmalloc(4096 * sizeof(*e));
	unsigned *ns = xmalloc(4096 * sizeof(*ns));
	size_t n = 0, off = 0;
	int ret;

	while (off + 5 <= size) {
		struct img_reader r;
		ProtobufCMessage *m;
		uint32_t len;

		memcpy(&len, d + off + 1, 4);
		if (len > size - off - 5 || img_reader_open_mem(&r, d + off + 5, len, "mnt", IMG_MNTS) < 0)
			break;
		while (n < 4096 && img_read_entry(&r, &m) > 0) {
			e[n] = (MntEntry *)m;
			ns[n++] = d[off];
		}
		img_reader_close(&r);
		off += 5 + (size_t)len;
	}
	ret = plan_entries(e, ns, (int)n, args, out);
	free(ns);
	return ret;
}

static int test_corpus(void)
{
	const char *dir = "test/fuzz/corpus/mntns-plan";
	DIR *dh = opendir(dir);
	struct dirent *de;
	int planned = 0;

	CHECK(dh != NULL);
	while ((de = readdir(dh))) {
		char path[512], *got = NULL;
		uint8_t *buf;
		size_t len;
		FILE *f;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		f = fopen(path, "rb");
		CHECK(f != NULL);
		buf = xmalloc(1 << 20);
		len = fread(buf, 1, 1 << 20, f);
		fclose(f);
		if (plan_records(buf, len, "--external mnt[e1]:/h1 --external mnt[e2]:/h2", &got) == 0 &&
		    !strcmp(de->d_name, "nested-two")) {
			CHECK(strstr(got, "ns2 ") && strstr(got, " /ext1 external host=/h1") &&
			      strstr(got, " /ext2 external host=/h2"));
			planned++;
		}
		free(got);
		free(buf);
	}
	closedir(dh);
	CHECK(planned == 1);
	return 0;
}

static const struct unit_case cases[] = {
	{"mntns-plan-dumped-images", test_corpus},
	{"mntns-plan-copy", test_copy},
	{"mntns-plan-across", test_across},
	{"mntns-plan-fresh-root", test_fresh_root},
	{"mntns-plan-name-in-both", test_name_in_both},
	{"mntns-plan-malformed", test_malformed},
	{"mntns-plan-single", test_single},
	{},
};

UNIT_MAIN(cases)

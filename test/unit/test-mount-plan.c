/*
 * The restore planner on hand-made images: classification, external name
 * mapping (ours, upstream's ext_key, very old ext_mount), order, and the
 * rejection of malformed images. Entries are written in a compact form:
 *   "ID PARENT MOUNTPOINT ROOT DEV FSTYPE [ext=NAME] [extmount] [auto=HOSTPATH]"
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mount/fstype.h"
#include "util/log.h"
#include "mount/mount-external.h"
#include "mount/mount-restore.h"
#include "options.h"
#include "unit.h"
#include "unit-mntplan.h"
#include "util/util.h"

static MntEntry *entry(const char *spec)
{
	MntEntry *e = xzalloc(sizeof(*e));
	char mp[256], root[256], fstype[32], extra[3][256] = { "", "", "" };
	unsigned id, parent, dev;
	int n;

	mnt_entry__init(e);
	n = sscanf(spec, "%u %u %255s %255s %u %31s %255s %255s %255s", &id, &parent, mp, root, &dev, fstype, extra[0],
		   extra[1], extra[2]);
	if (n < 6)
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
	for (int i = 0; i < 3; i++) {
		if (!strncmp(extra[i], "ext=", 4))
			e->ext_key = xstrdup(extra[i] + 4);
		else if (!strcmp(extra[i], "extmount"))
			e->has_ext_mount = e->ext_mount = true;
		else if (!strncmp(extra[i], "auto=", 5)) {
			e->ext_key = xstrdup(AUTODETECTED_MOUNT);
			free(e->source);
			e->source = xstrdup(extra[i] + 5);
		}
	}
	return e;
}

/* Plans `specs` with the restore options `args`; returns the error count
 * (or -1 when the image is rejected) and the plan text in *out. */
static int plan(const char **specs, const char *args, char **out)
{
	int n = 0;
	MntEntry **entries;

	while (specs[n])
		n++;
	entries = xmalloc(n * sizeof(*entries));
	for (int i = 0; i < n; i++)
		entries[i] = entry(specs[i]);
	return plan_entries(entries, NULL, n, args, out);
}

static const char *seed[] = {
	"23 20 / /root 3 ext4",
	"34 23 /bar barmount 3 ext4 ext=barmount",
	"35 23 /proc / 5 proc",
	"36 23 /inner /root/data 3 ext4",
	NULL,
};

static int test_seed(void)
{
	EXPECT_PLAN(seed, "--external mnt[barmount]:/foo",
		    "23 / root\n34 /bar external host=/foo\n35 /proc fresh fs=proc\n36 /inner bind from=23 rel=data\n");
	EXPECT_PLAN(seed, "--ext-mount-map barmount:/foo",
		    "23 / root\n34 /bar external host=/foo\n35 /proc fresh fs=proc\n36 /inner bind from=23 rel=data\n");
	return 0;
}

static int test_seed_errors(void)
{
	char *got;

	CHECK(plan(seed, "", &got) == 1); /* no mapping */
	free(got);
	CHECK(plan(seed, "--external mnt[barmount]:/foo --external mnt[typo]:/x", &got) == 1);
	free(got);
	CHECK(plan(seed, "--external mnt[barmount]:/foo --ext-mount-map barmount:/y", &got) == 1);
	free(got);
	return 0;
}

/* Very old images: ext_mount set, the name in root. */
static int test_old_ext_mount(void)
{
	static const char *old[] = { "1 0 / /c 3 ext4", "2 1 /bar barmount 3 ext4 extmount", NULL };

	EXPECT_PLAN(old, "--external mnt[barmount]:/foo", "1 / root\n2 /bar external host=/foo\n");
	return 0;
}

/* Upstream writes some mountpoints as "./x". */
static int test_dot_mountpoints(void)
{
	static const char *dots[] = { "1 0 ./ /c 3 ext4", "2 1 ./bar barmount 3 ext4 ext=barmount", NULL };

	EXPECT_PLAN(dots, "--external mnt[barmount]:/foo", "1 / root\n2 /bar external host=/foo\n");
	return 0;
}

/* Binds of a named external come back from the same host path, below it. */
static int test_subdir_of_named(void)
{
	static const char *sub[] = { "1 0 / /c 3 ext4", "2 1 /v1 vol1 3 ext4 ext=vol1", "3 1 /v1sub vol1/a/b 3 ext4 ext=vol1",
				     NULL };

	EXPECT_PLAN(sub, "--external mnt[vol1]:/srv/v", "1 / root\n2 /v1 external host=/srv/v\n3 /v1sub external host=/srv/v/a/b\n");
	return 0;
}

/* A crafted sub path can't climb out of the mapped host path. */
static int test_named_dotdot(void)
{
	static const char *bad[] = { "1 0 / /c 3 ext4", "2 1 /x barmount/../../etc 3 ext4 ext=barmount", NULL };
	static const char *dot[] = { "1 0 / /c 3 ext4", "2 1 /x barmount/./a 3 ext4 ext=barmount", NULL };
	char *got;

	CHECK(plan(bad, "--external mnt[barmount]:/srv", &got) == 1);
	free(got);
	CHECK(plan(dot, "--external mnt[barmount]:/srv", &got) == 1);
	free(got);
	return 0;
}

static int test_autodetected(void)
{
	static const char *a[] = { "1 0 / /c 3 ext4", "2 1 /bar /foo 3 ext4 auto=/host/foo", "3 1 /baz /foo/x 3 ext4", NULL };
	char *got;

	CHECK(plan(a, "", &got) == 1); /* an image never picks host paths on its own */
	free(got);
	EXPECT_PLAN(a, "--external mnt[]", "1 / root\n2 /bar external host=/host/foo (autodetected)\n3 /baz bind from=2 rel=x\n");
	return 0;
}

/* A bind whose source comes later in the image waits for it; an overmount
 * comes after everything it covers. */
static int test_order(void)
{
	static const char *o[] = {
		"1 0 / / 9 tmpfs",	 "2 1 /early /data/x 7 tmpfs", "3 1 /late / 7 tmpfs", "4 3 /late / 8 tmpfs",
		"5 3 /late/hidden / 6 tmpfs", NULL,
	};

	EXPECT_PLAN(o, "", "1 / root\n3 /late fresh fs=tmpfs\n5 /late/hidden fresh fs=tmpfs\n4 /late fresh fs=tmpfs\n2 /early bind from=3 rel=data/x\n");
	return 0;
}

static int test_malformed(void)
{
	static const char *bad[][4] = {
		{ "1 0 / / 9 tmpfs", "1 1 /a / 8 tmpfs", NULL },	   /* duplicate id */
		{ "1 0 / / 9 tmpfs", "2 0 / / 8 tmpfs", NULL },	   /* two roots */
		{ "1 0 / / 9 tmpfs", "2 1 a / 8 tmpfs", NULL },	   /* relative mountpoint */
		{ "1 0 / / 9 tmpfs", "2 1 /a/../b / 8 tmpfs", NULL }, /* dot-dot */
		{ "1 0 / / 9 tmpfs", "2 1 /a x 9 tmpfs", NULL },	   /* relative root */
		{ "1 0 /a / 9 tmpfs", NULL },			   /* root not at / */
		{ "1 0 / / 9 tmpfs", "2 3 /a / 8 tmpfs", "3 2 /a/b / 8 tmpfs", NULL }, /* loop */
		{ "1 0 / / 9 tmpfs", "2 1 /x /a 5 ext4", NULL },			 /* nothing to restore from */
	};
	char *got;

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		int r = plan(bad[i], "", &got);
		free(got);
		if (r == 0) {
			snprintf(unit_fail_msg, sizeof(unit_fail_msg), "malformed image %zu accepted", i);
			return 1;
		}
	}
	return 0;
}

static const struct unit_case cases[] = {
	{ "plan-seed", test_seed },
	{ "plan-seed-errors", test_seed_errors },
	{ "plan-old-ext-mount", test_old_ext_mount },
	{ "plan-upstream-dot-mountpoints", test_dot_mountpoints },
	{ "plan-subdir-of-named-external", test_subdir_of_named },
	{ "plan-named-sub-path-escape", test_named_dotdot },
	{ "plan-autodetected", test_autodetected },
	{ "plan-order", test_order },
	{ "plan-malformed-images", test_malformed },
	{},
};

UNIT_MAIN(cases)

/*
 * task/userns-map.c: /proc/PID/uid_map text, the maps the kernel accepts,
 * ids between a user namespace and its parent, the image entry, and the
 * tree's converters the dump stages use.
 */
#include <errno.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

#include "task/userns.h"
#include "unit.h"

static int test_parse(void)
{
	/* as the kernel prints it: "%10u %10u %10u\n" */
	static const char text[] = "         0     100000      65536\n"
				   "     65536          0          1\n";
	struct userns_map m;
	char err[96];

	CHECK(userns_map_parse(text, sizeof(text) - 1, &m, err, sizeof(err)) == 0);
	CHECK(m.nr == 2);
	CHECK(m.e[0].first == 0 && m.e[0].lower_first == 100000 && m.e[0].count == 65536);
	CHECK(m.e[1].first == 65536 && m.e[1].lower_first == 0 && m.e[1].count == 1);
	CHECK(userns_map_check(&m, err, sizeof(err)) == 0);
	/* the initial namespace's, the last line without '\n' */
	CHECK(userns_map_parse("0 0 4294967295", 14, &m, err, sizeof(err)) == 0);
	CHECK(m.nr == 1 && m.e[0].count == UINT32_MAX);
	/* no map written yet: empty */
	CHECK(userns_map_parse("", 0, &m, err, sizeof(err)) == 0 && m.nr == 0);
	CHECK(userns_map_check(&m, err, sizeof(err)) == -EINVAL);
	return 0;
}

static int test_parse_refused(void)
{
	struct userns_map m;
	char err[96];

	CHECK(userns_map_parse("0 100000\n", 9, &m, err, sizeof(err)) == -EINVAL);
	CHECK(strstr(err, "line 1") != NULL);
	CHECK(userns_map_parse("0 1 1\n0 1 1 1\n", 14, &m, err, sizeof(err)) == -EINVAL);
	CHECK(strstr(err, "line 2") != NULL);
	CHECK(userns_map_parse("0 4294967296 1\n", 15, &m, err, sizeof(err)) == -EINVAL);
	CHECK(userns_map_parse("0 -1 1\n", 7, &m, err, sizeof(err)) == -EINVAL);
	return 0;
}

static int test_check(void)
{
	struct userns_map m = {.nr = 2, .e = {{0, 100000, 1000}, {1000, 100999, 10}}};
	char err[128];

	/* the lower sides overlap (100999 is in both) */
	CHECK(userns_map_check(&m, err, sizeof(err)) == -EINVAL);
	CHECK(strstr(err, "overlap") != NULL);
	m.e[1] = (struct userns_extent){999, 200000, 10};
	CHECK(userns_map_check(&m, err, sizeof(err)) == -EINVAL);
	m.e[1] = (struct userns_extent){1000, 101000, 10};
	CHECK(userns_map_check(&m, err, sizeof(err)) == 0);
	m.e[1].count = 0;
	CHECK(userns_map_check(&m, err, sizeof(err)) == -EINVAL);
	m.e[1] = (struct userns_extent){UINT32_MAX - 1, 300000, 2};
	CHECK(userns_map_check(&m, err, sizeof(err)) == -EINVAL);
	return 0;
}

static int test_convert(void)
{
	struct userns_map m = {.nr = 2, .e = {{0, 100000, 65536}, {70000, 1000, 1}}};

	CHECK(userns_map_down(&m, 100000) == 0);
	CHECK(userns_map_down(&m, 101000) == 1000);
	CHECK(userns_map_down(&m, 165535) == 65535);
	CHECK(userns_map_down(&m, 165536) == USERNS_NO_ID);
	CHECK(userns_map_down(&m, 0) == USERNS_NO_ID);
	CHECK(userns_map_down(&m, 1000) == 70000);
	CHECK(userns_map_up(&m, 0) == 100000);
	CHECK(userns_map_up(&m, 70000) == 1000);
	CHECK(userns_map_up(&m, 65536) == USERNS_NO_ID);
	for (uint32_t id = 0; id < 65536; id += 997)
		CHECK(userns_map_down(&m, userns_map_up(&m, id)) == id);
	return 0;
}

static int test_format(void)
{
	struct userns_map m = {.nr = 2, .e = {{0, 100000, 65536}, {65536, 0, 1}}}, back;
	char buf[64], small[10];
	int n = userns_map_format(&m, buf, sizeof(buf));

	CHECK(n == (int)strlen("0 100000 65536\n65536 0 1\n"));
	CHECK_STR(buf, "0 100000 65536\n65536 0 1\n");
	CHECK(userns_map_parse(buf, (size_t)n, &back, NULL, 0) == 0);
	CHECK(back.nr == 2 && !memcmp(back.e, m.e, sizeof(m.e[0]) * 2));
	CHECK(userns_map_format(&m, small, sizeof(small)) == -ENOSPC);
	return 0;
}

static int test_entry(void)
{
	struct userns_info back;
	struct userns_info u = {
		.uid = {.nr = 1, .e = {{0, 100000, 65536}}},
		.gid = {.nr = 2, .e = {{0, 100000, 1000}, {1000, 200000, 5}}},
		.setgroups_deny = true,
		.owner_uid = 1000,
	};
	UsernsEntry e;
	char err[128];

	userns_to_entry(&u, &e);
	CHECK(e.n_uid_map == 1 && e.n_gid_map == 2);
	CHECK(e.gid_map[1]->lower_first == 200000);
	CHECK(userns_from_entry(&e, &back, err, sizeof(err)) == 0);
	CHECK(back.uid.nr == 1 && back.gid.nr == 2 && back.gid.e[1].count == 5);
	CHECK(back.setgroups_deny && back.owner_uid == 1000);
	/* upstream's: no fields of ours, so setgroups allowed and criu's root the owner */
	e.has_setgroups_deny = e.has_owner_uid = false;
	CHECK(userns_from_entry(&e, &back, err, sizeof(err)) == 0);
	CHECK(!back.setgroups_deny && back.owner_uid == 0);
	/* crafted: the host's root given to the namespace, or no root inside */
	e.uid_map[0]->lower_first = 0;
	CHECK(userns_from_entry(&e, &back, err, sizeof(err)) == -EINVAL);
	CHECK(strstr(err, "host's root") != NULL);
	e.uid_map[0]->lower_first = 100000;
	e.uid_map[0]->first = 1;
	e.uid_map[0]->count = 65535;
	CHECK(userns_from_entry(&e, &back, err, sizeof(err)) == -EOPNOTSUPP);
	e.uid_map[0]->first = 0;
	e.uid_map[0]->count = 65536;
	/* a map the kernel would refuse */
	e.gid_map[1]->first = 999;
	CHECK(userns_from_entry(&e, &back, err, sizeof(err)) == -EINVAL);
	CHECK(strstr(err, "gid_map") != NULL);
	e.n_uid_map = 0;
	CHECK(userns_from_entry(&e, &back, err, sizeof(err)) == -EINVAL);
	CHECK(strstr(err, "uid_map") != NULL);
	e.n_uid_map = 1;
	userns_entry_free(&e);
	return 0;
}

static int test_tree(void)
{
	struct userns_info u = {
		.uid = {.nr = 1, .e = {{0, 100000, 65536}}},
		.gid = {.nr = 1, .e = {{0, 200000, 65536}}},
	};
	uint32_t v;

	/* no namespace of the tree's own: ids as they are */
	userns_tree_set(NULL);
	CHECK(userns_uid(1000) == 1000 && userns_gid(0) == 0);
	CHECK(userns_uid_strict(5, &v) == 0 && v == 5);
	userns_tree_set(&u);
	CHECK(userns_tree() == &u);
	CHECK(userns_uid(101000) == 1000);
	CHECK(userns_gid(200000) == 0);
	/* unmapped: the overflow id, as the kernel shows it inside; -1 stays */
	CHECK(userns_uid(0) == USERNS_OVERFLOW_ID);
	CHECK(userns_gid(100000) == USERNS_OVERFLOW_ID);
	CHECK(userns_uid(UINT32_MAX) == UINT32_MAX);
	CHECK(userns_uid_strict(100001, &v) == 0 && v == 1);
	CHECK(userns_uid_strict(0, &v) == -ERANGE);
	CHECK(userns_gid_strict(100000, &v) == -ERANGE);
	userns_tree_set(NULL);
	return 0;
}

static int test_mount_options(void)
{
	struct userns_info u = {
		.uid = {.nr = 2, .e = {{0, 100000, 65536}, {70000, 5, 1}}},
		.gid = {.nr = 1, .e = {{0, 200000, 65536}}},
	};
	char *s;

	s = userns_mount_options(&u, "rw,mode=755,uid=100000,gid=201000,size=1024k");
	CHECK_STR(s, "rw,mode=755,uid=0,gid=1000,size=1024k");
	free(s);
	/* an id that gets longer inside */
	s = userns_mount_options(&u, "uid=5");
	CHECK_STR(s, "uid=70000");
	free(s);
	s = userns_mount_options(&u, "nr_inodes=0");
	CHECK_STR(s, "nr_inodes=0");
	free(s);
	/* not mapped, or not a number: refused */
	CHECK(userns_mount_options(&u, "mode=700,uid=0") == NULL);
	CHECK(userns_mount_options(&u, "gid=100000") == NULL);
	CHECK(userns_mount_options(&u, "uid=1x") == NULL);
	CHECK(userns_mount_options(&u, "uid=99999999999") == NULL);
	return 0;
}

static const struct unit_case cases[] = {
	{"userns-map-parse", test_parse},
	{"userns-map-parse-refused", test_parse_refused},
	{"userns-map-check", test_check},
	{"userns-map-convert", test_convert},
	{"userns-map-format", test_format},
	{"userns-entry", test_entry},
	{"userns-tree-ids", test_tree},
	{"userns-mount-options", test_mount_options},
	{},
};
UNIT_MAIN(cases)

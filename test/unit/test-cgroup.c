/*
 * The pure part of cgroups (cgroup/cgroup-plan.c, cgroup-props.c) on fixed
 * inputs: /proc/PID/cgroup text, cgroup namespace prefixes, --cgroup-root
 * parsing, controller matching, re-rooting an image (upstream 4.2's
 * layout: sets of members, controllers with their directory trees), the
 * --manage-cgroups decisions, and how values read are kept.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"
#include "cgroup/cgroup-props.h"
#include "cgroup/cgroup.h"
#include "image/image.h"
#include "util/log.h"
#include "util/util.h"

/* What this machine's /proc/self/cgroup reads like: v1, a named one, v2. */
static const char hybrid[] = "9:name=systemd:/cg/a\n"
			     "8:pids:/cg/a\n"
			     "4:memory:/process_api/68317e42\n"
			     "2:cpu,cpuacct:/cg/a\n"
			     "0::/cg/a\n";

/* The errors bad inputs print are the point: kept out of the test's output. */
static int saved_err = -1;
static void quiet(void)
{
	int null = open("/dev/null", O_WRONLY);

	fflush(stderr);
	saved_err = dup(STDERR_FILENO);
	dup2(null, STDERR_FILENO);
	close(null);
}
static void loud(void)
{
	fflush(stderr);
	dup2(saved_err, STDERR_FILENO);
	close(saved_err);
}

static int test_parse(void)
{
	struct cg_members m;

	CHECK(cg_parse_members(hybrid, &m) == 0);
	CHECK(m.n == 5);
	/* sorted by name, as upstream writes them */
	CHECK_STR(m.v[0].name, "");
	CHECK_STR(m.v[0].path, "/cg/a");
	CHECK_STR(m.v[1].name, "cpu,cpuacct");
	CHECK_STR(m.v[2].name, "memory");
	CHECK_STR(m.v[2].path, "/process_api/68317e42");
	CHECK_STR(m.v[3].name, "name=systemd");
	CHECK_STR(m.v[4].name, "pids");
	CHECK(cg_members_find(&m, "pids") == &m.v[4]);
	CHECK(cg_members_find(&m, "cpu") == NULL);
	cg_members_free(&m);

	/* a cgroup name may hold ':'; pure v2; no final newline */
	CHECK(cg_parse_members("0::/a:b/c d", &m) == 0);
	CHECK(m.n == 1);
	CHECK_STR(m.v[0].path, "/a:b/c d");
	cg_members_free(&m);
	CHECK(cg_parse_members("", &m) == 0 && m.n == 0);
	return 0;
}

static int test_parse_bad(void)
{
	static const char *const bad[] = {
		"pids:/a\n",		  /* no id */
		"x:pids:/a\n",		  /* id not a number */
		"1:pids\n",		  /* no path */
		"1:pids:a\n",		  /* relative path */
		"1:pids:/a\n2:pids:/b\n", /* a hierarchy twice */
		":pids:/a\n",
	};
	struct cg_members m;

	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		CHECK(cg_parse_members(bad[i], &m) == -EINVAL);
	return 0;
}

static int test_ns_prefix(void)
{
	uint32_t p = 99;

	CHECK(cg_ns_prefix("/ct/a", "/ct/a", &p) == 0 && p == 0); /* no namespace of its own */
	CHECK(cg_ns_prefix("/ct/a", "/a", &p) == 0 && p == 3);	  /* namespace at /ct */
	CHECK(cg_ns_prefix("/ct", "/", &p) == 0 && p == 3);	  /* the task is at the root */
	CHECK(cg_ns_prefix("/x/ct/a/b", "/a/b", &p) == 0 && p == 5);
	CHECK(cg_ns_prefix("/ct/a", "/b", &p) == -EINVAL);    /* not its end */
	CHECK(cg_ns_prefix("/ct/a", "/../b", &p) == -EINVAL); /* above the namespace */
	CHECK(cg_ns_prefix("/a", "/x/a", &p) == -EINVAL);
	return 0;
}

static int test_ctrl_matches(void)
{
	char *cpu[] = {"cpu", "cpuacct"}, *v2[] = {""}, *named[] = {"name=systemd"};

	CHECK(cg_ctrl_matches("cpu", cpu, 2));
	CHECK(cg_ctrl_matches("cpu,cpuacct", cpu, 2));
	CHECK(cg_ctrl_matches("cpuacct,cpu", cpu, 2));
	CHECK(!cg_ctrl_matches("cpu,memory", cpu, 2));
	CHECK(!cg_ctrl_matches("cpus", cpu, 2));
	CHECK(!cg_ctrl_matches("", cpu, 2));
	CHECK(cg_ctrl_matches("", v2, 1));
	CHECK(!cg_ctrl_matches("cpu", v2, 1));
	CHECK(cg_ctrl_matches("name=systemd", named, 1));
	CHECK(!cg_ctrl_matches("systemd", named, 1));
	return 0;
}

static int test_root_parse(void)
{
	char *ctrl = NULL, *path = NULL;

	CHECK(cg_root_parse("/machine/ct1", &ctrl, &path) == 0);
	CHECK(ctrl == NULL);
	CHECK_STR(path, "/machine/ct1");
	free(path);
	CHECK(cg_root_parse("cpu,cpuacct:/m", &ctrl, &path) == 0);
	CHECK_STR(ctrl, "cpu,cpuacct");
	CHECK_STR(path, "/m");
	free(ctrl);
	free(path);
	CHECK(cg_root_parse(":/m", &ctrl, &path) == 0); /* v2 */
	CHECK_STR(ctrl, "");
	free(ctrl);
	free(path);
	CHECK(cg_root_parse("name=systemd:/m", &ctrl, &path) == 0);
	CHECK_STR(ctrl, "name=systemd");
	free(ctrl);
	free(path);
	/* LXC's slip "/usr/lib:usr/lib", and a relative path: refused */
	CHECK(cg_root_parse("/usr/lib:usr/lib", &ctrl, &path) == -EINVAL);
	CHECK(cg_root_parse("m", &ctrl, &path) == -EINVAL);
	return 0;
}

static int test_rebase(void)
{
	char *p;

#define REBASE(path, old, new, want)                                                                                   \
	do {                                                                                                           \
		p = cg_rebase(path, old, new);                                                                         \
		CHECK_STR(p, want);                                                                                    \
		free(p);                                                                                               \
	} while (0)
	REBASE("/ct/a", "/ct", "/new", "/new/a");
	REBASE("/ct", "/ct", "/new", "/new");
	REBASE("/ct", "/ct/", "/new/", "/new");
	REBASE("/ct/a/b", "/ct", "/", "/a/b");
	REBASE("/ct", "/ct", "/", "/");
	REBASE("/a", "/", "/new", "/new/a");
	REBASE("/", "/", "/new", "/new");
	CHECK(cg_rebase("/ctx", "/ct", "/new") == NULL); /* a sibling with a longer name */
	CHECK(cg_rebase("/other", "/ct", "/new") == NULL);
	return 0;
}

static int test_modes(void)
{
	enum cg_mode m;
	struct cg_dir_plan p;

	CHECK(cg_mode_parse("soft", &m) == 0 && m == CG_MODE_SOFT);
	CHECK(cg_mode_parse("strict", &m) == 0 && m == CG_MODE_STRICT);
	CHECK(cg_mode_parse("ignore", &m) == 0 && m == CG_MODE_IGNORE);
	CHECK(cg_mode_parse("bogus", &m) == -1);
	CHECK(CG_MODE_DEFAULT == CG_MODE_SOFT);
	/* RPC's criu_cg_mode numbers */
	CHECK(CG_MODE_IGNORE == 0 && CG_MODE_NONE == 1 && CG_MODE_PROPS == 2 && CG_MODE_SOFT == 3 &&
	      CG_MODE_FULL == 4 && CG_MODE_STRICT == 5);
	CHECK_STR(cg_mode_name(CG_MODE_FULL), "full");

	p = cg_dir_decide(CG_MODE_SOFT, false);
	CHECK(!p.fail && p.make && p.props && p.perms);
	p = cg_dir_decide(CG_MODE_SOFT, true);
	CHECK(!p.fail && !p.make && !p.props && p.perms);
	p = cg_dir_decide(CG_MODE_FULL, true);
	CHECK(!p.fail && !p.make && p.props);
	p = cg_dir_decide(CG_MODE_FULL, false);
	CHECK(p.make && p.props);
	p = cg_dir_decide(CG_MODE_NONE, false);
	CHECK(p.fail);
	p = cg_dir_decide(CG_MODE_NONE, true);
	CHECK(!p.fail && !p.make && !p.props && !p.perms);
	p = cg_dir_decide(CG_MODE_PROPS, false);
	CHECK(p.fail);
	p = cg_dir_decide(CG_MODE_PROPS, true);
	CHECK(!p.fail && p.props);
	p = cg_dir_decide(CG_MODE_STRICT, true);
	CHECK(p.fail);
	p = cg_dir_decide(CG_MODE_STRICT, false);
	CHECK(!p.fail && p.make && p.props);
	p = cg_dir_decide(CG_MODE_IGNORE, false);
	CHECK(!p.fail && !p.make && !p.props);
	return 0;
}

/* ------------------------------------------------------------------------
 * An image as upstream 4.2 lays it out (set 2: the root in /ct; set 3: a
 * child in /ct/b in pids, / in cpu), re-rooted.
 */
static CgMemberEntry *member(const char *name, const char *path, uint32_t prefix)
{
	CgMemberEntry *m = malloc(sizeof(*m));

	cg_member_entry__init(m);
	m->name = strdup(name);
	m->path = strdup(path);
	m->has_cgns_prefix = prefix > 0;
	m->cgns_prefix = prefix;
	return m;
}

static CgroupDirEntry *dir(const char *name)
{
	CgroupDirEntry *d = malloc(sizeof(*d));

	cgroup_dir_entry__init(d);
	d->dir_name = strdup(name);
	return d;
}

static CgControllerEntry *controller(const char *cname, const char *head)
{
	CgControllerEntry *c = malloc(sizeof(*c));

	cg_controller_entry__init(c);
	c->n_cnames = 1;
	c->cnames = malloc(sizeof(char *));
	c->cnames[0] = strdup(cname);
	c->n_dirs = 1;
	c->dirs = malloc(sizeof(*c->dirs));
	c->dirs[0] = dir(head);
	return c;
}

static CgroupEntry *image(uint32_t prefix)
{
	CgroupEntry *e = malloc(sizeof(*e));

	cgroup_entry__init(e);
	e->n_sets = 2;
	e->sets = malloc(2 * sizeof(*e->sets));
	for (int i = 0; i < 2; i++) {
		e->sets[i] = malloc(sizeof(CgSetEntry));
		cg_set_entry__init(e->sets[i]);
		e->sets[i]->id = 2 + (uint32_t)i;
		e->sets[i]->n_ctls = 2;
		e->sets[i]->ctls = malloc(2 * sizeof(CgMemberEntry *));
	}
	e->sets[0]->ctls[0] = member("cpu", "/ct", prefix);
	e->sets[0]->ctls[1] = member("pids", "/ct", prefix);
	e->sets[1]->ctls[0] = member("cpu", "/ct", prefix);
	e->sets[1]->ctls[1] = member("pids", "/ct/b", prefix);
	e->n_controllers = 2;
	e->controllers = malloc(2 * sizeof(*e->controllers));
	e->controllers[0] = controller("cpu", "ct");
	e->controllers[1] = controller("pids", "ct");
	return e;
}

static int test_reroot(void)
{
	CgroupEntry *e = image(0);
	const char *ctrls[] = {NULL, "pids"}, *roots[] = {"/new", "/p/q"};
	struct cg_root_map map = {.ctrls = ctrls, .roots = roots, .n = 2};

	CHECK(cg_reroot_image(e, 2, &map) == 0);
	CHECK_STR(cg_image_set(e, 2)->ctls[0]->path, "/new");	/* cpu: the default root */
	CHECK_STR(cg_image_set(e, 2)->ctls[1]->path, "/p/q");	/* pids: its own */
	CHECK_STR(cg_image_set(e, 3)->ctls[1]->path, "/p/q/b"); /* below it: follows */
	CHECK_STR(e->controllers[0]->dirs[0]->dir_name, "new");
	CHECK_STR(e->controllers[1]->dirs[0]->dir_name, "p/q");
	CHECK(cg_image_controller(e, "pids") == e->controllers[1]);
	CHECK(cg_image_set(e, 7) == NULL);
	cgroup_entry__free_unpacked(e, NULL);

	/* no root given: nothing moves */
	e = image(0);
	map.n = 0;
	CHECK(cg_reroot_image(e, 2, &map) == 0);
	CHECK_STR(cg_image_set(e, 3)->ctls[1]->path, "/ct/b");
	cgroup_entry__free_unpacked(e, NULL);

	/* two different roots for one hierarchy: refused */
	e = image(0);
	{
		const char *c2[] = {"pids", "pids"}, *r2[] = {"/a", "/b"};
		struct cg_root_map m2 = {.ctrls = c2, .roots = r2, .n = 2};

		CHECK(cg_reroot_image(e, 2, &m2) == -EINVAL);
	}
	cgroup_entry__free_unpacked(e, NULL);
	return 0;
}

/* Dumped with --cgroup-root /lxc (the tree in /lxc/ct): the directory
 * saved above the root's cgroup is what the new root replaces. */
static int test_reroot_dump_root(void)
{
	CgroupEntry *e = image(0);
	const char *ctrls[] = {NULL}, *roots[] = {"/new"};
	struct cg_root_map map = {.ctrls = ctrls, .roots = roots, .n = 1};

	for (size_t i = 0; i < 2; i++) {
		free(e->controllers[i]->dirs[0]->dir_name);
		e->controllers[i]->dirs[0]->dir_name = strdup("lxc");
		for (size_t s = 0; s < 2; s++) {
			char *p = e->sets[s]->ctls[i]->path, *q = malloc(strlen(p) + 5);

			sprintf(q, "/lxc%s", p);
			free(p);
			e->sets[s]->ctls[i]->path = q;
		}
	}
	CHECK(cg_reroot_image(e, 2, &map) == 0);
	CHECK_STR(cg_image_set(e, 2)->ctls[0]->path, "/new/ct");
	CHECK_STR(cg_image_set(e, 3)->ctls[1]->path, "/new/ct/b");
	CHECK_STR(e->controllers[1]->dirs[0]->dir_name, "new");
	cgroup_entry__free_unpacked(e, NULL);

	/* which root a hierarchy gets */
	{
		const char *c2[] = {NULL, "cpu", ""}, *r2[] = {"/d", "/c", "/v2"};
		struct cg_root_map m2 = {.ctrls = c2, .roots = r2, .n = 3};

		CHECK_STR(cg_root_for(&m2, "cpu,cpuacct"), "/c");
		CHECK_STR(cg_root_for(&m2, "pids"), "/d");
		CHECK_STR(cg_root_for(&m2, ""), "/v2");
		m2.n = 0;
		CHECK(cg_root_for(&m2, "pids") == NULL);
	}
	return 0;
}

/* In a cgroup namespace rooted at /ct, the namespace's root moves, and the
 * prefix becomes the new root's length. */
static int test_reroot_cgns(void)
{
	CgroupEntry *e = image(3);
	const char *ctrls[] = {NULL}, *roots[] = {"/machine/x"};
	struct cg_root_map map = {.ctrls = ctrls, .roots = roots, .n = 1};
	CgMemberEntry *m;

	CHECK(cg_reroot_image(e, 2, &map) == 0);
	m = cg_image_set(e, 3)->ctls[1];
	CHECK_STR(m->path, "/machine/x/b");
	CHECK(m->has_cgns_prefix && m->cgns_prefix == strlen("/machine/x"));
	cgroup_entry__free_unpacked(e, NULL);
	return 0;
}

static int test_props(void)
{
	const char *const *l = cg_props_of("pids", false);
	char *v;

	CHECK(l && !strcmp(l[0], "pids.max") && !l[1]);
	CHECK(cg_props_of("pids", true) != NULL);
	CHECK(cg_props_of("blkio", true) == NULL);
	CHECK(cg_props_of("freezer", false) == NULL);
	CHECK(!strcmp(cg_props_of("memory", false)[0], "memory.limit_in_bytes")); /* before memsw */
	CHECK(!strcmp(cg_props_global(true)[0], "cgroup.subtree_control"));
	CHECK(cg_prop_is_member_list("tasks") && cg_prop_is_member_list("cgroup.procs"));
	CHECK(cg_prop_is_freeze("cgroup.freeze") && !cg_prop_is_freeze("pids.max"));

	v = cg_prop_value("pids.max", "max\n");
	CHECK_STR(v, "max");
	free(v);
	v = cg_prop_value("memory.limit_in_bytes", "9223372036854775807\n");
	CHECK_STR(v, "-1");
	free(v);
	v = cg_prop_value("memory.oom_control", "oom_kill_disable 1\nunder_oom 0\noom_kill 0\n");
	CHECK_STR(v, "1");
	free(v);
	CHECK(cg_prop_value("memory.oom_control", "garbage") == NULL);
	v = cg_prop_value("devices.list", "c 1:3 rwm\nc 1:5 rwm\n");
	CHECK_STR(v, "c 1:3 rwm\nc 1:5 rwm");
	free(v);
	return 0;
}

/* cgroup.subtree_control's words, whole: "cpu" is not in "cpuset". */
static int test_word_in(void)
{
	CHECK(!cg_word_in("cpuset io", "cpu"));
	CHECK(!cg_word_in("cpuset\n", "cpu"));
	CHECK(!cg_word_in("xcpu", "cpu"));
	CHECK(cg_word_in("cpuset cpu", "cpu"));
	CHECK(cg_word_in("cpu", "cpu"));
	CHECK(cg_word_in("io memory pids\n", "pids"));
	CHECK(cg_word_in("  io   memory", "memory"));
	CHECK(!cg_word_in("", "cpu"));
	CHECK(!cg_word_in("cpu", ""));
	return 0;
}

/* Restore writes only what dump saves for the hierarchy. */
static int test_prop_restorable(void)
{
	static const char *const never[] = {"cgroup.kill",   "cgroup.threads", "memory.reclaim", "memory.force_empty",
					    "release_agent", "cgroup.events",  "cgroup.stat",	 "",
					    "cpu.shares.x"};

	CHECK(cg_prop_restorable("cpu,cpuacct", "cpu.shares"));
	CHECK(cg_prop_restorable("cpu,cpuacct", "notify_on_release"));
	CHECK(cg_prop_restorable("pids", "pids.max"));
	CHECK(cg_prop_restorable("devices", "devices.list"));
	CHECK(!cg_prop_restorable("pids", "cpu.shares"));   /* another hierarchy's */
	CHECK(!cg_prop_restorable("cpuset", "cpu.shares")); /* "cpu" is no controller of "cpuset" */
	CHECK(!cg_prop_restorable("name=systemd", "pids.max"));
	CHECK(cg_prop_restorable("name=systemd", "cgroup.clone_children"));
	CHECK(cg_prop_restorable("", "cgroup.subtree_control"));
	CHECK(cg_prop_restorable("", "cgroup.type"));
	CHECK(cg_prop_restorable("", "memory.max") && cg_prop_restorable("", "io.weight"));
	CHECK(!cg_prop_restorable("", "cpu.shares"));	     /* v1 only */
	CHECK(!cg_prop_restorable("", "notify_on_release")); /* v1 only */
	CHECK(!cg_prop_restorable("memory", "memory.max"));  /* v2 only */
	for (size_t i = 0; i < ARRAY_SIZE(never); i++) {
		CHECK(!cg_prop_restorable("", never[i]));
		CHECK(!cg_prop_restorable("cpu,cpuacct,memory,cpuset,pids,devices,blkio", never[i]));
	}
	return 0;
}

/* A cgroup.img upstream 4.2.1 wrote (fixtures/cgroup/README), read and re-rooted. */
static int test_upstream_image(void)
{
	struct img_reader r;
	ProtobufCMessage *m = NULL;
	CgroupEntry *e;
	const char *ctrls[] = {NULL}, *roots[] = {"/restored"};
	struct cg_root_map map = {.ctrls = ctrls, .roots = roots, .n = 1};
	CgControllerEntry *pids;
	CgSetEntry *root, *child;

	CHECK(img_reader_open(&r, AT_FDCWD, "test/unit/fixtures/cgroup/upstream-4.2.1-cgroup.img", IMG_CGROUP) == 0);
	CHECK(img_read_entry(&r, &m) > 0);
	img_reader_close(&r);
	e = (CgroupEntry *)m;
	CHECK(cg_image_check(e) == 0);
	CHECK(e->n_sets == 2 && cg_image_set(e, 1) == NULL); /* criu's own is left out */
	root = cg_image_set(e, 2);
	child = cg_image_set(e, 3);
	CHECK(root && child && root->n_ctls == 10);
	CHECK_STR(root->ctls[0]->name, ""); /* v2 first: sorted by name */
	CHECK_STR(root->ctls[0]->path, "/cgtest-up/a");
	pids = cg_image_controller(e, "pids");
	CHECK(pids && pids->n_dirs == 1);
	CHECK_STR(pids->dirs[0]->dir_name, "cgtest-up/a");
	CHECK_STR(pids->dirs[0]->properties[0]->name, "pids.max");
	CHECK_STR(pids->dirs[0]->properties[0]->value, "50");
	CHECK_STR(pids->dirs[0]->children[0]->dir_name, "b");
	CHECK(cg_image_controller(e, "name=systemd") != NULL);
	CHECK(cg_image_controller(e, "") != NULL);

	CHECK(cg_reroot_image(e, 2, &map) == 0);
	CHECK_STR(root->ctls[0]->path, "/restored");
	CHECK_STR(child->ctls[0]->path, "/restored/b"); /* v2: below the root's */
	for (size_t i = 0; i < child->n_ctls; i++)
		if (!strcmp(child->ctls[i]->name,
			    "cpu")) /* the child was at / in cpu: the root's parent, so it stays */
			CHECK_STR(child->ctls[i]->path, "/");
	CHECK_STR(pids->dirs[0]->dir_name, "restored");
	cgroup_entry__free_unpacked(e, NULL);
	return 0;
}

/* A malformed cgroup.img can't lead restore outside the cgroups it names. */
static int test_image_check(void)
{
	static const char *const bad_dirs[] = {"..", "ct/../x", "ct//x", ".", "ct/."};
	static const char *const bad_props[] = {"../cpu.shares", "a/b", "..", ""};
	static const char *const bad_paths[] = {"/ct/../..", "ct", "/ct//b", "/./ct", ""};
	CgroupEntry *e = image(0);
	CgroupPropEntry *p = malloc(sizeof(*p));
	char *keep;

	CHECK(cg_image_check(e) == 0);
	CHECK(cg_image_check(NULL) == 0);
	e->controllers[0]->dirs[0]->children = malloc(sizeof(CgroupDirEntry *));
	e->controllers[0]->dirs[0]->children[0] = dir("a/b");
	e->controllers[0]->dirs[0]->n_children = 1;
	CHECK(cg_image_check(e) == 0); /* upstream writes paths of several components */
	quiet();
	for (size_t i = 0; i < ARRAY_SIZE(bad_dirs); i++) {
		keep = e->controllers[0]->dirs[0]->children[0]->dir_name;
		e->controllers[0]->dirs[0]->children[0]->dir_name = (char *)bad_dirs[i];
		CHECK(cg_image_check(e) == -EINVAL);
		e->controllers[0]->dirs[0]->children[0]->dir_name = keep;
	}
	cgroup_prop_entry__init(p);
	p->value = strdup("1");
	e->controllers[1]->dirs[0]->properties = malloc(sizeof(p));
	e->controllers[1]->dirs[0]->properties[0] = p;
	e->controllers[1]->dirs[0]->n_properties = 1;
	p->name = strdup("pids.max");
	CHECK(cg_image_check(e) == 0);
	keep = p->name;
	for (size_t i = 0; i < ARRAY_SIZE(bad_props); i++) {
		p->name = (char *)bad_props[i];
		CHECK(cg_image_check(e) == -EINVAL);
	}
	p->name = keep;
	for (size_t i = 0; i < ARRAY_SIZE(bad_paths); i++) {
		keep = e->sets[1]->ctls[1]->path;
		e->sets[1]->ctls[1]->path = (char *)bad_paths[i];
		CHECK(cg_image_check(e) == -EINVAL);
		e->sets[1]->ctls[1]->path = keep;
	}
	e->sets[0]->ctls[0]->has_cgns_prefix = true;
	e->sets[0]->ctls[0]->cgns_prefix = 4; /* "/ct" is 3 long */
	CHECK(cg_image_check(e) == -EINVAL);
	e->sets[0]->ctls[0]->cgns_prefix = 3;
	CHECK(cg_image_check(e) == 0);
	e->sets[0]->ctls[0]->cgns_prefix = 2; /* "/c" of "/ct": half a name */
	CHECK(cg_image_check(e) == -EINVAL);
	e->sets[0]->ctls[0]->cgns_prefix = 1; /* the hierarchy's root */
	CHECK(cg_image_check(e) == 0);
	e->sets[0]->ctls[0]->cgns_prefix = 0;
	CHECK(cg_image_check(e) == 0);
	keep = e->sets[0]->ctls[0]->path;
	e->sets[0]->ctls[0]->path = (char *)"/machine.slice/libpod-abc/x";
	e->sets[0]->ctls[0]->cgns_prefix = 24; /* "/machine.slice/libpod-ab" */
	CHECK(cg_image_check(e) == -EINVAL);
	e->sets[0]->ctls[0]->cgns_prefix = 25; /* "/machine.slice/libpod-abc" */
	CHECK(cg_image_check(e) == 0);
	e->sets[0]->ctls[0]->path = keep;
	loud();
	cgroup_entry__free_unpacked(e, NULL);
	return 0;
}

/* The fuzz target's seeds (test/fuzz/corpus/cgroup-img/), through the
 * same steps: decoded, checked, re-rooted; the upstream one is accepted. */
static int test_corpus(void)
{
	const char *dir = "test/fuzz/corpus/cgroup-img";
	const char *ctrls[] = {NULL}, *roots[] = {"/restored"};
	struct cg_root_map map = {.ctrls = ctrls, .roots = roots, .n = 1};
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0, accepted = 0;

	CHECK(d != NULL);
	quiet();
	while ((de = readdir(d))) {
		char path[512];
		struct img_reader r;
		ProtobufCMessage *m = NULL;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		n++;
		if (img_reader_open(&r, AT_FDCWD, path, IMG_CGROUP))
			continue;
		if (img_read_entry(&r, &m) > 0 && m) {
			CgroupEntry *e = (CgroupEntry *)m;

			if (!cg_image_check(e)) {
				accepted++;
				if (e->n_sets && !cg_reroot_image(e, e->sets[0]->id, &map))
					CHECK(cg_image_check(e) == 0);
			}
			protobuf_c_message_free_unpacked(m, NULL);
		}
		img_reader_close(&r);
	}
	closedir(d);
	loud();
	CHECK(n > 0 && accepted > 0);
	return 0;
}

static const struct unit_case cases[] = {
	{"parse-proc-cgroup", test_parse},
	{"parse-proc-cgroup-bad", test_parse_bad},
	{"cgns-prefix", test_ns_prefix},
	{"controller-matches", test_ctrl_matches},
	{"cgroup-root-parse", test_root_parse},
	{"rebase", test_rebase},
	{"manage-cgroups-modes", test_modes},
	{"reroot-image", test_reroot},
	{"reroot-image-cgns", test_reroot_cgns},
	{"reroot-image-dump-root", test_reroot_dump_root},
	{"props", test_props},
	{"prop-restorable", test_prop_restorable},
	{"word-in", test_word_in},
	{"upstream-4.2-image", test_upstream_image},
	{"image-check", test_image_check},
	{"fuzz-corpus", test_corpus},
	{},
};

int main(void)
{
	int ret;

	log_init(-1, NULL);
	quiet();
	ret = unit_run(cases);
	loud();
	return ret;
}

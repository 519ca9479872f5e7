/*
 * Golden-file tests for the mount tree and the classification of mounts:
 * each fixtures/tree/NAME.mountinfo (with NAME.opts, the dump options, and an
 * optional NAME.host, criu's own mountinfo) is built, classified and printed
 * along with every error message; the result must equal NAME.golden. The
 * nested* cases classify two namespaces of one dump together.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/log.h"
#include "mount/mount-external.h"
#include "mount/mount-tree.h"
#include "options.h"
#include "unit.h"
#include "util/util.h"

#define FIX "test/unit/fixtures/tree/"

static int build_tree(const char *text, struct mount_tree *t)
{
	struct mountinfo_table table = {};
	struct proc_err err = {};

	if (mountinfo_parse(text, strlen(text), &table, &err)) {
		mountinfo_table_free(&table);
		return -1;
	}
	if (mount_tree_build(t, &table)) {
		mountinfo_table_free(&table);
		return -1;
	}
	return 0;
}

/* Parses "--opt val --opt2" (space separated) as `criu dump -t 1 ...`. */
static int parse_opts_line(char *line, struct options *o)
{
	char *argv[64] = { "criu", "dump", "-t", "1" };
	int argc = 4;

	for (char *tok = strtok(line, " \n"); tok && argc < 63; tok = strtok(NULL, " \n"))
		argv[argc++] = tok;
	argv[argc] = NULL;
	return parse_options(argc, argv, o);
}

/* Error lines without "(file:line)", which change whenever code moves. */
static void append_log(char **out, const char *logpath)
{
	char *log = unit_slurp(logpath, NULL);
	size_t n = strlen(*out) + (log ? strlen(log) : 0) + 64;
	char *res = xmalloc(n);
	char *w = res + sprintf(res, "%s-- messages --\n", *out);

	for (char *p = log; p && *p;) {
		char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p + 1) : strlen(p);
		char *paren = strstr(p, " (criu/");
		char *close = paren ? strstr(paren, "): ") : NULL;

		if (paren && close && close < p + len) {
			memcpy(w, p, paren - p);
			w += paren - p;
			len -= close + 1 - p;
			p = close + 1;
		}
		memcpy(w, p, len);
		w += len;
		p += len;
	}
	*w = '\0';
	free(log);
	free(*out);
	*out = res;
}

static int run_fixture(const char *name)
{
	char path[512], logpath[] = "/tmp/criu-unit-log.XXXXXX";
	struct mount_tree t = {}, host = {};
	struct options o;
	char *text, *opts, *hosttext, *out;
	int errors, fd, ret = 0;

	snprintf(path, sizeof(path), FIX "%s.mountinfo", name);
	text = unit_slurp(path, NULL);
	snprintf(path, sizeof(path), FIX "%s.opts", name);
	opts = unit_slurp(path, NULL);
	snprintf(path, sizeof(path), FIX "%s.host", name);
	hosttext = unit_slurp(path, NULL);
	CHECK(text && opts);

	fd = mkstemp(logpath);
	CHECK(fd >= 0);
	close(fd);
	log_init(LOG_WARN, logpath);
	CHECK(parse_opts_line(opts, &o) == 0);
	CHECK(build_tree(text, &t) == 0);
	if (hosttext)
		CHECK(build_tree(hosttext, &host) == 0);
	errors = mount_classify(&t, &o, hosttext ? &host : NULL);
	log_init(LOG_WARN, NULL);

	out = mount_tree_format(&t);
	{
		char *res = xmalloc(strlen(out) + 64);
		sprintf(res, "%serrors: %d\n", out, errors);
		free(out);
		out = res;
	}
	append_log(&out, logpath);
	unlink(logpath);
	snprintf(path, sizeof(path), FIX "%s.golden", name);
	ret = unit_golden(path, out);

	free(out);
	mount_tree_free(&t);
	if (hosttext)
		mount_tree_free(&host);
	options_free(&o);
	free(text);
	free(opts);
	free(hosttext);
	return ret;
}

#define FIXTURE_CASE(n)                 \
	static int test_##n(void)       \
	{                               \
		return run_fixture(#n); \
	}
FIXTURE_CASE(seed)
static int test_seed_mapped(void)
{
	return run_fixture("seed-mapped");
}
static int test_seed_legacy(void)
{
	return run_fixture("seed-legacy");
}
static int test_seed_auto(void)
{
	return run_fixture("seed-auto");
}
static int test_seed_typo(void)
{
	return run_fixture("seed-typo");
}
FIXTURE_CASE(docker)
FIXTURE_CASE(overmount)
FIXTURE_CASE(sharing)
static int test_sharing_allowed(void)
{
	return run_fixture("sharing-allowed");
}
FIXTURE_CASE(subdir)

/* Errors in the tree itself. */
static int test_tree_errors(void)
{
	static const char *bad[] = {
		/* duplicate id */
		"1 0 0:1 / / rw - tmpfs t rw\n1 1 0:2 / /a rw - tmpfs t rw\n",
		/* a mount whose parent is invisible, not at / */
		"1 0 0:1 / / rw - tmpfs t rw\n2 9 0:2 / /a rw - tmpfs t rw\n",
		/* two roots */
		"1 0 0:1 / / rw - tmpfs t rw\n2 9 0:2 / / rw - tmpfs t rw\n",
		/* a parent loop detached from the root */
		"1 0 0:1 / / rw - tmpfs t rw\n2 3 0:2 / /a rw - tmpfs t rw\n3 2 0:2 / /a/b rw - tmpfs t rw\n",
	};

	log_init(-1, "/dev/null");
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct mount_tree t = {};
		int r = build_tree(bad[i], &t);
		mount_tree_free(&t);
		if (r == 0) {
			log_init(LOG_WARN, NULL);
			snprintf(unit_fail_msg, sizeof(unit_fail_msg), "bad tree %zu accepted", i);
			return 1;
		}
	}
	log_init(LOG_WARN, NULL);
	return 0;
}

/* A deep chain and a wide tree of 10,000 mounts build and classify. */
static int test_ten_thousand(void)
{
	size_t cap = 10001 * 96, len = 0;
	char *buf = xmalloc(cap);
	struct mount_tree t = {};
	struct options o;
	char *argv[] = { "criu", "dump", "-t", "1", NULL };

	len += sprintf(buf + len, "1 0 8:1 /c / rw - ext4 /dev/sda1 rw\n");
	for (int i = 2; i <= 10000; i++) {
		/* half a chain of nested tmpfs, half binds of the root fs */
		if (i % 2)
			len += sprintf(buf + len, "%d %d 0:%d / /n%d rw - tmpfs t rw\n", i, i - 2 > 1 ? i - 2 : 1,
				       i, i);
		else
			len += sprintf(buf + len, "%d 1 8:1 /c/d%d /b%d rw - ext4 /dev/sda1 rw\n", i, i, i);
	}
	CHECK(parse_options(4, argv, &o) == 0);
	CHECK(build_tree(buf, &t) == 0);
	CHECK(t.nr == 10000);
	CHECK(mount_classify(&t, &o, NULL) == 0);
	size_t binds = 0;
	for_each_mount(&t, m) binds += m->kind == MNT_BIND;
	CHECK(binds == 5000);
	mount_tree_free(&t);
	options_free(&o);
	free(buf);
	return 0;
}

static int test_key_normalize(void)
{
	char out[64];

	CHECK(ext_key_normalize("/bar/", out, sizeof(out)));
	CHECK_STR(out, "/bar");
	CHECK(ext_key_normalize("/", out, sizeof(out)));
	CHECK_STR(out, "/");
	CHECK(!ext_key_normalize("bar", out, sizeof(out)));
	return 0;
}

/*
 * Two namespaces of one dump (fixtures/tree/nested.ns1, .ns2, .host: a
 * container and its `unshare -m --propagation unchanged` copy, in which
 * /s2 was made a slave, /ext2 is left, a tmpfs has its root, and a
 * slave of a host group lives), classified together with NAME.opts;
 * process 1 is in namespace 1, process 7 in namespace 2.
 */
static int run_forest(const char *name, struct mount_tree trees[2], struct mount_tree *host, struct mount_forest *f,
		      struct hmap *vpids, char **out)
{
	char path[512], logpath[] = "/tmp/criu-unit-log.XXXXXX";
	const char *ext[2] = {"ns1", "ns2"};
	struct options o;
	char *opts, *text;
	int errors, fd;

	snprintf(path, sizeof(path), FIX "%s.opts", name);
	opts = unit_slurp(path, NULL);
	CHECK(opts);
	for (int i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), FIX "nested.%s", ext[i]);
		text = unit_slurp(path, NULL);
		CHECK(text && build_tree(text, &trees[i]) == 0);
		trees[i].ns_id = (uint32_t)i + 1;
		trees[i].ns_vpid = i ? 7 : 1;
		free(text);
	}
	text = unit_slurp(FIX "nested.host", NULL);
	CHECK(text && build_tree(text, host) == 0);
	free(text);
	hmap_put_int(vpids, 1, (void *)1);
	hmap_put_int(vpids, 7, (void *)2);
	f->ns_by_vpid = vpids;

	fd = mkstemp(logpath);
	CHECK(fd >= 0);
	close(fd);
	log_init(LOG_WARN, logpath);
	CHECK(parse_opts_line(opts, &o) == 0);
	mount_forest_index(f, trees, 2);
	errors = mount_classify_forest(f, &o, host);
	log_init(LOG_WARN, NULL);

	*out = xzalloc(1);
	for (int i = 0; i < 2; i++) {
		char *t = mount_tree_format(&trees[i]);
		char *res = xmalloc(strlen(*out) + strlen(t) + 64);

		sprintf(res, "%s== namespace %d\n%s", *out, i + 1, t);
		free(t);
		free(*out);
		*out = res;
	}
	{
		char *res = xmalloc(strlen(*out) + 64);
		sprintf(res, "%serrors: %d\n", *out, errors);
		free(*out);
		*out = res;
	}
	append_log(out, logpath);
	unlink(logpath);
	options_free(&o);
	free(opts);
	return 0;
}

static int forest_golden(const char *name, int (*check)(const struct mount_forest *f))
{
	struct mount_tree trees[2] = {}, host = {};
	struct mount_forest f = {};
	struct hmap vpids;
	char path[512], *out = NULL;
	int ret;

	hmap_init(&vpids);
	ret = run_forest(name, trees, &host, &f, &vpids, &out);
	if (!ret && check)
		ret = check(&f);
	if (!ret) {
		snprintf(path, sizeof(path), FIX "%s.golden", name);
		ret = unit_golden(path, out);
	}
	free(out);
	mount_forest_fini(&f);
	for (int i = 0; i < 2; i++)
		mount_tree_free(&trees[i]);
	mount_tree_free(&host);
	hmap_free(&vpids);
	return ret;
}

/* The index across namespaces: the root's namespace first, groups whole. */
static int check_nested_index(const struct mount_forest *f)
{
	struct mount *m;

	/* /shared's tmpfs: ns 1's mount first, though ns 2's has a lower id */
	m = mount_forest_by_sb_root(f, KDEV_MAKE(0, 47), "/", 1);
	CHECK(m && m->mi->mnt_id == 238 && m->tree->ns_id == 1);
	/* a tmpfs whose root "/" is mounted in ns 2 only */
	m = mount_forest_by_sb_root(f, KDEV_MAKE(0, 49), "/", 1);
	CHECK(m && m->mi->mnt_id == 217 && m->tree->ns_id == 2);
	/* peer group 3 has a member in each, in walk order */
	m = mount_forest_peer_group(f, 3);
	CHECK(m && m->mi->mnt_id == 238 && m->xpeer_next && m->xpeer_next->mi->mnt_id == 204);
	CHECK(!m->xpeer_next->xpeer_next);
	CHECK(!mount_forest_peer_group(f, 90));
	/* ns 2's /s2 is a slave of ns 1's group: not outside; /hostslave is */
	CHECK(!mount_by_mountpoint(&f->trees[1], "/s2")->master_outside);
	CHECK(mount_by_mountpoint(&f->trees[1], "/hostslave")->master_outside);
	/* ns 2's /ext1 and the part of it at /ext1sub are written as e1 */
	m = mount_by_mountpoint(&f->trees[1], "/ext1sub");
	CHECK(mount_named_external_origin(m) == mount_by_mountpoint(&f->trees[0], "/ext1"));
	CHECK(mount_named_external_origin(mount_by_mountpoint(&f->trees[1], "/ext1")) ==
	      mount_by_mountpoint(&f->trees[0], "/ext1"));
	/* one tmpfs contents per superblock: only the first "/" mount is fresh */
	CHECK(mount_by_mountpoint(&f->trees[0], "/shared")->kind == MNT_FRESH);
	CHECK(mount_by_mountpoint(&f->trees[1], "/shared")->kind == MNT_BIND);
	CHECK(mount_by_mountpoint(&f->trees[1], "/only2")->kind == MNT_FRESH);
	CHECK(mount_by_mountpoint(&f->trees[0], "/shared/part")->kind == MNT_BIND);
	return 0;
}

static int test_nested(void)
{
	return forest_golden("nested", check_nested_index);
}

static int test_nested_auto(void)
{
	return forest_golden("nested-auto", NULL);
}

static int test_nested_keys(void)
{
	return forest_golden("nested-keys", NULL);
}

/* A single namespace decides as mount_classify did before there were several. */
static int test_forest_of_one(void)
{
	struct mount_tree a = {}, b = {};
	struct mount_forest f = {};
	struct options o;
	char *text = unit_slurp(FIX "docker.mountinfo", NULL);
	char *host = unit_slurp(FIX "docker.host", NULL);
	char *opts = unit_slurp(FIX "docker.opts", NULL);
	struct mount_tree h = {};
	char *fa, *fb;

	CHECK(text && host && opts);
	CHECK(parse_opts_line(opts, &o) == 0);
	CHECK(build_tree(text, &a) == 0 && build_tree(text, &b) == 0 && build_tree(host, &h) == 0);
	log_init(-1, "/dev/null");
	CHECK(mount_classify(&a, &o, &h) == 0);
	mount_forest_index(&f, &b, 1);
	CHECK(mount_classify_forest(&f, &o, &h) == 0);
	log_init(LOG_WARN, NULL);
	fa = mount_tree_format(&a);
	fb = mount_tree_format(&b);
	CHECK_STR(fa, fb);
	free(fa);
	free(fb);
	mount_forest_fini(&f);
	mount_tree_free(&a);
	mount_tree_free(&b);
	mount_tree_free(&h);
	options_free(&o);
	free(text);
	free(host);
	free(opts);
	return 0;
}

/* 10 namespaces of 1,000 mounts cost about what 10,000 mounts in one do. */
static double classify_ms(size_t nr_ns, size_t per_ns)
{
	struct mount_tree *trees = xzalloc(nr_ns * sizeof(*trees));
	struct mount_forest f = {};
	struct options o;
	char *argv[] = {"criu", "dump", "-t", "1", NULL};
	struct timespec a, b;
	double ms;

	if (parse_options(4, argv, &o))
		return -1;
	for (size_t n = 0; n < nr_ns; n++) {
		size_t cap = (per_ns + 1) * 96, len = 0;
		char *buf = xmalloc(cap);
		unsigned base = (unsigned)(n * per_ns);

		/* each namespace a copy: binds of the root fs and tmpfs, same superblocks */
		len += sprintf(buf + len, "%u 0 8:1 /c / rw - ext4 /dev/sda1 rw\n", base + 1);
		for (size_t i = 2; i <= per_ns; i++)
			len += sprintf(buf + len,
				       i % 2 ? "%u %u 0:%zu / /n%zu rw shared:%zu - tmpfs t rw\n"
					     : "%u %u 8:1 /c/d%zu /b%zu rw shared:%zu - ext4 /dev/sda1 rw\n",
				       base + (unsigned)i, base + 1, i, i, i);
		if (build_tree(buf, &trees[n]))
			return -1;
		trees[n].ns_id = (uint32_t)n + 1;
		free(buf);
	}
	clock_gettime(CLOCK_MONOTONIC, &a);
	mount_forest_index(&f, trees, nr_ns);
	if (mount_classify_forest(&f, &o, NULL))
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &b);
	ms = (b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) / 1e6;
	mount_forest_fini(&f);
	for (size_t n = 0; n < nr_ns; n++)
		mount_tree_free(&trees[n]);
	free(trees);
	options_free(&o);
	return ms;
}

static int test_forest_linear(void)
{
	double one = 1e9, ten = 1e9;

	/* best of 3 each, so that a busy machine does not decide */
	for (int i = 0; i < 3; i++) {
		double x = classify_ms(1, 10000), y = classify_ms(10, 1000);

		CHECK(x >= 0 && y >= 0);
		one = x < one ? x : one;
		ten = y < ten ? y : ten;
	}
	if (ten > 2 * one + 5) {
		snprintf(unit_fail_msg, sizeof(unit_fail_msg), "10 x 1,000 mounts took %.1f ms, 10,000 in one %.1f ms",
			 ten, one);
		return 1;
	}
	return 0;
}

static int test_key_parse(void)
{
	static const struct {
		const char *key;
		bool ok;
		pid_t vpid;
		const char *mp;
	} cases[] = {
		{"/bar/", true, 0, "/bar"},
		{"/proc/7/root/ext2", true, 7, "/ext2"},
		{"/proc/7/root/a/b/", true, 7, "/a/b"},
		{"/proc/7/root", true, 7, "/"},
		{"/proc/7/root/", true, 7, "/"},
		{"/proc/7/rootfs/x", true, 0, "/proc/7/rootfs/x"},
		{"/proc/self/root/x", true, 0, "/proc/self/root/x"},
		{"/proc/7/cwd/x", true, 0, "/proc/7/cwd/x"},
		{"/proc", true, 0, "/proc"},
		{"/proc/0/root/x", false, 0, NULL},
		{"/proc/007/root/x", false, 0, NULL},
		{"/proc/99999999999/root/x", false, 0, NULL},
		{"proc/7/root/x", false, 0, NULL},
	};
	char out[64];

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		pid_t vpid = -1;
		bool ok = ext_key_parse(cases[i].key, &vpid, out, sizeof(out));

		if (ok != cases[i].ok || (ok && (vpid != cases[i].vpid || strcmp(out, cases[i].mp)))) {
			snprintf(unit_fail_msg, sizeof(unit_fail_msg), "%s: %s, vpid %d, '%s'", cases[i].key,
				 ok ? "accepted" : "refused", (int)vpid, ok ? out : "");
			return 1;
		}
	}
	return 0;
}

static const struct unit_case cases[] = {
	{"tree-seed-unmapped", test_seed},
	{"tree-seed-mapped", test_seed_mapped},
	{"tree-seed-legacy-map", test_seed_legacy},
	{"tree-seed-autodetect", test_seed_auto},
	{"tree-seed-typo-and-duplicate", test_seed_typo},
	{"tree-docker", test_docker},
	{"tree-overmount", test_overmount},
	{"tree-sharing-refused", test_sharing},
	{"tree-sharing-allowed", test_sharing_allowed},
	{"tree-subdir-of-external", test_subdir},
	{"tree-errors", test_tree_errors},
	{"tree-10000-mounts", test_ten_thousand},
	{"ext-key-normalize", test_key_normalize},
	{"ext-key-parse-proc-root", test_key_parse},
	{"forest-nested-named", test_nested},
	{"forest-nested-autodetect", test_nested_auto},
	{"forest-nested-key-errors", test_nested_keys},
	{"forest-of-one-as-before", test_forest_of_one},
	{"forest-10x1000-as-10000", test_forest_linear},
	{},
};

UNIT_MAIN(cases)

/*
 * Golden-file tests for the mount tree and the classification of mounts:
 * each fixtures/tree/NAME.mountinfo (with NAME.opts, the dump options, and an
 * optional NAME.host, criu's own mountinfo) is built, classified and printed
 * along with every error message; the result must equal NAME.golden.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

static const struct unit_case cases[] = {
	{ "tree-seed-unmapped", test_seed },
	{ "tree-seed-mapped", test_seed_mapped },
	{ "tree-seed-legacy-map", test_seed_legacy },
	{ "tree-seed-autodetect", test_seed_auto },
	{ "tree-seed-typo-and-duplicate", test_seed_typo },
	{ "tree-docker", test_docker },
	{ "tree-overmount", test_overmount },
	{ "tree-sharing-refused", test_sharing },
	{ "tree-sharing-allowed", test_sharing_allowed },
	{ "tree-subdir-of-external", test_subdir },
	{ "tree-errors", test_tree_errors },
	{ "tree-10000-mounts", test_ten_thousand },
	{ "ext-key-normalize", test_key_normalize },
	{},
};

UNIT_MAIN(cases)

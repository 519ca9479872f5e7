/*
 * The command line: parse_options(), parse_external() and
 * parse_ext_mount_map(), table-driven.
 *
 * Each row of a table is one case: the arguments after "criu", the expected
 * return value, a piece of text that must appear in what the parser printed
 * (stderr for errors, stdout for --help/--version) and, for successful
 * parses, a function that checks the fields of struct options. Output of the
 * parser is captured, so a passing run prints only "ok NAME" lines.
 *
 * A row with `known_bug` set documents a bug that is not fixed yet: while it
 * still shows, the case is reported as "skip" with the reason; once fixed it
 * passes and the marker should be removed.
 */
#include <fcntl.h>
#include <unistd.h>

#include "unit.h"
#include "options.h"

#define MAX_ARGS 32

/* Table rows leave out the trailing columns they don't need. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

/* ------------------------------------------------------------ capturing */

struct capture {
	FILE *out, *err;
	int saved_out, saved_err;
	char out_text[8192];
	char err_text[8192];
};

static void capture_begin(struct capture *c)
{
	fflush(stdout);
	fflush(stderr);
	c->out = tmpfile();
	c->err = tmpfile();
	c->saved_out = dup(STDOUT_FILENO);
	c->saved_err = dup(STDERR_FILENO);
	if (c->out)
		dup2(fileno(c->out), STDOUT_FILENO);
	if (c->err)
		dup2(fileno(c->err), STDERR_FILENO);
}

static void slurp_capture(FILE *f, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	if (!f)
		return;
	rewind(f);
	n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
}

static void capture_end(struct capture *c)
{
	fflush(stdout);
	fflush(stderr);
	dup2(c->saved_out, STDOUT_FILENO);
	dup2(c->saved_err, STDERR_FILENO);
	close(c->saved_out);
	close(c->saved_err);
	slurp_capture(c->out, c->out_text, sizeof(c->out_text));
	slurp_capture(c->err, c->err_text, sizeof(c->err_text));
}

/* Runs parse_options on "criu" + args with its output captured. */
static int run_parse(const char *const *args, struct options *o, struct capture *c)
{
	char *argv[MAX_ARGS + 2];
	int argc = 0, ret;

	argv[argc++] = "criu";
	for (int i = 0; i < MAX_ARGS && args[i]; i++)
		argv[argc++] = (char *)args[i];
	argv[argc] = NULL;
	capture_begin(c);
	ret = parse_options(argc, argv, o);
	capture_end(c);
	return ret;
}

/* ------------------------------------------------------ field checkers */

static int check_defaults(const struct options *o)
{
	CHECK_STR(o->imgs_dir, ".");
	CHECK(o->log_file == NULL);
	CHECK(o->verbosity == 2);
	CHECK(o->timeout == 10);
	CHECK(o->root == NULL);
	CHECK(!o->leave_running && !o->restore_detached && !o->shell_job && !o->auto_dedup);
	CHECK(o->pidfile == NULL);
	CHECK(o->nr_ext_mounts == 0 && o->ext_mounts == NULL);
	CHECK(!o->ext_mounts_auto && !o->enable_external_sharing && !o->enable_external_masters);
	CHECK(o->nr_externals == 0 && o->externals == NULL);
	CHECK(o->show_file == NULL && o->show_fields == NULL && o->feature == NULL);
	return 0;
}

static int check_dump_pid1(const struct options *o)
{
	CHECK(o->tree_pid == 1);
	return check_defaults(o);
}

static int check_restore(const struct options *o)
{
	CHECK(o->tree_pid == 0);
	return check_defaults(o);
}

static int check_show_file(const struct options *o)
{
	CHECK_STR(o->show_file, "imgs/mountpoints-1.img");
	CHECK(o->show_fields == NULL);
	return 0;
}

static int check_show_fields(const struct options *o)
{
	CHECK_STR(o->show_file, "m.img");
	CHECK_STR(o->show_fields, "mnt_id,root,mountpoint");
	return 0;
}

static int check_check(const struct options *o)
{
	CHECK(o->feature == NULL);
	return check_defaults(o);
}

static int check_feature(const struct options *o)
{
	CHECK_STR(o->feature, "mnt_id");
	return 0;
}

static int check_imgs_dir(const struct options *o)
{
	CHECK_STR(o->imgs_dir, "/tmp/imgs");
	return 0;
}

static int check_imgs_dir_last(const struct options *o)
{
	CHECK_STR(o->imgs_dir, "second");
	return 0;
}

static int check_pid_5(const struct options *o)
{
	CHECK(o->tree_pid == 5);
	CHECK_STR(o->imgs_dir, "/imgs");
	return 0;
}

static int check_pid_max(const struct options *o)
{
	CHECK(o->tree_pid == 2147483647);
	return 0;
}

static int check_log_file(const struct options *o)
{
	CHECK_STR(o->log_file, "dump.log");
	return 0;
}

static int check_log_file_abs(const struct options *o)
{
	CHECK_STR(o->log_file, "/var/log/criu.log");
	return 0;
}

#define VERBOSITY_CHECK(n)                                                                                             \
	static int check_verbosity_##n(const struct options *o)                                                        \
	{                                                                                                              \
		CHECK(o->verbosity == n);                                                                              \
		return 0;                                                                                              \
	}
VERBOSITY_CHECK(0)
VERBOSITY_CHECK(1)
VERBOSITY_CHECK(2)
VERBOSITY_CHECK(3)
VERBOSITY_CHECK(4)

static int check_release(const struct options *o)
{
	CHECK(o->release_memory && !o->leave_running);
	return 0;
}

static int check_no_release(const struct options *o)
{
	CHECK(!o->release_memory);
	return 0;
}

static int check_auto_dedup(const struct options *o)
{
	CHECK(o->auto_dedup);
	return 0;
}

static int check_root_flags(const struct options *o)
{
	CHECK_STR(o->root, "/srv/rootfs");
	CHECK(o->leave_running && o->restore_detached && o->shell_job);
	CHECK_STR(o->pidfile, "/run/c.pid");
	CHECK(o->timeout == 30);
	return 0;
}

static int check_timeout_0(const struct options *o)
{
	CHECK(o->timeout == 0);
	return 0;
}

static int check_ext_bar(const struct options *o)
{
	CHECK(o->nr_ext_mounts == 1);
	CHECK_STR(o->ext_mounts[0].key, "/bar");
	CHECK_STR(o->ext_mounts[0].val, "barmount");
	CHECK_STR(o->ext_mounts[0].spelling, "mnt[/bar]:barmount");
	CHECK(!o->ext_mounts[0].used);
	CHECK(!o->ext_mounts_auto && !o->enable_external_sharing && !o->enable_external_masters);
	CHECK(o->nr_externals == 0);
	return 0;
}

static int check_ext_restore_map(const struct options *o)
{
	CHECK(o->cmd == CMD_RESTORE);
	CHECK(o->nr_ext_mounts == 1);
	CHECK_STR(o->ext_mounts[0].key, "barmount");
	CHECK_STR(o->ext_mounts[0].val, "/foo");
	return 0;
}

static int check_ext_in_order(const struct options *o)
{
	CHECK(o->nr_ext_mounts == 3);
	CHECK_STR(o->ext_mounts[0].key, "/a");
	CHECK_STR(o->ext_mounts[0].val, "x");
	CHECK_STR(o->ext_mounts[1].key, "/b");
	CHECK_STR(o->ext_mounts[1].val, "y");
	CHECK_STR(o->ext_mounts[1].spelling, "/b:y");
	CHECK_STR(o->ext_mounts[2].key, "/etc/hosts");
	CHECK_STR(o->ext_mounts[2].val, "hosts");
	return 0;
}

/* mnt[] with its flags: auto, sharing, masters */
#define AUTO_CHECK(name, s, m)                                                                                         \
	static int check_auto_##name(const struct options *o)                                                          \
	{                                                                                                              \
		CHECK(o->ext_mounts_auto);                                                                             \
		CHECK(o->enable_external_sharing == (s));                                                              \
		CHECK(o->enable_external_masters == (m));                                                              \
		CHECK(o->nr_ext_mounts == 0);                                                                          \
		return 0;                                                                                              \
	}
AUTO_CHECK(none, false, false)
AUTO_CHECK(s, true, false)
AUTO_CHECK(m, false, true)
AUTO_CHECK(sm, true, true)

static int check_legacy_sharing(const struct options *o)
{
	CHECK(!o->ext_mounts_auto);
	CHECK(o->enable_external_sharing && !o->enable_external_masters);
	return 0;
}

static int check_legacy_masters(const struct options *o)
{
	CHECK(!o->ext_mounts_auto);
	CHECK(!o->enable_external_sharing && o->enable_external_masters);
	return 0;
}

static int check_ext_dev(const struct options *o)
{
	CHECK(o->nr_ext_mounts == 0 && !o->ext_mounts_auto);
	CHECK(o->nr_externals == 1);
	CHECK_STR(o->externals[0].kind, "dev");
	CHECK_STR(o->externals[0].key, "8/1");
	CHECK_STR(o->externals[0].val, "x");
	return 0;
}

static int check_ext_net(const struct options *o)
{
	CHECK(o->nr_externals == 1);
	CHECK_STR(o->externals[0].kind, "net");
	CHECK_STR(o->externals[0].key, "123");
	CHECK_STR(o->externals[0].val, "eth0");
	return 0;
}

static int check_ext_noval(const struct options *o)
{
	CHECK(o->nr_externals == 1);
	CHECK_STR(o->externals[0].kind, "tty");
	CHECK_STR(o->externals[0].key, "88:1");
	CHECK(o->externals[0].val == NULL);
	return 0;
}

static int check_map_bar(const struct options *o)
{
	CHECK(o->nr_ext_mounts == 1);
	CHECK_STR(o->ext_mounts[0].key, "/bar");
	CHECK_STR(o->ext_mounts[0].val, "barmount");
	CHECK(!o->ext_mounts_auto);
	return 0;
}

static int check_map_colons(const struct options *o)
{
	/* only the first colon separates: host paths may contain colons */
	CHECK(o->nr_ext_mounts == 1);
	CHECK_STR(o->ext_mounts[0].key, "name");
	CHECK_STR(o->ext_mounts[0].val, "/srv/a:b");
	return 0;
}

static int check_everything(const struct options *o)
{
	CHECK(o->tree_pid == 7);
	CHECK_STR(o->imgs_dir, "d");
	CHECK_STR(o->log_file, "l");
	CHECK(o->verbosity == 4);
	CHECK_STR(o->root, "/r");
	CHECK(o->leave_running && o->restore_detached && o->shell_job);
	CHECK_STR(o->pidfile, "p");
	CHECK(o->timeout == 3);
	CHECK(o->nr_ext_mounts == 2);
	CHECK_STR(o->ext_mounts[0].key, "/a");
	CHECK_STR(o->ext_mounts[1].key, "/b");
	CHECK(o->ext_mounts_auto && o->enable_external_sharing && o->enable_external_masters);
	CHECK(o->nr_externals == 1);
	CHECK_STR(o->externals[0].kind, "dev");
	return 0;
}

static int check_cg_default(const struct options *o)
{
	CHECK(o->manage_cgroups == 3 /* CG_MODE_SOFT, upstream's default */ && o->nr_cg_roots == 0);
	return 0;
}

static int check_cg_full_roots(const struct options *o)
{
	CHECK(o->manage_cgroups == 4 /* full */ && o->nr_cg_roots == 3);
	CHECK(o->cg_roots[0].ctrl == NULL);
	CHECK_STR(o->cg_roots[0].path, "/a");
	CHECK_STR(o->cg_roots[1].ctrl, "cpu,cpuacct");
	CHECK_STR(o->cg_roots[1].path, "/b");
	CHECK_STR(o->cg_roots[2].ctrl, "");
	return 0;
}

static int check_cg_ignore(const struct options *o)
{
	CHECK(o->manage_cgroups == 0);
	return 0;
}

/* ------------------------------------------------- parse_options table */

struct opt_case {
	const char *name;
	const char *args[MAX_ARGS + 1]; /* after "criu", NULL-terminated */
	int want_ret;			/* 0 parsed, 1 done (-h/-V), -1 error */
	enum criu_cmd want_cmd;		/* checked when want_ret == 0 */
	const char *want_text;		/* in stderr (ret -1) or stdout (ret 1) */
	int (*check)(const struct options *o);
	const char *known_bug; /* failure reported as skip with this reason */
};

/* clang-format off */
static const struct opt_case opt_cases[] = {
	/* commands */
	{ "cmd-dump", { "dump", "-t", "1" }, 0, CMD_DUMP, NULL, check_dump_pid1 },
	{ "cmd-restore", { "restore" }, 0, CMD_RESTORE, NULL, check_restore },
	{ "cmd-show", { "show", "-f", "imgs/mountpoints-1.img" }, 0, CMD_SHOW, NULL, check_show_file },
	{ "cmd-show-fields", { "show", "-f", "m.img", "-F", "mnt_id,root,mountpoint" }, 0, CMD_SHOW, NULL,
	  check_show_fields },
	{ "cmd-show-long", { "show", "--file", "m.img", "--fields=mnt_id,root,mountpoint" }, 0, CMD_SHOW, NULL,
	  check_show_fields },
	{ "cmd-check", { "check" }, 0, CMD_CHECK, NULL, check_check },
	{ "cmd-check-feature", { "check", "--feature", "mnt_id" }, 0, CMD_CHECK, NULL, check_feature },
	{ "cmd-missing", { NULL }, -1, 0, "no command given" },
	{ "cmd-missing-after-options", { "-D", "x", "-v4" }, -1, 0, "no command given" },
	{ "cmd-unknown", { "frobnicate" }, -1, 0, "unknown command 'frobnicate'" },
	{ "cmd-case-sensitive", { "DUMP", "-t", "1" }, -1, 0, "unknown command 'DUMP'" },
	{ "cmd-extra-argument", { "dump", "-t", "1", "extra" }, -1, 0, "unexpected argument 'extra'" },
	{ "cmd-two-commands", { "dump", "restore", "-t", "1" }, -1, 0, "unexpected argument 'restore'" },
	{ "dump-without-pid", { "dump" }, -1, 0, "dump needs the PID" },
	{ "dump-without-pid-hint", { "dump", "-D", "imgs" }, -1, 0, "add -t PID" },
	{ "show-without-file", { "show" }, -1, 0, "show needs an image file" },
	{ "show-without-file-hint", { "show", "-F", "root" }, -1, 0, "add -f FILE" },

	/* cgroups */
	{ "manage-cgroups-absent", { "restore" }, 0, CMD_RESTORE, NULL, check_cg_default },
	{ "manage-cgroups-no-mode", { "restore", "--manage-cgroups" }, 0, CMD_RESTORE, NULL, check_cg_default },
	{ "manage-cgroups-full-roots", { "restore", "--manage-cgroups=full", "--cgroup-root", "/a", "--cgroup-root",
	  "cpu,cpuacct:/b", "--cgroup-root", ":/c" }, 0, CMD_RESTORE, NULL, check_cg_full_roots },
	{ "manage-cgroups-ignore", { "restore", "--manage-cgroups=ignore" }, 0, CMD_RESTORE, NULL, check_cg_ignore },
	{ "manage-cgroups-bad-mode", { "restore", "--manage-cgroups=loose" }, -1, 0, "unknown mode" },
	{ "cgroup-root-relative", { "restore", "--cgroup-root", "cpu:b" }, -1, 0, "must be absolute" },
	{ "cgroup-root-missing", { "restore", "--cgroup-root" }, -1, 0, "needs a value" },

	/* -D */
	{ "images-dir", { "-D", "/tmp/imgs", "restore" }, 0, CMD_RESTORE, NULL, check_imgs_dir },
	{ "images-dir-long", { "--images-dir=/tmp/imgs", "restore" }, 0, CMD_RESTORE, NULL, check_imgs_dir },
	{ "images-dir-after-command", { "restore", "-D", "/tmp/imgs" }, 0, CMD_RESTORE, NULL, check_imgs_dir },
	{ "images-dir-last-wins", { "-D", "first", "-D", "second", "restore" }, 0, CMD_RESTORE, NULL,
	  check_imgs_dir_last },
	{ "images-dir-missing-value", { "restore", "-D" }, -1, 0, "option -D needs a value" },

	/* -t */
	{ "tree-pid", { "-t", "5", "-D", "/imgs", "dump" }, 0, CMD_DUMP, NULL, check_pid_5 },
	{ "tree-pid-long", { "dump", "--tree=5", "--images-dir", "/imgs" }, 0, CMD_DUMP, NULL, check_pid_5 },
	{ "tree-pid-attached", { "dump", "-t5", "-D/imgs" }, 0, CMD_DUMP, NULL, check_pid_5 },
	{ "tree-pid-int-max", { "dump", "-t", "2147483647" }, 0, CMD_DUMP, NULL, check_pid_max },
	{ "tree-pid-zero", { "dump", "-t", "0" }, -1, 0, "bad PID '0'" },
	{ "tree-pid-negative", { "dump", "-t", "-1" }, -1, 0, "bad PID '-1'" },
	{ "tree-pid-letters", { "dump", "-t", "abc" }, -1, 0, "bad PID 'abc'" },
	{ "tree-pid-trailing", { "dump", "-t", "12abc" }, -1, 0, "bad PID '12abc'" },
	{ "tree-pid-plus", { "dump", "-t", "+12" }, -1, 0, "bad PID '+12'" },
	{ "tree-pid-empty", { "dump", "-t", "" }, -1, 0, "bad PID ''" },
	{ "tree-pid-too-big", { "dump", "-t", "99999999999" }, -1, 0, "bad PID '99999999999'" },
	{ "tree-pid-int-max-plus-1", { "dump", "-t", "2147483648" }, -1, 0, "bad PID '2147483648'" },
	{ "tree-pid-missing-value", { "dump", "-t" }, -1, 0, "option -t needs a value" },

	/* -o */
	{ "log-file", { "restore", "-o", "dump.log" }, 0, CMD_RESTORE, NULL, check_log_file },
	{ "log-file-long", { "restore", "--log-file=/var/log/criu.log" }, 0, CMD_RESTORE, NULL, check_log_file_abs },

	/* -v */
	{ "verbosity-default", { "check" }, 0, CMD_CHECK, NULL, check_defaults },
	{ "verbosity-v", { "-v", "check" }, 0, CMD_CHECK, NULL, check_verbosity_3 },
	{ "verbosity-v4", { "-v4", "check" }, 0, CMD_CHECK, NULL, check_verbosity_4 },
	{ "verbosity-v0", { "-v0", "check" }, 0, CMD_CHECK, NULL, check_verbosity_0 },
	{ "verbosity-v0-then-v", { "-v0", "-v", "check" }, 0, CMD_CHECK, NULL, check_verbosity_1 },
	{ "verbosity-vv", { "-vv", "check" }, 0, CMD_CHECK, NULL, check_verbosity_4 },
	{ "verbosity-vvv-clamped", { "-vvv", "check" }, 0, CMD_CHECK, NULL, check_verbosity_4 },
	{ "verbosity-v4-then-v-clamped", { "-v4", "-v", "check" }, 0, CMD_CHECK, NULL, check_verbosity_4 },
	{ "verbosity-long", { "--verbosity=3", "check" }, 0, CMD_CHECK, NULL, check_verbosity_3 },
	{ "verbosity-long-bare", { "--verbosity", "check" }, 0, CMD_CHECK, NULL, check_verbosity_3 },
	/* upstream reads any text after -v: more v's add, anything else is atoi()'d */
	{ "verbosity-9-clamped", { "-v9", "check" }, 0, CMD_CHECK, NULL, check_verbosity_4 },
	{ "verbosity-long-9-clamped", { "--verbosity=9", "check" }, 0, CMD_CHECK, NULL, check_verbosity_4 },
	{ "verbosity-letters-level-0", { "-vx", "check" }, 0, CMD_CHECK, NULL, check_verbosity_0 },
	{ "verbosity-single-dash-word", { "-verbosity=0", "check" }, 0, CMD_CHECK, NULL, check_verbosity_0 },
	{ "verbosity-single-dash-word-4", { "-verbosity=4", "check" }, 0, CMD_CHECK, NULL, check_verbosity_0 },
	{ "verbosity-digits-then-text", { "-v3x", "check" }, 0, CMD_CHECK, NULL, check_verbosity_3 },
	{ "verbosity-negative", { "-v-1", "check" }, 0, CMD_CHECK, NULL, check_verbosity_0 },
	{ "verbosity-huge", { "-v99999999999999999999", "check" }, 0, CMD_CHECK, NULL, check_verbosity_4 },
	{ "verbosity-v0-then-vv", { "-v0", "-vv", "check" }, 0, CMD_CHECK, NULL, check_verbosity_2 },
	{ "verbosity-vvvv", { "-vvvv", "check" }, 0, CMD_CHECK, NULL, check_verbosity_4 },
	{ "verbosity-long-vv", { "-v0", "--verbosity=vv", "check" }, 0, CMD_CHECK, NULL, check_verbosity_3 },
	{ "verbosity-long-empty", { "--verbosity=", "check" }, 0, CMD_CHECK, NULL, check_verbosity_0 },
	{ "verbosity-in-group", { "-Rv0", "dump", "-t", "1" }, 0, CMD_DUMP, NULL, check_verbosity_0 },

	/* --pre-dump-mode: upstream's values, no effect on dump */
	{ "pre-dump-mode-splice", { "dump", "-t", "1", "--pre-dump-mode", "splice" }, 0, CMD_DUMP, NULL, NULL },
	{ "pre-dump-mode-read", { "dump", "-t", "1", "--pre-dump-mode=read" }, 0, CMD_DUMP, NULL, NULL },
	{ "pre-dump-mode-bad", { "dump", "-t", "1", "--pre-dump-mode", "mmap" }, -1, 0,
	  "bad --pre-dump-mode 'mmap': expected splice or read" },
	{ "pre-dump-mode-missing", { "dump", "-t", "1", "--pre-dump-mode" }, -1, 0,
	  "option --pre-dump-mode needs a value" },

	/* --release-memory: an explicit choice, for a dump that kills the tree */
	{ "release-memory-default-off", { "dump", "-t", "1" }, 0, CMD_DUMP, NULL, check_no_release },
	{ "release-memory", { "dump", "-t", "1", "--release-memory" }, 0, CMD_DUMP, NULL, check_release },
	{ "release-memory-with-R", { "dump", "-t", "1", "-R", "--release-memory" }, -1, 0,
	  "--release-memory gives back the memory of a tree the dump kills" },
	{ "release-memory-help-says-risk", { "--help" }, 1, 0, "the tree dies\n" },

	/* -V, -h: printed, nothing left to do */
	{ "version", { "-V" }, 1, 0, "Version: 4.2\nImplementation: criu (this project) " },
	{ "version-long", { "--version", "dump" }, 1, 0, "Version: " },
	{ "help", { "-h" }, 1, 0, "Usage:" },
	{ "help-long", { "--help" }, 1, 0, "--external mnt[KEY]:VAL" },
	{ "help-before-bad-args", { "-h", "frobnicate", "extra" }, 1, 0, "criu dump -t PID" },

	/* dump/restore flags */
	{ "root-and-flags", { "restore", "-r", "/srv/rootfs", "-R", "-d", "-j", "--pidfile", "/run/c.pid",
			      "--timeout", "30" }, 0, CMD_RESTORE, NULL, check_root_flags },
	{ "root-and-flags-long", { "restore", "--root=/srv/rootfs", "--leave-running", "--restore-detached",
				   "--shell-job", "--pidfile=/run/c.pid", "--timeout=30" }, 0, CMD_RESTORE, NULL,
	  check_root_flags },
	{ "timeout-zero", { "restore", "--timeout", "0" }, 0, CMD_RESTORE, NULL, check_timeout_0 },
	{ "auto-dedup", { "restore", "--auto-dedup" }, 0, CMD_RESTORE, NULL, check_auto_dedup },
	{ "auto-dedup-dump", { "dump", "-t", "1", "--auto-dedup" }, 0, CMD_DUMP, NULL, check_auto_dedup },
	{ "auto-dedup-value", { "restore", "--auto-dedup=yes" }, -1, 0, "auto-dedup" },
	{ "timeout-letters", { "restore", "--timeout", "soon" }, -1, 0, "bad --timeout 'soon'" },
	{ "timeout-negative", { "restore", "--timeout=-1" }, -1, 0, "bad --timeout '-1'" },
	{ "timeout-too-long", { "restore", "--timeout", "86401" }, -1, 0, "bad --timeout '86401'" },
	{ "no-default-config", { "--no-default-config", "check" }, 0, CMD_CHECK, NULL, check_defaults },

	/* --external mnt[...] */
	{ "external-mnt", { "dump", "-t", "1", "--external", "mnt[/bar]:barmount" }, 0, CMD_DUMP, NULL,
	  check_ext_bar },
	{ "external-mnt-equals", { "dump", "-t", "1", "--external=mnt[/bar]:barmount" }, 0, CMD_DUMP, NULL,
	  check_ext_bar },
	{ "external-mnt-restore", { "restore", "--external", "mnt[barmount]:/foo" }, 0, CMD_RESTORE, NULL,
	  check_ext_restore_map },
	{ "external-mnt-in-order", { "dump", "-t", "1", "--external", "mnt[/a]:x", "-M", "/b:y", "--external",
				     "mnt[/etc/hosts]:hosts" }, 0, CMD_DUMP, NULL, check_ext_in_order },
	{ "external-auto", { "dump", "-t", "1", "--external", "mnt[]" }, 0, CMD_DUMP, NULL, check_auto_none },
	{ "external-auto-colon", { "dump", "-t", "1", "--external", "mnt[]:" }, 0, CMD_DUMP, NULL,
	  check_auto_none },
	{ "external-auto-s", { "dump", "-t", "1", "--external", "mnt[]:s" }, 0, CMD_DUMP, NULL, check_auto_s },
	{ "external-auto-m", { "dump", "-t", "1", "--external", "mnt[]:m" }, 0, CMD_DUMP, NULL, check_auto_m },
	{ "external-auto-sm", { "dump", "-t", "1", "--external", "mnt[]:sm" }, 0, CMD_DUMP, NULL,
	  check_auto_sm },
	{ "external-auto-ms", { "dump", "-t", "1", "--external", "mnt[]:ms" }, 0, CMD_DUMP, NULL,
	  check_auto_sm },
	{ "external-auto-bad-flag", { "dump", "-t", "1", "--external", "mnt[]:x" }, -1, 0, "unknown flag 'x'" },
	{ "external-auto-bad-second-flag", { "dump", "-t", "1", "--external", "mnt[]:sx" }, -1, 0,
	  "unknown flag 'x'" },
	{ "external-auto-junk", { "dump", "-t", "1", "--external", "mnt[]s" }, -1, 0,
	  "unexpected text after mnt[]" },
	{ "external-mnt-unclosed", { "dump", "-t", "1", "--external", "mnt[/bar" }, -1, 0, "missing ']'" },
	{ "external-mnt-no-value", { "dump", "-t", "1", "--external", "mnt[/bar]" }, -1, 0,
	  "missing value after mnt[/bar]" },
	{ "external-mnt-empty-value", { "dump", "-t", "1", "--external", "mnt[/bar]:" }, -1, 0,
	  "missing value after mnt[/bar]" },
	{ "external-mnt-junk-after", { "dump", "-t", "1", "--external", "mnt[/bar]barmount" }, -1, 0,
	  "missing value after mnt[/bar]" },
	{ "external-missing-value", { "dump", "-t", "1", "--external" }, -1, 0, "option --external needs a value" },

	/* --external, other kinds */
	{ "external-dev", { "dump", "-t", "1", "--external", "dev[8/1]:x" }, 0, CMD_DUMP, NULL, check_ext_dev },
	{ "external-net", { "dump", "-t", "1", "--external", "net[123]:eth0" }, 0, CMD_DUMP, NULL, check_ext_net },
	{ "external-no-value", { "dump", "-t", "1", "--external", "tty[88:1]" }, 0, CMD_DUMP, NULL,
	  check_ext_noval },
	{ "external-garbage", { "dump", "-t", "1", "--external", "foo" }, -1, 0, "--external foo: malformed" },
	{ "external-no-kind", { "dump", "-t", "1", "--external", "[x]:y" }, -1, 0, "malformed" },
	{ "external-unclosed-kind", { "dump", "-t", "1", "--external", "dev[8/1:x" }, -1, 0, "malformed" },
	{ "external-junk-after-kind", { "dump", "-t", "1", "--external", "dev[8/1]x" }, -1, 0, "malformed" },

	/* -M / --ext-mount-map */
	{ "map-auto", { "dump", "-t", "1", "-M", "auto" }, 0, CMD_DUMP, NULL, check_auto_none },
	{ "map-key-val", { "dump", "-t", "1", "-M", "/bar:barmount" }, 0, CMD_DUMP, NULL, check_map_bar },
	{ "map-long", { "dump", "-t", "1", "--ext-mount-map=/bar:barmount" }, 0, CMD_DUMP, NULL, check_map_bar },
	{ "map-colon-in-value", { "restore", "-M", "name:/srv/a:b" }, 0, CMD_RESTORE, NULL, check_map_colons },
	{ "map-no-colon", { "dump", "-t", "1", "-M", "bar" }, -1, 0, "--ext-mount-map bar: expected KEY:VAL or auto" },
	{ "map-no-key", { "dump", "-t", "1", "-M", ":barmount" }, -1, 0, "expected KEY:VAL" },
	{ "map-no-value", { "dump", "-t", "1", "-M", "/bar:" }, -1, 0, "expected KEY:VAL" },
	{ "map-auto-and-sharing", { "dump", "-t", "1", "-M", "auto", "--enable-external-sharing",
				    "--enable-external-masters" }, 0, CMD_DUMP, NULL, check_auto_sm },
	{ "enable-external-sharing", { "dump", "-t", "1", "--enable-external-sharing" }, 0, CMD_DUMP, NULL,
	  check_legacy_sharing },
	{ "enable-external-masters", { "dump", "-t", "1", "--enable-external-masters" }, 0, CMD_DUMP, NULL,
	  check_legacy_masters },

	/* everything at once */
	{ "all-options", { "-D", "d", "-t", "7", "-o", "l", "-v4", "-r", "/r", "-R", "-d", "-j", "--pidfile", "p",
			   "--timeout", "3", "--external", "mnt[/a]:x", "-M", "/b:y", "--external", "dev[8/1]:z",
			   "--external", "mnt[]:s", "--enable-external-masters", "--no-default-config", "dump" },
	  0, CMD_DUMP, NULL, check_everything },

	/* unknown options */
	{ "unknown-long-option", { "--bogus", "dump", "-t", "1" }, -1, 0, "--bogus" },
	{ "unknown-short-option", { "-x", "dump", "-t", "1" }, -1, 0, "unknown option -x" },
	{ "unknown-option-hint", { "check", "--frobnicate" }, -1, 0, "criu --help" },
	{ "value-for-flag", { "--help=x" }, -1, 0, "--help=x" },
	/* a permission: a tree holding a lock is refused at dump anyway */
	{ "file-locks-accepted", { "dump", "-t", "1", "--file-locks" }, 0, CMD_DUMP, NULL, NULL },
	/* LXC's dump line: upstream's options for what criu does anyway */
	{ "done-anyway-accepted", { "dump", "-t", "1", "--link-remap", "--force-irmap", "--evasive-devices",
				    "--ghost-limit", "1M", "--enable-fs", "hugetlbfs", "--enable-fs=tracefs" },
	  0, CMD_DUMP, NULL, NULL },
	{ "ghost-limit-needs-value", { "dump", "-t", "1", "--ghost-limit" }, -1, 0, "ghost-limit" },
	{},
};
/* clang-format on */

static int run_opt_case(const struct opt_case *c)
{
	struct options o;
	struct capture cap;
	int ret, r = 0;

	ret = run_parse(c->args, &o, &cap);
	if (ret != c->want_ret) {
		snprintf(unit_fail_msg, sizeof(unit_fail_msg),
			 "parse_options returned %d, expected %d; it said: %.300s", ret, c->want_ret, cap.err_text);
		r = 1;
	} else if (c->want_text && !strstr(ret == 1 ? cap.out_text : cap.err_text, c->want_text)) {
		snprintf(unit_fail_msg, sizeof(unit_fail_msg), "output lacks \"%s\"; it said: %.300s", c->want_text,
			 ret == 1 ? cap.out_text : cap.err_text);
		r = 1;
	} else if (ret == 0 && o.cmd != c->want_cmd) {
		snprintf(unit_fail_msg, sizeof(unit_fail_msg), "command %d, expected %d", o.cmd, c->want_cmd);
		r = 1;
	} else if (ret == 0 && (!o.imgs_dir || o.verbosity < 0 || o.verbosity > 4)) {
		snprintf(unit_fail_msg, sizeof(unit_fail_msg), "imgs_dir unset or verbosity %d out of range",
			 o.verbosity);
		r = 1;
	} else if (ret == 0 && cap.err_text[0]) {
		snprintf(unit_fail_msg, sizeof(unit_fail_msg), "a successful parse printed: %.300s", cap.err_text);
		r = 1;
	} else if (ret == 0 && c->check) {
		r = c->check(&o);
	}
	options_free(&o);
	return r;
}

/* ------------------------------------ parse_external / ext-mount-map */

struct ext_case {
	const char *name;
	int (*parse)(struct options *o, const char *arg);
	const char *arg;
	int want_ret;
	const char *want_err;
	int (*check)(const struct options *o);
};

/* clang-format off */
static const struct ext_case ext_cases[] = {
	{ "mnt-key-val", parse_external, "mnt[/bar]:barmount", 0, NULL, check_ext_bar },
	{ "mnt-auto", parse_external, "mnt[]", 0, NULL, check_auto_none },
	{ "mnt-auto-s", parse_external, "mnt[]:s", 0, NULL, check_auto_s },
	{ "mnt-auto-m", parse_external, "mnt[]:m", 0, NULL, check_auto_m },
	{ "mnt-auto-sm", parse_external, "mnt[]:sm", 0, NULL, check_auto_sm },
	{ "mnt-auto-ms", parse_external, "mnt[]:ms", 0, NULL, check_auto_sm },
	{ "mnt-auto-x", parse_external, "mnt[]:x", -1, "valid flags are 's'" },
	{ "mnt-unclosed", parse_external, "mnt[/bar", -1, "write it as mnt[MOUNTPOINT]:NAME" },
	{ "mnt-no-value", parse_external, "mnt[/bar]", -1, "mnt[/bar]:NAME on dump" },
	{ "mnt-empty-value", parse_external, "mnt[/bar]:", -1, "mnt[/bar]:HOSTPATH on restore" },
	{ "dev", parse_external, "dev[8/1]:x", 0, NULL, check_ext_dev },
	{ "net", parse_external, "net[123]:eth0", 0, NULL, check_ext_net },
	{ "no-value", parse_external, "tty[88:1]", 0, NULL, check_ext_noval },
	{ "garbage", parse_external, "foo", -1, "the form is KIND[KEY]" },
	{ "empty", parse_external, "", -1, "malformed" },
	{ "map-auto", parse_ext_mount_map, "auto", 0, NULL, check_auto_none },
	{ "map-key-val", parse_ext_mount_map, "/bar:barmount", 0, NULL, check_map_bar },
	{ "map-colon-in-value", parse_ext_mount_map, "name:/srv/a:b", 0, NULL, check_map_colons },
	{ "map-no-colon", parse_ext_mount_map, "bar", -1, "--ext-mount-map /bar:barmount on dump" },
	{ "map-empty", parse_ext_mount_map, "", -1, "expected KEY:VAL or auto" },
	{ "map-AUTO-is-not-auto", parse_ext_mount_map, "AUTO", -1, "expected KEY:VAL or auto" },
	{},
};
/* clang-format on */

static int run_ext_case(const struct ext_case *c)
{
	struct options o;
	struct capture cap;
	int ret, r = 0;

	memset(&o, 0, sizeof(o));
	capture_begin(&cap);
	ret = c->parse(&o, c->arg);
	capture_end(&cap);
	if (ret != c->want_ret) {
		snprintf(unit_fail_msg, sizeof(unit_fail_msg), "returned %d, expected %d; it said: %.300s", ret,
			 c->want_ret, cap.err_text);
		r = 1;
	} else if (c->want_err && !strstr(cap.err_text, c->want_err)) {
		snprintf(unit_fail_msg, sizeof(unit_fail_msg), "stderr lacks \"%s\"; it said: %.300s", c->want_err,
			 cap.err_text);
		r = 1;
	} else if (ret == 0 && c->check) {
		r = c->check(&o);
	}
	options_free(&o);
	return r;
}

/* ---------------------------------------------------- sequences */

/* Values accumulate over calls; options_free leaves a zeroed struct. */
static int test_accumulate_and_free(void)
{
	struct options o;
	struct capture cap;
	int ret = 0;

	memset(&o, 0, sizeof(o));
	capture_begin(&cap);
	ret |= parse_external(&o, "mnt[/a]:x");
	ret |= parse_ext_mount_map(&o, "/b:y");
	ret |= parse_external(&o, "mnt[]:m");
	ret |= parse_external(&o, "dev[1]:z");
	ret |= parse_ext_mount_map(&o, "auto");
	capture_end(&cap);
	CHECK(ret == 0);
	CHECK(o.nr_ext_mounts == 2 && o.nr_externals == 1);
	CHECK_STR(o.ext_mounts[1].spelling, "/b:y");
	CHECK(o.ext_mounts_auto && o.enable_external_masters && !o.enable_external_sharing);
	options_free(&o);
	CHECK(o.ext_mounts == NULL && o.nr_ext_mounts == 0 && o.externals == NULL && o.imgs_dir == NULL);
	options_free(&o); /* twice is harmless */
	return 0;
}

/* A failed parse must not leave getopt state behind for the next one. */
static int test_reparse_after_error(void)
{
	static const char *const bad[] = {"-zR", "dump", NULL}; /* z is unknown */
	static const char *const good[] = {"-t", "5", "dump", NULL};
	struct options o;
	struct capture cap;
	int ret;

	ret = run_parse(bad, &o, &cap);
	options_free(&o);
	CHECK(ret == -1);
	ret = run_parse(good, &o, &cap);
	if (ret != 0 || o.leave_running || o.tree_pid != 5) {
		snprintf(unit_fail_msg, sizeof(unit_fail_msg),
			 "after '-zR' failed, '-t 5 dump' gave ret %d, leave_running %d, pid %d: %.200s", ret,
			 o.leave_running, o.tree_pid, cap.err_text);
		options_free(&o);
		return 1;
	}
	options_free(&o);
	return 0;
}

/* Writes `text` to a new temporary file; its path in `path` (64 bytes). */
static int temp_config(char *path, const char *text)
{
	int fd;

	strcpy(path, "/tmp/criu-test-conf.XXXXXX");
	fd = mkstemp(path);
	if (fd < 0)
		return -1;
	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
		close(fd);
		return -1;
	}
	return close(fd);
}

/*
 * Configuration files: $CRIU_CONFIG_FILE, then --config FILE, then the
 * command line, each later one winning; a bad line fails the parse naming
 * the file; a missing --config file is no error (as upstream).
 */
static int test_config_files(void)
{
	char env[64], cfg[64], bad[64];
	const char *v1[] = {"--config", cfg, "-t", "5", "dump", NULL};
	const char *v2[] = {"--no-default-config", "--config", bad, "-t", "5", "dump", NULL};
	const char *v3[] = {"--config=/nonexistent/criu.conf", "-v1", "-t", "5", "dump", NULL};
	struct options o;
	struct capture cap;
	int ret, r = 0;

	CHECK(!temp_config(env, "# from the environment\ntcp-established\nverbosity 1\nroot /from-env\n"));
	CHECK(!temp_config(cfg, "verbosity 3\nexternal mnt[/vol]:vol\naction-script \"/bin/my script\"\n"));
	CHECK(!temp_config(bad, "leave-running\nverbosity 1 2\n"));
	setenv("CRIU_CONFIG_FILE", env, 1);
	ret = run_parse(v1, &o, &cap);
	if (ret || !o.tcp_established || o.verbosity != 3 || strcmp(o.root, "/from-env") || o.nr_ext_mounts != 1 ||
	    o.nr_action_scripts != 1 || strcmp(o.action_scripts[0], "/bin/my script") || o.tree_pid != 5) {
		snprintf(unit_fail_msg, sizeof(unit_fail_msg), "files then argv: ret %d, %.200s", ret, cap.err_text);
		r = 1;
	}
	options_free(&o);
	unsetenv("CRIU_CONFIG_FILE");
	ret = run_parse(v2, &o, &cap);
	options_free(&o);
	if (!r && (ret != -1 || !strstr(cap.err_text, ":2: more than one value") || !strstr(cap.err_text, bad))) {
		snprintf(unit_fail_msg, sizeof(unit_fail_msg), "bad file: ret %d, %.200s", ret, cap.err_text);
		r = 1;
	}
	ret = run_parse(v3, &o, &cap);
	if (!r && (ret != 0 || o.verbosity != 1)) {
		snprintf(unit_fail_msg, sizeof(unit_fail_msg), "missing --config file: ret %d, %.200s", ret,
			 cap.err_text);
		r = 1;
	}
	options_free(&o);
	unlink(env);
	unlink(cfg);
	unlink(bad);
	return r;
}

struct seq_case {
	const char *name;
	int (*fn)(void);
	const char *known_bug;
};

/* clang-format off */
static const struct seq_case seq_cases[] = {
	{ "accumulate-and-free", test_accumulate_and_free },
	{ "reparse-after-error", test_reparse_after_error },
	{ "config-files", test_config_files },
	{},
};
/* clang-format on */

/* ---------------------------------------------------------------- main */

/* One result is one line: fold the captured parser output into it. */
static void flatten(char *s)
{
	for (; *s; s++)
		if (*s == '\n')
			*s = s[1] ? '|' : '\0';
		else if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			*s = '?';
}

static int report(const char *prefix, const char *name, int r, const char *known_bug)
{
	flatten(unit_fail_msg);
	if (r == 0) {
		printf("ok %s/%s%s\n", prefix, name, known_bug ? " (known bug is fixed: drop the marker)" : "");
		return 0;
	}
	if (known_bug) {
		printf("skip %s/%s: known bug: %s (%s)\n", prefix, name, known_bug, unit_fail_msg);
		return 0;
	}
	printf("not ok %s/%s: %s\n", prefix, name, unit_fail_msg[0] ? unit_fail_msg : "failed");
	return 1;
}

int main(void)
{
	int failed = 0;

	for (const struct opt_case *c = opt_cases; c->name; c++) {
		unit_fail_msg[0] = '\0';
		failed += report("options", c->name, run_opt_case(c), c->known_bug);
	}
	for (const struct ext_case *c = ext_cases; c->name; c++) {
		unit_fail_msg[0] = '\0';
		failed += report("external", c->name, run_ext_case(c), NULL);
	}
	for (const struct seq_case *c = seq_cases; c->name; c++) {
		unit_fail_msg[0] = '\0';
		failed += report("sequence", c->name, c->fn(), c->known_bug);
	}
	fflush(stdout);
	return failed ? 1 : 0;
}

/* Unit tests for the /proc/PID/mountinfo parser (criu/proc/mountinfo.c). */
#include <errno.h>
#include <stdint.h>
#include <time.h>

#include "unit-proc.h"
#include "proc/mountinfo.h"

#define FIXTURES   "test/unit/fixtures/mountinfo/"
#define CORPUS_DIR "test/fuzz/corpus/mountinfo"

/* The table as stable text, one line per entry with every field. */
static char *dump_table(const struct mountinfo_table *t)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	if (!f)
		return NULL;
	for (size_t i = 0; i < t->nr; i++) {
		const struct mountinfo_entry *e = &t->entries[i];

		fprintf(f, "id=%u parent=%u dev=%u:%u root=", e->mnt_id, e->parent_id, e->major, e->minor);
		put_escaped(f, e->root);
		fputs(" mountpoint=", f);
		put_escaped(f, e->mountpoint);
		fputs(" mnt_opts=", f);
		put_escaped(f, e->mnt_opts);
		fputs(" optional=", f);
		put_escaped(f, e->optional);
		fputs(" fstype=", f);
		put_escaped(f, e->fstype);
		fputs(" source=", f);
		put_escaped(f, e->source);
		fputs(" sb_opts=", f);
		put_escaped(f, e->sb_opts);
		fprintf(f, " shared=%u master=%u propagate_from=%u unbindable=%d\n", e->shared_id, e->master_id,
			e->propagate_from, e->unbindable);
	}
	fclose(f);
	return out;
}

static int parse_str(const char *s, struct mountinfo_table *t, struct proc_err *err)
{
	return mountinfo_parse(s, strlen(s), t, err);
}

/* Parses a fixture and compares the dump with its golden file. */
static int check_fixture(const char *name)
{
	char path[256], golden[256];
	struct mountinfo_table t = {0};
	struct proc_err err = {0};
	size_t len;
	char *buf, *dump;
	int ret;

	snprintf(path, sizeof(path), FIXTURES "%s.mountinfo", name);
	snprintf(golden, sizeof(golden), FIXTURES "%s.golden", name);
	buf = unit_slurp(path, &len);
	if (!buf) {
		snprintf(unit_fail_msg, sizeof(unit_fail_msg), "can't read %s", path);
		return 1;
	}
	ret = mountinfo_parse(buf, len, &t, &err);
	free(buf);
	if (ret) {
		snprintf(unit_fail_msg, sizeof(unit_fail_msg), "%.200s: %s", path, ERR_MSG(err));
		mountinfo_table_free(&t);
		return 1;
	}
	dump = dump_table(&t);
	mountinfo_table_free(&t);
	CHECK(dump);
	ret = unit_golden(golden, dump);
	free(dump);
	return ret;
}

static int test_fixture_docker(void)
{
	return check_fixture("docker");
}

static int test_fixture_lxc(void)
{
	return check_fixture("lxc");
}

static int test_fixture_systemd_host(void)
{
	return check_fixture("systemd-host");
}

static int test_fixture_escaped(void)
{
	return check_fixture("escaped");
}

/* Spot checks of a fixture, independent of the golden files. */
static int test_fixture_docker_fields(void)
{
	struct mountinfo_table t = {0};
	size_t len;
	char *buf = unit_slurp(FIXTURES "docker.mountinfo", &len);
	int ret;

	CHECK(buf);
	ret = mountinfo_parse(buf, len, &t, NULL);
	free(buf);
	CHECK(ret == 0);
	CHECK(t.nr == 24);
	CHECK(t.entries[0].mnt_id == 1021 && t.entries[0].parent_id == 869);
	CHECK_STR(t.entries[0].fstype, "overlay");
	CHECK(strstr(t.entries[0].sb_opts, "upperdir=") != NULL);
	CHECK_STR(t.entries[10].root, "/var/lib/docker/containers/"
				      "3f9c2e7d1a4b8c6e0f2a4c6e8a0b2d4f6a8c0e2b4d6f8a0c2e4b6d8f0a2c4e6b/hosts");
	CHECK_STR(t.entries[10].mountpoint, "/etc/hosts");
	CHECK(t.entries[10].major == 253 && t.entries[10].minor == 1);
	CHECK(t.entries[11].master_id == 1 && t.entries[11].shared_id == 0);
	CHECK_STR(t.entries[11].optional, "master:1");
	CHECK_STR(t.entries[19].root, "/null");
	CHECK_STR(t.entries[19].mountpoint, "/proc/kcore");
	mountinfo_table_free(&t);
	CHECK(t.entries == NULL && t.nr == 0 && t.cap == 0);
	return 0;
}

static int test_one_line_all_fields(void)
{
	struct mountinfo_table t = {0};
	struct proc_err err;
	const char *line = "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue\n";
	struct mountinfo_entry *e;

	CHECK(parse_str(line, &t, &err) == 0);
	CHECK(t.nr == 1);
	e = &t.entries[0];
	CHECK(e->mnt_id == 36 && e->parent_id == 35 && e->major == 98 && e->minor == 0);
	CHECK_STR(e->root, "/mnt1");
	CHECK_STR(e->mountpoint, "/mnt2");
	CHECK_STR(e->mnt_opts, "rw,noatime");
	CHECK_STR(e->optional, "master:1");
	CHECK_STR(e->fstype, "ext3");
	CHECK_STR(e->source, "/dev/root");
	CHECK_STR(e->sb_opts, "rw,errors=continue");
	CHECK(e->master_id == 1 && e->shared_id == 0 && e->propagate_from == 0 && !e->unbindable);
	mountinfo_table_free(&t);
	return 0;
}

static int test_limits(void)
{
	struct mountinfo_table t = {0};
	const char *line = "4294967295 0 4294967295:4294967295 / / rw shared:4294967295 - t s o";

	CHECK(parse_str(line, &t, NULL) == 0);
	CHECK(t.nr == 1);
	CHECK(t.entries[0].mnt_id == UINT32_MAX && t.entries[0].parent_id == 0);
	CHECK(t.entries[0].major == UINT32_MAX && t.entries[0].minor == UINT32_MAX);
	CHECK(t.entries[0].shared_id == UINT32_MAX);
	mountinfo_table_free(&t);

	/* Leading zeros are still decimal. */
	CHECK(parse_str("007 010 08:09 / / rw - t s o", &t, NULL) == 0);
	CHECK(t.entries[0].mnt_id == 7 && t.entries[0].parent_id == 10);
	CHECK(t.entries[0].major == 8 && t.entries[0].minor == 9);
	mountinfo_table_free(&t);
	return 0;
}

static int test_empty_input(void)
{
	struct mountinfo_table t = {0};
	struct proc_err err;

	CHECK(mountinfo_parse("", 0, &t, &err) == 0);
	CHECK(t.nr == 0);
	CHECK(mountinfo_parse(NULL, 0, &t, &err) == 0);
	CHECK(t.nr == 0);
	CHECK(parse_str("\n", &t, &err) == 0);
	CHECK(t.nr == 0);
	CHECK(parse_str("\n\n\n", &t, &err) == 0);
	CHECK(t.nr == 0);
	mountinfo_table_free(&t);
	return 0;
}

static int test_newlines(void)
{
	struct mountinfo_table t = {0};
	struct proc_err err;
	const char *a = "1 0 0:1 / / rw - rootfs rootfs rw";
	const char *b = "2 1 0:2 /x /y rw - tmpfs tmpfs rw";
	char buf[256];

	/* Last line without '\n'. */
	snprintf(buf, sizeof(buf), "%s\n%s", a, b);
	CHECK(parse_str(buf, &t, &err) == 0);
	CHECK(t.nr == 2);
	CHECK_STR(t.entries[1].sb_opts, "rw");
	mountinfo_table_free(&t);

	/* Empty lines at the end are fine. */
	snprintf(buf, sizeof(buf), "%s\n%s\n\n\n", a, b);
	CHECK(parse_str(buf, &t, &err) == 0);
	CHECK(t.nr == 2);
	mountinfo_table_free(&t);

	/* An empty line in the middle is not. */
	snprintf(buf, sizeof(buf), "%s\n\n%s\n", a, b);
	CHECK(parse_str(buf, &t, &err) == -EINVAL);
	CHECK(err.line == 2);
	CHECK(strstr(ERR_MSG(err), "empty line"));
	CHECK(t.nr == 1);
	mountinfo_table_free(&t);

	/* Nor is one at the start. */
	snprintf(buf, sizeof(buf), "\n%s\n", a);
	CHECK(parse_str(buf, &t, &err) == -EINVAL);
	CHECK(err.line == 1);
	mountinfo_table_free(&t);
	return 0;
}

/* The buffer need not be NUL-terminated: only `len` bytes are read. */
static int test_not_nul_terminated(void)
{
	struct mountinfo_table t = {0};
	const char *text = "5 1 0:3 / /proc rw - proc proc rwGARBAGE";
	size_t len = strlen(text) - strlen("GARBAGE");
	char *buf = malloc(len); /* exactly len bytes: ASan catches over-reads */

	CHECK(buf);
	memcpy(buf, text, len);
	CHECK(mountinfo_parse(buf, len, &t, NULL) == 0);
	free(buf);
	CHECK(t.nr == 1);
	CHECK_STR(t.entries[0].sb_opts, "rw");
	mountinfo_table_free(&t);
	return 0;
}

static int test_empty_source_and_options(void)
{
	struct mountinfo_table t = {0};

	/* Two spaces: empty source. */
	CHECK(parse_str("7 1 0:44 / /mnt rw,relatime - tmpfs  rw,inode64\n", &t, NULL) == 0);
	CHECK_STR(t.entries[0].fstype, "tmpfs");
	CHECK_STR(t.entries[0].source, "");
	CHECK_STR(t.entries[0].sb_opts, "rw,inode64");
	/* A trailing space: empty super options. */
	CHECK(parse_str("8 1 0:45 / /mnt2 rw - tmpfs tmpfs \n", &t, NULL) == 0);
	CHECK_STR(t.entries[1].source, "tmpfs");
	CHECK_STR(t.entries[1].sb_opts, "");
	/* Both. */
	CHECK(parse_str("9 1 0:46 / /mnt3 rw - tmpfs  ", &t, NULL) == 0);
	CHECK_STR(t.entries[2].source, "");
	CHECK_STR(t.entries[2].sb_opts, "");
	CHECK(t.nr == 3);
	mountinfo_table_free(&t);
	return 0;
}

static int test_escapes_in_every_field(void)
{
	struct mountinfo_table t = {0};
	const char *line =
		"1 2 3:4 /r\\040o\\011o\\012t\\134 /m\\040p rw x:\\040y - fs\\040type.sub src\\134x o\\040p=1";
	struct mountinfo_entry *e;

	CHECK(parse_str(line, &t, NULL) == 0);
	e = &t.entries[0];
	CHECK_STR(e->root, "/r o\to\nt\\");
	CHECK_STR(e->mountpoint, "/m p");
	/* Options and optional fields are kept raw. */
	CHECK_STR(e->optional, "x:\\040y");
	CHECK_STR(e->fstype, "fs type.sub");
	CHECK_STR(e->source, "src\\x");
	CHECK_STR(e->sb_opts, "o p=1");
	mountinfo_table_free(&t);
	return 0;
}

static int test_optional_fields(void)
{
	static const struct {
		const char *optional;
		int ret;
		uint32_t shared, master, from;
		bool unbindable;
	} cases[] = {
		{"", 0, 0, 0, 0, false},
		{"shared:1", 0, 1, 0, 0, false},
		{"master:7", 0, 0, 7, 0, false},
		{"shared:3 master:4", 0, 3, 4, 0, false},
		{"master:4 shared:3", 0, 3, 4, 0, false},
		{"master:4 propagate_from:9", 0, 0, 4, 9, false},
		{"unbindable", 0, 0, 0, 0, true},
		{"propagate_from:2 unbindable master:1 shared:5", 0, 5, 1, 2, true},
		{"newtag newtag:12 shared:8 x:y:z", 0, 8, 0, 0, false},
		{"sharedx:1 shared 1 unbindablex", 0, 0, 0, 0, false},
		{"shared:4294967295", 0, UINT32_MAX, 0, 0, false},
		{"shared:abc", -EINVAL, 0, 0, 0, false},
		{"shared:", -EINVAL, 0, 0, 0, false},
		{"master:", -EINVAL, 0, 0, 0, false},
		{"master:x1", -EINVAL, 0, 0, 0, false},
		{"master:1x", -EINVAL, 0, 0, 0, false},
		{"propagate_from:-1", -EINVAL, 0, 0, 0, false},
		{"shared:+1", -EINVAL, 0, 0, 0, false},
		{"shared:4294967296", -EINVAL, 0, 0, 0, false},
		{"shared:0", -EINVAL, 0, 0, 0, false},
		{"shared:1 shared:2", -EINVAL, 0, 0, 0, false},
		{"unbindable unbindable", -EINVAL, 0, 0, 0, false},
		{"shared:1  master:2", -EINVAL, 0, 0, 0, false},
		{" shared:1", -EINVAL, 0, 0, 0, false},
		{"shared:1 ", -EINVAL, 0, 0, 0, false},
		{" ", -EINVAL, 0, 0, 0, false},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct mountinfo_entry e = {.shared_id = 99, .master_id = 99, .propagate_from = 99, .unbindable = true};
		int ret;

		e.optional = (char *)cases[i].optional;
		ret = mountinfo_parse_optional(&e);
		if (ret != cases[i].ret) {
			snprintf(unit_fail_msg, sizeof(unit_fail_msg), "\"%s\": returned %d, expected %d",
				 cases[i].optional, ret, cases[i].ret);
			return 1;
		}
		if (ret)
			continue;
		if (e.shared_id != cases[i].shared || e.master_id != cases[i].master ||
		    e.propagate_from != cases[i].from || e.unbindable != cases[i].unbindable) {
			snprintf(unit_fail_msg, sizeof(unit_fail_msg),
				 "\"%s\": got shared=%u master=%u from=%u unbindable=%d", cases[i].optional,
				 e.shared_id, e.master_id, e.propagate_from, e.unbindable);
			return 1;
		}
	}
	return 0;
}

/* Bad lines, each with the line number and a word the message must name. */
static int test_errors(void)
{
	static const struct {
		const char *name;
		const char *in;
		size_t len; /* 0: strlen(in) */
		unsigned line;
		const char *msg;
		size_t nr; /* entries kept from the good lines before */
	} cases[] = {
		{"only mount ID", "12\n", 0, 1, "field 2 (parent ID): missing", 0},
		{"no dev", "1 2\n", 0, 1, "field 3 (major:minor): missing", 0},
		{"no root", "1 2 0:1\n", 0, 1, "field 4 (root): missing", 0},
		{"no mount options", "1 2 0:1 / /\n", 0, 1, "field 6 (mount options): missing", 0},
		{"no mount options before -", "1 2 0:1 / / - tmpfs tmpfs rw\n", 0, 1,
		 "field 6 (mount options): missing", 0},
		{"no mount point before -", "1 2 0:1 / - tmpfs tmpfs rw\n", 0, 1, "field 5 (mount point): missing", 0},
		{"no fstype", "1 2 0:1 / / rw -\n", 0, 1, "field 9 (filesystem type): missing", 0},
		{"no source", "1 2 0:1 / / rw - tmpfs\n", 0, 1, "field 10 (mount source): missing", 0},
		{"no super options", "1 2 0:1 / / rw - tmpfs tmpfs\n", 0, 1, "field 11 (super options): missing", 0},
		{"extra field", "1 2 0:1 / / rw - tmpfs tmpfs rw extra\n", 0, 1, "field 11 (super options)", 0},
		{"non-numeric id", "x1 2 0:1 / / rw - t s o\n", 0, 1, "field 1 (mount ID): expected digits", 0},
		{"non-numeric parent", "1 abc 0:1 / / rw - t s o\n", 0, 1, "field 2 (parent ID): expected digits", 0},
		{"trailing junk in id", "1x 2 0:1 / / rw - t s o\n", 0, 1, "field 1 (mount ID)", 0},
		{"overflow id", "4294967296 2 0:1 / / rw - t s o\n", 0, 1, "field 1 (mount ID): number out of range",
		 0},
		{"huge id", "99999999999999999999999 2 0:1 / / rw - t s o\n", 0, 1, "field 1 (mount ID)", 0},
		{"overflow parent", "1 4294967296 0:1 / / rw - t s o\n", 0, 1, "field 2 (parent ID)", 0},
		{"negative id", "-1 2 0:1 / / rw - t s o\n", 0, 1, "field 1 (mount ID): sign not allowed", 0},
		{"plus id", "+1 2 0:1 / / rw - t s o\n", 0, 1, "field 1 (mount ID): sign not allowed", 0},
		{"negative parent", "1 -2 0:1 / / rw - t s o\n", 0, 1, "field 2 (parent ID): sign", 0},
		{"empty id", " 2 0:1 / / rw - t s o\n", 0, 1, "field 1 (mount ID): empty", 0},
		{"dev without colon", "1 2 81 / / rw - t s o\n", 0, 1, "field 3 (major:minor): missing ':'", 0},
		{"dev empty major", "1 2 :1 / / rw - t s o\n", 0, 1, "field 3 (major:minor): major", 0},
		{"dev empty minor", "1 2 8: / / rw - t s o\n", 0, 1, "field 3 (major:minor): minor", 0},
		{"dev hex", "1 2 0x8:1 / / rw - t s o\n", 0, 1, "field 3 (major:minor): major", 0},
		{"dev negative", "1 2 8:-1 / / rw - t s o\n", 0, 1, "field 3 (major:minor): minor: sign", 0},
		{"dev overflow", "1 2 8:4294967296 / / rw - t s o\n", 0, 1, "field 3 (major:minor): minor", 0},
		{"dev two colons", "1 2 8:1:2 / / rw - t s o\n", 0, 1, "field 3 (major:minor): minor", 0},
		{"missing separator", "1 2 0:1 / / rw shared:1 tmpfs tmpfs rw\n", 0, 1, "separator", 0},
		{"missing separator, no optional", "1 2 0:1 / / rw tmpfs tmpfs rw\n", 0, 1, "\" - \"", 0},
		{"separator glued", "1 2 0:1 / / rw -tmpfs tmpfs rw\n", 0, 1, "separator", 0},
		{"bad escape \\09 in root", "1 2 0:1 /a\\09 / rw - t s o\n", 0, 1, "field 4 (root): bad escape", 0},
		{"truncated escape \\1", "1 2 0:1 / /mnt\\1 rw - t s o\n", 0, 1,
		 "field 5 (mount point): truncated escape", 0},
		{"lone backslash", "1 2 0:1 / /mnt\\ rw - t s o\n", 0, 1, "field 5 (mount point): truncated", 0},
		{"escape above 0377", "1 2 0:1 / /m\\400 rw - t s o\n", 0, 1, "field 5 (mount point): bad escape", 0},
		{"escape of NUL", "1 2 0:1 /\\000 / rw - t s o\n", 0, 1, "field 4 (root): bad escape", 0},
		{"bad escape in fstype", "1 2 0:1 / / rw - t\\9 s o\n", 0, 1, "field 9 (filesystem type)", 0},
		{"bad escape in source", "1 2 0:1 / / rw - t s\\x o\n", 0, 1, "field 10 (mount source)", 0},
		{"bad escape in super options", "1 2 0:1 / / rw - t s o\\04\n", 0, 1, "field 11 (super options)", 0},
		{"shared:abc", "1 2 0:1 / / rw shared:abc - t s o\n", 0, 1,
		 "field 7 (optional fields): expected digits: \"shared:abc\"", 0},
		{"master:", "1 2 0:1 / / rw master: - t s o\n", 0, 1, "field 7 (optional fields): empty number", 0},
		{"propagate_from overflow", "1 2 0:1 / / rw master:1 propagate_from:4294967296 - t s o\n", 0, 1,
		 "field 7 (optional fields)", 0},
		{"shared:0", "1 2 0:1 / / rw shared:0 - t s o\n", 0, 1, "field 7 (optional fields)", 0},
		{"repeated master", "1 2 0:1 / / rw master:1 master:2 - t s o\n", 0, 1, "field 7 (optional fields)", 0},
		{"double space in optional", "1 2 0:1 / / rw shared:1  - t s o\n", 0, 1,
		 "field 7 (optional fields): empty tag", 0},
		{"empty root", "1 2 0:1  / rw - t s o\n", 0, 1, "field 4 (root): empty", 0},
		{"empty mount point", "1 2 0:1 /  rw - t s o\n", 0, 1, "field 5 (mount point): empty", 0},
		{"empty fstype", "1 2 0:1 / / rw -  s o\n", 0, 1, "field 9 (filesystem type): empty", 0},
		{"double space before separator", "1 2 0:1 / / rw  - t s o\n", 0, 1, "field 7 (optional fields)", 0},
		{"leading space", " 1 2 0:1 / / rw - t s o\n", 0, 1, "field 1 (mount ID): empty", 0},
		{"NUL byte", "1 2 0:1 /\0x / rw - t s o\n", 25, 1, "column 10: NUL byte", 0},
		{"empty line in the middle", "1 0 0:1 / / rw - t s o\n\n2 1 0:2 / /a rw - t s o\n", 0, 2, "empty line",
		 1},
		{"bad third line",
		 "1 0 0:1 / / rw - t s o\n2 1 0:2 / /a rw - t s o\n3 1 0:3 / /b rw shared:x - t s o\n4 1 0:4 / /c rw - "
		 "t s o\n",
		 0, 3, "field 7", 2},
		{"bad last line without newline", "1 0 0:1 / / rw - t s o\n2 1 0:2 / /a rw", 0, 2, "separator", 1},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct mountinfo_table t = {0};
		struct proc_err err;
		size_t len = cases[i].len ? cases[i].len : strlen(cases[i].in);
		int ret;

		memset(&err, 0x55, sizeof(err));
		ret = mountinfo_parse(cases[i].in, len, &t, &err);
		if (ret != -EINVAL || err.line != cases[i].line || !proc_err_sane(&err) ||
		    !strstr(ERR_MSG(err), cases[i].msg) || t.nr != cases[i].nr) {
			snprintf(unit_fail_msg, sizeof(unit_fail_msg),
				 "case \"%s\": ret=%d line=%u nr=%zu msg=\"%.160s\"; want -EINVAL line=%u nr=%zu "
				 "msg~\"%s\"",
				 cases[i].name, ret, err.line, t.nr, proc_err_sane(&err) ? ERR_MSG(err) : "?",
				 cases[i].line, cases[i].nr, cases[i].msg);
			mountinfo_table_free(&t);
			return 1;
		}
		mountinfo_table_free(&t);
	}
	return 0;
}

/* A NULL error pointer is allowed. */
static int test_error_without_err(void)
{
	struct mountinfo_table t = {0};

	CHECK(parse_str("1 2 x / / rw - t s o", &t, NULL) == -EINVAL);
	CHECK(t.nr == 0);
	mountinfo_table_free(&t);
	return 0;
}

/* Parsing appends to a table that already has entries. */
static int test_append(void)
{
	struct mountinfo_table t = {0};

	CHECK(parse_str("1 0 0:1 / / rw - t s o\n", &t, NULL) == 0);
	CHECK(parse_str("2 1 0:2 / /a rw - t s o\n3 1 0:3 / /b rw - t s o\n", &t, NULL) == 0);
	CHECK(t.nr == 3);
	CHECK(t.entries[0].mnt_id == 1 && t.entries[1].mnt_id == 2 && t.entries[2].mnt_id == 3);
	CHECK_STR(t.entries[2].mountpoint, "/b");
	mountinfo_table_free(&t);
	return 0;
}

/* A line far longer than any fixed buffer. */
static int test_long_line(void)
{
	const size_t n = 1 << 20;
	struct mountinfo_table t = {0};
	char *buf = malloc(3 * n + 256);
	char *p = buf;
	const char *mp;

	CHECK(buf);
	p += sprintf(p, "77 1 0:99 / /");
	for (size_t i = 0; i < n / 4; i++)
		p += sprintf(p, "d\\040x");
	p += sprintf(p, " rw - fuse.long src ");
	memset(p, 'o', n);
	p += n;
	*p++ = '\n';
	CHECK(mountinfo_parse(buf, p - buf, &t, NULL) == 0);
	free(buf);
	CHECK(t.nr == 1);
	mp = t.entries[0].mountpoint;
	CHECK(strlen(mp) == 1 + 3 * (n / 4));
	CHECK(!strncmp(mp, "/d xd x", 7));
	CHECK(strlen(t.entries[0].sb_opts) == n);
	mountinfo_table_free(&t);
	return 0;
}

/* 10,000 mounts built at run time: count, fields and a loose speed check. */
static int test_ten_thousand(void)
{
	const unsigned n = 10000;
	struct mountinfo_table t = {0};
	struct proc_err err;
	struct timespec a, b;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	double ms;
	int ret;

	CHECK(f);
	fprintf(f, "100 1 259:2 / / rw,relatime shared:1 - ext4 /dev/nvme0n1p2 rw,errors=remount-ro\n");
	for (unsigned i = 1; i < n; i++) {
		if (i % 10 == 0)
			fprintf(f,
				"%u %u 0:%u / /srv/vol\\040%u rw,nosuid,nodev,relatime shared:%u master:%u - tmpfs "
				"tmpfs rw,size=%uk,inode64\n",
				100 + i, 100 + i / 2, 1000 + i, i, 2 + i, 1 + i / 10, 4 * i);
		else
			fprintf(f,
				"%u %u 259:2 /data/%u /srv/vol%u rw,relatime shared:%u - ext4 /dev/nvme0n1p2 "
				"rw,errors=remount-ro\n",
				100 + i, 100 + i / 2, i, i, 2 + i);
	}
	fclose(f);
	CHECK(buf);

	clock_gettime(CLOCK_MONOTONIC, &a);
	ret = mountinfo_parse(buf, len, &t, &err);
	clock_gettime(CLOCK_MONOTONIC, &b);
	free(buf);
	if (ret) {
		snprintf(unit_fail_msg, sizeof(unit_fail_msg), "%s", ERR_MSG(err));
		mountinfo_table_free(&t);
		return 1;
	}
	ms = (b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) / 1e6;
	printf("# parsed %zu mounts in %.2f ms\n", t.nr, ms);
	CHECK(t.nr == n);
	CHECK(t.entries[9990].mnt_id == 100 + 9990 && t.entries[9990].parent_id == 100 + 4995);
	CHECK_STR(t.entries[9990].mountpoint, "/srv/vol 9990");
	CHECK(t.entries[9990].shared_id == 9992 && t.entries[9990].master_id == 1000);
	CHECK_STR(t.entries[9999].root, "/data/9999");
	CHECK(t.entries[9999].major == 259 && t.entries[9999].minor == 2);
	mountinfo_table_free(&t);
	/* Not a benchmark: only catches something quadratic, even under ASan. */
	CHECK(ms < 2000);
	return 0;
}

static int parse_for_replay(const char *buf, size_t len, struct proc_err *err)
{
	struct mountinfo_table t = {0};
	int ret = mountinfo_parse(buf, len, &t, err);

	mountinfo_table_free(&t);
	return ret;
}

/* Every fuzz corpus file (seeds and crashes found) goes through the parser. */
static int test_fuzz_corpus(void)
{
	return replay_corpus(CORPUS_DIR, parse_for_replay);
}

static const struct unit_case cases[] = {
	{"mountinfo_one_line_all_fields", test_one_line_all_fields},
	{"mountinfo_limits", test_limits},
	{"mountinfo_empty_input", test_empty_input},
	{"mountinfo_newlines", test_newlines},
	{"mountinfo_not_nul_terminated", test_not_nul_terminated},
	{"mountinfo_empty_source_and_options", test_empty_source_and_options},
	{"mountinfo_escapes_in_every_field", test_escapes_in_every_field},
	{"mountinfo_optional_fields", test_optional_fields},
	{"mountinfo_errors", test_errors},
	{"mountinfo_error_without_err", test_error_without_err},
	{"mountinfo_append", test_append},
	{"mountinfo_long_line", test_long_line},
	{"mountinfo_fixture_docker", test_fixture_docker},
	{"mountinfo_fixture_docker_fields", test_fixture_docker_fields},
	{"mountinfo_fixture_lxc", test_fixture_lxc},
	{"mountinfo_fixture_systemd_host", test_fixture_systemd_host},
	{"mountinfo_fixture_escaped", test_fixture_escaped},
	{"mountinfo_ten_thousand", test_ten_thousand},
	{"mountinfo_fuzz_corpus", test_fuzz_corpus},
	{},
};

UNIT_MAIN(cases)

/*
 * Configuration file lines (config-file.c), table-driven: each line and the
 * arguments it becomes, or the reason it is refused; a file with a bad line
 * is refused naming FILE:LINE; a missing file is no error.
 */
#include <stdlib.h>
#include <unistd.h>

#include "unit.h"
#include "config-file.h"

struct row {
	const char *line;
	const char *want; /* the arguments joined by '|', NULL: refused */
};

static const struct row rows[] = {
	{"", ""},
	{"   \n", ""},
	{"# a comment\n", ""},
	{"  # indented comment", ""},
	{"tcp-established\n", "--tcp-established"},
	{"tcp-established   # and a comment\n", "--tcp-established"},
	{"verbosity 4\n", "--verbosity|4"},
	{"\tverbosity\t4\t\n", "--verbosity|4"},
	{"root /run/ct/rootfs # where\n", "--root|/run/ct/rootfs"},
	{"lsm-profile \"apparmor:my profile\"\n", "--lsm-profile|apparmor:my profile"},
	{"lsm-profile \"a \\\"quoted\\\" word\"", "--lsm-profile|a \"quoted\" word"},
	{"external \"\"", "--external|"},
	{"external \"a#b\" # c", "--external|a#b"},
	{"verbosity 4 5", NULL},
	{"lsm-profile \"unterminated", NULL},
	{"lsm-profile \"x\" y", NULL},
};

static int test_lines(void)
{
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct arg_vec v = {NULL, 0};
		const char *why = NULL;
		char got[512] = "";
		int ret = config_parse_line(rows[i].line, &v, &why);

		for (int a = 0; a < v.argc; a++)
			snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s", a ? "|" : "", v.argv[a]);
		arg_vec_free(&v);
		if (!rows[i].want) {
			if (ret != -1 || !why) {
				snprintf(unit_fail_msg, sizeof(unit_fail_msg), "row %zu accepted: %s", i, got);
				return 1;
			}
			continue;
		}
		if (ret || strcmp(got, rows[i].want)) {
			snprintf(unit_fail_msg, sizeof(unit_fail_msg), "row %zu: got '%s' (ret %d), want '%s'", i, got,
				 ret, rows[i].want);
			return 1;
		}
	}
	return 0;
}

static int test_files(void)
{
	char path[] = "/tmp/criu-test-config.XXXXXX";
	struct arg_vec v = {NULL, 0};
	int fd = mkstemp(path), ret;
	const char good[] = "# runc.conf\ntcp-established\nverbosity 2\n";
	const char bad[] = "tcp-established\nverbosity 4 4\n";

	CHECK(fd >= 0);
	CHECK(write(fd, good, sizeof(good) - 1) == (ssize_t)sizeof(good) - 1);
	ret = config_read_file(path, &v);
	CHECK(ret == 0 && v.argc == 3 && !strcmp(v.argv[2], "2") && v.argv[3] == NULL);
	arg_vec_free(&v);
	CHECK(ftruncate(fd, 0) == 0 && pwrite(fd, bad, sizeof(bad) - 1, 0) == (ssize_t)sizeof(bad) - 1);
	close(fd);
	fflush(stderr);
	ret = config_read_file(path, &v);
	arg_vec_free(&v);
	unlink(path);
	CHECK(ret == -1);
	CHECK(config_read_file("/nonexistent/criu.conf", &v) == 1 && v.argc == 0);
	return 0;
}

static const struct unit_case cases[] = {
	{"config-lines", test_lines},
	{"config-files", test_files},
	{NULL, NULL},
};

UNIT_MAIN(cases)

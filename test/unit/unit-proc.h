/*
 * Helpers shared by the tests of the /proc parsers (test-proc-*.c,
 * test-mountinfo.c, test-fdinfo-anon.c): stable text for golden files,
 * fixture loading, error checks and fuzz corpus replay.
 */
#ifndef CRIU_UNIT_PROC_H
#define CRIU_UNIT_PROC_H

#include <dirent.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>

#include "unit.h"
#include "proc/proc-text.h"
#include "util/util.h"

#define PROC_FIXTURES "test/unit/fixtures/proc/"

/* Writes `s` quoted, with C-style escapes for everything but plain ASCII. */
static inline void put_escaped(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '\\':
			fputs("\\\\", f);
			break;
		case '"':
			fputs("\\\"", f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		case '\t':
			fputs("\\t", f);
			break;
		default:
			if (*p >= 0x20 && *p < 0x7f)
				fputc(*p, f);
			else
				fprintf(f, "\\%03o", *p);
		}
	}
	fputc('"', f);
}

/* Reads fixture NAME (a file in PROC_FIXTURES); fails the case if missing. */
#define LOAD_FIXTURE(buf, len, name)                                                                                   \
	do {                                                                                                           \
		buf = unit_slurp(PROC_FIXTURES name, &len);                                                            \
		if (!buf) {                                                                                            \
			snprintf(unit_fail_msg, sizeof(unit_fail_msg), "can't read " PROC_FIXTURES "%s", name);        \
			return 1;                                                                                      \
		}                                                                                                      \
	} while (0)

/* The parser's error as callers print it (a temporary: use it within one expression). */
#define ERR_MSG(err) (proc_err_msg(&(err)).s)

/* Checks the whole formatted error. */
#define CHECK_ERR_MSG(err, want)                                                                                       \
	do {                                                                                                           \
		struct proc_err_msg _m = proc_err_msg(&(err));                                                         \
		CHECK_STR(_m.s, want);                                                                                 \
	} while (0)

/* Fails the case with the parser's error message. */
#define CHECK_PARSED(ret, err, what)                                                                                   \
	do {                                                                                                           \
		if ((ret) != 0) {                                                                                      \
			snprintf(unit_fail_msg, sizeof(unit_fail_msg), "%.200s: ret %d: %s", what, ret, ERR_MSG(err)); \
			return 1;                                                                                      \
		}                                                                                                      \
	} while (0)

/*
 * Is err a well-formed failure: a reason, a terminated excerpt, and a
 * message the formatter can print? (The tests fill err with garbage first.)
 */
static inline bool proc_err_sane(const struct proc_err *err)
{
	return err->why && memchr(err->text, '\0', sizeof(err->text)) && proc_err_msg(err).s[0];
}

/*
 * Feeds every file of a fuzz corpus directory to `parse` (seeds and crash
 * inputs alike: none may crash, leak or read out of bounds under ASan) and
 * checks that an error always comes well-formed (proc_err_sane).
 */
static inline int replay_corpus(const char *dir, int (*parse)(const char *buf, size_t len, struct proc_err *err))
{
	DIR *d = opendir(dir);
	struct dirent *de;
	unsigned files = 0;

	if (!d) {
		snprintf(unit_fail_msg, sizeof(unit_fail_msg), "can't open %s", dir);
		return 1;
	}
	while ((de = readdir(d))) {
		struct proc_err err;
		char path[512];
		size_t len;
		char *buf;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		buf = unit_slurp(path, &len);
		if (!buf)
			continue;
		memset(&err, 0x55, sizeof(err));
		if (parse(buf, len, &err) < 0 && !proc_err_sane(&err)) {
			snprintf(unit_fail_msg, sizeof(unit_fail_msg), "%.400s: malformed error", path);
			free(buf);
			closedir(d);
			return 1;
		}
		free(buf);
		files++;
	}
	closedir(d);
	if (!files) {
		snprintf(unit_fail_msg, sizeof(unit_fail_msg), "%s is empty", dir);
		return 1;
	}
	return 0;
}

#endif

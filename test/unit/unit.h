/*
 * A minimal table-driven unit test harness. Each test binary prints one line
 * per case, which test/run.sh counts:
 *   ok NAME            passed
 *   not ok NAME: why   failed
 *   skip NAME: why     could not run here
 * and exits non-zero if any case failed.
 *
 *   static int test_foo(void) { CHECK(1 + 1 == 2); return 0; }
 *   static const struct unit_case cases[] = { { "foo", test_foo }, {} };
 *   UNIT_MAIN(cases)
 *
 * A case returns 0 (pass), UNIT_SKIP (skip; set unit_skip_reason) or
 * anything else (fail). CHECK() prints the failed expression and returns 1.
 * Fixture paths are relative to the repository root (tests run from there).
 */
#ifndef CRIU_UNIT_H
#define CRIU_UNIT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define UNIT_SKIP 77

struct unit_case {
	const char *name;
	int (*fn)(void);
};

static const char *unit_skip_reason = "";
static char unit_fail_msg[512];

#define CHECK(cond)                                                                                       \
	do {                                                                                              \
		if (!(cond)) {                                                                            \
			snprintf(unit_fail_msg, sizeof(unit_fail_msg), "%s:%d: CHECK(%s)", __FILE__, __LINE__, \
				 #cond);                                                                  \
			return 1;                                                                         \
		}                                                                                         \
	} while (0)

#define CHECK_STR(a, b)                                                                                   \
	do {                                                                                              \
		const char *_a = (a), *_b = (b);                                                          \
		if (!_a || !_b || strcmp(_a, _b)) {                                                       \
			snprintf(unit_fail_msg, sizeof(unit_fail_msg), "%s:%d: %s = \"%s\", expected \"%s\"", \
				 __FILE__, __LINE__, #a, _a ? _a : "(null)", _b ? _b : "(null)");         \
			return 1;                                                                         \
		}                                                                                         \
	} while (0)

static inline int unit_run(const struct unit_case *cases)
{
	int failed = 0;

	for (const struct unit_case *c = cases; c->name; c++) {
		unit_fail_msg[0] = '\0';
		int r = c->fn();
		if (r == 0)
			printf("ok %s\n", c->name);
		else if (r == UNIT_SKIP)
			printf("skip %s: %s\n", c->name, unit_skip_reason);
		else {
			printf("not ok %s: %s\n", c->name, unit_fail_msg[0] ? unit_fail_msg : "failed");
			failed++;
		}
		fflush(stdout);
	}
	return failed ? 1 : 0;
}

#define UNIT_MAIN(cases)              \
	int main(void)                \
	{                             \
		return unit_run(cases); \
	}

/* Reads a whole file into a NUL-terminated malloc'd buffer (NULL on error). */
static inline char *unit_slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0;

	if (!f)
		return NULL;
	for (;;) {
		if (cap - n < 65536) {
			cap = cap ? cap * 2 : 131072;
			buf = realloc(buf, cap);
		}
		size_t r = fread(buf + n, 1, cap - n - 1, f);
		if (!r)
			break;
		n += r;
	}
	fclose(f);
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

/* Compares `got` with the golden file; with UNIT_UPDATE_GOLDEN=1 in the
 * environment, rewrites the golden file instead. */
static inline int unit_golden(const char *golden_path, const char *got)
{
	if (getenv("UNIT_UPDATE_GOLDEN")) {
		FILE *f = fopen(golden_path, "w");
		if (!f)
			return 1;
		fputs(got, f);
		fclose(f);
		return 0;
	}
	char *want = unit_slurp(golden_path, NULL);
	if (!want) {
		snprintf(unit_fail_msg, sizeof(unit_fail_msg), "missing golden file %.400s", golden_path);
		return 1;
	}
	int r = strcmp(want, got) != 0;
	if (r)
		snprintf(unit_fail_msg, sizeof(unit_fail_msg), "output differs from %.400s (rerun with UNIT_UPDATE_GOLDEN=1 and diff)",
			 golden_path);
	free(want);
	return r;
}

#endif

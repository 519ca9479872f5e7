/*
 * Unit tests for the /proc/PID/maps parser (criu/proc/proc-maps.c): real files
 * captured on this machine and hand-made edge cases, each compared with a
 * golden file; field checks; every kind of bad line; fuzz corpus replay.
 * UNIT_UPDATE_GOLDEN=1 rewrites the golden files.
 */
#include <errno.h>
#include <stdint.h>

#include "unit-proc.h"
#include "proc/proc-maps.h"

#define CORPUS_DIR "test/fuzz/corpus/proc-maps"

/* The parsed table as stable text, one line per area with every field. */
static char *dump_maps(const struct proc_maps *m)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	if (!f)
		return NULL;
	for (size_t i = 0; i < m->nr; i++) {
		const struct proc_maps_entry *e = &m->entries[i];

		fprintf(f, "%" PRIx64 "-%" PRIx64 " %c%c%c%c pgoff=%" PRIx64 " dev=%x:%x ino=%" PRIu64 " kind=%s",
			e->start, e->end, e->read ? 'r' : '-', e->write ? 'w' : '-', e->exec ? 'x' : '-',
			e->shared ? 's' : 'p', e->pgoff, e->dev_major, e->dev_minor, e->ino,
			proc_vma_kind_name(e->kind));
		if (e->deleted)
			fputs(" deleted", f);
		fputs(" path=", f);
		put_escaped(f, e->path);
		if (e->anon_name) {
			fputs(" anon_name=", f);
			put_escaped(f, e->anon_name);
		}
		fputc('\n', f);
	}
	fclose(f);
	return out;
}

static int parse_str(const char *s, struct proc_maps *m, struct proc_err *err)
{
	return proc_maps_parse(s, strlen(s), m, err);
}

static int check_fixture(const char *name)
{
	char path[256], golden[256];
	struct proc_maps m = {0};
	struct proc_err err;
	size_t len;
	char *buf, *dump;
	int ret;

	snprintf(path, sizeof(path), PROC_FIXTURES "%s.maps", name);
	snprintf(golden, sizeof(golden), PROC_FIXTURES "%s.maps.golden", name);
	buf = unit_slurp(path, &len);
	if (!buf) {
		snprintf(unit_fail_msg, sizeof(unit_fail_msg), "can't read %s", path);
		return 1;
	}
	ret = proc_maps_parse(buf, len, &m, &err);
	free(buf);
	if (ret) {
		proc_maps_free(&m);
		CHECK_PARSED(ret, err, path);
	}
	dump = dump_maps(&m);
	proc_maps_free(&m);
	CHECK(dump);
	ret = unit_golden(golden, dump);
	free(dump);
	return ret;
}

static int test_fixture_glibc_threads(void)
{
	return check_fixture("glibc-threads");
}

static int test_fixture_busybox_static(void)
{
	return check_fixture("busybox-static");
}

static int test_fixture_python3(void)
{
	return check_fixture("python3");
}

static int test_fixture_edge(void)
{
	return check_fixture("edge");
}

/* Spot checks on the glibc fixture, independent of the golden file. */
static int test_glibc_fields(void)
{
	struct proc_maps m = {0};
	struct proc_err err;
	size_t len, stacks = 0, vvars = 0;
	char *buf;
	int ret;

	LOAD_FIXTURE(buf, len, "glibc-threads.maps");
	ret = proc_maps_parse(buf, len, &m, &err);
	free(buf);
	CHECK_PARSED(ret, err, "glibc-threads.maps");
	CHECK(m.nr == 36);
	CHECK(m.entries[0].start == 0x558b23fe5000ULL && m.entries[0].end == 0x558b23fe6000ULL);
	CHECK(m.entries[0].read && !m.entries[0].write && !m.entries[0].exec && !m.entries[0].shared);
	CHECK(m.entries[0].kind == PROC_VMA_FILE && m.entries[0].dev_major == 0xfe && m.entries[0].ino == 10953632);
	CHECK_STR(m.entries[0].path, "/tmp/pw/cap/shapes");
	CHECK(m.entries[1].exec && m.entries[1].pgoff == 0x1000);
	CHECK(m.entries[5].kind == PROC_VMA_HEAP);
	/* Threads' stacks: anonymous, with a PROT_NONE guard page below. */
	for (size_t i = 0; i + 1 < m.nr; i++) {
		const struct proc_maps_entry *g = &m.entries[i], *s = &m.entries[i + 1];

		if (g->kind == PROC_VMA_ANON && !g->read && !g->write && g->end == s->start &&
		    s->kind == PROC_VMA_ANON && s->end - s->start == 8 << 20)
			stacks++;
	}
	CHECK(stacks == 3);
	for (size_t i = 0; i < m.nr; i++) {
		const struct proc_maps_entry *e = &m.entries[i];

		if (e->kind == PROC_VMA_VVAR || e->kind == PROC_VMA_VVAR_VCLOCK)
			vvars++;
		if (strstr(e->path, "memfd:buf")) {
			CHECK(e->kind == PROC_VMA_FILE && e->deleted && e->shared);
			CHECK_STR(e->path, "/memfd:buf");
		}
		if (strstr(e->path, "with spaces")) {
			CHECK_STR(e->path, "/tmp/pw/cap/a file  with spaces");
			CHECK(!e->deleted && e->pgoff == 0x1000);
		}
	}
	CHECK(vvars == 2);
	CHECK(m.entries[m.nr - 1].kind == PROC_VMA_VSYSCALL && m.entries[m.nr - 1].exec);
	CHECK(m.entries[m.nr - 2].kind == PROC_VMA_STACK);
	proc_maps_free(&m);
	CHECK(!m.entries && !m.nr && !m.cap);
	return 0;
}

static int test_names(void)
{
	static const struct {
		const char *tail; /* after "1000-2000 rw-p 00000000 00:00 0" */
		enum proc_vma_kind kind;
		const char *path;
		const char *anon_name;
		bool deleted;
	} cases[] = {
		{"", PROC_VMA_ANON, "", NULL, false},
		{" ", PROC_VMA_ANON, "", NULL, false},
		{"                          ", PROC_VMA_ANON, "", NULL, false},
		{"   [heap]", PROC_VMA_HEAP, "[heap]", NULL, false},
		{" [stack]", PROC_VMA_STACK, "[stack]", NULL, false},
		{" [vdso]", PROC_VMA_VDSO, "[vdso]", NULL, false},
		{" [vvar]", PROC_VMA_VVAR, "[vvar]", NULL, false},
		{" [vvar_vclock]", PROC_VMA_VVAR_VCLOCK, "[vvar_vclock]", NULL, false},
		{" [vsyscall]", PROC_VMA_VSYSCALL, "[vsyscall]", NULL, false},
		{" [anon:x y]", PROC_VMA_ANON_NAMED, "[anon:x y]", "x y", false},
		{" [anon_shmem:z]", PROC_VMA_SHMEM_NAMED, "[anon_shmem:z]", "z", false},
		{" [anon:]", PROC_VMA_ANON_NAMED, "[anon:]", "", false},
		{" [heap] (deleted)", PROC_VMA_FILE, "[heap]", NULL, true},
		{" [heapx]", PROC_VMA_SPECIAL, "[heapx]", NULL, false},
		{" [", PROC_VMA_FILE, "[", NULL, false},
		{" []", PROC_VMA_SPECIAL, "[]", NULL, false},
		{" /a b  c ", PROC_VMA_FILE, "/a b  c ", NULL, false},
		{" /f (deleted)", PROC_VMA_FILE, "/f", NULL, true},
		{" (deleted)", PROC_VMA_FILE, "(deleted)", NULL, false},
		{" /f(deleted)", PROC_VMA_FILE, "/f(deleted)", NULL, false},
		{" anon_inode:[perf_event]", PROC_VMA_FILE, "anon_inode:[perf_event]", NULL, false},
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct proc_maps m = {0};
		struct proc_err err;
		char line[256];
		const struct proc_maps_entry *e;

		snprintf(line, sizeof(line), "1000-2000 rw-p 00000000 00:00 0%s\n", cases[i].tail);
		if (parse_str(line, &m, &err) || m.nr != 1) {
			snprintf(unit_fail_msg, sizeof(unit_fail_msg), "case %zu: %s", i, ERR_MSG(err));
			proc_maps_free(&m);
			return 1;
		}
		e = &m.entries[0];
		if (e->kind != cases[i].kind || strcmp(e->path, cases[i].path) || e->deleted != cases[i].deleted ||
		    !e->anon_name != !cases[i].anon_name ||
		    (e->anon_name && strcmp(e->anon_name, cases[i].anon_name))) {
			snprintf(unit_fail_msg, sizeof(unit_fail_msg),
				 "case %zu \"%s\": kind %s path \"%s\" deleted %d anon_name %s", i, cases[i].tail,
				 proc_vma_kind_name(e->kind), e->path, e->deleted, e->anon_name ? e->anon_name : "-");
			proc_maps_free(&m);
			return 1;
		}
		proc_maps_free(&m);
	}
	return 0;
}

static int test_limits(void)
{
	struct proc_maps m = {0};
	const struct proc_maps_entry *e;

	CHECK(parse_str("0-ffffffffffffffff rwxs ffffffffffffffff ffffffff:ffffffff 18446744073709551615 /x", &m,
			NULL) == 0);
	e = &m.entries[0];
	CHECK(e->start == 0 && e->end == UINT64_MAX && e->pgoff == UINT64_MAX);
	CHECK(e->dev_major == UINT32_MAX && e->dev_minor == UINT32_MAX && e->ino == UINT64_MAX);
	CHECK(e->read && e->write && e->exec && e->shared);
	/* Upper-case hex and leading zeros are still numbers. */
	CHECK(parse_str("0000000000000ABC-0000000000000aBd ---p 000000000000000A 0FE:01 007", &m, NULL) == 0);
	e = &m.entries[1];
	CHECK(e->start == 0xabc && e->end == 0xabd && e->pgoff == 10 && e->dev_major == 0xfe && e->ino == 7);
	CHECK(!e->read && !e->write && !e->exec && !e->shared);
	CHECK(m.nr == 2);
	proc_maps_free(&m);
	return 0;
}

static int test_empty_and_newlines(void)
{
	struct proc_maps m = {0};
	struct proc_err err;

	/* A kernel thread or a zombie has an empty maps file. */
	CHECK(proc_maps_parse(NULL, 0, &m, &err) == 0 && m.nr == 0);
	CHECK(proc_maps_parse("", 0, &m, &err) == 0 && m.nr == 0);
	/* The last line may lack its newline. */
	CHECK(parse_str("1000-2000 r--p 0 0:0 0\n3000-4000 r--p 0 0:0 0 [heap]", &m, &err) == 0);
	CHECK(m.nr == 2 && m.entries[1].kind == PROC_VMA_HEAP);
	proc_maps_free(&m);
	/* Not NUL-terminated: exactly len bytes are read (ASan checks). */
	{
		const char *text = "1000-2000 r--p 0 0:0 0 /abcGARBAGE";
		size_t len = strlen(text) - strlen("GARBAGE");
		char *buf = malloc(len);

		CHECK(buf);
		memcpy(buf, text, len);
		CHECK(proc_maps_parse(buf, len, &m, &err) == 0);
		free(buf);
		CHECK(m.nr == 1);
		CHECK_STR(m.entries[0].path, "/abc");
		proc_maps_free(&m);
	}
	return 0;
}

static int test_errors(void)
{
	static const struct {
		const char *name;
		const char *in;
		size_t len; /* 0: strlen(in) */
		unsigned line;
		const char *msg;
		size_t nr;
	} cases[] = {
		{"empty line", "1000-2000 r--p 0 0:0 0\n\n", 0, 2, "empty line", 1},
		{"blank first line", "\n1000-2000 r--p 0 0:0 0\n", 0, 1, "empty line", 0},
		{"only range", "1000-2000\n", 0, 1, "field 2 (permissions): missing", 0},
		{"no dev", "1000-2000 r--p 0\n", 0, 1, "field 4 (major:minor): missing", 0},
		{"no inode", "1000-2000 r--p 0 0:0\n", 0, 1, "field 5 (inode): missing", 0},
		{"no dash", "10002000 r--p 0 0:0 0\n", 0, 1, "field 1 (address range): missing '-'", 0},
		{"bad start", "10x0-2000 r--p 0 0:0 0\n", 0, 1, "field 1 (address range): start: expected hex", 0},
		{"empty end", "1000- r--p 0 0:0 0\n", 0, 1, "field 1 (address range): end: empty number", 0},
		{"0x prefix", "0x1000-2000 r--p 0 0:0 0\n", 0, 1, "start: expected hex", 0},
		{"signed start", "-1000-2000 r--p 0 0:0 0\n", 0, 1, "start: empty number", 0},
		{"plus end", "1000-+2000 r--p 0 0:0 0\n", 0, 1, "end: sign not allowed", 0},
		{"overflow", "1000-10000000000000000 r--p 0 0:0 0\n", 0, 1, "end: number out of range", 0},
		{"end below start", "2000-1000 r--p 0 0:0 0\n", 0, 1, "end is not above start", 0},
		{"empty area", "2000-2000 r--p 0 0:0 0\n", 0, 1, "end is not above start", 0},
		{"perms short", "1000-2000 r-p 0 0:0 0\n", 0, 1, "field 2 (permissions): expected 4 letters", 0},
		{"perms long", "1000-2000 r--pp 0 0:0 0\n", 0, 1, "field 2 (permissions)", 0},
		{"perms order", "1000-2000 wr-p 0 0:0 0\n", 0, 1, "field 2 (permissions)", 0},
		{"perms x", "1000-2000 r--x 0 0:0 0\n", 0, 1, "field 2 (permissions)", 0},
		{"perms upper", "1000-2000 R--P 0 0:0 0\n", 0, 1, "field 2 (permissions)", 0},
		{"double space", "1000-2000  r--p 0 0:0 0\n", 0, 1, "field 2 (permissions)", 0},
		{"bad offset", "1000-2000 r--p 0g 0:0 0\n", 0, 1, "field 3 (offset): expected hex digits: \"0g\"", 0},
		{"offset overflow", "1000-2000 r--p 1ffffffffffffffff 0:0 0\n", 0, 1, "field 3 (offset): number out",
		 0},
		{"dev no colon", "1000-2000 r--p 0 fe00 0\n", 0, 1, "field 4 (major:minor): missing ':'", 0},
		{"dev bad major", "1000-2000 r--p 0 fg:00 0\n", 0, 1, "field 4 (major:minor): major: expected hex", 0},
		{"dev empty minor", "1000-2000 r--p 0 fe: 0\n", 0, 1, "minor: empty number", 0},
		{"dev two colons", "1000-2000 r--p 0 fe:0:1 0\n", 0, 1, "minor: expected hex", 0},
		{"dev overflow", "1000-2000 r--p 0 100000000:0 0\n", 0, 1, "major: number out of range", 0},
		{"hex inode", "1000-2000 r--p 0 0:0 1f /x\n", 0, 1, "field 5 (inode): expected digits", 0},
		{"empty inode", "1000-2000 r--p 0 0:0  /x\n", 0, 1, "field 5 (inode): empty number", 0},
		{"inode overflow", "1000-2000 r--p 0 0:0 18446744073709551616\n", 0, 1, "field 5 (inode): number out",
		 0},
		{"NUL byte", "1000-2000 r--p 0 0:0 0 /a\0b\n", 28, 1, "column 26: NUL byte", 0},
		{"bad third line", "1000-2000 r--p 0 0:0 0\n2000-3000 r--p 0 0:0 0\n3000-4000 r--p 0 0:0 x\n", 0, 3,
		 "field 5 (inode)", 2},
		{"bad last line without newline", "1000-2000 r--p 0 0:0 0\n2000-3000 r--p", 0, 2,
		 "field 3 (offset): missing", 1},
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct proc_maps m = {0};
		struct proc_err err;
		size_t len = cases[i].len ? cases[i].len : strlen(cases[i].in);
		int ret;

		memset(&err, 0x55, sizeof(err));
		ret = proc_maps_parse(cases[i].in, len, &m, &err);
		if (ret != -EINVAL || err.line != cases[i].line || !proc_err_sane(&err) ||
		    !strstr(ERR_MSG(err), cases[i].msg) || m.nr != cases[i].nr) {
			snprintf(unit_fail_msg, sizeof(unit_fail_msg),
				 "case \"%s\": ret=%d line=%u nr=%zu msg=\"%.160s\"; want line=%u nr=%zu msg~\"%s\"",
				 cases[i].name, ret, err.line, m.nr, proc_err_sane(&err) ? ERR_MSG(err) : "?",
				 cases[i].line, cases[i].nr, cases[i].msg);
			proc_maps_free(&m);
			return 1;
		}
		proc_maps_free(&m);
	}
	/* err may be NULL. */
	{
		struct proc_maps m = {0};

		CHECK(parse_str("x", &m, NULL) == -EINVAL);
		proc_maps_free(&m);
	}
	return 0;
}

/* A path far longer than any fixed buffer, and many lines. */
static int test_long(void)
{
	const size_t n = 1 << 20, lines = 100000;
	struct proc_maps m = {0};
	struct proc_err err;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int ret;

	CHECK(f);
	fputs("1000-2000 r--p 00000000 fe:00 1                          /", f);
	for (size_t i = 0; i < n; i++)
		fputc(i % 64 == 63 ? ' ' : 'a' + i % 26, f);
	fputs(" (deleted)\n", f);
	for (size_t i = 0; i < lines; i++)
		fprintf(f, "%zx-%zx rw-p 00000000 00:00 0 \n", (i + 2) << 12, (i + 3) << 12);
	fclose(f);
	CHECK(buf);
	ret = proc_maps_parse(buf, len, &m, &err);
	free(buf);
	CHECK_PARSED(ret, err, "long");
	CHECK(m.nr == lines + 1);
	CHECK(strlen(m.entries[0].path) == n + 1 && m.entries[0].deleted);
	CHECK(m.entries[lines].start == (lines + 1) << 12);
	proc_maps_free(&m);
	return 0;
}

static int parse_for_replay(const char *buf, size_t len, struct proc_err *err)
{
	struct proc_maps m = {0};
	int ret = proc_maps_parse(buf, len, &m, err);

	proc_maps_free(&m);
	return ret;
}

static int test_fuzz_corpus(void)
{
	return replay_corpus(CORPUS_DIR, parse_for_replay);
}

static const struct unit_case cases[] = {
	{"proc_maps_fixture_glibc_threads", test_fixture_glibc_threads},
	{"proc_maps_fixture_busybox_static", test_fixture_busybox_static},
	{"proc_maps_fixture_python3", test_fixture_python3},
	{"proc_maps_fixture_edge", test_fixture_edge},
	{"proc_maps_glibc_fields", test_glibc_fields},
	{"proc_maps_names", test_names},
	{"proc_maps_limits", test_limits},
	{"proc_maps_empty_and_newlines", test_empty_and_newlines},
	{"proc_maps_errors", test_errors},
	{"proc_maps_long", test_long},
	{"proc_maps_fuzz_corpus", test_fuzz_corpus},
	{},
};

UNIT_MAIN(cases)

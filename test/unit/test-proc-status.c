/*
 * Unit tests for the /proc/PID/status parser (criu/proc/proc-status.c): files
 * captured on this machine (a threaded glibc program and one of its
 * threads, static busybox, python3, a zombie, a task in a child pid
 * namespace, kernel threads) and a hand-made one with every field at an
 * edge, compared with golden files; every kind of bad value; corpus replay.
 * UNIT_UPDATE_GOLDEN=1 rewrites the golden files.
 */
#include <errno.h>
#include <stdint.h>

#include "unit-proc.h"
#include "proc/proc-status.h"

#define CORPUS_DIR "test/fuzz/corpus/proc-status"

static void put_ids(FILE *f, const char *name, const struct proc_id_list *l)
{
	fprintf(f, "%s=[", name);
	for (size_t i = 0; i < l->nr; i++)
		fprintf(f, "%s%u", i ? " " : "", l->ids[i]);
	fputs("]\n", f);
}

/* Every field, one per line; absent optional ones say so. */
static char *dump_status(const struct proc_status *st)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	if (!f)
		return NULL;
	fputs("seen=", f);
	for (int k = 0; k < PS_NR_KEYS; k++)
		if (st->seen & PS_BIT(k))
			fprintf(f, "%s ", proc_status_key_name(k));
	fputs("\nname=", f);
	put_escaped(f, st->name);
	fprintf(f, "\numask=%04o state=%c tgid=%d pid=%d ppid=%d tracer=%d\n", st->umask, st->state, st->tgid, st->pid,
		st->ppid, st->tracer_pid);
	fprintf(f, "uid=%u %u %u %u gid=%u %u %u %u\n", st->uid[0], st->uid[1], st->uid[2], st->uid[3], st->gid[0],
		st->gid[1], st->gid[2], st->gid[3]);
	put_ids(f, "groups", &st->groups);
	put_ids(f, "nstgid", &st->nstgid);
	put_ids(f, "nspid", &st->nspid);
	put_ids(f, "nspgid", &st->nspgid);
	put_ids(f, "nssid", &st->nssid);
	fprintf(f, "sigq=%u/%" PRIu64 "\n", st->sigq_queued, st->sigq_limit);
	fprintf(f,
		"sig pnd=%016" PRIx64 " shd=%016" PRIx64 " blk=%016" PRIx64 " ign=%016" PRIx64 " cgt=%016" PRIx64 "\n",
		st->sig_pending, st->shd_pending, st->sig_blocked, st->sig_ignored, st->sig_caught);
	fprintf(f,
		"cap inh=%016" PRIx64 " prm=%016" PRIx64 " eff=%016" PRIx64 " bnd=%016" PRIx64 " amb=%016" PRIx64 "\n",
		st->cap_inh, st->cap_prm, st->cap_eff, st->cap_bnd, st->cap_amb);
	fprintf(f, "no_new_privs=%d seccomp=%u spec_store_bypass=", st->no_new_privs, st->seccomp);
	if (st->spec_store_bypass)
		put_escaped(f, st->spec_store_bypass);
	else
		fputs("(absent)", f);
	fputc('\n', f);
	fclose(f);
	return out;
}

static int parse_str(const char *s, struct proc_status *st, struct proc_err *err)
{
	return proc_status_parse(s, strlen(s), st, err);
}

static int check_fixture(const char *name)
{
	char path[256], golden[256];
	struct proc_status st;
	struct proc_err err;
	size_t len;
	char *buf, *dump;
	int ret;

	snprintf(path, sizeof(path), PROC_FIXTURES "%s.status", name);
	snprintf(golden, sizeof(golden), PROC_FIXTURES "%s.status.golden", name);
	buf = unit_slurp(path, &len);
	if (!buf) {
		snprintf(unit_fail_msg, sizeof(unit_fail_msg), "can't read %s", path);
		return 1;
	}
	ret = proc_status_parse(buf, len, &st, &err);
	free(buf);
	if (ret) {
		proc_status_free(&st);
		CHECK_PARSED(ret, err, path);
	}
	dump = dump_status(&st);
	proc_status_free(&st);
	CHECK(dump);
	ret = unit_golden(golden, dump);
	free(dump);
	return ret;
}

#define FIXTURE_CASE(fn, name)                                                                                         \
	static int fn(void)                                                                                            \
	{                                                                                                              \
		return check_fixture(name);                                                                            \
	}

FIXTURE_CASE(test_glibc_threads, "glibc-threads")
FIXTURE_CASE(test_glibc_thread, "glibc-thread")
FIXTURE_CASE(test_busybox_static, "busybox-static")
FIXTURE_CASE(test_python3, "python3")
FIXTURE_CASE(test_zombie, "zombie")
FIXTURE_CASE(test_pidns_child, "pidns-child")
FIXTURE_CASE(test_kthreadd, "kthreadd")
FIXTURE_CASE(test_kworker, "kworker")
FIXTURE_CASE(test_edge, "edge")

/* Field checks on real files, independent of the golden files. */
static int test_fields(void)
{
	struct proc_status st;
	struct proc_err err;
	size_t len;
	char *buf;
	int ret;

	LOAD_FIXTURE(buf, len, "glibc-threads.status");
	ret = proc_status_parse(buf, len, &st, &err);
	free(buf);
	CHECK_PARSED(ret, err, "glibc-threads.status");
	/* prctl(PR_SET_NAME, "sh\\apes\tx y"): the backslash comes escaped. */
	CHECK_STR(st.name, "sh\\apes\tx y");
	CHECK(st.umask == 027 && st.state == 'S' && st.tgid == 12532 && st.pid == 12532 && st.ppid == 1);
	CHECK(st.groups.nr == 0 && st.nspid.nr == 1 && st.nspid.ids[0] == 12532);
	/* SIGUSR1 sent to the process and blocked: shared pending bit 9. */
	CHECK(st.shd_pending == 1ULL << (10 - 1) && st.sig_pending == 0);
	CHECK(st.sig_blocked == ((1ULL << (10 - 1)) | (1ULL << (15 - 1))));
	CHECK(st.sigq_queued == 1 && st.sigq_limit == 96365);
	CHECK(st.cap_eff == 0x000001fffeffffffULL && st.cap_amb == 0);
	CHECK((st.seen & PROC_STATUS_REQUIRED) == PROC_STATUS_REQUIRED);
	CHECK(st.seen & PS_BIT(PS_UMASK));
	CHECK_STR(st.spec_store_bypass, "vulnerable");
	proc_status_free(&st);

	LOAD_FIXTURE(buf, len, "pidns-child.status");
	ret = proc_status_parse(buf, len, &st, &err);
	free(buf);
	CHECK_PARSED(ret, err, "pidns-child.status");
	CHECK(st.nspid.nr == 2 && st.nspid.ids[1] == 1 && st.nssid.nr == 2 && st.nssid.ids[1] == 0);
	proc_status_free(&st);

	/* A zombie has no Umask line. */
	LOAD_FIXTURE(buf, len, "zombie.status");
	ret = proc_status_parse(buf, len, &st, &err);
	free(buf);
	CHECK_PARSED(ret, err, "zombie.status");
	CHECK(st.state == 'Z' && !(st.seen & PS_BIT(PS_UMASK)) && st.umask == 0);
	proc_status_free(&st);

	LOAD_FIXTURE(buf, len, "edge.status");
	ret = proc_status_parse(buf, len, &st, &err);
	free(buf);
	CHECK_PARSED(ret, err, "edge.status");
	CHECK_STR(st.name, "a\nb\\c\td e");
	CHECK(st.tgid == 2147483647 && st.uid[3] == UINT32_MAX && st.gid[0] == 65534);
	CHECK(st.groups.nr == 4 && st.groups.ids[3] == UINT32_MAX && st.nstgid.nr == 3);
	CHECK(st.sigq_limit == UINT64_MAX && st.shd_pending == 1ULL << 63);
	CHECK(st.no_new_privs && st.seccomp == 2 && st.cap_amb == 0x3000);
	CHECK_STR(st.spec_store_bypass, "thread force mitigated");
	proc_status_free(&st);
	CHECK(!st.name && !st.groups.ids && !st.seen);
	return 0;
}

/* The smallest file we accept: only the required keys (19 lines). */
#define REST_A "State:\tR (running)\nTgid:\t1\nPid:\t1\nPPid:\t0\nTracerPid:\t0\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\n"
#define REST_B                                                                                                         \
	"SigQ:\t0/1\nSigPnd:\t0\nShdPnd:\t0\nSigBlk:\t0\nSigIgn:\t0\nSigCgt:\t0\nCapInh:\t0\nCapPrm:\t0\n"             \
	"CapEff:\t0\nCapBnd:\t0\n"
#define REST REST_A "Groups:\t\n" REST_B
static const char minimal[] = "Name:\tx\n" REST;

static int test_minimal_and_shapes(void)
{
	struct proc_status st;
	struct proc_err err;

	CHECK(parse_str(minimal, &st, &err) == 0);
	CHECK(st.seen == PROC_STATUS_REQUIRED && st.groups.nr == 0 && !st.spec_store_bypass);
	CHECK_STR(st.name, "x");
	proc_status_free(&st);

	/* An empty name (prctl(PR_SET_NAME, "")), an empty NSpid list, a
	 * state without its description, keys we do not know with odd text. */
	CHECK(parse_str("Name:\t\n" REST "NSpid:\nWeird Key:  :\t:\nName2:\nKthread:\t1\n", &st, &err) == 0);
	CHECK_STR(st.name, "");
	CHECK((st.seen & PS_BIT(PS_NSPID)) && st.nspid.nr == 0);
	proc_status_free(&st);

	CHECK(parse_str("State:\tR\nName:\tq\n", &st, &err) == -EINVAL);
	CHECK(st.state == 'R' && err.line == 0 && strstr(ERR_MSG(err), "Tgid: missing"));
	proc_status_free(&st);
	return 0;
}

/* minimal with the line that starts with `key` replaced by `line`; sets
 * *lineno to that line's number. */
static void replace_line(char *buf, size_t size, const char *key, const char *line, unsigned *lineno)
{
	const char *at = minimal, *eol;

	*lineno = 1;
	while (strncmp(at, key, strlen(key))) {
		at = strchr(at, '\n') + 1;
		(*lineno)++;
	}
	eol = strchr(at, '\n');
	snprintf(buf, size, "%.*s%s%s", (int)(at - minimal), minimal, line, eol);
}

static int test_name_escapes(void)
{
	static const struct {
		const char *in;
		const char *out; /* NULL: an error */
	} cases[] = {
		{"plain", "plain"},
		{"a\\nb", "a\nb"},
		{"a\\\\b", "a\\b"},
		{"\\t\\r\\f\\v\\a\\e\\\"", "\t\r\f\v\a\033\""},
		{"tab\there", "tab\there"},
		{"sp ace: colon", "sp ace: colon"},
		{"\\\\n", "\\n"},
		{"end\\", NULL},
		{"\\x41", NULL},
		{"\\0", NULL},
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct proc_status st;
		struct proc_err err;
		char buf[1024];
		int ret;

		snprintf(buf, sizeof(buf), REST "Name:\t%s\n", cases[i].in);
		ret = parse_str(buf, &st, &err);
		if (cases[i].out ? ret || strcmp(st.name, cases[i].out)
				 : ret != -EINVAL || !strstr(ERR_MSG(err), "Name:")) {
			snprintf(unit_fail_msg, sizeof(unit_fail_msg), "case %zu \"%s\": ret %d name \"%s\" msg %s", i,
				 cases[i].in, ret, st.name ? st.name : "(null)", ERR_MSG(err));
			proc_status_free(&st);
			return 1;
		}
		proc_status_free(&st);
	}
	return 0;
}

static int test_errors(void)
{
	static const struct {
		const char *line; /* replaces or adds to the minimal file */
		const char *msg;
	} cases[] = {
		{"no colon here", "expected \"Key:\\tvalue\""},
		{":\tno key", "expected \"Key:\\tvalue\""},
		{"", "expected \"Key:\\tvalue\""},
		{"Pid:\t2", "Pid: repeated key"},
		{"Umask: 0022", "Umask: expected a tab after the ':'"},
		{"Umask:0022", "Umask: expected a tab"},
		{"Umask:\t0028", "Umask: expected octal digits"},
		{"Umask:\t010000", "Umask: number out of range"},
		{"Umask:\t", "Umask: empty number"},
		{"NSpid:\t1\t", "NSpid: empty id"},
		{"NSpid:\t1  2", "NSpid: expected digits"},
		{"NSpid:\t\t1", "NSpid: empty number"},
		{"NSpid:\t-1", "NSpid: sign not allowed"},
		{"NSsid:\t4294967296", "NSsid: number out of range"},
		{"CapAmb:\t0x10", "CapAmb: expected hex digits"},
		{"CapAmb:\t10000000000000000", "CapAmb: number out of range"},
		{"NoNewPrivs:\t2", "NoNewPrivs: number out of range"},
		{"Seccomp:\t3", "Seccomp: number out of range"},
		{"Speculation_Store_Bypass:\t", "Speculation_Store_Bypass: empty value"},
	};
	static const struct {
		const char *key; /* the required line to change */
		const char *value;
		const char *msg;
	} replace[] = {
		{"Pid:", "Pid:\t2147483648", "Pid: number out of range"},
		{"Pid:", "Pid:\t 1", "Pid: expected digits"},
		{"PPid:", "PPid:\t1 ", "PPid: expected digits"},
		{"State:", "State:\t", "State: expected a state letter"},
		{"State:", "State:\t? (what)", "State: expected a state letter"},
		{"State:", "State:\tRR", "State: expected \"L (description)\""},
		{"State:", "State:\tR (running", "State: expected \"L (description)\""},
		{"Uid:", "Uid:\t0\t0\t0", "Uid: expected 4 ids"},
		{"Uid:", "Uid:\t0\t0\t0\t0\t0", "Uid: expected 4 ids"},
		{"Uid:", "Uid:\t0 0 0 0", "Uid: expected digits"},
		{"Gid:", "Gid:", "Gid: expected a tab"},
		{"Groups:", "Groups:\t1  ", "Groups: empty id"},
		{"Groups:", "Groups:\t 1", "Groups: empty number"},
		{"Groups:", "Groups:\tx ", "Groups: expected digits"},
		{"SigQ:", "SigQ:\t0", "SigQ: expected \"queued/limit\""},
		{"SigQ:", "SigQ:\t4294967296/1", "SigQ: number out of range"},
		{"SigQ:", "SigQ:\t0/", "SigQ: empty number"},
		{"SigQ:", "SigQ:\t0/1/2", "SigQ: expected digits"},
		{"SigBlk:", "SigBlk:\t", "SigBlk: empty number"},
		{"CapBnd:", "Capbnd:\t0", "CapBnd: missing"},
	};
	char buf[2048];

	for (size_t i = 0; i < ARRAY_SIZE(cases) + ARRAY_SIZE(replace); i++) {
		struct proc_status st;
		struct proc_err err;
		const char *want;
		unsigned want_line;
		int ret;

		if (i < ARRAY_SIZE(cases)) {
			snprintf(buf, sizeof(buf), "%s%s\n", minimal, cases[i].line);
			want = cases[i].msg;
			want_line = 20;
		} else {
			size_t r = i - ARRAY_SIZE(cases);

			replace_line(buf, sizeof(buf), replace[r].key, replace[r].value, &want_line);
			want = replace[r].msg;
			if (strstr(want, "missing"))
				want_line = 0;
		}
		memset(&err, 0x55, sizeof(err));
		ret = parse_str(buf, &st, &err);
		if (ret != -EINVAL || err.line != want_line || !proc_err_sane(&err) || !strstr(ERR_MSG(err), want)) {
			snprintf(unit_fail_msg, sizeof(unit_fail_msg),
				 "case %zu: ret %d line %u msg \"%.160s\"; want %u \"%s\"", i, ret, err.line,
				 proc_err_sane(&err) ? ERR_MSG(err) : "?", want_line, want);
			proc_status_free(&st);
			return 1;
		}
		proc_status_free(&st);
	}

	/* A NUL byte, and no err at all. */
	{
		struct proc_status st;
		struct proc_err err;

		CHECK(proc_status_parse("Name:\ta\0b\n", 10, &st, &err) == -EINVAL);
		CHECK(err.line == 1 && strstr(ERR_MSG(err), "column 8: NUL byte"));
		proc_status_free(&st);
		CHECK(parse_str("Pid:\tx", &st, NULL) == -EINVAL);
		proc_status_free(&st);
		CHECK(proc_status_parse(NULL, 0, &st, &err) == -EINVAL && strstr(ERR_MSG(err), "Name: missing"));
		proc_status_free(&st);
	}
	return 0;
}

/* A name and a group list far longer than any fixed buffer. */
static int test_long(void)
{
	const size_t groups = 65536;
	struct proc_status st;
	struct proc_err err;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int ret;

	CHECK(f);
	fputs(REST_A REST_B "Name:\t", f);
	for (size_t i = 0; i < 100000; i++)
		fputs("\\\\", f);
	fputs("\nGroups:\t", f);
	for (size_t i = 0; i < groups; i++)
		fprintf(f, "%zu ", i);
	fputc('\n', f);
	fclose(f);
	CHECK(buf);
	ret = proc_status_parse(buf, len, &st, &err);
	free(buf);
	CHECK_PARSED(ret, err, "long");
	CHECK(strlen(st.name) == 100000 && st.name[99999] == '\\');
	CHECK(st.groups.nr == groups && st.groups.ids[groups - 1] == groups - 1);
	proc_status_free(&st);
	return 0;
}

static int parse_for_replay(const char *buf, size_t len, struct proc_err *err)
{
	struct proc_status st;
	int ret = proc_status_parse(buf, len, &st, err);

	proc_status_free(&st);
	return ret;
}

static int test_fuzz_corpus(void)
{
	return replay_corpus(CORPUS_DIR, parse_for_replay);
}

static const struct unit_case cases[] = {
	{"proc_status_fixture_glibc_threads", test_glibc_threads},
	{"proc_status_fixture_glibc_thread", test_glibc_thread},
	{"proc_status_fixture_busybox_static", test_busybox_static},
	{"proc_status_fixture_python3", test_python3},
	{"proc_status_fixture_zombie", test_zombie},
	{"proc_status_fixture_pidns_child", test_pidns_child},
	{"proc_status_fixture_kthreadd", test_kthreadd},
	{"proc_status_fixture_kworker", test_kworker},
	{"proc_status_fixture_edge", test_edge},
	{"proc_status_fields", test_fields},
	{"proc_status_minimal_and_shapes", test_minimal_and_shapes},
	{"proc_status_name_escapes", test_name_escapes},
	{"proc_status_errors", test_errors},
	{"proc_status_long", test_long},
	{"proc_status_fuzz_corpus", test_fuzz_corpus},
	{},
};

UNIT_MAIN(cases)

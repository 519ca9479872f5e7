/*
 * /proc/PID/status parser (see proc-status.h).
 *
 * A table maps each key we use to the shape of its value and to where the
 * value goes in struct proc_status; one small function per shape checks the
 * value strictly. The shapes, as fs/proc/array.c prints them:
 *
 *   Name:	comm with '\n' and '\\' escaped as "\n" and "\\"
 *   Umask:	0022                       (octal)
 *   State:	S (sleeping)
 *   Pid:	42                         (decimal; Tgid, PPid, TracerPid too)
 *   Uid:	0	0	0	0          (four, each after a tab)
 *   NSpid:	42	1                  (one per pid namespace level, each after a tab)
 *   Groups:	4 24 27                    (space separated, a trailing space; "Groups:\t " when none)
 *   SigQ:	0/96365
 *   SigBlk:	0000000000010000           (hex; Sig*, ShdPnd, Cap* too)
 *   NoNewPrivs:	0
 *   Seccomp:	2
 *   Speculation_Store_Bypass:	thread vulnerable
 */
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <string.h>

#include "proc/proc-status.h"
#include "util/util.h"

enum value_shape {
	V_NAME,
	V_OCTAL,
	V_STATE,
	V_PID,
	V_ID4,
	V_IDLIST,
	V_GROUPS,
	V_SIGQ,
	V_HEX64,
	V_BOOL,
	V_SECCOMP,
	V_STRING,
};

struct key_desc {
	const char *key;
	enum value_shape shape;
	size_t off; /* of the member in struct proc_status */
};

/* clang-format off */
static const struct key_desc keys[PS_NR_KEYS] = {
	[PS_NAME] = {"Name", V_NAME, offsetof(struct proc_status, name)},
	[PS_UMASK] = {"Umask", V_OCTAL, offsetof(struct proc_status, umask)},
	[PS_STATE] = {"State", V_STATE, offsetof(struct proc_status, state)},
	[PS_TGID] = {"Tgid", V_PID, offsetof(struct proc_status, tgid)},
	[PS_PID] = {"Pid", V_PID, offsetof(struct proc_status, pid)},
	[PS_PPID] = {"PPid", V_PID, offsetof(struct proc_status, ppid)},
	[PS_TRACERPID] = {"TracerPid", V_PID, offsetof(struct proc_status, tracer_pid)},
	[PS_UID] = {"Uid", V_ID4, offsetof(struct proc_status, uid)},
	[PS_GID] = {"Gid", V_ID4, offsetof(struct proc_status, gid)},
	[PS_GROUPS] = {"Groups", V_GROUPS, offsetof(struct proc_status, groups)},
	[PS_NSTGID] = {"NStgid", V_IDLIST, offsetof(struct proc_status, nstgid)},
	[PS_NSPID] = {"NSpid", V_IDLIST, offsetof(struct proc_status, nspid)},
	[PS_NSPGID] = {"NSpgid", V_IDLIST, offsetof(struct proc_status, nspgid)},
	[PS_NSSID] = {"NSsid", V_IDLIST, offsetof(struct proc_status, nssid)},
	[PS_SIGQ] = {"SigQ", V_SIGQ, 0},
	[PS_SIGPND] = {"SigPnd", V_HEX64, offsetof(struct proc_status, sig_pending)},
	[PS_SHDPND] = {"ShdPnd", V_HEX64, offsetof(struct proc_status, shd_pending)},
	[PS_SIGBLK] = {"SigBlk", V_HEX64, offsetof(struct proc_status, sig_blocked)},
	[PS_SIGIGN] = {"SigIgn", V_HEX64, offsetof(struct proc_status, sig_ignored)},
	[PS_SIGCGT] = {"SigCgt", V_HEX64, offsetof(struct proc_status, sig_caught)},
	[PS_CAPINH] = {"CapInh", V_HEX64, offsetof(struct proc_status, cap_inh)},
	[PS_CAPPRM] = {"CapPrm", V_HEX64, offsetof(struct proc_status, cap_prm)},
	[PS_CAPEFF] = {"CapEff", V_HEX64, offsetof(struct proc_status, cap_eff)},
	[PS_CAPBND] = {"CapBnd", V_HEX64, offsetof(struct proc_status, cap_bnd)},
	[PS_CAPAMB] = {"CapAmb", V_HEX64, offsetof(struct proc_status, cap_amb)},
	[PS_NONEWPRIVS] = {"NoNewPrivs", V_BOOL, offsetof(struct proc_status, no_new_privs)},
	[PS_SECCOMP] = {"Seccomp", V_SECCOMP, offsetof(struct proc_status, seccomp)},
	[PS_SPEC_STORE_BYPASS] = {"Speculation_Store_Bypass", V_STRING,
				  offsetof(struct proc_status, spec_store_bypass)},
};
/* clang-format on */

const char *proc_status_key_name(enum proc_status_key key)
{
	if ((unsigned)key >= PS_NR_KEYS)
		return "?";
	return keys[key].key;
}

/* Everything a value parser needs to report a problem. */
struct value_ctx {
	unsigned lineno;
	const char *key;
	struct proc_err *err;
};

static int fail_value(const struct value_ctx *c, const char *why, struct proc_span v)
{
	return proc_fail(c->err, c->lineno, c->key, why, v);
}

/*
 * Decodes the Name value: the kernel escapes '\n' and '\\' (and, with other
 * kernels' flag sets, the rest of C's one-letter escapes).
 */
static int parse_name(const struct value_ctx *c, struct proc_span v, char **out)
{
	char *s = xmalloc(v.len + 1);
	size_t o = 0;

	*out = s;
	for (size_t i = 0; i < v.len; i++) {
		char ch = v.s[i];

		if (ch != '\\') {
			s[o++] = ch;
			continue;
		}
		if (i + 1 == v.len)
			return fail_value(c, "truncated escape", (struct proc_span){v.s + i, v.len - i});
		switch (v.s[++i]) {
		case 'n':
			ch = '\n';
			break;
		case '\\':
			ch = '\\';
			break;
		case 't':
			ch = '\t';
			break;
		case 'r':
			ch = '\r';
			break;
		case 'f':
			ch = '\f';
			break;
		case 'v':
			ch = '\v';
			break;
		case 'a':
			ch = '\a';
			break;
		case 'e':
			ch = '\033';
			break;
		case '"':
			ch = '"';
			break;
		default:
			return fail_value(c, "unknown escape", (struct proc_span){v.s + i - 1, v.len - i + 1});
		}
		s[o++] = ch;
	}
	s[o] = '\0';
	return 0;
}

static int parse_state(const struct value_ctx *c, struct proc_span v, char *out)
{
	unsigned char l = v.len ? (unsigned char)v.s[0] : 0;

	if (!((l >= 'A' && l <= 'Z') || (l >= 'a' && l <= 'z')))
		return fail_value(c, "expected a state letter", v);
	/* "S (sleeping)": the words in parentheses are only for people. */
	if (v.len > 1 && (v.len < 4 || v.s[1] != ' ' || v.s[2] != '(' || v.s[v.len - 1] != ')'))
		return fail_value(c, "expected \"L (description)\"", v);
	*out = (char)l;
	return 0;
}

static void id_list_add(struct proc_id_list *l, uint32_t id)
{
	/* Grows by one at a time only when nr is a power of two. */
	if (!(l->nr & (l->nr - 1)))
		l->ids = xrealloc(l->ids, (l->nr ? l->nr * 2 : 1) * sizeof(*l->ids));
	l->ids[l->nr++] = id;
}

/*
 * `sep`-separated decimal ids. With `lead`, every id is preceded by sep
 * (the value started right after the key's tab, so the first one lost it);
 * with a `trail`, one trailing sep is allowed (Groups).
 */
static int parse_ids(const struct value_ctx *c, struct proc_span v, char sep, bool trail, struct proc_id_list *l)
{
	struct proc_span rest = v, f;
	const char *why;
	uint64_t n;

	if (trail && rest.len && rest.s[rest.len - 1] == sep)
		rest.len--;
	while (rest.len) {
		if (!proc_split(&rest, sep, &f)) {
			f = rest;
			rest.len = 0;
		} else if (!rest.len) {
			return fail_value(c, "empty id", v);
		}
		why = proc_parse_uint(f, 10, UINT32_MAX, &n);
		if (why)
			return fail_value(c, why, f);
		id_list_add(l, (uint32_t)n);
	}
	return 0;
}

static int parse_sigq(const struct value_ctx *c, struct proc_span v, struct proc_status *st)
{
	struct proc_span queued, limit = v;
	const char *why;

	if (!proc_split(&limit, '/', &queued))
		return fail_value(c, "expected \"queued/limit\"", v);
	why = proc_parse_u32(queued, 10, &st->sigq_queued);
	if (why)
		return fail_value(c, why, queued);
	why = proc_parse_uint(limit, 10, UINT64_MAX, &st->sigq_limit);
	if (why)
		return fail_value(c, why, limit);
	return 0;
}

static int parse_uint_into(const struct value_ctx *c, struct proc_span v, unsigned base, uint64_t max, uint64_t *out)
{
	const char *why = proc_parse_uint(v, base, max, out);

	return why ? fail_value(c, why, v) : 0;
}

/* Parses the value of a known key (the text after "Key:"). */
static int parse_value(const struct value_ctx *c, const struct key_desc *k, struct proc_span v, struct proc_status *st)
{
	void *dst = (char *)st + k->off;
	uint64_t n = 0;
	int ret;

	/* A pid list is empty when the task's pid is not visible from the
	 * reader's namespace: "NSpid:" with nothing after it. */
	if (k->shape == V_IDLIST && !v.len)
		return 0;
	/* Every other value starts with a tab. */
	if (!proc_skip_char(&v, '\t'))
		return fail_value(c, "expected a tab after the ':'", v);

	switch (k->shape) {
	case V_NAME:
		return parse_name(c, v, dst);
	case V_STRING:
		if (!v.len)
			return fail_value(c, "empty value", v);
		*(char **)dst = proc_span_dup(v);
		return 0;
	case V_STATE:
		return parse_state(c, v, dst);
	case V_OCTAL:
		ret = parse_uint_into(c, v, 8, 07777, &n);
		*(uint32_t *)dst = (uint32_t)n;
		return ret;
	case V_PID:
		ret = parse_uint_into(c, v, 10, INT_MAX, &n);
		*(pid_t *)dst = (pid_t)n;
		return ret;
	case V_HEX64:
		return parse_uint_into(c, v, 16, UINT64_MAX, dst);
	case V_BOOL:
		ret = parse_uint_into(c, v, 10, 1, &n);
		*(bool *)dst = n;
		return ret;
	case V_SECCOMP:
		ret = parse_uint_into(c, v, 10, 2, &n);
		*(uint32_t *)dst = (uint32_t)n;
		return ret;
	case V_SIGQ:
		return parse_sigq(c, v, st);
	case V_GROUPS:
		/* "Groups:\t " is the empty list. */
		if (proc_span_eq(v, " "))
			return 0;
		return parse_ids(c, v, ' ', true, dst);
	case V_IDLIST:
		return parse_ids(c, v, '\t', false, dst);
	case V_ID4: {
		struct proc_id_list l = {0};

		ret = parse_ids(c, v, '\t', false, &l);
		if (!ret && l.nr != 4)
			ret = fail_value(c, "expected 4 ids (real, effective, saved, filesystem)", v);
		if (!ret)
			memcpy(dst, l.ids, 4 * sizeof(uint32_t));
		free(l.ids);
		return ret;
	}
	}
	return fail_value(c, "internal: unknown value shape", v);
}

static int find_key(struct proc_span key)
{
	for (int i = 0; i < PS_NR_KEYS; i++)
		if (proc_span_eq(key, keys[i].key))
			return i;
	return -1;
}

int proc_status_parse(const char *buf, size_t len, struct proc_status *st, struct proc_err *err)
{
	struct proc_lines it;
	struct proc_span line;
	uint64_t missing;

	memset(st, 0, sizeof(*st));
	proc_err_reset(err);
	proc_lines_init(&it, buf, len);
	while (proc_next_line(&it, &line)) {
		struct value_ctx c = {.lineno = it.lineno, .err = err};
		struct proc_span key, v;
		int k, ret;

		ret = proc_refuse_nul(err, it.lineno, line);
		if (ret)
			return ret;
		if (!proc_key_value(line, &key, &v))
			return proc_fail(err, it.lineno, NULL, "expected \"Key:\\tvalue\"", line);
		k = find_key(key);
		if (k < 0)
			continue; /* not ours */
		c.key = keys[k].key;
		if (st->seen & PS_BIT(k))
			return proc_fail(err, it.lineno, c.key, "repeated key", PROC_NO_TEXT);
		st->seen |= PS_BIT(k);
		ret = parse_value(&c, &keys[k], v, st);
		if (ret)
			return ret;
	}

	missing = PROC_STATUS_REQUIRED & ~st->seen;
	for (int k = 0; missing && k < PS_NR_KEYS; k++)
		if (missing & PS_BIT(k))
			return proc_fail(err, 0, keys[k].key, "missing", PROC_NO_TEXT);
	return 0;
}

static void id_list_free(struct proc_id_list *l)
{
	free(l->ids);
	l->ids = NULL;
	l->nr = 0;
}

void proc_status_free(struct proc_status *st)
{
	free(st->name);
	free(st->spec_store_bypass);
	id_list_free(&st->groups);
	id_list_free(&st->nstgid);
	id_list_free(&st->nspid);
	id_list_free(&st->nspgid);
	id_list_free(&st->nssid);
	memset(st, 0, sizeof(*st));
}

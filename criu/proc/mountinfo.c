/*
 * /proc/PID/mountinfo parser (see mountinfo.h and proc(5)).
 *
 * One line is one mount:
 *
 *   36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
 *   (1)(2)(3)   (4)   (5)      (6)      (7)   (8) (9)   (10)         (11)
 *
 * Fields are separated by exactly one space: the kernel escapes every space
 * inside a field as \040, so two spaces in a row mean an empty field (the
 * source of "mount -t tmpfs '' /mnt" prints as "- tmpfs  rw"). The line is
 * walked field by field, in order, with a cursor that never reads past the end
 * of the line; nothing is copied into fixed-size buffers, so lines may be of
 * any length. All state is local: the parser never prints and never touches
 * globals, it only fills struct mountinfo_error on bad input.
 */
#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "proc/mountinfo.h"
#include "util/util.h"

/* Field numbers as in proc(5), used to name the field in error messages. */
enum {
	F_MNT_ID = 1,
	F_PARENT_ID,
	F_DEV,
	F_ROOT,
	F_MOUNTPOINT,
	F_MNT_OPTS,
	F_OPTIONAL,
	F_SEPARATOR,
	F_FSTYPE,
	F_SOURCE,
	F_SB_OPTS,
};

/* clang-format off */
static const char *const field_names[] = {
	[F_MNT_ID] = "mount ID",
	[F_PARENT_ID] = "parent ID",
	[F_DEV] = "major:minor",
	[F_ROOT] = "root",
	[F_MOUNTPOINT] = "mount point",
	[F_MNT_OPTS] = "mount options",
	[F_OPTIONAL] = "optional fields",
	[F_SEPARATOR] = "separator",
	[F_FSTYPE] = "filesystem type",
	[F_SOURCE] = "mount source",
	[F_SB_OPTS] = "super options",
};
/* clang-format on */

/* A span of the input; not NUL-terminated. */
struct span {
	const char *s;
	size_t len;
};

/* Walks the fields of one line. */
struct cursor {
	const char *pos; /* start of the next field */
	const char *eol; /* end of the line (its '\n' or the end of the buffer) */
	bool more;	 /* is there a next field (possibly empty)? */
};

/* Everything an error message needs: where we are and where to write. */
struct line_ctx {
	unsigned lineno;
	struct mountinfo_error *err;
};

static int fail(const struct line_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(const struct line_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	if (ctx->err) {
		ctx->err->line = ctx->lineno;
		va_start(ap, fmt);
		vsnprintf(ctx->err->msg, sizeof(ctx->err->msg), fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

#define EXCERPT_MAX 32

/*
 * Writes a short printable excerpt of `v` into `out` for error messages:
 * at most EXCERPT_MAX bytes, non-printable bytes shown as '?', "..." if cut.
 */
static void excerpt(struct span v, char out[static EXCERPT_MAX + 4])
{
	size_t n = v.len < EXCERPT_MAX ? v.len : EXCERPT_MAX;
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = v.s[i];

		out[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	if (v.len > n) {
		memcpy(out + i, "...", 3);
		i += 3;
	}
	out[i] = '\0';
}

/* "field N (name): [part: ]why: "excerpt of v"" */
static int fail_part(const struct line_ctx *ctx, int field, const char *part, const char *why, struct span v)
{
	char ex[EXCERPT_MAX + 4];

	excerpt(v, ex);
	return fail(ctx, "field %d (%s): %s%s%s: \"%s\"", field, field_names[field], part ? part : "", part ? ": " : "",
		    why, ex);
}

static int fail_field(const struct line_ctx *ctx, int field, const char *why, struct span v)
{
	return fail_part(ctx, field, NULL, why, v);
}

static int fail_missing(const struct line_ctx *ctx, int field)
{
	return fail(ctx, "field %d (%s): missing", field, field_names[field]);
}

/* Takes the next field; false when the line has no more fields. */
static bool next_field(struct cursor *c, struct span *f)
{
	const char *sp;

	if (!c->more)
		return false;
	sp = memchr(c->pos, ' ', c->eol - c->pos);
	f->s = c->pos;
	if (sp) {
		f->len = sp - c->pos;
		c->pos = sp + 1;
	} else {
		f->len = c->eol - c->pos;
		c->pos = c->eol;
		c->more = false;
	}
	return true;
}

static bool is_separator(struct span f)
{
	return f.len == 1 && f.s[0] == '-';
}

/*
 * Takes the next field of the part before the separator: a lone "-" there
 * means the line ended early (fields 1..6 are never "-" as the kernel prints
 * them), so it is not taken and false is returned.
 */
static bool next_field_before_sep(struct cursor *c, struct span *f)
{
	struct cursor saved = *c;

	if (!next_field(c, f))
		return false;
	if (is_separator(*f)) {
		*c = saved;
		return false;
	}
	return true;
}

/*
 * Strict unsigned 32-bit decimal: digits only, at least one, no sign, no
 * spaces, no overflow. Returns NULL on success or why the text was rejected.
 */
static const char *parse_u32(struct span v, uint32_t *out)
{
	uint64_t n = 0;

	if (!v.len)
		return "empty number";
	if (v.s[0] == '-' || v.s[0] == '+')
		return "sign not allowed";
	for (size_t i = 0; i < v.len; i++) {
		unsigned char c = v.s[i];

		if (c < '0' || c > '9')
			return "expected digits";
		n = n * 10 + (c - '0');
		if (n > UINT32_MAX)
			return "number out of range (max 4294967295)";
	}
	*out = (uint32_t)n;
	return NULL;
}

static int is_odigit(char c)
{
	return c >= '0' && c <= '7';
}

/*
 * Decodes \ooo escapes from `src` (len bytes) into `dst`, which may be `src`
 * itself (the output is never longer than the input), and NUL-terminates it.
 * A backslash must be followed by exactly three octal digits giving a byte
 * 001..377: a truncated escape, a non-octal digit, a value above 0377 (not a
 * byte) or \000 (it would silently cut the C string) is rejected. Returns NULL
 * on success, or why, with *bad set to the offset of the bad backslash.
 */
static const char *unescape_span(char *dst, const char *src, size_t len, size_t *bad)
{
	size_t i = 0, o = 0;

	while (i < len) {
		const char *bs = memchr(src + i, '\\', len - i);
		size_t run = bs ? (size_t)(bs - (src + i)) : len - i;
		unsigned v;

		/* Copy the plain run up to the next backslash. */
		if (run) {
			if (dst + o != src + i)
				memmove(dst + o, src + i, run);
			o += run;
			i += run;
		}
		if (!bs)
			break;

		/* i is at a backslash: it must start \ooo. */
		*bad = i;
		for (size_t k = 1; k <= 3; k++) {
			if (i + k >= len)
				return "truncated escape";
			if (!is_odigit(src[i + k]))
				return "bad escape (want \\ooo octal)";
		}
		v = (src[i + 1] - '0') * 64 + (src[i + 2] - '0') * 8 + (src[i + 3] - '0');
		if (v > 0377)
			return "bad escape (value above \\377)";
		if (v == 0)
			return "bad escape (\\000)";
		dst[o++] = (char)v;
		i += 4;
	}
	dst[o] = '\0';
	return NULL;
}

int mountinfo_unescape(char *s)
{
	size_t bad;

	return unescape_span(s, s, strlen(s), &bad) ? -EINVAL : 0;
}

static char *dup_span(struct span v)
{
	char *p = xmalloc(v.len + 1);

	memcpy(p, v.s, v.len);
	p[v.len] = '\0';
	return p;
}

/*
 * Copies a string field into *out, decoding escapes when `escaped`. An empty
 * field is rejected unless `may_be_empty`. *out is set even on a bad escape,
 * so the caller's cleanup frees it.
 */
static int take_string(const struct line_ctx *ctx, int field, struct span v, bool escaped, bool may_be_empty,
		       char **out)
{
	const char *why;
	size_t bad;

	if (!v.len && !may_be_empty)
		return fail_field(ctx, field, "empty", v);
	*out = xmalloc(v.len + 1);
	if (!escaped || !memchr(v.s, '\\', v.len)) {
		memcpy(*out, v.s, v.len);
		(*out)[v.len] = '\0';
		return 0;
	}
	why = unescape_span(*out, v.s, v.len, &bad);
	if (why) {
		struct span at = {v.s + bad, v.len - bad};

		return fail_field(ctx, field, why, at);
	}
	return 0;
}

static int take_u32(const struct line_ctx *ctx, int field, struct span v, uint32_t *out)
{
	const char *why = parse_u32(v, out);

	return why ? fail_field(ctx, field, why, v) : 0;
}

/*
 * Looks at one tag of the optional fields. A numeric tag ("shared:N" and
 * friends) must carry a valid non-zero ID (the kernel numbers peer groups
 * from 1, and 0 means "absent" in struct mountinfo_entry) and appear once.
 */
static const char *numeric_tag(struct span tag, const char *prefix, uint32_t *out, bool *seen, bool *matched)
{
	size_t plen = strlen(prefix);
	struct span num;
	const char *why;

	if (tag.len < plen || memcmp(tag.s, prefix, plen))
		return NULL;
	*matched = true;
	if (*seen)
		return "repeated tag";
	*seen = true;
	num.s = tag.s + plen;
	num.len = tag.len - plen;
	why = parse_u32(num, out);
	if (why)
		return why;
	if (!*out)
		return "peer group ID 0";
	return NULL;
}

/*
 * Interprets e->optional. On error returns -EINVAL and, when `why` is given,
 * stores the reason there and the bad tag in *bad_tag.
 */
static int parse_optional(struct mountinfo_entry *e, const char **why, struct span *bad_tag)
{
	bool seen_shared = false, seen_master = false, seen_from = false, seen_unbindable = false;
	const char *s = e->optional;
	const char *reason = NULL;
	struct span tag;

	e->shared_id = 0;
	e->master_id = 0;
	e->propagate_from = 0;
	e->unbindable = false;
	if (!s || !*s)
		return 0;

	for (;;) {
		const char *sp = strchr(s, ' ');
		bool matched = false;

		tag.s = s;
		tag.len = sp ? (size_t)(sp - s) : strlen(s);

		if (!tag.len)
			reason = "empty tag";
		if (!reason)
			reason = numeric_tag(tag, "shared:", &e->shared_id, &seen_shared, &matched);
		if (!reason && !matched)
			reason = numeric_tag(tag, "master:", &e->master_id, &seen_master, &matched);
		if (!reason && !matched)
			reason = numeric_tag(tag, "propagate_from:", &e->propagate_from, &seen_from, &matched);
		if (!reason && !matched && tag.len == 10 && !memcmp(tag.s, "unbindable", 10)) {
			if (seen_unbindable)
				reason = "repeated tag";
			seen_unbindable = true;
			e->unbindable = true;
		}
		/* Any other tag is from a newer kernel: ignore it. */
		if (reason)
			break;
		if (!sp)
			return 0;
		s = sp + 1;
	}

	if (why) {
		*why = reason;
		*bad_tag = tag;
	}
	return -EINVAL;
}

int mountinfo_parse_optional(struct mountinfo_entry *e)
{
	return parse_optional(e, NULL, NULL);
}

/* Parses one non-empty line (without its '\n') into `e`. */
static int parse_line(const struct line_ctx *ctx, const char *line, size_t len, struct mountinfo_entry *e)
{
	struct cursor c = {.pos = line, .eol = line + len, .more = true};
	struct span f, dev, minor, opt_first = {NULL, 0};
	const char *colon, *nul, *why;
	struct span bad_tag;
	size_t opt_len;
	int ret;

	/* A NUL byte would silently cut a string field short: refuse it. */
	nul = memchr(line, '\0', len);
	if (nul)
		return fail(ctx, "NUL byte at column %zu", (size_t)(nul - line) + 1);

	/* (1) mount ID: unique for the mount, may be reused after umount. */
	if (!next_field_before_sep(&c, &f))
		return fail_missing(ctx, F_MNT_ID);
	ret = take_u32(ctx, F_MNT_ID, f, &e->mnt_id);
	if (ret)
		return ret;

	/* (2) parent ID: the mount above (itself for the root of the tree). */
	if (!next_field_before_sep(&c, &f))
		return fail_missing(ctx, F_PARENT_ID);
	ret = take_u32(ctx, F_PARENT_ID, f, &e->parent_id);
	if (ret)
		return ret;

	/* (3) major:minor: st_dev of the superblock, two decimal numbers. */
	if (!next_field_before_sep(&c, &dev))
		return fail_missing(ctx, F_DEV);
	colon = memchr(dev.s, ':', dev.len);
	if (!colon)
		return fail_field(ctx, F_DEV, "missing ':'", dev);
	f.s = dev.s;
	f.len = colon - dev.s;
	minor.s = colon + 1;
	minor.len = dev.len - f.len - 1;
	why = parse_u32(f, &e->major);
	if (why)
		return fail_part(ctx, F_DEV, "major", why, dev);
	why = parse_u32(minor, &e->minor);
	if (why)
		return fail_part(ctx, F_DEV, "minor", why, dev);

	/* (4) root: the path inside the filesystem that is mounted, escaped.
	 * Usually starts with '/', but not always (nsfs: "net:[4026531840]"). */
	if (!next_field_before_sep(&c, &f))
		return fail_missing(ctx, F_ROOT);
	ret = take_string(ctx, F_ROOT, f, true, false, &e->root);
	if (ret)
		return ret;

	/* (5) mount point, relative to the reader's root, escaped. */
	if (!next_field_before_sep(&c, &f))
		return fail_missing(ctx, F_MOUNTPOINT);
	ret = take_string(ctx, F_MOUNTPOINT, f, true, false, &e->mountpoint);
	if (ret)
		return ret;

	/* (6) per-mount options: fixed keywords, never escaped, kept raw. */
	if (!next_field_before_sep(&c, &f))
		return fail_missing(ctx, F_MNT_OPTS);
	ret = take_string(ctx, F_MNT_OPTS, f, false, false, &e->mnt_opts);
	if (ret)
		return ret;

	/* (7) optional fields: zero or more tags up to the "-" field. They are
	 * contiguous in the line, so keep them raw as one span. */
	for (;;) {
		if (!next_field(&c, &f))
			return fail(ctx, "field %d (%s): missing \" - \" before the filesystem type", F_SEPARATOR,
				    field_names[F_SEPARATOR]);
		/* (8) separator: a lone "-". */
		if (is_separator(f))
			break;
		/* Two spaces in a row: an empty tag would vanish from the raw
		 * string when it is the only one, so catch it here. */
		if (!f.len)
			return fail_field(ctx, F_OPTIONAL, "empty tag", f);
		if (!opt_first.s)
			opt_first = f;
	}
	opt_len = opt_first.s ? (size_t)(f.s - 1 - opt_first.s) : 0;
	e->optional = dup_span((struct span){opt_first.s ? opt_first.s : "", opt_len});
	if (parse_optional(e, &why, &bad_tag))
		return fail_field(ctx, F_OPTIONAL, why, bad_tag);

	/* (9) filesystem type, "type" or "type.subtype", escaped. */
	if (!next_field(&c, &f))
		return fail_missing(ctx, F_FSTYPE);
	ret = take_string(ctx, F_FSTYPE, f, true, false, &e->fstype);
	if (ret)
		return ret;

	/* (10) mount source, escaped, may be empty. */
	if (!next_field(&c, &f))
		return fail_missing(ctx, F_SOURCE);
	ret = take_string(ctx, F_SOURCE, f, true, true, &e->source);
	if (ret)
		return ret;

	/* (11) super options, escaped, may be empty; the last field. */
	if (!next_field(&c, &f))
		return fail_missing(ctx, F_SB_OPTS);
	ret = take_string(ctx, F_SB_OPTS, f, true, true, &e->sb_opts);
	if (ret)
		return ret;
	if (c.more) {
		f.s = c.pos;
		f.len = c.eol - c.pos;
		return fail_field(ctx, F_SB_OPTS, "unexpected text after the last field", f);
	}
	return 0;
}

static void entry_free(struct mountinfo_entry *e)
{
	free(e->root);
	free(e->mountpoint);
	free(e->mnt_opts);
	free(e->optional);
	free(e->fstype);
	free(e->source);
	free(e->sb_opts);
	memset(e, 0, sizeof(*e));
}

static void table_append(struct mountinfo_table *t, const struct mountinfo_entry *e)
{
	if (t->nr == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 64;
		t->entries = xrealloc(t->entries, t->cap * sizeof(*t->entries));
	}
	t->entries[t->nr++] = *e;
}

int mountinfo_parse(const char *buf, size_t len, struct mountinfo_table *t, struct mountinfo_error *err)
{
	struct line_ctx ctx = {.lineno = 0, .err = err};
	const char *p, *end;

	if (err) {
		err->line = 0;
		err->msg[0] = '\0';
	}
	if (!len)
		return 0; /* buf may be NULL then */
	p = buf;
	end = buf + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', end - p);
		const char *eol = nl ? nl : end;
		struct mountinfo_entry e = {0};
		int ret;

		ctx.lineno++;
		if (eol == p) {
			/* Empty lines are fine only at the very end. */
			const char *q = p;

			while (q < end && *q == '\n')
				q++;
			if (q == end)
				break;
			return fail(&ctx, "empty line");
		}
		ret = parse_line(&ctx, p, eol - p, &e);
		if (ret) {
			entry_free(&e);
			return ret;
		}
		table_append(t, &e);
		p = nl ? nl + 1 : end;
	}
	return 0;
}

void mountinfo_table_free(struct mountinfo_table *t)
{
	for (size_t i = 0; i < t->nr; i++)
		entry_free(&t->entries[i]);
	free(t->entries);
	t->entries = NULL;
	t->nr = 0;
	t->cap = 0;
}

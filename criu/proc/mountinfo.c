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
 * walked field by field, in order, with the shared tokenizer of proc/proc-text.c,
 * which never reads past the end of the line; nothing is copied into
 * fixed-size buffers, so lines may be of any length. All state is local: the
 * parser never prints and never touches globals, it only fills struct
 * proc_err on bad input.
 */
#include <errno.h>
#include <string.h>

#include "proc/mountinfo.h"
#include "util/util.h"

/* Field numbers as in proc(5). */
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

/* How struct proc_err names each field. */
/* clang-format off */
static const char *const field_names[] = {
	[F_MNT_ID] = "field 1 (mount ID)",
	[F_PARENT_ID] = "field 2 (parent ID)",
	[F_DEV] = "field 3 (major:minor)",
	[F_ROOT] = "field 4 (root)",
	[F_MOUNTPOINT] = "field 5 (mount point)",
	[F_MNT_OPTS] = "field 6 (mount options)",
	[F_OPTIONAL] = "field 7 (optional fields)",
	[F_SEPARATOR] = "field 8 (separator)",
	[F_FSTYPE] = "field 9 (filesystem type)",
	[F_SOURCE] = "field 10 (mount source)",
	[F_SB_OPTS] = "field 11 (super options)",
};
/* clang-format on */

/* Where we are, for error messages. */
struct line_ctx {
	unsigned lineno;
	struct proc_err *err;
};

static int fail_field(const struct line_ctx *ctx, int field, const char *why, struct proc_span v)
{
	return proc_fail(ctx->err, ctx->lineno, field_names[field], why, v);
}

static int fail_missing(const struct line_ctx *ctx, int field)
{
	return fail_field(ctx, field, "missing", PROC_NO_TEXT);
}

static bool is_separator(struct proc_span f)
{
	return proc_span_eq(f, "-");
}

/*
 * Takes the next field into *f, or fails with `field` missing. Before the
 * separator, a lone "-" means the line ended early (fields 1..6 are never
 * "-" as the kernel prints them).
 */
static int next(const struct line_ctx *ctx, struct proc_fields *c, int field, struct proc_span *f)
{
	if (!proc_next_field(c, f) || (field < F_SEPARATOR && is_separator(*f)))
		return fail_missing(ctx, field);
	return 0;
}

static int take_u32(const struct line_ctx *ctx, struct proc_fields *c, int field, uint32_t *out)
{
	struct proc_span f;
	const char *why;
	int ret = next(ctx, c, field, &f);

	if (ret)
		return ret;
	why = proc_parse_u32(f, 10, out);
	return why ? fail_field(ctx, field, why, f) : 0;
}

/* "major:minor", two decimal numbers. */
static int take_dev(const struct line_ctx *ctx, struct proc_fields *c, struct mountinfo_entry *e)
{
	struct proc_span dev, major, minor;
	const char *why;
	int ret = next(ctx, c, F_DEV, &dev);

	if (ret)
		return ret;
	minor = dev;
	if (!proc_split(&minor, ':', &major))
		return fail_field(ctx, F_DEV, "missing ':'", dev);
	why = proc_parse_u32(major, 10, &e->major);
	if (why)
		return proc_fail_part(ctx->err, ctx->lineno, field_names[F_DEV], "major", why, dev);
	why = proc_parse_u32(minor, 10, &e->minor);
	if (why)
		return proc_fail_part(ctx->err, ctx->lineno, field_names[F_DEV], "minor", why, dev);
	return 0;
}

enum {
	ESCAPED = 1,	  /* decode \ooo */
	MAY_BE_EMPTY = 2, /* "" is a value */
};

/*
 * Copies the next field into *out, decoding escapes when ESCAPED. *out is
 * set even on a bad escape, so the caller's cleanup frees it.
 */
static int take_string(const struct line_ctx *ctx, struct proc_fields *c, int field, unsigned flags, char **out)
{
	struct proc_span f;
	const char *why;
	size_t bad;
	int ret = next(ctx, c, field, &f);

	if (ret)
		return ret;
	if (!f.len && !(flags & MAY_BE_EMPTY))
		return fail_field(ctx, field, "empty", f);
	if (!(flags & ESCAPED)) {
		*out = proc_span_dup(f);
		return 0;
	}
	*out = xmalloc(f.len + 1);
	why = proc_unescape_octal(*out, f, &bad);
	if (why)
		return fail_field(ctx, field, why, (struct proc_span){f.s + bad, f.len - bad});
	return 0;
}

/*
 * Looks at one tag of the optional fields. A numeric tag ("shared:N" and
 * friends) must carry a valid non-zero ID (the kernel numbers peer groups
 * from 1, and 0 means "absent" in struct mountinfo_entry) and appear once.
 */
static const char *numeric_tag(struct proc_span tag, const char *prefix, uint32_t *out, bool *seen, bool *matched)
{
	const char *why;

	if (!proc_skip_prefix(&tag, prefix))
		return NULL;
	*matched = true;
	if (*seen)
		return "repeated tag";
	*seen = true;
	why = proc_parse_u32(tag, 10, out);
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
static int parse_optional(struct mountinfo_entry *e, const char **why, struct proc_span *bad_tag)
{
	bool seen_shared = false, seen_master = false, seen_from = false, seen_unbindable = false;
	const char *reason = NULL;
	struct proc_fields tags;
	struct proc_span tag;

	e->shared_id = 0;
	e->master_id = 0;
	e->propagate_from = 0;
	e->unbindable = false;
	if (!e->optional || !*e->optional)
		return 0;

	proc_fields_init(&tags, (struct proc_span){e->optional, strlen(e->optional)}, ' ');
	while (!reason && proc_next_field(&tags, &tag)) {
		bool matched = false;

		if (!tag.len)
			reason = "empty tag";
		if (!reason)
			reason = numeric_tag(tag, "shared:", &e->shared_id, &seen_shared, &matched);
		if (!reason && !matched)
			reason = numeric_tag(tag, "master:", &e->master_id, &seen_master, &matched);
		if (!reason && !matched)
			reason = numeric_tag(tag, "propagate_from:", &e->propagate_from, &seen_from, &matched);
		if (!reason && !matched && proc_span_eq(tag, "unbindable")) {
			if (seen_unbindable)
				reason = "repeated tag";
			seen_unbindable = true;
			e->unbindable = true;
		}
		/* Any other tag is from a newer kernel: ignore it. */
	}
	if (!reason)
		return 0;
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

/*
 * Takes the optional fields (7) and the separator (8): zero or more tags up
 * to a lone "-". They are contiguous in the line, so they are kept raw as
 * one string, then interpreted.
 */
static int take_optional(const struct line_ctx *ctx, struct proc_fields *c, struct mountinfo_entry *e)
{
	struct proc_span f, first = {"", 0};
	struct proc_span bad_tag;
	const char *why;

	for (;;) {
		if (!proc_next_field(c, &f))
			return fail_field(ctx, F_SEPARATOR, "missing \" - \" before the filesystem type", PROC_NO_TEXT);
		if (is_separator(f))
			break;
		/* Two spaces in a row: an empty tag would vanish from the raw
		 * string when it is the only one, so catch it here. */
		if (!f.len)
			return fail_field(ctx, F_OPTIONAL, "empty tag", f);
		if (!first.len)
			first = f;
	}
	/* From the first tag to the space before the "-". */
	e->optional = proc_span_dup((struct proc_span){first.s, first.len ? (size_t)(f.s - 1 - first.s) : 0});
	if (parse_optional(e, &why, &bad_tag))
		return fail_field(ctx, F_OPTIONAL, why, bad_tag);
	return 0;
}

/* Parses one non-empty line (without its '\n') into `e`, field by field. */
static int parse_line(const struct line_ctx *ctx, struct proc_span line, struct mountinfo_entry *e)
{
	struct proc_fields c;
	struct proc_span rest;
	int ret;

	/* A NUL byte would silently cut a string field short: refuse it. */
	ret = proc_refuse_nul(ctx->err, ctx->lineno, line);
	if (ret)
		return ret;
	/* Fields are separated by exactly one space: the kernel escapes
	 * spaces inside fields, so two in a row mean an empty field. */
	proc_fields_init(&c, line, ' ');

	/* (1) mount ID: unique for the mount, may be reused after umount. */
	ret = take_u32(ctx, &c, F_MNT_ID, &e->mnt_id);
	if (ret)
		return ret;
	/* (2) parent ID: the mount above (itself for the root of the tree). */
	ret = take_u32(ctx, &c, F_PARENT_ID, &e->parent_id);
	if (ret)
		return ret;
	/* (3) major:minor: st_dev of the superblock. */
	ret = take_dev(ctx, &c, e);
	if (ret)
		return ret;
	/* (4) root: the path inside the filesystem that is mounted, escaped.
	 * Usually starts with '/', but not always (nsfs: "net:[4026531840]"). */
	ret = take_string(ctx, &c, F_ROOT, ESCAPED, &e->root);
	if (ret)
		return ret;
	/* (5) mount point, relative to the reader's root, escaped. */
	ret = take_string(ctx, &c, F_MOUNTPOINT, ESCAPED, &e->mountpoint);
	if (ret)
		return ret;
	/* (6) per-mount options: fixed keywords, never escaped, kept raw. */
	ret = take_string(ctx, &c, F_MNT_OPTS, 0, &e->mnt_opts);
	if (ret)
		return ret;
	/* (7) optional fields, kept raw and interpreted; (8) the "-". */
	ret = take_optional(ctx, &c, e);
	if (ret)
		return ret;
	/* (9) filesystem type, "type" or "type.subtype", escaped. */
	ret = take_string(ctx, &c, F_FSTYPE, ESCAPED, &e->fstype);
	if (ret)
		return ret;
	/* (10) mount source, escaped, may be empty. */
	ret = take_string(ctx, &c, F_SOURCE, ESCAPED | MAY_BE_EMPTY, &e->source);
	if (ret)
		return ret;
	/* (11) super options, escaped, may be empty; the last field. */
	ret = take_string(ctx, &c, F_SB_OPTS, ESCAPED | MAY_BE_EMPTY, &e->sb_opts);
	if (ret)
		return ret;
	if (proc_next_field(&c, &rest)) {
		rest.len = line.s + line.len - rest.s;
		return fail_field(ctx, F_SB_OPTS, "unexpected text after the last field", rest);
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

int mountinfo_parse(const char *buf, size_t len, struct mountinfo_table *t, struct proc_err *err)
{
	struct line_ctx ctx = {.err = err};
	struct proc_lines it;
	struct proc_span line;

	proc_err_reset(err);
	proc_lines_init(&it, buf, len);
	while (proc_next_line(&it, &line)) {
		struct mountinfo_entry e = {0};
		int ret;

		ctx.lineno = it.lineno;
		if (!line.len) {
			/* Empty lines are fine only at the very end. */
			if (proc_lines_only_newlines_left(&it))
				break;
			return proc_fail(err, ctx.lineno, NULL, "empty line", PROC_NO_TEXT);
		}
		ret = parse_line(&ctx, line, &e);
		if (ret) {
			entry_free(&e);
			return ret;
		}
		table_append(t, &e);
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

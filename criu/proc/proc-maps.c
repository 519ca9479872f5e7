/*
 * /proc/PID/maps parser (see proc-maps.h).
 *
 * Each line is walked field by field with the shared tokenizer of
 * proc/proc-text.c, which never leaves the line; the five leading fields are separated by exactly one space, as the
 * kernel prints them, and each is checked strictly (digits of the right base,
 * no overflow, the permission letters at their places). What follows the
 * inode is padding and then the name, which runs to the end of the line.
 */
#include <errno.h>
#include <string.h>

#include "proc/proc-maps.h"
#include "util/util.h"

/* Field numbers as in proc(5). */
enum {
	F_RANGE = 1,
	F_PERMS,
	F_OFFSET,
	F_DEV,
	F_INODE,
	F_PATH,
};

/* How struct proc_err names each field. */
/* clang-format off */
static const char *const field_names[] = {
	[F_RANGE] = "field 1 (address range)",
	[F_PERMS] = "field 2 (permissions)",
	[F_OFFSET] = "field 3 (offset)",
	[F_DEV] = "field 4 (major:minor)",
	[F_INODE] = "field 5 (inode)",
	[F_PATH] = "field 6 (path)",
};

static const struct {
	const char *name;
	enum proc_vma_kind kind;
} special_names[] = {
	{ "[heap]", PROC_VMA_HEAP },
	{ "[stack]", PROC_VMA_STACK },
	{ "[vdso]", PROC_VMA_VDSO },
	{ "[vvar]", PROC_VMA_VVAR },
	{ "[vvar_vclock]", PROC_VMA_VVAR_VCLOCK },
	{ "[vsyscall]", PROC_VMA_VSYSCALL },
};

static const char *const kind_names[] = {
	[PROC_VMA_ANON] = "anon",
	[PROC_VMA_FILE] = "file",
	[PROC_VMA_HEAP] = "heap",
	[PROC_VMA_STACK] = "stack",
	[PROC_VMA_VDSO] = "vdso",
	[PROC_VMA_VVAR] = "vvar",
	[PROC_VMA_VVAR_VCLOCK] = "vvar_vclock",
	[PROC_VMA_VSYSCALL] = "vsyscall",
	[PROC_VMA_ANON_NAMED] = "anon_named",
	[PROC_VMA_SHMEM_NAMED] = "shmem_named",
	[PROC_VMA_SPECIAL] = "special",
};
/* clang-format on */

#define DELETED_SUFFIX " (deleted)"

const char *proc_vma_kind_name(enum proc_vma_kind kind)
{
	if ((unsigned)kind >= ARRAY_SIZE(kind_names) || !kind_names[kind])
		return "?";
	return kind_names[kind];
}

struct line_ctx {
	unsigned lineno;
	struct proc_err *err;
};

static int fail_part(const struct line_ctx *ctx, int field, const char *part, const char *why, struct proc_span v)
{
	return proc_fail_part(ctx->err, ctx->lineno, field_names[field], part, why, v);
}

static int fail_field(const struct line_ctx *ctx, int field, const char *why, struct proc_span v)
{
	return fail_part(ctx, field, NULL, why, v);
}

/* Takes the next field, or fails with `field` missing: the first five are
 * separated by exactly one space. */
static int next(const struct line_ctx *ctx, struct proc_fields *c, int field, struct proc_span *f)
{
	if (!proc_next_field(c, f))
		return fail_field(ctx, field, "missing", PROC_NO_TEXT);
	return 0;
}

static int parse_range(const struct line_ctx *ctx, struct proc_span f, struct proc_maps_entry *e)
{
	struct proc_span lo, hi = f;
	const char *why;

	if (!proc_split(&hi, '-', &lo))
		return fail_field(ctx, F_RANGE, "missing '-'", f);
	why = proc_parse_uint(lo, 16, UINT64_MAX, &e->start);
	if (why)
		return fail_part(ctx, F_RANGE, "start", why, f);
	why = proc_parse_uint(hi, 16, UINT64_MAX, &e->end);
	if (why)
		return fail_part(ctx, F_RANGE, "end", why, f);
	if (e->start >= e->end)
		return fail_field(ctx, F_RANGE, "end is not above start", f);
	return 0;
}

static int parse_perms(const struct line_ctx *ctx, struct proc_span f, struct proc_maps_entry *e)
{
	static const char want[4][2] = {{'r', '-'}, {'w', '-'}, {'x', '-'}, {'s', 'p'}};
	bool *flags[4] = {&e->read, &e->write, &e->exec, &e->shared};

	if (f.len != 4)
		return fail_field(ctx, F_PERMS, "expected 4 letters like \"rw-p\"", f);
	for (int i = 0; i < 4; i++) {
		if (f.s[i] != want[i][0] && f.s[i] != want[i][1])
			return fail_field(ctx, F_PERMS, "expected 4 letters like \"rw-p\"", f);
		*flags[i] = f.s[i] == want[i][0];
	}
	return 0;
}

static int parse_dev(const struct line_ctx *ctx, struct proc_span f, struct proc_maps_entry *e)
{
	struct proc_span major, minor = f;
	const char *why;

	if (!proc_split(&minor, ':', &major))
		return fail_field(ctx, F_DEV, "missing ':'", f);
	why = proc_parse_u32(major, 16, &e->dev_major);
	if (why)
		return fail_part(ctx, F_DEV, "major", why, f);
	why = proc_parse_u32(minor, 16, &e->dev_minor);
	if (why)
		return fail_part(ctx, F_DEV, "minor", why, f);
	return 0;
}

/* Sorts the name (everything after the padding) into kind/path/deleted. */
static void classify_name(struct proc_span name, struct proc_maps_entry *e)
{
	size_t slen = strlen(DELETED_SUFFIX);
	struct proc_span inner = name;

	e->kind = PROC_VMA_ANON;
	if (!name.len) {
		e->path = proc_span_dup(name);
		return;
	}
	if (name.s[0] == '[' && name.s[name.len - 1] == ']') {
		e->kind = PROC_VMA_SPECIAL;
		for (size_t i = 0; i < ARRAY_SIZE(special_names); i++)
			if (proc_span_eq(name, special_names[i].name))
				e->kind = special_names[i].kind;
		inner.len--; /* the ']' */
		if (e->kind == PROC_VMA_SPECIAL && proc_skip_prefix(&inner, "[anon:")) {
			e->kind = PROC_VMA_ANON_NAMED;
			e->anon_name = proc_span_dup(inner);
		} else if (e->kind == PROC_VMA_SPECIAL && proc_skip_prefix(&inner, "[anon_shmem:")) {
			e->kind = PROC_VMA_SHMEM_NAMED;
			e->anon_name = proc_span_dup(inner);
		}
		e->path = proc_span_dup(name);
		return;
	}
	e->kind = PROC_VMA_FILE;
	if (name.len > slen && !memcmp(name.s + name.len - slen, DELETED_SUFFIX, slen)) {
		e->deleted = true;
		name.len -= slen;
	}
	e->path = proc_span_dup(name);
}

/* Parses one non-empty line (without its '\n') into e, field by field. */
static int parse_line(const struct line_ctx *ctx, struct proc_span line, struct proc_maps_entry *e)
{
	struct proc_fields c;
	struct proc_span f;
	const char *why;
	int ret;

	ret = proc_refuse_nul(ctx->err, ctx->lineno, line);
	if (ret)
		return ret;
	proc_fields_init(&c, line, ' ');

	/* (1) start-end */
	ret = next(ctx, &c, F_RANGE, &f);
	if (!ret)
		ret = parse_range(ctx, f, e);
	if (ret)
		return ret;

	/* (2) permissions */
	ret = next(ctx, &c, F_PERMS, &f);
	if (!ret)
		ret = parse_perms(ctx, f, e);
	if (ret)
		return ret;

	/* (3) offset in the file */
	ret = next(ctx, &c, F_OFFSET, &f);
	if (ret)
		return ret;
	why = proc_parse_uint(f, 16, UINT64_MAX, &e->pgoff);
	if (why)
		return fail_field(ctx, F_OFFSET, why, f);

	/* (4) device of the file */
	ret = next(ctx, &c, F_DEV, &f);
	if (!ret)
		ret = parse_dev(ctx, f, e);
	if (ret)
		return ret;

	/* (5) inode; the kernel prints a space after it even without a name,
	 * but accept a line that ends right here too. */
	ret = next(ctx, &c, F_INODE, &f);
	if (ret)
		return ret;
	why = proc_parse_uint(f, 10, UINT64_MAX, &e->ino);
	if (why)
		return fail_field(ctx, F_INODE, why, f);

	/* (6) padding, then the name up to the end of the line. */
	proc_skip_spaces(&c.rest);
	classify_name(c.rest, e);
	return 0;
}

static void entry_free(struct proc_maps_entry *e)
{
	free(e->path);
	free(e->anon_name);
	memset(e, 0, sizeof(*e));
}

static void maps_append(struct proc_maps *m, const struct proc_maps_entry *e)
{
	if (m->nr == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 64;
		m->entries = xrealloc(m->entries, m->cap * sizeof(*m->entries));
	}
	m->entries[m->nr++] = *e;
}

int proc_maps_parse(const char *buf, size_t len, struct proc_maps *m, struct proc_err *err)
{
	struct line_ctx ctx = {.err = err};
	struct proc_lines it;
	struct proc_span line;

	proc_err_reset(err);
	proc_lines_init(&it, buf, len);
	while (proc_next_line(&it, &line)) {
		struct proc_maps_entry e = {0};
		int ret;

		ctx.lineno = it.lineno;
		if (!line.len)
			return proc_fail(err, ctx.lineno, NULL, "empty line", PROC_NO_TEXT);
		ret = parse_line(&ctx, line, &e);
		if (ret) {
			entry_free(&e);
			return ret;
		}
		maps_append(m, &e);
	}
	return 0;
}

void proc_maps_free(struct proc_maps *m)
{
	for (size_t i = 0; i < m->nr; i++)
		entry_free(&m->entries[i]);
	free(m->entries);
	m->entries = NULL;
	m->nr = 0;
	m->cap = 0;
}

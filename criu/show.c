/*
 * `criu show`: prints image entries one per line, generically from the
 * protobuf-c descriptors, so every image type added later is shown too.
 *
 *   mnt_id: 0x22 root: / mountpoint: /bar flags: 0x100000 ...
 *
 * Unsigned integers are printed in hex, signed ones in decimal, enums by
 * name, strings as they are (control characters escaped, "" when empty),
 * bytes in hex, nested messages as { ... } and repeated fields as [ ... ].
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define LOG_PREFIX "show: "
#include "util/log.h"
#include "util/util.h"
#include "image/image.h"

static void print_string(FILE *out, const char *s)
{
	if (!*s) {
		fputs("\"\"", out);
		return;
	}
	/* One entry is one line: escape what would break it. */
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '\n')
			fputs("\\n", out);
		else if (c == '\t')
			fputs("\\t", out);
		else if (c < 0x20 || c == 0x7f)
			fprintf(out, "\\x%02x", c);
		else
			fputc(c, out);
	}
}

static void print_bytes(FILE *out, const ProtobufCBinaryData *b)
{
	if (!b->len) {
		fputs("\"\"", out);
		return;
	}
	for (size_t i = 0; i < b->len; i++)
		fprintf(out, "%02x", b->data[i]);
}

static void print_message(FILE *out, const ProtobufCMessage *msg, const ProtobufCFieldDescriptor *const *sel,
			  size_t nsel);

/* Prints one value of field `f` stored at `p`. */
static void print_value(FILE *out, const ProtobufCFieldDescriptor *f, const void *p)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		fprintf(out, "%" PRId32, *(const int32_t *)p);
		break;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		fprintf(out, "%" PRId64, *(const int64_t *)p);
		break;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		fprintf(out, "0x%" PRIx32, *(const uint32_t *)p);
		break;
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		fprintf(out, "0x%" PRIx64, *(const uint64_t *)p);
		break;
	case PROTOBUF_C_TYPE_FLOAT:
		fprintf(out, "%g", (double)*(const float *)p);
		break;
	case PROTOBUF_C_TYPE_DOUBLE:
		fprintf(out, "%g", *(const double *)p);
		break;
	case PROTOBUF_C_TYPE_BOOL:
		fputs(*(const protobuf_c_boolean *)p ? "true" : "false", out);
		break;
	case PROTOBUF_C_TYPE_ENUM: {
		int v = *(const int *)p;
		const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(f->descriptor, v);

		if (ev)
			fputs(ev->name, out);
		else
			fprintf(out, "%d", v);
		break;
	}
	case PROTOBUF_C_TYPE_STRING: {
		const char *s = *(char *const *)p;

		print_string(out, s ? s : "");
		break;
	}
	case PROTOBUF_C_TYPE_BYTES:
		print_bytes(out, p);
		break;
	case PROTOBUF_C_TYPE_MESSAGE: {
		const ProtobufCMessage *m = *(ProtobufCMessage *const *)p;

		fputs("{ ", out);
		if (m) {
			print_message(out, m, NULL, 0);
			fputc(' ', out);
		}
		fputc('}', out);
		break;
	}
	}
}

/* Size of one element of a repeated field's array, as protobuf-c lays it out. */
static size_t elt_size(ProtobufCType type)
{
	switch (type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
	case PROTOBUF_C_TYPE_FLOAT:
	case PROTOBUF_C_TYPE_ENUM:
		return 4;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
	case PROTOBUF_C_TYPE_DOUBLE:
		return 8;
	case PROTOBUF_C_TYPE_BOOL:
		return sizeof(protobuf_c_boolean);
	case PROTOBUF_C_TYPE_STRING:
		return sizeof(char *);
	case PROTOBUF_C_TYPE_BYTES:
		return sizeof(ProtobufCBinaryData);
	case PROTOBUF_C_TYPE_MESSAGE:
		return sizeof(ProtobufCMessage *);
	}
	return 0;
}

static bool is_zero(const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

/* Is field `f` present in `msg` (the way protobuf-c would pack it)? */
static bool field_is_set(const ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f)
{
	const char *base = (const char *)msg;
	const void *member = base + f->offset;

	if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
		return *(const uint32_t *)(base + f->quantifier_offset) == f->id;

	switch (f->label) {
	case PROTOBUF_C_LABEL_REPEATED:
		return *(const size_t *)(base + f->quantifier_offset) > 0;
	case PROTOBUF_C_LABEL_REQUIRED:
		if (f->type == PROTOBUF_C_TYPE_STRING || f->type == PROTOBUF_C_TYPE_MESSAGE)
			return *(void *const *)member != NULL;
		return true;
	case PROTOBUF_C_LABEL_OPTIONAL:
		if (f->type == PROTOBUF_C_TYPE_STRING) {
			const void *s = *(void *const *)member;
			return s && s != f->default_value;
		}
		if (f->type == PROTOBUF_C_TYPE_MESSAGE)
			return *(void *const *)member != NULL;
		return *(const protobuf_c_boolean *)(base + f->quantifier_offset);
	case PROTOBUF_C_LABEL_NONE: /* proto3: set when not zero */
		if (f->type == PROTOBUF_C_TYPE_STRING) {
			const char *s = *(char *const *)member;
			return s && *s;
		}
		if (f->type == PROTOBUF_C_TYPE_BYTES)
			return ((const ProtobufCBinaryData *)member)->len > 0;
		return !is_zero(member, elt_size(f->type));
	}
	return false;
}

static void print_field(FILE *out, const ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f)
{
	const char *base = (const char *)msg;

	fprintf(out, "%s: ", f->name);
	if (f->label == PROTOBUF_C_LABEL_REPEATED) {
		size_t n = *(const size_t *)(base + f->quantifier_offset);
		const char *arr = *(char *const *)(base + f->offset);
		size_t sz = elt_size(f->type);

		fputs("[ ", out);
		for (size_t i = 0; i < n && arr; i++) {
			print_value(out, f, arr + i * sz);
			fputc(' ', out);
		}
		fputc(']', out);
		return;
	}
	print_value(out, f, base + f->offset);
}

/* Prints the set fields of msg: all in field-number order (sel == NULL) or the selected ones. */
static void print_message(FILE *out, const ProtobufCMessage *msg, const ProtobufCFieldDescriptor *const *sel,
			  size_t nsel)
{
	const ProtobufCMessageDescriptor *d = msg->descriptor;
	size_t n = sel ? nsel : d->n_fields;
	bool first = true;

	/* protobuf-c keeps d->fields sorted by field number. */
	for (size_t i = 0; i < n; i++) {
		const ProtobufCFieldDescriptor *f = sel ? sel[i] : &d->fields[i];

		if (!field_is_set(msg, f))
			continue;
		if (!first)
			fputc(' ', out);
		first = false;
		print_field(out, msg, f);
	}
}

/*
 * Looks up a comma-separated list of field names of `d`. *sel is NULL for
 * fields == NULL (all fields). Prints an error listing the valid names for
 * an unknown one.
 */
static int parse_fields(const ProtobufCMessageDescriptor *d, const char *fields, const ProtobufCFieldDescriptor ***sel,
			size_t *nsel)
{
	const ProtobufCFieldDescriptor **v;
	size_t n = 0, cap = 1;
	char *copy, *tok, *save = NULL;

	*sel = NULL;
	*nsel = 0;
	if (!fields)
		return 0;
	for (const char *c = fields; *c; c++)
		cap += *c == ',';
	v = xmalloc(cap * sizeof(*v));
	copy = xstrdup(fields);
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		const ProtobufCFieldDescriptor *f;
		char *end;

		while (*tok == ' ')
			tok++;
		end = tok + strlen(tok);
		while (end > tok && end[-1] == ' ')
			*--end = '\0';
		if (!*tok)
			continue;
		f = protobuf_c_message_descriptor_get_field_by_name(d, tok);
		if (!f) {
			char *list = NULL;
			size_t len = 0;
			FILE *m = open_memstream(&list, &len);

			for (unsigned i = 0; m && i < d->n_fields; i++)
				fprintf(m, "%s%s", i ? ", " : "", d->fields[i].name);
			if (m)
				fclose(m);
			pr_err("unknown field '%s' in %s; valid fields: %s\n", tok, d->name, list ? list : "?");
			free(list);
			free(copy);
			free(v);
			return -EINVAL;
		}
		v[n++] = f;
	}
	free(copy);
	if (!n) {
		free(v);
		pr_err("no field names in '%s'\n", fields);
		return -EINVAL;
	}
	*sel = v;
	*nsel = n;
	return 0;
}

int show_entry(FILE *out, const ProtobufCMessage *msg, const char *fields)
{
	const ProtobufCFieldDescriptor **sel;
	size_t nsel;
	int ret;

	ret = parse_fields(msg->descriptor, fields, &sel, &nsel);
	if (ret < 0)
		return ret;
	print_message(out, msg, sel, nsel);
	free(sel);
	return ferror(out) ? -EIO : 0;
}

static const char *raw_kind(enum img_type type)
{
	switch (type) {
	case IMG_TMPFS_DEV:
		return "raw image (gzip'd tar)";
	default:
		return "raw image";
	}
}

int show_image(const char *path, const char *fields, FILE *out)
{
	const ProtobufCFieldDescriptor **sel = NULL;
	struct img_reader r;
	ProtobufCMessage *msg;
	size_t nsel = 0;
	int ret;

	ret = img_reader_open(&r, AT_FDCWD, path, IMG_ANY);
	if (ret < 0)
		return ret;

	if (!r.desc->pb) {
		if (fields) {
			pr_err("%s: a %s image has no fields to select\n", path, r.desc->name);
			ret = -EINVAL;
		} else {
			fprintf(out, "%s, %" PRIu64 " bytes\n", raw_kind(r.desc->type), r.size);
		}
		goto out;
	}

	ret = parse_fields(r.desc->pb, fields, &sel, &nsel);
	if (ret < 0)
		goto out;
	while ((ret = img_read_entry(&r, &msg)) > 0) {
		/* a head entry of another type (pagemap_head) is shown whole */
		bool selected = msg->descriptor == r.desc->pb;

		print_message(out, msg, selected ? sel : NULL, selected ? nsel : 0);
		fputc('\n', out);
		protobuf_c_message_free_unpacked(msg, NULL);
	}
out:
	free(sel);
	img_reader_close(&r);
	if (fflush(out) == EOF || ferror(out)) {
		pr_err("can't write the contents of %s: %s\n", path, strerror(errno));
		return -EIO;
	}
	return ret;
}

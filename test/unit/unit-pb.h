/*
 * Generic protobuf helpers for image tests, driven by the protobuf-c
 * descriptors so that every field of every message is covered without
 * naming it:
 *
 *   pb_fill()     sets every field of a message (nested messages too) to a
 *                 value derived from the field number and a seed: negative
 *                 numbers for signed types, values above 2^31/2^63 for
 *                 unsigned ones, strings with quotes, tabs and UTF-8, bytes
 *                 longer than a base64 line, 2..3 elements per repeated field;
 *   pb_json()     prints a message as JSON the way crit decode (without
 *                 --pretty) does: set fields only, integers as numbers, enums
 *                 by name, bytes as base64 with a newline every 76 characters;
 *   pb_packed()   the packed bytes, to compare messages.
 */
#ifndef CRIU_UNIT_PB_H
#define CRIU_UNIT_PB_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <protobuf-c/protobuf-c.h>

static void pb_fill(ProtobufCMessage *m, unsigned seed);

static inline size_t pb_elt_size(ProtobufCType type)
{
	switch (type) {
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
	case PROTOBUF_C_TYPE_MESSAGE:
		return sizeof(void *);
	case PROTOBUF_C_TYPE_BYTES:
		return sizeof(ProtobufCBinaryData);
	default:
		return 4;
	}
}

/* One value of field f at p; k numbers the element of a repeated field. */
static inline void pb_fill_value(const ProtobufCFieldDescriptor *f, void *p, unsigned seed, unsigned k)
{
	uint64_t v = (uint64_t)seed * 1000 + f->id * 10 + k;

	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		*(int32_t *)p = -(int32_t)v;
		break;
	case PROTOBUF_C_TYPE_SINT32:
		*(int32_t *)p = -(int32_t)v * 3;
		break;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		*(uint32_t *)p = 0xf0000000U + (uint32_t)v;
		break;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		*(int64_t *)p = -(int64_t)0x123456789LL * (int64_t)v;
		break;
	case PROTOBUF_C_TYPE_SINT64:
		*(int64_t *)p = -(int64_t)v - 0x100000000LL;
		break;
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		*(uint64_t *)p = 0xf000000000000000ULL + v;
		break;
	case PROTOBUF_C_TYPE_FLOAT:
		*(float *)p = (float)v / 4;
		break;
	case PROTOBUF_C_TYPE_DOUBLE:
		*(double *)p = (double)v / 4;
		break;
	case PROTOBUF_C_TYPE_BOOL:
		*(protobuf_c_boolean *)p = (f->id + seed + k) % 2;
		break;
	case PROTOBUF_C_TYPE_ENUM: {
		const ProtobufCEnumDescriptor *e = f->descriptor;

		*(int *)p = e->values[(f->id + seed + k) % e->n_values].value;
		break;
	}
	case PROTOBUF_C_TYPE_STRING: {
		char *s = NULL;

		if (asprintf(&s, "%s-%u.%u \"q\"\t\\ \xc3\xbc\xe6\x97\xa5/", f->name, seed, k) < 0)
			abort();
		*(char **)p = s;
		break;
	}
	case PROTOBUF_C_TYPE_BYTES: {
		ProtobufCBinaryData *b = p;

		b->len = 40 + seed * 30 + f->id + k;
		b->data = malloc(b->len);
		if (!b->data)
			abort();
		for (size_t i = 0; i < b->len; i++)
			b->data[i] = (uint8_t)(i * 7 + seed + k);
		break;
	}
	case PROTOBUF_C_TYPE_MESSAGE: {
		const ProtobufCMessageDescriptor *d = f->descriptor;
		ProtobufCMessage *sub = malloc(d->sizeof_message);

		if (!sub)
			abort();
		d->message_init(sub);
		pb_fill(sub, seed + k);
		*(ProtobufCMessage **)p = sub;
		break;
	}
	}
}

/* Sets every field of m (initialized with its _init); free the result with
 * protobuf_c_message_free_unpacked(m, NULL) (which frees m itself too). */
static void pb_fill(ProtobufCMessage *m, unsigned seed)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;

	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		char *base = (char *)m;

		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n = 2 + seed % 2, sz = pb_elt_size(f->type);
			char *arr = calloc(n, sz);

			if (!arr)
				abort();
			for (size_t k = 0; k < n; k++)
				pb_fill_value(f, arr + k * sz, seed, (unsigned)k);
			*(size_t *)(base + f->quantifier_offset) = n;
			*(void **)(base + f->offset) = arr;
			continue;
		}
		pb_fill_value(f, base + f->offset, seed, 0);
		if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->type != PROTOBUF_C_TYPE_STRING &&
		    f->type != PROTOBUF_C_TYPE_MESSAGE)
			*(protobuf_c_boolean *)(base + f->quantifier_offset) = 1;
	}
}

/* A new message of type d with every field set. */
static inline ProtobufCMessage *pb_new_filled(const ProtobufCMessageDescriptor *d, unsigned seed)
{
	ProtobufCMessage *m = malloc(d->sizeof_message);

	if (!m)
		abort();
	d->message_init(m);
	pb_fill(m, seed);
	return m;
}

/* ---------------------------------------------------------------- JSON */

static inline void pb_json_string(FILE *f, const char *s, size_t len)
{
	fputc('"', f);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

/* Python's base64.encodebytes(): lines of 76 characters, each ending in '\n'. */
static inline void pb_json_base64(FILE *f, const uint8_t *p, size_t len)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t col = 0;

	fputc('"', f);
	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;
		size_t n = len - i < 3 ? len - i : 3;

		if (n > 1)
			v |= (uint32_t)p[i + 1] << 8;
		if (n > 2)
			v |= p[i + 2];
		fputc(tab[(v >> 18) & 63], f);
		fputc(tab[(v >> 12) & 63], f);
		fputc(n > 1 ? tab[(v >> 6) & 63] : '=', f);
		fputc(n > 2 ? tab[v & 63] : '=', f);
		col += 4;
		if (col == 76) {
			fputs("\\n", f);
			col = 0;
		}
	}
	if (col)
		fputs("\\n", f);
	fputc('"', f);
}

static void pb_json(FILE *f, const ProtobufCMessage *m);

static inline void pb_json_value(FILE *f, const ProtobufCFieldDescriptor *fd, const void *p)
{
	switch (fd->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		fprintf(f, "%d", *(const int32_t *)p);
		break;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		fprintf(f, "%u", *(const uint32_t *)p);
		break;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		fprintf(f, "%lld", (long long)*(const int64_t *)p);
		break;
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		fprintf(f, "%llu", (unsigned long long)*(const uint64_t *)p);
		break;
	case PROTOBUF_C_TYPE_FLOAT:
		fprintf(f, "%.9g", (double)*(const float *)p);
		break;
	case PROTOBUF_C_TYPE_DOUBLE:
		fprintf(f, "%.17g", *(const double *)p);
		break;
	case PROTOBUF_C_TYPE_BOOL:
		fputs(*(const protobuf_c_boolean *)p ? "true" : "false", f);
		break;
	case PROTOBUF_C_TYPE_ENUM: {
		const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(fd->descriptor, *(const int *)p);

		pb_json_string(f, ev ? ev->name : "?", strlen(ev ? ev->name : "?"));
		break;
	}
	case PROTOBUF_C_TYPE_STRING: {
		const char *s = *(char *const *)p;

		pb_json_string(f, s, strlen(s));
		break;
	}
	case PROTOBUF_C_TYPE_BYTES: {
		const ProtobufCBinaryData *b = p;

		pb_json_base64(f, b->data, b->len);
		break;
	}
	case PROTOBUF_C_TYPE_MESSAGE:
		pb_json(f, *(ProtobufCMessage *const *)p);
		break;
	}
}

static inline bool pb_field_present(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *fd)
{
	const char *base = (const char *)m;

	switch (fd->label) {
	case PROTOBUF_C_LABEL_REPEATED:
		return *(const size_t *)(base + fd->quantifier_offset) > 0;
	case PROTOBUF_C_LABEL_OPTIONAL:
		if (fd->type == PROTOBUF_C_TYPE_STRING || fd->type == PROTOBUF_C_TYPE_MESSAGE)
			return *(void *const *)(base + fd->offset) != NULL;
		return *(const protobuf_c_boolean *)(base + fd->quantifier_offset);
	default:
		return true;
	}
}

static void pb_json(FILE *f, const ProtobufCMessage *m)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	const char *base = (const char *)m;
	bool first = true;

	fputc('{', f);
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *fd = &d->fields[i];

		if (!pb_field_present(m, fd))
			continue;
		fprintf(f, "%s\"%s\": ", first ? "" : ", ", fd->name);
		first = false;
		if (fd->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n = *(const size_t *)(base + fd->quantifier_offset), sz = pb_elt_size(fd->type);
			const char *arr = *(char *const *)(base + fd->offset);

			fputc('[', f);
			for (size_t k = 0; k < n; k++) {
				if (k)
					fputs(", ", f);
				pb_json_value(f, fd, arr + k * sz);
			}
			fputc(']', f);
		} else {
			pb_json_value(f, fd, base + fd->offset);
		}
	}
	fputc('}', f);
}

/* The packed bytes of m (malloc'd), for comparisons. */
static inline uint8_t *pb_packed(const ProtobufCMessage *m, size_t *len)
{
	uint8_t *buf;

	*len = protobuf_c_message_get_packed_size(m);
	buf = malloc(*len ? *len : 1);
	if (!buf)
		abort();
	protobuf_c_message_pack(m, buf);
	return buf;
}

static inline bool pb_equal(const ProtobufCMessage *a, const ProtobufCMessage *b)
{
	size_t la, lb;
	uint8_t *pa = pb_packed(a, &la), *pb = pb_packed(b, &lb);
	bool eq = a->descriptor == b->descriptor && la == lb && !memcmp(pa, pb, la);

	free(pa);
	free(pb);
	return eq;
}

#endif

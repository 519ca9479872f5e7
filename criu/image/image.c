/*
 * Image files: atomic writers and checking readers (types: image-types.c).
 *
 * A protobuf image is read into memory whole (they are small) and parsed from
 * there, so files and in-memory buffers (tests, fuzzing) share one parser;
 * but one whose payloads are as large as memory (payload_in_file: System V
 * segments) is read an entry at a time, its payloads left in the file. Raw
 * images are not parsed; their reader keeps the fd open at offset 0.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#define LOG_PREFIX "img: "
#include "util/log.h"
#include "util/util.h"
#include "image/image.h"

#define IMG_SERVICE_MAGIC 0x55105940U /* CRIU's other common magic, for service images */

static size_t header_size(const struct img_type_desc *d)
{
	if (!d->pb)
		return 0;
	return d->no_common ? 4 : 8;
}

/* ---------------------------------------------------------------- writers */

static int write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static void writer_reset(struct img_writer *w)
{
	w->fd = -1;
	w->tmpname[0] = '\0';
}

int img_writer_open(struct img_writer *w, int dirfd, enum img_type type, unsigned id)
{
	const struct img_type_desc *d = img_desc(type);
	uint8_t hdr[8];
	size_t hlen;
	int n, ret;

	memset(w, 0, sizeof(*w));
	w->dirfd = dirfd;
	w->type = type;
	writer_reset(w);
	if (!d) {
		pr_err("unknown image type %d\n", (int)type);
		return -EINVAL;
	}
	n = snprintf(w->name, sizeof(w->name), d->name_fmt, id);
	if (n < 0 || (size_t)n >= sizeof(w->name))
		return -ENAMETOOLONG;
	n = snprintf(w->tmpname, sizeof(w->tmpname), ".%s.tmp.%d", w->name, (int)getpid());
	if (n < 0 || (size_t)n >= sizeof(w->tmpname)) {
		w->tmpname[0] = '\0';
		return -ENAMETOOLONG;
	}

	w->fd = openat(dirfd, w->tmpname, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (w->fd < 0) {
		ret = -errno;
		pr_perror("can't create %s", w->tmpname);
		writer_reset(w);
		return ret;
	}

	hlen = header_size(d);
	if (d->no_common) {
		put_le32(hdr, d->magic);
	} else {
		put_le32(hdr, d->service ? IMG_SERVICE_MAGIC : IMG_COMMON_MAGIC);
		put_le32(hdr + 4, d->magic);
	}
	ret = write_all(w->fd, hdr, hlen);
	if (ret < 0) {
		errno = -ret;
		pr_perror("can't write the header of %s", w->tmpname);
		img_writer_abort(w);
		return ret;
	}
	w->off = hlen;
	return 0;
}

/* The type the next entry of `w` must have. */
static const ProtobufCMessageDescriptor *next_entry_type(const struct img_type_desc *d, uint64_t nr_entries)
{
	return d->pb_head && nr_entries == 0 ? d->pb_head : d->pb;
}

int img_write_entry(struct img_writer *w, const ProtobufCMessage *msg)
{
	const struct img_type_desc *d = img_desc(w->type);
	const ProtobufCMessageDescriptor *want;
	uint8_t *buf;
	size_t len;
	int ret;

	if (w->fd < 0 || !d) {
		pr_err("%s: writing to a closed image\n", w->name);
		return -EBADF;
	}
	if (!d->pb) {
		pr_err("%s: %s is a raw image, it has no entries\n", w->name, d->name);
		return -EINVAL;
	}
	want = next_entry_type(d, w->nr_entries);
	if (msg->descriptor != want) {
		if (d->pb_head)
			pr_err("%s: can't write a %s into a %s image as entry %" PRIu64 ", expected a %s\n", w->name,
			       msg->descriptor->name, d->name, w->nr_entries, want->name);
		else
			pr_err("%s: can't write a %s into a %s image\n", w->name, msg->descriptor->name, d->name);
		return -EINVAL;
	}
	if (w->payload_due) {
		pr_err("%s: %" PRIu64 " bytes of the previous entry's payload are missing\n", w->name, w->payload_due);
		return -EINVAL;
	}
	len = protobuf_c_message_get_packed_size(msg);
	if (len > IMG_MAX_ENTRY) {
		pr_err("%s: entry of %zu bytes is larger than the limit of %u\n", w->name, len, IMG_MAX_ENTRY);
		return -E2BIG;
	}
	buf = xmalloc(4 + len);
	put_le32(buf, (uint32_t)len);
	if (protobuf_c_message_pack(msg, buf + 4) != len) {
		free(buf);
		pr_err("%s: packing a %s entry failed\n", w->name, msg->descriptor->name);
		return -EINVAL;
	}
	ret = write_all(w->fd, buf, 4 + len);
	free(buf);
	if (ret < 0) {
		errno = -ret;
		pr_perror("%s: can't write an entry at offset %" PRIu64, w->name, w->off);
		return ret;
	}
	w->off += 4 + len;
	w->nr_entries++;
	if (d->payload_len && msg->descriptor == d->pb)
		w->payload_due = d->payload_len(msg);
	return 0;
}

int img_write_raw(struct img_writer *w, const void *buf, size_t len)
{
	const struct img_type_desc *d = img_desc(w->type);
	int ret;

	if (w->fd < 0) {
		pr_err("%s: writing to a closed image\n", w->name);
		return -EBADF;
	}
	if (d && d->payload_len && len > w->payload_due) {
		pr_err("%s: %zu bytes of payload where the entry announced %" PRIu64 "\n", w->name, len,
		       w->payload_due);
		return -EINVAL;
	}
	ret = write_all(w->fd, buf, len);
	if (ret < 0) {
		errno = -ret;
		pr_perror("%s: can't write %zu bytes at offset %" PRIu64, w->name, len, w->off);
		return ret;
	}
	w->off += len;
	if (d && d->payload_len)
		w->payload_due -= len;
	return 0;
}

int img_splice_raw(struct img_writer *w, int pipe_fd, size_t len)
{
	const struct img_type_desc *d = img_desc(w->type);

	if (w->fd < 0) {
		pr_err("%s: writing to a closed image\n", w->name);
		return -EBADF;
	}
	if (d && d->payload_len) {
		pr_err("%s: payloads are written with img_write_raw\n", w->name);
		return -EINVAL;
	}
	while (len) {
		ssize_t n = splice(pipe_fd, NULL, w->fd, NULL, len, SPLICE_F_MOVE);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int err = n < 0 ? errno : EIO;

			pr_err("%s: can't move %zu bytes from a pipe at offset %" PRIu64 ": %s\n", w->name, len, w->off,
			       n < 0 ? strerror(err) : "the pipe ran dry");
			return -err;
		}
		w->off += (uint64_t)n;
		len -= (size_t)n;
	}
	return 0;
}

int img_write_entry_payload(struct img_writer *w, const ProtobufCMessage *msg, const void *data, size_t len)
{
	const struct img_type_desc *d = img_desc(w->type);
	int ret;

	if (!d || !d->payload_len) {
		pr_err("%s: %s entries have no payload\n", w->name, d ? d->name : "?");
		return -EINVAL;
	}
	if (msg->descriptor == d->pb && d->payload_len(msg) != len) {
		pr_err("%s: the entry announces %" PRIu64 " bytes of payload, %zu given\n", w->name,
		       d->payload_len(msg), len);
		return -EINVAL;
	}
	ret = img_write_entry(w, msg);
	if (ret < 0)
		return ret;
	return img_write_raw(w, data, len);
}

int img_writer_commit(struct img_writer *w)
{
	int ret;

	if (w->fd < 0) {
		pr_err("%s: committing a closed image\n", w->name);
		return -EBADF;
	}
	if (w->payload_due) {
		pr_err("%s: %" PRIu64 " bytes of the last entry's payload are missing\n", w->name, w->payload_due);
		img_writer_abort(w);
		return -EINVAL;
	}
	if (fsync(w->fd) < 0) {
		ret = -errno;
		pr_perror("%s: fsync failed", w->tmpname);
		img_writer_abort(w);
		return ret;
	}
	if (renameat(w->dirfd, w->tmpname, w->dirfd, w->name) < 0) {
		ret = -errno;
		pr_perror("can't rename %s to %s", w->tmpname, w->name);
		img_writer_abort(w);
		return ret;
	}
	/* The file is in place; the temporary name is gone. */
	w->tmpname[0] = '\0';
	ret = close(w->fd);
	w->fd = -1;
	if (ret < 0 && errno != EINTR) {
		ret = -errno;
		pr_perror("%s: close failed", w->name);
		unlinkat(w->dirfd, w->name, 0);
		return ret;
	}
	return 0;
}

void img_writer_abort(struct img_writer *w)
{
	if (w->fd >= 0)
		close(w->fd);
	if (w->tmpname[0])
		unlinkat(w->dirfd, w->tmpname, 0);
	writer_reset(w);
}

/* ---------------------------------------------------------------- readers */

static void reader_init(struct img_reader *r, const char *label)
{
	memset(r, 0, sizeof(*r));
	r->fd = -1;
	snprintf(r->path, sizeof(r->path), "%s", label ? label : "(memory)");
}

/*
 * Checks the header of r->buf[0..size) against `expect` and sets r->desc and
 * r->off past the header.
 */
static int parse_header(struct img_reader *r, enum img_type expect)
{
	const struct img_type_desc *want = expect == IMG_ANY ? NULL : img_desc(expect);
	const struct img_type_desc *found;
	uint32_t m0, m1;

	if (expect != IMG_ANY && !want) {
		pr_err("%s: unknown image type %d requested\n", r->path, (int)expect);
		return -EINVAL;
	}
	if (r->size < 4) {
		pr_err("%s: truncated header: %" PRIu64 " bytes, need %zu\n", r->path, r->size,
		       want ? header_size(want) : 4);
		return -EINVAL;
	}
	m0 = get_le32(r->buf);
	if (m0 == img_desc(IMG_INVENTORY)->magic) {
		found = img_desc(IMG_INVENTORY);
	} else if (m0 == IMG_COMMON_MAGIC) {
		if (r->size < 8) {
			pr_err("%s: truncated header: %" PRIu64 " bytes, need 8\n", r->path, r->size);
			return -EINVAL;
		}
		m1 = get_le32(r->buf + 4);
		/* two types may share a magic (pagemap and pagemap-shmem): the one asked for */
		found = want && want->magic == m1 ? want : img_desc_by_magic(m1);
		if (!found) {
			pr_err("%s: unknown CRIU image type: magic 0x%08x at offset 4%s%s\n", r->path, m1,
			       want ? ", expected " : "", want ? want->name : "");
			return -EINVAL;
		}
	} else if (m0 == IMG_SERVICE_MAGIC) {
		m1 = r->size >= 8 ? get_le32(r->buf + 4) : 0;
		found = NULL;
		for (int t = 0; t < IMG_NR && !found; t++)
			if (img_desc(t)->service && img_desc(t)->magic == m1)
				found = img_desc(t);
		if (!found) {
			pr_err("%s: a CRIU service image of an unknown kind (magic 0x%08x at offset 4)\n", r->path, m1);
			return -EINVAL;
		}
	} else {
		pr_err("%s: not a CRIU image: magic 0x%08x at offset 0, expected 0x%08x (%s)\n", r->path, m0,
		       want && want->no_common ? want->magic : IMG_COMMON_MAGIC,
		       want && want->no_common ? want->name : "IMG_COMMON");
		return -EINVAL;
	}
	/* types sharing a magic (pagemap-shmem, stats-restore): the one asked for */
	if (want && found != want && found->magic == want->magic && found->service == want->service)
		found = want;
	if (want && found != want) {
		pr_err("%s: is a %s image (magic 0x%08x), expected %s (magic 0x%08x)\n", r->path, found->name,
		       found->magic, want->name, want->magic);
		return -EINVAL;
	}
	r->desc = found;
	r->off = header_size(found);
	return 0;
}

/* Raw images are known by their names only: they have no header. */
static const struct img_type_desc *raw_desc(const char *label, enum img_type expect)
{
	const struct img_type_desc *d;

	if (expect != IMG_ANY) {
		d = img_desc(expect);
		return d && !d->pb ? d : NULL;
	}
	d = img_desc_by_filename(label);
	return d && !d->pb ? d : NULL;
}

static int read_fd_all(int fd, uint64_t hint, uint8_t **bufp, size_t *lenp)
{
	size_t cap = hint + 1 > 4096 ? (size_t)hint + 1 : 4096, n = 0;
	uint8_t *buf = xmalloc(cap);

	for (;;) {
		ssize_t r;

		if (n == cap) {
			cap *= 2;
			buf = xrealloc(buf, cap);
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			free(buf);
			return (int)r;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	*bufp = buf;
	*lenp = n;
	return 0;
}

/* name in dirfd, a regular file: its fd, or -errno (printed). */
static int open_regular(int dirfd, const char *name, struct stat *st)
{
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC), ret;

	if (fd < 0) {
		ret = -errno;
		pr_perror("can't open %s", name);
		return ret;
	}
	if (fstat(fd, st) < 0) {
		ret = -errno;
		pr_perror("can't stat %s", name);
		close(fd);
		return ret;
	}
	if (!S_ISREG(st->st_mode)) {
		pr_err("%s: not a regular file\n", name);
		close(fd);
		return -EINVAL;
	}
	return fd;
}

/* The first bytes of the file, up to 8 (fewer in a short file); their count or -errno. */
static ssize_t read_head(int fd, const char *name, uint8_t head[8])
{
	ssize_t n;

	for (n = 0; n < 8;) {
		ssize_t k = pread(fd, head + n, 8 - (size_t)n, (off_t)n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			int ret = -errno;

			pr_perror("can't read %s", name);
			return ret;
		}
		if (k == 0)
			break; /* a short file: parse_header says so */
		n += k;
	}
	return n;
}

int img_reader_open(struct img_reader *r, int dirfd, const char *name, enum img_type expect)
{
	const struct img_type_desc *raw;
	struct stat st;
	uint8_t *buf = NULL, head[8];
	size_t len = 0;
	ssize_t n;
	int fd, ret;

	reader_init(r, name);
	fd = open_regular(dirfd, name, &st);
	if (fd < 0)
		return fd;
	raw = raw_desc(name, expect);
	if (raw) {
		r->fd = fd;
		r->desc = raw;
		r->size = (uint64_t)st.st_size;
		return 0;
	}

	/* the header says the type, and whether its payloads stay in the file */
	n = read_head(fd, name, head);
	if (n < 0) {
		close(fd);
		return (int)n;
	}
	r->buf = head;
	r->size = (uint64_t)n;
	ret = parse_header(r, expect);
	r->buf = NULL;
	if (ret < 0) {
		close(fd);
		return ret;
	}
	if (r->desc->payload_in_file) {
		r->fd = fd;
		r->size = (uint64_t)st.st_size;
		return 0;
	}

	ret = read_fd_all(fd, (uint64_t)st.st_size, &buf, &len);
	close(fd);
	if (ret < 0) {
		errno = -ret;
		pr_perror("can't read %s", name);
		return ret;
	}
	r->owned = buf;
	r->buf = buf;
	r->size = len;
	ret = parse_header(r, expect);
	if (ret < 0)
		img_reader_close(r);
	return ret;
}

int img_reader_open_mem(struct img_reader *r, const void *buf, size_t len, const char *label, enum img_type expect)
{
	const struct img_type_desc *raw;
	int ret;

	reader_init(r, label);
	r->buf = buf;
	r->size = len;
	raw = raw_desc(label, expect);
	if (raw) {
		r->desc = raw;
		return 0;
	}
	ret = parse_header(r, expect);
	if (ret < 0)
		img_reader_close(r);
	return ret;
}

/* Reads a varint at p[*i..len); -1 when it runs past the end or is too long. */
static int get_varint(const uint8_t *p, size_t len, size_t *i, uint64_t *v)
{
	*v = 0;
	for (unsigned shift = 0; shift < 64; shift += 7) {
		if (*i >= len)
			return -1;
		uint8_t b = p[(*i)++];
		*v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return 0;
	}
	return -1;
}

/*
 * protobuf-c only says "no" when unpacking fails: walk the entry (and the
 * nested messages in it) to say why, for the error message. `base` is the
 * offset of p within the entry. Returns true when a reason was found.
 */
static bool explain_unpack_failure(const ProtobufCMessageDescriptor *d, const uint8_t *p, size_t len, size_t base,
				   unsigned depth, char *why, size_t whylen)
{
	bool *seen = xzalloc(d->n_fields * sizeof(*seen) + 1);
	bool found = true;
	size_t i = 0;

	while (i < len) {
		const ProtobufCFieldDescriptor *f;
		size_t start = i, vstart;
		uint64_t key, v = 0;

		if (get_varint(p, len, &i, &key) < 0) {
			snprintf(why, whylen, "malformed field key at byte %zu of the entry", base + start);
			goto out;
		}
		if ((key >> 3) == 0 || (key >> 3) > 0x1fffffff) {
			snprintf(why, whylen, "invalid field number %" PRIu64 " at byte %zu of the entry", key >> 3,
				 base + start);
			goto out;
		}
		vstart = i;
		switch (key & 7) {
		case 0:
			if (get_varint(p, len, &i, &v) < 0)
				goto truncated;
			break;
		case 1:
			if (len - i < 8)
				goto truncated;
			i += 8;
			break;
		case 2:
			if (get_varint(p, len, &i, &v) < 0 || v > len - i)
				goto truncated;
			vstart = i;
			i += (size_t)v;
			break;
		case 5:
			if (len - i < 4)
				goto truncated;
			i += 4;
			break;
		default:
			snprintf(why, whylen, "unsupported wire type %u at byte %zu of the entry", (unsigned)(key & 7),
				 base + start);
			goto out;
		}
		f = protobuf_c_message_descriptor_get_field(d, (unsigned)(key >> 3));
		if (!f)
			continue;
		seen[f - d->fields] = true;
		if (f->type == PROTOBUF_C_TYPE_MESSAGE && (key & 7) == 2 && depth < 32) {
			char sub[192];

			if (explain_unpack_failure(f->descriptor, p + vstart, (size_t)v, base + vstart, depth + 1, sub,
						   sizeof(sub))) {
				snprintf(why, whylen, "in %s: %s", f->name, sub);
				goto out;
			}
		}
		continue;
	truncated:
		snprintf(why, whylen, "field %" PRIu64 " at byte %zu runs past the end of the entry", key >> 3,
			 base + start);
		goto out;
	}
	for (unsigned k = 0; k < d->n_fields; k++) {
		if (d->fields[k].label == PROTOBUF_C_LABEL_REQUIRED && !seen[k]) {
			snprintf(why, whylen, "missing required field '%s'", d->fields[k].name);
			goto out;
		}
	}
	found = false;
	snprintf(why, whylen, "a field has the wrong wire type or an invalid value");
out:
	free(seen);
	return found;
}

/* Checks and skips the payload that follows entry `m` (pipes-data, a segment's bytes...). */
static int skip_payload(struct img_reader *r, const ProtobufCMessage *m)
{
	uint64_t left = r->size - r->off, want;

	if (r->desc->payload_scan && !r->buf) {
		pr_err("%s: %s payloads can only be read from memory\n", r->path, r->desc->name);
		return -EINVAL;
	}
	if (r->desc->payload_scan) {
		want = r->desc->payload_scan(m, r->buf + r->off, left);
		if (want == UINT64_MAX) {
			pr_err("%s: malformed or truncated payload after the entry ending at offset %" PRIu64 "\n",
			       r->path, r->off);
			return -EINVAL;
		}
	} else {
		want = r->desc->payload_len(m);
	}
	if (want > left) {
		pr_err("%s: truncated payload at offset %" PRIu64 ": the entry announces %" PRIu64 " bytes, %" PRIu64
		       " left\n",
		       r->path, r->off, want, left);
		return -EINVAL;
	}
	r->payload = r->buf ? r->buf + r->off : NULL;
	r->payload_len = (size_t)want;
	r->payload_off = r->off;
	r->off += want;
	return 0;
}

/* The size of the entry at r->off, checked against the limit and what is left. */
static int read_entry_len(struct img_reader *r, uint32_t *lenp)
{
	uint64_t left = r->size - r->off;
	uint32_t len;
	int err;

	if (left < 4) {
		pr_err("%s: truncated entry size at offset %" PRIu64 ": %" PRIu64 " bytes left, need 4\n", r->path,
		       r->off, left);
		return -EINVAL;
	}
	if (r->buf) {
		len = get_le32(r->buf + r->off);
	} else {
		uint8_t b[4];

		err = pread_full(r->fd, b, sizeof(b), r->off);
		if (err) {
			pr_err("%s: can't read the entry size at offset %" PRIu64 ": %s\n", r->path, r->off,
			       strerror(-err));
			return err;
		}
		len = get_le32(b);
	}
	left -= 4;
	if (len > IMG_MAX_ENTRY) {
		pr_err("%s: entry at offset %" PRIu64 " claims %u bytes, more than the limit of %u\n", r->path, r->off,
		       len, IMG_MAX_ENTRY);
		return -EINVAL;
	}
	if (len > left) {
		pr_err("%s: truncated entry at offset %" PRIu64 ": header says %u bytes, %" PRIu64 " left\n", r->path,
		       r->off, len, left);
		return -EINVAL;
	}
	*lenp = len;
	return 0;
}

/* The len bytes of the entry at r->off: in r->buf, or read from the file
 * into *tmp, which the caller frees. */
static int entry_bytes(struct img_reader *r, uint32_t len, const uint8_t **p, uint8_t **tmp)
{
	int err;

	*tmp = NULL;
	if (r->buf) {
		*p = r->buf + r->off + 4;
		return 0;
	}
	*tmp = xmalloc(len ? len : 1);
	err = pread_full(r->fd, *tmp, len, r->off + 4);
	if (err) {
		pr_err("%s: can't read the entry at offset %" PRIu64 ": %s\n", r->path, r->off, strerror(-err));
		free(*tmp);
		*tmp = NULL;
		return err;
	}
	*p = *tmp;
	return 0;
}

/* The entry at r->off unpacked as `type`; NULL after saying why it can't be. */
static ProtobufCMessage *decode_entry(const struct img_reader *r, const ProtobufCMessageDescriptor *type,
				      const uint8_t *p, uint32_t len)
{
	ProtobufCMessage *m = protobuf_c_message_unpack(type, NULL, len, p);
	char why[256];

	if (m)
		return m;
	explain_unpack_failure(type, p, len, 0, 0, why, sizeof(why));
	pr_err("%s: can't decode the %s entry at offset %" PRIu64 " (%u bytes): %s\n", r->path, type->name, r->off, len,
	       why);
	return NULL;
}

int img_read_entry(struct img_reader *r, ProtobufCMessage **msg)
{
	const ProtobufCMessageDescriptor *type;
	uint8_t *tmp;
	const uint8_t *p;
	ProtobufCMessage *m;
	uint32_t len;
	int err;

	*msg = NULL;
	if (!r->desc) {
		pr_err("%s: reading from a closed image\n", r->path);
		return -EBADF;
	}
	if (!r->desc->pb) {
		pr_err("%s: %s is a raw image, it has no entries\n", r->path, r->desc->name);
		return -EINVAL;
	}
	r->payload = NULL;
	r->payload_len = 0;
	r->payload_off = 0;
	if (r->off >= r->size)
		return 0;
	err = read_entry_len(r, &len);
	if (!err)
		err = entry_bytes(r, len, &p, &tmp);
	if (err)
		return err;
	type = next_entry_type(r->desc, r->nr_entries);
	m = decode_entry(r, type, p, len);
	free(tmp);
	if (!m)
		return -EINVAL;
	r->off += 4 + (uint64_t)len;
	if ((r->desc->payload_len || r->desc->payload_scan) && type == r->desc->pb && skip_payload(r, m) < 0) {
		protobuf_c_message_free_unpacked(m, NULL);
		return -EINVAL;
	}
	r->nr_entries++;
	*msg = m;
	return 1;
}

void img_reader_close(struct img_reader *r)
{
	if (r->fd >= 0)
		close(r->fd);
	free(r->owned);
	r->fd = -1;
	r->owned = NULL;
	r->buf = NULL;
	r->desc = NULL;
	r->off = r->size = 0;
	r->nr_entries = 0;
	r->payload = NULL;
	r->payload_len = 0;
	r->payload_off = 0;
}

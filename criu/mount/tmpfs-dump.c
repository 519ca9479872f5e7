/*
 * tmpfs contents as a gzip'd pax tar, written with libarchive (dump side;
 * mount/tmpfs-restore.c reads it back).
 *
 * Archiving walks the tree with one directory descriptor per level and
 * *at() calls on single names, so a symlink is never followed and a rename
 * elsewhere cannot redirect us. Extraction resolves the directory of every
 * entry with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS) below the target
 * (or an equivalent walk, one O_NOFOLLOW component at a time, when openat2
 * is missing) and creates the last component with *at() calls that do not
 * follow it either.
 */
#define LOG_PREFIX "tmpfs: "

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <linux/openat2.h>

#include <archive.h>
#include <zlib.h>
#include <archive_entry.h>

#include "mount/tmpfs.h"
#include "task/userns.h"
#include "util/hashmap.h"
#include "util/log.h"
#include "util/util.h"
#include "mount/tmpfs-internal.h"

/* ------------------------------------------------------------------------
 * Archiving
 */

struct arc {
	struct archive *a;
	struct archive_entry *e;
	struct hmap inodes; /* st_ino -> first archived name (all share one st_dev) */
	uint32_t dev_major, dev_minor;
	uint64_t mnt_id;
	bool have_mnt_id;
	char *buf;   /* IO_CHUNK bytes read from files */
	char *zeros; /* IO_CHUNK zero bytes fed for holes, allocated on first use */
	char *path;  /* name of the current entry: "." or "./a/b" */
	size_t plen, pcap;
};

static int xstatx(int dfd, const char *name, int flags, struct statx *st)
{
	if (statx(dfd, name, flags | AT_NO_AUTOMOUNT | AT_STATX_SYNC_AS_STAT, STATX_BASIC_STATS | STATX_MNT_ID, st))
		return -errno;
	return 0;
}

/* Opens without touching the atime when we may (we own it or are root). */
static int open_noatime(int dfd, const char *name, int flags)
{
	int fd = openat(dfd, name, flags | O_NOATIME);

	if (fd < 0 && errno == EPERM)
		fd = openat(dfd, name, flags);
	return fd;
}

static size_t path_push(struct arc *c, const char *name)
{
	size_t old = c->plen, n = strlen(name);

	if (c->plen + n + 2 > c->pcap) {
		while (c->plen + n + 2 > c->pcap)
			c->pcap *= 2;
		c->path = xrealloc(c->path, c->pcap);
	}
	c->path[c->plen++] = '/';
	memcpy(c->path + c->plen, name, n + 1);
	c->plen += n;
	return old;
}

static void path_pop(struct arc *c, size_t old)
{
	c->plen = old;
	c->path[old] = '\0';
}

static int arc_fail(struct arc *c, const char *what)
{
	pr_err("Can't %s %s: %s\n", what, c->path, archive_msg(c->a));
	return archive_err(c->a);
}

/* Starts a new entry for c->path from a stat: type, permissions, owner, times. */
static void entry_fill(struct arc *c, const struct statx *st, unsigned int type)
{
	struct archive_entry *e = c->e;

	archive_entry_clear(e);
	archive_entry_copy_pathname(e, c->path);
	archive_entry_set_filetype(e, type);
	archive_entry_set_perm(e, st->stx_mode & 07777);
	/* as the tree's user namespace sees them, if it has one (upstream's
	 * tar runs in it): restore extracts there */
	archive_entry_set_uid(e, userns_uid(st->stx_uid));
	archive_entry_set_gid(e, userns_gid(st->stx_gid));
	archive_entry_set_mtime(e, st->stx_mtime.tv_sec, st->stx_mtime.tv_nsec);
	archive_entry_set_atime(e, st->stx_atime.tv_sec, st->stx_atime.tv_nsec);
	archive_entry_set_size(e, 0);
}

static int write_header(struct arc *c)
{
	int r = archive_write_header(c->a, c->e);

	if (r == ARCHIVE_WARN) {
		/* A name that isn't text in our locale: it is stored as bytes (hdrcharset=BINARY). */
		pr_debug("%s: %s\n", c->path, archive_msg(c->a));
		r = ARCHIVE_OK;
	}
	return r == ARCHIVE_OK ? 0 : arc_fail(c, "write the header of");
}

/* Adds the xattrs of the open file `fd` that we keep to the current entry. */
static int add_xattrs(struct arc *c, int fd)
{
	_cleanup_free_ char *list = NULL;
	_cleanup_free_ char *val = NULL;
	size_t vcap = 0;
	ssize_t len;

	for (int tries = 0;; tries++) {
		len = flistxattr(fd, NULL, 0);
		if (len <= 0)
			break;
		free(list);
		list = xmalloc(len);
		len = flistxattr(fd, list, len);
		if (len >= 0 || errno != ERANGE || tries > 8)
			break;
	}
	if (len < 0) {
		if (errno == ENOTSUP)
			return 0;
		pr_perror("Can't list xattrs of %s", c->path);
		return -errno;
	}

	for (char *name = list; name < list + len; name += strlen(name) + 1) {
		ssize_t vlen;

		if (!xattr_wanted(name))
			continue;
		for (;;) {
			vlen = fgetxattr(fd, name, NULL, 0);
			if (vlen < 0)
				break;
			if ((size_t)vlen > vcap) {
				vcap = vlen;
				val = xrealloc(val, vcap);
			}
			vlen = fgetxattr(fd, name, val, vcap);
			if (vlen >= 0 || errno != ERANGE) /* ERANGE: it grew meanwhile */
				break;
		}
		if (vlen < 0) {
			if (errno == ENODATA) /* removed meanwhile */
				continue;
			pr_perror("Can't read xattr %s of %s", name, c->path);
			return -errno;
		}
		archive_entry_xattr_add_entry(c->e, name, vlen ? val : "", vlen);
	}
	return 0;
}

/* Feeds bytes of the current entry; a hole's zeros are counted, not stored. */
static int feed(struct arc *c, const char *p, size_t n)
{
	while (n) {
		la_ssize_t w = archive_write_data(c->a, p, n);

		if (w < 0)
			return arc_fail(c, "write the data of");
		if (w == 0) /* the entry is complete */
			return 0;
		p += w;
		n -= w;
	}
	return 0;
}

static int feed_hole(struct arc *c, uint64_t n)
{
	if (!c->zeros)
		c->zeros = xzalloc(IO_CHUNK);
	while (n) {
		size_t chunk = n < IO_CHUNK ? n : IO_CHUNK;
		int ret = feed(c, c->zeros, chunk);

		if (ret)
			return ret;
		n -= chunk;
	}
	return 0;
}

static int copy_range(struct arc *c, int fd, uint64_t off, uint64_t len)
{
	while (len) {
		size_t want = len < IO_CHUNK ? len : IO_CHUNK;
		ssize_t r = pread(fd, c->buf, want, off);
		int ret;

		if (r < 0) {
			if (errno == EINTR)
				continue;
			pr_perror("Can't read %s", c->path);
			return -errno;
		}
		if (r == 0) {
			/* Shrunk under us: the archive pads the entry with zeros. */
			pr_warn("%s shrank while being archived\n", c->path);
			return 0;
		}
		ret = feed(c, c->buf, r);
		if (ret)
			return ret;
		off += r;
		len -= r;
	}
	return 0;
}

struct region {
	uint64_t off, len;
};

/*
 * The data regions of a file with holes, from SEEK_DATA/SEEK_HOLE: *nr is 0
 * for a dense file (or when the filesystem cannot tell). A file that is all
 * hole gets the single empty region (size, 0), as GNU tar writes it.
 */
static struct region *map_holes(int fd, const struct statx *st, size_t *nr)
{
	uint64_t size = st->stx_size, pos = 0, total = 0;
	struct region *r = NULL;
	size_t n = 0, cap = 0;

	*nr = 0;
	if (!size || st->stx_blocks * 512 >= size)
		return NULL;

	while (pos < size) {
		off_t d = lseek(fd, pos, SEEK_DATA), h;

		if (d < 0 && errno == ENXIO) /* only a hole is left */
			break;
		if (d < 0)
			goto dense;
		if ((uint64_t)d >= size)
			break;
		h = lseek(fd, d, SEEK_HOLE);
		if (h <= d)
			goto dense;
		if ((uint64_t)h > size)
			h = size;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			r = xrealloc(r, cap * sizeof(*r));
		}
		r[n].off = d;
		r[n].len = h - d;
		total += r[n].len;
		n++;
		pos = h;
	}
	if (total == size)
		goto dense;
	if (!n) {
		r = xmalloc(sizeof(*r));
		r[0].off = size;
		r[0].len = 0;
		n = 1;
	}
	*nr = n;
	return r;
dense:
	free(r);
	return NULL;
}

static int archive_reg(struct arc *c, int dfd, const char *name, const struct statx *lst)
{
	_cleanup_close_ int fd = open_noatime(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	_cleanup_free_ struct region *map = NULL;
	uint64_t pos = 0;
	struct statx st;
	size_t nr;
	int ret;

	if (fd < 0) {
		pr_perror("Can't open %s", c->path);
		return -errno;
	}
	ret = xstatx(fd, "", AT_EMPTY_PATH, &st);
	if (ret) {
		pr_err("Can't stat %s: %s\n", c->path, strerror(-ret));
		return ret;
	}
	if (!S_ISREG(st.stx_mode) || st.stx_ino != lst->stx_ino) {
		pr_err("%s changed while being archived\n", c->path);
		return -EAGAIN;
	}

	entry_fill(c, &st, AE_IFREG);
	archive_entry_set_size(c->e, st.stx_size);
	ret = add_xattrs(c, fd);
	if (ret)
		return ret;
	map = map_holes(fd, &st, &nr);
	for (size_t i = 0; i < nr; i++)
		archive_entry_sparse_add_entry(c->e, map[i].off, map[i].len);
	ret = write_header(c);
	if (ret)
		return ret;

	if (!nr)
		return copy_range(c, fd, 0, st.stx_size);
	/* The pax writer takes the whole file and skips what its map says is hole. */
	for (size_t i = 0; i < nr; i++) {
		ret = feed_hole(c, map[i].off - pos);
		if (!ret)
			ret = copy_range(c, fd, map[i].off, map[i].len);
		if (ret)
			return ret;
		pos = map[i].off + map[i].len;
	}
	return 0;
}

static int archive_symlink(struct arc *c, int dfd, const char *name, const struct statx *st)
{
	size_t cap = st->stx_size + 1 > 256 ? st->stx_size + 1 : 256;
	_cleanup_free_ char *target = NULL;

	for (;;) {
		ssize_t n;

		target = xrealloc(target, cap);
		n = readlinkat(dfd, name, target, cap);
		if (n < 0) {
			pr_perror("Can't read the symlink %s", c->path);
			return -errno;
		}
		if ((size_t)n < cap) {
			target[n] = '\0';
			break;
		}
		cap *= 2;
	}
	entry_fill(c, st, AE_IFLNK);
	archive_entry_copy_symlink(c->e, target);
	return write_header(c);
}

static bool is_mount_point(const struct arc *c, const struct statx *st)
{
	if (st->stx_dev_major != c->dev_major || st->stx_dev_minor != c->dev_minor)
		return true;
	/* A bind mount of the same filesystem shows only in its mount id. */
	return c->have_mnt_id && (st->stx_mask & STATX_MNT_ID) && st->stx_mnt_id != c->mnt_id;
}

/*
 * What a mount covers cannot be seen; restore needs just a place to mount
 * on, so we keep an empty one with the covering mount's mode and owner.
 */
static int archive_mount_point(struct arc *c, const struct statx *st)
{
	bool dir = S_ISDIR(st->stx_mode);

	pr_info("%s is a mount point, archived as an empty %s\n", c->path, dir ? "directory" : "file");
	entry_fill(c, st, dir ? AE_IFDIR : AE_IFREG);
	return write_header(c);
}

static int archive_tree(struct arc *c, int dfd);

static int archive_subdir(struct arc *c, int dfd, const char *name, const struct statx *lst)
{
	_cleanup_close_ int fd = open_noatime(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct statx st;
	int ret;

	if (fd < 0) {
		pr_perror("Can't open the directory %s", c->path);
		return -errno;
	}
	ret = xstatx(fd, "", AT_EMPTY_PATH, &st);
	if (ret) {
		pr_err("Can't stat %s: %s\n", c->path, strerror(-ret));
		return ret;
	}
	if (st.stx_ino != lst->stx_ino || is_mount_point(c, &st)) {
		pr_err("%s changed while being archived\n", c->path);
		return -EAGAIN;
	}
	entry_fill(c, &st, AE_IFDIR);
	ret = add_xattrs(c, fd);
	if (!ret)
		ret = write_header(c);
	if (!ret)
		ret = archive_tree(c, fd);
	return ret;
}

static int archive_child(struct arc *c, int dfd, const char *name)
{
	struct statx st;
	unsigned int type;
	int ret = xstatx(dfd, name, AT_SYMLINK_NOFOLLOW, &st);

	if (ret == -ENOENT) {
		pr_warn("%s vanished while being archived\n", c->path);
		return 0;
	}
	if (ret) {
		pr_err("Can't stat %s: %s\n", c->path, strerror(-ret));
		return ret;
	}
	type = st.stx_mode & S_IFMT;
	if (type == S_IFSOCK) {
		pr_warn("Skipping the socket %s: a tar archive can't hold sockets\n", c->path);
		return 0;
	}
	if (is_mount_point(c, &st))
		return archive_mount_point(c, &st);

	if (type != S_IFDIR && st.stx_nlink > 1) {
		const char *first = hmap_get_int(&c->inodes, st.stx_ino);

		if (first) {
			entry_fill(c, &st, type);
			archive_entry_copy_hardlink(c->e, first);
			return write_header(c);
		}
		hmap_put_int(&c->inodes, st.stx_ino, xstrdup(c->path));
	}

	switch (type) {
	case S_IFDIR:
		return archive_subdir(c, dfd, name, &st);
	case S_IFREG:
		return archive_reg(c, dfd, name, &st);
	case S_IFLNK:
		return archive_symlink(c, dfd, name, &st);
	case S_IFIFO:
	case S_IFCHR:
	case S_IFBLK:
		entry_fill(c, &st, type);
		archive_entry_set_rdevmajor(c->e, st.stx_rdev_major);
		archive_entry_set_rdevminor(c->e, st.stx_rdev_minor);
		return write_header(c);
	}
	pr_warn("Skipping %s of unknown type %o\n", c->path, type);
	return 0;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Archives what is in the directory `dfd` (named c->path), sorted by name. */
static int archive_tree(struct arc *c, int dfd)
{
	int fd = open_noatime(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	char **names = NULL;
	size_t nr = 0, cap = 0;
	struct dirent *de;
	DIR *d;
	int ret = 0;

	if (fd < 0 || !(d = fdopendir(fd))) {
		pr_perror("Can't read the directory %s", c->path);
		ret = -errno;
		if (fd >= 0)
			close(fd);
		return ret;
	}
	for (errno = 0; (de = readdir(d)); errno = 0) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (nr == cap) {
			cap = cap ? cap * 2 : 64;
			names = xrealloc(names, cap * sizeof(*names));
		}
		names[nr++] = xstrdup(de->d_name);
	}
	if (errno) {
		pr_perror("Can't read the directory %s", c->path);
		ret = -errno;
	}
	closedir(d);

	if (nr)
		qsort(names, nr, sizeof(*names), cmp_names);
	for (size_t i = 0; i < nr && !ret; i++) {
		size_t old = path_push(c, names[i]);

		ret = archive_child(c, dfd, names[i]);
		path_pop(c, old);
	}
	for (size_t i = 0; i < nr; i++)
		free(names[i]);
	free(names);
	return ret;
}

static int setup_writer(struct arc *c, int out_fd)
{
	struct archive *a = c->a;

	if (archive_write_set_format_pax(a) != ARCHIVE_OK || archive_write_add_filter_gzip(a) != ARCHIVE_OK)
		goto err;
	/* GNU tar reads the SCHILY.xattr form; storing both would double the size. */
	archive_write_set_format_option(a, "pax", "xattrheader", "SCHILY");
	if (archive_write_set_filter_option(a, "gzip", "compression-level", GZIP_LEVEL) < ARCHIVE_WARN)
		goto err;
	/* No timestamp in the gzip header: the same tree gives the same image. */
	archive_write_set_filter_option(a, "gzip", "timestamp", NULL);
	/* The image is a stream, not a tape: don't pad the last block. */
	archive_write_set_bytes_in_last_block(a, 1);
	if (archive_write_open_fd(a, out_fd) != ARCHIVE_OK)
		goto err;
	return 0;
err:
	pr_err("Can't set up the archive writer: %s\n", archive_msg(a));
	return archive_err(a);
}

int tmpfs_archive_dir(int root_fd, int out_fd)
{
	_cleanup_close_ int dfd = open_noatime(root_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct arc c = {};
	struct statx st;
	int ret;

	if (dfd < 0) {
		pr_perror("Can't open the directory to archive");
		return -errno;
	}
	ret = xstatx(dfd, "", AT_EMPTY_PATH, &st);
	if (ret) {
		pr_err("Can't stat the directory to archive: %s\n", strerror(-ret));
		return ret;
	}
	c.dev_major = st.stx_dev_major;
	c.dev_minor = st.stx_dev_minor;
	c.mnt_id = st.stx_mnt_id;
	c.have_mnt_id = st.stx_mask & STATX_MNT_ID;
	hmap_init(&c.inodes);
	c.buf = xmalloc(IO_CHUNK);
	c.pcap = 256;
	c.path = xmalloc(c.pcap);
	strcpy(c.path, ".");
	c.plen = 1;
	c.a = archive_write_new();
	c.e = archive_entry_new();
	if (!c.a || !c.e) {
		pr_err("Can't allocate an archive\n");
		ret = -ENOMEM;
		goto out;
	}

	ret = setup_writer(&c, out_fd);
	if (ret)
		goto out;
	entry_fill(&c, &st, AE_IFDIR);
	ret = add_xattrs(&c, dfd);
	if (!ret)
		ret = write_header(&c);
	if (!ret)
		ret = archive_tree(&c, dfd);
	if (!ret && archive_write_close(c.a) != ARCHIVE_OK) {
		pr_err("Can't finish the archive: %s\n", archive_msg(c.a));
		ret = archive_err(c.a);
	}
out:
	if (c.a) {
		/*
		 * Even after an error: archive_write_free() skips the close, and
		 * so leaks zlib's state, once a write failed. The image is then
		 * garbage, which our error return says.
		 */
		if (ret)
			archive_write_close(c.a);
		archive_write_free(c.a);
	}
	if (c.e)
		archive_entry_free(c.e);
	hmap_for_each(&c.inodes, it)
		free(it.val);
	hmap_free(&c.inodes);
	free(c.buf);
	free(c.zeros);
	free(c.path);
	return ret;
}


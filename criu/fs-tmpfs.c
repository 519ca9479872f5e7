/*
 * tmpfs contents as a gzip'd pax tar, written and read with libarchive.
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

#include "fs-tmpfs.h"
#include "hashmap.h"
#include "log.h"
#include "util.h"

#define IO_CHUNK   (256 << 10)
#define GZIP_LEVEL "1" /* dumps must be fast; tmpfs data compresses well anyway */

/* Which xattrs travel with the files; security.* (capabilities, LSM labels)
 * is neither dumped nor, from an untrusted image, restored. */
static bool xattr_wanted(const char *name)
{
	return !strncmp(name, "user.", 5) || !strncmp(name, "trusted.", 8) ||
	       !strcmp(name, "system.posix_acl_access") || !strcmp(name, "system.posix_acl_default");
}

static int archive_err(struct archive *a)
{
	int err = archive_errno(a);

	return err > 0 ? -err : -EIO;
}

static const char *archive_msg(struct archive *a)
{
	const char *s = archive_error_string(a);

	return s ? s : "unknown error";
}

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
	archive_entry_set_uid(e, st->stx_uid);
	archive_entry_set_gid(e, st->stx_gid);
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
	for (size_t i = 0; i < c.inodes.cap; i++)
		if (c.inodes.slots[i].hash)
			free(c.inodes.slots[i].val);
	hmap_free(&c.inodes);
	free(c.buf);
	free(c.zeros);
	free(c.path);
	return ret;
}

/* ------------------------------------------------------------------------
 * Extraction
 */

struct dir_times {
	char *path;
	struct timespec ts[2];
};

struct ext {
	struct archive *a;
	int root;		/* the target directory, opened for reading */
	char *cached;		/* the directory get_dir() resolved last */
	int cached_fd;		/* ... and its O_PATH descriptor */
	struct dir_times *dirs; /* times to set once everything is in place */
	size_t nr_dirs, cap_dirs;
	bool root_times;
	struct timespec root_ts[2];
	unsigned long nr_entries;
};

static bool no_openat2;

/*
 * Opens the directory `path` ("a/b", normalized: no "", "." or ".."
 * components; "" is `root` itself) below `root` without following any
 * symlink. Returns the descriptor or -errno (-ELOOP for a symlink, -EXDEV
 * for an escape).
 */
static int open_beneath(int root, const char *path, int flags)
{
	struct open_how how = {
		.flags = flags | O_DIRECTORY | O_CLOEXEC,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	int fd, cur, err;

	if (!no_openat2) {
		fd = syscall(SYS_openat2, root, *path ? path : ".", &how, sizeof(how));
		if (fd >= 0)
			return fd;
		if (errno == ENOSYS)
			no_openat2 = true;
		else if (errno != ENAMETOOLONG) /* longer than PATH_MAX: walk it */
			return -errno;
	}

	/* The same, one component at a time. */
	cur = openat(root, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (cur < 0)
		return -errno;
	for (const char *s = path; *s;) {
		const char *end = strchrnul(s, '/');
		size_t len = end - s;
		char comp[NAME_MAX + 1];
		struct stat st;

		if (len > NAME_MAX) {
			close(cur);
			return -ENAMETOOLONG;
		}
		memcpy(comp, s, len);
		comp[len] = '\0';
		fd = openat(cur, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		err = errno;
		if (fd < 0 && err == ENOTDIR && !fstatat(cur, comp, &st, AT_SYMLINK_NOFOLLOW) && S_ISLNK(st.st_mode))
			err = ELOOP;
		close(cur);
		if (fd < 0)
			return -err;
		cur = fd;
		s = *end ? end + 1 : end;
	}
	fd = openat(cur, ".", flags | O_DIRECTORY | O_CLOEXEC);
	err = errno;
	close(cur);
	return fd < 0 ? -err : fd;
}

/* The directory `dir` as an O_PATH descriptor owned by the cache. Directories
 * are never removed or replaced during an extraction, so it stays valid. */
static int get_dir(struct ext *x, const char *dir)
{
	int fd;

	if (x->cached && !strcmp(x->cached, dir))
		return x->cached_fd;
	fd = open_beneath(x->root, dir, O_PATH);
	if (fd < 0)
		return fd;
	if (x->cached_fd >= 0)
		close(x->cached_fd);
	free(x->cached);
	x->cached = xstrdup(dir);
	x->cached_fd = fd;
	return fd;
}

/*
 * Normalizes an archive name into a fresh string: "./a//b/" -> "a/b", "./"
 * -> "" (the root). Absolute names and ".." components are refused.
 */
static int normalize(const char *name, char **out)
{
	char *o, *p;

	if (!name || name[0] == '/')
		return -EINVAL;
	o = p = xmalloc(strlen(name) + 1);
	for (const char *s = name; *s;) {
		const char *end = strchrnul(s, '/');
		size_t len = end - s;

		if (len == 2 && s[0] == '.' && s[1] == '.') {
			free(o);
			return -EINVAL;
		}
		if (len && !(len == 1 && s[0] == '.')) {
			if (p != o)
				*p++ = '/';
			memcpy(p, s, len);
			p += len;
		}
		s = *end ? end + 1 : end;
	}
	*p = '\0';
	*out = o;
	return 0;
}

/* Splits a normalized non-root name in place into its directory and last component. */
static const char *split_name(char *path, const char **dir)
{
	char *slash = strrchr(path, '/');

	if (!slash) {
		*dir = "";
		return path;
	}
	*slash = '\0';
	*dir = path;
	return slash + 1;
}

static int entry_owner(struct archive_entry *e, const char *path, uid_t *uid, gid_t *gid)
{
	int64_t u = archive_entry_uid(e), g = archive_entry_gid(e);

	if (u < 0 || u >= UINT32_MAX || g < 0 || g >= UINT32_MAX) {
		pr_err("%s has an invalid owner %lld:%lld\n", path, (long long)u, (long long)g);
		return -EINVAL;
	}
	*uid = u;
	*gid = g;
	return 0;
}

static long clamp_nsec(long nsec)
{
	return nsec >= 0 && nsec < 1000000000 ? nsec : 0;
}

/* The entry's atime and mtime for utimensat(); false if it has neither. */
static bool entry_times(struct archive_entry *e, struct timespec ts[2])
{
	ts[0].tv_sec = ts[1].tv_sec = 0;
	ts[0].tv_nsec = ts[1].tv_nsec = UTIME_OMIT;
	if (archive_entry_atime_is_set(e)) {
		ts[0].tv_sec = archive_entry_atime(e);
		ts[0].tv_nsec = clamp_nsec(archive_entry_atime_nsec(e));
	}
	if (archive_entry_mtime_is_set(e)) {
		ts[1].tv_sec = archive_entry_mtime(e);
		ts[1].tv_nsec = clamp_nsec(archive_entry_mtime_nsec(e));
	}
	return ts[0].tv_nsec != UTIME_OMIT || ts[1].tv_nsec != UTIME_OMIT;
}

/* Xattrs are an extra: failing to set one (say, no user.* support) only warns. */
static void set_xattrs(struct archive_entry *e, int fd, const char *path)
{
	const char *name;
	const void *val;
	size_t size;

	if (!archive_entry_xattr_reset(e))
		return;
	while (archive_entry_xattr_next(e, &name, &val, &size) == ARCHIVE_OK) {
		if (!xattr_wanted(name)) {
			pr_warn("%s: skipping the xattr %s\n", path, name);
			continue;
		}
		if (fsetxattr(fd, name, val, size, 0))
			pr_warn("%s: can't set the xattr %s: %s\n", path, name, strerror(errno));
	}
}

/* Xattrs, owner, then mode (chown clears setuid), on an open file or directory. */
static int set_meta_fd(struct archive_entry *e, int fd, const char *path)
{
	uid_t uid;
	gid_t gid;
	int ret = entry_owner(e, path, &uid, &gid);

	if (ret)
		return ret;
	set_xattrs(e, fd, path);
	if (fchown(fd, uid, gid)) {
		pr_perror("Can't chown %s", path);
		return -errno;
	}
	if (fchmod(fd, archive_entry_perm(e) & 07777)) {
		pr_perror("Can't chmod %s", path);
		return -errno;
	}
	return 0;
}

/* Owner and times of a symlink or device node, which we can't open. */
static int set_meta_at(struct archive_entry *e, int dfd, const char *name, const char *path, bool chmod)
{
	struct timespec ts[2];
	uid_t uid;
	gid_t gid;
	int ret = entry_owner(e, path, &uid, &gid);

	if (ret)
		return ret;
	if (fchownat(dfd, name, uid, gid, AT_SYMLINK_NOFOLLOW)) {
		pr_perror("Can't chown %s", path);
		return -errno;
	}
	if (chmod) {
		mode_t mode = archive_entry_perm(e) & 07777;

		/* Only we write below root, and we just made `name` a node, not a symlink. */
		if (fchmodat(dfd, name, mode, AT_SYMLINK_NOFOLLOW) &&
		    ((errno != ENOTSUP && errno != ENOSYS) || fchmodat(dfd, name, mode, 0))) {
			pr_perror("Can't chmod %s", path);
			return -errno;
		}
	}
	if (entry_times(e, ts) && utimensat(dfd, name, ts, AT_SYMLINK_NOFOLLOW)) {
		pr_perror("Can't set the times of %s", path);
		return -errno;
	}
	return 0;
}

/* Makes room for a non-directory: unlinks what has the name, unless it is a directory. */
static int clear_name(int dfd, const char *name, const char *path)
{
	if (!unlinkat(dfd, name, 0) || errno == ENOENT)
		return 0;
	if (errno == EISDIR) {
		pr_err("Can't extract %s: a directory is in the way\n", path);
		return -EISDIR;
	}
	pr_perror("Can't replace %s", path);
	return -errno;
}

static int pwrite_all(int fd, const char *buf, size_t len, int64_t off)
{
	while (len) {
		ssize_t w = pwrite(fd, buf, len, off);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		buf += w;
		len -= w;
		off += w;
	}
	return 0;
}

static int extract_reg(struct ext *x, struct archive_entry *e, int dfd, const char *name, const char *path)
{
	_cleanup_close_ int fd = -1;
	struct timespec ts[2];
	int ret;

	for (int tries = 0; fd < 0; tries++) {
		fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC, 0600);
		if (fd >= 0)
			break;
		if (errno != EEXIST || tries) {
			pr_perror("Can't create %s", path);
			return -errno;
		}
		ret = clear_name(dfd, name, path);
		if (ret)
			return ret;
	}

	for (;;) {
		const void *buf;
		size_t len;
		la_int64_t off;
		int r = archive_read_data_block(x->a, &buf, &len, &off);

		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN) {
			pr_err("Can't read the data of %s: %s\n", path, archive_msg(x->a));
			return archive_err(x->a);
		}
		if (r == ARCHIVE_WARN)
			pr_warn("%s: %s\n", path, archive_msg(x->a));
		if (off < 0)
			return -EINVAL;
		ret = pwrite_all(fd, buf, len, off);
		if (ret) {
			pr_err("Can't write %s: %s\n", path, strerror(-ret));
			return ret;
		}
	}
	/* Sets the size when the file ends with a hole. */
	if (archive_entry_size_is_set(e) && ftruncate(fd, archive_entry_size(e))) {
		pr_perror("Can't set the size of %s", path);
		return -errno;
	}

	ret = set_meta_fd(e, fd, path);
	if (ret)
		return ret;
	if (entry_times(e, ts) && futimens(fd, ts)) {
		pr_perror("Can't set the times of %s", path);
		return -errno;
	}
	return 0;
}

static void defer_dir_times(struct ext *x, struct archive_entry *e, const char *path)
{
	struct timespec ts[2];

	if (!entry_times(e, ts))
		return;
	if (x->nr_dirs == x->cap_dirs) {
		x->cap_dirs = x->cap_dirs ? x->cap_dirs * 2 : 64;
		x->dirs = xrealloc(x->dirs, x->cap_dirs * sizeof(*x->dirs));
	}
	x->dirs[x->nr_dirs].path = xstrdup(path);
	memcpy(x->dirs[x->nr_dirs].ts, ts, sizeof(ts));
	x->nr_dirs++;
}

static int extract_dir(struct ext *x, struct archive_entry *e, int dfd, const char *name, const char *path)
{
	_cleanup_close_ int fd = -1;
	struct stat st;
	int ret;

	if (mkdirat(dfd, name, 0700)) {
		if (errno != EEXIST) {
			pr_perror("Can't create the directory %s", path);
			return -errno;
		}
		if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW)) {
			pr_perror("Can't stat %s", path);
			return -errno;
		}
		if (!S_ISDIR(st.st_mode)) {
			ret = clear_name(dfd, name, path);
			if (ret)
				return ret;
			if (mkdirat(dfd, name, 0700)) {
				pr_perror("Can't create the directory %s", path);
				return -errno;
			}
		}
	}
	fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		pr_perror("Can't open the directory %s", path);
		return -errno;
	}
	ret = set_meta_fd(e, fd, path);
	if (ret)
		return ret;
	defer_dir_times(x, e, path);
	return 0;
}

static int extract_symlink(struct archive_entry *e, int dfd, const char *name, const char *path)
{
	const char *target = archive_entry_symlink(e);
	int ret;

	if (!target || !*target) {
		pr_err("The symlink %s has no target\n", path);
		return -EINVAL;
	}
	if (symlinkat(target, dfd, name)) {
		if (errno != EEXIST) {
			pr_perror("Can't create the symlink %s", path);
			return -errno;
		}
		ret = clear_name(dfd, name, path);
		if (ret)
			return ret;
		if (symlinkat(target, dfd, name)) {
			pr_perror("Can't create the symlink %s", path);
			return -errno;
		}
	}
	return set_meta_at(e, dfd, name, path, false);
}

static int extract_node(struct archive_entry *e, int dfd, const char *name, const char *path, mode_t type)
{
	dev_t dev = type == S_IFIFO ? 0 : makedev(archive_entry_rdevmajor(e), archive_entry_rdevminor(e));
	int ret;

	if (mknodat(dfd, name, type | 0600, dev)) {
		if (errno != EEXIST) {
			pr_perror("Can't create the node %s", path);
			return -errno;
		}
		ret = clear_name(dfd, name, path);
		if (ret)
			return ret;
		if (mknodat(dfd, name, type | 0600, dev)) {
			pr_perror("Can't create the node %s", path);
			return -errno;
		}
	}
	return set_meta_at(e, dfd, name, path, true);
}

static int extract_hardlink(struct ext *x, const char *link, int dfd, const char *name, const char *path)
{
	_cleanup_free_ char *target = NULL;
	_cleanup_close_ int tfd = -1;
	const char *tdir, *tname;
	int ret;

	if (normalize(link, &target) || !*target) {
		pr_err("Refusing the hard link %s to %s: outside the archive\n", path, link);
		return -EINVAL;
	}
	tname = split_name(target, &tdir);
	tfd = open_beneath(x->root, tdir, O_PATH);
	if (tfd < 0) {
		pr_err("Refusing the hard link %s to %s: %s\n", path, link, strerror(-tfd));
		return tfd;
	}
	/* flags 0: a symlink target is linked itself, never followed */
	for (int tries = 0; linkat(tfd, tname, dfd, name, 0); tries++) {
		if (errno != EEXIST || tries) {
			pr_perror("Can't link %s to %s", path, link);
			return -errno;
		}
		ret = clear_name(dfd, name, path);
		if (ret)
			return ret;
	}
	return 0;
}

/* The "." entry describes the target directory itself. */
static int extract_root(struct ext *x, struct archive_entry *e, const char *raw)
{
	int ret;

	if (archive_entry_hardlink(e) || archive_entry_filetype(e) != AE_IFDIR) {
		pr_err("Refusing the entry %s: the root must be a directory\n", raw);
		return -EINVAL;
	}
	ret = set_meta_fd(e, x->root, raw);
	if (ret)
		return ret;
	x->root_times = entry_times(e, x->root_ts);
	return 0;
}

static int extract_entry(struct ext *x, struct archive_entry *e)
{
	const char *raw = archive_entry_pathname(e), *hardlink = archive_entry_hardlink(e);
	mode_t type = archive_entry_filetype(e);
	_cleanup_free_ char *path = NULL, *split = NULL;
	const char *dir, *name;
	int dfd;

	if (!raw || normalize(raw, &path)) {
		pr_err("Refusing the entry %s: absolute or with a \"..\"\n", raw ? raw : "(no name)");
		return -EINVAL;
	}
	x->nr_entries++;
	if (!*path)
		return extract_root(x, e, raw);

	split = xstrdup(path);
	name = split_name(split, &dir);
	dfd = get_dir(x, dir);
	if (dfd < 0) {
		pr_err("Refusing the entry %s: can't open its directory: %s\n", raw, strerror(-dfd));
		return dfd;
	}

	if (hardlink)
		return extract_hardlink(x, hardlink, dfd, name, path);
	switch (type) {
	case AE_IFREG:
		return extract_reg(x, e, dfd, name, path);
	case AE_IFDIR:
		return extract_dir(x, e, dfd, name, path);
	case AE_IFLNK:
		return extract_symlink(e, dfd, name, path);
	case AE_IFIFO:
	case AE_IFCHR:
	case AE_IFBLK:
		return extract_node(e, dfd, name, path, type);
	}
	pr_warn("Skipping %s of unsupported type %o\n", path, type);
	return 0;
}

/* A directory's times go last: creating its entries changed its mtime. */
static int set_dir_times(struct ext *x)
{
	for (size_t i = 0; i < x->nr_dirs; i++) {
		struct dir_times *d = &x->dirs[i];
		int fd = open_beneath(x->root, d->path, O_RDONLY);

		if (fd < 0) {
			pr_err("Can't open %s to set its times: %s\n", d->path, strerror(-fd));
			return fd;
		}
		if (futimens(fd, d->ts)) {
			pr_perror("Can't set the times of %s", d->path);
			close(fd);
			return -errno;
		}
		close(fd);
	}
	if (x->root_times && futimens(x->root, x->root_ts)) {
		pr_perror("Can't set the times of .");
		return -errno;
	}
	return 0;
}

/*
 * The image is read in two stages: libarchive's gzip filter with its "raw"
 * format gives us the decompressed stream, which we check and hand on to a
 * second, tar-only libarchive reader. The check is the gzip CRC32 and length
 * in the trailer, which libarchive itself never verifies: without it a flipped
 * bit in the image could silently change a restored file.
 */
struct stream {
	int fd;
	struct archive *raw;
	char *in, *out;		/* IO_CHUNK each */
	unsigned char tail[8];	/* the last bytes read from fd: a gzip trailer */
	uint64_t nr_in, nr_out; /* bytes read from fd, decompressed bytes */
	uLong crc; /* zlib's crc32, the checksum gzip uses */
};

static void crc32_init(struct stream *s)
{
	s->crc = crc32(0L, Z_NULL, 0);
}

static void crc32_update(struct stream *s, const unsigned char *p, size_t n)
{
	s->crc = crc32_z(s->crc, p, n);
}

static la_ssize_t stream_read_fd(struct archive *a, void *data, const void **buf)
{
	struct stream *s = data;
	ssize_t n;

	do
		n = read(s->fd, s->in, IO_CHUNK);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		archive_set_error(a, errno, "Can't read the image: %s", strerror(errno));
		return -1;
	}
	if (n >= 8) {
		memcpy(s->tail, s->in + n - 8, 8);
	} else if (n > 0) {
		memmove(s->tail, s->tail + n, 8 - n);
		memcpy(s->tail + 8 - n, s->in, n);
	}
	s->nr_in += n;
	*buf = s->in;
	return n;
}

static la_ssize_t stream_read_tar(struct archive *a, void *data, const void **buf)
{
	struct stream *s = data;
	la_ssize_t n = archive_read_data(s->raw, s->out, IO_CHUNK);

	if (n < 0) {
		const char *msg = archive_error_string(s->raw);

		archive_set_error(a, archive_errno(s->raw) > 0 ? archive_errno(s->raw) : EIO, "%s",
				  msg ? msg : "truncated or corrupted gzip stream");
		return -1;
	}
	crc32_update(s, (unsigned char *)s->out, n);
	s->nr_out += n;
	*buf = s->out;
	return n;
}

static int stream_open(struct stream *s, int fd)
{
	struct archive_entry *e;
	int r;

	s->fd = fd;
	s->in = xmalloc(IO_CHUNK);
	s->out = xmalloc(IO_CHUNK);
	crc32_init(s);
	s->raw = archive_read_new();
	if (!s->raw)
		return -ENOMEM;
	/* Only gzip, with the built-in zlib: other filters may run external programs. */
	if (archive_read_support_filter_gzip(s->raw) != ARCHIVE_OK ||
	    archive_read_support_format_raw(s->raw) != ARCHIVE_OK ||
	    archive_read_open(s->raw, s, NULL, stream_read_fd, NULL) != ARCHIVE_OK)
		goto err;
	r = archive_read_next_header(s->raw, &e);
	if (r == ARCHIVE_EOF) {
		pr_err("The image is empty\n");
		return -EINVAL;
	}
	if (r != ARCHIVE_OK)
		goto err;
	return 0;
err:
	if (!s->nr_in) {
		pr_err("The image is empty\n");
		return -EINVAL;
	}
	pr_err("Can't open the image: %s\n", archive_msg(s->raw));
	return archive_err(s->raw);
}

/* Reads what the tar reader left (after its end marker) and checks the trailer. */
static int stream_verify(struct stream *s)
{
	uint32_t crc, isize;
	la_ssize_t n;

	while ((n = archive_read_data(s->raw, s->out, IO_CHUNK)) > 0) {
		crc32_update(s, (unsigned char *)s->out, n);
		s->nr_out += n;
	}
	if (n < 0) {
		pr_err("Can't read the image: %s\n", archive_msg(s->raw));
		return archive_err(s->raw);
	}
	if (archive_filter_code(s->raw, 0) != ARCHIVE_FILTER_GZIP)
		return 0;
	crc = s->tail[0] | s->tail[1] << 8 | s->tail[2] << 16 | (uint32_t)s->tail[3] << 24;
	isize = s->tail[4] | s->tail[5] << 8 | s->tail[6] << 16 | (uint32_t)s->tail[7] << 24;
	if (s->nr_in < 18 || crc != (uint32_t)s->crc || isize != (uint32_t)s->nr_out) {
		pr_err("The image is corrupted: gzip CRC or length mismatch (or a multi-member gzip stream)\n");
		return -EBADMSG;
	}
	return 0;
}

static void stream_close(struct stream *s)
{
	if (s->raw)
		archive_read_free(s->raw);
	free(s->in);
	free(s->out);
}

int tmpfs_extract_dir(int in_fd, int root_fd)
{
	struct ext x = {.root = -1, .cached_fd = -1};
	struct stream *s = xzalloc(sizeof(*s));
	struct archive_entry *e;
	int ret = 0, r;

	x.root = openat(root_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (x.root < 0) {
		pr_perror("Can't open the directory to extract into");
		free(s);
		return -errno;
	}
	ret = stream_open(s, in_fd);
	if (ret)
		goto out;
	x.a = archive_read_new();
	if (!x.a) {
		pr_err("Can't allocate an archive\n");
		ret = -ENOMEM;
		goto out;
	}
	/* Only tar (ustar, pax, GNU): every other format is attack surface. */
	if (archive_read_support_format_tar(x.a) != ARCHIVE_OK ||
	    archive_read_open(x.a, s, NULL, stream_read_tar, NULL) != ARCHIVE_OK) {
		pr_err("Can't open the archive: %s\n", archive_msg(x.a));
		ret = archive_err(x.a);
		goto out;
	}

	while ((r = archive_read_next_header(x.a, &e)) != ARCHIVE_EOF) {
		if (r == ARCHIVE_WARN) {
			pr_warn("%s\n", archive_msg(x.a));
		} else if (r != ARCHIVE_OK) {
			pr_err("Can't read the archive after %lu entries: %s\n", x.nr_entries, archive_msg(x.a));
			ret = archive_err(x.a);
			break;
		}
		ret = extract_entry(&x, e);
		if (ret)
			break;
	}
	if (!ret)
		ret = stream_verify(s);
	if (!ret)
		ret = set_dir_times(&x);
	if (!ret)
		pr_info("Extracted %lu entries\n", x.nr_entries);
out:
	if (x.a)
		archive_read_free(x.a);
	stream_close(s);
	free(s);
	for (size_t i = 0; i < x.nr_dirs; i++)
		free(x.dirs[i].path);
	free(x.dirs);
	free(x.cached);
	if (x.cached_fd >= 0)
		close(x.cached_fd);
	close(x.root);
	return ret;
}

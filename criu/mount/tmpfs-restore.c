/*
 * tmpfs contents as a gzip'd pax tar, read with libarchive (restore side;
 * mount/tmpfs-dump.c writes it).
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
#include "util/hashmap.h"
#include "util/kerndat.h"
#include "util/log.h"
#include "util/util.h"
#include "mount/tmpfs-internal.h"

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

	if (kdat_has(KF_OPENAT2)) {
		fd = syscall(SYS_openat2, root, *path ? path : ".", &how, sizeof(how));
		if (fd >= 0)
			return fd;
		if (errno == ENOSYS) /* a seccomp profile that doesn't know it */
			kdat_set(KF_OPENAT2, false);
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

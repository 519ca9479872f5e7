/*
 * tmpfs archiving: a populated tmpfs goes through tmpfs_archive_dir() and
 * tmpfs_extract_dir() into a second tmpfs, and every attribute must survive;
 * crafted archives must never create anything outside the target.
 *
 * Runs as root in a private mount namespace (entered before any case), with
 * all mounts below one tmpfs on a fresh directory in /tmp, so nothing is
 * visible on the host and the directory is removed at the end.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>

#include <archive.h>
#include <archive_entry.h>

#include "unit.h"
#include "mount/tmpfs.h"
#include "util/log.h"
#include "util/util.h"

static char base[64]; /* a tmpfs in our mount namespace; everything goes below */
static const char *setup_error;

#define BIG_SIZE    (5 << 20)
#define SPARSE_SIZE (64 << 20)
#define DEEP_LEVELS 200
#define DEEP_NAME   "d-123456789-123456789-1234567" /* 30 bytes with the '/' */
#define ODD_NAME    "name with spaces\nand newline"
#define BIN_NAME    "\xff\xfe-not-utf8"
#define UTF8_NAME   "\303\274n\303\257c\303\266d\303\251" /* UTF-8, in octal */

/* Failure with the path that differed (newlines shown as \n). */
#define CHECKP(cond, path)                                                                                             \
	do {                                                                                                           \
		if (!(cond)) {                                                                                         \
			char _p[256];                                                                                  \
			printable(_p, sizeof(_p), path);                                                               \
			snprintf(unit_fail_msg, sizeof(unit_fail_msg), "%s:%d: CHECK(%s) for %s", __FILE__, __LINE__,  \
				 #cond, _p);                                                                           \
			return 1;                                                                                      \
		}                                                                                                      \
	} while (0)

static void printable(char *out, size_t size, const char *in)
{
	size_t n = 0;

	for (; *in && n + 5 < size; in++) {
		if (*in == '\n') {
			out[n++] = '\\';
			out[n++] = 'n';
		} else {
			out[n++] = *in;
		}
	}
	out[n] = '\0';
}

static int skip_if_no_setup(void)
{
	if (!setup_error)
		return 0;
	unit_skip_reason = setup_error;
	return UNIT_SKIP;
}

static char *at_base(const char *name)
{
	static char bufs[8][4096];
	static int next;
	char *b = bufs[next++ % 8];

	snprintf(b, sizeof(bufs[0]), "%s/%s", base, name);
	return b;
}

static int make_tmpfs(const char *name, const char *opts)
{
	char *p = at_base(name);

	if (mkdir(p, 0755) && errno != EEXIST)
		return -1;
	return mount("tmpfs", p, "tmpfs", 0, opts);
}

static void unmount_rm(const char *name)
{
	char *p = at_base(name);

	umount2(p, MNT_DETACH);
	rmdir(p);
}

static int write_at(int dfd, const char *name, const void *data, size_t len, mode_t mode)
{
	int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	ssize_t w;

	if (fd < 0)
		return -1;
	w = len ? write(fd, data, len) : 0;
	close(fd);
	return w == (ssize_t)len ? fchmodat(dfd, name, mode, 0) : -1;
}

static unsigned char pattern(uint64_t i)
{
	return (unsigned char)(i * 7 + (i >> 12) * 13 + 1);
}

static int write_pattern(int dfd, const char *name, size_t size)
{
	unsigned char buf[65536];
	int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);

	if (fd < 0)
		return -1;
	for (size_t off = 0; off < size; off += sizeof(buf)) {
		for (size_t i = 0; i < sizeof(buf); i++)
			buf[i] = pattern(off + i);
		if (write(fd, buf, sizeof(buf)) != sizeof(buf)) {
			close(fd);
			return -1;
		}
	}
	close(fd);
	return 0;
}

static int own(int dfd, const char *name, uid_t uid, gid_t gid, mode_t mode)
{
	if (fchownat(dfd, name, uid, gid, AT_SYMLINK_NOFOLLOW))
		return -1;
	return fchmodat(dfd, name, mode, 0);
}

static bool have_user_xattrs;

/* Fills `dfd` with one of everything; see the header comment of this file. */
static int populate(int dfd)
{
	int fd, sk, cur;
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	static const char bin_xattr[] = {0, '\n', (char)0xff, '=', 0};

	if (own(dfd, ".", 1234, 4321, 0751))
		return -1;
	if (write_at(dfd, "f0600", "secret\n", 7, 0600) || write_at(dfd, "f0755", "#!/bin/sh\n", 10, 0755))
		return -2;
	if (own(dfd, "f0755", 1000, 1000, 0755))
		return -3;
	if (write_at(dfd, "setuid", "suid", 4, 0755) || own(dfd, "setuid", 1000, 1000, 04755))
		return -4;
	if (write_at(dfd, "setgid", "sgid", 4, 0755) || own(dfd, "setgid", 0, 1000, 02755))
		return -5;
	if (write_at(dfd, "empty", "", 0, 0644))
		return -6;
	if (write_pattern(dfd, "big", BIG_SIZE) || own(dfd, "big", 65534, 65534, 0640))
		return -7;
	/* Beyond what ustar's octal fields hold: needs pax. */
	if (write_at(dfd, "bigid", "x", 1, 0644) || own(dfd, "bigid", 3000000, 4000000, 0644))
		return -8;
	if (mkdirat(dfd, "sticky", 0) || own(dfd, "sticky", 0, 0, 01777) ||
	    write_at(dfd, "sticky/inner", "in", 2, 0666) || own(dfd, "sticky/inner", 65534, 65534, 0666))
		return -9;
	if (mkdirat(dfd, "a", 0755) || mkdirat(dfd, "a/b", 0700) || mkdirat(dfd, "a/b/c", 0555) ||
	    write_at(dfd, "a/b/c/deep.txt", "deep", 4, 0444))
		return -10;
	if (mkdirat(dfd, "ro", 0755) || write_at(dfd, "ro/x", "x", 1, 0600) || own(dfd, "ro", 1000, 1000, 0500))
		return -11;
	if (mkdirat(dfd, "setgid-dir", 0755) || own(dfd, "setgid-dir", 0, 1000, 02775) ||
	    mkdirat(dfd, "emptydir", 0710))
		return -12;
	if (symlinkat("f0755", dfd, "sym-rel") || symlinkat("/etc/passwd", dfd, "sym-abs") ||
	    symlinkat("a", dfd, "sym-dir") || symlinkat("nowhere/at/all", dfd, "sym-dangling") ||
	    fchownat(dfd, "sym-abs", 1000, 1000, AT_SYMLINK_NOFOLLOW))
		return -13;
	if (write_at(dfd, "hl1", "linked", 6, 0640) || linkat(dfd, "hl1", dfd, "hl2", 0) ||
	    linkat(dfd, "hl1", dfd, "a/hl3", 0) || write_at(dfd, "hl-other1", "pair", 4, 0600) ||
	    linkat(dfd, "hl-other1", dfd, "hl-other2", 0))
		return -14;
	if (mkfifoat(dfd, "fifo", 0640) || mknodat(dfd, "null", S_IFCHR | 0666, makedev(1, 3)) ||
	    mknodat(dfd, "loop", S_IFBLK | 0660, makedev(7, 0)) || own(dfd, "null", 0, 5, 0666) ||
	    fchmodat(dfd, "fifo", 0640, 0) || linkat(dfd, "fifo", dfd, "fifo-link", 0))
		return -15;
	if (write_at(dfd, ODD_NAME, "odd", 3, 0644) || write_at(dfd, BIN_NAME, "bin", 3, 0644) ||
	    write_at(dfd, UTF8_NAME, "utf8", 4, 0644))
		return -16;

	/* Sparse: data at 1 MiB and in the last page; all hole; a trailing hole. */
	fd = openat(dfd, "sparse", O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || pwrite(fd, "middle", 6, 1 << 20) != 6 || pwrite(fd, "end", 3, SPARSE_SIZE - 3) != 3)
		return -17;
	close(fd);
	fd = openat(dfd, "allhole", O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || ftruncate(fd, 8 << 20))
		return -18;
	close(fd);
	fd = openat(dfd, "tailhole", O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || pwrite(fd, "start", 5, 0) != 5 || ftruncate(fd, 8 << 20))
		return -19;
	close(fd);

	if (write_at(dfd, "xattr-file", "x", 1, 0644) || mkdirat(dfd, "xattr-dir", 0755))
		return -20;
	fd = openat(dfd, "xattr-file", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fsetxattr(fd, "trusted.bin", bin_xattr, sizeof(bin_xattr), 0))
		return -21;
	have_user_xattrs = !fsetxattr(fd, "user.test", "hello", 5, 0);
	close(fd);
	if (have_user_xattrs && setxattr(at_base("src/xattr-dir"), "user.dir", "d", 1, 0))
		return -22;

	/* A socket, which can't be archived. */
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", at_base("src/sock"));
	sk = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (sk < 0 || bind(sk, (struct sockaddr *)&sun, sizeof(sun)))
		return -23;
	close(sk);

	/* A path longer than PATH_MAX. */
	cur = dup(dfd);
	if (mkdirat(cur, "deep", 0755))
		return -24;
	for (int i = 0; i <= DEEP_LEVELS; i++) {
		const char *name = i ? DEEP_NAME : "deep";
		int next;

		if (i && mkdirat(cur, name, 0755))
			return -25;
		next = openat(cur, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		close(cur);
		if (next < 0)
			return -26;
		cur = next;
	}
	if (write_at(cur, "bottom", "bottom", 6, 0600))
		return -27;
	close(cur);

	/* Another tmpfs, and a bind mount of this one, below: neither is archived. */
	if (mkdirat(dfd, "mnt", 0700) || mount("tmpfs", at_base("src/mnt"), "tmpfs", 0, "mode=0750,uid=7,gid=8") ||
	    write_at(dfd, "mnt/secret", "hidden", 6, 0600))
		return -28;
	if (mkdirat(dfd, "bind", 0700) || mount(at_base("src/a"), at_base("src/bind"), NULL, MS_BIND, NULL))
		return -29;
	/* A file mount point. */
	if (write_at(dfd, "fmnt", "under", 5, 0600) ||
	    mount(at_base("src/f0755"), at_base("src/fmnt"), NULL, MS_BIND, NULL))
		return -30;
	return 0;
}

static bool is_mount_name(const char *rel)
{
	return !strcmp(rel, "mnt") || !strcmp(rel, "bind") || !strcmp(rel, "fmnt");
}

static long long time_seq;

/* Distinct recent times with nanoseconds, atime after mtime (so relatime
 * leaves them be); a directory's after its contents'. */
static int set_times(int dfd, const char *name, const char *rel)
{
	struct timespec ts[2];
	struct stat st;
	time_t now = time(NULL);

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW))
		return -1;
	if (S_ISDIR(st.st_mode) && !is_mount_name(rel)) {
		int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
		struct dirent *de;

		if (!d)
			return -1;
		while ((de = readdir(d))) {
			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			if (set_times(fd, de->d_name, de->d_name)) {
				closedir(d);
				return -1;
			}
		}
		closedir(d);
	}
	time_seq++;
	ts[0].tv_sec = now - 3600 + time_seq;
	ts[0].tv_nsec = (time_seq * 1000 + 123) % 1000000000;
	ts[1].tv_sec = now - 7200 - time_seq;
	ts[1].tv_nsec = (time_seq * 7919 + 1) % 1000000000;
	return utimensat(dfd, name, ts, AT_SYMLINK_NOFOLLOW);
}

static int same_content(int sfd, int dfd, const char *name)
{
	static char a[1 << 16], b[1 << 16];
	int fa = openat(sfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOATIME);
	int fb = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOATIME);
	int ret = 0;

	if (fa < 0 || fb < 0)
		ret = -1;
	while (!ret) {
		ssize_t ra = read(fa, a, sizeof(a)), rb = read(fb, b, sizeof(b));

		if (ra != rb || ra < 0 || memcmp(a, b, ra))
			ret = -1;
		if (ra <= 0)
			break;
	}
	if (fa >= 0)
		close(fa);
	if (fb >= 0)
		close(fb);
	return ret;
}

static int same_xattrs(int sfd, int dfd, const char *name)
{
	char list[4096], va[256], vb[256];
	int fa = openat(sfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	int fb = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	ssize_t len = fa >= 0 ? flistxattr(fa, list, sizeof(list)) : -1;
	int ret = len < 0 || fb < 0 ? -1 : 0;

	for (char *n = list; !ret && n < list + len; n += strlen(n) + 1) {
		ssize_t la = fgetxattr(fa, n, va, sizeof(va)), lb = fgetxattr(fb, n, vb, sizeof(vb));

		if (strncmp(n, "security.", 9) && (la != lb || la < 0 || memcmp(va, vb, la)))
			ret = -1;
	}
	if (fa >= 0)
		close(fa);
	if (fb >= 0)
		close(fb);
	return ret;
}

static int count_entries(int dfd)
{
	int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOATIME);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static int cmp_stat(const struct stat *s, const struct stat *d, const char *rel)
{
	CHECKP(s->st_mode == d->st_mode, rel);
	CHECKP(s->st_uid == d->st_uid, rel);
	CHECKP(s->st_gid == d->st_gid, rel);
	CHECKP(s->st_mtim.tv_sec == d->st_mtim.tv_sec && s->st_mtim.tv_nsec == d->st_mtim.tv_nsec, rel);
	/* readlink() updates a symlink's atime and has no O_NOATIME: the image has the old one. */
	if (!S_ISLNK(s->st_mode))
		CHECKP(s->st_atim.tv_sec == d->st_atim.tv_sec && s->st_atim.tv_nsec == d->st_atim.tv_nsec, rel);
	if (!S_ISDIR(s->st_mode)) {
		CHECKP(s->st_size == d->st_size, rel);
		CHECKP(s->st_nlink == d->st_nlink, rel);
	}
	if (S_ISCHR(s->st_mode) || S_ISBLK(s->st_mode))
		CHECKP(s->st_rdev == d->st_rdev, rel);
	return 0;
}

static int nr_compared;

/* Compares the contents of two directories whose own stats already matched. */
static int cmp_tree(int sfd, int dfd, bool top)
{
	int fd = openat(sfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOATIME);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;
	int nr = 0, ret = 0;

	CHECKP(d, "a directory");
	while (!ret && (de = readdir(d))) {
		const char *n = de->d_name;
		struct stat s, t;

		if (!strcmp(n, ".") || !strcmp(n, ".."))
			continue;
		ret = 1;
		CHECKP(!fstatat(sfd, n, &s, AT_SYMLINK_NOFOLLOW), n);
		if (S_ISSOCK(s.st_mode)) {
			CHECKP(fstatat(dfd, n, &t, AT_SYMLINK_NOFOLLOW) && errno == ENOENT, n);
			ret = 0;
			continue;
		}
		nr++;
		CHECKP(!fstatat(dfd, n, &t, AT_SYMLINK_NOFOLLOW), n);
		if (top && !strcmp(n, "fmnt")) {
			/* A file mount point: an empty file with the covering file's mode and owner. */
			CHECKP(S_ISREG(t.st_mode) && t.st_size == 0, n);
			CHECKP((s.st_mode & 07777) == (t.st_mode & 07777) && s.st_uid == t.st_uid, n);
			ret = 0;
			continue;
		}
		if (cmp_stat(&s, &t, n))
			break;
		if (S_ISREG(s.st_mode)) {
			CHECKP(!same_content(sfd, dfd, n), n);
			CHECKP(!same_xattrs(sfd, dfd, n), n);
		} else if (S_ISLNK(s.st_mode)) {
			char a[4096], b[4096];
			ssize_t la = readlinkat(sfd, n, a, sizeof(a)), lb = readlinkat(dfd, n, b, sizeof(b));

			CHECKP(la > 0 && la == lb && !memcmp(a, b, la), n);
		} else if (S_ISDIR(s.st_mode)) {
			int cs, cd;

			CHECKP(!same_xattrs(sfd, dfd, n), n);
			cd = openat(dfd, n, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
			CHECKP(cd >= 0, n);
			if (top && is_mount_name(n)) {
				/* A mount point: kept, empty. */
				int c = count_entries(cd);

				close(cd);
				CHECKP(c == 0, n);
				ret = 0;
				continue;
			}
			cs = openat(sfd, n, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
			if (cs < 0) {
				close(cd);
				CHECKP(cs >= 0, n);
			}
			ret = cmp_tree(cs, cd, false);
			close(cs);
			close(cd);
			if (ret)
				break;
		}
		nr_compared++;
		ret = 0;
	}
	closedir(d);
	if (ret)
		return ret;
	CHECKP(count_entries(dfd) == nr, "the number of entries");
	return 0;
}

static int archive_to(const char *dir, const char *img)
{
	int root = open(at_base(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int out = open(at_base(img), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	int ret = root < 0 || out < 0 ? -errno : tmpfs_archive_dir(root, out);

	if (root >= 0)
		close(root);
	if (out >= 0)
		close(out);
	return ret;
}

/* Extracts into `dir` through an O_PATH descriptor, which must be enough. */
static int extract_from(const char *img, const char *dir)
{
	int in = open(at_base(img), O_RDONLY | O_CLOEXEC);
	int root = open(at_base(dir), O_PATH | O_DIRECTORY | O_CLOEXEC);
	int ret = root < 0 || in < 0 ? -errno : tmpfs_extract_dir(in, root);

	if (root >= 0)
		close(root);
	if (in >= 0)
		close(in);
	return ret;
}

static bool src_ready;

static int setup_src(void)
{
	int dfd, ret;

	if (src_ready)
		return 0;
	if (make_tmpfs("src", "size=256m"))
		return -1;
	dfd = open(at_base("src"), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -1;
	ret = populate(dfd);
	if (!ret)
		ret = set_times(dfd, ".", ".");
	close(dfd);
	if (ret) {
		fprintf(stderr, "populate: step %d failed: %s\n", ret, strerror(errno));
		return -1;
	}
	src_ready = true;
	return 0;
}

/* Compares the extracted tree `dir` with "src". */
static int cmp_with_src(const char *dir)
{
	struct stat s, t;
	int sfd, dfd, ret;

	CHECK(!lstat(at_base("src"), &s) && !lstat(at_base(dir), &t));
	if (cmp_stat(&s, &t, "."))
		return 1;
	sfd = open(at_base("src"), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOATIME);
	dfd = open(at_base(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOATIME);
	CHECK(sfd >= 0 && dfd >= 0);
	nr_compared = 0;
	ret = cmp_tree(sfd, dfd, true);
	close(sfd);
	close(dfd);
	if (ret)
		return ret;
	CHECK(nr_compared > DEEP_LEVELS + 30);
	return 0;
}

static int test_roundtrip(void)
{
	struct stat s, t, before;

	if (skip_if_no_setup())
		return UNIT_SKIP;
	CHECK(!setup_src());
	CHECK(!stat(at_base("src/f0600"), &before));
	CHECK(archive_to("src", "img.tar.gz") == 0);
	CHECK(!make_tmpfs("dst", "size=256m"));
	CHECK(extract_from("img.tar.gz", "dst") == 0);

	/* Archiving left atimes alone (O_NOATIME). */
	CHECK(!stat(at_base("src/f0600"), &s));
	CHECK(s.st_atim.tv_sec == before.st_atim.tv_sec && s.st_atim.tv_nsec == before.st_atim.tv_nsec);

	if (cmp_with_src("dst"))
		return 1;

	/* Spot checks of what the generic comparison implies. */
	CHECK(lstat(at_base("dst/mnt/secret"), &t) && errno == ENOENT);
	CHECK(!lstat(at_base("dst/mnt"), &t) && (t.st_mode & 07777) == 0750 && t.st_uid == 7 && t.st_gid == 8);
	CHECK(lstat(at_base("dst/bind/b"), &t) && errno == ENOENT);
	CHECK(!lstat(at_base("dst/sym-abs"), &t) && S_ISLNK(t.st_mode) && t.st_uid == 1000);
	CHECK(!lstat(at_base("dst/setuid"), &t) && (t.st_mode & 07777) == 04755 && t.st_uid == 1000);
	CHECK(!lstat(at_base("dst/sticky"), &t) && (t.st_mode & 07777) == 01777);
	CHECK(!lstat(at_base("dst/hl2"), &t) && t.st_nlink == 3);
	CHECK(!lstat(at_base("dst/a/hl3"), &s) && s.st_ino == t.st_ino);
	CHECK(!lstat(at_base("dst/fifo-link"), &t) && S_ISFIFO(t.st_mode) && t.st_nlink == 2);
	CHECK(!lstat(at_base("dst/null"), &t) && S_ISCHR(t.st_mode) && t.st_rdev == makedev(1, 3));
	CHECK(!lstat(at_base("dst/bigid"), &t) && t.st_uid == 3000000 && t.st_gid == 4000000);
	CHECK(!lstat(at_base("dst/" ODD_NAME), &t) && !lstat(at_base("dst/" BIN_NAME), &t));
	CHECK(!lstat(at_base("dst/" UTF8_NAME), &t));
	/* Holes stay holes. */
	CHECK(!lstat(at_base("dst/sparse"), &t) && t.st_size == SPARSE_SIZE && t.st_blocks * 512 <= (64 << 10));
	CHECK(!lstat(at_base("dst/allhole"), &t) && t.st_size == 8 << 20 && t.st_blocks == 0);
	CHECK(!lstat(at_base("dst/tailhole"), &t) && t.st_size == 8 << 20 && t.st_blocks * 512 <= (64 << 10));
	if (have_user_xattrs) {
		char v[16];

		CHECK(getxattr(at_base("dst/xattr-file"), "user.test", v, sizeof(v)) == 5 && !memcmp(v, "hello", 5));
		CHECK(getxattr(at_base("dst/xattr-dir"), "user.dir", v, sizeof(v)) == 1);
	}
	CHECK(getxattr(at_base("dst/xattr-file"), "trusted.bin", NULL, 0) == 5);
	return 0;
}

/* What the image holds, read back with libarchive. */
static int test_archive_entries(void)
{
	struct archive *a;
	struct archive_entry *e;
	int n = 0, links = 0, data = 0, r;
	bool root = false, abs_link = false, sparse = false;
	struct stat st;

	if (skip_if_no_setup())
		return UNIT_SKIP;
	CHECK(!setup_src());
	CHECK(archive_to("src", "img2.tar.gz") == 0);
	CHECK(!stat(at_base("img2.tar.gz"), &st));
	/* 5 MiB of patterned data and 72 MiB of sparse files, compressed */
	CHECK(st.st_size < (1 << 20));

	a = archive_read_new();
	archive_read_support_filter_gzip(a);
	archive_read_support_format_tar(a);
	CHECK(archive_read_open_filename(a, at_base("img2.tar.gz"), 65536) == ARCHIVE_OK);
	while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		const char *p = archive_entry_pathname(e);

		if (n++ == 0)
			root = !strcmp(p, ".") || !strcmp(p, "./");
		CHECKP(!strstr(p, "secret") && !strstr(p, "sock") && strncmp(p, "./sym-dir/", 10), p);
		CHECKP(strncmp(p, "./bind/", 7) || !strcmp(p, "./bind/"), p);
		if (!strcmp(p, "./sym-abs"))
			abs_link = archive_entry_filetype(e) == AE_IFLNK &&
				   !strcmp(archive_entry_symlink(e), "/etc/passwd");
		if (!strcmp(p, "./sparse"))
			sparse = archive_entry_sparse_count(e) > 0;
		if (!strcmp(p, "./hl1") || !strcmp(p, "./hl2") || !strcmp(p, "./a/hl3")) {
			if (archive_entry_hardlink(e))
				links++;
			else
				data++;
		}
	}
	CHECK(r == ARCHIVE_EOF);
	archive_read_free(a);
	CHECK(root);
	CHECK(abs_link);
	CHECK(sparse);
	CHECK(links == 2 && data == 1);
	unlink(at_base("img2.tar.gz"));
	return 0;
}

static int test_empty_tmpfs(void)
{
	struct stat s, t;

	if (skip_if_no_setup())
		return UNIT_SKIP;
	CHECK(!make_tmpfs("e-src", "mode=0705,uid=11,gid=12"));
	CHECK(!make_tmpfs("e-dst", NULL));
	CHECK(archive_to("e-src", "e.tar.gz") == 0);
	CHECK(extract_from("e.tar.gz", "e-dst") == 0);
	CHECK(!stat(at_base("e-src"), &s) && !stat(at_base("e-dst"), &t));
	CHECK((t.st_mode & 07777) == 0705 && t.st_uid == 11 && t.st_gid == 12);
	CHECK(s.st_mtim.tv_sec == t.st_mtim.tv_sec && s.st_mtim.tv_nsec == t.st_mtim.tv_nsec);
	unmount_rm("e-src");
	unmount_rm("e-dst");
	unlink(at_base("e.tar.gz"));
	return 0;
}

static int test_write_error(void)
{
	int root, out, ret;

	if (skip_if_no_setup())
		return UNIT_SKIP;
	fprintf(stderr, "# %s: the errors logged below are expected\n", __func__);
	CHECK(!setup_src());
	root = open(at_base("src"), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	out = open("/dev/full", O_WRONLY | O_CLOEXEC);
	CHECK(root >= 0 && out >= 0);
	ret = tmpfs_archive_dir(root, out);
	close(root);
	close(out);
	CHECK(ret < 0);
	return 0;
}

/* ---- crafted archives ---- */

struct spec {
	char kind; /* 'f' file, 'd' dir, 'l' symlink, 'h' hard link */
	const char *name;
	const char *arg; /* file data, symlink target or hard link target */
};

static int build_archive(const char *img, const struct spec *s, bool gzip)
{
	struct archive *a = archive_write_new();
	struct archive_entry *e = archive_entry_new();
	int ret = 0;

	archive_write_set_format_pax_restricted(a);
	if (gzip)
		archive_write_add_filter_gzip(a);
	if (archive_write_open_filename(a, at_base(img)) != ARCHIVE_OK)
		ret = -1;
	for (; !ret && s->kind; s++) {
		archive_entry_clear(e);
		archive_entry_copy_pathname(e, s->name);
		archive_entry_set_perm(e, 0644);
		archive_entry_set_mtime(e, 1000000000, 0);
		switch (s->kind) {
		case 'f':
			archive_entry_set_filetype(e, AE_IFREG);
			archive_entry_set_size(e, strlen(s->arg));
			break;
		case 'd':
			archive_entry_set_filetype(e, AE_IFDIR);
			archive_entry_set_perm(e, 0755);
			break;
		case 'l':
			archive_entry_set_filetype(e, AE_IFLNK);
			archive_entry_copy_symlink(e, s->arg);
			break;
		case 'h':
			archive_entry_set_filetype(e, AE_IFREG);
			archive_entry_copy_hardlink(e, s->arg);
			break;
		}
		if (archive_write_header(a, e) != ARCHIVE_OK)
			ret = -1;
		else if (s->kind == 'f' && archive_write_data(a, s->arg, strlen(s->arg)) != (la_ssize_t)strlen(s->arg))
			ret = -1;
	}
	if (archive_write_close(a) != ARCHIVE_OK)
		ret = -1;
	archive_write_free(a);
	archive_entry_free(e);
	return ret;
}

static bool exists(const char *p)
{
	struct stat st;

	return !lstat(p, &st);
}

/* Extracts `s` into a fresh directory "m/<name>", which must fail. */
static int extract_crafted(const char *name, const struct spec *s, bool ok)
{
	char dir[128], img[128];
	int ret;

	snprintf(dir, sizeof(dir), "m/%s", name);
	snprintf(img, sizeof(img), "m/%s.tar.gz", name);
	mkdir(at_base("m"), 0755);
	if (mkdir(at_base(dir), 0755) || build_archive(img, s, true))
		return -1000;
	ret = extract_from(img, dir);
	return ok ? ret : (ret < 0 ? 0 : 1);
}

static int victim_intact(void)
{
	char *v = unit_slurp(at_base("victim"), NULL);
	int ok = v && !strcmp(v, "victim\n");
	struct stat st;

	free(v);
	return ok && !lstat(at_base("victim"), &st) && st.st_nlink == 1 && (st.st_mode & 07777) == 0600;
}

static int test_malicious(void)
{
	char abs_escape[256], abs_victim[256];
	struct stat st;

	if (skip_if_no_setup())
		return UNIT_SKIP;
	fprintf(stderr, "# %s: the errors logged below are expected\n", __func__);
	CHECK(!write_at(AT_FDCWD, at_base("victim"), "victim\n", 7, 0600));
	snprintf(abs_escape, sizeof(abs_escape), "%s/abs-escape", base);
	snprintf(abs_victim, sizeof(abs_victim), "%s/victim", base);

	{
		const struct spec s[] = {{'f', "../escape", "evil"}, {}};
		CHECK(extract_crafted("dotdot", s, false) == 0);
		CHECK(!exists(at_base("m/escape")) && !exists(at_base("escape")));
	}
	{
		const struct spec s[] = {{'d', "a", NULL}, {'f', "a/../../escape2", "evil"}, {}};
		CHECK(extract_crafted("dotdot2", s, false) == 0);
		CHECK(!exists(at_base("m/escape2")));
	}
	{
		const struct spec s[] = {{'f', abs_escape, "evil"}, {}};
		CHECK(extract_crafted("abs", s, false) == 0);
		CHECK(!exists(abs_escape));
	}
	{
		/* A symlink out, then a file through it. */
		const struct spec s[] = {{'l', "link", base}, {'f', "link/file", "evil"}, {}};
		CHECK(extract_crafted("symlink", s, false) == 0);
		CHECK(!exists(at_base("file")));
		CHECK(!lstat(at_base("m/symlink/link"), &st) && S_ISLNK(st.st_mode));
	}
	{
		/* Even a symlink that stays inside is not followed. */
		const struct spec s[] = {{'d', "d", NULL}, {'l', "in", "d"}, {'f', "in/x", "x"}, {}};
		CHECK(extract_crafted("symlink-in", s, false) == 0);
		CHECK(!exists(at_base("m/symlink-in/d/x")));
	}
	{
		/* A symlink to a directory, and a directory through it. */
		const struct spec s[] = {{'l', "up", ".."}, {'d', "up/dir", NULL}, {}};
		CHECK(extract_crafted("symlink-dir", s, false) == 0);
		CHECK(!exists(at_base("m/dir")));
	}
	{
		const struct spec s[] = {{'h', "hl", "../../victim"}, {}};
		CHECK(extract_crafted("hardlink-dotdot", s, false) == 0);
		CHECK(victim_intact());
	}
	{
		const struct spec s[] = {{'h', "hl", abs_victim}, {}};
		CHECK(extract_crafted("hardlink-abs", s, false) == 0);
		CHECK(victim_intact());
	}
	{
		const struct spec s[] = {{'l', "out", base}, {'h', "hl", "out/victim"}, {}};
		CHECK(extract_crafted("hardlink-symlink", s, false) == 0);
		CHECK(victim_intact());
	}
	{
		/* "." must stay our directory. */
		const struct spec s[] = {{'l', ".", base}, {}};
		CHECK(extract_crafted("root-symlink", s, false) == 0);
		CHECK(!lstat(at_base("m/root-symlink"), &st) && S_ISDIR(st.st_mode));
	}
	{
		/* Entries that replace a symlink replace the link, not what it points to. */
		const struct spec s[] = {
			{'l', "s", base},
			{'d', "s", NULL},
			{'f', "s/f", "inside"},
			{'l', "v", abs_victim},
			{'f', "v", "EVIL"},
			{'l', "w", abs_victim},
			{'l', "w", "elsewhere"},
			{'l', "h", abs_victim},
			{'f', "hsrc", "h"},
			{'h', "h", "hsrc"},
			{},
		};
		CHECK(extract_crafted("replace", s, true) == 0);
		CHECK(!lstat(at_base("m/replace/s"), &st) && S_ISDIR(st.st_mode));
		CHECK(!lstat(at_base("m/replace/s/f"), &st) && S_ISREG(st.st_mode));
		CHECK(!exists(at_base("f")));
		CHECK(!lstat(at_base("m/replace/v"), &st) && S_ISREG(st.st_mode) && st.st_size == 4);
		CHECK(!lstat(at_base("m/replace/h"), &st) && S_ISREG(st.st_mode) && st.st_nlink == 2);
		CHECK(victim_intact());
	}
	{
		/* A symlink already in the target is no way out either. */
		const struct spec s[] = {{'f', "pre/f", "evil"}, {}};
		CHECK(!mkdir(at_base("m/pre"), 0755) && !symlink(base, at_base("m/pre/pre")));
		CHECK(!build_archive("m/pre.tar.gz", s, true));
		CHECK(extract_from("m/pre.tar.gz", "m/pre") < 0);
		CHECK(!exists(at_base("f")));
	}
	{
		/* A file entry may not replace a directory. */
		const struct spec s[] = {{'d', "d", NULL}, {'f', "d/x", "x"}, {'f', "d", "file"}, {}};
		CHECK(extract_crafted("over-dir", s, false) == 0);
		CHECK(exists(at_base("m/over-dir/d/x")));
	}
	CHECK(victim_intact());
	return 0;
}

static int write_file(const char *img, const void *data, size_t len)
{
	return write_at(AT_FDCWD, at_base(img), data, len, 0600);
}

static int test_corrupt(void)
{
	const struct spec s[] = {{'d', "d", NULL}, {'f', "d/x", "x"}, {}};
	size_t len, cuts[] = {1, 10, 100, 0, 0, 0};
	char *img, *junk;
	int n = 0;

	if (skip_if_no_setup())
		return UNIT_SKIP;
	fprintf(stderr, "# %s: the errors logged below are expected\n", __func__);
	CHECK(!setup_src());
	CHECK(archive_to("src", "c.tar.gz") == 0);
	img = unit_slurp(at_base("c.tar.gz"), &len);
	CHECK(img && len > 20000);
	mkdir(at_base("c"), 0755);

	/* Truncated anywhere: an error, never a crash. */
	cuts[3] = len / 2;
	cuts[4] = len - 100;
	cuts[5] = len - 1;
	for (size_t i = 0; i < ARRAY_SIZE(cuts); i++) {
		char dir[32];

		snprintf(dir, sizeof(dir), "c/cut%d", n++);
		CHECK(!mkdir(at_base(dir), 0755) && !write_file("c/img", img, cuts[i]));
		CHECK(extract_from("c/img", dir) < 0);
	}
	/* Flipped bytes in the middle: the gzip CRC or the tar headers catch it. */
	for (size_t off = len / 3; off < len; off += len / 3) {
		char dir[32];

		img[off] ^= 0x5a;
		snprintf(dir, sizeof(dir), "c/flip%d", n++);
		CHECK(!mkdir(at_base(dir), 0755) && !write_file("c/img", img, len));
		CHECK(extract_from("c/img", dir) < 0);
		img[off] ^= 0x5a;
	}
	free(img);

	/* Random bytes, and random bytes behind a gzip magic. */
	junk = malloc(65536);
	for (size_t i = 0; i < 65536; i++)
		junk[i] = (char)(i * 2654435761u >> 13);
	CHECK(!mkdir(at_base("c/junk"), 0755) && !write_file("c/img", junk, 65536));
	CHECK(extract_from("c/img", "c/junk") < 0);
	junk[0] = 0x1f;
	junk[1] = (char)0x8b;
	junk[2] = 8;
	CHECK(!write_file("c/img", junk, 65536));
	CHECK(extract_from("c/img", "c/junk") < 0);
	free(junk);

	/* An empty image is not a valid one either. */
	CHECK(!mkdir(at_base("c/empty"), 0755) && !write_file("c/img", "", 0));
	CHECK(extract_from("c/img", "c/empty") < 0);

	/* A plain, uncompressed tar is fine. */
	CHECK(!mkdir(at_base("c/plain"), 0755) && !build_archive("c/plain.tar", s, false));
	CHECK(extract_from("c/plain.tar", "c/plain") == 0);
	CHECK(exists(at_base("c/plain/d/x")));
	unlink(at_base("c.tar.gz"));
	return 0;
}

/*
 * Without openat2() (old kernels, seccomp profiles that don't know it),
 * extraction walks each name one component at a time: the same guarantees.
 * Irreversible for the process, so this case runs last.
 */
static int test_without_openat2(void)
{
#if defined(__x86_64__)
	const unsigned int arch = AUDIT_ARCH_X86_64;
#elif defined(__aarch64__)
	const unsigned int arch = AUDIT_ARCH_AARCH64;
#else
	const unsigned int arch = 0;
#endif
	struct sock_filter filter[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, arch, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_openat2, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {.len = ARRAY_SIZE(filter), .filter = filter};
	struct open_how how = {.flags = O_PATH};

	if (skip_if_no_setup())
		return UNIT_SKIP;
	if (!arch) {
		unit_skip_reason = "no seccomp filter for this architecture";
		return UNIT_SKIP;
	}
	CHECK(!setup_src() && exists(at_base("img.tar.gz")));
	CHECK(!prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) && !prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog));
	CHECK(syscall(__NR_openat2, AT_FDCWD, "/", &how, sizeof(how)) < 0 && errno == ENOSYS);

	CHECK(!make_tmpfs("dst-walk", "size=256m"));
	CHECK(extract_from("img.tar.gz", "dst-walk") == 0);
	if (cmp_with_src("dst-walk"))
		return 1;
	CHECK(!rename(at_base("m"), at_base("m-openat2")));
	return test_malicious();
}

static const struct unit_case cases[] = {
	{"tmpfs_roundtrip", test_roundtrip},
	{"tmpfs_archive_entries", test_archive_entries},
	{"tmpfs_empty", test_empty_tmpfs},
	{"tmpfs_write_error", test_write_error},
	{"tmpfs_malicious_archives", test_malicious},
	{"tmpfs_corrupt_archives", test_corrupt},
	{"tmpfs_without_openat2", test_without_openat2},
	{},
};

int main(void)
{
	int ret;

	log_init(LOG_ERROR, NULL);
	if (geteuid())
		setup_error = "needs root (mounts tmpfs)";
	else if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
		setup_error = "can't enter a private mount namespace";
	else {
		snprintf(base, sizeof(base), "/tmp/criu-test-tmpfs-XXXXXX");
		if (!mkdtemp(base))
			setup_error = "can't create a temporary directory";
		else if (mount("tmpfs", base, "tmpfs", 0, "size=512m,mode=0700")) {
			setup_error = "can't mount tmpfs";
			rmdir(base);
		}
	}

	ret = unit_run(cases);

	if (!setup_error) {
		umount2(base, MNT_DETACH); /* with everything mounted below */
		rmdir(base);
	}
	return ret;
}

/*
 * Act: build the restored mount namespace.
 *
 * Safety comes from the order of things:
 *  1. prepare (criu's own namespace): detached clones of --root and of every
 *     host path (open_tree OPEN_TREE_CLONE), each made private or slave at
 *     once, so nothing attached below them can propagate to the host. A
 *     failure here leaves no trace: closing the fds drops the clones.
 *  2. build (a child in a new mount namespace): everything turned slave, the
 *     root clone attached and pivoted into; from then on, "/" is the
 *     container root, mountpoints are resolved with RESOLVE_IN_ROOT and no
 *     symlinks, and every mount is made with fsmount/open_tree + move_mount.
 *     If the child fails it exits, and its namespace, with every mount in
 *     it, goes away.
 * The propagation of each clone, and of the whole namespace once built, is
 * mount-propagation.c's.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>

#define LOG_PREFIX "mnt: "
#include "mount/fstype.h"
#include "mount/tmpfs.h"
#include "files/tty.h"
#include "util/log.h"
#include "mount/mntns-restore.h"
#include "mount/mount-propagation.h"
#include "mount/mount-restore.h"
#include "task/userns.h"
#include "util/syscalls.h"
#include "util/util.h"

/* How many fds the build keeps open at once; raise the soft limit if needed
 * (up to the hard limit, which needs no privilege). */
static int ensure_fd_limit(const struct mount_plan *p)
{
	struct rlimit rl;
	size_t need = 64 + 2 * p->nr_ns;

	for (size_t i = 0; i < p->nr; i++)
		need += p->mounts[i].keep_fd || p->mounts[i].kind == RM_EXTERNAL;
	if (getrlimit(RLIMIT_NOFILE, &rl))
		return 0;
	if (rl.rlim_cur >= need)
		return 0;
	if (rl.rlim_max < need) {
		pr_err("restoring these mounts needs %zu open files, the hard limit is %llu\n", need,
		       (unsigned long long)rl.rlim_max);
		pr_hint("raise it with ulimit -Hn\n");
		return -EMFILE;
	}
	rl.rlim_cur = need;
	if (setrlimit(RLIMIT_NOFILE, &rl)) {
		pr_perror("can't raise the open files limit to %zu", need);
		return -errno;
	}
	return 0;
}

/* A file mapped where the mountpoint is a directory (or the reverse) is an
 * error; checked in --root now where the mountpoint is already there. */
static int check_mountpoint_type(int rootfs_fd, const struct rmount *m)
{
	struct stat st;
	_cleanup_close_ int fd = sys_openat2(rootfs_fd, m->mountpoint + 1, O_PATH | O_CLOEXEC,
					     RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);

	if (fd < 0) {
		if (errno == ENOENT || errno == EXDEV)
			return 0; /* made later, or on a mount made later */
		if (errno == ELOOP) {
			pr_err("%u:%s: the mountpoint in the root is a symlink; refusing to mount through it\n",
			       m->e->mnt_id, m->mountpoint);
			return -ELOOP;
		}
		return 0;
	}
	if (fstat(fd, &st))
		return 0;
	if (!!S_ISDIR(st.st_mode) != m->host_is_dir) {
		pr_err("%u:%s: host path %s is a %s, but the mountpoint is a %s\n", m->e->mnt_id, m->mountpoint,
		       m->host_path, m->host_is_dir ? "directory" : "file", S_ISDIR(st.st_mode) ? "directory" : "file");
		pr_hint("map %s to a %s\n", m->ext_name ? m->ext_name : "it",
			S_ISDIR(st.st_mode) ? "directory" : "file");
		return -ENOTDIR;
	}
	return 0;
}

int mount_restore_prepare(struct mount_plan *p, struct restore_mnt_ctx *c, const struct options *o)
{
	_cleanup_close_ int rootfs_fd = -1;
	struct stat st;
	int ret = ensure_fd_limit(p);

	if (ret)
		return ret;
	c->root_fd = -1;
	if (stat(c->root_path, &st) || !S_ISDIR(st.st_mode)) {
		pr_err("--root %s is not a directory\n", c->root_path);
		return -ENOTDIR;
	}
	rootfs_fd = open(c->root_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	for (size_t i = 0; i < p->nr; i++) {
		struct rmount *m = &p->mounts[i];

		if (m->kind != RM_EXTERNAL)
			continue;
		if (m->parent == p->root && rootfs_fd >= 0) {
			ret = check_mountpoint_type(rootfs_fd, m);
			if (ret)
				return ret;
		}
		_cleanup_close_ int src = rmount_open_host(m);

		if (src >= 0)
			m->fd = sys_open_tree(src, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
		if (src < 0 || m->fd < 0) {
			errno = src < 0 ? -src : errno;
			pr_perror("%u:%s: can't clone host path %s", m->e->mnt_id, m->mountpoint, m->host_path);
			return -errno;
		}
		ret = mount_set_external_propagation(m);
		if (ret)
			return ret;
	}
	c->root_fd = sys_open_tree(AT_FDCWD, c->root_path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	if (c->root_fd < 0 || mount_set_propagation(c->root_fd, MS_PRIVATE)) {
		pr_perror("can't clone --root %s", c->root_path);
		return -errno;
	}
	(void)o;
	return 0;
}

void mount_restore_release(struct mount_plan *p, struct restore_mnt_ctx *c)
{
	for (size_t i = 0; i < p->nr; i++) {
		if (p->mounts[i].fd >= 0)
			close(p->mounts[i].fd);
		if (p->mounts[i].group_fd >= 0)
			close(p->mounts[i].group_fd);
		p->mounts[i].fd = -1;
		p->mounts[i].group_fd = -1;
	}
	if (c->root_fd >= 0)
		close(c->root_fd);
	c->root_fd = -1;
}

/* Enter the container root: attach the root clone, pivot_root into it and
 * drop the old root, so that "/" is the container's from now on. */
static int enter_root(struct mount_plan *p, struct restore_mnt_ctx *c)
{
	int ret = mntns_begin(p, c->root_path);

	return ret ? ret : mntns_attach_root(c->root_fd, mntns_root_slot(p, c->root_path));
}

/* Superblock options "a=1,b" -> fsconfig calls. */
static int config_options(int fsfd, const struct rmount *m, const char *opts)
{
	_cleanup_free_ char *copy = xstrdup(opts ? opts : "");
	char *save = NULL;

	for (char *o = strtok_r(copy, ",", &save); o; o = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(o, '=');
		int r;

		if (eq) {
			*eq = '\0';
			r = sys_fsconfig(fsfd, FSCONFIG_SET_STRING, o, eq + 1, 0);
		} else {
			r = sys_fsconfig(fsfd, FSCONFIG_SET_FLAG, o, NULL, 0);
		}
		if (r) {
			pr_perror("%u:%s: %s rejects option '%s%s%s'", m->e->mnt_id, m->mountpoint, m->fs->name, o,
				  eq ? "=" : "", eq ? eq + 1 : "");
			return -errno;
		}
	}
	return 0;
}

static unsigned mount_attrs(unsigned long flags)
{
	unsigned a = 0;

	if (flags & MS_NOSUID)
		a |= MOUNT_ATTR_NOSUID;
	if (flags & MS_NODEV)
		a |= MOUNT_ATTR_NODEV;
	if (flags & MS_NOEXEC)
		a |= MOUNT_ATTR_NOEXEC;
	if (flags & MS_NODIRATIME)
		a |= MOUNT_ATTR_NODIRATIME;
	if (flags & MS_NOSYMFOLLOW)
		a |= MOUNT_ATTR_NOSYMFOLLOW;
	if (flags & MS_NOATIME)
		a |= MOUNT_ATTR_NOATIME;
	else if (flags & MS_RELATIME)
		a |= MOUNT_ATTR_RELATIME;
	else
		a |= MOUNT_ATTR_STRICTATIME;
	return a; /* read-only is applied last, once everything below is mounted */
}

static int restore_contents(const struct rmount *m, int mfd, int imgs_dirfd)
{
	char name[64];
	_cleanup_close_ int in = -1, dir = -1;

	snprintf(name, sizeof(name), "tmpfs-dev-%u.tar.gz.img", m->e->root_dev);
	in = openat(imgs_dirfd, name, O_RDONLY | O_CLOEXEC);
	if (in < 0) {
		pr_err("%u:%s: contents image %s is missing: %s\n", m->e->mnt_id, m->mountpoint, name, strerror(errno));
		return -ENOENT;
	}
	dir = openat(mfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0) {
		pr_perror("%u:%s: can't open the new tmpfs", m->e->mnt_id, m->mountpoint);
		return -errno;
	}
	return tmpfs_extract_dir(in, dir);
}

/* Superblock flags (sync, dirsync, lazytime, mand, and ro unless deferred)
 * are fsconfig flags of the new superblock. */
static int set_sb_flags(int fsfd, const struct rmount *m, bool with_ro)
{
	static const struct {
		unsigned long flag;
		const char *name;
	} names[] = {
		{MS_RDONLY, "ro"},	   {MS_SYNCHRONOUS, "sync"}, {MS_DIRSYNC, "dirsync"},
		{MS_LAZYTIME, "lazytime"}, {MS_MANDLOCK, "mand"},
	};

	if (!m->e->has_sb_flags)
		return 0;
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		if (!(m->e->sb_flags & names[i].flag) || (names[i].flag == MS_RDONLY && !with_ro))
			continue;
		if (sys_fsconfig(fsfd, FSCONFIG_SET_FLAG, names[i].name, NULL, 0)) {
			pr_perror("%u:%s: can't set superblock flag %s", m->e->mnt_id, m->mountpoint, names[i].name);
			return -errno;
		}
	}
	return 0;
}

/* A read-only tmpfs is filled first, then its superblock turned read-only. */
static int reconfigure_readonly(const struct rmount *m, int mfd)
{
	_cleanup_close_ int fsfd = sys_fspick(mfd, "", FSPICK_EMPTY_PATH | FSPICK_CLOEXEC);

	if (fsfd < 0 || sys_fsconfig(fsfd, FSCONFIG_SET_FLAG, "ro", NULL, 0) ||
	    sys_fsconfig(fsfd, FSCONFIG_CMD_RECONFIGURE, NULL, NULL, 0)) {
		pr_perror("%u:%s: can't make the superblock read-only", m->e->mnt_id, m->mountpoint);
		return -errno;
	}
	return 0;
}

static int make_fresh(const struct rmount *m, int imgs_dirfd)
{
	_cleanup_close_ int fsfd = -1;
	_cleanup_free_ char *fsname = xstrdup(m->e->fsname ? m->e->fsname : m->fs->name);
	int mfd, ret;

	fsname[strcspn(fsname, ".")] = '\0';
	fsfd = sys_fsopen(fsname, FSOPEN_CLOEXEC);
	if (fsfd < 0) {
		pr_perror("%u:%s: can't create a %s filesystem", m->e->mnt_id, m->mountpoint, fsname);
		return -errno;
	}
	if (m->e->source && *m->e->source && sys_fsconfig(fsfd, FSCONFIG_SET_STRING, "source", m->e->source, 0)) {
		pr_perror("%u:%s: bad source '%s'", m->e->mnt_id, m->mountpoint, m->e->source);
		return -errno;
	}
	/* in a user namespace of the tree's own, ids in its terms: made inside */
	ret = config_options(fsfd, m, m->e->options);
	if (ret)
		return ret;
	/* a filesystem we fill (tmpfs) is made read-only once it is filled */
	ret = set_sb_flags(fsfd, m, !m->fs->has_contents);
	if (ret)
		return ret;
	if (sys_fsconfig(fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0)) {
		pr_perror("%u:%s: can't create the %s superblock (options '%s')", m->e->mnt_id, m->mountpoint, fsname,
			  m->e->options ? m->e->options : "");
		return -errno;
	}
	mfd = sys_fsmount(fsfd, FSMOUNT_CLOEXEC, mount_attrs(m->e->flags));
	if (mfd < 0) {
		pr_perror("%u:%s: fsmount failed", m->e->mnt_id, m->mountpoint);
		return -errno;
	}
	if (m->fs->has_contents) {
		ret = restore_contents(m, mfd, imgs_dirfd);
		if (!ret && m->e->has_sb_flags && (m->e->sb_flags & MS_RDONLY))
			ret = reconfigure_readonly(m, mfd);
		if (ret) {
			close(mfd);
			return ret;
		}
	}
	return mfd;
}

/* Opens `rel` below `dfd` without symlinks or crossing mounts, in steps
 * shorter than PATH_MAX (a mount's root can be longer than that). */
static int open_below(int dfd, const char *rel)
{
	const unsigned long how = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV;
	_cleanup_free_ char *copy = xstrdup(rel);
	char *p = copy;
	int fd = dup(dfd);

	while (fd >= 0 && *p) {
		size_t n = strlen(p);
		char *cut = NULL;
		int next;

		if (n >= PATH_MAX - 1) {
			/* the last '/' that leaves a piece shorter than PATH_MAX */
			for (size_t i = PATH_MAX - 2; i > 0 && !cut; i--)
				if (p[i] == '/')
					cut = p + i;
			if (!cut) {
				close(fd);
				errno = ENAMETOOLONG;
				return -1;
			}
			*cut = '\0';
		}
		next = sys_openat2(fd, p, O_PATH | O_CLOEXEC, how);
		close(fd);
		fd = next;
		p = cut ? cut + 1 : p + n;
	}
	return fd;
}

/* The slave of a devpts bind's source is missing: no terminal of the tree
 * makes that pty (restore gives no bind of a dead pty, nor of another one). */
static int missing_pty(const struct rmount *m)
{
	pr_err("%u:%s: binds %s of devpts mount %u (%s), a pty slave no terminal of the tree makes: restore makes "
	       "such a pty only with RPC orphan_pts_master, for a pty of the tree of that index (a container's "
	       "console, whose master the runtime held)\n",
	       m->e->mnt_id, m->mountpoint, m->source_rel, m->source->e->mnt_id, m->source->mountpoint);
	pr_hint("restore with orphan_pts_master set (runc restore --console-socket does), as the tree was dumped\n");
	return -ENOENT;
}

/* A clone of the source mount alone (no submounts), then of the path below
 * it: walking the path can't cross into another mount or follow a symlink. */
static int make_bind(const struct rmount *m, const struct rtree *tree)
{
	_cleanup_close_ int whole = -1, sub = -1;
	int mfd, ret;

	if (m->source->fd < 0) {
		pr_err("%u:%s: source mount %u is not available\n", m->e->mnt_id, m->mountpoint, m->source->e->mnt_id);
		return -EINVAL;
	}
	whole = sys_open_tree(m->source->fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
	if (whole < 0) {
		pr_perror("%u:%s: can't clone source mount %u", m->e->mnt_id, m->mountpoint, m->source->e->mnt_id);
		return -errno;
	}
	if (!*m->source_rel) {
		if (mount_set_initial_propagation((struct rmount *)m, whole))
			return -errno;
		return steal_fd(&whole);
	}
	sub = open_below(whole, m->source_rel);
	/* a pty slave whose master was outside (runc's /dev/console): made here */
	if (sub < 0 && errno == ENOENT && m->source->e->fstype == FSTYPE__DEVPTS) {
		ret = tty_premake_pty(tree, m->source->fd, m->source_rel);
		if (ret == -ENOENT)
			return missing_pty(m);
		if (ret)
			return ret;
		sub = open_below(whole, m->source_rel);
	}
	if (sub < 0) {
		pr_perror("%u:%s: %s not found in source mount %u", m->e->mnt_id, m->mountpoint, m->source_rel,
			  m->source->e->mnt_id);
		return -errno;
	}
	mfd = sys_open_tree(sub, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
	if (mfd < 0) {
		pr_perror("%u:%s: can't clone %s of mount %u", m->e->mnt_id, m->mountpoint, m->source_rel,
			  m->source->e->mnt_id);
		return -errno;
	}
	if (mount_set_initial_propagation((struct rmount *)m, mfd)) {
		close(mfd);
		return -errno;
	}
	return mfd;
}

/* Creates a missing mountpoint (and its missing parents) inside the root,
 * one component at a time, never through a symlink. */
static int create_mountpoint(const struct rmount *m, bool dir)
{
	_cleanup_free_ char *path = xstrdup(m->mountpoint + 1);
	_cleanup_close_ int dfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	char *comp = path, *slash;
	int r;

	while (dfd >= 0 && (slash = strchr(comp, '/'))) {
		int next;

		*slash = '\0';
		if (mkdirat(dfd, comp, 0755) && errno != EEXIST)
			goto fail;
		next = sys_openat2(dfd, comp, O_PATH | O_DIRECTORY | O_CLOEXEC,
				   RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
		if (next < 0)
			goto fail;
		close(dfd);
		dfd = next;
		comp = slash + 1;
	}
	if (dfd < 0)
		goto fail;
	r = dir ? mkdirat(dfd, comp, 0755) : mknodat(dfd, comp, S_IFREG | 0644, 0);
	if (r && errno != EEXIST)
		goto fail;
	return 0;
fail:
	pr_perror("%u:%s: can't create the mountpoint", m->e->mnt_id, m->mountpoint);
	return -errno;
}

static int open_target(const struct rmount *m, int mfd)
{
	struct stat src, dst;
	int fd, ret;

	if (fstat(mfd, &src)) {
		pr_perror("%u:%s: fstat", m->e->mnt_id, m->mountpoint);
		return -errno;
	}
	for (int attempt = 0; attempt < 2; attempt++) {
		fd = sys_openat2(AT_FDCWD, m->mountpoint, O_PATH | O_CLOEXEC,
				 RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
		if (fd >= 0 || errno != ENOENT || attempt)
			break;
		ret = create_mountpoint(m, S_ISDIR(src.st_mode));
		if (ret)
			return ret;
	}
	if (fd < 0) {
		pr_perror("%u:%s: can't open the mountpoint%s", m->e->mnt_id, m->mountpoint,
			  errno == ELOOP ? " (it is a symlink)" : "");
		return -errno;
	}
	if (fstat(fd, &dst) == 0 && !!S_ISDIR(src.st_mode) != !!S_ISDIR(dst.st_mode)) {
		pr_err("%u:%s: the mountpoint is a %s but %s is a %s\n", m->e->mnt_id, m->mountpoint,
		       S_ISDIR(dst.st_mode) ? "directory" : "file",
		       m->kind == RM_EXTERNAL ? m->host_path : "what is mounted there",
		       S_ISDIR(src.st_mode) ? "directory" : "file");
		close(fd);
		return -ENOTDIR;
	}
	return fd;
}

static int set_attrs(const struct rmount *m, int mfd)
{
	struct mount_attr attr = {
		.attr_set = mount_attrs(m->e->flags),
		.attr_clr = MOUNT_ATTR__ATIME | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC |
			    MOUNT_ATTR_NODIRATIME | MOUNT_ATTR_NOSYMFOLLOW,
	};

	if (sys_mount_setattr(mfd, "", AT_EMPTY_PATH, &attr)) {
		pr_perror("%u:%s: can't set mount flags", m->e->mnt_id, m->mountpoint);
		return -errno;
	}
	return 0;
}

/* The mount, detached: a clone made in its source's namespace (the kernel
 * clones only there), a new filesystem, or the host path's clone. */
static int make_mount(struct mount_plan *p, struct rmount *m, const struct restore_mnt_ctx *c)
{
	int ret;

	switch (m->kind) {
	case RM_FRESH:
		/* made before the root switch (premake_revealing) or now */
		return m->fd >= 0 ? steal_fd(&m->fd) : make_fresh(m, c->imgs_dirfd);
	case RM_BIND:
		ret = mntns_enter(p, m->source->ns);
		return ret ? ret : make_bind(m, c->tree);
	case RM_EXTERNAL:
		return steal_fd(&m->fd);
	default:
		return 0;
	}
}

static int restore_one(struct mount_plan *p, struct rmount *m, const struct restore_mnt_ctx *c)
{
	_cleanup_close_ int target = -1;
	int mfd, ret;

	if (m->kind == RM_ROOT)
		return 0;
	mfd = make_mount(p, m, c);
	if (mfd < 0)
		return mfd;
	m->fd = mfd;
	/* the root of another namespace: still detached, the namespace is made with it */
	ret = m->parent ? mntns_enter(p, m->ns) : 0;
	if (!ret && m->kind != RM_FRESH)
		ret = set_attrs(m, mfd);
	if (ret)
		return ret;
	if (!m->parent)
		return mntns_create(p, m->ns, mfd);
	target = open_target(m, mfd);
	if (target < 0)
		return target;
	if (sys_move_mount(mfd, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH)) {
		pr_perror("%u:%s: can't attach the mount", m->e->mnt_id, m->mountpoint);
		return -errno;
	}
	return 0;
}

/* Read-only last: everything below a read-only mount is in place by now. */
static int restore_readonly(struct mount_plan *p)
{
	for (size_t i = 0; i < p->nr; i++) {
		struct rmount *m = &p->mounts[i];
		struct mount_attr attr = {.attr_set = MOUNT_ATTR_RDONLY};

		if (!(m->e->flags & MS_RDONLY))
			continue;
		if (mntns_enter(p, m->ns))
			return -EIO;
		if (sys_mount_setattr(m->fd, "", AT_EMPTY_PATH, &attr)) {
			pr_perror("%u:%s: can't make it read-only", m->e->mnt_id, m->mountpoint);
			return -errno;
		}
	}
	return 0;
}

/*
 * In the tree's own user namespace (task/userns.h), the kernel lets a
 * new proc or sysfs be mounted only while one of the initial namespace's,
 * fully visible, is in the mount namespace (mount_too_revealing): the
 * old root's, until the root switch. They are made before it, attached
 * in order after (restore_one).
 */
static int premake_revealing(struct mount_plan *p, const struct restore_mnt_ctx *c)
{
	if (!userns_tree())
		return 0;
	for (size_t i = 0; i < p->nr; i++) {
		struct rmount *m = &p->mounts[i];

		if (m->kind != RM_FRESH || (strcmp(m->fs->name, "proc") && strcmp(m->fs->name, "sysfs")))
			continue;
		m->fd = make_fresh(m, c->imgs_dirfd);
		if (m->fd < 0) {
			pr_hint("a proc or sysfs of a user namespace can be made only where one of the host's is "
				"fully visible: criu's own mount namespace must have them\n");
			return m->fd;
		}
	}
	return 0;
}

int mount_restore_build(struct mount_plan *p, struct restore_mnt_ctx *c)
{
	int ret;

	for (size_t i = 0; i < p->nr; i++)
		p->mounts[i].keep_fd |= !!(p->mounts[i].e->flags & MS_RDONLY);
	ret = premake_revealing(p, c);
	if (!ret)
		ret = enter_root(p, c);
	if (ret)
		return ret;
	p->root->fd = steal_fd(&c->root_fd);
	if (set_attrs(p->root, p->root->fd))
		return -errno;
	for (size_t i = 0; i < p->nr; i++) {
		struct rmount *m = p->order[i];

		ret = restore_one(p, m, c);
		if (ret)
			return ret;
		if (!m->keep_fd && m->fd >= 0) {
			close(m->fd);
			m->fd = -1;
		}
	}
	ret = mount_restore_propagation(p);
	if (!ret)
		ret = restore_readonly(p);
	if (!ret)
		ret = mount_rejoin_host_groups(p);
	if (!ret)
		ret = mntns_end(p);
	if (!ret && p->nr_ns > 1)
		pr_info("restored %zu mounts in %zu mount namespaces\n", p->nr, p->nr_ns);
	else if (!ret)
		pr_info("restored %zu mounts\n", p->nr);
	return ret;
}

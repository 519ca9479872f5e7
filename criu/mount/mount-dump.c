/*
 * The mount stage of a dump: read the task's mountinfo (parse), build the
 * tree and decide (mount/mount-tree.c, mount/mount-external.c), then verify against the
 * live system and write mountpoints-<id>.img and tmpfs archives (act).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define LOG_PREFIX "mnt: "
#include "dump.h"
#include "mount/fstype.h"
#include "mount/tmpfs.h"
#include "util/log.h"
#include "mnt.pb-c.h"
#include "mount/mount-external.h"
#include "mount/mount-tree.h"
#include "util/syscalls.h"
#include "util/util.h"
#include "task/userns.h"

static int read_mount_tree(pid_t pid, struct mount_tree *t)
{
	_cleanup_free_ char *buf = NULL;
	struct mountinfo_table table = {};
	struct proc_err err = {};
	char path[64];
	size_t len;
	int ret;

	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/mountinfo", pid);
	else
		snprintf(path, sizeof(path), "/proc/self/mountinfo");
	ret = read_file_at(AT_FDCWD, path, &buf, &len);
	if (ret) {
		pr_err("can't read %s: %s\n", path, strerror(-ret));
		return ret;
	}
	ret = mountinfo_parse(buf, len, &table, &err);
	if (ret) {
		pr_err("%s: %s\n", path, proc_err_msg(&err).s);
		mountinfo_table_free(&table);
		return ret;
	}
	if (pid && table.nr == 0) {
		pr_err("no mount is visible from the root of task %d: its root directory is not a mount point\n", pid);
		pr_hint("bind-mount the container root onto itself before chroot (mount --bind ROOT ROOT), or use pivot_root\n");
		return -EINVAL;
	}
	ret = mount_tree_build(t, &table);
	if (ret)
		mountinfo_table_free(&table);
	return ret;
}

/*
 * Opens a mountpoint of the task's namespace through /proc/PID/root. The
 * walk is confined to the task's root and follows no symlinks, so a
 * container that swaps a directory for a symlink can't point us at a host
 * file (callers also check the mount id of what they got).
 */
static int open_task_root(pid_t pid)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/root", pid);
	return open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
}

static int open_in_root(int root, const char *mountpoint, int flags)
{
	if (!strcmp(mountpoint, "/"))
		return openat(root, ".", flags | O_CLOEXEC);
	return sys_openat2(root, mountpoint + 1, flags | O_CLOEXEC | O_NOFOLLOW,
			   RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
}

static int open_in_task_root(pid_t pid, const char *mountpoint, int flags)
{
	_cleanup_close_ int root = open_task_root(pid);

	return root < 0 ? -1 : open_in_root(root, mountpoint, flags);
}

static bool is_mount_root_fd(int fd, const struct mount *m)
{
	struct statx stx;

	if (statx(fd, "", AT_EMPTY_PATH, STATX_MNT_ID, &stx))
		return false;
	return (stx.stx_mask & STATX_MNT_ID) && stx.stx_mnt_id == m->mi->mnt_id;
}

/*
 * An autodetected mount's host path was computed from criu's mountinfo: make
 * sure it really is the same file as the container's mount root (same device
 * and inode), so restore binds back exactly what was there.
 */
static int verify_auto_host_paths(pid_t pid, const struct mount_tree *t)
{
	int errors = 0;

	for_each_mount(t, m) {
		struct stat host, cont;
		_cleanup_close_ int fd = -1;

		if (m->kind != MNT_EXTERNAL || !m->ext_auto || m->hidden)
			continue;
		fd = open_in_task_root(pid, m->mi->mountpoint, O_PATH);
		if (fd < 0 || !is_mount_root_fd(fd, m) || fstat(fd, &cont))
			continue; /* can't see it from outside: trust the mountinfo match */
		if (stat(m->ext_host_path, &host) || host.st_ino != cont.st_ino || host.st_dev != cont.st_dev) {
			pr_err("%u:%s: autodetected host path %s is not the mount's root (the host path was moved or overmounted)\n",
			       m->mi->mnt_id, m->mi->mountpoint, m->ext_host_path);
			pr_hint("map it explicitly with --external mnt[%s]:NAME\n", m->mi->mountpoint);
			errors++;
		}
	}
	return errors ? -EINVAL : 0;
}

/*
 * In a user namespace of the tree's own (task/userns.h), options that
 * name ids (a tmpfs's uid= and gid=, which criu reads as the host's) as
 * the namespace sees them, as upstream's images hold them: restore makes
 * the filesystem inside. A new one's owner the namespace doesn't map
 * can't be made there: refused.
 */
static int options_in_userns(MntEntry *e, const struct mount *m, char **opts_rest)
{
	char *conv;

	if (!userns_tree() || !e->options || (!strstr(e->options, "uid=") && !strstr(e->options, "gid=")))
		return 0;
	conv = userns_mount_options(userns_tree(), e->options);
	if (!conv && m->kind == MNT_FRESH) {
		pr_err("%u:%s: its owner is no one in the tree's user namespace: restore can't make it there\n",
		       m->mi->mnt_id, m->mi->mountpoint);
		return -EOPNOTSUPP;
	}
	if (!conv)
		return 0; /* cloned, not made: the options are not used */
	free(*opts_rest);
	*opts_rest = conv;
	e->options = conv;
	return 0;
}

static void fill_entry(MntEntry *e, const struct mount *m, char **opts_rest, char **namebuf)
{
	const struct mountinfo_entry *mi = m->mi;
	unsigned long flags = mnt_opts_to_flags(mi->mnt_opts);

	if (mi->unbindable)
		flags |= MS_UNBINDABLE;
	e->fstype = m->fs->code;
	e->mnt_id = mi->mnt_id;
	e->root_dev = m->s_dev;
	e->parent_mnt_id = mi->parent_id;
	e->flags = flags;
	e->root = mi->root;
	e->mountpoint = mi->mountpoint;
	e->source = mi->source;
	e->has_sb_flags = true;
	e->sb_flags = sb_opts_to_flags(mi->sb_opts, opts_rest);
	e->options = *opts_rest;
	/* upstream refuses fsname on any other type (mount.c:collect_mnt_from_image:
	 * "fsname can be set only for FSTYPE__AUTO mounts"); what a code-0 mount
	 * is, mountinfo said, and dump has already checked it can come back */
	if (e->fstype == FSTYPE__AUTO)
		e->fsname = mi->fstype;
	if (mi->shared_id) {
		e->has_shared_id = true;
		e->shared_id = mi->shared_id;
		/* is the peer group the container's own, or the host's too? */
		e->has_internal_sharing = true;
		e->internal_sharing = !m->shared_outside;
	}
	if (mi->master_id) {
		e->has_master_id = true;
		e->master_id = mi->master_id;
	}
	if (m->deleted) {
		e->has_deleted = true;
		e->deleted = true;
	}
	if (m->kind == MNT_BIND) {
		const struct mount *ext = mount_named_external_origin(m);
		const char *sub;

		if (!ext)
			return;
		/* "NAME/sub": a path below the host path mapped to NAME */
		sub = path_below(m->mi->root, ext->mi->root);
		*namebuf = xmalloc(strlen(ext->ext_key) + strlen(sub) + 2);
		sprintf(*namebuf, "%s%s%s", ext->ext_key, *sub ? "/" : "", sub);
		e->ext_key = (char *)ext->ext_key;
		e->root = *namebuf;
		return;
	}
	if (m->kind != MNT_EXTERNAL)
		return;
	if (m->ext_auto) {
		/* as upstream: the key marks it, the host path travels in source */
		e->ext_key = AUTODETECTED_MOUNT;
		e->source = m->ext_host_path;
	} else {
		/* the name replaces the host root: the image never shows the host path.
		 * Not ext_mount too (very old readers' way): upstream 4.x refuses both
		 * (mount.c:get_mp_root: BUG_ON(me->ext_mount && me->ext_key)) */
		e->ext_key = (char *)m->ext_key;
		e->root = (char *)m->ext_key;
	}
}

static int write_mount_image(struct dump_ctx *d, const struct mount_tree *t)
{
	struct img_writer *w = img_set_new(&d->imgs, IMG_MNTS, t->ns_id);

	if (!w)
		return -EIO;
	for_each_mount(t, m) {
		MntEntry e = MNT_ENTRY__INIT;
		_cleanup_free_ char *rest = NULL, *name = NULL;
		int ret;

		fill_entry(&e, m, &rest, &name);
		ret = options_in_userns(&e, m, &rest);
		if (ret)
			return ret;
		hmap_put_int(&d->mnt_ids, e.mnt_id, (void *)1);
		ret = img_write_entry(w, &e.base);
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * The root of a mount alone, without the mounts below it: a detached,
 * non-recursive clone, so files hidden under submounts are seen (and saved)
 * as they are.
 */
static int open_mount_alone(int root, const struct mount *m)
{
	_cleanup_close_ int path = open_in_root(root, m->mi->mountpoint, O_PATH | O_DIRECTORY);
	_cleanup_close_ int clone = -1;

	if (path < 0) {
		pr_perror("%u:%s: can't reach this %s mount to save its contents", m->mi->mnt_id, m->mi->mountpoint,
			  m->mi->fstype);
		return -1;
	}
	if (!is_mount_root_fd(path, m)) {
		pr_err("%u:%s: can't reach this %s mount to save its contents: it is overmounted\n", m->mi->mnt_id,
		       m->mi->mountpoint, m->mi->fstype);
		pr_hint("saving the contents of hidden tmpfs mounts is not supported yet\n");
		return -1;
	}
	clone = sys_open_tree(path, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
	if (clone < 0 && errno == EINVAL && m->mi->unbindable) {
		/* an unbindable mount can't be cloned: read it in place, where
		 * files under its submounts can't be seen */
		if (m->first_child)
			pr_warn("%u:%s is unbindable: files hidden under its submounts are not saved\n", m->mi->mnt_id,
				m->mi->mountpoint);
		return openat(path, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	if (clone < 0) {
		pr_perror("%u:%s: can't clone the mount", m->mi->mnt_id, m->mi->mountpoint);
		return -1;
	}
	return openat(clone, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

/*
 * The kernel clones only mounts of the caller's own namespace, so the
 * archive is made by a child that joins the task's mount namespace; it
 * writes straight into the image's file.
 */
static int archive_in_task_ns(pid_t pid, const struct mount *m, int out_fd)
{
	char path[64];
	_cleanup_close_ int nsfd = -1, root = open_task_root(pid);
	int status;
	pid_t child;

	snprintf(path, sizeof(path), "/proc/%d/ns/mnt", pid);
	nsfd = open(path, O_RDONLY | O_CLOEXEC);
	if (nsfd < 0 || root < 0) {
		pr_perror("can't open the mount namespace or root of task %d", pid);
		return -errno;
	}
	child = fork();
	if (child < 0) {
		pr_perror("fork");
		return -errno;
	}
	if (child == 0) {
		int fd;

		if (setns(nsfd, CLONE_NEWNS)) {
			pr_perror("can't enter the mount namespace of task %d", pid);
			_exit(1);
		}
		/* the root was opened before: after setns, /proc may be another one */
		fd = open_mount_alone(root, m);
		_exit(fd < 0 || tmpfs_archive_dir(fd, out_fd) ? 1 : 0);
	}
	if (waitpid(child, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
		return -EIO;
	return 0;
}

/*
 * One archive per tmpfs superblock across namespaces, read through a clone
 * of its root mount, in the namespace of the first mount of it with root
 * "/" (classification makes every other one a bind of that one).
 */
static int dump_tmpfs_contents(struct dump_ctx *d, pid_t pid, const struct mount_tree *t)
{
	for_each_mount(t, m) {
		struct img_writer *w;
		int ret;

		if (!m->fs->has_contents || m->kind != MNT_FRESH)
			continue; /* binds share the superblock of the mount they come from */
		w = img_set_new(&d->imgs, IMG_TMPFS_DEV, m->s_dev);
		if (!w)
			return -EIO;
		ret = archive_in_task_ns(pid, m, w->fd);
		if (ret)
			return ret;
		pr_info("saved contents of %u:%s\n", m->mi->mnt_id, m->mi->mountpoint);
	}
	return 0;
}

/* Each namespace's tree, read through its first process. */
static int read_namespaces(const struct dump_ctx *d, struct mount_tree *trees)
{
	for (size_t i = 0; i < d->nr_mntns; i++) {
		int ret = read_mount_tree(d->mntns[i].pid, &trees[i]);

		if (ret)
			return ret;
		trees[i].ns_id = d->mntns[i].id;
		trees[i].ns_vpid = d->mntns[i].vpid;
	}
	return 0;
}

/* The decided trees: checked against the system, then written. */
static int write_namespaces(struct dump_ctx *d, const struct mount_tree *trees)
{
	int ret = 0;

	for (size_t i = 0; !ret && i < d->nr_mntns; i++)
		ret = verify_auto_host_paths(d->mntns[i].pid, &trees[i]);
	for (size_t i = 0; !ret && i < d->nr_mntns; i++) {
		if (log_get_level() >= LOG_DEBUG) {
			_cleanup_free_ char *s = mount_tree_format(&trees[i]);
			pr_debug("mount tree of namespace %u (task %d):\n%s", trees[i].ns_id, d->mntns[i].pid, s);
		}
		ret = write_mount_image(d, &trees[i]);
	}
	for (size_t i = 0; !ret && i < d->nr_mntns; i++)
		ret = dump_tmpfs_contents(d, d->mntns[i].pid, &trees[i]);
	for (size_t i = 0; !ret && i < d->nr_mntns; i++)
		pr_info("dumped %zu mounts of mount namespace %u (task %d)\n", trees[i].nr, trees[i].ns_id,
			d->mntns[i].pid);
	return ret;
}

int dump_mounts(struct dump_ctx *d)
{
	struct mount_forest f = {.ns_by_vpid = &d->mntns_by_vpid};
	struct mount_tree *trees, host = {};
	struct stat self;
	int ret;

	if (!d->nr_mntns) {
		pr_err("the mount namespaces of the tree were not scanned\n");
		return -EINVAL;
	}
	if (stat("/proc/self/ns/mnt", &self)) {
		pr_perror("can't stat /proc/self/ns/mnt");
		return -errno;
	}
	if (d->mntns[0].ino == self.st_ino) {
		pr_info("task %d shares criu's mount namespace: no mount image\n", d->pid);
		d->mnt_ns_id = 0;
		return 0;
	}
	d->mnt_ns_id = d->mntns[0].id;
	trees = xzalloc(d->nr_mntns * sizeof(*trees));
	ret = read_namespaces(d, trees);
	/* criu's own namespace, read once: where autodetected mounts come
	 * from, and which peer groups reach outside the container */
	if (!ret)
		ret = read_mount_tree(0, &host);
	if (!ret) {
		mount_forest_index(&f, trees, d->nr_mntns);
		if (mount_classify_forest(&f, d->opts, &host))
			ret = -EINVAL;
	}
	if (!ret)
		ret = write_namespaces(d, trees);
	mount_forest_fini(&f);
	for (size_t i = 0; i < d->nr_mntns; i++)
		if (trees[i].mounts)
			mount_tree_free(&trees[i]);
	free(trees);
	if (host.mounts)
		mount_tree_free(&host);
	return ret;
}

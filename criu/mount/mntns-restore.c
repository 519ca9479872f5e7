/*
 * Act: the mount namespaces of a tree that had several (see
 * mount/mntns-restore.h for the kernel rules this follows).
 *
 * The builder starts in a new namespace, a copy of criu's, made slave of it
 * so that nothing done in it reaches the host. With one namespace, that copy
 * becomes the tree's: --root is attached and pivoted into. With several, the
 * copy becomes the base, pivoted into a small tmpfs of its own: each
 * namespace is begun by entering the base and unsharing, so that it starts
 * as a copy of that one mount, sharing no peer group with the tree's other
 * namespaces; its root mount is attached and pivoted into, and the copy
 * dropped. Propagation between
 * the namespaces is set up only once every mount is made
 * (mount/mount-propagation.c), as within one.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#define LOG_PREFIX "mnt: "
#include "mount/mntns-restore.h"
#include "util/log.h"
#include "util/syscalls.h"
#include "util/util.h"

int mntns_attach_root(int mfd, const char *root_path)
{
	if (sys_move_mount(mfd, "", AT_FDCWD, root_path, MOVE_MOUNT_F_EMPTY_PATH)) {
		pr_perror("can't attach the root clone at %s", root_path);
		return -errno;
	}
	if (chdir(root_path) || sys_pivot_root(".", ".") || umount2(".", MNT_DETACH) || chdir("/")) {
		pr_perror("can't pivot_root into %s", root_path);
		return -errno;
	}
	return 0;
}

/* The namespace the builder is in, as a descriptor to come back to
 * (through criu's /proc: the namespaces being built have none). */
static int own_ns_fd(const struct mount_plan *p)
{
	int fd = openat(p->proc_fd, "self/ns/mnt", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		pr_perror("can't open the new mount namespace");
	return fd < 0 ? -errno : fd;
}

/* Where a namespace's root mount is attached before the pivot: with
 * several, the one directory of the base. */
#define BASE_SLOT "/r"

const char *mntns_root_slot(const struct mount_plan *p, const char *root_path)
{
	return p->nr_ns > 1 ? BASE_SLOT : root_path;
}

/*
 * The base: a namespace holding one small tmpfs with an empty directory,
 * so that each namespace begun from it copies one mount, not every mount
 * of the host (which may have thousands).
 */
static int make_base(struct mount_plan *p, const char *root_path)
{
	_cleanup_close_ int fsfd = sys_fsopen("tmpfs", FSOPEN_CLOEXEC);
	_cleanup_close_ int mfd = -1;

	if (fsfd < 0 || sys_fsconfig(fsfd, FSCONFIG_SET_STRING, "size", "4k", 0) ||
	    sys_fsconfig(fsfd, FSCONFIG_SET_STRING, "mode", "0700", 0) ||
	    sys_fsconfig(fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0)) {
		pr_perror("can't make the base of the mount namespaces");
		return -errno;
	}
	mfd = sys_fsmount(fsfd, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
	if (mfd < 0 || mkdirat(mfd, &BASE_SLOT[1], 0700)) {
		pr_perror("can't make the base of the mount namespaces");
		return -errno;
	}
	p->base_fd = own_ns_fd(p);
	if (p->base_fd < 0)
		return p->base_fd;
	return mntns_attach_root(mfd, root_path);
}

int mntns_begin(struct mount_plan *p, const char *root_path)
{
	int ret;

	if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL)) {
		pr_perror("can't make the new namespace a slave of criu's");
		return -errno;
	}
	if (p->nr_ns <= 1) {
		p->cur_ns = 0;
		return 0;
	}
	p->proc_fd = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (p->proc_fd < 0) {
		pr_perror("can't open /proc");
		return -errno;
	}
	ret = make_base(p, root_path);
	if (ret)
		return ret;
	if (unshare(CLONE_NEWNS)) {
		pr_perror("can't make mount namespace %u", p->ns[0].id);
		return -errno;
	}
	p->ns[0].fd = own_ns_fd(p);
	if (p->ns[0].fd < 0)
		return p->ns[0].fd;
	p->cur_ns = 0;
	return 0;
}

int mntns_create(struct mount_plan *p, unsigned k, int mfd)
{
	struct rmntns *ns = &p->ns[k];
	int ret;

	if (setns(p->base_fd, CLONE_NEWNS) || unshare(CLONE_NEWNS)) {
		pr_perror("can't make mount namespace %u", ns->id);
		return -errno;
	}
	p->cur_ns = -1;
	ns->fd = own_ns_fd(p);
	if (ns->fd < 0)
		return ns->fd;
	ret = mntns_attach_root(mfd, BASE_SLOT);
	if (ret)
		return ret;
	p->cur_ns = (int)k;
	ns->root_fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (ns->root_fd < 0) {
		pr_perror("can't open the root of mount namespace %u", ns->id);
		return -errno;
	}
	pr_debug("made mount namespace %u with root %u:%s\n", ns->id, ns->root->e->mnt_id, ns->root->mountpoint);
	return 0;
}

int mntns_enter(struct mount_plan *p, unsigned k)
{
	if (p->cur_ns == (int)k)
		return 0;
	if (p->ns[k].fd < 0) {
		pr_err("mount namespace %u is needed before it is made\n", p->ns[k].id);
		return -EINVAL;
	}
	if (setns(p->ns[k].fd, CLONE_NEWNS)) {
		pr_perror("can't enter mount namespace %u", p->ns[k].id);
		return -errno;
	}
	p->cur_ns = (int)k;
	return 0;
}

int mntns_end(struct mount_plan *p)
{
	int ret = 0;

	if (p->nr_ns > 1)
		ret = mntns_enter(p, 0);
	if (p->base_fd >= 0)
		close(p->base_fd);
	if (p->proc_fd >= 0)
		close(p->proc_fd);
	p->base_fd = p->proc_fd = -1;
	if (!ret && p->ns[0].root_fd < 0) {
		p->ns[0].root_fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (p->ns[0].root_fd < 0)
			ret = -errno;
	}
	return ret;
}

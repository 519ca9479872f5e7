/*
 * Act: the mount namespaces of a tree that had several (see
 * mount/mntns-restore.h for the kernel rules this follows).
 *
 * The builder starts in a new namespace, a copy of criu's, made slave of it
 * so that nothing done in it reaches the host. With one namespace, that copy
 * becomes the tree's: --root is attached and pivoted into. With several, the
 * copy is kept as the base: each namespace is begun by entering the base and
 * unsharing, so that it starts as a private copy of criu's that shares no
 * peer group with the tree's other namespaces; its root mount is attached
 * and pivoted into, and the rest of the copy dropped. Propagation between
 * the namespaces is set up only once every mount is made
 * (mount/mount-propagation.c), as within one.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <sys/mount.h>
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

/* The namespace the builder is in, as a descriptor to come back to. */
static int own_ns_fd(void)
{
	int fd = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		pr_perror("can't open the new mount namespace");
	return fd < 0 ? -errno : fd;
}

int mntns_begin(struct mount_plan *p)
{
	if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL)) {
		pr_perror("can't make the new namespace a slave of criu's");
		return -errno;
	}
	if (p->nr_ns <= 1) {
		p->cur_ns = 0;
		return 0;
	}
	p->base_fd = own_ns_fd();
	if (p->base_fd < 0)
		return p->base_fd;
	if (unshare(CLONE_NEWNS)) {
		pr_perror("can't make mount namespace %u", p->ns[0].id);
		return -errno;
	}
	p->ns[0].fd = own_ns_fd();
	if (p->ns[0].fd < 0)
		return p->ns[0].fd;
	p->cur_ns = 0;
	return 0;
}

int mntns_create(struct mount_plan *p, unsigned k, int mfd, const char *root_path)
{
	struct rmntns *ns = &p->ns[k];
	int ret;

	if (setns(p->base_fd, CLONE_NEWNS) || unshare(CLONE_NEWNS)) {
		pr_perror("can't make mount namespace %u", ns->id);
		return -errno;
	}
	p->cur_ns = -1;
	/* /proc is criu's until the pivot */
	ns->fd = own_ns_fd();
	if (ns->fd < 0)
		return ns->fd;
	ret = mntns_attach_root(mfd, root_path);
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
	p->base_fd = -1;
	if (!ret && p->ns[0].root_fd < 0) {
		p->ns[0].root_fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (p->ns[0].root_fd < 0)
			ret = -errno;
	}
	return ret;
}

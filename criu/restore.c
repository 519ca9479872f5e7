/*
 * `criu restore`: reads the images, decides, then builds the tree in new
 * namespaces.
 *
 * The process engine is not there yet: images from a mounts-only dump hold no
 * process tree, so the restored mount namespace is held by a placeholder task
 * (pid 1 of a new pid namespace) that waits until it is killed.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#define LOG_PREFIX "restore: "
#include "crtools.h"
#include "image/image.h"
#include "inventory.pb-c.h"
#include "ipc/ipc-ns.h"
#include "net/netns.h"
#include "net/tcp.h"
#include "util/log.h"
#include "mount/mount-restore.h"
#include "task/rtree.h"
#include "util/syscalls.h"
#include "util/util.h"

#define IMAGES_VERSION 2

static int read_inventory(int dirfd, const char *dir, InventoryEntry **inv)
{
	struct img_reader r;
	ProtobufCMessage *msg = NULL;
	int ret;

	if (faccessat(dirfd, "inventory.img", F_OK, 0)) {
		pr_err("%s has no inventory.img: it is not a complete images directory\n", dir);
		pr_hint("was the dump successful? criu dump writes inventory.img last\n");
		return -ENOENT;
	}
	ret = img_reader_open(&r, dirfd, "inventory.img", IMG_INVENTORY);
	if (ret)
		return ret;
	ret = img_read_entry(&r, &msg);
	img_reader_close(&r);
	if (ret <= 0) {
		if (ret == 0)
			pr_err("%s/inventory.img has no entry\n", dir);
		return -EINVAL;
	}
	*inv = (InventoryEntry *)msg;
	if ((*inv)->img_version != IMAGES_VERSION) {
		pr_err("%s/inventory.img: images version %u is not supported (expected %u)\n", dir,
		       (*inv)->img_version, IMAGES_VERSION);
		return -EINVAL;
	}
	return 0;
}

/* The mount namespace's id: from the inventory when it says, else the one
 * mountpoints-N.img in the directory. 0: no mount image. */
static int find_mount_image(int dirfd, const InventoryEntry *inv, unsigned *ns_id)
{
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;
	unsigned found = 0, n = 0, id;
	int fd;

	if (inv->root_ids && inv->root_ids->has_mnt_ns_id) {
		*ns_id = inv->root_ids->mnt_ns_id;
		return 0;
	}
	fd = dup(dirfd);
	d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	while ((de = readdir(d))) {
		char tail;
		if (sscanf(de->d_name, "mountpoints-%u.im%c", &id, &tail) == 2 && tail == 'g') {
			found = id;
			n++;
		}
	}
	if (n > 1) {
		pr_err("several mount images and no inventory entry saying which is the root's\n");
		return -EINVAL;
	}
	*ns_id = found;
	return 0;
}

/* After a failed restore: established connections stay as dump left them. */
static void tcp_locked_hint(const struct rtree *t)
{
	size_t n = rtree_nr_tcp(t);

	if (n)
		pr_hint("its %zu TCP connections stay as the dump left them (locked, when their peer may be outside "
			"the tree: nftables tables inet criu_tcp_<inode>): restore again, or delete those tables to "
			"let the peers see the connections gone\n",
			n);
}

static int write_pidfile(const char *path, pid_t pid)
{
	FILE *f = fopen(path, "we");

	if (!f || fprintf(f, "%d", pid) < 0 || fclose(f)) {
		pr_perror("can't write pidfile %s", path);
		return -1;
	}
	return 0;
}

/*
 * In the child: pid 1 of the new namespaces, or (host mode: a tree dumped
 * from criu's own pid and mount namespaces) the root task itself, with its
 * dumped pid.
 */
static int restore_child(struct mount_plan *p, struct restore_mnt_ctx *c, struct rtree *tree, int status_fd,
			 int null, bool host)
{
	/* criu gone (killed, crashed) before the tree is restored: this, its
	 * init, goes too, and the pid namespace with it */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	release_stop_signals();
	/*
	 * First, while the host's /proc is still there to write them through:
	 * the IPC settings, the System V objects each with its id, and the
	 * next ids again as dumped (making the objects used them up).
	 */
	int ret = tree->ipc_var ? ipc_vars_apply(tree->ipc_var) : 0;

	if (!ret && tree->ipc_var)
		ret = sysv_create(&tree->sysv);
	if (!ret && tree->ipc_var && (tree->sysv.nr_shm || tree->sysv.nr_sem || tree->sysv.nr_msg))
		ret = ipc_vars_apply(tree->ipc_var);

	if (!ret && tree->netdev)
		ret = netns_apply(tree->netdev);

	if (!ret && !host)
		ret = mount_restore_build(p, c);

	if (!host)
		mount_restore_release(p, c);
	if (write(status_fd, &ret, sizeof(ret)) != sizeof(ret) || ret)
		_exit(1);
	if (tree->nr) {
		tree->imgs_dirfd = c->imgs_dirfd;
		rtree_fork_root(tree, status_fd); /* returns only on failure */
		_exit(1);
	}
	close(c->imgs_dirfd);
	close(status_fd);
	/* placeholder: hold the namespaces until killed, detached from criu's
	 * stdio so that whoever reads criu's output sees it end */
	if (null >= 0) {
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
	}
	close_range(3, ~0U, 0);
	/* it outlives criu (restore -d): not killed with it, as a tree's root would be until restored */
	prctl(PR_SET_PDEATHSIG, 0);
	prctl(PR_SET_NAME, "criu-nsholder");
	for (;;)
		pause();
}

int cr_restore(const struct options *o)
{
	struct mount_plan plan = {};
	struct rtree tree = {.host_proc_fd = -1};
	uint64_t frozen_ns = 0;
	struct restore_mnt_ctx c = { .imgs_dirfd = -1, .root_fd = -1 };
	InventoryEntry *inv = NULL;
	char root_path[PATH_MAX];
	unsigned ns_id = 0;
	int pipefd[2] = { -1, -1 }, status = -1, ret;
	bool host = false;
	_cleanup_close_ int null = -1;
	pid_t pid = -1;

	c.imgs_dirfd = open_images_dir(o->imgs_dir, false);
	if (c.imgs_dirfd < 0)
		return -1;
	ret = read_inventory(c.imgs_dirfd, o->imgs_dir, &inv);
	if (!ret)
		ret = find_mount_image(c.imgs_dirfd, inv, &ns_id);
	if (ret)
		goto out;
	ret = rtree_read(c.imgs_dirfd, &tree);
	if (ret)
		goto out;
	tree.auto_dedup = o->auto_dedup;
	ret = rtree_check_dedup(&tree);
	if (ret)
		goto out;
	/*
	 * No mount image: the tree shared criu's mount namespace when it was
	 * dumped (a process started from a shell, say). It comes back in ours,
	 * with its pids in ours: host mode.
	 */
	host = !ns_id;
	if (host && !tree.nr) {
		pr_err("%s holds neither a mount image (mountpoints-N.img) nor a process tree (pstree.img): nothing to restore\n",
		       o->imgs_dir);
		ret = -EINVAL;
		goto out;
	}
	if (host && tree.procs[0].vpid == 1) {
		pr_err("the root task of the images was pid 1 of its own pid namespace but shared its mount namespace; only containers (both of their own) or trees of neither can be restored\n");
		ret = -EOPNOTSUPP;
		goto out;
	}
	if (host && o->root) {
		pr_err("--root is for container images; these hold a tree that shared the host's mount namespace\n");
		pr_hint("drop --root: the tree comes back with the host's files, as it had them\n");
		ret = -EINVAL;
		goto out;
	}
	if (host) {
		pr_info("no mount image: restoring the tree in criu's pid and mount namespaces, with its pids\n");
		goto prepared;
	}
	if (!o->root) {
		pr_err("restoring a mount namespace needs the container's root filesystem\n");
		pr_hint("add --root ROOTFS (the directory the container's / comes from)\n");
		ret = -EINVAL;
		goto out;
	}
	if (!realpath(o->root, root_path)) {
		pr_perror("--root %s", o->root);
		ret = -errno;
		goto out;
	}
	c.root_path = root_path;

	if (tree.nr && tree.procs[0].vpid != 1) {
		pr_err("the root task of the images is pid %d of its pid namespace; only trees whose root is pid 1 "
		       "of their own pid namespace (containers) can be restored\n",
		       tree.procs[0].vpid);
		ret = -EOPNOTSUPP;
		goto out;
	}
	ret = mount_image_read(c.imgs_dirfd, ns_id, &plan);
	if (ret)
		goto out;
	if (mount_plan_decide(&plan, o, true)) {
		ret = -EINVAL;
		goto out;
	}
	if (log_get_level() >= LOG_DEBUG) {
		_cleanup_free_ char *s = mount_plan_format(&plan);
		pr_debug("restore plan:\n%s", s);
	}
	ret = mount_restore_prepare(&plan, &c, o);
	if (ret)
		goto out;
prepared:
	if (tree.nr && rtree_open_host_files(&tree, o)) {
		ret = -1;
		goto out;
	}
	/* opened here: after the pivot, the container may have no /dev/null */
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (pipe2(pipefd, O_CLOEXEC)) {
		ret = -errno;
		goto out;
	}
	struct clone_args args = {
		/*
		 * A UTS or IPC namespace of the tree's own is recreated (dump
		 * saved one only then); a tree that shared criu's comes back in
		 * criu's, like a network namespace. Mounts-only images keep the
		 * placeholder in new ones.
		 */
		.flags = (host ? 0 : CLONE_NEWNS | CLONE_NEWPID) | (!tree.nr || tree.nodename ? CLONE_NEWUTS : 0) |
			 (!tree.nr || tree.ipc_var ? CLONE_NEWIPC : 0) | (tree.netdev ? CLONE_NEWNET : 0),
		.exit_signal = SIGCHLD,
	};
	pid_t root_tid = host ? tree.procs[0].vpid : 0;

	tree.criu_pid = getpid();
	catch_stop_signals(); /* noted, in criu; the child sets them back (restore_child) */

	if (host) {
		args.set_tid = (uint64_t)(uintptr_t)&root_tid;
		args.set_tid_size = 1;
	}
	pid = sys_clone3(&args);
	if (pid < 0 && host && errno == EEXIST) {
		pr_err("pid %d, the root task's, is in use here; a tree restored in the host's pid namespace needs its pids free\n",
		       root_tid);
		ret = -EEXIST;
		goto out;
	}
	if (pid < 0) {
		pr_perror("can't create the new namespaces");
		ret = -errno;
		goto out;
	}
	if (pid == 0) {
		close(pipefd[0]);
		tree.host_mode = host;
		restore_child(&plan, &c, &tree, pipefd[1], null, host);
	}
	close(pipefd[1]);
	pipefd[1] = -1;
	if (read(pipefd[0], &status, sizeof(status)) != sizeof(status) || status) {
		/* the child is gone or going: its namespace and mounts with it */
		waitpid(pid, NULL, 0);
		pr_err("restore failed; nothing was left mounted on the host\n");
		tcp_locked_hint(&tree);
		ret = -1;
		goto out;
	}
	if (tree.nr && rtree_restore(&tree, pid, pipefd[0], &frozen_ns)) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		pr_err("restore failed; the restored tasks were killed and nothing was left mounted on the host\n");
		tcp_locked_hint(&tree);
		ret = -1;
		goto out;
	}
	release_stop_signals(); /* the tree runs: criu waits for it as any parent would */
	if (tree.nr)
		pr_info("restored %zu processes; memory: %llu MiB in %.3f s; tasks frozen for %.3f s\n", tree.nr,
			(unsigned long long)(tree.pages_bytes >> 20), tree.pages_ns / 1e9, frozen_ns / 1e9);
	if (o->pidfile && write_pidfile(o->pidfile, pid)) {
		rtree_kill(&tree);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		ret = -1;
		goto out;
	}
	if (!tree.nr)
		pr_warn("images hold no process tree (mounts-only dump): the mount namespace is held by placeholder task %d\n",
			pid);
	mount_restore_release(&plan, &c);
	if (o->restore_detached) {
		pr_msg("Restored: root task %d\n", pid);
		ret = 0;
		goto out;
	}
	/* as upstream without -d: wait for the root task, exit with its status */
	if (waitpid(pid, &status, 0) < 0) {
		ret = -errno;
		goto out;
	}
	ret = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	ret = ret ? -1 : 0;
out:
	if (pipefd[0] >= 0)
		close(pipefd[0]);
	if (pipefd[1] >= 0)
		close(pipefd[1]);
	mount_restore_release(&plan, &c);
	mount_plan_free(&plan);
	rtree_free(&tree);
	if (inv)
		inventory_entry__free_unpacked(inv, NULL);
	if (c.imgs_dirfd >= 0)
		close(c.imgs_dirfd);
	return ret ? -1 : 0;
}

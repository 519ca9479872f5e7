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
#include <poll.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#define LOG_PREFIX "restore: "
#include "cgroup/cgroup.h"
#include "crtools.h"
#include "files/tty.h"
#include "image/image.h"
#include "image/stats.h"
#include "notify.h"
#include "inventory.pb-c.h"
#include "ipc/ipc-ns.h"
#include "net/netns.h"
#include "net/tcp.h"
#include "util/log.h"
#include "mount/mount-restore.h"
#include "restore-plan.h"
#include "task/ns-join.h"
#include "task/rtree.h"
#include "task/timens.h"
#include "task/userns.h"
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
		pr_err("%s/inventory.img: images version %u is not supported (expected %u)\n", dir, (*inv)->img_version,
		       IMAGES_VERSION);
		return -EINVAL;
	}
	return 0;
}

/*
 * What inventory.img asks of the restore that criu can't do: upstream's
 * --tcp-close (connections closed on restore), uprobes, plugins. Without
 * the options upstream refuses these too.
 */
static int check_inventory(const InventoryEntry *inv, const char *dir)
{
	if (inv->has_tcp_close && inv->tcp_close) {
		pr_err("%s was dumped with --tcp-close (its TCP connections to be closed on restore), which criu "
		       "doesn't do\n",
		       dir);
		return -EOPNOTSUPP;
	}
	if (inv->has_allow_uprobes && inv->allow_uprobes) {
		pr_err("%s was dumped with --allow-uprobes: its memory has uprobe areas, which criu can't restore\n",
		       dir);
		return -EOPNOTSUPP;
	}
	if (inv->plugins_entry && inv->plugins_entry->n_plugins) {
		pr_err("%s needs the CRIU plugin %s%s to restore, which criu doesn't have\n", dir,
		       inv->plugins_entry->plugins[0], inv->plugins_entry->n_plugins > 1 ? " and others" : "");
		return -EOPNOTSUPP;
	}
	return 0;
}

/*
 * One pass over the images directory: the mount images and the namespace
 * images of older dumps (which only their presence marks), and any image
 * that carries state criu can't restore, each named (-EOPNOTSUPP).
 */
static int scan_images(int dirfd, const char *dir, struct restore_ns_inputs *in, bool net_unconfigured)
{
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;
	unsigned id;
	int fd = dup(dirfd), bad = 0;
	char tail;

	d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		pr_perror("can't list %s", dir);
		return -errno;
	}
	while ((de = readdir(d))) {
		const char *holds = restore_image_unsupported(de->d_name);

		if (holds && net_unconfigured && restore_image_of_netns(de->d_name)) {
			pr_info("%s/%s: left alone, the network namespace is not configured by restore\n", dir,
				de->d_name);
		} else if (holds) {
			pr_err("%s/%s holds %s, which criu can't restore yet\n", dir, de->d_name, holds);
			bad++;
		} else if (sscanf(de->d_name, "mountpoints-%u.im%c", &id, &tail) == 2 && tail == 'g') {
			in->mnt_image = id;
			in->nr_mnt_images++;
		}
		in->has_utsns1 |= !strcmp(de->d_name, "utsns-1.img");
		in->has_ipcns1 |= !strcmp(de->d_name, "ipcns-var-1.img");
		in->has_netns1 |= !strcmp(de->d_name, "netdev-1.img");
		in->has_timens0 |= !strcmp(de->d_name, "timens-0.img");
	}
	if (bad)
		pr_hint("the tree would come back without it; restore these images with upstream CRIU\n");
	return bad ? -EOPNOTSUPP : 0;
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
 * dumped pid. host_mounts: in criu's mount namespace, nothing to mount.
 */
static int restore_child(struct mount_plan *p, struct restore_mnt_ctx *c, struct rtree *tree, int status_fd, int null,
			 bool host_mounts, int *join_fds)
{
	/* criu gone (killed, crashed) before the tree is restored: this, its
	 * init, goes too, and the pid namespace with it */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	release_stop_signals();
	/* joined and external namespaces first: the IPC settings, lo and the
	 * mounts (sysfs shows its mounter's network) go into the right ones */
	if (ns_join_enter(join_fds)) {
		int err = -1;

		if (write(status_fd, &err, sizeof(err)) != sizeof(err))
			_exit(1);
		_exit(1);
	}
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

	c->tree = tree;
	if (!ret && !host_mounts)
		ret = mount_restore_build(p, c);
	if (!ret && !host_mounts && tree->nr)
		ret = rtree_take_mntns(tree, p);

	if (!host_mounts)
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

/* What one restore holds; restore_free() releases it, whatever happened. */
struct restore_run {
	const struct options *o;
	struct restore_plan plan;
	struct mount_plan mounts;
	struct restore_mnt_ctx mnt;
	struct rtree tree;
	InventoryEntry *inv;
	struct restore_ns ns;	    /* the namespaces the tree had of its own */
	struct ns_ext_images ext;   /* the ones that were someone else's */
	struct restore_ns_plan nsp; /* made, joined, inherited (restore_ns_plan) */
	int join_fds[RNS_NR];	    /* the ones entered, not made (task/ns-join.h) */
	char root_path[PATH_MAX];
	int pipefd[2]; /* the child's status, then the tree's readiness */
	int null;      /* /dev/null, for the placeholder */
	pid_t pid;     /* the root task, or the placeholder */
	int pidfd;     /* of pid: with --restore-sibling it is not criu's child */
	uint64_t t0, forked_ns;
	struct cg_restore *cg;	    /* the cgroups made for the tree (cgroup/cgroup.h) */
	struct userns_info *userns; /* the tree's own user namespace (task/userns.h); NULL: criu's */
	struct userns_clone uclone;
};

/*
 * The root task is gone or to go: wait until it is, so that its mounts
 * are gone too. criu's child is reaped; a sibling (--restore-sibling) is
 * its parent's to reap, so criu waits for its exit on the pidfd.
 */
static void reap_root(struct restore_run *r)
{
	struct pollfd p = {.fd = r->pidfd, .events = POLLIN};

	if (r->pid <= 0)
		return;
	if (!r->o->restore_sibling) {
		waitpid(r->pid, NULL, 0);
		return;
	}
	while (r->pidfd >= 0 && poll(&p, 1, 10000) < 0 && errno == EINTR)
		;
}

/* --empty-ns net or --join-ns net: the namespace's dumped configuration is not used. */
static bool restore_net_unconfigured(const struct options *o)
{
	if (o->empty_ns & CLONE_NEWNET)
		return true;
	for (size_t i = 0; i < o->nr_join_ns; i++)
		if (!strcmp(o->join_ns[i].ns, "net"))
			return true;
	return false;
}

/* Decide: which namespaces are made, joined, inherited (restore_ns_plan). */
static int plan_namespaces(struct restore_run *r)
{
	struct restore_ns_plan_inputs in;
	int ret = ns_ext_images_read(r->mnt.imgs_dirfd, &r->ns, &r->ext);

	if (ret)
		return ret;
	in = (struct restore_ns_plan_inputs){
		.ns = &r->ns,
		.net_ext_key = r->ext.net_key,
		.pid_ext_key = r->ext.pid_key,
		.netns_conf = r->ext.netns_conf,
		.root_vpid = r->tree.nr ? r->tree.procs[0].vpid : 0,
	};
	return restore_ns_plan(&in, r->o, &r->nsp);
}

/* Parse: the inventory, the process images, the namespaces they had. */
static int restore_read(struct restore_run *r, struct restore_inputs *in)
{
	const struct options *o = r->o;
	struct restore_ns_inputs nsin = {0};
	struct rtree_ns_images imgs;
	int ret;

	r->mnt.imgs_dirfd = open_images_dir(o->imgs_dir, false);
	if (r->mnt.imgs_dirfd < 0)
		return -1;
	ret = read_inventory(r->mnt.imgs_dirfd, o->imgs_dir, &r->inv);
	if (!ret)
		ret = check_inventory(r->inv, o->imgs_dir);
	if (!ret)
		ret = scan_images(r->mnt.imgs_dirfd, o->imgs_dir, &nsin, restore_net_unconfigured(o));
	if (!ret)
		ret = rtree_read(r->mnt.imgs_dirfd, &r->tree);
	if (ret)
		return ret;
	nsin.root_ids = r->inv->root_ids;
	nsin.task_ids = r->tree.nr ? r->tree.procs[0].ids : NULL;
	ret = restore_ns_decide(&nsin, &r->ns);
	if (!ret && r->ns.own[RNS_USER]) {
		r->userns = xzalloc(sizeof(*r->userns));
		ret = userns_read(r->mnt.imgs_dirfd, r->ns.id[RNS_USER], r->userns);
		userns_tree_set(ret ? NULL : r->userns); /* its ids: the mounts' options */
	}
	if (!ret)
		ret = plan_namespaces(r);
	if (ret)
		return ret;
	/* the dumped contents go only into namespaces restore makes */
	imgs = (struct rtree_ns_images){
		.uts = r->nsp.act[RNS_UTS] == NSA_CREATE ? r->ns.id[RNS_UTS] : 0,
		.ipc = r->nsp.act[RNS_IPC] == NSA_CREATE ? r->ns.id[RNS_IPC] : 0,
		.net = r->nsp.act[RNS_NET] == NSA_CREATE || r->nsp.act[RNS_NET] == NSA_EMPTY ? r->ns.id[RNS_NET] : 0,
		.net_lo_only = r->nsp.act[RNS_NET] == NSA_EMPTY,
		.sysv_joined = r->nsp.act[RNS_IPC] == NSA_JOIN,
		.timens = r->ns.new_timens,
		.timens_id = r->ns.timens_id,
	};
	if (!ret && r->tree.nr)
		ret = rtree_read_ns(&r->tree, &imgs);
	if (ret)
		return ret;
	r->tree.auto_dedup = o->auto_dedup;
	ret = rtree_check_dedup(&r->tree);
	*in = (struct restore_inputs){
		.imgs_dir = o->imgs_dir,
		.mnt_ns_id = r->ns.own[RNS_MNT] ? r->ns.id[RNS_MNT] : 0,
		.nr_procs = r->tree.nr,
		.root_vpid = r->tree.nr ? r->tree.procs[0].vpid : 0,
		/* images without root_ids: a root that is pid 1 had its own */
		.has_pidns = r->ns.own[RNS_PID] || (r->tree.nr && r->tree.procs[0].vpid == 1),
		.has_utsns = r->ns.own[RNS_UTS],
		.has_ipcns = r->ns.own[RNS_IPC],
		.has_netns = r->ns.own[RNS_NET],
		.has_userns = r->userns != NULL,
		.nsp = &r->nsp,
	};
	return ret;
}

/*
 * The tree's cgroups (--manage-cgroups, --cgroup-root): made before the
 * tasks, which enter them first thing (task/fork.c); every set a thread
 * names must be there.
 */
static int prepare_cgroups(struct restore_run *r)
{
	struct rtree *t = &r->tree;
	uint32_t criu_set = r->inv->has_root_cg_set ? r->inv->root_cg_set : 0;
	int ret;

	if (!t->nr)
		return 0;
	ret = cg_restore_prepare(r->mnt.imgs_dirfd, r->o, criu_set, rproc_cg_set(&t->procs[0]), r->ns.own[RNS_CGROUP],
				 &r->cg);
	for (size_t i = 0; !ret && r->cg && i < t->nr; i++)
		for (size_t k = 0; !ret && k < t->procs[i].nr_threads; k++) {
			uint32_t set = rthread_cg_set(&t->procs[i].threads[k]);

			if (cg_restore_has_set(r->cg, set))
				continue;
			pr_err("thread %d of process %d was in cgroup set %u, which cgroup.img does not hold\n",
			       t->procs[i].threads[k].vtid, t->procs[i].vpid, set);
			pr_hint("the images are incomplete; --manage-cgroups=ignore restores the tree in criu's "
				"cgroups\n");
			ret = -EINVAL;
		}
	t->cg = r->cg;
	t->criu_cg_set = criu_set;
	t->cg_own_ns = r->ns.own[RNS_CGROUP]; /* also with --manage-cgroups=ignore: never dropped */
	return ret;
}

/* The mount namespaces to make (restore_mntns_order). */
static int tree_mnt_namespaces(const struct restore_run *r, unsigned **ids, size_t *nr)
{
	const struct rtree *t = &r->tree;
	_cleanup_free_ struct restore_task_mntns *tasks = xzalloc((t->nr + 1) * sizeof(*tasks));

	for (size_t i = 0; i < t->nr; i++)
		tasks[i] = (struct restore_task_mntns){t->procs[i].vpid, t->procs[i].zombie, t->procs[i].ids};
	*ids = xmalloc((t->nr + 1) * sizeof(**ids));
	return restore_mntns_order(tasks, t->nr, r->plan.host_mounts, r->plan.mnt_ns_id, *ids, nr);
}

/* The mount namespaces to build: --root, the mount images, their plan, and
 * the detached clones of --root and the host paths. */
static int prepare_mounts(struct restore_run *r)
{
	const struct options *o = r->o;
	_cleanup_free_ unsigned *ids = NULL;
	size_t nr_ids;
	int ret;

	ret = tree_mnt_namespaces(r, &ids, &nr_ids);
	if (ret || r->plan.host_mounts)
		return ret;
	if (!realpath(o->root, r->root_path)) {
		pr_perror("--root %s", o->root);
		return -errno;
	}
	r->mnt.root_path = r->root_path;
	ret = mount_images_read(r->mnt.imgs_dirfd, ids, nr_ids, &r->mounts);
	if (ret)
		return ret;
	if (mount_plan_decide(&r->mounts, o, true))
		return -EINVAL;
	if (log_get_level() >= LOG_DEBUG) {
		_cleanup_free_ char *s = mount_plan_format(&r->mounts);
		pr_debug("restore plan:\n%s", s);
	}
	return mount_restore_prepare(&r->mounts, &r->mnt, o);
}

/*
 * The tree's clocks, when the images saved them: a time namespace for the
 * root task to be made in. A descriptor of criu's own to go back to, or
 * -ENOSYS when there is none to make (no clocks saved, or, for clocks of
 * the dumping criu's namespace, a kernel without time namespaces, as
 * upstream: the tree then sees the host's clocks), or -errno.
 */
static int start_timens(const struct restore_run *r)
{
	int fd;

	/* one of the tree's user namespace's is made by its root (task/userns.h) */
	if (!r->tree.timens || r->uclone.timens)
		return -ENOSYS;
	fd = timens_begin(r->tree.timens);
	if (fd == -ENOSYS && r->ns.own[RNS_TIME]) {
		pr_err("the tree had a time namespace of its own and this kernel has none (Linux 5.6 or later "
		       "needed)\n");
		return -EOPNOTSUPP;
	}
	if (fd == -ENOSYS)
		pr_warn("no time namespaces in this kernel: the tree sees the host's clocks, not its own\n");
	return fd;
}

/* The root task (or placeholder) in the namespaces of the plan; in the
 * child, restore_child() takes over and never returns. */
/*
 * --restore-sibling (RPC rst_sibling): the root task is made the child of
 * criu's parent (CLONE_PARENT), which waits for it, as runc and LXC do.
 * The kernel refuses CLONE_PARENT with CLONE_NEWPID, so the new pid
 * namespace is made for criu's children first (unshare) and criu goes
 * back to its own once the root exists (*pidns_fd).
 */
static int sibling_flags(struct clone_args *args, int *pidns_fd)
{
	args->flags |= CLONE_PARENT;
	/* clone3 wants none: the child gets criu's own, which its parent expects */
	args->exit_signal = 0;
	if (!(args->flags & CLONE_NEWPID))
		return 0;
	*pidns_fd = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
	if (*pidns_fd < 0 || unshare(CLONE_NEWPID)) {
		pr_perror("can't make the tree's pid namespace");
		if (*pidns_fd >= 0)
			close(*pidns_fd);
		*pidns_fd = -1;
		return -1;
	}
	args->flags &= ~(uint64_t)CLONE_NEWPID;
	return 0;
}

/*
 * An external pid namespace: criu's children are made in it (setns of a
 * pid namespace changes the caller's children's only), and criu goes back
 * to its own once the root exists (*pidns_fd, as for sibling_flags).
 */
static int enter_external_pidns(struct restore_run *r, int *pidns_fd)
{
	*pidns_fd = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
	if (*pidns_fd < 0 || setns(r->join_fds[RNS_PID], CLONE_NEWPID)) {
		pr_perror("can't enter the external pid namespace");
		if (*pidns_fd >= 0)
			close(*pidns_fd);
		*pidns_fd = -1;
		return -1;
	}
	return 0;
}

/* criu's side of the root's user namespace: criu's euid back, the maps
 * written (task/userns.h); a root without them is killed. Keeps errno. */
static void finish_userns_clone(struct restore_run *r)
{
	int err = errno;

	if (userns_clone_parent(r->userns, &r->uclone, r->pid, r->mnt.imgs_dirfd) && r->pid > 0) {
		kill(r->pid, SIGKILL); /* it never ran: it waits for its maps first */
		reap_root(r);
		r->pid = -1;
		err = EPERM;
	}
	errno = err;
}

static int start_child(struct restore_run *r)
{
	int timens_fd, pidns_fd = -1;
	pid_t root_tid = r->plan.root_pid;
	struct clone_args args = {
		.flags = r->plan.clone_flags,
		.exit_signal = SIGCHLD,
	};

	/* opened here: after the pivot, the container may have no /dev/null */
	r->null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (pipe2(r->pipefd, O_CLOEXEC))
		return -errno;
	/* in an external pid namespace the root sees its parent, criu, as 0 */
	r->tree.criu_pid = r->plan.pid_inherit ? 0 : getpid();
	/* the tasks open criu's hierarchy mounts as /proc/<criu>/fd/N: never 0 */
	r->tree.criu_host_pid = getpid();
	catch_stop_signals(); /* noted, in criu; the child sets them back (restore_child) */
	if (root_tid) {
		args.set_tid = (uint64_t)(uintptr_t)&root_tid;
		args.set_tid_size = 1;
	}
	r->uclone.timens = r->userns && r->ns.own[RNS_TIME] ? r->tree.timens : NULL;
	timens_fd = start_timens(r);
	if (timens_fd < 0 && timens_fd != -ENOSYS)
		return timens_fd;
	if (r->o->restore_sibling && sibling_flags(&args, &pidns_fd)) {
		timens_end(timens_fd);
		return -errno;
	}
	if (r->plan.pid_inherit && enter_external_pidns(r, &pidns_fd)) {
		timens_end(timens_fd);
		return -EIO;
	}
	args.flags |= CLONE_PIDFD;
	args.pidfd = (uint64_t)(uintptr_t)&r->pidfd;
	if (r->userns && userns_clone_begin(r->userns, &r->uclone, r->tree.nr ? r->tree.procs[0].core : NULL)) {
		if (pidns_fd >= 0 && setns(pidns_fd, CLONE_NEWPID))
			pr_perror("can't go back to criu's pid namespace");
		if (pidns_fd >= 0)
			close(pidns_fd);
		timens_end(timens_fd);
		return -EPERM;
	}
	r->forked_ns = monotonic_ns();
	r->pid = sys_clone3(&args);
	if (r->pid != 0 && r->userns)
		finish_userns_clone(r);
	if (r->pid != 0 && pidns_fd >= 0 && setns(pidns_fd, CLONE_NEWPID)) {
		pr_perror("can't go back to criu's pid namespace");
		if (r->pid > 0)
			kill(r->pid, SIGKILL);
		reap_root(r);
		close(pidns_fd);
		return -EIO;
	}
	if (pidns_fd >= 0 && r->pid != 0)
		close(pidns_fd);
	if (r->pid != 0 && timens_end(timens_fd) && r->pid > 0) {
		kill(r->pid, SIGKILL); /* criu's later children would be in the tree's time namespace */
		reap_root(r);
		return -EIO;
	}
	if (r->pid < 0 && root_tid && errno == EEXIST) {
		pr_err("pid %d, the root task's, is in use %s; a tree restored in %s pid namespace needs its pids "
		       "free\n",
		       root_tid, r->plan.pid_inherit ? "in the external pid namespace" : "here",
		       r->plan.pid_inherit ? "an existing" : "the host's");
		return -EEXIST;
	}
	if (r->pid < 0) {
		pr_perror("can't create the new namespaces");
		return -errno;
	}
	if (r->pid == 0) {
		if (timens_fd >= 0)
			close(timens_fd);
		close(r->pipefd[0]);
		/* an existing pid namespace: each task dies with its parent until restored */
		r->tree.host_mode = r->plan.host_pids || r->plan.pid_inherit;
		if (r->userns && userns_clone_child(r->userns, &r->uclone, r->mnt.imgs_dirfd))
			_exit(1); /* criu sees the status pipe close */
		restore_child(&r->mounts, &r->mnt, &r->tree, r->pipefd[1], r->null, r->plan.host_mounts, r->join_fds);
	}
	ns_join_close(r->join_fds);
	close(r->pipefd[1]);
	r->pipefd[1] = -1;
	return 0;
}

/* post-restore, network-unlock, pre-resume: the tree restored, still held. */
static int before_resume(void *arg)
{
	struct restore_run *r = arg;

	if (tty_orphan_notify(&r->tree, r->o) || cr_notify(r->o, ACT_POST_RESTORE, r->pid))
		return -ECANCELED;
	if (r->ns.own[RNS_NET] && cr_notify(r->o, ACT_NET_UNLOCK, r->pid))
		return -ECANCELED;
	return cr_notify(r->o, ACT_PRE_RESUME, r->pid) ? -ECANCELED : 0;
}

/* The child's namespaces made, then the tree restored in them. */
static int restore_tree(struct restore_run *r, uint64_t *frozen_ns)
{
	int status = -1, ret = 0;

	if (read(r->pipefd[0], &status, sizeof(status)) != sizeof(status) || status) {
		/* the child is gone or going: its namespace and mounts with it */
		reap_root(r);
		pr_err("restore failed; nothing was left mounted on the host\n");
		tcp_locked_hint(&r->tree);
		return -1;
	}
	if (cr_notify(r->o, ACT_SETUP_NS, r->pid) || cr_notify(r->o, ACT_POST_SETUP_NS, r->pid))
		ret = -ECANCELED;
	if (!ret && r->tree.nr)
		ret = rtree_restore(&r->tree, r->pid, r->pipefd[0], frozen_ns, before_resume, r);
	else if (!ret)
		ret = before_resume(r);
	if (ret) {
		kill(r->pid, SIGKILL);
		reap_root(r);
		pr_err("restore failed; the restored tasks were killed and nothing was left mounted on the host\n");
		tcp_locked_hint(&r->tree);
		return -1;
	}
	return 0;
}

/* stats-restore in the work directory; a restore that worked does not fail for it. */
static void write_restore_stats(const struct restore_run *r)
{
	const struct options *o = r->o;
	struct restore_stats s = {
		.forking_ns = r->forked_ns ? r->forked_ns - r->t0 : 0,
		.restore_ns = monotonic_ns() - r->t0,
		.pages_restored = r->tree.pages_bytes / 4096,
	};
	int dirfd = open(o->work_dir ? o->work_dir : o->imgs_dir, O_DIRECTORY | O_RDONLY | O_CLOEXEC);

	if (dirfd < 0 || stats_write_restore(dirfd, &s))
		pr_warn("no stats-restore written\n");
	if (dirfd >= 0)
		close(dirfd);
}

/* --pidfile: a tree restored without it is killed (the caller could not find it). */
static int write_root_pidfile(struct restore_run *r)
{
	if (!r->o->pidfile || !write_pidfile(r->o->pidfile, r->pid))
		return 0;
	rtree_kill(&r->tree);
	kill(r->pid, SIGKILL);
	reap_root(r);
	return -1;
}

/* The tree runs: -d, or wait for the root as its parent. */
static int restore_wait_or_detach(struct restore_run *r, uint64_t frozen_ns)
{
	const struct options *o = r->o;
	struct rtree *t = &r->tree;
	int status;

	release_stop_signals(); /* the tree runs: criu waits for it as any parent would */
	if (t->nr)
		pr_info("restored %zu processes; memory: %llu MiB in %.3f s; tasks frozen for %.3f s\n", t->nr,
			(unsigned long long)(t->pages_bytes >> 20), t->pages_ns / 1e9, frozen_ns / 1e9);
	if (cr_notify(o, ACT_POST_RESUME, r->pid))
		pr_warn("post-resume said no, but the tree runs already: it is left running\n");
	write_restore_stats(r);
	if (r->plan.placeholder)
		pr_warn("images hold no process tree (mounts-only dump): the mount namespace is held by placeholder "
			"task %d\n",
			r->pid);
	mount_restore_release(&r->mounts, &r->mnt);
	if (o->restore_detached || o->restore_sibling) {
		pr_msg("Restored: root task %d\n", r->pid);
		return 0;
	}
	/* as upstream without -d: wait for the root task, exit with its status */
	if (waitpid(r->pid, &status, 0) < 0)
		return -errno;
	status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	return status ? -1 : 0;
}

static void restore_free(struct restore_run *r)
{
	if (r->pipefd[0] >= 0)
		close(r->pipefd[0]);
	if (r->pipefd[1] >= 0)
		close(r->pipefd[1]);
	if (r->null >= 0)
		close(r->null);
	mount_restore_release(&r->mounts, &r->mnt);
	mount_plan_free(&r->mounts);
	rtree_free(&r->tree);
	ns_join_close(r->join_fds);
	ns_ext_images_free(&r->ext);
	cg_restore_free(r->cg);
	userns_tree_set(NULL);
	free(r->userns);
	if (r->inv)
		inventory_entry__free_unpacked(r->inv, NULL);
	if (r->mnt.imgs_dirfd >= 0)
		close(r->mnt.imgs_dirfd);
}

int cr_restore(const struct options *o)
{
	return cr_restore_tree(o, NULL);
}

int cr_restore_tree(const struct options *o, pid_t *root)
{
	struct restore_run r = {
		.o = o,
		.tree = {.host_proc_fd = -1},
		.mnt = {.imgs_dirfd = -1, .root_fd = -1},
		.pipefd = {-1, -1},
		.null = -1,
		.pid = -1,
		.pidfd = -1,
		.join_fds = {-1, -1, -1, -1, -1, -1, -1, -1},
		.t0 = monotonic_ns(),
	};
	struct restore_inputs in;
	uint64_t frozen_ns = 0;
	int ret;

	if (cr_notify(o, ACT_PRE_RESTORE, 0))
		return -1;
	ret = restore_read(&r, &in);
	if (!ret)
		ret = restore_plan_decide(&in, o, &r.plan);
	if (!ret && r.plan.host_pids)
		pr_info("no mount image: restoring the tree in criu's pid and mount namespaces, with its pids\n");
	else if (!ret && r.plan.host_mounts && r.plan.pid_inherit)
		pr_info("no mount image: restoring the tree in criu's mount namespace, in the external pid namespace, "
			"with its pids\n");
	else if (!ret && r.plan.host_mounts)
		pr_info("no mount image: restoring the tree in criu's mount namespace, as pid 1 of a new pid "
			"namespace\n");
	if (!ret)
		ret = prepare_mounts(&r);
	if (!ret && r.tree.nr && rtree_open_host_files(&r.tree, o))
		ret = -1;
	if (!ret)
		ret = ns_join_open(&r.nsp, r.join_fds);
	if (!ret)
		ret = prepare_cgroups(&r);
	if (!ret)
		ret = start_child(&r);
	if (!ret)
		ret = restore_tree(&r, &frozen_ns);
	if (!ret)
		ret = write_root_pidfile(&r);
	if (ret)
		cg_restore_undo(r.cg); /* every failure after prepare_cgroups: the tasks are gone */
	if (!ret)
		ret = restore_wait_or_detach(&r, frozen_ns);
	if (!ret && root)
		*root = r.pid;
	if (r.pidfd >= 0)
		close(r.pidfd);
	restore_free(&r);
	return ret ? -1 : 0;
}

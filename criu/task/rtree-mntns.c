/*
 * Act: the tree's mount namespaces, for its tasks. The mount builder (the
 * root task, before it forks: mount/mount-restore.c) hands them over; each
 * task that was in another namespace than its parent enters its own right
 * after fork, before its children, threads and files (setns needs an fs
 * of its own, which a task forked without CLONE_FS has). Files are opened
 * by the root for the whole tree, each in its holder's namespace, where
 * dump checked that its name leads to it (the mount it was opened on may be
 * of the namespace the holder left when it unshared, where the name may now
 * lead elsewhere).
 */
#define LOG_PREFIX "restore: "

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <unistd.h>

#include "mount/mount-restore.h"
#include "task/rtree.h"
#include "util/log.h"
#include "util/syscalls.h"
#include "util/util.h"

static int add_mntns(struct rtree *t, uint32_t id, int fd, int root_fd)
{
	int above = rtree_fd_above(t);
	struct rtree_mntns *ns;

	if (!t->nr_mntns)
		hmap_init(&t->mntns_by_id);
	hmap_put_int(&t->mntns_by_id, id, (void *)(uintptr_t)(t->nr_mntns + 1));
	t->mntns = xrealloc(t->mntns, (t->nr_mntns + 1) * sizeof(*t->mntns));
	ns = &t->mntns[t->nr_mntns++];
	ns->id = id;
	ns->fd = fd >= 0 ? fcntl(fd, F_DUPFD_CLOEXEC, above) : -1;
	ns->root_fd = fcntl(root_fd, F_DUPFD_CLOEXEC, above);
	if ((fd >= 0 && ns->fd < 0) || ns->root_fd < 0) {
		pr_perror("can't keep mount namespace %u for the tasks", id);
		return -errno;
	}
	return 0;
}

int rtree_take_mntns(struct rtree *t, const struct mount_plan *p)
{
	int ret = 0;

	for (size_t k = 0; k < p->nr_ns && !ret; k++)
		ret = add_mntns(t, p->ns[k].id, p->ns[k].fd, p->ns[k].root_fd);
	return ret;
}

static int mntns_index(const struct rtree *t, uint32_t id)
{
	return (int)(uintptr_t)hmap_get_int(&t->mntns_by_id, id) - 1;
}

static int enter_index(struct rtree *t, int k, const struct rproc *p)
{
	if (k == t->cur_mntns)
		return 0;
	if (setns(t->mntns[k].fd, CLONE_NEWNS)) {
		pr_perror("process %d: can't enter mount namespace %u", p ? p->vpid : 0, t->mntns[k].id);
		return -errno;
	}
	t->cur_mntns = k;
	return 0;
}

int rtree_enter_mntns(struct rtree *t, const struct rproc *p)
{
	int k;

	if (t->nr_mntns <= 1 || !p || !p->ids || !p->ids->has_mnt_ns_id)
		return t->nr_mntns > 1 ? enter_index(t, 0, p) : 0;
	k = mntns_index(t, p->ids->mnt_ns_id);
	if (k < 0) {
		pr_err("process %d: its mount namespace %u was not restored\n", p->vpid, p->ids->mnt_ns_id);
		return -EINVAL;
	}
	return enter_index(t, k, p);
}

void rtree_free_mntns(struct rtree *t)
{
	for (size_t k = 0; k < t->nr_mntns; k++) {
		if (t->mntns[k].fd >= 0)
			close(t->mntns[k].fd);
		if (t->mntns[k].root_fd >= 0)
			close(t->mntns[k].root_fd);
	}
	if (t->nr_mntns)
		hmap_free(&t->mntns_by_id);
	free(t->mntns);
	t->mntns = NULL;
	t->nr_mntns = 0;
}

/*
 * `criu restore`, decide: container or host restore, the namespaces the
 * root task is made in, and the refusals (see restore-plan.h).
 */
#include <errno.h>
#include <sched.h>
#include <string.h>

#define LOG_PREFIX "restore: "
#include "restore-plan.h"
#include "util/log.h"

/* A tree that shared criu's mount namespace comes back in criu's namespaces. */
static int decide_host(const struct restore_inputs *in, const struct options *o)
{
	if (!in->nr_procs) {
		pr_err("%s holds neither a mount image (mountpoints-N.img) nor a process tree (pstree.img): nothing to "
		       "restore\n",
		       in->imgs_dir);
		return -EINVAL;
	}
	if (in->root_vpid == 1) {
		pr_err("the root task of the images was pid 1 of its own pid namespace but shared its mount namespace; "
		       "only containers (both of their own) or trees of neither can be restored\n");
		return -EOPNOTSUPP;
	}
	if (o->root) {
		pr_err("--root is for container images; these hold a tree that shared the host's mount namespace\n");
		pr_hint("drop --root: the tree comes back with the host's files, as it had them\n");
		return -EINVAL;
	}
	return 0;
}

/* A container: its mounts rebuilt under --root, its root task pid 1. */
static int decide_container(const struct restore_inputs *in, const struct options *o)
{
	if (!o->root) {
		pr_err("restoring a mount namespace needs the container's root filesystem\n");
		pr_hint("add --root ROOTFS (the directory the container's / comes from)\n");
		return -EINVAL;
	}
	if (in->nr_procs && in->root_vpid != 1) {
		pr_err("the root task of the images is pid %d of its pid namespace; only trees whose root is pid 1 "
		       "of their own pid namespace (containers) can be restored\n",
		       in->root_vpid);
		return -EOPNOTSUPP;
	}
	return 0;
}

/*
 * A UTS or IPC namespace of the tree's own is recreated (dump saved one
 * only then); a tree that shared criu's comes back in criu's, like a
 * network namespace. Mounts-only images keep the placeholder in new ones.
 */
static uint64_t clone_flags(const struct restore_inputs *in, bool host)
{
	uint64_t f = host ? 0 : CLONE_NEWNS | CLONE_NEWPID;

	if (!in->nr_procs || in->has_utsns)
		f |= CLONE_NEWUTS;
	if (!in->nr_procs || in->has_ipcns)
		f |= CLONE_NEWIPC;
	if (in->has_netns)
		f |= CLONE_NEWNET;
	return f;
}

int restore_plan_decide(const struct restore_inputs *in, const struct options *o, struct restore_plan *plan)
{
	bool host = !in->mnt_ns_id;
	int ret = host ? decide_host(in, o) : decide_container(in, o);

	memset(plan, 0, sizeof(*plan));
	if (ret)
		return ret;
	plan->host = host;
	plan->placeholder = !in->nr_procs;
	plan->mnt_ns_id = in->mnt_ns_id;
	plan->clone_flags = clone_flags(in, host);
	plan->root_pid = host ? in->root_vpid : 0;
	return 0;
}

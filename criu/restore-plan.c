/*
 * `criu restore`, decide: container, host, pid-namespace-only or
 * mount-namespace-only restore, the namespaces the
 * root task is made in, and the refusals (see restore-plan.h).
 */
#include <ctype.h>
#include <errno.h>
#include <sched.h>
#include <stdbool.h>
#include <string.h>

#define LOG_PREFIX "restore: "
#include "restore-plan.h"
#include "util/hashmap.h"
#include "pstree.pb-c.h"
#include "util/log.h"

/*
 * A tree that shared criu's mount namespace comes back in it: in criu's pid
 * namespace too, or as pid 1 of a new one if it had its own.
 */
static bool pid_inherited(const struct restore_inputs *in)
{
	return in->nsp && in->nsp->act[RNS_PID] == NSA_INHERIT;
}

static int decide_host(const struct restore_inputs *in, const struct options *o)
{
	if (!in->nr_procs) {
		pr_err("%s holds neither a mount image (mountpoints-N.img) nor a process tree (pstree.img): nothing to "
		       "restore\n",
		       in->imgs_dir);
		return -EINVAL;
	}
	if (in->has_pidns && in->root_vpid != 1 && !pid_inherited(in)) {
		pr_err("the root task of the images is pid %d of a pid namespace it did not start (its pid 1 was not "
		       "dumped); only a tree whose root is pid 1 of its pid namespace can have that namespace "
		       "restored\n",
		       in->root_vpid);
		pr_hint("dump the pid namespace's init (pid 1) and its whole tree\n");
		return -EOPNOTSUPP;
	}
	if (o->root) {
		pr_err("--root is for container images; these hold a tree that shared the host's mount namespace\n");
		pr_hint("drop --root: the tree comes back with the host's files, as it had them\n");
		return -EINVAL;
	}
	return 0;
}

/*
 * A container: its mounts rebuilt under --root, its root task pid 1 of a
 * new pid namespace; or, for a tree that was in criu's pid namespace, its
 * tasks there with their dumped pids.
 */
static int decide_container(const struct restore_inputs *in, const struct options *o)
{
	if (!o->root) {
		pr_err("restoring a mount namespace needs the container's root filesystem\n");
		pr_hint("add --root ROOTFS (the directory the container's / comes from)\n");
		return -EINVAL;
	}
	if (in->nr_procs && in->has_pidns && in->root_vpid != 1 && !pid_inherited(in)) {
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
static uint64_t clone_flags(const struct restore_inputs *in, bool host_mounts, bool host_pids)
{
	uint64_t f = (host_mounts ? 0 : CLONE_NEWNS) | (host_pids || pid_inherited(in) ? 0 : CLONE_NEWPID);
	const struct restore_ns_plan *p = in->nsp;

	/* a namespace joined or inherited is entered (setns), not made */
	if ((!in->nr_procs || in->has_utsns) && !(p && p->act[RNS_UTS] == NSA_JOIN))
		f |= CLONE_NEWUTS;
	if ((!in->nr_procs || in->has_ipcns) && !(p && p->act[RNS_IPC] == NSA_JOIN))
		f |= CLONE_NEWIPC;
	if (p ? p->act[RNS_NET] == NSA_CREATE || p->act[RNS_NET] == NSA_EMPTY : in->has_netns)
		f |= CLONE_NEWNET;
	/* with the others: they are made in it, owned by it (task/userns.h) */
	if (in->has_userns)
		f |= CLONE_NEWUSER;
	return f;
}

int restore_plan_decide(const struct restore_inputs *in, const struct options *o, struct restore_plan *plan)
{
	bool host_mounts = !in->mnt_ns_id;
	int ret = host_mounts ? decide_host(in, o) : decide_container(in, o);

	memset(plan, 0, sizeof(*plan));
	if (ret)
		return ret;
	plan->host_mounts = host_mounts;
	plan->host_pids = in->nr_procs && !in->has_pidns;
	plan->pid_inherit = pid_inherited(in);
	plan->placeholder = !in->nr_procs;
	plan->mnt_ns_id = in->mnt_ns_id;
	plan->clone_flags = clone_flags(in, plan->host_mounts, plan->host_pids);
	plan->root_pid = plan->host_pids || plan->pid_inherit ? in->root_vpid : 0;
	return 0;
}

/* The root task's and the dumping criu's id of kind k; false if either is unknown. */
static bool ns_ids(const TaskKobjIdsEntry *task, const TaskKobjIdsEntry *root, enum restore_ns_kind k, unsigned *t,
		   unsigned *r)
{
	uint32_t a, b;
	bool in_task = kobj_ns_id(task, (enum kobj_ns)k, &a);
	bool in_root = kobj_ns_id(root, (enum kobj_ns)k, &b);

	*t = a;
	*r = b;
	return in_task && in_root;
}

/* Images with root_ids: a kind is the tree's own when its ids differ. */
static void decide_by_ids(const struct restore_ns_inputs *in, struct restore_ns *ns)
{
	for (int k = 0; k < RNS_NR; k++) {
		unsigned t = 0, r = 0;

		if (ns_ids(in->task_ids, in->root_ids, (enum restore_ns_kind)k, &t, &r) && t != r) {
			ns->own[k] = true;
			ns->id[k] = t;
		}
	}
}

/* Older images of ours: what is there; all of the tree's ids were 1. */
static int decide_by_images(const struct restore_ns_inputs *in, struct restore_ns *ns)
{
	if (in->nr_mnt_images > 1) {
		pr_err("several mount images and no inventory entry saying which is the root's\n");
		return -EINVAL;
	}
	if (in->nr_mnt_images) {
		ns->own[RNS_MNT] = ns->own[RNS_PID] = true;
		ns->id[RNS_MNT] = in->mnt_image;
		ns->id[RNS_PID] = 1;
	}
	ns->own[RNS_UTS] = in->has_utsns1;
	ns->own[RNS_IPC] = in->has_ipcns1;
	ns->own[RNS_NET] = in->has_netns1;
	for (int k = RNS_UTS; k <= RNS_NET; k++)
		ns->id[k] = ns->own[k] ? 1 : 0;
	return 0;
}

int restore_ns_decide(const struct restore_ns_inputs *in, struct restore_ns *ns)
{
	int ret = 0;

	memset(ns, 0, sizeof(*ns));
	if (in->root_ids && in->task_ids)
		decide_by_ids(in, ns);
	else
		ret = decide_by_images(in, ns);
	if (ret)
		return ret;
	/* a cgroup namespace of its own: made by the root task at its
	 * cgroups' root (cgroup/cgroup.h), not by a clone flag */
	/*
	 * As upstream: a time namespace of the tree's own comes back with its
	 * clocks; so does a tree that shared the dumping criu's, when its
	 * clocks were saved (timens-0.img), so that they go on from where
	 * they were rather than jump with the host's.
	 */
	if (ns->own[RNS_TIME]) {
		ns->new_timens = true;
		ns->timens_id = ns->id[RNS_TIME];
	} else if (in->has_timens0) {
		ns->new_timens = true;
		ns->timens_id = 0;
	}
	return 0;
}

/* The --join-ns of kind `ns`, or NULL. */
static const char *joined(const struct options *o, const char *ns)
{
	for (size_t i = 0; i < o->nr_join_ns; i++)
		if (!strcmp(o->join_ns[i].ns, ns))
			return o->join_ns[i].path;
	return NULL;
}

/* An external namespace's descriptor, from --inherit-fd fd[N]:KEY. */
static int inherited(const struct options *o, const char *what, const char *key, int *fd)
{
	for (size_t i = 0; i < o->nr_inherit_fds; i++)
		if (!strcmp(o->inherit_fds[i].res, key)) {
			*fd = o->inherit_fds[i].fd;
			return 0;
		}
	pr_err("the tree's %s namespace was external at dump, named %s: restore needs the namespace to put it in\n",
	       what, key);
	pr_hint("pass a descriptor of it: --inherit-fd fd[N]:%s (RPC inherit_fd {key: \"%s\", fd: N}), e.g. N "
		"opened on /proc/PID/ns/%s\n",
		key, key, what);
	return -EINVAL;
}

/* The network namespace: external, joined, left empty, made, or criu's. */
static int plan_net(const struct restore_ns_plan_inputs *in, const struct options *o, struct restore_ns_plan *p)
{
	const char *join = joined(o, "net");
	bool empty = o->empty_ns & CLONE_NEWNET;

	if (join && empty) {
		pr_err("--join-ns net:%s and --empty-ns net ask for two different network namespaces\n", join);
		pr_hint("drop one of them\n");
		return -EINVAL;
	}
	if (in->net_ext_key && join) {
		pr_err("--join-ns net:%s: the images say the tree's network namespace is the external one named "
		       "%s, given with --inherit-fd\n",
		       join, in->net_ext_key);
		pr_hint("drop --join-ns net, and pass --inherit-fd fd[N]:%s\n", in->net_ext_key);
		return -EINVAL;
	}
	if (in->net_ext_key) {
		p->act[RNS_NET] = NSA_INHERIT;
		return inherited(o, "net", in->net_ext_key, &p->fd[RNS_NET]);
	}
	if (join) {
		p->act[RNS_NET] = NSA_JOIN;
		p->path[RNS_NET] = join;
	} else if (in->ns->own[RNS_NET]) {
		p->act[RNS_NET] = empty ? NSA_EMPTY : NSA_CREATE;
	}
	if (p->act[RNS_NET] == NSA_CREATE && in->netns_conf) {
		pr_err("netns-%u.img holds the network namespace's settings (sysctls), which criu can't restore\n",
		       in->ns->id[RNS_NET]);
		pr_hint("restore with --empty-ns net (a new, unconfigured namespace) or --join-ns net:PATH\n");
		return -EOPNOTSUPP;
	}
	return 0;
}

/*
 * The root, made in the tree's own user namespace, enters joined and
 * external namespaces itself (task/ns-join.h): it has no power over one
 * that namespace doesn't own. The pid namespace is criu's to enter.
 */
static int check_joined_in_userns(const struct restore_ns_plan_inputs *in, const struct restore_ns_plan *p)
{
	static const struct {
		enum restore_ns_kind k;
		const char *name;
	} entered[] = {{RNS_NET, "net"}, {RNS_UTS, "uts"}, {RNS_IPC, "ipc"}};

	if (!in->ns->own[RNS_USER])
		return 0;
	for (size_t i = 0; i < sizeof(entered) / sizeof(entered[0]); i++) {
		if (p->act[entered[i].k] != NSA_JOIN && p->act[entered[i].k] != NSA_INHERIT)
			continue;
		pr_err("the tree had a user namespace of its own: its %s namespace can't be joined or inherited, "
		       "only made in it\n",
		       entered[i].name);
		pr_hint("drop --join-ns %s (or the --inherit-fd of the external one): criu makes the namespaces of "
			"such a tree in its user namespace\n",
			entered[i].name);
		return -EOPNOTSUPP;
	}
	return 0;
}

int restore_ns_plan(const struct restore_ns_plan_inputs *in, const struct options *o, struct restore_ns_plan *p)
{
	int ret;

	static const struct {
		enum restore_ns_kind k;
		const char *name;
	} joinable[] = {{RNS_UTS, "uts"}, {RNS_IPC, "ipc"}};

	memset(p, 0, sizeof(*p));
	for (int k = 0; k < RNS_NR; k++) {
		p->act[k] = in->ns->own[k] ? NSA_CREATE : NSA_SHARE;
		p->fd[k] = -1;
	}
	for (size_t i = 0; i < sizeof(joinable) / sizeof(joinable[0]); i++) {
		p->path[joinable[i].k] = joined(o, joinable[i].name);
		if (p->path[joinable[i].k])
			p->act[joinable[i].k] = NSA_JOIN;
	}
	if (in->pid_ext_key) {
		if (in->root_vpid == 1) {
			pr_err("the tree's pid namespace was external (%s), yet its root task is that namespace's "
			       "pid 1: restore can't make it there\n",
			       in->pid_ext_key);
			return -EINVAL;
		}
		p->act[RNS_PID] = NSA_INHERIT;
		if (inherited(o, "pid", in->pid_ext_key, &p->fd[RNS_PID]))
			return -EINVAL;
	}
	ret = plan_net(in, o, p);
	if (!ret && in->ns->own[RNS_USER] && o->restore_sibling) {
		/* criu's own unshare(CLONE_NEWPID) would make it outside the user namespace */
		pr_err("the tree had a user namespace of its own: --restore-sibling (RPC rst_sibling) would make its "
		       "pid namespace outside it, where the tree can't mount its /proc\n");
		pr_hint("restore it as criu's child (criu restore -d); runc and crun always ask for rst_sibling, "
			"which such a tree can't have yet\n");
		return -EOPNOTSUPP;
	}
	return ret ? ret : check_joined_in_userns(in, p);
}

/*
 * Kinds of image upstream CRIU writes that criu can't restore yet, by file
 * name: a prefix and a suffix, a number (the id) between them when both
 * are given.
 */
static const struct {
	const char *prefix, *suffix, *holds;
} unsupported_images[] = {
	{"ifaddr-", ".img", "a network namespace's addresses"},
	{"route-", ".img", "a network namespace's IPv4 routes"},
	{"route6-", ".img", "a network namespace's IPv6 routes"},
	{"rule-", ".img", "a network namespace's routing rules"},
	{"iptables-", ".img", "a network namespace's iptables rules"},
	{"ip6tables-", ".img", "a network namespace's ip6tables rules"},
	{"nftables-", ".img", "a network namespace's nftables rules"},
	{"netns-ct-", ".img", "a network namespace's conntrack entries"},
	{"netns-exp-", ".img", "a network namespace's conntrack expectations"},
	{"ghost-file-", ".img", "the contents of deleted files still open"},
	{"remap-fpath.img", NULL, "files open through paths since removed or moved"},
	{"filelocks.img", NULL, "file locks"},
	{"tty-data.img", NULL, "data queued in terminals"},
	{"apparmor.img", NULL, "AppArmor namespaces and policies"},
	{"autofs-", ".img", "autofs mounts"},
	{"binfmt-misc.img", NULL, "binfmt_misc registrations"},
	{"bpfmap-file.img", NULL, "BPF maps"},
	{"bpfmap-data.img", NULL, "BPF maps' contents"},
	{"tmpfs-", ".tar.gz.img", "tmpfs contents named by mount id (older images)"},
	{"vmas-", ".img", "memory areas kept apart from mm images (older images)"},
	{"posix-timers-", ".img", "POSIX timers kept apart from core images (older images)"},
	{"rlimit-", ".img", "resource limits kept apart from core images (older images)"},
	{"signal-s-", ".img", "pending signals kept apart from core images (older images)"},
	{"signal-p-", ".img", "pending signals kept apart from core images (older images)"},
	{"reg-files.img", NULL, "open files described apart from files.img (older images)"},
	{"inetsk.img", NULL, "sockets described apart from files.img (older images)"},
	{"unixsk.img", NULL, "sockets described apart from files.img (older images)"},
	{"packetsk.img", NULL, "packet sockets"},
	{"netlinksk.img", NULL, "netlink sockets"},
	{"tunfile.img", NULL, "tun devices' files"},
	{"pidfd.img", NULL, "pidfds"},
};

/* "<prefix><digits or hex digits><suffix>", or the whole name without a suffix. */
static bool image_name_is(const char *name, const char *prefix, const char *suffix)
{
	size_t lp = strlen(prefix), ln = strlen(name), ls;
	const char *mid;

	if (!suffix)
		return !strcmp(name, prefix);
	ls = strlen(suffix);
	if (ln <= lp + ls || strncmp(name, prefix, lp) || strcmp(name + ln - ls, suffix))
		return false;
	for (mid = name + lp; mid < name + ln - ls; mid++)
		if (!isxdigit((unsigned char)*mid))
			return false;
	return true;
}

const char *restore_image_unsupported(const char *name)
{
	/* tmpfs-dev-N.tar.gz.img is ours: only the older tmpfs-<mnt id> naming is refused */
	if (!strncmp(name, "tmpfs-dev-", 10))
		return NULL;
	for (size_t i = 0; i < sizeof(unsupported_images) / sizeof(unsupported_images[0]); i++)
		if (image_name_is(name, unsupported_images[i].prefix, unsupported_images[i].suffix))
			return unsupported_images[i].holds;
	return NULL;
}

bool restore_image_of_netns(const char *name)
{
	const char *holds = restore_image_unsupported(name);

	return holds && !strncmp(holds, "a network namespace's", 21);
}

int restore_mntns_order(const struct restore_task_mntns *tasks, size_t nr, bool host_mounts, unsigned root_id,
			unsigned *ids, size_t *nr_ids)
{
	const TaskKobjIdsEntry *root = nr ? tasks[0].ids : NULL;
	struct hmap seen; /* ids listed */
	int ret = 0;

	hmap_init(&seen);
	*nr_ids = 0;
	if (!host_mounts) {
		ids[(*nr_ids)++] = root_id;
		hmap_put_int(&seen, root_id, (void *)1);
	}
	for (size_t i = 1; i < nr && !ret; i++) {
		const TaskKobjIdsEntry *t = tasks[i].ids;

		if (tasks[i].zombie || !t || !t->has_mnt_ns_id)
			continue;
		if (!root || !root->has_mnt_ns_id) {
			pr_err("process %d names mount namespace %u, the root task none: the images are inconsistent\n",
			       tasks[i].vpid, t->mnt_ns_id);
			ret = -EINVAL;
			break;
		}
		if (t->mnt_ns_id == root->mnt_ns_id)
			continue;
		if (host_mounts) {
			pr_err("process %d is in mount namespace %u, the root task in criu's: the images hold no mounts "
			       "for it\n",
			       tasks[i].vpid, t->mnt_ns_id);
			pr_hint("the images are damaged or not criu's: a tree whose root shares the dumping criu's mount "
				"namespace can't have others\n");
			ret = -EINVAL;
			break;
		}
		if (!hmap_put_int(&seen, t->mnt_ns_id, (void *)1))
			ids[(*nr_ids)++] = t->mnt_ns_id;
	}
	hmap_free(&seen);
	return ret;
}

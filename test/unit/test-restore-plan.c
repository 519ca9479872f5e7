/*
 * restore_plan_decide(): container or host restore, the namespaces the
 * root task is made in, and each refusal with its message. Table-driven:
 * each row is what the images hold, whether --root is given, and the plan
 * (or the error and a piece of its message) expected.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include "unit.h"
#include "restore-plan.h"
#include "util/log.h"

#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#define CONTAINER (CLONE_NEWNS | CLONE_NEWPID)

struct plan_case {
	const char *name;
	struct restore_inputs in;
	const char *root; /* --root, or NULL */
	int ret;
	/* when ret is 0: */
	bool host_pids, placeholder;
	uint64_t flags;
	pid_t root_pid;
	/* when it is not: a piece of the message */
	const char *says;
};

static const struct plan_case cases[] = {
	{"container",
	 {.mnt_ns_id = 3, .nr_procs = 2, .root_vpid = 1, .has_pidns = true},
	 "/rootfs",
	 0,
	 false,
	 false,
	 CONTAINER,
	 0},
	{"container-own-uts-ipc-net",
	 {.mnt_ns_id = 3,
	  .nr_procs = 1,
	  .root_vpid = 1,
	  .has_pidns = true,
	  .has_utsns = true,
	  .has_ipcns = true,
	  .has_netns = true},
	 "/rootfs",
	 0,
	 false,
	 false,
	 CONTAINER | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET,
	 0},
	{"container-own-userns",
	 {.mnt_ns_id = 1, .nr_procs = 2, .root_vpid = 1, .has_pidns = true, .has_ipcns = true, .has_userns = true},
	 "/rootfs",
	 0,
	 false,
	 false,
	 CONTAINER | CLONE_NEWIPC | CLONE_NEWUSER,
	 0},
	{"mounts-only-placeholder",
	 {.mnt_ns_id = 7},
	 "/rootfs",
	 0,
	 false,
	 true,
	 CONTAINER | CLONE_NEWUTS | CLONE_NEWIPC,
	 0},
	{"container-needs-root",
	 {.mnt_ns_id = 3, .nr_procs = 1, .root_vpid = 1, .has_pidns = true},
	 NULL,
	 -EINVAL,
	 .says = "add --root ROOTFS"},
	{"container-root-not-pid-1",
	 {.mnt_ns_id = 3, .nr_procs = 1, .root_vpid = 42, .has_pidns = true},
	 "/rootfs",
	 -EOPNOTSUPP,
	 .says = "is pid 42 of its pid namespace"},
	{"host", {.nr_procs = 3, .root_vpid = 1234}, NULL, 0, true, false, 0, 1234},
	{"host-own-uts-ipc",
	 {.nr_procs = 1, .root_vpid = 1234, .has_utsns = true, .has_ipcns = true},
	 NULL,
	 0,
	 true,
	 false,
	 CLONE_NEWUTS | CLONE_NEWIPC,
	 1234},
	{"host-refuses-root",
	 {.nr_procs = 1, .root_vpid = 1234},
	 "/rootfs",
	 -EINVAL,
	 .says = "--root is for container images"},
	/* a pid namespace of its own, the host's mounts: pid 1 of a new one */
	{"pidns-host-mounts",
	 {.nr_procs = 2, .root_vpid = 1, .has_pidns = true},
	 NULL,
	 0,
	 false,
	 false,
	 CLONE_NEWPID,
	 0},
	{"pidns-host-mounts-own-uts",
	 {.nr_procs = 1, .root_vpid = 1, .has_pidns = true, .has_utsns = true},
	 NULL,
	 0,
	 false,
	 false,
	 CLONE_NEWPID | CLONE_NEWUTS,
	 0},
	{"pidns-host-mounts-refuses-root",
	 {.nr_procs = 1, .root_vpid = 1, .has_pidns = true},
	 "/rootfs",
	 -EINVAL,
	 .says = "drop --root"},
	{"pidns-root-not-its-init",
	 {.nr_procs = 1, .root_vpid = 7, .has_pidns = true},
	 NULL,
	 -EOPNOTSUPP,
	 .says = "pid 7 of a pid namespace it did not start"},
	/* the other way round: its own mounts in the host's pid namespace */
	{"mntns-host-pids",
	 {.mnt_ns_id = 3, .nr_procs = 2, .root_vpid = 4242},
	 "/rootfs",
	 0,
	 true,
	 false,
	 CLONE_NEWNS,
	 4242},
	{"mntns-host-pids-own-uts-ipc",
	 {.mnt_ns_id = 3, .nr_procs = 1, .root_vpid = 4242, .has_utsns = true, .has_ipcns = true},
	 "/rootfs",
	 0,
	 true,
	 false,
	 CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC,
	 4242},
	{"mntns-host-pids-needs-root",
	 {.mnt_ns_id = 3, .nr_procs = 1, .root_vpid = 4242},
	 NULL,
	 -EINVAL,
	 .says = "add --root ROOTFS"},
	{"nothing-to-restore", {}, NULL, -EINVAL, .says = "nothing to restore"},
	{},
};

/* Decides with the log (errors too) in a file, read back into `said`. */
static int decide(const struct plan_case *c, struct restore_plan *p, char *said, size_t size)
{
	char path[] = "/tmp/criu-test-restore-plan.XXXXXX";
	struct options o = {.imgs_dir = "/imgs", .root = (char *)c->root};
	struct restore_inputs in = c->in;
	int fd = mkstemp(path), err = dup(2), null = open("/dev/null", O_WRONLY), ret;
	ssize_t n;

	in.imgs_dir = "/imgs";
	log_init(LOG_WARN, path);
	dup2(null, 2); /* errors go to stderr as well: not here */
	ret = restore_plan_decide(&in, &o, p);
	log_init(LOG_WARN, NULL);
	dup2(err, 2);
	n = pread(fd, said, size - 1, 0);
	said[n > 0 ? n : 0] = '\0';
	close(err);
	close(null);
	close(fd);
	unlink(path);
	return ret;
}

static int run_case(const struct plan_case *c)
{
	struct restore_plan p;
	char said[1024];
	int ret = decide(c, &p, said, sizeof(said));

	CHECK(ret == c->ret);
	if (ret) {
		CHECK(strstr(said, c->says) != NULL);
		return 0;
	}
	CHECK(said[0] == '\0'); /* nothing to say about a plan that works */
	CHECK(p.host_pids == c->host_pids);
	CHECK(p.host_mounts == !c->in.mnt_ns_id);
	CHECK(p.placeholder == c->placeholder);
	CHECK(p.clone_flags == c->flags);
	CHECK(p.root_pid == c->root_pid);
	CHECK(p.mnt_ns_id == c->in.mnt_ns_id);
	return 0;
}

/* ids as ids-<pid>.img and inventory's root_ids carry them */
static TaskKobjIdsEntry ids(unsigned pid, unsigned net, unsigned ipc, unsigned uts, unsigned mnt, unsigned user,
			    unsigned time)
{
	TaskKobjIdsEntry e = TASK_KOBJ_IDS_ENTRY__INIT;

	e.has_pid_ns_id = e.has_net_ns_id = e.has_ipc_ns_id = e.has_uts_ns_id = true;
	e.has_mnt_ns_id = e.has_user_ns_id = e.has_time_ns_id = true;
	e.pid_ns_id = pid, e.net_ns_id = net, e.ipc_ns_id = ipc, e.uts_ns_id = uts;
	e.mnt_ns_id = mnt, e.user_ns_id = user, e.time_ns_id = time;
	return e;
}

/* upstream 4.2's fixture: the tree's own mount and pid namespaces (ids 10
 * and 9), the dumping criu's UTS, IPC, network, user and time ones */
static int test_ns_upstream_fixture(void)
{
	TaskKobjIdsEntry root = ids(1, 2, 3, 4, 6, 7, 5), task = ids(9, 2, 3, 4, 10, 7, 5);
	struct restore_ns_inputs in = {.root_ids = &root, .task_ids = &task, .has_timens0 = true};
	struct restore_ns ns;

	CHECK(restore_ns_decide(&in, &ns) == 0);
	CHECK(ns.own[RNS_MNT] && ns.id[RNS_MNT] == 10 && ns.own[RNS_PID]);
	CHECK(!ns.own[RNS_UTS] && !ns.own[RNS_IPC] && !ns.own[RNS_NET] && !ns.own[RNS_TIME]);
	CHECK(ns.new_timens && ns.timens_id == 0); /* clocks of the dumping criu's namespace */
	in.has_timens0 = false;
	CHECK(restore_ns_decide(&in, &ns) == 0 && !ns.new_timens);
	return 0;
}

/* criu's own images: every namespace of the tree's own is 1, criu's 2 */
static int test_ns_own_all(void)
{
	TaskKobjIdsEntry root = ids(2, 2, 2, 2, 2, 1, 2), task = ids(1, 1, 1, 1, 1, 1, 1);
	struct restore_ns_inputs in = {.root_ids = &root, .task_ids = &task};
	struct restore_ns ns;

	CHECK(restore_ns_decide(&in, &ns) == 0);
	for (int k = RNS_MNT; k <= RNS_TIME; k++)
		CHECK(ns.own[k] && ns.id[k] == 1);
	CHECK(!ns.own[RNS_USER] && ns.new_timens && ns.timens_id == 1);
	return 0;
}

/* a user namespace of the tree's own comes back, with a time namespace of its own in it too */
static int test_ns_user(void)
{
	TaskKobjIdsEntry root = ids(2, 2, 2, 2, 2, 2, 1), task = ids(1, 1, 1, 1, 1, 1, 1);
	struct restore_ns_inputs in = {.root_ids = &root, .task_ids = &task, .has_timens0 = true};
	struct restore_ns ns;

	CHECK(restore_ns_decide(&in, &ns) == 0);
	CHECK(ns.own[RNS_USER] && ns.id[RNS_USER] == 1 && ns.own[RNS_MNT] && !ns.own[RNS_TIME]);
	CHECK(ns.new_timens && ns.timens_id == 0); /* criu's clocks, in a namespace criu's userns owns, as before */
	root.time_ns_id = 2;
	CHECK(restore_ns_decide(&in, &ns) == 0 && ns.own[RNS_TIME] && ns.new_timens && ns.timens_id == 1);
	return 0;
}

/* a cgroup namespace of the tree's own is the root's to make (cgroup/cgroup.h) */
static int test_ns_cgroup_own(void)
{
	TaskKobjIdsEntry root = ids(1, 1, 1, 1, 1, 1, 1), task = ids(1, 1, 1, 1, 1, 1, 1);
	struct restore_ns_inputs in = {.root_ids = &root, .task_ids = &task};
	struct restore_ns ns;

	root.has_cgroup_ns_id = task.has_cgroup_ns_id = true;
	root.cgroup_ns_id = 8;
	task.cgroup_ns_id = 12;
	CHECK(restore_ns_decide(&in, &ns) == 0 && ns.own[RNS_CGROUP]);
	task.cgroup_ns_id = 8;
	CHECK(restore_ns_decide(&in, &ns) == 0 && !ns.own[RNS_CGROUP]);
	return 0;
}

/* criu's older images: no root_ids, the namespace images say */
static int test_ns_by_images(void)
{
	struct restore_ns_inputs in = {.nr_mnt_images = 1, .mnt_image = 1, .has_utsns1 = true};
	struct restore_ns ns;

	CHECK(restore_ns_decide(&in, &ns) == 0);
	CHECK(ns.own[RNS_MNT] && ns.id[RNS_MNT] == 1 && ns.own[RNS_PID] && ns.own[RNS_UTS] && ns.id[RNS_UTS] == 1);
	CHECK(!ns.own[RNS_IPC] && !ns.own[RNS_NET] && !ns.new_timens);
	in = (struct restore_ns_inputs){};
	CHECK(restore_ns_decide(&in, &ns) == 0 && !ns.own[RNS_MNT]); /* a host tree */
	in.nr_mnt_images = 2;
	CHECK(restore_ns_decide(&in, &ns) == -EINVAL);
	return 0;
}

static int test_unsupported_images(void)
{
	static const char *const refused[] = {"ghost-file-1a.img", "filelocks.img", "ifaddr-2.img",
					      "tmpfs-33.tar.gz.img", "rlimit-1.img"};
	static const char *const fine[] = {"stats-dump",   "tmpfs-dev-46.tar.gz.img",
					   "timens-0.img", "pages-1.img",
					   "irmap-cache",  "cpuinfo.img",
					   "core-1.img",   "userns-x.img",
					   "cgroup.img",   "userns-11.img"};

	for (size_t i = 0; i < sizeof(refused) / sizeof(*refused); i++)
		CHECK(restore_image_unsupported(refused[i]) != NULL);
	for (size_t i = 0; i < sizeof(fine) / sizeof(*fine); i++)
		CHECK(restore_image_unsupported(fine[i]) == NULL);
	return 0;
}

/* every mount namespace a live task is in, the root's first, each once */
static int test_mntns_order(void)
{
	TaskKobjIdsEntry a = ids(1, 1, 1, 1, 1, 1, 1), b = ids(1, 1, 1, 1, 3, 1, 1), c = ids(1, 1, 1, 1, 2, 1, 1),
			 d = ids(1, 1, 1, 1, 7, 1, 1);
	struct restore_task_mntns t[] = {{1, false, &a}, {2, false, &b}, {3, false, &c},
					 {4, false, &b}, {5, true, &d},	 {6, false, &a}};
	unsigned out[7];
	size_t n;

	log_init(-1, "/dev/null");
	CHECK(restore_mntns_order(t, 6, false, 1, out, &n) == 0);
	CHECK(n == 3 && out[0] == 1 && out[1] == 3 && out[2] == 2); /* the zombie's 7 is not made */
	CHECK(restore_mntns_order(t, 1, false, 1, out, &n) == 0 && n == 1 && out[0] == 1);
	CHECK(restore_mntns_order(t, 1, true, 0, out, &n) == 0 && n == 0); /* a host tree */
	CHECK(restore_mntns_order(t, 6, true, 0, out, &n) == -EINVAL);	   /* nested under a host tree */
	a.has_mnt_ns_id = false;
	CHECK(restore_mntns_order(t, 6, false, 1, out, &n) == -EINVAL); /* others name one, the root none */
	log_init(LOG_WARN, NULL);
	return 0;
}

static const struct unit_case ns_cases[] = {
	{"mntns-order", test_mntns_order},
	{"ns-upstream-fixture", test_ns_upstream_fixture},
	{"ns-own-all", test_ns_own_all},
	{"ns-user", test_ns_user},
	{"ns-cgroup-own", test_ns_cgroup_own},
	{"ns-older-images", test_ns_by_images},
	{"images-unsupported", test_unsupported_images},
	{},
};

int main(void)
{
	int failed = 0;

	for (const struct plan_case *c = cases; c->name; c++) {
		unit_fail_msg[0] = '\0';
		if (run_case(c)) {
			printf("not ok %s: %s\n", c->name, unit_fail_msg);
			failed++;
		} else {
			printf("ok %s\n", c->name);
		}
	}
	log_init(-1, NULL); /* the refusals print: not here */
	return unit_run(ns_cases) || failed ? 1 : 0;
}

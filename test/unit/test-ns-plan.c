/*
 * Namespaces made, joined, inherited or left empty: the options that ask
 * for it (--empty-ns, --join-ns, --external net[]/pid[], RPC empty_ns and
 * join_ns) and restore_ns_plan()'s decision with restore_plan_decide()'s
 * clone flags. Table-driven: each row is what the images say, the options,
 * and the plan (or the error and a piece of its message).
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include "unit.h"
#include "options.h"
#include "restore-plan.h"
#include "rpc/rpc-opts.h"
#include "util/log.h"

#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

/* Runs f(arg) with the log and stderr in a file, read back into `said`. */
static int quietly(int (*f)(void *), void *arg, char *said, size_t size)
{
	char path[] = "/tmp/criu-test-ns-plan.XXXXXX";
	int fd = mkstemp(path), err = dup(2), ret;
	ssize_t n;

	fflush(stderr);
	log_init(LOG_WARN, path);
	dup2(fd, 2);
	ret = f(arg);
	fflush(stderr);
	log_init(LOG_WARN, NULL);
	dup2(err, 2);
	n = pread(fd, said, size - 1, 0);
	said[n > 0 ? n : 0] = '\0';
	close(err);
	close(fd);
	unlink(path);
	return ret;
}

/* ------------------------------------------------------------ options */

struct parse_arg {
	const char *const *argv;
	struct options *o;
};

static int do_parse(void *a)
{
	struct parse_arg *p = a;
	int argc = 0;

	while (p->argv[argc])
		argc++;
	return parse_options(argc, (char **)p->argv, p->o);
}

static int parse(struct options *o, char *said, const char *const *argv)
{
	struct parse_arg a = {argv, o};

	setenv("HOME", "/nonexistent", 1);
	unsetenv("CRIU_CONFIG_FILE");
	return quietly(do_parse, &a, said, 1024);
}

#define ARGS(...) ((const char *const[]){"criu", "--no-default-config", __VA_ARGS__, NULL})

static int test_options_ok(void)
{
	struct options o;
	char said[1024];

	CHECK(parse(&o, said,
		    ARGS("--empty-ns", "net", "-J", "uts:/proc/1/ns/uts", "--join-ns", "ipc:42,", "restore")) == 0);
	CHECK(o.empty_ns == CLONE_NEWNET && o.nr_join_ns == 2);
	CHECK_STR(o.join_ns[0].ns, "uts");
	CHECK_STR(o.join_ns[0].path, "/proc/1/ns/uts");
	CHECK_STR(o.join_ns[1].ns, "ipc");
	CHECK_STR(o.join_ns[1].path, "42");
	options_free(&o);
	CHECK(parse(&o, said,
		    ARGS("--external", "net[4026531992]:extRootNetNS", "--external", "pid[7]:p", "dump", "-t", "1")) ==
	      0);
	CHECK(o.nr_externals == 2);
	CHECK_STR(o.externals[0].key, "4026531992");
	CHECK_STR(o.externals[0].val, "extRootNetNS");
	options_free(&o);
	return 0;
}

static const struct {
	const char *name;
	const char *argv[4];
	const char *says;
} refusals[] = {
	{"empty-ns-ipc", {"--empty-ns", "ipc"}, "only the network namespace can be restored empty"},
	{"join-pid", {"--join-ns", "pid:1"}, "a pid namespace is not joined"},
	{"join-mnt", {"--join-ns", "mnt:/proc/1/ns/mnt"}, "can't join an existing one"},
	{"join-user", {"--join-ns", "user:1,0,0"}, "user namespaces"},
	{"join-time", {"--join-ns", "time:1"}, "time namespaces"},
	{"join-bogus", {"--join-ns", "foo:1"}, "unknown namespace kind"},
	{"join-no-path", {"--join-ns", "uts"}, "expected NS:PATH"},
	{"join-relative", {"--join-ns", "uts:ns/uts"}, "absolute path"},
	{"join-extra", {"--join-ns", "uts:1,0"}, "extra options are for user namespaces"},
	{"join-twice", {"--join-ns", "uts:1", "--join-ns", "uts:2"}, "given twice"},
	{"external-net-not-inode", {"--external", "net[eth0]:x"}, "'eth0' is not a namespace inode"},
	{"external-net-no-key", {"--external", "net[123]"}, "a KEY is needed"},
	{"external-pid-no-key", {"--external", "pid[123]:"}, "a KEY is needed"},
};

static int test_options_refused(void)
{
	for (size_t i = 0; i < sizeof(refusals) / sizeof(*refusals); i++) {
		const char *argv[8] = {"criu", "--no-default-config"};
		struct options o;
		char said[1024];
		size_t n = 2;
		int ret;

		for (size_t k = 0; k < 4 && refusals[i].argv[k]; k++)
			argv[n++] = refusals[i].argv[k];
		argv[n++] = "restore";
		ret = parse(&o, said, argv);
		options_free(&o);
		if (ret != -1 || !strstr(said, refusals[i].says)) {
			snprintf(unit_fail_msg, sizeof(unit_fail_msg), "%s: ret %d, said: %.300s", refusals[i].name,
				 ret, said);
			return 1;
		}
	}
	return 0;
}

/* ------------------------------------------------------------ RPC */

struct rpc_arg {
	const CriuOpts *ro;
	enum criu_cmd cmd;
	struct options *o;
};

static int do_apply(void *a)
{
	struct rpc_arg *r = a;

	return rpc_opts_apply(r->ro, r->cmd, 1, r->o);
}

static int apply(const CriuOpts *ro, enum criu_cmd cmd, struct options *o, char *said)
{
	struct rpc_arg a = {ro, cmd, o};

	options_init(o);
	return quietly(do_apply, &a, said, 1024);
}

static int test_rpc(void)
{
	CriuOpts ro = CRIU_OPTS__INIT;
	JoinNamespace j = JOIN_NAMESPACE__INIT;
	JoinNamespace *js[] = {&j};
	struct options o;
	char said[1024];

	ro.images_dir_fd = 3;
	ro.has_empty_ns = true;
	ro.empty_ns = CLONE_NEWNET; /* what runc sends for every container without a netns path */
	CHECK(apply(&ro, CMD_RESTORE, &o, said) == 0 && o.empty_ns == CLONE_NEWNET);
	options_free(&o);
	ro.empty_ns = CLONE_NEWNET | CLONE_NEWIPC;
	CHECK(apply(&ro, CMD_RESTORE, &o, said) == -1 && strstr(said, "only the network namespace"));
	options_free(&o);
	ro.empty_ns = 0;
	j.ns = (char *)"uts";
	j.ns_file = (char *)"/proc/1/ns/uts";
	ro.n_join_ns = 1;
	ro.join_ns = js;
	CHECK(apply(&ro, CMD_RESTORE, &o, said) == 0 && o.nr_join_ns == 1);
	CHECK_STR(o.join_ns[0].path, "/proc/1/ns/uts");
	options_free(&o);
	ro.has_pid = true;
	ro.pid = 5;
	CHECK(apply(&ro, CMD_DUMP, &o, said) == -1 && strstr(said, "join_ns is not supported by this criu on dump"));
	options_free(&o);
	ro.has_pid = false;
	j.ns = (char *)"mnt";
	CHECK(apply(&ro, CMD_RESTORE, &o, said) == -1 && strstr(said, "can't join an existing one"));
	options_free(&o);
	return 0;
}

/* ------------------------------------------------------------ the plan */

struct plan_case {
	const char *name;
	bool own_net, own_uts, own_ipc; /* the tree's own, besides mount and pid */
	bool own_user;
	const char *net_key, *pid_key;	/* ext_key in netns-1.img, pidns-1.img */
	bool netns_conf;
	pid_t root_vpid;
	/* options */
	bool empty_net, sibling;
	const char *join_net, *join_uts, *join_ipc;
	const char *inherit; /* KEY of --inherit-fd fd[0]:KEY */
	/* expected */
	int ret;
	enum ns_action net, uts, ipc, pid;
	uint64_t flags; /* of restore_plan_decide, for a container */
	const char *says;
};

#define CT (CLONE_NEWNS | CLONE_NEWPID)

static const struct plan_case plans[] = {
	/* a user namespace of the tree's own: the others made in it, none entered by its root */
	{"userns-own-net", true, .own_user = true, .root_vpid = 1, .net = NSA_CREATE, .pid = NSA_CREATE,
	 .flags = CT | CLONE_NEWNET | CLONE_NEWUSER},
	{"userns-empty-net", true, .own_user = true, .root_vpid = 1, .empty_net = true, .net = NSA_EMPTY,
	 .pid = NSA_CREATE, .flags = CT | CLONE_NEWNET | CLONE_NEWUSER},
	{"userns-join-net", true, .own_user = true, .root_vpid = 1, .join_net = "/run/netns/x", .ret = -EOPNOTSUPP,
	 .says = "its net namespace can't be joined or inherited"},
	{"userns-external-net", true, .own_user = true, .net_key = "k", .root_vpid = 1, .inherit = "k",
	 .ret = -EOPNOTSUPP, .says = "drop --join-ns net"},
	{"userns-join-ipc", false, false, true, .own_user = true, .root_vpid = 1, .join_ipc = "9", .ret = -EOPNOTSUPP,
	 .says = "its ipc namespace can't be joined"},
	{"userns-sibling", true, .own_user = true, .root_vpid = 1, .sibling = true, .ret = -EOPNOTSUPP,
	 .says = "--restore-sibling (RPC rst_sibling) would make its pid namespace outside it"},
	{"userns-external-pid", false, .own_user = true, .pid_key = "p", .root_vpid = 12, .inherit = "p",
	 .pid = NSA_INHERIT, .flags = CLONE_NEWNS | CLONE_NEWUSER},
	{"own-net-made", true, .root_vpid = 1, .net = NSA_CREATE, .pid = NSA_CREATE, .flags = CT | CLONE_NEWNET},
	{"empty-ns", true, .root_vpid = 1, .empty_net = true, .net = NSA_EMPTY, .pid = NSA_CREATE,
	 .flags = CT | CLONE_NEWNET},
	{"empty-ns-shared-net", false, .root_vpid = 1, .empty_net = true, .net = NSA_SHARE, .pid = NSA_CREATE,
	 .flags = CT},
	{"join-net", true, .root_vpid = 1, .join_net = "/run/netns/x", .net = NSA_JOIN, .pid = NSA_CREATE, .flags = CT},
	{"join-net-shared", false, .root_vpid = 1, .join_net = "77", .net = NSA_JOIN, .pid = NSA_CREATE, .flags = CT},
	{"external-net", true, .net_key = "extRootNetNS", .root_vpid = 1, .inherit = "extRootNetNS", .net = NSA_INHERIT,
	 .pid = NSA_CREATE, .flags = CT},
	{"external-net-wins-over-empty", true, .net_key = "k", .root_vpid = 1, .empty_net = true, .inherit = "k",
	 .net = NSA_INHERIT, .pid = NSA_CREATE, .flags = CT},
	{"external-net-no-fd", true, .net_key = "extRootNetNS", .root_vpid = 1, .inherit = "pipe:[12]", .ret = -EINVAL,
	 .says = "--inherit-fd fd[N]:extRootNetNS"},
	{"external-net-and-join", true, .net_key = "k", .root_vpid = 1, .join_net = "/x", .inherit = "k",
	 .ret = -EINVAL, .says = "drop --join-ns net"},
	{"join-and-empty", true, .root_vpid = 1, .empty_net = true, .join_net = "/x", .ret = -EINVAL,
	 .says = "two different network namespaces"},
	{"netns-settings-refused", true, .netns_conf = true, .root_vpid = 1, .ret = -EOPNOTSUPP,
	 .says = "restore with --empty-ns net"},
	{"netns-settings-empty", true, .netns_conf = true, .root_vpid = 1, .empty_net = true, .net = NSA_EMPTY,
	 .pid = NSA_CREATE, .flags = CT | CLONE_NEWNET},
	{"join-uts-ipc", false, true, true, .root_vpid = 1, .join_uts = "/u", .join_ipc = "9", .uts = NSA_JOIN,
	 .ipc = NSA_JOIN, .pid = NSA_CREATE, .flags = CT},
	{"own-uts-ipc", false, true, true, .root_vpid = 1, .uts = NSA_CREATE, .ipc = NSA_CREATE, .pid = NSA_CREATE,
	 .flags = CT | CLONE_NEWUTS | CLONE_NEWIPC},
	{"external-pid", false, .pid_key = "extRootPidNS", .root_vpid = 12, .inherit = "extRootPidNS",
	 .pid = NSA_INHERIT, .flags = CLONE_NEWNS},
	{"external-pid-no-fd", false, .pid_key = "extRootPidNS", .root_vpid = 12, .ret = -EINVAL,
	 .says = "--inherit-fd fd[N]:extRootPidNS"},
	{"external-pid-init", false, .pid_key = "p", .root_vpid = 1, .inherit = "p", .ret = -EINVAL,
	 .says = "that namespace's pid 1"},
	{},
};

struct plan_arg {
	const struct plan_case *c;
	struct restore_ns_plan *p;
	struct restore_plan *rp;
};

static int do_plan(void *a)
{
	struct plan_arg *x = a;
	const struct plan_case *c = x->c;
	struct restore_ns ns = {.own = {[RNS_MNT] = true, [RNS_PID] = true}};
	struct options o;
	struct inherit_fd_opt fd0 = {0, (char *)c->inherit};
	struct join_ns_opt js[3];
	struct restore_ns_plan_inputs in;
	struct restore_inputs ri;
	size_t nj = 0;
	int ret;

	options_init(&o);
	ns.own[RNS_NET] = c->own_net;
	ns.own[RNS_UTS] = c->own_uts;
	ns.own[RNS_IPC] = c->own_ipc;
	ns.own[RNS_USER] = c->own_user;
	for (int k = 0; k < RNS_NR; k++)
		ns.id[k] = ns.own[k] ? 1 : 0;
	o.empty_ns = c->empty_net ? CLONE_NEWNET : 0;
	o.restore_sibling = c->sibling;
	if (c->join_net)
		js[nj++] = (struct join_ns_opt){(char *)"net", (char *)c->join_net, NULL};
	if (c->join_uts)
		js[nj++] = (struct join_ns_opt){(char *)"uts", (char *)c->join_uts, NULL};
	if (c->join_ipc)
		js[nj++] = (struct join_ns_opt){(char *)"ipc", (char *)c->join_ipc, NULL};
	o.join_ns = js;
	o.nr_join_ns = nj;
	o.inherit_fds = c->inherit ? &fd0 : NULL;
	o.nr_inherit_fds = c->inherit ? 1 : 0;
	o.root = (char *)"/rootfs";
	in = (struct restore_ns_plan_inputs){&ns, c->net_key, c->pid_key, c->netns_conf, c->root_vpid};
	ret = restore_ns_plan(&in, &o, x->p);
	if (ret)
		return ret;
	ri = (struct restore_inputs){.imgs_dir = "/imgs",
				     .mnt_ns_id = 1,
				     .nr_procs = 1,
				     .root_vpid = c->root_vpid,
				     .has_pidns = true,
				     .has_utsns = c->own_uts,
				     .has_ipcns = c->own_ipc,
				     .has_netns = c->own_net,
				     .has_userns = c->own_user,
				     .nsp = x->p};
	return restore_plan_decide(&ri, &o, x->rp);
}

static int run_plan(const struct plan_case *c)
{
	struct restore_ns_plan p;
	struct restore_plan rp;
	struct plan_arg a = {c, &p, &rp};
	char said[1024];
	int ret = quietly(do_plan, &a, said, sizeof(said));

	CHECK(ret == c->ret);
	if (ret) {
		CHECK(strstr(said, c->says) != NULL);
		return 0;
	}
	CHECK(p.act[RNS_NET] == c->net && p.act[RNS_UTS] == c->uts && p.act[RNS_IPC] == c->ipc);
	CHECK(p.act[RNS_PID] == c->pid);
	CHECK(rp.clone_flags == c->flags);
	if (c->net == NSA_INHERIT || c->pid == NSA_INHERIT)
		CHECK(p.fd[c->net == NSA_INHERIT ? RNS_NET : RNS_PID] == 0);
	if (c->pid == NSA_INHERIT)
		CHECK(rp.pid_inherit && rp.root_pid == c->root_vpid && !rp.host_pids);
	if (c->net == NSA_JOIN)
		CHECK_STR(p.path[RNS_NET], c->join_net);
	return 0;
}

static int test_net_images(void)
{
	CHECK(restore_image_of_netns("ifaddr-1.img") && restore_image_of_netns("iptables-9.img"));
	CHECK(restore_image_of_netns("netns-ct-1.img"));
	CHECK(!restore_image_of_netns("netns-1.img") && !restore_image_of_netns("pidns-1.img"));
	CHECK(!restore_image_of_netns("cgroup.img") && !restore_image_of_netns("core-1.img"));
	CHECK(restore_image_unsupported("netns-1.img") == NULL && restore_image_unsupported("pidns-3.img") == NULL);
	return 0;
}

static const struct unit_case cases[] = {
	{"ns-options", test_options_ok},
	{"ns-options-refused", test_options_refused},
	{"ns-rpc", test_rpc},
	{"ns-net-images", test_net_images},
	{},
};

int main(void)
{
	int failed = 0;

	for (const struct plan_case *c = plans; c->name; c++) {
		unit_fail_msg[0] = '\0';
		if (run_plan(c)) {
			printf("not ok plan-%s: %s\n", c->name, unit_fail_msg);
			failed++;
		} else {
			printf("ok plan-%s\n", c->name);
		}
	}
	return unit_run(cases) || failed ? 1 : 0;
}

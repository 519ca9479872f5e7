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
	bool host, placeholder;
	uint64_t flags;
	pid_t root_pid;
	/* when it is not: a piece of the message */
	const char *says;
};

static const struct plan_case cases[] = {
	{"container", {.mnt_ns_id = 3, .nr_procs = 2, .root_vpid = 1}, "/rootfs", 0, false, false, CONTAINER, 0},
	{"container-own-uts-ipc-net",
	 {.mnt_ns_id = 3, .nr_procs = 1, .root_vpid = 1, .has_utsns = true, .has_ipcns = true, .has_netns = true},
	 "/rootfs",
	 0,
	 false,
	 false,
	 CONTAINER | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET,
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
	 {.mnt_ns_id = 3, .nr_procs = 1, .root_vpid = 1},
	 NULL,
	 -EINVAL,
	 .says = "add --root ROOTFS"},
	{"container-root-not-pid-1",
	 {.mnt_ns_id = 3, .nr_procs = 1, .root_vpid = 42},
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
	{"host-root-pid-1", {.nr_procs = 1, .root_vpid = 1}, NULL, -EOPNOTSUPP, .says = "shared its mount namespace"},
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
	CHECK(p.host == c->host);
	CHECK(p.placeholder == c->placeholder);
	CHECK(p.clone_flags == c->flags);
	CHECK(p.root_pid == c->root_pid);
	CHECK(p.mnt_ns_id == c->in.mnt_ns_id);
	return 0;
}

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
	return failed ? 1 : 0;
}

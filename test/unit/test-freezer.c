/*
 * The cgroup freezer (cgroup/freezer.c) on real cgroups of both kinds made
 * for the test (v1: under the freezer hierarchy; v2: under the unified
 * one), each holding a child that counts in shared memory: frozen, the
 * count stands still and the task list names the child; thawed, it moves
 * again; a cgroup frozen before stays frozen. Skipped where a kind is not
 * mounted or not writable. Every cgroup and child is removed, also on
 * failure.
 */
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "unit.h"
#include "cgroup/freezer.h"
#include "util/log.h"

static char cg[256];
static pid_t child;

static void cleanup(void)
{
	char path[300];

	if (child > 0) {
		kill(child, SIGKILL);
		/* a frozen task dies only once thawed */
		snprintf(path, sizeof(path), "%s/freezer.state", cg);
		if (access(path, F_OK) == 0) {
			FILE *f = fopen(path, "w");
			if (f) {
				fputs("THAWED", f);
				fclose(f);
			}
		}
		snprintf(path, sizeof(path), "%s/cgroup.freeze", cg);
		if (access(path, F_OK) == 0) {
			FILE *f = fopen(path, "w");
			if (f) {
				fputs("0", f);
				fclose(f);
			}
		}
		waitpid(child, NULL, 0);
		child = 0;
	}
	if (cg[0])
		rmdir(cg);
	cg[0] = '\0';
}

static int write_to(const char *dir, const char *file, const char *val)
{
	char path[300];
	FILE *f;
	int ret;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	f = fopen(path, "w");
	if (!f)
		return -1;
	ret = fputs(val, f) < 0 ? -1 : 0;
	return fclose(f) || ret ? -1 : 0;
}

/* A child counting in `count`, moved into a new cgroup below `root`. */
static int make_cgroup(const char *root, const char *probe, volatile uint64_t *count)
{
	char path[300], pid[16];

	snprintf(path, sizeof(path), "%s/%s", root, probe);
	if (access(path, F_OK))
		return UNIT_SKIP;
	snprintf(cg, sizeof(cg), "%s/criu-unit-freezer-%d", root, (int)getpid());
	if (mkdir(cg, 0755)) {
		cg[0] = '\0';
		return UNIT_SKIP;
	}
	child = fork();
	if (child == 0)
		for (;;)
			(*count)++;
	snprintf(pid, sizeof(pid), "%d", (int)child);
	if (child < 0 || write_to(cg, "cgroup.procs", pid))
		return -1;
	return 0;
}

static uint64_t moved(volatile uint64_t *count)
{
	uint64_t a = *count;

	usleep(50000);
	return *count - a;
}

static int run_kind(const char *root, const char *probe, const char *frozen_file, const char *frozen_val)
{
	volatile uint64_t *count = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	struct freezer f;
	pid_t *tids = NULL;
	size_t n = 0;
	int ret;

	unit_skip_reason = "that cgroup hierarchy is not mounted or not writable here";
	ret = make_cgroup(root, probe, count);
	if (ret) {
		cleanup();
		return ret;
	}
	ret = 1;
	if (freezer_open(cg, &f))
		goto out;
	if (freezer_freeze(&f, 5) || moved(count) != 0)
		goto out_close;
	if (freezer_tids(&f, &tids, &n) || n != 1 || tids[0] != child)
		goto out_close;
	if (freezer_thaw(&f) || moved(count) == 0)
		goto out_close;
	freezer_close(&f);
	/* frozen before: freeze is a no-op, thaw leaves it frozen */
	if (write_to(cg, frozen_file, frozen_val))
		goto out;
	usleep(100000);
	if (freezer_open(cg, &f))
		goto out;
	if (!f.was_frozen || freezer_freeze(&f, 5) || freezer_thaw(&f) || moved(count) != 0)
		goto out_close;
	ret = 0;
out_close:
	freezer_close(&f);
out:
	free(tids);
	cleanup();
	munmap((void *)count, 4096);
	return ret;
}

static int test_v1(void)
{
	return run_kind("/sys/fs/cgroup/freezer", "tasks", "freezer.state", "FROZEN");
}

static int test_v2(void)
{
	/* v2 root has no cgroup.freeze; its children have: probe the hierarchy */
	const char *root = access("/sys/fs/cgroup/unified/cgroup.procs", F_OK) == 0 ? "/sys/fs/cgroup/unified"
										      : "/sys/fs/cgroup";

	return run_kind(root, "cgroup.subtree_control", "cgroup.freeze", "1");
}

static int test_not_a_freezer(void)
{
	struct freezer f;

	CHECK(freezer_open("/proc", &f) == -1);
	CHECK(freezer_open("/nonexistent-cgroup", &f) == -1);
	return 0;
}

static const struct unit_case cases[] = {
	{"freezer-v1", test_v1},
	{"freezer-v2", test_v2},
	{"freezer-not-a-freezer", test_not_a_freezer},
	{NULL, NULL},
};

int main(void)
{
	int ret;

	log_init(-1, NULL);
	ret = unit_run(cases);
	cleanup();
	return ret;
}

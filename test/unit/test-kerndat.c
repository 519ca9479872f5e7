/*
 * The kernel feature table (util/kerndat.c): complete and consistent, each
 * answer probed once and cached, the features criu requires present on
 * this machine, and each probe saying "no" when the kernel refuses the
 * interface as an older kernel would (a seccomp filter in a child plays
 * that kernel: ENOSYS for a missing syscall, EINVAL for an unknown flag).
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#include "unit.h"
#include "crtools.h"
#include "util/kerndat.h"
#include "util/util.h"

static int test_table_complete(void)
{
	for (int f = 0; f < KF__NR; f++) {
		const struct kdat_feature *k = kdat_feature(f);

		if (!k->name || !k->name[0] || !k->desc || !k->desc[0] || !k->probe) {
			snprintf(unit_fail_msg, sizeof(unit_fail_msg),
				 "entry %d (%s) lacks a name, a description or a probe", f,
				 k->name ? k->name : "(no name)");
			return 1;
		}
		/* names are typed on command lines: lower case, digits, '_' and '-' */
		CHECK(strspn(k->name, "abcdefghijklmnopqrstuvwxyz0123456789_-") == strlen(k->name));
	}
	return 0;
}

static int test_names_unique(void)
{
	for (int f = 0; f < KF__NR; f++) {
		for (int g = f + 1; g < KF__NR; g++)
			if (!strcmp(kdat_feature(f)->name, kdat_feature(g)->name)) {
				snprintf(unit_fail_msg, sizeof(unit_fail_msg), "entries %d and %d are both named %s", f,
					 g, kdat_feature(f)->name);
				return 1;
			}
		CHECK(kdat_lookup(kdat_feature(f)->name) == f);
	}
	CHECK(kdat_lookup("no-such-feature") == -1);
	CHECK(kdat_lookup("") == -1);
	/* upstream CRIU's names, which scripts use */
	CHECK(kdat_lookup("mnt_id") == KF_MNT_ID);
	CHECK(kdat_lookup("pidfd_getfd") == KF_PIDFD_STORE);
	CHECK(kdat_lookup("clone3_set_tid") == KF_CLONE3_SET_TID);
	CHECK(kdat_lookup("network_lock_nftables") == KF_NETWORK_LOCK_NFTABLES);
	CHECK(kdat_lookup("uffd") == KF_UFFD);
	return 0;
}

/* Each answer: probed once, the same when asked again, with no probe run. */
static int test_probed_once(void)
{
	for (int f = 0; f < KF__NR; f++) {
		unsigned long before = kdat_probes_run(), after_first, after_second;
		bool first = kdat_has(f), second;

		after_first = kdat_probes_run();
		second = kdat_has(f);
		after_second = kdat_probes_run();
		if (after_first != before + 1 || after_second != after_first || first != second) {
			snprintf(unit_fail_msg, sizeof(unit_fail_msg),
				 "%s: probes run %lu, %lu, %lu; answers %d, %d (want one probe, one answer)",
				 kdat_feature(f)->name, before, after_first, after_second, first, second);
			return 1;
		}
		/* and the probe itself says the same again: it depends on the kernel only */
		if (kdat_feature(f)->probe() != first) {
			snprintf(unit_fail_msg, sizeof(unit_fail_msg), "%s: probed again, a different answer",
				 kdat_feature(f)->name);
			return 1;
		}
	}
	return 0;
}

static int test_required_present(void)
{
	char missing[400] = "";

	for (int f = 0; f < KF__NR; f++)
		if (kdat_feature(f)->required && !kdat_has(f))
			snprintf(missing + strlen(missing), sizeof(missing) - strlen(missing), " %s",
				 kdat_feature(f)->name);
	if (missing[0]) {
		snprintf(unit_fail_msg, sizeof(unit_fail_msg), "required but missing here:%s", missing);
		return 1;
	}
	return 0;
}

/* What a real call showed wins over the probe, and no probe runs for it. */
static int test_set_overrides(void)
{
	bool had = kdat_has(KF_UFFD);
	unsigned long n = kdat_probes_run();

	kdat_set(KF_UFFD, !had);
	CHECK(kdat_has(KF_UFFD) == !had);
	kdat_set(KF_UFFD, had);
	CHECK(kdat_has(KF_UFFD) == had);
	CHECK(kdat_probes_run() == n);
	return 0;
}

static int test_values_once(void)
{
	uint64_t zero = kdat_zero_pfn(), huge = kdat_huge_zero_pfn();
	dev_t dev = kdat_memfd_dev();
	int last = kdat_cap_last_cap(), fd;
	unsigned long n = kdat_probes_run();
	struct stat st;
	FILE *f;
	int want = -1;

	CHECK(kdat_zero_pfn() == zero && kdat_huge_zero_pfn() == huge && kdat_memfd_dev() == dev &&
	      kdat_cap_last_cap() == last);
	CHECK(kdat_probes_run() == n);
	/* the huge zero page is 512 pages, the first aligned, and not the small one */
	CHECK(!huge || (!(huge & 511) && huge != zero));
	fd = memfd_create("test-kerndat", MFD_CLOEXEC);
	CHECK(fd >= 0 && !fstat(fd, &st));
	close(fd);
	CHECK(dev && dev == st.st_dev);
	f = fopen("/proc/sys/kernel/cap_last_cap", "re");
	CHECK(f && fscanf(f, "%d", &want) == 1);
	fclose(f);
	CHECK(last == want && last >= 40); /* CAP_CHECKPOINT_RESTORE (5.9) at least */
	return 0;
}

/* ------------------------------------------------------------------------
 * An older kernel, played by seccomp
 */

#if defined(__x86_64__)
#define TEST_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define TEST_AUDIT_ARCH AUDIT_ARCH_AARCH64
#endif

#define MAX_REFUSED 3

struct older_kernel {
	const char *what;
	long nr[MAX_REFUSED]; /* syscalls refused with err (-1: none) */
	int err;
	enum kfeat missing[4]; /* then these probes must say no (KF__NR: end) */
};

static const struct older_kernel older[] = {
	{"no statx", {__NR_statx, -1, -1}, ENOSYS, {KF_MNT_ID, KF__NR}},
	{"no openat2", {__NR_openat2, -1, -1}, ENOSYS, {KF_OPENAT2, KF__NR}},
	{"no new mount API",
	 {__NR_open_tree, __NR_fsopen, __NR_mount_setattr},
	 ENOSYS,
	 {KF_OPEN_TREE, KF_FSOPEN, KF_MOUNT_SETATTR, KF__NR}},
	{"move_mount without MOVE_MOUNT_SET_GROUP",
	 {__NR_move_mount, -1, -1},
	 EINVAL,
	 {KF_MOVE_MOUNT_SET_GROUP, KF__NR}},
	{"no pidfd_getfd", {__NR_pidfd_getfd, -1, -1}, ENOSYS, {KF_PIDFD_STORE, KF__NR}},
	{"no clone3", {__NR_clone3, -1, -1}, ENOSYS, {KF_CLONE3_SET_TID, KF__NR}},
	{"clone3 without set_tid (5.3)", {__NR_clone3, -1, -1}, E2BIG, {KF_CLONE3_SET_TID, KF__NR}},
	{"no close_range", {__NR_close_range, -1, -1}, ENOSYS, {KF_CLOSE_RANGE, KF__NR}},
	{"no kcmp", {__NR_kcmp, -1, -1}, ENOSYS, {KF_KCMP, KF_KCMP_EPOLL, KF__NR}},
	{"kcmp without KCMP_EPOLL_TFD", {__NR_kcmp, -1, -1}, EINVAL, {KF_KCMP_EPOLL, KF__NR}},
	{"prctl without PR_SET_MM_MAP or PR_TIMER_CREATE_RESTORE_IDS",
	 {__NR_prctl, -1, -1},
	 EINVAL,
	 {KF_PRCTL_MM_MAP, KF_TIMER_RESTORE_IDS, KF__NR}},
	{"no ptrace",
	 {__NR_ptrace, -1, -1},
	 EPERM,
	 {KF_PTRACE_SYSCALL_INFO, KF_GET_RSEQ_CONF, KF_SECCOMP_SUSPEND, KF_SECCOMP_FILTERS}},
	{"ioctl without PAGEMAP_SCAN", {__NR_ioctl, -1, -1}, ENOTTY, {KF_PAGEMAP_SCAN, KF_PAGEMAP_SCAN_GUARD, KF__NR}},
	{"PAGEMAP_SCAN without a category", {__NR_ioctl, -1, -1}, EINVAL, {KF_PAGEMAP_SCAN_GUARD, KF__NR}},
	{"madvise without MADV_POPULATE_WRITE", {__NR_madvise, -1, -1}, EINVAL, {KF_MADV_POPULATE_WRITE, KF__NR}},
	{"no userfaultfd", {__NR_userfaultfd, -1, -1}, ENOSYS, {KF_UFFD, KF__NR}},
	{"no PIDFD_SELF", {__NR_process_madvise, -1, -1}, EBADF, {KF_PROCESS_MADVISE_SELF, KF__NR}},
	{"memfd_create without MFD_EXEC", {__NR_memfd_create, -1, -1}, EINVAL, {KF_MEMFD_EXEC, KF__NR}},
	{"no SO_BUF_LOCK, no TCP_REPAIR_WINDOW",
	 {__NR_getsockopt, -1, -1},
	 ENOPROTOOPT,
	 {KF_SOCKOPT_BUF_LOCK, KF_TCP_REPAIR, KF__NR}},
	{"no sockets",
	 {__NR_socket, -1, -1},
	 EAFNOSUPPORT,
	 {KF_UNIX_DIAG, KF_NETWORK_LOCK_NFTABLES, KF_TCP_REPAIR, KF_SOCKOPT_BUF_LOCK}},
};

/*
 * In a child: the filter, then every listed probe. Exits 0 when all said
 * no, 10 + the index in `missing` of one that said yes, 1 without a filter.
 */
static void older_kernel_child(const struct older_kernel *o)
{
	struct sock_filter filter[2 + 2 * MAX_REFUSED + 1];
	struct sock_fprog prog = {.filter = filter};
	unsigned short n = 0;

	filter[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
	for (int i = 0; i < MAX_REFUSED && o->nr[i] >= 0; i++) {
		filter[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)o->nr[i], 0, 1);
		filter[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (unsigned)o->err);
	}
	filter[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	prog.len = n;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog))
		_exit(1);
	for (int i = 0; i < 4 && o->missing[i] != KF__NR; i++)
		if (kdat_feature(o->missing[i])->probe())
			_exit(10 + i);
	_exit(0);
}

static int test_older_kernels(void)
{
#ifndef TEST_AUDIT_ARCH
	unit_skip_reason = "no seccomp filter for this architecture";
	return UNIT_SKIP;
#else
	for (size_t i = 0; i < ARRAY_SIZE(older); i++) {
		const struct older_kernel *o = &older[i];
		pid_t pid = fork();
		int status = 0;

		if (pid == 0)
			older_kernel_child(o);
		CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
		if (!WIFEXITED(status) || WEXITSTATUS(status) == 1) {
			snprintf(unit_fail_msg, sizeof(unit_fail_msg), "%s: the child failed (status %#x)", o->what,
				 status);
			return 1;
		}
		if (WEXITSTATUS(status)) {
			snprintf(unit_fail_msg, sizeof(unit_fail_msg), "%s: %s still says yes", o->what,
				 kdat_feature(o->missing[WEXITSTATUS(status) - 10])->name);
			return 1;
		}
	}
	return 0;
#endif
}

/* ------------------------------------------------------------------------
 * `criu check`'s verdict
 */

/*
 * cr_check() in a child where `f` is recorded missing; its exit status in
 * *rc (0 or 1) and what it printed in out.
 */
static int run_check(enum kfeat f, const char *feature, int *rc, char *out, size_t size)
{
	int pfd[2], status;
	size_t got = 0;
	ssize_t n;
	pid_t pid;

	if (pipe(pfd))
		return -1;
	pid = fork();
	if (pid == 0) {
		struct options o = {.feature = (char *)feature};

		dup2(pfd[1], STDOUT_FILENO);
		dup2(pfd[1], STDERR_FILENO);
		kdat_set(f, false);
		status = cr_check(&o) ? 1 : 0;
		fflush(stdout);
		fflush(stderr);
		_exit(status);
	}
	close(pfd[1]);
	while (got < size - 1 && (n = read(pfd[0], out + got, size - 1 - got)) > 0)
		got += (size_t)n;
	out[got] = '\0';
	close(pfd[0]);
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	*rc = WEXITSTATUS(status);
	return 0;
}

static int test_check_verdict(void)
{
	static char out[16384];
	int rc;

	/* a required feature missing: the check fails, naming it */
	CHECK(!run_check(KF_CLONE3_SET_TID, NULL, &rc, out, sizeof(out)));
	CHECK(rc == 1 && !strstr(out, "Looks good.") && strstr(out, "clone3_set_tid: "));
	/* an optional one: listed as missing, the check passes */
	CHECK(!run_check(KF_UFFD, NULL, &rc, out, sizeof(out)));
	CHECK(rc == 0 && strstr(out, "Looks good.\n") && strstr(out, "1 optional feature missing"));
	/* every feature listed, with whether it is required */
	for (int f = 0; f < KF__NR; f++) {
		const struct kdat_feature *k = kdat_feature(f);
		char needle[64];
		char *line;

		/* "NAME " at the start of a line */
		snprintf(needle, sizeof(needle), "\n%s ", k->name);
		if (!strncmp(out, needle + 1, strlen(needle + 1))) {
			line = out + strlen(needle + 1);
		} else {
			line = strstr(out, needle);
			CHECK(line);
			line += strlen(needle);
		}
		line += strspn(line, " ");
		CHECK(!strncmp(line, k->required ? "required" : "optional", 8));
	}
	/* one feature asked for: that one decides, required or not */
	CHECK(!run_check(KF_UFFD, "uffd", &rc, out, sizeof(out)));
	CHECK(rc == 1 && strstr(out, "uffd: "));
	CHECK(!run_check(KF_UFFD, "mnt_id", &rc, out, sizeof(out)));
	CHECK(rc == 0 && !strcmp(out, "mnt_id is supported\n"));
	CHECK(!run_check(KF_UFFD, "no-such-feature", &rc, out, sizeof(out)));
	CHECK(rc == 1 && strstr(out, "unknown feature 'no-such-feature'") && strstr(out, "--feature list"));
	/* upstream's names: answered by criu's own feature, or no with a reason */
	CHECK(!run_check(KF_UFFD, "uffd-noncoop", &rc, out, sizeof(out)));
	CHECK(rc == 1 && strstr(out, "uffd-noncoop: not supported: criu has no lazy pages"));
	CHECK(!run_check(KF_UFFD, "pidfd_store", &rc, out, sizeof(out)));
	CHECK(rc == 1 && strstr(out, "pidfd_store: not supported"));
	CHECK(!run_check(KF_UFFD, "pagemap_scan_guard_pages", &rc, out, sizeof(out)));
	CHECK(rc == (kdat_has(KF_PAGEMAP_SCAN_GUARD) ? 0 : 1));
	CHECK(!run_check(KF_UFFD, "list", &rc, out, sizeof(out)));
	CHECK(rc == 0 && strstr(out, "\nmem_dirty_track\n") && strstr(out, "\nmadv_populate_write\n"));
	return 0;
}

static const struct unit_case cases[] = {
	{"kerndat_table_complete", test_table_complete},
	{"kerndat_names_unique", test_names_unique},
	{"kerndat_probed_once", test_probed_once},
	{"kerndat_required_present", test_required_present},
	{"kerndat_set_overrides", test_set_overrides},
	{"kerndat_values_once", test_values_once},
	{"kerndat_older_kernels", test_older_kernels},
	{"kerndat_check_verdict", test_check_verdict},
	{},
};

UNIT_MAIN(cases)

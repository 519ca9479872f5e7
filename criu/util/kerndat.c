/*
 * The kernel feature table and its probes: see kerndat.h.
 */
#define LOG_PREFIX "kerndat: "

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <linux/capability.h>
#include <linux/kcmp.h>
#include <linux/mount.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <linux/sched.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <linux/userfaultfd.h>

#include "mem/pagemap.h"
#include "util/kerndat.h"
#include "util/log.h"
#include "util/util.h"

#define PAGE_SZ 4096UL

#ifndef MOVE_MOUNT_SET_GROUP
#define MOVE_MOUNT_SET_GROUP 0x00000100 /* 5.15 */
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23 /* 5.14 */
#endif
#ifndef UFFD_USER_MODE_ONLY
#define UFFD_USER_MODE_ONLY 1 /* 5.11 */
#endif
#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U /* 6.3 */
#endif
#define PIDFD_SELF_THREAD_GROUP -10001 /* 6.14 */
#ifndef PR_TIMER_CREATE_RESTORE_IDS
#define PR_TIMER_CREATE_RESTORE_IDS 77 /* 6.15 */
#endif
#define PR_TIMER_CREATE_RESTORE_IDS_GET 2
#ifndef SO_BUF_LOCK
#define SO_BUF_LOCK 72 /* 5.14 */
#endif

static atomic_ulong probes_run;

/* ------------------------------------------------------------------------
 * Probe helpers
 */

/* A syscall that failed for its arguments, not for being unknown. */
static bool syscall_exists(long ret)
{
	return !(ret < 0 && errno == ENOSYS);
}

/*
 * For the ptrace probes: a child of ours that only waits, seized with
 * `opts` and stopped by PTRACE_INTERRUPT. Its pid, or -1 (the child gone
 * again) when ptrace refused it.
 */
static pid_t traced_child(long opts)
{
	pid_t parent = getpid(), pid = fork();
	int status;

	if (pid < 0)
		return -1;
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent) /* too late for that */
			_exit(0);
		for (;;)
			pause();
	}
	if (ptrace(PTRACE_SEIZE, pid, NULL, (void *)(opts | PTRACE_O_EXITKILL)) == 0 &&
	    ptrace(PTRACE_INTERRUPT, pid, NULL, NULL) == 0) {
		pid_t r;

		while ((r = waitpid(pid, &status, __WALL)) < 0 && errno == EINTR)
			;
		if (r == pid && WIFSTOPPED(status))
			return pid;
	}
	kill(pid, SIGKILL);
	while (waitpid(pid, NULL, __WALL) < 0 && errno == EINTR)
		;
	return -1;
}

static void traced_child_end(pid_t pid)
{
	kill(pid, SIGKILL);
	while (waitpid(pid, NULL, __WALL) < 0 && errno == EINTR)
		;
}

/* ptrace(req, child, addr, data) on a stopped child of ours succeeds, or
 * fails with one of the errors in `known` (0-terminated), not EIO. */
static bool ptrace_request_known(long req, void *addr, void *data, const int *known)
{
	pid_t pid = traced_child(0);
	long ret;
	int err;

	if (pid < 0)
		return false;
	ret = ptrace(req, pid, addr, data);
	err = errno;
	traced_child_end(pid);
	if (ret >= 0)
		return true;
	for (; known && *known; known++)
		if (err == *known)
			return true;
	return false;
}

/*
 * Sends one netlink request and tells from the first message of the reply
 * whether the kernel took it: an error (no such subsystem or handler, or
 * not permitted) is a no, anything else (the answer, the end of a dump) a
 * yes. Netlink answers within the send, so the receive does not wait.
 */
static bool netlink_accepted(int proto, const void *req, size_t len)
{
	_cleanup_close_ int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, proto);
	struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
	struct timeval tmo = {.tv_sec = 1};
	union {
		struct nlmsghdr h;
		char buf[8192];
	} reply;
	ssize_t n;

	if (fd < 0)
		return false;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tmo, sizeof(tmo));
	if (sendto(fd, req, len, 0, (struct sockaddr *)&kernel, sizeof(kernel)) != (ssize_t)len)
		return false;
	n = recv(fd, &reply, sizeof(reply), 0);
	if (n < (ssize_t)sizeof(reply.h) || !NLMSG_OK(&reply.h, (size_t)n))
		return false;
	if (reply.h.nlmsg_type == NLMSG_ERROR) {
		const struct nlmsgerr *e = NLMSG_DATA(&reply.h);

		return e->error == 0;
	}
	return true;
}

/* PAGEMAP_SCAN over one page of our own stack: its return, -1 and errno. */
static long scan_own_page(__u64 category_mask)
{
	_cleanup_close_ int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	struct page_region r;
	struct pm_scan_arg a = {
		.size = sizeof(a),
		.vec = (uintptr_t)&r,
		.vec_len = 1,
		.category_inverted = category_mask,
		.category_mask = category_mask,
		.return_mask = PAGE_IS_PRESENT,
	};

	if (fd < 0)
		return -1;
	a.start = (uintptr_t)&a & ~(PAGE_SZ - 1);
	a.end = a.start + PAGE_SZ;
	return ioctl(fd, PAGEMAP_SCAN, &a);
}

/* ------------------------------------------------------------------------
 * Probes: /proc and mounts
 */

static bool probe_checkpoint_restore(void)
{
	/* map_files and ns_last_pid exist only with CONFIG_CHECKPOINT_RESTORE */
	return access("/proc/self/map_files", F_OK) == 0 && access("/proc/sys/kernel/ns_last_pid", F_OK) == 0;
}

static bool probe_mountinfo(void)
{
	return access("/proc/self/mountinfo", R_OK) == 0;
}

static bool probe_mnt_id(void)
{
	struct statx stx;

	return statx(AT_FDCWD, "/", 0, STATX_MNT_ID, &stx) == 0 && (stx.stx_mask & STATX_MNT_ID);
}

static bool probe_openat2(void)
{
	return syscall_exists(syscall(SYS_openat2, -1, "", NULL, 0));
}

static bool probe_open_tree(void)
{
	return syscall_exists(syscall(SYS_open_tree, -1, "", 0));
}

static bool probe_fsopen(void)
{
	return syscall_exists(syscall(SYS_fsopen, NULL, 0));
}

static bool probe_mount_setattr(void)
{
	return syscall_exists(syscall(SYS_mount_setattr, -1, "", 0, NULL, 0));
}

static bool probe_move_mount_set_group(void)
{
	long r = syscall(SYS_move_mount, -1, "", -1, "", MOVE_MOUNT_SET_GROUP);

	/* an unknown flag is rejected with EINVAL before the fds are looked at */
	return !(r < 0 && (errno == ENOSYS || errno == EINVAL));
}

/* ------------------------------------------------------------------------
 * Probes: processes
 */

static bool probe_pidfd_store(void)
{
	long fd = syscall(SYS_pidfd_open, getpid(), 0);

	if (fd >= 0)
		close((int)fd);
	return fd >= 0 && syscall_exists(syscall(SYS_pidfd_getfd, -1, 0, 0));
}

static bool probe_clone3_set_tid(void)
{
	/*
	 * More set_tid entries than pid namespace levels, and no array: a
	 * kernel that knows set_tid (5.5) says EINVAL before anything else; one
	 * that does not refuses the nonzero field it doesn't know with E2BIG.
	 * CLONE_THREAD without CLONE_SIGHAND would be refused anyway: this can
	 * never make a child.
	 */
	struct clone_args args = {.flags = CLONE_THREAD, .set_tid_size = 1024};

	return syscall(SYS_clone3, &args, sizeof(args)) < 0 && errno == EINVAL;
}

static bool probe_close_range(void)
{
	/* a first descriptor past the last one: EINVAL */
	return syscall_exists(syscall(SYS_close_range, ~0U, 0U, 0));
}

static bool probe_kcmp(void)
{
	pid_t self = getpid();

	return syscall(SYS_kcmp, self, self, KCMP_VM, 0, 0) == 0;
}

static bool probe_kcmp_epoll(void)
{
	pid_t self = getpid();

	/* descriptor -1 and no slot: EBADF or EFAULT (by kernel version) from a
	 * kernel that knows the comparison, EINVAL from one that does not */
	return syscall(SYS_kcmp, self, self, KCMP_EPOLL_TFD, -1, NULL) < 0 && (errno == EBADF || errno == EFAULT);
}

static bool probe_prctl_mm_map(void)
{
	unsigned int size = 0;

	return prctl(PR_SET_MM, PR_SET_MM_MAP_SIZE, (unsigned long)&size, 0, 0) == 0 && size > 0;
}

static bool probe_ptrace_syscall_info(void)
{
	char info[128];

	return ptrace_request_known(PTRACE_GET_SYSCALL_INFO, (void *)sizeof(info), info, NULL);
}

static bool probe_get_rseq_conf(void)
{
	uint64_t conf[4];

	return ptrace_request_known(PTRACE_GET_RSEQ_CONFIGURATION, (void *)sizeof(conf), conf, NULL);
}

static bool probe_seccomp_suspend(void)
{
	pid_t pid = traced_child(PTRACE_O_SUSPEND_SECCOMP);

	if (pid < 0)
		return false;
	traced_child_end(pid);
	return true;
}

static bool probe_seccomp_filters(void)
{
	/* our child has no filter: EINVAL (or ENOENT) from a kernel that can read them */
	static const int known[] = {EINVAL, ENOENT, 0};

	return ptrace_request_known(PTRACE_SECCOMP_GET_FILTER, NULL, NULL, known);
}

static bool probe_timer_restore_ids(void)
{
	return prctl(PR_TIMER_CREATE_RESTORE_IDS, PR_TIMER_CREATE_RESTORE_IDS_GET, 0, 0, 0) >= 0;
}

/* ------------------------------------------------------------------------
 * Probes: memory
 */

static bool probe_pagemap_scan(void)
{
	return scan_own_page(0) >= 0;
}

static bool probe_pagemap_scan_guard(void)
{
	/* an unknown category is refused with EINVAL */
	return scan_own_page(PAGE_IS_GUARD) >= 0;
}

static bool probe_madv_populate_write(void)
{
	/* an empty range is fine once the advice is known */
	return madvise(NULL, 0, MADV_POPULATE_WRITE) == 0;
}

static bool probe_uffd(void)
{
	struct uffdio_api api = {.api = UFFD_API};
	long fd = syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY);
	bool ok;

	if (fd < 0)
		return false;
	ok = ioctl((int)fd, UFFDIO_API, &api) == 0;
	close((int)fd);
	return ok;
}

static bool probe_process_madvise_self(void)
{
	struct iovec none = {.iov_base = &none, .iov_len = 0};

	return syscall(SYS_process_madvise, PIDFD_SELF_THREAD_GROUP, &none, 1, MADV_DONTNEED, 0) == 0;
}

static bool probe_memfd_exec(void)
{
	/* no name: EFAULT (EACCES with vm.memfd_noexec=2) once the flag is known */
	return syscall(SYS_memfd_create, NULL, MFD_EXEC) < 0 && errno != EINVAL && errno != ENOSYS;
}

/* ------------------------------------------------------------------------
 * Probes: sockets
 */

static bool probe_unix_diag(void)
{
	struct {
		struct nlmsghdr h;
		struct unix_diag_req r;
	} req = {
		.h = {.nlmsg_len = sizeof(req),
		      .nlmsg_type = SOCK_DIAG_BY_FAMILY,
		      .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
		      .nlmsg_seq = 1},
		.r = {.sdiag_family = AF_UNIX, .udiag_states = 0}, /* no state: an empty dump */
	};

	return netlink_accepted(NETLINK_SOCK_DIAG, &req, sizeof(req));
}

static bool probe_sockopt_buf_lock(void)
{
	_cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int lock = 0;
	socklen_t len = sizeof(lock);

	return fd >= 0 && getsockopt(fd, SOL_SOCKET, SO_BUF_LOCK, &lock, &len) == 0;
}

static bool probe_tcp_repair(void)
{
	_cleanup_close_ int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct tcp_repair_window win;
	socklen_t len = sizeof(win);
	int on = 1;

	return fd >= 0 && setsockopt(fd, IPPROTO_TCP, TCP_REPAIR, &on, sizeof(on)) == 0 &&
	       getsockopt(fd, IPPROTO_TCP, TCP_REPAIR_WINDOW, &win, &len) == 0;
}

static bool probe_network_lock_nftables(void)
{
	struct {
		struct nlmsghdr h;
		struct nfgenmsg g;
	} req = {
		.h = {.nlmsg_len = sizeof(req),
		      .nlmsg_type = (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETGEN,
		      .nlmsg_flags = NLM_F_REQUEST,
		      .nlmsg_seq = 1},
		.g = {.nfgen_family = AF_UNSPEC, .version = NFNETLINK_V0},
	};

	/* the ruleset generation: EINVAL without nf_tables, EPERM without CAP_NET_ADMIN */
	return netlink_accepted(NETLINK_NETFILTER, &req, sizeof(req));
}

/* ------------------------------------------------------------------------
 * The table
 */

static const struct kdat_feature features[KF__NR] = {
	[KF_CHECKPOINT_RESTORE] = {"checkpoint_restore", "CONFIG_CHECKPOINT_RESTORE: /proc/PID/map_files, ns_last_pid",
				   true, probe_checkpoint_restore},
	[KF_MOUNTINFO] = {"mountinfo", "/proc/PID/mountinfo", true, probe_mountinfo},
	[KF_MNT_ID] = {"mnt_id", "statx(STATX_MNT_ID) (5.8): which mount a file is on", true, probe_mnt_id},
	[KF_OPENAT2] = {"openat2", "openat2(RESOLVE_IN_ROOT, RESOLVE_BENEATH) (5.6): paths inside a container root",
			true, probe_openat2},
	[KF_OPEN_TREE] = {"open_tree", "open_tree/move_mount, the new mount API (5.2)", true, probe_open_tree},
	[KF_FSOPEN] = {"fsopen", "fsopen/fsconfig/fsmount (5.2)", true, probe_fsopen},
	[KF_MOUNT_SETATTR] = {"mount_setattr", "mount_setattr (5.12)", true, probe_mount_setattr},
	[KF_PIDFD_STORE] = {"pidfd_getfd", "pidfd_open/pidfd_getfd (5.6): copies of a task's descriptors", true,
			    probe_pidfd_store},
	[KF_CLONE3_SET_TID] = {"clone3_set_tid", "clone3 with set_tid (5.5): tasks restored with their pids", true,
			       probe_clone3_set_tid},
	[KF_CLOSE_RANGE] = {"close_range", "close_range (5.9)", true, probe_close_range},
	[KF_KCMP] = {"kcmp", "kcmp: which tasks share files, memory, namespaces' objects", true, probe_kcmp},
	[KF_PRCTL_MM_MAP] = {"prctl_mm_map", "prctl(PR_SET_MM_MAP): a restored task's memory layout", true,
			     probe_prctl_mm_map},
	[KF_PTRACE_SYSCALL_INFO] = {"ptrace_syscall_info",
				    "ptrace(PTRACE_GET_SYSCALL_INFO) (5.3): syscalls injected into seized tasks", true,
				    probe_ptrace_syscall_info},
	[KF_GET_RSEQ_CONF] = {"get_rseq_conf",
			      "ptrace(PTRACE_GET_RSEQ_CONFIGURATION) (5.13): a task's rseq area; without it a dump "
			      "saves none and a restore can't unregister criu's",
			      true, probe_get_rseq_conf},
	[KF_MOVE_MOUNT_SET_GROUP] = {"move_mount_set_group",
				     "move_mount(MOVE_MOUNT_SET_GROUP) (5.15): mount sharing; without it, trees "
				     "with shared or slave mounts can't be restored",
				     false, probe_move_mount_set_group},
	[KF_PAGEMAP_SCAN] = {"pagemap_scan",
			     "ioctl(PAGEMAP_SCAN) (6.7): without it dump reads /proc/PID/pagemap and tells the zero "
			     "pages by their PFNs",
			     false, probe_pagemap_scan},
	[KF_PAGEMAP_SCAN_GUARD] = {"pagemap_scan_guard",
				   "PAGEMAP_SCAN's PAGE_IS_GUARD (6.15): without it the scan asks for no guard "
				   "regions, as a kernel without them has none",
				   false, probe_pagemap_scan_guard},
	[KF_MADV_POPULATE_WRITE] = {"madv_populate_write",
				    "madvise(MADV_POPULATE_WRITE) (5.14): without it restored pages are faulted in "
				    "one by one",
				    false, probe_madv_populate_write},
	[KF_UFFD] = {"uffd",
		     "userfaultfd(UFFD_USER_MODE_ONLY) (5.11): without it restore writes pages with the task's "
		     "reads and process_vm_writev",
		     false, probe_uffd},
	[KF_PROCESS_MADVISE_SELF] = {"process_madvise_self",
				     "process_madvise(PIDFD_SELF, MADV_DONTNEED) (6.14): without it a dump that "
				     "gives memory back as it goes injects one madvise per range",
				     false, probe_process_madvise_self},
	[KF_MEMFD_EXEC] = {"memfd_exec",
			   "memfd_create(MFD_EXEC) (6.3): without it memfds are made without the flag, as older "
			   "kernels make them",
			   false, probe_memfd_exec},
	[KF_SECCOMP_SUSPEND] = {"seccomp_suspend",
				"ptrace(PTRACE_O_SUSPEND_SECCOMP) (4.3, CAP_SYS_ADMIN): without it tasks are seized "
				"with their filters on, and a filter may refuse criu's injected syscalls",
				false, probe_seccomp_suspend},
	[KF_SECCOMP_FILTERS] = {"seccomp_filters",
				"ptrace(PTRACE_SECCOMP_GET_FILTER) (4.4): without it tasks with seccomp filters can't "
				"be dumped",
				false, probe_seccomp_filters},
	[KF_TIMER_RESTORE_IDS] = {"timer_restore_ids",
				  "prctl(PR_TIMER_CREATE_RESTORE_IDS) (6.15): without it tasks with POSIX timers "
				  "can't be restored",
				  false, probe_timer_restore_ids},
	[KF_KCMP_EPOLL] = {"kcmp_epoll", "kcmp(KCMP_EPOLL_TFD) (4.13): without it epoll files can't be dumped", false,
			   probe_kcmp_epoll},
	[KF_UNIX_DIAG] = {"unix_diag",
			  "sock_diag for unix sockets (CONFIG_UNIX_DIAG): without it unix sockets can't be dumped",
			  false, probe_unix_diag},
	[KF_SOCKOPT_BUF_LOCK] = {"sockopt_buf_lock",
				 "SO_BUF_LOCK (5.14): without it a unix socket's buffer sizes are saved as the "
				 "kernel tuned them",
				 false, probe_sockopt_buf_lock},
	[KF_TCP_REPAIR] = {"tcp_repair",
			   "TCP_REPAIR and TCP_REPAIR_WINDOW (4.8, CAP_NET_ADMIN): without them established "
			   "connections (--tcp-established) can't be dumped or restored",
			   false, probe_tcp_repair},
	[KF_NETWORK_LOCK_NFTABLES] = {"network_lock_nftables",
				      "nf_tables (CAP_NET_ADMIN): without it established connections with peers "
				      "outside the tree can't be locked, so not dumped",
				      false, probe_network_lock_nftables},
};

const struct kdat_feature *kdat_feature(enum kfeat f)
{
	return &features[f];
}

int kdat_lookup(const char *name)
{
	for (int f = 0; f < KF__NR; f++)
		if (!strcmp(features[f].name, name))
			return f;
	return -1;
}

/* ------------------------------------------------------------------------
 * The cache
 */

enum {
	KDAT_UNKNOWN,
	KDAT_NO,
	KDAT_YES
};

static _Atomic unsigned char known[KF__NR];

bool kdat_has(enum kfeat f)
{
	unsigned char v = atomic_load(&known[f]);
	bool has;

	if (v != KDAT_UNKNOWN)
		return v == KDAT_YES;
	atomic_fetch_add(&probes_run, 1);
	has = features[f].probe();
	pr_debug("%s: %s\n", features[f].name, has ? "yes" : "no");
	/* a kdat_set() meanwhile knew better than the probe */
	v = KDAT_UNKNOWN;
	if (!atomic_compare_exchange_strong(&known[f], &v, has ? KDAT_YES : KDAT_NO))
		return v == KDAT_YES;
	return has;
}

void kdat_set(enum kfeat f, bool has)
{
	if (atomic_exchange(&known[f], has ? KDAT_YES : KDAT_NO) != (has ? KDAT_YES : KDAT_NO))
		pr_debug("%s: %s, as a real call showed\n", features[f].name, has ? "yes" : "no");
}

unsigned long kdat_probes_run(void)
{
	return atomic_load(&probes_run);
}

/* ------------------------------------------------------------------------
 * Values
 */

static uint64_t self_pfn(const void *addr)
{
	_cleanup_close_ int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	uint64_t e = 0;

	if (fd < 0 || pread(fd, &e, sizeof(e), (off_t)((uintptr_t)addr / PAGE_SZ * sizeof(e))) != sizeof(e))
		return 0;
	return (e & PME_PRESENT) ? e & PME_PFN_MASK : 0;
}

/*
 * The PFN a read fault maps on fresh private anonymous memory, if that is a
 * zero page, else 0. Two separate areas of len are read: only the shared
 * zero page can back both. Some kernels give a read fault a fresh page of
 * its own (seen on a 6.18 VM); taking such a page's PFN for the zero page
 * would skip whatever the dumped tree later gets in that page once ours is
 * freed, so a PFN is trusted only when both reads share it.
 */
static uint64_t probe_zero(size_t len, bool huge)
{
	size_t map_len = 3 * len; /* room for two len-aligned areas of len */
	char *m = mmap(NULL, map_len, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	volatile char *a, *b;
	uint64_t pfn_a, pfn_b;

	if (m == MAP_FAILED)
		return 0;
	a = (char *)(((uintptr_t)m + len - 1) & ~(uintptr_t)(len - 1));
	b = a + len;
	if (huge)
		madvise((void *)a, 2 * len, MADV_HUGEPAGE);
	(void)*a;
	(void)*b;
	pfn_a = self_pfn((const void *)a);
	pfn_b = self_pfn((const void *)b);
	/* The huge zero page stays allocated while some mm has used it: keep ours. */
	if (!huge || pfn_a != pfn_b)
		munmap(m, map_len);
	return pfn_a && pfn_a == pfn_b ? pfn_a : 0;
}

static uint64_t zero_pfn, huge_zero_pfn;
static dev_t memfd_dev;
static int cap_last_cap;
static pthread_once_t zero_once = PTHREAD_ONCE_INIT, huge_zero_once = PTHREAD_ONCE_INIT, memfd_once = PTHREAD_ONCE_INIT,
		      cap_once = PTHREAD_ONCE_INIT;

static void find_zero_pfn(void)
{
	atomic_fetch_add(&probes_run, 1);
	zero_pfn = probe_zero(PAGE_SZ, false);
	pr_debug("zero page PFN %#llx\n", (unsigned long long)zero_pfn);
}

static void find_huge_zero_pfn(void)
{
	uint64_t small = kdat_zero_pfn(), pfn;

	atomic_fetch_add(&probes_run, 1);
	pfn = probe_zero(2UL << 20, true);
	/* the first of 512: aligned, and not the small one (no THP: a small page) */
	if (pfn && pfn != small && !(pfn & 511))
		huge_zero_pfn = pfn;
	pr_debug("huge zero page PFN %#llx\n", (unsigned long long)huge_zero_pfn);
}

static void find_memfd_dev(void)
{
	int fd = (int)syscall(SYS_memfd_create, "criu-probe", MFD_CLOEXEC);
	struct stat st;

	atomic_fetch_add(&probes_run, 1);
	if (fd >= 0 && !fstat(fd, &st))
		memfd_dev = st.st_dev;
	if (fd >= 0)
		close(fd);
}

static void find_cap_last_cap(void)
{
	char buf[16];
	FILE *f;

	atomic_fetch_add(&probes_run, 1);
	f = fopen("/proc/sys/kernel/cap_last_cap", "re");
	cap_last_cap = f && fgets(buf, sizeof(buf), f) ? atoi(buf) : CAP_LAST_CAP;
	if (f)
		fclose(f);
}

uint64_t kdat_zero_pfn(void)
{
	pthread_once(&zero_once, find_zero_pfn);
	return zero_pfn;
}

uint64_t kdat_huge_zero_pfn(void)
{
	pthread_once(&huge_zero_once, find_huge_zero_pfn);
	return huge_zero_pfn;
}

dev_t kdat_memfd_dev(void)
{
	pthread_once(&memfd_once, find_memfd_dev);
	return memfd_dev;
}

int kdat_cap_last_cap(void)
{
	pthread_once(&cap_once, find_cap_last_cap);
	return cap_last_cap;
}

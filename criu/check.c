/*
 * `criu check [--feature NAME]`: does this kernel have what we use? The
 * features and their probes are kerndat's table; this prints it. A missing
 * required feature fails the check; a missing optional one is listed, as
 * criu adapts to it or refuses only the trees that need it.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>

#define LOG_PREFIX "check: "
#include "crtools.h"
#include "util/kerndat.h"
#include "util/log.h"
#include "util/util.h"

/*
 * Every feature name upstream's `criu check --feature` knows, for the
 * runtimes and scripts that probe them: each is answered by one of criu's
 * kernel features (the same name, or `kfeat` when the names differ), by a
 * probe of its own, or "no" with the reason criu does not carry what the
 * name stands for. Yes means criu carries it AND this kernel has it.
 */
struct upstream_feature {
	const char *name;
	int kfeat;		  /* a kerndat feature, or -1 */
	bool (*probe)(void);	  /* or a probe of its own */
	const char *not_carried;  /* or why criu says no whatever the kernel */
};

static bool has_time_ns(void)
{
	return access("/proc/self/ns/time", F_OK) == 0;
}

static bool has_cgroup_ns(void)
{
	return access("/proc/self/ns/cgroup", F_OK) == 0;
}

/* a user namespace of the tree's own: restore reads the images through an
 * idmapped mount (task/userns.h), mount_setattr's */
static bool has_user_ns(void)
{
	return access("/proc/self/ns/user", F_OK) == 0 && kdat_has(KF_MOUNT_SETATTR);
}

static bool has_ns_pid(void)
{
	_cleanup_free_ char *status = NULL;
	size_t len;

	return read_file_at(AT_FDCWD, "/proc/self/status", &status, &len) == 0 && strstr(status, "\nNSpid:");
}

/* Nothing the kernel must have: criu carries it (upstream's check is the same no-op). */
static bool carried(void)
{
	return true;
}

static bool has_ipv6_freebind(void)
{
	int one = 1, sk = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	bool ok;

	if (sk < 0)
		return false;
	ok = setsockopt(sk, IPPROTO_IPV6, 78 /* IPV6_FREEBIND */, &one, sizeof(one)) == 0;
	close(sk);
	return ok;
}

static bool has_timerfd_ticks(void)
{
	/* TFD_IOC_SET_TICKS lives under CONFIG_CHECKPOINT_RESTORE */
	return kdat_has(KF_CHECKPOINT_RESTORE);
}

static const struct upstream_feature upstream_features[] = {
	{"mnt_id", KF_MNT_ID, NULL, NULL},
	{"mem_dirty_track", -1, NULL, "criu has no pre-dump, so no memory change tracking"},
	{"aio_remap", -1, NULL, "AIO rings are refused at dump"},
	{"timerfd", -1, has_timerfd_ticks, NULL},
	{"tun", -1, NULL, "tun/tap devices are refused at dump"},
	{"tun_ns", -1, NULL, "tun/tap devices are refused at dump"},
	{"userns", -1, has_user_ns, NULL},
	{"fdinfo_lock", -1, NULL, "file locks are not carried (a tree holding locks is refused)"},
	{"seccomp_suspend", KF_SECCOMP_SUSPEND, NULL, NULL},
	{"seccomp_filters", KF_SECCOMP_FILTERS, NULL, NULL},
	{"loginuid", -1, NULL, "the audit login uid is not carried"},
	{"cgroupns", -1, has_cgroup_ns, NULL},
	{"autofs", -1, NULL, "autofs mounts are refused at dump"},
	{"tcp_half_closed", -1, NULL, "TCP connections closing (half closed) are refused at dump"},
	{"compat_cr", -1, NULL, "32-bit tasks are refused at dump"},
	{"uffd", KF_UFFD, NULL, NULL},
	{"uffd-noncoop", -1, NULL, "criu has no lazy pages"},
	{"can_map_vdso", -1, NULL, "criu never maps a vDSO itself"},
	{"sk_ns", -1, NULL, "sockets of other network namespaces are refused at dump"},
	{"sk_unix_file", -1, NULL, "unix sockets opened through their file are refused at dump"},
	{"net_diag_raw", -1, NULL, "raw sockets are refused at dump"},
	{"nsid", -1, NULL, "network namespace ids are not carried"},
	{"link_nsid", -1, NULL, "links into other network namespaces are refused at dump"},
	{"kcmp_epoll", KF_KCMP_EPOLL, NULL, NULL},
	{"timens", -1, has_time_ns, NULL},
	{"external_net_ns", -1, carried, NULL}, /* --external net[INODE]:KEY (net/netns.c) */
	{"clone3_set_tid", KF_CLONE3_SET_TID, NULL, NULL},
	{"newifindex", -1, NULL, "network devices other than lo are refused at dump"},
	{"nftables", KF_NETWORK_LOCK_NFTABLES, NULL, NULL},
	{"has_ipt_legacy", -1, NULL, "criu locks the network with nftables, never iptables"},
	{"pidfd_store", -1, NULL, "criu has no pidfd store (pre-dumps use one; criu has no pre-dump)"},
	{"ns_pid", -1, has_ns_pid, NULL},
	{"apparmor_stacking", -1, NULL, "AppArmor profiles are not carried"},
	{"network_lock_nftables", KF_NETWORK_LOCK_NFTABLES, NULL, NULL},
	{"sockopt_buf_lock", KF_SOCKOPT_BUF_LOCK, NULL, NULL},
	{"memfd_hugetlb", -1, NULL, "huge-page memfds are refused at dump"},
	{"move_mount_set_group", KF_MOVE_MOUNT_SET_GROUP, NULL, NULL},
	{"openat2", KF_OPENAT2, NULL, NULL},
	{"get_rseq_conf", KF_GET_RSEQ_CONF, NULL, NULL},
	{"ipv6_freebind", -1, has_ipv6_freebind, NULL},
	{"pagemap_scan", KF_PAGEMAP_SCAN, NULL, NULL},
	{"timer_cr_ids", KF_TIMER_RESTORE_IDS, NULL, NULL},
	{"overlayfs_maps", -1, NULL, "criu does not check how overlayfs shows mapped files"},
	{"breakpoints", -1, NULL, "criu uses no hardware breakpoints"},
	{"pagemap_scan_guard_pages", KF_PAGEMAP_SCAN_GUARD, NULL, NULL},
};

/* 1: yes, 0: no (said why), -1: not an upstream name. */
static int check_upstream_name(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(upstream_features); i++) {
		const struct upstream_feature *u = &upstream_features[i];

		if (strcmp(u->name, name))
			continue;
		if (u->not_carried) {
			pr_err("%s: not supported: %s\n", name, u->not_carried);
			return 0;
		}
		if (u->kfeat >= 0 ? kdat_has(u->kfeat) : u->probe()) {
			pr_msg("%s is supported\n", name);
			return 1;
		}
		pr_err("%s: not supported by this kernel%s%s\n", name, u->kfeat >= 0 ? ": " : "",
		       u->kfeat >= 0 ? kdat_feature(u->kfeat)->desc : "");
		return 0;
	}
	return -1;
}

static void list_features(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(upstream_features); i++)
		pr_msg("%s\n", upstream_features[i].name);
	for (int f = 0; f < KF__NR; f++) {
		bool dup = false;

		for (size_t i = 0; i < ARRAY_SIZE(upstream_features); i++)
			dup |= !strcmp(upstream_features[i].name, kdat_feature(f)->name);
		if (!dup)
			pr_msg("%s\n", kdat_feature(f)->name);
	}
}

static int check_one(const char *name)
{
	int f, up;

	if (!strcmp(name, "list")) {
		list_features();
		return 0;
	}
	up = check_upstream_name(name);
	if (up >= 0)
		return up ? 0 : -1;
	f = kdat_lookup(name);
	if (f < 0) {
		pr_err("unknown feature '%s'\n", name);
		pr_hint("`criu check --feature list` lists the names criu knows\n");
		return -1;
	}
	if (!kdat_has(f)) {
		pr_err("%s: %s: not supported by this kernel\n", name, kdat_feature(f)->desc);
		return -1;
	}
	pr_msg("%s is supported\n", name);
	return 0;
}

int cr_check(const struct options *o)
{
	int width = 0, missing_required = 0, missing_optional = 0;

	if (o->feature)
		return check_one(o->feature);
	for (int f = 0; f < KF__NR; f++) {
		int len = (int)strlen(kdat_feature(f)->name);

		width = len > width ? len : width;
	}
	for (int f = 0; f < KF__NR; f++) {
		const struct kdat_feature *k = kdat_feature(f);
		bool has = kdat_has(f);

		pr_msg("%-*s  %-8s  %-3s  %s\n", width, k->name, k->required ? "required" : "optional",
		       has ? "yes" : "no", k->desc);
		if (has)
			continue;
		if (k->required) {
			missing_required++;
			pr_err("%s: %s: not supported by this kernel\n", k->name, k->desc);
		} else {
			missing_optional++;
		}
	}
	if (missing_required)
		return -1;
	if (missing_optional)
		pr_msg("%d optional feature%s missing: criu works around %s, or refuses only the trees that need %s\n",
		       missing_optional, missing_optional > 1 ? "s" : "", missing_optional > 1 ? "them" : "it",
		       missing_optional > 1 ? "them" : "it");
	pr_msg("Looks good.\n");
	return 0;
}

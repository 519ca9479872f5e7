/*
 * What this kernel can do, in one table: every kernel feature criu relies
 * on (required: a dump or a restore can't work without it) or adapts to
 * (optional: criu falls back to another way, or refuses only the trees
 * that need it). `criu check` lists the table; the code that adapts asks
 * it, instead of keeping a cache of its own.
 *
 * Each feature is probed lazily, the first time it is asked about, and the
 * answer is kept for the life of the process (forked children inherit
 * what is known). Probes are cheap and harmless: a syscall with arguments
 * that fail (ENOSYS or EINVAL tells a missing syscall or flag from a
 * present one), a throw-away socket or mapping, or a child of ours that is
 * ptraced and killed. Code that learns the answer from the real call (an
 * ioctl refused on a task) records it with kdat_set(), so that one place
 * holds it. Safe to use from several threads: at worst a feature is probed
 * twice, with the same answer.
 */
#ifndef CRIU_KERNDAT_H
#define CRIU_KERNDAT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

enum kfeat {
	/* required */
	KF_CHECKPOINT_RESTORE,
	KF_MOUNTINFO,
	KF_MNT_ID,
	KF_OPENAT2,
	KF_OPEN_TREE,
	KF_FSOPEN,
	KF_MOUNT_SETATTR,
	KF_PIDFD_STORE,
	KF_CLONE3_SET_TID,
	KF_CLOSE_RANGE,
	KF_KCMP,
	KF_PRCTL_MM_MAP,
	KF_PTRACE_SYSCALL_INFO,
	KF_GET_RSEQ_CONF,
	/* optional */
	KF_MOVE_MOUNT_SET_GROUP,
	KF_PAGEMAP_SCAN,
	KF_PAGEMAP_SCAN_GUARD,
	KF_MADV_POPULATE_WRITE,
	KF_UFFD,
	KF_PROCESS_MADVISE_SELF,
	KF_MEMFD_EXEC,
	KF_SECCOMP_SUSPEND,
	KF_SECCOMP_FILTERS,
	KF_TIMER_RESTORE_IDS,
	KF_KCMP_EPOLL,
	KF_UNIX_DIAG,
	KF_SOCKOPT_BUF_LOCK,
	KF_TCP_REPAIR,
	KF_NETWORK_LOCK_NFTABLES,
	KF__NR,
};

struct kdat_feature {
	const char *name; /* for `criu check --feature`: upstream CRIU's name where it has one */
	const char *desc; /* the interface, its kernel version, what criu does without it */
	bool required;
	bool (*probe)(void);
};

/* The table entry of f (f < KF__NR). */
const struct kdat_feature *kdat_feature(enum kfeat f);
/* The feature of that name, or -1. */
int kdat_lookup(const char *name);

/* Has this kernel got f? Probed on the first call, cached after. */
bool kdat_has(enum kfeat f);
/* Records what a real call showed about f (no probe is run for it after). */
void kdat_set(enum kfeat f, bool has);

/*
 * Values, each found once. 0 when unknown.
 * - the PFN of the shared zero page, as /proc/PID/pagemap shows it, only
 *   when two separate read faults of criu's own were given that same page
 *   (some kernels give a read fault a fresh page: that PFN is no zero page);
 * - the first PFN of the huge zero page (512 of them), found the same way,
 *   kept mapped by criu so that it stays the same while criu runs;
 * - the device memfds live on (st_dev of a memfd of criu's own);
 * - the highest capability the kernel knows (/proc/sys/kernel/cap_last_cap;
 *   CAP_LAST_CAP of our headers when it can't be read).
 */
uint64_t kdat_zero_pfn(void);
uint64_t kdat_huge_zero_pfn(void);
dev_t kdat_memfd_dev(void);
int kdat_cap_last_cap(void);

/* How many probes (features and values) this process has run: for tests. */
unsigned long kdat_probes_run(void);

#endif

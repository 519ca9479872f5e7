/* `criu dump`: the stages of a dump and the images they leave pending. */
#ifndef CRIU_DUMP_H
#define CRIU_DUMP_H

#include <sys/types.h>

#include "cgroup/freezer.h"

#include "core.pb-c.h"
#include "image/image.h"
#include "options.h"
#include "util/hashmap.h"

/*
 * Images written by the stages of one dump. They stay under temporary names
 * until every stage has succeeded; then all are committed, inventory.img last,
 * so a failed dump never leaves a valid-looking images directory.
 */
/* An attached System V segment a process of the tree has (mem/mm-dump.c). */
struct sysv_ref {
	pid_t pid;
	uint64_t start, id, size;
};

/* A mount namespace of the tree (dump_mntns_scan). */
struct dump_mntns {
	uint32_t id;  /* 1: the root's, then by first appearance in the tree walk */
	uint64_t ino; /* of /proc/PID/ns/mnt */
	pid_t pid;    /* its first process, in criu's pid namespace: its mountinfo and root are read */
	pid_t vpid;   /* the same as the tree numbers it */
	/* its root directory (mount id, device, inode): the root task's own for
	 * the root's namespace, the namespace's "/" for the others; every
	 * process of the namespace has it as its root */
	uint64_t root_mnt, root_dev, root_ino;
};

struct seized_tree;

struct dump_ctx {
	const struct options *opts;
	pid_t pid;
	struct img_set imgs; /* pending until every stage has succeeded */
	unsigned mnt_ns_id;  /* 0: the task shares criu's mount namespace */
	bool net_locked;	/* network-lock was told: network-unlock is due if the tree runs on */
	bool has_freezer;	/* --freeze-cgroup: the cgroup below */
	struct freezer freezer;
	struct cg_dump *cg;	/* the threads' cgroup sets (cgroup/cgroup.h) */
	struct hmap mnt_ids;	/* the mount ids every mountpoints-<id>.img has */
	/* The tree's mount namespaces, the root's first (dump_mntns_scan); one
	 * that is criu's own when the root shares it (no mount image then). */
	struct dump_mntns *mntns;
	size_t nr_mntns;
	struct hmap mntns_by_ino;  /* inode -> id */
	struct hmap mntns_by_vpid; /* a process as the tree numbers it -> its namespace's id */
	/* The dumping criu's own ids in the tree's id space (task/ids-dump.c:
	 * td_fill_root_ids), for inventory.img; set once the process stage
	 * has given the tree its ids. */
	TaskKobjIdsEntry root_ids;
	bool has_root_ids;
	uint32_t time_ns_id;	    /* the root's time namespace's id; 0: it shares criu's */
	struct sysv_ref *sysv_refs; /* checked against the segments ipcns_dump saves */
	size_t nr_sysv_refs;
	/* net/tcp-dump.c: criu's copies of the sockets it put in TCP repair
	 * mode, and the socket inodes of the connections it locked (net/net-lock.c) */
	struct tcp_repaired {
		int fd;
		bool reuse; /* SO_REUSEADDR, which leaving repair mode clears */
	} * repaired;
	size_t nr_repaired;
	uint32_t *locked;
	size_t nr_locked;
	/* the tree's network namespace when it is the runtime's (--external
	 * net[], --empty-ns net): its connections are locked in it; -1 */
	int lock_nsfd;
};

int cr_dump(const struct options *o);

/* net/tcp-dump.c: closes the copies of the sockets in repair mode; with
 * resume (a tree that runs on), takes each out of it first and unlocks
 * the connections; without, leaves them locked for restore to unlock. */
void tcp_repair_release(struct dump_ctx *d, bool resume);

/*
 * The stages of a dump that cr_dump() runs besides the process tree
 * (task-dump.h), each with its kind. Each writes its images into d->imgs;
 * 0 or -errno, printed.
 */
/*
 * Before the mounts (task/ids-dump.c): the mount namespace of every process
 * of the seized tree, numbered by first appearance (the root's is 1), one
 * process of each kept to read it through. Refused: nested namespaces under
 * a root in criu's own (there is no --root for them), a process in criu's
 * own under a root in another. td_assign_ids takes the ids from here.
 */
int dump_mntns_scan(struct dump_ctx *d, const struct seized_tree *t);
void dump_mntns_free(struct dump_ctx *d);
/* The mounts of every namespace dump_mntns_scan found (mount/mount-dump.c). */
int dump_mounts(struct dump_ctx *d);
/* The root's own UTS namespace, if it has one (task/uts.c). */
int utsns_dump(struct dump_ctx *d);
/* The root's own IPC namespace: its sysctls and System V objects, every
 * attached segment checked to be one of them (ipc/ipc-ns-dump.c). */
int ipcns_dump(struct dump_ctx *d);
/* The root's own network namespace, accepted if it holds nothing but lo
 * (net/netns.c). */
int netns_dump(struct dump_ctx *d);
/* *fd: the tree's network namespace if its connections are to be locked
 * in it (net/netns.c): a namespace of its own that is the runtime's; else
 * -1. 0 or -errno, printed. */
int netns_lock_fd(const struct dump_ctx *d, int *fd);

#endif

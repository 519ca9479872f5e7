/*
 * `criu restore`, decide: how the images are restored, from what they hold
 * and the options (restore-plan.c). Pure: no syscalls, so the choice and
 * its refusals are unit-tested (test/unit/test-restore-plan.c); each
 * refusal is printed with what to do about it.
 *
 * Four ways:
 * - container: the images hold the root's mount namespace
 *   (mountpoints-N.img), rebuilt under --root in new mount and pid
 *   namespaces; the root task is pid 1 there, or a placeholder task holds
 *   the namespaces when the dump held mounts only;
 * - host: no mount image, because the tree shared criu's mount namespace
 *   when it was dumped (a process started from a shell): it comes back in
 *   criu's mount and pid namespaces, with its dumped pids;
 * - pid namespace only: no mount image, and the root task was pid 1 of a
 *   pid namespace of its own (`unshare --pid --fork PROGRAM`): it comes
 *   back as pid 1 of a new pid namespace, its tasks with their pids there,
 *   in criu's mount namespace (the host's files, as it had them).
 * - mount namespace only: the images hold the root's mount namespace but
 *   the tree was in criu's pid namespace (`unshare --mount`, no --pid):
 *   its mounts are rebuilt under --root in a new mount namespace, its
 *   tasks made in criu's pid namespace with their dumped pids, which must
 *   be free.
 */
#ifndef CRIU_RESTORE_PLAN_H
#define CRIU_RESTORE_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core.pb-c.h"
#include "image/kobj-ids.h"
#include "options.h"

/*
 * The namespaces of the dumped tree, from the images (restore_ns_decide).
 * Images of CRIU 3.x and later name the dumping criu's own namespaces in
 * inventory.img's root_ids, in the id space of the tasks' ids-<pid>.img: a
 * kind whose id differs from the root task's was the tree's own, and its
 * image is <kind>-<the root task's id>.img. Older images of ours have no
 * root_ids: a namespace of the tree's own is the one whose image is there
 * (utsns-1.img, ...; the one mountpoints-N.img).
 */
enum restore_ns_kind {
	RNS_MNT = KNS_MNT,
	RNS_PID = KNS_PID,
	RNS_UTS = KNS_UTS,
	RNS_IPC = KNS_IPC,
	RNS_NET = KNS_NET,
	RNS_TIME = KNS_TIME,
	RNS_USER = KNS_USER,
	RNS_CGROUP = KNS_CGROUP,
	RNS_NR = KNS_NR
};

struct restore_ns_inputs {
	const TaskKobjIdsEntry *root_ids; /* inventory.img's; NULL in older images */
	const TaskKobjIdsEntry *task_ids; /* the root task's ids-<pid>.img; NULL: no process tree */
	/* images without root_ids: which the directory holds */
	unsigned nr_mnt_images; /* mountpoints-N.img files */
	unsigned mnt_image;	/* the N of the last one found */
	bool has_utsns1, has_ipcns1, has_netns1;
	bool has_timens0; /* timens-0.img: the clocks of the dumping criu */
};

struct restore_ns {
	bool own[RNS_NR];    /* the tree had a namespace of this kind of its own */
	unsigned id[RNS_NR]; /* and its image's id */
	bool new_timens;     /* restore in a new time namespace, clocks from timens-<timens_id>.img */
	unsigned timens_id;
};

/*
 * An image in the directory that no reader of criu's opens: NULL if it can
 * be left alone (it is one criu reads, or carries nothing the restored tree
 * would miss: stats-dump, irmap-cache, cpuinfo.img), else what state it
 * holds, for the refusal: criu can't restore it, and restoring without it
 * would bring the tree back different.
 */
const char *restore_image_unsupported(const char *name);
/* Of those, the ones that hold a network namespace's configuration
 * (addresses, routes, firewall rules), which a restore that doesn't
 * configure the namespace (--empty-ns net, --join-ns net) leaves alone,
 * as upstream does. */
bool restore_image_of_netns(const char *name);

/* 0 and *ns filled, or -errno with the reason printed (several mount
 * images and no root_ids: -EINVAL). */
int restore_ns_decide(const struct restore_ns_inputs *in, struct restore_ns *ns);

/*
 * What restore does with each namespace kind of the root task
 * (restore_ns_plan), from the images (which it had of its own, which were
 * someone else's: an ext_key in netns-<id>.img or pidns-<id>.img) and the
 * options (--empty-ns, --join-ns, --inherit-fd).
 */
enum ns_action {
	NSA_SHARE,   /* criu's own, as the tree shared the dumping criu's */
	NSA_CREATE,  /* a new one, with the dumped contents */
	NSA_EMPTY,   /* a new one the runtime configures (--empty-ns net): lo as dumped, nothing else */
	NSA_JOIN,    /* an existing one (--join-ns): its contents untouched */
	NSA_INHERIT, /* an external one, by the descriptor --inherit-fd fd[N]:KEY gives */
};

struct restore_ns_plan_inputs {
	const struct restore_ns *ns;	       /* the kinds the tree had of its own */
	const char *net_ext_key, *pid_ext_key; /* from netns-/pidns-<id>.img; NULL: none */
	bool netns_conf;		       /* netns-<id>.img holds settings (upstream's sysctls) */
	pid_t root_vpid;
};

struct restore_ns_plan {
	enum ns_action act[RNS_NR];
	int fd[RNS_NR];		  /* NSA_INHERIT: criu's descriptor of the namespace */
	const char *path[RNS_NR]; /* NSA_JOIN: the --join-ns file or pid (the options' string) */
};

/* 0 and *p filled, or -errno with the reason printed: a key with no
 * --inherit-fd, two ways of naming one namespace, an external pid
 * namespace whose root would be its pid 1, settings criu can't restore. */
int restore_ns_plan(const struct restore_ns_plan_inputs *in, const struct options *o, struct restore_ns_plan *p);

/* What the images hold, as far as the choice is concerned. */
struct restore_inputs {
	const char *imgs_dir; /* for messages */
	unsigned mnt_ns_id;   /* the root's mount image; 0: none */
	size_t nr_procs;      /* processes in pstree.img; 0: a mounts-only dump */
	pid_t root_vpid;      /* the root task's pid in its pid namespace */
	bool has_pidns;	      /* the tree had a pid namespace of its own */
	bool has_utsns;	      /* the tree had UTS, IPC, network namespaces of its own */
	bool has_ipcns;
	bool has_netns;
	bool has_userns; /* a user namespace of its own: the root is made in a new one */
	/* restore_ns_plan's choice; NULL: a new namespace for each kind the
	 * tree had of its own, criu's for the others */
	const struct restore_ns_plan *nsp;
};

struct restore_plan {
	bool host_mounts;     /* criu's mount namespace: nothing is mounted, no --root */
	bool host_pids;	      /* criu's pid namespace, the dumped pids (root_pid) */
	bool placeholder;     /* no process tree: a task holds the new namespaces */
	unsigned mnt_ns_id;   /* !host_mounts: mountpoints-<id>.img, built under --root */
	uint64_t clone_flags; /* the namespaces the root task (or placeholder) is made in */
	pid_t root_pid;	      /* host_pids or pid_inherit: the pid the root task is made with; else 0 */
	bool pid_inherit;     /* made in an external pid namespace (nsp's NSA_INHERIT) */
};

/* 0 and *plan filled, or -errno with the reason printed (-EINVAL: the
 * options don't fit the images; -EOPNOTSUPP: images that can't be restored). */
int restore_plan_decide(const struct restore_inputs *in, const struct options *o, struct restore_plan *plan);

/*
 * The mount namespaces to make, in order: the root's (root_id, 0 with
 * host_mounts), then every other one a live task is in, as the tasks name
 * them (task_kobj_ids_entry.mnt_ns_id), each once. A task in a namespace of
 * its own under a tree that shares criu's has no image to come from:
 * -EINVAL, printed. *ids has room for nr + 1.
 */
struct restore_task_mntns {
	pid_t vpid;
	bool zombie; /* exits at once: no namespace */
	const TaskKobjIdsEntry *ids;
};
int restore_mntns_order(const struct restore_task_mntns *tasks, size_t nr, bool host_mounts, unsigned root_id,
			unsigned *ids, size_t *nr_ids);

#endif

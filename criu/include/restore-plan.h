/*
 * `criu restore`, decide: how the images are restored, from what they hold
 * and the options (restore-plan.c). Pure: no syscalls, so the choice and
 * its refusals are unit-tested (test/unit/test-restore-plan.c); each
 * refusal is printed with what to do about it.
 *
 * Two ways:
 * - container: the images hold the root's mount namespace
 *   (mountpoints-N.img), rebuilt under --root in new mount and pid
 *   namespaces; the root task is pid 1 there, or a placeholder task holds
 *   the namespaces when the dump held mounts only;
 * - host: no mount image, because the tree shared criu's mount namespace
 *   when it was dumped (a process started from a shell): it comes back in
 *   criu's mount and pid namespaces, with its dumped pids.
 */
#ifndef CRIU_RESTORE_PLAN_H
#define CRIU_RESTORE_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "options.h"

/* What the images hold, as far as the choice is concerned. */
struct restore_inputs {
	const char *imgs_dir; /* for messages */
	unsigned mnt_ns_id;   /* the root's mount image; 0: none */
	size_t nr_procs;      /* processes in pstree.img; 0: a mounts-only dump */
	pid_t root_vpid;      /* the root task's pid in its pid namespace */
	bool has_utsns;	      /* the tree had UTS, IPC, network namespaces of its own */
	bool has_ipcns;
	bool has_netns;
};

struct restore_plan {
	bool host;	      /* criu's mount and pid namespaces, the dumped pids */
	bool placeholder;     /* no process tree: a task holds the new namespaces */
	unsigned mnt_ns_id;   /* !host: mountpoints-<id>.img, built under --root */
	uint64_t clone_flags; /* the namespaces the root task (or placeholder) is made in */
	pid_t root_pid;	      /* host: the pid the root task is made with; else 0 */
};

/* 0 and *plan filled, or -errno with the reason printed (-EINVAL: the
 * options don't fit the images; -EOPNOTSUPP: images that can't be restored). */
int restore_plan_decide(const struct restore_inputs *in, const struct options *o, struct restore_plan *plan);

#endif

/*
 * --freeze-cgroup PATH (RPC freeze_cgroup): the container's tasks are
 * frozen through their cgroup before criu seizes them, so a tree that forks
 * fast is caught whole. Both kinds: a cgroup v1 freezer directory
 * (freezer.state) and a cgroup v2 one (cgroup.freeze, cgroup.events).
 */
#ifndef CRIU_CGROUP_FREEZER_H
#define CRIU_CGROUP_FREEZER_H

#include <stdbool.h>
#include <sys/types.h>

struct freezer {
	int dirfd;
	bool v2;
	bool was_frozen; /* frozen before criu came: left frozen at thaw */
	bool frozen;	 /* frozen by us, not thawed yet */
	char path[4096];
};

/* Opens the cgroup at `path` and tells which kind it is; -1 after pr_err
 * when it is neither (with a hint at the right path). */
int freezer_open(const char *path, struct freezer *f);

/* Freezes it and waits, up to timeout_s seconds, until every task is
 * frozen. On failure it is thawed again (unless it was frozen before). */
int freezer_freeze(struct freezer *f, unsigned timeout_s);

/* Thaws it, unless it was frozen before criu froze it. Safe to call when
 * not frozen. */
int freezer_thaw(struct freezer *f);

/* The threads in the cgroup (v1 tasks, v2 cgroup.threads), sorted: the
 * tasks criu must seize. *tids is malloc'd. */
int freezer_tids(const struct freezer *f, pid_t **tids, size_t *n);

void freezer_close(struct freezer *f);

#endif

/*
 * Act, for a tree with several mount namespaces: making each namespace and
 * moving the builder between them (mount/mntns-restore.c).
 *
 * The kernel clones (open_tree OPEN_TREE_CLONE) and changes the attributes
 * or propagation (mount_setattr) of a mount only from the mount's own
 * namespace, while a detached mount made in one namespace can be attached
 * in another and MOVE_MOUNT_SET_GROUP joins mounts of two namespaces. So
 * the builder, one process, enters the namespace of each mount it clones
 * or changes (mntns_enter), and attaches each mount in its own.
 */
#ifndef CRIU_MNTNS_RESTORE_H
#define CRIU_MNTNS_RESTORE_H

#include "mount/mount-restore.h"

/* Attaches the detached mount `mfd` at `root_path`, pivots into it and
 * drops the old root: "/" is that mount from now on. */
int mntns_attach_root(int mfd, const char *root_path);
/* Before anything is mounted, in the builder's new namespace (a copy of
 * criu's): everything slave of criu's; with several namespaces, makes the
 * base each one is begun from (a tmpfs, pivoted into at root_path) and
 * begins ns[0]'s. */
int mntns_begin(struct mount_plan *p, const char *root_path);
/* Where ns[0]'s root mount is attached (then pivoted into). */
const char *mntns_root_slot(const struct mount_plan *p, const char *root_path);
/* Makes namespace k from the base with `mfd` (detached, its root mount) as
 * its root; the builder is in it afterwards. */
int mntns_create(struct mount_plan *p, unsigned k, int mfd);
/* Moves the builder into namespace k (no-op if there). */
int mntns_enter(struct mount_plan *p, unsigned k);
/* Once every mount is made: the builder back in ns[0], the base dropped. */
int mntns_end(struct mount_plan *p);

#endif

/*
 * The mount half of `criu restore`:
 *   parse   (mount/mount-image.c)   mountpoints-N.img -> struct rmount list, validated
 *   decide  (mount/mount-plan.c)    how each mount is made, from where, in which order
 *   act     (mount/mount-restore.c) build the namespace with the new mount API
 */
#ifndef CRIU_MOUNT_RESTORE_H
#define CRIU_MOUNT_RESTORE_H

#include <stdbool.h>
#include <stdint.h>

#include "util/hashmap.h"
#include "mnt.pb-c.h"
#include "options.h"

struct fs_ops;
struct rtree;

enum rmount_kind {
	RM_ROOT,     /* from --root */
	RM_FRESH,    /* a new instance of a virtual fs */
	RM_BIND,     /* a bind of (part of) another mount of the image */
	RM_EXTERNAL, /* bind-mounted from a host path */
};

struct rmount {
	MntEntry *e; /* owned by the plan */
	unsigned ns; /* its namespace: index in mount_plan.ns */
	const char *mountpoint; /* normalized, absolute */
	const struct fs_ops *fs;

	struct rmount *parent;
	struct rmount *first_child, *last_child, *next_sibling;

	enum rmount_kind kind;
	struct rmount *source;	  /* RM_BIND: the mount whose root contains ours */
	char *source_rel;	  /* RM_BIND: our root below the source's root ("" = same) */
	const char *ext_name;	  /* RM_EXTERNAL: the name in the image (NULL: autodetected) */
	char *host_path;	  /* RM_EXTERNAL: what to bind (for messages) */
	char *host_base;	  /* RM_EXTERNAL, named: the path the name is mapped to */
	const char *host_sub;	  /* RM_EXTERNAL, named: the path below it from the image, "" if none */
	int group_fd;		  /* RM_EXTERNAL shared with the host: a clone kept in the host's peer group */

	/* Propagation, decided from the image. */
	bool host_group;     /* its peer group is the host's (internal_sharing unset) */
	bool group_leader;   /* the member of its internal peer group with the widest root */
	bool master_outside; /* a slave of a peer group that is not in the image */
	bool host_rejoined;  /* act: has joined its host peer group again */
	bool host_is_dir;	  /* RM_EXTERNAL: type of host_path (checked before acting) */

	/* Restore order and act-time state. */
	unsigned pending;	 /* dependencies not yet mounted (parent, source) */
	struct rmount *first_binder, *next_binder; /* mounts bound from this one */
	int fd;			 /* mount fd while needed, else -1 */
	bool keep_fd;		 /* needed after everything is mounted (propagation) */
};

/*
 * One mount namespace of the tree (mountpoints-<id>.img). ns[0] is the root
 * task's; the others are made beside it, each from a copy of criu's
 * namespace with only its own root mount left (mount/mntns-restore.c).
 */
struct rmntns {
	unsigned id;	     /* the image's, as the tasks' ids name it */
	struct rmount *root; /* the mount at its "/" */
	int fd;		     /* act: the namespace (/proc/self/ns/mnt), -1 until made */
	int root_fd;	     /* act: its root directory (O_PATH), -1 until made */
};

struct mount_plan {
	struct rmount *mounts; /* image order: each namespace's in turn, ns[0]'s first */
	size_t nr;
	struct rmount *root; /* ns[0].root */
	struct rmntns *ns;
	size_t nr_ns;
	int cur_ns;	       /* act: the namespace the builder is in (-1: none of ours yet) */
	int base_fd;	       /* act, several namespaces: where each is begun (mount/mntns-restore.c) */
	int proc_fd;	       /* act, several namespaces: criu's /proc */
	struct rmount **order; /* the order mounts are made in */
	struct hmap by_id;
	struct hmap by_sb_root; /* "dev:root" -> first mount with that root */
	char **keys;
	size_t nr_keys;
	struct hmap group_sizes; /* shared_id -> number of mounts in that peer group */
};

/* parse: reads and validates mountpoints-<id>.img of every id in `ids`
 * (ids[0] the root task's) from dirfd, as one plan. Malformed images are
 * rejected with an error naming the entry; mount ids are unique across them. */
int mount_images_read(int dirfd, const unsigned *ids, size_t nr_ids, struct mount_plan *p);
/* Same from already-unpacked entries (tests); takes ownership of them.
 * ns_of[i] is entry i's namespace id (NULL: all in one, id 1); each
 * namespace's entries are together, the root task's first. */
int mount_plan_from_entries(struct mount_plan *p, MntEntry **entries, const unsigned *ns_of, size_t nr);
/* The index in p->ns of namespace `id`, or -1. */
int mount_plan_ns_index(const struct mount_plan *p, unsigned id);
void mount_plan_free(struct mount_plan *p);

/* decide: classifies, maps external mounts with the options, orders the
 * mounts. Prints every problem with its fix; returns their number. Checks
 * host paths (existence, file vs directory) only when `check_host` is set. */
int mount_plan_decide(struct mount_plan *p, const struct options *o, bool check_host);

/* Opens (O_PATH) what an external mount binds: a named one's image-given
 * sub path strictly below the mapped host path, never through a symlink; an
 * autodetected one's recorded host path, without symlinks. -errno on error. */
int rmount_open_host(const struct rmount *m);

/* A text form of the plan, for golden tests and -v4 logs. */
char *mount_plan_format(const struct mount_plan *p);

/* act: builds the namespace. Called in the child that owns a fresh mount
 * namespace (see restore.c); pivots into it. `imgs_dirfd` for tmpfs archives. */
struct restore_mnt_ctx {
	int imgs_dirfd;
	int root_fd;	 /* detached clone of --root */
	const char *root_path;
	/* the tree to restore (NULL: none): a bind of a pty slave is made
	 * only for one of its terminals (files/tty.h tty_premake_pty) */
	const struct rtree *tree;
};
/* Opens the detached clones of --root and of every host path (before the new
 * namespace exists, so a failure leaves no trace). */
int mount_restore_prepare(struct mount_plan *p, struct restore_mnt_ctx *c, const struct options *o);
int mount_restore_build(struct mount_plan *p, struct restore_mnt_ctx *c);
void mount_restore_release(struct mount_plan *p, struct restore_mnt_ctx *c);

#endif

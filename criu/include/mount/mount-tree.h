/*
 * The mount tree of one mount namespace as a task sees it: parent/children,
 * the task's root mount, superblock groups, sharing groups, overmounts.
 * Built from a parsed mountinfo table; every lookup is a hash map, so
 * building and deciding on 10,000 mounts takes milliseconds.
 */
#ifndef CRIU_MOUNT_TREE_H
#define CRIU_MOUNT_TREE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/hashmap.h"
#include "proc/mountinfo.h"

struct fs_ops;

/* How a mount comes back on restore (decided by mount_classify()). */
enum mount_kind {
	MNT_UNDECIDED,
	MNT_ROOT,     /* the container root: comes from --root on restore */
	MNT_FRESH,    /* a new instance of a virtual fs (proc, tmpfs, ...) */
	MNT_BIND,     /* a bind of (part of) another mount of the namespace */
	MNT_EXTERNAL, /* its root lies outside the namespace: from the host */
};

struct mount_tree;

struct mount {
	struct mountinfo_entry *mi; /* owned by the tree's table */
	const struct mount_tree *tree; /* the namespace it is in */
	uint32_t s_dev;		    /* kernel-encoded st_dev (KDEV_MAKE) */
	const struct fs_ops *fs;
	bool deleted;	   /* mountpoint was "//deleted" */
	bool root_deleted; /* root was "//deleted": the directory it binds is gone */

	struct mount *parent;
	struct mount *first_child; /* children in mountinfo order */
	struct mount *last_child;
	struct mount *next_sibling;
	struct mount *next_in_order; /* tree preorder: parents before children */

	struct mount *sb_next;	   /* next mount of the same superblock */
	struct mount *peer_next;   /* next mount of the same shared peer group */
	struct mount *xpeer_next;  /* the same across namespaces (struct mount_forest) */
	struct mount *overmount;   /* a child mounted right on top of this one */
	bool hidden;		   /* this mount or an ancestor is overmounted */

	/* Decision. */
	enum mount_kind kind;
	struct mount *bind_source;   /* MNT_BIND: the mount whose root contains ours */
	const char *ext_key;	     /* MNT_EXTERNAL: name in the image (explicit) */
	bool ext_auto;		     /* MNT_EXTERNAL: autodetected */
	char *ext_host_path;	     /* MNT_EXTERNAL, autodetected: where it is on the host */
	bool master_outside;	     /* master_id names no peer group of any dumped namespace */
	bool shared_outside;	     /* its peer group has members in criu's namespace (the host) */
};

struct mount_tree {
	uint32_t ns_id; /* its mount namespace's id in the dump: 1 the root's (0 in tests: 1) */
	pid_t ns_vpid;	/* a process of it as the tree numbers it (hints), 0: the root's */
	struct mountinfo_table table;
	struct mount *mounts; /* array, in mountinfo order */
	size_t nr;
	struct mount *root;	   /* the task's root mount */
	struct mount *first_in_order;

	struct hmap by_id;	   /* mnt_id -> mount */
	struct hmap by_sb;	   /* s_dev -> first mount of that superblock */
	struct hmap by_peer_group; /* shared_id -> first mount of the group */
	struct hmap by_mountpoint; /* mountpoint -> topmost mount there */
	struct hmap by_sb_root;	   /* "s_dev:root" -> first mount in preorder (bind sources) */
	char **sb_root_keys;	   /* owned keys of by_sb_root */
};

/*
 * Builds the tree from a parsed table (ownership of the table moves into the
 * tree). Errors: a mount whose parent is missing (other than the root), no
 * root mount, duplicate mount ids. Returns 0 or -EINVAL after pr_err.
 */
int mount_tree_build(struct mount_tree *t, struct mountinfo_table *table);
void mount_tree_free(struct mount_tree *t);

struct mount *mount_by_id(const struct mount_tree *t, uint32_t id);
/* The visible (topmost) mount at `mountpoint`, or NULL. */
struct mount *mount_by_mountpoint(const struct mount_tree *t, const char *mountpoint);
/* The first mount in preorder whose superblock is s_dev and root is `root`. */
struct mount *mount_by_sb_root(const struct mount_tree *t, uint32_t s_dev, const char *root, size_t rootlen);

/*
 * Every mount namespace of a dump and the index across them, built once so
 * that deciding on n namespaces of m mounts costs what n * m mounts in one
 * do. The trees stay the caller's.
 */
struct mount_forest {
	struct mount_tree *trees; /* trees[i] is namespace i + 1; trees[0] the root's */
	size_t nr;
	struct hmap by_sb_root; /* "s_dev:root" -> first mount: namespaces in order, each in preorder */
	char **sb_root_keys;	/* owned keys of by_sb_root */
	size_t nr_keys;
	struct hmap by_peer_group; /* shared_id -> first member (xpeer_next: the others, in the same order) */
	/* a pid as the tree numbers it -> its namespace id (the caller's; may be NULL) */
	const struct hmap *ns_by_vpid;
};

/* Indexes trees[0..nr) (each built by mount_tree_build) and sets each
 * mount's master_outside across them. */
void mount_forest_index(struct mount_forest *f, struct mount_tree *trees, size_t nr);
/* Frees the index, not the trees. */
void mount_forest_fini(struct mount_forest *f);
/* The first mount of any namespace whose superblock is s_dev and root `root`. */
struct mount *mount_forest_by_sb_root(const struct mount_forest *f, uint32_t s_dev, const char *root, size_t rootlen);
/* The first member of peer group `id` in any namespace (then xpeer_next), or NULL. */
struct mount *mount_forest_peer_group(const struct mount_forest *f, uint32_t id);

#define for_each_mount(t, m) for (struct mount *m = (t)->first_in_order; m; m = m->next_in_order)

const char *mount_kind_name(enum mount_kind k);

/* Prints the tree (one line per mount, indented by depth, with groups and
 * decisions) in a stable text form for golden-file tests and debugging. */
char *mount_tree_format(const struct mount_tree *t);

#endif

/*
 * A user namespace of the tree's own (unprivileged LXC, rootless Podman):
 * the root task's, owning every other namespace of the tree's own. One
 * level only, as upstream: a task in a user namespace other than the
 * root's is refused at dump (task/ids-dump.c).
 *
 * Images hold ids as that namespace sees them (creds, loginuid, file
 * owners), as upstream's do; criu, in the initial user namespace, sees
 * host ids in /proc and stat(): the maps convert one to the other.
 *
 * userns-<id>.img (images/userns.proto): the uid and gid maps as criu
 * reads them (lower ids are host ids), plus two fields of our own that
 * upstream's readers skip: setgroups "deny" and the owner's uid.
 *
 * Dump: task/userns-dump.c; restore: task/userns-restore.c; the maps and
 * the id conversion: task/userns-map.c (pure, but for the tree's maps the
 * dump stages convert with).
 *
 * Not carried yet: which mounts were locked (MNT_LOCKED and the
 * MNT_LOCK_* flags the kernel sets on mounts copied into a less
 * privileged namespace; mountinfo doesn't show them). The restored
 * container's mounts are made by criu or by its root inside, unlocked:
 * its root may unmount or remount them where it could not before.
 */
#ifndef CRIU_TASK_USERNS_H
#define CRIU_TASK_USERNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core.pb-c.h"
#include "timens.pb-c.h"
#include "userns.pb-c.h"

#define USERNS_MAX_EXTENTS 340	      /* the kernel's UID_GID_MAP_MAX_EXTENTS */
#define USERNS_NO_ID	   UINT32_MAX /* (uid_t)-1: no id, or none the namespace maps */
#define USERNS_OVERFLOW_ID 65534      /* what the kernel shows for an unmapped id (overflowuid's default) */

struct userns_extent {
	uint32_t first;	      /* the first id inside */
	uint32_t lower_first; /* what it is in the parent namespace */
	uint32_t count;
};

struct userns_map {
	size_t nr;
	struct userns_extent e[USERNS_MAX_EXTENTS];
};

struct userns_info {
	struct userns_map uid, gid;
	bool setgroups_deny; /* /proc/PID/setgroups says "deny" */
	uint32_t owner_uid;  /* NS_GET_OWNER_UID, in the parent (initial) namespace */
};

/*
 * /proc/PID/uid_map or gid_map text ("first lower count" per line) into m.
 * 0, or -EINVAL with the line at fault in err (which may be NULL).
 */
int userns_map_parse(const char *buf, size_t len, struct userns_map *m, char *err, size_t errlen);
/* The text to write into /proc/PID/uid_map (one write: the kernel takes
 * only one); its length, or -ENOSPC if it doesn't fit in len. */
int userns_map_format(const struct userns_map *m, char *buf, size_t len);
/* The maps as the kernel accepts them: 1..340 extents, each non-empty and
 * not overflowing, neither side overlapping another. 0 or -EINVAL, with
 * why in err. */
int userns_map_check(const struct userns_map *m, char *err, size_t errlen);

/* An id of the parent namespace as the namespace sees it; USERNS_NO_ID if
 * it maps no such id. */
uint32_t userns_map_down(const struct userns_map *m, uint32_t outside);
/* An id of the namespace in its parent; USERNS_NO_ID if unmapped. */
uint32_t userns_map_up(const struct userns_map *m, uint32_t inside);

/* Between the image and userns_info. userns_to_entry allocates the
 * entry's extents, userns_entry_free frees them. userns_from_entry checks
 * the maps as the kernel would (-EINVAL, why in err). */
void userns_to_entry(const struct userns_info *u, UsernsEntry *e);
void userns_entry_free(UsernsEntry *e);
int userns_from_entry(const UsernsEntry *e, struct userns_info *u, char *err, size_t errlen);

/*
 * The tree's namespace, for the code that writes or reads ids: set by
 * userns_dump_begin() at dump, by restore once it has read the image (the
 * mounts' options, the groups check of task/core-restore.c); NULL (the
 * default) when the tree shares criu's. The
 * converters give the id as the tree's namespace sees it: the id itself
 * without one; an id it doesn't map shows as the kernel shows it inside
 * (-1 stays -1, any other is USERNS_OVERFLOW_ID).
 */
void userns_tree_set(const struct userns_info *u);
const struct userns_info *userns_tree(void);
uint32_t userns_uid(uint32_t host_uid);
uint32_t userns_gid(uint32_t host_gid);
/* The same for ids that must be mapped (a task's creds): -ERANGE if not. */
int userns_uid_strict(uint32_t host_uid, uint32_t *ns_uid);
int userns_gid_strict(uint32_t host_gid, uint32_t *ns_gid);

struct dump_ctx;
/*
 * Dump, first (the tmpfs archives of the mount stage hold ids): when the
 * root task's user namespace is not criu's, read its maps, setgroups and
 * owner and make it the tree's (userns_tree); refuse one nested deeper
 * than a level below criu's, or one that doesn't own every other
 * namespace of the tree's own (restore makes them all in it). 0 (also
 * with no namespace of its own) or -errno, printed.
 */
int userns_dump_begin(pid_t root);
/* userns-1.img (the root's namespace is the tree's first), when the tree
 * has one. 0 or -errno, printed. */
int userns_dump(struct dump_ctx *d);
/* The dump is over: ids are criu's again. */
void userns_dump_end(void);

/* Restore: userns-<id>.img into *u; 0 or -errno, printed. */
int userns_read(int imgs_dirfd, uint32_t id, struct userns_info *u);

/*
 * Around the root's clone (criu's restore.c start_child): begin, before
 * it, takes the dumped owner's euid (a user namespace is owned by its
 * creator's euid; criu keeps its capabilities) and makes the socket the
 * root waits on. In criu, parent() takes criu's euid back and, if the
 * clone made pid, writes the maps and sends the root the images directory
 * idmapped through its namespace (images are root's, no one's inside);
 * in the root, child() waits for it, puts it in place of imgs_dirfd and
 * takes ids 0 inside. 0 or -errno, printed.
 */
struct userns_clone {
	/* the clocks of a time namespace of the tree's own, which the root
	 * makes in the new user namespace (criu sets its offsets); NULL:
	 * the time namespace criu made or its own */
	const TimensEntry *timens;
	int sync[2];
	bool euid_changed;
	uid_t euid;
	int securebits, dumpable;
	char loginuid[16]; /* criu's, unset around the clone ("": it was unset already) */
	/* with setgroups denied: the root's dumped supplementary groups (as the
	 * namespace sees them), which criu takes for the clone to hand down */
	const uint32_t *groups;
	size_t nr_groups;
	gid_t *criu_groups; /* criu's own meanwhile, to take back */
	int nr_criu_groups; /* -1: not taken */
};
/* root_core: the root task's (its supplementary groups), or NULL */
int userns_clone_begin(const struct userns_info *u, struct userns_clone *c, const CoreEntry *root_core);
int userns_clone_parent(const struct userns_info *u, struct userns_clone *c, pid_t pid, int imgs_dirfd);
int userns_clone_child(const struct userns_info *u, struct userns_clone *c, int imgs_dirfd);

/*
 * Mount options as the tree's namespace sees them: uid=N and gid=N (a
 * tmpfs's owner, which criu reads in its own, the host's, ids) converted,
 * the rest as they are. The caller frees the result; NULL if an id is not
 * mapped (or not a number).
 */
char *userns_mount_options(const struct userns_info *u, const char *opts);

#endif

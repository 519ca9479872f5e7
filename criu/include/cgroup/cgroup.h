/*
 * Cgroups of the tree (cgroup.img, upstream's format): which cgroup each
 * thread is in, in every hierarchy (v1 controllers, named v1 hierarchies
 * such as name=systemd, the v2 "" one), and the directories below the
 * tree's cgroups with their settings.
 *
 * Three layers: cgroup-plan.c (pure: /proc/PID/cgroup text, cgroup
 * namespace prefixes, re-rooting under --cgroup-root, --manage-cgroups
 * decisions), cgroup-dump.c and cgroup-restore.c (act: reading and making
 * cgroups through mounts of each hierarchy of criu's own, so that where
 * the host mounted them never matters).
 *
 * Set ids (upstream's meaning): a set is one combination of paths; the
 * dumping criu's own is set 1, written as inventory.root_cg_set and left
 * out of cgroup.img. Every thread's core names its set
 * (thread_core_entry.cg_set; task_core_entry.cg_set in older images).
 */
#ifndef CRIU_CGROUP_CGROUP_H
#define CRIU_CGROUP_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cgroup.pb-c.h"

/* --manage-cgroups MODE; the numbers are RPC's criu_cg_mode (IGNORE..STRICT). */
enum cg_mode {
	CG_MODE_IGNORE = 0, /* tasks stay in the restoring criu's cgroups */
	CG_MODE_NONE = 1,   /* cgroups must exist; no property is written */
	CG_MODE_PROPS = 2,  /* cgroups must exist; every property is written */
	CG_MODE_SOFT = 3,   /* missing cgroups made, with properties; existing ones left as they are */
	CG_MODE_FULL = 4,   /* missing cgroups made; properties written into every one */
	CG_MODE_STRICT = 5, /* every cgroup made by criu: one that exists is an error */
};
/* Upstream's default, with --manage-cgroups given without a mode or not at all. */
#define CG_MODE_DEFAULT CG_MODE_SOFT

/* "none", "props", ... -> *mode: 0, or -1 for a name that is none. */
int cg_mode_parse(const char *s, enum cg_mode *mode);
const char *cg_mode_name(enum cg_mode mode);

/* What restore does with one cgroup of the image in `mode`, given whether it exists. */
struct cg_dir_plan {
	bool fail;  /* refused: missing (none, props) or existing (strict) */
	bool make;  /* mkdir it */
	bool props; /* write its properties */
	bool perms; /* give it (and its files) the dumped owner and mode */
};
struct cg_dir_plan cg_dir_decide(enum cg_mode mode, bool exists);

/* One line of /proc/PID/cgroup: "4:cpu,cpuacct:/a/b" -> name "cpu,cpuacct", path "/a/b". */
struct cg_member {
	char *name; /* "" for the v2 hierarchy, "name=systemd" for a named one */
	char *path;
	uint32_t ns_prefix; /* bytes of path that are the cgroup namespace's root; 0: none */
};
struct cg_members {
	struct cg_member *v; /* sorted by name (as upstream writes them) */
	size_t n;
};
/* Parses the text of a /proc/PID/cgroup file; 0, or -EINVAL after pr_err. */
int cg_parse_members(const char *text, struct cg_members *out);
void cg_members_free(struct cg_members *m);
/* The member named `name`, or NULL. */
const struct cg_member *cg_members_find(const struct cg_members *m, const char *name);

/*
 * The cgroup namespace's root in one hierarchy, from a task's path as
 * criu sees it (`outer`, "/ct/a") and as a task of the namespace sees it
 * (`inner`, "/a"): *prefix = its length in outer ("/ct": 3). 0: the same
 * path (no namespace of its own there). -EINVAL when inner is not the end
 * of outer, or lies above the namespace's root ("/..").
 */
int cg_ns_prefix(const char *outer, const char *inner, uint32_t *prefix);

/* Does controller list `opt` ("cpu", "cpu,cpuacct", "" for v2) name a
 * hierarchy whose controllers are `cnames` (every one of opt's among them)? */
bool cg_ctrl_matches(const char *opt, char *const *cnames, size_t n);

/* The same for a hierarchy named as /proc lists it ("cpu,cpuacct", "" for v2). */
bool cg_name_matches(const char *opt, const char *name);

/* --cgroup-root [CTRL:]PATH: *ctrl NULL for every hierarchy; 0 or -EINVAL after pr_err. */
int cg_root_parse(const char *arg, char **ctrl, char **path);

/* `path` with `old_base` (an absolute cgroup path) replaced by `new_base`:
 * ("/ct/a", "/ct", "/new") -> "/new/a"; NULL if path is not at or below old_base. */
char *cg_rebase(const char *path, const char *old_base, const char *new_base);

/*
 * Re-roots an image's cgroups for restore: in each hierarchy, the root
 * task's cgroup (or the topmost directory dump saved above it; in its own
 * cgroup namespace, the namespace's root) becomes the --cgroup-root given
 * for it (roots[i] for ctrls[i], ctrl
 * NULL: the default), and every path at or below it follows; the
 * directories too. Paths elsewhere stay. 0 or -EINVAL after pr_err.
 */
struct cg_root_map {
	const char *const *ctrls; /* NULL entry: every hierarchy without its own */
	const char *const *roots;
	size_t n;
};
int cg_reroot_image(CgroupEntry *e, uint32_t root_set, const struct cg_root_map *map);
/* The --cgroup-root pairs of `o` as a map, pointing into `o`; its arrays
 * go with cg_root_map_free(). */
struct options;
void cg_root_map_of(const struct options *o, struct cg_root_map *map);
void cg_root_map_free(struct cg_root_map *map);
/* The root `map` gives hierarchy `name` (its own, else the default), or NULL. */
const char *cg_root_for(const struct cg_root_map *map, const char *name);

/* The hierarchy entry of the image that member name `name` lives in, or NULL. */
CgControllerEntry *cg_image_controller(const CgroupEntry *e, const char *name);
/* Refuses (-EINVAL, printed) a cgroup.img whose names could lead outside
 * the cgroups it describes: a "." or ".." component or an empty one in a
 * directory or member path, a property name that is not a plain file
 * name, a namespace prefix longer than its path. Restore trusts nothing
 * of the image before this. */
int cg_image_check(const CgroupEntry *e);
/* The set entry with id `id`, or NULL. */
CgSetEntry *cg_image_set(const CgroupEntry *e, uint32_t id);

/* ------------------------------------------------------------------------
 * Dump (cgroup-dump.c)
 */
struct cg_dump;
/* Starts with criu's own set (1); the root's cgroup namespace's prefixes
 * are read when the root has one of its own. `roots` (--cgroup-root at
 * dump, as upstream): per hierarchy, a cgroup above the tree's whose
 * subtree is saved whole. NULL after pr_err. */
struct cg_dump *cg_dump_new(pid_t root_pid, const struct cg_root_map *roots);
/* The set of thread `tid` of process `pid` (criu's pid namespace). */
int cg_dump_thread(struct cg_dump *c, pid_t pid, pid_t tid, uint32_t *set);
/* The set criu itself is in, for inventory.root_cg_set. */
uint32_t cg_dump_criu_set(const struct cg_dump *c);
/* cgroup.img into the image set (nothing when every thread is in criu's own set). */
struct img_set;
int cg_dump_write(struct cg_dump *c, struct img_set *imgs);
void cg_dump_free(struct cg_dump *c);

/* ------------------------------------------------------------------------
 * Restore (cgroup-restore.c)
 */
struct options;
struct cg_restore;
/*
 * Reads cgroup.img (if any), re-roots it as the options say (the root
 * task's set `root_set` giving the old roots) and makes (per
 * --manage-cgroups) the cgroups the tasks go into; `root_cg_set` is the
 * dumping criu's set (inventory). *out NULL when there is nothing to do
 * (--manage-cgroups=ignore); -errno after pr_err, with every cgroup it
 * made removed again.
 */
int cg_restore_prepare(int imgs_dirfd, const struct options *o, uint32_t root_cg_set, uint32_t root_set, bool own_ns,
		       struct cg_restore **out);
/* Can set `id` be entered (it is the restoring criu's own or in the image)? */
bool cg_restore_has_set(const struct cg_restore *c, uint32_t id);
/*
 * In a task, before it forks: moves the calling task (tid 0) or thread
 * `tid` (of the calling process, as its pid namespace names it) from set
 * `from` into set `to`; for the root task of a tree with a cgroup
 * namespace of its own (`unshare_ns`), the namespace is made at its root;
 * with `c` NULL (--manage-cgroups=ignore) or no set to enter (`to` 0), at
 * the cgroups the task is in (criu's): never left out.
 * `proc_fd` is the host's /proc, `criu_pid` the restoring criu (whose
 * descriptors of the hierarchies are used). 0 or -errno after pr_err.
 */
int cg_restore_enter(const struct cg_restore *c, int proc_fd, pid_t criu_pid, uint32_t from, uint32_t to, pid_t tid,
		     bool unshare_ns);
/* After a failed restore, once the tasks are gone: removes the cgroups it made. */
void cg_restore_undo(struct cg_restore *c);
void cg_restore_free(struct cg_restore *c);

#endif

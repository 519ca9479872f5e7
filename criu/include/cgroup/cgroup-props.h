/* The control files dump saves per controller (cgroup/cgroup-props.c). Pure. */
#ifndef CRIU_CGROUP_PROPS_H
#define CRIU_CGROUP_PROPS_H

#include <stdbool.h>

/* NULL-terminated list of the files saved for controller `ctrl` in a v1 or
 * v2 hierarchy; NULL when none. */
const char *const *cg_props_of(const char *ctrl, bool v2);
/* Those saved in every cgroup of a v1 or v2 hierarchy. */
const char *const *cg_props_global(bool v2);
/* Is `name` a file dump saves in hierarchy `hier` (as /proc lists it:
 * "cpu,cpuacct", "name=systemd", "" for v2)? Restore writes no other: a
 * crafted image could name cgroup.kill, memory.reclaim, release_agent. */
bool cg_prop_restorable(const char *hier, const char *name);
/* Is `word` one of the space- or newline-separated words of `list`
 * ("cpu" is not one of "cpuset io")? */
bool cg_word_in(const char *list, const char *word);
/* cgroup.procs and tasks: only their owner and mode are kept. */
bool cg_prop_is_member_list(const char *name);
/* cgroup.freeze and freezer.state: saved, never written back (a restored
 * tree comes back thawed, as runtimes expect). */
bool cg_prop_is_freeze(const char *name);
/* The value of file `name` as the image keeps it, from its contents; NULL
 * when they can't be read as that file's. */
char *cg_prop_value(const char *name, const char *raw);

#endif

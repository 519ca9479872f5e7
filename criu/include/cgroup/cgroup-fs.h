/* Act helpers shared by cgroup dump and restore (cgroup/cgroup-fs.c). */
#ifndef CRIU_CGROUP_FS_H
#define CRIU_CGROUP_FS_H

#include <stddef.h>

/*
 * A detached mount of the hierarchy /proc/PID/cgroup calls `name`
 * ("cpu,cpuacct", "name=systemd", "" for v2), rooted where criu's cgroup
 * namespace is; an O_PATH-free directory fd, or -errno after pr_err.
 */
int cg_open_hierarchy(const char *name);
/* "/a/b" -> "a/b", "/" -> "." : a path for the *at() calls on a hierarchy fd. */
const char *cg_rel(const char *path);
/* The whole of file `name` of directory fd `dir`: 0 or -errno (not printed). */
int cg_read_at(int dir, const char *name, char **buf);

#endif

/*
 * Files of the tree that are entries of a process in a proc mount
 * (/proc/<pid>/status, /proc/<pid>/fd, a cwd in /proc/<pid>): each names
 * a process by its pid, and the restored one must name the restored
 * process. Restore reopens a descriptor's file in the tree's root task
 * before it forks any other (task/fork.c, files/files-restore.c), when no
 * such process exists yet: those are refused here. A working directory or
 * root is entered by the task itself once its parent chain, its children
 * and itself exist: one in the entry of such a process is carried, any
 * other refused.
 */
#define LOG_PREFIX "task-dump: "

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "task/task-dump.h"
#include "util/log.h"
#include "util/syscalls.h"
#include "util/util.h"

#define PROC_SUPER_MAGIC_ 0x9fa0

static bool all_digits(const char *s, size_t len)
{
	if (!len || len > 9)
		return false;
	for (size_t i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/* Does `name` have a component made of digits only? (Most paths have none: no lookups for them.) */
static bool has_number(const char *name)
{
	for (const char *s = name; *s;) {
		size_t len;

		s += strspn(s, "/");
		len = strcspn(s, "/");
		if (all_digits(s, len))
			return true;
		s += len;
	}
	return false;
}

/*
 * The pid whose entry `name` (a path from the task's root, of the file
 * `st`) is: the component after the root of the proc mount the file is on
 * (the first directory on the path that is on the file's device, a proc
 * filesystem). 0 when the file is not in a process's entry; -errno.
 */
static int proc_entry_pid(pid_t pid, const char *name, const struct stat *st)
{
	_cleanup_close_ int rootfd = -1;
	char prefix[PATH_MAX];
	size_t at = 0;

	if (!has_number(name) || strlen(name) >= sizeof(prefix))
		return 0;
	snprintf(prefix, sizeof(prefix), "/proc/%d/root", pid);
	rootfd = open(prefix, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0) {
		pr_perror("can't open %s", prefix);
		return -errno;
	}
	while (name[at]) {
		_cleanup_close_ int fd = -1;
		struct stat dst;
		struct statfs fs;
		size_t len;

		at += strspn(name + at, "/");
		len = strcspn(name + at, "/");
		if (!len)
			break;
		/* the directory above this component */
		memcpy(prefix, name, at);
		prefix[at] = '\0';
		fd = sys_openat2(rootfd, at ? prefix : "/", O_PATH | O_CLOEXEC,
				 RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
		if (fd < 0 || fstat(fd, &dst) || fstatfs(fd, &fs))
			return 0; /* gone meanwhile: the path check says so */
		if (dst.st_dev == st->st_dev && fs.f_type == PROC_SUPER_MAGIC_)
			return all_digits(name + at, len) ? atoi(name + at) : 0;
		at += len;
	}
	return 0;
}

/* Is `vpid` p itself, one of its ancestors or one of its children? */
static bool exists_for(const struct td_ctx *c, const struct td_proc *p, pid_t vpid)
{
	for (size_t i = 0; i < p->nr_threads; i++)
		if (p->vtids[i] == vpid)
			return true;
	for (size_t i = 0; i < c->nr_procs; i++)
		if (c->procs[i].vpid == vpid && c->procs[i].vppid == p->vpid)
			return true;
	for (pid_t up = p->vppid; up;) {
		const struct td_proc *q = NULL;

		if (up == vpid)
			return true;
		for (size_t i = 0; i < c->nr_procs && !q; i++)
			if (c->procs[i].vpid == up)
				q = &c->procs[i];
		up = q ? q->vppid : 0;
	}
	return false;
}

int td_check_proc_ref(const struct td_ctx *c, const struct td_proc *p, const char *what, const char *name,
		      const struct stat *st, bool entered)
{
	int target = proc_entry_pid(p->pid, name, st);

	if (target <= 0)
		return target;
	if (entered && exists_for(c, p, (pid_t)target))
		return 0;
	pr_err("process %d: %s is %s, the /proc entry of process %d, which restore can't give back: it would %s\n",
	       p->vpid, what, name, target,
	       entered ? "enter it before that process may exist"
		       : "reopen it in the tree's first task, before any other process exists");
	pr_hint("%s before the dump\n",
		entered ? "leave that directory" : "close it (and open it again after restore)");
	return -EOPNOTSUPP;
}

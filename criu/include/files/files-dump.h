/*
 * Dump: one descriptor of a task as the file table (files/files-dump.c)
 * hands it to its kind's ops (file-kind.h), and the helpers those ops
 * share (files/fd-dump.c).
 */
#ifndef CRIU_FILES_FILES_DUMP_H
#define CRIU_FILES_FILES_DUMP_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "proc/proc-fdinfo.h"

/* What we know of one descriptor of a task. */
struct td_fd {
	int fd;
	char link[PATH_MAX]; /* readlink of /proc/PID/fd/N */
	struct stat st;	     /* of the file itself */
	struct proc_fdinfo fi;
	int lfd; /* our copy (pidfd_getfd), -1 until needed */
};

bool td_str_starts(const char *s, const char *prefix);
/* The link of an anon-inode file names its kind: "anon_inode:[eventfd]"
 * -> "eventfd", "anon_inode:inotify" -> "inotify"; "" for other links. */
void td_anon_name(const char *link, char *kind, size_t size);
/* Is f an anon-inode file of that kind? */
bool td_fd_is_anon(const struct td_fd *f, const char *kind);
/* A memfd's link: "/memfd:NAME (deleted)" of a file without a name. */
bool td_fd_is_memfd_link(const struct td_fd *f);
/* A file reached by a path (not a socket, pipe or anon inode, not a memfd). */
bool td_fd_has_path(const struct td_fd *f);

/* readlink(path) into buf, printing why not: 0 or -errno. */
int td_read_link(const char *path, char *buf, size_t size);
/* /proc/PID/fdinfo/FD parsed, or with pid 0 criu's own: 0 or -errno, printed. */
int td_read_fdinfo(pid_t pid, int fd, struct proc_fdinfo *fi);

#endif

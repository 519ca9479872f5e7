/*
 * File locks (flock, POSIX and OFD record locks, leases) held by a tree
 * being dumped: criu can't carry them yet, so a dump that finds one is
 * refused, naming the process, the descriptor and the file
 * (files/file-locks.c). Found two ways:
 *   - each descriptor's /proc/PID/fdinfo/FD "lock:" lines: the locks of
 *     its open file (flock, OFD, lease) and, for POSIX locks, those its
 *     process's fd table owns;
 *   - /proc/locks, for a lock a process of the tree took that no
 *     descriptor shows (a flock kept by a file mapping after its fd was
 *     closed). OFD locks print no pid there: those only a mapping keeps
 *     are not seen.
 */
#ifndef CRIU_FILES_FILE_LOCKS_H
#define CRIU_FILES_FILE_LOCKS_H

#include <stdbool.h>
#include <stdint.h>

/* One lock as the kernel prints it (fs/locks.c lock_get_status). */
struct file_lock_info {
	char kind[12]; /* FLOCK, POSIX, OFDLCK, ACCESS, LEASE, DELEG, UNKNOWN */
	char type[8];  /* READ, WRITE, UNLCK */
	bool waiter;   /* a request blocked on the lock before it ("->") */
	int pid;       /* in the reader's pid namespace; -1 for OFD locks, 0 if not there */
	bool has_inode;
	unsigned dev_major, dev_minor; /* the filesystem's (st_dev) */
	uint64_t ino;
	int64_t start;
	int64_t end; /* -1: to the end of the file (EOF) */
};

/*
 * parse, pure: one line of /proc/locks, or what follows "lock:" in a
 * fdinfo line ("1: POSIX  ADVISORY  WRITE 1234 00:05:6 0 EOF"). 0, or
 * -EINVAL if it isn't one.
 */
int file_lock_parse(const char *line, struct file_lock_info *l);

/* decide, pure: "a POSIX write lock on bytes 100-299" and the like. */
void file_lock_describe(const struct file_lock_info *l, char *buf, size_t size);

struct td_ctx;
struct td_proc;
struct td_fd;
/* dump: refuses (-EOPNOTSUPP, said) a descriptor whose fdinfo shows a lock. */
int td_check_fd_locks(const struct td_proc *p, const struct td_fd *f);
/* dump, once every descriptor is seen: refuses a lock of /proc/locks that
 * a process of the tree took. */
int td_check_tree_locks(const struct td_ctx *c);

#endif

/*
 * Thin wrappers for the syscalls glibc 2.36 does not wrap: the new mount API,
 * openat2 and clone3. Each returns what the syscall returns (-1 and errno).
 */
#ifndef CRIU_SYSCALLS_H
#define CRIU_SYSCALLS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/mount.h>
#include <linux/openat2.h>
#include <linux/sched.h>

static inline int sys_open_tree(int dfd, const char *path, unsigned flags)
{
	return syscall(SYS_open_tree, dfd, path, flags);
}

static inline int sys_move_mount(int from_dfd, const char *from, int to_dfd, const char *to, unsigned flags)
{
	return syscall(SYS_move_mount, from_dfd, from, to_dfd, to, flags);
}

static inline int sys_fsopen(const char *fstype, unsigned flags)
{
	return syscall(SYS_fsopen, fstype, flags);
}

static inline int sys_fsconfig(int fd, unsigned cmd, const char *key, const void *val, int aux)
{
	return syscall(SYS_fsconfig, fd, cmd, key, val, aux);
}

static inline int sys_fsmount(int fd, unsigned flags, unsigned attr_flags)
{
	return syscall(SYS_fsmount, fd, flags, attr_flags);
}

static inline int sys_fspick(int dfd, const char *path, unsigned flags)
{
	return syscall(SYS_fspick, dfd, path, flags);
}

static inline int sys_mount_setattr(int dfd, const char *path, unsigned flags, struct mount_attr *attr)
{
	return syscall(SYS_mount_setattr, dfd, path, flags, attr, sizeof(*attr));
}

static inline int sys_openat2(int dfd, const char *path, int flags, uint64_t resolve)
{
	struct open_how how = { .flags = (uint64_t)flags, .resolve = resolve };

	return syscall(SYS_openat2, dfd, path, &how, sizeof(how));
}

static inline int sys_pivot_root(const char *new_root, const char *put_old)
{
	return syscall(SYS_pivot_root, new_root, put_old);
}

/* fork()-like clone3: returns 0 in the child, the child's PID in the parent. */
static inline long sys_clone3(struct clone_args *args)
{
	return syscall(SYS_clone3, args, sizeof(*args));
}

/* Sets the propagation of one mount (MS_PRIVATE, MS_SLAVE, MS_SHARED, MS_UNBINDABLE). */
static inline int mount_set_propagation(int fd, unsigned long propagation)
{
	struct mount_attr attr = { .propagation = propagation };

	return sys_mount_setattr(fd, "", AT_EMPTY_PATH, &attr);
}

#endif

/*
 * `criu check [--feature NAME]`: does this kernel have what we use? Each
 * probe calls the interface with arguments that fail harmlessly and tells a
 * missing syscall (ENOSYS) or flag (EINVAL) from a present one.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/mount.h>

#define LOG_PREFIX "check: "
#include "crtools.h"
#include "util/log.h"
#include "util/util.h"

#ifndef MOVE_MOUNT_SET_GROUP
#define MOVE_MOUNT_SET_GROUP 0x00000100
#endif

static bool syscall_exists(long ret)
{
	return !(ret < 0 && errno == ENOSYS);
}

static bool probe_mountinfo(void)
{
	return access("/proc/self/mountinfo", R_OK) == 0;
}

static bool probe_mnt_id(void)
{
	struct statx stx;

	return statx(AT_FDCWD, "/", 0, STATX_MNT_ID, &stx) == 0 && (stx.stx_mask & STATX_MNT_ID);
}

static bool probe_open_tree(void)
{
	return syscall_exists(syscall(SYS_open_tree, -1, "", 0));
}

static bool probe_move_mount_set_group(void)
{
	long r = syscall(SYS_move_mount, -1, "", -1, "", MOVE_MOUNT_SET_GROUP);

	/* an unknown flag is rejected with EINVAL before the fds are looked at */
	return !(r < 0 && (errno == ENOSYS || errno == EINVAL));
}

static bool probe_fsopen(void)
{
	return syscall_exists(syscall(SYS_fsopen, NULL, 0));
}

static bool probe_mount_setattr(void)
{
	return syscall_exists(syscall(SYS_mount_setattr, -1, "", 0, NULL, 0));
}

static bool probe_pidfd(void)
{
	long fd = syscall(SYS_pidfd_open, getpid(), 0);

	if (fd >= 0)
		close(fd);
	return fd >= 0 && syscall_exists(syscall(SYS_pidfd_getfd, -1, 0, 0));
}

static bool probe_clone3(void)
{
	return syscall_exists(syscall(SYS_clone3, NULL, 0));
}

static bool probe_checkpoint_restore(void)
{
	/* map_files and ns_last_pid exist only with CONFIG_CHECKPOINT_RESTORE */
	return access("/proc/self/map_files", F_OK) == 0 && access("/proc/sys/kernel/ns_last_pid", F_OK) == 0;
}

static const struct feature {
	const char *name;
	const char *what;
	bool (*probe)(void);
} features[] = {
	{ "mountinfo", "/proc/PID/mountinfo", probe_mountinfo },
	{ "mnt_id", "statx(STATX_MNT_ID)", probe_mnt_id },
	{ "open_tree", "open_tree/move_mount (new mount API)", probe_open_tree },
	{ "move_mount_set_group", "move_mount(MOVE_MOUNT_SET_GROUP)", probe_move_mount_set_group },
	{ "fsopen", "fsopen/fsconfig/fsmount", probe_fsopen },
	{ "mount_setattr", "mount_setattr", probe_mount_setattr },
	{ "pidfd", "pidfd_open/pidfd_getfd", probe_pidfd },
	{ "clone3", "clone3", probe_clone3 },
	{ "checkpoint_restore", "CONFIG_CHECKPOINT_RESTORE (map_files, ns_last_pid)", probe_checkpoint_restore },
};

int cr_check(const struct options *o)
{
	int missing = 0;

	for (size_t i = 0; i < ARRAY_SIZE(features); i++) {
		const struct feature *f = &features[i];

		if (o->feature && strcmp(o->feature, f->name))
			continue;
		if (f->probe()) {
			if (o->feature)
				pr_msg("%s is supported\n", f->name);
			continue;
		}
		missing++;
		pr_err("%s: %s is not supported by this kernel\n", f->name, f->what);
	}
	if (o->feature) {
		bool known = false;
		for (size_t i = 0; i < ARRAY_SIZE(features); i++)
			known |= !strcmp(o->feature, features[i].name);
		if (!known) {
			pr_err("unknown feature '%s'\n", o->feature);
			pr_hint("known features:");
			for (size_t i = 0; i < ARRAY_SIZE(features); i++)
				print_on_level(LOG_ERROR, " %s", features[i].name);
			print_on_level(LOG_ERROR, "\n");
			return -1;
		}
		return missing ? -1 : 0;
	}
	if (missing)
		return -1;
	pr_msg("Looks good.\n");
	return 0;
}

/*
 * Mounts of cgroup hierarchies of criu's own (fsopen/fsconfig/fsmount,
 * detached: nothing appears in any mount table), so that dump and restore
 * reach every hierarchy whether or where the host mounted it.
 */
#define LOG_PREFIX "cgroup: "

#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroup/cgroup-fs.h"
#include "util/log.h"
#include "util/syscalls.h"
#include "util/util.h"

static int configure(int fs, const char *name)
{
	_cleanup_free_ char *copy = xstrdup(name);
	char *save = NULL;

	if (!strncmp(name, "name=", 5))
		return sys_fsconfig(fs, FSCONFIG_SET_STRING, "name", name + 5, 0);
	for (char *c = strtok_r(copy, ",", &save); c; c = strtok_r(NULL, ",", &save)) {
		if (!strncmp(c, "name=", 5) ? sys_fsconfig(fs, FSCONFIG_SET_STRING, "name", c + 5, 0)
					    : sys_fsconfig(fs, FSCONFIG_SET_FLAG, c, NULL, 0))
			return -1;
	}
	return 0;
}

int cg_open_hierarchy(const char *name)
{
	int fs = sys_fsopen(name[0] ? "cgroup" : "cgroup2", FSOPEN_CLOEXEC), mnt = -1;

	if (fs < 0) {
		pr_perror("can't open a cgroup%s file system", name[0] ? "" : "2");
		return -errno;
	}
	if (!configure(fs, name) && !sys_fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0))
		mnt = sys_fsmount(fs, FSMOUNT_CLOEXEC, 0);
	if (mnt < 0) {
		int err = errno;

		pr_err("can't mount the cgroup hierarchy of \"%s\": %s\n", name[0] ? name : "(v2)", strerror(err));
		pr_hint("the hierarchy must exist on this host with exactly these controllers (see "
			"/proc/self/cgroup)\n");
		close(fs);
		return -err;
	}
	close(fs);
	return mnt;
}

const char *cg_rel(const char *path)
{
	while (*path == '/')
		path++;
	return *path ? path : ".";
}

int cg_read_at(int dir, const char *name, char **buf)
{
	size_t len;

	return read_file_at(dir, name, buf, &len);
}

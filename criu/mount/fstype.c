#include <string.h>
#include <sys/mount.h>

#include "mount/fstype.h"
#include "util/util.h"

/* Codes are enum fstype of mnt.proto (upstream's numbering). */
enum {
	FS_UNSUPPORTED = 0,
	FS_PROC = 1,
	FS_SYSFS = 2,
	FS_DEVTMPFS = 3,
	FS_BINFMT_MISC = 4,
	FS_TMPFS = 5,
	FS_DEVPTS = 6,
	FS_PSTORE = 8,
	FS_SECURITYFS = 9,
	FS_FUSECTL = 10,
	FS_DEBUGFS = 11,
	FS_CGROUP = 12,
	FS_MQUEUE = 14,
	FS_FUSE = 15,
	FS_AUTO = 16,
	FS_OVERLAYFS = 17,
	FS_AUTOFS = 18,
	FS_TRACEFS = 19,
	FS_CGROUP2 = 23,
};

static const struct fs_ops fs_table[] = {
	{ "unsupported", FS_UNSUPPORTED, false, false },
	{ "proc", FS_PROC, true, false },
	{ "sysfs", FS_SYSFS, true, false },
	/* devtmpfs is the host's /dev: never mounted fresh in a container */
	{ "devtmpfs", FS_DEVTMPFS, false, false },
	{ "binfmt_misc", FS_BINFMT_MISC, true, false },
	{ "tmpfs", FS_TMPFS, true, true },
	{ "devpts", FS_DEVPTS, true, false },
	{ "pstore", FS_PSTORE, true, false },
	{ "securityfs", FS_SECURITYFS, true, false },
	{ "fusectl", FS_FUSECTL, true, false },
	{ "debugfs", FS_DEBUGFS, true, false },
	{ "cgroup", FS_CGROUP, true, false },
	{ "mqueue", FS_MQUEUE, true, false },
	{ "fuse", FS_FUSE, false, false },
	{ "overlay", FS_OVERLAYFS, false, false },
	{ "autofs", FS_AUTOFS, false, false },
	{ "tracefs", FS_TRACEFS, true, false },
	{ "cgroup2", FS_CGROUP2, true, false },
};

const struct fs_ops *fs_ops_lookup(const char *fstype)
{
	size_t n = strcspn(fstype, ".");

	for (size_t i = 1; i < ARRAY_SIZE(fs_table); i++)
		if (strlen(fs_table[i].name) == n && !strncmp(fs_table[i].name, fstype, n))
			return &fs_table[i];
	return &fs_table[0];
}

const struct fs_ops *fs_ops_by_code(int code)
{
	for (size_t i = 0; i < ARRAY_SIZE(fs_table); i++)
		if (fs_table[i].code == code)
			return &fs_table[i];
	return &fs_table[0];
}

struct flag_name {
	const char *name;
	unsigned long flag;
};

static const struct flag_name mnt_flag_names[] = {
	{ "ro", MS_RDONLY },	   { "nosuid", MS_NOSUID },	    { "nodev", MS_NODEV },
	{ "noexec", MS_NOEXEC },   { "noatime", MS_NOATIME },	    { "nodiratime", MS_NODIRATIME },
	{ "relatime", MS_RELATIME }, { "nosymfollow", MS_NOSYMFOLLOW },
};

static const struct flag_name sb_flag_names[] = {
	{ "ro", MS_RDONLY }, { "sync", MS_SYNCHRONOUS }, { "dirsync", MS_DIRSYNC },
	{ "mand", MS_MANDLOCK }, { "lazytime", MS_LAZYTIME },
};

static unsigned long opts_to_flags(const char *opts, const struct flag_name *names, size_t nr, char **rest)
{
	unsigned long flags = 0;
	const char *p = opts;
	char *out = rest ? xzalloc(strlen(opts) + 1) : NULL;
	size_t outlen = 0;

	while (*p) {
		size_t len = strcspn(p, ",");
		bool known = false;

		if (len == 2 && !strncmp(p, "rw", 2))
			known = true;
		for (size_t i = 0; !known && i < nr; i++) {
			if (strlen(names[i].name) == len && !strncmp(p, names[i].name, len)) {
				flags |= names[i].flag;
				known = true;
			}
		}
		if (!known && out && len) {
			if (outlen)
				out[outlen++] = ',';
			memcpy(out + outlen, p, len);
			outlen += len;
			out[outlen] = '\0';
		}
		p += len;
		if (*p == ',')
			p++;
	}
	if (rest)
		*rest = out;
	return flags;
}

unsigned long mnt_opts_to_flags(const char *opts)
{
	return opts_to_flags(opts, mnt_flag_names, ARRAY_SIZE(mnt_flag_names), NULL);
}

unsigned long sb_opts_to_flags(const char *opts, char **rest)
{
	return opts_to_flags(opts, sb_flag_names, ARRAY_SIZE(sb_flag_names), rest);
}

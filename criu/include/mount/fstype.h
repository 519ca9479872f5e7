/*
 * Per-filesystem operations: one table instead of if-chains on fs names.
 */
#ifndef CRIU_FS_H
#define CRIU_FS_H

#include <stdbool.h>

struct fs_ops {
	const char *name; /* fstype as in mountinfo (before any ".subtype") */
	int code;	  /* mnt_entry.fstype (enum fstype of the image) */
	/* A new instance can be mounted on restore (virtual filesystems):
	 * a mount of its root need not come from anywhere. */
	bool fresh;
	/* Contents are saved at dump and put back on restore (tmpfs). */
	bool has_contents;
};

/* Never NULL: unknown filesystems get the "unsupported" entry (code 0,
 * not fresh), which can still be bind-mounted. */
const struct fs_ops *fs_ops_lookup(const char *fstype);
const struct fs_ops *fs_ops_by_code(int code);

/* Mount flags (field 6) and superblock flags (field 11) as MS_* bits.
 * `rest` (may be NULL) receives the superblock options that are not flags,
 * comma-separated, malloc'd. */
unsigned long mnt_opts_to_flags(const char *opts);
unsigned long sb_opts_to_flags(const char *opts, char **rest);

#endif

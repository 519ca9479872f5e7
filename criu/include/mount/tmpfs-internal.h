/* Shared by the two halves of tmpfs contents: mount/tmpfs-dump.c, mount/tmpfs-restore.c. */
#ifndef CRIU_FS_TMPFS_INTERNAL_H
#define CRIU_FS_TMPFS_INTERNAL_H

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <archive.h>

#define IO_CHUNK   (256 << 10)
#define GZIP_LEVEL "1" /* dumps must be fast; tmpfs data compresses well anyway */

/* Which xattrs travel with the files; security.* (capabilities, LSM labels)
 * is neither dumped nor, from an untrusted image, restored. */
static inline bool xattr_wanted(const char *name)
{
	return !strncmp(name, "user.", 5) || !strncmp(name, "trusted.", 8) ||
	       !strcmp(name, "system.posix_acl_access") || !strcmp(name, "system.posix_acl_default");
}

static inline int archive_err(struct archive *a)
{
	int err = archive_errno(a);

	return err > 0 ? -err : -EIO;
}

static inline const char *archive_msg(struct archive *a)
{
	const char *s = archive_error_string(a);

	return s ? s : "unknown error";
}


#endif

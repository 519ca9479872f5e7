/*
 * tmpfs contents: a tmpfs mount keeps its files only in memory, so a dump
 * stores them as "tmpfs-dev-<dev>.tar.gz.img", a gzip-compressed tar (pax
 * interchange format, no CRIU header), the same kind of image upstream CRIU
 * writes with tar(1). GNU tar can list and extract these images.
 *
 * Both directions work on directory file descriptors and never follow a
 * symlink, so neither a dumped container nor a crafted image can make us
 * read or write outside the given directory.
 */
#ifndef CRIU_FS_TMPFS_H
#define CRIU_FS_TMPFS_H

/*
 * Archives the tree below the directory `root_fd` (the tmpfs mount's root,
 * opened by the caller, e.g. via /proc/PID/root/<mountpoint>) into `out_fd`.
 *
 * Only the mount of `root_fd` is archived: a mount point below it (another
 * filesystem, or a bind mount) is recorded as an empty directory, or as an
 * empty file for a file mount point, with the covering mount's mode and owner
 * (the covered one cannot be seen), and is not descended.
 *
 * Records regular files (streamed, holes kept as a sparse map), directories,
 * symlinks, hard links (the second and later names of an inode become hard
 * link entries), fifos and device nodes, with mode (including setuid, setgid
 * and sticky bits), numeric uid/gid, mtime and atime in nanoseconds, and the
 * user.*, trusted.* and system.posix_acl_* xattrs of files and directories.
 * The root directory itself is the entry "." (mode, owner, times, xattrs).
 * Sockets cannot be archived and are skipped with a warning. Atimes of the
 * dumped tree are left untouched (O_NOATIME).
 *
 * Directories are archived with one open descriptor per level of depth.
 * Returns 0, or -errno after a pr_err naming the path that failed; the
 * contents of `out_fd` are then garbage.
 */
int tmpfs_archive_dir(int root_fd, int out_fd);

/*
 * Extracts an archive written by tmpfs_archive_dir (or by tar(1), as upstream
 * CRIU does: ustar, pax or GNU tar, plain or in one gzip member) from `in_fd`
 * into the directory `root_fd`. The gzip CRC and length are checked at the end
 * (libarchive doesn't): a corrupted image is an error, though what was
 * extracted before the check stays. Other compressions, a multi-member gzip
 * stream and bytes after the gzip trailer are refused.
 *
 * The archive is untrusted: an absolute name, a ".." component, or a
 * symlink among the directories of a name or of a hard link's target fails
 * the extraction, so nothing is ever created, changed or linked outside
 * `root_fd`. An existing non-directory at an entry's name (a symlink too)
 * is replaced: unlinked, never followed; an existing directory is reused
 * for a directory entry and is an error for any other entry.
 *
 * Restores modes, owners, atime/mtime (of directories after their contents),
 * hard links, symlinks, fifos, device nodes, holes and xattrs (a failure to
 * set an xattr is only a warning); the "." entry applies to `root_fd` itself.
 * Stops at the first bad entry and returns -errno after a pr_err naming it;
 * what was extracted before stays.
 */
int tmpfs_extract_dir(int in_fd, int root_fd);

#endif

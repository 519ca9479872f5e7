/*
 * Dump: files reached by a path (the regular file kind, reg_file_entry):
 * descriptors of files, directories, memory devices and O_PATH ones, and
 * the path files a process has without a descriptor (its executable, cwd,
 * root, mapped files: td_dump_path_file, once per path and flags).
 *
 * Paths are stored as the task sees them, from its root. The kernel prints
 * them from criu's root (or, for a file criu can't reach, from the root of
 * the file's mount namespace), so the task's root is cut off, and the
 * result is checked: opened from the task's root (RESOLVE_IN_ROOT), the
 * path must lead to the very same inode.
 */
#define LOG_PREFIX "task-dump: "

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "files/files-dump.h"
#include "files/reg.h"
#include "fown.pb-c.h"
#include "regfile.pb-c.h"
#include "task/task-dump.h"
#include "util/log.h"
#include "util/syscalls.h"
#include "util/util.h"

#define MEM_MAJOR 1 /* /dev/null, zero, full, random, urandom... */

/* ------------------------------------------------------------------------
 * Pure: what is a path file, where is it below the task's root
 */

/*
 * Anything by path: files, directories, symlinks, memory devices; with
 * O_PATH, whatever it points to (but a socket: the socket kind's).
 */
bool td_is_reg(const struct td_fd *f)
{
	mode_t fmt = f->st.st_mode & S_IFMT;

	return td_fd_has_path(f) && ((f->fi.flags & O_PATH) || fmt == S_IFREG || fmt == S_IFDIR || fmt == S_IFLNK ||
				     (fmt == S_IFCHR && major(f->st.st_rdev) == MEM_MAJOR));
}

/*
 * `link` as the task sees it, below its root `root` (both as the kernel
 * printed them for criu). -EXDEV if the file is outside the task's root.
 */
static int path_in_root(const char *root, const char *link, char *out, size_t size)
{
	const char *below;

	if (link[0] != '/')
		return -EINVAL;
	if (!strcmp(root, "/")) {
		below = link + 1;
	} else {
		if (!path_is_under(link, root))
			return -EXDEV;
		below = path_below(link, root);
	}
	if ((size_t)snprintf(out, size, "/%s", below) >= size)
		return -ENAMETOOLONG;
	return 0;
}

/* ------------------------------------------------------------------------
 * Checking paths
 */

/* The task's root as the kernel prints it for criu. */
static int task_root(pid_t pid, char *root, size_t size)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/root", pid);
	return td_read_link(path, root, size);
}

/* Does `name`, from the task's root, lead to the file `st`? */
static int same_file_at(pid_t pid, const char *name, const struct stat *st, bool *same)
{
	_cleanup_close_ int rootfd = -1, fd = -1;
	char path[64];
	struct stat got;

	snprintf(path, sizeof(path), "/proc/%d/root", pid);
	rootfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0) {
		pr_perror("can't open %s", path);
		return -errno;
	}
	*same = false;
	fd = sys_openat2(rootfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
	if (fd < 0)
		return 0;
	if (fstat(fd, &got) < 0) {
		pr_perror("can't stat %s in the root of process %d", name, pid);
		return -errno;
	}
	*same = got.st_dev == st->st_dev && got.st_ino == st->st_ino;
	return 0;
}

/*
 * /dev/null, /dev/zero...: containers get them from the host (a bind mount
 * or criu's stdio), so they are recorded by name whatever path led to them.
 */
static bool memory_device_name(const struct stat *st, char *out, size_t size)
{
	static const char *const names[] = {[3] = "null", [5] = "zero", [7] = "full", [8] = "random", [9] = "urandom"};
	unsigned int mi = minor(st->st_rdev);

	if (!S_ISCHR(st->st_mode) || major(st->st_rdev) != 1 || mi >= ARRAY_SIZE(names) || !names[mi])
		return false;
	snprintf(out, size, "/dev/%s", names[mi]);
	return true;
}

/*
 * The path of the file `st` that the kernel printed as `link` (`what`
 * names it in errors), as the task sees it and checked.
 */
static int task_path(pid_t pid, const char *what, const char *link, const struct stat *st, char *out, size_t size)
{
	char root[PATH_MAX];
	bool same;
	int ret;

	if (st->st_nlink == 0 && !S_ISDIR(st->st_mode)) {
		pr_err("process %d: %s is the deleted file %s, which can't be dumped yet\n", pid, what, link);
		return -EOPNOTSUPP;
	}
	if (memory_device_name(st, out, size))
		return 0; /* the same device everywhere: restore opens it on the host */
	ret = task_root(pid, root, sizeof(root));
	if (ret < 0)
		return ret;
	ret = path_in_root(root, link, out, size);
	if (ret == -EXDEV) {
		pr_err("process %d: %s is %s, outside its root %s; not supported\n", pid, what, link, root);
		return -EOPNOTSUPP;
	}
	if (ret < 0) {
		pr_err("process %d: %s: unexpected path %s\n", pid, what, link);
		return ret;
	}
	ret = same_file_at(pid, out, st, &same);
	if (ret < 0)
		return ret;
	if (!same) {
		pr_err("process %d: %s is %s, but that path leads elsewhere now (deleted, moved or overmounted); not "
		       "supported\n",
		       pid, what, link);
		return -EOPNOTSUPP;
	}
	return 0;
}

/* ------------------------------------------------------------------------
 * Writing reg_file_entry
 */

struct reg_info {
	uint32_t id, flags;
	uint64_t pos;
	int32_t mnt_id;
	const char *name;
	const struct stat *st;
	FownEntry *fown; /* NULL: none */
};

static int write_reg(struct td_ctx *c, const struct reg_info *ri)
{
	FileEntry fe = FILE_ENTRY__INIT;
	RegFileEntry re = REG_FILE_ENTRY__INIT;
	FownEntry none = FOWN_ENTRY__INIT;

	re.id = ri->id;
	re.flags = ri->flags & ~(uint32_t)O_CLOEXEC; /* a property of the fd */
	re.pos = ri->pos;
	re.fown = ri->fown ? ri->fown : &none;
	re.name = (char *)ri->name;
	/*
	 * The mount it was opened on, when it is one of the mount images
	 * (of any of the tree's mount namespaces: mount ids are unique
	 * across them, and restore opens the file from the root of that
	 * mount's namespace): a descriptor inherited from before the tree's
	 * mount namespace was made (a container's stdio) names a mount of
	 * another. Upstream's restore looks the id up among the dumped
	 * mounts (and stops on a BUG when it is not there); without one (-1)
	 * it opens the path from the tree's root, where dump found the file.
	 */
	re.has_mnt_id = !c->d->mnt_ns_id || hmap_get_int(&c->d->mnt_ids, (uint64_t)(uint32_t)ri->mnt_id);
	re.mnt_id = ri->mnt_id;
	re.has_mode = true;
	re.mode = ri->st->st_mode;
	if (S_ISREG(ri->st->st_mode)) {
		re.has_size = true;
		re.size = (uint64_t)ri->st->st_size;
	}
	fe.type = FD_TYPES__REG;
	fe.id = ri->id;
	fe.reg = &re;
	return td_write_file_entry(c, &fe);
}

/* ------------------------------------------------------------------------
 * The kind's dump op, and path files without a descriptor
 */

int td_dump_reg(struct td_ctx *c, struct td_proc *p, const struct td_fd *f, uint32_t id, FownEntry *fown)
{
	char what[32], name[PATH_MAX];
	struct reg_info ri = {.id = id, .flags = f->fi.flags, .pos = (uint64_t)f->fi.pos, .mnt_id = f->fi.mnt_id};
	int ret;

	snprintf(what, sizeof(what), "fd %d", f->fd);
	ret = task_path(p->pid, what, f->link, &f->st, name, sizeof(name));
	if (!ret)
		ret = td_check_proc_ref(c, p, what, name, &f->st, false);
	if (ret < 0)
		return ret;
	ri.name = name;
	ri.st = &f->st;
	ri.fown = fown;
	return write_reg(c, &ri);
}

/* The mount id of a file criu holds open. */
static int self_mnt_id(int fd, int32_t *mnt_id)
{
	struct proc_fdinfo fi;
	int ret;

	memset(&fi, 0, sizeof(fi));
	ret = td_read_fdinfo(0, fd, &fi);
	*mnt_id = fi.mnt_id;
	proc_fdinfo_free(&fi);
	return ret;
}

/* Writes the reg_file_entry of a path file unless an equal one exists. */
static int64_t path_file_id(struct td_ctx *c, const char *name, uint32_t flags, int32_t mnt_id, const struct stat *st)
{
	struct reg_info ri = {.flags = flags, .mnt_id = mnt_id, .name = name, .st = st};
	char *key;
	void *v;
	int ret;

	if (asprintf(&key, "%x %jx %jx %s", flags, (uintmax_t)st->st_dev, (uintmax_t)st->st_ino, name) < 0)
		return -ENOMEM;
	v = hmap_get_str(&c->reg_files, key);
	if (v) {
		free(key);
		return (int64_t)(uintptr_t)v;
	}
	ri.id = ++c->next_file_id;
	ret = write_reg(c, &ri);
	if (ret < 0) {
		free(key);
		return ret;
	}
	c->reg_keys = xrealloc(c->reg_keys, (c->nr_reg_keys + 1) * sizeof(*c->reg_keys));
	c->reg_keys[c->nr_reg_keys++] = key;
	hmap_put_str(&c->reg_files, key, (void *)(uintptr_t)ri.id);
	return ri.id;
}

int64_t td_dump_path_file(struct td_ctx *c, struct td_proc *p, const char *link, uint32_t flags)
{
	char path[PATH_MAX], target[PATH_MAX], name[PATH_MAX], what[PATH_MAX + 16];
	_cleanup_close_ int fd = -1;
	struct stat st;
	int32_t mnt_id = -1;
	int ret;

	snprintf(path, sizeof(path), "/proc/%d/%s", p->pid, link);
	snprintf(what, sizeof(what), "its %s", link);
	ret = td_read_link(path, target, sizeof(target));
	if (ret < 0)
		return ret;
	fd = open(path, O_PATH | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		pr_perror("can't open %s (%s)", path, target);
		return -errno;
	}
	/* a program run from a memfd (fexecve): the memfd, as its mappings are */
	if (!strcmp(link, "exe") && td_str_starts(target, "/memfd:") && st.st_nlink == 0 && S_ISREG(st.st_mode))
		return td_dump_memfd_map(c, p, path, O_RDONLY);
	if (target[0] != '/' || td_str_starts(target, "/memfd:")) {
		pr_err("process %d: %s is %s, which can't be dumped yet\n", p->pid, what, target);
		return -EOPNOTSUPP;
	}
	ret = task_path(p->pid, what, target, &st, name, sizeof(name));
	if (!ret)
		ret = td_check_proc_ref(c, p, what, name, &st, !strcmp(link, "cwd") || !strcmp(link, "root"));
	if (!ret)
		ret = self_mnt_id(fd, &mnt_id);
	if (ret < 0)
		return ret;
	return path_file_id(c, name, flags, mnt_id, &st);
}

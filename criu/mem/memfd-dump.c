/*
 * Dump, act: memfd_create(2) files. Each open file is a file_entry of type
 * MEMFD (memfd_file_entry: flags, position, owner, its inode's id); each
 * inode once a memfd_inode_entry in memfd.img (name, owner, size, seals)
 * and its pages, like shared memory's, in pagemap-shmem-<inode>.img and a
 * pages image: holes skipped, read through criu's copy of the descriptor.
 * Huge-page memfds (MFD_HUGETLB) are refused.
 */
#define LOG_PREFIX "task-dump: "

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <linux/magic.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "dump.h"
#include "fdinfo.pb-c.h"
#include "util/log.h"
#include "memfd.pb-c.h"
#include "proc/proc-fdinfo.h"
#include "task/task-dump.h"
#include "util/kerndat.h"
#include "util/util.h"
#include "task/userns.h"

#ifndef F_GET_SEALS
#define F_GET_SEALS 1034
#endif

/* "/memfd:NAME (deleted)" -> "NAME" (at most 249 bytes, as memfd_create takes). */
static void memfd_name(const char *link, char *out, size_t size)
{
	const char *s = link + strlen("/memfd:");
	size_t n = strlen(s);

	if (n >= 10 && !strcmp(s + n - 10, " (deleted)"))
		n -= 10;
	if (n >= size)
		n = size - 1;
	memcpy(out, s, n);
	out[n] = '\0';
}

/*
 * A memfd for real, not a deleted file that happens to be named
 * "/memfd:..."? One of huge pages (MFD_HUGETLB, on the kernel's
 * hugetlbfs) is a memfd, but not one we can do.
 */
static int check_memfd(const struct td_proc *p, int fd, const struct stat *st, const char *what)
{
	dev_t dev = kdat_memfd_dev(); /* 0 if unknown */
	struct statfs sfs;

	if (!fstatfs(fd, &sfs) && sfs.f_type == HUGETLBFS_MAGIC) {
		pr_err("process %d: %s is a memfd of huge pages (MFD_HUGETLB): not supported\n", p->pid, what);
		return -EOPNOTSUPP;
	}
	if (dev && st->st_dev != dev) {
		pr_err("process %d: %s is named like a memfd but is a deleted file of device %u:%u: deleted files are "
		       "not supported\n",
		       p->pid, what, major(st->st_dev), minor(st->st_dev));
		return -EOPNOTSUPP;
	}
	return 0;
}

static int dump_inode(struct td_ctx *c, struct td_proc *p, const struct td_memfd_fd *f, const struct stat *st)
{
	/* f->fd < 0: a mapping's file, read through its map_files link */
	MemfdInodeEntry e = MEMFD_INODE_ENTRY__INIT;
	char name[256], what[320], self[64];
	_cleanup_close_ int rfd = -1;
	int seals, ret;

	memfd_name(f->link, name, sizeof(name));
	if (f->fd < 0)
		snprintf(what, sizeof(what), "process %d: memfd \"%s\" (mapped)", p->pid, name);
	else
		snprintf(what, sizeof(what), "process %d: memfd \"%s\" (fd %d)", p->pid, name, f->fd);
	seals = fcntl(f->lfd, F_GET_SEALS);
	if (seals < 0) {
		pr_perror("%s: can't read its seals", what);
		return -errno;
	}
	e.name = name;
	e.uid = userns_uid(st->st_uid); /* as the tree's user namespace sees them */
	e.gid = userns_gid(st->st_gid);
	e.size = (uint64_t)st->st_size;
	e.shmid = (uint32_t)st->st_ino;
	e.seals = (uint32_t)seals;
	e.inode_id = st->st_ino;
	e.has_mode = true;
	e.mode = st->st_mode & 07777;
	if (!c->memfd_img && !(c->memfd_img = img_set_new(&c->d->imgs, IMG_MEMFD_INODE, 0)))
		return -EIO;
	ret = img_write_entry(c->memfd_img, &e.base);
	/*
	 * Read through an open file of criu's own: lfd shares the task's, whose
	 * position SEEK_DATA/SEEK_HOLE would move (and which may be write-only).
	 */
	snprintf(self, sizeof(self), "/proc/self/fd/%d", f->lfd);
	if (!ret && (rfd = open(self, O_RDONLY | O_CLOEXEC)) < 0) {
		pr_perror("%s: can't open it for reading", what);
		ret = -errno;
	}
	if (!ret)
		ret = td_dump_shmem_fd(c, rfd, st->st_ino, (uint64_t)st->st_size, what);
	if (!ret)
		hmap_put_int(&c->shmems, st->st_ino, (void *)1);
	return ret;
}

int td_dump_memfd(struct td_ctx *c, struct td_proc *p, const struct td_memfd_fd *f, uint32_t id)
{
	FileEntry fe = FILE_ENTRY__INIT;
	MemfdFileEntry me = MEMFD_FILE_ENTRY__INIT;
	struct stat st;
	int ret;

	if (fstat(f->lfd, &st)) {
		pr_perror("process %d: can't stat memfd fd %d", p->pid, f->fd);
		return -errno;
	}
	{
		char what[32];

		snprintf(what, sizeof(what), "fd %d", f->fd);
		if ((ret = check_memfd(p, f->lfd, &st, what)))
			return ret;
	}
	if (!st.st_ino || st.st_ino > UINT32_MAX) {
		pr_err("process %d: memfd fd %d has inode %llu, which its images can't name\n", p->pid, f->fd,
		       (unsigned long long)st.st_ino);
		return -EOPNOTSUPP;
	}
	if (!hmap_get_int(&c->shmems, st.st_ino)) {
		ret = dump_inode(c, p, f, &st);
		if (ret)
			return ret;
	}
	me.id = id;
	me.flags = f->fi->flags & ~(uint32_t)O_CLOEXEC;
	me.pos = (uint64_t)f->fi->pos;
	me.fown = f->fown;
	me.inode_id = (uint32_t)st.st_ino;
	fe.type = FD_TYPES__MEMFD;
	fe.id = id;
	fe.memfd = &me;
	return td_write_file_entry(c, &fe);
}

int64_t td_dump_memfd_map(struct td_ctx *c, struct td_proc *p, const char *map_file, uint32_t flags)
{
	FileEntry fe = FILE_ENTRY__INIT;
	MemfdFileEntry me = MEMFD_FILE_ENTRY__INIT;
	FownEntry fown = FOWN_ENTRY__INIT;
	_cleanup_close_ int lfd = open(map_file, O_RDONLY | O_CLOEXEC);
	char link[320];
	struct stat st;
	uint64_t key;
	uintptr_t known;
	ssize_t n;
	int ret;

	n = readlink(map_file, link, sizeof(link) - 1);
	if (lfd < 0 || fstat(lfd, &st) || n <= 0) {
		pr_perror("process %d: can't open the memfd it maps at %s", p->pid, map_file);
		return -errno;
	}
	link[n] = '\0';
	if ((ret = check_memfd(p, lfd, &st, map_file)))
		return ret;
	if (!st.st_ino || st.st_ino > UINT32_MAX) {
		pr_err("process %d: the memfd mapped at %s has inode %llu, which its images can't name\n", p->pid,
		       map_file, (unsigned long long)st.st_ino);
		return -EOPNOTSUPP;
	}
	key = (uint64_t)st.st_ino << 2 | (flags & O_ACCMODE);
	known = (uintptr_t)hmap_get_int(&c->memfd_maps, key);
	if (known)
		return (int64_t)(known - 1);
	if (!hmap_get_int(&c->shmems, st.st_ino)) {
		struct td_memfd_fd f = {.fd = -1, .lfd = lfd, .link = link};

		ret = dump_inode(c, p, &f, &st);
		if (ret)
			return ret;
	}
	me.id = ++c->next_file_id;
	me.flags = flags;
	me.pos = 0;
	me.fown = &fown;
	me.inode_id = (uint32_t)st.st_ino;
	fe.type = FD_TYPES__MEMFD;
	fe.id = me.id;
	fe.memfd = &me;
	ret = td_write_file_entry(c, &fe);
	if (ret)
		return ret;
	hmap_put_int(&c->memfd_maps, key, (void *)(uintptr_t)(me.id + 1));
	return me.id;
}

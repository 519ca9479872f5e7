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
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "dump.h"
#include "fdinfo.pb-c.h"
#include "log.h"
#include "memfd.pb-c.h"
#include "proc-fdinfo.h"
#include "task-dump.h"
#include "util.h"

#ifndef F_GET_SEALS
#define F_GET_SEALS 1034
#endif
#define HUGETLBFS_MAGIC_ 0x958458f6

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

static int dump_inode(struct td_ctx *c, struct td_proc *p, const struct td_memfd_fd *f, const struct stat *st)
{
	MemfdInodeEntry e = MEMFD_INODE_ENTRY__INIT;
	struct statfs sfs;
	char name[256], what[320];
	int seals, ret;

	if (!fstatfs(f->lfd, &sfs) && sfs.f_type == HUGETLBFS_MAGIC_) {
		pr_err("process %d: fd %d is a memfd of huge pages (MFD_HUGETLB): not supported\n", p->pid, f->fd);
		return -EOPNOTSUPP;
	}
	seals = fcntl(f->lfd, F_GET_SEALS);
	if (seals < 0) {
		pr_perror("process %d: can't read the seals of memfd fd %d", p->pid, f->fd);
		return -errno;
	}
	memfd_name(f->link, name, sizeof(name));
	e.name = name;
	e.uid = st->st_uid;
	e.gid = st->st_gid;
	e.size = (uint64_t)st->st_size;
	e.shmid = (uint32_t)st->st_ino;
	e.seals = (uint32_t)seals;
	e.inode_id = st->st_ino;
	if (!c->memfd_img && !(c->memfd_img = dump_new_image(c->d, IMG_MEMFD_INODE, 0)))
		return -EIO;
	ret = img_write_entry(c->memfd_img, &e.base);
	snprintf(what, sizeof(what), "process %d: memfd \"%s\" (fd %d)", p->pid, name, f->fd);
	if (!ret)
		ret = td_dump_shmem_fd(c, f->lfd, st->st_ino, (uint64_t)st->st_size, what);
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

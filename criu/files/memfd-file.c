/*
 * The memfd kind of open file (file-kind.h). Its memory is mem/'s: at dump
 * mem/memfd-dump.c writes the file_entry and the inode (memfd.img, its
 * pages as shared memory's), at restore mem/shmem-restore.c makes the
 * inode before fork and opens files of it again. Here are the kind's ops,
 * which hand over to those.
 */
#define LOG_PREFIX "restore: "

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "files/files-dump.h"
#include "files/memfd.h"
#include "task/rtree.h"
#include "task/task-dump.h"
#include "util/log.h"

/* ------------------------------------------------------------------------
 * Dump
 */

/* A file of no name, named like a memfd, open for real (not O_PATH). */
bool td_is_memfd(const struct td_fd *f)
{
	return f->link[0] == '/' && td_fd_is_memfd_link(f) && S_ISREG(f->st.st_mode) && !(f->fi.flags & O_PATH);
}

int td_dump_memfd_file(struct td_ctx *c, struct td_proc *p, const struct td_fd *f, uint32_t id, FownEntry *fown)
{
	struct td_memfd_fd m = {.fd = f->fd, .lfd = f->lfd, .fi = &f->fi, .link = f->link, .fown = fown};

	return td_dump_memfd(c, p, &m, id);
}

/* ------------------------------------------------------------------------
 * Restore
 */

int memfd_check(const FileEntry *fe)
{
	return fe->memfd ? 0 : file_lacks(fe);
}

const FownEntry *memfd_fown(const FileEntry *fe)
{
	return fe->memfd ? fe->memfd->fown : NULL;
}

/* Its inode is one of memfd.img's (read with the shared memory). */
int memfd_resolve(const struct rtree *t, const struct rfile *f)
{
	if (rtree_memfd(t, f->fe->memfd->inode_id))
		return 0;
	pr_err("files.img: memfd file %u names inode %u, which memfd.img doesn't have\n", f->fe->id,
	       f->fe->memfd->inode_id);
	return -EINVAL;
}

int memfd_open(struct rtree *t, struct rfile *f)
{
	int fd = rtree_open_memfd(t, f);

	return fd < 0 ? fd : rtree_move_fd(fd, f->table_fd);
}

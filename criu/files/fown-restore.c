/*
 * Restore, from criu, once the tree is forked and seized: the owners of
 * files that send SIGIO/SIGURG (fcntl F_SETOWN_EX, F_SETSIG). The owner is
 * a task of the tree, named by its virtual pid in the image; criu sets it
 * on a copy of the descriptor (pidfd_getfd) from the first process that
 * holds the file, with the owner's host pid, which the kernel keeps as
 * the task itself.
 */
#define LOG_PREFIX "restore: "

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "files/file-kind.h"
#include "files/files-restore.h"
#include "util/log.h"
#include "task/rtree.h"
#include "util/util.h"

static const FownEntry *file_fown(const FileEntry *fe)
{
	const struct file_kind *k = file_kind_get(fe->type);

	return k && k->fown ? k->fown(fe) : NULL;
}

/* The host id of the owner: a thread for F_OWNER_TID, else a process. */
static pid_t host_owner(const struct rtree *t, const FownEntry *fo)
{
	const struct rproc *owner;

	if (fo->pid_type != F_OWNER_TID) {
		owner = rtree_proc(t, (pid_t)fo->pid);
		return owner && !owner->zombie ? owner->host_pid : 0;
	}
	for (size_t i = 0; i < t->nr; i++) {
		const struct rproc *p = &t->procs[i];

		for (size_t k = 0; !p->zombie && k < p->nr_threads; k++)
			if (p->threads[k].vtid == (pid_t)fo->pid && p->threads[k].st)
				return p->threads[k].st->tid;
	}
	return 0;
}

static int set_owner(const struct rtree *t, const struct rproc *holder, int fd, const FownEntry *fo, uint32_t id)
{
	struct f_owner_ex ox = {.type = (int)fo->pid_type, .pid = fo->pid ? host_owner(t, fo) : 0};
	int pidfd, lfd = -1, ret = 0;

	if (fo->pid && !ox.pid) {
		pr_err("file %u: its owner %u (type %u) is not a task of the tree\n", id, fo->pid, fo->pid_type);
		return -EINVAL;
	}
	pidfd = (int)syscall(SYS_pidfd_open, holder->host_pid, 0);
	if (pidfd >= 0)
		lfd = (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0);
	if (lfd < 0 || (ox.pid && fcntl(lfd, F_SETOWN_EX, &ox) < 0) ||
	    (fo->signum && fcntl(lfd, F_SETSIG, (int)fo->signum) < 0)) {
		ret = -errno;
		pr_perror("file %u: can't give it back its owner %u (fd %d of process %d)", id, fo->pid, fd,
			  holder->vpid);
	}
	if (lfd >= 0)
		close(lfd);
	if (pidfd >= 0)
		close(pidfd);
	return ret;
}

int rtree_restore_fowns(struct rtree *t)
{
	_cleanup_free_ bool *done = xzalloc(t->nr_files + 1);
	int ret = 0;

	for (size_t i = 0; !ret && i < t->nr; i++) {
		const struct rproc *p = &t->procs[i];

		for (size_t k = 0; !ret && !p->zombie && k < p->nr_fds; k++) {
			struct rfile *f = rtree_file(t, p->fds[k]->id);
			const FownEntry *fo = file_fown(f->fe);
			size_t idx = (size_t)(f - t->files);

			if (done[idx] || !fo || (!fo->pid && !fo->signum))
				continue;
			done[idx] = true;
			ret = set_owner(t, p, (int)p->fds[k]->fd, fo, f->fe->id);
		}
	}
	return ret;
}

/*
 * Restore, from criu, once the tree is forked and seized: the owners of
 * files that send SIGIO/SIGURG (fcntl F_SETOWN_EX, F_SETSIG). The owner is
 * a task of the tree, named by its virtual pid in the image; criu sets it
 * on a copy of the descriptor (pidfd_getfd) from the first process that
 * holds the file, with the owner's host pid, which the kernel keeps as
 * the task itself, and with the owner's uids.
 *
 * O_ASYNC itself is set earlier, by that first holder on its own
 * descriptor (rtree_files_installed): the kernel remembers the number of
 * the descriptor O_ASYNC was set through and reports it in the signal's
 * si_fd, so it must be the task's number, not criu's copy's.
 */
#define LOG_PREFIX "restore: "

#include <errno.h>
#include <fcntl.h>
#include <protobuf-c/protobuf-c.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "files/file-kind.h"
#include "files/files-restore.h"
#include "util/log.h"
#include "task/rtree.h"
#include "util/util.h"

/* A FIFO's owner and flags are on its path entry (fifo.regf_id). */
static const FownEntry *file_fown(const struct rfile *f)
{
	const struct file_kind *k = file_kind_get(f->fe->type);

	if (f->fe->type == FD_TYPES__FIFO)
		return f->fifo_reg ? f->fifo_reg->fown : NULL;
	return k && k->fown ? k->fown(f->fe) : NULL;
}

/*
 * The file's O_* flags: every kind's description (fe's one set
 * sub-message) keeps them in a uint32 field named "flags", as upstream's
 * images do. 0 for a description without one.
 */
uint32_t rfile_flags(const struct rfile *f)
{
	const ProtobufCMessageDescriptor *d = f->fe->base.descriptor;

	if (f->fe->type == FD_TYPES__FIFO)
		return f->fifo_reg ? f->fifo_reg->flags : 0;
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *fd = &d->fields[i], *flags;
		const ProtobufCMessage *sub;

		if (fd->type != PROTOBUF_C_TYPE_MESSAGE)
			continue;
		sub = *(const ProtobufCMessage *const *)((const char *)f->fe + fd->offset);
		if (!sub)
			continue;
		flags = protobuf_c_message_descriptor_get_field_by_name(sub->descriptor, "flags");
		if (flags && flags->type == PROTOBUF_C_TYPE_UINT32 && flags->label == PROTOBUF_C_LABEL_REQUIRED)
			return *(const uint32_t *)((const char *)sub + flags->offset);
		return 0;
	}
	return 0;
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

/*
 * F_SETOWN_EX keeps the caller's uid and euid as the owner's, which decide
 * whom the owner may signal: criu's thread takes the dumped ones for the
 * call (the raw syscall changes this thread only; its saved uid stays).
 */
static int setown_as(int lfd, const struct f_owner_ex *ox, const FownEntry *fo)
{
	uid_t ruid, euid, suid;
	int ret = 0;

	if (getresuid(&ruid, &euid, &suid))
		return -errno;
	if ((fo->uid != ruid || fo->euid != euid) && syscall(SYS_setresuid, fo->uid, fo->euid, -1))
		return -errno;
	if (fcntl(lfd, F_SETOWN_EX, ox) < 0)
		ret = -errno;
	if ((fo->uid != ruid || fo->euid != euid) && syscall(SYS_setresuid, ruid, euid, -1)) {
		pr_perror("can't take back criu's uids %u/%u", ruid, euid);
		return -errno;
	}
	return ret;
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
	if (lfd >= 0 && ox.pid && (ret = setown_as(lfd, &ox, fo)))
		errno = -ret;
	if (lfd < 0 || ret || (fo->signum && fcntl(lfd, F_SETSIG, (int)fo->signum) < 0)) {
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
			const FownEntry *fo = file_fown(f);
			size_t idx = (size_t)(f - t->files);

			if (done[idx] || !fo || (!fo->pid && !fo->signum))
				continue;
			done[idx] = true;
			ret = set_owner(t, p, (int)p->fds[k]->fd, fo, f->fe->id);
		}
	}
	return ret;
}

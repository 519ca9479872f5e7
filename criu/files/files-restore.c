/*
 * Restore: the file table, every open file of files.img, driven by the
 * kinds' ops (file-kind.h) and by nothing that knows one kind from
 * another.
 *
 * Parse (with the other images, before anything exists): each entry
 * checked by its kind, the table indexed by id, then each kind links its
 * files and reads its side images; once the processes are read, each file
 * gets its first holder (pstree order) and is resolved against them.
 * Act: from criu, before the namespaces, the files that come from the
 * host (--inherit-fd, then each kind's own); by the root in the new
 * namespaces, every file some descriptor uses opened at its slot
 * (rtree.h's layout), those a kind wants last in a second pass; in each
 * holder, once its descriptors are in place, what a kind does there.
 */
#define LOG_PREFIX "restore: "

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "files/file-kind.h"
#include "files/files-restore.h"
#include "options.h"
#include "task/rtree.h"
#include "util/log.h"
#include "util/util.h"

int rtree_read_files(struct rtree *t)
{
	_cleanup_free_ ProtobufCMessage **v = NULL;
	size_t n;
	int ret = rtree_read_image(t, IMG_FILES, 0, false, &v, &n);

	if (ret == -ENOENT)
		return 0;
	if (ret)
		return ret;
	t->files = xzalloc((n ? n : 1) * sizeof(*t->files));
	for (size_t i = 0; i < n; i++) {
		FileEntry *fe = (FileEntry *)v[i];
		const struct file_kind *k = file_kind_get(fe->type);

		if (hmap_get_int(&t->file_by_id, fe->id)) {
			pr_err("files.img: file id %u appears twice\n", fe->id);
			return -EINVAL;
		}
		/* a kind restore can't make is refused only if a descriptor uses it */
		if (k && (ret = k->check(fe)))
			return ret;
		t->files[i].fe = fe;
		t->files[i].table_fd = -1;
		t->files[i].host_fd = -1;
		hmap_put_int(&t->file_by_id, fe->id, &t->files[i]);
	}
	t->nr_files = n;
	for (size_t i = 0; !ret && i < nr_file_kinds; i++)
		if (file_kinds[i].link)
			ret = file_kinds[i].link(t);
	return ret;
}

void rtree_link_holders(struct rtree *t)
{
	for (size_t i = 0; i < t->nr; i++) {
		struct rproc *p = &t->procs[i];

		for (size_t k = 0; k < p->nr_fds; k++) {
			struct rfile *f = rtree_file(t, p->fds[k]->id);

			if (f->holder)
				continue;
			f->holder = p;
			f->holder_fd = (int)p->fds[k]->fd;
		}
	}
}

int rtree_plan_fd_tables(struct rtree *t)
{
	struct hmap end; /* files_id -> 1 + the end of its tasks' slots, relative to RFD_* */
	int ret = 0;

	hmap_init(&end);
	for (size_t i = 0; !ret && i < t->nr; i++) {
		struct rproc *p = &t->procs[i];
		uintptr_t used;

		if (p->zombie || !p->ids)
			continue;
		used = (uintptr_t)hmap_get_int(&end, p->ids->files_id);
		if (used && !rproc_shares_files(p)) {
			pr_err("process %d shares its fd table with another process than its parent (files_id %u): "
			       "restore can't make such a table yet\n",
			       p->vpid, p->ids->files_id);
			ret = -EOPNOTSUPP;
			break;
		}
		/* its pages slot goes where the last sharer's slots ended */
		p->fd_shift = used ? (int)used - 1 - RFD_PAGES : 0;
		used = (uintptr_t)(p->fd_shift + RFD_MAP + (p->mm ? (int)p->mm->n_vmas : 0)) + 1;
		hmap_put_int(&end, p->ids->files_id, (void *)used);
	}
	hmap_free(&end);
	return ret;
}

int rtree_resolve_files(const struct rtree *t)
{
	int ret = 0;

	for (size_t i = 0; !ret && i < t->nr_files; i++) {
		const struct file_kind *k = file_kind_get(t->files[i].fe->type);

		if (k && k->resolve)
			ret = k->resolve(t, &t->files[i]);
	}
	return ret;
}

/* The descriptor --inherit-fd gives for f (criu's own), or -1. */
static int inherited_fd(const struct options *o, const struct rfile *f, const struct file_kind *k)
{
	char name[PATH_MAX];

	if (!k || !k->inherit_name || !k->inherit_name(f, name, sizeof(name)) || !name[0])
		return -1;
	for (size_t i = 0; i < o->nr_inherit_fds; i++)
		if (!strcmp(o->inherit_fds[i].res, name))
			return o->inherit_fds[i].fd;
	return -1;
}

int rtree_files_open_host(struct rtree *t, const struct options *o, int above)
{
	for (size_t i = 0; i < t->nr_files; i++) {
		struct rfile *f = &t->files[i];
		const struct file_kind *k = file_kind_get(f->fe->type);
		int fd = inherited_fd(o, f, k), ret;

		if (fd >= 0) {
			pr_info("file %u is criu's fd %d (--inherit-fd)\n", f->fe->id, fd);
			f->host_fd = fcntl(fd, F_DUPFD, above);
			if (f->host_fd < 0)
				return -errno;
			continue;
		}
		if (k && k->open_host && (ret = k->open_host(f, o, above)))
			return ret;
	}
	return 0;
}

/* Only the files some descriptor uses: exe, cwd and mapped files are
 * opened by each task itself, and may be gone (a deleted executable). */
static void mark_used(const struct rtree *t, bool *used)
{
	for (size_t i = 0; i < t->nr; i++)
		for (size_t k = 0; k < t->procs[i].nr_fds; k++)
			used[rtree_file(t, t->procs[i].fds[k]->id) - t->files] = true;
}

int rtree_open_file_table(struct rtree *t)
{
	_cleanup_free_ bool *used = xzalloc(t->nr_files + 1);

	mark_used(t, used);
	/* in two passes: the files a kind wants last (open_last) in the second */
	for (size_t k = 0; k < 2 * t->nr_files; k++) {
		size_t i = k % t->nr_files;
		struct rfile *f = &t->files[i];
		const struct file_kind *kind = file_kind_get(f->fe->type);
		bool last = kind && kind->open_last && kind->open_last(f);
		int ret;

		if (!used[i] || last != (k >= t->nr_files))
			continue;
		if (f->host_fd >= 0)
			ret = rtree_move_fd(f->host_fd, f->table_fd);
		else if (kind && kind->open)
			/* paths as its holder sees them: in its mount namespace */
			ret = rtree_enter_mntns(t, f->holder) ?: kind->open(t, f);
		else {
			pr_err("file %u: type %d can't be restored\n", f->fe->id, f->fe->type);
			ret = -EOPNOTSUPP;
		}
		if (ret)
			return ret;
	}
	return rtree_enter_mntns(t, &t->procs[0]); /* the root's own again */
}

/*
 * O_ASYNC, which open(2) ignores, on the holder's own descriptor: the
 * kernel reports the number it was set through as the signal's si_fd
 * (fown-restore.c sets the owner later, from criu).
 */
static int restore_async(const struct rproc *p, const struct rfile *f)
{
	int fl;

	if (!(rfile_flags(f) & O_ASYNC))
		return 0;
	/* off first: open(2) leaves a requested O_ASYNC in the flags without
	 * arming it, and F_SETFL arms it only when the flag changes */
	fl = fcntl(f->holder_fd, F_GETFL);
	if (fl < 0 || fcntl(f->holder_fd, F_SETFL, fl & ~O_ASYNC) < 0 ||
	    fcntl(f->holder_fd, F_SETFL, fl | O_ASYNC) < 0) {
		pr_perror("process %d: can't set O_ASYNC on fd %d (file %u)", p->vpid, f->holder_fd, f->fe->id);
		return -errno;
	}
	return 0;
}

int rtree_files_installed(const struct rtree *t, const struct rproc *p)
{
	int ret = 0;

	for (size_t i = 0; !ret && i < p->nr_fds; i++) {
		const struct rfile *f = rtree_file(t, p->fds[i]->id);
		const struct file_kind *k = file_kind_get(f->fe->type);

		if (f->holder != p || f->holder_fd != (int)p->fds[i]->fd)
			continue;
		if (k && k->installed)
			ret = k->installed(t, p, f);
		if (!ret)
			ret = restore_async(p, f);
	}
	return ret;
}

void rtree_free_files(struct rtree *t)
{
	for (size_t i = 0; i < nr_file_kinds; i++)
		if (file_kinds[i].free)
			file_kinds[i].free(t);
	for (size_t i = 0; i < t->nr_files; i++)
		if (t->files[i].host_fd >= 0)
			close(t->files[i].host_fd);
}

/*
 * Restore: inotify files (files/inotify-dump.c says what is dumped).
 * Parse: each watch once by number, on an absolute path, with events to
 * watch, and numbers that can be reached again. Act, by the root in the
 * new namespaces: a new inotify file with the same watches, each with its
 * own number again.
 */
#define LOG_PREFIX "restore: "

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "files/inotify.h"
#include "task/rtree.h"
#include "util/log.h"
#include "util/util.h"

/* Watches once each by number, on absolute paths, with events to watch. */
#define INOTIFY_MAX_SKIP (1U << 20) /* about 30 s of spare watches */

static int check_watches(const InotifyFileEntry *e)
{
	struct hmap wds;
	uint32_t max = 0;
	int ret = 0;

	if (e->n_wd > 65536) {
		pr_err("files.img: inotify %u has %zu watches\n", e->id, e->n_wd);
		return -EINVAL;
	}
	hmap_init(&wds);
	for (size_t i = 0; !ret && i < e->n_wd; i++) {
		const InotifyWdEntry *w = e->wd[i];
		const char *path = w->f_handle ? w->f_handle->path : NULL;

		if (!w->wd || w->wd > INT32_MAX || !(w->mask & 0xfff /* IN_ALL_EVENTS */) ||
		    (w->mask & ~(0xfffU | 0x80000000U /* IN_ONESHOT */ | 0x04000000U /* IN_EXCL_UNLINK */)) || !path ||
		    path[0] != '/') {
			pr_err("files.img: inotify %u: watch %zu (wd %u, mask %#x, path %s) is malformed\n", e->id, i,
			       w->wd, w->mask, path ? path : "none");
			ret = -EINVAL;
		} else if (hmap_get_int(&wds, w->wd)) {
			pr_err("files.img: inotify %u: watch %u appears twice\n", e->id, w->wd);
			ret = -EINVAL;
		} else {
			hmap_put_int(&wds, w->wd, (void *)1);
			max = w->wd > max ? w->wd : max;
		}
	}
	hmap_free(&wds);
	/* each number skipped costs a spare watch added and removed at restore */
	if (!ret && max > e->n_wd + INOTIFY_MAX_SKIP) {
		pr_err("files.img: inotify %u: watch number %u, with %zu watches: more than %u numbers to skip at "
		       "restore\n",
		       e->id, max, e->n_wd, INOTIFY_MAX_SKIP);
		ret = -EINVAL;
	}
	return ret;
}

int inotify_check(const FileEntry *fe)
{
	return fe->ify ? check_watches(fe->ify) : file_lacks(fe);
}

const FownEntry *inotify_fown(const FileEntry *fe)
{
	return fe->ify ? fe->ify->fown : NULL;
}

static int by_wd(const void *a, const void *b)
{
	uint32_t x = (*(const InotifyWdEntry *const *)a)->wd, y = (*(const InotifyWdEntry *const *)b)->wd;

	return x < y ? -1 : x > y;
}

/*
 * A path to watch and unwatch while moving the next watch number on: one
 * that is none of the real watches' inodes (watching one of those again
 * would give its number back instead of a new one).
 */
static const char *spare_path(InotifyWdEntry *const *w, size_t n)
{
	static const char *const candidates[] = {"/", "/dev", "/proc", "/sys", "/tmp", "/etc", "/usr", "/bin"};

	for (size_t c = 0; c < ARRAY_SIZE(candidates); c++) {
		struct stat st;
		bool used = false;

		if (lstat(candidates[c], &st))
			continue;
		for (size_t i = 0; i < n && !used; i++) {
			struct stat ws;

			used = !lstat(w[i]->f_handle->path, &ws) && ws.st_ino == st.st_ino && ws.st_dev == st.st_dev;
		}
		if (!used)
			return candidates[c];
	}
	return NULL;
}

/*
 * A new inotify file with the same watches, each with its own number
 * again: the kernel numbers watches in turn (the next after the last it
 * gave, freed ones not reused until it wraps), so they are added lowest
 * number first, a spare watch added and removed for each number skipped.
 * Events that were queued and not read yet are lost.
 */
static int open_inotify(const InotifyFileEntry *e)
{
	_cleanup_free_ InotifyWdEntry **w = xmalloc((e->n_wd + 1) * sizeof(*w));
	const char *spare = NULL;
	/* non-blocking until the spare watches' events are drained */
	int fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK), next = 1;

	if (fd < 0) {
		pr_perror("inotify %u", e->id);
		return -errno;
	}
	if (e->n_wd)
		memcpy(w, e->wd, e->n_wd * sizeof(*w));
	qsort(w, e->n_wd, sizeof(*w), by_wd);
	for (size_t i = 0; i < e->n_wd; i++) {
		int got;

		while (next < (int)w[i]->wd) {
			if (!spare && !(spare = spare_path(w, e->n_wd))) {
				pr_err("inotify %u: no spare path to number watch %u with\n", e->id, w[i]->wd);
				goto fail;
			}
			got = inotify_add_watch(fd, spare, IN_ATTRIB | IN_DONT_FOLLOW);
			if (got < 0 || inotify_rm_watch(fd, got)) {
				pr_perror("inotify %u: can't move on to watch %u (at %d)", e->id, w[i]->wd, next);
				goto fail;
			}
			next = got + 1;
		}
		/* the path names the watched inode itself (a symlink too): never followed */
		got = inotify_add_watch(fd, w[i]->f_handle->path, w[i]->mask | IN_DONT_FOLLOW);
		if (got < 0) {
			pr_perror("inotify %u: can't watch %s again", e->id, w[i]->f_handle->path);
			goto fail;
		}
		if (got != (int)w[i]->wd) {
			pr_err("inotify %u: %s came back as watch %d, not %u (two watches of one inode?)\n", e->id,
			       w[i]->f_handle->path, got, w[i]->wd);
			errno = EINVAL;
			goto fail;
		}
		next = got + 1;
	}
	/* the spare watches' removal queued IN_IGNORED events: not the program's */
	if (spare) {
		char buf[4096] __attribute__((aligned(8)));

		while (read(fd, buf, sizeof(buf)) > 0)
			;
	}
	if (!(e->flags & O_NONBLOCK) && fcntl(fd, F_SETFL, 0)) {
		pr_perror("inotify %u: can't make it blocking again", e->id);
		goto fail;
	}
	return fd;
fail : {
	int err = errno ? -errno : -EINVAL;

	close(fd);
	return err;
}
}

int inotify_open(struct rtree *t, struct rfile *f)
{
	int fd = open_inotify(f->fe->ify);

	return fd < 0 ? fd : rtree_move_fd(fd, f->table_fd);
}

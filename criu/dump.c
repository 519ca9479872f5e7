/*
 * `criu dump -t PID`: runs the dump stages in order and commits their images
 * only when every stage succeeded.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>

#define LOG_PREFIX "dump: "
#include "crtools.h"
#include "dump.h"
#include "inventory.pb-c.h"
#include "log.h"
#include "util.h"

/* CRTOOLS_IMAGES_V1_1 */
#define IMAGES_VERSION 2

struct img_writer *dump_new_image(struct dump_ctx *d, enum img_type type, unsigned id)
{
	struct img_writer *w = xzalloc(sizeof(*w));

	if (img_writer_open(w, d->imgs_dirfd, type, id)) {
		free(w);
		return NULL;
	}
	d->pending = xrealloc(d->pending, (d->nr_pending + 1) * sizeof(*d->pending));
	d->pending[d->nr_pending++] = w;
	return w;
}

static int write_inventory(struct dump_ctx *d)
{
	InventoryEntry inv = INVENTORY_ENTRY__INIT;
	struct img_writer *w = dump_new_image(d, IMG_INVENTORY, 0);

	if (!w)
		return -EIO;
	inv.img_version = IMAGES_VERSION;
	inv.has_fdinfo_per_id = true;
	inv.fdinfo_per_id = true;
	inv.has_ns_per_id = true;
	inv.ns_per_id = true;
	return img_write_entry(w, &inv.base);
}

static void release_images(struct dump_ctx *d, bool commit, int *ret)
{
	for (size_t i = 0; i < d->nr_pending; i++) {
		if (commit && !*ret)
			*ret = img_writer_commit(d->pending[i]);
		img_writer_abort(d->pending[i]); /* no-op after a commit */
		free(d->pending[i]);
	}
	free(d->pending);
	d->pending = NULL;
	d->nr_pending = 0;
}

int open_images_dir(const char *dir, bool create)
{
	int fd;

	if (create && mkdir(dir, 0700) && errno != EEXIST) {
		pr_perror("can't create images directory %s", dir);
		return -1;
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		pr_perror("can't open images directory %s", dir);
	return fd;
}

int cr_dump(const struct options *o)
{
	struct dump_ctx d = {
		.opts = o,
		.pid = o->tree_pid,
		.mnt_ns_id = 1,
	};
	int ret;

	d.imgs_dirfd = open_images_dir(o->imgs_dir, true);
	if (d.imgs_dirfd < 0)
		return -1;
	if (kill(d.pid, 0) && errno == ESRCH) {
		pr_err("no process with PID %d\n", d.pid);
		close(d.imgs_dirfd);
		return -1;
	}

	ret = dump_mounts(&d);
	if (!ret)
		ret = write_inventory(&d); /* last: it marks a complete images dir */
	/* inventory is the last pending image, so it is renamed into place last */
	release_images(&d, true, &ret);
	close(d.imgs_dirfd);
	if (ret) {
		pr_err("dump of task %d failed; nothing was written to %s, the task keeps running\n", d.pid,
		       o->imgs_dir);
		return -1;
	}
	pr_warn("process state is not dumped yet (only mounts): task %d keeps running\n", d.pid);
	pr_msg("Dumped the mounts of task %d to %s\n", d.pid, o->imgs_dir);
	return 0;
}

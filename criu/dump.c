/*
 * `criu dump -t PID`: runs the dump stages in order and commits their images
 * only when every stage succeeded.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>

#define LOG_PREFIX "dump: "
#include "crtools.h"
#include "dump.h"
#include "hashmap.h"
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

/*
 * Before the new images go in place: the old inventory goes first (should a
 * rename fail half-way, the directory then holds no valid-looking set), then
 * every image of an earlier dump that this one does not replace, so that old
 * and new images never mix.
 */
static int remove_stale_images(struct dump_ctx *d)
{
	_cleanup_closedir_ DIR *dir = NULL;
	struct hmap ours;
	struct dirent *de;
	int fd, ret = 0;

	if (unlinkat(d->imgs_dirfd, "inventory.img", 0) && errno != ENOENT) {
		pr_perror("can't remove the old inventory.img");
		return -errno;
	}
	fd = openat(d->imgs_dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	dir = fd >= 0 ? fdopendir(fd) : NULL;
	if (!dir) {
		if (fd >= 0)
			close(fd);
		pr_perror("can't list the images directory");
		return -errno;
	}
	hmap_init(&ours);
	for (size_t i = 0; i < d->nr_pending; i++)
		hmap_put_str(&ours, d->pending[i]->name, d->pending[i]);
	while ((de = readdir(dir))) {
		if (!img_desc_by_filename(de->d_name) || hmap_get_str(&ours, de->d_name))
			continue;
		if (unlinkat(d->imgs_dirfd, de->d_name, 0) && errno != ENOENT) {
			pr_perror("can't remove stale image %s", de->d_name);
			ret = -errno;
			break;
		}
		pr_info("removed %s of an earlier dump\n", de->d_name);
	}
	hmap_free(&ours);
	return ret;
}

static void release_images(struct dump_ctx *d, bool commit, int *ret)
{
	if (commit && !*ret)
		*ret = remove_stale_images(d);
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

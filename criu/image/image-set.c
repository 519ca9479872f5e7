/*
 * The images one dump writes, kept under temporary names until every stage
 * has succeeded: then the images of an earlier dump that this one does not
 * replace are removed and each new image is renamed into place, in the
 * order it was opened (so the image opened last, inventory.img, goes last).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#define LOG_PREFIX "image: "
#include "image/image.h"
#include "util/hashmap.h"
#include "util/log.h"
#include "util/util.h"

struct img_writer *img_set_new(struct img_set *s, enum img_type type, unsigned id)
{
	struct img_writer *w = xzalloc(sizeof(*w));

	if (img_writer_open(w, s->dirfd, type, id)) {
		free(w);
		return NULL;
	}
	s->w = xrealloc(s->w, (s->nr + 1) * sizeof(*s->w));
	s->w[s->nr++] = w;
	return w;
}

/*
 * Before the new images go in place: the old inventory goes first (should a
 * rename fail half-way, the directory then holds no valid-looking set), then
 * every image of an earlier dump that this one does not replace, so that old
 * and new images never mix.
 */
static int remove_stale_images(const struct img_set *s)
{
	_cleanup_closedir_ DIR *dir = NULL;
	struct hmap ours;
	struct dirent *de;
	int fd, ret = 0;

	if (unlinkat(s->dirfd, "inventory.img", 0) && errno != ENOENT) {
		pr_perror("can't remove the old inventory.img");
		return -errno;
	}
	fd = openat(s->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	dir = fd >= 0 ? fdopendir(fd) : NULL;
	if (!dir) {
		if (fd >= 0)
			close(fd);
		pr_perror("can't list the images directory");
		return -errno;
	}
	hmap_init(&ours);
	for (size_t i = 0; i < s->nr; i++)
		hmap_put_str(&ours, s->w[i]->name, s->w[i]);
	while ((de = readdir(dir))) {
		if (!img_desc_by_filename(de->d_name) || hmap_get_str(&ours, de->d_name))
			continue;
		if (unlinkat(s->dirfd, de->d_name, 0) && errno != ENOENT) {
			pr_perror("can't remove stale image %s", de->d_name);
			ret = -errno;
			break;
		}
		pr_info("removed %s of an earlier dump\n", de->d_name);
	}
	hmap_free(&ours);
	return ret;
}

int img_set_commit(struct img_set *s)
{
	int ret = remove_stale_images(s);

	for (size_t i = 0; !ret && i < s->nr; i++)
		ret = img_writer_commit(s->w[i]);
	img_set_discard(s);
	return ret;
}

void img_set_discard(struct img_set *s)
{
	for (size_t i = 0; i < s->nr; i++) {
		img_writer_abort(s->w[i]); /* no-op after a commit */
		free(s->w[i]);
	}
	free(s->w);
	s->w = NULL;
	s->nr = 0;
}

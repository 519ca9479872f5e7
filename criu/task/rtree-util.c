/*
 * Restore, parse step: helpers over struct rtree shared by the process
 * images' reader (task-image.c) and the file kinds (files/, net/), so
 * that neither calls the other: an image read whole into the tree, its
 * entries kept until rtree_free().
 */
#define LOG_PREFIX "restore: "

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "image/image.h"
#include "task/rtree.h"
#include "util/log.h"
#include "util/util.h"

void rtree_keep_msg(struct rtree *t, ProtobufCMessage *m)
{
	t->msgs = xrealloc(t->msgs, (t->nr_msgs + 1) * sizeof(*t->msgs));
	t->msgs[t->nr_msgs++] = m;
}

void rtree_image_name(enum img_type type, unsigned id, char *buf, size_t len)
{
	snprintf(buf, len, img_desc(type)->name_fmt, id);
}

int rtree_read_image(struct rtree *t, enum img_type type, unsigned id, bool required, ProtobufCMessage ***msgs,
		     size_t *nr)
{
	struct img_reader r;
	ProtobufCMessage *m;
	char name[64];
	int ret;

	*msgs = NULL;
	*nr = 0;
	rtree_image_name(type, id, name, sizeof(name));
	if (faccessat(t->imgs_dirfd, name, F_OK, 0)) {
		if (required)
			pr_err("%s is missing from the images directory\n", name);
		return -ENOENT;
	}
	ret = img_reader_open(&r, t->imgs_dirfd, name, type);
	if (ret)
		return ret;
	while ((ret = img_read_entry(&r, &m)) > 0) {
		rtree_keep_msg(t, m);
		*msgs = xrealloc(*msgs, (*nr + 1) * sizeof(**msgs));
		(*msgs)[(*nr)++] = m;
	}
	img_reader_close(&r);
	return ret;
}

int rtree_read_one(struct rtree *t, enum img_type type, unsigned id, ProtobufCMessage **msg)
{
	_cleanup_free_ ProtobufCMessage **v = NULL;
	char name[64];
	size_t n;
	int ret = rtree_read_image(t, type, id, true, &v, &n);

	if (ret)
		return ret;
	if (n != 1) {
		rtree_image_name(type, id, name, sizeof(name));
		pr_err("%s holds %zu entries, expected one\n", name, n);
		return -EINVAL;
	}
	*msg = v[0];
	return 0;
}

int rtree_fd_above(const struct rtree *t)
{
	int above = rtree_task_fd(t, RFD_MAP) + 64;

	for (size_t i = 0; i < t->nr; i++)
		if (t->procs[i].mm &&
		    (int)t->procs[i].mm->n_vmas + rtree_proc_fd(t, &t->procs[i], RFD_MAP) + 64 > above)
			above = (int)t->procs[i].mm->n_vmas + rtree_proc_fd(t, &t->procs[i], RFD_MAP) + 64;
	return above;
}

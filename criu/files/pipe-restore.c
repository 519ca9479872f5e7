/*
 * Restore: pipes and FIFOs (files/pipe-dump.c says what is dumped).
 * Parse: the two ends of each pipe paired, each FIFO linked to the path
 * entry its fifo_entry names, and what was queued in them
 * (pipes-data.img, fifo-data.img) given to the first file of each.
 * Act, by the root in the new namespaces: a pipe made with both its ends
 * at once (an end whose peer is outside the tree gets a fresh pipe whose
 * other end is closed) and its data queued again; a FIFO reopened by path,
 * its data queued through a read-write descriptor held meanwhile.
 */
#define LOG_PREFIX "restore: "

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "files/pipe.h"
#include "image/image.h"
#include "pipe-data.pb-c.h"
#include "task/rtree.h"
#include "util/log.h"
#include "util/util.h"

/* ------------------------------------------------------------------------
 * Parse
 */

int pipe_check(const FileEntry *fe)
{
	return fe->pipe ? 0 : file_lacks(fe);
}

int fifo_check(const FileEntry *fe)
{
	return fe->fifo ? 0 : file_lacks(fe);
}

const FownEntry *pipe_fown(const FileEntry *fe)
{
	return fe->pipe ? fe->pipe->fown : NULL;
}

/*
 * The data image `name` of type `type`, its reader kept in *keep (the
 * payloads stay in it): each entry's bytes to the file of its pipe_id in
 * by_pipe. The sizes too, and to the other end, for pipes.
 */
static int read_data(struct rtree *t, enum img_type type, const char *name, struct hmap *by_pipe, void **keep)
{
	bool fifo = type == IMG_FIFO_DATA;
	struct img_reader *r;
	ProtobufCMessage *m;
	int ret;

	if (faccessat(t->imgs_dirfd, name, F_OK, 0))
		return 0;
	r = xzalloc(sizeof(*r));
	ret = img_reader_open(r, t->imgs_dirfd, name, type);
	if (ret) {
		free(r);
		return ret;
	}
	*keep = r;
	while ((ret = img_read_entry(r, &m)) > 0) {
		PipeDataEntry *pd = (PipeDataEntry *)m;
		struct rfile *f = hmap_get_int(by_pipe, pd->pipe_id);

		rtree_keep_msg(t, m);
		if (!f) {
			pr_err("%s: data for %s %u, which no descriptor uses\n", name, fifo ? "FIFO" : "pipe",
			       pd->pipe_id);
			return -EINVAL;
		}
		f->data = r->payload;
		f->data_len = r->payload_len;
		if (fifo)
			continue;
		f->pipe_size = pd->has_size ? pd->size : 0;
		if (f->peer) {
			f->peer->data = f->data;
			f->peer->data_len = f->data_len;
			f->peer->pipe_size = f->pipe_size;
		}
	}
	return ret < 0 ? ret : 0;
}

/* Pairs pipe ends and gives each pipe its queued data. */
int pipe_link(struct rtree *t)
{
	struct hmap by_pipe; /* pipe_id -> first end */
	int ret;

	hmap_init(&by_pipe);
	for (size_t i = 0; i < t->nr_files; i++) {
		struct rfile *f = &t->files[i], *other;

		if (f->fe->type != FD_TYPES__PIPE)
			continue;
		other = hmap_get_int(&by_pipe, f->fe->pipe->pipe_id);
		if (other && !other->peer) {
			other->peer = f;
			f->peer = other;
		} else if (!other) {
			hmap_put_int(&by_pipe, f->fe->pipe->pipe_id, f);
		}
	}
	ret = read_data(t, IMG_PIPES_DATA, "pipes-data.img", &by_pipe, &t->pipes_data);
	hmap_free(&by_pipe);
	return ret;
}

/* Each FIFO's path entry; what was queued, given to its first descriptor. */
int fifo_link(struct rtree *t)
{
	struct hmap by_pipe; /* pipe_id -> first FIFO file */
	int ret;

	for (size_t i = 0; i < t->nr_files; i++) {
		struct rfile *f = &t->files[i], *r;

		if (f->fe->type != FD_TYPES__FIFO)
			continue;
		r = f->fe->fifo->has_regf_id ? rtree_file(t, f->fe->fifo->regf_id) : NULL;
		if (!r || r->fe->type != FD_TYPES__REG || !r->fe->reg) {
			pr_err("files.img: FIFO %u names no path entry\n", f->fe->id);
			return -EINVAL;
		}
		f->fifo_reg = r->fe->reg;
	}
	hmap_init(&by_pipe);
	for (size_t i = t->nr_files; i-- > 0;) /* the first FIFO of a pipe id wins */
		if (t->files[i].fe->type == FD_TYPES__FIFO)
			hmap_put_int(&by_pipe, t->files[i].fe->fifo->pipe_id, &t->files[i]);
	ret = read_data(t, IMG_FIFO_DATA, "fifo-data.img", &by_pipe, &t->fifo_data);
	hmap_free(&by_pipe);
	return ret;
}

static void free_reader(void **r)
{
	if (*r) {
		img_reader_close(*r);
		free(*r);
	}
	*r = NULL;
}

void pipe_free(struct rtree *t)
{
	free_reader(&t->pipes_data);
}

void fifo_free(struct rtree *t)
{
	free_reader(&t->fifo_data);
}

bool pipe_inherit_name(const struct rfile *f, char *buf, size_t len)
{
	snprintf(buf, len, "pipe:[%u]", f->fe->pipe->pipe_id);
	return true;
}

bool fifo_inherit_name(const struct rfile *f, char *buf, size_t len)
{
	snprintf(buf, len, "%s", f->fifo_reg->name);
	return true;
}

/* ------------------------------------------------------------------------
 * Act
 */

static int fill_pipe(struct rfile *f, int wfd, uint32_t pipe_id)
{
	size_t off = 0;

	if (f->pipe_size && fcntl(wfd, F_SETPIPE_SZ, f->pipe_size) < 0 && f->data_len > 65536) {
		pr_perror("can't make pipe %u hold %u bytes", pipe_id, f->pipe_size);
		return -errno;
	}
	while (off < f->data_len) {
		ssize_t n = write(wfd, f->data + off, f->data_len - off);

		if (n <= 0) {
			pr_perror("can't queue %zu bytes in pipe %u", f->data_len, pipe_id);
			return -EIO;
		}
		off += (size_t)n;
	}
	return 0;
}

/* Both ends of a pipe at once; an end whose peer is outside the tree gets
 * a fresh pipe whose other end is closed. */
int pipe_open(struct rtree *t, struct rfile *f)
{
	int fds[2], ret = 0;
	struct rfile *ends[2] = {NULL, NULL};

	if (f->peer && f->peer->host_fd < 0 && f->peer->table_fd < f->table_fd)
		return 0; /* made with its peer */
	for (struct rfile *e = f; e; e = e == f ? f->peer : NULL)
		if (e->host_fd < 0)
			ends[(e->fe->pipe->flags & O_ACCMODE) == O_WRONLY] = e;
	if (pipe2(fds, O_CLOEXEC) < 0)
		return -errno;
	ret = fill_pipe(f, fds[1], f->fe->pipe->pipe_id);
	for (int k = 0; !ret && k < 2; k++) {
		if (!ends[k]) {
			close(fds[k]);
			continue;
		}
		if (fcntl(fds[k], F_SETFL, ends[k]->fe->pipe->flags & O_NONBLOCK) < 0)
			ret = -errno;
		if (!ret)
			ret = rtree_move_fd(fds[k], ends[k]->table_fd);
	}
	return ret;
}

int fifo_open(struct rtree *t, struct rfile *f)
{
	const RegFileEntry *r = f->fifo_reg;
	int keep = open(r->name, O_RDWR | O_NONBLOCK | O_CLOEXEC), fd, ret;

	if (keep < 0) {
		pr_perror("can't open FIFO %s", r->name);
		return -errno;
	}
	/* O_ASYNC: by the holder (files-restore.c), which arms it */
	fd = open(r->name, (int)(r->flags & ~(uint32_t)(O_CREAT | O_TRUNC | O_ASYNC)) | O_NONBLOCK | O_CLOEXEC);
	ret = fd < 0 ? -errno : 0;
	if (!ret && !(r->flags & O_NONBLOCK) && fcntl(fd, F_SETFL, r->flags & ~(uint32_t)(O_NONBLOCK | O_ASYNC)) < 0)
		ret = -errno;
	if (!ret && f->data_len)
		ret = fill_pipe(f, keep, f->fe->fifo->pipe_id);
	if (!ret)
		ret = rtree_move_fd(fd, f->table_fd);
	else
		pr_err("can't reopen FIFO %s: %s\n", r->name, strerror(-ret));
	close(keep);
	return ret;
}

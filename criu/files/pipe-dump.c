/*
 * Dump: pipes and FIFOs (the pipe and FIFO kinds). Each open file is a
 * file_entry (a FIFO's also a reg_file_entry for its path); what is
 * queued in a pipe or FIFO is saved once, whichever of its ends comes
 * first, in pipes-data.img or fifo-data.img. It is copied with tee(2)
 * from a read end of criu's own, so the tasks still read it afterwards.
 */
#define LOG_PREFIX "task-dump: "

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fifo.pb-c.h"
#include "files/files-dump.h"
#include "files/pipe.h"
#include "files/reg.h"
#include "pipe-data.pb-c.h"
#include "pipe.pb-c.h"
#include "task/task-dump.h"
#include "util/log.h"
#include "util/util.h"

bool td_is_pipe(const struct td_fd *f)
{
	return td_str_starts(f->link, "pipe:[") && S_ISFIFO(f->st.st_mode);
}

/* A FIFO opened by path (with O_PATH it is only a path: a regular file's). */
bool td_is_fifo(const struct td_fd *f)
{
	return td_fd_has_path(f) && !(f->fi.flags & O_PATH) && S_ISFIFO(f->st.st_mode);
}

/* ------------------------------------------------------------------------
 * Pipe and FIFO data
 */

/* A read end of the pipe behind our copy `lfd`: itself, or a new one. */
static int pipe_read_end(int lfd, uint32_t flags)
{
	char path[64];
	int fd;

	if ((flags & O_ACCMODE) != O_WRONLY)
		return dup(lfd);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", lfd);
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		pr_perror("can't open a read end of the pipe through %s", path);
	return fd;
}

static int read_all(int fd, char *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = read(fd, buf + done, len - done);

		if (n <= 0) {
			pr_perror("can't read back pipe data");
			return n < 0 ? -errno : -EIO;
		}
		done += (size_t)n;
	}
	return 0;
}

/* Copies what is queued in the pipe `rfd` (up to `size` bytes), leaving it there. */
static int peek_pipe(int rfd, int size, char **data, size_t *len)
{
	_cleanup_close_ int in = -1, out = -1;
	int sp[2];
	ssize_t n;

	*data = NULL;
	*len = 0;
	if (pipe2(sp, O_NONBLOCK | O_CLOEXEC) < 0) {
		pr_perror("can't create a pipe");
		return -errno;
	}
	out = sp[0];
	in = sp[1];
	if (fcntl(in, F_SETPIPE_SZ, size) < 0) {
		pr_perror("can't make a pipe of %d bytes", size);
		return -errno;
	}
	n = tee(rfd, in, (size_t)size, SPLICE_F_NONBLOCK);
	if (n < 0 && errno != EAGAIN) {
		pr_perror("can't copy pipe data (tee)");
		return -errno;
	}
	if (n <= 0)
		return 0;
	*data = xmalloc((size_t)n);
	*len = (size_t)n;
	return read_all(out, *data, *len);
}

static int write_pipe_data(struct td_ctx *c, bool fifo, uint32_t pipe_id, int rfd)
{
	struct img_writer **w = fifo ? &c->fifo_data_img : &c->pipes_data_img;
	PipeDataEntry pde = PIPE_DATA_ENTRY__INIT;
	_cleanup_free_ char *data = NULL;
	size_t len;
	int size, ret;

	size = fcntl(rfd, F_GETPIPE_SZ);
	if (size < 0) {
		pr_perror("can't get the size of pipe %u", pipe_id);
		return -errno;
	}
	ret = peek_pipe(rfd, size, &data, &len);
	if (ret < 0)
		return ret;
	if (!*w)
		*w = img_set_new(&c->d->imgs, fifo ? IMG_FIFO_DATA : IMG_PIPES_DATA, 0);
	if (!*w)
		return -EIO;
	pde.pipe_id = pipe_id;
	pde.bytes = (uint32_t)len;
	pde.has_size = true;
	pde.size = (uint32_t)size;
	pr_debug("pipe %u: %zu bytes queued, size %d\n", pipe_id, len, size);
	return img_write_entry_payload(*w, &pde.base, data, len);
}

/* Saves the data of a pipe or FIFO once, whichever of its ends comes first. */
static int dump_pipe_data(struct td_ctx *c, bool fifo, const struct td_fd *f)
{
	uint64_t key = fifo ? (f->st.st_ino ^ ((uint64_t)f->st.st_dev << 40)) | (1ULL << 63) : f->st.st_ino;
	_cleanup_close_ int rfd = -1;
	int ret;

	if (hmap_get_int(&c->pipes, key))
		return 0;
	rfd = pipe_read_end(f->lfd, f->fi.flags);
	if (rfd < 0)
		return -errno;
	ret = write_pipe_data(c, fifo, (uint32_t)f->st.st_ino, rfd);
	if (!ret)
		hmap_put_int(&c->pipes, key, (void *)1);
	return ret;
}

/* ------------------------------------------------------------------------
 * The kinds' dump ops
 */

int td_dump_pipe(struct td_ctx *c, struct td_proc *p, const struct td_fd *f, uint32_t id, FownEntry *fown)
{
	FileEntry fe = FILE_ENTRY__INIT;
	PipeEntry pe = PIPE_ENTRY__INIT;
	int ret;

	pe.id = id;
	pe.pipe_id = (uint32_t)f->st.st_ino;
	pe.flags = f->fi.flags & ~(uint32_t)O_CLOEXEC;
	pe.fown = fown;
	fe.type = FD_TYPES__PIPE;
	fe.id = id;
	fe.pipe = &pe;
	ret = td_write_file_entry(c, &fe);
	return ret ? ret : dump_pipe_data(c, false, f);
}

/* A FIFO is its path (a reg_file_entry) plus a fifo_entry naming the pipe. */
int td_dump_fifo(struct td_ctx *c, struct td_proc *p, const struct td_fd *f, uint32_t id, FownEntry *fown)
{
	FileEntry fe = FILE_ENTRY__INIT;
	FifoEntry fi = FIFO_ENTRY__INIT;
	uint32_t reg_id = ++c->next_file_id;
	int ret;

	ret = td_dump_reg(c, p, f, reg_id, fown);
	if (ret < 0)
		return ret;
	fi.id = id;
	fi.pipe_id = (uint32_t)f->st.st_ino;
	fi.has_regf_id = true;
	fi.regf_id = reg_id;
	fe.type = FD_TYPES__FIFO;
	fe.id = id;
	fe.fifo = &fi;
	ret = td_write_file_entry(c, &fe);
	return ret ? ret : dump_pipe_data(c, true, f);
}

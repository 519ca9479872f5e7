/*
 * Open files of a seized tree (see task-dump.h): fdinfo-<files_id>.img per
 * fd table, files.img with one file_entry per open file description, and
 * the data queued in pipes and FIFOs (pipes-data.img, fifo-data.img).
 *
 * Everything is read from outside: /proc/PID/fd and fdinfo, stat(2) through
 * the magic links, pidfd_getfd(2) for a copy of a descriptor (its owner,
 * its pipe), kcmp(2) to tell whether two descriptors are one open file.
 * Pipe data is copied with tee(2), so the tasks still read it afterwards.
 *
 * Paths are stored as the task sees them, from its root. The kernel prints
 * them from criu's root (or, for a file criu can't reach, from the root of
 * the file's mount namespace), so the task's root is cut off, and the
 * result is checked: opened from the task's root (RESOLVE_IN_ROOT), the
 * path must lead to the very same inode.
 */
#define LOG_PREFIX "task-dump: "

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/kcmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "fdinfo.pb-c.h"
#include "fifo.pb-c.h"
#include "fown.pb-c.h"
#include "util/log.h"
#include "pipe-data.pb-c.h"
#include "pipe.pb-c.h"
#include "proc/proc-fdinfo.h"
#include "regfile.pb-c.h"
#include "util/syscalls.h"
#include "task/task-dump.h"
#include "util/util.h"

#ifndef F_GETOWNER_UIDS
#define F_GETOWNER_UIDS 17
#endif

#define MEM_MAJOR 1 /* /dev/null, zero, full, random, urandom... */

/* One open file description met so far, by the first descriptor seen. */
struct td_open_file {
	pid_t pid;
	int fd;
	uint32_t id;
	struct td_open_file *next;
};

/* What we know of one descriptor of a task. */
struct td_fd {
	int fd;
	char link[PATH_MAX];  /* readlink of /proc/PID/fd/N */
	struct stat st;	      /* of the file itself */
	struct proc_fdinfo fi;
	int lfd;	      /* our copy (pidfd_getfd), -1 until needed */
};

/* ------------------------------------------------------------------------
 * Pure helpers: what a descriptor is, the path as the task sees it
 */

static bool str_starts(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

/* "anon_inode:[eventfd]" -> "eventfd", "anon_inode:inotify" -> "inotify". */
static void anon_kind(const char *link, char *kind, size_t size)
{
	const char *s = link + strlen("anon_inode:");
	size_t n = strlen(s);

	if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
		s++;
		n -= 2;
	}
	snprintf(kind, size, "%.*s", (int)n, s);
}

/*
 * The fd_types of a descriptor we can dump, or UND with `kind` naming what
 * it is. An O_PATH descriptor only holds a path, whatever it points to.
 */
static FdTypes classify_fd(const char *link, const struct stat *st, uint32_t flags, char *kind, size_t size)
{
	mode_t fmt = st->st_mode & S_IFMT;

	if (str_starts(link, "socket:[") || fmt == S_IFSOCK)
		return FD_TYPES__UNIXSK; /* the family is checked on our copy */
	else if (str_starts(link, "anon_inode:")) {
		static const struct {
			const char *name;
			FdTypes type;
		} anon[] = {{"eventfd", FD_TYPES__EVENTFD},
			    {"signalfd", FD_TYPES__SIGNALFD},
			    {"timerfd", FD_TYPES__TIMERFD},
			    {"eventpoll", FD_TYPES__EVENTPOLL},
			    {"inotify", FD_TYPES__INOTIFY}};

		anon_kind(link, kind, size);
		for (size_t i = 0; i < ARRAY_SIZE(anon); i++)
			if (!strcmp(kind, anon[i].name))
				return anon[i].type;
	}
	else if (str_starts(link, "pipe:[") && fmt == S_IFIFO)
		return FD_TYPES__PIPE;
	else if (link[0] != '/')
		snprintf(kind, size, "special file (%s)", link);
	else if (str_starts(link, "/memfd:") && fmt == S_IFREG && st->st_nlink == 0 && !(flags & O_PATH))
		return FD_TYPES__MEMFD;
	else if (str_starts(link, "/memfd:") && st->st_nlink == 0)
		snprintf(kind, size, "memfd (O_PATH)");
	else if (flags & O_PATH)
		return FD_TYPES__REG;
	else if (fmt == S_IFREG || fmt == S_IFDIR || fmt == S_IFLNK)
		return FD_TYPES__REG;
	else if (fmt == S_IFCHR && major(st->st_rdev) == MEM_MAJOR)
		return FD_TYPES__REG;
	else if (fmt == S_IFIFO)
		return FD_TYPES__FIFO;
	else if (td_is_tty(st))
		return FD_TYPES__TTY;
	else if (fmt == S_IFCHR)
		snprintf(kind, size, "character device %u:%u (%s)", major(st->st_rdev), minor(st->st_rdev), link);
	else if (fmt == S_IFBLK)
		snprintf(kind, size, "block device %u:%u (%s)", major(st->st_rdev), minor(st->st_rdev), link);
	else
		snprintf(kind, size, "file of mode 0%o (%s)", (unsigned)st->st_mode, link);
	return FD_TYPES__UND;
}

/*
 * `link` as the task sees it, below its root `root` (both as the kernel
 * printed them for criu). -EXDEV if the file is outside the task's root.
 */
static int path_in_root(const char *root, const char *link, char *out, size_t size)
{
	const char *below;

	if (link[0] != '/')
		return -EINVAL;
	if (!strcmp(root, "/")) {
		below = link + 1;
	} else {
		if (!path_is_under(link, root))
			return -EXDEV;
		below = path_below(link, root);
	}
	if ((size_t)snprintf(out, size, "/%s", below) >= size)
		return -ENAMETOOLONG;
	return 0;
}

/* ------------------------------------------------------------------------
 * Reading /proc
 */

static int read_link(const char *path, char *buf, size_t size)
{
	ssize_t n = readlink(path, buf, size - 1);

	if (n < 0) {
		pr_perror("can't read the link %s", path);
		return -errno;
	}
	if ((size_t)n >= size - 1) {
		pr_err("%s: the path it points to is too long\n", path);
		return -ENAMETOOLONG;
	}
	buf[n] = '\0';
	return 0;
}

/* /proc/PID/fdinfo/FD, or with pid 0 criu's own. */
static int read_fdinfo(pid_t pid, int fd, struct proc_fdinfo *fi)
{
	struct proc_err perr;
	_cleanup_free_ char *buf = NULL;
	char path[64];
	size_t len;
	int ret;

	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", pid, fd);
	else
		snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	ret = read_file_at(AT_FDCWD, path, &buf, &len);
	if (ret < 0) {
		pr_err("can't read %s: %s\n", path, strerror(-ret));
		return ret;
	}
	ret = proc_fdinfo_parse(buf, len, fi, &perr);
	if (ret < 0)
		pr_err("%s: %s\n", path, proc_err_msg(&perr).s);
	return ret;
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

/* The descriptors of a process, sorted. */
static int list_fds(pid_t pid, int **fds, size_t *nr)
{
	_cleanup_closedir_ DIR *dir = NULL;
	struct dirent *de;
	char path[64];

	*fds = NULL;
	*nr = 0;
	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	dir = opendir(path);
	if (!dir) {
		pr_perror("can't open %s", path);
		return -errno;
	}
	while ((de = readdir(dir))) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		*fds = xrealloc(*fds, (*nr + 1) * sizeof(**fds));
		(*fds)[(*nr)++] = atoi(de->d_name);
	}
	qsort(*fds, *nr, sizeof(**fds), cmp_int);
	return 0;
}

static int gather_fd(pid_t pid, int fd, struct td_fd *f)
{
	char path[64];
	int ret;

	f->fd = fd;
	f->lfd = -1;
	snprintf(path, sizeof(path), "/proc/%d/fd/%d", pid, fd);
	ret = read_link(path, f->link, sizeof(f->link));
	if (ret < 0)
		return ret;
	if (stat(path, &f->st) < 0) {
		pr_perror("can't stat %s", path);
		return -errno;
	}
	return read_fdinfo(pid, fd, &f->fi);
}

static int get_fd_copy(int pidfd, pid_t pid, struct td_fd *f)
{
	f->lfd = (int)syscall(SYS_pidfd_getfd, pidfd, f->fd, 0);
	if (f->lfd < 0) {
		pr_perror("process %d: can't get a copy of fd %d (pidfd_getfd)", pid, f->fd);
		return -errno;
	}
	return 0;
}

/* ------------------------------------------------------------------------
 * Checking paths
 */

/* The task's root as the kernel prints it for criu. */
static int task_root(pid_t pid, char *root, size_t size)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/root", pid);
	return read_link(path, root, size);
}

/* Does `name`, from the task's root, lead to the file `st`? */
static int same_file_at(pid_t pid, const char *name, const struct stat *st, bool *same)
{
	_cleanup_close_ int rootfd = -1, fd = -1;
	char path[64];
	struct stat got;

	snprintf(path, sizeof(path), "/proc/%d/root", pid);
	rootfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0) {
		pr_perror("can't open %s", path);
		return -errno;
	}
	*same = false;
	fd = sys_openat2(rootfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
	if (fd < 0)
		return 0;
	if (fstat(fd, &got) < 0) {
		pr_perror("can't stat %s in the root of process %d", name, pid);
		return -errno;
	}
	*same = got.st_dev == st->st_dev && got.st_ino == st->st_ino;
	return 0;
}

/*
 * /dev/null, /dev/zero...: containers get them from the host (a bind mount
 * or criu's stdio), so they are recorded by name whatever path led to them.
 */
static bool memory_device_name(const struct stat *st, char *out, size_t size)
{
	static const char *const names[] = {[3] = "null", [5] = "zero", [7] = "full", [8] = "random", [9] = "urandom"};
	unsigned int mi = minor(st->st_rdev);

	if (!S_ISCHR(st->st_mode) || major(st->st_rdev) != 1 || mi >= ARRAY_SIZE(names) || !names[mi])
		return false;
	snprintf(out, size, "/dev/%s", names[mi]);
	return true;
}

/*
 * The path of the file `st` that the kernel printed as `link` (`what`
 * names it in errors), as the task sees it and checked.
 */
static int task_path(pid_t pid, const char *what, const char *link, const struct stat *st, char *out, size_t size)
{
	char root[PATH_MAX];
	bool same;
	int ret;

	if (st->st_nlink == 0 && !S_ISDIR(st->st_mode)) {
		pr_err("process %d: %s is the deleted file %s, which can't be dumped yet\n", pid, what, link);
		return -EOPNOTSUPP;
	}
	if (memory_device_name(st, out, size))
		return 0; /* the same device everywhere: restore opens it on the host */
	ret = task_root(pid, root, sizeof(root));
	if (ret < 0)
		return ret;
	ret = path_in_root(root, link, out, size);
	if (ret == -EXDEV) {
		pr_err("process %d: %s is %s, outside its root %s; not supported\n", pid, what, link, root);
		return -EOPNOTSUPP;
	}
	if (ret < 0) {
		pr_err("process %d: %s: unexpected path %s\n", pid, what, link);
		return ret;
	}
	ret = same_file_at(pid, out, st, &same);
	if (ret < 0)
		return ret;
	if (!same) {
		pr_err("process %d: %s is %s, but that path leads elsewhere now (deleted, moved or overmounted); not supported\n",
		       pid, what, link);
		return -EOPNOTSUPP;
	}
	return 0;
}

/* ------------------------------------------------------------------------
 * File owners (F_SETOWN)
 */

/* The virtual id of a task, process group (a process of the tree) or thread. */
static pid_t virt_owner(const struct td_ctx *c, pid_t real, int type)
{
	for (size_t i = 0; i < c->nr_procs; i++) {
		const struct td_proc *p = &c->procs[i];

		if (p->pid == real)
			return p->vpid;
		for (size_t k = 0; type == F_OWNER_TID && k < p->nr_threads; k++)
			if (p->threads[k]->tid == real)
				return p->vtids[k];
	}
	return 0;
}

static int read_fown(const struct td_ctx *c, pid_t pid, const struct td_fd *f, FownEntry *fo)
{
	struct f_owner_ex ox;
	uid_t uids[2] = {0, 0};
	int sig;

	if (fcntl(f->lfd, F_GETOWN_EX, &ox) < 0 || (sig = fcntl(f->lfd, F_GETSIG)) < 0) {
		pr_perror("process %d: can't read the owner of fd %d", pid, f->fd);
		return -errno;
	}
	fo->signum = (uint32_t)sig;
	if (!ox.pid)
		return 0;
	fo->pid_type = (uint32_t)ox.type;
	fo->pid = (uint32_t)virt_owner(c, ox.pid, ox.type);
	if (!fo->pid) {
		pr_err("process %d: fd %d sends SIGIO to %d, outside the tree; not supported\n", pid, f->fd, ox.pid);
		return -EOPNOTSUPP;
	}
	if (fcntl(f->lfd, F_GETOWNER_UIDS, uids) < 0) {
		pr_perror("process %d: can't read the owner's uids of fd %d", pid, f->fd);
		return -errno;
	}
	fo->uid = uids[0];
	fo->euid = uids[1];
	return 0;
}

/* ------------------------------------------------------------------------
 * Writing files.img
 */

static int write_file(struct td_ctx *c, FileEntry *fe)
{
	int ret = img_write_entry(c->files_img, &fe->base);

	if (!ret && c->stats)
		c->stats->nr_files++;
	return ret;
}

struct reg_info {
	uint32_t id, flags;
	uint64_t pos;
	int32_t mnt_id;
	const char *name;
	const struct stat *st;
	FownEntry *fown; /* NULL: none */
};

static int write_reg(struct td_ctx *c, const struct reg_info *ri)
{
	FileEntry fe = FILE_ENTRY__INIT;
	RegFileEntry re = REG_FILE_ENTRY__INIT;
	FownEntry none = FOWN_ENTRY__INIT;

	re.id = ri->id;
	re.flags = ri->flags & ~(uint32_t)O_CLOEXEC; /* a property of the fd */
	re.pos = ri->pos;
	re.fown = ri->fown ? ri->fown : &none;
	re.name = (char *)ri->name;
	re.has_mnt_id = true;
	re.mnt_id = ri->mnt_id;
	re.has_mode = true;
	re.mode = ri->st->st_mode;
	if (S_ISREG(ri->st->st_mode)) {
		re.has_size = true;
		re.size = (uint64_t)ri->st->st_size;
	}
	fe.type = FD_TYPES__REG;
	fe.id = ri->id;
	fe.reg = &re;
	return write_file(c, &fe);
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
 * One open file
 */

static int dump_pipe(struct td_ctx *c, const struct td_fd *f, uint32_t id, FownEntry *fown)
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
	ret = write_file(c, &fe);
	return ret ? ret : dump_pipe_data(c, false, f);
}

static int dump_reg_fd(struct td_ctx *c, struct td_proc *p, const struct td_fd *f, uint32_t id, FownEntry *fown)
{
	char what[32], name[PATH_MAX];
	struct reg_info ri = {.id = id, .flags = f->fi.flags, .pos = (uint64_t)f->fi.pos, .mnt_id = f->fi.mnt_id};
	int ret;

	snprintf(what, sizeof(what), "fd %d", f->fd);
	ret = task_path(p->pid, what, f->link, &f->st, name, sizeof(name));
	if (ret < 0)
		return ret;
	ri.name = name;
	ri.st = &f->st;
	ri.fown = fown;
	return write_reg(c, &ri);
}

/* A FIFO is its path (a reg_file_entry) plus a fifo_entry naming the pipe. */
static int dump_fifo(struct td_ctx *c, struct td_proc *p, const struct td_fd *f, uint32_t id, FownEntry *fown)
{
	FileEntry fe = FILE_ENTRY__INIT;
	FifoEntry fi = FIFO_ENTRY__INIT;
	uint32_t reg_id = ++c->next_file_id;
	int ret;

	ret = dump_reg_fd(c, p, f, reg_id, fown);
	if (ret < 0)
		return ret;
	fi.id = id;
	fi.pipe_id = (uint32_t)f->st.st_ino;
	fi.has_regf_id = true;
	fi.regf_id = reg_id;
	fe.type = FD_TYPES__FIFO;
	fe.id = id;
	fe.fifo = &fi;
	ret = write_file(c, &fe);
	return ret ? ret : dump_pipe_data(c, true, f);
}

static int dump_file(struct td_ctx *c, struct td_proc *p, const struct td_fd *f, FdTypes type, uint32_t id)
{
	FownEntry fown = FOWN_ENTRY__INIT;
	int ret;

	ret = read_fown(c, p->pid, f, &fown);
	if (ret < 0)
		return ret;
	switch (type) {
	case FD_TYPES__PIPE:
		return dump_pipe(c, f, id, &fown);
	case FD_TYPES__FIFO:
		return dump_fifo(c, p, f, id, &fown);
	case FD_TYPES__TIMERFD: {
		/*
		 * A periodic timer that expired unread waits for a read to be
		 * moved on, and fdinfo shows no time left meanwhile:
		 * timerfd_gettime() moves it on as a read would (counting what
		 * expired) without taking the count; then fdinfo again.
		 */
		struct td_anon_fd a = {.fd = f->fd, .fown = &fown};
		struct proc_fdinfo fi;
		struct itimerspec cur;

		memset(&fi, 0, sizeof(fi));
		if (timerfd_gettime(f->lfd, &cur) < 0) {
			pr_perror("process %d: timerfd_gettime on fd %d", p->pid, f->fd);
			return -errno;
		}
		ret = read_fdinfo(p->pid, f->fd, &fi);
		a.fi = &fi;
		if (!ret)
			ret = td_dump_anon(c, p, &a, type, id);
		proc_fdinfo_free(&fi);
		return ret;
	}
	case FD_TYPES__EVENTFD:
	case FD_TYPES__SIGNALFD:
	case FD_TYPES__EVENTPOLL: {
		struct td_anon_fd a = {.fd = f->fd, .fi = &f->fi, .fown = &fown};

		return td_dump_anon(c, p, &a, type, id);
	}
	case FD_TYPES__INOTIFY: {
		struct td_anon_fd a = {.fd = f->fd, .fi = &f->fi, .fown = &fown};

		return td_dump_inotify(c, p, &a, id);
	}
	case FD_TYPES__MEMFD: {
		struct td_memfd_fd m = {.fd = f->fd, .lfd = f->lfd, .fi = &f->fi, .link = f->link, .fown = &fown};

		return td_dump_memfd(c, p, &m, id);
	}
	case FD_TYPES__UNIXSK: {
		struct td_sock_fd s = {.fd = f->fd, .lfd = f->lfd, .flags = f->fi.flags, .ino = f->st.st_ino};
		int family = 0;
		socklen_t l = sizeof(family);

		if (getsockopt(f->lfd, SOL_SOCKET, SO_DOMAIN, &family, &l) < 0) {
			pr_perror("process %d: can't tell the family of socket fd %d", p->pid, f->fd);
			return -errno;
		}
		if (family == AF_INET || family == AF_INET6)
			return td_dump_inet(c, p, &s, family, id, &fown);
		if (family != AF_UNIX) {
			pr_err("process %d: fd %d is a socket of family %d (%s), which can't be dumped yet\n", p->pid,
			       f->fd, family, family == AF_INET ? "AF_INET" : family == AF_INET6 ? "AF_INET6" :
					      family == AF_NETLINK ? "AF_NETLINK" : family == AF_PACKET ? "AF_PACKET" : "?");
			return -EOPNOTSUPP;
		}
		return td_dump_unix(c, p, &s, id, &fown);
	}
	case FD_TYPES__TTY: {
		struct td_tty_fd t = {.fd = f->fd, .lfd = f->lfd, .flags = f->fi.flags, .st = &f->st, .link = f->link};

		return td_dump_tty(c, p, &t, id, &fown);
	}
	default:
		return dump_reg_fd(c, p, f, id, &fown);
	}
}

/*
 * The id of the open file behind fd `f` of `p`: that of a descriptor met
 * before if kcmp(2) says it is the same file, else a new one (*is_new).
 */
static int open_file_id(struct td_ctx *c, pid_t pid, const struct td_fd *f, uint32_t *id, bool *is_new)
{
	uint64_t key = (uint64_t)f->st.st_ino ^ (uint64_t)f->st.st_dev;
	struct td_open_file *head = hmap_get_int(&c->open_files, key), *o;

	for (o = head; o; o = o->next) {
		long r = syscall(SYS_kcmp, pid, o->pid, KCMP_FILE, f->fd, o->fd);

		if (r < 0) {
			pr_perror("kcmp(%d, %d, KCMP_FILE, %d, %d)", pid, o->pid, f->fd, o->fd);
			return -errno;
		}
		if (r == 0) {
			*id = o->id;
			*is_new = false;
			return 0;
		}
	}
	o = xzalloc(sizeof(*o));
	o->pid = pid;
	o->fd = f->fd;
	o->id = *id = ++c->next_file_id;
	o->next = head;
	hmap_put_int(&c->open_files, key, o);
	*is_new = true;
	return 0;
}

static int write_fdinfo(struct img_writer *w, const struct td_fd *f, FdTypes type, uint32_t id)
{
	FdinfoEntry e = FDINFO_ENTRY__INIT;

	e.id = id;
	e.flags = (f->fi.flags & O_CLOEXEC) ? FD_CLOEXEC : 0;
	e.type = type;
	e.fd = (uint32_t)f->fd;
	return img_write_entry(w, &e.base);
}

static int dump_one_fd(struct td_ctx *c, struct td_proc *p, int pidfd, struct img_writer *w, struct td_fd *f)
{
	char kind[PATH_MAX + 64];
	FdTypes type;
	uint32_t id = 0;
	bool is_new = false;
	int ret;

	type = classify_fd(f->link, &f->st, f->fi.flags, kind, sizeof(kind));
	if (type == FD_TYPES__UND) {
		pr_err("process %d: fd %d is a %s, which can't be dumped yet\n", p->pid, f->fd, kind);
		return -EOPNOTSUPP;
	}
	ret = open_file_id(c, p->pid, f, &id, &is_new);
	if (!ret && is_new)
		ret = get_fd_copy(pidfd, p->pid, f);
	if (!ret && is_new)
		ret = dump_file(c, p, f, type, id);
	if (!ret)
		ret = write_fdinfo(w, f, type, id);
	return ret;
}

/* ------------------------------------------------------------------------
 * The interface
 */

int td_files_init(struct td_ctx *c)
{
	hmap_init(&c->reg_files);
	hmap_init(&c->open_files);
	hmap_init(&c->pipes);
	hmap_init(&c->ttys);
	hmap_init(&c->unix_socks);
	c->unix_nl = -1;
	c->sk_queues_img = NULL;
	c->tty_info_img = NULL;
	c->reg_keys = NULL;
	c->nr_reg_keys = 0;
	c->next_file_id = 0;
	c->pipes_data_img = c->fifo_data_img = NULL;
	c->files_img = img_set_new(&c->d->imgs, IMG_FILES, 0);
	return c->files_img ? 0 : -EIO;
}

void td_files_fini(struct td_ctx *c)
{
	hmap_for_each(&c->open_files, it) {
		struct td_open_file *o = it.val;

		while (o) {
			struct td_open_file *next = o->next;

			free(o);
			o = next;
		}
	}
	hmap_free(&c->open_files);
	hmap_free(&c->reg_files);
	hmap_free(&c->pipes);
	hmap_free(&c->ttys);
	td_unix_fini(c);
	for (size_t i = 0; i < c->nr_reg_keys; i++)
		free(c->reg_keys[i]);
	free(c->reg_keys);
	c->reg_keys = NULL;
	c->nr_reg_keys = 0;
	/* The images belong to c->d. */
	c->files_img = c->pipes_data_img = c->fifo_data_img = c->tty_info_img = NULL;
}

int td_dump_fds(struct td_ctx *c, struct td_proc *p)
{
	_cleanup_free_ int *fds = NULL;
	_cleanup_close_ int pidfd = -1;
	struct img_writer *w;
	size_t nr;
	int ret;

	ret = list_fds(p->pid, &fds, &nr);
	if (ret < 0)
		return ret;
	pidfd = (int)syscall(SYS_pidfd_open, p->pid, 0);
	if (pidfd < 0) {
		pr_perror("process %d: pidfd_open", p->pid);
		return -errno;
	}
	w = img_set_new(&c->d->imgs, IMG_FDINFO, p->files_id);
	if (!w)
		return -EIO;
	for (size_t i = 0; !ret && i < nr; i++) {
		struct td_fd f;

		memset(&f, 0, sizeof(f));
		ret = gather_fd(p->pid, fds[i], &f);
		if (!ret)
			ret = dump_one_fd(c, p, pidfd, w, &f);
		if (f.lfd >= 0)
			close(f.lfd);
		proc_fdinfo_free(&f.fi);
	}
	return ret;
}

/* The mount id of a file criu holds open. */
static int self_mnt_id(int fd, int32_t *mnt_id)
{
	struct proc_fdinfo fi;
	int ret;

	memset(&fi, 0, sizeof(fi));
	ret = read_fdinfo(0, fd, &fi);
	*mnt_id = fi.mnt_id;
	proc_fdinfo_free(&fi);
	return ret;
}

/* Writes the reg_file_entry of a path file unless an equal one exists. */
static int64_t path_file_id(struct td_ctx *c, const char *name, uint32_t flags, int32_t mnt_id,
			    const struct stat *st)
{
	struct reg_info ri = {.flags = flags, .mnt_id = mnt_id, .name = name, .st = st};
	char *key;
	void *v;
	int ret;

	if (asprintf(&key, "%x %jx %jx %s", flags, (uintmax_t)st->st_dev, (uintmax_t)st->st_ino, name) < 0)
		return -ENOMEM;
	v = hmap_get_str(&c->reg_files, key);
	if (v) {
		free(key);
		return (int64_t)(uintptr_t)v;
	}
	ri.id = ++c->next_file_id;
	ret = write_reg(c, &ri);
	if (ret < 0) {
		free(key);
		return ret;
	}
	c->reg_keys = xrealloc(c->reg_keys, (c->nr_reg_keys + 1) * sizeof(*c->reg_keys));
	c->reg_keys[c->nr_reg_keys++] = key;
	hmap_put_str(&c->reg_files, key, (void *)(uintptr_t)ri.id);
	return ri.id;
}

int64_t td_dump_path_file(struct td_ctx *c, struct td_proc *p, const char *link, uint32_t flags)
{
	char path[PATH_MAX], target[PATH_MAX], name[PATH_MAX], what[PATH_MAX + 16];
	_cleanup_close_ int fd = -1;
	struct stat st;
	int32_t mnt_id = -1;
	int ret;

	snprintf(path, sizeof(path), "/proc/%d/%s", p->pid, link);
	snprintf(what, sizeof(what), "its %s", link);
	ret = read_link(path, target, sizeof(target));
	if (ret < 0)
		return ret;
	fd = open(path, O_PATH | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		pr_perror("can't open %s (%s)", path, target);
		return -errno;
	}
	if (target[0] != '/' || str_starts(target, "/memfd:")) {
		pr_err("process %d: %s is %s, which can't be dumped yet\n", p->pid, what, target);
		return -EOPNOTSUPP;
	}
	ret = task_path(p->pid, what, target, &st, name, sizeof(name));
	if (!ret)
		ret = self_mnt_id(fd, &mnt_id);
	if (ret < 0)
		return ret;
	return path_file_id(c, name, flags, mnt_id, &st);
}

/*
 * Open files of a seized tree (see task-dump.h): the file table of dump.
 * fdinfo-<files_id>.img per fd table, and, for each open file description
 * met for the first time, what its kind writes (file-kind.h: files.img's
 * file_entry and side images).
 *
 * Everything is read from outside: /proc/PID/fd and fdinfo, stat(2) through
 * the magic links, pidfd_getfd(2) for a copy of a descriptor (its owner,
 * and whatever its kind asks of it), kcmp(2) to tell whether two
 * descriptors are one open file. Which kind a descriptor is, the kinds
 * say (their match ops); one no kind claims is refused, saying what it is.
 */
#define LOG_PREFIX "task-dump: "

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/kcmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "fdinfo.pb-c.h"
#include "files/file-kind.h"
#include "files/file-locks.h"
#include "files/files-dump.h"
#include "fown.pb-c.h"
#include "net/unix.h"
#include "proc/proc-fdinfo.h"
#include "task/task-dump.h"
#include "util/log.h"
#include "util/util.h"
#include "task/userns.h"

#ifndef F_GETOWNER_UIDS
#define F_GETOWNER_UIDS 17
#endif

/* One open file description met so far, by the first descriptor seen. */
struct td_open_file {
	pid_t pid;
	int fd;
	uint32_t id;
	struct td_open_file *next;
};

/* ------------------------------------------------------------------------
 * Reading /proc
 */

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
	ret = td_read_link(path, f->link, sizeof(f->link));
	if (ret < 0)
		return ret;
	if (stat(path, &f->st) < 0) {
		pr_perror("can't stat %s", path);
		return -errno;
	}
	return td_read_fdinfo(pid, fd, &f->fi);
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
	fo->uid = userns_uid(uids[0]); /* as the tree's user namespace sees them */
	fo->euid = userns_uid(uids[1]);
	return 0;
}

/* ------------------------------------------------------------------------
 * One descriptor
 */

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

/*
 * The descriptor's entry names the type of the file_entry it opens, as
 * upstream's restore looks a file up by the pair (type, id): an inet
 * socket is INETSK here too, though the socket kind (UNIXSK's) claimed it.
 */
static int write_fdinfo(struct td_ctx *c, struct img_writer *w, const struct td_fd *f, FdTypes kind_type, uint32_t id)
{
	FdinfoEntry e = FDINFO_ENTRY__INIT;
	uintptr_t written = (uintptr_t)hmap_get_int(&c->file_types, id);

	e.id = id;
	e.flags = (f->fi.flags & O_CLOEXEC) ? FD_CLOEXEC : 0;
	e.type = written ? (FdTypes)written : kind_type;
	e.fd = (uint32_t)f->fd;
	return img_write_entry(w, &e.base);
}

/*
 * decide, pure: what a descriptor no kind claims is, for the refusal. An
 * O_PATH descriptor only holds a path, whatever it points to (the regular
 * file kind takes it).
 */
static void describe_unclaimed(const struct td_fd *f, char *kind, size_t size)
{
	mode_t fmt = f->st.st_mode & S_IFMT;
	unsigned int ma = major(f->st.st_rdev), mi = minor(f->st.st_rdev);

	if (td_str_starts(f->link, "anon_inode:"))
		td_anon_name(f->link, kind, size);
	else if (f->link[0] != '/')
		snprintf(kind, size, "special file (%s)", f->link);
	else if (td_fd_is_memfd_link(f))
		snprintf(kind, size, "memfd (O_PATH)");
	else if (fmt == S_IFCHR)
		snprintf(kind, size, "character device %u:%u (%s)", ma, mi, f->link);
	else if (fmt == S_IFBLK)
		snprintf(kind, size, "block device %u:%u (%s)", ma, mi, f->link);
	else
		snprintf(kind, size, "file of mode 0%o (%s)", (unsigned)f->st.st_mode, f->link);
}

static int dump_one_fd(struct td_ctx *c, struct td_proc *p, int pidfd, struct img_writer *w, struct td_fd *f)
{
	const struct file_kind *k = file_kind_match(f);
	FownEntry fown = FOWN_ENTRY__INIT;
	char what[PATH_MAX + 64];
	uint32_t id = 0;
	bool is_new = false;
	int ret;

	ret = td_check_fd_locks(p, f);
	if (ret)
		return ret;
	if (!k) {
		describe_unclaimed(f, what, sizeof(what));
		pr_err("process %d: fd %d is a %s, which can't be dumped yet\n", p->pid, f->fd, what);
		return -EOPNOTSUPP;
	}
	ret = open_file_id(c, p->pid, f, &id, &is_new);
	if (!ret && is_new)
		ret = get_fd_copy(pidfd, p->pid, f);
	if (!ret && is_new)
		ret = read_fown(c, p->pid, f, &fown);
	if (!ret && is_new)
		ret = k->dump(c, p, f, id, &fown);
	if (!ret)
		ret = write_fdinfo(c, w, f, k->type, id);
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
	hmap_init(&c->file_types);
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
	hmap_free(&c->file_types);
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

int td_files_done(struct td_ctx *c)
{
	int ret = td_check_tree_locks(c);

	for (size_t i = 0; !ret && i < nr_file_kinds; i++)
		if (file_kinds[i].dump_done)
			ret = file_kinds[i].dump_done(c);
	return ret;
}

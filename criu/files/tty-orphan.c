/*
 * Restore: a pty slave whose master was outside the tree (RPC
 * orphan_pts_master: a container started with a terminal, its master held
 * by the runtime; see files/tty-dump.c). The tree gets a new pty pair's
 * slave, the client the master, in the orphan-pts-master notification.
 *
 *   open (the root, in the restored mount namespace, before it forks):
 *     the first file of the terminal makes the pair, from the ptmx of the
 *     devpts the dumped slave's path (regf_id) is in, at the dumped index
 *     (taken by someone else: the restore fails, as upstream's, rather
 *     than give the tree another terminal), and puts on it the dumped
 *     modes, locked modes, window size and exclusive mode; each file of
 *     the terminal is a new open file of that slave (TIOCGPTPEER) with its
 *     dumped flags. The master waits in the table slot of the slave's path
 *     entry, which no descriptor uses (rtree.h's layout: it is closed with
 *     the rest of the slots at the end).
 *     A slave bind-mounted elsewhere (runc's /dev/console) must exist
 *     when the mounts are restored, earlier in the same process: that pty
 *     is made then (tty_premake_pty), only for the terminal of an orphan
 *     file of that index and devpts, and its master taken here; one left
 *     untaken fails the restore (tty_premade_taken).
 *   session (each session leader, right after setsid(), before it forks):
 *     the terminal that controlled its session is its controlling terminal
 *     again (TIOCSCTTY), so that its children inherit it.
 *   fetch (from criu, every task seized and in its group): the master
 *     copied from the root (pidfd_getfd), held in the path entry's host_fd;
 *     the foreground group set again by the session leader (TIOCSPGRP).
 *   notify (from criu, before post-restore): each master to the client.
 *
 * Upstream also hands over one master at most, and restores termios,
 * window size, session and foreground group the same way.
 */
#define LOG_PREFIX "restore: "

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#include "files/tty.h"
#include "notify.h"
#include "options.h"
#include "ptrace/inject.h"
#include "task/rtree.h"
#include "util/log.h"
#include "util/util.h"

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

bool tty_is_orphan(const struct rfile *f)
{
	return f->fe->type == FD_TYPES__TTY && f->tty && f->tty->type == TTY_TYPE__PTY && f->host_fd < 0;
}

/* The path entry of an orphan pty file (its slave's path), or NULL. */
static struct rfile *slave_path(const struct rtree *t, const struct rfile *f)
{
	struct rfile *r = f->fe->tty->has_regf_id ? rtree_file(t, f->fe->tty->regf_id) : NULL;

	return r && r->fe->type == FD_TYPES__REG && r != f ? r : NULL;
}

/* ------------------------------------------------------------------------
 * In the root: the pair
 */

/* The master already made for f's terminal (by an earlier file of it), or -1. */
static int made_master(const struct rtree *t, const struct rfile *f)
{
	for (const struct rfile *g = t->files; g < f; g++) {
		const struct rfile *r;
		int n;

		if (!tty_is_orphan(g) || g->fe->tty->tty_info_id != f->fe->tty->tty_info_id)
			continue;
		r = slave_path(t, g);
		if (r && !ioctl(r->table_fd, TIOCGPTN, &n))
			return r->table_fd;
	}
	return -1;
}

/* Unix98 pty slaves: majors 136 to 143, 256 minors each (tty-dump.c) */
static dev_t pts_rdev(int index)
{
	return makedev(136 + (unsigned)index / 256, (unsigned)index % 256);
}

/* From the fdinfo of `fd` of process `pid`: is it a file open for I/O (no
 * O_PATH), and its pty index if it is a pty master (else -1)? */
static bool fd_tty_index(int proc_fd, const char *pid, const char *fd, int *idx)
{
	char path[600], line[128];
	unsigned flags = O_PATH;
	FILE *f;
	int dfd;

	*idx = -1;
	snprintf(path, sizeof(path), "%s/fdinfo/%s", pid, fd);
	dfd = openat(proc_fd, path, O_RDONLY | O_CLOEXEC);
	f = dfd >= 0 ? fdopen(dfd, "re") : NULL;
	if (!f) {
		if (dfd >= 0)
			close(dfd);
		return false;
	}
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "flags: %o", &flags) != 1 && sscanf(line, "tty-index: %d", idx) != 1)
			continue;
	fclose(f);
	return !(flags & O_PATH);
}

/* Has process `pid` pty `index` of the devpts `dev` open (its slave, or its
 * master through that devpts' ptmx)? An O_PATH descriptor holds no pty. */
static bool holds_pty(int proc_fd, const char *pid, dev_t dev, int index)
{
	char path[320];
	struct dirent *de;
	bool held = false;
	int dfd;
	DIR *d;

	snprintf(path, sizeof(path), "%s/fd", pid);
	dfd = openat(proc_fd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	d = dfd >= 0 ? fdopendir(dfd) : NULL;
	if (!d) {
		if (dfd >= 0)
			close(dfd);
		return false;
	}
	while (!held && (de = readdir(d))) {
		struct stat st;
		int idx;

		if (de->d_name[0] == '.' || fstatat(dirfd(d), de->d_name, &st, 0) || !S_ISCHR(st.st_mode) ||
		    st.st_dev != dev || (st.st_rdev != pts_rdev(index) && st.st_rdev != makedev(5, 2)))
			continue;
		held = fd_tty_index(proc_fd, pid, de->d_name, &idx) && (st.st_rdev == pts_rdev(index) || idx == index);
	}
	closedir(d);
	return held;
}

/* "PID (comm)" of the first processes that hold pty `index` of the devpts
 * `dev`, as the host's /proc shows them; "" if none is seen. */
static void pty_holders(int proc_fd, dev_t dev, int index, char *buf, size_t size)
{
	int dfd = proc_fd >= 0 ? openat(proc_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
	DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
	struct dirent *de;
	size_t len = 0;
	int found = 0;

	buf[0] = '\0';
	if (!d) {
		if (dfd >= 0)
			close(dfd);
		return;
	}
	while (found < 4 && len < size && (de = readdir(d))) {
		char comm[32] = "?", path[320];
		int cfd;
		ssize_t n;

		if (de->d_name[0] < '0' || de->d_name[0] > '9' || !holds_pty(proc_fd, de->d_name, dev, index))
			continue;
		snprintf(path, sizeof(path), "%s/comm", de->d_name);
		cfd = openat(proc_fd, path, O_RDONLY | O_CLOEXEC);
		n = cfd >= 0 ? read(cfd, comm, sizeof(comm) - 1) : -1;
		if (cfd >= 0)
			close(cfd);
		comm[n > 0 ? n - (comm[n - 1] == '\n') : 1] = '\0';
		len += (size_t)snprintf(buf + len, size - len, "%s%s (%s)", found++ ? ", " : "", de->d_name, comm);
	}
	closedir(d);
}

/* kernel.pty.max, the host's bound on pty indexes, or INT_MAX if unknown. */
static int pty_max(int proc_fd)
{
	char buf[32] = "";
	int fd = proc_fd >= 0 ? openat(proc_fd, "sys/kernel/pty/max", O_RDONLY | O_CLOEXEC) : -1;
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
	long max = n > 0 ? strtol(buf, NULL, 10) : 0;

	if (fd >= 0)
		close(fd);
	return max > 0 && max < INT_MAX ? (int)max : INT_MAX;
}

/* Pty `want` of the devpts of `ptmx` is someone else's: said, with who. */
static void report_taken(int proc_fd, const char *ptmx, dev_t dev, int want)
{
	char who[512];

	pty_holders(proc_fd, dev, want, who, sizeof(who));
	pr_err("pty %d of the devpts of %s, the terminal the tree had, is in use by %s: on another index the tree "
	       "would find another terminal than the one it had open\n",
	       want, ptmx, who[0] ? who : "a process this /proc does not show");
	pr_hint("close that terminal (or stop what holds it) and restore again; a container restored with a devpts "
		"of its own (a new instance, as runtimes mount it) has every index free\n");
}

/*
 * A master of the devpts whose ptmx is `ptmx` (below dirfd), with index
 * `want`: each open takes the lowest free index, so the ones below it are
 * held until it comes (at most want + 1 opens). -1, said why, when it is
 * taken or beyond the devpts' reach: the tree gets its own terminal back
 * or none, never another one. proc_fd: the host's /proc, to name holders.
 */
static int open_ptmx_at(int dirfd, const char *ptmx, int want, int proc_fd)
{
	_cleanup_free_ int *fds = NULL;
	int n = 0, got = -1, idx = -1, max = pty_max(proc_fd);
	struct stat st;

	if (fstatat(dirfd, ptmx, &st, 0)) {
		pr_perror("can't find %s for a new pty", ptmx);
		return -1;
	}
	if (want < 0 || want >= max) {
		pr_err("pty %d can't be made in the devpts of %s: kernel.pty.max is %d\n", want, ptmx, max);
		pr_hint("raise /proc/sys/kernel/pty/max above %d and restore again\n", want);
		return -1;
	}
	fds = xmalloc(((size_t)want + 1) * sizeof(*fds));
	while (n <= want) {
		int fd = openat(dirfd, ptmx, O_RDWR | O_NOCTTY | O_CLOEXEC);

		if (fd < 0) {
			pr_perror("can't open %s for a new pty (pty %d wanted, %d below it held)", ptmx, want, n);
			if (errno == ENOSPC)
				pr_hint("the devpts' max= mount option or kernel.pty.max is below %d\n", want + 1);
			else if (errno == EMFILE)
				pr_hint("raise the open files limit above %d\n", want + 64);
			break;
		}
		fds[n++] = fd;
		if (ioctl(fd, TIOCGPTN, &idx)) {
			pr_perror("%s: no pty index", ptmx);
			idx = -1;
			break;
		}
		if (idx >= want)
			break;
	}
	if (idx == want)
		got = fds[--n];
	else if (idx > want)
		report_taken(proc_fd, ptmx, st.st_dev, want);
	while (n > 0)
		close(fds[--n]);
	return got;
}

/*
 * Ptys made while the mounts were restored, for bind mounts of their
 * slaves (runc binds the container's terminal on /dev/console), in this
 * same process (the root): only for the terminal of an orphan pty file of
 * that index and devpts, whose first file takes the master.
 */
struct premade {
	int fd, index;
	dev_t dev;
};
static struct premade *premades;
static size_t nr_premades;

/* The device of the devpts that holds slave path `path`, or 0. */
static dev_t devpts_of(const char *path)
{
	char dir[PATH_MAX], *slash;
	struct stat st;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash)
		return 0;
	*(slash == dir ? slash + 1 : slash) = '\0';
	return stat(dir, &st) ? 0 : st.st_dev;
}

/* Is pty `index` of the devpts `dev` the terminal of an orphan pty file
 * some descriptor uses (so that its master is taken)? */
static bool orphan_wants(const struct rtree *t, dev_t dev, int index)
{
	for (size_t i = 0; t && i < t->nr_files; i++) {
		const struct rfile *f = &t->files[i], *r;

		if (tty_is_orphan(f) && f->holder && f->tty->pty && f->tty->pty->index == (uint32_t)index &&
		    (r = slave_path(t, f)) && devpts_of(r->fe->reg->name) == dev)
			return true;
	}
	return false;
}

int tty_premake_pty(const struct rtree *t, int devpts, const char *name)
{
	const int unlock = 0;
	struct stat st;
	char *end;
	long idx = strtol(name, &end, 10);
	int fd;

	if (!*name || *end || idx < 0 || idx > INT_MAX || fstat(devpts, &st) || !orphan_wants(t, st.st_dev, (int)idx))
		return -ENOENT;
	fd = open_ptmx_at(devpts, "ptmx", (int)idx, t->host_proc_fd);
	if (fd < 0)
		return -EEXIST;
	if (ioctl(fd, TIOCSPTLCK, &unlock)) {
		pr_perror("can't unlock the new pty %ld", idx);
		close(fd);
		return -EIO;
	}
	pr_info("pty %ld made for a bind mount of its slave\n", idx);
	premades = xrealloc(premades, (nr_premades + 1) * sizeof(*premades));
	premades[nr_premades++] = (struct premade){fd, (int)idx, st.st_dev};
	return 0;
}

int tty_keep_premade(const struct rtree *t)
{
	for (size_t i = 0; i < nr_premades; i++) {
		/* past the slots placed before the file table, free until it is made */
		int fd = premades[i].fd < 0 ? -1 : fcntl(premades[i].fd, F_DUPFD_CLOEXEC, rtree_task_fd(t, RFD_MAP));

		if (premades[i].fd >= 0 && fd < 0)
			return -errno;
		if (fd >= 0)
			close(premades[i].fd);
		premades[i].fd = fd;
	}
	return 0;
}

int tty_premade_taken(void)
{
	for (size_t i = 0; i < nr_premades; i++)
		if (premades[i].fd >= 0) {
			pr_err("pty %d, made for a bind mount of its slave, is the terminal of no file of the tree: "
			       "the bind would be of a dead pty\n",
			       premades[i].index);
			return -EIO;
		}
	return 0;
}

/* The master made for a bind mount, if it is of this devpts and index. */
static int take_premade(const char *ptmx, int want)
{
	struct stat st;

	if (!nr_premades || stat(ptmx, &st))
		return -1;
	for (size_t i = 0; i < nr_premades; i++)
		if (premades[i].fd >= 0 && premades[i].index == want && premades[i].dev == st.st_dev)
			return steal_fd(&premades[i].fd);
	return -1;
}

/* A new pty pair for f's terminal; its master at the slot of f's path entry. */
static int make_pair(const struct rtree *t, const struct rfile *f)
{
	const struct rfile *r = slave_path(t, f);
	char ptmx[PATH_MAX], *slash;
	const int unlock = 0;
	int master, idx;

	if (!r) {
		pr_err("files.img: pty file %u: its slave path entry %u is missing or not a path\n", f->fe->id,
		       f->fe->tty->regf_id);
		return -EINVAL;
	}
	snprintf(ptmx, sizeof(ptmx), "%s", r->fe->reg->name);
	slash = strrchr(ptmx, '/');
	if (!slash || (size_t)(slash - ptmx) + sizeof("/ptmx") > sizeof(ptmx)) {
		pr_err("files.img: pty file %u: slave path %s is no devpts path\n", f->fe->id, r->fe->reg->name);
		return -EINVAL;
	}
	strcpy(slash, "/ptmx");
	master = take_premade(ptmx, f->tty->pty ? (int)f->tty->pty->index : 0);
	if (master < 0)
		master = open_ptmx_at(AT_FDCWD, ptmx, f->tty->pty ? (int)f->tty->pty->index : 0, t->host_proc_fd);
	if (master < 0)
		return -EIO;
	if (ioctl(master, TIOCSPTLCK, &unlock) || ioctl(master, TIOCGPTN, &idx)) {
		pr_perror("can't unlock the new pty of %s", ptmx);
		close(master);
		return -EIO;
	}
	pr_info("pty %u: new pair %s index %d (dumped: %u)\n", f->tty->id, ptmx, idx,
		f->tty->pty ? f->tty->pty->index : 0);
	return rtree_move_fd(master, r->table_fd);
}

int tty_orphan_open(struct rtree *t, struct rfile *f)
{
	int flags = (int)(f->fe->tty->flags & (O_ACCMODE | O_APPEND | O_NONBLOCK)), master, slave, ret;

	if (!tty_is_orphan(f)) {
		pr_err("file %u: terminal %u can't be restored here\n", f->fe->id, f->tty ? f->tty->id : 0);
		return -EOPNOTSUPP;
	}
	master = made_master(t, f);
	if (master < 0) {
		ret = make_pair(t, f);
		if (ret)
			return ret;
		master = slave_path(t, f)->table_fd;
	}
	slave = ioctl(master, TIOCGPTPEER, flags | O_NOCTTY | O_CLOEXEC);
	if (slave < 0) {
		pr_perror("can't open the new pty's slave for file %u", f->fe->id);
		return -errno;
	}
	/* the tree's terminal as it was, or no restore: none of it only warns */
	ret = tty_apply_params(slave, f->tty);
	if (!ret)
		ret = tty_apply_locked(slave, f->tty);
	if (!ret && f->tty->exclusive && ioctl(slave, TIOCEXCL)) {
		pr_perror("pty %u: can't make it exclusive again", f->tty->id);
		ret = -errno;
	}
	if (ret) {
		close(slave);
		return ret;
	}
	return rtree_move_fd(slave, f->table_fd);
}

/* ------------------------------------------------------------------------
 * In a session leader
 */

int tty_orphan_take_ctty(const struct rtree *t, const struct rproc *p)
{
	const struct rfile *missed = NULL;

	for (size_t i = 0; i < t->nr_files; i++) {
		const struct rfile *f = &t->files[i];

		if (!tty_is_orphan(f) || f->tty->sid != (uint32_t)p->vpid)
			continue;
		if (fcntl(f->table_fd, F_GETFD) < 0) {
			missed = f; /* not opened (no descriptor uses it): another file of it may be */
			continue;
		}
		if (ioctl(f->table_fd, TIOCSCTTY, 0)) {
			pr_perror("process %d: can't take pty %u back as its controlling terminal", p->vpid,
				  f->tty->id);
			return -errno;
		}
		return 0;
	}
	if (missed) {
		pr_err("process %d: pty %u controlled its session, and no open file of it is here to take it back\n",
		       p->vpid, missed->tty->id);
		return -EIO;
	}
	return 0;
}

/* ------------------------------------------------------------------------
 * From criu
 */

/* The foreground group of f's terminal, set by its session leader. */
static int restore_fg_pgrp(const struct rtree *t, const struct rfile *f)
{
	const struct rproc *leader = f->tty->sid ? rtree_proc(t, (pid_t)f->tty->sid) : NULL;
	int32_t pgrp = (int32_t)f->tty->pgrp;

	if (!leader || !pgrp || f->tty->pgrp == f->tty->sid)
		return 0; /* none, or the leader's own group, which TIOCSCTTY gave */
	if (leader->zombie || !leader->scratch) {
		pr_warn("pty %u: its session leader %d is a zombie: the foreground group stays %u\n", f->tty->id,
			leader->vpid, f->tty->sid);
		return 0;
	}
	if (remote_write(leader->host_pid, leader->scratch, &pgrp, sizeof(pgrp)))
		return -EIO;
	return inject_call(leader->threads[0].st, "ioctl(TIOCSPGRP)", __NR_ioctl, f->table_fd, TIOCSPGRP,
			   (long)leader->scratch, 0, 0, 0, NULL);
}

/* The master the root made for f's terminal, into its path entry's host_fd. */
static int fetch_master(const struct rtree *t, int pidfd, const struct rfile *f)
{
	struct rfile *r = slave_path(t, f);
	int fd, idx;

	if (!r || r->host_fd >= 0)
		return 0;
	fd = (int)syscall(SYS_pidfd_getfd, pidfd, r->table_fd, 0);
	if (fd < 0)
		return errno == EBADF ? 0 : -errno; /* not the file that made it (unused) */
	if (ioctl(fd, TIOCGPTN, &idx)) {
		close(fd);
		return 0;
	}
	r->host_fd = fd;
	return 1;
}

/* Has f's terminal got its master copied? */
static bool master_fetched(const struct rtree *t, const struct rfile *f)
{
	for (size_t i = 0; i < t->nr_files; i++) {
		const struct rfile *g = &t->files[i], *r;

		if (tty_is_orphan(g) && g->fe->tty->tty_info_id == f->fe->tty->tty_info_id && (r = slave_path(t, g)) &&
		    r->host_fd >= 0)
			return true;
	}
	return false;
}

int tty_orphan_fetch(struct rtree *t)
{
	int pidfd = -1, ret = 0;

	for (size_t i = 0; !ret && i < t->nr_files; i++) {
		const struct rfile *f = &t->files[i];

		if (!tty_is_orphan(f) || !f->holder)
			continue;
		if (pidfd < 0)
			pidfd = (int)syscall(SYS_pidfd_open, t->procs[0].host_pid, 0);
		ret = pidfd < 0 ? -errno : fetch_master(t, pidfd, f);
		if (ret < 0)
			pr_err("pty %u: can't take the new master from the root task: %s\n", f->tty->id,
			       strerror(-ret));
		else if (ret > 0)
			ret = restore_fg_pgrp(t, f);
	}
	if (pidfd >= 0)
		close(pidfd);
	for (size_t i = 0; !ret && i < t->nr_files; i++)
		if (tty_is_orphan(&t->files[i]) && t->files[i].holder && !master_fetched(t, &t->files[i])) {
			pr_err("pty %u: the root task holds no new master for it\n", t->files[i].tty->id);
			ret = -EIO;
		}
	return ret;
}

int tty_orphan_notify(struct rtree *t, const struct options *o)
{
	for (size_t i = 0; i < t->nr_files; i++) {
		struct rfile *f = &t->files[i], *r;
		int ret;

		if (!tty_is_orphan(f) || !(r = slave_path(t, f)) || r->host_fd < 0)
			continue;
		ret = cr_notify_fd(o, ACT_ORPHAN_PTS_MASTER, r->host_fd);
		close(r->host_fd);
		r->host_fd = -1;
		if (ret)
			return ret;
	}
	return 0;
}

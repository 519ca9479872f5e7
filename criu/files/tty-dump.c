/*
 * Terminals among a seized tree's descriptors (see task-dump.h): with
 * -j/--shell-job, the tree was started from a shell and its stdio is the
 * user's terminal, a pty slave (or /dev/tty) whose master is held outside
 * the tree. Such a terminal can't be recreated; restore -j connects every
 * descriptor of it to criu's own terminal instead, as upstream does.
 *
 * Each open file of a terminal becomes a file_entry of type TTY (its flags
 * and owner); each terminal one tty_info_entry in tty-info.img, with what
 * the kernel tells of it (termios, window size, session and foreground
 * process group), for the record: restore does not impose them on criu's
 * terminal.
 *
 * Refused, with the reason: a terminal without -j; pty masters, consoles,
 * virtual consoles and serial lines; a terminal that is the controlling
 * terminal of a session inside the tree (restore could only steal it).
 */
#define LOG_PREFIX "task-dump: "

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include <unistd.h>

#include "files/files-dump.h"
#include "files/tty.h"
#include "util/log.h"
#include "fdinfo.pb-c.h"
#include "task/task-dump.h"
#include "tty.pb-c.h"
#include "util/util.h"

#define TTYAUX_MAJOR  5	  /* /dev/tty (0), /dev/console (1), /dev/ptmx (2) */
#define TTY_MAJOR     4	  /* virtual consoles and serial lines */
#define PTS_MAJOR_MIN 136 /* Unix98 pty slaves: 136 to 143 */
#define PTS_MAJOR_MAX 143

static bool is_tty_device(const struct stat *st)
{
	unsigned int ma = major(st->st_rdev);

	return S_ISCHR(st->st_mode) &&
	       (ma == TTY_MAJOR || ma == TTYAUX_MAJOR || (ma >= PTS_MAJOR_MIN && ma <= PTS_MAJOR_MAX));
}

/* A terminal opened by path (with O_PATH it is only a path: a regular file's). */
bool td_is_tty(const struct td_fd *f)
{
	return td_fd_has_path(f) && !(f->fi.flags & O_PATH) && is_tty_device(&f->st);
}

/* TtyType of a terminal we can restore, or UNKNOWN with `kind` set. */
static TtyType tty_type(const struct stat *st, char *kind, size_t size)
{
	unsigned int ma = major(st->st_rdev), mi = minor(st->st_rdev);

	if (ma >= PTS_MAJOR_MIN && ma <= PTS_MAJOR_MAX)
		return TTY_TYPE__PTY;
	if (ma == TTYAUX_MAJOR && mi == 0)
		return TTY_TYPE__CTTY;
	if (ma == TTYAUX_MAJOR && mi == 2)
		snprintf(kind, size, "pty master");
	else if (ma == TTYAUX_MAJOR)
		snprintf(kind, size, "console %u:%u", ma, mi);
	else if (mi < 64)
		snprintf(kind, size, "virtual console %u:%u", ma, mi);
	else
		snprintf(kind, size, "serial line %u:%u", ma, mi);
	return TTY_TYPE__UNKNOWN;
}

/* A pid as the tree sees it: a process of the tree, else 0 (outside). */
static uint32_t tree_pid(const struct td_ctx *c, pid_t real)
{
	/* by_pid itself, not td_vpid(): a kind does not call back into the tree's dump */
	const struct td_proc *p = real > 0 ? hmap_get_int(&c->by_pid, (uint64_t)real) : NULL;

	return p ? (uint32_t)p->vpid : 0;
}

static int write_tty_info(struct td_ctx *c, struct td_proc *p, int fd, int lfd, const struct stat *st, TtyType type,
			  uint32_t id)
{
	TtyInfoEntry ti = TTY_INFO_ENTRY__INIT;
	TermiosEntry tio = TERMIOS_ENTRY__INIT;
	WinsizeEntry ws = WINSIZE_ENTRY__INIT;
	TtyPtyEntry pty = TTY_PTY_ENTRY__INIT;
	uint32_t cc[NCCS];
	struct termios t;
	struct winsize w;
	pid_t sid = 0, pgrp = 0;
	int excl = 0;

	if (!c->tty_info_img) {
		c->tty_info_img = img_set_new(&c->d->imgs, IMG_TTY_INFO, 0);
		if (!c->tty_info_img)
			return -EIO;
	}
	/* ENOTTY for /dev/tty and for a terminal nobody controls: no session */
	if (ioctl(lfd, TIOCGSID, &sid) < 0)
		sid = 0;
	if (sid > 0 && tree_pid(c, sid)) {
		pr_err("process %d: fd %d is the terminal %u:%u, the controlling terminal of session %d inside the "
		       "tree; only a shell job's terminal (its session outside the tree) can be restored\n",
		       p->pid, fd, major(st->st_rdev), minor(st->st_rdev), sid);
		return -EOPNOTSUPP;
	}
	if (ioctl(lfd, TIOCGPGRP, &pgrp) < 0)
		pgrp = 0;
	if (ioctl(lfd, TIOCGEXCL, &excl) < 0)
		excl = 0;
	ti.id = id;
	ti.type = type;
	ti.exclusive = excl != 0;
	ti.sid = tree_pid(c, sid);
	ti.pgrp = tree_pid(c, pgrp);
	ti.rdev = (uint32_t)st->st_rdev;
	ti.has_dev = true;
	ti.dev = (uint32_t)st->st_dev;
	ti.has_uid = ti.has_gid = true;
	ti.uid = st->st_uid;
	ti.gid = st->st_gid;
	if (type == TTY_TYPE__PTY) {
		pty.index = (major(st->st_rdev) - PTS_MAJOR_MIN) * 256 + minor(st->st_rdev);
		ti.pty = &pty;
	}
	if (type != TTY_TYPE__CTTY && !tcgetattr(lfd, &t)) {
		tio.c_iflag = t.c_iflag;
		tio.c_oflag = t.c_oflag;
		tio.c_cflag = t.c_cflag;
		tio.c_lflag = t.c_lflag;
		tio.c_line = t.c_line;
		tio.c_ispeed = cfgetispeed(&t);
		tio.c_ospeed = cfgetospeed(&t);
		for (int i = 0; i < NCCS; i++)
			cc[i] = t.c_cc[i];
		tio.n_c_cc = NCCS;
		tio.c_cc = cc;
		ti.termios = &tio;
	}
	if (type != TTY_TYPE__CTTY && !ioctl(lfd, TIOCGWINSZ, &w)) {
		ws.ws_row = w.ws_row;
		ws.ws_col = w.ws_col;
		ws.ws_xpixel = w.ws_xpixel;
		ws.ws_ypixel = w.ws_ypixel;
		ti.winsize = &ws;
	}
	return img_write_entry(c->tty_info_img, &ti.base);
}

int td_dump_tty(struct td_ctx *c, struct td_proc *p, const struct td_fd *f, uint32_t id, FownEntry *fown)
{
	FileEntry fe = FILE_ENTRY__INIT;
	TtyFileEntry tf = TTY_FILE_ENTRY__INIT;
	char kind[64];
	uint64_t key = (uint64_t)f->st.st_rdev;
	TtyType type = tty_type(&f->st, kind, sizeof(kind));
	uint32_t info_id;
	int ret;

	if (type == TTY_TYPE__UNKNOWN) {
		pr_err("process %d: fd %d is a %s (%s), which can't be dumped yet\n", p->pid, f->fd, kind, f->link);
		return -EOPNOTSUPP;
	}
	if (!c->opts.shell_job) {
		pr_err("process %d: fd %d is the terminal %s: the tree is attached to a shell's terminal; dump it with "
		       "-j/--shell-job, and restore with -j to connect it to criu's terminal\n",
		       p->pid, f->fd, f->link);
		return -EOPNOTSUPP;
	}
	/* one tty_info_entry per terminal, by device number (+1: never 0) */
	info_id = (uint32_t)(uintptr_t)hmap_get_int(&c->ttys, key);
	if (!info_id) {
		info_id = (uint32_t)hmap_len(&c->ttys) + 1;
		ret = write_tty_info(c, p, f->fd, f->lfd, &f->st, type, info_id);
		if (ret)
			return ret;
		hmap_put_int(&c->ttys, key, (void *)(uintptr_t)info_id);
	}
	tf.id = id;
	tf.tty_info_id = info_id;
	tf.flags = f->fi.flags & ~(uint32_t)O_CLOEXEC;
	tf.fown = fown;
	fe.type = FD_TYPES__TTY;
	fe.id = id;
	fe.tty = &tf;
	return td_write_file_entry(c, &fe);
}

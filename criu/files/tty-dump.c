/*
 * Terminals among a seized tree's descriptors (see task-dump.h): a pty
 * slave (or /dev/tty) whose master is held outside the tree. Two callers
 * have such trees:
 *  - -j/--shell-job: the tree was started from a shell and its stdio is
 *    the user's terminal; restore -j connects every descriptor of it to
 *    criu's own terminal, as upstream does;
 *  - RPC orphan_pts_master (runc, crun: a container started with a
 *    terminal, its master held by the runtime's console socket): restore
 *    makes a new pty pair in the container's devpts and hands the master
 *    to the client (files/tty-orphan.c).
 *
 * Each open file of a terminal becomes a file_entry of type TTY (its flags
 * and owner) with, as upstream writes it, a reg_file_entry of the slave's
 * path (regf_id, no descriptor uses it) for orphan ptys, which restore
 * recreates in that path's devpts; each terminal one tty_info_entry in
 * tty-info.img with what the kernel tells of it: termios, window size,
 * exclusive mode, locked modes, and the session it controls and its foreground process
 * group (from /proc/PID/stat's tty_nr and tpgid of the tree's processes:
 * TIOCGSID/TIOCGPGRP answer only a member of that session).
 *
 * Refused, with the reason: a terminal with neither option; pty masters,
 * consoles, virtual consoles and serial lines; for a shell job, a terminal
 * that controls a session inside the tree (restore could only steal it);
 * with orphan_pts_master, more than one pty (one master to hand over, as
 * upstream) and /dev/tty without -j.
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
#include "files/reg.h"
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

/* Is /proc/PID/stat's tty_nr (the kernel's new_encode_dev) the device rdev? */
static bool tty_nr_is(uint32_t nr, dev_t rdev)
{
	unsigned int ma = (nr >> 8) & 0xfff, mi = (nr & 0xff) | ((nr >> 12) & 0xfff00);

	return nr && ma == major(rdev) && mi == minor(rdev);
}

/*
 * The session terminal `rdev` controls and its foreground group, as the
 * tree sees them: 0 when that is no session of the tree's (a shell job's).
 * Any live member of the session tells both (its stat's tty_nr and
 * tpgid); the group by its members' outermost NSpgid, so that a group
 * whose leader has exited is still found.
 */
static void tty_session(const struct td_ctx *c, dev_t rdev, uint32_t *sid, uint32_t *pgrp)
{
	const struct td_proc *q = NULL;

	*sid = *pgrp = 0;
	for (size_t i = 0; !q && i < c->nr_procs; i++)
		if (!c->procs[i].zombie && tty_nr_is(c->procs[i].stat.tty_nr, rdev))
			q = &c->procs[i];
	/* its session leader must be in the tree: it takes the terminal back */
	if (!q || !q->status.nssid.nr || !tree_pid(c, (pid_t)q->status.nssid.ids[0]))
		return;
	*sid = (uint32_t)q->vsid;
	for (size_t i = 0; i < c->nr_procs; i++) {
		const struct proc_id_list *g = &c->procs[i].status.nspgid;

		if (!c->procs[i].zombie && g->nr && (int32_t)g->ids[0] == q->stat.tpgid) {
			*pgrp = (uint32_t)c->procs[i].vpgid;
			break;
		}
	}
}

static void fill_termios(const struct termios *t, TermiosEntry *tio, uint32_t *cc)
{
	tio->c_iflag = t->c_iflag;
	tio->c_oflag = t->c_oflag;
	tio->c_cflag = t->c_cflag;
	tio->c_lflag = t->c_lflag;
	tio->c_line = t->c_line;
	tio->c_ispeed = cfgetispeed(t);
	tio->c_ospeed = cfgetospeed(t);
	for (int i = 0; i < NCCS; i++)
		cc[i] = t->c_cc[i];
	tio->n_c_cc = NCCS;
	tio->c_cc = cc;
}

/* The modes, and the locked ones (TIOCGLCKTRMIOS: which bits nobody but
 * CAP_SYS_ADMIN may change; upstream's termios_locked). */
static void get_termios(int lfd, TermiosEntry *tio, uint32_t *cc, TermiosEntry *lck, uint32_t *lcc, TtyInfoEntry *ti)
{
	struct termios t;

	if (!tcgetattr(lfd, &t)) {
		fill_termios(&t, tio, cc);
		ti->termios = tio;
	}
	/* the kernel's struct termios is a prefix of the C library's */
	memset(&t, 0, sizeof(t));
	if (!ioctl(lfd, TIOCGLCKTRMIOS, &t)) {
		fill_termios(&t, lck, lcc);
		ti->termios_locked = lck;
	}
}

static int write_tty_info(struct td_ctx *c, struct td_proc *p, const struct td_fd *f, TtyType type, uint32_t id)
{
	TtyInfoEntry ti = TTY_INFO_ENTRY__INIT;
	TermiosEntry tio = TERMIOS_ENTRY__INIT, lck = TERMIOS_ENTRY__INIT;
	WinsizeEntry ws = WINSIZE_ENTRY__INIT;
	TtyPtyEntry pty = TTY_PTY_ENTRY__INIT;
	const struct stat *st = &f->st;
	uint32_t cc[NCCS], lcc[NCCS];
	struct winsize w;
	int excl = 0;

	if (!c->tty_info_img) {
		c->tty_info_img = img_set_new(&c->d->imgs, IMG_TTY_INFO, 0);
		if (!c->tty_info_img)
			return -EIO;
	}
	if (type != TTY_TYPE__CTTY)
		tty_session(c, st->st_rdev, &ti.sid, &ti.pgrp);
	if (ti.sid && !(c->opts.orphan_pts_master && type == TTY_TYPE__PTY)) {
		pr_err("process %d: fd %d is the terminal %s, the controlling terminal of session %u inside the tree; "
		       "only a shell job's terminal (its session outside the tree) can be restored with -j\n",
		       p->pid, f->fd, f->link, ti.sid);
		pr_hint("a runtime that holds the terminal's master (runc, crun) dumps it with RPC "
			"orphan_pts_master\n");
		return -EOPNOTSUPP;
	}
	if (ioctl(f->lfd, TIOCGEXCL, &excl) < 0)
		excl = 0;
	ti.id = id;
	ti.type = type;
	ti.exclusive = excl != 0;
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
	if (type != TTY_TYPE__CTTY)
		get_termios(f->lfd, &tio, cc, &lck, lcc, &ti);
	if (type != TTY_TYPE__CTTY && !ioctl(f->lfd, TIOCGWINSZ, &w)) {
		ws.ws_row = w.ws_row;
		ws.ws_col = w.ws_col;
		ws.ws_xpixel = w.ws_xpixel;
		ws.ws_ypixel = w.ws_ypixel;
		ti.winsize = &ws;
	}
	return img_write_entry(c->tty_info_img, &ti.base);
}

/* Why terminal f can't be dumped with the options given, or NULL. */
static const char *tty_refusal(const struct td_ctx *c, TtyType type)
{
	bool orphan = c->opts.orphan_pts_master && type == TTY_TYPE__PTY;

	if (orphan || c->opts.shell_job)
		return NULL;
	if (c->opts.orphan_pts_master)
		return "/dev/tty, which only a shell job (-j/--shell-job) can have";
	return "a terminal whose master is outside the tree: a shell job's (dump it with -j/--shell-job, and restore "
	       "with -j to connect it to criu's terminal) or a container's console (RPC orphan_pts_master: restore "
	       "makes a new pty and hands its master to the client)";
}

/* orphan_pts_master hands over one master, as upstream: one pty at most. */
static int one_orphan_pty(struct td_ctx *c, struct td_proc *p, const struct td_fd *f)
{
	hmap_for_each(&c->ttys, it) {
		if (major((dev_t)it.ikey) >= PTS_MAJOR_MIN && major((dev_t)it.ikey) <= PTS_MAJOR_MAX) {
			pr_err("process %d: fd %d is the terminal %s, a second pty whose master is outside the tree; "
			       "orphan_pts_master hands over one master: only one such terminal can be dumped\n",
			       p->pid, f->fd, f->link);
			return -EOPNOTSUPP;
		}
	}
	return 0;
}

int td_dump_tty(struct td_ctx *c, struct td_proc *p, const struct td_fd *f, uint32_t id, FownEntry *fown)
{
	FileEntry fe = FILE_ENTRY__INIT;
	TtyFileEntry tf = TTY_FILE_ENTRY__INIT;
	char kind[64];
	uint64_t key = (uint64_t)f->st.st_rdev;
	TtyType type = tty_type(&f->st, kind, sizeof(kind));
	bool orphan = c->opts.orphan_pts_master && type == TTY_TYPE__PTY;
	const char *why;
	uint32_t info_id;
	int ret;

	if (type == TTY_TYPE__UNKNOWN) {
		pr_err("process %d: fd %d is a %s (%s), which can't be dumped yet\n", p->pid, f->fd, kind, f->link);
		return -EOPNOTSUPP;
	}
	why = tty_refusal(c, type);
	if (why) {
		pr_err("process %d: fd %d is the terminal %s, %s\n", p->pid, f->fd, f->link, why);
		return -EOPNOTSUPP;
	}
	/* one tty_info_entry per terminal, by device number (+1: never 0) */
	info_id = (uint32_t)(uintptr_t)hmap_get_int(&c->ttys, key);
	if (!info_id) {
		info_id = (uint32_t)hmap_len(&c->ttys) + 1;
		ret = orphan ? one_orphan_pty(c, p, f) : 0;
		if (!ret)
			ret = write_tty_info(c, p, f, type, info_id);
		if (ret)
			return ret;
		hmap_put_int(&c->ttys, key, (void *)(uintptr_t)info_id);
	}
	/* where restore finds the slave's devpts: its path, as the task sees it */
	if (orphan) {
		tf.has_regf_id = true;
		tf.regf_id = ++c->next_file_id;
		ret = td_dump_reg(c, p, f, tf.regf_id, NULL);
		if (ret)
			return ret;
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

/*
 * Restore: the terminals of files/tty-dump.c: tty-info.img read and
 * checked (only a pty slave or /dev/tty can come back). A shell job's (-j)
 * terminal files are opened by criu on the host, before the namespaces, as
 * new open files of criu's own terminal with the dumped flags, the dumped
 * modes and window size put on that terminal. With RPC orphan_pts_master,
 * a pty slave is made anew instead (files/tty-orphan.c).
 */
#define LOG_PREFIX "restore: "

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "files/tty.h"
#include "options.h"
#include "task/rtree.h"
#include "util/log.h"
#include "util/util.h"

int tty_check(const FileEntry *fe)
{
	return fe->tty ? 0 : file_lacks(fe);
}

const FownEntry *tty_fown(const FileEntry *fe)
{
	return fe->tty ? fe->tty->fown : NULL;
}

/*
 * tty-info.img: the terminals the TTY files of files.img name. Only those a
 * shell job has (a pty slave, /dev/tty) can be restored: -j connects them
 * to criu's own terminal.
 */
int tty_link(struct rtree *t)
{
	_cleanup_free_ ProtobufCMessage **v = NULL;
	struct hmap by_id;
	bool any = false;
	size_t n = 0;
	int ret = 0;

	for (size_t i = 0; i < t->nr_files; i++)
		any = any || t->files[i].fe->type == FD_TYPES__TTY;
	if (!any)
		return 0;
	ret = rtree_read_image(t, IMG_TTY_INFO, 0, true, &v, &n);
	if (ret)
		return ret;
	hmap_init(&by_id);
	for (size_t i = 0; !ret && i < n; i++) {
		TtyInfoEntry *ti = (TtyInfoEntry *)v[i];

		if (ti->type != TTY_TYPE__PTY && ti->type != TTY_TYPE__CTTY) {
			pr_err("tty-info.img: terminal %u is of type %d; only a shell job's terminal (a pty slave or "
			       "/dev/tty) can be restored\n",
			       ti->id, ti->type);
			ret = -EOPNOTSUPP;
		} else if (!ti->id || hmap_get_int(&by_id, ti->id)) {
			pr_err("tty-info.img: terminal id %u is %s\n", ti->id, ti->id ? "used twice" : "0");
			ret = -EINVAL;
		} else {
			hmap_put_int(&by_id, ti->id, ti);
		}
	}
	for (size_t i = 0; !ret && i < t->nr_files; i++) {
		struct rfile *f = &t->files[i];

		if (f->fe->type != FD_TYPES__TTY)
			continue;
		f->tty = hmap_get_int(&by_id, f->fe->tty->tty_info_id);
		if (!f->tty) {
			pr_err("files.img: terminal file %u names terminal %u, which tty-info.img lacks\n", f->fe->id,
			       f->fe->tty->tty_info_id);
			ret = -EINVAL;
		}
	}
	hmap_free(&by_id);
	return ret;
}

/*
 * A pty file's slave path entry (regf_id, as upstream writes it: an entry
 * of its own) is where restore keeps the new pty's master
 * (files/tty-orphan.c). An entry a descriptor uses would become that
 * master (a process's regular file turned into a terminal), and one another
 * terminal names would lose that terminal's master: both refused.
 */
int tty_resolve(const struct rtree *t, const struct rfile *f)
{
	const TtyFileEntry *tf = f->fe->tty;
	const struct rfile *r = tf->has_regf_id ? rtree_file(t, tf->regf_id) : NULL;

	if (!r || r == f || r->fe->type != FD_TYPES__REG)
		return 0; /* none: a pty restored from it says so (tty-orphan.c) */
	if (r->holder) {
		pr_err("files.img: pty file %u names path entry %u (%s) as its slave's path, which fd %d of process %d "
		       "uses too: restore keeps the new pty's master in that entry's place, and that descriptor would "
		       "become the master\n",
		       f->fe->id, r->fe->id, r->fe->reg->name, r->holder_fd, r->holder->vpid);
		pr_hint("the images are damaged or were not written by a dump: dump the tree again\n");
		return -EINVAL;
	}
	for (size_t i = 0; i < t->nr_files; i++) {
		const FileEntry *g = t->files[i].fe;

		if (g->type == FD_TYPES__TTY && g->tty->has_regf_id && g->tty->regf_id == tf->regf_id &&
		    g->tty->tty_info_id != tf->tty_info_id) {
			pr_err("files.img: pty files %u and %u, of different terminals (%u, %u), name the same slave "
			       "path entry %u: one terminal's master would replace the other's\n",
			       f->fe->id, g->id, tf->tty_info_id, g->tty->tty_info_id, tf->regf_id);
			pr_hint("the images are damaged or were not written by a dump: dump the tree again\n");
			return -EINVAL;
		}
	}
	return 0;
}

bool tty_inherit_name(const struct rfile *f, char *buf, size_t len)
{
	snprintf(buf, len, "tty[%x:%x]", f->tty->rdev, f->tty->has_dev ? f->tty->dev : 0);
	return true;
}

/* The modes an image entry gives, onto `t` (speeds apart). */
static void termios_from_entry(struct termios *t, const TermiosEntry *te)
{
	t->c_iflag = te->c_iflag;
	t->c_oflag = te->c_oflag;
	t->c_cflag = te->c_cflag;
	t->c_lflag = te->c_lflag;
	t->c_line = (cc_t)te->c_line;
	for (size_t i = 0; i < te->n_c_cc && i < NCCS; i++)
		t->c_cc[i] = (cc_t)te->c_cc[i];
}

/*
 * The dumped terminal's modes and window size onto the one restored in its
 * place, as upstream does: a full-screen program restored there finds the
 * terminal as it left it. 0, or -errno once said (a shell job's caller,
 * whose terminal is the user's own, only warns).
 */
int tty_apply_params(int fd, const TtyInfoEntry *ti)
{
	const TermiosEntry *te = ti->termios;
	struct termios t;

	if (te && tcgetattr(fd, &t)) {
		pr_perror("terminal %u: can't read its modes", ti->id);
		return -errno;
	}
	if (te) {
		termios_from_entry(&t, te);
		cfsetispeed(&t, te->c_ispeed);
		cfsetospeed(&t, te->c_ospeed);
		if (tcsetattr(fd, TCSANOW, &t)) {
			pr_perror("terminal %u: can't set its modes", ti->id);
			return -errno;
		}
	}
	if (ti->winsize) {
		struct winsize w = {(unsigned short)ti->winsize->ws_row, (unsigned short)ti->winsize->ws_col,
				    (unsigned short)ti->winsize->ws_xpixel, (unsigned short)ti->winsize->ws_ypixel};

		if (ioctl(fd, TIOCSWINSZ, &w)) {
			pr_perror("terminal %u: can't set its window size", ti->id);
			return -errno;
		}
	}
	return 0;
}

/*
 * The dumped locked modes (TIOCSLCKTRMIOS, CAP_SYS_ADMIN) onto a pty made
 * anew, as upstream: a program that relied on them finds them again. None
 * locked (the default) needs nothing, nor the privilege.
 */
int tty_apply_locked(int fd, const TtyInfoEntry *ti)
{
	const TermiosEntry *te = ti->termios_locked;
	struct termios t;
	bool any = false;

	if (!te)
		return 0;
	memset(&t, 0, sizeof(t));
	termios_from_entry(&t, te);
	for (size_t i = 0; i < sizeof(t) && !any; i++)
		any = ((const unsigned char *)&t)[i] != 0;
	if (any && ioctl(fd, TIOCSLCKTRMIOS, &t)) {
		pr_perror("terminal %u: can't lock its modes again", ti->id);
		return -errno;
	}
	return 0;
}

/* A pty slave made anew (files/tty-orphan.c) can be: its master has a receiver. */
static int orphan_check(const struct rfile *f, const struct options *o)
{
	if (!o->notify_hook) {
		pr_err("file %u is a pty slave whose master was outside the tree: restore makes a new pty and hands "
		       "its master over in the orphan-pts-master notification, which only an RPC client that set "
		       "notify_scripts receives\n",
		       f->fe->id);
		pr_hint("set notify_scripts along with orphan_pts_master (runc does)\n");
		return -EINVAL;
	}
	if (!f->fe->tty->has_regf_id) {
		pr_err("files.img: pty file %u has no slave path (regf_id): the images don't tell which devpts to make "
		       "its new pty in\n",
		       f->fe->id);
		return -EINVAL;
	}
	return 0;
}

/*
 * A terminal file of a shell job (-j): a new open file of criu's own
 * terminal, its standard input's (or /dev/tty, criu's controlling
 * terminal, for a /dev/tty file), with the dumped flags. A pty slave with
 * orphan_pts_master: nothing here, the root makes it (tty_orphan_open).
 */
int tty_open_host(struct rfile *f, const struct options *o, int above)
{
	const char *path = f->tty->type == TTY_TYPE__CTTY ? "/dev/tty" : "/proc/self/fd/0";
	int flags = (int)(f->fe->tty->flags & (O_ACCMODE | O_APPEND | O_NONBLOCK)), fd, moved;
	char res[64];

	if (o->orphan_pts_master && f->tty->type == TTY_TYPE__PTY)
		return orphan_check(f, o);
	tty_inherit_name(f, res, sizeof(res));
	if (!o->shell_job) {
		pr_err("file %u is a terminal (%s) whose master was outside the tree: restore with -j/--shell-job to "
		       "connect it to criu's terminal, give it with --inherit-fd fd[N]:%s, or (RPC) set "
		       "orphan_pts_master to get a new pty whose master criu hands over\n",
		       f->fe->id, f->tty->type == TTY_TYPE__CTTY ? "/dev/tty" : "a pty slave", res);
		return -EOPNOTSUPP;
	}
	if (f->tty->type == TTY_TYPE__PTY && !isatty(0)) {
		pr_err("-j: criu's standard input is not a terminal; run criu restore -j from the terminal the job is "
		       "to use (or give the terminal with --inherit-fd fd[N]:%s)\n",
		       res);
		return -ENOTTY;
	}
	fd = open(path, flags | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		pr_perror("-j: can't open criu's terminal (%s) for file %u", path, f->fe->id);
		return -errno;
	}
	if (tty_apply_params(fd, f->tty))
		pr_warn("-j: terminal %u: criu's terminal keeps its own modes or window size\n", f->tty->id);
	moved = fcntl(fd, F_DUPFD_CLOEXEC, above);
	close(fd);
	if (moved < 0) {
		pr_perror("can't move the terminal's descriptor above %d", above);
		return -errno;
	}
	pr_info("file %u (terminal %s) is criu's terminal\n", f->fe->id, res);
	f->host_fd = moved;
	return 0;
}

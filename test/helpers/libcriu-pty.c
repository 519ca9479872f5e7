/*
 * libcriu-pty CRIU PID IMGDIR ROOT [PTS]: a client of libcriu (include/criu.h)
 * that holds the terminal of a container, as a runtime's console socket
 * does, and moves it through a checkpoint and restore with
 * orphan_pts_master (test/e2e/test-orphan-pts.sh runs it).
 *
 * PID is a container's init that waits for ROOT/tmp/pty-ready, then makes
 * /dev/pts/0 of its own devpts its controlling terminal and stdio, prints
 * "ready" and, for each line it reads, "got LINE tty=yes|no size=ROWS COLS".
 * This program, step by step, printing one "KEY VALUE..." line each:
 *   master    the pty made in the container's devpts (/proc/PID/root/
 *             dev/pts/ptmx), its window size 33x101, echo off, VERASE ^H,
 *             IXON locked (TIOCSLCKTRMIOS on its slave);
 *   before    a line's round trip through the terminal;
 *   refused   dump without orphan_pts_master: its result (must fail);
 *   kept      the tree still answers on the same terminal afterwards;
 *   dump      dump with orphan_pts_master, notifications on;
 *   held      (PTS given: the container's /dev/pts is that devpts of the
 *             host, dumped as external mount "pts" and mapped back to it)
 *             restore while this program still holds the old master, so
 *             that the dumped index is taken in that same devpts: its
 *             result (must fail), the tasks it left (live children of this
 *             program once the dead are reaped) and whether the mount table
 *             is the same as before; then the old master is closed;
 *   no-notify restore with orphan_pts_master but no notifications: its
 *             result (must fail: nobody would get the master);
 *   notify    each notification of the restore, in order; for
 *             orphan-pts-master whether the callback found the master (a pty
 *             master, criu_get_orphan_pts_master_fd) and its index;
 *   restore   criu_restore_child with orphan_pts_master: the root's pid;
 *   termios   the new master's modes and window size, same as dumped?
 *   locked    the new slave's locked modes: IXON alone, as dumped?
 *   after     a line's round trip through the new master;
 * then "done", and it holds the new master (the restored tree's terminal)
 * until it is killed.
 */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "criu.h"

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

static const char *criu_bin, *imgdir, *root, *ext_pts;
static int notified_fd = -1;
/* the old pty's slave, opened to lock its modes: kept open with the master
 * (a slave closed before the container opens it hangs the master up) */
static int old_slave = -1;

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/* Reads from the master until a line starting with `want` arrives (10 s);
 * that line, without its end, in buf. */
static bool read_line(int master, const char *want, char *buf, size_t size)
{
	char acc[4096];
	size_t len = 0;
	time_t end = time(NULL) + 10;

	while (time(NULL) < end) {
		struct pollfd p = {.fd = master, .events = POLLIN};
		char *line, *nl;
		ssize_t n;

		if (poll(&p, 1, 200) <= 0)
			continue;
		n = read(master, acc + len, sizeof(acc) - 1 - len);
		if (n <= 0)
			return false;
		len += (size_t)n;
		acc[len] = '\0';
		for (line = acc; (nl = strpbrk(line, "\r\n")); line = nl + 1) {
			*nl = '\0';
			if (!strncmp(line, want, strlen(want))) {
				snprintf(buf, size, "%s", line);
				return true;
			}
		}
		memmove(acc, line, strlen(line) + 1);
		len = strlen(acc);
		if (len == sizeof(acc) - 1)
			len = 0;
	}
	return false;
}

/* "got WORD ..." for WORD written to the master: the reply, or "none". */
static void round_trip(const char *step, int master, const char *word)
{
	char line[512], want[64];

	snprintf(line, sizeof(line), "%s\n", word);
	snprintf(want, sizeof(want), "got %s ", word);
	if (write(master, line, strlen(line)) != (ssize_t)strlen(line) || !read_line(master, want, line, sizeof(line)))
		snprintf(line, sizeof(line), "none");
	say("%s %s", step, line);
}

static int on_notify(char *action, criu_notify_arg_t na)
{
	struct stat st;
	int idx = -1;
	bool pty;

	if (strcmp(action, "orphan-pts-master")) {
		say("notify %s", action);
		return 0;
	}
	notified_fd = criu_get_orphan_pts_master_fd();
	pty = notified_fd >= 0 && !fstat(notified_fd, &st) && S_ISCHR(st.st_mode) &&
	      !ioctl(notified_fd, TIOCGPTN, &idx);
	say("notify %s master %d index %d", action, pty, idx);
	return 0;
}

static criu_opts *opts(const char *log, bool orphan, bool notify)
{
	criu_opts *o;
	int dir = open(imgdir, O_DIRECTORY);

	if (dir < 0 || criu_local_init_opts(&o) || criu_local_set_service_binary(o, criu_bin)) {
		say("error can't set up libcriu for %s", imgdir);
		exit(2);
	}
	criu_local_set_images_dir_fd(o, dir);
	criu_local_set_log_level(o, 4);
	criu_local_set_log_file(o, log);
	if (notify)
		criu_local_set_notify_cb(o, on_notify);
	if (orphan)
		criu_local_set_orphan_pts_master(o, true);
	if (ext_pts && strcmp(log, "refused.log") && strcmp(log, "dump.log"))
		criu_local_add_ext_mount(o, "pts", ext_pts);
	else if (ext_pts)
		criu_local_add_external(o, "mnt[/dev/pts]:pts");
	return o;
}

static int open_master(pid_t pid)
{
	struct winsize ws = {.ws_row = 33, .ws_col = 101};
	char path[128];
	struct termios t;
	int master, unlock = 0, idx = -1, fd;

	snprintf(path, sizeof(path), "/proc/%d/root/dev/pts/ptmx", (int)pid);
	master = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0 || ioctl(master, TIOCSPTLCK, &unlock) || ioctl(master, TIOCGPTN, &idx) ||
	    ioctl(master, TIOCSWINSZ, &ws) || tcgetattr(master, &t)) {
		say("master none %s", strerror(errno));
		exit(1);
	}
	t.c_lflag &= ~(tcflag_t)(ECHO | ECHOCTL);
	t.c_cc[VERASE] = 0x08;
	if (tcsetattr(master, TCSANOW, &t)) {
		say("master none tcsetattr %s", strerror(errno));
		exit(1);
	}
	memset(&t, 0, sizeof(t));
	t.c_iflag = IXON;
	old_slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (old_slave < 0 || ioctl(old_slave, TIOCSLCKTRMIOS, &t)) {
		say("master none lock %s", strerror(errno));
		exit(1);
	}
	snprintf(path, sizeof(path), "/proc/%d/root/tmp/pty-ready", (int)pid);
	fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
	if (fd >= 0)
		close(fd);
	say("master index %d", idx);
	return master;
}

static char *read_all(const char *path)
{
	static char buf[1 << 16];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;

	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return strdup(buf);
}

/* Live children of this program, once the exited ones are reaped. */
static int live_children(void)
{
	char path[64], *kids, *p;
	int n = 0;

	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	snprintf(path, sizeof(path), "/proc/self/task/%d/children", (int)getpid());
	kids = read_all(path);
	for (p = strtok(kids, " \n"); p; p = strtok(NULL, " \n"))
		n++;
	free(kids);
	return n;
}

/* Restore while the old master holds the dumped index in the same devpts. */
static void restore_held(int master)
{
	char *before = read_all("/proc/self/mountinfo"), *after;
	criu_opts *o = opts("restore-held.log", true, true);
	int ret;

	criu_local_set_root(o, root);
	ret = criu_local_restore_child(o);
	criu_local_free_opts(o);
	after = read_all("/proc/self/mountinfo");
	say("held %d tasks %d mounts-same %d", ret, live_children(), !strcmp(before, after));
	free(before);
	free(after);
	close(master);
	close(old_slave);
}

static bool same_modes(const struct termios *a, const struct termios *b)
{
	return a->c_iflag == b->c_iflag && a->c_oflag == b->c_oflag && a->c_cflag == b->c_cflag &&
	       a->c_lflag == b->c_lflag && !memcmp(a->c_cc, b->c_cc, sizeof(a->c_cc));
}

int main(int argc, char **argv)
{
	char line[512];
	struct termios before, after;
	struct winsize ws = {0};
	criu_opts *o;
	pid_t pid;
	int master, ret;

	if (argc != 5 && argc != 6) {
		fprintf(stderr, "usage: %s CRIU PID IMGDIR ROOT [PTS]\n", argv[0]);
		return 2;
	}
	criu_bin = argv[1];
	pid = atoi(argv[2]);
	imgdir = argv[3];
	root = argv[4];
	ext_pts = argc > 5 ? argv[5] : NULL;
	master = open_master(pid);
	if (!read_line(master, "ready", line, sizeof(line))) {
		say("ready none");
		return 1;
	}
	round_trip("before", master, "one");

	o = opts("refused.log", false, true);
	criu_local_set_pid(o, pid);
	ret = criu_local_dump(o);
	criu_local_free_opts(o);
	say("refused %d", ret);
	round_trip("kept", master, "two");

	tcgetattr(master, &before);
	o = opts("dump.log", true, true);
	criu_local_set_pid(o, pid);
	ret = criu_local_dump(o);
	criu_local_free_opts(o);
	say("dump %d", ret);
	if (ret)
		return 1;
	if (ext_pts) {
		restore_held(master);
	} else {
		close(master);
		close(old_slave);
	}

	/* nobody to receive the master: refused before anything is made */
	o = opts("restore-no-notify.log", true, false);
	criu_local_set_root(o, root);
	ret = criu_local_restore_child(o);
	criu_local_free_opts(o);
	say("no-notify %d", ret);

	o = opts("restore.log", true, true);
	criu_local_set_root(o, root);
	ret = criu_local_restore_child(o);
	criu_local_free_opts(o);
	say("restore %d", ret);
	master = criu_get_orphan_pts_master_fd();
	if (ret <= 0 || master < 0) {
		say("restored-master none");
		return 1;
	}
	say("restored-master same-as-notified %d", master == notified_fd);
	ioctl(master, TIOCGWINSZ, &ws);
	say("termios same %d size %d %d", !tcgetattr(master, &after) && same_modes(&before, &after), ws.ws_row,
	    ws.ws_col);
	{
		struct termios l;
		int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);

		memset(&l, 0, sizeof(l));
		say("locked ixon %d", slave >= 0 && !ioctl(slave, TIOCGLCKTRMIOS, &l) && l.c_iflag == IXON &&
					      !l.c_oflag && !l.c_cflag && !l.c_lflag);
		if (slave >= 0)
			close(slave);
	}
	round_trip("after", master, "ping");
	say("done");
	for (;;)
		pause();
}

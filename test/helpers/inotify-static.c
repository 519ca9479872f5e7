/*
 * inotify-static OUTDIR DIR: an inotify file as file watchers hold one.
 * Watches OUTDIR (wd 1, then removed, so the numbers have a gap), DIR for
 * files made and removed (wd 2), DIR/file for writes (wd 3) and the
 * symlink DIR/link itself (IN_DONT_FOLLOW, wd 4), and writes OUTDIR/ready. Each time OUTDIR/trigger appears it makes DIR/new-N, writes
 * to DIR/file, removes DIR/new-N and checks that the events come with the
 * watch numbers it holds, in order, and that a new watch gets a number
 * past them; then OUTDIR/result:
 *   round N: verified OK untouched-resident 0
 * or round N: BAD what
 */
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <time.h>
#include <unistd.h>

#include "outfile.h"

static int ifd, wd_dir, wd_file, wd_link;

/* The next event, waiting up to 2 s; 0 if none came. */
static int next_event(struct inotify_event *ev, char *name, size_t size)
{
	static char buf[4096] __attribute__((aligned(8)));
	static ssize_t len, off;
	struct pollfd p = {.fd = ifd, .events = POLLIN};
	const struct inotify_event *e;

	if (off >= len) {
		if (poll(&p, 1, 2000) != 1)
			return 0;
		len = read(ifd, buf, sizeof(buf));
		off = 0;
		if (len <= 0)
			return 0;
	}
	e = (const struct inotify_event *)(buf + off);
	*ev = *e;
	snprintf(name, size, "%s", e->len ? e->name : "");
	off += (ssize_t)(sizeof(*e) + e->len);
	return 1;
}

static const char *expect(int wd, uint32_t mask, const char *name)
{
	struct inotify_event ev;
	char got[256];

	if (!next_event(&ev, got, sizeof(got)))
		return "no event";
	if (ev.wd != wd)
		return "event with the wrong watch number";
	if (!(ev.mask & mask))
		return "event of the wrong kind";
	if (name && strcmp(got, name))
		return "event for the wrong name";
	return NULL;
}

static const char *watched_dir; /* argv[2] */

static const char *round_check(int round)
{
	const char *dir = watched_dir;
	char path[4096], name[64], file[4096];
	const char *bad;
	int fd, w;

	snprintf(name, sizeof(name), "new-%d", round);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(file, sizeof(file), "%s/file", dir);
	fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
	if (fd < 0)
		return "can't make a file";
	close(fd);
	bad = expect(wd_dir, IN_CREATE, name);
	if (!bad) {
		fd = open(file, O_WRONLY | O_APPEND | O_CLOEXEC);
		if (fd < 0 || write(fd, "x", 1) != 1)
			bad = "can't write the file";
		if (fd >= 0)
			close(fd);
	}
	if (!bad)
		bad = expect(wd_file, IN_MODIFY, NULL);
	if (!bad && unlink(path))
		bad = "can't remove the file";
	if (!bad)
		bad = expect(wd_dir, IN_DELETE, name);
	if (bad)
		return bad;
	/* a new watch is numbered past the ones restored */
	w = inotify_add_watch(ifd, "/", IN_ATTRIB);
	if (w <= wd_link)
		return "a new watch reused a number";
	inotify_rm_watch(ifd, w);
	{
		struct inotify_event ev;
		char got[256];

		/* the IN_IGNORED of the removed one */
		if (!next_event(&ev, got, sizeof(got)) || ev.wd != w || !(ev.mask & IN_IGNORED))
			return "no IN_IGNORED for the removed watch";
	}
	return NULL;
}

int main(int argc, char **argv)
{
	char line[256], file[4096], link[4096];
	int w1, fd;

	if (argc != 3) {
		fprintf(stderr, "usage: %s OUTDIR DIR\n", argv[0]);
		return 2;
	}
	outdir = argv[1];
	watched_dir = argv[2];
	snprintf(file, sizeof(file), "%s/file", argv[2]);
	fd = open(file, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
	if (fd < 0)
		return perror("open"), 1;
	close(fd);
	snprintf(link, sizeof(link), "%s/link", argv[2]);
	if (symlink("file", link) && access(link, F_OK))
		return perror("symlink"), 1;
	ifd = inotify_init1(IN_CLOEXEC);
	w1 = inotify_add_watch(ifd, outdir, IN_CREATE);
	wd_dir = inotify_add_watch(ifd, argv[2], IN_CREATE | IN_DELETE);
	wd_file = inotify_add_watch(ifd, file, IN_MODIFY);
	wd_link = inotify_add_watch(ifd, link, IN_ATTRIB | IN_DONT_FOLLOW);
	if (ifd < 0 || w1 != 1 || wd_dir != 2 || wd_file != 3 || wd_link != 4 || inotify_rm_watch(ifd, w1))
		return perror("inotify"), 1;
	{
		struct inotify_event ev;
		char got[256];

		if (!next_event(&ev, got, sizeof(got)) || !(ev.mask & IN_IGNORED))
			return fprintf(stderr, "no IN_IGNORED\n"), 1;
	}
	snprintf(line, sizeof(line), "wd %d %d\n", wd_dir, wd_file);
	write_file("ready", line, 0);
	serve_rounds(round_check);
}

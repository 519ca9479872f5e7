/*
 * unixsk-static OUTDIR: unix sockets with state to carry across a dump:
 * a stream pair split between this process and a child, with bytes queued
 * both ways; a seqpacket pair and a datagram pair with messages queued; a
 * listener bound to /tmp/listen.sock and one to an abstract name. Writes
 * OUTDIR/ready, waits for OUTDIR/go, then reads everything back and tries
 * both listeners; OUTDIR/result gets a line each (the child's in
 * OUTDIR/child):
 *   stream stream-data | seqpacket m1 m22 | dgram d1 | listen ok ok
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "outfile.h"


static void wait_go(void)
{
	struct timespec nap = {0, 50000000};
	char path[4096];

	snprintf(path, sizeof(path), "%s/go", outdir);
	while (access(path, F_OK))
		nanosleep(&nap, NULL);
}

/* a report, whole (outfile.h) */
static void put(const char *name, const char *text)
{
	write_file(name, text, 0);
}

static int listener(const char *name, size_t len)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int s = socket(AF_UNIX, SOCK_STREAM, 0);

	memcpy(sa.sun_path, name, len);
	if (s < 0 || bind(s, (struct sockaddr *)&sa, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len)) ||
	    listen(s, 5))
		return -1;
	return s;
}

static const char *try_listener(int l, const char *name, size_t len)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int c = socket(AF_UNIX, SOCK_STREAM, 0), a;

	memcpy(sa.sun_path, name, len);
	if (c < 0 || connect(c, (struct sockaddr *)&sa, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len)))
		return "no-connect";
	a = accept(l, NULL, NULL);
	close(c);
	if (a < 0)
		return "no-accept";
	close(a);
	return "ok";
}

int main(int argc, char **argv)
{
	int sp[2], sq[2], dg[2], l1, l2;
	char buf[256], res[1024], m1[16] = "", m2[16] = "", d[16] = "";
	static const char abs_name[] = "\0criu-e2e-unixsk";
	ssize_t n;
	pid_t child;

	if (argc != 2) {
		fprintf(stderr, "usage: %s OUTDIR\n", argv[0]);
		return 2;
	}
	outdir = argv[1];
	unlink("/tmp/listen.sock");
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sp) || socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sq) ||
	    socketpair(AF_UNIX, SOCK_DGRAM, 0, dg))
		return perror("socketpair"), 1;
	l1 = listener("/tmp/listen.sock", strlen("/tmp/listen.sock"));
	l2 = listener(abs_name, sizeof(abs_name) - 1);
	if (l1 < 0 || l2 < 0)
		return perror("listener"), 1;
	if (write(sp[1], "stream-data", 11) != 11 || write(sp[0], "back", 4) != 4 || send(sq[1], "m1", 2, 0) != 2 ||
	    send(sq[1], "m22", 3, 0) != 3 || send(dg[1], "d1", 2, 0) != 2)
		return perror("send"), 1;
	child = fork();
	if (child == 0) {
		close(sp[0]);
		wait_go();
		n = read(sp[1], buf, sizeof(buf) - 1);
		buf[n > 0 ? n : 0] = '\0';
		snprintf(res, sizeof(res), "back %s\n", buf);
		put("child", res);
		for (;;)
			pause();
	}
	close(sp[1]);
	put("ready", "");
	wait_go();
	n = read(sp[0], buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	if ((n = recv(sq[0], m1, sizeof(m1) - 1, MSG_DONTWAIT)) > 0)
		m1[n] = '\0';
	if ((n = recv(sq[0], m2, sizeof(m2) - 1, MSG_DONTWAIT)) > 0)
		m2[n] = '\0';
	if ((n = recv(dg[0], d, sizeof(d) - 1, MSG_DONTWAIT)) > 0)
		d[n] = '\0';
	snprintf(res, sizeof(res), "stream %s\nseqpacket %s %s\ndgram %s\nlisten %s %s\n", buf, m1, m2, d,
		 try_listener(l1, "/tmp/listen.sock", strlen("/tmp/listen.sock")),
		 try_listener(l2, abs_name, sizeof(abs_name) - 1));
	put("result", res);
	for (;;)
		pause();
}

/*
 * sockinet-static OUTDIR [connected]: IPv4 and IPv6 sockets the way
 * servers hold them, in a network namespace with lo up:
 *   fd 3  TCP listening on 127.0.0.1:7070, backlog 7, SO_REUSEADDR
 *   fd 4  TCP listening on [::1]:7071, IPV6_V6ONLY
 *   fd 5  UDP bound to 127.0.0.1:7072
 *   fd 6  UDP connected to 127.0.0.1:7072 (from a port of its own)
 *   fd 7  TCP made, not bound, SO_KEEPALIVE, non-blocking
 * fd 5's receive buffer is set by hand (SO_BUF_LOCK), the others are
 * left to the kernel; fd 7 lingers 5 s. With "connected" also a TCP
 * connection to fd 3, accepted (fds 8, 9); with "user" it runs as uid and
 * gid 1000 from the start (its sockets are that user's).
 * OUTDIR/ready gets "ports P" (fd 6's own). Each time OUTDIR/trigger
 * appears it connects to both listeners and exchanges bytes, sends a
 * datagram from fd 6 to fd 5 and checks where it came from, checks the
 * options, and writes OUTDIR/result:
 *   round N: verified OK untouched-resident 0
 * or round N: BAD what
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <grp.h>
#include <unistd.h>

#include "outfile.h"

static int opt(int fd, int level, int name)
{
	int v = -1;
	socklen_t l = sizeof(v);

	getsockopt(fd, level, name, &v, &l);
	return v;
}

static int wait_in(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};

	return poll(&p, 1, 2000) == 1;
}

/* A connection to the listener at fd lfd (address a), accepted, one byte each way. */
static const char *talk(int lfd, const struct sockaddr *a, socklen_t al, int family)
{
	int c = socket(family, SOCK_STREAM, 0), s;
	char x = 'p', y = 0;
	const char *bad = NULL;

	if (c < 0 || connect(c, a, al))
		bad = "connect";
	else if (!wait_in(lfd) || (s = accept(lfd, NULL, NULL)) < 0)
		bad = "accept";
	else {
		if (write(c, &x, 1) != 1 || !wait_in(s) || read(s, &y, 1) != 1 || y != 'p')
			bad = "bytes";
		close(s);
	}
	if (c >= 0)
		close(c);
	return bad;
}

static const char *check(int round)
{
	struct sockaddr_in a4 = {.sin_family = AF_INET, .sin_port = htons(7070)};
	struct sockaddr_in6 a6 = {.sin6_family = AF_INET6, .sin6_port = htons(7071), .sin6_addr = IN6ADDR_LOOPBACK_INIT};
	struct sockaddr_in from, me;
	socklen_t fl = sizeof(from), ml = sizeof(me);
	char buf[16];
	const char *bad;

	a4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((bad = talk(3, (struct sockaddr *)&a4, sizeof(a4), AF_INET)) ||
	    (bad = talk(4, (struct sockaddr *)&a6, sizeof(a6), AF_INET6)))
		return bad;
	if (send(6, "dgram", 5, 0) != 5 || !wait_in(5) ||
	    recvfrom(5, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl) != 5 || memcmp(buf, "dgram", 5))
		return "datagram";
	if (getsockname(6, (struct sockaddr *)&me, &ml) || me.sin_port != from.sin_port)
		return "datagram from another port";
	if (!opt(3, SOL_SOCKET, SO_REUSEADDR) || opt(4, IPPROTO_IPV6, IPV6_V6ONLY) != 1 ||
	    !opt(7, SOL_SOCKET, SO_KEEPALIVE) || !(fcntl(7, F_GETFL) & O_NONBLOCK) ||
	    opt(3, SOL_SOCKET, SO_ACCEPTCONN) != 1 || opt(7, SOL_SOCKET, SO_ACCEPTCONN) != 0)
		return "options";
	if (opt(3, SOL_SOCKET, 72 /* SO_BUF_LOCK */) != 0 || opt(5, SOL_SOCKET, 72) != 2 ||
	    opt(5, SOL_SOCKET, SO_RCVBUF) != 2 * 65536)
		return "buffer sizes or locks";
	{
		struct linger lg = {0};
		socklen_t ll = sizeof(lg);

		if (getsockopt(7, SOL_SOCKET, SO_LINGER, &lg, &ll) || !lg.l_onoff || lg.l_linger != 5)
			return "linger";
	}
	return NULL;
}

int main(int argc, char **argv)
{
	struct sockaddr_in a4 = {.sin_family = AF_INET, .sin_port = htons(7070)};
	struct sockaddr_in6 a6 = {.sin6_family = AF_INET6, .sin6_port = htons(7071), .sin6_addr = IN6ADDR_LOOPBACK_INIT};
	struct sockaddr_in u = {.sin_family = AF_INET, .sin_port = htons(7072)}, me;
	socklen_t ml = sizeof(me);
	char line[256];
	int one = 1;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: %s OUTDIR [connected]\n", argv[0]);
		return 2;
	}
	outdir = argv[1];
	if (argc == 3 && !strcmp(argv[2], "user") && (setgroups(0, NULL) || setgid(1000) || setuid(1000)))
		return perror("setuid"), 1;
	a4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	u.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (socket(AF_INET, SOCK_STREAM, 0) != 3 || setsockopt(3, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(3, (struct sockaddr *)&a4, sizeof(a4)) || listen(3, 7))
		return perror("tcp4"), 1;
	if (socket(AF_INET6, SOCK_STREAM, 0) != 4 || setsockopt(4, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) ||
	    bind(4, (struct sockaddr *)&a6, sizeof(a6)) || listen(4, 16))
		return perror("tcp6"), 1;
	{
		int rb = 65536;

		if (socket(AF_INET, SOCK_DGRAM, 0) != 5 || setsockopt(5, SOL_SOCKET, SO_RCVBUF, &rb, sizeof(rb)) ||
		    bind(5, (struct sockaddr *)&u, sizeof(u)))
			return perror("udp bound"), 1;
	}
	if (socket(AF_INET, SOCK_DGRAM, 0) != 6 || connect(6, (struct sockaddr *)&u, sizeof(u)) ||
	    getsockname(6, (struct sockaddr *)&me, &ml))
		return perror("udp connected"), 1;
	{
		struct linger lg = {.l_onoff = 1, .l_linger = 5};

		if (socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0) != 7 ||
		    setsockopt(7, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one)) ||
		    setsockopt(7, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)))
			return perror("tcp plain"), 1;
	}
	if (argc == 3 && !strcmp(argv[2], "connected")) {
		if (socket(AF_INET, SOCK_STREAM, 0) != 8 || connect(8, (struct sockaddr *)&a4, sizeof(a4)) ||
		    accept(3, NULL, NULL) != 9)
			return perror("connected"), 1;
	}
	snprintf(line, sizeof(line), "ports %u\n", ntohs(me.sin_port));
	write_file("ready", line, 0);
	serve_rounds(check);
}

/*
 * tcpconn-static OUTDIR: established TCP connections, both ends held by
 * this one process, in a network namespace with lo up, for dump
 * --tcp-established:
 *   fd 3  TCP listening on 127.0.0.1:7080 (no SO_REUSEADDR: its accepted
 *         connection shares the port)
 *   fd 4  client connected to fd 3, fd 5 its accepted end; fd 5's receive
 *         buffer and fd 4's send buffer set small (SO_RCVBUF, SO_SNDBUF),
 *         so that what fd 4 writes fills them and waits in fd 4's send
 *         queue, partly unsent
 *   fd 6  client connected to [::1]:7081 (fd 8, the listener, IPV6_V6ONLY),
 *         fd 7 its accepted end; TCP_NODELAY on fd 6
 * Each round first reads everything the other end wrote since the last
 * round (every byte numbered: byte i of a stream is pat(i)), then writes
 * again until the kernel takes no more (fd 4 -> fd 5), or a few KiB (fd 5
 * -> fd 4, fd 6 <-> fd 7), which stay unread until the next round: the
 * queues a dump sees are full. It also connects to fd 3 once more and
 * checks fd 6's TCP_NODELAY. OUTDIR/ready says "ready"; OUTDIR/result:
 *   round N: verified OK untouched-resident 0 (and the byte counts in
 *   OUTDIR/counts) or round N: BAD what
 *
 * tcpconn-static OUTDIR client PORT: the workload of a connection whose
 * peer is outside the tree: fd 3 connected to 127.0.0.1:PORT, with
 * SO_REUSEADDR (checked each round). Each round reads what the peer sent,
 * up to the total OUTDIR/expect gives (every byte numbered), then writes
 * 3000 numbered bytes to it.
 *
 * tcpconn-static DIR peer PORT: that peer, run outside the tree: accepts
 * one connection on 127.0.0.1:PORT and reads all that comes (checking
 * the numbers; DIR/got has the count); each time DIR/trigger appears it
 * writes 20000 more numbered bytes (DIR/sent has the total); each time
 * DIR/urgent appears, one byte of urgent data (MSG_OOB). A reset or
 * an end of the connection, or a byte out of place, is written to
 * DIR/broken, and it exits.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "outfile.h"

struct stream {
	int from, to;
	unsigned long long sent, got; /* bytes written by `from`, read by `to` */
};

static struct stream streams[4] = {{4, 5, 0, 0}, {5, 4, 0, 0}, {6, 7, 0, 0}, {7, 6, 0, 0}};

static unsigned char pat(unsigned long long i, int s)
{
	return (unsigned char)((i * 7 + (i >> 8) + (unsigned long long)s * 51) & 0xff);
}

/* Reads what s has waiting (all it was sent) within a few seconds. */
static const char *drain(struct stream *s, int k)
{
	unsigned char buf[65536];

	while (s->got < s->sent) {
		struct pollfd p = {.fd = s->to, .events = POLLIN};
		ssize_t n;

		if (poll(&p, 1, 5000) != 1)
			return "a stream stopped (nothing more to read in 5 s)";
		n = read(s->to, buf, sizeof(buf));
		if (n <= 0)
			return n ? "read failed" : "connection closed";
		for (ssize_t i = 0; i < n; i++)
			if (buf[i] != pat(s->got + (unsigned long long)i, k)) {
				static char why[160];

				snprintf(why, sizeof(why),
					 "byte %llu of stream %d->%d (of %llu sent) out of place (%zd read: %02x %02x "
					 "%02x %02x %02x %02x)",
					 s->got + (unsigned long long)i, s->from, s->to, s->sent, n, buf[i],
					 buf[i + 1], buf[i + 2], buf[i + 3], buf[i + 4], buf[i + 5]);
				return why;
			}
		s->got += (unsigned long long)n;
	}
	return NULL;
}

/* Writes to s up to max bytes, or until the kernel takes no more. */
static const char *fill(struct stream *s, int k, size_t max)
{
	unsigned char buf[4096];
	size_t done = 0;

	while (done < max) {
		size_t want = max - done < sizeof(buf) ? max - done : sizeof(buf);
		ssize_t n;

		for (size_t i = 0; i < want; i++)
			buf[i] = pat(s->sent + i, k);
		n = send(s->from, buf, want, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n < 0)
			return "write failed";
		s->sent += (unsigned long long)n;
		done += (size_t)n;
	}
	return NULL;
}

static const char *check(int round)
{
	char line[256];
	const char *bad = NULL;
	int v = 0, c;
	socklen_t l = sizeof(v);
	struct sockaddr_in a4 = {.sin_family = AF_INET, .sin_port = htons(7080)};

	for (int k = 0; k < 4 && !bad; k++)
		bad = drain(&streams[k], k);
	if (!bad && (getsockopt(6, IPPROTO_TCP, TCP_NODELAY, &v, &l) || !v))
		bad = "fd 6 lost TCP_NODELAY";
	if (!bad) {
		/* the listener still takes connections */
		inet_pton(AF_INET, "127.0.0.1", &a4.sin_addr);
		c = socket(AF_INET, SOCK_STREAM, 0);
		if (c < 0 || connect(c, (struct sockaddr *)&a4, sizeof(a4)))
			bad = "can't connect to the listener";
		else {
			int s = accept(3, NULL, NULL);

			if (s < 0 || write(c, "hi", 2) != 2 || read(s, line, 2) != 2)
				bad = "the listener's new connection doesn't carry bytes";
			if (s >= 0)
				close(s);
		}
		if (c >= 0)
			close(c);
	}
	/* the queues full again for the next dump */
	if (!bad)
		bad = fill(&streams[0], 0, 8 << 20);
	for (int k = 1; k < 4 && !bad; k++)
		bad = fill(&streams[k], k, 3000 + (size_t)k * 1000);
	snprintf(line, sizeof(line), "round %d: 4->5 %llu 5->4 %llu 6->7 %llu 7->6 %llu\n", round, streams[0].sent,
		 streams[1].sent, streams[2].sent, streams[3].sent);
	write_file("counts", line, 1);
	return bad;
}

/* addr:port of the family into ss; its length. */
static socklen_t make_addr(int family, const char *addr, int port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)ss;

		a->sin_family = AF_INET;
		a->sin_port = htons((uint16_t)port);
		inet_pton(AF_INET, addr, &a->sin_addr);
		return sizeof(*a);
	}
	struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;

	a->sin6_family = AF_INET6;
	a->sin6_port = htons((uint16_t)port);
	inet_pton(AF_INET6, addr, &a->sin6_addr);
	return sizeof(*a);
}

static int listen_on(int family, const char *addr, int port, int want_fd)
{
	struct sockaddr_storage ss;
	socklen_t l = make_addr(family, addr, port, &ss);
	int one = 1, fd = socket(family, SOCK_STREAM, 0);

	if (family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (fd != want_fd || bind(fd, (struct sockaddr *)&ss, l) || listen(fd, 8))
		return -1;
	return 0;
}

static int connect_to(int family, const char *addr, int port, int want_fd)
{
	struct sockaddr_storage ss;
	socklen_t l = make_addr(family, addr, port, &ss);
	int fd = socket(family, SOCK_STREAM, 0);

	if (fd != want_fd || connect(fd, (struct sockaddr *)&ss, l))
		return -1;
	return 0;
}

static struct stream ext = {3, 3, 0, 0};

static const char *check_client(int round)
{
	char buf[64] = "", line[128];
	FILE *f;
	unsigned long long want = 0;

	snprintf(line, sizeof(line), "%s/expect", outdir);
	f = fopen(line, "r");
	if (f) {
		if (fgets(buf, sizeof(buf), f))
			want = strtoull(buf, NULL, 10);
		fclose(f);
	}
	const char *bad;

	{
		int v = 0;
		socklen_t vl = sizeof(v);

		if (getsockopt(3, SOL_SOCKET, SO_REUSEADDR, &v, &vl) || !v)
			return "fd 3 lost SO_REUSEADDR";
	}
	ext.sent = want; /* what the peer sent, as the test says */
	bad = drain(&ext, 1);
	if (bad)
		return bad;
	{
		struct stream out = {3, 3, (unsigned long long)round * 3000 - 3000, 0};
		unsigned char b[3000];

		for (size_t i = 0; i < sizeof(b); i++)
			b[i] = pat(out.sent + i, 2);
		if (write(3, b, sizeof(b)) != (ssize_t)sizeof(b))
			return "write to the peer failed";
	}
	snprintf(line, sizeof(line), "round %d: got %llu sent %d\n", round, ext.got, round * 3000);
	write_file("counts", line, 1);
	return NULL;
}

/* The peer: see the top. Never returns but to fail. */
static int peer(int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	unsigned long long got = 0, sent = 0;
	char trigger[4096], urgent[4096], line[128];
	unsigned char buf[65536];
	int one = 1, l, c;

	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	l = socket(AF_INET, SOCK_STREAM, 0);
	if (l < 0 || setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(l, (struct sockaddr *)&a, sizeof(a)) || listen(l, 1))
		return perror("peer listen"), 1;
	write_file("ready", "ready\n", 0);
	c = accept(l, NULL, NULL);
	if (c < 0)
		return perror("peer accept"), 1;
	close(l);
	snprintf(trigger, sizeof(trigger), "%s/trigger", outdir);
	snprintf(urgent, sizeof(urgent), "%s/urgent", outdir);
	for (;;) {
		struct pollfd p = {.fd = c, .events = POLLIN};

		if (poll(&p, 1, 100) == 1) {
			ssize_t n = read(c, buf, sizeof(buf));

			if (n <= 0) {
				snprintf(line, sizeof(line), "connection %s after %llu bytes\n",
					 n ? strerror(errno) : "closed", got);
				write_file("broken", line, 0);
				return 1;
			}
			for (ssize_t i = 0; i < n; i++)
				if (buf[i] != pat(got + (unsigned long long)i, 2)) {
					write_file("broken", "a byte out of place\n", 0);
					return 1;
				}
			got += (unsigned long long)n;
			snprintf(line, sizeof(line), "%llu\n", got);
			write_file("got", line, 0);
		}
		if (!access(urgent, F_OK)) {
			unlink(urgent);
			if (send(c, "!", 1, MSG_OOB) != 1) {
				write_file("broken", "send MSG_OOB failed\n", 0);
				return 1;
			}
			write_file("urgent-sent", "1\n", 0);
		}
		if (!access(trigger, F_OK)) {
			unlink(trigger);
			for (size_t i = 0; i < 20000; i++)
				buf[i] = pat(sent + i, 1);
			if (write(c, buf, 20000) != 20000) {
				snprintf(line, sizeof(line), "write: %s\n", strerror(errno));
				write_file("broken", line, 0);
				return 1;
			}
			sent += 20000;
			snprintf(line, sizeof(line), "%llu\n", sent);
			write_file("sent", line, 0);
		}
	}
}

int main(int argc, char **argv)
{
	int one = 1, small = 32768, snd = 65536;

	if (argc == 4 && !strcmp(argv[2], "peer")) {
		outdir = argv[1];
		return peer(atoi(argv[3]));
	}
	if (argc == 4 && !strcmp(argv[2], "client")) {
		struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[3]))};

		outdir = argv[1];
		inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
		if (socket(AF_INET, SOCK_STREAM, 0) != 3 || setsockopt(3, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
		    connect(3, (struct sockaddr *)&a, sizeof(a)))
			return perror("client connect"), 1;
		write_file("ready", "ready\n", 0);
		serve_rounds(check_client);
	}
	if (argc != 2) {
		fprintf(stderr, "usage: %s OUTDIR [client PORT | peer PORT]\n", argv[0]);
		return 2;
	}
	outdir = argv[1];
	if (listen_on(AF_INET, "127.0.0.1", 7080, 3) || connect_to(AF_INET, "127.0.0.1", 7080, 4) ||
	    accept(3, NULL, NULL) != 5)
		return perror("ipv4 connection"), 1;
	if (setsockopt(5, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)) ||
	    setsockopt(4, SOL_SOCKET, SO_SNDBUF, &snd, sizeof(snd)))
		return perror("SO_RCVBUF/SO_SNDBUF"), 1;
	/* fd 8 the IPv6 listener, fd 6 its client, fd 7 the accepted end */
	if (dup2(0, 6) != 6 || dup2(0, 7) != 7 || listen_on(AF_INET6, "::1", 7081, 8) || close(6) ||
	    connect_to(AF_INET6, "::1", 7081, 6) || close(7) || accept(8, NULL, NULL) != 7)
		return perror("ipv6 connection"), 1;
	if (setsockopt(6, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)))
		return perror("TCP_NODELAY"), 1;
	write_file("ready", "ready\n", 0);
	serve_rounds(check);
}

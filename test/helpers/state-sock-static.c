/*
 * state-sock-static OUTDIR CASE: socket state across checkpoint/restore
 * (statecheck.h), in a network namespace of the container's own (lo is
 * brought up by setup). Every case records the options it set as
 * getsockopt(2) reads them after setup (watch()), and each check reads
 * them again; then it tests the behaviour itself where there is one.
 *
 * Filters (SO_ATTACH_FILTER, classic BPF):
 *   filter-udp      a UDP socket that takes only datagrams starting 'A':
 *                   SO_GET_FILTER the same program, 'B' dropped, 'A' taken
 *   filter-unix     the same on one end of a unix datagram pair
 *   filter-tcp      a TCP listener with a program: the same program
 *   filter-tcp-estab  an established connection's end with a program that
 *                   takes all (--tcp-established): the same, and it works
 *   filter-locked   SO_LOCK_FILTER on top (refused)
 *   filter-ebpf     an eBPF program (SO_ATTACH_BPF), unreadable (refused)
 * Options:
 *   opts-tcp-listen, opts-tcp-unconn, opts-tcp-estab (--tcp-established),
 *   opts-udp, opts-udp6, opts-unix: options set, the same after restore
 *   refuse-NAME     one option criu can't carry, set (refused): see nocarry[];
 *                   refuse-estab-NAME on an established connection's end
 * Shutdown:
 *   udp-shut-wr     a connected UDP socket shut for writing: send EPIPE
 *   udp-shut-unconn the same, unconnected (sendto EPIPE)
 *   udp-shut-rd     a bound UDP socket shut for reading: polls POLLRDHUP
 * Cork:
 *   udp-cork-pending   UDP_CORK with data queued (refused)
 *   udp-msgmore-pending   MSG_MORE with data queued (refused)
 * SO_REUSEPORT groups:
 *   reuseport-udp   two UDP sockets and a third in a child on one port:
 *                   datagrams from 32 ports reach all three
 *   reuseport-tcp   two TCP listeners on one port: 32 connections reach both
 *   reuseport-user  two UDP sockets of uid 1000's process: both reached, and
 *                   a new socket of the user joins the group
 *   owner-other     a socket made under another fsuid than the process's
 *                   (refused: restore gives sockets to their holder's)
 * Datagrams waiting to be read (each check peeks them all: sender, length,
 * contents, IP_PKTINFO's interface and address, in order):
 *   udp-queue-v4    bound to 0.0.0.0, IP_PKTINFO: from a port still in use,
 *                   a 1-byte one, 60000 bytes, one from 10.123.0.9
 *   udp-queue-v6    dual-stack: from ::1, fd00:123::9 and 127.0.0.1 (mapped)
 *   udp-queue-connected  connected, one from its peer and one from before
 *   udp-queue-reuseport  in a SO_REUSEPORT group (refused)
 *   udp-queue-pktinfo    IP_PKTINFO shows a datagram to 127.0.0.2 (refused)
 *   unix-dgram-queue     an unconnected unix datagram socket (refused)
 *   udp-error-pending    ECONNREFUSED waiting to be reported (refused)
 * Owners (fstat of each socket; the bound path's mode and owner):
 *   owner-user      as uid 1000 gid 1001: a unix pair, a listener bound to a
 *                   path of mode 0604, a unix datagram, a UDP, a TCP socket
 *   owner-unix-other  a unix pair made under another fsgid (refused)
 *   owner-inet-group  a UDP socket made under another fsgid (refused)
 * SO_PEERCRED and SO_PEERGROUPS (pid, uid, gid, groups each end and
 * listener names):
 *   peercred-pair   as uid 1000 gid 1001, groups 1002 1003: stream, datagram
 *                   and seqpacket pairs, a listener, a connection to it
 *                   accepted in the process
 *   peercred-child  a pair and a listener a child made and handed over
 *   peercred-gone   the same, the child gone since (refused)
 *   peercred-accept-other  a child's connection (as uid 1000) accepted here,
 *                   and one this process made as uid 1000 for a moment:
 *                   each end names the other side's maker
 *   peercred-groups-changed  a pair made with other groups than the
 *                   process has now (refused)
 * Binding to an address the namespace has not:
 *   freebind-v4     IP_FREEBIND, UDP and a TCP listener on 10.123.0.x
 *   freebind-v6     IPV6_FREEBIND, UDP on fd00:123::1
 *   transparent     IP_TRANSPARENT (refused)
 *
 * Long because it is one program of about forty cases, each the setup and
 * the check of one piece of socket state, kept together so that a case is
 * added next to its kin.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/filter.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <netinet/udp.h>
#include <poll.h>
#include <stddef.h>
#include <stdbool.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/fsuid.h>
#include <grp.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <linux/sockios.h>

#include "statecheck.h"

#ifndef SO_PASSRIGHTS
#define SO_PASSRIGHTS 83
#endif
#ifndef SO_PASSPIDFD
#define SO_PASSPIDFD 76
#endif

/* ------------------------------------------------------------------------
 * What the cases share
 */

struct watch {
	int fd, level, name;
	const char *str;
	int val;
	struct linger lg; /* SO_LINGER */
};

static struct watch watches[64];
static int nr_watches;

static int get_int(int fd, int level, int name)
{
	int v = -12345;
	socklen_t l = sizeof(v);

	if (getsockopt(fd, level, name, &v, &l))
		return -12345;
	return v;
}

/* Remember what the option reads now: each check wants it the same. */
static void watch(int fd, int level, int name, const char *str)
{
	struct watch *w = &watches[nr_watches++];
	socklen_t l = sizeof(w->lg);

	*w = (struct watch){.fd = fd, .level = level, .name = name, .str = str};
	if (level == SOL_SOCKET && name == SO_LINGER) {
		if (getsockopt(fd, level, name, &w->lg, &l))
			setup_failed("getsockopt %s", str);
		return;
	}
	w->val = get_int(fd, level, name);
	if (w->val == -12345)
		setup_failed("getsockopt %s", str);
}

static const char *check_watches(void)
{
	for (int i = 0; i < nr_watches; i++) {
		const struct watch *w = &watches[i];
		struct linger lg = {0};
		socklen_t l = sizeof(lg);

		if (w->level == SOL_SOCKET && w->name == SO_LINGER) {
			if (getsockopt(w->fd, w->level, w->name, &lg, &l) || lg.l_onoff != w->lg.l_onoff ||
			    lg.l_linger != w->lg.l_linger)
				return bad("fd %d: SO_LINGER %d/%d, was %d/%d", w->fd, lg.l_onoff, lg.l_linger,
					   w->lg.l_onoff, w->lg.l_linger);
			continue;
		}
		if (get_int(w->fd, w->level, w->name) != w->val)
			return bad("fd %d: %s is %d, was %d", w->fd, w->str, get_int(w->fd, w->level, w->name), w->val);
	}
	return NULL;
}

/* Set an int option (setup fails if it can't) and watch it. */
#define SET(fd, level, name, v)                                                                                        \
	do {                                                                                                           \
		int v_ = (v);                                                                                          \
		if (setsockopt(fd, level, name, &v_, sizeof(v_)))                                                      \
			setup_failed("setsockopt %s %d", #name, v_);                                                   \
		watch(fd, level, name, #name);                                                                         \
	} while (0)
#define WATCH(fd, level, name) watch(fd, level, name, #name)

static void lo_up(void)
{
	struct ifreq ifr = {0};
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	strcpy(ifr.ifr_name, "lo");
	if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr))
		setup_failed("lo flags");
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(s, SIOCSIFFLAGS, &ifr))
		setup_failed("lo up");
	close(s);
}

static int sock(int family, int type)
{
	int fd = socket(family, type, 0);

	if (fd < 0)
		setup_failed("socket %d %d", family, type);
	return fd;
}

static struct sockaddr_in in4(const char *addr, int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};

	inet_pton(AF_INET, addr, &a.sin_addr);
	return a;
}

static struct sockaddr_in6 in6(const char *addr, int port)
{
	struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port)};

	inet_pton(AF_INET6, addr, &a.sin6_addr);
	return a;
}

static void bind4(int fd, const char *addr, int port)
{
	struct sockaddr_in a = in4(addr, port);

	if (bind(fd, (struct sockaddr *)&a, sizeof(a)))
		setup_failed("bind %s:%d", addr, port);
}

static int wait_in(int fd, int ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};

	return poll(&p, 1, ms) == 1;
}

/* ------------------------------------------------------------------------
 * Filters
 */

/* Takes a packet whose byte at `off` is 'A' (whole), drops the others. */
static struct sock_filter only_a[4];

static void make_only_a(int off)
{
	only_a[0] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_B | BPF_ABS, off);
	only_a[1] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 'A', 0, 1);
	only_a[2] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, 0xffff);
	only_a[3] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, 0);
}

static void attach(int fd)
{
	struct sock_fprog p = {.len = 4, .filter = only_a};

	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &p, sizeof(p)))
		setup_failed("SO_ATTACH_FILTER");
}

static const char *same_filter(int fd)
{
	struct sock_filter got[8];
	socklen_t n = 0;

	if (getsockopt(fd, SOL_SOCKET, SO_GET_FILTER, NULL, &n))
		return bad("SO_GET_FILTER: %s", strerror(errno));
	if (n != 4)
		return bad("SO_GET_FILTER: %u instructions, want 4", n);
	n = 8;
	if (getsockopt(fd, SOL_SOCKET, SO_GET_FILTER, got, &n) || n != 4 || memcmp(got, only_a, sizeof(only_a)))
		return bad("SO_GET_FILTER: another program");
	return NULL;
}

/* Sends 'B' then 'A' from `from` (to `to`'s address, or connected): `to` must get 'A' only. */
static const char *filters_b(int from, int to, const struct sockaddr *a, socklen_t al)
{
	char buf[8];
	ssize_t n;

	if (sendto(from, "Bxx", 3, 0, a, al) != 3 || sendto(from, "Axx", 3, 0, a, al) != 3)
		return bad("send: %s", strerror(errno));
	if (!wait_in(to, 2000))
		return bad("nothing came");
	n = recv(to, buf, sizeof(buf), MSG_DONTWAIT);
	if (n != 3 || buf[0] != 'A')
		return bad("got %zd bytes starting '%c', want the 'A' datagram", n, n > 0 ? buf[0] : '?');
	if (recv(to, buf, sizeof(buf), MSG_DONTWAIT) >= 0)
		return bad("a second datagram came: the filter did not drop 'B'");
	return NULL;
}

static int fu_sk, fu_tx;

static void filter_udp_setup(void)
{
	lo_up();
	fu_sk = sock(AF_INET, SOCK_DGRAM);
	fu_tx = sock(AF_INET, SOCK_DGRAM);
	bind4(fu_sk, "127.0.0.1", 6001);
	make_only_a(8); /* the UDP header first */
	attach(fu_sk);
}

static const char *filter_udp_check(int round)
{
	struct sockaddr_in a = in4("127.0.0.1", 6001);
	const char *why = same_filter(fu_sk);

	return why ? why : filters_b(fu_tx, fu_sk, (struct sockaddr *)&a, sizeof(a));
}

static int fx_sv[2];

static void filter_unix_setup(void)
{
	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, fx_sv))
		setup_failed("socketpair");
	make_only_a(0);
	attach(fx_sv[0]);
}

static const char *filter_unix_check(int round)
{
	const char *why = same_filter(fx_sv[0]);

	return why ? why : filters_b(fx_sv[1], fx_sv[0], NULL, 0);
}

static int ft_sk;

static void filter_tcp_setup(void)
{
	lo_up();
	ft_sk = sock(AF_INET, SOCK_STREAM);
	bind4(ft_sk, "127.0.0.1", 6002);
	make_only_a(0);
	attach(ft_sk);
	if (listen(ft_sk, 4))
		setup_failed("listen");
}

static const char *filter_tcp_check(int round)
{
	return same_filter(ft_sk);
}

/* Both ends of an established connection on lo, one with a filter (--tcp-established). */
static int fe_c, fe_s;

static void filter_tcp_estab_setup(void)
{
	struct sockaddr_in a = in4("127.0.0.1", 6004);
	int l;

	lo_up();
	l = sock(AF_INET, SOCK_STREAM);
	bind4(l, "127.0.0.1", 6004);
	if (listen(l, 1))
		setup_failed("listen");
	fe_c = sock(AF_INET, SOCK_STREAM);
	if (connect(fe_c, (struct sockaddr *)&a, sizeof(a)))
		setup_failed("connect");
	fe_s = accept(l, NULL, NULL);
	if (fe_s < 0)
		setup_failed("accept");
	close(l);
	/* takes every packet, whole: the connection still works */
	make_only_a(0);
	only_a[1] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0, 0, 1);
	attach(fe_s);
}

static const char *filter_tcp_estab_check(int round)
{
	const char *why = same_filter(fe_s);
	char b[4];

	if (why)
		return why;
	if (send(fe_c, "x", 1, 0) != 1 || !wait_in(fe_s, 2000) || recv(fe_s, b, sizeof(b), MSG_DONTWAIT) != 1)
		return bad("the filtered connection does not carry a byte");
	return NULL;
}

static void filter_locked_setup(void)
{
	filter_udp_setup();
	SET(fu_sk, SOL_SOCKET, SO_LOCK_FILTER, 1);
}

static const char *filter_locked_check(int round)
{
	const char *why = check_watches();

	return why ? why : filter_udp_check(round);
}

static int fe_sk;

static void filter_ebpf_setup(void)
{
	struct bpf_insn prog[] = {
		{.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0}, /* r0 = 0: drop */
		{.code = BPF_JMP | BPF_EXIT},
	};
	union bpf_attr attr = {0};
	int pfd;

	lo_up();
	fe_sk = sock(AF_INET, SOCK_DGRAM);
	bind4(fe_sk, "127.0.0.1", 6003);
	attr.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
	attr.insns = (uint64_t)(uintptr_t)prog;
	attr.insn_cnt = 2;
	attr.license = (uint64_t)(uintptr_t) "GPL";
	pfd = (int)syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof(attr));
	if (pfd < 0)
		setup_failed("BPF_PROG_LOAD");
	if (setsockopt(fe_sk, SOL_SOCKET, SO_ATTACH_BPF, &pfd, sizeof(pfd)))
		setup_failed("SO_ATTACH_BPF");
	close(pfd);
}

static const char *filter_ebpf_check(int round)
{
	struct sockaddr_in a = in4("127.0.0.1", 6003);
	int tx = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	socklen_t n = 0;
	char b;

	if (getsockopt(fe_sk, SOL_SOCKET, SO_GET_FILTER, NULL, &n) == 0 || errno != EACCES)
		return bad("SO_GET_FILTER does not say EACCES (an eBPF program)");
	sendto(tx, "A", 1, 0, (struct sockaddr *)&a, sizeof(a));
	close(tx);
	if (wait_in(fe_sk, 200) || recv(fe_sk, &b, 1, MSG_DONTWAIT) >= 0)
		return bad("a datagram came through the dropping eBPF program");
	return NULL;
}

/* ------------------------------------------------------------------------
 * Options
 */

static const char *watches_check(int round)
{
	return check_watches();
}

/* The options every inet socket of these cases gets. */
static void common_inet(int fd, bool v4)
{
	struct linger lg = {1, 4};

	/* IP_TOS first: it sets SO_PRIORITY too */
	if (v4) {
		SET(fd, IPPROTO_IP, IP_TOS, 0x10);
		SET(fd, IPPROTO_IP, IP_TTL, 33);
	}
	SET(fd, SOL_SOCKET, SO_RCVBUF, 50000);
	SET(fd, SOL_SOCKET, SO_SNDBUF, 60000);
	SET(fd, SOL_SOCKET, SO_PRIORITY, 3);
	SET(fd, SOL_SOCKET, SO_MARK, 7);
	SET(fd, SOL_SOCKET, SO_RCVLOWAT, 10);
	SET(fd, SOL_SOCKET, SO_OOBINLINE, 1);
	SET(fd, SOL_SOCKET, SO_DONTROUTE, 1);
	SET(fd, SOL_SOCKET, SO_KEEPALIVE, 1);
	if (setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)))
		setup_failed("SO_LINGER");
	WATCH(fd, SOL_SOCKET, SO_LINGER);
}

static void tcp_opts(int fd)
{
	SET(fd, SOL_SOCKET, SO_REUSEADDR, 1);
	SET(fd, IPPROTO_TCP, TCP_KEEPIDLE, 77);
	SET(fd, IPPROTO_TCP, TCP_KEEPINTVL, 11);
	SET(fd, IPPROTO_TCP, TCP_KEEPCNT, 5);
	SET(fd, IPPROTO_TCP, TCP_NODELAY, 1);
}

static int ot_sk;

static void opts_tcp_listen_setup(void)
{
	lo_up();
	ot_sk = sock(AF_INET, SOCK_STREAM);
	common_inet(ot_sk, true);
	tcp_opts(ot_sk);
	bind4(ot_sk, "127.0.0.1", 6010);
	if (listen(ot_sk, 5))
		setup_failed("listen");
}

static void opts_tcp_unconn_setup(void)
{
	lo_up();
	ot_sk = sock(AF_INET, SOCK_STREAM);
	common_inet(ot_sk, true);
	tcp_opts(ot_sk);
	SET(ot_sk, IPPROTO_TCP, TCP_CORK, 1);
}

static int oe_c, oe_s;

static void opts_tcp_estab_setup(void)
{
	struct sockaddr_in a = in4("127.0.0.1", 6011);
	int l;

	lo_up();
	l = sock(AF_INET, SOCK_STREAM);
	bind4(l, "127.0.0.1", 6011);
	if (listen(l, 1))
		setup_failed("listen");
	oe_c = sock(AF_INET, SOCK_STREAM);
	if (connect(oe_c, (struct sockaddr *)&a, sizeof(a)))
		setup_failed("connect");
	oe_s = accept(l, NULL, NULL);
	if (oe_s < 0)
		setup_failed("accept");
	close(l);
	SET(oe_c, IPPROTO_TCP, TCP_NODELAY, 1);
	SET(oe_s, IPPROTO_TCP, TCP_CORK, 1);
	SET(oe_c, SOL_SOCKET, SO_KEEPALIVE, 1);
	SET(oe_c, IPPROTO_TCP, TCP_KEEPIDLE, 77);
	SET(oe_c, IPPROTO_TCP, TCP_KEEPINTVL, 11);
	SET(oe_c, IPPROTO_TCP, TCP_KEEPCNT, 5);
	SET(oe_c, SOL_SOCKET, SO_OOBINLINE, 1);
	SET(oe_c, IPPROTO_IP, IP_TOS, 0x10);
	SET(oe_c, IPPROTO_IP, IP_TTL, 33);
	SET(oe_s, SOL_SOCKET, SO_PRIORITY, 3);
	SET(oe_c, SOL_SOCKET, SO_RCVLOWAT, 10);
}

static const char *opts_tcp_estab_check(int round)
{
	const char *why = check_watches();
	char b[4];

	if (why)
		return why;
	/* the connection works: a byte from c reaches s (nodelay) */
	if (send(oe_c, "x", 1, 0) != 1 || !wait_in(oe_s, 2000) || recv(oe_s, b, sizeof(b), MSG_DONTWAIT) != 1)
		return bad("the connection does not carry a byte");
	return NULL;
}

static int ou_sk;

static void opts_udp_setup(void)
{
	lo_up();
	ou_sk = sock(AF_INET, SOCK_DGRAM);
	common_inet(ou_sk, true);
	SET(ou_sk, SOL_SOCKET, SO_BROADCAST, 1);
	SET(ou_sk, SOL_SOCKET, SO_NO_CHECK, 1);
	SET(ou_sk, IPPROTO_IP, IP_PKTINFO, 1);
	bind4(ou_sk, "127.0.0.1", 6012);
}

static void opts_udp6_setup(void)
{
	struct sockaddr_in6 a = in6("::", 6013);

	lo_up();
	ou_sk = sock(AF_INET6, SOCK_DGRAM);
	common_inet(ou_sk, false);
	SET(ou_sk, IPPROTO_IPV6, IPV6_V6ONLY, 1);
	SET(ou_sk, IPPROTO_IPV6, IPV6_TCLASS, 0x20);
	SET(ou_sk, IPPROTO_IPV6, IPV6_UNICAST_HOPS, 17);
	SET(ou_sk, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1);
	if (bind(ou_sk, (struct sockaddr *)&a, sizeof(a)))
		setup_failed("bind ::");
}

static int on_sv[2], on_dg;

static void opts_unix_setup(void)
{
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, on_sv))
		setup_failed("socketpair");
	on_dg = sock(AF_UNIX, SOCK_DGRAM);
	SET(on_sv[0], SOL_SOCKET, SO_PASSCRED, 1);
	SET(on_sv[1], SOL_SOCKET, SO_PASSSEC, 1);
	SET(on_dg, SOL_SOCKET, SO_PASSCRED, 1);
	SET(on_dg, SOL_SOCKET, SO_PASSSEC, 1);
	WATCH(on_sv[1], SOL_SOCKET, SO_PASSCRED);
	WATCH(on_sv[0], SOL_SOCKET, SO_PASSSEC);
}

/* One option criu has no place for in its images, set: the dump must refuse it. */
static const struct nocarry {
	const char *name;
	int family, type, level, opt, val;
	bool listen, estab; /* set on a listener, on an established connection's end (--tcp-established) */
} nocarry[] = {
	{"TCP_USER_TIMEOUT", AF_INET, SOCK_STREAM, IPPROTO_TCP, TCP_USER_TIMEOUT, 5000, false, false},
	{"estab-TCP_USER_TIMEOUT", AF_INET, SOCK_STREAM, IPPROTO_TCP, TCP_USER_TIMEOUT, 5000, false, true},
	{"estab-TCP_NOTSENT_LOWAT", AF_INET, SOCK_STREAM, IPPROTO_TCP, TCP_NOTSENT_LOWAT, 4096, false, true},
	{"estab-TCP_CONGESTION", AF_INET, SOCK_STREAM, IPPROTO_TCP, TCP_CONGESTION, 0, false, true},
	{"TCP_DEFER_ACCEPT", AF_INET, SOCK_STREAM, IPPROTO_TCP, TCP_DEFER_ACCEPT, 5, true, false},
	{"TCP_FASTOPEN", AF_INET, SOCK_STREAM, IPPROTO_TCP, TCP_FASTOPEN, 16, true, false},
	{"TCP_NOTSENT_LOWAT", AF_INET, SOCK_STREAM, IPPROTO_TCP, TCP_NOTSENT_LOWAT, 4096, false, false},
	{"TCP_MAXSEG", AF_INET, SOCK_STREAM, IPPROTO_TCP, TCP_MAXSEG, 1000, true, false},
	{"TCP_WINDOW_CLAMP", AF_INET, SOCK_STREAM, IPPROTO_TCP, TCP_WINDOW_CLAMP, 20000, false, false},
	{"TCP_SYNCNT", AF_INET, SOCK_STREAM, IPPROTO_TCP, TCP_SYNCNT, 2, false, false},
	{"TCP_LINGER2", AF_INET, SOCK_STREAM, IPPROTO_TCP, TCP_LINGER2, 7, true, false},
	{"TCP_QUICKACK", AF_INET, SOCK_STREAM, IPPROTO_TCP, TCP_QUICKACK, 0, false, false},
	{"SO_TIMESTAMP", AF_INET, SOCK_DGRAM, SOL_SOCKET, SO_TIMESTAMP, 1, false, false},
	{"SO_TIMESTAMPNS", AF_UNIX, SOCK_DGRAM, SOL_SOCKET, SO_TIMESTAMPNS, 1, false, false},
	{"IP_RECVERR", AF_INET, SOCK_DGRAM, IPPROTO_IP, IP_RECVERR, 1, false, false},
	{"IP_MTU_DISCOVER", AF_INET, SOCK_DGRAM, IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_PROBE, false, false},
	{"IPV6_RECVERR", AF_INET6, SOCK_DGRAM, IPPROTO_IPV6, IPV6_RECVERR, 1, false, false},
	{"UDP_CORK", AF_INET, SOCK_DGRAM, IPPROTO_UDP, UDP_CORK, 1, false, false},
	{"SO_PEEK_OFF", AF_UNIX, SOCK_DGRAM, SOL_SOCKET, SO_PEEK_OFF, 0, false, false},
	{"SO_PASSPIDFD", AF_UNIX, SOCK_STREAM, SOL_SOCKET, SO_PASSPIDFD, 1, false, false},
	{"SO_PASSRIGHTS", AF_UNIX, SOCK_STREAM, SOL_SOCKET, SO_PASSRIGHTS, 0, false, false},
	{NULL, 0, 0, 0, 0, 0, false, false},
};

static int nc_sk;

/* A connection on lo: nc_sk its client end (and the accepted one kept open). */
static void nocarry_connect(void)
{
	struct sockaddr_in a = in4("127.0.0.1", 6021);
	int l = sock(AF_INET, SOCK_STREAM);

	bind4(l, "127.0.0.1", 6021);
	if (listen(l, 1) || connect(nc_sk, (struct sockaddr *)&a, sizeof(a)) || accept(l, NULL, NULL) < 0)
		setup_failed("connect");
	close(l);
}

static void nocarry_setup(const struct nocarry *n)
{
	lo_up();
	nc_sk = sock(n->family, n->type);
	if (n->estab)
		nocarry_connect();
	if (n->opt == TCP_CONGESTION) {
		/* a string: the check compares it */
		if (setsockopt(nc_sk, IPPROTO_TCP, TCP_CONGESTION, "reno", 4))
			setup_failed("TCP_CONGESTION reno");
		return;
	}
	if (setsockopt(nc_sk, n->level, n->opt, &n->val, sizeof(n->val)))
		setup_failed("setsockopt %s", n->name);
	watch(nc_sk, n->level, n->opt, n->name);
	if (n->listen) {
		bind4(nc_sk, "127.0.0.1", 6020);
		if (listen(nc_sk, 2))
			setup_failed("listen");
	}
}

static void congestion_setup(void)
{
	lo_up();
	nc_sk = sock(AF_INET, SOCK_STREAM);
	if (setsockopt(nc_sk, IPPROTO_TCP, TCP_CONGESTION, "reno", 4))
		setup_failed("TCP_CONGESTION reno");
}

static const char *congestion_check(int round)
{
	char cc[16] = "";
	socklen_t l = sizeof(cc);

	if (getsockopt(nc_sk, IPPROTO_TCP, TCP_CONGESTION, cc, &l) || strcmp(cc, "reno"))
		return bad("TCP_CONGESTION is %s, was reno", cc);
	return NULL;
}

/* ------------------------------------------------------------------------
 * Shutdown, cork
 */

static int sh_sk, sh_peer;

static void shut_wr_setup(void)
{
	struct sockaddr_in a = in4("127.0.0.1", 6030);

	lo_up();
	sh_peer = sock(AF_INET, SOCK_DGRAM);
	bind4(sh_peer, "127.0.0.1", 6030);
	sh_sk = sock(AF_INET, SOCK_DGRAM);
	if (connect(sh_sk, (struct sockaddr *)&a, sizeof(a)) || shutdown(sh_sk, SHUT_WR))
		setup_failed("connect, shutdown");
}

static const char *shut_wr_check(int round)
{
	if (send(sh_sk, "x", 1, MSG_NOSIGNAL | MSG_DONTWAIT) >= 0 || errno != EPIPE)
		return bad("send on a socket shut for writing: %s, want EPIPE", strerror(errno));
	return NULL;
}

static void shut_unconn_setup(void)
{
	lo_up();
	sh_peer = sock(AF_INET, SOCK_DGRAM);
	bind4(sh_peer, "127.0.0.1", 6031);
	sh_sk = sock(AF_INET, SOCK_DGRAM);
	bind4(sh_sk, "127.0.0.1", 6032);
	if (shutdown(sh_sk, SHUT_WR) == 0 || errno != ENOTCONN)
		setup_failed("shutdown of an unconnected socket did not say ENOTCONN");
}

static const char *shut_unconn_check(int round)
{
	struct sockaddr_in a = in4("127.0.0.1", 6031);

	if (sendto(sh_sk, "x", 1, MSG_NOSIGNAL | MSG_DONTWAIT, (struct sockaddr *)&a, sizeof(a)) >= 0 || errno != EPIPE)
		return bad("sendto on a socket shut for writing: %s, want EPIPE", strerror(errno));
	return NULL;
}

static void shut_rd_setup(void)
{
	lo_up();
	sh_sk = sock(AF_INET, SOCK_DGRAM);
	bind4(sh_sk, "127.0.0.1", 6033);
	shutdown(sh_sk, SHUT_RD); /* ENOTCONN, and shut all the same */
}

/* A socket shut for reading polls readable at once, hung up for reading. */
static const char *shut_rd_check(int round)
{
	struct pollfd p = {.fd = sh_sk, .events = POLLIN | POLLRDHUP};

	if (poll(&p, 1, 0) != 1 || !(p.revents & POLLRDHUP))
		return bad("a socket shut for reading does not poll POLLRDHUP (revents %#x)", p.revents);
	return NULL;
}

static int ck_sk;

static void cork_setup(bool more)
{
	struct sockaddr_in a = in4("127.0.0.1", 6040);
	int one = 1;

	lo_up();
	sh_peer = sock(AF_INET, SOCK_DGRAM);
	bind4(sh_peer, "127.0.0.1", 6040);
	ck_sk = sock(AF_INET, SOCK_DGRAM);
	if (!more && setsockopt(ck_sk, IPPROTO_UDP, UDP_CORK, &one, sizeof(one)))
		setup_failed("UDP_CORK");
	if (sendto(ck_sk, "part1", 5, more ? MSG_MORE : 0, (struct sockaddr *)&a, sizeof(a)) != 5)
		setup_failed("sendto");
}

static void cork_pending_setup(void)
{
	cork_setup(false);
}

static void msgmore_pending_setup(void)
{
	cork_setup(true);
}

/* Nothing went out yet, and something waits in the socket's send side. */
static const char *cork_check(int round)
{
	char b[8];
	int outq = -1;

	if (recv(sh_peer, b, sizeof(b), MSG_DONTWAIT) >= 0)
		return bad("the corked datagram went out");
	if (ioctl(ck_sk, SIOCOUTQ, &outq) || outq <= 0)
		return bad("nothing pending in the corked socket (SIOCOUTQ %d)", outq);
	return NULL;
}

/* ------------------------------------------------------------------------
 * SO_REUSEPORT groups
 */

static int rp[3];

static int reuseport_sock(int type)
{
	int fd = sock(AF_INET, type);

	SET(fd, SOL_SOCKET, SO_REUSEPORT, 1);
	bind4(fd, "127.0.0.1", 6050);
	return fd;
}

static void reuseport_udp_setup(void)
{
	pid_t child;

	lo_up();
	for (int i = 0; i < 3; i++)
		rp[i] = reuseport_sock(SOCK_DGRAM);
	child = fork();
	if (child < 0)
		setup_failed("fork");
	if (child == 0) {
		/* the child keeps the third, and reads what comes (a group's
		 * socket with datagrams waiting is refused: udp-queue-reuseport) */
		char b[8];

		close(rp[0]);
		close(rp[1]);
		for (;;)
			recv(rp[2], b, sizeof(b), 0);
	}
	close(rp[2]);
	nr_watches = 2; /* the third is the child's */
}

static int drain(int fd)
{
	char b[8];
	int n = 0;

	while (recv(fd, b, sizeof(b), MSG_DONTWAIT) >= 0)
		n++;
	return n;
}

static const char *reuseport_udp_check(int round)
{
	struct sockaddr_in a = in4("127.0.0.1", 6050);
	const char *why = check_watches();
	int got0, got1;

	if (why)
		return why;
	drain(rp[0]);
	drain(rp[1]);
	for (int i = 0; i < 32; i++) {
		int tx = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

		sendto(tx, "x", 1, 0, (struct sockaddr *)&a, sizeof(a));
		close(tx);
	}
	usleep(100000);
	got0 = drain(rp[0]);
	got1 = drain(rp[1]);
	if (!got0 || !got1 || got0 + got1 >= 32)
		return bad("of 32 datagrams from 32 ports, %d and %d came to this process's two sockets of the group "
			   "(want some each, and some to the child's)",
			   got0, got1);
	return NULL;
}

static void reuseport_tcp_setup(void)
{
	lo_up();
	for (int i = 0; i < 2; i++) {
		rp[i] = reuseport_sock(SOCK_STREAM);
		if (listen(rp[i], 64))
			setup_failed("listen");
		fcntl(rp[i], F_SETFL, O_NONBLOCK);
	}
}

static const char *reuseport_tcp_check(int round)
{
	struct sockaddr_in a = in4("127.0.0.1", 6050);
	const char *why = check_watches();
	int c[32], got[2] = {0, 0}, s;

	if (why)
		return why;
	for (int i = 0; i < 32; i++) {
		c[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (connect(c[i], (struct sockaddr *)&a, sizeof(a)))
			return bad("connect %d: %s", i, strerror(errno));
	}
	for (int k = 0; k < 2; k++)
		while ((s = accept(rp[k], NULL, NULL)) >= 0) {
			got[k]++;
			close(s);
		}
	for (int i = 0; i < 32; i++)
		close(c[i]);
	if (!got[0] || !got[1])
		return bad("of 32 connections, %d and %d reached the two listeners of the group", got[0], got[1]);
	return NULL;
}

/* As uid 1000 (OUTDIR opened to it first): the group is that user's. */
static void reuseport_user_setup(void)
{
	lo_up();
	if (chmod(outdir, 0777) || setresgid(1000, 1000, 1000) || setresuid(1000, 1000, 1000))
		setup_failed("become uid 1000");
	for (int i = 0; i < 2; i++)
		rp[i] = reuseport_sock(SOCK_DGRAM);
}

/* Datagrams from 32 ports reach both; a new socket of the user joins the group. */
static const char *reuseport_user_check(int round)
{
	struct sockaddr_in a = in4("127.0.0.1", 6050);
	const char *why = check_watches();
	int got0, got1, one = 1, fd;

	if (why)
		return why;
	for (int i = 0; i < 32; i++) {
		int tx = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

		sendto(tx, "x", 1, 0, (struct sockaddr *)&a, sizeof(a));
		close(tx);
	}
	usleep(100000);
	got0 = drain(rp[0]);
	got1 = drain(rp[1]);
	if (!got0 || !got1)
		return bad("of 32 datagrams from 32 ports, %d and %d came to the two sockets of the group", got0, got1);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a))) {
		close(fd);
		return bad("a new socket of uid 1000 can't join the group: %s", strerror(errno));
	}
	close(fd);
	return NULL;
}

/* A socket made under another filesystem uid than the process's (refused). */
static void owner_other_setup(void)
{
	lo_up();
	setfsuid(1000);
	rp[0] = reuseport_sock(SOCK_DGRAM);
	setfsuid(0);
}

static const char *owner_other_check(int round)
{
	struct stat st;

	if (fstat(rp[0], &st) || st.st_uid != 1000)
		return bad("the socket is not uid 1000's");
	return check_watches();
}

/* ------------------------------------------------------------------------
 * Datagrams waiting to be read
 */

/* What one waiting datagram looks like to its reader. */
struct dgram {
	struct sockaddr_storage from;
	socklen_t from_len;
	size_t len;
	unsigned sum;
	int ifindex; /* with IP_PKTINFO / IPV6_RECVPKTINFO: where it came in, and to what */
	uint8_t dst[16];
};

static struct dgram q_seen[16];
static int q_nr, q_fd = -1, q_keep = -1;

static unsigned sum_of(const uint8_t *b, size_t n)
{
	unsigned s = 7;

	for (size_t i = 0; i < n; i++)
		s = s * 31 + b[i];
	return s;
}

/* Every datagram waiting in fd, peeked (SO_PEEK_OFF 0 on, off again after); how many, -1 on error. */
static int peek_all(int fd, struct dgram *out, int max)
{
	static uint8_t buf[65536];
	int n = 0, off = 0, none = -1;

	if (setsockopt(fd, SOL_SOCKET, SO_PEEK_OFF, &off, sizeof(off)))
		return -1;
	for (; n < max; n++) {
		char cbuf[256];
		struct iovec iov = {.iov_base = buf, .iov_len = sizeof(buf)};
		struct msghdr mh = {.msg_name = &out[n].from,
				    .msg_namelen = sizeof(out[n].from),
				    .msg_iov = &iov,
				    .msg_iovlen = 1,
				    .msg_control = cbuf,
				    .msg_controllen = sizeof(cbuf)};
		ssize_t got;

		memset(&out[n], 0, sizeof(out[n]));
		mh.msg_name = &out[n].from;
		got = recvmsg(fd, &mh, MSG_PEEK | MSG_DONTWAIT);
		if (got < 0)
			break;
		out[n].from_len = mh.msg_namelen;
		out[n].len = (size_t)got;
		out[n].sum = sum_of(buf, (size_t)got);
		for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
			if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_PKTINFO) {
				struct in_pktinfo pi;

				memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
				out[n].ifindex = pi.ipi_ifindex;
				memcpy(out[n].dst, &pi.ipi_addr, 4);
			} else if (cm->cmsg_level == IPPROTO_IPV6 && cm->cmsg_type == IPV6_PKTINFO) {
				struct in6_pktinfo pi;

				memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
				out[n].ifindex = pi.ipi6_ifindex;
				memcpy(out[n].dst, &pi.ipi6_addr, 16);
			}
		}
	}
	if (setsockopt(fd, SOL_SOCKET, SO_PEEK_OFF, &none, sizeof(none)))
		return -1;
	return n;
}

/* A datagram of len bytes (byte i is seed + i) to `to`, from a socket bound to `from` (its port; 0: any). */
static void send_from(int family, const char *from, int fport, const char *to, int tport, size_t len, int seed)
{
	static uint8_t buf[65536];
	struct sockaddr_storage f = {0}, t = {0};
	socklen_t l = family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
	int s = sock(family, SOCK_DGRAM), one = 1;

	if (family == AF_INET) {
		*(struct sockaddr_in *)&f = in4(from, fport);
		*(struct sockaddr_in *)&t = in4(to, tport);
	} else {
		*(struct sockaddr_in6 *)&f = in6(from, fport);
		*(struct sockaddr_in6 *)&t = in6(to, tport);
	}
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(seed + (int)i);
	/* an address the namespace has not: as a transparent proxy would */
	setsockopt(s, family == AF_INET ? IPPROTO_IP : IPPROTO_IPV6,
		   family == AF_INET ? IP_TRANSPARENT : IPV6_TRANSPARENT, &one, sizeof(one));
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(s, (struct sockaddr *)&f, l))
		setup_failed("bind the sender to %s port %d", from, fport);
	if (sendto(s, buf, len, 0, (struct sockaddr *)&t, l) != (ssize_t)len)
		setup_failed("send %zu bytes from %s to %s", len, from, to);
	close(s);
}

/* A datagram "keep" from the kept socket, bound to 127.0.0.1 port `port`, to `tport`. */
static void send_kept(int port, int tport)
{
	struct sockaddr_in t = in4("127.0.0.1", tport);

	q_keep = sock(AF_INET, SOCK_DGRAM);
	bind4(q_keep, "127.0.0.1", port);
	if (sendto(q_keep, "keep", 4, 0, (struct sockaddr *)&t, sizeof(t)) != 4)
		setup_failed("send from port %d", port);
}

/* Setup's last step: what waits now, each check wants it the same. */
static void q_record(int min)
{
	usleep(50000);
	q_nr = peek_all(q_fd, q_seen, 16);
	if (q_nr < min)
		setup_failed("only %d of %d datagrams wait", q_nr, min);
}

static const char *q_check(int round)
{
	struct dgram now[16];
	int n = peek_all(q_fd, now, 16);
	const char *why = check_watches();

	if (why)
		return why;
	if (n != q_nr)
		return bad("%d datagrams wait, %d waited", n, q_nr);
	for (int i = 0; i < n; i++) {
		const struct dgram *a = &now[i], *b = &q_seen[i];

		if (a->len != b->len || a->sum != b->sum)
			return bad("datagram %d: %zu bytes (sum %x), was %zu (sum %x)", i, a->len, a->sum, b->len,
				   b->sum);
		if (a->from_len != b->from_len || memcmp(&a->from, &b->from, a->from_len))
			return bad("datagram %d: from another sender's address or port than it was", i);
		if (a->ifindex != b->ifindex || memcmp(a->dst, b->dst, 16))
			return bad("datagram %d: IP_PKTINFO says interface %d, was %d, or another address", i,
				   a->ifindex, b->ifindex);
	}
	return NULL;
}

/* IPv4, bound to the wildcard, IP_PKTINFO on: from a port still in use,
 * a 1-byte one, a large one, and one from an address the namespace has not. */
static void udp_queue_v4_setup(void)
{
	lo_up();
	q_fd = sock(AF_INET, SOCK_DGRAM);
	SET(q_fd, IPPROTO_IP, IP_PKTINFO, 1);
	bind4(q_fd, "0.0.0.0", 6070);
	send_kept(6071, 6070);
	send_from(AF_INET, "127.0.0.1", 6072, "127.0.0.1", 6070, 1, 0);
	send_from(AF_INET, "127.0.0.1", 0, "127.0.0.1", 6070, 60000, 3);
	send_from(AF_INET, "10.123.0.9", 7000, "127.0.0.1", 6070, 4, 'x');
	q_record(4);
}

/* IPv6 and IPv4 (mapped) to one dual-stack socket; IPV6_RECVPKTINFO on. */
static void udp_queue_v6_setup(void)
{
	lo_up();
	q_fd = sock(AF_INET6, SOCK_DGRAM);
	SET(q_fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1);
	{
		struct sockaddr_in6 a = in6("::", 6073);

		if (bind(q_fd, (struct sockaddr *)&a, sizeof(a)))
			setup_failed("bind [::]:6073");
	}
	send_from(AF_INET6, "::1", 6074, "::1", 6073, 7, 'b');
	send_from(AF_INET6, "fd00:123::9", 7001, "::1", 6073, 3000, 'c');
	send_from(AF_INET, "127.0.0.1", 6075, "127.0.0.1", 6073, 9, 'd');
	q_record(3);
}

/* Connected to a peer now, with a datagram of another sender from before. */
static void udp_queue_connected_setup(void)
{
	struct sockaddr_in peer = in4("127.0.0.1", 6077);

	lo_up();
	q_fd = sock(AF_INET, SOCK_DGRAM);
	bind4(q_fd, "127.0.0.1", 6076);
	send_from(AF_INET, "127.0.0.1", 6078, "127.0.0.1", 6076, 6, 'e');
	if (connect(q_fd, (struct sockaddr *)&peer, sizeof(peer)))
		setup_failed("connect");
	send_kept(6077, 6076);
	q_record(2);
}

/* In a SO_REUSEPORT group (refused: which socket gets them back?). */
static void udp_queue_reuseport_setup(void)
{
	lo_up();
	q_fd = sock(AF_INET, SOCK_DGRAM);
	SET(q_fd, SOL_SOCKET, SO_REUSEPORT, 1);
	bind4(q_fd, "127.0.0.1", 6079);
	send_from(AF_INET, "127.0.0.1", 6080, "127.0.0.1", 6079, 3, 'g');
	q_record(1);
}

/* IP_PKTINFO shows a datagram sent to 127.0.0.2, not restore's (refused). */
static void udp_queue_pktinfo_setup(void)
{
	lo_up();
	q_fd = sock(AF_INET, SOCK_DGRAM);
	SET(q_fd, IPPROTO_IP, IP_PKTINFO, 1);
	bind4(q_fd, "0.0.0.0", 6081);
	send_from(AF_INET, "127.0.0.1", 6082, "127.0.0.2", 6081, 3, 'h');
	q_record(1);
}

/* A connected UDP socket told its peer's port is closed (ICMP): ECONNREFUSED waits (refused). */
static void udp_error_setup(void)
{
	struct sockaddr_in to = in4("127.0.0.1", 6083);
	struct pollfd pf;

	lo_up();
	q_fd = sock(AF_INET, SOCK_DGRAM);
	if (connect(q_fd, (struct sockaddr *)&to, sizeof(to)) || send(q_fd, "x", 1, 0) != 1)
		setup_failed("send to a closed port");
	usleep(50000);
	pf = (struct pollfd){.fd = q_fd, .events = POLLIN};
	if (poll(&pf, 1, 0) != 1 || !(pf.revents & POLLERR))
		setup_failed("no error waits");
}

/* The error still waits (poll, which leaves it), and the next call returns it only then. */
static const char *udp_error_check(int round)
{
	struct pollfd pf = {.fd = q_fd, .events = POLLIN};

	if (poll(&pf, 1, 0) != 1 || !(pf.revents & POLLERR))
		return bad("no error waits in the socket any more");
	return NULL;
}

/* An unconnected unix datagram socket with datagrams of another's waiting (refused). */
static void unix_dgram_queue_setup(void)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX, .sun_path = "\0state-sock-q"};
	socklen_t l = offsetof(struct sockaddr_un, sun_path) + 13;

	q_fd = sock(AF_UNIX, SOCK_DGRAM);
	if (bind(q_fd, (struct sockaddr *)&a, l))
		setup_failed("bind");
	q_keep = sock(AF_UNIX, SOCK_DGRAM);
	if (sendto(q_keep, "one", 3, 0, (struct sockaddr *)&a, l) != 3 ||
	    sendto(q_keep, "two", 3, 0, (struct sockaddr *)&a, l) != 3)
		setup_failed("sendto");
	q_record(2);
}

/* ------------------------------------------------------------------------
 * Owners: a socket inode's uid and gid (fstat), a bound path's mode and owner
 */

static int ou_fd[6];
static struct stat ou_st[6], ou_path_st;
static char ou_path[100];

static void ou_record(int n)
{
	for (int i = 0; i < n; i++)
		if (fstat(ou_fd[i], &ou_st[i]))
			setup_failed("fstat");
	if (ou_path[0] && stat(ou_path, &ou_path_st))
		setup_failed("stat %s", ou_path);
}

/* As uid 1000, gid 1001: a unix pair, a listener bound to a path of mode
 * 0604, an unconnected unix datagram socket, a UDP and a TCP socket. */
static void owner_user_setup(void)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};

	lo_up();
	snprintf(ou_path, sizeof(ou_path), "%s/u.sock", outdir);
	if (chmod(outdir, 0777) || setgroups(0, NULL) || setresgid(1001, 1001, 1001) || setresuid(1000, 1000, 1000))
		setup_failed("become uid 1000 gid 1001");
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, ou_fd))
		setup_failed("socketpair");
	ou_fd[2] = sock(AF_UNIX, SOCK_STREAM);
	memcpy(a.sun_path, ou_path, sizeof(ou_path));
	if (bind(ou_fd[2], (struct sockaddr *)&a, sizeof(a)) || listen(ou_fd[2], 3) || chmod(ou_path, 0604))
		setup_failed("listen at %s", ou_path);
	ou_fd[3] = sock(AF_UNIX, SOCK_DGRAM);
	ou_fd[4] = sock(AF_INET, SOCK_DGRAM);
	bind4(ou_fd[4], "127.0.0.1", 6090);
	ou_fd[5] = sock(AF_INET6, SOCK_STREAM);
	ou_record(6);
}

static const char *owner_check(int round)
{
	struct stat st;

	for (int i = 0; i < 6 && ou_fd[i] > 0; i++) {
		if (fstat(ou_fd[i], &st))
			return bad("fstat fd %d: %s", ou_fd[i], strerror(errno));
		if (st.st_uid != ou_st[i].st_uid || st.st_gid != ou_st[i].st_gid)
			return bad("socket fd %d belongs to %u:%u, was %u:%u", ou_fd[i], st.st_uid, st.st_gid,
				   ou_st[i].st_uid, ou_st[i].st_gid);
	}
	if (!ou_path[0])
		return NULL;
	if (stat(ou_path, &st))
		return bad("stat %s: %s", ou_path, strerror(errno));
	if (st.st_uid != ou_path_st.st_uid || st.st_gid != ou_path_st.st_gid || st.st_mode != ou_path_st.st_mode)
		return bad("%s is %u:%u mode %o, was %u:%u mode %o", ou_path, st.st_uid, st.st_gid, st.st_mode,
			   ou_path_st.st_uid, ou_path_st.st_gid, ou_path_st.st_mode);
	return NULL;
}

/* A unix pair made under another fsgid than the process's (refused). */
static void owner_unix_other_setup(void)
{
	setfsgid(1001);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, ou_fd))
		setup_failed("socketpair");
	setfsgid(0);
	ou_record(2);
}

/* A UDP socket made under another fsgid than the process's (refused). */
static void owner_inet_group_setup(void)
{
	lo_up();
	setfsgid(1001);
	ou_fd[0] = sock(AF_INET, SOCK_DGRAM);
	setfsgid(0);
	ou_record(1);
}

/* ------------------------------------------------------------------------
 * SO_PEERCRED: whom a pair's ends and a listener name (pid, uid, gid)
 */

static int pc_fd[12], pc_nr;
static struct ucred pc_seen[12];
static pid_t pc_child;

static struct ucred peercred(int fd)
{
	struct ucred u = {.pid = -1};
	socklen_t l = sizeof(u);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &u, &l))
		u.pid = -1;
	return u;
}

static char pc_groups[12][128];
static void peergroups(int fd, char *out, size_t len);

static void pc_add(int fd)
{
	peergroups(fd, pc_groups[pc_nr], sizeof(pc_groups[pc_nr]));
	pc_fd[pc_nr] = fd;
	pc_seen[pc_nr] = peercred(fd);
	if (pc_seen[pc_nr++].pid <= 0)
		setup_failed("SO_PEERCRED of fd %d names nobody", fd);
}

/* SO_PEERGROUPS, as a string */
static void peergroups(int fd, char *out, size_t len)
{
	gid_t g[32];
	socklen_t l = sizeof(g);
	size_t o = 0;

	out[0] = '\0';
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, g, &l)) {
		snprintf(out, len, "error %d", errno);
		return;
	}
	for (size_t i = 0; i < l / sizeof(gid_t) && o + 12 < len; i++)
		o += (size_t)snprintf(out + o, len - o, "%u ", g[i]);
}

static const char *pc_check(int round)
{
	char now[128];

	for (int i = 0; i < pc_nr; i++) {
		struct ucred u = peercred(pc_fd[i]), *w = &pc_seen[i];

		if (u.pid != w->pid || u.uid != w->uid || u.gid != w->gid)
			return bad("fd %d: SO_PEERCRED pid %d uid %u gid %u, was pid %d uid %u gid %u", pc_fd[i], u.pid,
				   u.uid, u.gid, w->pid, w->uid, w->gid);
		peergroups(pc_fd[i], now, sizeof(now));
		if (strcmp(now, pc_groups[i]))
			return bad("fd %d: SO_PEERGROUPS %s, was %s", pc_fd[i], now, pc_groups[i]);
	}
	return NULL;
}

/* An abstract-named listener, listening. */
static int abstract_listener(const char *name, struct sockaddr_un *a, socklen_t *l)
{
	int fd = sock(AF_UNIX, SOCK_STREAM);

	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	memcpy(a->sun_path + 1, name, strlen(name));
	*l = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name));
	if (bind(fd, (struct sockaddr *)a, *l) || listen(fd, 4))
		setup_failed("listen at @%s", name);
	return fd;
}

/* As uid 1000, gid 1001: stream, datagram and seqpacket pairs, a listener,
 * and a connection to it accepted in the same process. */
static void peercred_pair_setup(void)
{
	static const int types[3] = {SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET};
	struct sockaddr_un a;
	socklen_t l;
	int sv[2], l_fd, c;

	static const gid_t groups[2] = {1003, 1002};

	if (chmod(outdir, 0777) || setgroups(2, groups) || setresgid(1001, 1001, 1001) || setresuid(1000, 1000, 1000))
		setup_failed("become uid 1000 gid 1001");
	for (int i = 0; i < 3; i++) {
		if (socketpair(AF_UNIX, types[i], 0, sv))
			setup_failed("socketpair");
		pc_add(sv[0]);
		pc_add(sv[1]);
	}
	l_fd = abstract_listener("state-sock-pc", &a, &l);
	pc_add(l_fd);
	c = sock(AF_UNIX, SOCK_STREAM);
	if (connect(c, (struct sockaddr *)&a, l))
		setup_failed("connect");
	pc_add(c);
	pc_add(accept(l_fd, NULL, NULL));
}

/* A pair made with group 1002, the process's groups changed to 1003 since (refused). */
static void peercred_groups_changed_setup(void)
{
	static const gid_t before = 1002, after = 1003;
	int sv[2];

	if (setgroups(1, &before) || socketpair(AF_UNIX, SOCK_STREAM, 0, sv) || setgroups(1, &after))
		setup_failed("socketpair with group 1002");
	pc_add(sv[0]);
	pc_add(sv[1]);
}

/* fds over a unix socket, SCM_RIGHTS */
static void pass_fds(int via, const int *fds, int n)
{
	char cbuf[CMSG_SPACE(sizeof(int) * 4)] = {0};
	struct iovec iov = {.iov_base = "f", .iov_len = 1};
	struct msghdr mh = {.msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = cbuf,
			    .msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)n)};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);

	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)n);
	memcpy(CMSG_DATA(cm), fds, sizeof(int) * (size_t)n);
	if (sendmsg(via, &mh, 0) != 1)
		setup_failed("send fds");
}

static void take_fds(int via, int *fds, int n)
{
	char cbuf[CMSG_SPACE(sizeof(int) * 4)], b;
	struct iovec iov = {.iov_base = &b, .iov_len = 1};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};
	struct cmsghdr *cm;

	if (recvmsg(via, &mh, 0) != 1 || !(cm = CMSG_FIRSTHDR(&mh)) || cm->cmsg_type != SCM_RIGHTS)
		setup_failed("receive fds");
	memcpy(fds, CMSG_DATA(cm), sizeof(int) * (size_t)n);
}

/*
 * A child makes a stream pair and a listener and hands them over; it stays
 * (stay) or is gone (reaped) by the dump.
 */
static void child_made(bool stay)
{
	int via[2], fds[3];
	struct sockaddr_un a;
	socklen_t l;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, via))
		setup_failed("socketpair");
	pc_child = fork();
	if (pc_child < 0)
		setup_failed("fork");
	if (!pc_child) {
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds))
			_exit(2);
		fds[2] = abstract_listener("state-sock-pcc", &a, &l);
		pass_fds(via[1], fds, 3);
		if (!stay)
			_exit(0);
		for (;;)
			pause();
	}
	take_fds(via[0], fds, 3);
	close(via[0]);
	close(via[1]);
	if (!stay && waitpid(pc_child, NULL, 0) != pc_child)
		setup_failed("reap the child");
	for (int i = 0; i < 3; i++)
		pc_add(fds[i]);
	if (pc_seen[0].pid != pc_child || pc_seen[2].pid != pc_child)
		setup_failed("SO_PEERCRED names %d, not the child %d", pc_seen[0].pid, pc_child);
}

static void peercred_child_setup(void)
{
	child_made(true);
}

static void peercred_gone_setup(void)
{
	child_made(false);
}

/* A child's connection to this process's listener, accepted here: the ends name different processes. */
static void peercred_accept_other_setup(void)
{
	struct sockaddr_un a;
	socklen_t l;
	int l_fd = abstract_listener("state-sock-pca", &a, &l), c2;

	pc_child = fork();
	if (pc_child < 0)
		setup_failed("fork");
	if (!pc_child) {
		int c;

		if (setresgid(1001, 1001, 1001) || setresuid(1000, 1000, 1000) ||
		    (c = socket(AF_UNIX, SOCK_STREAM, 0)) < 0 || connect(c, (struct sockaddr *)&a, l))
			_exit(2);
		for (;;)
			pause();
	}
	pc_add(accept(l_fd, NULL, NULL));
	pc_add(l_fd);
	/* and one made here, connected as uid 1000 for a moment: each end in this process */
	c2 = sock(AF_UNIX, SOCK_STREAM);
	if (setegid(1001) || seteuid(1000) || connect(c2, (struct sockaddr *)&a, l) || seteuid(0) || setegid(0))
		setup_failed("connect as uid 1000");
	pc_add(c2);
	pc_add(accept(l_fd, NULL, NULL));
	if (pc_seen[3].uid != 1000 || pc_seen[2].uid != 0)
		setup_failed("the ends made here name uid %u and %u", pc_seen[2].uid, pc_seen[3].uid);
	if (pc_seen[0].pid != pc_child || pc_seen[0].uid != 1000)
		setup_failed("the accepted end names %d uid %u, not the child %d", pc_seen[0].pid, pc_seen[0].uid,
			     pc_child);
}

/* ------------------------------------------------------------------------
 * Binding to an address the namespace has not
 */

static int fb_udp, fb_tcp;
static struct sockaddr_storage fb_name[2];

static void name_of(int fd, struct sockaddr_storage *s)
{
	socklen_t l = sizeof(*s);

	memset(s, 0, sizeof(*s));
	if (getsockname(fd, (struct sockaddr *)s, &l))
		setup_failed("getsockname");
}

static void freebind_v4_setup(void)
{
	lo_up();
	fb_udp = sock(AF_INET, SOCK_DGRAM);
	SET(fb_udp, IPPROTO_IP, IP_FREEBIND, 1);
	bind4(fb_udp, "10.123.0.1", 6060);
	fb_tcp = sock(AF_INET, SOCK_STREAM);
	SET(fb_tcp, IPPROTO_IP, IP_FREEBIND, 1);
	bind4(fb_tcp, "10.123.0.2", 6061);
	if (listen(fb_tcp, 2))
		setup_failed("listen");
	name_of(fb_udp, &fb_name[0]);
	name_of(fb_tcp, &fb_name[1]);
}

static const char *freebind_check(int round)
{
	struct sockaddr_storage now;
	const char *why = check_watches();

	if (why)
		return why;
	for (int i = 0; i < 2; i++) {
		int fd = i ? fb_tcp : fb_udp;

		if (fd < 0)
			continue;
		name_of(fd, &now);
		if (memcmp(&now, &fb_name[i], sizeof(now)))
			return bad("fd %d is bound elsewhere than it was", fd);
	}
	return NULL;
}

static void freebind_v6_setup(void)
{
	struct sockaddr_in6 a = in6("fd00:123::1", 6062);

	lo_up();
	fb_udp = sock(AF_INET6, SOCK_DGRAM);
	SET(fb_udp, IPPROTO_IPV6, IPV6_FREEBIND, 1);
	if (bind(fb_udp, (struct sockaddr *)&a, sizeof(a)))
		setup_failed("bind fd00:123::1");
	name_of(fb_udp, &fb_name[0]);
	fb_tcp = -1;
}

static void transparent_setup(void)
{
	lo_up();
	fb_udp = sock(AF_INET, SOCK_DGRAM);
	SET(fb_udp, IPPROTO_IP, IP_TRANSPARENT, 1);
	bind4(fb_udp, "10.123.0.3", 6063);
	name_of(fb_udp, &fb_name[0]);
	fb_tcp = -1;
}

/* ------------------------------------------------------------------------ */

static struct state_case cases[96] = {
	{"filter-udp", filter_udp_setup, filter_udp_check},
	{"filter-unix", filter_unix_setup, filter_unix_check},
	{"filter-tcp", filter_tcp_setup, filter_tcp_check},
	{"filter-tcp-estab", filter_tcp_estab_setup, filter_tcp_estab_check},
	{"filter-locked", filter_locked_setup, filter_locked_check},
	{"filter-ebpf", filter_ebpf_setup, filter_ebpf_check},
	{"opts-tcp-listen", opts_tcp_listen_setup, watches_check},
	{"opts-tcp-unconn", opts_tcp_unconn_setup, watches_check},
	{"opts-tcp-estab", opts_tcp_estab_setup, opts_tcp_estab_check},
	{"opts-udp", opts_udp_setup, watches_check},
	{"opts-udp6", opts_udp6_setup, watches_check},
	{"opts-unix", opts_unix_setup, watches_check},
	{"refuse-TCP_CONGESTION", congestion_setup, congestion_check},
	{"udp-shut-wr", shut_wr_setup, shut_wr_check},
	{"udp-shut-unconn", shut_unconn_setup, shut_unconn_check},
	{"udp-shut-rd", shut_rd_setup, shut_rd_check},
	{"udp-cork-pending", cork_pending_setup, cork_check},
	{"udp-msgmore-pending", msgmore_pending_setup, cork_check},
	{"reuseport-udp", reuseport_udp_setup, reuseport_udp_check},
	{"reuseport-tcp", reuseport_tcp_setup, reuseport_tcp_check},
	{"reuseport-user", reuseport_user_setup, reuseport_user_check},
	{"owner-other", owner_other_setup, owner_other_check},
	{"freebind-v4", freebind_v4_setup, freebind_check},
	{"freebind-v6", freebind_v6_setup, freebind_check},
	{"transparent", transparent_setup, freebind_check},
	{"udp-queue-v4", udp_queue_v4_setup, q_check},
	{"udp-queue-v6", udp_queue_v6_setup, q_check},
	{"udp-queue-connected", udp_queue_connected_setup, q_check},
	{"udp-queue-reuseport", udp_queue_reuseport_setup, q_check},
	{"udp-queue-pktinfo", udp_queue_pktinfo_setup, q_check},
	{"unix-dgram-queue", unix_dgram_queue_setup, q_check},
	{"udp-error-pending", udp_error_setup, udp_error_check},
	{"owner-user", owner_user_setup, owner_check},
	{"owner-unix-other", owner_unix_other_setup, owner_check},
	{"owner-inet-group", owner_inet_group_setup, owner_check},
	{"peercred-pair", peercred_pair_setup, pc_check},
	{"peercred-child", peercred_child_setup, pc_check},
	{"peercred-gone", peercred_gone_setup, pc_check},
	{"peercred-accept-other", peercred_accept_other_setup, pc_check},
	{"peercred-groups-changed", peercred_groups_changed_setup, pc_check},
};

/* refuse-NAME: nocarry's entry NAME */
static const struct nocarry *nocarry_case;

static void nocarry_case_setup(void)
{
	nocarry_setup(nocarry_case);
}

int main(int argc, char **argv)
{
	size_t n = 0;

	signal(SIGPIPE, SIG_IGN);
	while (cases[n].name)
		n++;
	for (const struct nocarry *c = nocarry; c->name; c++) {
		char *name = malloc(strlen(c->name) + 8);

		sprintf(name, "refuse-%s", c->name);
		if (argc == 3 && !strcmp(argv[2], name))
			nocarry_case = c;
		cases[n++] = (struct state_case){name, nocarry_case_setup,
						 c->opt == TCP_CONGESTION ? congestion_check : watches_check};
	}
	return state_main(argc, argv, cases);
}

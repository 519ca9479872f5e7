/*
 * Dump: the socket options no image field carries, found set.
 *
 * A restore makes every socket anew, so an option the images have no
 * place for would come back at its default, silently. Each such option a
 * socket may have is read from it and from a reference socket of the
 * same family, type and protocol, made new in the same network namespace
 * (whose sysctls give the defaults): where they differ, the task set the
 * option, and the dump is refused naming it. What differs because of the
 * socket's state and not of the task (an established connection's MSS,
 * its delayed-ACK mode) is not compared there. An option the socket does
 * not have (getsockopt fails on it) is not compared at all.
 */
#define LOG_PREFIX "sockopt: "

#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <netinet/udp.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/sockopt.h"
#include "util/log.h"
#include "util/util.h"

#ifndef SO_PASSPIDFD
#define SO_PASSPIDFD 76
#endif
#ifndef SO_PASSRIGHTS
#define SO_PASSRIGHTS 83
#endif
#ifndef SO_INQ
#define SO_INQ 84
#endif
#ifndef SO_RCVPRIORITY
#define SO_RCVPRIORITY 82
#endif
#ifndef SO_RCVMARK
#define SO_RCVMARK 75
#endif
#ifndef SO_RESERVE_MEM
#define SO_RESERVE_MEM 73
#endif
#ifndef SO_TXREHASH
#define SO_TXREHASH 74
#endif
#ifndef IP_LOCAL_PORT_RANGE
#define IP_LOCAL_PORT_RANGE 51
#endif
#ifndef IP_RECVERR_RFC4884
#define IP_RECVERR_RFC4884 26
#endif
#ifndef IPV6_RECVERR_RFC4884
#define IPV6_RECVERR_RFC4884 31
#endif
#ifndef IPV6_FLOWINFO
#define IPV6_FLOWINFO 11
#endif
#ifndef IPV6_FLOWINFO_SEND
#define IPV6_FLOWINFO_SEND 33
#endif
#ifndef UDP_GRO
#define UDP_GRO 104
#endif
#ifndef TCP_TX_DELAY
#define TCP_TX_DELAY 37
#endif

/* Which sockets an entry is for (bits), and where it is not compared. */
#define F_UNIX	     1u /* unix sockets */
#define F_V4	     2u /* IPv4 */
#define F_V6	     4u /* IPv6 */
#define F_INET	     (F_V4 | F_V6)
#define F_ALL	     (F_UNIX | F_INET)
#define F_NOT_ESTAB  8u	 /* not on a TCP connection: its state (or its SYN) changes it */
#define F_ONLY_CLOSE 16u /* only on a socket neither connected nor listening */

static const struct uncarried {
	int level, name;
	const char *str;
	unsigned flags;
} uncarried[] = {
	/* options of every socket; those the images carry are in sk_opts_dump */
	{SOL_SOCKET, SO_REUSEADDR, "SO_REUSEADDR", F_UNIX}, /* carried for inet sockets */
	{SOL_SOCKET, SO_REUSEPORT, "SO_REUSEPORT", F_UNIX},
	{SOL_SOCKET, SO_BINDTODEVICE, "SO_BINDTODEVICE", F_UNIX},
	{SOL_SOCKET, SO_TIMESTAMP_OLD, "SO_TIMESTAMP", F_ALL},
	{SOL_SOCKET, SO_TIMESTAMPNS_OLD, "SO_TIMESTAMPNS", F_ALL},
	{SOL_SOCKET, SO_TIMESTAMPING_OLD, "SO_TIMESTAMPING", F_ALL},
	{SOL_SOCKET, SO_TIMESTAMP_NEW, "SO_TIMESTAMP_NEW", F_ALL},
	{SOL_SOCKET, SO_TIMESTAMPNS_NEW, "SO_TIMESTAMPNS_NEW", F_ALL},
	{SOL_SOCKET, SO_RXQ_OVFL, "SO_RXQ_OVFL", F_ALL},
	{SOL_SOCKET, SO_WIFI_STATUS, "SO_WIFI_STATUS", F_ALL},
	{SOL_SOCKET, SO_PEEK_OFF, "SO_PEEK_OFF", F_ALL},
	{SOL_SOCKET, SO_NOFCS, "SO_NOFCS", F_ALL},
	{SOL_SOCKET, SO_SELECT_ERR_QUEUE, "SO_SELECT_ERR_QUEUE", F_ALL},
	{SOL_SOCKET, SO_BUSY_POLL, "SO_BUSY_POLL", F_ALL},
	{SOL_SOCKET, SO_PREFER_BUSY_POLL, "SO_PREFER_BUSY_POLL", F_ALL},
	{SOL_SOCKET, SO_BUSY_POLL_BUDGET, "SO_BUSY_POLL_BUDGET", F_ALL},
	{SOL_SOCKET, SO_MAX_PACING_RATE, "SO_MAX_PACING_RATE", F_ALL},
	{SOL_SOCKET, SO_ZEROCOPY, "SO_ZEROCOPY", F_ALL},
	{SOL_SOCKET, SO_TXTIME, "SO_TXTIME", F_ALL},
	{SOL_SOCKET, SO_RCVMARK, "SO_RCVMARK", F_ALL},
	{SOL_SOCKET, SO_RCVPRIORITY, "SO_RCVPRIORITY", F_ALL},
	{SOL_SOCKET, SO_RESERVE_MEM, "SO_RESERVE_MEM", F_ALL},
	{SOL_SOCKET, SO_TXREHASH, "SO_TXREHASH", F_ALL | F_ONLY_CLOSE},
	{SOL_SOCKET, SO_PASSPIDFD, "SO_PASSPIDFD", F_ALL},
	{SOL_SOCKET, SO_PASSRIGHTS, "SO_PASSRIGHTS", F_ALL},
	{SOL_SOCKET, SO_INQ, "SO_INQ", F_ALL},
	/* IPv4 (and IPv6 sockets' IPv4 side) */
	{IPPROTO_IP, IP_TOS, "IP_TOS", F_V6}, /* carried for IPv4 sockets */
	{IPPROTO_IP, IP_TTL, "IP_TTL", F_V6},
	{IPPROTO_IP, IP_PKTINFO, "IP_PKTINFO", F_V6},
	{IPPROTO_IP, IP_OPTIONS, "IP_OPTIONS", F_INET},
	{IPPROTO_IP, IP_RECVOPTS, "IP_RECVOPTS", F_INET},
	{IPPROTO_IP, IP_RETOPTS, "IP_RETOPTS", F_INET},
	{IPPROTO_IP, IP_RECVTOS, "IP_RECVTOS", F_INET},
	{IPPROTO_IP, IP_RECVTTL, "IP_RECVTTL", F_INET},
	{IPPROTO_IP, IP_RECVERR, "IP_RECVERR", F_INET},
	{IPPROTO_IP, IP_RECVERR_RFC4884, "IP_RECVERR_RFC4884", F_INET},
	{IPPROTO_IP, IP_MTU_DISCOVER, "IP_MTU_DISCOVER", F_INET},
	{IPPROTO_IP, IP_MULTICAST_TTL, "IP_MULTICAST_TTL", F_INET | F_NOT_ESTAB},
	{IPPROTO_IP, IP_MULTICAST_LOOP, "IP_MULTICAST_LOOP", F_INET},
	{IPPROTO_IP, IP_MULTICAST_ALL, "IP_MULTICAST_ALL", F_INET},
	{IPPROTO_IP, IP_MULTICAST_IF, "IP_MULTICAST_IF", F_INET | F_NOT_ESTAB},
	{IPPROTO_IP, IP_UNICAST_IF, "IP_UNICAST_IF", F_INET},
	{IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, "IP_BIND_ADDRESS_NO_PORT", F_INET},
	{IPPROTO_IP, IP_RECVORIGDSTADDR, "IP_RECVORIGDSTADDR", F_INET},
	{IPPROTO_IP, IP_CHECKSUM, "IP_CHECKSUM", F_INET},
	{IPPROTO_IP, IP_MINTTL, "IP_MINTTL", F_INET},
	{IPPROTO_IP, IP_NODEFRAG, "IP_NODEFRAG", F_INET},
	{IPPROTO_IP, IP_PASSSEC, "IP_PASSSEC", F_INET},
	{IPPROTO_IP, IP_RECVFRAGSIZE, "IP_RECVFRAGSIZE", F_INET},
	{IPPROTO_IP, IP_LOCAL_PORT_RANGE, "IP_LOCAL_PORT_RANGE", F_INET},
	/* IPv6 */
	{IPPROTO_IPV6, IPV6_RECVERR, "IPV6_RECVERR", F_V6},
	{IPPROTO_IPV6, IPV6_RECVERR_RFC4884, "IPV6_RECVERR_RFC4884", F_V6},
	{IPPROTO_IPV6, IPV6_MTU_DISCOVER, "IPV6_MTU_DISCOVER", F_V6},
	{IPPROTO_IPV6, IPV6_MULTICAST_HOPS, "IPV6_MULTICAST_HOPS", F_V6 | F_NOT_ESTAB},
	{IPPROTO_IPV6, IPV6_MULTICAST_LOOP, "IPV6_MULTICAST_LOOP", F_V6},
	{IPPROTO_IPV6, IPV6_MULTICAST_IF, "IPV6_MULTICAST_IF", F_V6 | F_NOT_ESTAB},
	{IPPROTO_IPV6, IPV6_MULTICAST_ALL, "IPV6_MULTICAST_ALL", F_V6},
	{IPPROTO_IPV6, IPV6_UNICAST_IF, "IPV6_UNICAST_IF", F_V6},
	{IPPROTO_IPV6, IPV6_RECVHOPLIMIT, "IPV6_RECVHOPLIMIT", F_V6},
	{IPPROTO_IPV6, IPV6_RECVRTHDR, "IPV6_RECVRTHDR", F_V6},
	{IPPROTO_IPV6, IPV6_RECVHOPOPTS, "IPV6_RECVHOPOPTS", F_V6},
	{IPPROTO_IPV6, IPV6_RECVDSTOPTS, "IPV6_RECVDSTOPTS", F_V6},
	{IPPROTO_IPV6, IPV6_RECVTCLASS, "IPV6_RECVTCLASS", F_V6},
	{IPPROTO_IPV6, IPV6_RECVPATHMTU, "IPV6_RECVPATHMTU", F_V6},
	{IPPROTO_IPV6, IPV6_2292PKTINFO, "IPV6_2292PKTINFO", F_V6},
	{IPPROTO_IPV6, IPV6_2292HOPLIMIT, "IPV6_2292HOPLIMIT", F_V6},
	{IPPROTO_IPV6, IPV6_2292HOPOPTS, "IPV6_2292HOPOPTS", F_V6},
	{IPPROTO_IPV6, IPV6_2292DSTOPTS, "IPV6_2292DSTOPTS", F_V6},
	{IPPROTO_IPV6, IPV6_2292RTHDR, "IPV6_2292RTHDR", F_V6},
	{IPPROTO_IPV6, IPV6_FLOWINFO, "IPV6_FLOWINFO", F_V6},
	{IPPROTO_IPV6, IPV6_FLOWINFO_SEND, "IPV6_FLOWINFO_SEND", F_V6},
	{IPPROTO_IPV6, IPV6_ADDR_PREFERENCES, "IPV6_ADDR_PREFERENCES", F_V6},
	{IPPROTO_IPV6, IPV6_MINHOPCOUNT, "IPV6_MINHOPCOUNT", F_V6},
	{IPPROTO_IPV6, IPV6_DONTFRAG, "IPV6_DONTFRAG", F_V6},
	{IPPROTO_IPV6, IPV6_AUTOFLOWLABEL, "IPV6_AUTOFLOWLABEL", F_V6},
	{IPPROTO_IPV6, IPV6_RECVORIGDSTADDR, "IPV6_RECVORIGDSTADDR", F_V6},
	{IPPROTO_IPV6, IPV6_RECVFRAGSIZE, "IPV6_RECVFRAGSIZE", F_V6},
	/* TCP; TCP_NODELAY, TCP_CORK and the keepalive timings are carried */
	{IPPROTO_TCP, TCP_MAXSEG, "TCP_MAXSEG", F_INET | F_NOT_ESTAB},
	{IPPROTO_TCP, TCP_SYNCNT, "TCP_SYNCNT", F_INET},
	{IPPROTO_TCP, TCP_LINGER2, "TCP_LINGER2", F_INET},
	{IPPROTO_TCP, TCP_DEFER_ACCEPT, "TCP_DEFER_ACCEPT", F_INET},
	{IPPROTO_TCP, TCP_WINDOW_CLAMP, "TCP_WINDOW_CLAMP", F_INET | F_NOT_ESTAB},
	{IPPROTO_TCP, TCP_QUICKACK, "TCP_QUICKACK", F_INET | F_NOT_ESTAB},
	{IPPROTO_TCP, TCP_CONGESTION, "TCP_CONGESTION", F_INET},
	{IPPROTO_TCP, TCP_ULP, "TCP_ULP", F_INET},
	{IPPROTO_TCP, TCP_THIN_LINEAR_TIMEOUTS, "TCP_THIN_LINEAR_TIMEOUTS", F_INET},
	{IPPROTO_TCP, TCP_USER_TIMEOUT, "TCP_USER_TIMEOUT", F_INET},
	{IPPROTO_TCP, TCP_FASTOPEN, "TCP_FASTOPEN", F_INET},
	{IPPROTO_TCP, TCP_FASTOPEN_CONNECT, "TCP_FASTOPEN_CONNECT", F_INET},
	{IPPROTO_TCP, TCP_FASTOPEN_NO_COOKIE, "TCP_FASTOPEN_NO_COOKIE", F_INET},
	{IPPROTO_TCP, TCP_NOTSENT_LOWAT, "TCP_NOTSENT_LOWAT", F_INET},
	{IPPROTO_TCP, TCP_SAVE_SYN, "TCP_SAVE_SYN", F_INET},
	{IPPROTO_TCP, TCP_TX_DELAY, "TCP_TX_DELAY", F_INET},
	{IPPROTO_TCP, TCP_INQ, "TCP_INQ", F_INET},
	/* UDP */
	{IPPROTO_UDP, UDP_CORK, "UDP_CORK", F_INET},
	{IPPROTO_UDP, UDP_ENCAP, "UDP_ENCAP", F_INET},
	{IPPROTO_UDP, UDP_NO_CHECK6_TX, "UDP_NO_CHECK6_TX", F_INET},
	{IPPROTO_UDP, UDP_NO_CHECK6_RX, "UDP_NO_CHECK6_RX", F_INET},
	{IPPROTO_UDP, UDP_SEGMENT, "UDP_SEGMENT", F_INET},
	{IPPROTO_UDP, UDP_GRO, "UDP_GRO", F_INET},
};

int sk_ref_open(int fd, int family, int type, int proto, const char *who)
{
	int self = -1, theirs = ioctl(fd, SIOCGSKNS), ref = -1, err = 0;

	if (theirs < 0) {
		pr_perror("%s: can't find its network namespace", who);
		return -errno;
	}
	self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0 || setns(theirs, CLONE_NEWNET)) {
		err = -errno;
		pr_perror("%s: can't enter its network namespace", who);
		goto out;
	}
	/* belongs to the namespace it is made in: the socket's */
	ref = socket(family, type | SOCK_CLOEXEC, family == AF_UNIX ? 0 : proto);
	if (ref < 0)
		err = -errno;
	if (setns(self, CLONE_NEWNET)) {
		pr_perror("can't come back to criu's network namespace");
		err = err ? err : -errno;
		if (ref >= 0)
			close(ref);
	}
	if (err)
		pr_err("%s: can't make a socket of its kind to compare it with: %s\n", who, strerror(-err));
out:
	close(theirs);
	if (self >= 0)
		close(self);
	return err ? err : ref;
}

/* The option as text: an int's value, else its bytes in hex (the first 16). */
static void show(const unsigned char *v, socklen_t len, char *out, size_t outlen)
{
	int i;

	if (len == sizeof(int)) {
		memcpy(&i, v, sizeof(i));
		snprintf(out, outlen, "%d", i);
		return;
	}
	out[0] = '\0';
	for (socklen_t k = 0; k < len && k < 16 && strlen(out) + 3 < outlen; k++)
		snprintf(out + strlen(out), outlen - strlen(out), "%02x", v[k]);
}

int sk_refuse_uncarried(int fd, int ref, int family, int state, const char *who)
{
	unsigned fam = family == AF_UNIX ? F_UNIX : family == AF_INET ? F_V4 : F_V6;

	for (size_t i = 0; i < ARRAY_SIZE(uncarried); i++) {
		const struct uncarried *u = &uncarried[i];
		unsigned char a[64] = {0}, b[64] = {0};
		socklen_t al = sizeof(a), bl = sizeof(b);
		char av[40], bv[40];

		if (!(u->flags & fam) || ((u->flags & F_NOT_ESTAB) && state == SK_STATE_ESTABLISHED) ||
		    ((u->flags & F_ONLY_CLOSE) && state != SK_STATE_CLOSE))
			continue;
		/* not an option of this socket (or this kernel): nothing to carry */
		if (getsockopt(fd, u->level, u->name, a, &al) || getsockopt(ref, u->level, u->name, b, &bl))
			continue;
		if (al == bl && !memcmp(a, b, al))
			continue;
		show(a, al, av, sizeof(av));
		show(b, bl, bv, sizeof(bv));
		pr_err("%s: the socket has %s set (%s; a new socket has %s), which criu can't carry: it would come "
		       "back unset\n",
		       who, u->str, av, bv);
		pr_hint("dump the program when it has not set %s, or without that socket\n", u->str);
		return -EOPNOTSUPP;
	}
	return 0;
}

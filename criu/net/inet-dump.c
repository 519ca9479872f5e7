/*
 * Dump, act: IPv4 and IPv6 sockets (files.img entries of type INETSK,
 * inet_sk_entry), as servers hold them: TCP sockets listening, or made
 * and perhaps bound but not connected; UDP sockets, bound or not,
 * connected or not. What they are comes from the socket itself (criu's
 * pidfd_getfd copy): SO_DOMAIN/SO_TYPE/SO_PROTOCOL, getsockname and
 * getpeername, TCP_INFO (state; for a listener its backlog and the
 * connections waiting in it), options.
 *
 * Established TCP connections with --tcp-established (their stream
 * through TCP_REPAIR: net/tcp-dump.c).
 *
 * Carried: the options inet_sk_entry has fields for (net/sockopt.c's for
 * every socket, with the attached classic BPF program; SO_REUSEADDR,
 * SO_REUSEPORT, SO_BINDTODEVICE, IPV6_V6ONLY, IP_FREEBIND; IP_TOS, IP_TTL
 * where they are not a new socket's, IP_PKTINFO; the keepalive timings;
 * TCP_NODELAY and TCP_CORK of a TCP socket not established) and the
 * shutdown state (poll, sock_diag).
 *
 * Refused, naming the pid and fd: an established TCP connection without
 * --tcp-established, one connecting or closing, a listener with connections not accepted yet
 * (they would be reset), other protocols (raw, SCTP...), IP_TRANSPARENT,
 * datagrams corked and not sent (UDP_CORK, MSG_MORE: the kernel does not
 * give them back), a socket of another uid than its holder's, an option no
 * field carries set (net/sockopt-check.c), an eBPF or locked filter.
 * Datagrams waiting in a UDP socket are carried (sk-queues.img, each with
 * its sender's address: restore sends them again from it), unless the
 * socket is in a SO_REUSEPORT group, bound to a device other than lo, or
 * IP_PKTINFO would show them changed;
 * an error waiting to be reported (sk_err) is refused.
 */
#define LOG_PREFIX "task-dump: "

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <linux/sockios.h>
#include <unistd.h>

#include "fdinfo.pb-c.h"
#include "util/log.h"
#include "net/net-lock.h"
#include "net/inet.h"
#include "net/sk-family.h"
#include "net/tcp.h"
#include "net/unix.h"
#include "net/sk-diag.h"
#include "net/sockopt.h"
#include "sk-inet.pb-c.h"
#include "task/task-dump.h"
#include "util/util.h"

/* addr's address bytes into words[], its port; the number of words. */
static size_t split_addr(const struct sockaddr_storage *a, uint32_t *words, uint32_t *port)
{
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)a;

		memcpy(words, &in->sin_addr, 4);
		*port = ntohs(in->sin_port);
		return 1;
	}
	if (a->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)a;

		memcpy(words, &in6->sin6_addr, 16);
		*port = ntohs(in6->sin6_port);
		return 4;
	}
	*port = 0;
	return 0;
}

/* Is socket sk in the network namespace at ns_path? (Yes if it can't be told.) */
static bool sock_in_netns(int sk, const char *ns_path)
{
	struct stat a, b;
	int nsfd = ioctl(sk, SIOCGSKNS);
	bool same = nsfd < 0 || fstat(nsfd, &a) || stat(ns_path, &b) || a.st_ino == b.st_ino;

	if (nsfd >= 0)
		close(nsfd);
	return same;
}

/* What the socket is and where it stands, read from criu's copy. */
struct inet_state {
	int family, type, proto;
	bool in_task_netns;
	struct sockaddr_storage name, peer;
	bool connected;
	struct tcp_info ti; /* TCP */
	uid_t owner;	    /* the socket's (its maker's fsuid, or whom it was given to) */
	gid_t group;	    /* the same: its maker's fsgid */
};

/* Its options, as inet_sk_entry keeps them, and those it can't. */
struct inet_opts {
	SkOptsEntry o;
	TcpOptsEntry t; /* TCP_NODELAY, TCP_CORK of a TCP socket not established */
	bool has_tcp_opts;
	char ifname[IFNAMSIZ + 1];
	bool freebind, transparent, v6only, pktinfo;
	bool has_tos, has_ttl; /* not a new socket's: set by the task */
	int tos, ttl;
	uint8_t shutdown; /* RCV_SHUTDOWN 1 | SEND_SHUTDOWN 2 (sock_diag) */
	int corked;	  /* UDP: bytes held back by UDP_CORK or MSG_MORE, not sent */
};

/* act: its protocol, its namespace, its addresses and its state. */
static int read_state(const struct td_proc *p, const struct td_sock_fd *f, const char *who, struct inet_state *s)
{
	socklen_t nl = sizeof(s->name), pl = sizeof(s->peer), tl = sizeof(s->ti);
	struct stat st;
	char path[64];
	int ret;

	ret = sk_get_int(f->lfd, SOL_SOCKET, SO_TYPE, &s->type, who);
	if (ret >= 0)
		ret = sk_get_int(f->lfd, SOL_SOCKET, SO_PROTOCOL, &s->proto, who);
	if (ret < 0)
		return ret;
	if (!((s->type == SOCK_STREAM && s->proto == IPPROTO_TCP) ||
	      (s->type == SOCK_DGRAM && s->proto == IPPROTO_UDP)))
		return 0; /* check_state says why not */
	snprintf(path, sizeof(path), "/proc/%d/ns/net", p->pid);
	s->in_task_netns = sock_in_netns(f->lfd, path);
	if (fstat(f->lfd, &st)) {
		pr_perror("%s: fstat", who);
		return -errno;
	}
	s->owner = st.st_uid;
	s->group = st.st_gid;
	s->connected = !getpeername(f->lfd, (struct sockaddr *)&s->peer, &pl);
	if (getsockname(f->lfd, (struct sockaddr *)&s->name, &nl)) {
		pr_perror("%s: getsockname", who);
		return -errno;
	}
	if (s->type == SOCK_STREAM)
		return sk_get(f->lfd, IPPROTO_TCP, TCP_INFO, &s->ti, &tl, who);
	return 0;
}

/* decide, pure: can the socket be dumped? Says why not. */
static int check_state(const struct td_ctx *c, const struct td_proc *p, const struct td_sock_fd *f,
		       const struct inet_state *s)
{
	const struct tcp_info *ti = &s->ti;

	if (!((s->type == SOCK_STREAM && s->proto == IPPROTO_TCP) ||
	      (s->type == SOCK_DGRAM && s->proto == IPPROTO_UDP))) {
		pr_err("process %d: fd %d is an %s socket of type %d, protocol %d: only TCP and UDP ones can be "
		       "dumped\n",
		       p->pid, f->fd, s->family == AF_INET ? "AF_INET" : "AF_INET6", s->type, s->proto);
		return -EOPNOTSUPP;
	}
	/* a socket of another network namespace (passed in, socket activation) would move into the tree's */
	if (!s->in_task_netns) {
		pr_err("process %d: fd %d is a socket of another network namespace than the process's: not "
		       "supported\n",
		       p->pid, f->fd);
		return -EOPNOTSUPP;
	}
	/* restore gives a socket to its holder's fsuid (SO_REUSEPORT groups and owner matches go by it) */
	if (s->owner != p->status.uid[3]) {
		pr_err("process %d: fd %d is a socket of uid %u, and the process's filesystem uid is %u: restore "
		       "would give it to uid %u\n",
		       p->pid, f->fd, s->owner, p->status.uid[3], p->status.uid[3]);
		pr_hint("dump the program once its sockets are its own (made under its uid, or given with fchown)\n");
		return -EOPNOTSUPP;
	}
	if (s->group != p->status.gid[3]) {
		pr_err("process %d: fd %d is a socket of gid %u, and the process's filesystem gid is %u: restore "
		       "would give it to gid %u\n",
		       p->pid, f->fd, s->group, p->status.gid[3], p->status.gid[3]);
		pr_hint("dump the program once its sockets are its own (made under its uid, or given with fchown)\n");
		return -EOPNOTSUPP;
	}
	if (s->type != SOCK_STREAM)
		return 0;
	if (ti->tcpi_state == TCP_ESTABLISHED && !c->opts.tcp_established) {
		pr_err("process %d: fd %d is an established TCP connection: dump it with --tcp-established "
		       "(its peer must then wait until the restore, or be in the tree too)\n",
		       p->pid, f->fd);
		return -EOPNOTSUPP;
	}
	if (ti->tcpi_state != TCP_LISTEN && ti->tcpi_state != TCP_CLOSE && ti->tcpi_state != TCP_ESTABLISHED) {
		pr_err("process %d: fd %d is a TCP socket in state %u (connecting or closing): only listening, "
		       "unconnected and established TCP sockets can be dumped\n",
		       p->pid, f->fd, ti->tcpi_state);
		return -EOPNOTSUPP;
	}
	if (ti->tcpi_state == TCP_LISTEN && ti->tcpi_unacked) {
		pr_err("process %d: fd %d is a TCP listener with %u connections waiting to be accepted, which "
		       "can't be dumped yet (they would be reset)\n",
		       p->pid, f->fd, ti->tcpi_unacked);
		return -EOPNOTSUPP;
	}
	return 0;
}

/* act: the TCP options inet_sk_entry keeps. */
static int read_tcp_opts(int fd, const struct inet_state *s, const char *who, struct inet_opts *io)
{
	int cnt = 0, idle = 0, intvl = 0, nodelay = 0, cork = 0, ret;

	ret = sk_get_int(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, who);
	if (ret >= 0)
		ret = sk_get_int(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, who);
	if (ret >= 0)
		ret = sk_get_int(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, who);
	if (ret >= 0)
		ret = sk_get_int(fd, IPPROTO_TCP, TCP_NODELAY, &nodelay, who);
	if (ret >= 0)
		ret = sk_get_int(fd, IPPROTO_TCP, TCP_CORK, &cork, who);
	if (ret < 0)
		return ret;
	io->o.has_tcp_keepcnt = io->o.has_tcp_keepidle = io->o.has_tcp_keepintvl = true;
	io->o.tcp_keepcnt = (uint32_t)cnt;
	io->o.tcp_keepidle = (uint32_t)idle;
	io->o.tcp_keepintvl = (uint32_t)intvl;
	/* an established connection's are in its tcp-stream image */
	if (s->ti.tcpi_state != TCP_ESTABLISHED) {
		io->has_tcp_opts = true;
		io->t.has_nodelay = io->t.has_cork = true;
		io->t.nodelay = nodelay != 0;
		io->t.cork = cork != 0;
	}
	return 0;
}

/* act: IP_TOS, IP_TTL (IPV6_TCLASS, IPV6_UNICAST_HOPS) where they are not
 * the reference socket's (ref), and IP_PKTINFO (IPV6_RECVPKTINFO). */
static int read_ip_opts(int fd, int ref, const struct inet_state *s, const char *who, struct inet_opts *io)
{
	bool v4 = s->family == AF_INET;
	int ip = v4 ? IPPROTO_IP : IPPROTO_IPV6, tos_opt = v4 ? IP_TOS : IPV6_TCLASS,
	    ttl_opt = v4 ? IP_TTL : IPV6_UNICAST_HOPS, ref_tos = 0, ref_ttl = 0, pktinfo = 0, ret;

	ret = sk_get_int(fd, ip, tos_opt, &io->tos, who);
	if (ret >= 0)
		ret = sk_get_int(ref, ip, tos_opt, &ref_tos, who);
	if (ret >= 0)
		ret = sk_get_int(fd, ip, ttl_opt, &io->ttl, who);
	if (ret >= 0)
		ret = sk_get_int(ref, ip, ttl_opt, &ref_ttl, who);
	if (ret >= 0)
		ret = sk_get_int(fd, ip, v4 ? IP_PKTINFO : IPV6_RECVPKTINFO, &pktinfo, who);
	if (ret < 0)
		return ret;
	io->has_tos = io->tos != ref_tos;
	io->has_ttl = io->ttl != ref_ttl;
	io->pktinfo = pktinfo != 0;
	return 0;
}

/*
 * act: what UDP holds back, not sent (UDP_CORK, MSG_MORE): it counts in
 * the socket's send memory (SIOCOUTQ), which otherwise holds only
 * datagrams on their way out (gone in a moment: waited for).
 */
static int read_corked(int fd, struct inet_opts *io)
{
	for (int i = 0; i < 20; i++) {
		if (ioctl(fd, SIOCOUTQ, &io->corked) || io->corked <= 0) {
			io->corked = 0;
			return 0;
		}
		usleep(10000);
	}
	return 0;
}

/*
 * decide, pure: the address restore sends a datagram from `from` to (its
 * port aside): the socket's own, or for one bound to the wildcard the
 * loopback of the sender's family (a v4-mapped sender's is IPv4's, written
 * mapped for an IPv6 socket).
 */
static void queue_dst(const struct sockaddr_storage *name, const struct sockaddr_storage *from, uint8_t *dst,
		      size_t *len)
{
	static const uint8_t any6[16], lo6[16] = {[15] = 1};
	static const uint8_t mapped_lo[16] = {[10] = 0xff, [11] = 0xff, [12] = 127, [15] = 1};
	const uint8_t lo4[4] = {127, 0, 0, 1};

	if (name->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)name;

		*len = 4;
		memcpy(dst, in->sin_addr.s_addr ? (const uint8_t *)&in->sin_addr : lo4, 4);
		return;
	}
	const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)name;
	const struct sockaddr_in6 *f6 = (const struct sockaddr_in6 *)from;
	bool mapped = from->ss_family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&f6->sin6_addr);

	*len = 16;
	if (memcmp(&in6->sin6_addr, any6, 16))
		memcpy(dst, &in6->sin6_addr, 16);
	else
		memcpy(dst, mapped ? mapped_lo : lo6, 16);
}

/*
 * decide, pure: can restore send this datagram so that the task sees it
 * as it was? With IP_PKTINFO (IPV6_RECVPKTINFO) it sees the address it was
 * sent to and the interface it came in through: they must be what restore
 * uses (queue_dst, and lo, whose index is 1 in every namespace).
 */
static bool queue_pktinfo_ok(struct msghdr *mh, const struct sockaddr_storage *name)
{
	uint8_t want[16];
	size_t wlen;

	queue_dst(name, (const struct sockaddr_storage *)mh->msg_name, want, &wlen);
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
		if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo pi;
			uint8_t mapped[16] = {[10] = 0xff, [11] = 0xff};

			memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
			memcpy(mapped + 12, &pi.ipi_addr, 4);
			if (pi.ipi_ifindex != 1 || memcmp(wlen == 4 ? (uint8_t *)&pi.ipi_addr : mapped, want, wlen))
				return false;
		}
		if (cm->cmsg_level == IPPROTO_IPV6 && cm->cmsg_type == IPV6_PKTINFO) {
			struct in6_pktinfo pi;

			memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
			if (pi.ipi6_ifindex != 1 || wlen != 16 || memcmp(&pi.ipi6_addr, want, 16))
				return false;
		}
	}
	return true;
}

/*
 * act: the datagrams waiting in a UDP socket, each with its sender's
 * address, peeked from SO_PEEK_OFF 0 on (the task still reads them after);
 * *nr and *bytes what was found.
 */
static int peek_udp_queue(struct td_ctx *c, const struct td_sock_fd *f, const struct inet_state *s, bool pktinfo,
			  uint32_t id, const char *who, size_t *nr, size_t *bytes)
{
	_cleanup_free_ char *buf = xmalloc(UDP_MAX_PAYLOAD);

	for (;;) {
		struct sockaddr_storage from;
		char cbuf[CMSG_SPACE(sizeof(struct in6_pktinfo)) * 4];
		struct iovec iov = {.iov_base = buf, .iov_len = UDP_MAX_PAYLOAD};
		struct msghdr mh = {.msg_name = &from,
				    .msg_namelen = sizeof(from),
				    .msg_iov = &iov,
				    .msg_iovlen = 1,
				    .msg_control = cbuf,
				    .msg_controllen = sizeof(cbuf)};
		ssize_t n = recvmsg(f->lfd, &mh, MSG_PEEK | MSG_DONTWAIT);
		int ret;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n < 0) {
			pr_perror("%s: can't peek at the datagrams waiting in it", who);
			return -errno;
		}
		if (mh.msg_flags & MSG_TRUNC) {
			pr_err("%s: a datagram waiting in it is larger than %u bytes\n", who, UDP_MAX_PAYLOAD);
			return -EOPNOTSUPP;
		}
		if (pktinfo && !queue_pktinfo_ok(&mh, &s->name)) {
			pr_err("%s: a datagram waiting in it came in through another interface than lo or to another "
			       "address than the socket's own, which IP_PKTINFO shows and restore can't make again\n",
			       who);
			pr_hint("dump the program once it has read the datagrams waiting in its UDP sockets\n");
			return -EOPNOTSUPP;
		}
		ret = td_write_sk_packet(c, id, &from, mh.msg_namelen, buf, (size_t)n);
		if (ret)
			return ret;
		(*nr)++;
		*bytes += (size_t)n;
	}
}

/*
 * act: the datagrams waiting in a UDP socket into sk-queues.img, the
 * socket's SO_PEEK_OFF put back as it was. A socket of a SO_REUSEPORT group
 * is refused: restore could not say which socket of the group gets them.
 */
static int dump_udp_queue(struct td_ctx *c, const struct td_proc *p, const struct td_sock_fd *f,
			  const struct inet_state *s, const struct inet_opts *io, uint32_t id, const char *who)
{
	struct pollfd pf = {.fd = f->lfd, .events = POLLIN};
	size_t nr = 0, bytes = 0;
	int off = -1, ret, put;
	char b;

	if (s->type != SOCK_DGRAM)
		return 0;
	/* an error waiting (sk_err) would be taken by a recv, and is not carried: poll sees it and leaves it */
	if (poll(&pf, 1, 0) < 0) {
		pr_perror("%s: can't poll it", who);
		return -errno;
	}
	if (pf.revents & POLLERR) {
		pr_err("process %d: UDP socket fd %d has an error waiting to be reported (such as ECONNREFUSED from "
		       "an ICMP port unreachable), which can't be read without clearing it, nor carried\n",
		       p->pid, f->fd);
		pr_hint("dump the program once it has called its UDP sockets again\n");
		return -EOPNOTSUPP;
	}
	if (recv(f->lfd, &b, 1, MSG_PEEK | MSG_DONTWAIT) < 0)
		return 0;
	/* restore sends them through lo, which a socket bound to another device does not hear */
	if (io->ifname[0] && strcmp(io->ifname, "lo")) {
		pr_err("process %d: UDP socket fd %d, bound to device %s, has datagrams waiting, which restore can "
		       "only give back through lo\n",
		       p->pid, f->fd, io->ifname);
		pr_hint("dump the program once it has read the datagrams waiting in its UDP sockets\n");
		return -EOPNOTSUPP;
	}
	if (io->o.so_reuseport) {
		pr_err("process %d: UDP socket fd %d of a SO_REUSEPORT group has datagrams waiting, which restore "
		       "can't give back to it alone\n",
		       p->pid, f->fd);
		pr_hint("dump the program once it has read the datagrams waiting in its UDP sockets\n");
		return -EOPNOTSUPP;
	}
	ret = sk_get_int(f->lfd, SOL_SOCKET, SO_PEEK_OFF, &off, who);
	if (ret >= 0)
		ret = sk_set_int(f->lfd, SOL_SOCKET, SO_PEEK_OFF, 0, who, 0);
	if (ret >= 0)
		ret = peek_udp_queue(c, f, s, io->pktinfo, id, who, &nr, &bytes);
	put = sk_set_int(f->lfd, SOL_SOCKET, SO_PEEK_OFF, off, who, 0);
	if (ret >= 0 && put < 0)
		ret = put;
	if (ret >= 0)
		pr_info("%s: %zu datagrams waiting (%zu bytes), carried\n", who, nr, bytes);
	return ret < 0 ? ret : 0;
}

/*
 * act: the shutdown state. Poll tells that a socket is shut for reading;
 * that it is shut for writing only sock_diag does (or a send, which would
 * bind it), asked for the sockets of its port. It lists no socket that is
 * not bound, and needs not be asked of a TCP connection: shut for writing,
 * it would not be established any more.
 */
static int read_shutdown(const struct td_proc *p, const struct td_sock_fd *f, const struct inet_state *s,
			 const char *who, struct inet_opts *io)
{
	struct pollfd pf = {.fd = f->lfd, .events = POLLRDHUP};
	uint32_t words[4], port;
	int nl, ret;

	split_addr(&s->name, words, &port);
	if (!port || (s->type == SOCK_STREAM && s->ti.tcpi_state == TCP_ESTABLISHED)) {
		if (poll(&pf, 1, 0) < 0) {
			pr_perror("%s: can't poll it", who);
			return -errno;
		}
		io->shutdown = pf.revents & POLLRDHUP ? 1 : 0;
		return 0;
	}
	nl = unix_diag_open(p->pid);
	if (nl < 0)
		return nl;
	ret = inet_diag_shutdown(nl, s->family, s->proto, (uint16_t)port, (uint32_t)f->ino, &io->shutdown);
	close(nl);
	if (ret)
		pr_err("%s: sock_diag can't tell whether the socket is shut down: %s\n", who, strerror(-ret));
	return ret;
}

/* act: every option inet_sk_entry keeps (and IP_TRANSPARENT, which it can't). */
static int read_opts(int fd, int ref, const struct inet_state *s, const char *who, struct inet_opts *io)
{
	int ip = s->family == AF_INET ? IPPROTO_IP : IPPROTO_IPV6, transparent = 0, freebind = 0, reuseaddr = 0,
	    reuseport = 0, v6only = 0, ret;
	socklen_t il = IFNAMSIZ;

	ret = s->type == SOCK_STREAM ? read_tcp_opts(fd, s, who, io) : read_corked(fd, io);
	if (ret >= 0)
		ret = sk_opts_dump(fd, s->family, &io->o, who);
	if (ret >= 0)
		ret = read_ip_opts(fd, ref, s, who, io);
	if (ret >= 0)
		ret = sk_get_int(fd, ip, s->family == AF_INET ? IP_TRANSPARENT : IPV6_TRANSPARENT, &transparent, who);
	if (ret >= 0)
		ret = sk_get_int(fd, ip, s->family == AF_INET ? IP_FREEBIND : IPV6_FREEBIND, &freebind, who);
	if (ret >= 0)
		ret = sk_get_int(fd, SOL_SOCKET, SO_REUSEADDR, &reuseaddr, who);
	if (ret >= 0)
		ret = sk_get_int(fd, SOL_SOCKET, SO_REUSEPORT, &reuseport, who);
	if (ret >= 0)
		ret = sk_get(fd, SOL_SOCKET, SO_BINDTODEVICE, io->ifname, &il, who);
	if (ret >= 0 && s->family == AF_INET6)
		ret = sk_get_int(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, who);
	if (ret < 0)
		return ret;
	io->transparent = transparent > 0;
	io->freebind = freebind > 0;
	io->v6only = v6only != 0;
	io->o.has_reuseaddr = io->o.has_so_reuseport = true;
	io->o.reuseaddr = reuseaddr != 0;
	io->o.so_reuseport = reuseport != 0;
	io->ifname[IFNAMSIZ] = '\0';
	if (io->ifname[0])
		io->o.so_bound_dev = io->ifname;
	return 0;
}

/* decide, pure: what of the options can't come back (refused or said). */
static int check_opts(const struct td_proc *p, const struct td_sock_fd *f, const struct inet_state *s,
		      const struct inet_opts *io)
{
	if (io->transparent) {
		pr_err("process %d: fd %d is a transparent proxy socket (IP_TRANSPARENT): not supported\n", p->pid,
		       f->fd);
		return -EOPNOTSUPP;
	}
	if (io->corked) {
		pr_err("process %d: UDP socket fd %d has %d bytes corked (UDP_CORK or MSG_MORE) and not sent yet, "
		       "which can't be read from the kernel to be dumped\n",
		       p->pid, f->fd, io->corked);
		pr_hint("dump the program once it has sent its corked datagram\n");
		return -EOPNOTSUPP;
	}
	if (s->type == SOCK_STREAM && s->ti.tcpi_state == TCP_LISTEN && io->shutdown) {
		pr_err("process %d: TCP listener fd %d was shut down before it listened: not supported\n", p->pid,
		       f->fd);
		return -EOPNOTSUPP;
	}
	return 0;
}

/* The entry, from what was read; its pointers into s and io, and src/dst (4 words each). */
static void fill_entry(const struct td_sock_fd *f, const struct inet_state *s, struct inet_opts *io, uint32_t *src,
		       uint32_t *dst, InetSkEntry *ie, IpOptsEntry *ipo)
{
	ie->ino = (uint32_t)f->ino;
	ie->family = (uint32_t)s->family;
	ie->type = (uint32_t)s->type;
	ie->proto = (uint32_t)s->proto;
	ie->flags = f->flags & ~(uint32_t)O_CLOEXEC;
	if (s->type == SOCK_STREAM) {
		ie->state = s->ti.tcpi_state;
		ie->backlog = s->ti.tcpi_state == TCP_LISTEN ? s->ti.tcpi_sacked : 0;
	} else {
		ie->state = s->connected ? TCP_ESTABLISHED : TCP_CLOSE;
	}
	ie->n_src_addr = split_addr(&s->name, src, &ie->src_port);
	ie->src_addr = src;
	if (s->connected) {
		ie->n_dst_addr = split_addr(&s->peer, dst, &ie->dst_port);
		ie->dst_addr = dst;
	}
	if (s->family == AF_INET6) {
		ie->has_v6only = true;
		ie->v6only = io->v6only;
	}
	ipo->has_freebind = ipo->freebind = io->freebind;
	ipo->has_pktinfo = ipo->pktinfo = io->pktinfo;
	ipo->has_tos = io->has_tos;
	ipo->tos = (uint32_t)io->tos;
	ipo->has_ttl = io->has_ttl;
	ipo->ttl = (uint32_t)io->ttl;
	if (ipo->has_freebind || ipo->has_pktinfo || ipo->has_tos || ipo->has_ttl)
		ie->ip_opts = ipo;
	if (io->shutdown) {
		ie->has_shutdown = true;
		ie->shutdown = (SkShutdown)(io->shutdown & 3);
	}
	if (io->has_tcp_opts)
		ie->tcp_opts = &io->t;
	ie->opts = &io->o;
}

/* act: the entry (and an established connection's stream) written. */
static int write_entry(struct td_ctx *c, struct td_proc *p, const struct td_sock_fd *f, uint32_t id, FownEntry *fown,
		       const struct inet_state *s, struct inet_opts *io)
{
	FileEntry fe = FILE_ENTRY__INIT;
	InetSkEntry ie = INET_SK_ENTRY__INIT;
	IpOptsEntry ipo = IP_OPTS_ENTRY__INIT;
	uint32_t src[4] = {0}, dst[4] = {0};
	int family = s->family, ret;

	fill_entry(f, s, io, src, dst, &ie, &ipo);
	if (s->type == SOCK_STREAM && ie.state == TCP_ESTABLISHED) {
		struct net_lock_conn lk = {.ino = ie.ino,
					   .family = family,
					   .src = src,
					   .dst = dst,
					   .src_port = ie.src_port,
					   .dst_port = ie.dst_port};

		/* a peer may be outside: criu's namespace, or the runtime's (locked in it) */
		ret = td_dump_tcp_stream(
			c, p, f, sock_in_netns(f->lfd, "/proc/self/ns/net") || c->d->lock_nsfd >= 0 ? &lk : NULL);
		if (ret)
			return ret;
	}
	ie.id = id;
	ie.fown = fown;
	fe.type = FD_TYPES__INETSK;
	fe.id = id;
	fe.isk = &ie;
	pr_debug("process %d: fd %d: %s %s socket, state %u, port %u%s\n", p->pid, f->fd,
		 family == AF_INET ? "IPv4" : "IPv6", s->type == SOCK_STREAM ? "TCP" : "UDP", ie.state, ie.src_port,
		 s->connected ? ", connected" : "");
	return td_write_file_entry(c, &fe);
}

/* The socket's state, for what it changes of its options: TCP's, or UDP's made alike. */
static int sk_state(const struct inet_state *s)
{
	if (s->type == SOCK_STREAM)
		return (int)s->ti.tcpi_state;
	return s->connected ? SK_STATE_ESTABLISHED : SK_STATE_CLOSE;
}

int td_dump_inet(struct td_ctx *c, struct td_proc *p, const struct td_sock_fd *f, int family, uint32_t id,
		 FownEntry *fown)
{
	struct inet_state s = {.family = family};
	struct inet_opts io = {.o = SK_OPTS_ENTRY__INIT, .t = TCP_OPTS_ENTRY__INIT};
	char who[48];
	int ref = -1, ret;

	snprintf(who, sizeof(who), "process %d: fd %d", p->pid, f->fd);
	ret = read_state(p, f, who, &s);
	if (ret >= 0)
		ret = check_state(c, p, f, &s);
	if (ret >= 0)
		ret = ref = sk_ref_open(f->lfd, family, s.type, s.proto, who);
	if (ret >= 0)
		ret = read_opts(f->lfd, ref, &s, who, &io);
	if (ret >= 0)
		ret = read_shutdown(p, f, &s, who, &io);
	if (ret >= 0)
		ret = check_opts(p, f, &s, &io);
	if (ret >= 0)
		ret = sk_refuse_uncarried(f->lfd, ref, family, sk_state(&s), who);
	if (ref >= 0)
		close(ref);
	if (ret >= 0)
		ret = dump_udp_queue(c, p, f, &s, &io, id, who);
	if (ret >= 0)
		ret = write_entry(c, p, f, id, fown, &s, &io);
	sk_opts_free(&io.o);
	return ret;
}

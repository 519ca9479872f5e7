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
 * Refused, naming the pid and fd: an established TCP connection without
 * --tcp-established, one connecting or closing, a listener with connections not accepted yet
 * (they would be reset), other protocols (raw, SCTP...). Datagrams waiting
 * in a UDP socket are dropped, with a warning, as a network may drop them.
 */
#define LOG_PREFIX "task-dump: "

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
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
	int udp_queued;	    /* UDP: bytes of datagrams waiting */
};

/* Its options, as inet_sk_entry keeps them, and those it can't. */
struct inet_opts {
	SkOptsEntry o;
	char ifname[IFNAMSIZ + 1];
	bool freebind, transparent, v6only;
	bool lost_tcp_opts; /* TCP options the image has no field for, set */
};

/* act: its protocol, its namespace, its addresses and its state. */
static int read_state(const struct td_proc *p, const struct td_sock_fd *f, const char *who, struct inet_state *s)
{
	socklen_t nl = sizeof(s->name), pl = sizeof(s->peer), tl = sizeof(s->ti);
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
	s->connected = !getpeername(f->lfd, (struct sockaddr *)&s->peer, &pl);
	if (getsockname(f->lfd, (struct sockaddr *)&s->name, &nl)) {
		pr_perror("%s: getsockname", who);
		return -errno;
	}
	if (s->type == SOCK_STREAM)
		return sk_get(f->lfd, IPPROTO_TCP, TCP_INFO, &s->ti, &tl, who);
	if (ioctl(f->lfd, SIOCINQ, &s->udp_queued))
		s->udp_queued = 0;
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

/* act: the TCP options inet_sk_entry keeps, and whether some it can't are set. */
static int read_tcp_opts(int fd, const struct inet_state *s, const char *who, struct inet_opts *io)
{
	int keepalive = 0, cnt = 0, idle = 0, intvl = 0, nodelay = 0, defer = 0, fastopen = 0, timeout = 0, ret;

	ret = sk_get_int(fd, SOL_SOCKET, SO_KEEPALIVE, &keepalive, who);
	if (ret >= 0)
		ret = sk_get_int(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, who);
	if (ret >= 0)
		ret = sk_get_int(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, who);
	if (ret >= 0)
		ret = sk_get_int(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, who);
	if (ret >= 0)
		ret = sk_get_int(fd, IPPROTO_TCP, TCP_NODELAY, &nodelay, who);
	if (ret >= 0)
		ret = sk_get_int(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &defer, who);
	if (ret >= 0)
		ret = sk_get_int(fd, IPPROTO_TCP, TCP_FASTOPEN, &fastopen, who);
	if (ret >= 0)
		ret = sk_get_int(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &timeout, who);
	if (ret < 0)
		return ret;
	io->o.has_so_keepalive = true;
	io->o.so_keepalive = keepalive != 0;
	io->o.has_tcp_keepcnt = io->o.has_tcp_keepidle = io->o.has_tcp_keepintvl = true;
	io->o.tcp_keepcnt = (uint32_t)cnt;
	io->o.tcp_keepidle = (uint32_t)idle;
	io->o.tcp_keepintvl = (uint32_t)intvl;
	/* an established connection's TCP_NODELAY is in its tcp-stream image */
	io->lost_tcp_opts =
		(s->ti.tcpi_state != TCP_ESTABLISHED && nodelay > 0) || defer > 0 || fastopen > 0 || timeout > 0;
	return 0;
}

/* act: every option inet_sk_entry keeps (and IP_TRANSPARENT, which it can't). */
static int read_opts(int fd, const struct inet_state *s, const char *who, struct inet_opts *io)
{
	int ip = s->family == AF_INET ? IPPROTO_IP : IPPROTO_IPV6, broadcast = 0, transparent = 0, freebind = 0,
	    reuseaddr = 0, reuseport = 0, priority = 0, mark = 0, lowat = 0, v6only = 0, ret;
	struct linger lg = {0};
	socklen_t ll = sizeof(lg), il = IFNAMSIZ;

	ret = s->type == SOCK_STREAM ? read_tcp_opts(fd, s, who, io)
				     : sk_get_int(fd, SOL_SOCKET, SO_BROADCAST, &broadcast, who);
	if (ret >= 0)
		ret = sk_opts_dump(fd, s->family, &io->o, who);
	if (ret >= 0)
		ret = sk_get(fd, SOL_SOCKET, SO_LINGER, &lg, &ll, who);
	if (ret >= 0)
		ret = sk_get_int(fd, ip, s->family == AF_INET ? IP_TRANSPARENT : IPV6_TRANSPARENT, &transparent, who);
	if (ret >= 0)
		ret = sk_get_int(fd, ip, s->family == AF_INET ? IP_FREEBIND : IPV6_FREEBIND, &freebind, who);
	if (ret >= 0)
		ret = sk_get_int(fd, SOL_SOCKET, SO_REUSEADDR, &reuseaddr, who);
	if (ret >= 0)
		ret = sk_get_int(fd, SOL_SOCKET, SO_REUSEPORT, &reuseport, who);
	if (ret >= 0)
		ret = sk_get_int(fd, SOL_SOCKET, SO_PRIORITY, &priority, who);
	if (ret >= 0)
		ret = sk_get_int(fd, SOL_SOCKET, SO_MARK, &mark, who);
	if (ret >= 0)
		ret = sk_get_int(fd, SOL_SOCKET, SO_RCVLOWAT, &lowat, who);
	if (ret >= 0)
		ret = sk_get(fd, SOL_SOCKET, SO_BINDTODEVICE, io->ifname, &il, who);
	if (ret >= 0 && s->family == AF_INET6)
		ret = sk_get_int(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, who);
	if (ret < 0)
		return ret;
	if (s->type != SOCK_STREAM) {
		io->o.has_so_broadcast = true;
		io->o.so_broadcast = broadcast != 0;
	}
	if (lg.l_onoff) {
		io->o.has_so_linger = true;
		io->o.so_linger = (uint32_t)lg.l_linger;
	}
	io->transparent = transparent > 0;
	io->freebind = freebind > 0;
	io->v6only = v6only != 0;
	io->o.has_reuseaddr = io->o.has_so_reuseport = io->o.has_so_priority = io->o.has_so_mark =
		io->o.has_so_rcvlowat = true;
	io->o.reuseaddr = reuseaddr != 0;
	io->o.so_reuseport = reuseport != 0;
	io->o.so_priority = (uint32_t)priority;
	io->o.so_mark = (uint32_t)mark;
	io->o.so_rcvlowat = (uint32_t)lowat;
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
	if (io->lost_tcp_opts)
		pr_warn("process %d: TCP socket fd %d has TCP_NODELAY, TCP_DEFER_ACCEPT, TCP_FASTOPEN or "
			"TCP_USER_TIMEOUT set: they come back at their defaults\n",
			p->pid, f->fd);
	if (s->type != SOCK_STREAM && s->udp_queued > 0)
		pr_warn("process %d: UDP socket fd %d has datagrams waiting: they are dropped\n", p->pid, f->fd);
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
	if (io->freebind) {
		ipo->has_freebind = true;
		ipo->freebind = true;
		ie->ip_opts = ipo;
	}
	ie->opts = &io->o;
}

int td_dump_inet(struct td_ctx *c, struct td_proc *p, const struct td_sock_fd *f, int family, uint32_t id,
		 FownEntry *fown)
{
	FileEntry fe = FILE_ENTRY__INIT;
	InetSkEntry ie = INET_SK_ENTRY__INIT;
	IpOptsEntry ipo = IP_OPTS_ENTRY__INIT;
	struct inet_state s = {.family = family};
	struct inet_opts io = {.o = SK_OPTS_ENTRY__INIT};
	uint32_t src[4] = {0}, dst[4] = {0};
	char who[48];
	int ret;

	snprintf(who, sizeof(who), "process %d: fd %d", p->pid, f->fd);
	ret = read_state(p, f, who, &s);
	if (ret >= 0)
		ret = check_state(c, p, f, &s);
	if (ret >= 0)
		ret = read_opts(f->lfd, &s, who, &io);
	if (ret >= 0)
		ret = check_opts(p, f, &s, &io);
	if (ret < 0)
		return ret;
	fill_entry(f, &s, &io, src, dst, &ie, &ipo);
	if (s.type == SOCK_STREAM && ie.state == TCP_ESTABLISHED) {
		struct net_lock_conn lk = {.ino = ie.ino,
					   .family = family,
					   .src = src,
					   .dst = dst,
					   .src_port = ie.src_port,
					   .dst_port = ie.dst_port};

		ret = td_dump_tcp_stream(c, p, f, sock_in_netns(f->lfd, "/proc/self/ns/net") ? &lk : NULL);
		if (ret)
			return ret;
	}
	ie.id = id;
	ie.fown = fown;
	fe.type = FD_TYPES__INETSK;
	fe.id = id;
	fe.isk = &ie;
	pr_debug("process %d: fd %d: %s %s socket, state %u, port %u%s\n", p->pid, f->fd,
		 family == AF_INET ? "IPv4" : "IPv6", s.type == SOCK_STREAM ? "TCP" : "UDP", ie.state, ie.src_port,
		 s.connected ? ", connected" : "");
	return td_write_file_entry(c, &fe);
}

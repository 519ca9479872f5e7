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
 * through TCP_REPAIR: task-dump-tcp.c).
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
#include "sk-inet.pb-c.h"
#include "task/task-dump.h"
#include "util/util.h"

static int int_opt(int fd, int level, int name)
{
	int v = 0;
	socklen_t l = sizeof(v);

	getsockopt(fd, level, name, &v, &l);
	return v;
}

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

int td_dump_inet(struct td_ctx *c, struct td_proc *p, const struct td_sock_fd *f, int family, uint32_t id,
		 FownEntry *fown)
{
	FileEntry fe = FILE_ENTRY__INIT;
	InetSkEntry ie = INET_SK_ENTRY__INIT;
	SkOptsEntry o = SK_OPTS_ENTRY__INIT;
	IpOptsEntry ipo = IP_OPTS_ENTRY__INIT;
	struct sockaddr_storage name = {0}, peer = {0};
	socklen_t nl = sizeof(name), pl = sizeof(peer);
	uint32_t src[4] = {0}, dst[4] = {0};
	char ifname[IFNAMSIZ + 1] = "";
	socklen_t il = IFNAMSIZ;
	int type = int_opt(f->lfd, SOL_SOCKET, SO_TYPE), proto = int_opt(f->lfd, SOL_SOCKET, SO_PROTOCOL);
	bool connected = !getpeername(f->lfd, (struct sockaddr *)&peer, &pl);

	if (!((type == SOCK_STREAM && proto == IPPROTO_TCP) || (type == SOCK_DGRAM && proto == IPPROTO_UDP))) {
		pr_err("process %d: fd %d is an %s socket of type %d, protocol %d: only TCP and UDP ones can be "
		       "dumped\n",
		       p->pid, f->fd, family == AF_INET ? "AF_INET" : "AF_INET6", type, proto);
		return -EOPNOTSUPP;
	}
	/* a socket of another network namespace (passed in, socket activation) would move into the tree's */
	{
		char path[64];

		snprintf(path, sizeof(path), "/proc/%d/ns/net", p->pid);
		if (!sock_in_netns(f->lfd, path)) {
			pr_err("process %d: fd %d is a socket of another network namespace than the process's: not "
			       "supported\n",
			       p->pid, f->fd);
			return -EOPNOTSUPP;
		}
	}
	if (getsockname(f->lfd, (struct sockaddr *)&name, &nl)) {
		pr_perror("process %d: getsockname of socket fd %d", p->pid, f->fd);
		return -errno;
	}
	if (type == SOCK_STREAM) {
		struct tcp_info ti = {0};
		socklen_t tl = sizeof(ti);

		if (getsockopt(f->lfd, IPPROTO_TCP, TCP_INFO, &ti, &tl)) {
			pr_perror("process %d: TCP_INFO of socket fd %d", p->pid, f->fd);
			return -errno;
		}
		if (ti.tcpi_state == TCP_ESTABLISHED && !c->opts.tcp_established) {
			pr_err("process %d: fd %d is an established TCP connection: dump it with --tcp-established "
			       "(its peer must then wait until the restore, or be in the tree too)\n",
			       p->pid, f->fd);
			return -EOPNOTSUPP;
		}
		if (ti.tcpi_state != TCP_LISTEN && ti.tcpi_state != TCP_CLOSE && ti.tcpi_state != TCP_ESTABLISHED) {
			pr_err("process %d: fd %d is a TCP socket in state %u (connecting or closing): only listening, "
			       "unconnected and established TCP sockets can be dumped\n",
			       p->pid, f->fd, ti.tcpi_state);
			return -EOPNOTSUPP;
		}

		if (ti.tcpi_state == TCP_LISTEN && ti.tcpi_unacked) {
			pr_err("process %d: fd %d is a TCP listener with %u connections waiting to be accepted, which "
			       "can't be dumped yet (they would be reset)\n",
			       p->pid, f->fd, ti.tcpi_unacked);
			return -EOPNOTSUPP;
		}
		ie.state = ti.tcpi_state;
		ie.backlog = ti.tcpi_state == TCP_LISTEN ? ti.tcpi_sacked : 0;
		o.has_so_keepalive = true;
		o.so_keepalive = int_opt(f->lfd, SOL_SOCKET, SO_KEEPALIVE) != 0;
		o.has_tcp_keepcnt = o.has_tcp_keepidle = o.has_tcp_keepintvl = true;
		o.tcp_keepcnt = (uint32_t)int_opt(f->lfd, IPPROTO_TCP, TCP_KEEPCNT);
		o.tcp_keepidle = (uint32_t)int_opt(f->lfd, IPPROTO_TCP, TCP_KEEPIDLE);
		o.tcp_keepintvl = (uint32_t)int_opt(f->lfd, IPPROTO_TCP, TCP_KEEPINTVL);
		/* TCP options upstream's images have no field for: said, not silently lost
		 * (an established connection's TCP_NODELAY is in its tcp-stream image) */
		if ((ti.tcpi_state != TCP_ESTABLISHED && int_opt(f->lfd, IPPROTO_TCP, TCP_NODELAY) > 0) ||
		    int_opt(f->lfd, IPPROTO_TCP, TCP_DEFER_ACCEPT) > 0 ||
		    int_opt(f->lfd, IPPROTO_TCP, TCP_FASTOPEN) > 0 ||
		    int_opt(f->lfd, IPPROTO_TCP, TCP_USER_TIMEOUT) > 0)
			pr_warn("process %d: TCP socket fd %d has TCP_NODELAY, TCP_DEFER_ACCEPT, TCP_FASTOPEN or "
				"TCP_USER_TIMEOUT set: they come back at their defaults\n",
				p->pid, f->fd);
	} else {
		int queued = 0;

		ie.state = connected ? TCP_ESTABLISHED : TCP_CLOSE;
		if (!ioctl(f->lfd, SIOCINQ, &queued) && queued > 0)
			pr_warn("process %d: UDP socket fd %d has datagrams waiting: they are dropped\n", p->pid,
				f->fd);
		o.has_so_broadcast = true;
		o.so_broadcast = int_opt(f->lfd, SOL_SOCKET, SO_BROADCAST) != 0;
	}
	td_sock_opts(f->lfd, &o);
	{
		struct linger lg = {0};
		socklen_t ll = sizeof(lg);

		if (!getsockopt(f->lfd, SOL_SOCKET, SO_LINGER, &lg, &ll) && lg.l_onoff) {
			o.has_so_linger = true;
			o.so_linger = (uint32_t)lg.l_linger;
		}
	}
	if (int_opt(f->lfd, family == AF_INET ? IPPROTO_IP : IPPROTO_IPV6,
		    family == AF_INET ? IP_TRANSPARENT : IPV6_TRANSPARENT) > 0) {
		pr_err("process %d: fd %d is a transparent proxy socket (IP_TRANSPARENT): not supported\n", p->pid,
		       f->fd);
		return -EOPNOTSUPP;
	}
	if (int_opt(f->lfd, family == AF_INET ? IPPROTO_IP : IPPROTO_IPV6,
		    family == AF_INET ? IP_FREEBIND : IPV6_FREEBIND) > 0) {
		ipo.has_freebind = true;
		ipo.freebind = true;
		ie.ip_opts = &ipo;
	}
	o.has_reuseaddr = o.has_so_reuseport = o.has_so_priority = o.has_so_mark = o.has_so_rcvlowat = true;
	o.reuseaddr = int_opt(f->lfd, SOL_SOCKET, SO_REUSEADDR) != 0;
	o.so_reuseport = int_opt(f->lfd, SOL_SOCKET, SO_REUSEPORT) != 0;
	o.so_priority = (uint32_t)int_opt(f->lfd, SOL_SOCKET, SO_PRIORITY);
	o.so_mark = (uint32_t)int_opt(f->lfd, SOL_SOCKET, SO_MARK);
	o.so_rcvlowat = (uint32_t)int_opt(f->lfd, SOL_SOCKET, SO_RCVLOWAT);
	if (!getsockopt(f->lfd, SOL_SOCKET, SO_BINDTODEVICE, ifname, &il) && ifname[0]) {
		ifname[IFNAMSIZ] = '\0';
		o.so_bound_dev = ifname;
	}
	ie.id = id;
	ie.ino = (uint32_t)f->ino;
	ie.family = (uint32_t)family;
	ie.type = (uint32_t)type;
	ie.proto = (uint32_t)proto;
	ie.flags = f->flags & ~(uint32_t)O_CLOEXEC;
	ie.n_src_addr = split_addr(&name, src, &ie.src_port);
	ie.src_addr = src;
	if (connected) {
		ie.n_dst_addr = split_addr(&peer, dst, &ie.dst_port);
		ie.dst_addr = dst;
	}
	if (family == AF_INET6) {
		ie.has_v6only = true;
		ie.v6only = int_opt(f->lfd, IPPROTO_IPV6, IPV6_V6ONLY) != 0;
	}
	if (type == SOCK_STREAM && ie.state == TCP_ESTABLISHED) {
		struct net_lock_conn lk = {.ino = ie.ino, .family = family, .src = src, .dst = dst,
					   .src_port = ie.src_port, .dst_port = ie.dst_port};
		int ret = td_dump_tcp_stream(c, p, f, sock_in_netns(f->lfd, "/proc/self/ns/net") ? &lk : NULL);

		if (ret)
			return ret;
	}
	ie.fown = fown;
	ie.opts = &o;
	fe.type = FD_TYPES__INETSK;
	fe.id = id;
	fe.isk = &ie;
	pr_debug("process %d: fd %d: %s %s socket, state %u, port %u%s\n", p->pid, f->fd,
		 family == AF_INET ? "IPv4" : "IPv6", type == SOCK_STREAM ? "TCP" : "UDP", ie.state, ie.src_port,
		 connected ? ", connected" : "");
	return td_write_file_entry(c, &fe);
}

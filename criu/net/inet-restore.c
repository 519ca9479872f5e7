/*
 * Restore, act: an IPv4/IPv6 TCP or UDP socket (inet_sk_entry) made
 * again in the tree's network namespace: options (SO_REUSEADDR first, so
 * that the dumped port can be taken), IPV6_V6ONLY, bound to its address
 * and port, then listening with its backlog, or connected (UDP) to its
 * peer; an established TCP connection in repair mode from the start, its
 * state set by restore-tcp.c. What restore-images.c's checks let through
 * only.
 */
#define LOG_PREFIX "restore: "

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util/log.h"
#include "task/rtree.h"
#include "sk-inet.pb-c.h"

static socklen_t make_addr(const InetSkEntry *e, const uint32_t *words, size_t n, uint32_t port,
			   struct sockaddr_storage *a)
{
	memset(a, 0, sizeof(*a));
	if (e->family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)a;

		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)port);
		if (n)
			memcpy(&in->sin_addr, words, 4);
		return sizeof(*in);
	}
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)a;

	in6->sin6_family = AF_INET6;
	in6->sin6_port = htons((uint16_t)port);
	if (n)
		memcpy(&in6->sin6_addr, words, 16);
	return sizeof(*in6);
}

static void set_int(int fd, int level, int name, int v, const char *what, uint32_t id)
{
	if (setsockopt(fd, level, name, &v, sizeof(v)))
		pr_warn("socket %u: can't set %s to %d: %m\n", id, what, v);
}

static bool any_addr(const uint32_t *w, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (w[i])
			return false;
	return true;
}

int rtree_open_inet(const struct rfile *f)
{
	const InetSkEntry *e = f->fe->isk;
	const SkOptsEntry *o = e->opts;
	struct sockaddr_storage a;
	socklen_t al;
	int type = (int)e->type | SOCK_CLOEXEC | (e->flags & O_NONBLOCK ? SOCK_NONBLOCK : 0);
	int fd = socket((int)e->family, type, (int)e->proto), err;

	if (fd < 0) {
		pr_perror("socket %u: can't make it again", e->id);
		return -errno;
	}
	rtree_set_sock_opts(fd, o);
	if (o->has_reuseaddr)
		set_int(fd, SOL_SOCKET, SO_REUSEADDR, o->reuseaddr, "SO_REUSEADDR", e->id);
	if (o->has_so_reuseport && o->so_reuseport)
		set_int(fd, SOL_SOCKET, SO_REUSEPORT, 1, "SO_REUSEPORT", e->id);
	if (o->has_so_priority && o->so_priority)
		set_int(fd, SOL_SOCKET, SO_PRIORITY, (int)o->so_priority, "SO_PRIORITY", e->id);
	if (o->has_so_mark && o->so_mark)
		set_int(fd, SOL_SOCKET, SO_MARK, (int)o->so_mark, "SO_MARK", e->id);
	if (o->has_so_rcvlowat && o->so_rcvlowat > 1)
		set_int(fd, SOL_SOCKET, SO_RCVLOWAT, (int)o->so_rcvlowat, "SO_RCVLOWAT", e->id);
	if (o->has_so_broadcast && o->so_broadcast)
		set_int(fd, SOL_SOCKET, SO_BROADCAST, 1, "SO_BROADCAST", e->id);
	if (o->has_so_keepalive && o->so_keepalive)
		set_int(fd, SOL_SOCKET, SO_KEEPALIVE, 1, "SO_KEEPALIVE", e->id);
	if (e->proto == IPPROTO_TCP) {
		if (o->has_tcp_keepcnt && o->tcp_keepcnt)
			set_int(fd, IPPROTO_TCP, TCP_KEEPCNT, (int)o->tcp_keepcnt, "TCP_KEEPCNT", e->id);
		if (o->has_tcp_keepidle && o->tcp_keepidle)
			set_int(fd, IPPROTO_TCP, TCP_KEEPIDLE, (int)o->tcp_keepidle, "TCP_KEEPIDLE", e->id);
		if (o->has_tcp_keepintvl && o->tcp_keepintvl)
			set_int(fd, IPPROTO_TCP, TCP_KEEPINTVL, (int)o->tcp_keepintvl, "TCP_KEEPINTVL", e->id);
	}
	if (o->so_bound_dev && o->so_bound_dev[0] &&
	    setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, o->so_bound_dev, (socklen_t)strlen(o->so_bound_dev))) {
		pr_perror("socket %u: can't bind it to device %s", e->id, o->so_bound_dev);
		goto fail;
	}
	if (o->has_so_linger) {
		struct linger lg = {.l_onoff = 1, .l_linger = (int)o->so_linger};

		if (setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)))
			pr_warn("socket %u: can't set SO_LINGER: %m\n", e->id);
	}
	if (e->ip_opts && e->ip_opts->has_freebind && e->ip_opts->freebind)
		set_int(fd, e->family == AF_INET ? IPPROTO_IP : IPPROTO_IPV6,
			e->family == AF_INET ? IP_FREEBIND : IPV6_FREEBIND, 1, "IP_FREEBIND", e->id);
	if (e->family == AF_INET6 && e->has_v6only)
		set_int(fd, IPPROTO_IPV6, IPV6_V6ONLY, e->v6only, "IPV6_V6ONLY", e->id);
	/* an established connection: in repair mode before bind, which then
	 * may share a listener's port (SO_REUSEADDR above would undo that) */
	if (f->tcp && rtree_tcp_repair_on(fd, e->id))
		goto fail;
	/* bound when it was: a port, or an address of its own */
	if (e->src_port || !any_addr(e->src_addr, e->n_src_addr)) {
		al = make_addr(e, e->src_addr, e->n_src_addr, e->src_port, &a);
		if (bind(fd, (struct sockaddr *)&a, al)) {
			pr_perror("socket %u: can't bind it again to port %u", e->id, e->src_port);
			goto fail;
		}
	}
	if (e->state == TCP_LISTEN && listen(fd, (int)e->backlog)) {
		pr_perror("socket %u: can't listen again", e->id);
		goto fail;
	}
	if (f->tcp) {
		al = make_addr(e, e->dst_addr, e->n_dst_addr, e->dst_port, &a);
		if (rtree_tcp_repair(f, fd, (struct sockaddr *)&a, al)) {
			errno = EIO;
			goto fail;
		}
	} else if (e->state == TCP_ESTABLISHED) { /* a connected UDP socket */
		al = make_addr(e, e->dst_addr, e->n_dst_addr, e->dst_port, &a);
		if (connect(fd, (struct sockaddr *)&a, al)) {
			pr_perror("socket %u: can't connect it again to port %u", e->id, e->dst_port);
			goto fail;
		}
	}
	if (e->flags & O_ASYNC) { /* SIGIO, with its owner */
		int fl = fcntl(fd, F_GETFL);

		if (fl < 0 || fcntl(fd, F_SETFL, fl | O_ASYNC))
			pr_warn("socket %u: can't set O_ASYNC: %m\n", e->id);
	}
	return fd;
fail:
	err = -errno;
	close(fd);
	return err;
}

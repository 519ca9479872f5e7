/*
 * Restore: IPv4/IPv6 TCP and UDP sockets (inet_sk_entry).
 * Parse: only what restore can make (TCP listening, unconnected or
 * established, UDP), addresses of the family's size; an established
 * connection's tcp-stream image read (net/tcp-restore.c).
 * Act: the socket made again in the tree's network namespace, as
 * inet_plan() decides from the entry alone: given to its first holder's
 * uid (before bind: a SO_REUSEPORT group takes only its owner's sockets),
 * options (IP_TOS first, which sets SO_PRIORITY too; SO_REUSEADDR,
 * SO_REUSEPORT and IP_FREEBIND before bind, so that the dumped port and
 * address can be taken), bound to its address and port, then listening
 * with its backlog, or connected (UDP) to its peer; an established TCP
 * connection in repair mode from the start, its state set by
 * net/tcp-restore.c; a UDP socket's waiting datagrams sent again from
 * their senders (before it is connected). Last its shutdown state and its
 * filter.
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

#include "net/inet.h"
#include "net/tcp.h"
#include "net/unix.h"
#include "util/log.h"
#include "net/sockopt.h"
#include "task/rtree.h"
#include "sk-inet.pb-c.h"
#include "util/util.h"

/* ------------------------------------------------------------------------
 * Parse
 */

/*
 * An IPv4/IPv6 socket restore can make: TCP listening or unconnected, UDP;
 * addresses of the family's size, ports that are ports.
 */
int inet_sk_check(const FileEntry *fe)
{
	const InetSkEntry *e = fe->isk;
	size_t words;
	bool tcp, udp;

	if (!e || !e->opts)
		return file_lacks(fe);
	words = e->family == AF_INET ? 1 : 4;
	tcp = e->type == SOCK_STREAM && e->proto == IPPROTO_TCP;
	udp = e->type == SOCK_DGRAM && e->proto == IPPROTO_UDP;
	if ((e->family != AF_INET && e->family != AF_INET6) || !(tcp || udp) || e->src_port > 65535 ||
	    e->dst_port > 65535 || (e->n_src_addr && e->n_src_addr != words) ||
	    (e->n_dst_addr && e->n_dst_addr != words) || (tcp && e->state != 10 && e->state != 7 && e->state != 1) ||
	    (tcp && e->state == 1 && (!e->dst_port || !e->n_dst_addr || !e->src_port || !e->n_src_addr)) ||
	    (udp && e->state != 1 && e->state != 7) || (udp && e->state == 1 && (!e->dst_port || !e->n_dst_addr)) ||
	    e->backlog > INT32_MAX || (e->opts->so_bound_dev && strlen(e->opts->so_bound_dev) >= 16) ||
	    (e->has_shutdown && (e->shutdown < 0 || e->shutdown > 3))) {
		pr_err("files.img: socket %u (family %u, type %u, protocol %u, state %u) is one restore can't make: "
		       "only TCP listening, unconnected or established sockets and UDP sockets of IPv4 or IPv6\n",
		       e->id, e->family, e->type, e->proto, e->state);
		return -EINVAL;
	}
	return 0;
}

const FownEntry *inet_sk_fown(const FileEntry *fe)
{
	return fe->isk ? fe->isk->fown : NULL;
}

/* The tcp-stream image of every established connection. */
int inet_sk_link(struct rtree *t)
{
	int ret = 0;

	for (size_t i = 0; !ret && i < t->nr_files; i++)
		if (rfile_tcp_established(&t->files[i]))
			ret = rtree_read_tcp(t, &t->files[i]);
	return ret;
}

void inet_sk_free(struct rtree *t)
{
	for (size_t i = 0; i < t->nr_files; i++)
		rfile_free_tcp(&t->files[i]);
}

/* ------------------------------------------------------------------------
 * Act
 */

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

static bool any_addr(const uint32_t *w, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (w[i])
			return false;
	return true;
}

/* What making an inet_sk_entry's socket again takes, in order. */
struct inet_plan {
	int domain, type, proto;
	struct inet_int_opt {
		int level, name, val;
	} opts[24]; /* after the options every socket has */
	size_t nr_opts;
	bool has_tos; /* IP_TOS or IPV6_TCLASS, before the options every socket has */
	int tos_level, tos_name, tos;
	const char *bound_dev; /* SO_BINDTODEVICE, or NULL */
	bool repair;	       /* an established connection: in repair mode before bind */
	bool bind;
	struct sockaddr_storage src;
	socklen_t src_len;
	bool listen;
	int backlog;
	bool connect; /* to dst: a UDP peer, or the repaired connection's */
	struct sockaddr_storage dst;
	socklen_t dst_len;
	bool async;
	int shutdown; /* how, for shutdown(2); -1: not shut */
};

static void plan_opt(struct inet_plan *pl, bool cond, int level, int name, int val)
{
	if (cond && pl->nr_opts < ARRAY_SIZE(pl->opts))
		pl->opts[pl->nr_opts++] = (struct inet_int_opt){level, name, val};
}

/*
 * decide, pure: the plan for socket e (`established`: its tcp-stream image
 * was read). The options SO_REUSEADDR first, so that the dumped port can
 * be taken.
 */
static void inet_plan(const InetSkEntry *e, bool established, struct inet_plan *pl)
{
	const SkOptsEntry *o = e->opts;
	const IpOptsEntry *ipo = e->ip_opts;
	const TcpOptsEntry *t = e->tcp_opts;
	bool v4 = e->family == AF_INET;
	int ip = v4 ? IPPROTO_IP : IPPROTO_IPV6;

	memset(pl, 0, sizeof(*pl));
	pl->domain = (int)e->family;
	pl->type = (int)e->type | SOCK_CLOEXEC | (e->flags & O_NONBLOCK ? SOCK_NONBLOCK : 0);
	pl->proto = (int)e->proto;
	plan_opt(pl, o->has_reuseaddr, SOL_SOCKET, SO_REUSEADDR, o->reuseaddr);
	plan_opt(pl, o->has_so_reuseport && o->so_reuseport, SOL_SOCKET, SO_REUSEPORT, 1);
	if (e->proto == IPPROTO_TCP) {
		plan_opt(pl, o->has_tcp_keepcnt && o->tcp_keepcnt, IPPROTO_TCP, TCP_KEEPCNT, (int)o->tcp_keepcnt);
		plan_opt(pl, o->has_tcp_keepidle && o->tcp_keepidle, IPPROTO_TCP, TCP_KEEPIDLE, (int)o->tcp_keepidle);
		plan_opt(pl, o->has_tcp_keepintvl && o->tcp_keepintvl, IPPROTO_TCP, TCP_KEEPINTVL,
			 (int)o->tcp_keepintvl);
	}
	/* those of a TCP socket not established (an established one's are in its stream) */
	if (e->proto == IPPROTO_TCP && t && !established) {
		plan_opt(pl, t->has_nodelay && t->nodelay, IPPROTO_TCP, TCP_NODELAY, 1);
		plan_opt(pl, t->has_cork && t->cork, IPPROTO_TCP, TCP_CORK, 1);
	}
	/* before bind: an address the namespace has not may be taken then */
	plan_opt(pl, ipo && ipo->has_freebind && ipo->freebind, ip, v4 ? IP_FREEBIND : IPV6_FREEBIND, 1);
	plan_opt(pl, ipo && ipo->has_ttl, ip, v4 ? IP_TTL : IPV6_UNICAST_HOPS, ipo && ipo->has_ttl ? (int)ipo->ttl : 0);
	plan_opt(pl, ipo && ipo->has_pktinfo && ipo->pktinfo, ip, v4 ? IP_PKTINFO : IPV6_RECVPKTINFO, 1);
	plan_opt(pl, e->family == AF_INET6 && e->has_v6only, IPPROTO_IPV6, IPV6_V6ONLY, e->v6only);
	/* first: IP_TOS sets SO_PRIORITY too, which is set after it as dumped */
	pl->has_tos = ipo && ipo->has_tos;
	pl->tos_level = ip;
	pl->tos_name = v4 ? IP_TOS : IPV6_TCLASS;
	pl->tos = pl->has_tos ? (int)ipo->tos : 0;
	pl->bound_dev = o->so_bound_dev && o->so_bound_dev[0] ? o->so_bound_dev : NULL;
	/* an established connection: in repair mode before bind, which then
	 * may share a listener's port (SO_REUSEADDR above would undo that) */
	pl->repair = established;
	/* bound when it was: a port, or an address of its own */
	pl->bind = e->src_port || !any_addr(e->src_addr, e->n_src_addr);
	pl->src_len = make_addr(e, e->src_addr, e->n_src_addr, e->src_port, &pl->src);
	pl->listen = e->state == TCP_LISTEN;
	pl->backlog = (int)e->backlog;
	/* a connected UDP socket, or the established connection (in repair mode) */
	pl->connect = established || e->state == TCP_ESTABLISHED;
	pl->dst_len = make_addr(e, e->dst_addr, e->n_dst_addr, e->dst_port, &pl->dst);
	pl->async = e->flags & O_ASYNC; /* SIGIO, with its owner */
	/* SK_SHUTDOWN READ 1, WRITE 2, BOTH 3; shutdown(2) wants 0, 1, 2 */
	pl->shutdown = e->has_shutdown && e->shutdown ? (int)e->shutdown - 1 : -1;
}

/* act: the options of the plan, after those every socket has. */
static int set_opts(int fd, const InetSkEntry *e, const struct inet_plan *pl, const char *who)
{
	int ret = pl->has_tos ? sk_set_int(fd, pl->tos_level, pl->tos_name, pl->tos, who, 0) : 0;

	if (ret >= 0)
		ret = sk_opts_restore(fd, e->opts, who, 0);
	for (size_t i = 0; ret >= 0 && i < pl->nr_opts; i++)
		ret = sk_set_int(fd, pl->opts[i].level, pl->opts[i].name, pl->opts[i].val, who, 0);
	if (ret >= 0 && pl->bound_dev)
		ret = sk_set(fd, SOL_SOCKET, SO_BINDTODEVICE, pl->bound_dev, (socklen_t)strlen(pl->bound_dev), who, 0);
	return ret < 0 ? ret : 0;
}

/* act: the last of the plan, once the socket is bound, listening or connected. */
static int finish(int fd, const InetSkEntry *e, const struct inet_plan *pl, const char *who)
{
	/* an unconnected socket is shut all the same (and says ENOTCONN) */
	if (pl->shutdown >= 0 && shutdown(fd, pl->shutdown) && errno != ENOTCONN) {
		pr_perror("%s: can't shut it down again", who);
		return -errno;
	}
	if (pl->async) {
		int fl = fcntl(fd, F_GETFL);

		if (fl < 0 || fcntl(fd, F_SETFL, fl | O_ASYNC))
			pr_warn("%s: can't set O_ASYNC: %m\n", who);
	}
	return sk_filter_restore(fd, e->opts, who);
}

/*
 * A socket belongs to whoever made it (SO_REUSEPORT groups, owner matches
 * of netfilter go by it); criu makes it as root. It is given to the first
 * process, in tree order, that holds it (its fsuid and fsgid): the one that made it, as a rule
 * (a root master that made the listeners for its workers keeps them; dump
 * refuses a socket of another uid than its holder's). Before it is bound:
 * a SO_REUSEPORT group takes only sockets of its owner's.
 */
static int own_socket(const struct rfile *f, int fd)
{
	const struct rproc *p = f->holder;
	const CredsEntry *cr = p && p->core->thread_core ? p->core->thread_core->creds : NULL;

	if (cr && fchown(fd, cr->fsuid, cr->fsgid)) {
		pr_perror("socket %u: can't give it to uid %u gid %u", f->fe->id, cr->fsuid, cr->fsgid);
		return -errno;
	}
	return 0;
}

/*
 * decide, pure: where a waiting datagram goes again, from its dumped
 * sender: *from the sender (a v4-mapped one as IPv4), *to the socket (its
 * own address, or for one bound to the wildcard the loopback of the
 * sender's family: net/inet-dump.c's queue_dst, which dump checked
 * against IP_PKTINFO), both with the port 0 a raw socket wants.
 */
static void udp_route(const struct sk_packet *pk, const struct inet_plan *pl, struct sockaddr_storage *from,
		      struct sockaddr_storage *to, uint16_t *sport, uint16_t *dport)
{
	const struct sockaddr_in6 *f6 = (const struct sockaddr_in6 *)&pk->addr;
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&pl->src;
	bool v4 = pk->addr.ss_family == AF_INET || IN6_IS_ADDR_V4MAPPED(&f6->sin6_addr);

	memset(from, 0, sizeof(*from));
	memset(to, 0, sizeof(*to));
	if (pk->addr.ss_family == AF_INET6 && v4) {
		struct sockaddr_in *f4 = (struct sockaddr_in *)from, *t4 = (struct sockaddr_in *)to;

		f4->sin_family = t4->sin_family = AF_INET;
		memcpy(&f4->sin_addr, f6->sin6_addr.s6_addr + 12, 4);
		*sport = ntohs(f6->sin6_port);
		*dport = ntohs(s6->sin6_port);
		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr))
			memcpy(&t4->sin_addr, s6->sin6_addr.s6_addr + 12, 4);
		else
			t4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		return;
	}
	memcpy(from, &pk->addr, pk->addr_len);
	memcpy(to, &pl->src, pl->src_len);
	if (v4) {
		struct sockaddr_in *f4 = (struct sockaddr_in *)from, *t4 = (struct sockaddr_in *)to;

		*sport = ntohs(f4->sin_port);
		*dport = ntohs(t4->sin_port);
		f4->sin_port = t4->sin_port = 0;
		if (!t4->sin_addr.s_addr)
			t4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		return;
	}
	struct sockaddr_in6 *fr6 = (struct sockaddr_in6 *)from, *t6 = (struct sockaddr_in6 *)to;

	*sport = ntohs(fr6->sin6_port);
	*dport = ntohs(t6->sin6_port);
	fr6->sin6_port = t6->sin6_port = 0;
	fr6->sin6_flowinfo = t6->sin6_flowinfo = 0;
	if (IN6_IS_ADDR_UNSPECIFIED(&t6->sin6_addr))
		t6->sin6_addr = in6addr_loopback;
}

/*
 * act: one waiting datagram sent to the socket again from its dumped
 * sender, through a raw socket that writes the UDP header itself: the
 * sender's address need not be the namespace's (IP_TRANSPARENT), nor its
 * port free. IPv6 wants the UDP checksum (the kernel's, IPV6_CHECKSUM);
 * IPv4's may be 0, none.
 */
static int udp_send_as(const struct sk_packet *pk, const struct inet_plan *pl, uint8_t *buf, const char *who)
{
	struct sockaddr_storage from, to;
	uint16_t sport, dport, ulen = (uint16_t)(pk->len + 8);
	int one = 1, csum_off = 6, fd, ret = 0;
	bool v6;

	udp_route(pk, pl, &from, &to, &sport, &dport);
	v6 = from.ss_family == AF_INET6;
	fd = socket(from.ss_family, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_UDP);
	if (fd < 0) {
		pr_perror("%s: can't make a raw socket to queue its datagrams again", who);
		return -errno;
	}
	buf[0] = (uint8_t)(sport >> 8), buf[1] = (uint8_t)sport;
	buf[2] = (uint8_t)(dport >> 8), buf[3] = (uint8_t)dport;
	buf[4] = (uint8_t)(ulen >> 8), buf[5] = (uint8_t)ulen;
	buf[6] = buf[7] = 0;
	memcpy(buf + 8, pk->data, pk->len);
	if (setsockopt(fd, v6 ? IPPROTO_IPV6 : IPPROTO_IP, v6 ? IPV6_TRANSPARENT : IP_TRANSPARENT, &one, sizeof(one)) ||
	    (v6 && setsockopt(fd, IPPROTO_IPV6, IPV6_CHECKSUM, &csum_off, sizeof(csum_off))) ||
	    bind(fd, (struct sockaddr *)&from, v6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in)) ||
	    sendto(fd, buf, pk->len + 8, 0, (struct sockaddr *)&to,
		   v6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in)) != (ssize_t)(pk->len + 8)) {
		ret = -errno;
		pr_perror("%s: can't queue a datagram of %zu bytes again from its sender's address and port %u", who,
			  pk->len, sport);
	}
	close(fd);
	return ret;
}

/* act: how many datagrams wait in the socket now (peeked, SO_PEEK_OFF back off after). */
static int udp_count(int fd, size_t *nr, const char *who)
{
	_cleanup_free_ char *buf = xmalloc(UDP_MAX_PAYLOAD);
	int ret = sk_set_int(fd, SOL_SOCKET, SO_PEEK_OFF, 0, who, 0);

	*nr = 0;
	while (ret >= 0 && recv(fd, buf, UDP_MAX_PAYLOAD, MSG_PEEK | MSG_DONTWAIT) >= 0)
		(*nr)++;
	if (ret >= 0)
		ret = sk_set_int(fd, SOL_SOCKET, SO_PEEK_OFF, -1, who, 0);
	return ret < 0 ? ret : 0;
}

/*
 * act: the datagrams that waited in a UDP socket, sent to it again in
 * their order, each from its sender; then counted in it (loopback may
 * take a moment), for a restore that would lose one fails.
 */
static int udp_refill(const struct rfile *f, int fd, const struct inet_plan *pl, const char *who)
{
	_cleanup_free_ uint8_t *buf = NULL;
	size_t nr = 0;
	int ret = 0;

	if (!f->nr_sk_packets)
		return 0;
	buf = xmalloc(UDP_MAX_PAYLOAD + 8);
	for (size_t i = 0; !ret && i < f->nr_sk_packets; i++)
		ret = udp_send_as(&f->sk_packets[i], pl, buf, who);
	for (int tries = 0; !ret && tries < 100; tries++) {
		ret = udp_count(fd, &nr, who);
		if (ret || nr >= f->nr_sk_packets)
			break;
		usleep(10000);
	}
	if (!ret && nr != f->nr_sk_packets) {
		pr_err("%s: %zu datagrams waited in it, %zu came back (the socket's address unreachable over lo, "
		       "its receive buffer, a device it is bound to?)\n",
		       who, f->nr_sk_packets, nr);
		ret = -EIO;
	}
	return ret;
}

/* act: the plan carried out on a new socket; its fd, or -errno. */
static int make_socket(const struct rfile *f, const struct inet_plan *pl)
{
	const InetSkEntry *e = f->fe->isk;
	char who[32];
	int fd = socket(pl->domain, pl->type, pl->proto), ret;

	if (fd < 0) {
		pr_perror("socket %u: can't make it again", e->id);
		return -errno;
	}
	snprintf(who, sizeof(who), "socket %u", e->id);
	ret = own_socket(f, fd);
	if (!ret)
		ret = set_opts(fd, e, pl, who);
	if (!ret && pl->repair)
		ret = rtree_tcp_repair_on(fd, e->id);
	if (!ret && pl->bind && bind(fd, (const struct sockaddr *)&pl->src, pl->src_len)) {
		ret = -errno;
		pr_perror("socket %u: can't bind it again to port %u", e->id, e->src_port);
	}
	/* before connect, which would take only its peer's, and the shutdown and filter (finish) */
	if (!ret)
		ret = udp_refill(f, fd, pl, who);
	if (!ret && pl->listen && listen(fd, pl->backlog)) {
		ret = -errno;
		pr_perror("socket %u: can't listen again", e->id);
	}
	if (!ret && pl->connect && pl->repair) {
		ret = rtree_tcp_repair(f, fd, (const struct sockaddr *)&pl->dst, pl->dst_len);
	} else if (!ret && pl->connect && connect(fd, (const struct sockaddr *)&pl->dst, pl->dst_len)) {
		ret = -errno;
		pr_perror("socket %u: can't connect it again to port %u", e->id, e->dst_port);
	}
	if (!ret)
		ret = finish(fd, e, pl, who);
	if (ret) {
		close(fd);
		return ret;
	}
	return fd;
}

int inet_sk_open(struct rtree *t, struct rfile *f)
{
	struct inet_plan pl;
	int fd;

	inet_plan(f->fe->isk, f->tcp != NULL, &pl);
	fd = make_socket(f, &pl);
	if (fd < 0)
		return fd;
	return rtree_move_fd(fd, f->table_fd);
}

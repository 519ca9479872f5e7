/*
 * Restore: IPv4/IPv6 TCP and UDP sockets (inet_sk_entry).
 * Parse: only what restore can make (TCP listening, unconnected or
 * established, UDP), addresses of the family's size; an established
 * connection's tcp-stream image read (net/tcp-restore.c).
 * Act: the socket made again in the tree's network namespace, as
 * inet_plan() decides from the entry alone: options (SO_REUSEADDR first,
 * so that the dumped port can be taken), IPV6_V6ONLY, bound to its address
 * and port, then listening with its backlog, or connected (UDP) to its
 * peer; an established TCP connection in repair mode from the start, its
 * state set by net/tcp-restore.c. Then given to its first holder's uid.
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
	    e->backlog > INT32_MAX || (e->opts->so_bound_dev && strlen(e->opts->so_bound_dev) >= 16)) {
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
	} opts[16]; /* after the options every socket has */
	size_t nr_opts;
	const char *bound_dev; /* SO_BINDTODEVICE, or NULL */
	bool linger;	       /* SO_LINGER on, for linger_s */
	int linger_s;
	bool repair; /* an established connection: in repair mode before bind */
	bool bind;
	struct sockaddr_storage src;
	socklen_t src_len;
	bool listen;
	int backlog;
	bool connect; /* to dst: a UDP peer, or the repaired connection's */
	struct sockaddr_storage dst;
	socklen_t dst_len;
	bool async;
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
	int ip = e->family == AF_INET ? IPPROTO_IP : IPPROTO_IPV6;

	memset(pl, 0, sizeof(*pl));
	pl->domain = (int)e->family;
	pl->type = (int)e->type | SOCK_CLOEXEC | (e->flags & O_NONBLOCK ? SOCK_NONBLOCK : 0);
	pl->proto = (int)e->proto;
	plan_opt(pl, o->has_reuseaddr, SOL_SOCKET, SO_REUSEADDR, o->reuseaddr);
	plan_opt(pl, o->has_so_reuseport && o->so_reuseport, SOL_SOCKET, SO_REUSEPORT, 1);
	plan_opt(pl, o->has_so_priority && o->so_priority, SOL_SOCKET, SO_PRIORITY, (int)o->so_priority);
	plan_opt(pl, o->has_so_mark && o->so_mark, SOL_SOCKET, SO_MARK, (int)o->so_mark);
	plan_opt(pl, o->has_so_rcvlowat && o->so_rcvlowat > 1, SOL_SOCKET, SO_RCVLOWAT, (int)o->so_rcvlowat);
	plan_opt(pl, o->has_so_broadcast && o->so_broadcast, SOL_SOCKET, SO_BROADCAST, 1);
	plan_opt(pl, o->has_so_keepalive && o->so_keepalive, SOL_SOCKET, SO_KEEPALIVE, 1);
	if (e->proto == IPPROTO_TCP) {
		plan_opt(pl, o->has_tcp_keepcnt && o->tcp_keepcnt, IPPROTO_TCP, TCP_KEEPCNT, (int)o->tcp_keepcnt);
		plan_opt(pl, o->has_tcp_keepidle && o->tcp_keepidle, IPPROTO_TCP, TCP_KEEPIDLE, (int)o->tcp_keepidle);
		plan_opt(pl, o->has_tcp_keepintvl && o->tcp_keepintvl, IPPROTO_TCP, TCP_KEEPINTVL,
			 (int)o->tcp_keepintvl);
	}
	plan_opt(pl, e->ip_opts && e->ip_opts->has_freebind && e->ip_opts->freebind, ip,
		 e->family == AF_INET ? IP_FREEBIND : IPV6_FREEBIND, 1);
	plan_opt(pl, e->family == AF_INET6 && e->has_v6only, IPPROTO_IPV6, IPV6_V6ONLY, e->v6only);
	pl->bound_dev = o->so_bound_dev && o->so_bound_dev[0] ? o->so_bound_dev : NULL;
	pl->linger = o->has_so_linger;
	pl->linger_s = (int)o->so_linger;
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
}

/* act: the options of the plan, after those every socket has. */
static int set_opts(int fd, const InetSkEntry *e, const struct inet_plan *pl, const char *who)
{
	struct linger lg = {.l_onoff = 1, .l_linger = pl->linger_s};
	int ret = sk_opts_restore(fd, e->opts, who, 0);

	for (size_t i = 0; ret >= 0 && i < pl->nr_opts; i++)
		ret = sk_set_int(fd, pl->opts[i].level, pl->opts[i].name, pl->opts[i].val, who, 0);
	if (ret >= 0 && pl->bound_dev)
		ret = sk_set(fd, SOL_SOCKET, SO_BINDTODEVICE, pl->bound_dev, (socklen_t)strlen(pl->bound_dev), who, 0);
	if (ret >= 0 && pl->linger)
		ret = sk_set(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg), who, 0);
	return ret < 0 ? ret : 0;
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
	ret = set_opts(fd, e, pl, who);
	if (!ret && pl->repair)
		ret = rtree_tcp_repair_on(fd, e->id);
	if (!ret && pl->bind && bind(fd, (const struct sockaddr *)&pl->src, pl->src_len)) {
		ret = -errno;
		pr_perror("socket %u: can't bind it again to port %u", e->id, e->src_port);
	}
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
	if (!ret && pl->async) {
		int fl = fcntl(fd, F_GETFL);

		if (fl < 0 || fcntl(fd, F_SETFL, fl | O_ASYNC))
			pr_warn("socket %u: can't set O_ASYNC: %m\n", e->id);
	}
	if (ret) {
		close(fd);
		return ret;
	}
	return fd;
}

/*
 * A socket belongs to whoever made it (SO_REUSEPORT groups, owner matches
 * of netfilter go by it); criu makes it as root. It is given to the first
 * process, in tree order, that holds it: the one that made it, as a rule
 * (a root master that made the listeners for its workers keeps them).
 */
static void own_socket(const struct rfile *f, int fd)
{
	const struct rproc *p = f->holder;
	const CredsEntry *cr = p && p->core->thread_core ? p->core->thread_core->creds : NULL;

	if (cr && cr->fsuid && fchown(fd, cr->fsuid, (gid_t)-1))
		pr_warn("socket %u: can't give it to uid %u: %m\n", f->fe->id, cr->fsuid);
}

int inet_sk_open(struct rtree *t, struct rfile *f)
{
	struct inet_plan pl;
	int fd;

	inet_plan(f->fe->isk, f->tcp != NULL, &pl);
	fd = make_socket(f, &pl);
	if (fd < 0)
		return fd;
	own_socket(f, fd);
	return rtree_move_fd(fd, f->table_fd);
}

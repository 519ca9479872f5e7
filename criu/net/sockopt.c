/*
 * Socket options, dump and restore, for every socket kind (unix, inet,
 * TCP): the getsockopt/setsockopt wrappers and the SkOptsEntry fields all
 * sockets share, with the attached classic BPF program (so_filter, as
 * upstream: SO_GET_FILTER's instructions, attached again once the socket's
 * queues are filled). What no field carries is refused at dump
 * (net/sockopt-check.c).
 *
 * Error policy, the same for every option, read or set:
 *
 * - A failure is an error. It is printed naming the socket, the option
 *   (and, when setting an int, the value), and the caller fails: a dump
 *   that can't read what a socket is does not guess, a restore that can't
 *   make the socket as it was does not hand the task a different one.
 *
 * - Except the best-effort options, which are those of `opts` below with
 *   a reason, and only these: a failure is a warning (naming the socket,
 *   the option and the reason) and the caller goes on without the option;
 *   when the kernel lacks the option altogether (ENOPROTOOPT) it is only a
 *   debug line, as such a kernel does without it too. They are options
 *   the tasks can't tell apart from the kernel's own choices, or that
 *   only the host's traffic control reads:
 *     SO_SNDBUFFORCE, SO_RCVBUFFORCE  need CAP_NET_ADMIN; the plain option
 *                                     follows (capped by [wr]mem_max)
 *     SO_BUF_LOCK                     Linux 5.14; without it the kernel
 *                                     tunes every size, as before 5.14
 *     SO_PRIORITY, SO_MARK            read by the host's qdiscs, routing
 *                                     and netfilter, not by the tasks;
 *                                     values need CAP_NET_ADMIN
 *
 * - A live socket (SK_LIVE: a TCP connection out of repair mode, at the
 *   end of a restore or when a dump lets the tree run on) can't be failed
 *   without resetting it: every failure there is a warning and the caller
 *   goes on.
 *
 * Every function returns 0, SK_SKIPPED (the warning case) or -errno (the
 * error case), so callers read `if (ret < 0) return ret;`.
 */
#define LOG_PREFIX "sockopt: "

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <stdlib.h>
#include <linux/filter.h>

#include "net/sockopt.h"
#include "util/kerndat.h"
#include "util/log.h"
#include "util/util.h"

#ifndef SO_BUF_LOCK
#define SO_BUF_LOCK 72
#endif

static const struct sk_opt {
	int level, name;
	const char *str;
	const char *best_effort; /* why a failure is only a warning; NULL: an error */
} opts[] = {
	{SOL_SOCKET, SO_DOMAIN, "SO_DOMAIN", NULL},
	{SOL_SOCKET, SO_TYPE, "SO_TYPE", NULL},
	{SOL_SOCKET, SO_PROTOCOL, "SO_PROTOCOL", NULL},
	{SOL_SOCKET, SO_SNDBUF, "SO_SNDBUF", NULL},
	{SOL_SOCKET, SO_RCVBUF, "SO_RCVBUF", NULL},
	{SOL_SOCKET, SO_SNDBUFFORCE, "SO_SNDBUFFORCE",
	 "it needs CAP_NET_ADMIN; SO_SNDBUF is set instead, capped by net.core.wmem_max"},
	{SOL_SOCKET, SO_RCVBUFFORCE, "SO_RCVBUFFORCE",
	 "it needs CAP_NET_ADMIN; SO_RCVBUF is set instead, capped by net.core.rmem_max"},
	{SOL_SOCKET, SO_BUF_LOCK, "SO_BUF_LOCK", "Linux 5.14 has it; without, the kernel tunes every buffer size"},
	{SOL_SOCKET, SO_SNDTIMEO, "SO_SNDTIMEO", NULL},
	{SOL_SOCKET, SO_RCVTIMEO, "SO_RCVTIMEO", NULL},
	{SOL_SOCKET, SO_PASSCRED, "SO_PASSCRED", NULL},
	{SOL_SOCKET, SO_PEEK_OFF, "SO_PEEK_OFF", NULL},
	{SOL_SOCKET, SO_REUSEADDR, "SO_REUSEADDR", NULL},
	{SOL_SOCKET, SO_REUSEPORT, "SO_REUSEPORT", NULL},
	{SOL_SOCKET, SO_PRIORITY, "SO_PRIORITY",
	 "only the host's traffic control reads it (and it may need CAP_NET_ADMIN)"},
	{SOL_SOCKET, SO_MARK, "SO_MARK", "only the host's routing and netfilter read it (and it needs CAP_NET_ADMIN)"},
	{SOL_SOCKET, SO_RCVLOWAT, "SO_RCVLOWAT", NULL},
	{SOL_SOCKET, SO_BROADCAST, "SO_BROADCAST", NULL},
	{SOL_SOCKET, SO_KEEPALIVE, "SO_KEEPALIVE", NULL},
	{SOL_SOCKET, SO_LINGER, "SO_LINGER", NULL},
	{SOL_SOCKET, SO_BINDTODEVICE, "SO_BINDTODEVICE", NULL},
	{SOL_SOCKET, SO_OOBINLINE, "SO_OOBINLINE", NULL},
	{SOL_SOCKET, SO_PASSSEC, "SO_PASSSEC", NULL},
	{SOL_SOCKET, SO_DONTROUTE, "SO_DONTROUTE", NULL},
	{SOL_SOCKET, SO_NO_CHECK, "SO_NO_CHECK", NULL},
	{SOL_SOCKET, SO_LOCK_FILTER, "SO_LOCK_FILTER", NULL},
	{SOL_SOCKET, SO_ATTACH_FILTER, "SO_ATTACH_FILTER (SO_GET_FILTER)", NULL},
	{IPPROTO_IP, IP_TOS, "IP_TOS", NULL},
	{IPPROTO_IP, IP_TTL, "IP_TTL", NULL},
	{IPPROTO_IP, IP_PKTINFO, "IP_PKTINFO", NULL},
	{IPPROTO_IPV6, IPV6_TCLASS, "IPV6_TCLASS", NULL},
	{IPPROTO_IPV6, IPV6_UNICAST_HOPS, "IPV6_UNICAST_HOPS", NULL},
	{IPPROTO_IPV6, IPV6_RECVPKTINFO, "IPV6_RECVPKTINFO", NULL},
	{IPPROTO_IP, IP_FREEBIND, "IP_FREEBIND", NULL},
	{IPPROTO_IP, IP_TRANSPARENT, "IP_TRANSPARENT", NULL},
	{IPPROTO_IPV6, IPV6_FREEBIND, "IPV6_FREEBIND", NULL},
	{IPPROTO_IPV6, IPV6_TRANSPARENT, "IPV6_TRANSPARENT", NULL},
	{IPPROTO_IPV6, IPV6_V6ONLY, "IPV6_V6ONLY", NULL},
	{IPPROTO_TCP, TCP_INFO, "TCP_INFO", NULL},
	{IPPROTO_TCP, TCP_KEEPCNT, "TCP_KEEPCNT", NULL},
	{IPPROTO_TCP, TCP_KEEPIDLE, "TCP_KEEPIDLE", NULL},
	{IPPROTO_TCP, TCP_KEEPINTVL, "TCP_KEEPINTVL", NULL},
	{IPPROTO_TCP, TCP_NODELAY, "TCP_NODELAY", NULL},
	{IPPROTO_TCP, TCP_CORK, "TCP_CORK", NULL},
	{IPPROTO_TCP, TCP_DEFER_ACCEPT, "TCP_DEFER_ACCEPT", NULL},
	{IPPROTO_TCP, TCP_FASTOPEN, "TCP_FASTOPEN", NULL},
	{IPPROTO_TCP, TCP_USER_TIMEOUT, "TCP_USER_TIMEOUT", NULL},
	{IPPROTO_TCP, TCP_MAXSEG, "TCP_MAXSEG", NULL},
	{IPPROTO_TCP, TCP_REPAIR, "TCP_REPAIR (it needs CAP_NET_ADMIN in the socket's network namespace)", NULL},
	{IPPROTO_TCP, TCP_REPAIR_QUEUE, "TCP_REPAIR_QUEUE", NULL},
	{IPPROTO_TCP, TCP_QUEUE_SEQ, "TCP_QUEUE_SEQ", NULL},
	{IPPROTO_TCP, TCP_REPAIR_OPTIONS, "TCP_REPAIR_OPTIONS", NULL},
	{IPPROTO_TCP, TCP_REPAIR_WINDOW, "TCP_REPAIR_WINDOW", NULL},
	{IPPROTO_TCP, TCP_TIMESTAMP, "TCP_TIMESTAMP", NULL},
};

static const struct sk_opt *find_opt(int level, int name)
{
	for (size_t i = 0; i < ARRAY_SIZE(opts); i++)
		if (opts[i].level == level && opts[i].name == name)
			return &opts[i];
	return NULL;
}

const char *sk_opt_name(int level, int name)
{
	const struct sk_opt *o = find_opt(level, name);

	return o ? o->str : "an option";
}

bool sk_opt_best_effort(int level, int name)
{
	const struct sk_opt *o = find_opt(level, name);

	return o && o->best_effort;
}

/*
 * The policy, in one place: what a failure `err` of reading (set false)
 * or setting option level/name of `who` means. `val` is the value being
 * set ("" if none or not an int).
 */
static int failed(int err, int level, int name, bool set, const char *val, const char *who, unsigned flags)
{
	const struct sk_opt *o = find_opt(level, name);
	const char *str = o ? o->str : "an option", *verb = set ? "set" : "read";

	if (o && o->best_effort && err == ENOPROTOOPT) {
		pr_debug("%s: this kernel has no %s\n", who, str);
		return SK_SKIPPED;
	}
	if (o && o->best_effort) {
		pr_warn("%s: can't %s %s%s (%s): %s\n", who, verb, str, val, strerror(err), o->best_effort);
		return SK_SKIPPED;
	}
	if (flags & SK_LIVE) {
		pr_warn("%s: can't %s %s%s: %s\n", who, verb, str, val, strerror(err));
		return SK_SKIPPED;
	}
	if (!o)
		pr_err("%s: can't %s option %d of level %d%s: %s\n", who, verb, name, level, val, strerror(err));
	else
		pr_err("%s: can't %s %s%s: %s\n", who, verb, str, val, strerror(err));
	return -err;
}

int sk_get(int fd, int level, int name, void *v, socklen_t *len, const char *who)
{
	if (getsockopt(fd, level, name, v, len))
		return failed(errno, level, name, false, "", who, 0);
	return 0;
}

int sk_get_int(int fd, int level, int name, int *v, const char *who)
{
	socklen_t l = sizeof(*v);

	*v = 0;
	return sk_get(fd, level, name, v, &l, who);
}

int sk_set(int fd, int level, int name, const void *v, socklen_t len, const char *who, unsigned flags)
{
	if (setsockopt(fd, level, name, v, len))
		return failed(errno, level, name, true, "", who, flags);
	return 0;
}

int sk_set_int(int fd, int level, int name, int v, const char *who, unsigned flags)
{
	char val[24];

	if (!setsockopt(fd, level, name, &v, sizeof(v)))
		return 0;
	snprintf(val, sizeof(val), " to %d", v);
	return failed(errno, level, name, true, val, who, flags);
}

int sk_set_buf(int fd, int name, int size, const char *who, unsigned flags)
{
	int force = name == SO_SNDBUF ? SO_SNDBUFFORCE : SO_RCVBUFFORCE;
	int ret = sk_set_int(fd, SOL_SOCKET, force, size, who, flags);

	return ret == SK_SKIPPED ? sk_set_int(fd, SOL_SOCKET, name, size, who, flags) : ret;
}

/* act: SO_PASSCRED or SO_PASSSEC, of unix sockets (the kernel refuses them on others now: off). */
static int get_pass(int fd, int family, int name, protobuf_c_boolean *has, protobuf_c_boolean *v, const char *who)
{
	int on = 0, ret = 0;

	if (family == AF_UNIX)
		ret = sk_get_int(fd, SOL_SOCKET, name, &on, who);
	else if (getsockopt(fd, SOL_SOCKET, name, &on, &(socklen_t){sizeof(on)}))
		on = 0;
	*has = true;
	*v = on != 0;
	return ret;
}

/* act: the attached classic BPF program; a locked or an eBPF one refused. */
static int filter_dump(int fd, SkOptsEntry *o, const char *who)
{
	socklen_t n = 0;
	int locked = 0, ret;

	/* with no room given, the number of instructions */
	if (getsockopt(fd, SOL_SOCKET, SO_GET_FILTER, NULL, &n)) {
		if (errno == EACCES) {
			pr_err("%s: the socket has an eBPF program attached (SO_ATTACH_BPF), which can't be read "
			       "back\n",
			       who);
			pr_hint("dump the program before it attaches one, or attach a classic BPF one "
				"(SO_ATTACH_FILTER)\n");
			return -EOPNOTSUPP;
		}
		pr_perror("%s: can't read its socket filter (SO_GET_FILTER)", who);
		return -errno;
	}
	ret = sk_get_int(fd, SOL_SOCKET, SO_LOCK_FILTER, &locked, who);
	if (ret < 0)
		return ret;
	if (locked) {
		pr_err("%s: the socket's filter is locked (SO_LOCK_FILTER), which the images can't say\n", who);
		pr_hint("dump the program before it locks its socket filter\n");
		return -EOPNOTSUPP;
	}
	if (!n)
		return 0;
	/* as upstream: each struct sock_filter (8 bytes) in one fixed64 */
	o->so_filter = xzalloc(n * sizeof(*o->so_filter));
	ret = sk_get(fd, SOL_SOCKET, SO_GET_FILTER, o->so_filter, &n, who);
	o->n_so_filter = n;
	return ret;
}

/* act: the int options every socket has, into the entry. */
static int flags_dump(int fd, SkOptsEntry *o, const char *who)
{
	int pri = 0, mark = 0, lowat = 0, keep = 0, bcast = 0, oob = 0, dontroute = 0, nocheck = 0, ret;
	struct linger lg = {0};
	socklen_t ll = sizeof(lg);

	ret = sk_get_int(fd, SOL_SOCKET, SO_PRIORITY, &pri, who);
	if (ret >= 0)
		ret = sk_get_int(fd, SOL_SOCKET, SO_MARK, &mark, who);
	if (ret >= 0)
		ret = sk_get_int(fd, SOL_SOCKET, SO_RCVLOWAT, &lowat, who);
	if (ret >= 0)
		ret = sk_get_int(fd, SOL_SOCKET, SO_KEEPALIVE, &keep, who);
	if (ret >= 0)
		ret = sk_get_int(fd, SOL_SOCKET, SO_BROADCAST, &bcast, who);
	if (ret >= 0)
		ret = sk_get_int(fd, SOL_SOCKET, SO_OOBINLINE, &oob, who);
	if (ret >= 0)
		ret = sk_get_int(fd, SOL_SOCKET, SO_DONTROUTE, &dontroute, who);
	if (ret >= 0)
		ret = sk_get_int(fd, SOL_SOCKET, SO_NO_CHECK, &nocheck, who);
	if (ret >= 0)
		ret = sk_get(fd, SOL_SOCKET, SO_LINGER, &lg, &ll, who);
	if (ret < 0)
		return ret;
	o->has_so_priority = o->has_so_mark = o->has_so_rcvlowat = o->has_so_keepalive = o->has_so_broadcast =
		o->has_so_oobinline = o->has_so_dontroute = o->has_so_no_check = true;
	o->so_priority = (uint32_t)pri;
	o->so_mark = (uint32_t)mark;
	o->so_rcvlowat = (uint32_t)lowat;
	o->so_keepalive = keep != 0;
	o->so_broadcast = bcast != 0;
	o->so_oobinline = oob != 0;
	o->so_dontroute = dontroute != 0;
	o->so_no_check = nocheck != 0;
	if (lg.l_onoff) {
		o->has_so_linger = true;
		o->so_linger = (uint32_t)lg.l_linger;
	}
	return 0;
}

int sk_opts_dump(int fd, int family, SkOptsEntry *o, const char *who)
{
	struct timeval snd = {0}, rcv = {0};
	socklen_t sl = sizeof(snd), rl = sizeof(rcv);
	int sndbuf, rcvbuf, lock, ret;

	ret = sk_get_int(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, who);
	if (ret >= 0)
		ret = sk_get_int(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, who);
	if (ret >= 0)
		ret = sk_get(fd, SOL_SOCKET, SO_SNDTIMEO, &snd, &sl, who);
	if (ret >= 0)
		ret = sk_get(fd, SOL_SOCKET, SO_RCVTIMEO, &rcv, &rl, who);
	if (ret >= 0)
		ret = get_pass(fd, family, SO_PASSCRED, &o->has_so_passcred, &o->so_passcred, who);
	if (ret >= 0)
		ret = get_pass(fd, family, SO_PASSSEC, &o->has_so_passsec, &o->so_passsec, who);
	if (ret >= 0)
		ret = flags_dump(fd, o, who);
	if (ret >= 0)
		ret = filter_dump(fd, o, who);
	if (ret < 0)
		return ret;
	o->so_sndbuf = (uint32_t)sndbuf;
	o->so_rcvbuf = (uint32_t)rcvbuf;
	o->so_snd_tmo_sec = (uint64_t)snd.tv_sec;
	o->so_snd_tmo_usec = (uint64_t)snd.tv_usec;
	o->so_rcv_tmo_sec = (uint64_t)rcv.tv_sec;
	o->so_rcv_tmo_usec = (uint64_t)rcv.tv_usec;
	/* which sizes were set by hand: the others the kernel tunes */
	ret = kdat_has(KF_SOCKOPT_BUF_LOCK) ? sk_get_int(fd, SOL_SOCKET, SO_BUF_LOCK, &lock, who) : SK_SKIPPED;
	if (ret == 0) {
		o->has_so_buf_lock = true;
		o->so_buf_lock = (uint32_t)lock;
	}
	return ret < 0 ? ret : 0;
}

void sk_opts_free(SkOptsEntry *o)
{
	free(o->so_filter);
	o->so_filter = NULL;
	o->n_so_filter = 0;
}

/* act: the boolean and int options of every socket, those not at a new socket's value. */
static int flags_restore(int fd, const SkOptsEntry *o, const char *who, unsigned flags)
{
	const struct {
		bool on;
		int name, val;
	} set[] = {
		{o->has_so_passcred && o->so_passcred, SO_PASSCRED, 1},
		{o->has_so_passsec && o->so_passsec, SO_PASSSEC, 1},
		{o->has_so_priority && o->so_priority, SO_PRIORITY, (int)o->so_priority},
		{o->has_so_mark && o->so_mark, SO_MARK, (int)o->so_mark},
		{o->has_so_rcvlowat && o->so_rcvlowat > 1, SO_RCVLOWAT, (int)o->so_rcvlowat},
		{o->has_so_keepalive && o->so_keepalive, SO_KEEPALIVE, 1},
		{o->has_so_broadcast && o->so_broadcast, SO_BROADCAST, 1},
		{o->has_so_oobinline && o->so_oobinline, SO_OOBINLINE, 1},
		{o->has_so_dontroute && o->so_dontroute, SO_DONTROUTE, 1},
		{o->has_so_no_check && o->so_no_check, SO_NO_CHECK, 1},
	};
	struct linger lg = {.l_onoff = 1, .l_linger = (int)o->so_linger};
	int ret = 0;

	for (size_t i = 0; ret >= 0 && i < ARRAY_SIZE(set); i++)
		if (set[i].on)
			ret = sk_set_int(fd, SOL_SOCKET, set[i].name, set[i].val, who, flags);
	if (ret >= 0 && o->has_so_linger)
		ret = sk_set(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg), who, flags);
	return ret;
}

int sk_opts_restore(int fd, const SkOptsEntry *o, const char *who, unsigned flags)
{
	struct timeval snd = {(time_t)o->so_snd_tmo_sec, (suseconds_t)o->so_snd_tmo_usec};
	struct timeval rcv = {(time_t)o->so_rcv_tmo_sec, (suseconds_t)o->so_rcv_tmo_usec};
	/* the kernel doubles what it is given, and showed the doubled size */
	int sndbuf = (int)(o->so_sndbuf / 2), rcvbuf = (int)(o->so_rcvbuf / 2), ret = 0;

	/*
	 * Setting a size locks it against the kernel's autotuning (accepted
	 * sockets inherit that): only the sizes that were set by hand, when the
	 * image says which (SO_BUF_LOCK bit 0 send, bit 1 receive).
	 */
	if (o->has_so_buf_lock) {
		sndbuf = o->so_buf_lock & 1 ? sndbuf : 0;
		rcvbuf = o->so_buf_lock & 2 ? rcvbuf : 0;
	}
	if (sndbuf)
		ret = sk_set_buf(fd, SO_SNDBUF, sndbuf, who, flags);
	if (ret >= 0 && rcvbuf)
		ret = sk_set_buf(fd, SO_RCVBUF, rcvbuf, who, flags);
	if (ret >= 0)
		ret = sk_set(fd, SOL_SOCKET, SO_SNDTIMEO, &snd, sizeof(snd), who, flags);
	if (ret >= 0)
		ret = sk_set(fd, SOL_SOCKET, SO_RCVTIMEO, &rcv, sizeof(rcv), who, flags);
	if (ret >= 0)
		ret = flags_restore(fd, o, who, flags);
	return ret < 0 ? ret : 0;
}

int sk_filter_restore(int fd, const SkOptsEntry *o, const char *who)
{
	struct sock_fprog p = {.len = (unsigned short)o->n_so_filter, .filter = (struct sock_filter *)o->so_filter};

	if (!o->n_so_filter)
		return 0;
	if (o->n_so_filter > BPF_MAXINSNS) {
		pr_err("%s: a socket filter of %zu instructions, more than the kernel takes\n", who, o->n_so_filter);
		return -EINVAL;
	}
	return sk_set(fd, SOL_SOCKET, SO_ATTACH_FILTER, &p, sizeof(p), who, 0);
}

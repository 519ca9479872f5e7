/*
 * Dump, act: an established TCP connection (--tcp-established, as
 * upstream), read through TCP_REPAIR on criu's copy of the socket. In
 * repair mode the kernel sends nothing for the socket and lets its state
 * be read: the sequence numbers of both queues (TCP_QUEUE_SEQ), their
 * bytes (MSG_PEEK with the queue chosen by TCP_REPAIR_QUEUE: what was
 * received and not read, what was written and not acknowledged), the
 * options the handshake agreed (tcp_info), the clock (TCP_TIMESTAMP)
 * and the windows (TCP_REPAIR_WINDOW). They go to tcp-stream-<inode>.img.
 *
 * The socket stays in repair mode until the dump ends (the descriptor is
 * kept in dump_ctx): a tree that is killed then takes its connections
 * with it silently, with no FIN or RST to the peer, so that the restored
 * socket goes on where this one stopped; a tree that runs on (-R, or a
 * failed dump) gets them back out of repair mode first
 * (tcp_repair_release()).
 *
 * A connection of criu's own network namespace, whose peer may be outside
 * the tree, is locked first (net/net-lock.c: its packets dropped both ways),
 * so that nothing is acknowledged after its queues are read and the peer
 * gets no reset while the tree is gone; restore unlocks it.
 */
#define LOG_PREFIX "task-dump: "

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/sockios.h>
#include <unistd.h>

#include "dump.h"
#include "util/log.h"
#include "net/net-lock.h"
#include "net/sk-family.h"
#include "net/tcp.h"
#include "net/sockopt.h"
#include "task/task-dump.h"
#include "tcp-stream.pb-c.h"
#include "util/util.h"

/* One queue's sequence number and bytes (len of them, peeked into buf). */
static int read_queue(int fd, int q, uint32_t *seq, char *buf, uint32_t len, const char *who)
{
	const char *name = q == TCP_RECV_QUEUE ? "receive" : "send";
	int v, ret;
	ssize_t got;

	ret = sk_set_int(fd, IPPROTO_TCP, TCP_REPAIR_QUEUE, q, who, 0);
	if (ret >= 0)
		ret = sk_get_int(fd, IPPROTO_TCP, TCP_QUEUE_SEQ, &v, who);
	if (ret < 0)
		return ret;
	*seq = (uint32_t)v;
	/* a peek starts at the queue's head each time: it must take it all at once */
	while (len) {
		got = recv(fd, buf, len, MSG_PEEK | MSG_DONTWAIT);
		if (got < 0 && errno == EINTR)
			continue;
		if (got != (ssize_t)len) {
			pr_err("%s: read %zd of the %u bytes in its TCP %s queue%s%s\n", who, got, len, name,
			       got < 0 ? ": " : "", got < 0 ? strerror(errno) : "");
			return -EIO;
		}
		break;
	}
	return 0;
}

static void remember(struct dump_ctx *d, int fd, bool reuse)
{
	d->repaired = xrealloc(d->repaired, (d->nr_repaired + 1) * sizeof(*d->repaired));
	d->repaired[d->nr_repaired++] = (struct tcp_repaired){.fd = fd, .reuse = reuse};
}

/*
 * Urgent data not read yet: SIOCINQ counts only the bytes before its mark
 * (unless SO_OOBINLINE), while the queue's sequence number is past it, so
 * it would be lost. Asked by counting with SO_OOBINLINE on for a moment.
 */
static int urgent_pending(int fd, int inq, const char *who, bool *pending)
{
	int inl, n = inq, ret;

	*pending = false;
	ret = sk_get_int(fd, SOL_SOCKET, SO_OOBINLINE, &inl, who);
	if (ret < 0 || inl)
		return ret < 0 ? ret : 0;
	ret = sk_set_int(fd, SOL_SOCKET, SO_OOBINLINE, 1, who, 0);
	if (ret < 0)
		return ret;
	if (ioctl(fd, SIOCINQ, &n))
		n = inq;
	ret = sk_set_int(fd, SOL_SOCKET, SO_OOBINLINE, 0, who, 0);
	*pending = n != inq;
	return ret < 0 ? ret : 0;
}

/*
 * act: criu's own copy of the socket, in repair mode (kept in dump_ctx
 * until the dump ends), its connection locked first if asked.
 */
static int repair_copy(struct td_ctx *c, const struct td_sock_fd *f, const struct net_lock_conn *lock, const char *who,
		       int *out)
{
	int fd, reuse, ret;

	if (lock) {
		ret = net_lock_tcp_in(c->d->lock_nsfd, lock);
		if (ret) {
			pr_err("%s: can't lock its TCP connection (nftables); dump it with its peer in the tree, or in "
			       "a network namespace of the tree's own\n",
			       who);
			return ret;
		}
		c->d->locked = xrealloc(c->d->locked, (c->d->nr_locked + 1) * sizeof(*c->d->locked));
		c->d->locked[c->d->nr_locked++] = lock->ino;
	}
	fd = fcntl(f->lfd, F_DUPFD_CLOEXEC, 3);
	if (fd < 0) {
		pr_perror("%s: can't keep a copy of the socket", who);
		return -errno;
	}
	ret = sk_get_int(fd, SOL_SOCKET, SO_REUSEADDR, &reuse, who);
	if (ret >= 0)
		ret = sk_set_int(fd, IPPROTO_TCP, TCP_REPAIR, TCP_REPAIR_ON, who, 0);
	if (ret < 0) {
		close(fd);
		return ret;
	}
	remember(c->d, fd, reuse != 0); /* from now on, released (or killed with the tree) with the others */
	*out = fd;
	return 0;
}

/* act: the queues' sizes, and that nothing in them would be lost. */
static int size_queues(int fd, const char *who, int *inq, int *outq, int *unsent)
{
	struct tcp_info ti = {0};
	socklen_t l = sizeof(ti);
	bool urgent;
	int ret = sk_get(fd, IPPROTO_TCP, TCP_INFO, &ti, &l, who);

	if (ret < 0)
		return ret;
	if (ti.tcpi_state != TCP_ESTABLISHED) {
		pr_err("%s: its TCP connection is no longer established (state %u)\n", who, ti.tcpi_state);
		return -EAGAIN;
	}
	if (ioctl(fd, SIOCINQ, inq) || ioctl(fd, SIOCOUTQ, outq) || ioctl(fd, SIOCOUTQNSD, unsent) || *inq < 0 ||
	    *outq < 0 || *unsent < 0 || *unsent > *outq) {
		pr_perror("%s: can't size its TCP queues", who);
		return -EIO;
	}
	ret = urgent_pending(fd, *inq, who, &urgent);
	if (ret < 0)
		return ret;
	if (urgent) {
		pr_err("%s: its TCP connection has urgent (out-of-band) data not read yet, which can't be dumped\n",
		       who);
		return -EOPNOTSUPP;
	}
	return 0;
}

/* act: what the handshake agreed, the clock, the windows and the options of the stream. */
static int read_params(int fd, const char *who, TcpStreamEntry *e)
{
	struct tcp_repair_window win;
	struct tcp_info ti = {0};
	socklen_t l = sizeof(ti), wl = sizeof(win);
	int mss = 0, ts = 0, nodelay = 0, cork = 0, ret;

	ret = sk_get(fd, IPPROTO_TCP, TCP_INFO, &ti, &l, who);
	if (ret >= 0)
		ret = sk_get_int(fd, IPPROTO_TCP, TCP_MAXSEG, &mss, who);
	if (ret >= 0 && (ti.tcpi_options & TCPI_OPT_TIMESTAMPS))
		ret = sk_get_int(fd, IPPROTO_TCP, TCP_TIMESTAMP, &ts, who);
	if (ret >= 0)
		ret = sk_get(fd, IPPROTO_TCP, TCP_REPAIR_WINDOW, &win, &wl, who);
	if (ret >= 0 && wl != sizeof(win)) {
		pr_err("%s: TCP_REPAIR_WINDOW of %u bytes, expected %zu\n", who, wl, sizeof(win));
		ret = -EIO;
	}
	if (ret >= 0)
		ret = sk_get_int(fd, IPPROTO_TCP, TCP_NODELAY, &nodelay, who);
	if (ret >= 0)
		ret = sk_get_int(fd, IPPROTO_TCP, TCP_CORK, &cork, who);
	if (ret < 0)
		return ret;
	e->opt_mask = ti.tcpi_options;
	e->snd_wscale = ti.tcpi_snd_wscale;
	e->has_rcv_wscale = true;
	e->rcv_wscale = ti.tcpi_rcv_wscale;
	e->mss_clamp = (uint32_t)mss;
	e->has_timestamp = (ti.tcpi_options & TCPI_OPT_TIMESTAMPS) != 0;
	e->timestamp = (uint32_t)ts;
	e->has_snd_wl1 = e->has_snd_wnd = e->has_max_window = e->has_rcv_wnd = e->has_rcv_wup = true;
	e->snd_wl1 = win.snd_wl1;
	e->snd_wnd = win.snd_wnd;
	e->max_window = win.max_window;
	e->rcv_wnd = win.rcv_wnd;
	e->rcv_wup = win.rcv_wup;
	e->has_nodelay = e->has_cork = true;
	e->nodelay = nodelay != 0;
	e->cork = cork != 0;
	return 0;
}

int td_dump_tcp_stream(struct td_ctx *c, struct td_proc *p, const struct td_sock_fd *f,
		       const struct net_lock_conn *lock)
{
	TcpStreamEntry e = TCP_STREAM_ENTRY__INIT;
	_cleanup_free_ char *data = NULL;
	int fd = -1, inq = 0, outq = 0, unsent = 0, ret;
	struct img_writer *w;
	char who[48];

	snprintf(who, sizeof(who), "process %d: fd %d", p->pid, f->fd);
	ret = repair_copy(c, f, lock, who, &fd);
	if (!ret)
		ret = size_queues(fd, who, &inq, &outq, &unsent);
	if (ret)
		return ret;
	data = xmalloc((size_t)inq + (size_t)outq + 1);
	ret = read_queue(fd, TCP_RECV_QUEUE, &e.inq_seq, data, (uint32_t)inq, who);
	if (!ret)
		ret = read_queue(fd, TCP_SEND_QUEUE, &e.outq_seq, data + inq, (uint32_t)outq, who);
	if (!ret)
		ret = read_params(fd, who, &e);
	if (ret)
		return ret;
	e.inq_len = (uint32_t)inq;
	e.outq_len = (uint32_t)outq;
	e.has_unsq_len = true;
	e.unsq_len = (uint32_t)unsent;
	w = img_set_new(&c->d->imgs, IMG_TCP_STREAM, (unsigned)f->ino);
	if (!w)
		return -EIO;
	ret = img_write_entry_payload(w, &e.base, data, (size_t)inq + (size_t)outq);
	if (!ret)
		pr_debug("%s: TCP connection, %d bytes received and unread, %d written and unacknowledged (%d of them "
			 "unsent)\n",
			 who, inq, outq, unsent);
	return ret;
}

void tcp_repair_release(struct dump_ctx *d, bool resume)
{
	for (size_t i = 0; i < d->nr_repaired; i++) {
		int fd = d->repaired[i].fd;
		const char *who = "a TCP connection of the tree";

		/* the tree runs on with them: live sockets, whatever fails is said */
		if (resume && !sk_set_int(fd, IPPROTO_TCP, TCP_REPAIR, TCP_REPAIR_OFF, who, SK_LIVE) &&
		    d->repaired[i].reuse)
			sk_set_int(fd, SOL_SOCKET, SO_REUSEADDR, 1, who, SK_LIVE);
		close(fd);
	}
	free(d->repaired);
	d->repaired = NULL;
	d->nr_repaired = 0;
	if (resume && net_unlock_tcp_in(d->lock_nsfd, d->locked, d->nr_locked))
		pr_warn("the network locks of the tree's TCP connections could not all be lifted: nft delete table "
			"inet criu_tcp_<socket inode> lets one through\n");
	if (!resume && d->nr_locked)
		pr_info("%zu TCP connections locked (nftables tables inet criu_tcp_<inode>) until they are "
			"restored\n",
			d->nr_locked);
	free(d->locked);
	d->locked = NULL;
	d->nr_locked = 0;
}

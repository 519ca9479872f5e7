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
 * the tree, is locked first (net-lock.c: its packets dropped both ways),
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
#include "task/task-dump.h"
#include "tcp-stream.pb-c.h"
#include "util/util.h"

static int get_u32(int fd, int name, uint32_t *v, const char *what, const struct td_proc *p, int nr)
{
	int x = 0;
	socklen_t l = sizeof(x);

	if (getsockopt(fd, IPPROTO_TCP, name, &x, &l)) {
		pr_perror("process %d: fd %d: can't read %s of its TCP connection", p->pid, nr, what);
		return -errno;
	}
	*v = (uint32_t)x;
	return 0;
}

/* One queue's sequence number and bytes (len of them, peeked into buf). */
static int read_queue(int fd, int q, uint32_t *seq, char *buf, uint32_t len, const struct td_proc *p, int nr)
{
	const char *name = q == TCP_RECV_QUEUE ? "receive" : "send";
	ssize_t got = 0;

	if (setsockopt(fd, IPPROTO_TCP, TCP_REPAIR_QUEUE, &q, sizeof(q))) {
		pr_perror("process %d: fd %d: can't choose its TCP %s queue", p->pid, nr, name);
		return -errno;
	}
	if (get_u32(fd, TCP_QUEUE_SEQ, seq, "the queue's sequence number", p, nr))
		return -errno;
	/* a peek starts at the queue's head each time: it must take it all at once */
	while (len) {
		got = recv(fd, buf, len, MSG_PEEK | MSG_DONTWAIT);
		if (got < 0 && errno == EINTR)
			continue;
		if (got != (ssize_t)len) {
			pr_err("process %d: fd %d: read %zd of the %u bytes in its TCP %s queue%s%s\n", p->pid, nr,
			       got, len, name, got < 0 ? ": " : "", got < 0 ? strerror(errno) : "");
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
static bool urgent_pending(int fd, int inq)
{
	int inl = 0, on = 1, n = inq;
	socklen_t l = sizeof(inl);

	if (getsockopt(fd, SOL_SOCKET, SO_OOBINLINE, &inl, &l) || inl)
		return false;
	if (!setsockopt(fd, SOL_SOCKET, SO_OOBINLINE, &on, sizeof(on))) {
		if (ioctl(fd, SIOCINQ, &n))
			n = inq;
		setsockopt(fd, SOL_SOCKET, SO_OOBINLINE, &inl, sizeof(inl));
	}
	return n != inq;
}

int td_dump_tcp_stream(struct td_ctx *c, struct td_proc *p, const struct td_sock_fd *f,
		       const struct net_lock_conn *lock)
{
	TcpStreamEntry e = TCP_STREAM_ENTRY__INIT;
	struct tcp_repair_window win;
	struct tcp_info ti;
	socklen_t l;
	int on = TCP_REPAIR_ON, fd, inq = 0, outq = 0, unsent = 0, reuse = 0, ret;
	socklen_t rl = sizeof(reuse);
	_cleanup_free_ char *data = NULL;
	struct img_writer *w;

	if (lock) {
		ret = net_lock_tcp(lock);
		if (ret) {
			pr_err("process %d: fd %d: can't lock its TCP connection (nftables); dump it with its peer in "
			       "the tree, or in a network namespace of the tree's own\n",
			       p->pid, f->fd);
			return ret;
		}
		c->d->locked = xrealloc(c->d->locked, (c->d->nr_locked + 1) * sizeof(*c->d->locked));
		c->d->locked[c->d->nr_locked++] = lock->ino;
	}
	fd = fcntl(f->lfd, F_DUPFD_CLOEXEC, 3);
	if (fd < 0) {
		pr_perror("process %d: can't keep a copy of socket fd %d", p->pid, f->fd);
		return -errno;
	}
	getsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &reuse, &rl);
	if (setsockopt(fd, IPPROTO_TCP, TCP_REPAIR, &on, sizeof(on))) {
		ret = -errno;
		pr_perror("process %d: fd %d: can't put its TCP connection in repair mode (TCP_REPAIR needs "
			  "CAP_NET_ADMIN in the socket's network namespace)",
			  p->pid, f->fd);
		close(fd);
		return ret;
	}
	remember(c->d, fd, reuse != 0); /* from now on, released (or killed with the tree) with the others */

	l = sizeof(ti);
	memset(&ti, 0, sizeof(ti));
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &l) || ti.tcpi_state != TCP_ESTABLISHED) {
		pr_err("process %d: fd %d: its TCP connection is no longer established (state %u)\n", p->pid, f->fd,
		       ti.tcpi_state);
		return -EAGAIN;
	}
	if (ioctl(fd, SIOCINQ, &inq) || ioctl(fd, SIOCOUTQ, &outq) || ioctl(fd, SIOCOUTQNSD, &unsent) || inq < 0 ||
	    outq < 0 || unsent < 0 || unsent > outq) {
		pr_perror("process %d: fd %d: can't size its TCP queues", p->pid, f->fd);
		return -EIO;
	}
	if (urgent_pending(fd, inq)) {
		pr_err("process %d: fd %d: its TCP connection has urgent (out-of-band) data not read yet, which "
		       "can't be dumped\n",
		       p->pid, f->fd);
		return -EOPNOTSUPP;
	}
	data = xmalloc((size_t)inq + (size_t)outq + 1);
	ret = read_queue(fd, TCP_RECV_QUEUE, &e.inq_seq, data, (uint32_t)inq, p, f->fd);
	if (!ret)
		ret = read_queue(fd, TCP_SEND_QUEUE, &e.outq_seq, data + inq, (uint32_t)outq, p, f->fd);
	if (ret)
		return ret;
	e.inq_len = (uint32_t)inq;
	e.outq_len = (uint32_t)outq;
	e.has_unsq_len = true;
	e.unsq_len = (uint32_t)unsent;
	e.opt_mask = ti.tcpi_options;
	e.snd_wscale = ti.tcpi_snd_wscale;
	e.has_rcv_wscale = true;
	e.rcv_wscale = ti.tcpi_rcv_wscale;
	ret = get_u32(fd, TCP_MAXSEG, &e.mss_clamp, "TCP_MAXSEG", p, f->fd);
	if (!ret && (ti.tcpi_options & TCPI_OPT_TIMESTAMPS)) {
		e.has_timestamp = true;
		ret = get_u32(fd, TCP_TIMESTAMP, &e.timestamp, "TCP_TIMESTAMP", p, f->fd);
	}
	if (ret)
		return ret;
	l = sizeof(win);
	if (getsockopt(fd, IPPROTO_TCP, TCP_REPAIR_WINDOW, &win, &l) || l != sizeof(win)) {
		pr_perror("process %d: fd %d: can't read the windows of its TCP connection", p->pid, f->fd);
		return -EIO;
	}
	e.has_snd_wl1 = e.has_snd_wnd = e.has_max_window = e.has_rcv_wnd = e.has_rcv_wup = true;
	e.snd_wl1 = win.snd_wl1;
	e.snd_wnd = win.snd_wnd;
	e.max_window = win.max_window;
	e.rcv_wnd = win.rcv_wnd;
	e.rcv_wup = win.rcv_wup;
	{
		uint32_t v = 0;

		e.has_nodelay = e.has_cork = true;
		ret = get_u32(fd, TCP_NODELAY, &v, "TCP_NODELAY", p, f->fd);
		e.nodelay = v != 0;
		if (!ret)
			ret = get_u32(fd, TCP_CORK, &v, "TCP_CORK", p, f->fd);
		e.cork = v != 0;
		if (ret)
			return ret;
	}
	w = img_set_new(&c->d->imgs, IMG_TCP_STREAM, (unsigned)f->ino);
	if (!w)
		return -EIO;
	ret = img_write_entry_payload(w, &e.base, data, (size_t)inq + (size_t)outq);
	if (!ret)
		pr_debug("process %d: fd %d: TCP connection, %d bytes received and unread, %d written and "
			 "unacknowledged (%d of them unsent)\n",
			 p->pid, f->fd, inq, outq, unsent);
	return ret;
}

void tcp_repair_release(struct dump_ctx *d, bool resume)
{
	int off = TCP_REPAIR_OFF;

	for (size_t i = 0; i < d->nr_repaired; i++) {
		int fd = d->repaired[i].fd, one = 1;

		if (resume && setsockopt(fd, IPPROTO_TCP, TCP_REPAIR, &off, sizeof(off)))
			pr_warn("can't take a TCP connection out of repair mode: %m\n");
		else if (resume && d->repaired[i].reuse && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)))
			pr_warn("can't set SO_REUSEADDR of a TCP connection again: %m\n");
		close(fd);
	}
	free(d->repaired);
	d->repaired = NULL;
	d->nr_repaired = 0;
	if (resume && net_unlock_tcp(d->locked, d->nr_locked))
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

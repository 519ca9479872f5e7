/*
 * Restore: an established TCP connection (tcp-stream-<inode>.img, from
 * dump --tcp-established) made again through TCP_REPAIR, in three steps:
 *
 * - parse (rtree_read_tcp, with the other images): the entry and its two
 *   queues, checked against what the kernel can take;
 * - act, as the socket is made (rtree_tcp_repair, from rtree_open_inet):
 *   in repair mode the kernel sends nothing and lets the state be set:
 *   both queues' sequence numbers, then connect() (no handshake: the
 *   socket is established at once), the options the handshake had agreed
 *   (MSS, window scales, SACK, timestamps), the clock, the bytes received
 *   and not read (into the receive queue) and those sent and not
 *   acknowledged (into the send queue, as sent), then the windows. In
 *   repair mode the socket may share its port with a listener
 *   (SK_FORCE_REUSE), so established connections are made after the
 *   other files;
 * - act, once every task is restored and before any runs
 *   (rtree_tcp_resume, from rtree_restore, on criu's pidfd_getfd copy of
 *   each socket): the locks lifted, all in one transaction, then each out
 *   of repair mode
 *   (the kernel sends a window probe, and retransmits what was not
 *   acknowledged when its timer fires), the bytes never sent written
 *   normally, SO_REUSEADDR set again (leaving repair mode clears it), the
 *   network lock dump put on the connection taken off (net/net-lock.c). A
 *   restore that fails before this leaves the connections as dump did:
 *   their sockets closed in repair mode (silently), still locked, so a
 *   second restore can take them on.
 */
#define LOG_PREFIX "restore: "

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util/log.h"
#include "net/net-lock.h"
#include "net/sockopt.h"
#include "task/rtree.h"
#include "sk-inet.pb-c.h"
#include "tcp-stream.pb-c.h"
#include "util/util.h"

#ifndef SO_BUF_LOCK
#define SO_BUF_LOCK 72
#endif

#define MAX_WSCALE 14	      /* RFC 7323 */
#define MAX_QUEUE  (1U << 30) /* no socket buffer holds more */

bool rfile_tcp_established(const struct rfile *f)
{
	return f->fe->type == FD_TYPES__INETSK && f->fe->isk->proto == IPPROTO_TCP &&
	       f->fe->isk->state == TCP_ESTABLISHED;
}

static int check_stream(const char *name, const TcpStreamEntry *e)
{
	const char *why = NULL;

	if (e->inq_len > MAX_QUEUE || e->outq_len > MAX_QUEUE)
		why = "a queue larger than 1 GiB";
	else if (e->has_unsq_len && e->unsq_len > e->outq_len)
		why = "more bytes unsent than in its send queue";
	else if (e->snd_wscale > MAX_WSCALE || (e->has_rcv_wscale && e->rcv_wscale > MAX_WSCALE))
		why = "a window scale above 14";
	else if (!e->mss_clamp || e->mss_clamp > 65535)
		why = "an MSS of 0 or above 65535";
	if (why) {
		pr_err("%s: the connection has %s\n", name, why);
		return -EINVAL;
	}
	return 0;
}

int rtree_read_tcp(struct rtree *t, struct rfile *f)
{
	struct img_reader r;
	ProtobufCMessage *m = NULL, *extra = NULL;
	char name[64];
	int ret;

	snprintf(name, sizeof(name), "tcp-stream-%x.img", f->fe->isk->ino);
	if (faccessat(t->imgs_dirfd, name, F_OK, 0)) {
		pr_err("files.img: socket %u is an established TCP connection but %s is missing\n", f->fe->id, name);
		return -ENOENT;
	}
	ret = img_reader_open(&r, t->imgs_dirfd, name, IMG_TCP_STREAM);
	if (ret)
		return ret;
	ret = img_read_entry(&r, &m);
	if (ret == 0) {
		pr_err("%s: no entry\n", name);
		ret = -EINVAL;
	}
	if (ret > 0) {
		/* the queues, before the reader moves on (and forgets them) */
		f->tcp_data = xmalloc(r.payload_len + 1);
		memcpy(f->tcp_data, r.payload, r.payload_len);
	}
	if (ret > 0 && img_read_entry(&r, &extra) != 0) {
		pr_err("%s: more than one entry\n", name);
		ret = -EINVAL;
	}
	if (ret > 0)
		ret = check_stream(name, (const TcpStreamEntry *)m);
	if (ret >= 0) {
		f->tcp = (TcpStreamEntry *)m;
		m = NULL;
		ret = 0;
	}
	if (m)
		protobuf_c_message_free_unpacked(m, NULL);
	if (extra)
		protobuf_c_message_free_unpacked(extra, NULL);
	img_reader_close(&r);
	return ret;
}

void rfile_free_tcp(struct rfile *f)
{
	if (f->tcp)
		protobuf_c_message_free_unpacked(&f->tcp->base, NULL);
	free(f->tcp_data);
	f->tcp = NULL;
	f->tcp_data = NULL;
}

/* "socket ID", for sockopt's messages. */
static const char *who(uint32_t id, char *buf, size_t len)
{
	snprintf(buf, len, "socket %u", id);
	return buf;
}

/* len bytes of p sent on fd: 0, or -errno (-EIO if nothing was taken); *done says how many went. */
static int send_all(int fd, const uint8_t *p, size_t len, size_t *done)
{
	for (*done = 0; *done < len;) {
		ssize_t n = send(fd, p + *done, len - *done, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		*done += (size_t)n;
	}
	return 0;
}

/* The queue q's bytes put back (with send: as sent, in repair mode). */
static int fill_queue(int fd, int q, uint32_t id, const uint8_t *p, size_t len)
{
	char w[32];
	size_t done;
	int ret = sk_set_int(fd, IPPROTO_TCP, TCP_REPAIR_QUEUE, q, who(id, w, sizeof(w)), 0);

	if (!ret && (ret = send_all(fd, p, len, &done)))
		pr_err("socket %u: can't put back %zu bytes of its TCP %s queue: %s\n", id, len - done,
		       q == TCP_RECV_QUEUE ? "receive" : "send", strerror(-ret));
	return ret;
}

int rtree_tcp_repair_on(int fd, uint32_t id)
{
	char w[32];

	return sk_set_int(fd, IPPROTO_TCP, TCP_REPAIR, TCP_REPAIR_ON, who(id, w, sizeof(w)), 0);
}

int rtree_tcp_repair(const struct rfile *f, int fd, const struct sockaddr *peer, unsigned peer_len)
{
	const TcpStreamEntry *e = f->tcp;
	uint32_t id = f->fe->isk->id;
	struct tcp_repair_opt opts[4];
	int nopts = 0, ret;
	size_t sent = e->outq_len - (e->has_unsq_len ? e->unsq_len : 0);
	char w[32];

	who(id, w, sizeof(w));
	/* where each queue starts: writing the bytes back moves it to where it was */
	ret = sk_set_int(fd, IPPROTO_TCP, TCP_REPAIR_QUEUE, TCP_RECV_QUEUE, w, 0);
	if (!ret)
		ret = sk_set_int(fd, IPPROTO_TCP, TCP_QUEUE_SEQ, (int)(e->inq_seq - e->inq_len), w, 0);
	if (!ret)
		ret = sk_set_int(fd, IPPROTO_TCP, TCP_REPAIR_QUEUE, TCP_SEND_QUEUE, w, 0);
	if (!ret)
		ret = sk_set_int(fd, IPPROTO_TCP, TCP_QUEUE_SEQ, (int)(e->outq_seq - e->outq_len), w, 0);
	if (ret)
		return ret;
	if (connect(fd, peer, (socklen_t)peer_len)) {
		pr_perror("socket %u: can't connect its TCP connection again (repair mode)", id);
		return -errno;
	}
	opts[nopts++] = (struct tcp_repair_opt){.opt_code = TCPOPT_MAXSEG, .opt_val = e->mss_clamp};
	if (e->opt_mask & TCPI_OPT_WSCALE)
		opts[nopts++] = (struct tcp_repair_opt){.opt_code = TCPOPT_WINDOW,
							.opt_val = e->snd_wscale | (e->rcv_wscale << 16)};
	if (e->opt_mask & TCPI_OPT_SACK)
		opts[nopts++] = (struct tcp_repair_opt){.opt_code = TCPOPT_SACK_PERMITTED};
	if (e->opt_mask & TCPI_OPT_TIMESTAMPS)
		opts[nopts++] = (struct tcp_repair_opt){.opt_code = TCPOPT_TIMESTAMP};
	ret = sk_set(fd, IPPROTO_TCP, TCP_REPAIR_OPTIONS, opts, (socklen_t)(nopts * sizeof(opts[0])), w, 0);
	if (!ret && e->has_timestamp)
		ret = sk_set_int(fd, IPPROTO_TCP, TCP_TIMESTAMP, (int)e->timestamp, w, 0);
	/*
	 * Room for the queues whatever the buffer sizes (the kernel doubles
	 * what it is given): the dumped sizes come back in rtree_tcp_resume,
	 * once the bytes never sent are written too.
	 */
	if (!ret && (e->inq_len || e->outq_len)) {
		int rcv = (int)(e->inq_len + (256U << 10)), snd = (int)(e->outq_len + (256U << 10));

		ret = sk_set_buf(fd, SO_RCVBUF, rcv, w, 0);
		if (!ret)
			ret = sk_set_buf(fd, SO_SNDBUF, snd, w, 0);
	}
	if (!ret)
		ret = fill_queue(fd, TCP_RECV_QUEUE, id, f->tcp_data, e->inq_len);
	if (!ret)
		ret = fill_queue(fd, TCP_SEND_QUEUE, id, f->tcp_data + e->inq_len, sent);
	if (!ret && e->has_snd_wl1 && e->has_snd_wnd && e->has_max_window && e->has_rcv_wnd && e->has_rcv_wup) {
		struct tcp_repair_window win = {.snd_wl1 = e->snd_wl1,
						.snd_wnd = e->snd_wnd,
						.max_window = e->max_window,
						.rcv_wnd = e->rcv_wnd,
						.rcv_wup = e->rcv_wup};

		ret = sk_set(fd, IPPROTO_TCP, TCP_REPAIR_WINDOW, &win, sizeof(win), w, 0);
	}
	if (!ret && e->has_nodelay && e->nodelay)
		ret = sk_set_int(fd, IPPROTO_TCP, TCP_NODELAY, 1, w, 0);
	if (!ret && e->has_cork && e->cork)
		ret = sk_set_int(fd, IPPROTO_TCP, TCP_CORK, 1, w, 0);
	return ret < 0 ? ret : 0;
}

/*
 * f's socket, at fd (criu's copy of it), out of repair mode: from here
 * on it is live, so what goes wrong is said and the restore goes on (a
 * failure would kill the tree and reset the connection).
 */
static void resume_one(const struct rfile *f, int fd)
{
	const TcpStreamEntry *e = f->tcp;
	uint32_t id = f->fe->isk->id, unsent = e->has_unsq_len ? e->unsq_len : 0;
	const uint8_t *p = f->tcp_data + e->inq_len + (e->outq_len - unsent);
	char w[32];

	who(id, w, sizeof(w));
	if (sk_set_int(fd, IPPROTO_TCP, TCP_REPAIR, TCP_REPAIR_OFF, w, SK_LIVE))
		return;
	if (f->fe->isk->opts->has_reuseaddr && f->fe->isk->opts->reuseaddr)
		sk_set_int(fd, SOL_SOCKET, SO_REUSEADDR, 1, w, SK_LIVE);
	{
		size_t done;
		int err = send_all(fd, p, unsent, &done);

		if (err)
			pr_err("socket %u: %zu of the %u bytes its TCP connection had not sent yet are lost: %s\n", id,
			       unsent - done, unsent, strerror(-err));
	}
	/* the buffer sizes as dumped: those set by hand again, the others to the kernel's tuning */
	if (e->inq_len || e->outq_len) {
		const SkOptsEntry *o = f->fe->isk->opts;

		sk_opts_restore(fd, o, w, SK_LIVE);
		if (o->has_so_buf_lock)
			sk_set_int(fd, SOL_SOCKET, SO_BUF_LOCK, (int)o->so_buf_lock, w, SK_LIVE);
	}
}

/*
 * The locks lifted where dump made them: criu's network namespace, or the
 * tree's when it is another (the runtime's, dumped as external or with
 * --empty-ns; in a new empty one there is nothing to lift, and nft says
 * so quietly).
 */
static int unlock_tcp(const struct rtree *t, const uint32_t *inos, size_t n)
{
	char path[64];
	struct stat a, b;
	int fd, ret;

	snprintf(path, sizeof(path), "/proc/%d/ns/net", t->procs[0].host_pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &a) || stat("/proc/self/ns/net", &b) || a.st_ino == b.st_ino) {
		if (fd >= 0)
			close(fd);
		return net_unlock_tcp(inos, n);
	}
	ret = net_unlock_tcp_in(fd, inos, n);
	close(fd);
	return ret;
}

/*
 * In three steps, so that nothing fails once a connection is live: a copy
 * of every socket (pidfd_getfd from its first holder; a failure here
 * leaves all as dump left them); the locks lifted in one transaction
 * (not for a tree in a lo-only namespace of its own, which dump doesn't
 * lock); then each out of repair mode.
 */
int rtree_tcp_resume(const struct rtree *t)
{
	_cleanup_free_ int *fds = xzalloc((t->nr_files + 1) * sizeof(*fds));
	_cleanup_free_ uint32_t *inos = xzalloc((t->nr_files + 1) * sizeof(*inos));
	size_t n = 0;
	int ret = 0;

	for (size_t i = 0; i < t->nr_files && !ret; i++) {
		const struct rfile *f = &t->files[i];
		int pidfd;

		if (!f->tcp || !f->holder)
			continue; /* not an established connection, or held by no descriptor (not made) */
		pidfd = (int)syscall(SYS_pidfd_open, f->holder->host_pid, 0);
		fds[n] = pidfd < 0 ? -1 : (int)syscall(SYS_pidfd_getfd, pidfd, f->holder_fd, 0);
		if (pidfd >= 0)
			close(pidfd);
		if (fds[n] < 0) {
			ret = -errno;
			pr_perror("socket %u: can't reach it in process %d (fd %d) to take it out of repair mode",
				  f->fe->isk->id, f->holder->vpid, f->holder_fd);
			break;
		}
		inos[n++] = f->fe->isk->ino;
	}
	if (!ret && n && !t->netdev && unlock_tcp(t, inos, n))
		pr_warn("the network locks of these TCP connections could not all be lifted: nft delete table inet "
			"criu_tcp_<socket inode> lets one through\n");
	for (size_t i = 0, k = 0; !ret && i < t->nr_files; i++)
		if (t->files[i].tcp && t->files[i].holder)
			resume_one(&t->files[i], fds[k++]);
	for (size_t k = 0; k < n; k++)
		close(fds[k]);
	if (!ret && n)
		pr_info("%zu TCP connections out of repair mode%s\n", n, t->netdev ? "" : " and unlocked");
	return ret;
}

size_t rtree_nr_tcp(const struct rtree *t)
{
	size_t n = 0;

	for (size_t i = 0; i < t->nr_files; i++)
		n += t->files[i].tcp != NULL;
	return n;
}

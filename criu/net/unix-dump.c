/*
 * Unix sockets of a seized tree (see task-dump.h), what of them can come
 * back whole:
 * - a connected pair whose both ends are in the tree (socketpair(2), or a
 *   connection made and accepted inside it), with the data queued in each
 *   direction; restore makes it with socketpair(2), so a connected
 *   socket's own and peer names are not kept;
 * - a listening socket with no connection waiting, bound to an absolute
 *   path (whose socket file must still be the bound one) or an abstract
 *   name;
 * - an unconnected socket, bound or not, with nothing queued.
 * Each with its owner (fstat: its holder's fsuid and fsgid, which restore
 * gives it) and SO_PEERCRED's pid, euid and egid (SO_PEERGROUPS the named
 * process's groups), which restore makes again (net/unix-restore.c).
 * The rest is refused with the reason: a peer outside the tree, a datagram
 * socket connected to one that is not connected back, connections waiting
 * to be accepted, descriptors in flight (SCM_RIGHTS), a relative or
 * deleted bound path, an option the images can't carry set
 * (net/sockopt-check.c), an eBPF or locked filter, datagrams waiting in an
 * unconnected socket, a socket of other ids than its holder's filesystem
 * ids, SO_PEERCRED naming a process outside the tree or, on the two ends
 * of a datagram pair, different processes or ids, SO_PEERGROUPS other than
 * the named process's groups.
 *
 * The kernel tells state, name, peer and queue lengths through sock_diag
 * (net/sk-diag.c); queued data is read with MSG_PEEK from our copy of the
 * descriptor, SO_PEEK_OFF walking it, so the tasks still read it after.
 */
#define LOG_PREFIX "task-dump: "

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "fdinfo.pb-c.h"
#include "util/log.h"
#include "net/sk-diag.h"
#include "net/sk-family.h"
#include "net/unix.h"
#include "net/sockopt.h"
#include "sk-packet.pb-c.h"
#include "task/task-dump.h"
#include "util/util.h"
#include "task/userns.h"

#define TCP_ESTABLISHED 1
#define TCP_CLOSE	7
#define TCP_LISTEN	10
#define PEEK_CHUNK	(256U << 10)

/* A dumped unix socket, for the peer check once every task is done. */
struct td_unix {
	uint32_t ino, peer;
	pid_t pid;
	int fd;
	bool pair_data; /* its queue was saved: it must be in a pair */
	uint32_t type;
	bool has_cred; /* SO_PEERCRED names a process (pid in the tree's namespace) */
	uint32_t cred_pid, cred_uid, cred_gid;
	pid_t cred_outside; /* SO_PEERCRED names this process, not of the tree */
};

int td_write_sk_packet(struct td_ctx *c, uint32_t id, const void *addr, size_t addr_len, const void *data, size_t len)
{
	SkPacketEntry e = SK_PACKET_ENTRY__INIT;

	if (!c->sk_queues_img) {
		c->sk_queues_img = img_set_new(&c->d->imgs, IMG_SK_QUEUES, 0);
		if (!c->sk_queues_img)
			return -EIO;
	}
	e.id_for = id;
	e.length = (uint32_t)len;
	if (addr_len) {
		e.has_addr = true;
		e.addr.data = (uint8_t *)addr;
		e.addr.len = addr_len;
	}
	return img_write_entry_payload(c->sk_queues_img, &e.base, data, len);
}

/*
 * One peek at the queue, from SO_PEEK_OFF on, into buf: how many bytes
 * (0 at the end of a stream), -EAGAIN once nothing is left, -EOPNOTSUPP
 * for descriptors in flight (our copies of them closed again), or -errno.
 */
static ssize_t peek_next(int lfd, void *buf, size_t len, int *msg_flags)
{
	char cbuf[CMSG_SPACE(sizeof(int) * 64)];
	struct iovec iov = {.iov_base = buf, .iov_len = len};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};
	bool rights = false;
	ssize_t n;

	do
		n = recvmsg(lfd, &mh, MSG_PEEK | MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS) {
			int *fds = (int *)CMSG_DATA(cm);

			for (size_t k = 0; k < (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int); k++)
				close(fds[k]);
			rights = true;
		}
	}
	*msg_flags = mh.msg_flags;
	return rights || (mh.msg_flags & MSG_CTRUNC) ? -EOPNOTSUPP : n;
}

/*
 * The socket's receive queue, peeked: stream data as one packet, each
 * datagram as its own, from SO_PEEK_OFF 0 on.
 */
static int peek_queue(struct td_ctx *c, pid_t pid, int fd, int lfd, int type, uint32_t id, bool rcv_shut)
{
	_cleanup_free_ char *buf = NULL;
	size_t packets = 0, len = 0, cap = 0;
	int flags = 0, ret = 0;

	for (;;) {
		ssize_t n;

		if (cap - len < PEEK_CHUNK) {
			cap = len + PEEK_CHUNK;
			buf = xrealloc(buf, cap);
		}
		n = peek_next(lfd, buf + len, cap - len, &flags);
		if (n == -EAGAIN)
			break;
		if (n == -EOPNOTSUPP) {
			pr_err("process %d: unix socket fd %d has descriptors in flight (SCM_RIGHTS), which can't be "
			       "dumped yet\n",
			       pid, fd);
			return -EOPNOTSUPP;
		}
		if (n < 0) {
			pr_err("process %d: can't peek into unix socket fd %d: %s\n", pid, fd, strerror((int)-n));
			return (int)n;
		}
		/* 0 is the end for a stream, and for a seqpacket socket whose
		 * reading side is shut (an empty record otherwise) */
		if (n == 0 && (type == SOCK_STREAM || (type == SOCK_SEQPACKET && rcv_shut)))
			break;
		if (++packets > (1U << 20)) {
			pr_err("process %d: unix socket fd %d: more than a million packets queued\n", pid, fd);
			return -E2BIG;
		}
		if (type == SOCK_STREAM) {
			len += (size_t)n;
			continue;
		}
		/* a datagram: its own packet (a truncated one would be cut) */
		if (flags & MSG_TRUNC) {
			pr_err("process %d: a datagram of unix socket fd %d is larger than %u bytes\n", pid, fd,
			       PEEK_CHUNK);
			return -EOPNOTSUPP;
		}
		ret = td_write_sk_packet(c, id, NULL, 0, buf, (size_t)n);
		if (ret)
			return ret;
	}
	return type == SOCK_STREAM && len ? td_write_sk_packet(c, id, NULL, 0, buf, len) : 0;
}

/* The queue saved with SO_PEEK_OFF put back as the task had it, whatever happened. */
static int dump_queue(struct td_ctx *c, pid_t pid, int fd, int lfd, int type, uint32_t id, uint32_t rqlen,
		      bool rcv_shut)
{
	int off = -1, ret, put;
	char who[48];

	snprintf(who, sizeof(who), "process %d: fd %d", pid, fd);
	ret = sk_get_int(lfd, SOL_SOCKET, SO_PEEK_OFF, &off, who);
	if (ret < 0)
		return ret;
	ret = sk_set_int(lfd, SOL_SOCKET, SO_PEEK_OFF, 0, who, 0);
	if (ret >= 0)
		ret = peek_queue(c, pid, fd, lfd, type, id, rcv_shut);
	put = sk_set_int(lfd, SOL_SOCKET, SO_PEEK_OFF, off, who, 0);
	if (ret >= 0 && put < 0)
		ret = put;
	if (ret >= 0)
		pr_debug("process %d: unix socket fd %d: %u bytes queued\n", pid, fd, rqlen);
	return ret < 0 ? ret : 0;
}

/* A path the socket was bound to must still be its socket file; *perms its
 * mode and owner, which restore gives the new one. */
static int check_bound_path(pid_t pid, int fd, const struct unix_diag_info *di, FilePermsEntry *perms)
{
	char path[PATH_MAX + 32];
	struct stat st;

	if (di->name[0] != '/') {
		pr_err("process %d: unix socket fd %d is bound to the relative path %.*s; not supported\n", pid, fd,
		       (int)di->name_len, di->name);
		return -EOPNOTSUPP;
	}
	snprintf(path, sizeof(path), "/proc/%d/root%.*s", pid, (int)di->name_len, di->name);
	if (!di->has_vfs || stat(path, &st) || !S_ISSOCK(st.st_mode) || st.st_ino != di->vfs_ino) {
		pr_err("process %d: unix socket fd %d is bound to %.*s, whose socket file was deleted or replaced; not "
		       "supported\n",
		       pid, fd, (int)di->name_len, di->name);
		return -EOPNOTSUPP;
	}
	perms->mode = st.st_mode & 07777;
	perms->uid = userns_uid(st.st_uid); /* as the tree's user namespace sees them */
	perms->gid = userns_gid(st.st_gid);
	return 0;
}

/* act: how many datagrams wait in the socket (peeked from SO_PEEK_OFF 0 on, put back after); -1 if unknown. */
static int count_queued(int lfd)
{
	_cleanup_free_ char *buf = xmalloc(PEEK_CHUNK);
	int off = -1, zero = 0, n = 0;
	socklen_t l = sizeof(off);

	if (getsockopt(lfd, SOL_SOCKET, SO_PEEK_OFF, &off, &l) ||
	    setsockopt(lfd, SOL_SOCKET, SO_PEEK_OFF, &zero, sizeof(zero)))
		return -1;
	while (n < (1 << 20) && recv(lfd, buf, PEEK_CHUNK, MSG_PEEK | MSG_DONTWAIT) >= 0)
		n++;
	if (setsockopt(lfd, SOL_SOCKET, SO_PEEK_OFF, &off, sizeof(off)))
		return -1;
	return n;
}

/* What the kernel (sock_diag) and the socket itself tell of a unix socket. */
struct unix_facts {
	struct unix_diag_info di;
	bool queued_unconnected; /* an unconnected socket has data queued */
	int nr_queued;		 /* how many datagrams (-1: can't tell) */
	bool oob;		 /* a connected stream socket has an out-of-band byte pending */
	uid_t uid;		 /* the socket inode's owner (its maker's fsuid and fsgid, or fchown's) */
	gid_t gid;
	struct ucred cred; /* SO_PEERCRED (pid in criu's namespace; 0: it names none) */
};

/* act: the socket's state, name, peer and queues, as far as the decision needs them. */
static int read_facts(struct td_ctx *c, const struct td_proc *p, const struct td_sock_fd *f, struct unix_facts *u)
{
	struct stat st;
	char b;
	int ret;

	if (fstat(f->lfd, &st)) {
		pr_perror("process %d: can't stat unix socket fd %d", p->pid, f->fd);
		return -errno;
	}
	u->uid = st.st_uid;
	u->gid = st.st_gid;
	ret = sk_get(f->lfd, SOL_SOCKET, SO_PEERCRED, &u->cred, &(socklen_t){sizeof(u->cred)}, "SO_PEERCRED");
	if (ret < 0)
		return ret;
	if (c->unix_nl < 0) {
		c->unix_nl = unix_diag_open(c->procs[0].pid);
		if (c->unix_nl < 0)
			return c->unix_nl;
	}
	ret = unix_diag_get(c->unix_nl, (uint32_t)f->ino, &u->di);
	if (ret) {
		pr_err("process %d: sock_diag knows nothing of unix socket fd %d (socket:[%lu]): %s\n", p->pid, f->fd,
		       (unsigned long)f->ino, strerror(-ret));
		return ret;
	}
	/* the length the kernel tells of a datagram queue is its first packet's:
	 * an empty one would hide the rest, so ask the queue itself */
	if (!u->di.peer && u->di.state != TCP_LISTEN)
		u->queued_unconnected = recv(f->lfd, &b, 1, MSG_PEEK | MSG_DONTWAIT) >= 0;
	if (u->queued_unconnected)
		u->nr_queued = count_queued(f->lfd);
	if (u->di.peer && u->di.type == SOCK_STREAM)
		u->oob = recv(f->lfd, &b, 1, MSG_OOB | MSG_PEEK | MSG_DONTWAIT) == 1;
	return 0;
}

/* decide, pure: can restore make this socket again? Says why not. */
static int check_facts(const struct td_proc *p, const struct td_sock_fd *f, const struct unix_facts *u)
{
	const struct unix_diag_info *di = &u->di;

	if (di->type != SOCK_STREAM && di->type != SOCK_DGRAM && di->type != SOCK_SEQPACKET) {
		pr_err("process %d: unix socket fd %d is of type %u; not supported\n", p->pid, f->fd, di->type);
		return -EOPNOTSUPP;
	}
	if (di->state == TCP_LISTEN && di->nr_icons) {
		pr_err("process %d: listening unix socket fd %d has %u connections waiting to be accepted, which can't "
		       "be dumped yet\n",
		       p->pid, f->fd, di->nr_icons);
		return -EOPNOTSUPP;
	}
	if (di->state == TCP_LISTEN && !di->name_len) {
		pr_err("process %d: unix socket fd %d listens without a name; not supported\n", p->pid, f->fd);
		return -EOPNOTSUPP;
	}
	if (u->queued_unconnected) {
		pr_err("process %d: unconnected unix socket fd %d (socket:[%lu]) has %d datagrams queued, from other "
		       "sockets, which can't be dumped yet\n",
		       p->pid, f->fd, (unsigned long)f->ino, u->nr_queued);
		pr_hint("dump the program once it has read the datagrams waiting in its unix sockets\n");
		return -EOPNOTSUPP;
	}
	/* restore gives a socket to its holder's fsuid and fsgid (as stat shows them) */
	if (u->uid != p->status.uid[3] || u->gid != p->status.gid[3]) {
		pr_err("process %d: unix socket fd %d belongs to uid %u gid %u, and the process's filesystem ids are "
		       "uid %u gid %u: restore would give it to those\n",
		       p->pid, f->fd, u->uid, u->gid, p->status.uid[3], p->status.gid[3]);
		pr_hint("dump the program once its sockets are its own (made under its ids, or given with fchown)\n");
		return -EOPNOTSUPP;
	}
	if (di->peer == (uint32_t)f->ino) {
		pr_err("process %d: unix socket fd %d is connected to itself; not supported\n", p->pid, f->fd);
		return -EOPNOTSUPP;
	}
	if (u->oob) {
		pr_err("process %d: unix socket fd %d has an out-of-band byte pending, which can't be dumped yet\n",
		       p->pid, f->fd);
		return -EOPNOTSUPP;
	}
	if (!di->peer && di->state == TCP_ESTABLISHED) {
		pr_err("process %d: unix socket fd %d was connected to a socket that is gone; not supported\n", p->pid,
		       f->fd);
		return -EOPNOTSUPP;
	}
	return 0;
}

static int cmp_gid(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* act: are the groups SO_PEERGROUPS names (sorted) those of `now`? */
static bool same_groups(int lfd, const struct proc_id_list *now)
{
	_cleanup_free_ uint32_t *g = NULL, *want = NULL;
	socklen_t len = 0;

	if (getsockopt(lfd, SOL_SOCKET, SO_PEERGROUPS, NULL, &len) && errno != ERANGE)
		return false;
	if (len / sizeof(*g) != now->nr)
		return false;
	if (!len)
		return true;
	g = xmalloc(len);
	if (getsockopt(lfd, SOL_SOCKET, SO_PEERGROUPS, g, &len) || len / sizeof(*g) != now->nr)
		return false;
	want = xmalloc(len);
	memcpy(want, now->ids, len);
	qsort(g, now->nr, sizeof(*g), cmp_gid);
	qsort(want, now->nr, sizeof(*want), cmp_gid);
	return !memcmp(g, want, len);
}

/*
 * SO_PEERCRED, as restore makes it again (a pair made, or listen called,
 * by a task of that pid with those ids, and the groups the process has
 * now, which SO_PEERGROUPS must name): the pid the tree's. 1 if it names a
 * process of the tree, 0 if none, -1 if one outside the tree (refused once
 * every socket is seen, after the peers' own reasons), -2 refused now.
 */
static int peer_cred(struct td_ctx *c, const struct td_sock_fd *f, const struct unix_facts *u, SkUcredEntry *e)
{
	const struct td_proc *named;

	if (!u->cred.pid)
		return 0;
	named = hmap_get_int(&c->by_pid, (uint64_t)u->cred.pid);
	if (!named)
		return -1;
	if (!same_groups(f->lfd, &named->status.groups)) {
		pr_err("unix socket socket:[%lu] names process %d as its peer (SO_PEERCRED), with other supplementary "
		       "groups (SO_PEERGROUPS) than the process has now, which restore gives it\n",
		       (unsigned long)f->ino, u->cred.pid);
		pr_hint("dump the program once its processes keep the groups they made their sockets with\n");
		return -2;
	}
	e->pid = (uint32_t)named->vpid;
	e->uid = userns_uid(u->cred.uid);
	e->gid = userns_gid(u->cred.gid);
	return 1;
}

/* The entry, from what was read (its pointers into di and o). */
static void fill_entry(const struct td_sock_fd *f, const struct unix_diag_info *di, UnixSkEntry *u)
{
	u->ino = (uint32_t)f->ino;
	u->type = di->type;
	u->state = di->state;
	u->flags = f->flags & ~(uint32_t)O_CLOEXEC;
	u->backlog = di->state == TCP_LISTEN ? di->wqlen : 0;
	u->peer = di->peer;
	u->name.data = (uint8_t *)di->name;
	u->name.len = di->name_len;
	u->has_shutdown = true;
	u->shutdown = (SkShutdown)(di->shutdown & 3);
}

/* For the peer check once every task is dumped. */
static void remember(struct td_ctx *c, const struct td_proc *p, const struct td_sock_fd *f, uint32_t peer,
		     uint32_t type, const SkUcredEntry *cred, pid_t cred_outside)
{
	struct td_unix *t = xzalloc(sizeof(*t));

	t->cred_outside = cred_outside;
	t->type = type;
	if (cred) {
		t->has_cred = true;
		t->cred_pid = cred->pid;
		t->cred_uid = cred->uid;
		t->cred_gid = cred->gid;
	}
	t->ino = (uint32_t)f->ino;
	t->peer = peer;
	t->pid = p->pid;
	t->fd = f->fd;
	hmap_put_int(&c->unix_socks, t->ino, t);
}

/* act: the options the images can't carry, compared with a new socket's. */
static int check_uncarried(int fd, const struct unix_diag_info *di, const char *who)
{
	int ref = sk_ref_open(fd, AF_UNIX, di->type, 0, who), ret;

	if (ref < 0)
		return ref;
	ret = sk_refuse_uncarried(fd, ref, AF_UNIX, di->state, who);
	close(ref);
	return ret;
}

int td_dump_unix(struct td_ctx *c, struct td_proc *p, const struct td_sock_fd *f, int family, uint32_t id,
		 FownEntry *fown)
{
	FileEntry fe = FILE_ENTRY__INIT;
	UnixSkEntry u = UNIX_SK_ENTRY__INIT;
	SkOptsEntry o = SK_OPTS_ENTRY__INIT;
	FilePermsEntry perms = FILE_PERMS_ENTRY__INIT;
	SkUcredEntry cred = SK_UCRED_ENTRY__INIT;
	struct unix_facts uf = {0};
	int cred_found = 0;
	const struct unix_diag_info *di = &uf.di;
	char who[48];
	int ret;

	ret = read_facts(c, p, f, &uf);
	if (!ret)
		ret = check_facts(p, f, &uf);
	if (!ret)
		cred_found = peer_cred(c, f, &uf, &cred);
	if (cred_found > 0)
		u.peer_cred = &cred;
	if (cred_found == -2)
		ret = -EOPNOTSUPP;
	/* a connected socket comes back from socketpair: its name is not used */
	if (!ret && !di->peer && di->name_len && di->name[0] != '\0') {
		ret = check_bound_path(p->pid, f->fd, di, &perms);
		u.file_perms = &perms;
	}
	if (!ret && di->peer)
		ret = dump_queue(c, p->pid, f->fd, f->lfd, di->type, id, di->rqlen, di->shutdown & 1);
	snprintf(who, sizeof(who), "process %d: fd %d", p->pid, f->fd);
	if (!ret)
		ret = check_uncarried(f->lfd, di, who);
	if (!ret)
		ret = sk_opts_dump(f->lfd, AF_UNIX, &o, who);
	if (ret) {
		sk_opts_free(&o);
		return ret;
	}
	fill_entry(f, di, &u);
	u.id = id;
	u.fown = fown;
	u.opts = &o;
	fe.type = FD_TYPES__UNIXSK;
	fe.id = id;
	fe.usk = &u;
	ret = td_write_file_entry(c, &fe);
	sk_opts_free(&o);
	if (!ret)
		remember(c, p, f, di->peer, di->type, u.peer_cred, cred_found < 0 ? uf.cred.pid : 0);
	return ret;
}

/* A socket whose SO_PEERCRED names a process restore can't make: refused. */
static int check_cred_outside(const struct td_unix *t)
{
	if (!t->cred_outside)
		return 0;
	pr_err("process %d: unix socket fd %d names process %d as its peer (SO_PEERCRED: the one that made the "
	       "pair, listened or connected), which is not in the tree (gone, or outside it): restore can't name it "
	       "again\n",
	       t->pid, t->fd, t->cred_outside);
	pr_hint("dump the tree that holds the process which made the socket, or a program that made its sockets "
		"itself\n");
	return -EOPNOTSUPP;
}

int td_unix_check_peers(struct td_ctx *c)
{
	hmap_for_each(&c->unix_socks, it) {
		const struct td_unix *t = it.val;
		const struct td_unix *peer;

		if (!t || !t->peer)
			continue;
		peer = hmap_get_int(&c->unix_socks, t->peer);
		if (!peer) {
			pr_err("process %d: fd %d is a unix socket connected to socket:[%u], outside the tree; not "
			       "supported\n",
			       t->pid, t->fd, t->peer);
			return -EOPNOTSUPP;
		}
		if (peer->peer != t->ino) {
			pr_err("process %d: unix socket fd %d is connected to fd %d of process %d, which is not "
			       "connected back (a datagram socket sending to a bound one); not supported\n",
			       t->pid, t->fd, peer->fd, peer->pid);
			return -EOPNOTSUPP;
		}
		/* restore makes a pair (both ends name its maker), or a connection
		 * (each end names its own), which a datagram socket has not */
		if (t->has_cred != peer->has_cred ||
		    (t->type == SOCK_DGRAM && (t->cred_pid != peer->cred_pid || t->cred_uid != peer->cred_uid ||
					       t->cred_gid != peer->cred_gid))) {
			pr_err("process %d: unix socket fd %d names process %u (uid %u gid %u) as its peer, and its "
			       "peer fd %d of process %d names process %u (uid %u gid %u) (SO_PEERCRED): restore can't "
			       "make such a pair\n",
			       t->pid, t->fd, t->cred_pid, t->cred_uid, t->cred_gid, peer->fd, peer->pid,
			       peer->cred_pid, peer->cred_uid, peer->cred_gid);
			pr_hint("dump the program once such connections are closed, or make them with socketpair(2)\n");
			return -EOPNOTSUPP;
		}
	}
	hmap_for_each(&c->unix_socks, it) {
		if (it.val && check_cred_outside(it.val))
			return -EOPNOTSUPP;
	}
	return 0;
}

void td_unix_fini(struct td_ctx *c)
{
	hmap_for_each(&c->unix_socks, it)
		free(it.val);
	hmap_free(&c->unix_socks);
	if (c->unix_nl >= 0)
		close(c->unix_nl);
	c->unix_nl = -1;
	c->sk_queues_img = NULL;
}

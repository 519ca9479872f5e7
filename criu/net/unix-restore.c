/*
 * Restore: unix sockets (net/unix-dump.c says which can be dumped).
 * Parse: each entry of a type, state and name restore can make; every
 * connected socket's peer a socket of the images connected back, of its
 * type; sk-queues.img's packets belong to such pairs, or are UDP
 * datagrams with their senders (net/inet-restore.c sends them again).
 * Act, by the root in the new namespaces before it forks (the file table):
 * a pair is made with socketpair(2) and each side's queued packets sent to
 * it from the other; a listening socket is bound (a stale socket file at
 * its path, the dumped socket's, is removed first) and listens; an
 * unconnected one is made, and bound if it was. The pair is made, and
 * listen(2) called, by a task of the pid and ids SO_PEERCRED named
 * (as_creator); a pair whose ends name different ones is a connection made
 * through a listener of its own. Every socket is given to its holder's
 * fsuid and fsgid.
 */
#define LOG_PREFIX "restore: "

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "image/image.h"
#include "net/inet.h"
#include "net/unix.h"
#include "util/log.h"
#include "net/sockopt.h"
#include "task/rtree.h"
#include "sk-packet.pb-c.h"
#include "util/syscalls.h"
#include "util/util.h"

#define TCP_ESTABLISHED 1
#define TCP_CLOSE	7
#define TCP_LISTEN	10

/*
 * decide, pure: may socket f have packet e? A connected unix socket (no
 * sender), or a UDP one, whose datagram has a sender of its family.
 */
static bool queue_owner_ok(const struct rfile *f, const SkPacketEntry *e)
{
	const InetSkEntry *i = f ? f->fe->isk : NULL;
	sa_family_t fam = 0;

	if (f && f->fe->type == FD_TYPES__UNIXSK)
		return f->sk_peer && !e->has_addr;
	if (!f || f->fe->type != FD_TYPES__INETSK || !i || i->proto != IPPROTO_UDP || !e->has_addr ||
	    e->addr.len < sizeof(sa_family_t) || e->addr.len > sizeof(struct sockaddr_storage) ||
	    e->length > UDP_MAX_PAYLOAD)
		return false;
	memcpy(&fam, e->addr.data, sizeof(fam));
	return fam == i->family &&
	       e->addr.len >= (fam == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6));
}

static int read_queues(struct rtree *t)
{
	struct img_reader r;
	ProtobufCMessage *m;
	int ret;

	if (faccessat(t->imgs_dirfd, "sk-queues.img", F_OK, 0))
		return 0;
	ret = img_reader_open(&r, t->imgs_dirfd, "sk-queues.img", IMG_SK_QUEUES);
	if (ret)
		return ret;
	while ((ret = img_read_entry(&r, &m)) > 0) {
		SkPacketEntry *e = (SkPacketEntry *)m;
		struct rfile *f = rtree_file(t, e->id_for);
		struct sk_packet *pk;

		if (!queue_owner_ok(f, e)) {
			pr_err("sk-queues.img: data for socket %u, which is no connected unix socket nor UDP socket of "
			       "files.img, or a UDP datagram without a sender of its family\n",
			       e->id_for);
			protobuf_c_message_free_unpacked(m, NULL);
			ret = -EINVAL;
			break;
		}
		f->sk_packets = xrealloc(f->sk_packets, (f->nr_sk_packets + 1) * sizeof(*f->sk_packets));
		pk = &f->sk_packets[f->nr_sk_packets++];
		memset(pk, 0, sizeof(*pk));
		if (e->has_addr) {
			memcpy(&pk->addr, e->addr.data, e->addr.len);
			pk->addr_len = (socklen_t)e->addr.len;
		}
		pk->len = r.payload_len;
		pk->data = xmalloc(pk->len ? pk->len : 1);
		memcpy(pk->data, r.payload, pk->len);
		protobuf_c_message_free_unpacked(m, NULL);
	}
	img_reader_close(&r);
	return ret < 0 ? ret : 0;
}

int unix_sk_check(const FileEntry *fe)
{
	const UnixSkEntry *u = fe->usk;

	if (!u || !u->opts)
		return file_lacks(fe);
	if ((u->type != SOCK_STREAM && u->type != SOCK_DGRAM && u->type != SOCK_SEQPACKET) ||
	    (u->state != TCP_ESTABLISHED && u->state != TCP_CLOSE && u->state != TCP_LISTEN) ||
	    u->name.len > sizeof(((struct sockaddr_un *)0)->sun_path) || (u->state == TCP_LISTEN && !u->name.len) ||
	    (u->name.len && u->name.data[0] != '\0' && u->name.data[0] != '/') ||
	    (u->name.len && u->name.data[0] == '/' && strnlen((const char *)u->name.data, u->name.len) < u->name.len &&
	     memchr(u->name.data, '\0', u->name.len) != u->name.data + u->name.len - 1)) {
		pr_err("files.img: unix socket %u: type %u, state %u or name (%zu bytes) that can't be restored\n",
		       fe->id, u->type, u->state, u->name.len);
		return -EINVAL;
	}
	return 0;
}

const FownEntry *unix_sk_fown(const FileEntry *fe)
{
	return fe->usk ? fe->usk->fown : NULL;
}

static bool same_cred(const SkUcredEntry *a, const SkUcredEntry *b)
{
	return (!a && !b) || (a && b && a->pid == b->pid && a->uid == b->uid && a->gid == b->gid);
}

int unix_sk_link(struct rtree *t)
{
	struct hmap by_ino;
	int ret = 0;

	hmap_init(&by_ino);
	for (size_t i = 0; i < t->nr_files; i++)
		if (t->files[i].fe->type == FD_TYPES__UNIXSK)
			hmap_put_int(&by_ino, t->files[i].fe->usk->ino, &t->files[i]);
	for (size_t i = 0; !ret && i < t->nr_files; i++) {
		struct rfile *f = &t->files[i], *p;

		if (f->fe->type != FD_TYPES__UNIXSK || !f->fe->usk->peer)
			continue;
		p = hmap_get_int(&by_ino, f->fe->usk->peer);
		if (!p || p == f || p->fe->usk->peer != f->fe->usk->ino || p->fe->usk->type != f->fe->usk->type) {
			pr_err("files.img: unix socket %u is connected to socket:[%u], which is not a socket of the "
			       "images connected back to it\n",
			       f->fe->id, f->fe->usk->peer);
			ret = -EINVAL;
			break;
		}
		if (!!f->fe->usk->peer_cred != !!p->fe->usk->peer_cred ||
		    (f->fe->usk->type == SOCK_DGRAM && !same_cred(f->fe->usk->peer_cred, p->fe->usk->peer_cred))) {
			pr_err("files.img: unix sockets %u and %u, a pair, name different peers (SO_PEERCRED), which "
			       "restore can't make\n",
			       f->fe->id, p->fe->id);
			ret = -EINVAL;
			break;
		}
		f->sk_peer = p;
	}
	hmap_free(&by_ino);
	return ret ? ret : read_queues(t);
}

void unix_sk_free(struct rtree *t)
{
	for (size_t i = 0; i < t->nr_files; i++) {
		for (size_t k = 0; k < t->files[i].nr_sk_packets; k++)
			free(t->files[i].sk_packets[k].data);
		free(t->files[i].sk_packets);
		t->files[i].sk_packets = NULL;
		t->files[i].nr_sk_packets = 0;
	}
}

/*
 * A socket's inode belongs to its maker's fsuid and fsgid (stat shows
 * them); criu makes it as root. It is given to its first holder's, as dump
 * checked it was.
 */
static int own_socket(const struct rfile *f, int fd)
{
	const struct rproc *p = f->holder;
	const CredsEntry *cr = p && p->core->thread_core ? p->core->thread_core->creds : NULL;

	if (cr && fchown(fd, cr->fsuid, cr->fsgid)) {
		pr_perror("unix socket %u: can't give it to uid %u gid %u", f->fe->id, cr->fsuid, cr->fsgid);
		return -errno;
	}
	return 0;
}

static int set_opts(const struct rfile *f, int fd)
{
	char who[32];
	int ret = own_socket(f, fd);

	if (ret)
		return ret;

	snprintf(who, sizeof(who), "unix socket %u", f->fe->id);
	return sk_opts_restore(fd, f->fe->usk->opts, who, 0);
}

/* The supplementary groups of the process SO_PEERCRED names (SO_PEERGROUPS). */
struct creator_groups {
	const gid_t *ids;
	size_t nr;
};

/* act: op by the root itself, for a moment with the named ids and groups as its effective ones. */
static int as_root_creator(const SkUcredEntry *cr, const struct creator_groups *gr, int (*op)(const void *arg),
			   const void *arg, uint32_t id)
{
	_cleanup_free_ gid_t *saved = NULL;
	uid_t ru, eu, su;
	gid_t rg, eg, sg;
	int nr = getgroups(0, NULL), ret;

	if (nr < 0)
		return -errno;
	saved = xmalloc(((size_t)nr + 1) * sizeof(*saved));
	if (getgroups(nr, saved) < 0 || getresuid(&ru, &eu, &su) || getresgid(&rg, &eg, &sg))
		return -errno;
	if (setgroups(gr->nr, gr->ids) || setresgid((gid_t)-1, cr->gid, (gid_t)-1) ||
	    setresuid((uid_t)-1, cr->uid, (uid_t)-1)) {
		ret = -errno;
		pr_perror("unix socket %u: can't take uid %u gid %u for its SO_PEERCRED", id, cr->uid, cr->gid);
	} else {
		ret = op(arg);
	}
	/* back to its own, whatever happened */
	if (setresuid((uid_t)-1, eu, (uid_t)-1) || setresgid((gid_t)-1, eg, (gid_t)-1) ||
	    setgroups((size_t)nr, saved)) {
		pr_perror("unix socket %u: can't take back uid %u gid %u", id, eu, eg);
		return -errno;
	}
	return ret;
}

/*
 * SO_PEERCRED names whoever made a pair, or called listen(2), as it was
 * then (pid, euid, egid): the step `op` is taken by a task of the dumped
 * pid with the dumped ids. The root, if that is its pid, for a moment with
 * those as its effective ids; else a child of that pid (clone3 set_tid,
 * the pid still free: no task of the tree is forked yet) sharing the file
 * table, which ends once done and leaves the pid to the task forked later.
 * The pid then names a task that is gone, as far as a pidfd goes.
 */
static int as_creator(const SkUcredEntry *cr, const struct creator_groups *gr, int (*op)(const void *arg),
		      const void *arg, uint32_t id)
{
	pid_t tid = (pid_t)cr->pid;
	long child;
	int status;

	if (tid == getpid())
		return as_root_creator(cr, gr, op, arg, id);
	struct clone_args a = {
		.flags = CLONE_FILES,
		.exit_signal = SIGCHLD,
		.set_tid = (uint64_t)(uintptr_t)&tid,
		.set_tid_size = 1,
	};
	child = sys_clone3(&a);
	if (child < 0) {
		pr_perror("unix socket %u: can't make it in a task of pid %d, which its SO_PEERCRED names", id, tid);
		return -errno;
	}
	if (child == 0) {
		if (setgroups(gr->nr, gr->ids) || setresgid(cr->gid, cr->gid, cr->gid) ||
		    setresuid(cr->uid, cr->uid, cr->uid)) {
			pr_perror("unix socket %u: can't take uid %u gid %u and %zu groups for its SO_PEERCRED", id,
				  cr->uid, cr->gid, gr->nr);
			_exit(1);
		}
		_exit(op(arg) ? 1 : 0);
	}
	if (waitpid((pid_t)child, &status, 0) < 0)
		return -errno;
	return WIFEXITED(status) && !WEXITSTATUS(status) ? 0 : -EIO;
}

/* What a pair is made as: its type, the table slots of its two ends. */
struct pair_op {
	int type, slot[2];
};

/* act: socketpair(2), the ends at their slots of the file table. */
static int make_pair(const void *arg)
{
	const struct pair_op *po = arg;
	int sv[2], ret = 0;

	if (socketpair(AF_UNIX, po->type | SOCK_CLOEXEC, 0, sv) < 0) {
		pr_perror("socketpair");
		return -errno;
	}
	if (dup2(sv[0], po->slot[0]) < 0 || dup2(sv[1], po->slot[1]) < 0) {
		ret = -errno;
		pr_perror("socketpair: can't put the ends in the file table");
	}
	close(sv[0]);
	close(sv[1]);
	return ret;
}

/* act: listen(2) on the socket at *arg with its backlog at arg[1]. */
static int make_listen(const void *arg)
{
	const int *fd_backlog = arg;

	if (listen(fd_backlog[0], fd_backlog[1]) < 0) {
		pr_perror("listen");
		return -errno;
	}
	return 0;
}

/* How a connection is made: the socket type, the listener's name, the slot of the connecting end. */
struct connect_op {
	int type, slot;
	struct sockaddr_un name;
	socklen_t name_len;
};

/* act: a socket connected to the listener, at its slot of the file table. */
static int make_connect(const void *arg)
{
	const struct connect_op *co = arg;
	int fd = socket(AF_UNIX, co->type | SOCK_CLOEXEC, 0), ret = 0;

	if (fd < 0) {
		pr_perror("socket");
		return -errno;
	}
	if (connect(fd, (const struct sockaddr *)&co->name, co->name_len) < 0 || dup2(fd, co->slot) < 0) {
		ret = -errno;
		pr_perror("can't connect to the listener of a pair's connection");
	}
	close(fd);
	return ret;
}

/* act: op as whoever SO_PEERCRED names (cr), with the groups that process has (SO_PEERGROUPS), or as criu for none. */
static int as_named(struct rtree *t, const SkUcredEntry *cr, int (*op)(const void *arg), const void *arg, uint32_t id)
{
	const struct rproc *p = cr ? rtree_proc(t, (pid_t)cr->pid) : NULL;
	const CredsEntry *c = p && p->core->thread_core ? p->core->thread_core->creds : NULL;
	struct creator_groups gr = {.ids = c ? c->groups : NULL, .nr = c ? c->n_groups : 0};

	if (!cr)
		return op(arg);
	return as_creator(cr, &gr, op, arg, id);
}

/* f's queued packets, sent to it through its peer's end `from`. */
static int refill(const struct rfile *f, int from)
{
	for (size_t i = 0; i < f->nr_sk_packets; i++) {
		const struct sk_packet *pk = &f->sk_packets[i];
		size_t off = 0;

		do {
			ssize_t n = send(from, pk->data + off, pk->len - off, MSG_DONTWAIT | MSG_NOSIGNAL);

			if (n < 0) {
				pr_perror("unix socket %u: can't queue %zu bytes again", f->fe->id, pk->len);
				return -errno;
			}
			off += (size_t)n;
		} while (off < pk->len && f->fe->usk->type == SOCK_STREAM);
	}
	return 0;
}

/* The last of a socket: its shutdown state, flags and filter (after its queue, which passed it once). */
static int finish(const struct rfile *f, int fd)
{
	const UnixSkEntry *u = f->fe->usk;
	int how = u->has_shutdown ? (int)u->shutdown : 0;
	char who[32];

	snprintf(who, sizeof(who), "unix socket %u", f->fe->id);
	/* SK_SHUTDOWN READ 1, WRITE 2, BOTH 3; shutdown(2) wants 0, 1, 2 */
	if (how && shutdown(fd, how - 1) < 0 && errno != ENOTCONN) {
		pr_perror("unix socket %u: shutdown", f->fe->id);
		return -errno;
	}
	if (fcntl(fd, F_SETFL, u->flags & O_NONBLOCK) < 0)
		return -errno;
	return sk_filter_restore(fd, u->opts, who);
}

/*
 * Is the socket file at `path` a stale one, its socket gone? Only then may
 * it be removed: connect(2) is refused there (nobody listens). A live
 * socket, or anything but a socket, stays where it is.
 */
static bool stale_socket(int dirfd, const char *base, const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct stat st;
	bool stale;
	int s;

	if (fstatat(dirfd, base, &st, AT_SYMLINK_NOFOLLOW) || !S_ISSOCK(st.st_mode))
		return false;
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return false;
	memcpy(sa.sun_path, path, strnlen(path, sizeof(sa.sun_path))); /* 108 bytes need no NUL */
	stale = connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno == ECONNREFUSED;
	close(s);
	return stale;
}

/*
 * Binds to the dumped name (in the holder's mount namespace, which the root
 * is in while it opens the holder's files). For a path: the socket file the
 * dumped socket left there is removed first (only a stale socket, reached
 * without following symlinks), and the new one gets the dumped mode and
 * owner.
 */
static int bind_name(const struct rfile *f, int fd)
{
	const UnixSkEntry *u = f->fe->usk;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char path[sizeof(sa.sun_path) + 1], *slash;
	int dirfd = -1, ret = 0;

	memcpy(sa.sun_path, u->name.data, u->name.len);
	if (u->name.data[0] == '/') {
		const char *base;

		memcpy(path, u->name.data, u->name.len);
		path[u->name.len] = '\0';
		slash = strrchr(path, '/');
		*slash = '\0';
		base = slash + 1;
		dirfd = sys_openat2(AT_FDCWD, path[0] ? path : "/", O_PATH | O_DIRECTORY | O_CLOEXEC,
				    RESOLVE_NO_SYMLINKS);
		*slash = '/';
		if (dirfd < 0) {
			pr_perror("unix socket %u: can't reach the directory of %s (without symlinks)", f->fe->id,
				  path);
			return -errno;
		}
		if (!faccessat(dirfd, base, F_OK, AT_SYMLINK_NOFOLLOW)) {
			if (!stale_socket(dirfd, base, path)) {
				pr_err("unix socket %u: %s is in use (a live socket or another file); it can't be "
				       "bound there\n",
				       f->fe->id, path);
				close(dirfd);
				return -EADDRINUSE;
			}
			unlinkat(dirfd, base, 0);
		}
	}
	if (bind(fd, (struct sockaddr *)&sa, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + u->name.len)) < 0) {
		ret = -errno;
		pr_perror("unix socket %u: can't bind to its name", f->fe->id);
	}
	if (!ret && dirfd >= 0 && u->file_perms) {
		const char *base = strrchr(path, '/') + 1;

		if (fchownat(dirfd, base, u->file_perms->uid, u->file_perms->gid, AT_SYMLINK_NOFOLLOW) ||
		    fchmodat(dirfd, base, u->file_perms->mode & 07777, 0)) {
			ret = -errno;
			pr_perror("unix socket %u: can't give %s its dumped mode %o and owner %u:%u", f->fe->id, path,
				  u->file_perms->mode & 07777, u->file_perms->uid, u->file_perms->gid);
		}
	}
	if (dirfd >= 0)
		close(dirfd);
	return ret;
}

/*
 * A connection whose ends name different processes (SO_PEERCRED: the
 * connecting end names whoever listened, the accepted end whoever
 * connected): through a listener of its own (an autobound name) on which
 * listen is called as f's, connect as its peer's; the accepted end is the
 * peer's. Their names are that listener's, not the dumped ones.
 */
static int make_connection(struct rtree *t, struct rfile *f, const struct pair_op *po)
{
	const UnixSkEntry *u = f->fe->usk;
	struct connect_op co = {.type = po->type, .slot = po->slot[0], .name_len = sizeof(co.name)};
	int l = socket(AF_UNIX, po->type | SOCK_CLOEXEC, 0), fd_backlog[2] = {l, 1}, s, ret;

	if (l < 0 || bind(l, (struct sockaddr *)&(struct sockaddr_un){.sun_family = AF_UNIX}, sizeof(sa_family_t)) ||
	    getsockname(l, (struct sockaddr *)&co.name, &co.name_len)) {
		ret = -errno;
		pr_perror("unix socket %u: can't make a listener for its connection", f->fe->id);
		if (l >= 0)
			close(l);
		return ret;
	}
	ret = as_named(t, u->peer_cred, make_listen, fd_backlog, f->fe->id);
	if (!ret)
		ret = as_named(t, f->sk_peer->fe->usk->peer_cred, make_connect, &co, f->fe->id);
	if (!ret) {
		s = accept4(l, NULL, NULL, SOCK_CLOEXEC);
		if (s < 0 || dup2(s, po->slot[1]) < 0) {
			ret = -errno;
			pr_perror("unix socket %u: can't accept its connection", f->fe->id);
		}
		if (s >= 0)
			close(s);
	}
	close(l);
	return ret;
}

/* A pair, both ends at their table slots, made by whom SO_PEERCRED names. */
static int open_pair(struct rtree *t, struct rfile *f)
{
	const UnixSkEntry *u = f->fe->usk;
	struct pair_op po = {.type = (int)u->type, .slot = {f->table_fd, f->sk_peer->table_fd}};
	int ret = same_cred(u->peer_cred, f->sk_peer->fe->usk->peer_cred)
			  ? as_named(t, u->peer_cred, make_pair, &po, f->fe->id)
			  : make_connection(t, f, &po);

	if (!ret)
		ret = set_opts(f, po.slot[0]);
	if (!ret)
		ret = set_opts(f->sk_peer, po.slot[1]);
	if (!ret)
		ret = refill(f, po.slot[1]);
	if (!ret)
		ret = refill(f->sk_peer, po.slot[0]);
	if (!ret)
		ret = finish(f, po.slot[0]);
	if (!ret)
		ret = finish(f->sk_peer, po.slot[1]);
	f->sk_made = !ret;
	return ret;
}

int unix_sk_open(struct rtree *t, struct rfile *f)
{
	const UnixSkEntry *u = f->fe->usk;
	int fd, ret = 0;

	if (f->sk_peer)
		return f->sk_peer->sk_made ? 0 : open_pair(t, f); /* made with its peer, or now */
	fd = socket(AF_UNIX, (int)u->type | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		pr_perror("unix socket %u", f->fe->id);
		return -errno;
	}
	ret = set_opts(f, fd);
	if (!ret && u->name.len)
		ret = bind_name(f, fd);
	if (!ret && u->state == TCP_LISTEN) {
		int fd_backlog[2] = {fd, u->backlog ? (int)u->backlog : 128};

		ret = as_named(t, u->peer_cred, make_listen, fd_backlog, f->fe->id);
	}
	if (!ret)
		ret = finish(f, fd);
	if (!ret && dup2(fd, f->table_fd) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

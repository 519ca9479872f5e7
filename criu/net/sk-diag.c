/*
 * NETLINK_SOCK_DIAG queries: see sk-diag.h. For a unix socket one request
 * per socket, by inode (and no cookie), answered by one message; for an
 * inet one, which can't be asked for by inode, the sockets of its protocol
 * are listed and it is found among them.
 */
#define LOG_PREFIX "sk-diag: "

#include <errno.h>
#include <fcntl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util/log.h"
#include "net/sk-diag.h"
#include "util/util.h"

int unix_diag_open(pid_t pid)
{
	char path[64];
	int self, theirs, nl = -1, err = 0;

	snprintf(path, sizeof(path), "/proc/%d/ns/net", pid);
	self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	theirs = open(path, O_RDONLY | O_CLOEXEC);
	if (self < 0 || theirs < 0) {
		err = -errno;
		pr_perror("can't open the network namespace of %d", pid);
		goto out;
	}
	/* the socket belongs to the namespace it is made in: theirs */
	if (setns(theirs, CLONE_NEWNET)) {
		err = -errno;
		pr_perror("can't enter the network namespace of %d", pid);
		goto out;
	}
	nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (nl < 0)
		err = -errno;
	if (setns(self, CLONE_NEWNET)) {
		pr_perror("can't come back to criu's network namespace");
		err = err ? err : -errno;
		if (nl >= 0)
			close(nl);
		nl = -1;
	}
	if (nl < 0 && err)
		pr_err("can't open a sock_diag socket: %s\n", strerror(-err));
out:
	if (self >= 0)
		close(self);
	if (theirs >= 0)
		close(theirs);
	return err ? err : nl;
}

static void parse_attrs(const struct unix_diag_msg *m, size_t len, struct unix_diag_info *out)
{
	const struct nlattr *a = (const void *)(m + 1);
	size_t left = len - sizeof(*m);

	while (left >= sizeof(*a) && a->nla_len >= sizeof(*a) && a->nla_len <= left) {
		const void *v = (const char *)a + NLA_HDRLEN;
		size_t vlen = a->nla_len - NLA_HDRLEN;

		switch (a->nla_type) {
		case UNIX_DIAG_NAME:
			out->name_len = vlen < sizeof(out->name) - 1 ? vlen : sizeof(out->name) - 1;
			memcpy(out->name, v, out->name_len);
			/* a path, without the terminating NULs the kernel may keep */
			while (out->name_len && out->name[0] && !out->name[out->name_len - 1])
				out->name_len--;
			break;
		case UNIX_DIAG_PEER:
			if (vlen >= 4)
				memcpy(&out->peer, v, 4);
			break;
		case UNIX_DIAG_RQLEN:
			if (vlen >= sizeof(struct unix_diag_rqlen)) {
				const struct unix_diag_rqlen *q = v;

				out->rqlen = q->udiag_rqueue;
				out->wqlen = q->udiag_wqueue;
			}
			break;
		case UNIX_DIAG_ICONS:
			out->nr_icons = (uint32_t)(vlen / 4);
			break;
		case UNIX_DIAG_SHUTDOWN:
			if (vlen >= 1)
				out->shutdown = *(const uint8_t *)v;
			break;
		case UNIX_DIAG_VFS:
			if (vlen >= sizeof(struct unix_diag_vfs)) {
				const struct unix_diag_vfs *f = v;

				out->has_vfs = true;
				out->vfs_ino = f->udiag_vfs_ino;
				out->vfs_dev = f->udiag_vfs_dev;
			}
			break;
		}
		size_t step = NLA_ALIGN((size_t)a->nla_len);

		if (step >= left)
			break;
		left -= step;
		a = (const void *)((const char *)a + step);
	}
}

/*
 * One sock_diag request and its answer: sends `req` and reads messages of
 * sequence `seq`, each SOCK_DIAG_BY_FAMILY one given to on_msg, until the
 * end of a dump, an error, or on_msg says it is done (returns <= 0: that is
 * the result). A request without NLM_F_DUMP ends with its one answer.
 */
static int diag_exchange(int nl, const void *req, size_t len, uint32_t seq,
			 int (*on_msg)(const struct nlmsghdr *h, void *arg, bool last), void *arg)
{
	char buf[16384] __attribute__((aligned(8)));
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
	int n, ret;

	if (sendto(nl, req, len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	for (;;) {
		n = (int)recv(nl, buf, sizeof(buf), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		for (struct nlmsghdr *h = (void *)buf; NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_seq != seq)
				continue;
			if (h->nlmsg_type == NLMSG_DONE)
				return on_msg(NULL, arg, true);
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(h);

				return e->error ? e->error : on_msg(NULL, arg, true);
			}
			if (h->nlmsg_type == SOCK_DIAG_BY_FAMILY && (ret = on_msg(h, arg, false)) <= 0)
				return ret;
		}
	}
}

/* unix_diag_get's answer: the one message, or none (-ENOENT). */
static int unix_diag_found(const struct nlmsghdr *h, void *arg, bool last)
{
	struct unix_diag_info *out = arg;
	const struct unix_diag_msg *m;

	if (last || h->nlmsg_len < NLMSG_LENGTH(sizeof(*m)))
		return last ? -ENOENT : 1;
	m = NLMSG_DATA(h);
	out->ino = m->udiag_ino;
	out->type = m->udiag_type;
	out->state = m->udiag_state;
	parse_attrs(m, h->nlmsg_len - NLMSG_HDRLEN, out);
	return 0;
}

int unix_diag_get(int nl, uint32_t ino, struct unix_diag_info *out)
{
	struct {
		struct nlmsghdr h;
		struct unix_diag_req r;
	} req = {
		.h = {.nlmsg_len = sizeof(req), .nlmsg_type = SOCK_DIAG_BY_FAMILY, .nlmsg_flags = NLM_F_REQUEST,
		      .nlmsg_seq = ino},
		.r = {.sdiag_family = AF_UNIX,
		      .udiag_states = ~0U,
		      .udiag_ino = ino,
		      .udiag_show = UDIAG_SHOW_NAME | UDIAG_SHOW_PEER | UDIAG_SHOW_RQLEN | UDIAG_SHOW_ICONS |
				    UDIAG_SHOW_VFS,
		      .udiag_cookie = {~0U, ~0U}},
	};

	memset(out, 0, sizeof(*out));
	return diag_exchange(nl, &req, sizeof(req), ino, unix_diag_found, out);
}

/* The INET_DIAG_SHUTDOWN of message m (len bytes), or 0 without one. */
static uint8_t inet_shutdown_attr(const struct inet_diag_msg *m, size_t len)
{
	const struct nlattr *a = (const void *)(m + 1);
	size_t left = len - sizeof(*m);

	while (left >= sizeof(*a) && a->nla_len >= sizeof(*a) && a->nla_len <= left) {
		size_t step = NLA_ALIGN((size_t)a->nla_len);

		if (a->nla_type == INET_DIAG_SHUTDOWN && a->nla_len > NLA_HDRLEN)
			return *(const uint8_t *)((const char *)a + NLA_HDRLEN);
		if (step >= left)
			break;
		left -= step;
		a = (const void *)((const char *)a + step);
	}
	return 0;
}

struct inet_found {
	uint32_t ino;
	uint8_t *shutdown;
	int found; /* -ENOENT until the socket is seen */
};

/* inet_diag_shutdown's answers: read on to the end of the dump, or the
 * rest of it would be the next request's answer. */
static int inet_diag_found(const struct nlmsghdr *h, void *arg, bool last)
{
	struct inet_found *f = arg;
	const struct inet_diag_msg *m;

	if (last)
		return f->found;
	if (h->nlmsg_len >= NLMSG_LENGTH(sizeof(*m))) {
		m = NLMSG_DATA(h);
		if (m->idiag_inode == f->ino && f->found) {
			*f->shutdown = inet_shutdown_attr(m, h->nlmsg_len - NLMSG_HDRLEN);
			f->found = 0;
		}
	}
	return 1;
}

int inet_diag_shutdown(int nl, int family, int proto, uint16_t port, uint32_t ino, uint8_t *shutdown)
{
	/* only the sockets of the local port: "port == P ? accept : reject" */
	struct {
		struct nlmsghdr h;
		struct inet_diag_req_v2 r;
		struct nlattr a;
		struct inet_diag_bc_op op[2];
	} req = {
		.h = {.nlmsg_len = sizeof(req),
		      .nlmsg_type = SOCK_DIAG_BY_FAMILY,
		      .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
		      .nlmsg_seq = ino},
		.r = {.sdiag_family = (uint8_t)family, .sdiag_protocol = (uint8_t)proto, .idiag_states = ~0U},
		.a = {.nla_len = NLA_HDRLEN + sizeof(req.op), .nla_type = INET_DIAG_REQ_BYTECODE},
		.op = {{.code = INET_DIAG_BC_S_EQ, .yes = sizeof(req.op), .no = sizeof(req.op) + 4}, {.no = port}},
	};
	struct inet_found f = {.ino = ino, .shutdown = shutdown, .found = -ENOENT};

	*shutdown = 0;
	return diag_exchange(nl, &req, sizeof(req), ino, inet_diag_found, &f);
}

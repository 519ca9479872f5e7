/*
 * libcriu's requests: connect to criu (start `criu swrk`, or a service
 * socket, or a given descriptor), send one criu_req, answer criu's
 * notifications through the caller's callback, and read the final
 * criu_resp. One request per connection, as upstream's library does.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "criu-private.h"

/* Answers larger than this are not criu's: the largest real one is a few
 * hundred bytes. */
#define MAX_RESP (1 << 20)

static int orphan_pts_master_fd = -1;

struct conn {
	int sk;
	pid_t criu; /* the swrk we started, reaped at the end; 0: none */
	bool close_sk;
};

CRIU_EXPORT int criu_get_orphan_pts_master_fd(void)
{
	return orphan_pts_master_fd;
}

CRIU_EXPORT int criu_notify_pid(criu_notify_arg_t na)
{
	return na && na->has_pid ? na->pid : 0;
}

static int start_swrk(const criu_opts *o, struct conn *c)
{
	int sks[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sks))
		return -ECONNREFUSED;
	pid = fork();
	if (pid < 0) {
		close(sks[0]);
		close(sks[1]);
		return -ECONNREFUSED;
	}
	if (pid == 0) {
		char fd[16];
		sigset_t none;

		/* criu gets a clean signal state; its socket is its only extra fd */
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		close(sks[0]);
		snprintf(fd, sizeof(fd), "%d", sks[1]);
		execlp(o->service_binary, o->service_binary, "swrk", fd, (char *)NULL);
		fprintf(stderr, "libcriu: can't run %s: %s\n", o->service_binary, strerror(errno));
		_exit(127);
	}
	close(sks[1]);
	c->sk = sks[0];
	c->criu = pid;
	c->close_sk = true;
	return 0;
}

static int connect_criu(const criu_opts *o, struct conn *c)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};

	memset(c, 0, sizeof(*c));
	switch (o->comm) {
	case CRIU_COMM_FD:
		c->sk = o->service_fd;
		return c->sk >= 0 ? 0 : -ECONNREFUSED;
	case CRIU_COMM_SK:
		if (!o->service_address || strlen(o->service_address) >= sizeof(a.sun_path))
			return -ECONNREFUSED;
		strcpy(a.sun_path, o->service_address);
		c->sk = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
		if (c->sk < 0)
			return -ECONNREFUSED;
		c->close_sk = true;
		if (connect(c->sk, (struct sockaddr *)&a, sizeof(a))) {
			int e = errno;

			close(c->sk);
			errno = e;
			return -ECONNREFUSED;
		}
		return 0;
	case CRIU_COMM_BIN:
		return start_swrk(o, c);
	}
	return -ECONNREFUSED;
}

static void disconnect_criu(struct conn *c)
{
	int e = errno;

	if (c->close_sk)
		close(c->sk);
	if (c->criu > 0)
		while (waitpid(c->criu, NULL, 0) < 0 && errno == EINTR)
			;
	errno = e;
}

static int send_req(int sk, const CriuReq *req)
{
	size_t len = criu_req__get_packed_size(req);
	uint8_t *buf = malloc(len ? len : 1);
	ssize_t n;

	if (!buf)
		return -ENOMEM;
	criu_req__pack(req, buf);
	do
		n = send(sk, buf, len, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	free(buf);
	return n == (ssize_t)len ? 0 : -ECOMM;
}

/*
 * Reads one response; an attached descriptor (orphan-pts-master's pty
 * master) is kept for criu_get_orphan_pts_master_fd(), without
 * close-on-exec as upstream's library receives it: it is the caller's to
 * pass on. A descriptor that did not fit (MSG_CTRUNC) fails the read.
 */
static int recv_resp(int sk, CriuResp **resp)
{
	union {
		char b[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov;
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.b, .msg_controllen = sizeof(ctl.b)};
	struct cmsghdr *cm;
	ssize_t len, n;
	uint8_t *buf;

	do
		len = recv(sk, NULL, 0, MSG_PEEK | MSG_TRUNC);
	while (len < 0 && errno == EINTR);
	if (len <= 0) {
		if (len == 0)
			errno = ECONNRESET;
		return -ECOMM;
	}
	if (len > MAX_RESP)
		return -EBADMSG;
	buf = malloc(len);
	if (!buf)
		return -ENOMEM;
	iov.iov_base = buf;
	iov.iov_len = len;
	do
		n = recvmsg(sk, &mh, 0);
	while (n < 0 && errno == EINTR);
	for (cm = n > 0 ? CMSG_FIRSTHDR(&mh) : NULL; cm; cm = CMSG_NXTHDR(&mh, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS) {
			int fd;

			memcpy(&fd, CMSG_DATA(cm), sizeof(fd));
			if (orphan_pts_master_fd >= 0)
				close(orphan_pts_master_fd);
			orphan_pts_master_fd = fd;
		}
	if (n > 0 && (mh.msg_flags & MSG_CTRUNC))
		n = -1;
	*resp = n == len ? criu_resp__unpack(NULL, n, buf) : NULL;
	free(buf);
	if (n != len)
		return -ECOMM;
	return *resp ? 0 : -EBADMSG;
}

/* Calls the callback for a notification and tells criu whether to go on. */
static int answer_notify(const criu_opts *o, int sk, CriuResp *resp)
{
	CriuReq ack = CRIU_REQ__INIT;
	int ret = 0;

	if (o->notify && resp->notify)
		ret = o->notify(resp->notify->script ? resp->notify->script : (char *)"", resp->notify);
	ack.type = CRIU_REQ_TYPE__NOTIFY;
	ack.has_notify_success = 1;
	ack.notify_success = ret == 0;
	return send_req(sk, &ack);
}

/*
 * Sends `req` and reads responses until the final one (of the request's
 * type), answering notifications on the way. 0 with *out set, or a
 * negative error of the table in criu.h.
 */
static int transact(const criu_opts *o, int sk, CriuReq *req, CriuResp **out)
{
	int ret = send_req(sk, req);

	*out = NULL;
	while (!ret) {
		CriuResp *resp;

		ret = recv_resp(sk, &resp);
		if (ret)
			break;
		if (resp->type == CRIU_REQ_TYPE__NOTIFY && req->type != CRIU_REQ_TYPE__NOTIFY) {
			ret = answer_notify(o, sk, resp);
			criu_resp__free_unpacked(resp, NULL);
			continue;
		}
		if (resp->type != req->type) {
			/* criu refuses a request it does not know with an EMPTY reply */
			ret = resp->type == CRIU_REQ_TYPE__EMPTY && !resp->success ? -EINVAL : -EBADMSG;
			criu_resp__free_unpacked(resp, NULL);
			break;
		}
		*out = resp;
		return 0;
	}
	return ret;
}

/* One request on a connection of its own; the final response in *out. */
static int request(const criu_opts *o, CriuReq *req, CriuResp **out)
{
	struct conn c;
	int ret;

	if (!o)
		return -EINVAL;
	ret = connect_criu(o, &c);
	if (ret)
		return ret;
	ret = transact(o, c.sk, req, out);
	disconnect_criu(&c);
	if (!ret && !(*out)->success) {
		errno = (*out)->has_cr_errno ? (*out)->cr_errno : 0;
		ret = -EBADE;
	}
	return ret;
}

static int simple_request(criu_opts *o, CriuReqType type, bool with_opts)
{
	CriuReq req = CRIU_REQ__INIT;
	CriuResp *resp = NULL;
	int ret;

	req.type = type;
	if (with_opts)
		req.opts = o ? o->rpc : NULL;
	ret = request(o, &req, &resp);
	if (resp)
		criu_resp__free_unpacked(resp, NULL);
	return ret;
}

CRIU_EXPORT int criu_local_check(criu_opts *o)
{
	return simple_request(o, CRIU_REQ_TYPE__CHECK, false);
}

CRIU_EXPORT int criu_local_dump(criu_opts *o)
{
	return simple_request(o, CRIU_REQ_TYPE__DUMP, true);
}

CRIU_EXPORT int criu_local_pre_dump(criu_opts *o)
{
	return simple_request(o, CRIU_REQ_TYPE__PRE_DUMP, true);
}

static int restore(criu_opts *o, bool as_child)
{
	CriuReq req = CRIU_REQ__INIT;
	CriuResp *resp = NULL;
	int ret;

	if (!o)
		return -EINVAL;
	req.type = CRIU_REQ_TYPE__RESTORE;
	req.opts = o->rpc;
	o->rpc->has_rst_sibling = as_child;
	o->rpc->rst_sibling = as_child;
	ret = request(o, &req, &resp);
	if (!ret)
		ret = resp->restore ? resp->restore->pid : -EBADMSG;
	if (resp)
		criu_resp__free_unpacked(resp, NULL);
	return ret;
}

CRIU_EXPORT int criu_local_restore(criu_opts *o)
{
	return restore(o, false);
}

CRIU_EXPORT int criu_local_restore_child(criu_opts *o)
{
	return restore(o, true);
}

/*
 * Pre-dump iterations, then the dump, on one connection (keep_open). criu
 * answers PRE_DUMP with a refusal today, which ends here as -EBADE.
 */
CRIU_EXPORT int criu_local_dump_iters(criu_opts *o, int (*more)(criu_predump_info pi))
{
	CriuReq req = CRIU_REQ__INIT;
	CriuResp *resp = NULL;
	struct conn c;
	int ret;

	if (!o || !more)
		return -EINVAL;
	ret = connect_criu(o, &c);
	if (ret)
		return ret;
	req.opts = o->rpc;
	req.has_keep_open = 1;
	req.keep_open = 1;
	req.type = CRIU_REQ_TYPE__PRE_DUMP;
	for (;;) {
		ret = transact(o, c.sk, &req, &resp);
		if (!ret && !resp->success) {
			errno = resp->has_cr_errno ? resp->cr_errno : 0;
			ret = -EBADE;
		}
		if (resp)
			criu_resp__free_unpacked(resp, NULL);
		resp = NULL;
		if (ret || req.type == CRIU_REQ_TYPE__DUMP)
			break;
		ret = more(NULL);
		if (ret < 0)
			break;
		if (ret == 0) {
			req.type = CRIU_REQ_TYPE__DUMP;
			req.keep_open = 0;
		}
	}
	disconnect_criu(&c);
	return ret;
}

CRIU_EXPORT int criu_local_get_version(criu_opts *o)
{
	CriuReq req = CRIU_REQ__INIT;
	CriuResp *resp = NULL;
	int ret;

	req.type = CRIU_REQ_TYPE__VERSION;
	ret = request(o, &req, &resp);
	if (!ret) {
		const CriuVersion *v = resp->version;

		if (!v)
			ret = -EBADMSG;
		else
			ret = v->major_number * 10000 + v->minor_number * 100 + (v->has_sublevel ? v->sublevel : 0) +
			      (v->gitid ? 100 : 0);
	}
	if (resp)
		criu_resp__free_unpacked(resp, NULL);
	return ret;
}

CRIU_EXPORT int criu_local_check_version(criu_opts *o, int minimum)
{
	int v = criu_local_get_version(o);

	if (v < 0)
		return v;
	return v >= minimum ? 1 : 0;
}

CRIU_EXPORT int criu_local_feature_check(criu_opts *o, struct criu_feature_check *features, size_t size)
{
	struct criu_feature_check want = {0};
	CriuFeatures ask = CRIU_FEATURES__INIT;
	CriuReq req = CRIU_REQ__INIT;
	CriuResp *resp = NULL;
	int ret;

	if (!features || size > sizeof(want))
		return -EINVAL;
	memcpy(&want, features, size);
	ask.has_mem_track = want.mem_track;
	ask.mem_track = want.mem_track;
	ask.has_lazy_pages = want.lazy_pages;
	ask.lazy_pages = want.lazy_pages;
	ask.has_pidfd_store = want.pidfd_store;
	ask.pidfd_store = want.pidfd_store;
	req.type = CRIU_REQ_TYPE__FEATURE_CHECK;
	req.features = &ask;
	ret = request(o, &req, &resp);
	if (!ret) {
		const CriuFeatures *got = resp->features;

		want.mem_track = want.mem_track && got && got->has_mem_track && got->mem_track;
		want.lazy_pages = want.lazy_pages && got && got->has_lazy_pages && got->lazy_pages;
		want.pidfd_store = want.pidfd_store && got && got->has_pidfd_store && got->pidfd_store;
		memcpy(features, &want, size);
	}
	if (resp)
		criu_resp__free_unpacked(resp, NULL);
	return ret;
}

/* ---- the same on the library's own options ---- */

CRIU_EXPORT int criu_check(void)
{
	return criu_local_check(libcriu_global);
}
CRIU_EXPORT int criu_dump(void)
{
	return criu_local_dump(libcriu_global);
}
CRIU_EXPORT int criu_pre_dump(void)
{
	return criu_local_pre_dump(libcriu_global);
}
CRIU_EXPORT int criu_restore(void)
{
	return criu_local_restore(libcriu_global);
}
CRIU_EXPORT int criu_restore_child(void)
{
	return criu_local_restore_child(libcriu_global);
}
CRIU_EXPORT int criu_dump_iters(int (*more)(criu_predump_info pi))
{
	return criu_local_dump_iters(libcriu_global, more);
}
CRIU_EXPORT int criu_get_version(void)
{
	return criu_local_get_version(libcriu_global);
}
CRIU_EXPORT int criu_check_version(int minimum)
{
	return criu_local_check_version(libcriu_global, minimum);
}
CRIU_EXPORT int criu_feature_check(struct criu_feature_check *features, size_t size)
{
	return criu_local_feature_check(libcriu_global, features, size);
}

/*
 * RPC messages on the wire (see rpc/rpc-msg.h): reading a datagram whose
 * size is learnt first (MSG_PEEK | MSG_TRUNC), decoding and checking it,
 * packing and sending responses.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "rpc/rpc-msg.h"
#include "util/util.h"

static void rpc_errf(struct rpc_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void rpc_errf(struct rpc_err *e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
}

const char *rpc_req_type_name(int type, char *buf, size_t size)
{
	const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(&criu_req_type__descriptor, type);

	if (!v) {
		snprintf(buf, size, "type %d", type);
		return buf;
	}
	/* protobuf-c names enum values in lower case; the protocol's are upper */
	snprintf(buf, size, "%s", v->name);
	for (char *p = buf; *p; p++)
		if (*p >= 'a' && *p <= 'z')
			*p -= 'a' - 'A';
	return buf;
}

CriuReq *rpc_decode_req(const uint8_t *buf, size_t len, struct rpc_err *e)
{
	CriuReq *req;
	char name[32];

	if (len == 0) {
		rpc_errf(e, "an empty message is not a request");
		return NULL;
	}
	req = criu_req__unpack(NULL, len, buf);
	if (!req) {
		rpc_errf(e, "a %zu-byte message is not a criu_req (malformed protobuf, or a required field missing)", len);
		return NULL;
	}
	/* protobuf-c keeps an unknown enum value as it came: refuse it here, by name */
	if (!protobuf_c_enum_descriptor_get_value(&criu_req_type__descriptor, req->type)) {
		rpc_errf(e, "unknown request %s", rpc_req_type_name(req->type, name, sizeof(name)));
		criu_req__free_unpacked(req, NULL);
		return NULL;
	}
	return req;
}

int rpc_recv_req(int sk, CriuReq **req, struct rpc_err *e)
{
	_cleanup_free_ uint8_t *buf = NULL;
	ssize_t len, got;

	*req = NULL;
	len = recv(sk, NULL, 0, MSG_PEEK | MSG_TRUNC);
	if (len < 0) {
		rpc_errf(e, "can't read a request: %s", strerror(errno));
		return -1;
	}
	if (len == 0) /* the client is gone (an empty datagram reads the same: upstream's rule too) */
		return 0;
	if (len > RPC_MAX_MSG) {
		recv(sk, NULL, 0, 0); /* drop it */
		rpc_errf(e, "a %zd-byte request is larger than the %d bytes criu accepts", len, RPC_MAX_MSG);
		return -1;
	}
	buf = xmalloc(len + 1);
	got = recv(sk, buf, len, MSG_TRUNC);
	if (got < 0) {
		rpc_errf(e, "can't read a request: %s", strerror(errno));
		return -1;
	}
	if (got == 0)
		return 0;
	if (got != len) {
		rpc_errf(e, "a request changed size while read (%zd, then %zd bytes)", len, got);
		return -1;
	}
	*req = rpc_decode_req(buf, got, e);
	return *req ? 1 : -1;
}

static int send_packed(int sk, const CriuResp *resp, int fd)
{
	size_t len = criu_resp__get_packed_size(resp);
	_cleanup_free_ uint8_t *buf = xmalloc(len ? len : 1);
	struct iovec iov = {.iov_base = buf, .iov_len = len};
	union {
		char b[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	ssize_t n;

	criu_resp__pack(resp, buf);
	if (fd >= 0) {
		struct cmsghdr *c;

		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.b;
		mh.msg_controllen = sizeof(ctl.b);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	do
		n = sendmsg(sk, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	if ((size_t)n != len) {
		errno = EMSGSIZE;
		return -1;
	}
	return 0;
}

int rpc_send_resp(int sk, const CriuResp *resp)
{
	return send_packed(sk, resp, -1);
}

int rpc_send_resp_fd(int sk, const CriuResp *resp, int fd)
{
	return send_packed(sk, resp, fd);
}

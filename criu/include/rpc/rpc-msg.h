/*
 * RPC messages on the wire: one packed criu_req / criu_resp per
 * SOCK_SEQPACKET datagram (images/rpc.proto). The reader never trusts the
 * peer: sizes are bounded, malformed messages and unknown types are
 * rejected with a reason, and nothing the peer sends is used before it is
 * decoded and checked.
 */
#ifndef CRIU_RPC_MSG_H
#define CRIU_RPC_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "rpc.pb-c.h"

/* The largest request criu reads: far above any real one (runc's are a
 * few KiB), low enough that a hostile size is no memory attack. */
#define RPC_MAX_MSG (4 << 20)

/* Why a datagram was not a request; rpc_decode_req fills it. */
struct rpc_err {
	char msg[256];
};

/*
 * Decodes one datagram into a request. Returns NULL with e->msg set when it
 * is not one (malformed, an unknown type, options that are not for this
 * type). Pure: the fuzz target calls it. Free with criu_req__free_unpacked.
 */
CriuReq *rpc_decode_req(const uint8_t *buf, size_t len, struct rpc_err *e);

/*
 * Reads the next datagram on `sk` and decodes it. Returns 1 with *req set,
 * 0 when the client closed the connection, -1 with e->msg set on a bad
 * message or a socket error.
 */
int rpc_recv_req(int sk, CriuReq **req, struct rpc_err *e);

/* Packs and sends one response; -1 with errno on failure. */
int rpc_send_resp(int sk, const CriuResp *resp);

/* Sends `resp` with `fd` attached (SCM_RIGHTS): orphan-pts-master. */
int rpc_send_resp_fd(int sk, const CriuResp *resp, int fd);

/* The name of a request type for messages ("DUMP", "type 42"). */
const char *rpc_req_type_name(int type, char *buf, size_t size);

#endif

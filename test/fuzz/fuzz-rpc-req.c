/*
 * libFuzzer target for the RPC request reader: any datagram in, a decoded
 * request or a refusal out; no crash, no leak, and a refusal always says
 * why. Then the options of a decoded request are mapped as a service would
 * map them (rpc_opts_apply), which must not trust anything in them either.
 * Built and run by test/fuzz/run.sh.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "options.h"
#include "rpc/rpc-msg.h"
#include "rpc/rpc-opts.h"
#include "util/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool quiet;
	struct rpc_err e = {""};
	struct options o;
	CriuReq *r;

	if (!quiet) {
		log_init(-1, NULL);
		quiet = true;
	}
	r = rpc_decode_req(data, size, &e);
	if (!r) {
		if (!e.msg[0])
			abort();
		return 0;
	}
	if (r->opts) {
		options_init(&o);
		if (!rpc_opts_dirs(r->opts, 1, &o))
			rpc_opts_apply(r->opts, r->type == CRIU_REQ_TYPE__RESTORE ? CMD_RESTORE : CMD_DUMP, 1, &o);
		options_free(&o);
	}
	criu_req__free_unpacked(r, NULL);
	return 0;
}

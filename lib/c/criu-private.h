/* libcriu's insides, shared by its two files (options, requests). */
#ifndef CRIU_LIBCRIU_PRIVATE_H
#define CRIU_LIBCRIU_PRIVATE_H

#include "criu.h"
#include "rpc.pb-c.h"

#define CRIU_EXPORT __attribute__((visibility("default")))

struct criu_opts {
	CriuOpts *rpc; /* what goes in the request; every string and array malloc'd */
	int (*notify)(char *action, criu_notify_arg_t na);
	enum criu_service_comm comm;
	char *service_address; /* CRIU_COMM_SK */
	int service_fd;	       /* CRIU_COMM_FD */
	char *service_binary;  /* CRIU_COMM_BIN */
};

/* The options the criu_set_* family works on (criu_init_opts). */
extern criu_opts *libcriu_global;

#endif

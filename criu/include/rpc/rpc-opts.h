/*
 * An RPC request's criu_opts turned into the same struct options the
 * command line fills, so that dump and restore have one code path whoever
 * asks. An option criu does not honour yet is refused by name, never
 * silently dropped.
 */
#ifndef CRIU_RPC_OPTS_H
#define CRIU_RPC_OPTS_H

#include <sys/types.h>

#include "options.h"
#include "rpc.pb-c.h"

/*
 * First step: where the images, the work directory and the log are, and
 * the log level, so that the log is open before anything else can fail.
 * `client` is the peer's pid: images_dir_fd and work_dir_fd are its
 * descriptors, reached as /proc/CLIENT/fd/N. Returns 0, or -1 after pr_err.
 */
int rpc_opts_dirs(const CriuOpts *ro, pid_t client, struct options *o);

/*
 * Second step: the rest of `ro` into `o` for command `cmd`. The strings of
 * `ro` must live as long as `o`. Returns 0, or -1 after pr_err saying which
 * option is wrong or not supported.
 */
int rpc_opts_apply(const CriuOpts *ro, enum criu_cmd cmd, pid_t client, struct options *o);

/* The name of the first option set in `ro` that criu does not honour for
 * command `cmd` (NULL: none); exposed for unit tests. */
const char *rpc_opts_unsupported(const CriuOpts *ro, enum criu_cmd cmd);

#endif

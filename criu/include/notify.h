/*
 * Stage notifications: at fixed points of a dump or restore criu tells
 * whoever asked — an RPC client that set notify_scripts, or the
 * --action-script programs — and waits for its answer. Names and order are
 * upstream's (runc, LXC and Podman act on them):
 *   dump:    pre-dump, network-lock, post-dump, network-unlock
 *   restore: pre-restore, setup-namespaces, post-setup-namespaces,
 *            orphan-pts-master, post-restore, network-unlock, pre-resume,
 *            post-resume
 */
#ifndef CRIU_NOTIFY_H
#define CRIU_NOTIFY_H

#include <sys/types.h>

#include "options.h"

enum cr_action {
	ACT_PRE_DUMP,
	ACT_POST_DUMP,
	ACT_PRE_RESTORE,
	ACT_POST_RESTORE,
	ACT_NET_LOCK,
	ACT_NET_UNLOCK,
	ACT_SETUP_NS,
	ACT_POST_SETUP_NS,
	ACT_PRE_RESUME,
	ACT_POST_RESUME,
	ACT_ORPHAN_PTS_MASTER,
	ACT__NR
};

const char *cr_action_name(enum cr_action a);

/*
 * Tells the RPC client (if it asked) and runs each --action-script, with
 * CRTOOLS_SCRIPT_ACTION, CRTOOLS_IMAGE_DIR and, when pid > 0,
 * CRTOOLS_INIT_PID in their environment. Returns 0 when all say go on, -1
 * (after pr_err naming who said no) when one did not: the caller undoes
 * what it did and fails.
 */
int cr_notify(const struct options *o, enum cr_action a, pid_t pid);

/* The same, handing `fd` to the RPC client (orphan-pts-master's pty
 * master); the action scripts are not run for it, as upstream. */
int cr_notify_fd(const struct options *o, enum cr_action a, int fd);

#endif

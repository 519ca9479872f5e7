/*
 * Socket options of unix, IPv4/IPv6 and TCP sockets, at dump and at
 * restore. Every getsockopt(2) and setsockopt(2) of the socket kinds goes
 * through here, under one error policy (sockopt.c's top comment says it
 * and lists the options that are only best-effort).
 *
 * `who` names the socket in messages: "process 12: fd 3" at dump,
 * "socket 7" (its file id) at restore.
 *
 * Every function returns:
 *   0            done;
 *   SK_SKIPPED   not done, but the option is best-effort (or the socket
 *                live): a warning was printed, the caller goes on without;
 *   -errno       an error was printed naming the option and the socket:
 *                the caller fails.
 */
#ifndef CRIU_NET_SOCKOPT_H
#define CRIU_NET_SOCKOPT_H

#include <stdbool.h>
#include <sys/socket.h>

#include "sk-opts.pb-c.h"

#define SK_SKIPPED 1

/* Flags of the setters. */
#define SK_LIVE 1u /* the socket is in use already: nothing can be undone, a failure is a warning */

int sk_get(int fd, int level, int name, void *v, socklen_t *len, const char *who);
int sk_get_int(int fd, int level, int name, int *v, const char *who);
int sk_set(int fd, int level, int name, const void *v, socklen_t len, const char *who, unsigned flags);
int sk_set_int(int fd, int level, int name, int v, const char *who, unsigned flags);
/*
 * SO_SNDBUF or SO_RCVBUF (`name`) of `size` bytes as setsockopt takes it
 * (the kernel doubles it): with SO_*BUFFORCE first, which can go past
 * net.core.[wr]mem_max, and the plain option if that is refused.
 */
int sk_set_buf(int fd, int name, int size, const char *who, unsigned flags);

/* The name of an option in messages ("SO_SNDBUF"); is it best-effort? */
const char *sk_opt_name(int level, int name);
bool sk_opt_best_effort(int level, int name);

/*
 * Dump: the SOL_SOCKET options every socket (of `family`) has, into
 * SkOptsEntry's base fields (buffer sizes and which were set by hand,
 * timeouts, SO_PASSCRED/SO_PASSSEC, priority, mark, SO_RCVLOWAT,
 * SO_KEEPALIVE, SO_BROADCAST, SO_OOBINLINE, SO_DONTROUTE, SO_NO_CHECK,
 * SO_LINGER) and the attached classic BPF program (so_filter, allocated:
 * sk_opts_free); an eBPF program or a locked filter refused.
 */
int sk_opts_dump(int fd, int family, SkOptsEntry *o, const char *who);
void sk_opts_free(SkOptsEntry *o);
/* Restore: those fields onto a new socket (flags: SK_LIVE or 0), but the filter. */
int sk_opts_restore(int fd, const SkOptsEntry *o, const char *who, unsigned flags);
/* The filter, once the socket's queues are filled again (they passed it once). */
int sk_filter_restore(int fd, const SkOptsEntry *o, const char *who);

/*
 * Dump (net/sockopt-check.c): the options no image field carries. A
 * socket of the same family, type and protocol, made new in fd's network
 * namespace (its fd, or -errno), whose options are the defaults there.
 */
int sk_ref_open(int fd, int family, int type, int proto, const char *who);
/* The socket's state, for what it changes. */
#define SK_STATE_ESTABLISHED 1
#define SK_STATE_CLOSE	     7
#define SK_STATE_LISTEN	     10
/* Refuses (-EOPNOTSUPP, saying which) an uncarried option of fd that
 * differs from the reference socket ref's. */
int sk_refuse_uncarried(int fd, int ref, int family, int state, const char *who);

#endif

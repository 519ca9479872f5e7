/*
 * What the kernel tells of a socket through NETLINK_SOCK_DIAG
 * (net/sk-diag.c), by inode number: of a unix socket its state, bound
 * name, peer, queue lengths, pending connections and shutdown state; of
 * a TCP or UDP one its shutdown state, which nothing else tells.
 */
#ifndef CRIU_SK_DIAG_H
#define CRIU_SK_DIAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct unix_diag_info {
	uint32_t ino;
	uint8_t type, state;
	uint32_t peer;	       /* the peer's inode, 0: none */
	uint32_t rqlen, wqlen; /* for a listener: pending connections, backlog */
	uint32_t nr_icons;     /* connections waiting to be accepted */
	uint8_t shutdown;      /* RCV_SHUTDOWN 1 | SEND_SHUTDOWN 2 */
	char name[110];	       /* sun_path: abstract names start with \0 */
	size_t name_len;       /* 0: not bound */
	bool has_vfs;
	uint32_t vfs_ino, vfs_dev; /* the bound file, when it has one */
};

/* A NETLINK_SOCK_DIAG socket in the network namespace of `pid`. */
int unix_diag_open(pid_t pid);
/* The socket `ino` of that namespace; -ENOENT if there is none. */
int unix_diag_get(int nl, uint32_t ino, struct unix_diag_info *out);
/* The shutdown state (RCV_SHUTDOWN 1 | SEND_SHUTDOWN 2) of the `family`
 * socket of protocol `proto` (TCP or UDP) `ino`, bound to the local
 * `port`; -ENOENT if there is none (a socket not bound is not listed). */
int inet_diag_shutdown(int nl, int family, int proto, uint16_t port, uint32_t ino, uint8_t *shutdown);

#endif

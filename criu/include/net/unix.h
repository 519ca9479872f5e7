/*
 * The unix socket kind of open file (file-kind.h): at dump
 * (net/unix-dump.c) a connected pair with both ends in the tree and its
 * queues, a listener, or an unconnected socket; at restore
 * (net/unix-restore.c) pairs made with socketpair(2) and refilled,
 * listeners bound and listening.
 */
#ifndef CRIU_NET_UNIX_H
#define CRIU_NET_UNIX_H

#include <sys/socket.h>
#include "files/file-kind.h"

/* A packet of sk-queues.img, kept for its socket (rfile.sk_packets): the
 * data, and for a UDP datagram its sender (addr_len 0: none). */
struct sk_packet {
	uint8_t *data;
	size_t len;
	struct sockaddr_storage addr;
	socklen_t addr_len;
};

struct td_sock_fd;

/* dump (net/unix-dump.c): the socket family's op (net/sk-family.h); the
 * peers of all checked once every task is dumped (the kind's dump_done). */
int td_dump_unix(struct td_ctx *c, struct td_proc *p, const struct td_sock_fd *f, int family, uint32_t id,
		 FownEntry *fown);
int td_unix_check_peers(struct td_ctx *c);
/* One packet of socket `id`'s queue into sk-queues.img (opened on first
 * need), with its sender's address (addr_len 0: none). */
int td_write_sk_packet(struct td_ctx *c, uint32_t id, const void *addr, size_t addr_len, const void *data, size_t len);
void td_unix_fini(struct td_ctx *c);

/* restore (net/unix-restore.c); unix_sk_link reads sk-queues.img for
 * unix and UDP sockets alike */
int unix_sk_check(const FileEntry *fe);
const FownEntry *unix_sk_fown(const FileEntry *fe);
int unix_sk_link(struct rtree *t);
void unix_sk_free(struct rtree *t);
int unix_sk_open(struct rtree *t, struct rfile *f);

#endif

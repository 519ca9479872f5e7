/*
 * The IPv4/IPv6 socket kind of open file (file-kind.h): TCP listening,
 * unconnected or established (net/tcp.h), UDP. At dump (net/inet-dump.c)
 * what the socket tells of itself; at restore (net/inet-restore.c) the
 * socket made again, bound, listening or connected; a UDP socket's
 * waiting datagrams carried (sk-queues.img, each with its sender).
 */
#ifndef CRIU_NET_INET_H
#define CRIU_NET_INET_H

#include "files/file-kind.h"

struct td_sock_fd;

/* The largest datagram whose queue is carried (a UDP payload fits). */
#define UDP_MAX_PAYLOAD 65536U

/* dump (net/inet-dump.c): the socket families' op (net/sk-family.h);
 * established TCP with --tcp-established. */
int td_dump_inet(struct td_ctx *c, struct td_proc *p, const struct td_sock_fd *f, int family, uint32_t id,
		 FownEntry *fown);

/* restore (net/inet-restore.c) */
int inet_sk_check(const FileEntry *fe);
const FownEntry *inet_sk_fown(const FileEntry *fe);
int inet_sk_link(struct rtree *t);
void inet_sk_free(struct rtree *t);
int inet_sk_open(struct rtree *t, struct rfile *f);

#endif

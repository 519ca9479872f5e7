/*
 * The unix socket kind of open file (file-kind.h): at dump
 * (net/unix-dump.c) a connected pair with both ends in the tree and its
 * queues, a listener, or an unconnected socket; at restore
 * (net/unix-restore.c) pairs made with socketpair(2) and refilled,
 * listeners bound and listening.
 */
#ifndef CRIU_NET_UNIX_H
#define CRIU_NET_UNIX_H

#include "files/file-kind.h"

struct td_sock_fd;

/* dump (net/unix-dump.c): the socket family's op (net/sk-family.h); the
 * peers of all checked once every task is dumped (the kind's dump_done). */
int td_dump_unix(struct td_ctx *c, struct td_proc *p, const struct td_sock_fd *f, int family, uint32_t id,
		 FownEntry *fown);
int td_unix_check_peers(struct td_ctx *c);
void td_unix_fini(struct td_ctx *c);

/* restore (net/unix-restore.c) */
int unix_sk_check(const FileEntry *fe);
const FownEntry *unix_sk_fown(const FileEntry *fe);
int unix_sk_link(struct rtree *t);
void unix_sk_free(struct rtree *t);
int unix_sk_open(struct rtree *t, struct rfile *f);

#endif

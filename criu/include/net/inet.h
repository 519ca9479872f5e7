/*
 * The IPv4/IPv6 socket kind of open file (file-kind.h): TCP listening,
 * unconnected or established (net/tcp.h), UDP. At dump (net/inet-dump.c)
 * what the socket tells of itself; at restore (net/inet-restore.c) the
 * socket made again, bound, listening or connected.
 */
#ifndef CRIU_NET_INET_H
#define CRIU_NET_INET_H

#include "files/file-kind.h"

int inet_sk_check(const FileEntry *fe);
const FownEntry *inet_sk_fown(const FileEntry *fe);
int inet_sk_link(struct rtree *t);
void inet_sk_free(struct rtree *t);
int inet_sk_open(struct rtree *t, struct rfile *f);

#endif

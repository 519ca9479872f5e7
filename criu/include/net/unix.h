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

int unix_sk_check(const FileEntry *fe);
const FownEntry *unix_sk_fown(const FileEntry *fe);
int unix_sk_link(struct rtree *t);
void unix_sk_free(struct rtree *t);
int unix_sk_open(struct rtree *t, struct rfile *f);

#endif

/*
 * The anon-inode kinds of open file (file-kind.h): eventfd, signalfd,
 * timerfd and epoll. At dump (files/anon-dump.c) what fdinfo tells of
 * them; at restore (files/anon-restore.c) each made again, an epoll's
 * watched fds registered by its first holder.
 */
#ifndef CRIU_FILES_ANON_H
#define CRIU_FILES_ANON_H

#include "files/file-kind.h"

bool td_is_eventfd(const struct td_fd *f);
int td_dump_eventfd(struct td_ctx *c, struct td_proc *p, const struct td_fd *f, uint32_t id, FownEntry *fown);
int eventfd_check(const FileEntry *fe);
const FownEntry *eventfd_fown(const FileEntry *fe);
int eventfd_open(struct rtree *t, struct rfile *f);

bool td_is_signalfd(const struct td_fd *f);
int td_dump_signalfd(struct td_ctx *c, struct td_proc *p, const struct td_fd *f, uint32_t id, FownEntry *fown);
int signalfd_check(const FileEntry *fe);
const FownEntry *signalfd_fown(const FileEntry *fe);
int signalfd_open(struct rtree *t, struct rfile *f);

bool td_is_timerfd(const struct td_fd *f);
int td_dump_timerfd(struct td_ctx *c, struct td_proc *p, const struct td_fd *f, uint32_t id, FownEntry *fown);
int timerfd_check(const FileEntry *fe);
const FownEntry *timerfd_fown(const FileEntry *fe);
int timerfd_open(struct rtree *t, struct rfile *f);

bool td_is_epoll(const struct td_fd *f);
int td_dump_epoll(struct td_ctx *c, struct td_proc *p, const struct td_fd *f, uint32_t id, FownEntry *fown);
int epoll_check(const FileEntry *fe);
const FownEntry *epoll_fown(const FileEntry *fe);
int epoll_resolve(const struct rtree *t, const struct rfile *f);
int epoll_open(struct rtree *t, struct rfile *f);
int epoll_installed(const struct rtree *t, const struct rproc *holder, const struct rfile *f);

#endif

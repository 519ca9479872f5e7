/*
 * The inotify kind of open file (file-kind.h): at dump
 * (files/inotify-dump.c) each watch with the path of its inode in the
 * task's root; at restore (files/inotify-restore.c) the same watches
 * again, each with its own number.
 */
#ifndef CRIU_FILES_INOTIFY_H
#define CRIU_FILES_INOTIFY_H

#include "files/file-kind.h"

bool td_is_inotify(const struct td_fd *f);
int td_dump_inotify(struct td_ctx *c, struct td_proc *p, const struct td_fd *f, uint32_t id, FownEntry *fown);

int inotify_check(const FileEntry *fe);
const FownEntry *inotify_fown(const FileEntry *fe);
int inotify_open(struct rtree *t, struct rfile *f);

#endif

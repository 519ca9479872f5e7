/*
 * The inotify kind of open file (file-kind.h): at dump
 * (files/inotify-dump.c) each watch with the path of its inode in the
 * task's root; at restore (files/inotify-restore.c) the same watches
 * again, each with its own number.
 */
#ifndef CRIU_FILES_INOTIFY_H
#define CRIU_FILES_INOTIFY_H

#include "files/file-kind.h"

int inotify_check(const FileEntry *fe);
const FownEntry *inotify_fown(const FileEntry *fe);
int inotify_open(struct rtree *t, struct rfile *f);

#endif

/*
 * The memfd kind of open file (file-kind.h): its ops in files/memfd-file.c,
 * which hand over to mem/ (memfd-dump.c, shmem-restore.c) for the inode
 * and its pages.
 */
#ifndef CRIU_FILES_MEMFD_H
#define CRIU_FILES_MEMFD_H

#include "files/file-kind.h"

int memfd_check(const FileEntry *fe);
const FownEntry *memfd_fown(const FileEntry *fe);
int memfd_resolve(const struct rtree *t, const struct rfile *f);
int memfd_open(struct rtree *t, struct rfile *f);

#endif

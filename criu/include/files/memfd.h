/*
 * The memfd kind of open file (file-kind.h): its ops in files/memfd-file.c,
 * which hand over to mem/ (memfd-dump.c, shmem-restore.c) for the inode
 * and its pages.
 */
#ifndef CRIU_FILES_MEMFD_H
#define CRIU_FILES_MEMFD_H

#include "files/file-kind.h"

bool td_is_memfd(const struct td_fd *f);
int td_dump_memfd_file(struct td_ctx *c, struct td_proc *p, const struct td_fd *f, uint32_t id, FownEntry *fown);

int memfd_check(const FileEntry *fe);
const FownEntry *memfd_fown(const FileEntry *fe);
int memfd_resolve(const struct rtree *t, const struct rfile *f);
int memfd_open(struct rtree *t, struct rfile *f);

#endif

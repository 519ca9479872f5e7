/*
 * The regular file kind (file-kind.h): anything opened by path (files,
 * directories, symlinks with O_PATH, memory devices). At dump
 * (files/reg-dump.c) the path as the task sees it, checked to lead to the
 * same inode; at restore (files/reg-restore.c) reopened by that path.
 */
#ifndef CRIU_FILES_REG_H
#define CRIU_FILES_REG_H

#include "files/file-kind.h"

bool td_is_reg(const struct td_fd *f);
int td_dump_reg(struct td_ctx *c, struct td_proc *p, const struct td_fd *f, uint32_t id, FownEntry *fown);

int reg_check(const FileEntry *fe);
const FownEntry *reg_fown(const FileEntry *fe);
bool reg_inherit_name(const struct rfile *f, char *buf, size_t len);
int reg_open_host(struct rfile *f, const struct options *o, int above);
int reg_open(struct rtree *t, struct rfile *f);

#endif

/*
 * The pipe and FIFO kinds of open file (file-kind.h): at dump
 * (files/pipe-dump.c) an entry per open file and the data queued once per
 * pipe; at restore (files/pipe-restore.c) both ends of a pipe made at
 * once, a FIFO reopened by path, and the data queued again.
 */
#ifndef CRIU_FILES_PIPE_H
#define CRIU_FILES_PIPE_H

#include "files/file-kind.h"

bool td_is_pipe(const struct td_fd *f);
int td_dump_pipe(struct td_ctx *c, struct td_proc *p, const struct td_fd *f, uint32_t id, FownEntry *fown);
bool td_is_fifo(const struct td_fd *f);
/* a FIFO is its path (a reg_file_entry) plus a fifo_entry naming the pipe */
int td_dump_fifo(struct td_ctx *c, struct td_proc *p, const struct td_fd *f, uint32_t id, FownEntry *fown);

int pipe_check(const FileEntry *fe);
const FownEntry *pipe_fown(const FileEntry *fe);
int pipe_link(struct rtree *t);
void pipe_free(struct rtree *t);
bool pipe_inherit_name(const struct rfile *f, char *buf, size_t len);
int pipe_open(struct rtree *t, struct rfile *f);

int fifo_check(const FileEntry *fe);
int fifo_link(struct rtree *t);
void fifo_free(struct rtree *t);
bool fifo_inherit_name(const struct rfile *f, char *buf, size_t len);
int fifo_open(struct rtree *t, struct rfile *f);

#endif

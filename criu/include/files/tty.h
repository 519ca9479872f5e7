/*
 * The terminal kind (file-kind.h), a shell job's only (-j): at dump
 * (files/tty-dump.c) a pty slave or /dev/tty as a TTY file and its
 * terminal in tty-info.img; at restore (files/tty-restore.c) criu's own
 * terminal in its place.
 */
#ifndef CRIU_FILES_TTY_H
#define CRIU_FILES_TTY_H

#include "files/file-kind.h"

bool td_is_tty(const struct td_fd *f);
int td_dump_tty(struct td_ctx *c, struct td_proc *p, const struct td_fd *f, uint32_t id, FownEntry *fown);

int tty_check(const FileEntry *fe);
const FownEntry *tty_fown(const FileEntry *fe);
int tty_link(struct rtree *t);
bool tty_inherit_name(const struct rfile *f, char *buf, size_t len);
int tty_open_host(struct rfile *f, const struct options *o, int above);

#endif

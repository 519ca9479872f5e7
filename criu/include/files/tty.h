/*
 * The terminal kind (file-kind.h), a pty slave (or /dev/tty) whose master
 * is outside the tree: at dump (files/tty-dump.c) a TTY file and its
 * terminal in tty-info.img; at restore criu's own terminal in its place
 * for a shell job (-j, files/tty-restore.c), or with RPC
 * orphan_pts_master a new pty whose master goes to the client
 * (files/tty-orphan.c).
 */
#ifndef CRIU_FILES_TTY_H
#define CRIU_FILES_TTY_H

#include "files/file-kind.h"
#include "tty.pb-c.h"

bool td_is_tty(const struct td_fd *f);
int td_dump_tty(struct td_ctx *c, struct td_proc *p, const struct td_fd *f, uint32_t id, FownEntry *fown);

int tty_check(const FileEntry *fe);
const FownEntry *tty_fown(const FileEntry *fe);
int tty_link(struct rtree *t);
/* A pty file's slave path entry used by no descriptor and no other terminal. */
int tty_resolve(const struct rtree *t, const struct rfile *f);
bool tty_inherit_name(const struct rfile *f, char *buf, size_t len);
int tty_open_host(struct rfile *f, const struct options *o, int above);
/* The dumped modes and window size onto terminal fd: 0, or -errno once said. */
int tty_apply_params(int fd, const TtyInfoEntry *ti);
/* The dumped locked modes onto a pty made anew: 0, or -errno once said. */
int tty_apply_locked(int fd, const TtyInfoEntry *ti);

/* files/tty-orphan.c. A TTY file whose pty restore makes anew (no -j, no --inherit-fd). */
bool tty_is_orphan(const struct rfile *f);
/* The kind's open op, by the root: the new pair made for the first file
 * of a terminal, another open file of its slave for each. */
int tty_orphan_open(struct rtree *t, struct rfile *f);
/* In task p, a session leader just made (task/fork.c): takes back the
 * terminal that controlled its session. */
int tty_orphan_take_ctty(const struct rtree *t, const struct rproc *p);
/* mount/mount-restore.c, in the root: a bind mount's source is the missing
 * slave `name` of the devpts mount `devpts` (runc's /dev/console): makes
 * that pty, its master kept for the terminal's first file, if it is the
 * terminal of an orphan pty file of t (restore with orphan_pts_master)
 * with that index and devpts. 0: made; -ENOENT: no such terminal, nothing
 * said (the caller says it); else failed, said why (the index taken...).
 * tty_keep_premade(): those masters past the fds the file table is about
 * to close or reuse (task/fork.c). tty_premade_taken(): after the file
 * table, every one of them taken (else the bind is of a dead pty). */
int tty_premake_pty(const struct rtree *t, int devpts, const char *name);
int tty_keep_premade(const struct rtree *t);
int tty_premade_taken(void);
/* From criu, every task seized and in its group (task/tree-restore.c):
 * each new master copied from the root, foreground groups set again. */
int tty_orphan_fetch(struct rtree *t);
/* From criu before post-restore: each master to the client
 * (orphan-pts-master), then closed. */
int tty_orphan_notify(struct rtree *t, const struct options *o);

#endif

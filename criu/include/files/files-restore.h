/*
 * Restore: the file table (files/files-restore.c), every open file of
 * files.img, each handled by its kind's ops (file-kind.h). What the
 * process restore (task/task-image.c, task/fork.c, task/tree-restore.c)
 * calls, in that order.
 */
#ifndef CRIU_FILES_FILES_RESTORE_H
#define CRIU_FILES_FILES_RESTORE_H

#include <stdint.h>

struct rtree;
struct rproc;
struct options;

/* parse: files.img into t->files, each entry checked by its kind, then
 * linked (side images read); 0 if there is no files.img. */
int rtree_read_files(struct rtree *t);
/* parse, once the processes are read: each file's first holder, in
 * pstree order, and at which fd. */
void rtree_link_holders(struct rtree *t);
/* parse, once the processes are read: tasks that shared an fd table
 * (files_id) get their own slots in it (rproc.fd_shift); a table shared
 * other than with a parent is refused (restore forks sharers with
 * CLONE_FILES from their parent). */
int rtree_plan_fd_tables(struct rtree *t);
/* parse, once shared memory is read too: what each file depends on. */
int rtree_resolve_files(const struct rtree *t);
/* act, from criu before the namespaces: the files that come from the host
 * (--inherit-fd, memory devices, a shell job's terminal), at `above` or
 * higher. */
int rtree_files_open_host(struct rtree *t, const struct options *o, int above);
/* act, by the root in the new namespaces: every file a descriptor uses, at
 * its slot of the table. */
int rtree_open_file_table(struct rtree *t);
/* act, in process p once its descriptors are in place: what the kinds of
 * the files it holds first do there (an epoll's registrations), and
 * O_ASYNC on those that had it. */
int rtree_files_installed(const struct rtree *t, const struct rproc *p);
/* parse: the O_* flags files.img records for file f (files/fown-restore.c). */
struct rfile;
uint32_t rfile_flags(const struct rfile *f);
/* act, from criu, the tree seized: F_SETOWN_EX/F_SETSIG of every file that
 * had an owner (files/fown-restore.c). */
int rtree_restore_fowns(struct rtree *t);
void rtree_free_files(struct rtree *t);

#endif

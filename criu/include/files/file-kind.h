/*
 * One entry per kind of open file (FdTypes): everything the file tables
 * of dump (files/files-dump.c) and restore (files/files-restore.c,
 * files/fown-restore.c) need to know of a kind is one of its ops, so a new
 * kind is one file with its ops plus one entry in file-kind.c's table.
 *
 * The ops a kind has no use for are NULL. Each kind defines its ops in its
 * own files (files/reg-*.c, files/pipe-*.c, files/tty-*.c,
 * files/anon-*.c, files/inotify-*.c, files/memfd-file.c, net/unix-*.c,
 * net/inet-*.c, and net/sk-family.c for sockets at dump).
 */
#ifndef CRIU_FILES_FILE_KIND_H
#define CRIU_FILES_FILE_KIND_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fdinfo.pb-c.h"
#include "fown.pb-c.h"
#include "util/log.h"

struct td_ctx;
struct td_proc;
struct td_fd;
struct rtree;
struct rfile;
struct rproc;
struct options;

struct file_kind {
	FdTypes type;
	const char *name; /* in messages and tests: "pipe", "unix socket" */

	/* ---- dump ---- */

	/*
	 * decide, pure: is descriptor f one of this kind? At most one kind
	 * says yes to any descriptor (test-file-kind checks it). NULL: never
	 * by itself (an inet socket is claimed by the socket kind, which
	 * hands it on by family: net/sk-family.h).
	 */
	bool (*match)(const struct td_fd *f);
	/*
	 * act: the open file behind f, met for the first time, as file `id`
	 * with owner `fown`: its file_entry in files.img, and whatever side
	 * image it has. 0, or -errno after saying why (-EOPNOTSUPP for what
	 * can't be dumped yet, naming the process and fd).
	 */
	int (*dump)(struct td_ctx *c, struct td_proc *p, const struct td_fd *f, uint32_t id, FownEntry *fown);
	/* act: once every task is dumped, checks across the whole tree. */
	int (*dump_done)(struct td_ctx *c);

	/* ---- restore, parse ---- */

	/*
	 * pure: fe has its kind's description, and what restore relies on is
	 * sane. 0, or -EINVAL after saying what is wrong (file_lacks() for
	 * a missing description).
	 */
	int (*check)(const FileEntry *fe);
	/* pure: the owner (F_SETOWN) fe records; NULL: none. */
	const FownEntry *(*fown)(const FileEntry *fe);
	/* once all of files.img is in the table: links between files of the
	 * kind, and the side images it reads (pipe data, tty-info...). */
	int (*link)(struct rtree *t);
	/* once processes and shared memory are read, each file of the kind:
	 * what depends on them (an epoll's watched fds in its holder). */
	int (*resolve)(const struct rtree *t, const struct rfile *f);
	/* frees what link() kept. */
	void (*free)(struct rtree *t);

	/* ---- restore, act ---- */

	/* the name --inherit-fd gives such a file ("pipe:[123]", a path);
	 * false: it has none. */
	bool (*inherit_name)(const struct rfile *f, char *buf, size_t len);
	/* from criu, before the namespaces: when the file comes from the host
	 * (a memory device, criu's terminal), f->host_fd, at `above` or higher.
	 * 0 (host_fd left -1 if not), or -errno. */
	int (*open_host)(struct rfile *f, const struct options *o, int above);
	/* made in the second pass, once every other file is open? */
	bool (*open_last)(const struct rfile *f);
	/* by the root in the new namespaces: the file at f->table_fd (and
	 * whatever other file is made with it, like a pipe's other end). */
	int (*open)(struct rtree *t, struct rfile *f);
	/* in f's first holder, once its descriptors are in place. */
	int (*installed)(const struct rtree *t, const struct rproc *holder, const struct rfile *f);
};

/* Every kind, in FdTypes order. */
extern const struct file_kind file_kinds[];
extern const size_t nr_file_kinds;

/* The kind of `type`, or NULL. */
const struct file_kind *file_kind_get(FdTypes type);
/* The kind that claims descriptor f at dump, or NULL. */
const struct file_kind *file_kind_match(const struct td_fd *f);

/* For check ops: fe lacks the description of its kind (said from the
 * kind's own file and line). -EINVAL. */
#define file_lacks(fe) (pr_err("files.img: file %u of type %d lacks its description\n", (fe)->id, (fe)->type), -EINVAL)

#endif

/*
 * The process half of `criu restore`:
 *   parse   (task/task-image.c) pstree, core, mm, pagemap, fdinfo, fs images
 *                               -> struct rtree, validated; the files of
 *                               files.img by the file table
 *                               (files/files-restore.c), each kind checked
 *                               and linked by its own ops (files/file-kind.h)
 *   act     (task/fork.c)       in the new namespaces, plain C: fork the tree
 *                               with clone3(set_tid), threads, descriptors,
 *                               cwd/root/umask; every task then waits
 *           (mem/mm-restore.c)  from criu, by injected syscalls: replace each
 *                               address space with the dumped one
 *           (task/core-restore.c) the rest of each task's state, registers
 *                               last, then every task is released together
 *
 * File descriptors inside the restored tasks, while they are set up:
 *   [0, fd_base)                        the dumped descriptors
 *   fd_base + file index                every open file of the tree, opened
 *                                       once by the root before it forks (so
 *                                       that descriptors shared after fork
 *                                       share one open file description)
 *   fd_base + nr_files + RFD_*          per task: sync pipe, pages, exe
 *   fd_base + nr_files + RFD_MAP + i    the file of mapping i of the task
 *                                       (pages, exe and mappings shifted by
 *                                       fd_shift in a task that shares its
 *                                       parent's fd table, past the slots
 *                                       of the others of that table)
 *                                       (for shared anonymous memory, its
 *                                       shmem object, which criu made and
 *                                       the tasks inherit from higher up)
 * Everything from fd_base up is closed by the last injected syscall.
 */
#ifndef CRIU_RESTORE_TASKS_H
#define CRIU_RESTORE_TASKS_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <unistd.h>

#include "core.pb-c.h"
#include "timens.pb-c.h"
#include "fdinfo.pb-c.h"
#include "image/image.h"
#include "fs.pb-c.h"
#include "util/hashmap.h"
#include "ipc/ipc-sysv.h"
#include "ipc-var.pb-c.h"
#include "netdev.pb-c.h"
#include "seccomp.pb-c.h"
#include "memfd.pb-c.h"
#include "mm.pb-c.h"
#include "pagemap.pb-c.h"
#include "pstree.pb-c.h"
#include "regfile.pb-c.h"
#include "ptrace/seize.h"
#include "sk-opts.pb-c.h"
#include "tcp-stream.pb-c.h"
#include "tty.pb-c.h"

enum {
	RFD_READY, /* write end of the pipe tasks report readiness on */
	RFD_PAGES, /* pages-<id>.img */
	RFD_EXE,   /* the executable, for PR_SET_MM_MAP */
	RFD_LOG,   /* criu's log, moved out of the way */
	RFD_ERR,   /* criu's stderr, likewise */
	RFD_IMGS,  /* the images directory */
	RFD_PROC,  /* the host's /proc, where each task finds its own loginuid */
	RFD_MAP,   /* first mapping file */
};

struct rfile {
	FileEntry *fe;
	int table_fd; /* fd_base + index */
	int host_fd;  /* a memory device (/dev/null...) criu opened on the host, or -1 */
	/* pipes: data to queue, from pipes-data.img (not owned) */
	const uint8_t *data;
	size_t data_len;
	uint32_t pipe_size;
	struct rfile *peer;	      /* the other end of the same pipe, if in the tree */
	const RegFileEntry *fifo_reg; /* FIFOs: the path entry fifo.regf_id names */
	const TtyInfoEntry *tty;      /* terminals: its tty-info.img entry */
	/* unix sockets (net/unix-restore.c): the other end of a pair, the
	 * packets to queue to this one, and whether the pair was made */
	struct rfile *sk_peer;
	struct sk_packet *sk_packets;
	size_t nr_sk_packets;
	bool sk_made;
	/* the first process, in pstree order, that holds it, and at which fd:
	 * an epoll's owner registers its watched fds; a socket becomes its uid's */
	struct rproc *holder;
	int holder_fd;
	/* an established TCP connection (net/tcp-restore.c): its tcp-stream
	 * image's entry and queues (owned) */
	TcpStreamEntry *tcp;
	uint8_t *tcp_data;
};

struct rthread {
	pid_t vtid;
	CoreEntry *core;
	struct seized_thread *st; /* once seized */
};

struct rproc {
	PstreeEntry *pe;
	pid_t vpid, vppid, vpgid, vsid;
	bool zombie;
	bool stopped;	  /* in a group stop when dumped: stopped again at release */
	int stop_signo;	  /* with the signal that stopped it (SIGSTOP unless the core says) */
	bool new_session; /* calls setsid() */
	bool new_pgrp;	  /* calls setpgid(0, 0) */
	CoreEntry *core;  /* the leader's (threads[0].core) */
	struct rthread *threads;
	size_t nr_threads;
	MmEntry *mm;
	uint32_t pages_id;
	PagemapEntry **pagemap;
	size_t nr_pagemap;
	FdinfoEntry **fds;
	size_t nr_fds;
	FsEntry *fs;
	const char *cwd, *root; /* paths from fs-<pid>.img */
	TaskKobjIdsEntry *ids;
	struct rproc *parent;
	struct rproc **children;
	size_t nr_children;
	/* its own slots (RFD_PAGES, RFD_EXE, RFD_MAP + i) are this far up:
	 * past those of the tasks it shares its fd table with (CLONE_FILES) */
	int fd_shift;
	pid_t host_pid;	  /* as criu sees it, once seized */
	uint64_t scratch; /* a page criu mapped in it for syscall arguments */
	struct rpremap *premap; /* per area (mem/cow-restore.h); NULL: none shared with parent or children */
};

/* A shared anonymous memory object (mem/shmem-restore.c). */
struct rshmem_run {
	uint64_t off, len; /* in the object */
};
struct rshmem {
	uint64_t shmid;
	uint64_t size; /* what its areas and pages reach */
	uint32_t pages_id;
	struct rshmem_run *runs; /* pagemap-shmem-<shmid>.img, in order */
	size_t nr_runs;
	int fd;			      /* criu's, inherited by the tasks; -1 until made */
	const MemfdInodeEntry *memfd; /* a memfd's inode (memfd.img), or NULL */
};

struct rtree {
	struct rproc *procs; /* pstree order: parents first */
	size_t nr;
	struct hmap by_vpid;
	struct rfile *files;
	size_t nr_files;
	struct hmap file_by_id;
	void *pipes_data; /* the raw reader of pipes-data.img, owned */
	void *fifo_data;  /* likewise for fifo-data.img */
	int fd_base;
	int imgs_dirfd;	     /* not owned */
	int host_proc_fd;    /* the host's /proc (O_PATH), -1 until opened */
	bool host_mode;	     /* restored in an existing pid namespace (criu's, an external one) */
	bool auto_dedup;     /* --auto-dedup: restored pages are punched out of their image */
	pid_t criu_pid;	     /* the restoring criu, the root's parent, as the root sees it (0: outside its pid ns) */
	pid_t criu_host_pid; /* the restoring criu in host_proc_fd's /proc: its cgroup mounts' fds */
	char *nodename, *domainname; /* utsns-1.img, NULL if none */
	IpcVarEntry *ipc_var;	     /* ipcns-var-1.img, NULL if none */
	struct sysv_objs sysv;	     /* ipcns-{shm,sem,msg}-1.img (ipc-sysv.h) */
	NetDeviceEntry *netdev;	     /* netdev-1.img's lo: a network namespace of its own */
	SeccompEntry *seccomp;	     /* seccomp.img, NULL if none */
	TimensEntry *timens;	     /* the clocks to go on from (timens-<id>.img), NULL: the host's */
	struct rshmem *shmems;	     /* mem/shmem-restore.c */
	size_t nr_shmems;
	struct hmap shmem_by_id;
	struct hmap memfd_by_inode;	/* memfd.img inode_id -> struct rshmem * */
	uint64_t pages_bytes, pages_ns; /* statistics of mem/mm-restore.c */
	uint64_t premap_start, premap_len; /* mem/cow-restore.h: the reservation, every task inherits */
	const struct cg_restore *cg;	   /* cgroup/cgroup.h: where tasks go; NULL: they stay in criu's */
	uint32_t criu_cg_set;		   /* the dumping criu's cgroup set: where the root starts */
	bool cg_own_ns;			   /* the root makes a cgroup namespace of its own */
	/* the tree's mount namespaces, once built (task/rtree-mntns.c); none
	 * but ns 0, the root's, with a single one */
	struct rtree_mntns *mntns;
	size_t nr_mntns;
	struct hmap mntns_by_id; /* id -> index + 1 in mntns */
	int cur_mntns;		 /* the one this task is in */
	/* cleanup */
	ProtobufCMessage **msgs;
	size_t nr_msgs;
};

/* parse: reads and validates every process image in dirfd; 0 if there is
 * no pstree.img (a mounts-only dump, t->nr == 0). */
int rtree_read(int dirfd, struct rtree *t);
/* The images of the namespaces the tree had of its own, by id (0: it
 * shared criu's, nothing to read), and the clocks to restore. */
struct rtree_ns_images {
	unsigned uts, ipc, net;
	bool timens;
	unsigned timens_id;
	bool net_lo_only;     /* --empty-ns net: of the namespace's devices, only lo is set again */
	bool sysv_joined;     /* IPC namespace joined (--join-ns ipc): attached segments are its own */
};
int rtree_read_ns(struct rtree *t, const struct rtree_ns_images *ns);
void rtree_free(struct rtree *t);
/* act, before the namespaces exist: the files that come from the host,
 * at fds above every one the tasks need: those --inherit-fd names (criu's
 * own descriptors), and the memory devices (/dev/null, /dev/zero...), so
 * that containers without their own still get them. */
struct options;
int rtree_open_host_files(struct rtree *t, const struct options *o);
/* The first fd above every one the tasks' layout uses, for criu's own. */
int rtree_fd_above(const struct rtree *t);
/* mem/shmem-restore.c: the shared memory objects the mm images name, read
 * (parse); made and filled at fds from `above` up (act, before fork); the
 * fd of one; freed. */
int rtree_read_shmem(struct rtree *t);
int rtree_open_shmem(struct rtree *t, int above);
int rtree_shmem_fd(const struct rtree *t, uint64_t shmid);
/* mem/shmem-restore.c: the object of the memfd inode `inode_id` of memfd.img, or NULL. */
const struct rshmem *rtree_memfd(const struct rtree *t, uint64_t inode_id);
/* mem/shmem-restore.c: every memfd sealed as dumped; once the tasks have mapped them. */
int rtree_seal_memfds(const struct rtree *t);
/* mem/shmem-restore.c: a new open file of memfd file f's inode (flags, position). */
int rtree_open_memfd(const struct rtree *t, const struct rfile *f);
void rtree_free_shmem(struct rtree *t);
static inline struct rproc *rtree_proc(const struct rtree *t, pid_t vpid)
{
	return hmap_get_int(&t->by_vpid, (uint64_t)vpid);
}

static inline struct rfile *rtree_file(const struct rtree *t, uint32_t id)
{
	return hmap_get_int(&t->file_by_id, id);
}

/* ------------------------------------------------------------------------
 * Helpers of the parse step (task/rtree-util.c), for the process images
 * and the file kinds alike.
 */

/* m, an entry read from an image, freed with the tree. */
void rtree_keep_msg(struct rtree *t, ProtobufCMessage *m);
/* The file name of image `type` for `id` ("core-12.img"). */
void rtree_image_name(enum img_type type, unsigned id, char *buf, size_t len);
/*
 * Every entry of an image; *msgs is malloc'd, the entries are kept by the
 * tree. A missing file gives -ENOENT (printed only when `required`).
 */
int rtree_read_image(struct rtree *t, enum img_type type, unsigned id, bool required, ProtobufCMessage ***msgs,
		     size_t *nr);
/* An image that holds exactly one entry. */
int rtree_read_one(struct rtree *t, enum img_type type, unsigned id, ProtobufCMessage **msg);

/* Act: fd moved to `to` (closing what was there): 0 or -errno. */
static inline int rtree_move_fd(int fd, int to)
{
	if (fd == to)
		return 0;
	if (dup2(fd, to) < 0)
		return -errno;
	close(fd);
	return 0;
}
/* The task-side fd numbers of the layout above. */
static inline int rtree_task_fd(const struct rtree *t, int which)
{
	return t->fd_base + (int)t->nr_files + which;
}

/* The cgroup set of thread k of p in the images (0: none said, e.g. a zombie). */
static inline uint32_t rthread_cg_set(const struct rthread *th)
{
	const CoreEntry *c = th->core;

	if (c && c->thread_core && c->thread_core->has_cg_set)
		return c->thread_core->cg_set;
	return c && c->tc && c->tc->has_cg_set ? c->tc->cg_set : 0;
}
static inline uint32_t rproc_cg_set(const struct rproc *p)
{
	return p->nr_threads ? rthread_cg_set(&p->threads[0]) : 0;
}

/* p's own slot `which` (RFD_PAGES, RFD_EXE, RFD_MAP + i) in its fd table. */
static inline int rtree_proc_fd(const struct rtree *t, const struct rproc *p, int which)
{
	return rtree_task_fd(t, which) + p->fd_shift;
}
/* p is forked sharing its parent's fd table (CLONE_FILES): the dumped
 * ones had one table (task_kobj_ids_entry.files_id). */
static inline bool rproc_shares_files(const struct rproc *p)
{
	return p->parent && !p->zombie && !p->parent->zombie && p->ids && p->parent->ids &&
	       p->ids->files_id == p->parent->ids->files_id;
}

/*
 * Mount namespaces (task/rtree-mntns.c), act. The builder hands over each
 * namespace (id, descriptor, root directory; the descriptors are moved
 * above every fd the tasks use, and closed with them); the tree's root is in
 * namespace 0.
 */
struct rtree_mntns {
	uint32_t id; /* as the tasks' ids name it */
	int fd;	     /* /proc/.../ns/mnt */
	int root_fd; /* its "/" (O_PATH) */
};
struct mount_plan;
int rtree_take_mntns(struct rtree *t, const struct mount_plan *p);
/* The caller (a task of the tree) enters p's mount namespace unless it is
 * in it (p NULL, or without ids: the root's). A task enters its own after
 * fork; the root, while it opens the file table, each holder's in turn. */
int rtree_enter_mntns(struct rtree *t, const struct rproc *p);
void rtree_free_mntns(struct rtree *t);

/* act, in the new namespaces: called by the root task (pid 1, already in
 * the restored mount namespace). Forks the whole tree; each task reports on
 * its ready pipe and waits to be seized. Returns only on failure. */
void rtree_fork_root(struct rtree *t, int ready_fd);

/* act, from criu: waits for the forked tree (root: its host pid), seizes
 * it, restores every task and releases them. before_resume (may be NULL)
 * runs once every task is restored and still held: non-zero fails the
 * restore. On failure the tree is killed. */
int rtree_restore(struct rtree *t, pid_t root, int ready_fd, uint64_t *frozen_ns, int (*before_resume)(void *arg),
		  void *arg);

/* act, from criu: every task of the tree has been seized. */
#define RSCRATCH_SIZE 8192
int restore_mm(struct rtree *t, struct rproc *p);
/* task/tree-restore.c: SIGKILL to every restored process (after a failure). */
void rtree_kill(const struct rtree *t);
/* mem/page-restore.c: p's dumped pages into its mapped areas; adds to *bytes. */
int fill_pages(struct rtree *t, struct rproc *p, struct seized_thread *st, uint64_t *bytes);
/* mem/page-restore.c: a private anonymous area the program asked huge pages for. */
bool vma_huge(const VmaEntry *v);
/* mem/page-restore.c: pages-N.img of dirfd, a regular file not reached through a
 * link, for reading; or for punching (--auto-dedup): then also with no other
 * name and on the images' filesystem. The fd, or -errno (printed). */
int open_pages_file(int dirfd, unsigned pages_id, bool punch);
/* open_pages_file in t's images directory, for punching with --auto-dedup. */
int open_pages_image(const struct rtree *t, unsigned pages_id);
/* mem/page-restore.c: with --auto-dedup, can every pages image be punched? Before any task. */
int rtree_check_dedup(const struct rtree *t);
/* mem/page-restore.c: with --auto-dedup, [off, off + len) of that image restored for good. */
void dedup_pages(const struct rtree *t, int fd, unsigned pages_id, uint64_t off, uint64_t len);
int restore_core(struct rtree *t, struct rproc *p);
/* Last injection of a process (closes criu's fds), then registers. */
int restore_finish(struct rtree *t, struct rproc *p);

#endif

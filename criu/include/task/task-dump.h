/*
 * Dumping a seized process tree into CRIU-format images, with no code
 * loaded into the tasks: /proc, ptrace regsets and queues, kcmp(2),
 * pidfd_getfd(2), process_vm_readv(2), and single injected syscalls for
 * what only a task can tell (signal handlers, itimers, sigaltstack...).
 *
 * Images written for the tree (names use pids as the tree's own pid
 * namespace sees them, "virtual" pids, as upstream does):
 *   pstree.img                 one pstree_entry per process, parents first
 *   core-<tid>.img             per thread: registers, FPU, thread state; the
 *                              leader's also holds the process-wide state
 *                              (sigactions, itimers, rlimits, shared queue)
 *   ids-<pid>.img              task_kobj_ids_entry (also in the leader's core)
 *   mm-<pid>.img               mm_entry with every VMA
 *   pagemap-<pid>.img          pagemap_head{pages_id}, then pagemap_entry runs
 *   pages-<pages_id>.img       the contents of those runs, in order
 *   fs-<pid>.img               cwd, root (file ids) and umask
 *   fdinfo-<files_id>.img      one fdinfo_entry per descriptor, per fd table
 *   files.img                  one file_entry per open file (fds, mapped
 *                              files, executables, cwd and root directories)
 *   pipes-data.img fifo-data.img  what was queued in pipes and FIFOs
 *
 * Zombies get a pstree entry and a core with task_state TASK_DEAD.
 *
 * The images are pending writers of the dump_ctx: the caller commits them
 * (or aborts them all) once every stage succeeded. The tasks are only read:
 * after release_tree() they go on exactly as before.
 */
#ifndef CRIU_TASK_DUMP_H
#define CRIU_TASK_DUMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "core.pb-c.h"
#include "dump.h"
#include "fown.pb-c.h"
#include "util/hashmap.h"
#include "proc/mountinfo.h"
#include "mem/page-release.h"
#include "proc/proc-status.h"
#include "ptrace/seize.h"
#include "vma.pb-c.h"

struct task_dump_opts {
	/* Find the pages to dump by reading /proc/PID/pagemap entries rather
	 * than with the PAGEMAP_SCAN ioctl (the fallback for kernels < 6.7;
	 * tests use it to check both ways agree). */
	bool no_pagemap_scan;
	/* Copy pages with process_vm_readv through a buffer rather than
	 * having the task vmsplice them (page-copy.h; tests compare both). */
	bool no_vmsplice;
	/* Copy pages in criu's main thread only (page-copy.h's mapped way
	 * uses worker threads when the images are on tmpfs). */
	bool no_threads;
	/* -j: terminals are the user's, restore connects them to its own. */
	bool shell_job;
	/* RPC orphan_pts_master: a pty slave whose master is outside the
	 * tree is dumped, restore makes a new pair (files/tty-dump.c). */
	bool orphan_pts_master;
	/* --tcp-established: established TCP connections are dumped
	 * (net/tcp-dump.c), not refused. */
	bool tcp_established;
	/* --assume-no-global-membarrier: on kernels before 6.3, which can't
	 * tell, dump as if no process registered for global expedited
	 * membarrier(2) (the private registrations are still found). */
	bool assume_no_global_membarrier;
	/* Non-NULL when the dump is to kill the tree: memory is given back as
	 * it is dumped and journaled here, for page_release_undo() if the dump fails
	 * (page-release.h). */
	struct page_release_journal *release;
};

struct task_dump_stats {
	size_t nr_processes, nr_threads, nr_zombies;
	size_t nr_files;      /* file_entry records written to files.img */
	uint64_t pages_bytes; /* memory copied into pages images */
	uint64_t pages_ns;    /* wall time spent finding and copying it */
};

/*
 * Writes the images of every task of `t` (seized with seize_tree) into
 * pending images of `d`. Returns 0, or -errno after printing why (a kind
 * of state we can't dump yet gives -EOPNOTSUPP and names the task and the
 * object). The tasks stay seized; the caller releases them.
 */
int dump_task_tree(struct dump_ctx *d, struct seized_tree *t);
/* The same with options (NULL: defaults) and statistics (may be NULL). */
int dump_task_tree_opts(struct dump_ctx *d, struct seized_tree *t, const struct task_dump_opts *opts,
			struct task_dump_stats *stats);

/*
 * The registers as core images hold them: a syscall the thread was stopped
 * in (rax = -ERESTART*) is recorded as about to be made again (rax = its
 * number, rip back on the `syscall` instruction), as upstream does; one
 * that would restart through restart_syscall() fails with EINTR instead.
 */
void task_regs_for_image(struct user_regs_struct *r);

/* ------------------------------------------------------------------------
 * Shared by task-dump*.c only.
 */

/* CRIU's task states (core_entry.tc.task_state). */
#define TASK_STATE_ALIVE   0x01
#define TASK_STATE_DEAD	   0x02
#define TASK_STATE_STOPPED 0x03

/* Namespaces in task_kobj_ids_entry order. */
enum td_ns {
	TD_NS_PID,
	TD_NS_NET,
	TD_NS_IPC,
	TD_NS_UTS,
	TD_NS_MNT,
	TD_NS_USER,
	TD_NS_CGROUP,
	TD_NS_TIME,
	TD_NR_NS,
};

/* The fields of /proc/PID/stat we use (numbers as in proc(5)). */
struct td_stat {
	char state;	      /* (3) */
	uint32_t tty_nr;      /* (7) controlling terminal, encoded as the kernel's new_encode_dev */
	int32_t tpgid;	      /* (8) its foreground process group (criu's pid namespace), -1: none */
	uint32_t flags;	      /* (9) PF_* */
	uint64_t start_code;  /* (26) */
	uint64_t end_code;    /* (27) */
	uint64_t start_stack; /* (28) */
	uint64_t start_data;  /* (45) */
	uint64_t end_data;    /* (46) */
	uint64_t start_brk;   /* (47) */
	uint64_t arg_start;   /* (48) */
	uint64_t arg_end;     /* (49) */
	uint64_t env_start;   /* (50) */
	uint64_t env_end;     /* (51) */
	int32_t exit_code;    /* (52) */
};
/* Parses /proc/PID/stat text; -EINVAL if it is not in the expected shape. */
int td_parse_stat(const char *buf, size_t len, struct td_stat *st);

/* What injected syscalls told about a process (task/core-dump.c). */
struct td_misc {
	uint64_t brk;
	int dumpable;
	int thp_disabled;
	int child_subreaper;
};

struct td_proc {
	pid_t pid;			/* in criu's pid namespace */
	pid_t vpid, vppid, vpgid, vsid; /* in the tree's own; vppid 0 for the root */
	bool zombie;
	struct seized_thread **threads; /* leader first; none for a zombie */
	pid_t *vtids;
	size_t nr_threads;
	struct proc_status status; /* the leader's /proc/PID/status */
	struct td_stat stat;	   /* the leader's /proc/PID/stat */
	uint32_t vm_id, files_id, fs_id, sighand_id;
	uint32_t ns_id[TD_NR_NS]; /* 0: that namespace type does not exist here */
	bool writes_fdinfo;	  /* first process of its fd table */
	struct td_misc misc;
};

struct td_ctx {
	struct dump_ctx *d;
	struct task_dump_opts opts;
	struct task_dump_stats *stats;
	struct td_proc *procs;
	size_t nr_procs;
	struct hmap by_pid;   /* real pid -> struct td_proc * */
	uint64_t self_mnt_ns; /* inode of criu's own mount namespace */
	/* task/ids-dump.c, for td_fill_root_ids: how many ids of each kind
	 * the processes use (they are 1..n), the root's namespaces' inodes */
	uint32_t nr_kobj_ids[4]; /* vm, files, fs, sighand */
	uint32_t nr_ns_ids[TD_NR_NS];
	uint64_t root_ns_ino[TD_NR_NS]; /* 0: no such kind here */

	/* files/files-dump.c */
	struct img_writer *files_img;
	struct img_writer *pipes_data_img, *fifo_data_img;
	uint32_t next_file_id;
	struct hmap reg_files; /* path-less files (mappings, exe, cwd, root): key -> id */
	char **reg_keys;       /* the keys of reg_files, owned */
	size_t nr_reg_keys;
	struct hmap open_files;		 /* st_ino ^ st_dev -> struct td_open_file list */
	struct hmap file_types;		 /* file_entry id -> its FdTypes, once written */
	struct hmap pipes;		 /* pipe inode -> non-NULL once its data is saved */
	struct img_writer *tty_info_img; /* files/tty-dump.c, on first need */
	struct img_writer *memfd_img;	 /* mem/memfd-dump.c: memfd.img, on first need */
	struct hmap memfd_maps;		 /* (inode << 2 | flags) -> file id + 1 of mapped memfds */
	/* files/inotify-dump.c: the mounts of the process last asked, for all its inotify files */
	struct mountinfo_table inotify_mounts;
	pid_t inotify_mounts_pid;
	/* net/unix-dump.c */
	struct hmap unix_socks;		  /* socket inode -> struct td_unix */
	int unix_nl;			  /* sock_diag socket, -1 until needed */
	struct img_writer *sk_queues_img; /* on first need */
	struct hmap ttys;		  /* st_rdev -> tty_info_entry id */

	/* task/seccomp-dump.c */
	struct td_seccomp *seccomp;

	/* mem/mm-dump.c */
	uint32_t next_pages_id;
	struct hmap shmems; /* mem/shmem-dump.c: shmid -> non-NULL once dumped */
};

/* /proc/PID/status, or with tid /proc/PID/task/TID/status. */
int td_read_status(pid_t pid, pid_t tid, struct proc_status *st);
/* The ids of p's kernel objects and namespaces. */
void td_fill_ids(const struct td_proc *p, TaskKobjIdsEntry *ids);
/* task/ids-dump.c: the ids of every process's shared objects and namespaces;
 * refuses what restore can't recreate (nested or unsupported namespaces,
 * CLONE_VM without CLONE_THREAD, threads with their own fd table, an fd
 * table shared other than with a parent). */
int td_assign_ids(struct td_ctx *c);
/*
 * task/ids-dump.c, after td_assign_ids: inventory.img's root_ids, the ids
 * of the dumping criu itself in the processes' id space, as upstream
 * writes them (its restore compares them with the root's ids-<pid>.img:
 * a kind whose ids differ is a namespace the tree had of its own, which
 * it creates). A namespace kind: the root's id when the root is in criu's
 * namespace, else one no process has. Address space, fd table, fs info
 * and signal handlers: never the tree's (upstream reads an equal files_id
 * as CLONE_FILES, which a root can't have). 0 or -errno, printed.
 */
int td_fill_root_ids(const struct td_ctx *c, TaskKobjIdsEntry *ids);
/* The inode of /proc/PID/ns/NAME (0 if the kernel has no such namespace). */
int td_ns_inode(pid_t pid, const char *name, uint64_t *ino);
/* task/task-stat.c: /proc/PID/stat, read and parsed (td_parse_stat). */
int td_read_stat(pid_t pid, struct td_stat *st);
/* Virtual pid of a real one of the tree, or 0. */
pid_t td_vpid(const struct td_ctx *c, pid_t real);

/* task/core-dump.c: injected queries, then core-<tid>.img per thread. */
int td_dump_cores(struct td_ctx *c, struct td_proc *p);
int td_dump_zombie_core(struct td_ctx *c, struct td_proc *p);

/* mem/mm-dump.c: mm-, pagemap- and pages- images of a live process. */
int td_dump_mm(struct td_ctx *c, struct td_proc *p);
/* mem/shmem-dump.c: the shared anonymous objects among vmas[0..nr) not
 * dumped yet (pagemap-shmem-<shmid>.img). */
int td_dump_shmem(struct td_ctx *c, struct td_proc *p, const VmaEntry *vmas, size_t nr);
struct proc_maps_entry;
/*
 * The pure part, for tests: fills v (start, end, pgoff, prot, flags, status,
 * fd = -1, madv; shmid for anonymous shared memory, files get theirs later)
 * from a line of /proc/PID/maps and the VmFlags of its /proc/PID/smaps
 * entry ("rd wr mr ...", NULL if unknown). 0, or -EOPNOTSUPP with *why
 * saying what the area is that we can't restore.
 */
int td_vma_classify(const struct proc_maps_entry *e, const char *vmflags, VmaEntry *v, const char **why);

/* files/files-dump.c, the file table: each kind of file's ops in file-kind.h */
int td_files_init(struct td_ctx *c);
void td_files_fini(struct td_ctx *c);
/* fdinfo-<files_id>.img and the files behind it. */
int td_dump_fds(struct td_ctx *c, struct td_proc *p);
/* Once every task is dumped: the checks across the tree (unix peers). */
int td_files_done(struct td_ctx *c);
/* task/seccomp-dump.c: the filters of a thread in seccomp.img (*newest:
 * the index of its newest), written once every thread is read. */
int td_seccomp_thread(struct td_ctx *c, pid_t tid, uint32_t *newest);
int td_seccomp_write(struct td_ctx *c);
void td_seccomp_fini(struct td_ctx *c);

/* mem/shmem-dump.c: the pages of a shmem file (shared memory, memfd) open
 * at fd, of `size` bytes, as object `shmid` (pagemap-shmem-<shmid>.img). */
int td_dump_shmem_fd(struct td_ctx *c, int fd, uint64_t shmid, uint64_t size, const char *what);
/* mem/memfd-dump.c: a memfd file; its inode (memfd.img) and pages once. */
struct proc_fdinfo;
struct td_memfd_fd {
	int fd;	 /* the task's */
	int lfd; /* criu's copy */
	const struct proc_fdinfo *fi;
	const char *link; /* "/memfd:NAME (deleted)" */
	FownEntry *fown;
};
int td_dump_memfd(struct td_ctx *c, struct td_proc *p, const struct td_memfd_fd *f, uint32_t id);
/* mem/memfd-dump.c: the memfd file a mapping (its /proc/PID/map_files
 * path) maps, opened `flags`: a file_entry id, one per inode and flags. */
int64_t td_dump_memfd_map(struct td_ctx *c, struct td_proc *p, const char *map_file, uint32_t flags);
/* files/fd-dump.c: a file_entry into files.img, counted. */
struct FileEntry;
int td_write_file_entry(struct td_ctx *c, struct FileEntry *fe);
/*
 * files/reg-dump.c: the id of a file_entry (written on first use) for the
 * file /proc/PID/`link` points to ("exe", "cwd", "root",
 * "map_files/START-END"), opened with `flags`; -errno on failure, after
 * printing why.
 */
int64_t td_dump_path_file(struct td_ctx *c, struct td_proc *p, const char *link, uint32_t flags);
/*
 * task/proc-ref-dump.c: refuses a file `name` (the path from p's root of
 * the file `st`, `what` names it) that is the entry of a process in a proc
 * mount, unless restore gives it back: `entered` (a cwd or root, entered
 * by the task itself) and that process is p, an ancestor or a child.
 * 0, or -EOPNOTSUPP after saying why.
 */
int td_check_proc_ref(const struct td_ctx *c, const struct td_proc *p, const char *what, const char *name,
		      const struct stat *st, bool entered);

#endif

/*
 * Dumping a seized tree (see task-dump.h): the tree as the images describe
 * it (virtual pids, shared kernel objects, namespaces), pstree.img,
 * ids-<pid>.img and fs-<pid>.img; memory, cores and files are in
 * mem/mm-dump.c, task/core-dump.c and files/files-dump.c, the ids of shared
 * kernel objects and namespaces in task/ids-dump.c.
 */
#define LOG_PREFIX "task-dump: "

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "core.pb-c.h"
#include "fs.pb-c.h"
#include "util/log.h"
#include "pstree.pb-c.h"
#include "task/task-dump.h"
#include "util/util.h"

pid_t td_vpid(const struct td_ctx *c, pid_t real)
{
	const struct td_proc *p = hmap_get_int(&c->by_pid, (uint64_t)real);

	return p ? p->vpid : 0;
}

/* The last (innermost) id of an NS* list: the one the tree sees. */
static int last_id(const struct proc_id_list *l, pid_t *out)
{
	if (!l->nr)
		return -EINVAL;
	*out = (pid_t)l->ids[l->nr - 1];
	return 0;
}

static struct td_proc *add_proc(struct td_ctx *c, pid_t pid)
{
	struct td_proc *p;

	c->procs = xrealloc(c->procs, (c->nr_procs + 1) * sizeof(*c->procs));
	p = &c->procs[c->nr_procs++];
	memset(p, 0, sizeof(*p));
	p->pid = pid;
	return p;
}

/* Groups the seized threads by process, in the tree's order (parents first). */
static int collect_procs(struct td_ctx *c, struct seized_tree *t)
{
	struct hmap index; /* pid -> index + 1 */
	int ret = 0;

	hmap_init(&index);
	for (size_t i = 0; i < t->nr_threads; i++) {
		struct seized_thread *th = &t->threads[i];
		uintptr_t k = (uintptr_t)hmap_get_int(&index, (uint64_t)th->pid);
		struct td_proc *p;

		if (!th->seized) {
			pr_err("thread %d is not seized\n", th->tid);
			ret = -ESRCH;
			break;
		}
		if (!k) {
			add_proc(c, th->pid);
			k = c->nr_procs;
			hmap_put_int(&index, (uint64_t)th->pid, (void *)k);
		}
		p = &c->procs[k - 1];
		p->threads = xrealloc(p->threads, (p->nr_threads + 1) * sizeof(*p->threads));
		p->threads[p->nr_threads++] = th;
		if (th->tid == th->pid) { /* the leader goes first */
			p->threads[p->nr_threads - 1] = p->threads[0];
			p->threads[0] = th;
		}
	}
	hmap_free(&index);
	for (size_t i = 0; !ret && i < c->nr_procs; i++) {
		if (c->procs[i].threads[0]->tid != c->procs[i].pid) {
			pr_err("process %d: its main thread has exited while others run; not supported\n",
			       c->procs[i].pid);
			ret = -EOPNOTSUPP;
		}
	}
	for (size_t i = 0; i < t->nr_zombies; i++)
		add_proc(c, t->zombies[i])->zombie = true;
	for (size_t i = 0; i < c->nr_procs; i++)
		hmap_put_int(&c->by_pid, (uint64_t)c->procs[i].pid, &c->procs[i]);
	return ret;
}

/* Pids as the tree's own pid namespace sees them. */
static int read_pids(struct td_proc *p)
{
	int ret;

	ret = td_read_status(p->pid, 0, &p->status);
	if (!ret)
		ret = td_read_stat(p->pid, &p->stat);
	if (ret < 0)
		return ret;
	if (!(p->status.seen & PS_BIT(PS_NSPID)) || !(p->status.seen & PS_BIT(PS_NSPGID)) ||
	    !(p->status.seen & PS_BIT(PS_NSSID))) {
		pr_err("process %d: /proc/%d/status has no NSpid/NSpgid/NSsid (kernel older than 4.1?)\n", p->pid,
		       p->pid);
		return -EOPNOTSUPP;
	}
	if (last_id(&p->status.nspid, &p->vpid) || last_id(&p->status.nspgid, &p->vpgid) ||
	    last_id(&p->status.nssid, &p->vsid))
		return -EINVAL;
	p->vtids = xzalloc((p->nr_threads ? p->nr_threads : 1) * sizeof(*p->vtids));
	for (size_t i = 0; i < p->nr_threads; i++) {
		struct proc_status ts;

		if (i == 0) {
			p->vtids[0] = p->vpid;
			continue;
		}
		ret = td_read_status(p->pid, p->threads[i]->tid, &ts);
		if (!ret && last_id(&ts.nspid, &p->vtids[i]))
			ret = -EINVAL;
		proc_status_free(&ts);
		if (ret < 0)
			return ret;
	}
	return 0;
}

static int resolve_ppids(struct td_ctx *c)
{
	for (size_t i = 1; i < c->nr_procs; i++) {
		struct td_proc *p = &c->procs[i];

		if (p->status.nspid.nr != c->procs[0].status.nspid.nr) {
			pr_err("process %d is in a nested pid namespace; not supported\n", p->pid);
			return -EOPNOTSUPP;
		}
		p->vppid = td_vpid(c, p->status.ppid);
		if (!p->vppid) {
			pr_err("process %d: its parent %d is outside the tree\n", p->pid, p->status.ppid);
			return -EINVAL;
		}
	}
	return 0;
}

/* ------------------------------------------------------------------------
 * Ids of shared kernel objects
 */

/* ------------------------------------------------------------------------
 * pstree.img, ids-<pid>.img, fs-<pid>.img
 */

static int write_one(struct td_ctx *c, enum img_type type, unsigned id, const ProtobufCMessage *msg)
{
	struct img_writer *w = img_set_new(&c->d->imgs, type, id);

	return w ? img_write_entry(w, msg) : -EIO;
}

static int write_pstree(struct td_ctx *c)
{
	struct img_writer *w = img_set_new(&c->d->imgs, IMG_PSTREE, 0);
	int ret = 0;

	if (!w)
		return -EIO;
	for (size_t i = 0; !ret && i < c->nr_procs; i++) {
		struct td_proc *p = &c->procs[i];
		PstreeEntry e = PSTREE_ENTRY__INIT;
		uint32_t one;

		e.pid = (uint32_t)p->vpid;
		e.ppid = (uint32_t)p->vppid;
		e.pgid = (uint32_t)p->vpgid;
		e.sid = (uint32_t)p->vsid;
		if (p->zombie) {
			/* A zombie is restored as a one-thread process that exits. */
			one = (uint32_t)p->vpid;
			e.n_threads = 1;
			e.threads = &one;
		} else {
			e.n_threads = p->nr_threads;
			e.threads = (uint32_t *)p->vtids; /* pid_t and uint32_t: same size */
		}
		ret = img_write_entry(w, &e.base);
	}
	return ret;
}

static int write_ids(struct td_ctx *c, struct td_proc *p)
{
	TaskKobjIdsEntry ids = TASK_KOBJ_IDS_ENTRY__INIT;

	td_fill_ids(p, &ids);
	return write_one(c, IMG_IDS, (unsigned)p->vpid, &ids.base);
}

static int write_fs(struct td_ctx *c, struct td_proc *p)
{
	FsEntry fe = FS_ENTRY__INIT;
	int64_t cwd, root;

	cwd = td_dump_path_file(c, p, "cwd", O_RDONLY | O_DIRECTORY);
	if (cwd < 0)
		return (int)cwd;
	root = td_dump_path_file(c, p, "root", O_RDONLY | O_DIRECTORY);
	if (root < 0)
		return (int)root;
	fe.cwd_id = (uint32_t)cwd;
	fe.root_id = (uint32_t)root;
	fe.has_umask = (p->status.seen & PS_BIT(PS_UMASK)) != 0;
	fe.umask = p->status.umask;
	return write_one(c, IMG_FS, (unsigned)p->vpid, &fe.base);
}

/* ------------------------------------------------------------------------
 * The whole tree
 */

static int dump_process(struct td_ctx *c, struct td_proc *p)
{
	int ret;

	pr_info("dumping process %d (%d in its pid namespace), %zu threads\n", p->pid, p->vpid, p->nr_threads);
	if (p->zombie)
		return td_dump_zombie_core(c, p);
	/* Injections first: their scratch page must be gone before maps are read. */
	ret = td_dump_cores(c, p);
	if (!ret)
		ret = td_dump_mm(c, p);
	if (!ret && p->writes_fdinfo)
		ret = td_dump_fds(c, p);
	if (!ret)
		ret = write_fs(c, p);
	if (!ret)
		ret = write_ids(c, p);
	return ret;
}

/* What the dump's other stages and its inventory need of the ids. */
static int fill_root_ids(struct td_ctx *c)
{
	struct dump_ctx *d = c->d;
	int ret = td_fill_root_ids(c, &d->root_ids);

	if (ret)
		return ret;
	d->has_root_ids = true;
	d->time_ns_id = 0;
	if (d->root_ids.has_time_ns_id && d->root_ids.time_ns_id != c->procs[0].ns_id[TD_NS_TIME])
		d->time_ns_id = c->procs[0].ns_id[TD_NS_TIME];
	return 0;
}

static void ctx_free(struct td_ctx *c)
{
	td_files_fini(c);
	td_seccomp_fini(c);
	for (size_t i = 0; i < c->nr_procs; i++) {
		free(c->procs[i].threads);
		free(c->procs[i].vtids);
		proc_status_free(&c->procs[i].status);
	}
	free(c->procs);
	hmap_free(&c->by_pid);
	hmap_free(&c->shmems);
	hmap_free(&c->memfd_maps);
	mountinfo_table_free(&c->inotify_mounts);
}

int dump_task_tree_opts(struct dump_ctx *d, struct seized_tree *t, const struct task_dump_opts *opts,
			struct task_dump_stats *stats)
{
	struct task_dump_stats local;
	struct td_ctx c = {.d = d, .stats = stats ? stats : &local};
	int ret;

	memset(c.stats, 0, sizeof(*c.stats));
	if (opts)
		c.opts = *opts;
	hmap_init(&c.by_pid);
	hmap_init(&c.shmems);
	if (!t->nr_threads) {
		pr_err("nothing seized\n");
		return -EINVAL;
	}
	ret = td_ns_inode(getpid(), "mnt", &c.self_mnt_ns);
	if (!ret)
		ret = td_files_init(&c);
	if (!ret)
		ret = collect_procs(&c, t);
	for (size_t i = 0; !ret && i < c.nr_procs; i++)
		ret = read_pids(&c.procs[i]);
	if (!ret)
		ret = resolve_ppids(&c);
	if (!ret)
		ret = td_assign_ids(&c);
	if (!ret)
		ret = fill_root_ids(&c);
	for (size_t i = 0; !ret && i < c.nr_procs; i++) {
		struct td_proc *p = &c.procs[i];

		ret = stop_requested();
		if (!ret)
			ret = dump_process(&c, p);
		if (ret < 0) /* said where it failed; cr_dump sums up */
			pr_debug("dump of process %d failed\n", p->pid);
		c.stats->nr_processes += !p->zombie;
		c.stats->nr_zombies += p->zombie;
		c.stats->nr_threads += p->nr_threads;
	}
	if (!ret)
		ret = td_files_done(&c);
	if (!ret)
		ret = write_pstree(&c);
	if (!ret)
		ret = td_seccomp_write(&c);
	ctx_free(&c);
	return ret;
}

int dump_task_tree(struct dump_ctx *d, struct seized_tree *t)
{
	return dump_task_tree_opts(d, t, NULL, NULL);
}

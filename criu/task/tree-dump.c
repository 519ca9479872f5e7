/*
 * Dumping a seized tree (see task-dump.h): the tree as the images describe
 * it (virtual pids, shared kernel objects, namespaces), pstree.img,
 * ids-<pid>.img and fs-<pid>.img; memory, cores and files are in
 * mem/mm-dump.c, task/core-dump.c and files/files-dump.c.
 *
 * Kernel objects shared by tasks (address space, fd table, fs info, signal
 * handlers) get ids by kcmp(2), which orders objects: a sorted array of one
 * task per object and a binary search give each task its object's id in
 * O(log n) calls. Namespaces are told apart by the inode of /proc/PID/ns/X.
 * Ids are numbered from 1 in order of first appearance, per kind (so the
 * root's mount namespace is 1, as the mount stage names mountpoints-1.img).
 */
#define LOG_PREFIX "task-dump: "

#include <errno.h>
#include <fcntl.h>
#include <linux/kcmp.h>
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

static const char *const ns_names[TD_NR_NS] = {
	[TD_NS_PID] = "pid", [TD_NS_NET] = "net",   [TD_NS_IPC] = "ipc",       [TD_NS_UTS] = "uts",
	[TD_NS_MNT] = "mnt", [TD_NS_USER] = "user", [TD_NS_CGROUP] = "cgroup", [TD_NS_TIME] = "time",
};

/* ------------------------------------------------------------------------
 * Parsing /proc/PID/stat
 */

int td_parse_stat(const char *buf, size_t len, struct td_stat *st)
{
	/* Fields after the command name, which may hold spaces and ')'. */
	unsigned long long v[52] = {0};
	const char *p = NULL, *end = buf + len;
	unsigned field = 3;

	memset(st, 0, sizeof(*st));
	for (const char *q = buf; q < end; q++)
		if (*q == ')')
			p = q;
	if (!p || p + 2 >= end || p[1] != ' ')
		return -EINVAL;
	p += 2;
	st->state = *p++;
	for (field = 4; field <= 52 && p < end; field++) {
		char *e;

		if (*p != ' ')
			return -EINVAL;
		p++;
		if (p < end && *p == '-') /* a few fields are signed */
			v[field - 1] = (unsigned long long)strtoll(p, &e, 10);
		else
			v[field - 1] = strtoull(p, &e, 10);
		if (e == p || e > end)
			return -EINVAL;
		p = e;
	}
	if (field <= 52)
		return -EINVAL; /* kernels before 3.5 lack the last fields */
	st->flags = (uint32_t)v[8];
	st->start_code = v[25];
	st->end_code = v[26];
	st->start_stack = v[27];
	st->start_data = v[44];
	st->end_data = v[45];
	st->start_brk = v[46];
	st->arg_start = v[47];
	st->arg_end = v[48];
	st->env_start = v[49];
	st->env_end = v[50];
	st->exit_code = (int32_t)v[51];
	return 0;
}

/* ------------------------------------------------------------------------
 * The tree
 */

pid_t td_vpid(const struct td_ctx *c, pid_t real)
{
	const struct td_proc *p = hmap_get_int(&c->by_pid, (uint64_t)real);

	return p ? p->vpid : 0;
}

int td_read_status(pid_t pid, pid_t tid, struct proc_status *st)
{
	struct proc_err perr;
	_cleanup_free_ char *buf = NULL;
	char path[96];
	size_t len;
	int ret;

	if (tid)
		snprintf(path, sizeof(path), "/proc/%d/task/%d/status", pid, tid);
	else
		snprintf(path, sizeof(path), "/proc/%d/status", pid);
	ret = read_file_at(AT_FDCWD, path, &buf, &len);
	if (ret < 0) {
		pr_err("can't read %s: %s\n", path, strerror(-ret));
		return ret == -ENOENT ? -ESRCH : ret;
	}
	ret = proc_status_parse(buf, len, st, &perr);
	if (ret < 0)
		pr_err("%s: %s\n", path, proc_err_msg(&perr).s);
	return ret;
}

static int read_stat(pid_t pid, struct td_stat *st)
{
	_cleanup_free_ char *buf = NULL;
	char path[64];
	size_t len;
	int ret;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	ret = read_file_at(AT_FDCWD, path, &buf, &len);
	if (ret < 0) {
		pr_err("can't read %s: %s\n", path, strerror(-ret));
		return ret;
	}
	ret = td_parse_stat(buf, len, st);
	if (ret < 0)
		pr_err("%s: unexpected format\n", path);
	return ret;
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
		ret = read_stat(p->pid, &p->stat);
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

/* One task per distinct object, kept in kcmp order. */
struct kcmp_set {
	int type;
	pid_t *rep;
	uint32_t *id;
	size_t nr;
};

static int kcmp_id(struct kcmp_set *s, pid_t pid, uint32_t *id)
{
	size_t lo = 0, hi = s->nr;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		long r = syscall(SYS_kcmp, pid, s->rep[mid], s->type, 0, 0);

		if (r < 0) {
			pr_perror("kcmp(%d, %d, %d)", pid, s->rep[mid], s->type);
			return -errno;
		}
		if (r == 0) {
			*id = s->id[mid];
			return 0;
		}
		if (r == 1)
			hi = mid;
		else if (r == 2)
			lo = mid + 1;
		else
			return -EINVAL; /* unordered: never for these types */
	}
	s->rep = xrealloc(s->rep, (s->nr + 1) * sizeof(*s->rep));
	s->id = xrealloc(s->id, (s->nr + 1) * sizeof(*s->id));
	memmove(s->rep + lo + 1, s->rep + lo, (s->nr - lo) * sizeof(*s->rep));
	memmove(s->id + lo + 1, s->id + lo, (s->nr - lo) * sizeof(*s->id));
	s->rep[lo] = pid;
	s->id[lo] = *id = (uint32_t)++s->nr;
	return 1; /* a new object */
}

/* Threads sharing the leader's fd table and fs info, as clone() gives them. */
static int check_threads_share(struct td_proc *p)
{
	static const struct {
		int type;
		const char *what;
	} shared[] = {{KCMP_FILES, "fd table"}, {KCMP_FS, "cwd and root (unshare(CLONE_FS))"}};

	for (size_t i = 1; i < p->nr_threads; i++) {
		for (size_t k = 0; k < ARRAY_SIZE(shared); k++) {
			long r = syscall(SYS_kcmp, p->pid, p->threads[i]->tid, shared[k].type, 0, 0);

			if (r < 0) {
				pr_perror("kcmp(%d, %d)", p->pid, p->threads[i]->tid);
				return -errno;
			}
			if (r) {
				pr_err("thread %d of %d has its own %s; not supported\n", p->threads[i]->tid, p->pid,
				       shared[k].what);
				return -EOPNOTSUPP;
			}
		}
	}
	return 0;
}

static int ns_inode(pid_t pid, const char *name, uint64_t *ino)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d/ns/%s", pid, name);
	if (stat(path, &st) < 0) {
		if (errno == ENOENT) {
			*ino = 0; /* not built into this kernel */
			return 0;
		}
		pr_perror("can't stat %s", path);
		return -errno;
	}
	*ino = st.st_ino;
	return 0;
}

/*
 * Restore recreates the mount, pid, uts and ipc namespaces of the root,
 * and a network namespace that holds nothing but lo (net/netns.c); the others
 * it shares with criu. A root with one of those of its own would come back
 * in criu's: refused.
 */
static int check_shared_ns(const struct td_proc *root)
{
	static const int shared[] = {TD_NS_USER, TD_NS_CGROUP, TD_NS_TIME};
	static const char *const what[] = {"user", "cgroup", "time"};

	for (size_t i = 0; i < ARRAY_SIZE(shared); i++) {
		uint64_t theirs = 0, ours = 0;
		int ret = ns_inode(root->pid, ns_names[shared[i]], &theirs);

		if (!ret)
			ret = ns_inode(getpid(), ns_names[shared[i]], &ours);
		if (ret)
			return ret;
		if (theirs != ours) {
			pr_err("process %d has a %s namespace of its own; only mount, pid, uts, ipc and (empty) "
			       "network namespaces are recreated, so it can't be dumped yet\n",
			       root->pid, what[i]);
			return -EOPNOTSUPP;
		}
	}
	return 0;
}

static int assign_ids(struct td_ctx *c)
{
	struct kcmp_set sets[4] = {{.type = KCMP_VM}, {.type = KCMP_FILES}, {.type = KCMP_FS}, {.type = KCMP_SIGHAND}};
	struct hmap ns[TD_NR_NS];
	uint32_t ns_next[TD_NR_NS] = {0};
	int ret = 0;

	for (int k = 0; k < TD_NR_NS; k++)
		hmap_init(&ns[k]);
	for (size_t i = 0; !ret && i < c->nr_procs; i++) {
		struct td_proc *p = &c->procs[i];
		uint32_t *ids[4] = {&p->vm_id, &p->files_id, &p->fs_id, &p->sighand_id};

		if (p->zombie)
			continue; /* no mm, files or namespaces any more */
		for (int k = 0; !ret && k < 4; k++) {
			ret = kcmp_id(&sets[k], p->pid, ids[k]);
			if (k == 1 && ret == 1)
				p->writes_fdinfo = true;
			if (k == 0 && ret == 0) {
				/* restore would give each its own copy: they'd silently stop sharing */
				for (size_t j = 0; j < i; j++) {
					if (!c->procs[j].zombie && c->procs[j].vm_id == p->vm_id) {
						pr_err("process %d shares its memory with process %d (CLONE_VM without "
						       "CLONE_THREAD, or a vfork child before exec), which can't be "
						       "dumped yet\n",
						       p->pid, c->procs[j].pid);
						pr_hint("retry once it has exec'd\n");
					}
				}
				ret = -EOPNOTSUPP;
			}
			ret = ret > 0 ? 0 : ret;
		}
		if (!ret)
			ret = check_threads_share(p);
		for (int k = 0; !ret && k < TD_NR_NS; k++) {
			uint64_t ino;

			ret = ns_inode(p->pid, ns_names[k], &ino);
			if (ret < 0 || !ino)
				continue;
			p->ns_id[k] = (uint32_t)(uintptr_t)hmap_get_int(&ns[k], ino);
			if (!p->ns_id[k]) {
				p->ns_id[k] = ++ns_next[k];
				hmap_put_int(&ns[k], ino, (void *)(uintptr_t)p->ns_id[k]);
			}
			/* restore recreates the root's namespaces only */
			if (p->ns_id[k] != 1) {
				pr_err("process %d (%d in the tree) is in a %s namespace of its own, not the root's: "
				       "nested namespaces can't be dumped yet\n",
				       p->pid, p->vpid, ns_names[k]);
				ret = -EOPNOTSUPP;
			}
		}
	}
	for (int k = 0; k < 4; k++) {
		free(sets[k].rep);
		free(sets[k].id);
	}
	for (int k = 0; k < TD_NR_NS; k++)
		hmap_free(&ns[k]);
	return ret ? ret : check_shared_ns(&c->procs[0]);
}

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

void td_fill_ids(const struct td_proc *p, TaskKobjIdsEntry *ids)
{
	uint32_t *ns_fields[TD_NR_NS] = {&ids->pid_ns_id, &ids->net_ns_id,  &ids->ipc_ns_id,	&ids->uts_ns_id,
					 &ids->mnt_ns_id, &ids->user_ns_id, &ids->cgroup_ns_id, &ids->time_ns_id};
	protobuf_c_boolean *has[TD_NR_NS] = {&ids->has_pid_ns_id,    &ids->has_net_ns_id, &ids->has_ipc_ns_id,
					     &ids->has_uts_ns_id,    &ids->has_mnt_ns_id, &ids->has_user_ns_id,
					     &ids->has_cgroup_ns_id, &ids->has_time_ns_id};

	ids->vm_id = p->vm_id;
	ids->files_id = p->files_id;
	ids->fs_id = p->fs_id;
	ids->sighand_id = p->sighand_id;
	for (int k = 0; k < TD_NR_NS; k++) {
		*ns_fields[k] = p->ns_id[k];
		*has[k] = p->ns_id[k] != 0;
	}
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
	ret = ns_inode(getpid(), "mnt", &c.self_mnt_ns);
	if (!ret)
		ret = td_files_init(&c);
	if (!ret)
		ret = collect_procs(&c, t);
	for (size_t i = 0; !ret && i < c.nr_procs; i++)
		ret = read_pids(&c.procs[i]);
	if (!ret)
		ret = resolve_ppids(&c);
	if (!ret)
		ret = assign_ids(&c);
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

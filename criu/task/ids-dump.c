/*
 * The ids of what the processes of a dumped tree share (see task-dump.h):
 * kernel objects (address space, fd table, fs info, signal handlers) by
 * kcmp(2), which orders objects, so a sorted array of one task per object
 * and a binary search give each task its object's id in O(log n) calls;
 * namespaces by the inode of /proc/PID/ns/X. Ids are numbered from 1 in
 * order of first appearance, per kind (so the root's mount namespace is 1,
 * as the mount stage names mountpoints-1.img). The namespaces restore can't
 * recreate are refused here. The dumping criu's own ids, in the same
 * space, are inventory.img's root_ids (td_fill_root_ids).
 */
#define LOG_PREFIX "task-dump: "

#include <errno.h>
#include <linux/kcmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ptrace/seize.h"
#include "task/task-dump.h"
#include "task/userns.h"
#include "util/hashmap.h"
#include "util/log.h"
#include "util/util.h"

static const char *const ns_names[TD_NR_NS] = {
	[TD_NS_PID] = "pid", [TD_NS_NET] = "net",   [TD_NS_IPC] = "ipc",       [TD_NS_UTS] = "uts",
	[TD_NS_MNT] = "mnt", [TD_NS_USER] = "user", [TD_NS_CGROUP] = "cgroup", [TD_NS_TIME] = "time",
};

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

int td_ns_inode(pid_t pid, const char *name, uint64_t *ino)
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
 * Restore recreates the mount, pid, uts, ipc, time and cgroup namespaces
 * of the root (the cgroup one at the root of the tree's cgroups:
 * cgroup/cgroup.h), a network namespace that holds nothing but lo
 * (net/netns.c), and a user namespace of the root's own, one level below
 * criu's, owning the others (task/userns.h). That one is read and checked
 * before the ids (userns_dump_begin): its ids are in every image. A root
 * whose namespace was not taken there (a caller that skipped that stage)
 * would come back in criu's: refused.
 */
static int check_shared_ns(const struct td_proc *root)
{
	uint64_t theirs = 0, ours = 0;
	int ret = td_ns_inode(root->pid, ns_names[TD_NS_USER], &theirs);

	if (!ret)
		ret = td_ns_inode(getpid(), ns_names[TD_NS_USER], &ours);
	if (ret)
		return ret;
	if (theirs != ours && !userns_tree()) {
		pr_err("process %d has a user namespace of its own, which this dump did not read: it can't be "
		       "dumped this way\n",
		       root->pid);
		return -EOPNOTSUPP;
	}
	return 0;
}

/*
 * Processes that share one fd table (clone(CLONE_FILES) without
 * CLONE_VM): restore forks each into its parent's table, so a process
 * that shares one with others but not with its parent (siblings whose
 * parent has since unshared its own, say) would come back with a table of
 * its own: refused.
 */
static int check_shared_fd_tables(const struct td_ctx *c)
{
	struct hmap first; /* files_id -> the first process with it */
	int ret = 0;

	hmap_init(&first);
	for (size_t i = 0; !ret && i < c->nr_procs; i++) {
		const struct td_proc *p = &c->procs[i], *parent, *other;

		if (p->zombie)
			continue;
		other = hmap_get_int(&first, p->files_id);
		if (!other) {
			hmap_put_int(&first, p->files_id, (void *)p);
			continue;
		}
		parent = hmap_get_int(&c->by_pid, (uint64_t)p->status.ppid);
		if (parent && !parent->zombie && parent->files_id == p->files_id)
			continue;
		pr_err("process %d (%d in the tree) shares its fd table with process %d (%d in the tree) but not with "
		       "its parent: such a table can't be restored yet\n",
		       p->pid, p->vpid, other->pid, other->vpid);
		pr_hint("only processes cloned with CLONE_FILES from a parent that still shares the table with them "
			"are restored sharing it\n");
		ret = -EOPNOTSUPP;
	}
	hmap_free(&first);
	return ret;
}

/*
 * A process whose children go to another time namespace than its own
 * (it called unshare(CLONE_NEWTIME) and has not forked since): restore
 * would not make that second namespace, and /proc/PID/timens_offsets
 * shows that one's offsets, not those of the namespace the process is in.
 */
static int check_time_for_children(const struct td_proc *p, uint64_t time_ino)
{
	uint64_t children = 0;
	int ret = td_ns_inode(p->pid, "time_for_children", &children);

	if (ret)
		return ret;
	if (children && children != time_ino) {
		pr_err("process %d (%d in the tree) has unshared a time namespace for its children: nested time "
		       "namespaces can't be dumped yet\n",
		       p->pid, p->vpid);
		return -EOPNOTSUPP;
	}
	return 0;
}

/* The pid of a process as the tree numbers it (the last of NSpid). */
static int tree_vpid(pid_t pid, pid_t *vpid)
{
	struct proc_status st;
	int ret = td_read_status(pid, 0, &st);

	if (!ret && !st.nspid.nr) {
		pr_err("process %d: /proc/%d/status has no NSpid (kernel older than 4.1?)\n", pid, pid);
		ret = -EOPNOTSUPP;
	}
	if (!ret)
		*vpid = (pid_t)st.nspid.ids[st.nspid.nr - 1];
	proc_status_free(&st);
	return ret;
}

/* Restore makes nested mount namespaces under the root's, which comes from --root. */
static int check_mntns_place(const struct dump_ctx *d, pid_t pid, pid_t vpid, uint32_t id, uint64_t ino, uint64_t self)
{
	if (id != 1 && d->mntns[0].ino == self) {
		pr_err("process %d (%d in the tree) is in a mount namespace of its own, while the tree's root %d "
		       "shares criu's: nested mount namespaces are dumped only under a root with its own\n",
		       pid, vpid, d->pid);
		pr_hint("run the tree's root in a mount namespace of its own with its own root (unshare -m, then "
			"pivot_root or a bind-mounted root), as containers do\n");
		return -EOPNOTSUPP;
	}
	if (id != 1 && ino == self) {
		pr_err("process %d (%d in the tree) is in criu's own mount namespace, while the tree's root %d has "
		       "one of its own: restore can't put a process back into the host's mounts\n",
		       pid, vpid, d->pid);
		pr_hint("dump a tree whose processes all live in the container's mount namespaces\n");
		return -EOPNOTSUPP;
	}
	return 0;
}

/* The root directory at `path`: mount id, device, inode. */
static int root_identity(int dirfd, const char *path, uint64_t id[3])
{
	struct statx stx;

	if (statx(dirfd, path, AT_EMPTY_PATH, STATX_INO | STATX_MNT_ID, &stx) || !(stx.stx_mask & STATX_MNT_ID)) {
		pr_perror("can't statx %s", path);
		return -errno ? -errno : -EIO;
	}
	id[0] = stx.stx_mnt_id;
	id[1] = ((uint64_t)stx.stx_dev_major << 32) | stx.stx_dev_minor;
	id[2] = stx.stx_ino;
	return 0;
}

/* The "/" of the mount namespace of `pid`: a child enters it (setns gives
 * it the namespace's root) and says what it is. */
static int mntns_root_identity(pid_t pid, uint64_t id[3])
{
	char path[64];
	int pfd[2], status;
	ssize_t n = -1;
	pid_t child;
	_cleanup_close_ int nsfd = -1;

	snprintf(path, sizeof(path), "/proc/%d/ns/mnt", pid);
	nsfd = open(path, O_RDONLY | O_CLOEXEC);
	if (nsfd < 0 || pipe2(pfd, O_CLOEXEC)) {
		pr_perror("can't open %s", path);
		return -errno;
	}
	child = fork();
	if (child == 0) {
		uint64_t got[3];

		close(pfd[0]);
		_exit(setns(nsfd, CLONE_NEWNS) || root_identity(AT_FDCWD, "/", got) ||
				      write(pfd[1], got, sizeof(got)) != sizeof(got)
			      ? 1
			      : 0);
	}
	close(pfd[1]);
	if (child > 0) {
		n = read(pfd[0], id, 3 * sizeof(*id));
		waitpid(child, &status, 0);
	}
	close(pfd[0]);
	if (n != 3 * sizeof(*id)) {
		pr_err("can't find the root of the mount namespace of process %d\n", pid);
		return -EIO;
	}
	return 0;
}

/*
 * Every process has its namespace's root as its own: restore puts each
 * process at the root of its namespace, and its files' names (as dump
 * checks them, from its root) are opened from there. A chrooted process
 * would come back at the namespace's root, holding other files.
 */
static int check_process_root(const struct dump_mntns *ns, pid_t pid, pid_t vpid)
{
	char path[64];
	uint64_t id[3];
	int ret;

	snprintf(path, sizeof(path), "/proc/%d/root", pid);
	ret = root_identity(AT_FDCWD, path, id);
	if (ret)
		return ret;
	if (id[0] == ns->root_mnt && id[1] == ns->root_dev && id[2] == ns->root_ino)
		return 0;
	pr_err("process %d (%d in the tree) has a root directory of its own (chroot) below %s: a chrooted process "
	       "can't be dumped yet (restore would put it back at that root, with its files looked up there)\n",
	       pid, vpid, ns->id == 1 ? "the container's root" : "the root of its mount namespace");
	pr_hint("dump it once it has left its chroot, or run it in a mount namespace of its own with pivot_root\n");
	return -EOPNOTSUPP;
}

/* A thread that unshared its own mount namespace (a clone without CLONE_FS):
 * restore makes threads in their process's. */
static int check_thread_mntns(const struct seized_thread *th, uint64_t process_ino)
{
	uint64_t ino = 0;
	int ret;

	if (th->tid == th->pid)
		return 0;
	ret = td_ns_inode(th->tid, "mnt", &ino);
	if (ret || ino == process_ino)
		return ret;
	pr_err("thread %d of process %d is in a mount namespace of its own: threads come back in their process's, "
	       "so it can't be dumped yet\n",
	       th->tid, th->pid);
	return -EOPNOTSUPP;
}

/* The namespace's first process: what its root is, and checked */
static int new_mntns(struct dump_ctx *d, struct dump_mntns *ns, uint64_t self)
{
	uint64_t id[3];
	char path[64];
	int ret = check_mntns_place(d, ns->pid, ns->vpid, ns->id, ns->ino, self);

	snprintf(path, sizeof(path), "/proc/%d/root", ns->pid);
	if (!ret)
		ret = ns->id == 1 ? root_identity(AT_FDCWD, path, id) : mntns_root_identity(ns->pid, id);
	if (!ret) {
		ns->root_mnt = id[0];
		ns->root_dev = id[1];
		ns->root_ino = id[2];
	}
	return ret;
}

int dump_mntns_scan(struct dump_ctx *d, const struct seized_tree *t)
{
	struct hmap seen; /* pid -> non-NULL once looked at */
	uint64_t self = 0;
	int ret = td_ns_inode(getpid(), "mnt", &self);

	hmap_init(&seen);
	hmap_init(&d->mntns_by_ino);
	hmap_init(&d->mntns_by_vpid);
	/* processes in their order of first appearance, as td_assign_ids walks them */
	for (size_t i = 0; !ret && i < t->nr_threads; i++) {
		pid_t pid = t->threads[i].pid, vpid = 0;
		uint64_t ino = 0;
		uint32_t id;

		if (hmap_get_int(&seen, (uint64_t)pid)) {
			ret = check_thread_mntns(&t->threads[i],
						 (uint64_t)(uintptr_t)hmap_get_int(&seen, (uint64_t)pid));
			continue;
		}
		ret = td_ns_inode(pid, "mnt", &ino);
		if (!ret)
			hmap_put_int(&seen, (uint64_t)pid, (void *)(uintptr_t)ino);
		if (!ret)
			ret = tree_vpid(pid, &vpid);
		if (ret)
			break;
		id = (uint32_t)(uintptr_t)hmap_get_int(&d->mntns_by_ino, ino);
		if (!id) {
			id = (uint32_t)d->nr_mntns + 1;
			d->mntns = xrealloc(d->mntns, (d->nr_mntns + 1) * sizeof(*d->mntns));
			d->mntns[d->nr_mntns++] = (struct dump_mntns){.id = id, .ino = ino, .pid = pid, .vpid = vpid};
			hmap_put_int(&d->mntns_by_ino, ino, (void *)(uintptr_t)id);
			ret = new_mntns(d, &d->mntns[id - 1], self);
		}
		if (!ret)
			ret = check_process_root(&d->mntns[id - 1], pid, vpid);
		if (!ret)
			ret = check_thread_mntns(&t->threads[i], ino);
		hmap_put_int(&d->mntns_by_vpid, (uint64_t)vpid, (void *)(uintptr_t)id);
	}
	hmap_free(&seen);
	if (!ret && d->nr_mntns > 1)
		pr_info("the tree has %zu mount namespaces\n", d->nr_mntns);
	return ret;
}

void dump_mntns_free(struct dump_ctx *d)
{
	free(d->mntns);
	d->mntns = NULL;
	d->nr_mntns = 0;
	hmap_free(&d->mntns_by_ino);
	hmap_free(&d->mntns_by_vpid);
}

/* The id dump_mntns_scan gave the mount namespace `ino`, or a new one when
 * it did not run (dump_task_tree alone). */
static uint32_t mntns_id(const struct td_ctx *c, struct hmap *ns, uint32_t *next, uint64_t ino)
{
	uint32_t id;

	if (c->d->nr_mntns)
		return (uint32_t)(uintptr_t)hmap_get_int(&c->d->mntns_by_ino, ino);
	id = (uint32_t)(uintptr_t)hmap_get_int(ns, ino);
	if (!id) {
		id = ++*next;
		hmap_put_int(ns, ino, (void *)(uintptr_t)id);
	}
	return id;
}

/* A process's mount namespace id: nested ones are dumped when the scan ran. */
static int assign_mntns_id(struct td_ctx *c, struct td_proc *p, struct hmap *ns, uint32_t *next, uint64_t ino)
{
	p->ns_id[TD_NS_MNT] = mntns_id(c, ns, next, ino);
	if (c->d->nr_mntns) {
		*next = (uint32_t)c->d->nr_mntns;
		if (p->ns_id[TD_NS_MNT])
			return 0;
		pr_err("process %d (%d in the tree) is in a mount namespace the scan did not find\n", p->pid, p->vpid);
		return -EINVAL;
	}
	if (p->ns_id[TD_NS_MNT] == 1)
		return 0;
	pr_err("process %d (%d in the tree) is in a mnt namespace of its own, not the root's: nested namespaces "
	       "can't be dumped without the mount stage\n",
	       p->pid, p->vpid);
	return -EOPNOTSUPP;
}

int td_assign_ids(struct td_ctx *c)
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

			ret = td_ns_inode(p->pid, ns_names[k], &ino);
			if (!ret && ino && k == TD_NS_TIME)
				ret = check_time_for_children(p, ino);
			if (ret < 0 || !ino)
				continue;
			if (i == 0)
				c->root_ns_ino[k] = ino;
			if (k == TD_NS_MNT) {
				ret = assign_mntns_id(c, p, &ns[k], &ns_next[k], ino);
				continue;
			}
			p->ns_id[k] = (uint32_t)(uintptr_t)hmap_get_int(&ns[k], ino);
			if (!p->ns_id[k]) {
				p->ns_id[k] = ++ns_next[k];
				hmap_put_int(&ns[k], ino, (void *)(uintptr_t)p->ns_id[k]);
			}
			/* restore recreates the root's namespaces only, and nested mount ones */
			if (p->ns_id[k] != 1) {
				pr_err("process %d (%d in the tree) is in a %s namespace of its own, not the root's: "
				       "nested namespaces can't be dumped yet\n",
				       p->pid, p->vpid, ns_names[k]);
				ret = -EOPNOTSUPP;
			}
		}
	}
	for (int k = 0; k < 4; k++) {
		c->nr_kobj_ids[k] = (uint32_t)sets[k].nr;
		free(sets[k].rep);
		free(sets[k].id);
	}
	for (int k = 0; k < TD_NR_NS; k++) {
		c->nr_ns_ids[k] = ns_next[k];
		hmap_free(&ns[k]);
	}
	if (!ret)
		ret = check_shared_fd_tables(c);
	return ret ? ret : check_shared_ns(&c->procs[0]);
}

/* The fields of one namespace kind in a task_kobj_ids_entry. */
static void ns_field(TaskKobjIdsEntry *ids, int k, uint32_t **v, protobuf_c_boolean **has)
{
	uint32_t *fields[TD_NR_NS] = {&ids->pid_ns_id, &ids->net_ns_id,	 &ids->ipc_ns_id,    &ids->uts_ns_id,
				      &ids->mnt_ns_id, &ids->user_ns_id, &ids->cgroup_ns_id, &ids->time_ns_id};
	protobuf_c_boolean *hass[TD_NR_NS] = {&ids->has_pid_ns_id,    &ids->has_net_ns_id, &ids->has_ipc_ns_id,
					      &ids->has_uts_ns_id,    &ids->has_mnt_ns_id, &ids->has_user_ns_id,
					      &ids->has_cgroup_ns_id, &ids->has_time_ns_id};

	*v = fields[k];
	*has = hass[k];
}

int td_fill_root_ids(const struct td_ctx *c, TaskKobjIdsEntry *ids)
{
	const struct td_proc *root = &c->procs[0];
	uint32_t *kobj[4] = {&ids->vm_id, &ids->files_id, &ids->fs_id, &ids->sighand_id};

	task_kobj_ids_entry__init(ids);
	for (int k = 0; k < 4; k++)
		*kobj[k] = c->nr_kobj_ids[k] + 1;
	for (int k = 0; k < TD_NR_NS; k++) {
		uint64_t ours = 0;
		protobuf_c_boolean *has;
		uint32_t *v;
		int ret;

		if (!c->root_ns_ino[k])
			continue; /* no such namespace kind here: as in ids-<pid>.img */
		ret = td_ns_inode(getpid(), ns_names[k], &ours);
		if (ret)
			return ret;
		ns_field(ids, k, &v, &has);
		*has = true;
		*v = ours == c->root_ns_ino[k] ? root->ns_id[k] : c->nr_ns_ids[k] + 1;
	}
	return 0;
}

void td_fill_ids(const struct td_proc *p, TaskKobjIdsEntry *ids)
{
	ids->vm_id = p->vm_id;
	ids->files_id = p->files_id;
	ids->fs_id = p->fs_id;
	ids->sighand_id = p->sighand_id;
	for (int k = 0; k < TD_NR_NS; k++) {
		protobuf_c_boolean *has;
		uint32_t *v;

		ns_field(ids, k, &v, &has);
		*v = p->ns_id[k];
		*has = p->ns_id[k] != 0;
	}
}

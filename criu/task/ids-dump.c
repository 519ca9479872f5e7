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
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

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

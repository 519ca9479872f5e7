/*
 * The ids of what the processes of a dumped tree share (see task-dump.h):
 * kernel objects (address space, fd table, fs info, signal handlers) by
 * kcmp(2), which orders objects, so a sorted array of one task per object
 * and a binary search give each task its object's id in O(log n) calls;
 * namespaces by the inode of /proc/PID/ns/X. Ids are numbered from 1 in
 * order of first appearance, per kind (so the root's mount namespace is 1,
 * as the mount stage names mountpoints-1.img). The namespaces restore can't
 * recreate are refused here.
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
		int ret = td_ns_inode(root->pid, ns_names[shared[i]], &theirs);

		if (!ret)
			ret = td_ns_inode(getpid(), ns_names[shared[i]], &ours);
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

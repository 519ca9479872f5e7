/*
 * `criu dump -t PID`: runs the dump stages in order and commits their images
 * only when every stage succeeded.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <signal.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define LOG_PREFIX "dump: "
#include "crtools.h"
#include "dump.h"
#include "ipc/ipc-ns.h"
#include "ipc/ipc-sysv.h"
#include "net/netns.h"
#include "util/hashmap.h"
#include "inventory.pb-c.h"
#include "util/log.h"
#include "mem/page-release.h"
#include "ptrace/seize.h"
#include "task/task-dump.h"
#include "util/util.h"
#include "utsns.pb-c.h"

/* CRTOOLS_IMAGES_V1_1 */
#define IMAGES_VERSION 2

static int write_inventory(struct dump_ctx *d)
{
	InventoryEntry inv = INVENTORY_ENTRY__INIT;
	struct img_writer *w = img_set_new(&d->imgs, IMG_INVENTORY, 0);

	if (!w)
		return -EIO;
	inv.img_version = IMAGES_VERSION;
	inv.has_fdinfo_per_id = true;
	inv.fdinfo_per_id = true;
	inv.has_ns_per_id = true;
	inv.ns_per_id = true;
	return img_write_entry(w, &inv.base);
}

static void release_images(struct dump_ctx *d, int *ret)
{
	if (!*ret)
		*ret = img_set_commit(&d->imgs);
	else
		img_set_discard(&d->imgs);
	free(d->sysv_refs);
	d->sysv_refs = NULL;
	d->nr_sysv_refs = 0;
}

/*
 * The host and domain name of the task's UTS namespace, when it has its
 * own: read by a short-lived child that joins it (uname(2) has no pid).
 */
static int write_utsns(struct dump_ctx *d)
{
	UtsnsEntry e = UTSNS_ENTRY__INIT;
	struct utsname u;
	struct stat a, b;
	char path[64];
	int fds[2], status;
	pid_t child;

	snprintf(path, sizeof(path), "/proc/%d/ns/uts", d->pid);
	if (stat(path, &a) || stat("/proc/self/ns/uts", &b) || a.st_ino == b.st_ino)
		return 0; /* ours: nothing of its own to restore */
	if (pipe(fds))
		return -errno;
	child = fork();
	if (child == 0) {
		int fd = open(path, O_RDONLY);

		close(fds[0]);
		if (fd < 0 || setns(fd, CLONE_NEWUTS) || uname(&u) || write(fds[1], &u, sizeof(u)) != sizeof(u))
			_exit(1);
		_exit(0);
	}
	close(fds[1]);
	status = child > 0 && read(fds[0], &u, sizeof(u)) == sizeof(u) ? 0 : -1;
	close(fds[0]);
	if (child > 0)
		waitpid(child, NULL, 0);
	if (status) {
		pr_err("can't read the host name of task %d's UTS namespace\n", d->pid);
		return -EIO;
	}
	e.nodename = u.nodename;
	e.domainname = u.domainname;
	{
		struct img_writer *w = img_set_new(&d->imgs, IMG_UTSNS, 1);

		return w ? img_write_entry(w, &e.base) : -EIO;
	}
}

static struct img_writer *new_ipc_image(void *ctx, enum img_type type)
{
	return img_set_new(&((struct dump_ctx *)ctx)->imgs, type, 1);
}

/*
 * The settings of the task's IPC namespace, when it has its own, and its
 * System V objects (ipc-sysv.c); one holding POSIX message queues is
 * refused, as they are not saved yet.
 */
static int write_ipcns(struct dump_ctx *d)
{
	IpcVarEntry e = IPC_VAR_ENTRY__INIT;
	struct sysv_seg *segs = NULL;
	size_t nr_segs = 0;
	struct hmap by_id;
	struct ipc_vars v;
	struct stat a, b;
	char path[64];
	uint32_t sem[4];
	int ret;

	snprintf(path, sizeof(path), "/proc/%d/ns/ipc", d->pid);
	if (stat(path, &a) || stat("/proc/self/ns/ipc", &b) || a.st_ino == b.st_ino)
		return 0; /* ours: restore gives the tree a fresh one */
	ret = ipc_vars_of_task(d->pid, &v);
	if (ret)
		return ret;
	if (v.nr_shm < 0 || v.nr_sem < 0 || v.nr_msg < 0 || v.nr_mq < 0) {
		pr_err("can't tell whether the IPC namespace of task %d holds objects (/proc/sysvipc, mqueue): %s\n",
		       d->pid, strerror(-(v.nr_shm < 0 ? v.nr_shm : v.nr_sem < 0 ? v.nr_sem : v.nr_msg < 0 ? v.nr_msg : v.nr_mq)));
		return -EIO;
	}
	if (v.nr_mq) {
		pr_err("the IPC namespace of task %d holds %d POSIX message queues, which can't be dumped yet\n",
		       d->pid, v.nr_mq);
		return -EOPNOTSUPP;
	}
	ipc_vars_to_entry(&v, &e, sem);
	{
		struct img_writer *w = img_set_new(&d->imgs, IMG_IPC_VAR, 1);

		ret = w ? img_write_entry(w, &e.base) : -EIO;
	}
	if (!ret && (v.nr_shm || v.nr_sem || v.nr_msg))
		ret = sysv_dump(d->pid, new_ipc_image, d, &segs, &nr_segs);
	/* every attached segment is one the images hold (not one attached before an unshare) */
	hmap_init(&by_id);
	for (size_t k = 0; !ret && k < nr_segs; k++)
		hmap_put_int(&by_id, segs[k].id, &segs[k]);
	for (size_t i = 0; !ret && i < d->nr_sysv_refs; i++) {
		const struct sysv_ref *r = &d->sysv_refs[i];
		const struct sysv_seg *seg = hmap_get_int(&by_id, r->id);

		if (!seg || seg->size != r->size) {
			pr_err("process %d: the System V segment attached at %#llx (id %llu, %llu bytes) is not one of "
			       "its IPC namespace's: not supported\n",
			       r->pid, (unsigned long long)r->start, (unsigned long long)r->id, (unsigned long long)r->size);
			ret = -EOPNOTSUPP;
		}
	}
	hmap_free(&by_id);
	free(segs);
	return ret;
}

/* A network namespace of the task's own, if it holds nothing but lo. */
static int write_netns(struct dump_ctx *d)
{
	NetDeviceEntry lo = NET_DEVICE_ENTRY__INIT;
	bool own;
	int ret = netns_of_task(d->pid, &own, &lo);

	if (ret || !own)
		return ret;
	{
		struct img_writer *w = img_set_new(&d->imgs, IMG_NETDEV, 1);

		return w ? img_write_entry(w, &lo.base) : -EIO;
	}
}

/* A failed dump: memory given back while dumping returns first. */
static void put_back(struct page_release_journal *j, int ret)
{
	if (ret && page_release_undo(j))
		pr_err("the tree's memory could not all be put back after the failed dump\n");
}

/* After a successful dump without -R: the tree goes, as upstream. */
static void kill_tree(struct seized_tree *t)
{
	for (size_t i = 0; i < t->nr_threads; i++)
		if (t->threads[i].tid == t->threads[i].pid)
			kill(t->threads[i].pid, SIGKILL);
	release_tree(t);
}

int cr_dump(const struct options *o)
{
	struct dump_ctx d = {
		.opts = o,
		.pid = o->tree_pid,
		.mnt_ns_id = 1,
	};
	struct seized_tree tree = {0};
	struct task_dump_stats st = {0};
	struct page_release_journal journal = {0};
	uint64_t t0, frozen_ns = 0;
	int ret;

	d.imgs.dirfd = open_images_dir(o->imgs_dir, true);
	if (d.imgs.dirfd < 0)
		return -1;
	if (kill(d.pid, 0) && errno == ESRCH) {
		pr_err("no process with PID %d\n", d.pid);
		close(d.imgs.dirfd);
		return -1;
	}
	catch_stop_signals();
	t0 = monotonic_ns();
	ret = seize_tree_timeout(d.pid, &tree, o->timeout);
	if (ret) {
		pr_err("can't freeze the tree of task %d: %s\n", d.pid, strerror(-ret));
		close(d.imgs.dirfd);
		return -1;
	}
	ret = dump_mounts(&d);
	if (!ret)
		ret = dump_task_tree_opts(&d, &tree,
					  &(struct task_dump_opts){.shell_job = o->shell_job,
								   .tcp_established = o->tcp_established,
								   .release = o->leave_running ? NULL : &journal},
					  &st);
	if (!ret)
		ret = write_utsns(&d);
	if (!ret)
		ret = write_ipcns(&d);
	if (!ret)
		ret = write_netns(&d);
	if (!ret)
		ret = stop_requested();
	if (!ret)
		ret = write_inventory(&d); /* last: it marks a complete images dir */
	/*
	 * Every byte is written (to the page cache at least): a tree that is
	 * to run on (-R, or a failed dump) goes now, not after the fsyncs.
	 * One that is to be killed waits until its images are safe.
	 */
	if (ret || o->leave_running) {
		tcp_repair_release(&d, true);
		put_back(&journal, ret);
		release_tree(&tree);
		frozen_ns = monotonic_ns() - t0;
	}
	/* inventory is the last pending image, so it is renamed into place last */
	release_images(&d, &ret);
	close(d.imgs.dirfd);
	if (!frozen_ns) {
		if (ret) {
			tcp_repair_release(&d, true);
			put_back(&journal, ret);
			release_tree(&tree); /* the commit failed: it runs on */
		} else {
			kill_tree(&tree); /* its connections go silently, in repair mode */
			tcp_repair_release(&d, false);
		}
		frozen_ns = monotonic_ns() - t0;
	}
	page_release_journal_free(&journal);
	pr_info("tasks frozen for %.3f s; %zu processes, %zu threads, %llu MiB of memory in %.3f s; %.3f s in all\n",
		frozen_ns / 1e9, st.nr_processes, st.nr_threads, (unsigned long long)(st.pages_bytes >> 20),
		st.pages_ns / 1e9, (monotonic_ns() - t0) / 1e9);
	if (ret) {
		pr_err("dump of task %d failed; nothing was written to %s, the task keeps running\n", d.pid,
		       o->imgs_dir);
		return -1;
	}
	pr_msg("Dumped task %d (%zu processes) to %s%s\n", d.pid, st.nr_processes, o->imgs_dir,
	       o->leave_running ? "; it keeps running" : "");
	return 0;
}

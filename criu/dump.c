/*
 * `criu dump -t PID`: runs the dump stages in order and commits their images
 * only when every stage succeeded.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define LOG_PREFIX "dump: "
#include "crtools.h"
#include "dump.h"
#include "inventory.pb-c.h"
#include "cgroup/cgroup.h"
#include "cgroup/freezer.h"
#include "image/stats.h"
#include "mem/page-release.h"
#include "notify.h"
#include "ptrace/seize.h"
#include "task/pidns.h"
#include "task/task-dump.h"
#include "task/timens.h"
#include "task/userns.h"
#include "util/log.h"
#include "util/util.h"

/* CRTOOLS_IMAGES_V1_1 */
#define IMAGES_VERSION 2

/*
 * Upstream's NETWORK_LOCK_SKIP: its restore neither locks nor unlocks the
 * network. criu's lock (--tcp-established, net/net-lock.c) is an nftables
 * table per connection that upstream knows nothing of; with its default
 * (iptables, 0) upstream would run iptables-restore against rules that
 * were never made.
 */
#define NETWORK_LOCK_SKIP 2

/* A fresh UUID (upstream's dump_criu_run_id), or NULL: it is optional. */
static char *run_id(void)
{
	_cleanup_free_ char *buf = NULL;
	size_t len;

	if (read_file_at(AT_FDCWD, "/proc/sys/kernel/random/uuid", &buf, &len) < 0 || len < 36) {
		pr_debug("no UUID from /proc/sys/kernel/random/uuid: inventory.img goes without a run id\n");
		return NULL;
	}
	buf[36] = '\0';
	return steal_pointer(&buf);
}

/*
 * What upstream 4.x's restore requires or reads (image.c:check_img_inventory,
 * pstree.c:prepare_pstree_kobj_ids): root_ids, without which it refuses the
 * images; an empty plugins_entry, without which it enables every plugin it
 * has; the lock method; the run id. No lsmtype (no creds carry an LSM
 * profile): upstream reads its absence as "nothing to check". root_cg_set
 * is criu's own cgroup set: threads in it stay where the restoring criu is.
 */
static int write_inventory(struct dump_ctx *d)
{
	InventoryEntry inv = INVENTORY_ENTRY__INIT;
	PluginsEntry plugins = PLUGINS_ENTRY__INIT;
	_cleanup_free_ char *uuid = run_id();
	struct img_writer *w = img_set_new(&d->imgs, IMG_INVENTORY, 0);

	if (!w)
		return -EIO;
	inv.img_version = IMAGES_VERSION;
	inv.has_fdinfo_per_id = true;
	inv.fdinfo_per_id = true;
	inv.has_ns_per_id = true;
	inv.ns_per_id = true;
	if (d->has_root_ids)
		inv.root_ids = &d->root_ids;
	inv.plugins_entry = &plugins;
	inv.has_network_lock_method = true;
	inv.network_lock_method = NETWORK_LOCK_SKIP;
	inv.dump_criu_run_id = uuid;
	inv.has_root_cg_set = d->cg != NULL;
	inv.root_cg_set = d->cg ? cg_dump_criu_set(d->cg) : 0;
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
	hmap_free(&d->mnt_ids);
	dump_mntns_free(d);
	cg_dump_free(d->cg);
	d->cg = NULL;
}

/* Seizing thawed the cgroup: one frozen before criu came is frozen again,
 * and left so. True when it was. */
static bool refreeze(struct dump_ctx *d)
{
	if (!d->has_freezer || !d->freezer.was_frozen)
		return false;
	d->freezer.was_frozen = false;
	if (freezer_freeze(&d->freezer, d->opts->timeout))
		pr_err("%s was frozen before the dump and could not be frozen again\n", d->freezer.path);
	d->freezer.frozen = false; /* left frozen, as it was */
	return true;
}

/* The tree runs on, as it was: after a failed dump, or with -R. */
static void resume_tree(struct dump_ctx *d, struct seized_tree *t, struct page_release_journal *j, int ret)
{
	/*
	 * A cgroup frozen before criu came is frozen again while its tasks are
	 * still held, so none runs an instruction meanwhile. A frozen task
	 * can't be detached (it is no longer in its ptrace stop): the kernel
	 * lets go of it, still frozen, when criu exits.
	 */
	tcp_repair_release(d, true);
	/* memory given back while dumping returns first; page_release_undo
	 * names each process that did not get all of it */
	if (ret)
		page_release_undo(j);
	/* last before the release: undoing needs the tasks in their stops */
	if (refreeze(d))
		for (size_t i = 0; i < t->nr_threads; i++)
			t->threads[i].hung = true;
	release_tree(t);
}

/*
 * After SIGKILL to every process of the tree: collects each seized thread's
 * death, in whatever order they come. Never a blocking wait on one thread:
 * a dying pid 1 of a namespace waits in the kernel for its other threads,
 * zombies that only their tracer (criu) can reap.
 */
static void reap_killed(struct seized_tree *tree)
{
	size_t left = tree->nr_threads;
	unsigned polls = 0;

	while (left) {
		left = 0;
		for (size_t i = 0; i < tree->nr_threads; i++) {
			struct seized_thread *t = &tree->threads[i];
			int status;
			pid_t r;

			if (!t->seized || t->hung)
				continue;
			r = waitpid(t->tid, &status, __WALL | WNOHANG);
			if (r < 0 && errno == ECHILD) { /* reaped already, or not ours any more */
				t->seized = false;
				t->dead = true;
				continue;
			}
			if (r == t->tid && (WIFEXITED(status) || WIFSIGNALED(status))) {
				t->seized = false;
				t->dead = true;
				continue;
			}
			left++; /* still dying, or a stop on its way out: not yet */
		}
		if (!left)
			break;
		if (++polls % 10000 == 0) /* every ~10 s */
			pr_warn("%zu killed threads of the tree are not gone yet (uninterruptible sleep?)\n", left);
		usleep(1000);
	}
}

/* After a successful dump without -R: the tree goes, as upstream. */
static void kill_tree(struct dump_ctx *d, struct seized_tree *t)
{
	for (size_t i = 0; i < t->nr_threads; i++)
		if (t->threads[i].tid == t->threads[i].pid)
			kill(t->threads[i].pid, SIGKILL);
	reap_killed(t);
	release_tree(t);
	tcp_repair_release(d, false); /* its connections go silently, in repair mode */
}

/* Whether the tree has a network namespace of its own (upstream tells
 * network-lock and network-unlock only then). */
static bool own_netns(pid_t pid)
{
	struct stat a, b;
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	return !stat(path, &a) && !stat("/proc/self/ns/net", &b) && a.st_ino != b.st_ino;
}

/* stats-dump in the work directory; a dump that worked does not fail for it. */
static void write_dump_stats(const struct options *o, uint64_t seize_ns, uint64_t frozen_ns,
			     const struct task_dump_stats *st)
{
	struct dump_stats s = {
		.freezing_ns = seize_ns,
		.frozen_ns = frozen_ns,
		.memdump_ns = st->pages_ns,
		.pages_scanned = st->pages_bytes / 4096,
		.pages_written = st->pages_bytes / 4096,
	};
	int dirfd = open(o->work_dir ? o->work_dir : o->imgs_dir, O_DIRECTORY | O_RDONLY | O_CLOEXEC);

	if (dirfd < 0 || stats_write_dump(dirfd, &s))
		pr_warn("no stats-dump written\n");
	if (dirfd >= 0)
		close(dirfd);
}

/*
 * --freeze-cgroup: the container's cgroup is frozen, each of its threads
 * attached and asked to stop while it can't run, the cgroup thawed (each
 * then stops before running again), and the tree walked as usual. A
 * cgroup frozen before criu came is frozen again before the tree runs on
 * (resume_tree).
 */
static int seize_frozen(struct dump_ctx *d, struct seized_tree *tree)
{
	const struct options *o = d->opts;
	struct seize_pre pre;
	_cleanup_free_ pid_t *tids = NULL;
	size_t n = 0;
	int ret;

	if (freezer_open(o->freeze_cgroup, &d->freezer))
		return -1;
	d->has_freezer = true;
	ret = freezer_freeze(&d->freezer, o->timeout);
	if (!ret)
		ret = freezer_tids(&d->freezer, &tids, &n);
	if (!ret)
		ret = seize_pre_attach(&pre, tids, n);
	else
		hmap_init(&pre.tids);
	/* thawed in any case, also when frozen before: the threads must reach their stop */
	d->freezer.frozen = true;
	if (freezer_thaw(&d->freezer) && !ret)
		ret = -1;
	if (!ret)
		ret = seize_tree_frozen(d->pid, tree, o->timeout, &pre);
	seize_pre_release(&pre);
	return ret;
}

static int seize(struct dump_ctx *d, struct seized_tree *tree)
{
	if (!d->opts->freeze_cgroup)
		return seize_tree_timeout(d->pid, tree, d->opts->timeout);
	return seize_frozen(d, tree);
}

/* The images directory, and a tree that is there to dump. */
static int dump_begin(struct dump_ctx *d, const struct options *o)
{
	d->imgs.dirfd = open_images_dir(o->imgs_dir, true);
	if (d->imgs.dirfd < 0)
		return -1;
	if (kill(d->pid, 0) && errno == ESRCH) {
		pr_err("no process with PID %d\n", d->pid);
		close(d->imgs.dirfd);
		return -1;
	}
	return 0;
}

/* The threads' cgroups, with --cgroup-root's subtrees. */
static struct cg_dump *dump_cgroups_begin(struct dump_ctx *d)
{
	struct cg_root_map map;
	struct cg_dump *cg;

	cg_root_map_of(d->opts, &map);
	cg = cg_dump_new(d->pid, &map);
	cg_root_map_free(&map);
	return cg;
}

/* Every stage, in order; the first failure stops them. */
static int dump_stages(struct dump_ctx *d, struct seized_tree *tree, struct page_release_journal *j,
		       struct task_dump_stats *st)
{
	const struct options *o = d->opts;
	struct task_dump_opts to = {
		.shell_job = o->shell_job,
		.orphan_pts_master = o->orphan_pts_master,
		.tcp_established = o->tcp_established,
		.assume_no_global_membarrier = o->assume_no_global_membarrier,
		.release = o->release_memory ? j : NULL,
	};
	int ret;

	if (o->release_memory)
		pr_info("--release-memory: each process's memory is released as it is dumped; from then on it "
			"dies with criu if criu dies before the images are committed\n");
	/* first: the ids every later stage writes are the tree's namespace's */
	ret = userns_dump_begin(d->pid);
	/* the mount namespaces: the mount stage writes one image each */
	if (!ret)
		ret = dump_mntns_scan(d, tree);
	if (!ret)
		ret = dump_mounts(d);
	if (!ret) {
		d->cg = dump_cgroups_begin(d);
		ret = d->cg ? 0 : -EINVAL;
	}
	if (!ret)
		ret = dump_task_tree_opts(d, tree, &to, st);
	if (!ret)
		ret = cg_dump_write(d->cg, &d->imgs);
	if (!ret)
		ret = utsns_dump(d);
	if (!ret)
		ret = ipcns_dump(d);
	if (!ret)
		ret = netns_dump(d);
	if (!ret)
		ret = pidns_dump(d);
	if (!ret)
		ret = timens_dump(d);
	if (!ret)
		ret = userns_dump(d);
	if (!ret)
		ret = stop_requested();
	if (!ret)
		ret = write_inventory(d); /* last: it marks a complete images dir */
	return ret;
}

/*
 * Every byte is written (to the page cache at least): a tree that is to
 * run on (-R, or a failed dump) goes now, not after the fsyncs. One that
 * is to be killed waits until its images are safe, and runs on if they
 * can't be committed. Returns how long the tree was frozen.
 */
static uint64_t dump_end(struct dump_ctx *d, struct seized_tree *tree, struct page_release_journal *j, int *ret,
			 uint64_t t0)
{
	bool resumed = *ret || d->opts->leave_running;
	uint64_t frozen_ns = 0;

	if (resumed) {
		resume_tree(d, tree, j, *ret);
		frozen_ns = monotonic_ns() - t0;
	}
	/* inventory is the last pending image, so it is renamed into place last */
	release_images(d, ret);
	close(d->imgs.dirfd);
	/* the images are complete: whoever asked may look at them now; a no
	 * fails the dump, and a tree that was to die runs on */
	if (!*ret && cr_notify(d->opts, ACT_POST_DUMP, 0))
		*ret = -ENOTRECOVERABLE; /* told apart from the failures that leave no images */
	if (d->net_locked && (*ret || d->opts->leave_running))
		cr_notify(d->opts, ACT_NET_UNLOCK, 0);
	if (!resumed) {
		if (*ret)
			resume_tree(d, tree, j, *ret); /* the commit failed: it runs on */
		else
			kill_tree(d, tree);
		frozen_ns = monotonic_ns() - t0;
	}
	page_release_journal_free(j);
	return frozen_ns;
}

int cr_dump(const struct options *o)
{
	struct dump_ctx d = {
		.opts = o,
		.pid = o->tree_pid,
		.mnt_ns_id = 1,
		.lock_nsfd = -1,
	};
	struct seized_tree tree = {0};
	struct task_dump_stats st = {0};
	struct page_release_journal journal = {0};
	uint64_t t0, frozen_ns, seize_ns;
	int ret;

	if (dump_begin(&d, o))
		return -1;
	if (cr_notify(o, ACT_PRE_DUMP, 0)) {
		close(d.imgs.dirfd);
		return -1;
	}
	catch_stop_signals();
	t0 = monotonic_ns();
	/* seize_tree says why it can't */
	if (seize(&d, &tree)) {
		refreeze(&d);
		if (d.has_freezer)
			freezer_close(&d.freezer);
		close(d.imgs.dirfd);
		return -1;
	}
	seize_ns = monotonic_ns() - t0;
	ret = 0;
	if (own_netns(d.pid)) {
		d.net_locked = true;
		ret = cr_notify(o, ACT_NET_LOCK, 0) ? -ECANCELED : 0;
		if (!ret)
			ret = netns_lock_fd(&d, &d.lock_nsfd);
	}
	if (!ret)
		ret = dump_stages(&d, &tree, &journal, &st);
	userns_dump_end();
	frozen_ns = dump_end(&d, &tree, &journal, &ret, t0);
	if (d.has_freezer)
		freezer_close(&d.freezer);
	if (d.lock_nsfd >= 0)
		close(d.lock_nsfd);
	pr_info("tasks frozen for %.3f s; %zu processes, %zu threads, %llu MiB of memory in %.3f s; %.3f s in all\n",
		frozen_ns / 1e9, st.nr_processes, st.nr_threads, (unsigned long long)(st.pages_bytes >> 20),
		st.pages_ns / 1e9, (monotonic_ns() - t0) / 1e9);
	if (ret == -ENOTRECOVERABLE) {
		pr_err("dump of task %d stopped at post-dump: the images in %s are complete, the task keeps running\n",
		       d.pid, o->imgs_dir);
		return -1;
	}
	if (ret) {
		pr_err("dump of task %d failed; nothing was written to %s, the task keeps running\n", d.pid,
		       o->imgs_dir);
		return -1;
	}
	write_dump_stats(o, seize_ns, frozen_ns, &st);
	pr_msg("Dumped task %d (%zu processes) to %s%s\n", d.pid, st.nr_processes, o->imgs_dir,
	       o->leave_running ? "; it keeps running" : "");
	return 0;
}

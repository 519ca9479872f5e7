/*
 * Restore, act step from criu once the tree is forked (task/fork.c):
 * wait until every task reports ready, seize them all, find each thread's
 * dumped id (the last NSpid), replace every address space and state, then
 * release every thread together, as close to at once as ptrace allows.
 */
#define LOG_PREFIX "restore: "

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/log.h"
#include "proc/proc-status.h"
#include "files/files-restore.h"
#include "files/tty.h"
#include "net/tcp.h"
#include "task/rtree.h"
#include "ptrace/inject.h"
#include "ptrace/seize.h"
#include "task/task-dump.h"
#include "util/util.h"

#define READY_TIMEOUT_MS 60000

static int wait_ready(struct rtree *t, int ready_fd)
{
	size_t want = 0, got = 0;

	for (size_t i = 0; i < t->nr; i++)
		want += !t->procs[i].zombie;
	while (got < want) {
		struct pollfd pfd = {.fd = ready_fd, .events = POLLIN};
		int32_t v;
		int n = poll(&pfd, 1, READY_TIMEOUT_MS);

		if (n == 0) {
			pr_err("%zu of %zu processes did not come up within %d s\n", want - got, want,
			       READY_TIMEOUT_MS / 1000);
			return -ETIMEDOUT;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || read(ready_fd, &v, sizeof(v)) != sizeof(v)) {
			pr_err("the restored tree died while being set up (see the errors above)\n");
			return -EIO;
		}
		if (v < 0) {
			pr_err("process %d failed to set itself up (see the errors above)\n", -v);
			return -EIO;
		}
		got++;
	}
	return 0;
}

static int vtid_of(pid_t tid, pid_t *vtid)
{
	struct proc_status st = {0};
	int ret = td_read_status(tid, 0, &st);

	if (!ret && !st.nspid.nr)
		ret = -EINVAL;
	if (!ret)
		*vtid = (pid_t)st.nspid.ids[st.nspid.nr - 1];
	proc_status_free(&st);
	return ret;
}

/* Every seized thread to its rthread; every rthread must have one. */
static int match_threads(struct rtree *t, struct seized_tree *s)
{
	struct hmap by_vtid;
	int ret = 0;

	hmap_init(&by_vtid);
	for (size_t i = 0; i < t->nr; i++)
		for (size_t k = 0; !t->procs[i].zombie && k < t->procs[i].nr_threads; k++)
			hmap_put_int(&by_vtid, (uint64_t)t->procs[i].threads[k].vtid, &t->procs[i].threads[k]);
	for (size_t i = 0; !ret && i < s->nr_threads; i++) {
		struct rthread *th;
		pid_t vtid;

		ret = vtid_of(s->threads[i].tid, &vtid);
		th = ret ? NULL : hmap_get_int(&by_vtid, (uint64_t)vtid);
		if (!th) {
			pr_err("restored task %d is not one of the images\n", s->threads[i].tid);
			ret = -EINVAL;
			break;
		}
		th->st = &s->threads[i];
	}
	for (size_t i = 0; !ret && i < t->nr; i++) {
		struct rproc *p = &t->procs[i];

		for (size_t k = 0; !p->zombie && k < p->nr_threads; k++) {
			if (!p->threads[k].st) {
				pr_err("thread %d of process %d was not found after fork\n", p->threads[k].vtid, p->vpid);
				ret = -ESRCH;
				break;
			}
		}
		if (!ret && !p->zombie)
			p->host_pid = p->threads[0].st->pid;
	}
	hmap_free(&by_vtid);
	return ret;
}

void rtree_kill(const struct rtree *t)
{
	for (size_t i = 0; i < t->nr; i++)
		if (t->procs[i].host_pid > 0)
			kill(t->procs[i].host_pid, SIGKILL);
}

/*
 * A failed restore: every task goes, while still traced (detaching first
 * would let it run): in a pid namespace of its own its init would take
 * them along, in criu's (host mode) nothing would. As their tracer we reap
 * each one: until we do, a dead tracee stays a zombie its parent can't
 * reap, and an exiting namespace init waits for it forever.
 */
static void kill_seized(struct seized_tree *s)
{
	pid_t root = s->nr_threads ? s->threads[0].pid : 0;
	size_t left = 0;
	bool *gone = xzalloc(s->nr_threads + 1);
	uint64_t deadline = monotonic_ns() + 10ULL * 1000000000ULL;

	for (size_t i = 0; i < s->nr_threads; i++) {
		kill(s->threads[i].pid, SIGKILL);
		/* the root is criu's child: the caller reaps it, once, by its pid */
		gone[i] = s->threads[i].pid == root;
		left += !gone[i];
	}
	/* in any order: a namespace init dies only after all the others */
	while (left) {
		size_t before = left;

		for (size_t i = 0; i < s->nr_threads; i++) {
			int status;
			pid_t r;

			if (gone[i])
				continue;
			r = waitpid(s->threads[i].tid, &status, __WALL | WNOHANG);
			if ((r > 0 && (WIFEXITED(status) || WIFSIGNALED(status))) || (r < 0 && errno != EINTR)) {
				gone[i] = true; /* reaped, or not ours to reap (ECHILD) */
				left--;
			}
		}
		if (left && monotonic_ns() > deadline) {
			pr_err("%zu killed tasks of the failed restore are not gone after 10 s\n", left);
			break;
		}
		if (left == before)
			usleep(1000);
	}
	free(gone);
	free(s->threads);
	free(s->zombies);
}

/*
 * A zombie that was in another process's group (one of its own, or its
 * session's, it made before exiting: task/fork.c): once every task exists,
 * its parent moves it there, as setpgid(2) lets a parent do with a child
 * that never called execve, zombie or not.
 */
static int rtree_zombie_pgrps(struct rtree *t)
{
	for (size_t i = 0; i < t->nr; i++) {
		const struct rproc *z = &t->procs[i];
		int ret;

		if (!z->zombie || !z->parent || z->new_session || z->new_pgrp || !z->vpgid)
			continue;
		ret = inject_call(z->parent->threads[0].st, "setpgid", __NR_setpgid, z->vpid, z->vpgid, 0, 0, 0, 0,
				  NULL);
		if (ret) {
			pr_err("process %d: can't put its zombie child %d back in process group %d\n", z->parent->vpid,
			       z->vpid, z->vpgid);
			return ret;
		}
	}
	return 0;
}

int rtree_restore(struct rtree *t, pid_t root, int ready_fd, uint64_t *frozen_ns, int (*before_resume)(void *arg),
		  void *arg)
{
	struct seized_tree s = {0};
	uint64_t t0;
	int ret;

	ret = wait_ready(t, ready_fd);
	if (ret)
		return ret;
	t0 = monotonic_ns();
	ret = seize_tree(root, &s);
	/* a half-restored task never runs: criu gone, it goes too */
	for (size_t i = 0; !ret && i < s.nr_threads; i++)
		ret = seize_exitkill(&s.threads[i], true);
	if (!ret)
		ret = match_threads(t, &s);
	for (size_t i = 0; !ret && i < t->nr; i++)
		if (!t->procs[i].zombie && !(ret = stop_requested()))
			ret = restore_mm(t, &t->procs[i]);
	/* attached again by now: segments dumped removed go again with their last user */
	if (!ret)
		ret = sysv_remove_destroyed(&t->sysv, t->procs[0].threads[0].st);
	/* and memfds sealed: F_SEAL_FUTURE_WRITE would have refused their writable mappings */
	if (!ret)
		ret = rtree_seal_memfds(t);
	for (size_t i = 0; !ret && i < t->nr; i++)
		if (!t->procs[i].zombie)
			ret = restore_core(t, &t->procs[i]);
	if (!ret)
		ret = rtree_zombie_pgrps(t);
	if (!ret)
		ret = tty_orphan_fetch(t);
	if (!ret)
		ret = rtree_restore_fowns(t);
	for (size_t i = 0; !ret && i < t->nr; i++)
		if (!t->procs[i].zombie)
			ret = restore_finish(t, &t->procs[i]);
	/* last before the release: a failure until here leaves TCP connections locked, for another try */
	if (!ret)
		ret = stop_requested();
	if (!ret)
		ret = rtree_tcp_resume(t);
	/* whoever asked sees the tree restored and still held (post-restore, pre-resume) */
	if (!ret && before_resume)
		ret = before_resume(arg);
	if (ret) {
		kill_seized(&s);
		return ret;
	}
	/*
	 * A process dumped in a group stop gets SIGSTOP now, pending while it
	 * is traced: the first thing it does once detached is to stop again,
	 * before any of its own instructions runs.
	 */
	for (size_t i = 0; !ret && i < t->nr; i++)
		if (t->procs[i].stopped && kill(t->procs[i].host_pid, t->procs[i].stop_signo)) {
			pr_perror("process %d: can't stop it again", t->procs[i].vpid);
			ret = -errno;
		}
	if (ret) {
		kill_seized(&s);
		return ret;
	}
	/* all at once: nothing else between the detaches */
	for (size_t i = 0; i < s.nr_threads; i++)
		release_task(&s.threads[i]);
	release_tree(&s);
	if (frozen_ns)
		*frozen_ns = monotonic_ns() - t0;
	return 0;
}

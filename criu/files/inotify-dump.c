/*
 * Dump, act: an inotify descriptor into files.img (FD_TYPES__INOTIFY,
 * inotify_file_entry), each watch with its number, mask, inode, file
 * handle and the inode's path in the task's root.
 *
 * fdinfo gives each watch's inode as a file handle. Its path is found by a
 * short-lived child that joins the task's mount namespace and root, opens
 * the handle (open_by_handle_at) on each mount of the watched filesystem
 * and reads the path back through the host's /proc, keeping the first
 * whose inode is the watched one. A watch on an inode with no path (a
 * deleted file) or on a filesystem without handles is refused: restore
 * finds the inode again by path.
 */
#define LOG_PREFIX "task-dump: "

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "files/files-dump.h"
#include "files/inotify.h"
#include "proc/fdinfo-anon.h"
#include "fdinfo.pb-c.h"
#include "util/log.h"
#include "proc/mountinfo.h"
#include "task/task-dump.h"
#include "util/util.h"

#define PATH_MAX_LEN 4096

/*
 * The mounts of each device, in mountinfo order: by_dev maps a kernel
 * device number to its first mount's index + 1, next[i] is the index + 1
 * of the one after mount i (0: none). Each watch tries only its own
 * device's mounts, however many others the task has.
 */
struct mounts_by_dev {
	struct hmap by_dev;
	size_t *next;
};

static void index_mounts(const struct mountinfo_table *mi, struct mounts_by_dev *ix)
{
	hmap_init(&ix->by_dev);
	ix->next = xzalloc((mi->nr + 1) * sizeof(*ix->next));
	for (size_t i = mi->nr; i-- > 0;) {
		uint32_t k = KDEV_MAKE(mi->entries[i].major, mi->entries[i].minor);

		ix->next[i] = (size_t)(uintptr_t)hmap_put_int(&ix->by_dev, k, (void *)(uintptr_t)(i + 1));
	}
}

/* In the child, in the task's root: the path of one watched inode, or "". */
static void find_path(const struct mountinfo_table *mi, const struct mounts_by_dev *ix,
		      const struct fdinfo_inotify_wd *w, int procfd, char *out)
{
	struct {
		struct file_handle h;
		unsigned char bytes[FDINFO_FH_MAX];
	} fh;

	out[0] = '\0';
	fh.h.handle_bytes = w->fh_bytes;
	fh.h.handle_type = w->fh_type;
	memcpy(fh.h.f_handle, w->fh, w->fh_bytes);
	for (size_t at = (size_t)(uintptr_t)hmap_get_int(&ix->by_dev, w->sdev); at; at = ix->next[at - 1]) {
		const struct mountinfo_entry *m = &mi->entries[at - 1];
		char link[64];
		struct stat st;
		ssize_t n;
		int mfd, fd;

		if (stat(m->mountpoint, &st))
			continue;
		/* a real descriptor (open_by_handle_at takes no O_PATH one); never a device's */
		if (S_ISDIR(st.st_mode))
			mfd = open(m->mountpoint, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		else if (S_ISREG(st.st_mode))
			mfd = open(m->mountpoint, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
		else
			continue;
		if (mfd < 0)
			continue;
		struct stat hs;

		fd = open_by_handle_at(mfd, &fh.h, O_PATH | O_CLOEXEC);
		close(mfd);
		if (fd < 0)
			continue;
		snprintf(link, sizeof(link), "self/fd/%d", fd);
		n = readlinkat(procfd, link, out, PATH_MAX_LEN - 1);
		out[n > 0 ? n : 0] = '\0';
		/*
		 * Reachable from the root, and the very inode: the path (not
		 * followed: a watch may be on a symlink itself) names what the
		 * handle opened (btrfs and overlayfs show other devices than the
		 * superblock's, so the two are compared with each other).
		 */
		if (n > 0 && out[0] == '/' && !fstat(fd, &hs) && !lstat(out, &st) && hs.st_ino == w->ino &&
		    st.st_ino == hs.st_ino && st.st_dev == hs.st_dev) {
			close(fd);
			return;
		}
		close(fd);
		out[0] = '\0';
	}
}

/*
 * paths[i] gets the path of wds[i] in task pid's root ("" when none is
 * found). 0 or -errno.
 */
/* The mounts process pid sees, read once for all its inotify files. */
static const struct mountinfo_table *mounts_of(struct td_ctx *c, pid_t pid)
{
	_cleanup_free_ char *text = NULL;
	struct proc_err merr;
	char path[64];
	size_t len;
	int ret;

	if (c->inotify_mounts_pid == pid)
		return &c->inotify_mounts;
	mountinfo_table_free(&c->inotify_mounts);
	c->inotify_mounts_pid = 0;
	snprintf(path, sizeof(path), "/proc/%d/mountinfo", pid);
	ret = read_file_at(AT_FDCWD, path, &text, &len);
	if (ret < 0) {
		pr_err("can't read %s: %s\n", path, strerror(-ret));
		return NULL;
	}
	ret = mountinfo_parse(text, len, &c->inotify_mounts, &merr);
	if (ret < 0) {
		pr_err("%s: %s\n", path, proc_err_msg(&merr).s);
		mountinfo_table_free(&c->inotify_mounts);
		return NULL;
	}
	c->inotify_mounts_pid = pid;
	return &c->inotify_mounts;
}

static int resolve_paths(struct td_ctx *c, pid_t pid, const struct fdinfo_inotify_wd *wds, size_t nr, char **paths)
{
	const struct mountinfo_table *mi = mounts_of(c, pid);
	int fds[2], ret;
	pid_t child;

	if (!mi)
		return -EINVAL;
	if (pipe2(fds, O_CLOEXEC))
		return -errno;
	child = fork();
	if (child == 0) {
		char ns[64], root[64], *buf = xmalloc(PATH_MAX_LEN);
		int nsfd, rootfd, procfd = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
		struct mounts_by_dev ix;

		close(fds[0]);
		snprintf(ns, sizeof(ns), "/proc/%d/ns/mnt", pid);
		snprintf(root, sizeof(root), "/proc/%d/root", pid);
		nsfd = open(ns, O_RDONLY | O_CLOEXEC);
		rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (procfd < 0 || nsfd < 0 || rootfd < 0 || setns(nsfd, CLONE_NEWNS) || fchdir(rootfd) || chroot("."))
			_exit(1);
		index_mounts(mi, &ix); /* the child's own: it exits without freeing */
		for (size_t i = 0; i < nr; i++) {
			uint32_t l;

			buf[0] = '\0';
			if (wds[i].fh_bytes)
				find_path(mi, &ix, &wds[i], procfd, buf);
			l = (uint32_t)strlen(buf);
			if (write(fds[1], &l, sizeof(l)) != sizeof(l) || write(fds[1], buf, l) != (ssize_t)l)
				_exit(1);
		}
		_exit(0);
	}
	close(fds[1]);
	ret = child < 0 ? -errno : 0;
	for (size_t i = 0; !ret && i < nr; i++) {
		struct pollfd pf = {.fd = fds[0], .events = POLLIN};
		uint32_t l;

		/* a filesystem whose server is in the frozen tree (FUSE) would never answer */
		if (poll(&pf, 1, 10000) != 1) {
			pr_err("process %d: looking up the path of inotify watch %d takes too long (a filesystem "
			       "served by a frozen task?)\n",
			       pid, wds[i].wd);
			kill(child, SIGKILL);
			ret = -ETIMEDOUT;
			break;
		}
		if (read(fds[0], &l, sizeof(l)) != sizeof(l) || l >= PATH_MAX_LEN) {
			ret = -EIO;
			break;
		}
		paths[i] = xzalloc(l + 1);
		if (l && read(fds[0], paths[i], l) != (ssize_t)l)
			ret = -EIO;
	}
	close(fds[0]);
	if (child > 0)
		waitpid(child, NULL, 0);
	if (ret)
		pr_err("process %d: can't look up the paths of its inotify watches: %s\n", pid, strerror(-ret));
	return ret;
}

bool td_is_inotify(const struct td_fd *f)
{
	return td_fd_is_anon(f, "inotify");
}

int td_dump_inotify(struct td_ctx *c, struct td_proc *p, const struct td_fd *f, uint32_t id, FownEntry *fown)
{
	FileEntry fe = FILE_ENTRY__INIT;
	InotifyFileEntry ie = INOTIFY_FILE_ENTRY__INIT;
	struct proc_err e = {0};
	struct fdinfo_inotify_wd *wds = NULL;
	InotifyWdEntry *we = NULL, **wp = NULL;
	FhEntry *fh = NULL;
	uint64_t *hw = NULL;
	char **paths = NULL;
	size_t nr = 0;
	int ret;

	if (fdinfo_inotify(&f->fi, &wds, &nr, &e)) {
		pr_err("process %d: fd %d: can't parse its inotify fdinfo: %s\n", p->pid, f->fd, proc_err_msg(&e).s);
		return -EINVAL;
	}
	paths = xzalloc((nr + 1) * sizeof(*paths));
	ret = nr ? resolve_paths(c, p->pid, wds, nr, paths) : 0;
	we = xzalloc((nr + 1) * sizeof(*we));
	wp = xzalloc((nr + 1) * sizeof(*wp));
	fh = xzalloc((nr + 1) * sizeof(*fh));
	hw = xzalloc((nr + 1) * (FDINFO_FH_MAX / 8) * sizeof(*hw));
	for (size_t i = 0; !ret && i < nr; i++) {
		if (!paths[i][0]) {
			pr_err("process %d: fd %d: inotify watch %d is on inode %" PRIu64
			       " of device %u:%u, which has no "
			       "path in the task's root (deleted, or on a filesystem without file handles): not "
			       "supported\n",
			       p->pid, f->fd, wds[i].wd, wds[i].ino, KDEV_MAJOR(wds[i].sdev), KDEV_MINOR(wds[i].sdev));
			ret = -EOPNOTSUPP;
			break;
		}
		fh_entry__init(&fh[i]);
		fh[i].bytes = wds[i].fh_bytes;
		fh[i].type = (uint32_t)wds[i].fh_type;
		fh[i].n_handle = (wds[i].fh_bytes + 7) / 8;
		fh[i].handle = hw + i * (FDINFO_FH_MAX / 8);
		memcpy(fh[i].handle, wds[i].fh, wds[i].fh_bytes); /* little endian, as upstream */
		fh[i].path = paths[i];
		inotify_wd_entry__init(&we[i]);
		we[i].id = id;
		we[i].i_ino = wds[i].ino;
		we[i].mask = wds[i].mask;
		we[i].ignored_mask = wds[i].ignored_mask;
		we[i].s_dev = wds[i].sdev;
		we[i].wd = (uint32_t)wds[i].wd;
		we[i].f_handle = &fh[i];
		wp[i] = &we[i];
		pr_debug("process %d: fd %d: inotify watch %d on %s, mask %#x\n", p->pid, f->fd, wds[i].wd, paths[i],
			 wds[i].mask);
	}
	if (!ret) {
		ie.id = id;
		ie.flags = f->fi.flags & ~(uint32_t)O_CLOEXEC;
		ie.fown = fown;
		ie.n_wd = nr;
		ie.wd = wp;
		fe.type = FD_TYPES__INOTIFY;
		fe.id = id;
		fe.ify = &ie;
		ret = td_write_file_entry(c, &fe);
	}
	for (size_t i = 0; i < nr; i++)
		free(paths[i]);
	free(paths);
	free(wds);
	free(we);
	free(wp);
	free(fh);
	free(hw);
	return ret;
}

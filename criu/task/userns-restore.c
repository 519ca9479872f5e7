/*
 * The tree's user namespace at restore (see task/userns.h). The root is
 * cloned with CLONE_NEWUSER among its flags, so that the namespace owns
 * every other one the clone makes (and those the root makes later: its
 * cgroup namespace), with criu's euid set to the dumped owner for the
 * clone. criu, root in the initial namespace, writes setgroups and the
 * maps from outside before the root does anything; the root then takes
 * ids 0 inside, and each task its dumped creds (task/core-restore.c),
 * which the images hold as the namespace sees them.
 */
#define LOG_PREFIX "restore: "

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <linux/mount.h>
#include <linux/securebits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "image/image.h"
#include "task/timens.h"
#include "task/userns.h"
#include "util/log.h"
#include "util/syscalls.h"
#include "util/util.h"

int userns_read(int imgs_dirfd, uint32_t id, struct userns_info *u)
{
	struct img_reader r;
	ProtobufCMessage *m = NULL;
	char name[32], err[160];
	int ret;

	snprintf(name, sizeof(name), "userns-%u.img", id);
	ret = img_reader_open(&r, imgs_dirfd, name, IMG_USERNS);
	if (ret) {
		pr_err("the tree had a user namespace of its own and %s can't be read\n", name);
		return ret;
	}
	ret = img_read_entry(&r, &m);
	img_reader_close(&r);
	if (ret < 0)
		return ret;
	if (!m) {
		pr_err("%s is empty\n", name);
		return -EINVAL;
	}
	ret = userns_from_entry((UsernsEntry *)m, u, err, sizeof(err));
	protobuf_c_message_free_unpacked(m, NULL);
	if (ret)
		pr_err("%s: %s\n", name, err);
	return ret;
}

static int write_proc(pid_t pid, const char *name, const char *text, size_t len)
{
	char path[64];
	_cleanup_close_ int fd = -1;

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, text, len) != (ssize_t)len) {
		pr_perror("can't write %.*s into %s", (int)strcspn(text, "\n"), text, path);
		return -errno;
	}
	return 0;
}

static int write_map(pid_t pid, const char *name, const struct userns_map *m)
{
	char buf[USERNS_MAX_EXTENTS * 34 + 1];
	int n = userns_map_format(m, buf, sizeof(buf));

	return n < 0 ? n : write_proc(pid, name, buf, (size_t)n);
}

static int write_maps(pid_t pid, const struct userns_info *u)
{
	int ret = 0;

	/* before gid_map: the kernel takes it only while no gid_map is written */
	if (u->setgroups_deny)
		ret = write_proc(pid, "setgroups", "deny", 4);
	if (!ret)
		ret = write_map(pid, "uid_map", &u->uid);
	if (!ret)
		ret = write_map(pid, "gid_map", &u->gid);
	if (ret)
		pr_hint("criu must be root in the parent of the user namespace, with every id of the maps its own\n");
	return ret;
}

static int enter_creds(const struct userns_info *u)
{
	/* a root inside is mapped (userns_from_entry refuses images without);
	 * with setgroups denied, the groups criu took for the clone stay
	 * (groups_for_clone; core-restore.c checks them) */
	if (!u->setgroups_deny && setgroups(0, NULL)) {
		pr_perror("can't drop the supplementary groups in the tree's user namespace");
		return -errno;
	}
	if (setresgid(0, 0, 0) || setresuid(0, 0, 0)) {
		pr_perror("can't take ids 0 in the tree's user namespace");
		return -errno;
	}
	/*
	 * Changing ids made it undumpable, and so it stays (its children too)
	 * until the last restore step sets the dumped flag: while it holds
	 * criu's descriptors, the namespace's owner, who has CAP_SYS_PTRACE in
	 * it, must not be able to ptrace it or take them with pidfd_getfd.
	 */
	return 0;
}

static int owner_begin(const struct userns_info *u, struct userns_clone *c)
{
	uid_t r, e, saved;
	int bits;

	c->euid_changed = false;
	if (getresuid(&r, &e, &saved))
		return -errno;
	if (e == u->owner_uid)
		return 0;
	c->dumpable = prctl(PR_GET_DUMPABLE); /* before the change resets it */
	bits = prctl(PR_GET_SECUREBITS);
	/* without it, leaving euid 0 would clear criu's effective capabilities */
	if (bits < 0 || prctl(PR_SET_SECUREBITS, bits | SECBIT_NO_SETUID_FIXUP) ||
	    setresuid((uid_t)-1, u->owner_uid, (uid_t)-1)) {
		pr_perror("can't take euid %u, the owner of the tree's user namespace", u->owner_uid);
		if (bits >= 0)
			prctl(PR_SET_SECUREBITS, bits);
		return -errno;
	}
	c->euid_changed = true;
	c->euid = e;
	c->securebits = bits;
	return 0;
}

static int owner_end(struct userns_clone *c)
{
	if (!c->euid_changed)
		return 0;
	c->euid_changed = false;
	if (setresuid((uid_t)-1, c->euid, (uid_t)-1) || prctl(PR_SET_SECUREBITS, c->securebits)) {
		pr_perror("can't take back criu's euid %u", c->euid);
		return -errno;
	}
	/* an id change made criu undumpable: its /proc files root's only */
	if (c->dumpable > 0)
		prctl(PR_SET_DUMPABLE, c->dumpable, 0, 0, 0);
	return 0;
}

/*
 * The images as the tree's tasks can read them: they are root's (0600),
 * and root of the initial namespace is no one inside, where even
 * CAP_DAC_OVERRIDE stops at ids the namespace doesn't map. A clone of the
 * images directory's mount, idmapped through the tree's namespace, shows
 * them owned by root inside. A descriptor of the directory, or -errno.
 */
static int idmapped_images(pid_t pid, int imgs_dirfd)
{
	/* the tasks read it, nothing more */
	struct mount_attr attr = {.attr_set = MOUNT_ATTR_IDMAP | MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID |
					      MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC};
	_cleanup_close_ int tree = -1, ns = -1;
	char path[64];
	int dir;

	snprintf(path, sizeof(path), "/proc/%d/ns/user", pid);
	ns = open(path, O_RDONLY | O_CLOEXEC);
	tree = sys_open_tree(imgs_dirfd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
	if (ns < 0 || tree < 0) {
		pr_perror("can't clone the images directory's mount for the tree's user namespace");
		return -errno;
	}
	attr.userns_fd = (uint64_t)ns;
	if (sys_mount_setattr(tree, "", AT_EMPTY_PATH, &attr)) {
		pr_perror("can't idmap the images directory's mount for the tree's user namespace");
		pr_hint("the tasks of a tree in a user namespace of its own read their images through an idmapped "
			"mount: put the images on a filesystem that has them (ext4, xfs, btrfs, tmpfs)\n");
		return -errno;
	}
	dir = openat(tree, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0)
		pr_perror("can't open the idmapped images directory");
	return dir < 0 ? -errno : dir;
}

static int send_fd(int sock, int fd)
{
	char go = 1;
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u = {0};
	struct iovec iov = {.iov_base = &go, .iov_len = 1};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf)};
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);

	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	return sendmsg(sock, &mh, MSG_NOSIGNAL) == 1 ? 0 : -EIO;
}

static int recv_fd(int sock)
{
	char go = 0;
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u = {0};
	struct iovec iov = {.iov_base = &go, .iov_len = 1};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf)};
	struct cmsghdr *c;
	int fd;

	if (recvmsg(sock, &mh, MSG_CMSG_CLOEXEC) != 1 || go != 1)
		return -ECANCELED;
	c = CMSG_FIRSTHDR(&mh);
	if (!c || c->cmsg_type != SCM_RIGHTS || c->cmsg_len != CMSG_LEN(sizeof(int)))
		return -EIO;
	memcpy(&fd, CMSG_DATA(c), sizeof(int));
	return fd;
}

/*
 * The tasks inherit criu's loginuid, and in a user namespace a task can
 * set its own only while it is unset (changing a set one needs
 * CAP_AUDIT_CONTROL in the initial namespace): criu's is unset around the
 * clone, as upstream does, and put back after. Failing that, each task
 * that can't take its dumped one fails the restore (task/fork.c).
 */
static void loginuid_unset(struct userns_clone *c)
{
	_cleanup_close_ int fd = open("/proc/self/loginuid", O_RDWR | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, c->loginuid, sizeof(c->loginuid) - 1);

	c->loginuid[0] = '\0';
	if (n <= 0 || !strncmp(c->loginuid, "4294967295", 10))
		return;
	c->loginuid[n] = '\0';
	if (pwrite(fd, "4294967295", 10, 0) != 10) {
		pr_warn("can't unset criu's loginuid for the tree's user namespace: %m\n");
		c->loginuid[0] = '\0';
	}
}

static void loginuid_back(struct userns_clone *c)
{
	_cleanup_close_ int fd = -1;

	if (!c->loginuid[0])
		return;
	fd = open("/proc/self/loginuid", O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, c->loginuid, strcspn(c->loginuid, "\n")) < 0)
		pr_warn("can't set criu's loginuid back to %s: %m\n", c->loginuid);
	c->loginuid[0] = '\0';
}

/*
 * With setgroups denied, no one in the namespace can set supplementary
 * groups: the tasks have those they are forked with. criu takes the
 * dumped ones (as host gids) for the clone and its own back after.
 */
static int groups_for_clone(const struct userns_info *u, struct userns_clone *c)
{
	_cleanup_free_ gid_t *want = NULL;

	c->nr_criu_groups = -1;
	if (!u->setgroups_deny)
		return 0;
	want = xzalloc((c->nr_groups + 1) * sizeof(*want));
	for (size_t i = 0; i < c->nr_groups; i++) {
		uint32_t h = userns_map_up(&u->gid, c->groups[i]);

		if (h == USERNS_NO_ID) {
			pr_err("supplementary group %u of the tree is not in its namespace's gid map\n", c->groups[i]);
			return -EINVAL;
		}
		want[i] = (gid_t)h;
	}
	c->nr_criu_groups = getgroups(0, NULL);
	c->criu_groups = xzalloc(((size_t)(c->nr_criu_groups > 0 ? c->nr_criu_groups : 0) + 1) * sizeof(gid_t));
	if (c->nr_criu_groups < 0 || getgroups(c->nr_criu_groups, c->criu_groups) != c->nr_criu_groups ||
	    setgroups(c->nr_groups, want)) {
		pr_perror("can't take the tree's supplementary groups for its user namespace");
		c->nr_criu_groups = -1;
		return -errno;
	}
	return 0;
}

static void groups_back(struct userns_clone *c)
{
	if (c->nr_criu_groups >= 0 && setgroups((size_t)c->nr_criu_groups, c->criu_groups))
		pr_perror("can't take criu's supplementary groups back");
	c->nr_criu_groups = -1;
	free(c->criu_groups);
	c->criu_groups = NULL;
}

int userns_clone_begin(const struct userns_info *u, struct userns_clone *c, const CoreEntry *root_core)
{
	const CredsEntry *cr = root_core && root_core->thread_core ? root_core->thread_core->creds : NULL;
	int ret;

	c->groups = cr ? cr->groups : NULL;
	c->nr_groups = cr ? cr->n_groups : 0;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, c->sync)) {
		pr_perror("can't make a socket pair");
		return -errno;
	}
	ret = groups_for_clone(u, c);
	if (ret) {
		groups_back(c);
		close(c->sync[0]);
		close(c->sync[1]);
		c->sync[0] = c->sync[1] = -1;
		return ret;
	}
	loginuid_unset(c);
	ret = owner_begin(u, c);
	if (ret) {
		loginuid_back(c);
		groups_back(c);
		close(c->sync[0]);
		close(c->sync[1]);
		c->sync[0] = c->sync[1] = -1;
	}
	return ret;
}

/*
 * A time namespace of the tree's own is its user namespace's: the root
 * makes it once it has ids there, criu sets its offsets from outside (as
 * it does for its own, timens_begin) and the root enters it.
 */
static int set_child_clocks(struct userns_clone *c, pid_t pid)
{
	char msg = 0;
	int ret;

	if (read(c->sync[1], &msg, 1) != 1 || msg != 't') {
		pr_err("the root task could not make the tree's time namespace\n");
		return -EIO;
	}
	ret = timens_set_offsets(pid, c->timens);
	msg = 'g';
	if (!ret && write(c->sync[1], &msg, 1) != 1)
		ret = -EIO;
	return ret;
}

static int enter_own_clocks(struct userns_clone *c)
{
	_cleanup_close_ int fd = -1;
	char msg = 't';

	if (unshare(CLONE_NEWTIME)) {
		pr_perror("can't make the tree's time namespace");
		return -errno;
	}
	if (write(c->sync[0], &msg, 1) != 1 || read(c->sync[0], &msg, 1) != 1 || msg != 'g')
		return -ECANCELED; /* criu said why */
	fd = open("/proc/self/ns/time_for_children", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || setns(fd, CLONE_NEWTIME)) {
		pr_perror("can't enter the tree's time namespace");
		return -errno;
	}
	return 0;
}

int userns_clone_parent(const struct userns_info *u, struct userns_clone *c, pid_t pid, int imgs_dirfd)
{
	int ret = owner_end(c), dir = -1;

	loginuid_back(c);
	groups_back(c);

	close(c->sync[0]);
	c->sync[0] = -1;
	if (!ret && pid > 0)
		ret = write_maps(pid, u);
	if (!ret && pid > 0) {
		dir = idmapped_images(pid, imgs_dirfd);
		ret = dir < 0 ? dir : 0;
	}
	/* the root goes on only with its maps: without, it sees the socket close */
	if (!ret && pid > 0)
		ret = send_fd(c->sync[1], dir);
	if (!ret && pid > 0 && c->timens)
		ret = set_child_clocks(c, pid);
	if (dir >= 0)
		close(dir);
	close(c->sync[1]);
	c->sync[1] = -1;
	return ret;
}

int userns_clone_child(const struct userns_info *u, struct userns_clone *c, int imgs_dirfd)
{
	int dir, ret;

	close(c->sync[1]);
	dir = recv_fd(c->sync[0]);
	if (dir < 0) {
		close(c->sync[0]);
		return dir; /* criu said why */
	}
	/* the same number: every reader of the images has it already */
	if (dup3(dir, imgs_dirfd, O_CLOEXEC) < 0) {
		pr_perror("can't take the idmapped images directory");
		close(dir);
		close(c->sync[0]);
		return -errno;
	}
	close(dir);
	ret = enter_creds(u);
	if (!ret && c->timens)
		ret = enter_own_clocks(c);
	close(c->sync[0]);
	return ret;
}

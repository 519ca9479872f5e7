/*
 * The tree's user namespace at dump (see task/userns.h): its maps,
 * setgroups and owner, and the checks that restore can make it again as
 * it was: one level below criu's, owning every other namespace the tree
 * has of its own (restore clones the root with CLONE_NEWUSER among its
 * flags, so that the new user namespace owns all the others).
 */
#define LOG_PREFIX "dump: "

#include <errno.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dump.h"
#include "task/userns.h"
#include "util/log.h"
#include "util/util.h"

static struct userns_info dumped;

static int ns_stat(const char *path, struct stat *st)
{
	if (stat(path, st) == 0)
		return 0;
	if (errno == ENOENT)
		return -ENOENT; /* a kind this kernel lacks */
	pr_perror("can't stat %s", path);
	return -errno;
}

/* The inode of the user namespace the namespace file fd belongs to (what) is owned by or child of. */
static int related_userns(int fd, unsigned long req, const char *what, ino_t *ino)
{
	_cleanup_close_ int ns = ioctl(fd, req);
	struct stat st;

	if (ns < 0 || fstat(ns, &st)) {
		pr_perror("can't get the user namespace of %s", what);
		return -errno;
	}
	*ino = st.st_ino;
	return 0;
}

static int read_map(pid_t pid, const char *name, struct userns_map *m)
{
	_cleanup_free_ char *buf = NULL;
	char path[64], err[96];
	size_t len;
	int ret;

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, name);
	ret = read_file_at(AT_FDCWD, path, &buf, &len);
	if (ret < 0) {
		pr_err("can't read %s: %s\n", path, strerror(-ret));
		return ret;
	}
	if (userns_map_parse(buf, len, m, err, sizeof(err)) || userns_map_check(m, err, sizeof(err))) {
		pr_err("%s: %s\n", path, err);
		return -EINVAL;
	}
	return 0;
}

static int read_setgroups(pid_t pid, bool *deny)
{
	_cleanup_free_ char *buf = NULL;
	char path[64];
	size_t len;
	int ret;

	snprintf(path, sizeof(path), "/proc/%d/setgroups", pid);
	ret = read_file_at(AT_FDCWD, path, &buf, &len);
	if (ret < 0) {
		pr_err("can't read %s: %s\n", path, strerror(-ret));
		return ret;
	}
	if (len >= 4 && !strncmp(buf, "deny", 4))
		*deny = true;
	else if (len >= 5 && !strncmp(buf, "allow", 5))
		*deny = false;
	else {
		pr_err("%s: neither allow nor deny\n", path);
		return -EINVAL;
	}
	return 0;
}

/*
 * Every namespace of the tree's own (not criu's) must be owned by the
 * tree's user namespace: restore makes them in it. One made by a more
 * privileged process and entered later would come back owned by the
 * tree, giving it power over what it had none.
 */
static int check_owned(pid_t pid, ino_t user_ino)
{
	static const char *const kinds[] = {"mnt", "pid", "net", "ipc", "uts", "cgroup", "time"};

	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++) {
		char theirs[64], ours[64];
		struct stat a, b;
		_cleanup_close_ int fd = -1;
		ino_t owner;
		int ret;

		snprintf(theirs, sizeof(theirs), "/proc/%d/ns/%s", pid, kinds[i]);
		snprintf(ours, sizeof(ours), "/proc/self/ns/%s", kinds[i]);
		ret = ns_stat(theirs, &a);
		if (ret == -ENOENT)
			continue;
		if (ret || (ret = ns_stat(ours, &b)))
			return ret;
		if (a.st_ino == b.st_ino)
			continue; /* criu's: restored as criu's, owned as it is */
		fd = open(theirs, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			pr_perror("can't open %s", theirs);
			return -errno;
		}
		ret = related_userns(fd, NS_GET_USERNS, theirs, &owner);
		if (ret)
			return ret;
		if (owner != user_ino) {
			pr_err("process %d's %s namespace is its own but is not owned by its user namespace: restore "
			       "would make it in the user namespace, with more power for the tree than it had\n",
			       pid, kinds[i]);
			pr_hint("make the %s namespace from inside the user namespace (unshare --user --%s, or "
				"clone with both flags), as container runtimes do\n",
				kinds[i], !strcmp(kinds[i], "mnt") ? "mount" : kinds[i]);
			return -EOPNOTSUPP;
		}
	}
	return 0;
}

/* The namespace's parent must be criu's: one level, as restore makes it. */
static int check_level(int fd, pid_t pid, ino_t criu_ino)
{
	ino_t parent;
	int ret = related_userns(fd, NS_GET_PARENT, "the tree's user namespace", &parent);

	if (ret == -EPERM) {
		pr_err("process %d's user namespace is not below criu's: criu must run in an ancestor of it\n", pid);
		return -EPERM;
	}
	if (ret)
		return ret;
	if (parent != criu_ino) {
		pr_err("process %d's user namespace is nested in another one below criu's: only a user namespace "
		       "one level below criu's can be dumped (as upstream)\n",
		       pid);
		pr_hint("run criu in the parent of the tree's user namespace\n");
		return -EOPNOTSUPP;
	}
	return 0;
}

static int read_owner(int fd, uint32_t *uid)
{
	uid_t u;

	if (ioctl(fd, NS_GET_OWNER_UID, &u) < 0) {
		pr_perror("can't get the owner of the tree's user namespace");
		return -errno;
	}
	*uid = u;
	return 0;
}

/*
 * What restore can't make, refused while the tree still runs: a namespace
 * without root inside (the tasks take ids 0 there first, as bubblewrap's
 * and Flatpak's one-id maps have none), a host root in the maps, a tree in
 * criu's pid namespace (its tasks would be forked with their pids by a
 * process of the new user namespace, which has no power over criu's).
 */
static int check_restorable(pid_t root, const struct userns_info *u)
{
	char self[64] = "", theirs[64] = "", path[64];

	if (userns_map_up(&u->uid, 0) == USERNS_NO_ID || userns_map_up(&u->gid, 0) == USERNS_NO_ID) {
		pr_err("process %d's user namespace maps no root (uid or gid 0 inside): restore takes those ids in "
		       "it first, so it can't be dumped yet\n",
		       root);
		return -EOPNOTSUPP;
	}
	if (userns_map_down(&u->uid, 0) != USERNS_NO_ID || userns_map_down(&u->gid, 0) != USERNS_NO_ID) {
		pr_err("process %d's user namespace maps the host's root (uid or gid 0): restore never gives it to a "
		       "namespace, so it can't be dumped\n",
		       root);
		return -EOPNOTSUPP;
	}
	snprintf(path, sizeof(path), "/proc/%d/ns/pid", root);
	if (readlink(path, theirs, sizeof(theirs) - 1) > 0 && readlink("/proc/self/ns/pid", self, sizeof(self) - 1) > 0 &&
	    !strncmp(theirs, self, sizeof(self))) {
		pr_err("process %d has a user namespace of its own but shares criu's pid namespace: its tasks can't "
		       "be given their pids back from inside the user namespace, so it can't be dumped yet\n",
		       root);
		pr_hint("run it with a pid namespace of its own (unshare --pid), as container runtimes do\n");
		return -EOPNOTSUPP;
	}
	return 0;
}

int userns_dump_begin(pid_t root)
{
	char path[64];
	struct stat theirs, ours;
	_cleanup_close_ int fd = -1;
	struct userns_info u = {0};
	int ret;

	userns_tree_set(NULL);
	snprintf(path, sizeof(path), "/proc/%d/ns/user", root);
	ret = ns_stat(path, &theirs);
	if (!ret)
		ret = ns_stat("/proc/self/ns/user", &ours);
	if (ret == -ENOENT)
		return 0; /* no user namespaces in this kernel */
	if (ret)
		return ret;
	if (theirs.st_ino == ours.st_ino)
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		pr_perror("can't open %s", path);
		return -errno;
	}
	ret = check_level(fd, root, ours.st_ino);
	if (!ret)
		ret = check_owned(root, theirs.st_ino);
	if (!ret)
		ret = read_map(root, "uid_map", &u.uid);
	if (!ret)
		ret = read_map(root, "gid_map", &u.gid);
	if (!ret)
		ret = read_setgroups(root, &u.setgroups_deny);
	if (!ret)
		ret = read_owner(fd, &u.owner_uid);
	if (!ret)
		ret = check_restorable(root, &u);
	if (ret)
		return ret;
	dumped = u;
	userns_tree_set(&dumped);
	pr_info("the tree has a user namespace of its own: %zu uid and %zu gid extents, setgroups %s, owner %u\n",
		u.uid.nr, u.gid.nr, u.setgroups_deny ? "deny" : "allow", u.owner_uid);
	return 0;
}

int userns_dump(struct dump_ctx *d)
{
	const struct userns_info *u = userns_tree();
	UsernsEntry e;
	struct img_writer *w;
	int ret;

	if (!u)
		return 0;
	w = img_set_new(&d->imgs, IMG_USERNS, 1);
	if (!w)
		return -EIO;
	userns_to_entry(u, &e);
	ret = img_write_entry(w, &e.base);
	userns_entry_free(&e);
	return ret;
}

void userns_dump_end(void)
{
	userns_tree_set(NULL);
}

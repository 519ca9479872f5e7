/*
 * --external pid[INODE]:KEY at dump: the tree's pid namespace, pid:[INODE],
 * belongs to someone else (another container's init holds it). Nothing of
 * it is saved but its KEY, in pidns-1.img (upstream's pidns_entry); restore
 * makes the tree's tasks in the namespace whose descriptor --inherit-fd
 * fd[N]:KEY gives, with their dumped pids (restore-plan.c).
 */
#define LOG_PREFIX "pidns: "

#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dump.h"
#include "options.h"
#include "pidns.pb-c.h"
#include "task/pidns.h"
#include "util/log.h"

static int pid_ino(pid_t pid, unsigned long *ino)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d/ns/pid", pid);
	if (stat(path, &st)) {
		pr_perror("can't stat %s", path);
		return -errno;
	}
	*ino = (unsigned long)st.st_ino;
	return 0;
}

int pidns_dump(struct dump_ctx *d)
{
	PidnsEntry e = PIDNS_ENTRY__INIT;
	const struct external_opt *other;
	unsigned long theirs, ours;
	struct img_writer *w;
	const char *key;
	int ret = pid_ino(d->pid, &theirs);

	if (!ret)
		ret = pid_ino(getpid(), &ours);
	if (ret)
		return ret;
	key = ns_external_key(d->opts, "pid", theirs, &other);
	if (other) {
		pr_err("--external pid[%s]:%s: the tree's pid namespace is pid:[%lu], not pid:[%s]\n", other->key,
		       other->val, theirs, other->key);
		pr_hint("give the inode `readlink /proc/%d/ns/pid` shows\n", d->pid);
		return -EINVAL;
	}
	if (!key)
		return 0;
	if (theirs == ours) {
		pr_info("--external pid[%lu]: the tree shares criu's pid namespace: nothing to record\n", theirs);
		return 0;
	}
	pr_info("pid namespace pid:[%lu] is external: saved as %s\n", theirs, key);
	e.ext_key = (char *)key;
	w = img_set_new(&d->imgs, IMG_PIDNS, 1);
	return w ? img_write_entry(w, &e.base) : -EIO;
}

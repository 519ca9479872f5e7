/*
 * The UTS namespace at dump: when the tree's root has one of its own, its
 * host and domain name into utsns-1.img (restore sets them in the new
 * namespace it makes, task/fork.c).
 */
#define LOG_PREFIX "dump: "

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dump.h"
#include "util/log.h"
#include "utsns.pb-c.h"

/*
 * The host and domain name of the task's UTS namespace, when it has its
 * own: read by a short-lived child that joins it (uname(2) has no pid).
 */
int utsns_dump(struct dump_ctx *d)
{
	UtsnsEntry e = UTSNS_ENTRY__INIT;
	struct img_writer *w;
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
	w = img_set_new(&d->imgs, IMG_UTSNS, 1);
	return w ? img_write_entry(w, &e.base) : -EIO;
}

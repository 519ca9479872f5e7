/*
 * libcriu-crun-seq: checkpoint and restore a container through libcriu in
 * the order crun 1.8.1 makes its calls (Debian's crun is built without
 * CRIU, so this program stands in for it). It uses the global criu_opts
 * API as crun does, and finds `criu` on PATH as crun's libcriu does.
 *
 *   checkpoint IMGDIR WORKDIR PID ROOTFS FREEZER [OPT...]
 *       OPT: bind=DEST (an external bind mount, key and value DEST),
 *            mask=PATH (a masked file, key and value PATH),
 *            netns=PATH / pidns=PATH (the config's namespace paths:
 *            the tree's namespace is external), leave-running, tcp
 *   restore IMGDIR WORKDIR ROOT CGROUP [OPT...]
 *       OPT: bind=DEST:SOURCE, mask=PATH (restored from /dev/null),
 *            netns=PATH / pidns=PATH (inherited), join=NS:PATH, tcp
 *       ROOT is a directory the caller bind-mounted the rootfs on (crun's
 *       <bundle>/criu-root). Standard descriptors recorded as pipes in
 *       IMGDIR/descriptors.json are given back from this program's 0, 1, 2.
 *       Prints "restored PID" (the root, this program's child) and every
 *       notification as "notify ACTION PID".
 *
 * checkpoint writes IMGDIR/descriptors.json from the container's
 * /proc/PID/fd/{0,1,2}, which crun records when it creates a container.
 * Exit status 0 when libcriu reported success.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "criu.h"

#define CRUN_MIN_VERSION 31500 /* crun 1.8.1's check */

static int die(const char *what, int ret)
{
	fprintf(stderr, "crun-seq: %s failed (%d)\n", what, ret);
	return 1;
}

static int write_descriptors(const char *imgdir, int pid)
{
	char path[4096], link[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/descriptors.json", imgdir);
	f = fopen(path, "w");
	if (!f)
		return -1;
	fputc('[', f);
	for (int fd = 0; fd < 3; fd++) {
		char proc[64];
		ssize_t n;

		snprintf(proc, sizeof(proc), "/proc/%d/fd/%d", pid, fd);
		n = readlink(proc, link, sizeof(link) - 1);
		link[n < 0 ? 0 : n] = '\0';
		fprintf(f, "%s\"%s\"", fd ? "," : "", link);
	}
	fputs("]\n", f);
	return fclose(f);
}

/* The "pipe:[N]" entries of descriptors.json, in order (a JSON array of
 * three strings, as written above). */
static int inherit_descriptors(const char *imgdir)
{
	char path[4096], buf[8192];
	char *p;
	size_t n;
	int fd = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/descriptors.json", imgdir);
	f = fopen(path, "r");
	if (!f)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	for (p = strchr(buf, '"'); p; fd++) {
		char *end = strchr(p + 1, '"');

		if (!end)
			return -1;
		*end = '\0';
		if (!strncmp(p + 1, "pipe:", 5) && criu_add_inherit_fd(fd, p + 1) < 0)
			return -1;
		p = strchr(end + 1, '"');
	}
	return 0;
}

static int ns_inode(const char *path, char *out, size_t len, const char *kind, const char *key)
{
	struct stat st;

	if (stat(path, &st))
		return -1;
	snprintf(out, len, "%s[%lu]:%s", kind, (unsigned long)st.st_ino, key);
	return 0;
}

static int checkpoint(int argc, char **argv)
{
	const char *img = argv[0], *work = argv[1], *root = argv[3], *freezer = argv[4];
	int pid = atoi(argv[2]);
	bool leave_running = false, tcp = false;
	int imgfd, workfd, ret;

	if ((ret = criu_init_opts()) < 0)
		return die("criu_init_opts", ret);
	if (!criu_check_version(CRUN_MIN_VERSION))
		return die("criu_check_version", 0);
	mkdir(img, 0700);
	imgfd = open(img, O_DIRECTORY | O_CLOEXEC);
	if (imgfd < 0)
		return die("open images dir", -errno);
	criu_set_images_dir_fd(imgfd);
	criu_set_log_level(4);
	criu_set_log_file("dump.log");
	criu_set_pid(pid);
	mkdir(work, 0700);
	workfd = open(work, O_DIRECTORY | O_CLOEXEC);
	if (workfd < 0)
		return die("open work dir", -errno);
	criu_set_work_dir_fd(workfd);
	if (write_descriptors(img, pid))
		return die("descriptors.json", -errno);
	if ((ret = criu_set_root(root)) != 0)
		return die("criu_set_root", ret);
	for (int i = 5; i < argc; i++) {
		const char *a = argv[i];
		char ext[256];

		if (!strncmp(a, "bind=", 5))
			ret = criu_add_ext_mount(a + 5, a + 5);
		else if (!strncmp(a, "mask=", 5))
			ret = criu_add_ext_mount(a + 5, a + 5);
		else if (!strncmp(a, "netns=", 6))
			ret = ns_inode(a + 6, ext, sizeof(ext), "net", "extRootNetNS") ?: criu_add_external(ext);
		else if (!strncmp(a, "pidns=", 6))
			ret = ns_inode(a + 6, ext, sizeof(ext), "pid", "extRootPidNS") ?: criu_add_external(ext);
		else if (!strcmp(a, "leave-running"))
			leave_running = true;
		else if (!strcmp(a, "tcp"))
			tcp = true;
		else
			return die(a, -EINVAL);
		if (ret < 0)
			return die(a, ret);
	}
	if ((ret = criu_set_freeze_cgroup(freezer)) < 0)
		return die("criu_set_freeze_cgroup", ret);
	criu_set_leave_running(leave_running);
	criu_set_ext_unix_sk(false);
	criu_set_shell_job(false);
	criu_set_tcp_established(tcp);
	criu_set_file_locks(false);
	criu_set_orphan_pts_master(true);
	criu_set_manage_cgroups_mode(CRIU_CG_MODE_SOFT);
	criu_set_manage_cgroups(true);
	ret = criu_dump();
	if (ret != 0)
		return die("criu_dump", ret);
	printf("checkpointed %d\n", pid);
	return 0;
}

static int on_notify(char *action, criu_notify_arg_t na)
{
	printf("notify %s %d\n", action, criu_notify_pid(na));
	fflush(stdout);
	return 0;
}

static int add_restore_opt(const char *a)
{
	char *arg = strdup(a), *colon;
	int ret = -EINVAL, fd;

	colon = strchr(arg, ':');
	if (!strncmp(arg, "bind=", 5) && colon) {
		*colon = '\0';
		ret = criu_add_ext_mount(arg + 5, colon + 1);
	} else if (!strncmp(arg, "mask=", 5)) {
		ret = criu_add_ext_mount(arg + 5, "/dev/null");
	} else if (!strncmp(arg, "netns=", 6) || !strncmp(arg, "pidns=", 6)) {
		/* not O_CLOEXEC: criu swrk inherits it */
		fd = open(arg + 6, O_RDONLY);
		ret = fd < 0 ? -errno : criu_add_inherit_fd(fd, arg[0] == 'n' ? "extRootNetNS" : "extRootPidNS");
	} else if (!strncmp(arg, "join=", 5) && colon) {
		*colon = '\0';
		ret = criu_join_ns_add(arg + 5, colon + 1, NULL);
	} else if (!strcmp(arg, "tcp")) {
		criu_set_tcp_established(true);
		ret = 0;
	}
	free(arg);
	return ret;
}

static int restore(int argc, char **argv)
{
	const char *img = argv[0], *work = argv[1], *root = argv[2], *cgroup = argv[3];
	int imgfd, workfd, ret;

	if ((ret = criu_init_opts()) < 0)
		return die("criu_init_opts", ret);
	if (!criu_check_version(CRUN_MIN_VERSION))
		return die("criu_check_version", 0);
	imgfd = open(img, O_DIRECTORY | O_CLOEXEC);
	if (imgfd < 0)
		return die("open images dir", -errno);
	criu_set_images_dir_fd(imgfd);
	if (inherit_descriptors(img))
		return die("descriptors.json", -EINVAL);
	mkdir(work, 0700);
	workfd = open(work, O_DIRECTORY | O_CLOEXEC);
	if (workfd < 0)
		return die("open work dir", -errno);
	criu_set_work_dir_fd(workfd);
	for (int i = 4; i < argc; i++)
		if ((ret = add_restore_opt(argv[i])) < 0)
			return die(argv[i], ret);
	if ((ret = criu_set_root(root)) != 0)
		return die("criu_set_root", ret);
	criu_set_notify_cb(on_notify);
	criu_set_ext_unix_sk(false);
	criu_set_shell_job(false);
	criu_set_file_locks(false);
	criu_set_orphan_pts_master(true);
	if ((ret = criu_add_cg_root(NULL, cgroup)) != 0)
		return die("criu_add_cg_root", ret);
	criu_set_manage_cgroups_mode(CRIU_CG_MODE_SOFT);
	criu_set_manage_cgroups(true);
	criu_set_log_level(4);
	if ((ret = criu_set_log_file("restore.log")) < 0)
		return die("criu_set_log_file", ret);
	ret = criu_restore_child();
	if (ret <= 0)
		return die("criu_restore_child", ret);
	printf("restored %d\n", ret);
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 7 && !strcmp(argv[1], "checkpoint"))
		return checkpoint(argc - 2, argv + 2);
	if (argc >= 6 && !strcmp(argv[1], "restore"))
		return restore(argc - 2, argv + 2);
	fprintf(stderr, "usage: %s checkpoint IMG WORK PID ROOTFS FREEZER [OPT...] | "
			"restore IMG WORK ROOT CGROUP [OPT...]\n",
		argv[0]);
	return 2;
}

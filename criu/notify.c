/*
 * Stage notifications (see notify.h): the RPC client through the hook
 * criu swrk sets in struct options, then the --action-script programs.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define LOG_PREFIX "notify: "
#include "notify.h"
#include "util/log.h"
#include "util/util.h"

static const char *const action_names[ACT__NR] = {
	[ACT_PRE_DUMP] = "pre-dump",
	[ACT_POST_DUMP] = "post-dump",
	[ACT_PRE_RESTORE] = "pre-restore",
	[ACT_POST_RESTORE] = "post-restore",
	[ACT_NET_LOCK] = "network-lock",
	[ACT_NET_UNLOCK] = "network-unlock",
	[ACT_SETUP_NS] = "setup-namespaces",
	[ACT_POST_SETUP_NS] = "post-setup-namespaces",
	[ACT_PRE_RESUME] = "pre-resume",
	[ACT_POST_RESUME] = "post-resume",
	[ACT_ORPHAN_PTS_MASTER] = "orphan-pts-master",
};

const char *cr_action_name(enum cr_action a)
{
	return a < ACT__NR ? action_names[a] : "?";
}

/* Runs one script, its environment made in the child; its exit status. */
static int run_script(const char *path, const char *action, const char *imgdir, pid_t pid)
{
	pid_t child;
	int status;

	fflush(NULL);
	child = fork();
	if (child < 0) {
		pr_perror("can't start action script %s", path);
		return -1;
	}
	if (child == 0) {
		char pidstr[16];
		int null = open("/dev/null", O_RDONLY);

		if (null >= 0) {
			dup2(null, STDIN_FILENO);
			close(null);
		}
		setenv("CRTOOLS_SCRIPT_ACTION", action, 1);
		setenv("CRTOOLS_IMAGE_DIR", imgdir, 1);
		if (pid > 0) {
			snprintf(pidstr, sizeof(pidstr), "%d", (int)pid);
			setenv("CRTOOLS_INIT_PID", pidstr, 1);
		}
		execl(path, path, (char *)NULL);
		fprintf(stderr, "can't run action script %s: %s\n", path, strerror(errno));
		_exit(127);
	}
	while (waitpid(child, &status, 0) < 0)
		if (errno != EINTR) {
			pr_perror("can't wait for action script %s", path);
			return -1;
		}
	return status;
}

static int run_scripts(const struct options *o, enum cr_action a, pid_t pid)
{
	char imgdir[PATH_MAX];
	int bad = 0;

	if (!o->nr_action_scripts)
		return 0;
	/* the scripts run in criu's directory, not the images': give them a full path */
	if (!o->imgs_dir || !realpath(o->imgs_dir, imgdir))
		snprintf(imgdir, sizeof(imgdir), "%s", o->imgs_dir ? o->imgs_dir : ".");
	for (size_t i = 0; i < o->nr_action_scripts; i++) {
		int status = run_script(o->action_scripts[i], cr_action_name(a), imgdir, pid);

		if (status == 0)
			continue;
		if (status > 0 && WIFEXITED(status))
			pr_err("action script %s exited with %d at %s\n", o->action_scripts[i], WEXITSTATUS(status),
			       cr_action_name(a));
		else if (status > 0 && WIFSIGNALED(status))
			pr_err("action script %s was killed by signal %d at %s\n", o->action_scripts[i],
			       WTERMSIG(status), cr_action_name(a));
		bad = 1;
	}
	return bad ? -1 : 0;
}

static int notify(const struct options *o, enum cr_action a, pid_t pid, int fd)
{
	pr_info("%s (pid %d)\n", cr_action_name(a), (int)pid);
	if (o->notify_hook && o->notify_hook(o->notify_arg, cr_action_name(a), pid, fd)) {
		pr_err("the RPC client said no at %s\n", cr_action_name(a));
		return -1;
	}
	/* a descriptor is for the RPC client only, as upstream: no script could take it */
	return fd >= 0 ? 0 : run_scripts(o, a, pid);
}

int cr_notify(const struct options *o, enum cr_action a, pid_t pid)
{
	return notify(o, a, pid, -1);
}

int cr_notify_fd(const struct options *o, enum cr_action a, int fd)
{
	return notify(o, a, 0, fd);
}

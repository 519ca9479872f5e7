/*
 * libcriu-client CRIU COMMAND [ARGS]: a client of the project's own
 * libcriu (include/criu.h), driving the criu binary CRIU over RPC the way
 * a runtime does (CRIU "sk:PATH": a `criu service` listening on PATH). Prints one result line; exits 0 when the call returned
 * what a success returns.
 *
 *   version                    criu_get_version, criu_check_version(30000)
 *   check                      criu_check
 *   features                   criu_feature_check of every feature
 *   pre-dump IMGDIR PID        criu_pre_dump (criu refuses it)
 *   dump IMGDIR PID [OPT...]   criu_dump; OPT: leave-running, log=NAME,
 *                              ext=KEY:VAL, external=VALUE, notify,
 *                              notify-fail=ACTION (the callback says no
 *                              to ACTION), notify-exit=ACTION (the client
 *                              dies there, closing criu's socket mid-dump),
 *                              opt-ext-unix-sk (an option criu refuses), root=PATH
 *   dump-local ...             the same through a criu_opts of its own
 *   restore IMGDIR [OPT...]    criu_restore_child (the root becomes this
 *                              program's child); OPT as for dump, and
 *                              pidfile=FILE (the root's pid written there).
 *                              Prints "restore pid N parent-is-me 0|1".
 *   restore-plain IMGDIR ...   criu_restore (the root stays criu's... child
 *                              of nobody: criu is gone once it answered)
 *
 * With notify, every notification is printed as "notify ACTION PID".
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "criu.h"

static const char *fail_action;
static const char *exit_action; /* the client dies there: criu's socket closes mid-request */

static int on_notify(char *action, criu_notify_arg_t na)
{
	printf("notify %s %d\n", action, criu_notify_pid(na));
	fflush(stdout);
	if (exit_action && !strcmp(action, exit_action)) {
		char path[64], kids[256] = "";
		FILE *f;

		/* criu swrk is this program's only child */
		snprintf(path, sizeof(path), "/proc/self/task/%d/children", (int)getpid());
		f = fopen(path, "r");
		if (f && fgets(kids, sizeof(kids), f))
			printf("criu %s\n", kids);
		fflush(stdout);
		_exit(7);
	}
	return fail_action && !strcmp(action, fail_action) ? -1 : 0;
}

static int add_opt(criu_opts *o, const char *a)
{
	if (!strcmp(a, "leave-running"))
		criu_local_set_leave_running(o, true);
	else if (!strncmp(a, "log=", 4))
		return criu_local_set_log_file(o, a + 4);
	else if (!strncmp(a, "root=", 5))
		return criu_local_set_root(o, a + 5);
	else if (!strncmp(a, "ext=", 4)) {
		char *kv = strdup(a + 4), *colon = strchr(kv, ':');
		int ret;

		if (!colon)
			return -1;
		*colon = '\0';
		ret = criu_local_add_ext_mount(o, kv, colon + 1);
		free(kv);
		return ret;
	} else if (!strncmp(a, "external=", 9))
		return criu_local_add_external(o, a + 9);
	else if (!strcmp(a, "notify"))
		criu_local_set_notify_cb(o, on_notify);
	else if (!strncmp(a, "notify-fail=", 12)) {
		fail_action = a + 12;
		criu_local_set_notify_cb(o, on_notify);
	} else if (!strncmp(a, "notify-exit=", 12)) {
		exit_action = a + 12;
		criu_local_set_notify_cb(o, on_notify);
	} else if (!strcmp(a, "opt-ext-unix-sk"))
		criu_local_set_ext_unix_sk(o, true);
	else {
		fprintf(stderr, "unknown option %s\n", a);
		return -1;
	}
	return 0;
}

/* dump/pre-dump through the library's own options or a criu_opts of ours */
static int dump(const char *criu, int argc, char **argv, bool local, bool pre)
{
	criu_opts *o;
	int dir, ret;

	if (argc < 2)
		return 2;
	dir = open(argv[0], O_DIRECTORY);
	if (dir < 0) {
		/* a test of a bad images_dir_fd passes a file: give criu what it asked for */
		dir = open(argv[0], O_RDONLY);
		if (dir < 0) {
			perror(argv[0]);
			return 2;
		}
	}
	if (local) {
		if (criu_local_init_opts(&o) || criu_local_set_service_binary(o, criu))
			return 2;
	} else {
		if (criu_set_service_binary(criu) || criu_init_opts())
			return 2;
		o = NULL;
	}
	if (local) {
		criu_local_set_images_dir_fd(o, dir);
		criu_local_set_pid(o, atoi(argv[1]));
		criu_local_set_log_level(o, 4);
		for (int i = 2; i < argc; i++)
			if (add_opt(o, argv[i]))
				return 2;
		ret = pre ? criu_local_pre_dump(o) : criu_local_dump(o);
		criu_local_free_opts(o);
	} else {
		criu_set_images_dir_fd(dir);
		criu_set_pid(atoi(argv[1]));
		criu_set_log_level(4);
		for (int i = 2; i < argc; i++) {
			/* the global family has the same setters: use them for the common ones */
			if (!strcmp(argv[i], "leave-running"))
				criu_set_leave_running(true);
			else if (!strncmp(argv[i], "log=", 4))
				criu_set_log_file(argv[i] + 4);
			else if (!strncmp(argv[i], "ext=", 4)) {
				char *kv = strdup(argv[i] + 4), *colon = strchr(kv, ':');

				if (!colon)
					return 2;
				*colon = '\0';
				criu_add_ext_mount(kv, colon + 1);
				free(kv);
			} else if (!strcmp(argv[i], "notify"))
				criu_set_notify_cb(on_notify);
			else if (!strncmp(argv[i], "notify-fail=", 12)) {
				fail_action = argv[i] + 12;
				criu_set_notify_cb(on_notify);
			} else if (!strncmp(argv[i], "notify-exit=", 12)) {
				exit_action = argv[i] + 12;
				criu_set_notify_cb(on_notify);
			} else if (!strcmp(argv[i], "opt-ext-unix-sk"))
				criu_set_ext_unix_sk(true);
			else
				return 2;
		}
		ret = pre ? criu_pre_dump() : criu_dump();
		criu_free_opts();
	}
	if (ret == 0)
		printf("%s ok\n", pre ? "pre-dump" : "dump");
	else
		printf("%s failed %d (%s) errno %d\n", pre ? "pre-dump" : "dump", ret, strerror(-ret), errno);
	return ret == 0 ? 0 : 1;
}

static int parent_of(pid_t pid)
{
	char path[64], buf[512], *p;
	int ppid = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fgets(buf, sizeof(buf), f) && (p = strrchr(buf, ')')))
		sscanf(p + 2, "%*c %d", &ppid);
	fclose(f);
	return ppid;
}

static int restore(const char *criu, int argc, char **argv, bool child)
{
	const char *pidfile = NULL;
	criu_opts *o;
	int dir, ret;

	if (argc < 1)
		return 2;
	dir = open(argv[0], O_DIRECTORY);
	if (dir < 0) {
		perror(argv[0]);
		return 2;
	}
	if (criu_local_init_opts(&o) || criu_local_set_service_binary(o, criu))
		return 2;
	criu_local_set_images_dir_fd(o, dir);
	criu_local_set_log_level(o, 4);
	for (int i = 1; i < argc; i++) {
		if (!strncmp(argv[i], "pidfile=", 8))
			pidfile = argv[i] + 8;
		else if (add_opt(o, argv[i]))
			return 2;
	}
	ret = child ? criu_local_restore_child(o) : criu_local_restore(o);
	criu_local_free_opts(o);
	if (ret <= 0) {
		printf("restore failed %d (%s) errno %d\n", ret, strerror(-ret), errno);
		return 1;
	}
	printf("restore pid %d parent-is-me %d\n", ret, parent_of(ret) == getpid());
	if (pidfile) {
		FILE *f = fopen(pidfile, "w");

		if (f) {
			fprintf(f, "%d\n", ret);
			fclose(f);
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *criu, *cmd;
	int ret;

	if (argc < 3) {
		fprintf(stderr, "usage: %s CRIU COMMAND [ARGS]\n", argv[0]);
		return 2;
	}
	criu = argv[1];
	cmd = argv[2];
	if (!strcmp(cmd, "restore") || !strcmp(cmd, "restore-plain"))
		return restore(criu, argc - 3, argv + 3, !strcmp(cmd, "restore"));
	if (!strcmp(cmd, "dump") || !strcmp(cmd, "dump-local") || !strcmp(cmd, "pre-dump"))
		return dump(criu, argc - 3, argv + 3, !strcmp(cmd, "dump-local"), !strcmp(cmd, "pre-dump"));
	if ((!strncmp(criu, "sk:", 3) ? criu_set_service_address(criu + 3) : criu_set_service_binary(criu)) ||
	    criu_init_opts())
		return 2;
	if (!strcmp(cmd, "version")) {
		ret = criu_get_version();
		printf("version %d at-least-3.0 %d\n", ret, criu_check_version(30000));
		return ret > 0 ? 0 : 1;
	}
	if (!strcmp(cmd, "check")) {
		ret = criu_check();
		printf("check %d\n", ret);
		return ret == 0 ? 0 : 1;
	}
	if (!strcmp(cmd, "features")) {
		struct criu_feature_check f = {.mem_track = true, .lazy_pages = true, .pidfd_store = true};

		ret = criu_feature_check(&f, sizeof(f));
		printf("features %d mem_track %d lazy_pages %d pidfd_store %d\n", ret, f.mem_track, f.lazy_pages,
		       f.pidfd_store);
		return ret == 0 ? 0 : 1;
	}
	fprintf(stderr, "unknown command %s\n", cmd);
	return 2;
}

/*
 * A task's /proc/PID/stat and status, read and parsed: the dump reads them
 * for every process and thread, restore for the tasks it seized.
 */
#define LOG_PREFIX "task-dump: "

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proc/proc-status.h"
#include "task/task-dump.h"
#include "util/log.h"
#include "util/util.h"

/* ------------------------------------------------------------------------
 * Parsing /proc/PID/stat
 */

int td_parse_stat(const char *buf, size_t len, struct td_stat *st)
{
	/* Fields after the command name, which may hold spaces and ')'. */
	unsigned long long v[52] = {0};
	const char *p = NULL, *end = buf + len;
	unsigned field = 3;

	memset(st, 0, sizeof(*st));
	for (const char *q = buf; q < end; q++)
		if (*q == ')')
			p = q;
	if (!p || p + 2 >= end || p[1] != ' ')
		return -EINVAL;
	p += 2;
	st->state = *p++;
	for (field = 4; field <= 52 && p < end; field++) {
		char *e;

		if (*p != ' ')
			return -EINVAL;
		p++;
		if (p < end && *p == '-') /* a few fields are signed */
			v[field - 1] = (unsigned long long)strtoll(p, &e, 10);
		else
			v[field - 1] = strtoull(p, &e, 10);
		if (e == p || e > end)
			return -EINVAL;
		p = e;
	}
	if (field <= 52)
		return -EINVAL; /* kernels before 3.5 lack the last fields */
	st->tty_nr = (uint32_t)v[6];
	st->tpgid = (int32_t)v[7];
	st->flags = (uint32_t)v[8];
	st->start_code = v[25];
	st->end_code = v[26];
	st->start_stack = v[27];
	st->start_data = v[44];
	st->end_data = v[45];
	st->start_brk = v[46];
	st->arg_start = v[47];
	st->arg_end = v[48];
	st->env_start = v[49];
	st->env_end = v[50];
	st->exit_code = (int32_t)v[51];
	return 0;
}

/* ------------------------------------------------------------------------
 * The tree
 */

int td_read_status(pid_t pid, pid_t tid, struct proc_status *st)
{
	struct proc_err perr;
	_cleanup_free_ char *buf = NULL;
	char path[96];
	size_t len;
	int ret;

	if (tid)
		snprintf(path, sizeof(path), "/proc/%d/task/%d/status", pid, tid);
	else
		snprintf(path, sizeof(path), "/proc/%d/status", pid);
	ret = read_file_at(AT_FDCWD, path, &buf, &len);
	if (ret < 0) {
		pr_err("can't read %s: %s\n", path, strerror(-ret));
		return ret == -ENOENT ? -ESRCH : ret;
	}
	ret = proc_status_parse(buf, len, st, &perr);
	if (ret < 0)
		pr_err("%s: %s\n", path, proc_err_msg(&perr).s);
	return ret;
}

int td_read_stat(pid_t pid, struct td_stat *st)
{
	_cleanup_free_ char *buf = NULL;
	char path[64];
	size_t len;
	int ret;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	ret = read_file_at(AT_FDCWD, path, &buf, &len);
	if (ret < 0) {
		pr_err("can't read %s: %s\n", path, strerror(-ret));
		return ret;
	}
	ret = td_parse_stat(buf, len, st);
	if (ret < 0)
		pr_err("%s: unexpected format\n", path);
	return ret;
}

/*
 * File locks held by a dumped tree (file-locks.h): found and refused.
 *
 * Parse: the kernel prints every lock the same way, in /proc/locks and in
 * fdinfo's "lock:" lines:
 *   ID: [->] KIND [MODE...] TYPE PID MAJ:MIN:INO START END
 * with KIND and MODE words that vary in number (POSIX ADVISORY, LEASE
 * ACTIVE, ...), so the five fields after them are read from the end.
 */
#define LOG_PREFIX "task-dump: "

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "files/file-locks.h"
#include "files/files-dump.h"
#include "task/task-dump.h"
#include "util/log.h"
#include "util/util.h"

#define MAX_TOKENS 16

/* ------------------------------------------------------------------------
 * Parse (pure)
 */

static int split(char *s, char **tok)
{
	int n = 0;

	for (char *t = strtok(s, " \t\n"); t; t = strtok(NULL, " \t\n")) {
		if (n == MAX_TOKENS)
			return -EINVAL;
		tok[n++] = t;
	}
	return n;
}

static int parse_i64(const char *s, int base, int64_t *v)
{
	char *end;

	if (!*s)
		return -EINVAL;
	errno = 0;
	*v = strtoll(s, &end, base);
	return errno || *end ? -EINVAL : 0;
}

/* "fe:00:10953655" (hex device numbers), or "<none>:0" */
static int parse_inode(const char *s, struct file_lock_info *l)
{
	unsigned ma, mi;
	uint64_t ino;
	int n = 0;

	if (!strcmp(s, "<none>:0"))
		return 0;
	if (sscanf(s, "%x:%x:%" SCNu64 "%n", &ma, &mi, &ino, &n) != 3 || s[n])
		return -EINVAL;
	l->has_inode = true;
	l->dev_major = ma;
	l->dev_minor = mi;
	l->ino = ino;
	return 0;
}

int file_lock_parse(const char *line, struct file_lock_info *l)
{
	char buf[256], *tok[MAX_TOKENS];
	int64_t pid, v;
	int n, k = 1;
	size_t len = strlen(line);

	memset(l, 0, sizeof(*l));
	if (len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, line, len + 1);
	n = split(buf, tok);
	/* ID: KIND TYPE PID INODE START END, at least */
	if (n < 7 || tok[0][0] < '0' || tok[0][0] > '9' || tok[0][strlen(tok[0]) - 1] != ':')
		return -EINVAL;
	if (!strcmp(tok[k], "->")) {
		l->waiter = true;
		k++;
	}
	if (n - k < 6 || strlen(tok[k]) >= sizeof(l->kind) || strlen(tok[n - 5]) >= sizeof(l->type))
		return -EINVAL;
	snprintf(l->kind, sizeof(l->kind), "%s", tok[k]);
	snprintf(l->type, sizeof(l->type), "%s", tok[n - 5]);
	if (strcmp(l->type, "READ") && strcmp(l->type, "WRITE") && strcmp(l->type, "UNLCK"))
		return -EINVAL;
	if (parse_i64(tok[n - 4], 10, &pid) || pid < INT_MIN || pid > INT_MAX || parse_inode(tok[n - 3], l) ||
	    parse_i64(tok[n - 2], 10, &l->start))
		return -EINVAL;
	l->pid = (int)pid;
	if (!strcmp(tok[n - 1], "EOF"))
		l->end = -1;
	else if (parse_i64(tok[n - 1], 10, &v) || v < l->start)
		return -EINVAL;
	else
		l->end = v;
	return 0;
}

void file_lock_describe(const struct file_lock_info *l, char *buf, size_t size)
{
	const char *type = !strcmp(l->type, "READ") ? "read" : !strcmp(l->type, "WRITE") ? "write" : "unlock";
	const char *kind = !strcmp(l->kind, "OFDLCK") ? "n OFD" : !strcmp(l->kind, "POSIX") ? " POSIX" : l->kind;
	bool record = !strcmp(l->kind, "POSIX") || !strcmp(l->kind, "OFDLCK");

	if (!strcmp(l->kind, "LEASE") || !strcmp(l->kind, "DELEG"))
		snprintf(buf, size, "a %s %s (F_SETLEASE)", type, !strcmp(l->kind, "LEASE") ? "lease" : "delegation");
	else if (!strcmp(l->kind, "FLOCK"))
		snprintf(buf, size, "a%s flock", !strcmp(l->type, "WRITE") ? "n exclusive" : " shared");
	else if (record && l->end < 0)
		snprintf(buf, size, "a%s %s lock from byte %" PRId64 " to the end", kind, type, l->start);
	else if (record)
		snprintf(buf, size, "a%s %s lock on bytes %" PRId64 "-%" PRId64, kind, type, l->start, l->end);
	else
		snprintf(buf, size, "a %s %s lock", kind, type);
}

/* ------------------------------------------------------------------------
 * Dump: find them, refuse
 */

static void hint(void)
{
	pr_hint("criu doesn't carry file locks (upstream's --file-locks) yet: dump the program at a point where it "
		"holds none\n");
}

int td_check_fd_locks(const struct td_proc *p, const struct td_fd *f)
{
	for (size_t i = 0; i < f->fi.nr_lines; i++) {
		const char *s = f->fi.lines[i];
		struct file_lock_info l;
		char what[128];

		if (!td_str_starts(s, "lock:"))
			continue;
		if (file_lock_parse(s + strlen("lock:"), &l)) {
			pr_err("process %d: fd %d (%s): a lock line criu can't read: %s\n", p->pid, f->fd, f->link, s);
			hint();
			return -EOPNOTSUPP;
		}
		if (l.waiter)
			continue;
		file_lock_describe(&l, what, sizeof(what));
		pr_err("process %d (%d in the tree): fd %d (%s) holds %s: file locks can't be dumped yet\n", p->pid,
		       p->vpid, f->fd, f->link, what);
		hint();
		return -EOPNOTSUPP;
	}
	return 0;
}

/* The path process pid maps the inode by, from its maps ("" if none). */
static void mapped_path(pid_t pid, const struct file_lock_info *l, char *path, size_t size)
{
	char name[64], line[PATH_MAX + 128], dev[16];
	_cleanup_fclose_ FILE *f = NULL;

	snprintf(path, size, "%s", "");
	snprintf(name, sizeof(name), "/proc/%d/maps", pid);
	snprintf(dev, sizeof(dev), "%02x:%02x", l->dev_major, l->dev_minor);
	f = fopen(name, "re");
	while (f && fgets(line, sizeof(line), f)) {
		char mdev[16];
		uint64_t ino;
		int n = 0;

		if (sscanf(line, "%*s %*s %*s %15s %" SCNu64 " %n", mdev, &ino, &n) < 2 || strcmp(mdev, dev) ||
		    ino != l->ino)
			continue;
		line[strcspn(line, "\n")] = '\0';
		snprintf(path, size, "%s", line + n);
		return;
	}
}

int td_check_tree_locks(const struct td_ctx *c)
{
	_cleanup_free_ char *buf = NULL;
	char *line, *save = NULL;
	size_t len;
	int ret = read_file_at(AT_FDCWD, "/proc/locks", &buf, &len);

	if (ret < 0) {
		pr_err("can't read /proc/locks: %s\n", strerror(-ret));
		return ret;
	}
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		const struct td_proc *p;
		struct file_lock_info l;
		char what[128], path[PATH_MAX];

		if (file_lock_parse(line, &l) || l.waiter || l.pid <= 0)
			continue;
		p = hmap_get_int(&c->by_pid, (uint64_t)l.pid);
		if (!p)
			continue;
		file_lock_describe(&l, what, sizeof(what));
		mapped_path(p->pid, &l, path, sizeof(path));
		pr_err("process %d (%d in the tree) took %s on %s (inode %02x:%02x:%" PRIu64 "), still held though "
		       "none of its descriptors shows it%s: file locks can't be dumped yet\n",
		       p->pid, p->vpid, what, path[0] ? path : "a file", l.dev_major, l.dev_minor, l.ino,
		       path[0] ? " (its mapping keeps the file open)" : "");
		hint();
		return -EOPNOTSUPP;
	}
	return 0;
}

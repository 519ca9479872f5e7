/*
 * Freezing a container through its cgroup (see cgroup/freezer.h).
 *
 *   v1: freezer.state reads THAWED, FREEZING or FROZEN; writing FROZEN asks
 *       for the freeze, which is done when it reads FROZEN.
 *   v2: writing 1 to cgroup.freeze asks for it; cgroup.events says
 *       "frozen 1" when done.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LOG_PREFIX "freezer: "
#include "cgroup/freezer.h"
#include "util/log.h"
#include "util/util.h"

static int read_small(int dirfd, const char *name, char *buf, size_t size)
{
	_cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, size - 1);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return 0;
}

static int write_small(int dirfd, const char *name, const char *val)
{
	_cleanup_close_ int fd = openat(dirfd, name, O_WRONLY | O_CLOEXEC);

	if (fd < 0 || write(fd, val, strlen(val)) != (ssize_t)strlen(val))
		return -1;
	return 0;
}

/* 1 frozen, 0 not (yet), -1 can't tell */
static int is_frozen(const struct freezer *f)
{
	char buf[512];

	if (f->v2) {
		if (read_small(f->dirfd, "cgroup.events", buf, sizeof(buf)))
			return -1;
		return strstr(buf, "frozen 1") != NULL;
	}
	if (read_small(f->dirfd, "freezer.state", buf, sizeof(buf)))
		return -1;
	return !strncmp(buf, "FROZEN", 6);
}

int freezer_open(const char *path, struct freezer *f)
{
	memset(f, 0, sizeof(*f));
	snprintf(f->path, sizeof(f->path), "%s", path);
	f->dirfd = open(path, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	if (f->dirfd < 0) {
		pr_perror("--freeze-cgroup %s", path);
		return -1;
	}
	if (faccessat(f->dirfd, "freezer.state", W_OK, 0) == 0)
		f->v2 = false;
	else if (faccessat(f->dirfd, "cgroup.freeze", W_OK, 0) == 0)
		f->v2 = true;
	else {
		pr_err("--freeze-cgroup %s: not a freezer cgroup (no freezer.state, no cgroup.freeze)\n", path);
		pr_hint("give the container's cgroup in the v1 freezer hierarchy (e.g. /sys/fs/cgroup/freezer/CT) "
			"or in the v2 one (not its root)\n");
		close(f->dirfd);
		f->dirfd = -1;
		return -1;
	}
	f->was_frozen = is_frozen(f) == 1;
	return 0;
}

int freezer_freeze(struct freezer *f, unsigned timeout_s)
{
	uint64_t deadline = monotonic_ns() + (uint64_t)(timeout_s ? timeout_s : 10) * 1000000000ULL;
	struct timespec step = {0, 10 * 1000 * 1000};
	int st;

	if (f->was_frozen)
		return 0;
	if (write_small(f->dirfd, f->v2 ? "cgroup.freeze" : "freezer.state", f->v2 ? "1" : "FROZEN")) {
		pr_perror("can't freeze %s", f->path);
		return -1;
	}
	f->frozen = true;
	while ((st = is_frozen(f)) == 0 && monotonic_ns() < deadline) {
		/* v1 can stay FREEZING on a task in an uninterruptible
		 * sleep; asking again retries the tasks not frozen yet */
		if (!f->v2)
			write_small(f->dirfd, "freezer.state", "FROZEN");
		nanosleep(&step, NULL);
	}
	if (st == 1) {
		pr_info("%s frozen\n", f->path);
		return 0;
	}
	if (st < 0)
		pr_perror("can't read the state of %s", f->path);
	else
		pr_err("%s did not freeze within %u s\n", f->path, timeout_s ? timeout_s : 10);
	freezer_thaw(f);
	return -1;
}

int freezer_thaw(struct freezer *f)
{
	if (!f->frozen || f->dirfd < 0)
		return 0;
	if (write_small(f->dirfd, f->v2 ? "cgroup.freeze" : "freezer.state", f->v2 ? "0" : "THAWED")) {
		pr_perror("can't thaw %s", f->path);
		return -1;
	}
	f->frozen = false;
	pr_info("%s thawed\n", f->path);
	return 0;
}

static int cmp_pid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

	return (x > y) - (x < y);
}

int freezer_tids(const struct freezer *f, pid_t **tids, size_t *n)
{
	_cleanup_free_ char *text = NULL;
	size_t len, cap = 0;
	char *p, *end;

	*tids = NULL;
	*n = 0;
	if (read_file_at(f->dirfd, f->v2 ? "cgroup.threads" : "tasks", &text, &len)) {
		pr_perror("can't list the tasks of %s", f->path);
		return -1;
	}
	for (p = text; *p; p = end) {
		long v = strtol(p, &end, 10);

		if (end == p)
			break;
		if (v <= 0 || (*end && *end != '\n')) {
			pr_err("%s: unexpected task list entry\n", f->path);
			free(*tids);
			*tids = NULL;
			return -1;
		}
		if (*n == cap) {
			cap = cap ? cap * 2 : 64;
			*tids = xrealloc(*tids, cap * sizeof(**tids));
		}
		(*tids)[(*n)++] = (pid_t)v;
		if (*end)
			end++;
	}
	qsort(*tids, *n, sizeof(**tids), cmp_pid);
	return 0;
}

void freezer_close(struct freezer *f)
{
	freezer_thaw(f);
	if (f->dirfd >= 0)
		close(f->dirfd);
	f->dirfd = -1;
}

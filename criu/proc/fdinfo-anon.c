/*
 * Parsers of the kind-specific fdinfo lines of anon-inode files: see
 * fdinfo-anon.h.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proc/fdinfo-anon.h"
#include "util/util.h"

/* The line that starts with `key`, past the key and blanks; NULL if none. */
static const char *find(const struct proc_fdinfo *fi, const char *key)
{
	size_t n = strlen(key);

	for (size_t i = 0; i < fi->nr_lines; i++)
		if (!strncmp(fi->lines[i], key, n)) {
			const char *v = fi->lines[i] + n;

			while (*v == ' ' || *v == '\t')
				v++;
			return v;
		}
	return NULL;
}

static int number(const struct proc_fdinfo *fi, const char *key, int base, bool required, uint64_t *out,
		  struct proc_parse_error *err)
{
	const char *v = find(fi, key);
	char *end;

	if (!v) {
		if (required)
			return proc_fail(err, 0, "no \"%s\" line", key);
		return 1;
	}
	errno = 0;
	*out = strtoull(v, &end, base);
	if (end == v || errno || (*end && *end != ' ' && *end != '\t'))
		return proc_fail(err, 0, "\"%s\": not a number: \"%.40s\"", key, v);
	return 0;
}

int fdinfo_eventfd(const struct proc_fdinfo *fi, struct fdinfo_eventfd *e, struct proc_parse_error *err)
{
	uint64_t sem = 0;
	int ret;

	memset(e, 0, sizeof(*e));
	ret = number(fi, "eventfd-count:", 16, true, &e->count, err);
	if (ret < 0)
		return ret;
	ret = number(fi, "eventfd-semaphore:", 10, false, &sem, err);
	if (ret < 0)
		return ret;
	e->semaphore = sem != 0;
	e->mode_known = ret == 0;
	return 0;
}

int fdinfo_signalfd(const struct proc_fdinfo *fi, uint64_t *sigmask, struct proc_parse_error *err)
{
	int ret = number(fi, "sigmask:", 16, true, sigmask, err);

	return ret < 0 ? ret : 0;
}

/* "(SEC, NSEC)" */
static int pair(const struct proc_fdinfo *fi, const char *key, uint64_t *sec, uint64_t *nsec,
		struct proc_parse_error *err)
{
	const char *v = find(fi, key);
	unsigned long long a, b;
	int n = 0;

	if (!v)
		return proc_fail(err, 0, "no \"%s\" line", key);
	if (sscanf(v, "(%llu, %llu)%n", &a, &b, &n) != 2 || !n || v[n])
		return proc_fail(err, 0, "\"%s\": expected (SEC, NSEC): \"%.40s\"", key, v);
	if (b >= 1000000000ULL)
		return proc_fail(err, 0, "\"%s\": %llu nanoseconds", key, b);
	*sec = a;
	*nsec = b;
	return 0;
}

int fdinfo_timerfd(const struct proc_fdinfo *fi, struct fdinfo_timerfd *t, struct proc_parse_error *err)
{
	uint64_t clockid, flags;
	int ret;

	memset(t, 0, sizeof(*t));
	ret = number(fi, "clockid:", 10, true, &clockid, err);
	if (!ret)
		ret = number(fi, "ticks:", 10, true, &t->ticks, err);
	if (!ret)
		ret = number(fi, "settime flags:", 8, true, &flags, err);
	if (!ret)
		ret = pair(fi, "it_value:", &t->vsec, &t->vnsec, err);
	if (!ret)
		ret = pair(fi, "it_interval:", &t->isec, &t->insec, err);
	if (ret)
		return ret < 0 ? ret : -EINVAL;
	if (clockid > 64 || flags > UINT32_MAX)
		return proc_fail(err, 0, "clockid %" PRIu64 " or settime flags 0%" PRIo64 " out of range", clockid,
				 flags);
	t->clockid = (uint32_t)clockid;
	t->settime_flags = (uint32_t)flags;
	return 0;
}

int fdinfo_epoll(const struct proc_fdinfo *fi, struct fdinfo_epoll_tfd **tfds, size_t *nr,
		 struct proc_parse_error *err)
{
	*tfds = NULL;
	*nr = 0;
	for (size_t i = 0; i < fi->nr_lines; i++) {
		const char *l = fi->lines[i];
		struct fdinfo_epoll_tfd t = {0};
		long long pos = 0;
		unsigned long long data, ino = 0;
		unsigned events, sdev = 0;
		int tfd, n = 0;

		if (strncmp(l, "tfd:", 4))
			continue;
		if (sscanf(l, "tfd: %d events: %x data: %llx pos:%lli ino:%llx sdev:%x%n", &tfd, &events, &data, &pos,
			   &ino, &sdev, &n) != 6 ||
		    tfd < 0) {
			free(*tfds);
			*tfds = NULL;
			*nr = 0;
			return proc_fail(err, 0, "unexpected epoll line \"%.80s\"", l);
		}
		t.tfd = tfd;
		t.events = events;
		t.data = data;
		t.pos = pos;
		t.ino = ino;
		t.sdev = sdev;
		*tfds = xrealloc(*tfds, (*nr + 1) * sizeof(**tfds));
		(*tfds)[(*nr)++] = t;
	}
	return 0;
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int fdinfo_inotify(const struct proc_fdinfo *fi, struct fdinfo_inotify_wd **wds, size_t *nr,
		   struct proc_parse_error *err)
{
	*wds = NULL;
	*nr = 0;
	for (size_t i = 0; i < fi->nr_lines; i++) {
		const char *l = fi->lines[i], *h;
		struct fdinfo_inotify_wd w = {0};
		unsigned long long ino;
		unsigned wd, sdev, mask, ign, bytes = 0;
		int type = 0, n = 0;

		if (strncmp(l, "inotify ", 8))
			continue;
		if (sscanf(l, "inotify wd:%x ino:%llx sdev:%x mask:%x ignored_mask:%x%n", &wd, &ino, &sdev, &mask, &ign,
			   &n) != 5 ||
		    wd < 1 || wd > INT32_MAX)
			goto bad;
		w.wd = (int32_t)wd;
		w.ino = ino;
		w.sdev = sdev;
		w.mask = mask;
		w.ignored_mask = ign;
		h = l + n;
		/* the handle, when the filesystem gave one */
		if (*h) {
			int m = 0;

			if (sscanf(h, " fhandle-bytes:%x fhandle-type:%x f_handle:%n", &bytes, (unsigned *)&type, &m) != 2 ||
			    !m || bytes == 0 || bytes > FDINFO_FH_MAX)
				goto bad;
			h += m;
			for (unsigned k = 0; k < bytes; k++) {
				int hi = hexval(h[2 * k]), lo = hi < 0 ? -1 : hexval(h[2 * k + 1]);

				if (hi < 0 || lo < 0)
					goto bad;
				w.fh[k] = (uint8_t)(hi << 4 | lo);
			}
			if (h[2 * bytes] && h[2 * bytes] != ' ')
				goto bad;
			w.fh_bytes = bytes;
			w.fh_type = type;
		}
		*wds = xrealloc(*wds, (*nr + 1) * sizeof(**wds));
		(*wds)[(*nr)++] = w;
		continue;
bad:
		free(*wds);
		*wds = NULL;
		*nr = 0;
		return proc_fail(err, 0, "unexpected inotify line \"%.120s\"", l);
	}
	return 0;
}

/*
 * Parsers of the kind-specific fdinfo lines of anon-inode files: see
 * fdinfo-anon.h. Each value is taken with the shared tokenizer of
 * proc/proc-text.c and checked strictly (digits of the base the kernel prints,
 * range); errors carry the line number in the fdinfo file.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "proc/fdinfo-anon.h"
#include "util/util.h"

static void skip_blanks(struct proc_span *v)
{
	while (v->len && (v->s[0] == ' ' || v->s[0] == '\t')) {
		v->s++;
		v->len--;
	}
}

static struct proc_span line_span(const struct proc_fdinfo *fi, size_t i)
{
	return (struct proc_span){fi->lines[i], strlen(fi->lines[i])};
}

/*
 * The first "key: value" line of the kind-specific ones whose key (the text
 * before its ':') is `key`: the value after the ':' and blanks in *v, its
 * line number in *lineno. false when there is none.
 */
static bool find(const struct proc_fdinfo *fi, const char *key, struct proc_span *v, unsigned *lineno)
{
	for (size_t i = 0; i < fi->nr_lines; i++) {
		struct proc_span k;

		if (proc_key_value(line_span(fi, i), &k, v) && proc_span_eq(k, key)) {
			skip_blanks(v);
			*lineno = fi->lineno[i];
			return true;
		}
	}
	return false;
}

/* The number on line `key`; 1 when there is no such line and it is not
 * required. */
static int number(const struct proc_fdinfo *fi, const char *key, unsigned base, uint64_t max, bool required,
		  uint64_t *out, struct proc_err *err)
{
	struct proc_span v;
	const char *why;
	unsigned lineno;

	if (!find(fi, key, &v, &lineno))
		return required ? proc_fail(err, 0, key, "missing", PROC_NO_TEXT) : 1;
	why = proc_parse_uint(v, base, max, out);
	return why ? proc_fail(err, lineno, key, why, v) : 0;
}

int fdinfo_eventfd(const struct proc_fdinfo *fi, struct fdinfo_eventfd *e, struct proc_err *err)
{
	uint64_t sem = 0;
	int ret;

	memset(e, 0, sizeof(*e));
	proc_err_reset(err);
	/* "eventfd-count: %16llx": hex, padded with spaces */
	ret = number(fi, "eventfd-count", 16, UINT64_MAX, true, &e->count, err);
	if (ret < 0)
		return ret;
	/* "eventfd-semaphore: %d" (6.6+): 0 or 1 */
	ret = number(fi, "eventfd-semaphore", 10, 1, false, &sem, err);
	if (ret < 0)
		return ret;
	e->semaphore = sem != 0;
	e->mode_known = ret == 0;
	return 0;
}

int fdinfo_signalfd(const struct proc_fdinfo *fi, uint64_t *sigmask, struct proc_err *err)
{
	proc_err_reset(err);
	/* "sigmask:\t%016llx" */
	return number(fi, "sigmask", 16, UINT64_MAX, true, sigmask, err);
}

/* "it_value: (SEC, NSEC)" */
static int pair(const struct proc_fdinfo *fi, const char *key, uint64_t *sec, uint64_t *nsec, struct proc_err *err)
{
	struct proc_span v, all, s;
	const char *why;
	unsigned lineno;

	if (!find(fi, key, &v, &lineno))
		return proc_fail(err, 0, key, "missing", PROC_NO_TEXT);
	all = v;
	if (!proc_skip_char(&v, '(') || !proc_split(&v, ',', &s) || !proc_skip_char(&v, ' ') || !v.len ||
	    v.s[v.len - 1] != ')')
		return proc_fail(err, lineno, key, "expected (SEC, NSEC)", all);
	v.len--;
	why = proc_parse_uint(s, 10, UINT64_MAX, sec);
	if (why)
		return proc_fail_part(err, lineno, key, "seconds", why, s);
	why = proc_parse_uint(v, 10, 999999999, nsec);
	if (why)
		return proc_fail_part(err, lineno, key, "nanoseconds", why, v);
	return 0;
}

int fdinfo_timerfd(const struct proc_fdinfo *fi, struct fdinfo_timerfd *t, struct proc_err *err)
{
	uint64_t clockid, flags;
	int ret;

	memset(t, 0, sizeof(*t));
	proc_err_reset(err);
	/* clockid: %d / ticks: %llu / settime flags: 0%o / it_value: (%llu, %llu) / it_interval: (...) */
	ret = number(fi, "clockid", 10, 64, true, &clockid, err);
	if (!ret)
		ret = number(fi, "ticks", 10, UINT64_MAX, true, &t->ticks, err);
	if (!ret)
		ret = number(fi, "settime flags", 8, UINT32_MAX, true, &flags, err);
	if (!ret)
		ret = pair(fi, "it_value", &t->vsec, &t->vnsec, err);
	if (!ret)
		ret = pair(fi, "it_interval", &t->isec, &t->insec, err);
	if (ret)
		return ret;
	t->clockid = (uint32_t)clockid;
	t->settime_flags = (uint32_t)flags;
	return 0;
}

/*
 * In a line of "key:value" pairs (spaces between them, and after the ':'
 * where the kernel pads), takes the next pair, which must be `key`.
 */
static int take_value(struct proc_span *rest, const char *key, unsigned lineno, struct proc_span *v,
		      struct proc_err *err)
{
	proc_skip_spaces(rest);
	if (!proc_skip_prefix(rest, key) || !proc_skip_char(rest, ':') || !proc_next_word(rest, v))
		return proc_fail(err, lineno, key, "missing", *rest);
	return 0;
}

static int take_number(struct proc_span *rest, const char *key, unsigned base, uint64_t min, uint64_t max,
		       uint64_t *out, unsigned lineno, struct proc_err *err)
{
	struct proc_span v;
	const char *why;
	int ret = take_value(rest, key, lineno, &v, err);

	if (ret)
		return ret;
	why = proc_parse_uint(v, base, max, out);
	if (!why && *out < min)
		why = "number out of range";
	return why ? proc_fail(err, lineno, key, why, v) : 0;
}

/* "tfd: %8d events: %8x data: %16llx  pos:%lli ino:%lx sdev:%x" */
static int epoll_line(struct proc_span l, unsigned lineno, struct fdinfo_epoll_tfd *t, struct proc_err *err)
{
	uint64_t tfd, events, sdev;
	struct proc_span pos;
	const char *why;
	int ret;

	ret = take_number(&l, "tfd", 10, 0, INT32_MAX, &tfd, lineno, err);
	if (!ret)
		ret = take_number(&l, "events", 16, 0, UINT32_MAX, &events, lineno, err);
	if (!ret)
		ret = take_number(&l, "data", 16, 0, UINT64_MAX, &t->data, lineno, err);
	if (!ret)
		ret = take_value(&l, "pos", lineno, &pos, err);
	if (!ret && (why = proc_parse_int(pos, INT64_MIN, INT64_MAX, &t->pos)))
		ret = proc_fail(err, lineno, "pos", why, pos);
	if (!ret)
		ret = take_number(&l, "ino", 16, 0, UINT64_MAX, &t->ino, lineno, err);
	if (!ret)
		ret = take_number(&l, "sdev", 16, 0, UINT32_MAX, &sdev, lineno, err);
	/* Whatever follows is from a newer kernel. */
	t->tfd = (int32_t)tfd;
	t->events = (uint32_t)events;
	t->sdev = (uint32_t)sdev;
	return ret;
}

int fdinfo_epoll(const struct proc_fdinfo *fi, struct fdinfo_epoll_tfd **tfds, size_t *nr, struct proc_err *err)
{
	*tfds = NULL;
	*nr = 0;
	proc_err_reset(err);
	for (size_t i = 0; i < fi->nr_lines; i++) {
		struct fdinfo_epoll_tfd t = {0};

		if (strncmp(fi->lines[i], "tfd:", 4))
			continue;
		if (epoll_line(line_span(fi, i), fi->lineno[i], &t, err)) {
			free(*tfds);
			*tfds = NULL;
			*nr = 0;
			return -EINVAL;
		}
		*tfds = xrealloc(*tfds, (*nr + 1) * sizeof(**tfds));
		(*tfds)[(*nr)++] = t;
	}
	return 0;
}

/* "fhandle-bytes:%x fhandle-type:%x f_handle:%02x...", after the watch. */
static int inotify_handle(struct proc_span *l, unsigned lineno, struct fdinfo_inotify_wd *w, struct proc_err *err)
{
	uint64_t bytes, type, b;
	struct proc_span hex, byte;
	const char *why;
	int ret;

	ret = take_number(l, "fhandle-bytes", 16, 1, FDINFO_FH_MAX, &bytes, lineno, err);
	if (!ret)
		ret = take_number(l, "fhandle-type", 16, 0, UINT32_MAX, &type, lineno, err);
	if (!ret)
		ret = take_value(l, "f_handle", lineno, &hex, err);
	if (ret)
		return ret;
	if (hex.len != 2 * bytes)
		return proc_fail(err, lineno, "f_handle", "not as long as fhandle-bytes says", hex);
	for (size_t k = 0; k < bytes; k++) {
		byte = (struct proc_span){hex.s + 2 * k, 2};
		why = proc_parse_uint(byte, 16, 0xff, &b);
		if (why)
			return proc_fail(err, lineno, "f_handle", why, byte);
		w->fh[k] = (uint8_t)b;
	}
	w->fh_bytes = (uint32_t)bytes;
	w->fh_type = (int32_t)(uint32_t)type;
	return 0;
}

/* "inotify wd:%x ino:%lx sdev:%x mask:%x ignored_mask:%x " and maybe a handle */
static int inotify_line(struct proc_span l, unsigned lineno, struct fdinfo_inotify_wd *w, struct proc_err *err)
{
	uint64_t wd, sdev, mask, ignored;
	int ret;

	proc_skip_prefix(&l, "inotify");
	ret = take_number(&l, "wd", 16, 1, INT32_MAX, &wd, lineno, err);
	if (!ret)
		ret = take_number(&l, "ino", 16, 0, UINT64_MAX, &w->ino, lineno, err);
	if (!ret)
		ret = take_number(&l, "sdev", 16, 0, UINT32_MAX, &sdev, lineno, err);
	if (!ret)
		ret = take_number(&l, "mask", 16, 0, UINT32_MAX, &mask, lineno, err);
	if (!ret)
		ret = take_number(&l, "ignored_mask", 16, 0, UINT32_MAX, &ignored, lineno, err);
	if (ret)
		return ret;
	w->wd = (int32_t)wd;
	w->sdev = (uint32_t)sdev;
	w->mask = (uint32_t)mask;
	w->ignored_mask = (uint32_t)ignored;
	/* The handle, when the filesystem gave one (the line then ends in a
	 * space); whatever follows it is from a newer kernel. */
	proc_skip_spaces(&l);
	return l.len ? inotify_handle(&l, lineno, w, err) : 0;
}

int fdinfo_inotify(const struct proc_fdinfo *fi, struct fdinfo_inotify_wd **wds, size_t *nr, struct proc_err *err)
{
	*wds = NULL;
	*nr = 0;
	proc_err_reset(err);
	for (size_t i = 0; i < fi->nr_lines; i++) {
		struct fdinfo_inotify_wd w = {0};

		if (strncmp(fi->lines[i], "inotify ", 8))
			continue;
		if (inotify_line(line_span(fi, i), fi->lineno[i], &w, err)) {
			free(*wds);
			*wds = NULL;
			*nr = 0;
			return -EINVAL;
		}
		*wds = xrealloc(*wds, (*nr + 1) * sizeof(**wds));
		(*wds)[(*nr)++] = w;
	}
	return 0;
}

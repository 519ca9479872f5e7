/*
 * Seccomp filters of a seized tree: read per thread with
 * PTRACE_SECCOMP_GET_FILTER (needs CAP_SYS_ADMIN; index 0 is the thread's
 * oldest filter, as the kernel counts them: get_nth_filter()), stored
 * once each in seccomp.img as a forest: a filter is the same entry for two
 * threads when its program and everything installed before it are the
 * same. Each thread's core names its newest filter.
 */
#define LOG_PREFIX "task-dump: "

#include <errno.h>
#include <linux/filter.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>

#include "util/log.h"
#include "seccomp.pb-c.h"
#include "task/task-dump.h"
#include "util/util.h"

#ifndef PTRACE_SECCOMP_GET_FILTER
#define PTRACE_SECCOMP_GET_FILTER 0x420c
#endif
#ifndef PTRACE_SECCOMP_GET_METADATA
#define PTRACE_SECCOMP_GET_METADATA 0x420d
#endif

struct seccomp_meta {
	uint64_t filter_off;
	uint64_t flags;
};

struct td_seccomp {
	SeccompFilter *filters; /* their `filter.data` malloc'd */
	size_t nr;
};

/* The index of a filter with this program after `prev` (-1: the first). */
static uint32_t intern(struct td_seccomp *s, const void *prog, size_t len, int64_t prev, uint32_t flags)
{
	SeccompFilter *f;

	for (size_t i = 0; i < s->nr; i++) {
		f = &s->filters[i];
		if (f->filter.len == len && !memcmp(f->filter.data, prog, len) && f->has_prev == (prev >= 0) &&
		    (prev < 0 || f->prev == (uint32_t)prev) && f->flags == flags)
			return (uint32_t)i;
	}
	s->filters = xrealloc(s->filters, (s->nr + 1) * sizeof(*s->filters));
	f = &s->filters[s->nr];
	seccomp_filter__init(f);
	f->filter.data = xmalloc(len);
	memcpy(f->filter.data, prog, len);
	f->filter.len = len;
	f->has_prev = prev >= 0;
	f->prev = prev >= 0 ? (uint32_t)prev : 0;
	f->has_flags = true;
	f->flags = flags;
	return (uint32_t)s->nr++;
}

struct chain {
	struct sock_filter *prog;
	size_t len; /* bytes */
	uint32_t flags;
};

int td_seccomp_thread(struct td_ctx *c, pid_t tid, uint32_t *newest)
{
	struct chain *ch = NULL;
	size_t n = 0;
	int64_t prev = -1;
	int ret = 0;

	if (!c->seccomp)
		c->seccomp = xzalloc(sizeof(*c->seccomp));
	/* oldest first, until the kernel says there is no more */
	for (;; n++) {
		struct seccomp_meta meta = {.filter_off = n};
		long len = ptrace(PTRACE_SECCOMP_GET_FILTER, tid, (void *)n, NULL);

		if (len < 0 && errno == ENOENT)
			break;
		if (len <= 0 || len > BPF_MAXINSNS) {
			pr_perror("thread %d: can't read its seccomp filter %zu (PTRACE_SECCOMP_GET_FILTER needs CAP_SYS_ADMIN)",
				  tid, n);
			ret = len < 0 ? -errno : -EINVAL;
			break;
		}
		ch = xrealloc(ch, (n + 1) * sizeof(*ch));
		ch[n].len = (size_t)len * sizeof(struct sock_filter);
		ch[n].prog = xmalloc(ch[n].len);
		ch[n].flags = 0;
		if (ptrace(PTRACE_SECCOMP_GET_FILTER, tid, (void *)n, ch[n].prog) != len) {
			pr_perror("thread %d: can't read its seccomp filter %zu", tid, n);
			ret = -EIO;
			n++;
			break;
		}
		if (ptrace(PTRACE_SECCOMP_GET_METADATA, tid, (void *)sizeof(meta), &meta) > 0)
			ch[n].flags = (uint32_t)meta.flags;
	}
	if (!ret && n == 0) {
		pr_err("thread %d: in seccomp filter mode, but no filter could be read\n", tid);
		ret = -EIO;
	}
	/* into the forest in that order: each after the one before it */
	for (size_t i = 0; !ret && i < n; i++)
		prev = intern(c->seccomp, ch[i].prog, ch[i].len, prev, ch[i].flags);
	if (!ret)
		*newest = (uint32_t)prev;
	for (size_t i = 0; i < n; i++)
		free(ch[i].prog);
	free(ch);
	return ret;
}

/*
 * Written with every dump, with no filter when no thread has one, as
 * upstream writes it (its reader takes a missing file for no filters too).
 */
int td_seccomp_write(struct td_ctx *c)
{
	SeccompEntry e = SECCOMP_ENTRY__INIT;
	_cleanup_free_ SeccompFilter **v = NULL;
	struct img_writer *w = img_set_new(&c->d->imgs, IMG_SECCOMP, 0);

	if (!w)
		return -EIO;
	if (!c->seccomp || !c->seccomp->nr)
		return img_write_entry(w, &e.base);
	v = xzalloc(c->seccomp->nr * sizeof(*v));
	for (size_t i = 0; i < c->seccomp->nr; i++)
		v[i] = &c->seccomp->filters[i];
	e.n_seccomp_filters = c->seccomp->nr;
	e.seccomp_filters = v;
	return img_write_entry(w, &e.base);
}

void td_seccomp_fini(struct td_ctx *c)
{
	if (!c->seccomp)
		return;
	for (size_t i = 0; i < c->seccomp->nr; i++)
		free(c->seccomp->filters[i].filter.data);
	free(c->seccomp->filters);
	free(c->seccomp);
	c->seccomp = NULL;
}

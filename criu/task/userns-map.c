/*
 * uid and gid maps of a user namespace (see task/userns.h): the text of
 * /proc/PID/uid_map, the image entry, and the conversion of ids between
 * the namespace and its parent. Pure, but for the dumped tree's maps that
 * the dump stages convert their ids with (userns_tree_set).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "task/userns.h"
#include "util/util.h"

/* One number of a map line: decimal digits, at most UINT32_MAX. */
static const char *parse_u32(const char *p, const char *end, uint32_t *v)
{
	uint64_t n = 0;
	const char *start;

	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	start = p;
	while (p < end && *p >= '0' && *p <= '9') {
		n = n * 10 + (uint64_t)(*p - '0');
		if (n > UINT32_MAX)
			return NULL;
		p++;
	}
	if (p == start)
		return NULL;
	*v = (uint32_t)n;
	return p;
}

int userns_map_parse(const char *buf, size_t len, struct userns_map *m, char *err, size_t errlen)
{
	const char *p = buf, *end = buf + len;
	unsigned line = 0;

	m->nr = 0;
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		struct userns_extent x;
		const char *q;

		if (!eol)
			eol = end;
		line++;
		q = parse_u32(p, eol, &x.first);
		q = q ? parse_u32(q, eol, &x.lower_first) : NULL;
		q = q ? parse_u32(q, eol, &x.count) : NULL;
		while (q && q < eol && (*q == ' ' || *q == '\t'))
			q++;
		if (!q || q != eol || m->nr == USERNS_MAX_EXTENTS) {
			if (err)
				snprintf(err, errlen, "line %u: %s", line,
					 q && q == eol ? "more than 340 extents" : "not \"first lower count\"");
			return -EINVAL;
		}
		m->e[m->nr++] = x;
		p = eol + 1;
	}
	return 0;
}

int userns_map_format(const struct userns_map *m, char *buf, size_t len)
{
	size_t off = 0;

	for (size_t i = 0; i < m->nr; i++) {
		int n = snprintf(buf + off, len - off, "%u %u %u\n", m->e[i].first, m->e[i].lower_first, m->e[i].count);

		if (n < 0 || (size_t)n >= len - off)
			return -ENOSPC;
		off += (size_t)n;
	}
	if (len)
		buf[off < len ? off : len - 1] = '\0';
	return (int)off;
}

static bool overlap(uint32_t a, uint32_t b, uint32_t n)
{
	return a < b ? (uint64_t)a + n > b : (uint64_t)b + n > a;
}

int userns_map_check(const struct userns_map *m, char *err, size_t errlen)
{
	if (!m->nr || m->nr > USERNS_MAX_EXTENTS) {
		snprintf(err, errlen, "%zu extents (1 to %d)", m->nr, USERNS_MAX_EXTENTS);
		return -EINVAL;
	}
	for (size_t i = 0; i < m->nr; i++) {
		const struct userns_extent *x = &m->e[i];

		if (!x->count || (uint64_t)x->first + x->count > UINT32_MAX ||
		    (uint64_t)x->lower_first + x->count > UINT32_MAX) {
			snprintf(err, errlen, "extent %u %u %u is empty or goes past 4294967294", x->first,
				 x->lower_first, x->count);
			return -EINVAL;
		}
		for (size_t j = 0; j < i; j++) {
			const struct userns_extent *y = &m->e[j];
			/* each side against the other extent's, with the smaller's count */
			uint32_t n1 = x->first < y->first ? x->count : y->count;
			uint32_t n2 = x->lower_first < y->lower_first ? x->count : y->count;

			if (overlap(x->first, y->first, n1) || overlap(x->lower_first, y->lower_first, n2)) {
				snprintf(err, errlen, "extents %u %u %u and %u %u %u overlap", y->first, y->lower_first,
					 y->count, x->first, x->lower_first, x->count);
				return -EINVAL;
			}
		}
	}
	return 0;
}

uint32_t userns_map_down(const struct userns_map *m, uint32_t outside)
{
	for (size_t i = 0; i < m->nr; i++) {
		const struct userns_extent *x = &m->e[i];

		if (outside >= x->lower_first && (uint64_t)outside < (uint64_t)x->lower_first + x->count)
			return x->first + (outside - x->lower_first);
	}
	return USERNS_NO_ID;
}

uint32_t userns_map_up(const struct userns_map *m, uint32_t inside)
{
	for (size_t i = 0; i < m->nr; i++) {
		const struct userns_extent *x = &m->e[i];

		if (inside >= x->first && (uint64_t)inside < (uint64_t)x->first + x->count)
			return x->lower_first + (inside - x->first);
	}
	return USERNS_NO_ID;
}

static UidGidExtent **extents_out(const struct userns_map *m, size_t *n)
{
	UidGidExtent *arr = xzalloc((m->nr ? m->nr : 1) * sizeof(*arr));
	UidGidExtent **ptrs = xzalloc((m->nr ? m->nr : 1) * sizeof(*ptrs));

	for (size_t i = 0; i < m->nr; i++) {
		uid_gid_extent__init(&arr[i]);
		arr[i].first = m->e[i].first;
		arr[i].lower_first = m->e[i].lower_first;
		arr[i].count = m->e[i].count;
		ptrs[i] = &arr[i];
	}
	*n = m->nr;
	return ptrs;
}

void userns_to_entry(const struct userns_info *u, UsernsEntry *e)
{
	userns_entry__init(e);
	e->uid_map = extents_out(&u->uid, &e->n_uid_map);
	e->gid_map = extents_out(&u->gid, &e->n_gid_map);
	e->has_setgroups_deny = true;
	e->setgroups_deny = u->setgroups_deny;
	e->has_owner_uid = true;
	e->owner_uid = u->owner_uid;
}

void userns_entry_free(UsernsEntry *e)
{
	/* the extents are one array, the first pointer its start */
	if (e->uid_map)
		free(e->uid_map[0]);
	if (e->gid_map)
		free(e->gid_map[0]);
	free(e->uid_map);
	free(e->gid_map);
	e->uid_map = e->gid_map = NULL;
}

static int extents_in(UidGidExtent *const *x, size_t n, struct userns_map *m, const char *what, char *err,
		      size_t errlen)
{
	char why[160];

	if (n > USERNS_MAX_EXTENTS) {
		snprintf(err, errlen, "%s: %zu extents (at most %d)", what, n, USERNS_MAX_EXTENTS);
		return -EINVAL;
	}
	m->nr = n;
	for (size_t i = 0; i < n; i++)
		m->e[i] = (struct userns_extent){x[i]->first, x[i]->lower_first, x[i]->count};
	if (userns_map_check(m, why, sizeof(why))) {
		snprintf(err, errlen, "%s: %s", what, why);
		return -EINVAL;
	}
	return 0;
}

int userns_from_entry(const UsernsEntry *e, struct userns_info *u, char *err, size_t errlen)
{
	memset(u, 0, sizeof(*u));
	if (extents_in(e->uid_map, e->n_uid_map, &u->uid, "uid_map", err, errlen) ||
	    extents_in(e->gid_map, e->n_gid_map, &u->gid, "gid_map", err, errlen))
		return -EINVAL;
	/* an image is input: it must not hand the host's root to the tree */
	if (userns_map_down(&u->uid, 0) != USERNS_NO_ID || userns_map_down(&u->gid, 0) != USERNS_NO_ID) {
		snprintf(err, errlen, "its maps give the host's root (uid or gid 0) to the namespace, which an "
				      "unprivileged container never has");
		return -EINVAL;
	}
	/* the tasks take ids 0 inside first: a namespace without them can't be entered */
	if (userns_map_up(&u->uid, 0) == USERNS_NO_ID || userns_map_up(&u->gid, 0) == USERNS_NO_ID) {
		snprintf(err, errlen, "its maps have no root (uid or gid 0 inside), which criu needs to restore in it");
		return -EOPNOTSUPP;
	}
	u->setgroups_deny = e->has_setgroups_deny && e->setgroups_deny;
	/* upstream's images: the namespace is criu's (root's), as its restore makes it */
	u->owner_uid = e->has_owner_uid ? e->owner_uid : 0;
	return 0;
}

static const struct userns_info *tree_ns;

void userns_tree_set(const struct userns_info *u)
{
	tree_ns = u;
}

const struct userns_info *userns_tree(void)
{
	return tree_ns;
}

static uint32_t munged(const struct userns_map *m, uint32_t id)
{
	uint32_t v;

	if (id == USERNS_NO_ID)
		return id;
	v = userns_map_down(m, id);
	return v == USERNS_NO_ID ? USERNS_OVERFLOW_ID : v;
}

uint32_t userns_uid(uint32_t host_uid)
{
	return tree_ns ? munged(&tree_ns->uid, host_uid) : host_uid;
}

uint32_t userns_gid(uint32_t host_gid)
{
	return tree_ns ? munged(&tree_ns->gid, host_gid) : host_gid;
}

static int strict(const struct userns_map *m, uint32_t id, uint32_t *v)
{
	*v = m ? userns_map_down(m, id) : id;
	return *v == USERNS_NO_ID && id != USERNS_NO_ID ? -ERANGE : 0;
}

int userns_uid_strict(uint32_t host_uid, uint32_t *ns_uid)
{
	return strict(tree_ns ? &tree_ns->uid : NULL, host_uid, ns_uid);
}

int userns_gid_strict(uint32_t host_gid, uint32_t *ns_gid)
{
	return strict(tree_ns ? &tree_ns->gid : NULL, host_gid, ns_gid);
}

char *userns_mount_options(const struct userns_info *u, const char *opts)
{
	/* "uid=0" at the shortest, "uid=4294967295" at the longest */
	size_t len = 3 * strlen(opts), off = 0;
	char *out = xzalloc(len + 1);
	const char *p = opts;

	while (*p) {
		size_t n = strcspn(p, ",");
		bool is_uid = !strncmp(p, "uid=", 4), is_gid = !strncmp(p, "gid=", 4);

		if (is_uid || is_gid) {
			char *end;
			unsigned long host = strtoul(p + 4, &end, 10);
			uint32_t v = host > UINT32_MAX ? USERNS_NO_ID
						       : userns_map_down(is_uid ? &u->uid : &u->gid, (uint32_t)host);

			if (end != p + n || v == USERNS_NO_ID) {
				free(out);
				return NULL;
			}
			off += (size_t)snprintf(out + off, len + 1 - off, "%s%cid=%u", off ? "," : "", p[0], v);
		} else {
			off += (size_t)snprintf(out + off, len + 1 - off, "%s%.*s", off ? "," : "", (int)n, p);
		}
		p += n;
		while (*p == ',')
			p++;
	}
	return out;
}

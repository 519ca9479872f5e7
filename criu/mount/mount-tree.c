/*
 * Builds the mount tree of a namespace from its parsed mountinfo. Linear in
 * the number of mounts (times path depth for the prefix walks).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#define LOG_PREFIX "mnt: "
#include "mount/fstype.h"
#include "util/log.h"
#include "mount/mount-tree.h"
#include "util/util.h"

struct mount *mount_by_id(const struct mount_tree *t, uint32_t id)
{
	return hmap_get_int(&t->by_id, id);
}

struct mount *mount_by_mountpoint(const struct mount_tree *t, const char *mountpoint)
{
	return hmap_get_str(&t->by_mountpoint, mountpoint);
}

static char *sb_root_key(uint32_t s_dev, const char *root, size_t rootlen)
{
	char *key = xmalloc(rootlen + 16);
	int n = snprintf(key, 16, "%x:", s_dev);

	memcpy(key + n, root, rootlen);
	key[n + rootlen] = '\0';
	return key;
}

static struct mount *sb_root_lookup(const struct hmap *map, uint32_t s_dev, const char *root, size_t rootlen)
{
	char buf[4096 + 16];
	int n = snprintf(buf, 16, "%x:", s_dev);

	if (rootlen >= sizeof(buf) - n) {
		_cleanup_free_ char *key = sb_root_key(s_dev, root, rootlen);
		return hmap_get_str(map, key);
	}
	memcpy(buf + n, root, rootlen);
	return hmap_get_strn(map, buf, n + rootlen);
}

struct mount *mount_by_sb_root(const struct mount_tree *t, uint32_t s_dev, const char *root, size_t rootlen)
{
	return sb_root_lookup(&t->by_sb_root, s_dev, root, rootlen);
}

struct mount *mount_forest_by_sb_root(const struct mount_forest *f, uint32_t s_dev, const char *root, size_t rootlen)
{
	return sb_root_lookup(&f->by_sb_root, s_dev, root, rootlen);
}

struct mount *mount_forest_peer_group(const struct mount_forest *f, uint32_t id)
{
	return hmap_get_int(&f->by_peer_group, id);
}

/*
 * One pass over every mount of every namespace, in namespace order and
 * preorder within each: the first mount of each "s_dev:root" (bind sources
 * come from the root's namespace first) and each peer group's members.
 */
void mount_forest_index(struct mount_forest *f, struct mount_tree *trees, size_t nr)
{
	struct hmap tails; /* shared_id -> the last member seen */
	size_t total = 0;

	f->trees = trees;
	f->nr = nr;
	for (size_t i = 0; i < nr; i++)
		total += trees[i].nr;
	f->sb_root_keys = xzalloc((total ? total : 1) * sizeof(char *));
	f->nr_keys = 0;
	hmap_init(&tails);
	for (size_t i = 0; i < nr; i++) {
		for_each_mount(&trees[i], m)
		{
			const char *root = m->mi->root;
			struct mount *tail;

			if (!mount_forest_by_sb_root(f, m->s_dev, root, strlen(root))) {
				f->sb_root_keys[f->nr_keys] = sb_root_key(m->s_dev, root, strlen(root));
				hmap_put_str(&f->by_sb_root, f->sb_root_keys[f->nr_keys++], m);
			}
			if (!m->mi->shared_id)
				continue;
			/* members chain in walk order: the head is the first one */
			tail = hmap_put_int(&tails, m->mi->shared_id, m);
			if (tail)
				tail->xpeer_next = m;
			else
				hmap_put_int(&f->by_peer_group, m->mi->shared_id, m);
		}
	}
	hmap_free(&tails);
	for (size_t i = 0; i < nr; i++) {
		for_each_mount(&trees[i], m)
		{
			if (m->mi->master_id)
				m->master_outside = !mount_forest_peer_group(f, m->mi->master_id);
		}
	}
}

const char *mount_kind_name(enum mount_kind k)
{
	switch (k) {
	case MNT_ROOT:
		return "root";
	case MNT_FRESH:
		return "fresh";
	case MNT_BIND:
		return "bind";
	case MNT_EXTERNAL:
		return "external";
	default:
		return "undecided";
	}
}

/* Finds the one mount whose parent is not visible: the task's root mount. */
static int find_root(struct mount_tree *t)
{
	for (size_t i = 0; i < t->nr; i++) {
		struct mount *m = &t->mounts[i];

		if (m->parent)
			continue;
		if (strcmp(m->mi->mountpoint, "/")) {
			pr_err("%u:%s: its parent mount %u is not visible from the task's root\n", m->mi->mnt_id,
			       m->mi->mountpoint, m->mi->parent_id);
			pr_hint("the task's root must be a mount point (bind-mount the container root onto itself before chroot)\n");
			return -EINVAL;
		}
		if (t->root) {
			pr_err("two mounts at / without a visible parent: %u and %u\n", t->root->mi->mnt_id,
			       m->mi->mnt_id);
			return -EINVAL;
		}
		t->root = m;
	}
	if (!t->root) {
		pr_err("no root mount found in mountinfo (every mount has a visible parent)\n");
		return -EINVAL;
	}
	return 0;
}

static int link_parents(struct mount_tree *t)
{
	for (size_t i = 0; i < t->nr; i++) {
		struct mount *m = &t->mounts[i];
		struct mount *p = mount_by_id(t, m->mi->parent_id);

		if (p == m)
			p = NULL;
		m->parent = p;
		if (!p)
			continue;
		if (p->last_child)
			p->last_child->next_sibling = m;
		else
			p->first_child = m;
		p->last_child = m;
	}
	return find_root(t);
}

/* Preorder walk without recursion (a chain of 10,000 nested mounts is legal). */
static int order_tree(struct mount_tree *t)
{
	struct mount **stack = xmalloc((t->nr + 1) * sizeof(*stack));
	struct mount *prev = NULL;
	size_t sp = 0, seen = 0;

	stack[sp++] = t->root;
	while (sp) {
		struct mount *m = stack[--sp];
		size_t first = sp;

		if (prev)
			prev->next_in_order = m;
		else
			t->first_in_order = m;
		prev = m;
		seen++;
		/* push children reversed so that they pop in mountinfo order */
		for (struct mount *c = m->first_child; c; c = c->next_sibling)
			stack[sp++] = c;
		for (size_t a = first, b = sp - 1; a < b && sp > first; a++, b--) {
			struct mount *tmp = stack[a];
			stack[a] = stack[b];
			stack[b] = tmp;
		}
	}
	free(stack);
	if (seen != t->nr) {
		pr_err("mountinfo has %zu mounts not connected to the root mount %u (a parent loop)\n", t->nr - seen,
		       t->root->mi->mnt_id);
		return -EINVAL;
	}
	return 0;
}

static void index_groups(struct mount_tree *t)
{
	/* Walk backwards so that each group's head is its first mount in preorder. */
	size_t n = 0;
	struct mount **order = xmalloc(t->nr * sizeof(*order));

	for_each_mount(t, m) order[n++] = m;
	while (n--) {
		struct mount *m = order[n];

		m->sb_next = hmap_put_int(&t->by_sb, m->s_dev, m);
		if (m->mi->shared_id)
			m->peer_next = hmap_put_int(&t->by_peer_group, m->mi->shared_id, m);
	}
	free(order);

	t->sb_root_keys = xzalloc(t->nr * sizeof(char *));
	n = 0;
	for_each_mount(t, m) {
		hmap_put_str(&t->by_mountpoint, m->mi->mountpoint, m);
		if (mount_by_sb_root(t, m->s_dev, m->mi->root, strlen(m->mi->root)))
			continue;
		t->sb_root_keys[n] = sb_root_key(m->s_dev, m->mi->root, strlen(m->mi->root));
		hmap_put_str(&t->by_sb_root, t->sb_root_keys[n++], m);
	}
	for_each_mount(t, m) {
		if (m->mi->master_id && !hmap_get_int(&t->by_peer_group, m->mi->master_id))
			m->master_outside = true;
	}
}

/*
 * A mount is hidden when its parent is hidden, when a sibling was mounted
 * right on top of its parent's root (an overmount), or when a sibling covers
 * a directory above its mountpoint (mounted later at a shorter path).
 */
static void mark_hidden(struct mount_tree *t)
{
	struct hmap children; /* "parent_id:mountpoint" -> child */
	char **keys = xmalloc(t->nr * sizeof(char *));
	size_t nkeys = 0;

	hmap_init(&children);
	for_each_mount(t, m) {
		if (m->parent && !strcmp(m->mi->mountpoint, m->parent->mi->mountpoint))
			m->parent->overmount = m;
		if (!m->parent)
			continue;
		keys[nkeys] = sb_root_key(m->parent->mi->mnt_id, m->mi->mountpoint, strlen(m->mi->mountpoint));
		struct mount *prev = hmap_put_str(&children, keys[nkeys], m);
		if (prev && prev != m)
			prev->overmount = m; /* a later sibling at the same path covers it */
		nkeys++;
	}
	for_each_mount(t, m) {
		struct mount *p = m->parent;

		if (!p)
			continue;
		if (p->hidden || (p->overmount && p->overmount != m))
			m->hidden = true;
		/* a sibling covering a directory above our mountpoint */
		const char *mp = m->mi->mountpoint;
		size_t plen = strlen(p->mi->mountpoint);
		for (size_t i = strlen(mp); !m->hidden && i > plen; i--) {
			if (mp[i] != '/')
				continue;
			char key[32];
			int kn = snprintf(key, sizeof(key), "%x:", p->mi->mnt_id);
			_cleanup_free_ char *k = xmalloc(kn + i + 1);
			memcpy(k, key, kn);
			memcpy(k + kn, mp, i);
			k[kn + i] = '\0';
			struct mount *s = hmap_get_str(&children, k);
			if (s && s != m) /* any sibling above our path was mounted after us */
				m->hidden = true;
		}
	}
	for (size_t i = 0; i < nkeys; i++)
		free(keys[i]);
	free(keys);
	hmap_free(&children);
}

int mount_tree_build(struct mount_tree *t, struct mountinfo_table *table)
{
	int ret;

	memset(t, 0, sizeof(*t));
	t->table = *table;
	memset(table, 0, sizeof(*table));
	t->nr = t->table.nr;
	t->mounts = xzalloc((t->nr ? t->nr : 1) * sizeof(*t->mounts));

	for (size_t i = 0; i < t->nr; i++) {
		struct mount *m = &t->mounts[i];
		struct mountinfo_entry *e = &t->table.entries[i];
		size_t mplen = strlen(e->mountpoint);

		m->mi = e;
		m->tree = t;
		m->s_dev = KDEV_MAKE(e->major, e->minor);
		m->fs = fs_ops_lookup(e->fstype);
		/* the kernel appends "//deleted" to mountpoints whose dentry is gone */
		if (mplen > 9 && !strcmp(e->mountpoint + mplen - 9, "//deleted")) {
			e->mountpoint[mplen - 9] = '\0';
			m->deleted = true;
		}
		size_t rlen = strlen(e->root);
		if (rlen > 9 && !strcmp(e->root + rlen - 9, "//deleted")) {
			e->root[rlen - 9] = '\0';
			m->root_deleted = true;
		}
		if (hmap_put_int(&t->by_id, e->mnt_id, m)) {
			pr_err("mountinfo lists mount id %u twice\n", e->mnt_id);
			return -EINVAL;
		}
	}
	if (!t->nr) {
		pr_err("mountinfo is empty\n");
		return -EINVAL;
	}
	ret = link_parents(t);
	if (!ret)
		ret = order_tree(t);
	if (ret)
		return ret;
	index_groups(t);
	mark_hidden(t);
	return 0;
}

void mount_forest_fini(struct mount_forest *f)
{
	for (size_t i = 0; i < f->nr_keys; i++)
		free(f->sb_root_keys[i]);
	free(f->sb_root_keys);
	hmap_free(&f->by_sb_root);
	hmap_free(&f->by_peer_group);
	memset(f, 0, sizeof(*f));
}

void mount_tree_free(struct mount_tree *t)
{
	if (t->sb_root_keys) {
		for (size_t i = 0; i < t->nr && t->sb_root_keys[i]; i++)
			free(t->sb_root_keys[i]);
		free(t->sb_root_keys);
	}
	for (size_t i = 0; i < t->nr && t->mounts; i++)
		free(t->mounts[i].ext_host_path);
	hmap_free(&t->by_id);
	hmap_free(&t->by_sb);
	hmap_free(&t->by_peer_group);
	hmap_free(&t->by_mountpoint);
	hmap_free(&t->by_sb_root);
	free(t->mounts);
	mountinfo_table_free(&t->table);
	memset(t, 0, sizeof(*t));
}

static void append(char **buf, size_t *len, size_t *cap, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#include <stdarg.h>
static void append(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(*buf + *len, *cap - *len, fmt, ap);
		va_end(ap);
		if ((size_t)n < *cap - *len)
			break;
		*cap = (*cap + n) * 2;
		*buf = xrealloc(*buf, *cap);
	}
	*len += n;
}

char *mount_tree_format(const struct mount_tree *t)
{
	size_t len = 0, cap = 4096;
	char *buf = xmalloc(cap);
	unsigned *depth = xzalloc(t->nr * sizeof(*depth));

	buf[0] = '\0';
	for_each_mount(t, m) {
		size_t idx = m - t->mounts;
		unsigned d = m->parent ? depth[m->parent - t->mounts] + 1 : 0;

		depth[idx] = d;
		append(&buf, &len, &cap, "%*s%u %s root=%s dev=%u:%u %s kind=%s", d * 2, "", m->mi->mnt_id,
		       m->mi->mountpoint, m->mi->root, KDEV_MAJOR(m->s_dev), KDEV_MINOR(m->s_dev), m->mi->fstype,
		       mount_kind_name(m->kind));
		if (m->bind_source)
			append(&buf, &len, &cap, " from=%u", m->bind_source->mi->mnt_id);
		if (m->kind == MNT_EXTERNAL && m->ext_key)
			append(&buf, &len, &cap, " ext=%s", m->ext_key);
		if (m->kind == MNT_EXTERNAL && m->ext_auto)
			append(&buf, &len, &cap, " ext=auto:%s", m->ext_host_path ? m->ext_host_path : "?");
		if (m->mi->shared_id)
			append(&buf, &len, &cap, " shared:%u", m->mi->shared_id);
		if (m->mi->master_id)
			append(&buf, &len, &cap, " master:%u%s", m->mi->master_id,
			       m->master_outside ? "(outside)" : "");
		if (m->mi->unbindable)
			append(&buf, &len, &cap, " unbindable");
		if (m->overmount)
			append(&buf, &len, &cap, " overmounted-by=%u", m->overmount->mi->mnt_id);
		if (m->hidden)
			append(&buf, &len, &cap, " hidden");
		if (m->deleted)
			append(&buf, &len, &cap, " deleted");
		append(&buf, &len, &cap, "\n");
	}
	free(depth);
	return buf;
}

/*
 * Decide: for every mount of the image, how it is made on restore (from
 * --root, a new virtual fs, a bind of another mount, or a host path), which
 * host path each external name maps to, and an order in which every mount
 * comes after its parent and after the mount it is bound from. Pure except
 * for stat() of host paths when asked to check them.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>

#define LOG_PREFIX "mnt: "
#include "mount/fstype.h"
#include "util/log.h"
#include "mount/mount-external.h"
#include "mount/mount-restore.h"
#include "util/syscalls.h"
#include "util/util.h"

static bool is_autodetected(const MntEntry *e)
{
	/* older versions of ours wrote CRIU:AUTODETECTED */
	return e->ext_key && (!strcmp(e->ext_key, AUTODETECTED_MOUNT) || !strcmp(e->ext_key, "CRIU:AUTODETECTED"));
}

/* The external name of an entry, or NULL: ext_key, or (very old images)
 * the name in root with ext_mount set. `sub` gets the path below it. */
static const char *external_name(const MntEntry *e, const char **sub)
{
	const char *name = NULL;
	size_t n;

	*sub = "";
	if (e->ext_key && *e->ext_key && !is_autodetected(e))
		name = e->ext_key;
	else if (e->has_ext_mount && e->ext_mount)
		name = e->root;
	if (!name)
		return NULL;
	n = strlen(name);
	if (!strncmp(e->root, name, n) && e->root[n] == '/')
		*sub = e->root + n + 1;
	return name;
}

static void index_sources(struct mount_plan *p)
{
	const char *sub;

	p->keys = xzalloc(p->nr * sizeof(char *));
	for (size_t i = 0; i < p->nr; i++) {
		struct rmount *m = &p->mounts[i];
		char *key;

		if (external_name(m->e, &sub))
			continue; /* its root is a name, not a path */
		key = xmalloc(strlen(m->e->root) + 16);
		sprintf(key, "%x:%s", m->e->root_dev, m->e->root);
		if (hmap_get_str(&p->by_sb_root, key)) {
			free(key);
			continue;
		}
		hmap_put_str(&p->by_sb_root, key, m);
		p->keys[p->nr_keys++] = key;
	}
}

static struct rmount *find_source(struct mount_plan *p, struct rmount *m)
{
	const char *root = m->e->root;
	size_t len = strlen(root);
	_cleanup_free_ char *buf = xmalloc(len + 16);
	int n = snprintf(buf, 16, "%x:", m->e->root_dev);

	for (;;) {
		memcpy(buf + n, root, len);
		buf[n + len] = '\0';
		struct rmount *s = hmap_get_str(&p->by_sb_root, buf);
		if (s && s != m) {
			m->source_rel = xstrdup(path_below(root, s->e->root));
			return s;
		}
		if (len <= 1)
			return NULL;
		len = path_parent_len(root, len);
	}
}

/* --external mappings by name: name -> index + 1 of its first mapping. Every
 * mapping of a name counts as used (a name mapped twice is reported as such,
 * not as unused). */
struct mappings {
	const struct options *o;
	struct hmap by_name;
	bool *used;
};

static void mappings_init(struct mappings *mp, const struct options *o)
{
	mp->o = o;
	hmap_init(&mp->by_name);
	mp->used = xzalloc((o->nr_ext_mounts + 1) * sizeof(bool));
	for (size_t i = o->nr_ext_mounts; i-- > 0;)
		hmap_put_str(&mp->by_name, o->ext_mounts[i].key, (void *)(uintptr_t)(i + 1));
}

static const struct ext_mount_opt *find_mapping(struct mappings *mp, const char *name)
{
	uintptr_t idx = (uintptr_t)hmap_get_str(&mp->by_name, name);

	if (!idx)
		return NULL;
	mp->used[idx - 1] = true;
	return &mp->o->ext_mounts[idx - 1];
}

static int plan_external(struct rmount *m, const struct options *o, struct mappings *mp)
{
	const char *sub, *name = external_name(m->e, &sub);
	const struct ext_mount_opt *map;

	m->kind = RM_EXTERNAL;
	if (!name) {
		/* autodetected: the image holds the host path, which we only
		 * trust when the user allows autodetected mounts on restore */
		if (!o->ext_mounts_auto) {
			pr_err("%u:%s was autodetected at dump (host path %s); restore binds it only when allowed\n",
			       m->e->mnt_id, m->mountpoint, m->e->source);
			pr_hint("add --external mnt[] (or --ext-mount-map auto) to let restore bind it from that host path\n");
			return 1;
		}
		if (!m->e->source || m->e->source[0] != '/') {
			pr_err("%u:%s: autodetected mount without a host path in the image\n", m->e->mnt_id,
			       m->mountpoint);
			return 1;
		}
		m->host_path = xstrdup(m->e->source);
		return 0;
	}
	m->ext_name = name;
	map = find_mapping(mp, name);
	if (!map) {
		pr_err("No mapping for %u:%s mountpoint (name '%s'): add --external mnt[%s]:<host path>\n",
		       m->e->mnt_id, m->mountpoint, name, name);
		return 1;
	}
	if (*sub && !relpath_is_clean(sub)) {
		pr_err("image entry %u:%s: '%s' is not a clean path below the name '%s'\n", m->e->mnt_id, m->mountpoint,
		       m->e->root, name);
		pr_hint("the image is damaged or crafted; restore only images written by criu dump\n");
		return 1;
	}
	m->host_base = xstrdup(map->val);
	m->host_sub = sub;
	m->host_path = xmalloc(strlen(map->val) + strlen(sub) + 2);
	sprintf(m->host_path, "%s%s%s", map->val, *sub ? "/" : "", sub);
	return 0;
}

int rmount_open_host(const struct rmount *m)
{
	_cleanup_close_ int base = -1;
	int fd;

	if (!m->ext_name) {
		fd = sys_openat2(AT_FDCWD, m->host_path, O_PATH | O_CLOEXEC, RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
		return fd < 0 ? -errno : fd;
	}
	/* the mapped path is the user's own: symlinks in it are theirs to use */
	base = open(m->host_base, O_PATH | O_CLOEXEC);
	if (base < 0 || !*m->host_sub)
		return base < 0 ? -errno : steal_fd(&base);
	fd = sys_openat2(base, m->host_sub, O_PATH | O_CLOEXEC,
			 RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
	return fd < 0 ? -errno : fd;
}

static int check_host_path(struct rmount *m)
{
	struct stat st;
	_cleanup_close_ int fd = rmount_open_host(m);

	if (fd < 0 || fstat(fd, &st)) {
		int err = fd < 0 ? -fd : errno;

		pr_err("%u:%s: host path %s%s%s%s %s: %s\n", m->e->mnt_id, m->mountpoint, m->host_path,
		       m->ext_name ? " (for '" : "", m->ext_name ? m->ext_name : "", m->ext_name ? "')" : "",
		       err == ELOOP ? "goes through a symlink" : "does not exist", strerror(err));
		pr_hint("%s\n", m->ext_name ? "map the name to an existing path with --external mnt[NAME]:PATH"
					    : "the host path recorded at dump is gone; re-create it or re-dump");
		return 1;
	}
	m->host_is_dir = S_ISDIR(st.st_mode);
	return 0;
}

static int classify(struct mount_plan *p, const struct options *o, bool check_host)
{
	struct mappings mp;
	int errors = 0;

	mappings_init(&mp, o);

	index_sources(p);
	for (size_t i = 0; i < p->nr; i++) {
		struct rmount *m = &p->mounts[i];
		const char *sub;

		if (m == p->root) {
			m->kind = RM_ROOT;
			continue;
		}
		if (is_autodetected(m->e) || external_name(m->e, &sub)) {
			int err = plan_external(m, o, &mp);
			if (!err && check_host)
				err = check_host_path(m);
			errors += err;
			continue;
		}
		m->source = find_source(p, m);
		if (m->source) {
			m->kind = RM_BIND;
			continue;
		}
		if (m->fs->fresh && !strcmp(m->e->root, "/")) {
			m->kind = RM_FRESH;
			continue;
		}
		pr_err("image entry %u:%s (%s, root %s) can't be restored: it is neither external, nor a bind of another mount, nor a virtual filesystem\n",
		       m->e->mnt_id, m->mountpoint, m->e->fsname ? m->e->fsname : m->fs->name, m->e->root);
		errors++;
	}
	for (size_t i = 0; i < o->nr_ext_mounts; i++) {
		const struct ext_mount_opt *e = &o->ext_mounts[i];
		uintptr_t first = (uintptr_t)hmap_get_str(&mp.by_name, e->key);

		if (first != i + 1 && o->ext_mount_keys_optional && !strcmp(o->ext_mounts[first - 1].val, e->val))
			continue; /* a runtime repeating the same mapping */
		if (first != i + 1) {
			/* a later mapping of a name already mapped */
			pr_err("name '%s' is mapped twice: '%s' and '%s'\n", e->key, o->ext_mounts[first - 1].spelling,
			       e->spelling);
			errors++;
			continue;
		}
		if (mp.used[i])
			continue;
		if (o->ext_mount_keys_optional) {
			pr_info("'%s': no mount in the image is named '%s'; the runtime's mapping is not used\n",
				e->spelling, e->key);
			continue;
		}
		pr_err("'%s': no mount in the image is named '%s'\n", e->spelling, e->key);
		pr_hint("on restore the key is the name given at dump (mnt[/bar]:NAME); `criu show -f mountpoints-N.img -F mountpoint,ext_key` lists them\n");
		errors++;
	}
	free(mp.used);
	hmap_free(&mp.by_name);
	return errors;
}

static void push(struct rmount **stack, size_t *sp, struct rmount *m)
{
	stack[(*sp)++] = m;
}

/*
 * Depth-first, so that everything below a mount is made before a mount that
 * covers it (an overmount is pushed first among its siblings, popped last);
 * a bind waits for its source.
 */
static int order_plan(struct mount_plan *p)
{
	struct rmount **stack = xmalloc((p->nr + 1) * sizeof(*stack));
	struct rmount **kids = xmalloc((p->nr + 1) * sizeof(*kids));
	size_t sp = 0, n = 0;

	for (size_t i = 0; i < p->nr; i++) {
		struct rmount *m = &p->mounts[i];

		m->pending = m->parent ? 1 : 0;
		if (m->source && m->source != m->parent) {
			m->pending++;
			m->next_binder = m->source->first_binder;
			m->source->first_binder = m;
		}
	}
	p->order = xmalloc((p->nr + 1) * sizeof(*p->order));
	/* the roots of the namespaces not bound from another mount, the root
	 * task's on top: each namespace is begun with its root */
	for (size_t k = p->nr_ns; k-- > 0;)
		if (p->ns[k].root->pending == 0)
			push(stack, &sp, p->ns[k].root);
	while (sp) {
		struct rmount *m = stack[--sp], *over = NULL;
		size_t nk = 0;

		p->order[n++] = m;
		for (struct rmount *b = m->first_binder; b; b = b->next_binder)
			if (--b->pending == 0)
				push(stack, &sp, b);
		for (struct rmount *c = m->first_child; c; c = c->next_sibling) {
			if (!strcmp(c->mountpoint, m->mountpoint) && !over)
				over = c;
			else
				kids[nk++] = c;
		}
		if (over && --over->pending == 0)
			push(stack, &sp, over);
		while (nk--)
			if (--kids[nk]->pending == 0)
				push(stack, &sp, kids[nk]);
	}
	free(stack);
	free(kids);
	if (n != p->nr) {
		pr_err("image is inconsistent: %zu mounts can't be ordered (their sources form a loop)\n", p->nr - n);
		return 1;
	}
	return 0;
}

/*
 * Which peer groups are the host's (dump says so in internal_sharing; for
 * images without it, a group of one external mount is taken to be the
 * host's), which masters are outside the image, and which member leads each
 * internal group (the widest root: MOVE_MOUNT_SET_GROUP needs the source's
 * root to contain the target's).
 */
static void decide_propagation(struct mount_plan *p)
{
	struct hmap leaders;

	hmap_init(&leaders);
	for (size_t i = 0; i < p->nr; i++) {
		struct rmount *m = &p->mounts[i];
		uintptr_t size;

		if (m->e->has_master_id && m->e->master_id)
			m->master_outside = !hmap_get_int(&p->group_sizes, m->e->master_id);
		if (!m->e->has_shared_id || !m->e->shared_id)
			continue;
		size = (uintptr_t)hmap_get_int(&p->group_sizes, m->e->shared_id);
		if (m->e->has_internal_sharing)
			m->host_group = !m->e->internal_sharing;
		else
			m->host_group = size == 1 && m->kind == RM_EXTERNAL;
		if (m->host_group)
			continue;
		struct rmount *cur = hmap_get_int(&leaders, m->e->shared_id);
		if (!cur || strlen(m->e->root) < strlen(cur->e->root))
			hmap_put_int(&leaders, m->e->shared_id, m);
	}
	for (size_t i = 0; i < p->nr; i++) {
		struct rmount *m = &p->mounts[i];

		if (m->e->has_shared_id && m->e->shared_id && !m->host_group)
			m->group_leader = hmap_get_int(&leaders, m->e->shared_id) == m;
	}
	hmap_free(&leaders);
}

int mount_plan_decide(struct mount_plan *p, const struct options *o, bool check_host)
{
	int errors = classify(p, o, check_host);

	if (!errors)
		errors = order_plan(p);
	for (size_t i = 0; i < p->nr; i++) {
		struct rmount *m = &p->mounts[i];
		uintptr_t n;

		if (m->e->has_shared_id && m->e->shared_id) {
			n = (uintptr_t)hmap_get_int(&p->group_sizes, m->e->shared_id);
			hmap_put_int(&p->group_sizes, m->e->shared_id, (void *)(n + 1));
		}
		m->keep_fd = (m->e->has_shared_id && m->e->shared_id) || (m->e->has_master_id && m->e->master_id) ||
			     (m->e->flags & MS_UNBINDABLE);
	}
	decide_propagation(p);
	/* a source is cloned after it is attached, by binders that may come
	 * long after it in the order */
	for (size_t i = 0; i < p->nr; i++)
		if (p->mounts[i].source)
			p->mounts[i].source->keep_fd = true;
	return errors;
}

static const char *kind_name(enum rmount_kind k)
{
	static const char *names[] = { "root", "fresh", "bind", "external" };
	return names[k];
}

char *mount_plan_format(const struct mount_plan *p)
{
	size_t cap = 256 + p->nr * 128, len = 0;
	char *buf = xmalloc(cap);

	buf[0] = '\0';
	for (size_t i = 0; p->order && i < p->nr; i++) {
		const struct rmount *m = p->order[i];
		char line[8192];
		int n = p->nr_ns > 1 ? snprintf(line, sizeof(line), "ns%u ", p->ns[m->ns].id) : 0;

		n += snprintf(line + n, sizeof(line) - n, "%u %s %s", m->e->mnt_id, m->mountpoint, kind_name(m->kind));

		if (m->kind == RM_BIND && m->source->ns != m->ns)
			n += snprintf(line + n, sizeof(line) - n, " from=ns%u:%u rel=%s", p->ns[m->source->ns].id,
				      m->source->e->mnt_id, *m->source_rel ? m->source_rel : ".");
		else if (m->kind == RM_BIND)
			n += snprintf(line + n, sizeof(line) - n, " from=%u rel=%s", m->source->e->mnt_id,
				      *m->source_rel ? m->source_rel : ".");
		if (m->kind == RM_EXTERNAL)
			n += snprintf(line + n, sizeof(line) - n, " host=%s%s", m->host_path,
				      m->ext_name ? "" : " (autodetected)");
		if (m->kind == RM_FRESH)
			n += snprintf(line + n, sizeof(line) - n, " fs=%s", m->fs->name);
		if (m->e->has_shared_id && m->e->shared_id)
			n += snprintf(line + n, sizeof(line) - n, " shared=%u%s", m->e->shared_id,
				      m->host_group	? "(host)"
				      : m->group_leader ? "(leader)"
							: "");
		if (m->e->has_master_id && m->e->master_id)
			n += snprintf(line + n, sizeof(line) - n, " master=%u%s", m->e->master_id,
				      m->master_outside ? "(outside)" : "");
		n += snprintf(line + n, sizeof(line) - n, "\n");
		if (len + n + 1 > cap) {
			cap = (cap + n) * 2;
			buf = xrealloc(buf, cap);
		}
		memcpy(buf + len, line, n + 1);
		len += n;
	}
	return buf;
}

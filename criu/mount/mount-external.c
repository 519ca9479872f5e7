/*
 * External mounts: which mounts of the namespace have a root outside it, and
 * what the user said to do about each. Pure decisions over the mount tree.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#define LOG_PREFIX "mnt: "
#include "mount/fstype.h"
#include "util/log.h"
#include "mount/mount-external.h"
#include "util/util.h"

bool ext_key_normalize(const char *key, char *out, size_t outlen)
{
	size_t n = strlen(key);

	if (key[0] != '/' || n >= outlen)
		return false;
	while (n > 1 && key[n - 1] == '/')
		n--;
	memcpy(out, key, n);
	out[n] = '\0';
	return true;
}

bool ext_key_parse(const char *key, pid_t *vpid, char *out, size_t outlen)
{
	const char *p = key, *digits;
	unsigned long v = 0;

	*vpid = 0;
	if (strncmp(p, "/proc/", 6))
		return ext_key_normalize(key, out, outlen);
	digits = p += 6;
	for (; *p >= '0' && *p <= '9'; p++)
		v = v > INT_MAX ? v : v * 10 + (unsigned long)(*p - '0');
	if (p == digits || strncmp(p, "/root", 5) || (p[5] != '\0' && p[5] != '/'))
		return ext_key_normalize(key, out, outlen); /* a path that only starts like one */
	if (v == 0 || v > INT_MAX || *digits == '0')
		return false;
	*vpid = (pid_t)v;
	p += 5;
	return ext_key_normalize(*p ? p : "/", out, outlen);
}

/* " in the mount namespace of process V" for mounts of a nested namespace. */
static const char *where(const struct mount *m)
{
	static char buf[64];

	if (m->tree->ns_id <= 1)
		return "";
	snprintf(buf, sizeof(buf), " (mount namespace %u, of process %d)", m->tree->ns_id, (int)m->tree->ns_vpid);
	return buf;
}

/* How a mount is named in a key: "/mp", or "/proc/V/root/mp" in a nested namespace. */
static void key_of(const struct mount *m, char *out, size_t len)
{
	const char *mp = m->mi->mountpoint;

	if (m->tree->ns_id <= 1)
		snprintf(out, len, "%s", mp);
	else
		snprintf(out, len, "/proc/%d/root%s", (int)m->tree->ns_vpid, strcmp(mp, "/") ? mp : "");
}

/*
 * The mount whose root contains ours, on the same superblock, so that ours can
 * be bind-mounted from it on restore: the first mount in preorder with the very
 * same root, else the nearest one whose root is an ancestor directory of ours.
 * Chains end: an ancestor root is strictly shorter, so there are no cycles.
 */
static struct mount *find_bind_source(const struct mount_forest *f, struct mount *m)
{
	const char *root = m->mi->root;
	size_t len = strlen(root);
	struct mount *s = mount_forest_by_sb_root(f, m->s_dev, root, len);

	if (s && s != m)
		return s;
	while (len > 1) {
		len = path_parent_len(root, len);
		s = mount_forest_by_sb_root(f, m->s_dev, root, len);
		if (s && s != m)
			return s;
	}
	return NULL;
}

/* Where the root of `m` is found in criu's own namespace, or NULL. */
static char *host_path_of(const struct mount_tree *host, const struct mount *m)
{
	const char *root = m->mi->root;
	size_t len = strlen(root);

	for (;;) {
		struct mount *h = mount_by_sb_root(host, m->s_dev, root, len);

		if (h && !h->hidden) {
			const char *rest = root + len;
			const char *mp = h->mi->mountpoint;
			size_t need = strlen(mp) + strlen(rest) + 2;
			char *p = xmalloc(need);

			while (*rest == '/')
				rest++;
			if (!*rest)
				snprintf(p, need, "%s", mp);
			else
				snprintf(p, need, "%s%s%s", mp, strcmp(mp, "/") ? "/" : "", rest);
			return p;
		}
		if (len <= 1)
			return NULL;
		len = path_parent_len(root, len);
	}
}

static void hint_unresolved(const struct mount *m)
{
	char key[PATH_MAX + 32];

	key_of(m, key, sizeof(key));
	pr_hint("its root %s (on device %u:%u, %s) is outside the container; to dump it add\n", m->mi->root,
		KDEV_MAJOR(m->s_dev), KDEV_MINOR(m->s_dev), m->mi->fstype);
	pr_hint("  --external mnt[%s]:NAME   (restore then takes --external mnt[NAME]:HOSTPATH)\n", key);
	pr_hint("or --external mnt[] to detect external bind mounts automatically\n");
}

/* The tree a key names: the root's, or that of process <vpid>'s namespace; NULL after saying why. */
static struct mount_tree *key_tree(const struct mount_forest *f, const struct ext_mount_opt *e, pid_t vpid)
{
	uint32_t ns;

	if (!vpid)
		return &f->trees[0];
	ns = f->ns_by_vpid ? (uint32_t)(uintptr_t)hmap_get_int(f->ns_by_vpid, (uint64_t)vpid) : 0;
	if (ns && ns <= f->nr)
		return &f->trees[ns - 1];
	pr_err("'%s': there is no process %d in the dumped tree\n", e->spelling, (int)vpid);
	pr_hint("in mnt[/proc/PID/root/MOUNTPOINT], PID is a process of the tree as the container numbers it (the last "
		"field of NSpid in /proc/PID/status), one that lives in the mount namespace to name\n");
	return NULL;
}

/* An external mount found by autodetection: its host path; 1 if there is none. */
static int make_auto_external(struct mount *m, const struct mount_tree *host)
{
	char key[PATH_MAX + 32];

	m->kind = MNT_EXTERNAL;
	m->ext_auto = true;
	m->ext_host_path = host ? host_path_of(host, m) : NULL;
	if (m->ext_host_path)
		return 0;
	pr_err("%u:%s%s doesn't have a proper root mount, and its root %s on device %u:%u is not visible on the host "
	       "either\n",
	       m->mi->mnt_id, m->mi->mountpoint, where(m), m->mi->root, KDEV_MAJOR(m->s_dev), KDEV_MINOR(m->s_dev));
	key_of(m, key, sizeof(key));
	pr_hint("autodetection needs the same filesystem mounted in criu's namespace; map it explicitly with "
		"--external mnt[%s]:NAME\n",
		key);
	return 1;
}

/* A key that names no mount of namespace `t`: is there one in another? */
static void hint_other_ns(const struct mount_forest *f, const struct mount_tree *t, const char *mp)
{
	for (size_t i = 0; i < f->nr; i++) {
		const struct mount *m = &f->trees[i] == t ? NULL : mount_by_mountpoint(&f->trees[i], mp);
		char key[PATH_MAX + 32];

		if (!m)
			continue;
		key_of(m, key, sizeof(key));
		pr_hint("%s is a mount of %s: name it with --external mnt[%s]:NAME\n", mp,
			m->tree->ns_id <= 1 ? "the root's mount namespace" : "another mount namespace", key);
		return;
	}
	pr_hint("the key is a mountpoint as seen inside the container (as in /proc/PID/mountinfo, field 5); check for "
		"a typo\n");
}

/* Explicit keys: each must be absolute, unique, and match a mount. */
static int match_explicit(const struct mount_forest *f, const struct options *o)
{
	struct hmap seen; /* "ns:mountpoint" -> the option */
	int errors = 0;
	char(*keys)[PATH_MAX + 16] = xmalloc((o->nr_ext_mounts + 1) * sizeof(*keys));

	hmap_init(&seen);
	for (size_t i = 0; i < o->nr_ext_mounts; i++) {
		const struct ext_mount_opt *e = &o->ext_mounts[i];
		const struct ext_mount_opt *dup;
		char mp[PATH_MAX];
		struct mount_tree *t;
		struct mount *m;
		pid_t vpid;

		if (!ext_key_parse(e->key, &vpid, mp, sizeof(mp))) {
			pr_err("external mount key '%s' (from '%s') is not an absolute path\n", e->key, e->spelling);
			pr_hint("on dump the key is the mountpoint as seen inside the container, e.g. --external "
				"mnt[/bar]:barmount, or mnt[/proc/PID/root/bar]:NAME for the mount namespace of the "
				"container's process PID\n");
			errors++;
			continue;
		}
		t = key_tree(f, e, vpid);
		if (!t) {
			errors++;
			continue;
		}
		snprintf(keys[i], sizeof(keys[i]), "%u:%s", t->ns_id, mp);
		dup = hmap_put_str(&seen, keys[i], (void *)e);
		if (dup) {
			pr_err("mountpoint %s is given twice: '%s' and '%s'\n", mp, dup->spelling, e->spelling);
			pr_hint("keep one of them\n");
			errors++;
			continue;
		}
		m = mount_by_mountpoint(t, mp);
		if (!m && o->ext_mount_keys_optional) {
			pr_info("'%s': no mount at %s in the container; the runtime's key is not used\n", e->spelling,
				mp);
			continue;
		}
		if (!m) {
			pr_err("'%s': no mount at %s in the container%s\n", e->spelling, mp,
			       vpid ? " as that process sees it" : "");
			hint_other_ns(f, t, mp);
			errors++;
			continue;
		}
		if (m == f->trees[0].root) {
			pr_err("'%s': %s is the container's root mount, which restore takes from --root\n", e->spelling,
			       mp);
			pr_hint("remove this option; pass --root ROOTFS to restore instead\n");
			errors++;
			continue;
		}
		m->kind = MNT_EXTERNAL;
		m->ext_key = e->val;
	}
	hmap_free(&seen);
	free(keys);
	return errors;
}

/* Propagation that ties an external mount to the host needs the user's consent. */
static int check_propagation(const struct mount_tree *t, const struct options *o)
{
	int errors = 0;

	for_each_mount(t, m) {
		bool explicit_ext = m->kind == MNT_EXTERNAL && !m->ext_auto;

		if (explicit_ext)
			continue; /* the user named it: its host mount brings its propagation */
		if (m->kind == MNT_EXTERNAL && m->shared_outside && !o->enable_external_sharing) {
			pr_err("%u:%s%s is an external mount shared with the host (shared:%u)\n", m->mi->mnt_id,
			       m->mi->mountpoint, where(m), m->mi->shared_id);
			pr_hint("add --external mnt[]:s (or --enable-external-sharing) to dump it as shared\n");
			errors++;
		}
		if (m->master_outside && !o->enable_external_masters) {
			pr_err("%u:%s%s is a slave of mount group %u, which is outside the container\n", m->mi->mnt_id,
			       m->mi->mountpoint, where(m), m->mi->master_id);
			pr_hint("add --enable-external-masters (or --external mnt[]:m, which also turns on autodetection) to dump it as a slave of the host mount\n");
			errors++;
		}
	}
	return errors;
}

static int classify_tree(const struct mount_forest *f, struct mount_tree *t, const struct options *o,
			 const struct mount_tree *host)
{
	int errors = 0;

	/* A peer group with members on the host propagates to and from it. Without
	 * the host's mountinfo (tests), any group of an external mount counts. */
	for_each_mount(t, m) {
		if (m->mi->shared_id)
			m->shared_outside = host ? hmap_get_int(&host->by_peer_group, m->mi->shared_id) != NULL : true;
	}

	for_each_mount(t, m) {
		struct mount *src;

		if (m == f->trees[0].root) {
			m->kind = MNT_ROOT; /* a nested namespace's root is a mount like others */
			continue;
		}
		if (m->root_deleted) {
			pr_err("%u:%s%s: the directory it was bound from (%s) has been deleted, so it can't be "
			       "restored\n",
			       m->mi->mnt_id, m->mi->mountpoint, where(m), m->mi->root);
			pr_hint("unmount it in the container, or re-create the mount from an existing directory\n");
			errors++;
			continue;
		}
		if (m->kind == MNT_EXTERNAL)
			continue; /* explicitly mapped */
		src = find_bind_source(f, m);
		if (src) {
			m->kind = MNT_BIND;
			m->bind_source = src;
			continue;
		}
		if (m->fs->fresh && !strcmp(m->mi->root, "/")) {
			m->kind = MNT_FRESH;
			continue;
		}
		if (!o->ext_mounts_auto) {
			pr_err("%u:%s%s doesn't have a proper root mount\n", m->mi->mnt_id, m->mi->mountpoint,
			       where(m));
			hint_unresolved(m);
			errors++;
			continue;
		}
		errors += make_auto_external(m, host);
	}
	return errors;
}

/*
 * A bind, made from another namespace, of what autodetection found on the
 * host: written as an autodetected mount of its own (its own host path),
 * so restore clones it from the host as it does the one it copies.
 */
static int autodetect_cross_ns_binds(const struct mount_forest *f, const struct mount_tree *host)
{
	int errors = 0;

	for (size_t i = 1; i < f->nr; i++) {
		for_each_mount(&f->trees[i], m)
		{
			const struct mount *origin = m;

			if (m->kind != MNT_BIND || m->bind_source->tree == m->tree)
				continue;
			while (origin->kind == MNT_BIND && origin->bind_source)
				origin = origin->bind_source;
			if (origin->kind == MNT_EXTERNAL && origin->ext_auto) {
				m->bind_source = NULL;
				errors += make_auto_external(m, host);
			}
		}
	}
	return errors;
}

int mount_classify_forest(struct mount_forest *f, const struct options *o, const struct mount_tree *host)
{
	int errors = match_explicit(f, o);

	for (size_t i = 0; i < f->nr; i++)
		errors += classify_tree(f, &f->trees[i], o, host);
	errors += autodetect_cross_ns_binds(f, host);
	for (size_t i = 0; i < f->nr; i++)
		errors += check_propagation(&f->trees[i], o);
	return errors;
}

int mount_classify(struct mount_tree *t, const struct options *o, const struct mount_tree *host)
{
	struct mount_forest f = {};
	int errors;

	mount_forest_index(&f, t, 1);
	errors = mount_classify_forest(&f, o, host);
	mount_forest_fini(&f);
	return errors;
}

const struct mount *mount_named_external_origin(const struct mount *m)
{
	while (m->kind == MNT_BIND && m->bind_source)
		m = m->bind_source;
	return m->kind == MNT_EXTERNAL && !m->ext_auto ? m : NULL;
}

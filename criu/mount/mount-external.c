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

/*
 * The mount whose root contains ours, on the same superblock, so that ours can
 * be bind-mounted from it on restore: the first mount in preorder with the very
 * same root, else the nearest one whose root is an ancestor directory of ours.
 * Chains end: an ancestor root is strictly shorter, so there are no cycles.
 */
static struct mount *find_bind_source(const struct mount_tree *t, struct mount *m)
{
	const char *root = m->mi->root;
	size_t len = strlen(root);
	struct mount *s = mount_by_sb_root(t, m->s_dev, root, len);

	if (s && s != m)
		return s;
	while (len > 1) {
		len = path_parent_len(root, len);
		s = mount_by_sb_root(t, m->s_dev, root, len);
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
	pr_hint("its root %s (on device %u:%u, %s) is outside the container; to dump it add\n", m->mi->root,
		KDEV_MAJOR(m->s_dev), KDEV_MINOR(m->s_dev), m->mi->fstype);
	pr_hint("  --external mnt[%s]:NAME   (restore then takes --external mnt[NAME]:HOSTPATH)\n", m->mi->mountpoint);
	pr_hint("or --external mnt[] to detect external bind mounts automatically\n");
}

/* Explicit keys: each must be absolute, unique, and match a mount. */
static int match_explicit(struct mount_tree *t, const struct options *o)
{
	struct hmap seen;
	int errors = 0;
	char (*keys)[PATH_MAX] = xmalloc((o->nr_ext_mounts + 1) * sizeof(*keys));

	hmap_init(&seen);
	for (size_t i = 0; i < o->nr_ext_mounts; i++) {
		const struct ext_mount_opt *e = &o->ext_mounts[i];
		const struct ext_mount_opt *dup;
		struct mount *m;

		if (!ext_key_normalize(e->key, keys[i], PATH_MAX)) {
			pr_err("external mount key '%s' (from '%s') is not an absolute path\n", e->key, e->spelling);
			pr_hint("on dump the key is the mountpoint as seen inside the container, e.g. --external mnt[/bar]:barmount\n");
			errors++;
			continue;
		}
		dup = hmap_put_str(&seen, keys[i], (void *)e);
		if (dup) {
			pr_err("mountpoint %s is given twice: '%s' and '%s'\n", keys[i], dup->spelling, e->spelling);
			pr_hint("keep one of them\n");
			errors++;
			continue;
		}
		m = mount_by_mountpoint(t, keys[i]);
		if (!m && o->ext_mount_keys_optional) {
			pr_info("'%s': no mount at %s in the container; the runtime's key is not used\n", e->spelling,
				keys[i]);
			continue;
		}
		if (!m) {
			pr_err("'%s': no mount at %s in the container\n", e->spelling, keys[i]);
			pr_hint("the key is a mountpoint as seen inside the container (as in /proc/PID/mountinfo, field 5); check for a typo\n");
			errors++;
			continue;
		}
		if (m == t->root) {
			pr_err("'%s': %s is the container's root mount, which restore takes from --root\n", e->spelling,
			       keys[i]);
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
			pr_err("%u:%s is an external mount shared with the host (shared:%u)\n", m->mi->mnt_id,
			       m->mi->mountpoint, m->mi->shared_id);
			pr_hint("add --external mnt[]:s (or --enable-external-sharing) to dump it as shared\n");
			errors++;
		}
		if (m->master_outside && !o->enable_external_masters) {
			pr_err("%u:%s is a slave of mount group %u, which is outside the container\n", m->mi->mnt_id,
			       m->mi->mountpoint, m->mi->master_id);
			pr_hint("add --enable-external-masters (or --external mnt[]:m, which also turns on autodetection) to dump it as a slave of the host mount\n");
			errors++;
		}
	}
	return errors;
}

int mount_classify(struct mount_tree *t, const struct options *o, const struct mount_tree *host)
{
	int errors = match_explicit(t, o);

	/* A peer group with members on the host propagates to and from it. Without
	 * the host's mountinfo (tests), any group of an external mount counts. */
	for_each_mount(t, m) {
		if (m->mi->shared_id)
			m->shared_outside = host ? hmap_get_int(&host->by_peer_group, m->mi->shared_id) != NULL : true;
	}

	for_each_mount(t, m) {
		struct mount *src;

		if (m == t->root) {
			m->kind = MNT_ROOT;
			continue;
		}
		if (m->root_deleted) {
			pr_err("%u:%s: the directory it was bound from (%s) has been deleted, so it can't be restored\n",
			       m->mi->mnt_id, m->mi->mountpoint, m->mi->root);
			pr_hint("unmount it in the container, or re-create the mount from an existing directory\n");
			errors++;
			continue;
		}
		if (m->kind == MNT_EXTERNAL)
			continue; /* explicitly mapped */
		src = find_bind_source(t, m);
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
			pr_err("%u:%s doesn't have a proper root mount\n", m->mi->mnt_id, m->mi->mountpoint);
			hint_unresolved(m);
			errors++;
			continue;
		}
		m->kind = MNT_EXTERNAL;
		m->ext_auto = true;
		m->ext_host_path = host ? host_path_of(host, m) : NULL;
		if (!m->ext_host_path) {
			pr_err("%u:%s doesn't have a proper root mount, and its root %s on device %u:%u is not visible on the host either\n",
			       m->mi->mnt_id, m->mi->mountpoint, m->mi->root, KDEV_MAJOR(m->s_dev),
			       KDEV_MINOR(m->s_dev));
			pr_hint("autodetection needs the same filesystem mounted in criu's namespace; map it explicitly with --external mnt[%s]:NAME\n",
				m->mi->mountpoint);
			errors++;
		}
	}
	return errors + check_propagation(t, o);
}

const struct mount *mount_named_external_origin(const struct mount *m)
{
	while (m->kind == MNT_BIND && m->bind_source)
		m = m->bind_source;
	return m->kind == MNT_EXTERNAL && !m->ext_auto ? m : NULL;
}

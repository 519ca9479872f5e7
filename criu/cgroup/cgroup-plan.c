/*
 * Cgroups, the pure part (cgroup/cgroup.h): /proc/PID/cgroup text, cgroup
 * namespace prefixes, --cgroup-root and --manage-cgroups decisions, and
 * re-rooting an image's paths. No syscalls.
 */
#define LOG_PREFIX "cgroup: "

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup/cgroup.h"
#include "options.h"
#include "util/log.h"
#include "util/util.h"

static const char *const mode_names[] = {
	[CG_MODE_IGNORE] = "ignore", [CG_MODE_NONE] = "none", [CG_MODE_PROPS] = "props",
	[CG_MODE_SOFT] = "soft",     [CG_MODE_FULL] = "full", [CG_MODE_STRICT] = "strict",
};

int cg_mode_parse(const char *s, enum cg_mode *mode)
{
	for (size_t i = 0; i < ARRAY_SIZE(mode_names); i++)
		if (!strcmp(s, mode_names[i])) {
			*mode = (enum cg_mode)i;
			return 0;
		}
	return -1;
}

const char *cg_mode_name(enum cg_mode mode)
{
	return (unsigned)mode < ARRAY_SIZE(mode_names) ? mode_names[mode] : "?";
}

struct cg_dir_plan cg_dir_decide(enum cg_mode mode, bool exists)
{
	struct cg_dir_plan p = {0};

	switch (mode) {
	case CG_MODE_IGNORE:
		break;
	case CG_MODE_NONE:
		p.fail = !exists;
		break;
	case CG_MODE_PROPS:
		p.fail = !exists;
		p.props = p.perms = true;
		break;
	case CG_MODE_SOFT:
		p.make = !exists;
		p.props = !exists; /* only into the cgroups criu made */
		p.perms = true;
		break;
	case CG_MODE_FULL:
		p.make = !exists;
		p.props = p.perms = true;
		break;
	case CG_MODE_STRICT:
		p.fail = exists;
		p.make = p.props = p.perms = !exists;
		break;
	}
	return p;
}

static int member_cmp(const void *a, const void *b)
{
	return strcmp(((const struct cg_member *)a)->name, ((const struct cg_member *)b)->name);
}

void cg_members_free(struct cg_members *m)
{
	for (size_t i = 0; i < m->n; i++) {
		free(m->v[i].name);
		free(m->v[i].path);
	}
	free(m->v);
	m->v = NULL;
	m->n = 0;
}

/* "ID:NAME:PATH": NAME may be empty (v2); PATH is the rest of the line
 * (a cgroup's name may hold ':'). */
static int parse_line(const char *line, size_t len, struct cg_member *m)
{
	const char *c1 = memchr(line, ':', len), *c2;

	c2 = c1 ? memchr(c1 + 1, ':', len - (size_t)(c1 + 1 - line)) : NULL;
	if (!c1 || c1 == line || !c2 || c2 + 1 == line + len || c2[1] != '/') {
		pr_err("malformed /proc/PID/cgroup line \"%.*s\"\n", (int)len, line);
		return -EINVAL;
	}
	for (const char *p = line; p < c1; p++)
		if (*p < '0' || *p > '9') {
			pr_err("malformed /proc/PID/cgroup line \"%.*s\"\n", (int)len, line);
			return -EINVAL;
		}
	m->name = strndup(c1 + 1, (size_t)(c2 - c1 - 1));
	m->path = strndup(c2 + 1, (size_t)(line + len - c2 - 1));
	m->ns_prefix = 0;
	if (!m->name || !m->path)
		abort();
	return 0;
}

int cg_parse_members(const char *text, struct cg_members *out)
{
	size_t cap = 0;

	out->v = NULL;
	out->n = 0;
	for (const char *s = text; *s;) {
		const char *nl = strchr(s, '\n');
		size_t len = nl ? (size_t)(nl - s) : strlen(s);

		if (len) {
			if (out->n == cap) {
				cap = cap ? cap * 2 : 16;
				out->v = xrealloc(out->v, cap * sizeof(*out->v));
			}
			if (parse_line(s, len, &out->v[out->n])) {
				cg_members_free(out);
				return -EINVAL;
			}
			out->n++;
		}
		s += len + (nl ? 1 : 0);
	}
	qsort(out->v, out->n, sizeof(*out->v), member_cmp);
	for (size_t i = 1; i < out->n; i++)
		if (!strcmp(out->v[i].name, out->v[i - 1].name)) {
			pr_err("/proc/PID/cgroup names hierarchy \"%s\" twice\n", out->v[i].name);
			cg_members_free(out);
			return -EINVAL;
		}
	return 0;
}

const struct cg_member *cg_members_find(const struct cg_members *m, const char *name)
{
	for (size_t i = 0; i < m->n; i++)
		if (!strcmp(m->v[i].name, name))
			return &m->v[i];
	return NULL;
}

int cg_ns_prefix(const char *outer, const char *inner, uint32_t *prefix)
{
	size_t lo = strlen(outer), li;

	*prefix = 0;
	if (!strcmp(outer, inner))
		return 0;
	if (inner[0] != '/' || !strncmp(inner, "/..", 3)) {
		pr_err("cgroup %s is outside the tree's cgroup namespace (it sees it as %s)\n", outer, inner);
		return -EINVAL;
	}
	if (!strcmp(inner, "/")) {
		*prefix = (uint32_t)lo;
		return 0;
	}
	li = strlen(inner);
	if (li > lo || strcmp(outer + lo - li, inner)) {
		pr_err("cgroup %s as the tree's cgroup namespace sees it (%s) is not the end of its path\n", outer,
		       inner);
		return -EINVAL;
	}
	*prefix = (uint32_t)(lo - li);
	return 0;
}

bool cg_ctrl_matches(const char *opt, char *const *cnames, size_t n)
{
	bool any = false;

	if (!opt[0] || (n == 1 && !cnames[0][0]))
		return !opt[0] && n == 1 && !cnames[0][0];
	for (const char *s = opt; *s;) {
		size_t len = strcspn(s, ","), i;

		for (i = 0; i < n; i++)
			if (strlen(cnames[i]) == len && !strncmp(cnames[i], s, len))
				break;
		if (len && i == n)
			return false;
		any |= len > 0;
		s += len + (s[len] == ',');
	}
	return any;
}

bool cg_name_matches(const char *opt, const char *name)
{
	_cleanup_free_ char *copy = xstrdup(name);
	char *names[64], *save = NULL;
	size_t n = 0;

	if (!name[0])
		names[n++] = copy;
	for (char *t = strtok_r(copy, ",", &save); t && n < 64; t = strtok_r(NULL, ",", &save))
		names[n++] = t;
	return cg_ctrl_matches(opt, names, n);
}

const char *cg_root_for(const struct cg_root_map *map, const char *name)
{
	const char *dflt = NULL;

	for (size_t i = 0; i < map->n; i++) {
		if (!map->ctrls[i])
			dflt = map->roots[i];
		else if (cg_name_matches(map->ctrls[i], name))
			return map->roots[i];
	}
	return dflt;
}

void cg_root_map_of(const struct options *o, struct cg_root_map *map)
{
	const char **ctrls = xzalloc((o->nr_cg_roots + 1) * sizeof(char *));
	const char **roots = xzalloc((o->nr_cg_roots + 1) * sizeof(char *));

	for (size_t i = 0; i < o->nr_cg_roots; i++) {
		ctrls[i] = o->cg_roots[i].ctrl;
		roots[i] = o->cg_roots[i].path;
	}
	*map = (struct cg_root_map){.ctrls = ctrls, .roots = roots, .n = o->nr_cg_roots};
}

void cg_root_map_free(struct cg_root_map *map)
{
	free((void *)map->ctrls);
	free((void *)map->roots);
	map->ctrls = map->roots = NULL;
}

void add_cg_root(struct options *o, const char *ctrl, const char *path)
{
	o->cg_roots = xrealloc(o->cg_roots, (o->nr_cg_roots + 1) * sizeof(*o->cg_roots));
	o->cg_roots[o->nr_cg_roots].ctrl = ctrl ? xstrdup(ctrl) : NULL;
	o->cg_roots[o->nr_cg_roots++].path = xstrdup(path);
}

int parse_manage_cgroups(struct options *o, const char *arg)
{
	enum cg_mode m = CG_MODE_SOFT;

	if (arg && cg_mode_parse(arg, &m)) {
		pr_err("--manage-cgroups=%s: unknown mode\n", arg);
		pr_hint("the modes are none, props, soft (the default), full, strict and ignore\n");
		return -1;
	}
	o->manage_cgroups = (int)m;
	return 0;
}

int parse_cgroup_root(struct options *o, const char *arg)
{
	char *ctrl, *path;

	if (cg_root_parse(arg, &ctrl, &path))
		return -1;
	add_cg_root(o, ctrl, path);
	free(ctrl);
	free(path);
	return 0;
}

int cg_root_parse(const char *arg, char **ctrl, char **path)
{
	const char *colon = strchr(arg, ':');
	const char *p = colon ? colon + 1 : arg;

	if (p[0] != '/') {
		pr_err("--cgroup-root %s: the cgroup path must be absolute (\"[CONTROLLER:]/PATH\")\n", arg);
		pr_hint("for example --cgroup-root /machine/ct1 or --cgroup-root cpu,cpuacct:/machine/ct1\n");
		return -EINVAL;
	}
	*ctrl = colon ? strndup(arg, (size_t)(colon - arg)) : NULL;
	*path = xstrdup(p);
	return 0;
}

/* A relative path of one or more components (slashes allowed only when
 * `multi`), none of them empty, "." or "..". */
static bool clean_rel(const char *p, bool multi)
{
	size_t n;

	if (!p || !*p)
		return false;
	for (;; p += n + 1) {
		n = strcspn(p, "/");
		if (!n || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return false;
		if (!p[n])
			return true;
		if (!multi)
			return false;
	}
}

static int check_dir(const CgroupDirEntry *d, bool top, const char *hier)
{
	/* a path below its parent (upstream writes several components when
	 * a directory in between was not saved); a top one may be the
	 * hierarchy's root ("" or "/") */
	if (!d->dir_name || (!(top && (!strcmp(d->dir_name, "/") || !d->dir_name[0])) &&
			     !clean_rel(d->dir_name + (top && d->dir_name[0] == '/'), true))) {
		pr_err("cgroup.img: hierarchy %s: directory name \"%s\" is not a clean path\n", hier,
		       d->dir_name ? d->dir_name : "(none)");
		return -EINVAL;
	}
	for (size_t i = 0; i < d->n_properties; i++)
		if (!clean_rel(d->properties[i]->name, false) || !d->properties[i]->value) {
			pr_err("cgroup.img: cgroup %s: property \"%s\" is not a file name\n", d->dir_name,
			       d->properties[i]->name ? d->properties[i]->name : "(none)");
			return -EINVAL;
		}
	for (size_t i = 0; i < d->n_children; i++)
		if (check_dir(d->children[i], false, hier))
			return -EINVAL;
	return 0;
}

/*
 * A namespace prefix is the namespace's root: a whole cgroup of the path,
 * never part of a name ("/ct" of "/ct/a", not "/c"). 0 and 1 are the
 * hierarchy's root ("/"); dump (cg_ns_prefix) writes nothing else that
 * does not end at a '/' or at the path's end.
 */
static bool prefix_fits(const char *path, uint32_t prefix)
{
	size_t len = strlen(path);

	return prefix <= 1 || (prefix <= len && (path[prefix] == '/' || path[prefix] == '\0'));
}

int cg_image_check(const CgroupEntry *e)
{
	for (size_t i = 0; e && i < e->n_controllers; i++) {
		const CgControllerEntry *c = e->controllers[i];
		const char *hier = c->n_cnames ? c->cnames[0] : "(none)";

		for (size_t k = 0; k < c->n_dirs; k++)
			if (check_dir(c->dirs[k], true, hier))
				return -EINVAL;
	}
	for (size_t i = 0; e && i < e->n_sets; i++)
		for (size_t k = 0; k < e->sets[i]->n_ctls; k++) {
			const CgMemberEntry *m = e->sets[i]->ctls[k];

			if (!m->path || m->path[0] != '/' || (m->path[1] && !clean_rel(m->path + 1, true)) ||
			    (m->has_cgns_prefix && !prefix_fits(m->path, m->cgns_prefix))) {
				pr_err("cgroup.img: set %u: %s path \"%s\" is not a clean absolute path%s\n",
				       e->sets[i]->id, m->name, m->path ? m->path : "(none)",
				       m->has_cgns_prefix ? " (or its namespace prefix is no whole cgroup of it)" : "");
				return -EINVAL;
			}
		}
	return 0;
}

char *cg_rebase(const char *path, const char *old_base, const char *new_base)
{
	size_t lo = strlen(old_base), ln = strlen(new_base);
	const char *rest;
	char *out;

	while (lo > 1 && old_base[lo - 1] == '/')
		lo--;
	while (ln > 0 && new_base[ln - 1] == '/')
		ln--;
	if (lo == 1 && old_base[0] == '/')
		rest = path; /* everything is below the hierarchy's root */
	else if (!strncmp(path, old_base, lo) && (path[lo] == '\0' || path[lo] == '/'))
		rest = path + lo;
	else
		return NULL;
	if (rest[0] == '/' && rest[1] == '\0')
		rest++;
	out = xmalloc(ln + strlen(rest) + 2);
	memcpy(out, new_base, ln);
	strcpy(out + ln, rest);
	if (!out[0])
		strcpy(out, "/");
	return out;
}

CgControllerEntry *cg_image_controller(const CgroupEntry *e, const char *name)
{
	for (size_t i = 0; i < e->n_controllers; i++) {
		CgControllerEntry *c = e->controllers[i];
		_cleanup_free_ char *joined = NULL;
		size_t len = 0;

		/* the member's name is the controllers joined as /proc lists them */
		for (size_t k = 0; k < c->n_cnames; k++)
			len += strlen(c->cnames[k]) + 1;
		joined = xzalloc(len + 1);
		for (size_t k = 0; k < c->n_cnames; k++) {
			if (k)
				strcat(joined, ",");
			strcat(joined, c->cnames[k]);
		}
		if (!strcmp(joined, name) || cg_ctrl_matches(name, c->cnames, c->n_cnames))
			return c;
	}
	return NULL;
}

CgSetEntry *cg_image_set(const CgroupEntry *e, uint32_t id)
{
	for (size_t i = 0; i < e->n_sets; i++)
		if (e->sets[i]->id == id)
			return e->sets[i];
	return NULL;
}

/* The new root for hierarchy c, or NULL when none was given for it. */
static const char *new_root_for(const CgControllerEntry *c, const struct cg_root_map *map)
{
	const char *dflt = NULL, *mine = NULL;

	for (size_t i = 0; i < map->n; i++) {
		if (!map->ctrls[i])
			dflt = map->roots[i];
		else if (cg_ctrl_matches(map->ctrls[i], c->cnames, c->n_cnames)) {
			if (mine && strcmp(mine, map->roots[i])) {
				pr_err("--cgroup-root gives two roots (%s and %s) to the hierarchy of %s\n", mine,
				       map->roots[i], c->n_cnames ? c->cnames[0] : "?");
				return (const char *)-1;
			}
			mine = map->roots[i];
		}
	}
	return mine ? mine : dflt;
}

/* Every member of hierarchy `name` at or below old_base, moved under new_base. */
static void reroot_members(CgroupEntry *e, const char *name, const char *old_base, const char *new_base,
			   bool had_prefix)
{
	for (size_t s = 0; s < e->n_sets; s++)
		for (size_t k = 0; k < e->sets[s]->n_ctls; k++) {
			CgMemberEntry *m = e->sets[s]->ctls[k];
			char *p;

			if (strcmp(m->name, name))
				continue;
			p = cg_rebase(m->path, old_base, new_base);
			if (!p)
				continue;
			free(m->path);
			m->path = p;
			if (had_prefix) {
				size_t ln = strlen(new_base);

				while (ln > 1 && new_base[ln - 1] == '/')
					ln--;
				m->has_cgns_prefix = true;
				m->cgns_prefix = (uint32_t)(ln == 1 ? 0 : ln);
			}
		}
}

/* The directories of c whose path is at or below old_base, renamed. */
static void reroot_dirs(CgControllerEntry *c, const char *old_base, const char *new_base)
{
	for (size_t i = 0; i < c->n_dirs; i++) {
		CgroupDirEntry *d = c->dirs[i];
		_cleanup_free_ char *abs = xmalloc(strlen(d->dir_name) + 2);
		char *p;

		abs[0] = '/';
		strcpy(abs + 1, d->dir_name);
		p = cg_rebase(abs, old_base, new_base);
		if (!p)
			continue;
		free(d->dir_name);
		d->dir_name = xstrdup(p + 1);
		free(p);
	}
}

/*
 * What takes the new root's place when there is no namespace: the topmost
 * directory dump saved above the root task's cgroup (upstream's rule:
 * the directory the tree was dumped from, which --cgroup-root at dump may
 * have put above the root's own), the root's cgroup itself when none is.
 * The longest such directory: a shorter one is a bare entry for a
 * cgroup of the host's, such as "/".
 */
static char *top_dir_of(const CgControllerEntry *c, const char *path)
{
	const char *best = NULL;

	for (size_t i = 0; i < c->n_dirs; i++) {
		_cleanup_free_ char *abs = xmalloc(strlen(c->dirs[i]->dir_name) + 2);

		abs[0] = '/';
		strcpy(abs + 1, c->dirs[i]->dir_name);
		if (path_is_under(path, abs) && (!best || strlen(c->dirs[i]->dir_name) > strlen(best)))
			best = c->dirs[i]->dir_name;
	}
	if (!best)
		return xstrdup(path);
	{
		char *r = xmalloc(strlen(best) + 2);

		r[0] = '/';
		strcpy(r + 1, best);
		return r;
	}
}

int cg_reroot_image(CgroupEntry *e, uint32_t root_set, const struct cg_root_map *map)
{
	CgSetEntry *rs = cg_image_set(e, root_set);

	for (size_t i = 0; i < e->n_controllers; i++) {
		CgControllerEntry *c = e->controllers[i];
		const char *nr = new_root_for(c, map);
		const CgMemberEntry *rm = NULL;
		_cleanup_free_ char *old = NULL;
		bool prefixed;

		if (nr == (const char *)-1)
			return -EINVAL;
		if (!nr)
			continue;
		for (size_t k = 0; rs && k < rs->n_ctls; k++)
			if (cg_image_controller(e, rs->ctls[k]->name) == c)
				rm = rs->ctls[k];
		if (!rm) {
			pr_warn("--cgroup-root %s: the root task's cgroup in the hierarchy of %s is not in the images "
				"(it was in the dumping criu's): nothing to re-root there\n",
				nr, c->n_cnames ? c->cnames[0] : "?");
			continue;
		}
		prefixed = rm->has_cgns_prefix && rm->cgns_prefix;
		if (prefixed && rm->cgns_prefix > strlen(rm->path)) {
			pr_err("cgroup.img: namespace prefix %u longer than path %s\n", rm->cgns_prefix, rm->path);
			return -EINVAL;
		}
		old = prefixed ? strndup(rm->path, rm->cgns_prefix) : top_dir_of(c, rm->path);
		pr_info("hierarchy %s: %s becomes %s\n", rm->name[0] ? rm->name : "(v2)", old, nr);
		reroot_members(e, rm->name, old, nr, prefixed);
		reroot_dirs(c, old, nr);
	}
	return 0;
}

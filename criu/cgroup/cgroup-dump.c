/*
 * Dump of the tree's cgroups (cgroup/cgroup.h).
 *
 * Each thread's /proc/PID/task/TID/cgroup text is looked up as a whole in
 * a map from text to set: threads of one container share a few texts, so
 * the cost is one read and one hash per thread, whatever the number of
 * cgroups. The directory trees below the paths the sets name are walked
 * once each, at the end, through criu's own mounts of the hierarchies.
 *
 * A path that is criu's own cgroup, or above it, is recorded without its
 * subtree: that is the host's (or the runtime's) tree, not the container's,
 * and restore never writes settings there.
 */
#define LOG_PREFIX "cgroup: "

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup/cgroup-fs.h"
#include "cgroup/cgroup-props.h"
#include "cgroup/cgroup.h"
#include "image/image.h"
#include "util/hashmap.h"
#include "util/log.h"
#include "util/util.h"

struct cg_dset {
	uint32_t id;
	struct cg_members m;
};

struct cg_dump {
	struct cg_members criu; /* criu's own paths: set 1 */
	char **ns_root;		/* per member of criu's list: the tree's namespace root, NULL: none */
	const char **dump_root; /* per member of criu's list: --cgroup-root at dump, NULL: none */
	struct hmap by_text;	/* /proc text -> struct cg_dset * */
	struct cg_dset **sets;	/* by id - 1 */
	size_t nr_sets;
};

static char *read_proc_cgroup(pid_t pid, pid_t tid)
{
	char path[64];
	char *buf = NULL;
	int ret;

	if (tid)
		snprintf(path, sizeof(path), "/proc/%d/task/%d/cgroup", pid, tid);
	else
		snprintf(path, sizeof(path), "/proc/%d/cgroup", pid);
	ret = read_file_at(AT_FDCWD, path, &buf, NULL);
	if (ret) {
		pr_err("can't read %s: %s\n", path, strerror(-ret));
		return NULL;
	}
	return buf;
}

/* /proc/PID/cgroup of `pid` as a task of its own cgroup namespace reads it. */
static char *read_inner_cgroup(pid_t pid)
{
	int p[2];
	pid_t child;
	char *buf = NULL;
	int status;

	if (pipe2(p, O_CLOEXEC))
		return NULL;
	child = fork();
	if (child == 0) {
		char path[64];
		_cleanup_free_ char *text = NULL;
		int ns;

		close(p[0]);
		snprintf(path, sizeof(path), "/proc/%d/ns/cgroup", pid);
		ns = open(path, O_RDONLY | O_CLOEXEC);
		if (ns < 0 || setns(ns, CLONE_NEWCGROUP))
			_exit(1);
		snprintf(path, sizeof(path), "/proc/%d/cgroup", pid);
		if (read_file_at(AT_FDCWD, path, &text, NULL))
			_exit(1);
		_exit(write(p[1], text, strlen(text)) == (ssize_t)strlen(text) ? 0 : 1);
	}
	close(p[1]);
	if (child > 0) {
		size_t cap = 4096, n = 0;
		ssize_t r;

		buf = xmalloc(cap);
		while ((r = read(p[0], buf + n, cap - n - 1)) > 0 || (r < 0 && errno == EINTR)) {
			n += r > 0 ? (size_t)r : 0;
			if (cap - n < 512)
				buf = xrealloc(buf, cap *= 2);
		}
		buf[n] = '\0';
		if (r < 0 || waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status)) {
			free(buf);
			buf = NULL;
		}
	}
	if (p[0] >= 0)
		close(p[0]);
	if (!buf)
		pr_err("can't read process %d's cgroups as its cgroup namespace sees them\n", pid);
	return buf;
}

/* The root's namespace prefixes, one per hierarchy of criu's. */
static int read_ns_prefixes(struct cg_dump *c, pid_t root)
{
	_cleanup_free_ char *outer_text = read_proc_cgroup(root, 0);
	_cleanup_free_ char *inner_text = outer_text ? read_inner_cgroup(root) : NULL;
	struct cg_members outer = {0}, inner = {0};
	int ret = -EINVAL;

	if (inner_text && !cg_parse_members(outer_text, &outer) && !cg_parse_members(inner_text, &inner)) {
		ret = 0;
		for (size_t i = 0; !ret && i < c->criu.n; i++) {
			const struct cg_member *o = cg_members_find(&outer, c->criu.v[i].name);
			const struct cg_member *in = cg_members_find(&inner, c->criu.v[i].name);

			uint32_t prefix = 0;

			if (o && in)
				ret = cg_ns_prefix(o->path, in->path, &prefix);
			if (!ret && prefix) {
				c->ns_root[i] = strndup(o->path, prefix);
				pr_info("the tree's cgroup namespace is rooted at %s in hierarchy \"%s\"\n",
					c->ns_root[i], o->name);
			}
		}
	}
	cg_members_free(&outer);
	cg_members_free(&inner);
	return ret;
}

static uint32_t add_set(struct cg_dump *c, char *text, struct cg_members *m)
{
	struct cg_dset *s = xzalloc(sizeof(*s));

	s->id = (uint32_t)c->nr_sets + 1;
	s->m = *m;
	c->sets = xrealloc(c->sets, (c->nr_sets + 1) * sizeof(*c->sets));
	c->sets[c->nr_sets++] = s;
	hmap_put_str(&c->by_text, text, s);
	return s->id;
}

/* Has process `pid` a cgroup namespace other than criu's? */
static bool own_cgroup_ns(pid_t pid)
{
	char path[64];
	struct stat a, b;

	snprintf(path, sizeof(path), "/proc/%d/ns/cgroup", pid);
	return !stat(path, &a) && !stat("/proc/self/ns/cgroup", &b) && a.st_ino != b.st_ino;
}

/* --cgroup-root at dump: each names a hierarchy of criu's. */
static int take_dump_roots(struct cg_dump *c, const struct cg_root_map *roots)
{
	c->dump_root = xzalloc((c->criu.n + 1) * sizeof(*c->dump_root));
	for (size_t i = 0; roots && i < roots->n; i++) {
		bool known = !roots->ctrls[i];

		for (size_t k = 0; !known && k < c->criu.n; k++)
			known = cg_name_matches(roots->ctrls[i], c->criu.v[k].name);
		if (!known) {
			pr_err("--cgroup-root %s:%s: \"%s\" names no cgroup hierarchy criu is in\n", roots->ctrls[i],
			       roots->roots[i], roots->ctrls[i]);
			pr_hint("give controllers as /proc/self/cgroup lists them, or no controller for all\n");
			return -EINVAL;
		}
	}
	for (size_t k = 0; roots && k < c->criu.n; k++)
		c->dump_root[k] = cg_root_for(roots, c->criu.v[k].name);
	return 0;
}

struct cg_dump *cg_dump_new(pid_t root_pid, const struct cg_root_map *roots)
{
	struct cg_dump *c = xzalloc(sizeof(*c));
	char *text = read_proc_cgroup(getpid(), 0);
	struct cg_members m;

	hmap_init(&c->by_text);
	if (!text || cg_parse_members(text, &m)) {
		free(text);
		cg_dump_free(c);
		return NULL;
	}
	c->ns_root = xzalloc((m.n + 1) * sizeof(*c->ns_root));
	c->criu = m;
	/* criu's set keeps its own copy: the text key is owned by the map's user */
	{
		struct cg_members copy;

		cg_parse_members(text, &copy);
		add_set(c, text, &copy);
	}
	if (take_dump_roots(c, roots) || (own_cgroup_ns(root_pid) && read_ns_prefixes(c, root_pid))) {
		cg_dump_free(c);
		return NULL;
	}
	return c;
}

uint32_t cg_dump_criu_set(const struct cg_dump *c)
{
	(void)c;
	return 1;
}

/* A new set's members: the same hierarchies as criu's, each with the
 * tree's namespace prefix. */
static int check_new_set(const struct cg_dump *c, struct cg_members *m, pid_t tid)
{
	if (m->n != c->criu.n) {
		pr_err("thread %d is in %zu cgroup hierarchies, criu in %zu: they must be the same\n", tid, m->n,
		       c->criu.n);
		return -EINVAL;
	}
	for (size_t i = 0; i < m->n; i++) {
		if (strcmp(m->v[i].name, c->criu.v[i].name)) {
			pr_err("thread %d is in cgroup hierarchy \"%s\", which criu is not in\n", tid, m->v[i].name);
			return -EINVAL;
		}
		if (!c->ns_root[i])
			continue;
		if (!path_is_under(m->v[i].path, c->ns_root[i])) {
			pr_err("thread %d's cgroup %s is outside the tree's cgroup namespace (rooted at %s)\n", tid,
			       m->v[i].path, c->ns_root[i]);
			return -EINVAL;
		}
		m->v[i].ns_prefix = (uint32_t)strlen(c->ns_root[i]);
	}
	return 0;
}

int cg_dump_thread(struct cg_dump *c, pid_t pid, pid_t tid, uint32_t *set)
{
	char *text = read_proc_cgroup(pid, tid);
	struct cg_dset *s;
	struct cg_members m;

	if (!text)
		return -EIO;
	s = hmap_get_str(&c->by_text, text);
	if (s) {
		free(text);
		*set = s->id;
		return 0;
	}
	if (cg_parse_members(text, &m) || check_new_set(c, &m, tid)) {
		if (m.v)
			cg_members_free(&m);
		free(text);
		return -EINVAL;
	}
	*set = add_set(c, text, &m);
	pr_debug("thread %d: cgroup set %u\n", tid, *set);
	return 0;
}

void cg_dump_free(struct cg_dump *c)
{
	struct hmap_iter it = HMAP_ITER_INIT;

	if (!c)
		return;
	/* the map's keys are the texts the sets were made from */
	while (hmap_next(&c->by_text, &it))
		free((char *)it.skey);
	hmap_free(&c->by_text);
	for (size_t i = 0; i < c->nr_sets; i++) {
		cg_members_free(&c->sets[i]->m);
		free(c->sets[i]);
	}
	free(c->sets);
	for (size_t i = 0; c->ns_root && i < c->criu.n; i++)
		free(c->ns_root[i]);
	cg_members_free(&c->criu);
	free(c->ns_root);
	free(c->dump_root);
	free(c);
}

/* ------------------------------------------------------------------------
 * cgroup.img
 */

static CgroupPerms *perms_of(const struct stat *st)
{
	CgroupPerms *p = xmalloc(sizeof(*p));

	cgroup_perms__init(p);
	p->mode = st->st_mode;
	p->uid = st->st_uid;
	p->gid = st->st_gid;
	return p;
}

static void add_prop(CgroupDirEntry *d, int dir, const char *name)
{
	_cleanup_free_ char *raw = NULL;
	CgroupPropEntry *p;
	struct stat st;
	char *val;

	if (fstatat(dir, name, &st, 0))
		return; /* not in this kernel, or this controller not enabled here */
	if (cg_prop_is_member_list(name))
		val = xstrdup("");
	else if (cg_read_at(dir, name, &raw) || !(val = cg_prop_value(name, raw))) {
		pr_debug("cgroup file %s can't be read: not saved\n", name);
		return;
	}
	p = xmalloc(sizeof(*p));
	cgroup_prop_entry__init(p);
	p->name = xstrdup(name);
	p->value = val;
	p->perms = perms_of(&st);
	d->properties = xrealloc(d->properties, (d->n_properties + 1) * sizeof(*d->properties));
	d->properties[d->n_properties++] = p;
}

static void add_prop_list(CgroupDirEntry *d, int dir, const char *const *names)
{
	for (size_t i = 0; names && names[i]; i++)
		add_prop(d, dir, names[i]);
}

/* The settings of cgroup `dir` in hierarchy `name`. */
static void add_props(CgroupDirEntry *d, int dir, const char *name)
{
	bool v2 = !name[0];
	_cleanup_free_ char *ctrls = NULL, *copy = xstrdup(name);
	char *save = NULL;

	if (v2 && !cg_read_at(dir, "cgroup.controllers", &ctrls)) {
		for (char *c = strtok_r(ctrls, " \n", &save); c; c = strtok_r(NULL, " \n", &save))
			add_prop_list(d, dir, cg_props_of(c, true));
	}
	for (char *c = v2 ? NULL : strtok_r(copy, ",", &save); c; c = strtok_r(NULL, ",", &save))
		add_prop_list(d, dir, cg_props_of(c, false));
	add_prop_list(d, dir, cg_props_global(v2));
}

static CgroupDirEntry *new_dir(const char *name, const struct stat *st)
{
	CgroupDirEntry *d = xmalloc(sizeof(*d));

	cgroup_dir_entry__init(d);
	d->dir_name = xstrdup(name);
	d->dir_perms = perms_of(st);
	return d;
}

/* Directory `dir` (its entry d) and everything below it. */
static int walk(CgroupDirEntry *d, int dir, const char *hier, size_t *count)
{
	_cleanup_closedir_ DIR *ds = NULL;
	struct dirent *de;
	int fd;

	add_props(d, dir, hier);
	if (++*count > 100000) {
		pr_err("more than 100000 cgroups below the tree's: refusing to save them all\n");
		return -E2BIG;
	}
	fd = openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ds = fd < 0 ? NULL : fdopendir(fd);
	if (!ds) {
		if (fd >= 0)
			close(fd);
		pr_perror("can't list a cgroup of hierarchy \"%s\"", hier);
		return -errno;
	}
	while ((de = readdir(ds))) {
		_cleanup_close_ int sub = -1;
		struct stat st;
		CgroupDirEntry *c;
		int ret;

		if (de->d_type != DT_DIR || !strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		sub = openat(dir, de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (sub < 0 || fstat(sub, &st))
			continue; /* removed meanwhile */
		c = new_dir(de->d_name, &st);
		d->children = xrealloc(d->children, (d->n_children + 1) * sizeof(*d->children));
		d->children[d->n_children++] = c;
		ret = walk(c, sub, hier, count);
		if (ret)
			return ret;
	}
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A top directory of hierarchy `name` (mounted at *mnt on first need):
 * cgroup path p, opened at *dir. */
static int add_head(CgControllerEntry *ce, const char *name, int *mnt, const char *p, int *dir)
{
	struct stat st;

	if (*mnt < 0 && (*mnt = cg_open_hierarchy(name)) < 0)
		return *mnt;
	*dir = openat(*mnt, cg_rel(p), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (*dir < 0 || fstat(*dir, &st)) {
		pr_perror("can't open cgroup %s of hierarchy \"%s\"", p, name[0] ? name : "(v2)");
		return -errno;
	}
	ce->dirs = xrealloc(ce->dirs, (ce->n_dirs + 1) * sizeof(*ce->dirs));
	ce->dirs[ce->n_dirs++] = new_dir(p + 1, &st);
	return 0;
}

/* Hierarchy `i`'s entry: the trees below the paths of the tree's sets. */
static int dump_hierarchy(const struct cg_dump *c, size_t i, CgControllerEntry *ce)
{
	const char *name = c->criu.v[i].name, *mine = c->criu.v[i].path;
	_cleanup_close_ int mnt = -1;
	_cleanup_free_ const char **paths = NULL;
	_cleanup_free_ const char **walked = NULL;
	size_t count = 0, nr = 0;
	int ret = 0, mnt_dir = -1;

	{
		_cleanup_free_ char *copy = xstrdup(name);
		char *save = NULL;

		for (char *n = strtok_r(copy, ",", &save); n; n = strtok_r(NULL, ",", &save)) {
			ce->cnames = xrealloc(ce->cnames, (ce->n_cnames + 1) * sizeof(char *));
			ce->cnames[ce->n_cnames++] = xstrdup(n);
		}
		if (!name[0]) {
			ce->cnames = xmalloc(sizeof(char *));
			ce->cnames[ce->n_cnames++] = xstrdup("");
		}
	}
	ce->has_is_threaded = true;
	ce->is_threaded = name[0] != '\0'; /* v1: per-thread "tasks"; v2: threaded subtrees only */
	paths = xmalloc((c->nr_sets + 1) * sizeof(*paths));
	for (size_t s = 1; s < c->nr_sets; s++)
		paths[nr++] = c->sets[s]->m.v[i].path;
	if (c->dump_root[i] && nr)
		paths[nr++] = c->dump_root[i]; /* saved whole, with the tree's below it */
	/* ancestors sort before their descendants */
	qsort(paths, nr, sizeof(*paths), cmp_str);
	walked = xzalloc((nr + 1) * sizeof(*walked));
	for (size_t k = 0; !ret && k < nr; k++) {
		const char *p = paths[k];
		bool covered = k > 0 && !strcmp(p, paths[k - 1]), criu_s = path_is_under(mine, p);

		for (size_t h = 0; h < ce->n_dirs && !covered; h++)
			covered = walked[h] && path_is_under(p, walked[h]);
		if (covered)
			continue;
		ret = add_head(ce, name, &mnt, p, &mnt_dir);
		if (!ret && !criu_s) {
			walked[ce->n_dirs - 1] = p;
			ret = walk(ce->dirs[ce->n_dirs - 1], mnt_dir, name, &count);
		}
		if (mnt_dir >= 0)
			close(mnt_dir);
		mnt_dir = -1;
	}
	return ret;
}

/* The sets the threads are in, but criu's own. */
static void dump_sets(const struct cg_dump *c, CgroupEntry *e)
{
	e->n_sets = c->nr_sets - 1;
	e->sets = xmalloc(e->n_sets * sizeof(*e->sets));
	for (size_t s = 1; s < c->nr_sets; s++) {
		const struct cg_dset *ds = c->sets[s];
		CgSetEntry *se = xmalloc(sizeof(*se));

		cg_set_entry__init(se);
		se->id = ds->id;
		se->n_ctls = ds->m.n;
		se->ctls = xmalloc(se->n_ctls * sizeof(*se->ctls));
		for (size_t k = 0; k < ds->m.n; k++) {
			CgMemberEntry *m = xmalloc(sizeof(*m));

			cg_member_entry__init(m);
			m->name = xstrdup(ds->m.v[k].name);
			m->path = xstrdup(ds->m.v[k].path);
			m->has_cgns_prefix = ds->m.v[k].ns_prefix > 0;
			m->cgns_prefix = ds->m.v[k].ns_prefix;
			se->ctls[k] = m;
		}
		e->sets[s - 1] = se;
	}
}

int cg_dump_write(struct cg_dump *c, struct img_set *imgs)
{
	CgroupEntry *e;
	struct img_writer *w;
	int ret = 0;

	if (c->nr_sets == 1) {
		pr_info("every thread is in criu's cgroups: no cgroup.img\n");
		return 0;
	}
	e = xmalloc(sizeof(*e));
	cgroup_entry__init(e);
	dump_sets(c, e);
	e->n_controllers = c->criu.n;
	e->controllers = xmalloc(e->n_controllers * sizeof(*e->controllers));
	for (size_t i = 0; i < c->criu.n; i++) {
		e->controllers[i] = xmalloc(sizeof(CgControllerEntry));
		cg_controller_entry__init(e->controllers[i]);
	}
	for (size_t i = 0; !ret && i < c->criu.n; i++)
		ret = dump_hierarchy(c, i, e->controllers[i]);
	if (!ret) {
		w = img_set_new(imgs, IMG_CGROUP, 0);
		ret = w ? img_write_entry(w, &e->base) : -EIO;
	}
	cgroup_entry__free_unpacked(e, NULL);
	return ret;
}

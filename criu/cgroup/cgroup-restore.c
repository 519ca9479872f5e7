/*
 * Restore of the tree's cgroups (cgroup/cgroup.h).
 *
 * Before the tasks exist, criu reads cgroup.img, re-roots it under the
 * --cgroup-root paths, mounts each hierarchy of its own (detached) and
 * makes the cgroups as --manage-cgroups says, writing the settings of
 * those it may. Each task then moves itself into its set's cgroups, first
 * thing, through the restoring criu's descriptors of those mounts
 * (/proc/<criu>/fd/N from the host's /proc: the task already lives in the
 * restored mount namespace), so that every child it forks and every
 * page it maps is in the right cgroup from the start. The root of a tree
 * with a cgroup namespace of its own enters the namespace's root, makes
 * the namespace there (unshare) and then enters its own cgroups.
 *
 * The cgroups criu made are listed; a failed restore removes them once
 * the tasks are gone.
 */
#define LOG_PREFIX "cgroup: "

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cgroup/cgroup-fs.h"
#include "cgroup/cgroup-props.h"
#include "cgroup/cgroup.h"
#include "image/image.h"
#include "options.h"
#include "util/hashmap.h"
#include "util/log.h"
#include "util/util.h"

struct cg_restore {
	CgroupEntry *img; /* NULL: no cgroup.img */
	enum cg_mode mode;
	uint32_t criu_set;	/* the dumping criu's set: the restoring criu's cgroups */
	struct cg_members self; /* the restoring criu's own cgroups: the hierarchies */
	struct hmap set_by_id;	/* id -> CgSetEntry * of img: a lookup per thread and hierarchy */
	int *mnt;		/* per hierarchy of self: criu's mount of it */
	struct made {
		size_t hier;
		char *path;
	} * made; /* the cgroups criu made, parents first */
	size_t nr_made;
};

static int read_image(int dirfd, CgroupEntry **out)
{
	struct img_reader r;
	ProtobufCMessage *m = NULL;
	int ret;

	*out = NULL;
	if (faccessat(dirfd, "cgroup.img", F_OK, 0))
		return 0;
	ret = img_reader_open(&r, dirfd, "cgroup.img", IMG_CGROUP);
	if (ret)
		return ret;
	ret = img_read_entry(&r, &m);
	img_reader_close(&r);
	if (ret < 0)
		return ret;
	*out = (CgroupEntry *)m; /* NULL: an empty file, no sets */
	return cg_image_check(*out);
}

/* The hierarchy of self that image member or controller list `name` is. */
static ssize_t hier_of(const struct cg_restore *c, const char *name)
{
	for (size_t i = 0; i < c->self.n; i++)
		if (!strcmp(c->self.v[i].name, name))
			return (ssize_t)i;
	return -1;
}

static ssize_t hier_of_ctrl(const struct cg_restore *c, const CgControllerEntry *ce)
{
	for (size_t i = 0; i < c->self.n; i++) {
		char *copy = xstrdup(c->self.v[i].name), *save = NULL, *names[64];
		size_t n = 0;
		bool same;

		for (char *t = strtok_r(copy, ",", &save); t && n < 64; t = strtok_r(NULL, ",", &save))
			names[n++] = t;
		if (!c->self.v[i].name[0])
			names[n++] = copy;
		same = n == ce->n_cnames;
		for (size_t k = 0; same && k < ce->n_cnames; k++)
			same = cg_ctrl_matches(ce->cnames[k][0] ? ce->cnames[k] : "", names, n);
		free(copy);
		if (same)
			return (ssize_t)i;
	}
	return -1;
}

/* Every --cgroup-root names a hierarchy of the images or of this host. */
static int check_roots(const struct cg_restore *c, const struct options *o)
{
	for (size_t i = 0; i < o->nr_cg_roots; i++) {
		const char *ctrl = o->cg_roots[i].ctrl;
		bool known = !ctrl;

		for (size_t k = 0; !known && c->img && k < c->img->n_controllers; k++)
			known = cg_ctrl_matches(ctrl, c->img->controllers[k]->cnames, c->img->controllers[k]->n_cnames);
		for (size_t k = 0; !known && k < c->self.n; k++)
			known = cg_name_matches(ctrl, c->self.v[k].name);
		if (!known) {
			pr_err("--cgroup-root %s:%s: \"%s\" names no cgroup hierarchy of the images or of this host\n",
			       ctrl, o->cg_roots[i].path, ctrl);
			pr_hint("give controllers as /proc/self/cgroup lists them (\"cpu,cpuacct\", \"name=systemd\", "
				"\"\" for cgroup v2), or no controller for all\n");
			return -EINVAL;
		}
	}
	return 0;
}

static int reroot(struct cg_restore *c, const struct options *o, uint32_t root_set)
{
	struct cg_root_map map;
	int ret;

	cg_root_map_of(o, &map);
	ret = cg_reroot_image(c->img, root_set, &map);
	cg_root_map_free(&map);
	return ret;
}

/* ------------------------------------------------------------------------
 * Making the cgroups
 */

static int write_at(int dir, const char *name, const char *val, size_t len)
{
	_cleanup_close_ int fd = openat(dir, name, O_WRONLY | O_CLOEXEC);

	if (fd < 0 || write(fd, val, len) != (ssize_t)len)
		return -errno;
	return 0;
}

/* devices.list: deny all, then allow each line (the kernel reads one rule a write). */
static int write_devices(int dir, const char *val)
{
	int ret = write_at(dir, "devices.deny", "a", 1);

	for (const char *s = val; !ret && *s;) {
		size_t len = strcspn(s, "\n");

		if (len)
			ret = write_at(dir, "devices.allow", s, len);
		s += len + (s[len] == '\n');
	}
	return ret;
}

/* cgroup.subtree_control: the controllers not in val off, those in it on. */
static int write_subtree_control(int dir, const char *val)
{
	_cleanup_free_ char *cur = NULL;
	char buf[1024];
	size_t off = 0;
	char *save = NULL;
	_cleanup_free_ char *want = xstrdup(val);

	if (cg_read_at(dir, "cgroup.subtree_control", &cur))
		return -errno;
	for (char *t = strtok_r(cur, " \n", &save); t; t = strtok_r(NULL, " \n", &save))
		if (!cg_word_in(val, t) && off + strlen(t) + 2 < sizeof(buf))
			off += (size_t)snprintf(buf + off, sizeof(buf) - off, "-%s ", t);
	for (char *t = strtok_r(want, " \n", &save); t; t = strtok_r(NULL, " \n", &save))
		if (off + strlen(t) + 2 < sizeof(buf))
			off += (size_t)snprintf(buf + off, sizeof(buf) - off, "+%s ", t);
	return off ? write_at(dir, "cgroup.subtree_control", buf, off - 1) : 0;
}

static int write_prop(int dir, const CgroupPropEntry *p)
{
	_cleanup_free_ char *cur = NULL, *now = NULL;

	/* cgroup.type: written first of all, by write_type */
	if (cg_prop_is_member_list(p->name) || cg_prop_is_freeze(p->name) || !strcmp(p->name, "cgroup.type"))
		return 0;
	if (!strcmp(p->name, "devices.list"))
		return write_devices(dir, p->value);
	if (!strcmp(p->name, "cgroup.subtree_control"))
		return write_subtree_control(dir, p->value);
	if (!cg_read_at(dir, p->name, &cur) && (now = cg_prop_value(p->name, cur)) && !strcmp(now, p->value))
		return 0; /* as it is already: no write (some refuse one even of their value) */
	if (!strcmp(p->name, "net_prio.ifpriomap")) {
		int ret = 0;

		for (const char *s = p->value; !ret && *s;) {
			size_t len = strcspn(s, "\n");

			if (len)
				ret = write_at(dir, p->name, s, len);
			s += len + (s[len] == '\n');
		}
		return ret;
	}
	return p->value[0] ? write_at(dir, p->name, p->value, strlen(p->value)) : 0;
}

/*
 * v2 cgroup.type: only "threaded" can be written (and must be, before the
 * controller files, which a threaded cgroup offers differently); a parent
 * becomes "domain threaded" by it, which the kernel refuses as a value
 * (EINVAL), as it does "domain invalid". "domain" is what mkdir makes.
 */
static int write_type(int dir, const CgroupDirEntry *d, const char *hier, const char *path)
{
	for (size_t i = 0; !hier[0] && i < d->n_properties; i++) {
		const CgroupPropEntry *p = d->properties[i];
		_cleanup_free_ char *cur = NULL, *now = NULL;
		int ret;

		if (strcmp(p->name, "cgroup.type") || strcmp(p->value, "threaded"))
			continue;
		if (!cg_read_at(dir, p->name, &cur) && (now = cg_prop_value(p->name, cur)) && !strcmp(now, "threaded"))
			return 0;
		ret = write_at(dir, p->name, p->value, strlen(p->value));
		if (ret) {
			pr_err("can't make cgroup %s threaded: %s\n", path, strerror(-ret));
			pr_hint("a threaded cgroup's parent must have no domain controller enabled in its "
				"cgroup.subtree_control\n");
		}
		return ret;
	}
	return 0;
}

static int set_perms(int dir, const char *name, const CgroupPerms *p)
{
	struct stat st;

	if (!p || fstatat(dir, name, &st, 0))
		return 0; /* a file this kernel lacks */
	if ((st.st_uid != p->uid || st.st_gid != p->gid) && fchownat(dir, name, p->uid, p->gid, 0))
		return -errno;
	if ((st.st_mode & 07777) != (p->mode & 07777) && fchmodat(dir, name, p->mode & 07777, 0))
		return -errno;
	return 0;
}

static int apply_dir(int dir, const CgroupDirEntry *d, const struct cg_dir_plan *plan, const char *hier,
		     const char *path)
{
	int ret = plan->perms ? set_perms(dir, ".", d->dir_perms) : 0;

	if (ret) {
		pr_err("can't give cgroup %s its owner and mode: %s\n", path, strerror(-ret));
		return ret;
	}
	if (plan->props && (ret = write_type(dir, d, hier, path)))
		return ret;
	for (size_t i = 0; i < d->n_properties; i++) {
		const CgroupPropEntry *p = d->properties[i];

		/* a file dump never saves here (cgroup.kill, release_agent, ...): untouched */
		if (!cg_prop_restorable(hier, p->name)) {
			if (plan->perms || plan->props)
				pr_warn("cgroup.img: %s/%s is no setting dump saves in hierarchy \"%s\": left as it "
					"is\n",
					path, p->name, hier[0] ? hier : "(v2)");
			continue;
		}
		if (plan->perms && (ret = set_perms(dir, p->name, p->perms))) {
			pr_err("can't give %s/%s its owner and mode: %s\n", path, p->name, strerror(-ret));
			return ret;
		}
		if (plan->props && (ret = write_prop(dir, p))) {
			pr_err("can't set %s/%s to \"%s\": %s\n", path, p->name, p->value, strerror(-ret));
			pr_hint("--manage-cgroups=soft writes settings only into the cgroups criu makes, none leaves "
				"them as they are\n");
			return ret;
		}
	}
	return 0;
}

/*
 * A new v1 cpuset cgroup has no CPUs and no memory nodes: no task can
 * enter it. Its parent's, until the image's own (if any) are written.
 */
static int inherit_cpuset(int mnt, const char *path)
{
	static const char *const files[] = {"cpuset.cpus", "cpuset.mems"};
	_cleanup_free_ char *parent = xstrdup(path);
	char *slash = strrchr(parent, '/');
	_cleanup_close_ int pd = -1, d = -1;
	int ret = 0;

	*slash = '\0';
	pd = openat(mnt, cg_rel(parent), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	d = openat(mnt, cg_rel(path), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	for (size_t i = 0; !ret && pd >= 0 && d >= 0 && i < ARRAY_SIZE(files); i++) {
		_cleanup_free_ char *val = NULL, *mine = NULL;

		if (cg_read_at(d, files[i], &mine) || mine[0] != '\n' || cg_read_at(pd, files[i], &val))
			continue;
		ret = write_at(d, files[i], val, strlen(val));
	}
	return pd < 0 || d < 0 ? -errno : ret;
}

static int make_one(struct cg_restore *c, size_t h, const char *path)
{
	int ret;

	if (mkdirat(c->mnt[h], cg_rel(path), 0755)) {
		pr_perror("can't make cgroup %s in hierarchy \"%s\"", path, c->self.v[h].name);
		return -errno;
	}
	c->made = xrealloc(c->made, (c->nr_made + 1) * sizeof(*c->made));
	c->made[c->nr_made].hier = h;
	c->made[c->nr_made++].path = xstrdup(path);
	pr_info("made cgroup %s in hierarchy \"%s\"\n", path, c->self.v[h].name);
	ret = strstr(c->self.v[h].name, "cpuset") ? inherit_cpuset(c->mnt[h], path) : 0;
	if (ret)
		pr_err("can't give the new cpuset cgroup %s its parent's CPUs and memory nodes: %s\n", path,
		       strerror(-ret));
	return ret;
}

/* The missing parents of a top directory, made bare (soft, full, strict). */
static int make_parents(struct cg_restore *c, size_t h, const char *path)
{
	_cleanup_free_ char *p = xstrdup(path);
	struct stat st;
	int ret = 0;

	for (char *s = strchr(p + 1, '/'); !ret && s; s = strchr(s + 1, '/')) {
		*s = '\0';
		if (fstatat(c->mnt[h], cg_rel(p), &st, 0))
			ret = errno == ENOENT ? make_one(c, h, p) : -errno;
		*s = '/';
	}
	return ret;
}

static int restore_dir(struct cg_restore *c, size_t h, const CgroupDirEntry *d, const char *parent)
{
	_cleanup_free_ char *path = xmalloc(strlen(parent) + strlen(d->dir_name) + 2);
	_cleanup_close_ int dir = -1;
	struct cg_dir_plan plan;
	struct stat st;
	bool exists;
	int ret = 0;

	sprintf(path, "%s%s%s", parent, strcmp(parent, "/") && d->dir_name[0] ? "/" : "", d->dir_name);
	exists = !fstatat(c->mnt[h], cg_rel(path), &st, 0);
	if (!strcmp(path, "/"))
		plan = (struct cg_dir_plan){0}; /* the hierarchy's root: never written */
	else
		plan = cg_dir_decide(c->mode, exists);
	if (plan.fail) {
		pr_err("cgroup %s of hierarchy \"%s\" %s (--manage-cgroups=%s)\n", path,
		       c->self.v[h].name[0] ? c->self.v[h].name : "(v2)", exists ? "exists" : "is missing",
		       cg_mode_name(c->mode));
		pr_hint("%s\n", exists ? "remove it, or restore with --manage-cgroups=soft or full"
				       : "make it first, or restore with --manage-cgroups=soft (the default)");
		return -EEXIST;
	}
	if (plan.make && !exists)
		ret = make_parents(c, h, path) ?: make_one(c, h, path);
	if (!ret) {
		dir = openat(c->mnt[h], cg_rel(path), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		ret = dir < 0 ? -errno : apply_dir(dir, d, &plan, c->self.v[h].name, path);
	}
	for (size_t i = 0; !ret && i < d->n_children; i++)
		ret = restore_dir(c, h, d->children[i], path);
	return ret;
}

static int make_cgroups(struct cg_restore *c)
{
	int ret = 0;

	for (size_t i = 0; !ret && i < c->img->n_controllers; i++) {
		const CgControllerEntry *ce = c->img->controllers[i];
		ssize_t h = hier_of_ctrl(c, ce);

		if (h < 0) {
			pr_err("the images have cgroups in hierarchy \"%s\", which this host has not (or not as "
			       "criu's own, see /proc/self/cgroup)\n",
			       ce->n_cnames ? ce->cnames[0] : "?");
			return -ENOENT;
		}
		for (size_t k = 0; !ret && k < ce->n_dirs; k++)
			ret = restore_dir(c, (size_t)h, ce->dirs[k], "/");
	}
	return ret;
}

/* ------------------------------------------------------------------------
 * Entry points
 */

static int open_mounts(struct cg_restore *c)
{
	c->mnt = xmalloc((c->self.n + 1) * sizeof(int));
	for (size_t i = 0; i < c->self.n; i++)
		c->mnt[i] = -1;
	for (size_t i = 0; i < c->self.n; i++) {
		c->mnt[i] = cg_open_hierarchy(c->self.v[i].name);
		if (c->mnt[i] < 0)
			return c->mnt[i];
	}
	/* every hierarchy the sets name is one of criu's */
	for (size_t s = 0; s < c->img->n_sets; s++)
		for (size_t k = 0; k < c->img->sets[s]->n_ctls; k++)
			if (hier_of(c, c->img->sets[s]->ctls[k]->name) < 0) {
				pr_err("the images have tasks in cgroup hierarchy \"%s\", which this host has not (or "
				       "not as criu's own, see /proc/self/cgroup)\n",
				       c->img->sets[s]->ctls[k]->name);
				return -ENOENT;
			}
	return 0;
}

static int prepare(struct cg_restore *c, int imgs_dirfd, const struct options *o, uint32_t root_set)
{
	_cleanup_free_ char *text = NULL;
	int ret = read_image(imgs_dirfd, &c->img);

	if (ret)
		return ret;
	ret = read_file_at(AT_FDCWD, "/proc/self/cgroup", &text, NULL);
	if (ret) {
		pr_err("can't read /proc/self/cgroup: %s\n", strerror(-ret));
		return ret;
	}
	ret = cg_parse_members(text, &c->self);
	if (!ret)
		ret = check_roots(c, o);
	if (ret || !c->img)
		return ret;
	for (size_t i = 0; i < c->img->n_sets; i++) /* the first of an id, as cg_image_set */
		if (!hmap_get_int(&c->set_by_id, c->img->sets[i]->id))
			hmap_put_int(&c->set_by_id, c->img->sets[i]->id, c->img->sets[i]);
	ret = reroot(c, o, root_set);
	if (!ret)
		ret = open_mounts(c);
	if (!ret)
		ret = make_cgroups(c);
	return ret;
}

int cg_restore_prepare(int imgs_dirfd, const struct options *o, uint32_t root_cg_set, uint32_t root_set, bool own_ns,
		       struct cg_restore **out)
{
	struct cg_restore *c;
	int ret;

	*out = NULL;
	if (o->manage_cgroups == CG_MODE_IGNORE) {
		pr_info("--manage-cgroups=ignore: the tasks stay in criu's cgroups%s\n",
			own_ns ? "; the tree's cgroup namespace is made at them" : "");
		return 0;
	}
	c = xzalloc(sizeof(*c));
	hmap_init(&c->set_by_id);
	c->mode = (enum cg_mode)o->manage_cgroups;
	c->criu_set = root_cg_set;
	ret = prepare(c, imgs_dirfd, o, root_set);
	if (ret) {
		cg_restore_undo(c);
		cg_restore_free(c);
		return ret;
	}
	*out = c;
	return 0;
}

bool cg_restore_has_set(const struct cg_restore *c, uint32_t id)
{
	return !id || id == c->criu_set || hmap_get_int(&c->set_by_id, id);
}

/* ------------------------------------------------------------------------
 * In the tasks
 */

/* The path set `id` has in hierarchy h (NULL: none said), and its namespace prefix. */
static const char *set_path(const struct cg_restore *c, uint32_t id, size_t h, uint32_t *prefix)
{
	const CgSetEntry *s;

	*prefix = 0;
	if (id == c->criu_set)
		return c->self.v[h].path;
	s = hmap_get_int(&c->set_by_id, id);
	for (size_t k = 0; s && k < s->n_ctls; k++)
		if (!strcmp(s->ctls[k]->name, c->self.v[h].name)) {
			*prefix = s->ctls[k]->has_cgns_prefix ? s->ctls[k]->cgns_prefix : 0;
			return s->ctls[k]->path;
		}
	return NULL;
}

/* Writes `who` into `file` of cgroup path[0..len) of hierarchy h. */
static int move_to(const struct cg_restore *c, int proc_fd, pid_t criu_pid, size_t h, const char *path, size_t len,
		   const char *file, pid_t who)
{
	char buf[4200], id[16];
	_cleanup_close_ int fd = -1;
	int n = snprintf(id, sizeof(id), "%d", who);

	if (!c->mnt) { /* no cgroup.img: only criu's own cgroups, never left */
		pr_err("no cgroup hierarchy was opened to move %d into %.*s\n", who, (int)len, path);
		return -EINVAL;
	}

	if (snprintf(buf, sizeof(buf), "%d/fd/%d/%.*s/%s", criu_pid, c->mnt[h], (int)len, path, file) >=
	    (int)sizeof(buf))
		return -ENAMETOOLONG;
	fd = openat(proc_fd, buf, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, id, (size_t)n) != n) {
		int err = errno;

		pr_err("can't move %s %d into cgroup %.*s of hierarchy \"%s\": %s\n", who ? "thread" : "task",
		       who ? who : getpid(), (int)len, path, c->self.v[h].name[0] ? c->self.v[h].name : "(v2)",
		       strerror(err));
		return -err;
	}
	return 0;
}

static int make_cgns(void)
{
	int err;

	if (!unshare(CLONE_NEWCGROUP))
		return 0;
	err = errno;
	pr_perror("can't make the tree's cgroup namespace");
	return -err;
}

int cg_restore_enter(const struct cg_restore *c, int proc_fd, pid_t criu_pid, uint32_t from, uint32_t to, pid_t tid,
		     bool unshare_ns)
{
	const char *file = tid ? NULL : "cgroup.procs";
	int ret = 0;

	if (!c || !to) /* no cgroups to enter: the namespace (if any) where the task is, criu's */
		return unshare_ns ? make_cgns() : 0;
	if (from == to && !unshare_ns)
		return 0;
	/* the namespace's root first, then the namespace, then the rest */
	for (size_t h = 0; unshare_ns && !ret && h < c->self.n; h++) {
		uint32_t prefix;
		const char *p = set_path(c, to, h, &prefix);

		if (p && prefix)
			ret = move_to(c, proc_fd, criu_pid, h, p, prefix, "cgroup.procs", 0);
	}
	if (!ret && unshare_ns)
		ret = make_cgns();
	for (size_t h = 0; !ret && h < c->self.n; h++) {
		uint32_t prefix, fprefix;
		const char *p = set_path(c, to, h, &prefix), *f = from ? set_path(c, from, h, &fprefix) : NULL;

		if (!p || (f && !strcmp(f, p) && !(unshare_ns && prefix)))
			continue;
		if (tid)
			file = c->self.v[h].name[0] ? "tasks" : "cgroup.threads";
		ret = move_to(c, proc_fd, criu_pid, h, p, strlen(p), file, tid);
	}
	return ret;
}

void cg_restore_undo(struct cg_restore *c)
{
	struct timespec now;
	time_t deadline;

	if (!c)
		return;
	/* the killed tasks may take a moment to leave: 3 s for them all, not per cgroup */
	clock_gettime(CLOCK_MONOTONIC, &now);
	deadline = now.tv_sec + 3;
	for (size_t i = c->nr_made; i-- > 0;) {
		const struct made *m = &c->made[i];
		int r;

		while ((r = unlinkat(c->mnt[m->hier], cg_rel(m->path), AT_REMOVEDIR)) && errno == EBUSY &&
		       !clock_gettime(CLOCK_MONOTONIC, &now) && now.tv_sec < deadline)
			nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
		if (r && errno != ENOENT)
			pr_warn("can't remove cgroup %s that criu made: %m\n", m->path);
		else
			pr_info("removed cgroup %s that criu made\n", m->path);
		free(m->path);
	}
	c->nr_made = 0;
}

void cg_restore_free(struct cg_restore *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->nr_made; i++)
		free(c->made[i].path);
	free(c->made);
	for (size_t i = 0; c->mnt && i < c->self.n; i++)
		if (c->mnt[i] >= 0)
			close(c->mnt[i]);
	free(c->mnt);
	cg_members_free(&c->self);
	hmap_free(&c->set_by_id);
	if (c->img)
		cgroup_entry__free_unpacked(c->img, NULL);
	free(c);
}

/*
 * Act: the propagation of the restored mounts (see mount-propagation.h).
 *
 * Each clone starts private, or a slave of the host when it receives from
 * it, before anything is mounted below it, so nothing we mount can reach
 * the host. Once every mount is attached, the peer groups and masters of
 * the image are set up; read-only is applied after that (mount/mount-restore.c),
 * and last the mounts that were peers of a host group join it again.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <unistd.h>

#define LOG_PREFIX "mnt: "
#include "mount/mntns-restore.h"
#include "mount/mount-propagation.h"
#include "util/hashmap.h"
#include "util/log.h"
#include "util/syscalls.h"
#include "util/util.h"

static bool has_shared(const struct rmount *m)
{
	return m->e->has_shared_id && m->e->shared_id;
}

static bool has_master(const struct rmount *m)
{
	return m->e->has_master_id && m->e->master_id;
}

/* Sets the propagation of an attached mount, from its own namespace (the
 * kernel changes it only there). */
static int set_propagation_in_ns(struct mount_plan *p, struct rmount *m, unsigned long how, const char *what)
{
	int ret = mntns_enter(p, m->ns);

	if (ret)
		return ret;
	if (mount_set_propagation(m->fd, how)) {
		pr_perror("%u:%s: can't make it %s", m->e->mnt_id, m->mountpoint, what);
		return -errno;
	}
	return 0;
}

/* Makes `to` a peer of `from` (MOVE_MOUNT_SET_GROUP; they may be in two namespaces). */
static int set_group(struct rmount *from, struct rmount *to)
{
	if (sys_move_mount(from->fd, "", to->fd, "",
			   MOVE_MOUNT_SET_GROUP | MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH)) {
		pr_perror("%u:%s: can't join the peer group of %u:%s", to->e->mnt_id, to->mountpoint, from->e->mnt_id,
			  from->mountpoint);
		return -errno;
	}
	return 0;
}

/*
 * The propagation a clone starts with, before it is attached. A clone shares
 * the propagation of what it was cloned from; whatever is not meant to stay
 * a slave of the host is made private before anything is mounted below it,
 * so nothing we mount can reach the host. Peers (of the host or of an
 * internal group) join their groups only once the namespace is complete;
 * MOVE_MOUNT_SET_GROUP then also copies the group's master.
 */
static unsigned long initial_propagation(const struct rmount *m)
{
	if (has_shared(m) && m->host_group)
		return MS_PRIVATE;
	if (m->master_outside && (!has_shared(m) || m->group_leader))
		return MS_SLAVE; /* receives from the host, never sends */
	return MS_PRIVATE;
}

int mount_set_initial_propagation(struct rmount *m, int fd)
{
	if (mount_set_propagation(fd, initial_propagation(m))) {
		pr_perror("%u:%s: can't set the propagation of its clone", m->e->mnt_id, m->mountpoint);
		return -errno;
	}
	return 0;
}

/* An external mount that was a peer of a host group keeps a second clone in
 * that group (group_fd) to rejoin it at the end. */
int mount_set_external_propagation(struct rmount *m)
{
	if (has_shared(m) && m->host_group) {
		m->group_fd = sys_open_tree(m->fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
		if (m->group_fd < 0) {
			pr_perror("%u:%s: can't clone %s", m->e->mnt_id, m->mountpoint, m->host_path);
			return -errno;
		}
	}
	return mount_set_initial_propagation(m, m->fd);
}

/* The last step: mounts that were peers of a host group join it again,
 * externals through their kept clone, binds of them from a rejoined peer. */
int mount_rejoin_host_groups(struct mount_plan *p)
{
	struct hmap rejoined;
	int ret = 0;

	hmap_init(&rejoined);
	for (size_t i = 0; i < p->nr && !ret; i++) {
		struct rmount *m = &p->mounts[i];

		if (m->group_fd < 0)
			continue;
		if (sys_move_mount(m->group_fd, "", m->fd, "",
				   MOVE_MOUNT_SET_GROUP | MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH)) {
			pr_perror("%u:%s: can't rejoin the host's peer group of %s", m->e->mnt_id, m->mountpoint,
				  m->host_path);
			ret = -errno;
			break;
		}
		close(m->group_fd);
		m->group_fd = -1;
		m->host_rejoined = true;
		if (!hmap_get_int(&rejoined, m->e->shared_id))
			hmap_put_int(&rejoined, m->e->shared_id, m);
	}
	for (size_t i = 0; i < p->nr && !ret; i++) {
		struct rmount *m = &p->mounts[i], *peer;

		if (!has_shared(m) || !m->host_group || m->host_rejoined)
			continue;
		peer = hmap_get_int(&rejoined, m->e->shared_id);
		if (!peer) {
			pr_warn("%u:%s was a peer of host group %u, but no external mount of that group was restored; "
				"restored as private\n",
				m->e->mnt_id, m->mountpoint, m->e->shared_id);
			continue;
		}
		ret = set_group(peer, m);
	}
	hmap_free(&rejoined);
	return ret;
}

/*
 * Propagation, once every mount is attached (before that, a shared mount
 * would copy its later children to its peers). A peer group is set up from
 * its member with the widest root (MOVE_MOUNT_SET_GROUP needs the source's
 * root to contain the target's); a slave joins its master's group, then
 * turns slave; groups are set up after the groups they are slaves of.
 * Members are linked per group, so this is linear in the number of mounts.
 */
struct peer_group {
	uint32_t id;
	struct rmount *leader;
	struct rmount **members;
	size_t nr;
	int state; /* 0 new, 1 in progress, 2 done */
};

struct groups {
	struct mount_plan *p; /* whose namespaces the builder enters */
	struct hmap by_id;
	struct peer_group *all;
	size_t nr;
	struct rmount **slots; /* one array, sliced among the groups */
};

static int make_slave_of(struct groups *gs, struct rmount *m);

static int establish_group(struct groups *gs, struct peer_group *g)
{
	int ret;

	if (g->state == 2)
		return 0;
	if (g->state == 1) {
		pr_err("image is inconsistent: peer group %u is its own master\n", g->id);
		return -EINVAL;
	}
	g->state = 1;
	ret = make_slave_of(gs, g->leader);
	if (ret)
		return ret;
	ret = set_propagation_in_ns(gs->p, g->leader, MS_SHARED, "shared");
	if (ret)
		return ret;
	for (size_t i = 0; i < g->nr; i++) {
		if (g->members[i] == g->leader)
			continue;
		ret = set_group(g->leader, g->members[i]);
		if (ret)
			return ret;
	}
	g->state = 2;
	return 0;
}

/* Makes `m` a slave of its master group, if that group is in the image. */
static int make_slave_of(struct groups *gs, struct rmount *m)
{
	struct peer_group *master;
	int ret;

	if (!has_master(m))
		return 0;
	master = hmap_get_int(&gs->by_id, m->e->master_id);
	if (!master) {
		/* externals and binds keep a host master through their clone */
		if (m->kind == RM_ROOT || m->kind == RM_FRESH)
			pr_warn("%u:%s was a slave of peer group %u outside the container; restored as private\n",
				m->e->mnt_id, m->mountpoint, m->e->master_id);
		return 0; /* external: its clone already is a slave of the host mount */
	}
	ret = establish_group(gs, master);
	if (ret)
		return ret;
	ret = set_group(master->leader, m);
	return ret ? ret : set_propagation_in_ns(gs->p, m, MS_SLAVE, "a slave");
}

/* Peer groups of the image; an external mount that was a peer of a host
 * group keeps the clone's own group and is left out. */
static void collect_groups(struct mount_plan *p, struct groups *gs)
{
	size_t used = 0;

	gs->slots = xmalloc((p->nr + 1) * sizeof(*gs->slots));
	hmap_init(&gs->by_id);
	gs->all = xzalloc((p->nr + 1) * sizeof(*gs->all));
	gs->nr = 0;
	for (size_t pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < p->nr; i++) {
			struct rmount *m = &p->mounts[i];
			struct peer_group *g;

			if (!has_shared(m) || m->host_group)
				continue;
			g = hmap_get_int(&gs->by_id, m->e->shared_id);
			if (!g) {
				g = &gs->all[gs->nr++];
				g->id = m->e->shared_id;
				hmap_put_int(&gs->by_id, g->id, g);
			}
			if (pass == 0) {
				g->nr++; /* count first, then hand out slices of one array */
				continue;
			}
			if (!g->members) {
				g->members = gs->slots + used;
				used += g->nr;
				g->nr = 0;
			}
			g->members[g->nr++] = m;
			if (m->group_leader)
				g->leader = m;
		}
	}
}

int mount_restore_propagation(struct mount_plan *p)
{
	struct groups gs;
	int ret = 0;

	gs.p = p;
	collect_groups(p, &gs);
	for (size_t i = 0; i < gs.nr && !ret; i++)
		ret = establish_group(&gs, &gs.all[i]);
	for (size_t i = 0; i < p->nr && !ret; i++) {
		struct rmount *m = &p->mounts[i];

		if (has_master(m) && !has_shared(m))
			ret = make_slave_of(&gs, m);
	}
	for (size_t i = 0; i < p->nr && !ret; i++) {
		struct rmount *m = &p->mounts[i];

		if (m->e->flags & MS_UNBINDABLE)
			ret = set_propagation_in_ns(p, m, MS_UNBINDABLE, "unbindable");
	}
	hmap_free(&gs.by_id);
	free(gs.all);
	free(gs.slots);
	return ret;
}

/*
 * Which control files of a cgroup dump saves (upstream's lists, from its
 * cgroup-props.c, for v1; for v2, its global list and the interface files
 * of each controller enabled in the cgroup), and how a value read is put
 * in the image (upstream's conventions). Pure.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup/cgroup-props.h"
#include "util/util.h"

static const char *const cpu_props[] = {"cpu.shares",	    "cpu.cfs_period_us", "cpu.cfs_quota_us",
					"cpu.rt_period_us", "cpu.rt_runtime_us", NULL};
/* limit_in_bytes before memsw.limit_in_bytes: restore writes them in this order */
static const char *const memory_props[] = {"memory.limit_in_bytes",
					   "memory.memsw.limit_in_bytes",
					   "memory.swappiness",
					   "memory.soft_limit_in_bytes",
					   "memory.move_charge_at_immigrate",
					   "memory.oom_control",
					   "memory.use_hierarchy",
					   "memory.kmem.limit_in_bytes",
					   "memory.kmem.tcp.limit_in_bytes",
					   NULL};
static const char *const cpuset_props[] = {"cpuset.cpus",
					   "cpuset.mems",
					   "cpuset.memory_migrate",
					   "cpuset.cpu_exclusive",
					   "cpuset.mem_exclusive",
					   "cpuset.mem_hardwall",
					   "cpuset.memory_spread_page",
					   "cpuset.memory_spread_slab",
					   "cpuset.sched_load_balance",
					   "cpuset.sched_relax_domain_level",
					   NULL};
static const char *const blkio_props[] = {"blkio.weight", NULL};
static const char *const net_cls_props[] = {"net_cls.classid", NULL};
static const char *const net_prio_props[] = {"net_prio.ifpriomap", NULL};
static const char *const pids_props[] = {"pids.max", NULL};
static const char *const devices_props[] = {"devices.list", NULL};
static const char *const v1_global[] = {"cgroup.clone_children", "notify_on_release", "cgroup.procs", "tasks", NULL};

/* v2: the interface files that hold settings, per controller */
static const char *const v2_cpu[] = {"cpu.weight", "cpu.max", NULL};
static const char *const v2_memory[] = {"memory.min",	   "memory.low",       "memory.high", "memory.max",
					"memory.swap.max", "memory.oom.group", NULL};
static const char *const v2_cpuset[] = {"cpuset.cpus", "cpuset.mems", "cpuset.cpus.partition", NULL};
static const char *const v2_io[] = {"io.weight", NULL};
static const char *const v2_global[] = {
	"cgroup.subtree_control", "cgroup.max.descendants", "cgroup.max.depth", "cgroup.freeze", "cgroup.type", NULL};

static const struct {
	const char *ctrl;
	const char *const *v1, *const *v2;
} table[] = {
	{"cpu", cpu_props, v2_cpu},
	{"memory", memory_props, v2_memory},
	{"cpuset", cpuset_props, v2_cpuset},
	{"blkio", blkio_props, NULL},
	{"io", NULL, v2_io},
	{"net_cls", net_cls_props, NULL},
	{"net_prio", net_prio_props, NULL},
	{"pids", pids_props, pids_props},
	{"devices", devices_props, NULL},
};

const char *const *cg_props_of(const char *ctrl, bool v2)
{
	for (size_t i = 0; i < ARRAY_SIZE(table); i++)
		if (!strcmp(table[i].ctrl, ctrl))
			return v2 ? table[i].v2 : table[i].v1;
	return NULL;
}

const char *const *cg_props_global(bool v2)
{
	return v2 ? v2_global : v1_global;
}

static bool in_list(const char *const *list, const char *name)
{
	for (; list && *list; list++)
		if (!strcmp(*list, name))
			return true;
	return false;
}

bool cg_prop_restorable(const char *hier, const char *name)
{
	size_t len;

	if (in_list(cg_props_global(!hier[0]), name))
		return true;
	if (!hier[0]) { /* v2: any controller may be enabled in the cgroup */
		for (size_t i = 0; i < ARRAY_SIZE(table); i++)
			if (in_list(table[i].v2, name))
				return true;
		return false;
	}
	for (const char *c = hier; *c; c += len + (c[len] == ',')) {
		char ctrl[64];

		len = strcspn(c, ",");
		if (len && len < sizeof(ctrl)) {
			memcpy(ctrl, c, len);
			ctrl[len] = '\0';
			if (in_list(cg_props_of(ctrl, false), name))
				return true;
		}
	}
	return false;
}

bool cg_word_in(const char *list, const char *word)
{
	size_t wl = strlen(word), len;

	for (const char *s = list; wl && *s; s += len) {
		s += strspn(s, " \n");
		len = strcspn(s, " \n");
		if (len == wl && !memcmp(s, word, wl))
			return true;
	}
	return false;
}

bool cg_prop_is_member_list(const char *name)
{
	return !strcmp(name, "cgroup.procs") || !strcmp(name, "tasks");
}

bool cg_prop_is_freeze(const char *name)
{
	return !strcmp(name, "cgroup.freeze") || !strcmp(name, "freezer.state");
}

char *cg_prop_value(const char *name, const char *raw)
{
	size_t len = strlen(raw);
	char *v;
	int n;

	while (len && (raw[len - 1] == '\n' || raw[len - 1] == ' '))
		len--;
	v = strndup(raw, len);
	if (!v)
		abort();
	if (!strcmp(name, "memory.oom_control")) {
		/* "oom_kill_disable N\nunder_oom M...": what is written back is N */
		if (sscanf(v, "oom_kill_disable %d", &n) != 1) {
			free(v);
			return NULL;
		}
		snprintf(v, len + 1, "%d", n);
	} else if (strtoll(v, NULL, 10) == LLONG_MAX && len) {
		strcpy(v, "-1"); /* "unlimited" as v1 files accept it back */
	}
	return v;
}

/*
 * task_kobj_ids_entry's namespace ids by kind (ids-<pid>.img, and
 * inventory.img's root_ids): one accessor for the code that compares
 * them, rather than a copy of the field list each.
 */
#ifndef CRIU_IMAGE_KOBJ_IDS_H
#define CRIU_IMAGE_KOBJ_IDS_H

#include <stdbool.h>
#include <stdint.h>

#include "core.pb-c.h"

enum kobj_ns {
	KNS_MNT,
	KNS_PID,
	KNS_UTS,
	KNS_IPC,
	KNS_NET,
	KNS_TIME,
	KNS_USER,
	KNS_CGROUP,
	KNS_NR
};

static inline const char *kobj_ns_name(enum kobj_ns k)
{
	static const char *const names[KNS_NR] = {"mnt", "pid", "uts", "ipc", "net", "time", "user", "cgroup"};

	return (unsigned)k < KNS_NR ? names[k] : "?";
}

/* The id of kind k in e; false (and *id 0) when e doesn't say. */
static inline bool kobj_ns_id(const TaskKobjIdsEntry *e, enum kobj_ns k, uint32_t *id)
{
	const uint32_t v[KNS_NR] = {e->mnt_ns_id, e->pid_ns_id,	 e->uts_ns_id,	e->ipc_ns_id,
				    e->net_ns_id, e->time_ns_id, e->user_ns_id, e->cgroup_ns_id};
	const protobuf_c_boolean has[KNS_NR] = {e->has_mnt_ns_id,  e->has_pid_ns_id,   e->has_uts_ns_id,
						e->has_ipc_ns_id,  e->has_net_ns_id,   e->has_time_ns_id,
						e->has_user_ns_id, e->has_cgroup_ns_id};

	*id = (unsigned)k < KNS_NR && has[k] ? v[k] : 0;
	return (unsigned)k < KNS_NR && has[k];
}

#endif

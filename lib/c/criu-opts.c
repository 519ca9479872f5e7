/*
 * libcriu's options: criu_local_set_* / criu_local_add_* fill a criu_opts
 * request, and each criu_set_* / criu_add_* is the same on the library's
 * own options. Generated pairwise by macros, one line per option, so that
 * the two families can't drift apart.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "criu-private.h"

criu_opts *libcriu_global;

/* Service settings made before criu_init_opts apply to the options it makes. */
static enum criu_service_comm pending_comm = CRIU_COMM_BIN;
static char *pending_address;
static int pending_fd = -1;
static char *pending_binary;

static int set_str(char **field, const char *s)
{
	char *c = NULL;

	if (s && !(c = strdup(s)))
		return -ENOMEM;
	free(*field);
	*field = c;
	return 0;
}

static int add_str(size_t *n, char ***arr, const char *s)
{
	char **a;
	char *c;

	if (!s)
		return -EINVAL;
	c = strdup(s);
	a = realloc(*arr, (*n + 1) * sizeof(**arr));
	if (!c || !a) {
		free(c);
		if (a)
			*arr = a;
		return -ENOMEM;
	}
	a[(*n)++] = c;
	*arr = a;
	return 0;
}

/* Appends a new, zeroed message of `size` bytes to a repeated field. */
static void *add_msg(size_t *n, void ***arr, size_t size)
{
	void **a = realloc(*arr, (*n + 1) * sizeof(**arr));
	void *m;

	if (!a)
		return NULL;
	*arr = a;
	m = calloc(1, size);
	if (!m)
		return NULL;
	a[(*n)++] = m;
	return m;
}

#define LOCAL_AND_GLOBAL_VOID(name, type)                                                   \
	CRIU_EXPORT void criu_set_##name(type v)                                            \
	{                                                                                   \
		criu_local_set_##name(libcriu_global, v);                                   \
	}
#define LOCAL_AND_GLOBAL_INT(name, type)                                                    \
	CRIU_EXPORT int criu_set_##name(type v)                                             \
	{                                                                                   \
		return criu_local_set_##name(libcriu_global, v);                            \
	}

/* An optional scalar (bool, int, enum): has_FIELD and FIELD. */
#define OPT_SCALAR(name, field, type)                                                       \
	CRIU_EXPORT void criu_local_set_##name(criu_opts *o, type v)                        \
	{                                                                                   \
		o->rpc->has_##field = 1;                                                    \
		o->rpc->field = v;                                                          \
	}                                                                                   \
	LOCAL_AND_GLOBAL_VOID(name, type)

/* An optional string. */
#define OPT_STRING(name, field)                                                             \
	CRIU_EXPORT int criu_local_set_##name(criu_opts *o, const char *s)                  \
	{                                                                                   \
		return set_str(&o->rpc->field, s);                                          \
	}                                                                                   \
	LOCAL_AND_GLOBAL_INT(name, const char *)

/* A repeated string, one criu_add_NAME call per value. */
#define REP_STRING(name, field)                                                             \
	CRIU_EXPORT int criu_local_add_##name(criu_opts *o, const char *s)                  \
	{                                                                                   \
		return add_str(&o->rpc->n_##field, &o->rpc->field, s);                      \
	}                                                                                   \
	CRIU_EXPORT int criu_add_##name(const char *s)                                      \
	{                                                                                   \
		return criu_local_add_##name(libcriu_global, s);                            \
	}

OPT_SCALAR(pid, pid, int)
OPT_SCALAR(work_dir_fd, work_dir_fd, int)
OPT_SCALAR(leave_running, leave_running, bool)
OPT_SCALAR(ext_unix_sk, ext_unix_sk, bool)
OPT_SCALAR(tcp_established, tcp_established, bool)
OPT_SCALAR(tcp_skip_in_flight, tcp_skip_in_flight, bool)
OPT_SCALAR(tcp_close, tcp_close, bool)
OPT_SCALAR(weak_sysctls, weak_sysctls, bool)
OPT_SCALAR(evasive_devices, evasive_devices, bool)
OPT_SCALAR(shell_job, shell_job, bool)
OPT_SCALAR(skip_file_rwx_check, skip_file_rwx_check, bool)
OPT_SCALAR(unprivileged, unprivileged, bool)
OPT_SCALAR(orphan_pts_master, orphan_pts_master, bool)
OPT_SCALAR(file_locks, file_locks, bool)
OPT_SCALAR(track_mem, track_mem, bool)
OPT_SCALAR(auto_dedup, auto_dedup, bool)
OPT_SCALAR(force_irmap, force_irmap, bool)
OPT_SCALAR(link_remap, link_remap, bool)
OPT_SCALAR(log_level, log_level, int)
OPT_SCALAR(cpu_cap, cpu_cap, unsigned int)
OPT_SCALAR(manage_cgroups, manage_cgroups, bool)
OPT_SCALAR(timeout, timeout, unsigned int)
OPT_SCALAR(auto_ext_mnt, auto_ext_mnt, bool)
OPT_SCALAR(ext_sharing, ext_sharing, bool)
OPT_SCALAR(ext_masters, ext_masters, bool)
OPT_SCALAR(ghost_limit, ghost_limit, unsigned int)
OPT_SCALAR(pidfd_store_sk, pidfd_store_sk, int)
OPT_SCALAR(mntns_compat_mode, mntns_compat_mode, bool)
OPT_SCALAR(empty_ns, empty_ns, int)

OPT_STRING(parent_images, parent_img)
OPT_STRING(log_file, log_file)
OPT_STRING(root, root)
OPT_STRING(freeze_cgroup, freeze_cgroup)
OPT_STRING(lsm_profile, lsm_profile)
OPT_STRING(lsm_mount_context, lsm_mount_context)
OPT_STRING(config_file, config_file)

REP_STRING(enable_fs, enable_fs)
REP_STRING(skip_mnt, skip_mnt)
REP_STRING(irmap_path, irmap_scan_paths)
REP_STRING(cg_dump_controller, cgroup_dump_controller)
REP_STRING(external, external)

/* images_dir_fd is the request's one required field. */
CRIU_EXPORT void criu_local_set_images_dir_fd(criu_opts *o, int fd)
{
	o->rpc->images_dir_fd = fd;
}
LOCAL_AND_GLOBAL_VOID(images_dir_fd, int)

CRIU_EXPORT void criu_local_set_manage_cgroups_mode(criu_opts *o, enum criu_cg_mode mode)
{
	o->rpc->has_manage_cgroups_mode = 1;
	o->rpc->manage_cgroups_mode = (CriuCgMode)mode;
}
LOCAL_AND_GLOBAL_VOID(manage_cgroups_mode, enum criu_cg_mode)

CRIU_EXPORT int criu_local_set_pre_dump_mode(criu_opts *o, enum criu_pre_dump_mode mode)
{
	if (mode != CRIU_PRE_DUMP_SPLICE && mode != CRIU_PRE_DUMP_READ)
		return -EINVAL;
	o->rpc->has_pre_dump_mode = 1;
	o->rpc->pre_dump_mode = (CriuPreDumpMode)mode;
	return 0;
}
LOCAL_AND_GLOBAL_INT(pre_dump_mode, enum criu_pre_dump_mode)

CRIU_EXPORT int criu_local_set_network_lock(criu_opts *o, enum criu_network_lock_method method)
{
	if (method < CRIU_NETWORK_LOCK_IPTABLES || method > CRIU_NETWORK_LOCK_SKIP)
		return -EINVAL;
	o->rpc->has_network_lock = 1;
	o->rpc->network_lock = (CriuNetworkLockMethod)method;
	return 0;
}
LOCAL_AND_GLOBAL_INT(network_lock, enum criu_network_lock_method)

/* The cgroup property strings are single values, "add" in name only. */
CRIU_EXPORT int criu_local_add_cg_props(criu_opts *o, const char *stream)
{
	return set_str(&o->rpc->cgroup_props, stream);
}
CRIU_EXPORT int criu_add_cg_props(const char *stream)
{
	return criu_local_add_cg_props(libcriu_global, stream);
}
CRIU_EXPORT int criu_local_add_cg_props_file(criu_opts *o, const char *path)
{
	return set_str(&o->rpc->cgroup_props_file, path);
}
CRIU_EXPORT int criu_add_cg_props_file(const char *path)
{
	return criu_local_add_cg_props_file(libcriu_global, path);
}
CRIU_EXPORT int criu_local_add_cg_yard(criu_opts *o, const char *path)
{
	return set_str(&o->rpc->cgroup_yard, path);
}
CRIU_EXPORT int criu_add_cg_yard(const char *path)
{
	return criu_local_add_cg_yard(libcriu_global, path);
}

CRIU_EXPORT int criu_local_set_exec_cmd(criu_opts *o, int argc, char *argv[])
{
	for (size_t i = 0; i < o->rpc->n_exec_cmd; i++)
		free(o->rpc->exec_cmd[i]);
	o->rpc->n_exec_cmd = 0;
	for (int i = 0; i < argc; i++)
		if (add_str(&o->rpc->n_exec_cmd, &o->rpc->exec_cmd, argv[i]))
			return -ENOMEM;
	return 0;
}
CRIU_EXPORT int criu_set_exec_cmd(int argc, char *argv[])
{
	return criu_local_set_exec_cmd(libcriu_global, argc, argv);
}

CRIU_EXPORT int criu_local_add_ext_mount(criu_opts *o, const char *key, const char *val)
{
	ExtMountMap *m;

	if (!key || !val)
		return -EINVAL;
	m = add_msg(&o->rpc->n_ext_mnt, (void ***)&o->rpc->ext_mnt, sizeof(*m));
	if (!m)
		return -ENOMEM;
	ext_mount_map__init(m);
	if (set_str(&m->key, key) || set_str(&m->val, val))
		return -ENOMEM;
	return 0;
}
CRIU_EXPORT int criu_add_ext_mount(const char *key, const char *val)
{
	return criu_local_add_ext_mount(libcriu_global, key, val);
}

CRIU_EXPORT int criu_local_add_veth_pair(criu_opts *o, const char *in, const char *out)
{
	CriuVethPair *p;

	if (!in || !out)
		return -EINVAL;
	p = add_msg(&o->rpc->n_veths, (void ***)&o->rpc->veths, sizeof(*p));
	if (!p)
		return -ENOMEM;
	criu_veth_pair__init(p);
	if (set_str(&p->if_in, in) || set_str(&p->if_out, out))
		return -ENOMEM;
	return 0;
}
CRIU_EXPORT int criu_add_veth_pair(const char *in, const char *out)
{
	return criu_local_add_veth_pair(libcriu_global, in, out);
}

CRIU_EXPORT int criu_local_add_cg_root(criu_opts *o, const char *ctrl, const char *path)
{
	CgroupRoot *r;

	if (!path)
		return -EINVAL;
	r = add_msg(&o->rpc->n_cg_root, (void ***)&o->rpc->cg_root, sizeof(*r));
	if (!r)
		return -ENOMEM;
	cgroup_root__init(r);
	if (set_str(&r->ctrl, ctrl) || set_str(&r->path, path))
		return -ENOMEM;
	return 0;
}
CRIU_EXPORT int criu_add_cg_root(const char *ctrl, const char *path)
{
	return criu_local_add_cg_root(libcriu_global, ctrl, path);
}

CRIU_EXPORT int criu_local_add_inherit_fd(criu_opts *o, int fd, const char *key)
{
	InheritFd *in;

	if (!key || fd < 0)
		return -EINVAL;
	in = add_msg(&o->rpc->n_inherit_fd, (void ***)&o->rpc->inherit_fd, sizeof(*in));
	if (!in)
		return -ENOMEM;
	inherit_fd__init(in);
	in->fd = fd;
	return set_str(&in->key, key);
}
CRIU_EXPORT int criu_add_inherit_fd(int fd, const char *key)
{
	return criu_local_add_inherit_fd(libcriu_global, fd, key);
}

CRIU_EXPORT int criu_local_add_unix_sk(criu_opts *o, unsigned int inode)
{
	UnixSk *u = add_msg(&o->rpc->n_unix_sk_ino, (void ***)&o->rpc->unix_sk_ino, sizeof(*u));

	if (!u)
		return -ENOMEM;
	unix_sk__init(u);
	u->inode = inode;
	return 0;
}
CRIU_EXPORT int criu_add_unix_sk(unsigned int inode)
{
	return criu_local_add_unix_sk(libcriu_global, inode);
}

CRIU_EXPORT int criu_local_join_ns_add(criu_opts *o, const char *ns, const char *ns_file, const char *extra_opt)
{
	JoinNamespace *j;

	if (!ns || !ns_file)
		return -EINVAL;
	j = add_msg(&o->rpc->n_join_ns, (void ***)&o->rpc->join_ns, sizeof(*j));
	if (!j)
		return -ENOMEM;
	join_namespace__init(j);
	if (set_str(&j->ns, ns) || set_str(&j->ns_file, ns_file) || set_str(&j->extra_opt, extra_opt))
		return -ENOMEM;
	return 0;
}
CRIU_EXPORT int criu_join_ns_add(const char *ns, const char *ns_file, const char *extra_opt)
{
	return criu_local_join_ns_add(libcriu_global, ns, ns_file, extra_opt);
}

CRIU_EXPORT int criu_local_set_page_server_address_port(criu_opts *o, const char *address, int port)
{
	CriuPageServerInfo *ps = o->rpc->ps;

	if (!ps) {
		ps = calloc(1, sizeof(*ps));
		if (!ps)
			return -ENOMEM;
		criu_page_server_info__init(ps);
		o->rpc->ps = ps;
	}
	if (set_str(&ps->address, address))
		return -ENOMEM;
	ps->has_port = 1;
	ps->port = port;
	return 0;
}
CRIU_EXPORT int criu_set_page_server_address_port(const char *address, int port)
{
	return criu_local_set_page_server_address_port(libcriu_global, address, port);
}

CRIU_EXPORT void criu_local_set_notify_cb(criu_opts *o, int (*cb)(char *action, criu_notify_arg_t na))
{
	o->notify = cb;
	o->rpc->has_notify_scripts = 1;
	o->rpc->notify_scripts = cb != NULL;
}
CRIU_EXPORT void criu_set_notify_cb(int (*cb)(char *action, criu_notify_arg_t na))
{
	criu_local_set_notify_cb(libcriu_global, cb);
}

/* ---- how to reach criu ---- */

CRIU_EXPORT int criu_local_set_service_address(criu_opts *o, const char *path)
{
	if (set_str(&o->service_address, path ? path : "/var/run/criu_service.socket"))
		return -ENOMEM;
	o->comm = CRIU_COMM_SK;
	return 0;
}
CRIU_EXPORT void criu_local_set_service_fd(criu_opts *o, int fd)
{
	o->service_fd = fd;
	o->comm = CRIU_COMM_FD;
}
CRIU_EXPORT int criu_local_set_service_binary(criu_opts *o, const char *path)
{
	if (set_str(&o->service_binary, path ? path : "criu"))
		return -ENOMEM;
	o->comm = CRIU_COMM_BIN;
	return 0;
}

CRIU_EXPORT int criu_set_service_address(const char *path)
{
	if (set_str(&pending_address, path ? path : "/var/run/criu_service.socket"))
		return -ENOMEM;
	pending_comm = CRIU_COMM_SK;
	return libcriu_global ? criu_local_set_service_address(libcriu_global, path) : 0;
}
CRIU_EXPORT void criu_set_service_fd(int fd)
{
	pending_fd = fd;
	pending_comm = CRIU_COMM_FD;
	if (libcriu_global)
		criu_local_set_service_fd(libcriu_global, fd);
}
CRIU_EXPORT int criu_set_service_binary(const char *path)
{
	if (set_str(&pending_binary, path ? path : "criu"))
		return -ENOMEM;
	pending_comm = CRIU_COMM_BIN;
	return libcriu_global ? criu_local_set_service_binary(libcriu_global, path) : 0;
}

/* ---- life cycle ---- */

CRIU_EXPORT int criu_local_init_opts(criu_opts **opts)
{
	criu_opts *o = calloc(1, sizeof(*o));

	if (!o)
		return -1;
	o->rpc = malloc(sizeof(*o->rpc));
	o->service_binary = strdup("criu");
	if (!o->rpc || !o->service_binary) {
		free(o->rpc);
		free(o->service_binary);
		free(o);
		return -1;
	}
	criu_opts__init(o->rpc);
	o->comm = CRIU_COMM_BIN;
	o->service_fd = -1;
	*opts = o;
	return 0;
}

CRIU_EXPORT void criu_local_free_opts(criu_opts *o)
{
	if (!o)
		return;
	/* every part of the request was malloc'd: protobuf-c's own free walks it */
	criu_opts__free_unpacked(o->rpc, NULL);
	free(o->service_address);
	free(o->service_binary);
	free(o);
}

CRIU_EXPORT int criu_init_opts(void)
{
	criu_local_free_opts(libcriu_global);
	libcriu_global = NULL;
	if (criu_local_init_opts(&libcriu_global))
		return -1;
	switch (pending_comm) {
	case CRIU_COMM_SK:
		return criu_local_set_service_address(libcriu_global, pending_address);
	case CRIU_COMM_FD:
		criu_local_set_service_fd(libcriu_global, pending_fd);
		return 0;
	case CRIU_COMM_BIN:
		return criu_local_set_service_binary(libcriu_global, pending_binary);
	}
	return 0;
}

CRIU_EXPORT void criu_free_opts(void)
{
	criu_local_free_opts(libcriu_global);
	libcriu_global = NULL;
}

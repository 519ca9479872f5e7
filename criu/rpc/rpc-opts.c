/*
 * criu_opts -> struct options (see rpc/rpc-opts.h).
 *
 * Which options are honoured is one list (handled[]): every other field of
 * criu_opts that a request sets to something but its default is refused,
 * found by walking the message's descriptor, so a field added to rpc.proto
 * is refused until someone maps it here.
 */
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup/cgroup.h"
#include "rpc/rpc-opts.h"
#include "util/log.h"
#include "util/util.h"

#define FOR_DUMP (1 << CMD_DUMP)
#define FOR_RESTORE (1 << CMD_RESTORE)
#define FOR_BOTH (FOR_DUMP | FOR_RESTORE)

/* Fields mapped below, and fields that cost nothing to accept, with the
 * requests they are honoured for. */
static const struct {
	const char *name;
	unsigned cmds;
} handled[] = {
	{"images_dir_fd", FOR_BOTH},
	{"images_dir", FOR_BOTH},
	{"pid", FOR_DUMP},
	{"leave_running", FOR_DUMP},
	{"tcp_established", FOR_BOTH},
	{"shell_job", FOR_BOTH},
	{"log_level", FOR_BOTH},
	{"log_file", FOR_BOTH},
	{"root", FOR_BOTH},
	{"auto_dedup", FOR_BOTH},
	{"work_dir_fd", FOR_BOTH},
	{"ext_mnt", FOR_BOTH},
	{"auto_ext_mnt", FOR_BOTH},
	{"ext_sharing", FOR_BOTH},
	{"ext_masters", FOR_BOTH},
	{"external", FOR_BOTH},
	{"inherit_fd", FOR_RESTORE},
	{"timeout", FOR_BOTH},
	{"notify_scripts", FOR_BOTH},
	{"rst_sibling", FOR_RESTORE},
	{"config_file", FOR_BOTH},
	{"freeze_cgroup", FOR_DUMP},
	{"orphan_pts_master", FOR_BOTH}, /* files/tty-*.c */
	{"empty_ns", FOR_BOTH},
	{"join_ns", FOR_RESTORE},
	{"manage_cgroups", FOR_BOTH},	   /* restore: soft or ignore; dump: cgroups are always saved */
	{"manage_cgroups_mode", FOR_BOTH}, /* restore: the mode; dump: likewise always saved */
	{"cg_root", FOR_RESTORE},
	/* what criu does whatever they say: */
	/* criu reopens device files by their path; a missing one fails the
	 * restore, it is never replaced by a look-alike */
	{"evasive_devices", FOR_RESTORE},
	{"pre_dump_mode", FOR_BOTH},	 /* no effect on a plain dump, as upstream */
	{"ghost_limit", FOR_BOTH},	 /* criu dumps no ghost files (deleted files are refused) */
	{"link_remap", FOR_BOTH},	 /* likewise: nothing to link-remap */
	{"force_irmap", FOR_BOTH},	 /* inotify watches are dumped by path in any case */
	{"log_to_stderr", FOR_BOTH},	 /* errors always go to stderr as well */
	/* a permission: a tree holding a lock is refused at dump anyway */
	{"file_locks", FOR_BOTH},
};

static bool is_handled(const char *name, enum criu_cmd cmd)
{
	for (size_t i = 0; i < ARRAY_SIZE(handled); i++)
		if (!strcmp(handled[i].name, name))
			return handled[i].cmds & (1u << cmd);
	return false;
}

/* Whether field `f` of `msg` holds something other than its default. */
static bool field_set(const ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f)
{
	const char *base = (const char *)msg;
	const void *val = base + f->offset;

	if (f->label == PROTOBUF_C_LABEL_REPEATED)
		return *(const size_t *)(base + f->quantifier_offset) > 0;
	if (f->type == PROTOBUF_C_TYPE_STRING || f->type == PROTOBUF_C_TYPE_MESSAGE ||
	    f->type == PROTOBUF_C_TYPE_BYTES) {
		const void *p = *(const void *const *)val;

		return p && p != f->default_value;
	}
	if (f->label == PROTOBUF_C_LABEL_OPTIONAL && !*(const protobuf_c_boolean *)(base + f->quantifier_offset))
		return false;
	switch (f->type) {
	case PROTOBUF_C_TYPE_BOOL:
		return *(const protobuf_c_boolean *)val;
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_ENUM:
		return !f->default_value ? *(const int32_t *)val != 0
					 : *(const int32_t *)val != *(const int32_t *)f->default_value;
	default:
		return true;
	}
}

const char *rpc_opts_unsupported(const CriuOpts *ro, enum criu_cmd cmd)
{
	const ProtobufCMessageDescriptor *d = &criu_opts__descriptor;

	for (unsigned i = 0; i < d->n_fields; i++)
		if (!is_handled(d->fields[i].name, cmd) && field_set(&ro->base, &d->fields[i]))
			return d->fields[i].name;
	return NULL;
}

static char *client_fd_path(pid_t client, int fd)
{
	char *p = xmalloc(48);

	snprintf(p, 48, "/proc/%d/fd/%d", (int)client, fd);
	return p;
}

int rpc_opts_dirs(const CriuOpts *ro, pid_t client, struct options *o)
{
	free(o->imgs_dir);
	if (ro->images_dir_fd >= 0)
		o->imgs_dir = client_fd_path(client, ro->images_dir_fd);
	else if (ro->images_dir && ro->images_dir[0])
		o->imgs_dir = xstrdup(ro->images_dir);
	else {
		o->imgs_dir = NULL;
		pr_err("RPC request without an images directory: set images_dir_fd (or images_dir)\n");
		return -1;
	}
	free(o->work_dir);
	o->work_dir = ro->has_work_dir_fd ? client_fd_path(client, ro->work_dir_fd) : NULL;
	if (ro->log_file) {
		if (!ro->log_file[0] || strchr(ro->log_file, '/')) {
			pr_err("RPC log_file '%s' is not a file name: it is a name in the work directory (set work_dir_fd)\n",
			       ro->log_file);
			return -1;
		}
		free(o->log_file);
		o->log_file = xstrdup(ro->log_file);
	}
	if (ro->has_log_level)
		o->verbosity = ro->log_level < 0 ? 0 : ro->log_level > 4 ? 4 : ro->log_level;
	return 0;
}

static int apply_inherit_fds(const CriuOpts *ro, struct options *o)
{
	for (size_t i = 0; i < ro->n_inherit_fd; i++) {
		const InheritFd *in = ro->inherit_fd[i];

		if (in->fd < 0 || fcntl(in->fd, F_GETFD) < 0) {
			pr_err("RPC inherit_fd %s: %d is not a descriptor criu was given\n", in->key, in->fd);
			return -1;
		}
		o->inherit_fds = xrealloc(o->inherit_fds, (o->nr_inherit_fds + 1) * sizeof(*o->inherit_fds));
		o->inherit_fds[o->nr_inherit_fds].fd = in->fd;
		o->inherit_fds[o->nr_inherit_fds].res = xstrdup(in->key);
		o->nr_inherit_fds++;
	}
	return 0;
}

static int apply_externals(const CriuOpts *ro, struct options *o)
{
	for (size_t i = 0; i < ro->n_ext_mnt; i++) {
		const ExtMountMap *m = ro->ext_mnt[i];

		if (!m->key[0] || !m->val[0]) {
			pr_err("RPC ext_mnt with an empty %s: both key and val are needed\n", m->key[0] ? "val" : "key");
			return -1;
		}
		add_ext_mount(o, m->key, strlen(m->key), m->val, m->key);
	}
	if (ro->has_auto_ext_mnt && ro->auto_ext_mnt)
		o->ext_mounts_auto = true;
	if (ro->has_ext_sharing && ro->ext_sharing)
		o->enable_external_sharing = true;
	if (ro->has_ext_masters && ro->ext_masters)
		o->enable_external_masters = true;
	for (size_t i = 0; i < ro->n_external; i++)
		if (parse_external(o, ro->external[i]))
			return -1;
	return 0;
}

/* empty_ns (CLONE_NEW* bits: only CLONE_NEWNET, as upstream) and join_ns. */
static int apply_ns_opts(const CriuOpts *ro, struct options *o)
{
	if (ro->has_empty_ns && (ro->empty_ns & ~(uint32_t)CLONE_NEWNET)) {
		pr_err("RPC empty_ns %#x: only the network namespace (CLONE_NEWNET, %#x) can be left empty\n",
		       ro->empty_ns, (unsigned)CLONE_NEWNET);
		return -1;
	}
	if (ro->has_empty_ns)
		o->empty_ns = ro->empty_ns;
	for (size_t i = 0; i < ro->n_join_ns; i++)
		if (add_join_ns(o, ro->join_ns[i]->ns, ro->join_ns[i]->ns_file, ro->join_ns[i]->extra_opt))
			return -1;
	return 0;
}

/* The options a request set, in the log: what the client asked for. */
static void log_set_fields(const CriuOpts *ro)
{
	const ProtobufCMessageDescriptor *d = &criu_opts__descriptor;
	char line[1024];
	size_t len = 0;

	line[0] = '\0';
	for (unsigned i = 0; i < d->n_fields && len < sizeof(line); i++)
		if (field_set(&ro->base, &d->fields[i]))
			len += snprintf(line + len, sizeof(line) - len, " %s", d->fields[i].name);
	pr_info("rpc: the request sets%s\n", line[0] ? line : " nothing");
}

/* As upstream: manage_cgroups says soft or ignore, manage_cgroups_mode
 * (criu_cg_mode, the same numbers as enum cg_mode; DEFAULT is soft) wins. */
static int apply_cgroups(const CriuOpts *ro, struct options *o)
{
	if (ro->has_manage_cgroups)
		o->manage_cgroups = ro->manage_cgroups ? CG_MODE_SOFT : CG_MODE_IGNORE;
	if (ro->has_manage_cgroups_mode) {
		if (ro->manage_cgroups_mode == CRIU_CG_MODE__DEFAULT)
			o->manage_cgroups = CG_MODE_DEFAULT;
		else if ((unsigned)ro->manage_cgroups_mode <= CG_MODE_STRICT)
			o->manage_cgroups = (int)ro->manage_cgroups_mode;
		else {
			pr_err("RPC manage_cgroups_mode %d is no criu_cg_mode\n", (int)ro->manage_cgroups_mode);
			return -1;
		}
	}
	for (size_t i = 0; i < ro->n_cg_root; i++) {
		const CgroupRoot *r = ro->cg_root[i];

		if (!r->path || r->path[0] != '/') {
			pr_err("RPC cg_root %s: the cgroup path must be absolute\n", r->path ? r->path : "(none)");
			return -1;
		}
		add_cg_root(o, r->ctrl, r->path);
	}
	return 0;
}

int rpc_opts_apply(const CriuOpts *ro, enum criu_cmd cmd, pid_t client, struct options *o)
{
	const char *bad;

	log_set_fields(ro);
	bad = rpc_opts_unsupported(ro, cmd);

	o->cmd = cmd;
	if (bad) {
		pr_err("RPC option %s is not supported by this criu%s\n", bad,
		       is_handled(bad, cmd == CMD_DUMP ? CMD_RESTORE : CMD_DUMP)
			       ? (cmd == CMD_DUMP ? " on dump" : " on restore")
			       : "");
		pr_hint("leave it unset; `criu --help` and criu(8) list what criu carries\n");
		return -1;
	}
	if (cmd == CMD_DUMP) {
		if (!ro->has_pid || ro->pid <= 0) {
			pr_err("RPC dump without a pid: set opts.pid to the root of the tree to dump\n");
			return -1;
		}
		o->tree_pid = ro->pid;
	}
	o->ext_mount_keys_optional = true;
	o->leave_running = ro->has_leave_running && ro->leave_running;
	o->tcp_established = ro->has_tcp_established && ro->tcp_established;
	o->shell_job = ro->has_shell_job && ro->shell_job;
	o->orphan_pts_master = ro->has_orphan_pts_master && ro->orphan_pts_master;
	o->auto_dedup = ro->has_auto_dedup && ro->auto_dedup;
	if (ro->has_timeout)
		o->timeout = ro->timeout;
	if (ro->root) {
		free(o->root);
		o->root = xstrdup(ro->root);
	}
	if (ro->freeze_cgroup && cmd == CMD_DUMP) {
		free(o->freeze_cgroup);
		o->freeze_cgroup = xstrdup(ro->freeze_cgroup);
	}
	if (apply_cgroups(ro, o))
		return -1;
	if (apply_externals(ro, o) || apply_inherit_fds(ro, o) || apply_ns_opts(ro, o))
		return -1;
	/* the runtime's configuration file comes last and wins, as upstream;
	 * a missing one is no error, a malformed one is */
	if (ro->config_file && parse_config_file(o, ro->config_file))
		return -1;
	return 0;
}

/*
 * The command line, parsed once into one struct options that is passed
 * explicitly to whoever needs it (no process-wide global).
 */
#ifndef CRIU_OPTIONS_H
#define CRIU_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

enum criu_cmd {
	CMD_NONE,
	CMD_DUMP,
	CMD_RESTORE,
	CMD_SHOW,
	CMD_CHECK,
	CMD_SERVICE,
};

/* One --external mnt[KEY]:VAL or --ext-mount-map KEY:VAL pair. */
struct ext_mount_opt {
	char *key;
	char *val;
	const char *spelling; /* how the user wrote it, for error messages (owned) */
	bool used;	      /* matched a mount (typo detection) */
};

/* Another --external resource (dev[], net[], tty[] ...), kept for later stages. */
struct external_opt {
	char *kind; /* "dev", "net", ... */
	char *key;
	char *val; /* may be NULL */
};

struct options {
	enum criu_cmd cmd;
	char *imgs_dir;	 /* -D, default "." */
	char *work_dir;	 /* -W: logs and statistics; NULL: imgs_dir */
	pid_t tree_pid;	 /* -t */
	char *log_file;	 /* -o, relative to imgs_dir unless absolute */
	int verbosity;	 /* -v, 0..4 */
	char *root;	 /* -r/--root */
	bool leave_running;
	bool restore_detached;
	char *freeze_cgroup;	/* --freeze-cgroup PATH: freeze the tree through its cgroup to seize it */
	/* restore: --manage-cgroups[=MODE] (RPC manage_cgroups, manage_cgroups_mode):
	 * an enum cg_mode (cgroup/cgroup.h), CG_MODE_SOFT unless told */
	int manage_cgroups;
	/* restore: --cgroup-root [CTRL:]PATH (RPC cg_root), repeatable */
	struct cg_root_opt {
		char *ctrl; /* NULL: every hierarchy without one of its own */
		char *path;
	} *cg_roots;
	size_t nr_cg_roots;
	bool restore_sibling; /* --restore-sibling, RPC rst_sibling: the root is criu's parent's child */
	bool shell_job;
	/* RPC orphan_pts_master: a pty slave whose master is outside the tree
	 * is dumped; restore makes a new pair and hands the master to the
	 * client (orphan-pts-master). No command line spelling, as upstream. */
	bool orphan_pts_master;
	bool auto_dedup; /* --auto-dedup: restore punches restored pages out of the images */
	bool tcp_established; /* --tcp-established: dump established TCP connections (TCP_REPAIR) */
	bool assume_no_global_membarrier; /* kernels < 6.3 can't tell that registration */
	bool release_memory;  /* --release-memory: dump gives memory back as it goes (no -R) */
	char *pidfile;
	unsigned timeout;

	/* External mounts. */
	struct ext_mount_opt *ext_mounts;
	size_t nr_ext_mounts;
	bool ext_mounts_auto;	       /* mnt[] or --ext-mount-map auto */
	bool enable_external_sharing;  /* mnt[]:s, --enable-external-sharing */
	bool enable_external_masters;  /* mnt[]:m, --enable-external-masters */
	/* A key that names no mount is a warning, not an error: set for RPC,
	 * where runtimes pass a key for every device and masked path they
	 * may have bound (runc mknods devices when it can). */
	bool ext_mount_keys_optional;

	struct external_opt *externals;
	size_t nr_externals;

	/* Namespaces (task/ns-options.c): --empty-ns net (RPC empty_ns, only
	 * CLONE_NEWNET), and --join-ns NS:PATH[,EXTRA] (restore) */
	unsigned long empty_ns;
	struct join_ns_opt {
		char *ns;    /* "net", "uts", "ipc", "time" */
		char *path;  /* a namespace file, or a pid: /proc/PID/ns/NS */
		char *extra; /* upstream's user namespace uid,gid; NULL */
	} *join_ns;
	size_t nr_join_ns;

	/* --inherit-fd fd[N]:RES (restore) */
	struct inherit_fd_opt {
		int fd;
		char *res; /* "pipe:[ID]", a path... */
	} *inherit_fds;
	size_t nr_inherit_fds;

	/* Stage notifications (notify.h): --action-script PATH, repeatable. */
	char **action_scripts;
	size_t nr_action_scripts;
	/* Set by criu swrk when the client asked for notifications
	 * (notify_scripts): tells it `action`, with the root's pid or a
	 * descriptor to pass; 0 when it says go on. */
	int (*notify_hook)(void *arg, const char *action, pid_t pid, int fd);
	void *notify_arg;

	/* service */
	char *service_address; /* --address; NULL: /var/run/criu_service.socket */
	bool service_daemon;   /* --daemon */

	/* show */
	char *show_file;   /* -f */
	char *show_fields; /* -F */

	/* check */
	char *feature;
};

/* Parses argv into `o`. Returns 0, 1 when the command is already done
 * (--help/--version printed), or -1 after printing a clear error. */
int parse_options(int argc, char **argv, struct options *o);
void options_free(struct options *o);
/* An empty struct options with the defaults parse_options starts from. */
void options_init(struct options *o);
/* Adds one external mount KEY (KEYLEN bytes) -> VAL; SPELLING is how the
 * user wrote it, for messages. */
void add_ext_mount(struct options *o, const char *key, size_t keylen, const char *val, const char *spelling);

/* Reads a configuration file (config-file.h) into `o`: a missing file is
 * no error; 0 or -1 after pr_err naming the file. */
int parse_config_file(struct options *o, const char *path);

/* Parses one --external value into `o` (exposed for unit tests). */
int parse_external(struct options *o, const char *arg);
int parse_ext_mount_map(struct options *o, const char *arg);
int parse_inherit_fd(struct options *o, const char *arg);
/* Adds one --cgroup-root (CTRL NULL: the default); the strings are copied. */
/* cgroup/cgroup-plan.c: --cgroup-root, RPC cg_root; --manage-cgroups[=MODE] */
void add_cg_root(struct options *o, const char *ctrl, const char *path);
int parse_cgroup_root(struct options *o, const char *arg);
int parse_manage_cgroups(struct options *o, const char *arg);

/* task/ns-options.c: --empty-ns NS; --join-ns NS:PATH[,EXTRA] and RPC
 * join_ns (add_join_ns); the check of an --external net[INODE]:KEY or
 * pid[INODE]:KEY (0 for other kinds). 0 or -1, printed. */
int parse_empty_ns(struct options *o, const char *arg);
int parse_join_ns(struct options *o, const char *arg);
int add_join_ns(struct options *o, const char *ns, const char *path, const char *extra);
int check_ns_external(const char *kind, const char *key, const char *val);
/* The KEY of every --external KIND[INODE]:KEY ("net", "pid") for inode
 * `ino`: the first one, NULL if none; *other names a KIND[] external of
 * another inode (a mismatch), or NULL. */
const char *ns_external_key(const struct options *o, const char *kind, unsigned long ino,
			    const struct external_opt **other);

#endif

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOG_PREFIX "opts: "
#include "util/log.h"
#include "config-file.h"
#include "options.h"
#include "cgroup/cgroup.h"
#include "rpc/service.h"
#include "util/util.h"

static const char usage_text[] =
	"Usage:\n"
	"  criu dump -t PID [-D DIR] [options]\n"
	"  criu restore [-D DIR] [options]\n"
	"  criu show -f FILE [-F FIELD,FIELD,...]\n"
	"  criu check [--feature NAME|list]\n"
	"  criu swrk FD             serve RPC requests on socket FD (run by runc, libcriu)\n"
	"  criu service [--address PATH] [--daemon] [--pidfile FILE]\n"
	"                           serve RPC requests on a socket, a worker per connection\n"
	"\n"
	"Common options:\n"
	"  -D, --images-dir DIR     directory for image files (default: .)\n"
	"  -o, --log-file FILE      log file, relative to the images directory unless absolute\n"
	"  -v[N], --verbosity[=N]   log level 0..4 (default 2); -v alone, or each more v\n"
	"                           (-vv, -vvv), raises it by one; as upstream, any other\n"
	"                           text after -v is read as a number (-v4; -vx is 0)\n"
	"  -V, --version            print the version\n"
	"  -h, --help               this text\n"
	"  --config FILE            read options from FILE (one a line, the long name without\n"
	"                           dashes, then its value), instead of the default files\n"
	"  --no-default-config      don't read /etc/criu/default.conf, ~/.criu/default.conf\n"
	"                           ($CRIU_CONFIG_FILE is read in any case)\n"
	"  -W, --work-dir DIR       where the log and statistics go (default: -D's)\n"
	"  --action-script PATH     run PATH at each stage (CRTOOLS_SCRIPT_ACTION tells which:\n"
	"                           pre-dump, post-dump, pre-restore, post-restore, ...);\n"
	"                           a non-zero exit stops the dump or restore\n"
	"\n"
	"Dump/restore options:\n"
	"  -t, --tree PID           root of the process tree to dump\n"
	"  -r, --root PATH          container root filesystem to restore into\n"
	"  -R, --leave-running      keep the tree running after dump\n"
	"  --release-memory         dump without -R: give the tree's memory back as it is\n"
	"                           dumped, so a dump to tmpfs needs no more memory than\n"
	"                           the tree had. The risk: if criu is killed (OOM killer,\n"
	"                           SIGKILL) before the images are complete, the tree dies\n"
	"                           with it and nothing is saved. Without it, a killed\n"
	"                           dump leaves the tree running as it was\n"
	"  --pre-dump-mode splice|read  accepted for compatibility: no effect on dump\n"
	"  -d, --restore-detached   detach from the restored tree\n"
	"  --restore-sibling        restore: the root task becomes the child of criu's parent\n"
	"                           (which waits for it, as runc and LXC do); implies -d\n"
	"  -j, --shell-job          the tree was started from a shell\n"
	"      --inherit-fd fd[N]:RES  restore: criu's own fd N stands for the dumped file RES\n"
	"                           (e.g. pipe:[1234] or a path), one outside the tree\n"
	"  --auto-dedup             restore: punch each page out of pages-N.img once it is\n"
	"                           restored (frees the images' memory as it goes; the\n"
	"                           images can't be restored again). dump: no effect\n"
	"  --tcp-established        dump: established TCP connections too (TCP_REPAIR; a\n"
	"                           peer outside the tree is locked out, nftables table\n"
	"                           inet criu_tcp_<inode>, until restore). restore: no effect\n"
	"  --assume-no-global-membarrier  dump on a kernel before 6.3, which can't tell\n"
	"                           whether a process registered for global expedited\n"
	"                           membarrier(2): take it that none did (else refused)\n"
	"  --link-remap, --force-irmap, --evasive-devices, --ghost-limit SIZE,\n"
	"  --enable-fs FS[,FS]      upstream's; accepted: criu refuses deleted open\n"
	"                           files, dumps inotify watches by path, reopens\n"
	"                           devices by path and refuses a filesystem it can't\n"
	"                           restore, whatever they say\n"
	"  --file-locks             let dump take file locks: criu carries none yet, so\n"
	"                           a tree that holds one is still refused (one that\n"
	"                           holds none dumps as without the option)\n"
	"  --pidfile FILE           write the root task's PID to FILE\n"
	"  --timeout N              seconds to wait for the tree to freeze\n"
	"  --freeze-cgroup PATH     dump: freeze the tree through its cgroup (v1 freezer or\n"
	"                           v2) before seizing it, so a tree that forks fast is\n"
	"                           caught whole; a cgroup frozen before stays frozen\n"
	"  --manage-cgroups[=MODE]  restore: put the tasks back into their cgroups (the\n"
	"                           default, mode soft): none (they must exist, no\n"
	"                           settings written), props (must exist, settings\n"
	"                           written), soft (missing ones made with their\n"
	"                           settings), full (settings written into all), strict\n"
	"                           (all made by criu), ignore (tasks stay in criu's)\n"
	"  --cgroup-root [CTRL:]PATH  restore: the dumped root task's cgroup becomes PATH\n"
	"                           in CTRL's hierarchy (\"cpu,cpuacct\", \"name=systemd\",\n"
	"                           \"\" for v2), or in every one without CTRL; cgroups\n"
	"                           below it follow. Repeatable\n"
	"  --external mnt[KEY]:VAL  dump: KEY is a mountpoint in the container, VAL a name for it\n"
	"                           restore: KEY is that name, VAL the host path to bind-mount\n"
	"  --external mnt[]:FLAGS   dump: detect external bind mounts automatically;\n"
	"                           FLAGS 's' allows shared ones, 'm' slaves of host mounts\n"
	"                           restore: allow binding the host paths recorded at dump\n"
	"  -M, --ext-mount-map KEY:VAL | auto   older spelling of --external mnt[KEY]:VAL / mnt[]\n"
	"  --enable-external-sharing  with auto: allow external shared mounts\n"
	"  --enable-external-masters  with auto: allow external slave mounts\n"
	"  --external net[INODE]:KEY / pid[INODE]:KEY  dump: the tree's network (pid)\n"
	"                           namespace, net:[INODE], is someone else's: not dumped,\n"
	"                           recorded as KEY; restore joins the one --inherit-fd\n"
	"                           fd[N]:KEY gives\n"
	"  --empty-ns net           dump: don't save the network namespace's devices,\n"
	"                           addresses and routes (sockets are); restore: a new\n"
	"                           network namespace, unconfigured (lo down)\n"
	"  -J, --join-ns NS:PATH    restore: join the existing NS namespace (net, uts, ipc)\n"
	"                           of the file PATH, or of pid PATH, instead of making one;\n"
	"                           the dumped contents are not written into it\n"
	"\n"
	"Service options:\n"
	"  --address PATH           the service's socket (default /var/run/criu_service.socket)\n"
	"  --daemon                 detach once the socket listens\n"
	"\n"
	"Show options:\n"
	"  -f, --file FILE          image file to print\n"
	"  -F, --fields LIST        only these fields, comma-separated\n";

enum {
	OPT_EXTERNAL = 1000,
	OPT_PIDFILE,
	OPT_TIMEOUT,
	OPT_NO_DEFAULT_CONFIG,
	OPT_ENABLE_EXT_SHARING,
	OPT_ENABLE_EXT_MASTERS,
	OPT_FEATURE,
	OPT_INHERIT_FD,
	OPT_AUTO_DEDUP,
	OPT_TCP_ESTABLISHED,
	OPT_RELEASE_MEMORY,
	OPT_PRE_DUMP_MODE,
	OPT_CONFIG,
	OPT_ACTION_SCRIPT,
	OPT_ADDRESS,
	OPT_DAEMON,
	OPT_NO_GLOBAL_MEMBARRIER,
	OPT_RESTORE_SIBLING,
	OPT_FREEZE_CGROUP,
	OPT_FILE_LOCKS,
	OPT_DONE_ANYWAY,
	OPT_DONE_ANYWAY_ARG,
	OPT_EMPTY_NS,
	OPT_MANAGE_CGROUPS,
	OPT_CGROUP_ROOT,
};

static const struct option long_opts[] = {
	{ "images-dir", required_argument, NULL, 'D' },
	{ "tree", required_argument, NULL, 't' },
	{ "log-file", required_argument, NULL, 'o' },
	{ "verbosity", optional_argument, NULL, 'v' },
	{ "version", no_argument, NULL, 'V' },
	{ "help", no_argument, NULL, 'h' },
	{ "root", required_argument, NULL, 'r' },
	{ "leave-running", no_argument, NULL, 'R' },
	{ "restore-detached", no_argument, NULL, 'd' },
	{ "shell-job", no_argument, NULL, 'j' },
	{ "ext-mount-map", required_argument, NULL, 'M' },
	{ "file", required_argument, NULL, 'f' },
	{ "fields", required_argument, NULL, 'F' },
	{ "external", required_argument, NULL, OPT_EXTERNAL },
	{ "pidfile", required_argument, NULL, OPT_PIDFILE },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "no-default-config", no_argument, NULL, OPT_NO_DEFAULT_CONFIG },
	{ "enable-external-sharing", no_argument, NULL, OPT_ENABLE_EXT_SHARING },
	{ "enable-external-masters", no_argument, NULL, OPT_ENABLE_EXT_MASTERS },
	{ "feature", required_argument, NULL, OPT_FEATURE },
	{ "inherit-fd", required_argument, NULL, OPT_INHERIT_FD },
	{ "auto-dedup", no_argument, NULL, OPT_AUTO_DEDUP },
	{ "tcp-established", no_argument, NULL, OPT_TCP_ESTABLISHED },
	{ "release-memory", no_argument, NULL, OPT_RELEASE_MEMORY },
	{ "pre-dump-mode", required_argument, NULL, OPT_PRE_DUMP_MODE },
	{ "config", required_argument, NULL, OPT_CONFIG },
	{ "action-script", required_argument, NULL, OPT_ACTION_SCRIPT },
	{ "work-dir", required_argument, NULL, 'W' },
	{ "address", required_argument, NULL, OPT_ADDRESS },
	{ "daemon", no_argument, NULL, OPT_DAEMON },
	{ "assume-no-global-membarrier", no_argument, NULL, OPT_NO_GLOBAL_MEMBARRIER },
	{ "restore-sibling", no_argument, NULL, OPT_RESTORE_SIBLING },
	{ "freeze-cgroup", required_argument, NULL, OPT_FREEZE_CGROUP },
	{ "file-locks", no_argument, NULL, OPT_FILE_LOCKS },
	/* upstream's, for what criu does (or refuses) anyway: LXC and runtimes pass them */
	{ "link-remap", no_argument, NULL, OPT_DONE_ANYWAY },
	{ "force-irmap", no_argument, NULL, OPT_DONE_ANYWAY },
	{ "evasive-devices", no_argument, NULL, OPT_DONE_ANYWAY },
	{ "ghost-limit", required_argument, NULL, OPT_DONE_ANYWAY_ARG },
	{ "enable-fs", required_argument, NULL, OPT_DONE_ANYWAY_ARG },
	{ "empty-ns", required_argument, NULL, OPT_EMPTY_NS },
	{ "join-ns", required_argument, NULL, 'J' },
	{ "manage-cgroups", optional_argument, NULL, OPT_MANAGE_CGROUPS },
	{ "cgroup-root", required_argument, NULL, OPT_CGROUP_ROOT },
	{},
};

static const char short_opts[] = "D:t:o:v::Vhr:RdjM:f:F:W:J:";

/* Strict decimal parse of an unsigned value in [min, max]. */
static int parse_uint(const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

void add_ext_mount(struct options *o, const char *key, size_t keylen, const char *val, const char *spelling)
{
	struct ext_mount_opt *m;

	o->ext_mounts = xrealloc(o->ext_mounts, (o->nr_ext_mounts + 1) * sizeof(*o->ext_mounts));
	m = &o->ext_mounts[o->nr_ext_mounts++];
	m->key = strndup(key, keylen);
	m->val = xstrdup(val);
	m->spelling = xstrdup(spelling);
	m->used = false;
}

/* --inherit-fd fd[N]:RES, as upstream: N is a descriptor criu itself has. */
int parse_inherit_fd(struct options *o, const char *arg)
{
	unsigned long fd;
	const char *close_br = strstr(arg, "]:");
	char num[16];

	if (strncmp(arg, "fd[", 3) || !close_br || close_br - arg - 3 <= 0 || close_br - arg - 3 >= (long)sizeof(num) ||
	    !close_br[2]) {
		pr_err("bad --inherit-fd '%s': expected fd[N]:RESOURCE, e.g. fd[3]:pipe:[1234]\n", arg);
		return -1;
	}
	memcpy(num, arg + 3, (size_t)(close_br - arg - 3));
	num[close_br - arg - 3] = '\0';
	if (parse_uint(num, 0, INT_MAX, &fd)) {
		pr_err("bad --inherit-fd '%s': '%s' is not a descriptor number; expected fd[N]:RESOURCE\n", arg, num);
		return -1;
	}
	if (fcntl((int)fd, F_GETFD) < 0) {
		pr_err("bad --inherit-fd '%s': %s is not a descriptor criu was started with\n", arg, num);
		return -1;
	}
	o->inherit_fds = xrealloc(o->inherit_fds, (o->nr_inherit_fds + 1) * sizeof(*o->inherit_fds));
	o->inherit_fds[o->nr_inherit_fds].fd = (int)fd;
	o->inherit_fds[o->nr_inherit_fds].res = xstrdup(close_br + 2);
	o->nr_inherit_fds++;
	return 0;
}

/* "s", "m", "sm", "ms": upstream reads only the first letter; we honour all. */
static int parse_auto_flags(struct options *o, const char *flags, const char *arg)
{
	for (const char *p = flags; *p; p++) {
		if (*p == 's')
			o->enable_external_sharing = true;
		else if (*p == 'm')
			o->enable_external_masters = true;
		else {
			pr_err("--external %s: unknown flag '%c' after mnt[]:\n", arg, *p);
			pr_hint("valid flags are 's' (allow external shared mounts) and 'm' (allow external slaves), e.g. mnt[]:sm\n");
			return -1;
		}
	}
	return 0;
}

static int parse_external_mnt(struct options *o, const char *arg)
{
	const char *key = arg + strlen("mnt[");
	const char *close = strchr(key, ']');
	const char *val;

	if (!close) {
		pr_err("--external %s: missing ']'\n", arg);
		pr_hint("write it as mnt[MOUNTPOINT]:NAME (dump), mnt[NAME]:HOSTPATH (restore) or mnt[] (autodetect)\n");
		return -1;
	}
	val = close + 1;
	if (close == key) {
		/* mnt[] or mnt[]:FLAGS -- autodetection; the colon is optional without flags */
		o->ext_mounts_auto = true;
		if (*val == '\0')
			return 0;
		if (*val != ':') {
			pr_err("--external %s: unexpected text after mnt[]\n", arg);
			pr_hint("write mnt[] or mnt[]:FLAGS with FLAGS made of 's' and 'm'\n");
			return -1;
		}
		return parse_auto_flags(o, val + 1, arg);
	}
	if (*val != ':' || val[1] == '\0') {
		pr_err("--external %s: missing value after mnt[%.*s]\n", arg, (int)(close - key), key);
		pr_hint("write mnt[%.*s]:NAME on dump (the name stored in the image) or mnt[%.*s]:HOSTPATH on restore\n",
			(int)(close - key), key, (int)(close - key), key);
		return -1;
	}
	add_ext_mount(o, key, close - key, val + 1, arg);
	return 0;
}

int parse_external(struct options *o, const char *arg)
{
	const char *open = strchr(arg, '[');
	const char *close;
	struct external_opt *e;

	if (!strncmp(arg, "mnt[", 4))
		return parse_external_mnt(o, arg);

	/* Other resource kinds: KIND[KEY] or KIND[KEY]:VAL, kept for later stages. */
	close = open ? strchr(open, ']') : NULL;
	if (!open || open == arg || !close || (close[1] != '\0' && close[1] != ':')) {
		pr_err("--external %s: malformed value\n", arg);
		pr_hint("the form is KIND[KEY] or KIND[KEY]:VAL, e.g. mnt[/bar]:barmount\n");
		return -1;
	}
	o->externals = xrealloc(o->externals, (o->nr_externals + 1) * sizeof(*o->externals));
	e = &o->externals[o->nr_externals++];
	e->kind = strndup(arg, open - arg);
	e->key = strndup(open + 1, close - open - 1);
	e->val = close[1] == ':' ? xstrdup(close + 2) : NULL;
	if (check_ns_external(e->kind, e->key, e->val)) /* net[INODE]:KEY, pid[INODE]:KEY */
		return -1; /* kept: options_free frees it */
	return 0;
}

int parse_ext_mount_map(struct options *o, const char *arg)
{
	const char *colon;

	if (!strcmp(arg, "auto")) {
		o->ext_mounts_auto = true;
		return 0;
	}
	colon = strchr(arg, ':');
	if (!colon || colon == arg || colon[1] == '\0') {
		pr_err("--ext-mount-map %s: expected KEY:VAL or auto\n", arg);
		pr_hint("e.g. --ext-mount-map /bar:barmount on dump, --ext-mount-map barmount:/foo on restore\n");
		return -1;
	}
	add_ext_mount(o, arg, colon - arg, colon + 1, arg);
	return 0;
}

/*
 * -v's attached text, read as upstream's scripts expect it read: nothing
 * raises the level by one; text starting with 'v' (-vvv arrives as -v with
 * "vv") raises it by one per v, its own included; any other text is a level
 * read as atoi(3) would (leading digits, else 0: "-verbosity=0" is -v with
 * "erbosity=0", level 0). Clamped to 0..4 after the whole command line.
 */
static void parse_verbosity(struct options *o, const char *arg)
{
	long v;

	if (!arg) {
		o->verbosity++;
		return;
	}
	if (arg[0] == 'v') {
		size_t n = strlen(arg);

		o->verbosity += n > 4 ? 5 : (int)n + 1; /* 5 or more is 4 anyway */
		return;
	}
	v = strtol(arg, NULL, 10); /* LONG_MIN/MAX on overflow: clamped below */
	o->verbosity = v < 0 ? 0 : v > 4 ? 4 : (int)v;
}

static enum criu_cmd parse_command(const char *s)
{
	static const struct {
		const char *name;
		enum criu_cmd cmd;
	} cmds[] = {
		{ "dump", CMD_DUMP },
		{ "restore", CMD_RESTORE },
		{ "show", CMD_SHOW },
		{ "check", CMD_CHECK },
		{ "service", CMD_SERVICE },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cmds); i++)
		if (!strcmp(s, cmds[i].name))
			return cmds[i].cmd;
	return CMD_NONE;
}

/* The work directory, action scripts and `criu service`'s options. */
static int parse_one_service(struct options *o, int c, const char *arg)
{
	switch (c) {
	case 'W':
		free(o->work_dir);
		o->work_dir = xstrdup(arg);
		return 0;
	case OPT_ACTION_SCRIPT:
		o->action_scripts = xrealloc(o->action_scripts, (o->nr_action_scripts + 1) * sizeof(char *));
		o->action_scripts[o->nr_action_scripts++] = xstrdup(arg);
		return 0;
	case OPT_ADDRESS:
		free(o->service_address);
		o->service_address = xstrdup(arg);
		return 0;
	case OPT_DAEMON:
		o->service_daemon = true;
		return 0;
	case OPT_NO_GLOBAL_MEMBARRIER:
		o->assume_no_global_membarrier = true;
		return 0;
	case OPT_RESTORE_SIBLING:
		o->restore_sibling = true;
		return 0;
	case OPT_FREEZE_CGROUP:
		free(o->freeze_cgroup);
		o->freeze_cgroup = xstrdup(arg);
		return 0;
	case OPT_EMPTY_NS:
		return parse_empty_ns(o, arg);
	case 'J':
		return parse_join_ns(o, arg);
	case OPT_MANAGE_CGROUPS:
		return parse_manage_cgroups(o, arg);
	case OPT_CGROUP_ROOT:
		return parse_cgroup_root(o, arg);
	}
	return -1;
}

static int parse_one(struct options *o, int c, const char *arg)
{
	unsigned long v;

	switch (c) {
	case 'D':
		free(o->imgs_dir);
		o->imgs_dir = xstrdup(arg);
		return 0;
	case 't':
		if (parse_uint(arg, 1, INT_MAX, &v)) {
			pr_err("bad PID '%s' for -t/--tree: expected a positive number\n", arg);
			return -1;
		}
		o->tree_pid = v;
		return 0;
	case 'o':
		free(o->log_file);
		o->log_file = xstrdup(arg);
		return 0;
	case 'v':
		parse_verbosity(o, arg);
		return 0;
	case 'r':
		free(o->root);
		o->root = xstrdup(arg);
		return 0;
	case 'R':
		o->leave_running = true;
		return 0;
	case 'd':
		o->restore_detached = true;
		return 0;
	case 'j':
		o->shell_job = true;
		return 0;
	case 'M':
		return parse_ext_mount_map(o, arg);
	case 'f':
		free(o->show_file);
		o->show_file = xstrdup(arg);
		return 0;
	case 'F':
		free(o->show_fields);
		o->show_fields = xstrdup(arg);
		return 0;
	case OPT_EXTERNAL:
		return parse_external(o, arg);
	case OPT_INHERIT_FD:
		return parse_inherit_fd(o, arg);
	case OPT_TCP_ESTABLISHED:
		o->tcp_established = true;
		return 0;
	case OPT_RELEASE_MEMORY:
		o->release_memory = true;
		return 0;
	case OPT_PRE_DUMP_MODE:
		/* upstream's two modes of reading memory for pre-dump, which we
		 * don't have; a plain dump reads it one way only */
		if (strcmp(arg, "splice") && strcmp(arg, "read")) {
			pr_err("bad --pre-dump-mode '%s': expected splice or read\n", arg);
			return -1;
		}
		return 0;
	case OPT_AUTO_DEDUP:
		o->auto_dedup = true;
		return 0;
	case OPT_DONE_ANYWAY:
	case OPT_DONE_ANYWAY_ARG:
	/* upstream's permission to dump file locks. Runtimes pass it for
	 * every container (LXC always); criu carries no lock yet, and the
	 * dump refuses a tree that holds one whatever it says */
	case OPT_FILE_LOCKS:
		return 0;
	case OPT_PIDFILE:
		free(o->pidfile);
		o->pidfile = xstrdup(arg);
		return 0;
	case OPT_TIMEOUT:
		if (parse_uint(arg, 0, 86400, &v)) {
			pr_err("bad --timeout '%s': expected seconds from 0 to 86400\n", arg);
			return -1;
		}
		o->timeout = v;
		return 0;
	case OPT_NO_DEFAULT_CONFIG:
	case OPT_CONFIG:
		return 0; /* taken before the rest (parse_options) */
	case OPT_ENABLE_EXT_SHARING:
		o->enable_external_sharing = true;
		return 0;
	case OPT_ENABLE_EXT_MASTERS:
		o->enable_external_masters = true;
		return 0;
	case OPT_FEATURE:
		free(o->feature);
		o->feature = xstrdup(arg);
		return 0;
	}
	return parse_one_service(o, c, arg);
}

/* getopt says only "something was wrong"; say what, naming the option. */
static void report_bad_option(const char *arg, int opt)
{
	if (arg && !strncmp(arg, "--", 2)) {
		size_t n = strcspn(arg + 2, "=");

		for (const struct option *l = long_opts; l->name; l++) {
			if (strlen(l->name) != n || strncmp(l->name, arg + 2, n))
				continue;
			if (arg[2 + n] == '=' && l->has_arg == no_argument)
				pr_err("option --%s takes no value: %s\n", l->name, arg);
			else
				pr_err("option --%s needs a value\n", l->name);
			pr_hint("run 'criu --help' for the list of options\n");
			return;
		}
		pr_err("unknown option %.*s\n", (int)(n + 2), arg);
	} else if (opt > 0 && opt < 128 && strchr(short_opts, opt)) {
		pr_err("option -%c needs a value\n", opt);
	} else if (opt > 0 && opt < 128) {
		pr_err("unknown option -%c\n", opt);
	} else {
		pr_err("unknown option %s\n", arg ? arg : "?");
	}
	pr_hint("run 'criu --help' for the list of options\n");
}

void options_init(struct options *o)
{
	memset(o, 0, sizeof(*o));
	o->verbosity = DEFAULT_LOGLEVEL;
	o->timeout = 10;
	o->manage_cgroups = CG_MODE_DEFAULT;
}

/*
 * The options of one argument vector into `o`; 1 when --help or --version
 * was printed. Stops at the first argument that is no option: *rest is its
 * index.
 */
static int parse_vector(struct options *o, int argc, char **argv, int *rest)
{
	int c, idx;

	optind = 0; /* 0, not 1: also forgets a half-parsed option group of a previous call */
	opterr = 0;
	while ((c = getopt_long(argc, argv, short_opts, long_opts, &idx)) != -1) {
		if (c == 'h') {
			fputs(usage_text, stdout);
			return 1;
		}
		if (c == 'V') {
			/* the interface level first, as upstream prints its version
			 * (LXC and scripts parse this line); then what criu this is */
			printf("Version: %d.%d\n", CRIU_IFACE_MAJOR, CRIU_IFACE_MINOR);
			printf("Implementation: criu (this project) %s\n", CRIU_VERSION);
			return 1;
		}
		if (c == '?' || c == ':') {
			report_bad_option(argv[optind - 1], optopt);
			return -1;
		}
		if (parse_one(o, c, optarg))
			return -1;
	}
	*rest = optind;
	return 0;
}

int parse_config_file(struct options *o, const char *path)
{
	struct arg_vec v = {NULL, 0};
	int ret, rest;

	ret = config_read_file(path, &v);
	if (ret) {
		arg_vec_free(&v);
		if (ret > 0)
			pr_info("no configuration file %s\n", path);
		return ret < 0 ? -1 : 0;
	}
	/* getopt takes an optional value only as --name=value: join those */
	for (int i = 0; i + 1 < v.argc; i++)
		for (const struct option *l = long_opts; l->name; l++)
			if (l->has_arg == optional_argument && !strcmp(v.argv[i] + 2, l->name) &&
			    strncmp(v.argv[i + 1], "--", 2)) {
				char *joined = xmalloc(strlen(v.argv[i]) + strlen(v.argv[i + 1]) + 2);

				sprintf(joined, "%s=%s", v.argv[i], v.argv[i + 1]);
				free(v.argv[i]);
				free(v.argv[i + 1]);
				v.argv[i] = joined;
				memmove(v.argv + i + 1, v.argv + i + 2, (v.argc - i - 1) * sizeof(*v.argv));
				v.argc--;
				break;
			}
	/* getopt wants a program name in front */
	v.argv = xrealloc(v.argv, (v.argc + 2) * sizeof(*v.argv));
	memmove(v.argv + 1, v.argv, (v.argc + 1) * sizeof(*v.argv));
	v.argv[0] = xstrdup("criu");
	v.argc++;
	ret = parse_vector(o, v.argc, v.argv, &rest);
	if (!ret && rest < v.argc) {
		pr_err("%s: '%s' is not an option (a line is an option's name without the dashes)\n", path,
		       v.argv[rest]);
		ret = -1;
	}
	if (ret)
		pr_err("in configuration file %s\n", path);
	arg_vec_free(&v);
	return ret ? -1 : 0;
}

/* --config FILE / --no-default-config, found before anything is parsed. */
static void find_config_args(int argc, char **argv, const char **config, bool *no_defaults)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--no-default-config"))
			*no_defaults = true;
		else if (!strcmp(argv[i], "--config") && i + 1 < argc) {
			*config = argv[++i];
			*no_defaults = true;
		} else if (!strncmp(argv[i], "--config=", 9)) {
			*config = argv[i] + 9;
			*no_defaults = true;
		}
	}
}

/* Configuration files, in upstream's order, before the command line. */
static int parse_config_files(struct options *o, int argc, char **argv)
{
	const char *config = NULL, *env = getenv("CRIU_CONFIG_FILE"), *home = getenv("HOME");
	bool no_defaults = false;
	char path[PATH_MAX];

	find_config_args(argc, argv, &config, &no_defaults);
	if (!no_defaults) {
		if (parse_config_file(o, "/etc/criu/default.conf"))
			return -1;
		if (home && snprintf(path, sizeof(path), "%s/.criu/default.conf", home) < (int)sizeof(path) &&
		    parse_config_file(o, path))
			return -1;
	}
	if (env && *env && parse_config_file(o, env))
		return -1;
	if (config && parse_config_file(o, config))
		return -1;
	return 0;
}

int parse_options(int argc, char **argv, struct options *o)
{
	int ret, rest;

	options_init(o);
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			/* before the files: a broken one must not hide the help */
			fputs(usage_text, stdout);
			return 1;
		}
	if (parse_config_files(o, argc, argv))
		return -1;
	ret = parse_vector(o, argc, argv, &rest);
	if (ret)
		return ret;

	if (rest >= argc) {
		pr_err("no command given\n");
		pr_hint("the commands are dump, restore, show, check, swrk and service; run 'criu --help'\n");
		return -1;
	}
	o->cmd = parse_command(argv[rest]);
	if (o->cmd == CMD_NONE) {
		pr_err("unknown command '%s'\n", argv[rest]);
		pr_hint("the commands are dump, restore, show, check, swrk and service\n");
		return -1;
	}
	if (rest + 1 < argc) {
		pr_err("unexpected argument '%s' after the command\n", argv[rest + 1]);
		return -1;
	}
	if (o->verbosity > 4)
		o->verbosity = 4;
	if (!o->imgs_dir)
		o->imgs_dir = xstrdup(".");

	switch (o->cmd) {
	case CMD_DUMP:
		if (!o->tree_pid) {
			pr_err("dump needs the PID of the tree's root task\n");
			pr_hint("add -t PID\n");
			return -1;
		}
		if (o->release_memory && o->leave_running) {
			pr_err("--release-memory gives back the memory of a tree the dump kills; with -R it runs on\n");
			pr_hint("drop one of them\n");
			return -1;
		}
		break;
	case CMD_SHOW:
		if (!o->show_file) {
			pr_err("show needs an image file\n");
			pr_hint("add -f FILE, e.g. criu show -f imgs/mountpoints-1.img\n");
			return -1;
		}
		break;
	default:
		break;
	}
	return 0;
}

void options_free(struct options *o)
{
	for (size_t i = 0; i < o->nr_ext_mounts; i++) {
		free(o->ext_mounts[i].key);
		free(o->ext_mounts[i].val);
		free((char *)o->ext_mounts[i].spelling);
	}
	free(o->ext_mounts);
	for (size_t i = 0; i < o->nr_externals; i++) {
		free(o->externals[i].kind);
		free(o->externals[i].key);
		free(o->externals[i].val);
	}
	free(o->externals);
	for (size_t i = 0; i < o->nr_inherit_fds; i++)
		free(o->inherit_fds[i].res);
	free(o->inherit_fds);
	for (size_t i = 0; i < o->nr_join_ns; i++) {
		free(o->join_ns[i].ns);
		free(o->join_ns[i].path);
		free(o->join_ns[i].extra);
	}
	free(o->join_ns);
	for (size_t i = 0; i < o->nr_action_scripts; i++)
		free(o->action_scripts[i]);
	free(o->action_scripts);
	free(o->imgs_dir);
	free(o->work_dir);
	free(o->log_file);
	free(o->root);
	free(o->pidfile);
	free(o->show_file);
	free(o->show_fields);
	free(o->feature);
	free(o->service_address);
	free(o->freeze_cgroup);
	for (size_t i = 0; i < o->nr_cg_roots; i++) {
		free(o->cg_roots[i].ctrl);
		free(o->cg_roots[i].path);
	}
	free(o->cg_roots);
	memset(o, 0, sizeof(*o));
}

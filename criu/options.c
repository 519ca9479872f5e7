#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOG_PREFIX "opts: "
#include "util/log.h"
#include "options.h"
#include "util/util.h"

static const char usage_text[] =
	"Usage:\n"
	"  criu dump -t PID [-D DIR] [options]\n"
	"  criu restore [-D DIR] [options]\n"
	"  criu show -f FILE [-F FIELD,FIELD,...]\n"
	"  criu check [--feature NAME]\n"
	"\n"
	"Common options:\n"
	"  -D, --images-dir DIR     directory for image files (default: .)\n"
	"  -o, --log-file FILE      log file, relative to the images directory unless absolute\n"
	"  -v[N], --verbosity N     log level 0..4 (default 2); -v alone raises it by one\n"
	"  -V, --version            print the version\n"
	"  -h, --help               this text\n"
	"  --no-default-config      accepted for compatibility (no config files are read)\n"
	"\n"
	"Dump/restore options:\n"
	"  -t, --tree PID           root of the process tree to dump\n"
	"  -r, --root PATH          container root filesystem to restore into\n"
	"  -R, --leave-running      keep the tree running after dump\n"
	"  -d, --restore-detached   detach from the restored tree\n"
	"  -j, --shell-job          the tree was started from a shell\n"
	"      --inherit-fd fd[N]:RES  restore: criu's own fd N stands for the dumped file RES\n"
	"                           (e.g. pipe:[1234] or a path), one outside the tree\n"
	"  --auto-dedup             restore: punch each page out of pages-N.img once it is\n"
	"                           restored (frees the images' memory as it goes; the\n"
	"                           images can't be restored again). dump: no effect\n"
	"  --tcp-established        dump: established TCP connections too (TCP_REPAIR; a\n"
	"                           peer outside the tree is locked out, nftables table\n"
	"                           inet criu_tcp_<inode>, until restore). restore: no effect\n"
	"  --file-locks             refused: file locks aren't carried yet (a tree that\n"
	"                           holds one is refused at dump)\n"
	"  --pidfile FILE           write the root task's PID to FILE\n"
	"  --timeout N              seconds to wait for the tree to freeze\n"
	"  --external mnt[KEY]:VAL  dump: KEY is a mountpoint in the container, VAL a name for it\n"
	"                           restore: KEY is that name, VAL the host path to bind-mount\n"
	"  --external mnt[]:FLAGS   dump: detect external bind mounts automatically;\n"
	"                           FLAGS 's' allows shared ones, 'm' slaves of host mounts\n"
	"                           restore: allow binding the host paths recorded at dump\n"
	"  -M, --ext-mount-map KEY:VAL | auto   older spelling of --external mnt[KEY]:VAL / mnt[]\n"
	"  --enable-external-sharing  with auto: allow external shared mounts\n"
	"  --enable-external-masters  with auto: allow external slave mounts\n"
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
	OPT_FILE_LOCKS,
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
	{ "file-locks", no_argument, NULL, OPT_FILE_LOCKS },
	{},
};

static const char short_opts[] = "D:t:o:v::Vhr:RdjM:f:F:";

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

static void add_ext_mount(struct options *o, const char *key, size_t keylen, const char *val, const char *spelling)
{
	struct ext_mount_opt *m;

	o->ext_mounts = xrealloc(o->ext_mounts, (o->nr_ext_mounts + 1) * sizeof(*o->ext_mounts));
	m = &o->ext_mounts[o->nr_ext_mounts++];
	m->key = strndup(key, keylen);
	m->val = xstrdup(val);
	m->spelling = spelling;
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

static int parse_verbosity(struct options *o, const char *arg)
{
	unsigned long v;

	if (!arg) {
		o->verbosity++;
		return 0;
	}
	/* -vvv arrives as -v with argument "vv" */
	if (strspn(arg, "v") == strlen(arg)) {
		o->verbosity += 1 + strlen(arg);
		return 0;
	}
	if (parse_uint(arg, 0, 4, &v)) {
		pr_err("bad verbosity '%s': expected a level from 0 to 4\n", arg);
		return -1;
	}
	o->verbosity = v;
	return 0;
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
	};

	for (size_t i = 0; i < ARRAY_SIZE(cmds); i++)
		if (!strcmp(s, cmds[i].name))
			return cmds[i].cmd;
	return CMD_NONE;
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
		return parse_verbosity(o, arg);
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
	case OPT_AUTO_DEDUP:
		o->auto_dedup = true;
		return 0;
	case OPT_FILE_LOCKS:
		/* upstream's: dump and restore file locks. Not ignored: refused */
		pr_err("--file-locks: criu can't carry file locks yet; a dump of a tree holding one is refused\n");
		pr_hint("drop the option, and dump the program at a point where it holds no lock\n");
		return -1;
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
		return 0;
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
	return -1;
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

int parse_options(int argc, char **argv, struct options *o)
{
	int c, idx;

	memset(o, 0, sizeof(*o));
	o->verbosity = DEFAULT_LOGLEVEL;
	o->timeout = 10;
	optind = 0; /* 0, not 1: also forgets a half-parsed option group of a previous call */
	opterr = 0;

	while ((c = getopt_long(argc, argv, short_opts, long_opts, &idx)) != -1) {
		if (c == 'h') {
			fputs(usage_text, stdout);
			return 1;
		}
		if (c == 'V') {
			printf("Version: %s\n", CRIU_VERSION);
			return 1;
		}
		if (c == '?' || c == ':') {
			report_bad_option(argv[optind - 1], optopt);
			return -1;
		}
		if (parse_one(o, c, optarg))
			return -1;
	}

	if (optind >= argc) {
		pr_err("no command given\n");
		pr_hint("the commands are dump, restore, show and check; run 'criu --help'\n");
		return -1;
	}
	o->cmd = parse_command(argv[optind]);
	if (o->cmd == CMD_NONE) {
		pr_err("unknown command '%s'\n", argv[optind]);
		pr_hint("the commands are dump, restore, show and check\n");
		return -1;
	}
	if (optind + 1 < argc) {
		pr_err("unexpected argument '%s' after the command\n", argv[optind + 1]);
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
	free(o->imgs_dir);
	free(o->log_file);
	free(o->root);
	free(o->pidfile);
	free(o->show_file);
	free(o->show_fields);
	free(o->feature);
	memset(o, 0, sizeof(*o));
}

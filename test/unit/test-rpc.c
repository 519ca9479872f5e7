/*
 * The RPC reader and the options it maps: rpc_decode_req() on valid,
 * malformed and hostile messages, rpc_opts_unsupported() on every kind of
 * field (a default is not "set"), rpc_opts_apply() filling struct options
 * as the command line would, and a replay of the fuzz corpus
 * (test/fuzz/corpus/rpc-req/). UNIT_UPDATE_CORPUS=1 rewrites the seeds.
 */
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit.h"
#include "rpc/rpc-msg.h"
#include "cgroup/cgroup.h"
#include "rpc/rpc-opts.h"
#include "util/log.h"

#define CORPUS_DIR "test/fuzz/corpus/rpc-req/"

static size_t pack_req(const CriuReq *r, uint8_t *buf, size_t size)
{
	size_t n = criu_req__get_packed_size(r);

	if (n > size)
		return 0;
	return criu_req__pack(r, buf);
}

static int test_decode_valid(void)
{
	CriuReq r = CRIU_REQ__INIT, *got;
	CriuOpts o = CRIU_OPTS__INIT;
	struct rpc_err e = {""};
	uint8_t buf[256];
	size_t n;

	r.type = CRIU_REQ_TYPE__DUMP;
	r.opts = &o;
	o.images_dir_fd = 5;
	o.has_pid = true;
	o.pid = 42;
	n = pack_req(&r, buf, sizeof(buf));
	CHECK(n > 0);
	got = rpc_decode_req(buf, n, &e);
	CHECK(got);
	CHECK(got->type == CRIU_REQ_TYPE__DUMP && got->opts && got->opts->pid == 42 && got->opts->images_dir_fd == 5);
	criu_req__free_unpacked(got, NULL);
	return 0;
}

static int test_decode_rejects(void)
{
	struct rpc_err e = {""};
	/* field 1 (type) = 99: a well-formed message of an unknown type */
	const uint8_t unknown[] = {0x08, 99};
	/* field 2 (opts), length 200, but only 2 bytes follow */
	const uint8_t truncated[] = {0x08, 0x01, 0x12, 0xc8, 0x01, 0x08, 0x01};
	/* no type at all: the required field is missing */
	const uint8_t no_type[] = {0x18, 0x01};

	CHECK(!rpc_decode_req(unknown, sizeof(unknown), &e));
	CHECK(strstr(e.msg, "unknown request type 99"));
	CHECK(!rpc_decode_req(truncated, sizeof(truncated), &e));
	CHECK(strstr(e.msg, "not a criu_req"));
	CHECK(!rpc_decode_req(no_type, sizeof(no_type), &e));
	CHECK(!rpc_decode_req(unknown, 0, &e));
	CHECK(strstr(e.msg, "empty"));
	return 0;
}

static int test_type_names(void)
{
	char b[32];

	CHECK_STR(rpc_req_type_name(CRIU_REQ_TYPE__PRE_DUMP, b, sizeof(b)), "PRE_DUMP");
	CHECK_STR(rpc_req_type_name(77, b, sizeof(b)), "type 77");
	return 0;
}

static int test_unsupported(void)
{
	CriuOpts o = CRIU_OPTS__INIT;
	CriuPageServerInfo ps = CRIU_PAGE_SERVER_INFO__INIT;
	char *skip[] = {(char *)"/proc"};

	/* the defaults, and handled options, are not "set" */
	CHECK(!rpc_opts_unsupported(&o, CMD_DUMP));
	o.has_cpu_cap = true; /* set, but to its default */
	o.cpu_cap = 0xffffffff;
	o.has_ghost_limit = true;
	o.ghost_limit = 1;
	o.has_leave_running = true;
	o.leave_running = true;
	o.has_ext_unix_sk = true; /* false is no request */
	CHECK(!rpc_opts_unsupported(&o, CMD_DUMP));

	o.ext_unix_sk = true;
	CHECK_STR(rpc_opts_unsupported(&o, CMD_DUMP), "ext_unix_sk");
	o.ext_unix_sk = false;
	o.cpu_cap = 1;
	CHECK_STR(rpc_opts_unsupported(&o, CMD_DUMP), "cpu_cap");
	o.has_cpu_cap = false;
	o.ps = &ps;
	CHECK_STR(rpc_opts_unsupported(&o, CMD_DUMP), "ps");
	o.ps = NULL;
	o.n_skip_mnt = 1;
	o.skip_mnt = skip;
	CHECK_STR(rpc_opts_unsupported(&o, CMD_DUMP), "skip_mnt");
	o.n_skip_mnt = 0;
	o.lsm_profile = (char *)"apparmor:x";
	CHECK_STR(rpc_opts_unsupported(&o, CMD_DUMP), "lsm_profile");
	return 0;
}

static int test_apply(void)
{
	CriuOpts ro = CRIU_OPTS__INIT;
	ExtMountMap m1 = EXT_MOUNT_MAP__INIT;
	ExtMountMap *mm[] = {&m1};
	char *ext[] = {(char *)"mnt[/dev/null]:/dev/null"};
	struct options o;

	options_init(&o);
	ro.images_dir_fd = 7;
	ro.has_pid = true;
	ro.pid = 1234;
	ro.log_file = (char *)"dump.log";
	ro.has_work_dir_fd = true;
	ro.work_dir_fd = 9;
	ro.has_log_level = true;
	ro.log_level = 4;
	ro.has_leave_running = true;
	ro.leave_running = true;
	ro.root = (char *)"/run/ct/rootfs";
	m1.key = (char *)"/vol";
	m1.val = (char *)"/vol";
	ro.n_ext_mnt = 1;
	ro.ext_mnt = mm;
	ro.n_external = 1;
	ro.external = ext;
	CHECK(rpc_opts_dirs(&ro, 321, &o) == 0);
	CHECK(rpc_opts_apply(&ro, CMD_DUMP, 321, &o) == 0);
	CHECK_STR(o.imgs_dir, "/proc/321/fd/7");
	CHECK_STR(o.work_dir, "/proc/321/fd/9");
	CHECK_STR(o.log_file, "dump.log");
	CHECK(o.tree_pid == 1234 && o.verbosity == 4 && o.leave_running);
	CHECK_STR(o.root, "/run/ct/rootfs");
	CHECK(o.nr_ext_mounts == 2);
	CHECK_STR(o.ext_mounts[0].key, "/vol");
	CHECK_STR(o.ext_mounts[1].key, "/dev/null");
	CHECK_STR(o.ext_mounts[1].val, "/dev/null");
	options_free(&o);
	return 0;
}

/* manage_cgroups (soft or ignore), manage_cgroups_mode (wins; criu_cg_mode
 * numbers), cg_root (restore only), as upstream's cr-service.c maps them */
static int test_apply_cgroups(void)
{
	CriuOpts ro = CRIU_OPTS__INIT;
	CgroupRoot r1 = CGROUP_ROOT__INIT, r2 = CGROUP_ROOT__INIT;
	CgroupRoot *roots[] = {&r1, &r2};
	struct options o;

	options_init(&o);
	CHECK(o.manage_cgroups == CG_MODE_SOFT); /* upstream's default */
	ro.has_manage_cgroups = true;
	ro.manage_cgroups = false;
	CHECK(rpc_opts_apply(&ro, CMD_RESTORE, 1, &o) == 0 && o.manage_cgroups == CG_MODE_IGNORE);
	ro.manage_cgroups = true;
	CHECK(rpc_opts_apply(&ro, CMD_RESTORE, 1, &o) == 0 && o.manage_cgroups == CG_MODE_SOFT);
	ro.has_manage_cgroups_mode = true;
	ro.manage_cgroups_mode = CRIU_CG_MODE__FULL;
	CHECK(rpc_opts_apply(&ro, CMD_RESTORE, 1, &o) == 0 && o.manage_cgroups == CG_MODE_FULL);
	ro.manage_cgroups_mode = CRIU_CG_MODE__DEFAULT;
	CHECK(rpc_opts_apply(&ro, CMD_RESTORE, 1, &o) == 0 && o.manage_cgroups == CG_MODE_SOFT);
	ro.manage_cgroups_mode = CRIU_CG_MODE__CG_NONE;
	CHECK(rpc_opts_apply(&ro, CMD_RESTORE, 1, &o) == 0 && o.manage_cgroups == CG_MODE_NONE);
	/* runc: criu's own cgroup per controller, "" for v2 */
	r1.ctrl = (char *)"cpu,cpuacct";
	r1.path = (char *)"/ct1";
	r2.ctrl = (char *)"";
	r2.path = (char *)"/ct1";
	ro.n_cg_root = 2;
	ro.cg_root = roots;
	CHECK(!rpc_opts_unsupported(&ro, CMD_RESTORE));
	CHECK_STR(rpc_opts_unsupported(&ro, CMD_DUMP), "cg_root");
	CHECK(rpc_opts_apply(&ro, CMD_RESTORE, 1, &o) == 0 && o.nr_cg_roots == 2);
	CHECK_STR(o.cg_roots[0].ctrl, "cpu,cpuacct");
	CHECK_STR(o.cg_roots[1].ctrl, "");
	CHECK_STR(o.cg_roots[1].path, "/ct1");
	options_free(&o);
	return 0;
}

static int test_apply_refuses(void)
{
	CriuOpts ro = CRIU_OPTS__INIT;
	struct options o;
	int ret;
	bool bad = false;
	int saved = dup(STDERR_FILENO), null = open("/dev/null", O_WRONLY);

	/* the errors are the point: keep them out of the test's output */
	fflush(stderr);
	dup2(null, STDERR_FILENO);
	close(null);
	options_init(&o);
	ret = rpc_opts_dirs(&ro, 1, &o); /* no images directory */
	options_free(&o);
	bad |= ret != -1;

	options_init(&o);
	ro.images_dir_fd = 3;
	ret = rpc_opts_apply(&ro, CMD_DUMP, 1, &o); /* no pid */
	options_free(&o);
	bad |= ret != -1;

	options_init(&o);
	ro.has_pid = true;
	ro.pid = 10;
	ro.log_file = (char *)"../escape.log";
	ret = rpc_opts_dirs(&ro, 1, &o);
	options_free(&o);
	bad |= ret != -1;

	options_init(&o);
	ro.log_file = NULL;
	ro.has_lazy_pages = true;
	ro.lazy_pages = true;
	ret = rpc_opts_apply(&ro, CMD_DUMP, 1, &o);
	options_free(&o);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	CHECK(!bad && ret == -1);
	return 0;
}

static void write_seed(const char *name, const CriuReq *r)
{
	uint8_t buf[512];
	size_t n = pack_req(r, buf, sizeof(buf));
	char path[256];
	int fd;

	snprintf(path, sizeof(path), CORPUS_DIR "%s", name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return;
	if (write(fd, buf, n) != (ssize_t)n)
		perror(path);
	close(fd);
}

static void generate_corpus(void)
{
	CriuReq r = CRIU_REQ__INIT;
	CriuOpts o = CRIU_OPTS__INIT;
	ExtMountMap m = EXT_MOUNT_MAP__INIT;
	ExtMountMap *mm[] = {&m};
	InheritFd in = INHERIT_FD__INIT;
	InheritFd *ins[] = {&in};

	mkdir(CORPUS_DIR, 0755);
	r.type = CRIU_REQ_TYPE__VERSION;
	write_seed("version", &r);
	r.type = CRIU_REQ_TYPE__DUMP;
	r.opts = &o;
	o.images_dir_fd = 3;
	o.has_pid = true;
	o.pid = 100;
	o.log_file = (char *)"dump.log";
	m.key = (char *)"/vol";
	m.val = (char *)"/srv/vol";
	o.n_ext_mnt = 1;
	o.ext_mnt = mm;
	write_seed("dump", &r);
	r.type = CRIU_REQ_TYPE__RESTORE;
	in.key = (char *)"pipe:[1234]";
	in.fd = 4;
	o.n_inherit_fd = 1;
	o.inherit_fd = ins;
	o.has_rst_sibling = true;
	o.rst_sibling = true;
	write_seed("restore", &r);
}

/* Every corpus file decodes or is refused, without crashing. */
static int test_fuzz_corpus(void)
{
	DIR *d;
	struct dirent *de;
	int files = 0;

	if (getenv("UNIT_UPDATE_CORPUS"))
		generate_corpus();
	d = opendir(CORPUS_DIR);
	CHECK(d);
	while ((de = readdir(d))) {
		char path[512];
		size_t len;
		uint8_t *buf;
		struct rpc_err e;
		CriuReq *r;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), CORPUS_DIR "%s", de->d_name);
		buf = (uint8_t *)unit_slurp(path, &len);
		if (!buf)
			continue;
		r = rpc_decode_req(buf, len, &e);
		if (r)
			criu_req__free_unpacked(r, NULL);
		free(buf);
		files++;
	}
	closedir(d);
	CHECK(files >= 3);
	return 0;
}

static const struct unit_case cases[] = {
	{"rpc-decode-valid", test_decode_valid},
	{"rpc-decode-rejects", test_decode_rejects},
	{"rpc-type-names", test_type_names},
	{"rpc-opts-unsupported", test_unsupported},
	{"rpc-opts-apply", test_apply},
	{"rpc-opts-apply-cgroups", test_apply_cgroups},
	{"rpc-opts-apply-refuses", test_apply_refuses},
	{"rpc-fuzz-corpus", test_fuzz_corpus},
	{NULL, NULL},
};

UNIT_MAIN(cases)

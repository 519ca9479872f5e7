/*
 * `criu swrk FD`: one RPC session (see rpc/service.h).
 *
 * A request is read and checked (rpc-msg.c), its options become the same
 * struct options the command line fills (rpc-opts.c), and the same drivers
 * run (cr_dump, cr_restore). The reply is always of the request's type;
 * a failure says why in cr_errmsg (the first error logged). Request types
 * criu does not serve get success=false and a message, never a dropped
 * connection.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define LOG_PREFIX "rpc: "
#include "crtools.h"
#include "dump.h"
#include "options.h"
#include "rpc/rpc-msg.h"
#include "rpc/rpc-opts.h"
#include "rpc/service.h"
#include "util/kerndat.h"
#include "util/log.h"
#include "util/util.h"

struct session {
	int sk;
	pid_t client; /* the peer's pid (SO_PEERCRED), in criu's pid namespace */
};

static int send_reply(struct session *s, CriuResp *resp, bool success)
{
	const char *why = log_first_error();

	resp->success = success;
	if (!success && why && !resp->cr_errmsg)
		resp->cr_errmsg = (char *)why;
	if (rpc_send_resp(s->sk, resp)) {
		pr_perror("can't send the %s reply to the client", success ? "success" : "failure");
		return -1;
	}
	return 0;
}

static int open_session_log(const struct options *o);

/*
 * The notify hook (options.notify_hook): tells the client a stage is
 * reached and waits for its NOTIFY answer; anything but notify_success
 * (a "no", another request, the client gone) stops the dump or restore.
 */
static int rpc_notify(void *arg, const char *action, pid_t pid, int fd)
{
	struct session *s = arg;
	CriuResp resp = CRIU_RESP__INIT;
	CriuNotify n = CRIU_NOTIFY__INIT;
	struct rpc_err e = {""};
	CriuReq *req;
	char name[32];
	int got, ret;

	n.script = (char *)action;
	n.has_pid = pid > 0;
	n.pid = pid;
	resp.type = CRIU_REQ_TYPE__NOTIFY;
	resp.success = true;
	resp.notify = &n;
	if (fd >= 0 ? rpc_send_resp_fd(s->sk, &resp, fd) : rpc_send_resp(s->sk, &resp)) {
		pr_perror("can't tell the client %s", action);
		return -1;
	}
	got = rpc_recv_req(s->sk, &req, &e);
	if (got <= 0) {
		pr_err("no answer from the client to %s: %s\n", action, got ? e.msg : "it closed the connection");
		return -1;
	}
	if (req->type != CRIU_REQ_TYPE__NOTIFY) {
		pr_err("the client answered %s with a %s request\n", action,
		       rpc_req_type_name(req->type, name, sizeof(name)));
		ret = -1;
	} else {
		ret = req->has_notify_success && req->notify_success ? 0 : -1;
	}
	criu_req__free_unpacked(req, NULL);
	return ret;
}

/* Options every request with opts goes through: the log first, then the rest. */
static int session_options(struct session *s, const CriuReq *req, enum criu_cmd cmd, struct options *o)
{
	if (!req->opts) {
		pr_err("RPC request without options: opts.images_dir_fd is needed\n");
		return -1;
	}
	if (rpc_opts_dirs(req->opts, s->client, o) || open_session_log(o) ||
	    rpc_opts_apply(req->opts, cmd, s->client, o))
		return -1;
	if (req->opts->has_notify_scripts && req->opts->notify_scripts) {
		o->notify_hook = rpc_notify;
		o->notify_arg = s;
	}
	return 0;
}

static int serve_version(struct session *s, CriuResp *resp)
{
	static CriuVersion v = CRIU_VERSION__INIT;

	v.major_number = CRIU_IFACE_MAJOR;
	v.minor_number = CRIU_IFACE_MINOR;
	v.name = (char *)"criu (this project) " CRIU_VERSION;
	resp->version = &v;
	return send_reply(s, resp, true);
}

static int serve_check(struct session *s, CriuResp *resp)
{
	bool ok = true;

	for (int f = 0; f < KF__NR; f++)
		if (kdat_feature(f)->required && !kdat_has(f)) {
			pr_err("%s: %s: not supported by this kernel\n", kdat_feature(f)->name, kdat_feature(f)->desc);
			ok = false;
		}
	return send_reply(s, resp, ok);
}

/* Pre-dump memory tracking, lazy pages and the pidfd store are not in
 * criu: each asked about is answered "no", as upstream answers a kernel
 * without them. */
static int serve_feature_check(struct session *s, const CriuReq *req, CriuResp *resp)
{
	static CriuFeatures f = CRIU_FEATURES__INIT;

	if (req->features) {
		f.has_mem_track = req->features->has_mem_track;
		f.has_lazy_pages = req->features->has_lazy_pages;
		f.has_pidfd_store = req->features->has_pidfd_store;
	}
	resp->features = &f;
	return send_reply(s, resp, true);
}

/* The log of a dump or restore: log_file in the work directory (default:
 * the images directory), as upstream. */
static int open_session_log(const struct options *o)
{
	const char *dir = o->work_dir ? o->work_dir : o->imgs_dir;
	char path[PATH_MAX];

	if (!o->log_file)
		return log_init(o->verbosity, NULL);
	if (snprintf(path, sizeof(path), "%s/%s", dir, o->log_file) >= (int)sizeof(path)) {
		pr_err("log file path %s/%s is too long\n", dir, o->log_file);
		return -1;
	}
	return log_init(o->verbosity, path);
}

static int serve_dump(struct session *s, const CriuReq *req, CriuResp *resp)
{
	static CriuDumpResp d = CRIU_DUMP_RESP__INIT;
	struct options o;
	int ret = -1;

	options_init(&o);
	d.has_restored = true;
	d.restored = false;
	resp->dump = &d;
	if (!session_options(s, req, CMD_DUMP, &o))
		ret = cr_dump(&o);
	options_free(&o);
	ret = send_reply(s, resp, ret == 0) || ret;
	log_init(log_get_level(), NULL);
	return ret;
}

/* RESTORE: always detached; the reply carries the root task's pid. */
static int serve_restore(struct session *s, const CriuReq *req, CriuResp *resp)
{
	static CriuRestoreResp rr = CRIU_RESTORE_RESP__INIT;
	struct options o;
	pid_t root = 0;
	int ret = -1;

	options_init(&o);
	if (!session_options(s, req, CMD_RESTORE, &o)) {
		o.restore_detached = true;
		o.restore_sibling = req->opts->has_rst_sibling && req->opts->rst_sibling;
		ret = cr_restore_tree(&o, &root);
	}
	options_free(&o);
	if (!ret) {
		rr.pid = root;
		resp->restore = &rr;
	}
	ret = send_reply(s, resp, ret == 0) || ret;
	log_init(log_get_level(), NULL);
	return ret;
}

static int serve_unsupported(struct session *s, const CriuReq *req, CriuResp *resp)
{
	char name[32];

	pr_err("criu does not serve %s requests (it serves DUMP, RESTORE, CHECK, VERSION and FEATURE_CHECK)\n",
	       rpc_req_type_name(req->type, name, sizeof(name)));
	return send_reply(s, resp, false) < 0 ? -1 : 1;
}

/* Serves one request; 0 when it succeeded, non-zero when not. */
static int serve_one(struct session *s, const CriuReq *req)
{
	CriuResp resp = CRIU_RESP__INIT;

	resp.type = req->type;
	log_first_error_reset();
	switch (req->type) {
	case CRIU_REQ_TYPE__VERSION:
		return serve_version(s, &resp);
	case CRIU_REQ_TYPE__CHECK:
		return serve_check(s, &resp);
	case CRIU_REQ_TYPE__FEATURE_CHECK:
		return serve_feature_check(s, req, &resp);
	case CRIU_REQ_TYPE__DUMP:
		return serve_dump(s, req, &resp);
	case CRIU_REQ_TYPE__RESTORE:
		return serve_restore(s, req, &resp);
	default:
		return serve_unsupported(s, req, &resp);
	}
}

int cr_swrk(int sk)
{
	struct session s = {.sk = sk};
	struct ucred cred;
	socklen_t len = sizeof(cred);
	int type = 0, ret = 0;
	socklen_t tlen = sizeof(type);

	if (getsockopt(sk, SOL_SOCKET, SO_TYPE, &type, &tlen) || type != SOCK_SEQPACKET) {
		pr_err("criu swrk %d: not a SOCK_SEQPACKET socket\n", sk);
		pr_hint("criu swrk is run by a client (runc, libcriu) on one end of a socketpair(AF_UNIX, SOCK_SEQPACKET)\n");
		return 1;
	}
	if (getsockopt(sk, SOL_SOCKET, SO_PEERCRED, &cred, &len) || cred.pid <= 0) {
		pr_perror("criu swrk %d: can't tell who the client is", sk);
		return 1;
	}
	s.client = cred.pid;
	/* nothing criu starts (scripts, restored tasks) inherits the client's socket */
	fcntl(sk, F_SETFD, FD_CLOEXEC);
	for (;;) {
		struct rpc_err e = {""};
		CriuReq *req;
		int got = rpc_recv_req(sk, &req, &e);
		bool keep;

		if (got == 0)
			break;
		if (got < 0) {
			CriuResp resp = CRIU_RESP__INIT;

			/* a reply all the same: the client learns why, then the session ends */
			pr_err("%s\n", e.msg);
			resp.type = CRIU_REQ_TYPE__EMPTY;
			resp.cr_errmsg = e.msg;
			send_reply(&s, &resp, false);
			ret = 1;
			break;
		}
		keep = req->has_keep_open && req->keep_open;
		ret = serve_one(&s, req) ? 1 : 0;
		criu_req__free_unpacked(req, NULL);
		if (!keep)
			break;
	}
	return ret;
}

int cr_swrk_main(int argc, char **argv)
{
	char *end;
	long fd;

	if (argc != 3) {
		pr_err("usage: criu swrk FD (FD: a SOCK_SEQPACKET socket from the client)\n");
		return 1;
	}
	errno = 0;
	fd = strtol(argv[2], &end, 10);
	if (errno || *end || end == argv[2] || fd < 0 || fd > INT_MAX) {
		pr_err("criu swrk %s: not a descriptor number\n", argv[2]);
		return 1;
	}
	return cr_swrk((int)fd);
}

#define DEFAULT_SERVICE_ADDRESS "/var/run/criu_service.socket"

static int service_listen(const char *path)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	int sk;

	if (strlen(path) >= sizeof(a.sun_path)) {
		pr_err("service address %s is longer than a unix socket path may be\n", path);
		return -1;
	}
	strcpy(a.sun_path, path);
	sk = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (sk < 0) {
		pr_perror("can't make the service socket");
		return -1;
	}
	unlink(path); /* a socket an earlier service left */
	if (bind(sk, (struct sockaddr *)&a, sizeof(a)) || listen(sk, 16)) {
		pr_perror("can't listen on %s", path);
		close(sk);
		return -1;
	}
	return sk;
}

static const char *listening_path;

/* Stopped by a signal: the socket file goes too, so a new service can start. */
static void service_stop(int sig)
{
	if (listening_path)
		unlink(listening_path);
	_exit(128 + sig);
}

static int write_service_pidfile(const char *path)
{
	FILE *f = fopen(path, "we");

	if (!f || fprintf(f, "%d\n", (int)getpid()) < 0 || fclose(f)) {
		pr_perror("can't write pidfile %s", path);
		return -1;
	}
	return 0;
}

/* One connection: a worker process serves it as criu swrk would. */
static void serve_connection(int lsk, int sk)
{
	pid_t pid = fork();

	if (pid < 0) {
		pr_perror("can't start a worker for a connection");
		close(sk);
		return;
	}
	if (pid == 0) {
		close(lsk);
		signal(SIGCHLD, SIG_DFL); /* the worker waits for what it starts */
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		_exit(cr_swrk(sk));
	}
	close(sk);
}

int cr_service(const struct options *o)
{
	const char *path = o->service_address ? o->service_address : DEFAULT_SERVICE_ADDRESS;
	int lsk = service_listen(path);

	if (lsk < 0)
		return -1;
	if (o->service_daemon && daemon(1, 0)) {
		pr_perror("can't detach the service");
		close(lsk);
		return -1;
	}
	if (o->pidfile && write_service_pidfile(o->pidfile)) {
		close(lsk);
		return -1;
	}
	signal(SIGCHLD, SIG_IGN); /* workers are reaped by the kernel */
	listening_path = path;
	signal(SIGTERM, service_stop);
	signal(SIGINT, service_stop);
	pr_info("serving RPC on %s\n", path);
	for (;;) {
		int sk = accept4(lsk, NULL, NULL, SOCK_CLOEXEC);

		if (sk < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			pr_perror("service: accept on %s", path);
			close(lsk);
			return -1;
		}
		serve_connection(lsk, sk);
	}
}

/*
 * The socket option policy (criu/net/sockopt.c): a failure is an error
 * naming the socket and the option, except for the best-effort options
 * and on live sockets, where it is a warning and the caller goes on; and
 * the options every socket has, dumped and restored onto a new socket.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "unit.h"
#include "net/sockopt.h"
#include "util/log.h"

#ifndef SO_BUF_LOCK
#define SO_BUF_LOCK 72
#endif

static char logpath[64];

static void log_capture(void)
{
	snprintf(logpath, sizeof(logpath), "/tmp/criu-test-sockopt-log.%d", (int)getpid());
	log_init(LOG_WARN, logpath);
}

static char *log_captured(void)
{
	char *s;

	log_fini();
	log_init(DEFAULT_LOGLEVEL, NULL);
	s = unit_slurp(logpath, NULL);
	unlink(logpath);
	return s ? s : strdup("");
}

static int test_best_effort_list(void)
{
	CHECK(sk_opt_best_effort(SOL_SOCKET, SO_MARK));
	CHECK(sk_opt_best_effort(SOL_SOCKET, SO_PRIORITY));
	CHECK(sk_opt_best_effort(SOL_SOCKET, SO_BUF_LOCK));
	CHECK(sk_opt_best_effort(SOL_SOCKET, SO_SNDBUFFORCE));
	CHECK(sk_opt_best_effort(SOL_SOCKET, SO_RCVBUFFORCE));
	CHECK(!sk_opt_best_effort(SOL_SOCKET, SO_SNDBUF));
	CHECK(!sk_opt_best_effort(SOL_SOCKET, SO_REUSEADDR));
	CHECK(!sk_opt_best_effort(SOL_SOCKET, SO_BINDTODEVICE));
	CHECK(!sk_opt_best_effort(IPPROTO_TCP, TCP_REPAIR));
	CHECK_STR(sk_opt_name(SOL_SOCKET, SO_RCVTIMEO), "SO_RCVTIMEO");
	return 0;
}

/* On a pipe every option fails (ENOTSOCK): what each case makes of it. */
static int test_failures(void)
{
	int p[2], v, r1, r2, r3, r4;
	char *log;

	CHECK(!pipe(p));
	log_capture();
	r1 = sk_set_int(p[0], SOL_SOCKET, SO_REUSEADDR, 1, "socket 42", 0);
	r2 = sk_set_int(p[0], SOL_SOCKET, SO_MARK, 7, "socket 42", 0);
	r3 = sk_set_int(p[0], SOL_SOCKET, SO_REUSEADDR, 1, "socket 42", SK_LIVE);
	r4 = sk_get_int(p[0], SOL_SOCKET, SO_SNDBUF, &v, "process 1: fd 3");
	log = log_captured();
	close(p[0]);
	close(p[1]);
	if (r1 != -ENOTSOCK || r2 != SK_SKIPPED || r3 != SK_SKIPPED || r4 != -ENOTSOCK || !strstr(log, "Error") ||
	    !strstr(log, "socket 42: can't set SO_REUSEADDR to 1") || !strstr(log, "Warn") ||
	    !strstr(log, "socket 42: can't set SO_MARK to 7") ||
	    !strstr(log, "process 1: fd 3: can't read SO_SNDBUF")) {
		snprintf(unit_fail_msg, sizeof(unit_fail_msg), "got %d %d %d %d, said: %.300s", r1, r2, r3, r4, log);
		free(log);
		return 1;
	}
	free(log);
	return 0;
}

/* The options every socket has, from one unix socket onto a new one. */
static int test_round_trip(void)
{
	SkOptsEntry o = SK_OPTS_ENTRY__INIT, back = SK_OPTS_ENTRY__INIT;
	struct timeval tv = {.tv_sec = 2, .tv_usec = 500000};
	int a[2], b[2], size = 65536, on = 1, ret;

	CHECK(!socketpair(AF_UNIX, SOCK_STREAM, 0, a));
	CHECK(!socketpair(AF_UNIX, SOCK_STREAM, 0, b));
	CHECK(!setsockopt(a[0], SOL_SOCKET, SO_SNDBUF, &size, sizeof(size)));
	CHECK(!setsockopt(a[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)));
	CHECK(!setsockopt(a[0], SOL_SOCKET, SO_PASSCRED, &on, sizeof(on)));
	ret = sk_opts_dump(a[0], AF_UNIX, &o, "a");
	if (!ret)
		ret = sk_opts_restore(b[0], &o, "b", 0);
	if (!ret)
		ret = sk_opts_dump(b[0], AF_UNIX, &back, "b");
	for (int i = 0; i < 2; i++) {
		close(a[i]);
		close(b[i]);
	}
	CHECK(ret == 0);
	CHECK(o.has_so_passcred && o.so_passcred && back.so_passcred);
	CHECK(o.so_rcv_tmo_sec == 2 && o.so_rcv_tmo_usec == 500000);
	CHECK(back.so_rcv_tmo_sec == 2 && back.so_rcv_tmo_usec == 500000);
	CHECK(back.so_sndbuf == o.so_sndbuf);
	CHECK(!o.has_so_buf_lock || (o.so_buf_lock & 1));
	return 0;
}

/* SO_PASSCRED means nothing on an inet socket (and newer kernels refuse it). */
static int test_passcred_inet(void)
{
	SkOptsEntry o = SK_OPTS_ENTRY__INIT;
	int fd = socket(AF_INET, SOCK_DGRAM, 0), ret;

	CHECK(fd >= 0);
	ret = sk_opts_dump(fd, AF_INET, &o, "udp");
	if (!ret)
		ret = sk_opts_restore(fd, &o, "udp", 0);
	close(fd);
	CHECK(ret == 0);
	CHECK(o.has_so_passcred && !o.so_passcred);
	return 0;
}

static const struct unit_case cases[] = {
	{"sockopt_best_effort_list", test_best_effort_list},
	{"sockopt_failures", test_failures},
	{"sockopt_round_trip", test_round_trip},
	{"sockopt_passcred_inet", test_passcred_inet},
	{},
};

UNIT_MAIN(cases)

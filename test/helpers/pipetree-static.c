/*
 * pipetree-static OUTDIR: a three-process tree joined by pipes in a ring,
 * each pipe holding unread data, for checkpoint/restore tests.
 *
 *   parent --pipe a--> child --pipe b--> grandchild --pipe c--> parent
 *
 * The parent also has a zombie child (exited with status 7, not reaped); the
 * child is the leader of its own process group (setpgid), the grandchild of
 * its own session (setsid). At start each process writes DATA_LEN bytes into
 * the pipe it writes to (nobody reads them yet) and then OUTDIR/ROLE.ids:
 *   pid P ppid PP pgrp G sid S
 *   sent N hash H          (what it put into its pipe)
 * and the parent "zombie Z" too; OUTDIR/ready appears when the parent's is
 * written. OUTDIR/starts gets a line per start of a process.
 *
 * On SIGUSR1 (sent to the parent, which passes it to the child, which passes
 * it to the grandchild) or when OUTDIR/trigger appears (polled every 100 ms),
 * each reads what is pending in the pipe it reads from and writes
 * OUTDIR/ROLE.result:
 *   pid P ppid PP pgrp G sid S
 *   got N hash H
 * and the parent "zombie Z waitpid Z status exited 7" (or what it got).
 * Then each sleeps until killed.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "outfile.h"

#define DATA_LEN 30000

static volatile sig_atomic_t triggered;
static pid_t forward_to;

static void on_usr1(int sig)
{
	triggered = 1;
	if (forward_to > 0)
		kill(forward_to, SIGUSR1);
}


static unsigned hash(const unsigned char *p, size_t n)
{
	unsigned h = 2166136261u;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

static void fill(unsigned char *buf, int seed)
{
	int n = snprintf((char *)buf, DATA_LEN, "data from %d:", seed);

	for (int i = n; i < DATA_LEN; i++)
		buf[i] = (unsigned char)(i * 7 + seed * 31);
}

static int ids(char *p, size_t sz)
{
	return snprintf(p, sz, "pid %d ppid %d pgrp %d sid %d\n", getpid(), getppid(), getpgrp(), getsid(0));
}

static void send_data(int fd, int seed, const char *role, const char *extra)
{
	static unsigned char buf[DATA_LEN];
	char text[512], name[64];
	int n;

	fill(buf, seed);
	for (size_t off = 0; off < DATA_LEN;) {
		ssize_t w = write(fd, buf + off, DATA_LEN - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			perror("write");
			exit(1);
		}
		off += w;
	}
	n = ids(text, sizeof(text));
	snprintf(text + n, sizeof(text) - n, "sent %d hash %08x\n%s", DATA_LEN, hash(buf, DATA_LEN), extra);
	snprintf(name, sizeof(name), "%s.ids", role);
	write_file(name, text, 0);
}

/* Reads what is pending in fd: all of it, or what arrives within a second. */
static void receive(int fd, const char *role, const char *extra)
{
	static unsigned char buf[DATA_LEN * 2];
	char text[512], name[64];
	size_t got = 0;
	int n;

	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	while (got < sizeof(buf)) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t r;

		if (got >= DATA_LEN && poll(&pfd, 1, 0) <= 0)
			break;
		if (got < DATA_LEN && poll(&pfd, 1, 1000) <= 0)
			break;
		r = read(fd, buf + got, sizeof(buf) - got);
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r <= 0)
			break;
		got += r;
	}
	n = ids(text, sizeof(text));
	snprintf(text + n, sizeof(text) - n, "got %zu hash %08x\n%s", got, hash(buf, got), extra);
	snprintf(name, sizeof(name), "%s.result", role);
	write_file(name, text, 0);
}

static void wait_trigger(void)
{
	struct timespec ts = { 0, 100000000 };
	char path[4096];

	snprintf(path, sizeof(path), "%s/trigger", outdir);
	while (!triggered && access(path, F_OK))
		nanosleep(&ts, NULL);
}

static void sleep_forever(void)
{
	for (;;)
		pause();
}

static void started(const char *role)
{
	char line[128];

	snprintf(line, sizeof(line), "start %s pid %d\n", role, getpid());
	write_file("starts", line, 1);
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_usr1 };
	int a[2], b[2], c[2];
	pid_t zombie, child;
	char extra[256];

	if (argc != 2) {
		fprintf(stderr, "usage: %s OUTDIR\n", argv[0]);
		return 2;
	}
	outdir = argv[1];
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	/* a signal ignored and one blocked, so that both show in the status */
	signal(SIGHUP, SIG_IGN);
	{
		sigset_t set;

		sigemptyset(&set);
		sigaddset(&set, SIGUSR2);
		sigprocmask(SIG_BLOCK, &set, NULL);
	}
	started("parent");
	if (pipe(a) || pipe(b) || pipe(c)) {
		perror("pipe");
		return 1;
	}
	zombie = fork();
	if (zombie == 0)
		_exit(7);
	child = fork();
	if (child < 0) {
		perror("fork");
		return 1;
	}
	if (child == 0) {
		pid_t grandchild;

		close(a[1]);
		close(c[0]);
		setpgid(0, 0);
		started("child");
		grandchild = fork();
		if (grandchild < 0) {
			perror("fork");
			return 1;
		}
		if (grandchild == 0) {
			close(a[0]);
			close(b[1]);
			setsid();
			started("grandchild");
			forward_to = 0;
			send_data(c[1], 3, "grandchild", "");
			wait_trigger();
			receive(b[0], "grandchild", "");
			sleep_forever();
		}
		close(b[0]);
		close(c[1]);
		forward_to = grandchild;
		send_data(b[1], 2, "child", "");
		wait_trigger();
		receive(a[0], "child", "");
		sleep_forever();
	}
	forward_to = child;
	close(a[0]);
	close(b[0]);
	close(b[1]);
	close(c[1]);
	snprintf(extra, sizeof(extra), "zombie %d\n", zombie);
	send_data(a[1], 1, "parent", extra);
	write_file("ready", "ready\n", 0);
	wait_trigger();
	{
		int st = 0;
		pid_t r = waitpid(zombie, &st, WNOHANG);

		if (r == zombie && WIFEXITED(st))
			snprintf(extra, sizeof(extra), "zombie %d waitpid %d status exited %d\n", zombie, r,
				 WEXITSTATUS(st));
		else
			snprintf(extra, sizeof(extra), "zombie %d waitpid %d status %#x errno %d\n", zombie, r, st,
				 r < 0 ? errno : 0);
	}
	receive(c[0], "parent", extra);
	sleep_forever();
}

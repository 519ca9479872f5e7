/*
 * seccomp-static OUTFILE: a process under seccomp filters, as a container
 * runtime leaves it. The main thread installs a filter making mkdir fail
 * with EPERM, then starts a thread that adds one of its own making rmdir
 * fail with EACCES (so the two threads have different chains). Every
 * 100 ms both try and the results go to OUTFILE (a temporary renamed):
 *   count N main mkdir E rmdir E thread mkdir E rmdir E
 * (errno numbers; rmdir of a missing directory gives ENOENT, 2).
 */
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static volatile int t_mkdir, t_rmdir;

static int deny(int nr, int err)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)nr, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (unsigned)err),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {.len = sizeof(f) / sizeof(f[0]), .filter = f};

	return (int)syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
}

/* errno of a syscall that must fail */
static int try(int nr, const char *path)
{
	return syscall(nr, path, 0700) == 0 ? 0 : errno;
}

static void *thread_main(void *arg)
{
	struct timespec ts = {0, 50000000};

	if (deny(__NR_rmdir, EACCES))
		return perror("seccomp (thread)"), NULL;
	for (;;) {
		t_mkdir = try(__NR_mkdir, "/tmp/seccomp-test");
		t_rmdir = try(__NR_rmdir, "/tmp/seccomp-none");
		nanosleep(&ts, NULL);
	}
	return arg;
}

int main(int argc, char **argv)
{
	struct timespec ts = {0, 100000000};
	char tmp[4096];
	unsigned long i = 0;
	pthread_t th;

	if (argc != 2) {
		fprintf(stderr, "usage: %s OUTFILE\n", argv[0]);
		return 2;
	}
	if (deny(__NR_mkdir, EPERM))
		return perror("seccomp"), 1;
	if (pthread_create(&th, NULL, thread_main, NULL))
		return 1;
	snprintf(tmp, sizeof(tmp), "%s.tmp", argv[1]);
	for (;;) {
		int m = try(__NR_mkdir, "/tmp/seccomp-test"), r = try(__NR_rmdir, "/tmp/seccomp-none");
		FILE *f = fopen(tmp, "w");

		if (f) {
			fprintf(f, "count %lu main mkdir %d rmdir %d thread mkdir %d rmdir %d\n", ++i, m, r, t_mkdir,
				t_rmdir);
			fclose(f);
			rename(tmp, argv[1]);
		}
		nanosleep(&ts, NULL);
	}
}

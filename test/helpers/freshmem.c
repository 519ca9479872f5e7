/*
 * freshmem MIB THREADS: maps MIB MiB of new private anonymous memory, has
 * THREADS threads each write one byte to every page of its share, and
 * prints the MB/s of it. That is the rate this machine hands out memory no
 * process has: the ceiling of any restore, whose task's pages are all new
 * (in a VM that returns freed memory to its host, the host must find each
 * page again, and that, not copying, is what costs). Run just before a
 * restore, it also leaves MIB MiB that the kernel has and the host does not
 * take back for a moment: the bench's "warm" rows, criu's speed apart from
 * the machine's.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>

#define PAGE 4096UL

struct share {
	char *p;
	size_t len;
};

static void *touch(void *arg)
{
	struct share *s = arg;

	for (size_t o = 0; o < s->len; o += PAGE)
		s->p[o] = 1;
	return NULL;
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	long mib = argc == 3 ? strtol(argv[1], NULL, 10) : 0, nt = argc == 3 ? strtol(argv[2], NULL, 10) : 0;
	pthread_t tid[64];
	struct share sh[64];
	size_t len, part;
	double t0, t1;
	char *p;

	if (mib <= 0 || nt <= 0) {
		fprintf(stderr, "usage: freshmem MIB THREADS\n");
		return 2;
	}
	if (nt > 64)
		nt = 64;
	len = (size_t)mib << 20;
	part = (len / (size_t)nt) & ~(PAGE - 1);
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	t0 = now();
	for (long i = 0; i < nt; i++) {
		sh[i] = (struct share){.p = p + (size_t)i * part, .len = i == nt - 1 ? len - (size_t)i * part : part};
		if (pthread_create(&tid[i], NULL, touch, &sh[i])) {
			fprintf(stderr, "pthread_create failed\n");
			return 1;
		}
	}
	for (long i = 0; i < nt; i++)
		pthread_join(tid[i], NULL);
	t1 = now();
	printf("%.0f\n", (double)len / (t1 - t0) / 1e6);
	return 0;
}

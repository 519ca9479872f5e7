/*
 * threads OUTDIR: a multi-threaded workload for checkpoint/restore tests.
 *
 * Four threads each increment their own counter in a shared array under a
 * mutex, about once a millisecond. The main thread writes
 * "counters: a b c d" to OUTDIR/counters every 100 ms (a new file renamed
 * into place, so a reader never sees half a line, and no descriptor stays
 * open on it). Every thread checks, each round, that what lives in its
 * thread-local storage is still its own: a __thread index and magic, the
 * address of its TLS block, a pthread key, the FS base (which is
 * pthread_self() on x86_64 glibc), its thread id and its signal mask (thread
 * i blocks SIGRTMIN+i), and that its counter matches a thread-local mirror.
 * The main thread checks that no counter ever goes down. Any failed check
 * appends "BAD <why>" to OUTDIR/bad and from then on to OUTDIR/counters.
 *
 * OUTDIR/starts gets one line per start of the program: a restored process
 * must not have started again. OUTDIR/tls lists each thread's tid and TLS
 * address once all are running.
 */
#include <asm/prctl.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "outfile.h"

#define NT 4
#define MAGIC 0x5eed7a11c0ffee00UL

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static unsigned long counters[NT];
static pthread_key_t key;
static pthread_mutex_t badmu = PTHREAD_MUTEX_INITIALIZER;
static char badmsg[4096];
static volatile int nr_ready;
static struct {
	pid_t tid;
	void *tls;
} info[NT + 1];

static __thread int tls_idx = -1;
static __thread unsigned long tls_magic;
static __thread unsigned long tls_count;


static void bad(const char *fmt, ...)
{
	char line[512];
	va_list ap;
	size_t n;

	strcpy(line, "BAD ");
	va_start(ap, fmt);
	vsnprintf(line + 4, sizeof(line) - 5, fmt, ap);
	va_end(ap);
	strcat(line, "\n");
	pthread_mutex_lock(&badmu);
	n = strlen(badmsg);
	/* the same complaint once is enough */
	if (!strstr(badmsg, line) && n + strlen(line) < sizeof(badmsg)) {
		strcat(badmsg, line);
		write_file("bad", line, 1);
	}
	pthread_mutex_unlock(&badmu);
}

static unsigned long fs_base(void)
{
	unsigned long fs = 0;

	syscall(SYS_arch_prctl, ARCH_GET_FS, &fs);
	return fs;
}

/* Checks the calling thread's TLS; idx NT is the main thread. */
static void check_tls(int idx, void *tls_addr, pthread_t self, pid_t tid)
{
	sigset_t cur;

	if (tls_idx != idx)
		bad("thread %d: __thread index is %d", idx, tls_idx);
	if (tls_magic != (MAGIC ^ idx))
		bad("thread %d: __thread magic is %#lx", idx, tls_magic);
	if ((void *)&tls_idx != tls_addr)
		bad("thread %d: TLS moved from %p to %p", idx, tls_addr, (void *)&tls_idx);
	if (!pthread_equal(pthread_self(), self))
		bad("thread %d: pthread_self() changed", idx);
	if (fs_base() != (unsigned long)self)
		bad("thread %d: FS base %#lx is not pthread_self() %#lx", idx, fs_base(), (unsigned long)self);
	if (pthread_getspecific(key) != (void *)(long)(idx + 1))
		bad("thread %d: pthread key holds %p", idx, pthread_getspecific(key));
	if (syscall(SYS_gettid) != tid)
		bad("thread %d: tid changed from %d to %ld", idx, tid, syscall(SYS_gettid));
	pthread_sigmask(SIG_BLOCK, NULL, &cur);
	for (int i = 0; i < NT; i++)
		if (sigismember(&cur, SIGRTMIN + i) != (i == idx))
			bad("thread %d: SIGRTMIN+%d is %sblocked", idx, i, i == idx ? "not " : "");
}

static void init_tls(int idx)
{
	sigset_t set;

	tls_idx = idx;
	tls_magic = MAGIC ^ idx;
	pthread_setspecific(key, (void *)(long)(idx + 1));
	sigemptyset(&set);
	for (int i = 0; i < NT; i++)
		sigaddset(&set, SIGRTMIN + i);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	if (idx < NT) {
		sigemptyset(&set);
		sigaddset(&set, SIGRTMIN + idx);
		pthread_sigmask(SIG_BLOCK, &set, NULL);
	}
	info[idx].tid = syscall(SYS_gettid);
	info[idx].tls = &tls_idx;
	__atomic_add_fetch(&nr_ready, 1, __ATOMIC_SEQ_CST);
}

static void *worker(void *arg)
{
	int idx = (int)(long)arg;
	struct timespec ts = { 0, 1000000 };
	pthread_t self = pthread_self();
	unsigned long c;

	init_tls(idx);
	for (;;) {
		pthread_mutex_lock(&mu);
		c = ++counters[idx];
		pthread_mutex_unlock(&mu);
		if (++tls_count != c)
			bad("thread %d: counter %lu but thread-local mirror %lu", idx, c, tls_count);
		check_tls(idx, info[idx].tls, self, info[idx].tid);
		nanosleep(&ts, NULL);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	unsigned long last[NT] = { 0 }, now[NT];
	struct timespec ts = { 0, 100000000 };
	char line[8192], *p;
	pthread_t th[NT];
	int wrote_tls = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: %s OUTDIR\n", argv[0]);
		return 2;
	}
	outdir = argv[1];
	snprintf(line, sizeof(line), "start pid %d\n", getpid());
	write_file("starts", line, 1);
	pthread_key_create(&key, NULL);
	init_tls(NT);
	for (long i = 0; i < NT; i++) {
		if ((errno = pthread_create(&th[i], NULL, worker, (void *)i))) {
			perror("pthread_create");
			return 1;
		}
	}
	for (;;) {
		nanosleep(&ts, NULL);
		check_tls(NT, info[NT].tls, pthread_self(), info[NT].tid);
		pthread_mutex_lock(&mu);
		memcpy(now, counters, sizeof(now));
		pthread_mutex_unlock(&mu);
		for (int i = 0; i < NT; i++) {
			if (now[i] < last[i])
				bad("counter %d went down from %lu to %lu", i, last[i], now[i]);
			last[i] = now[i];
		}
		if (!wrote_tls && __atomic_load_n(&nr_ready, __ATOMIC_SEQ_CST) == NT + 1) {
			p = line;
			for (int i = 0; i <= NT; i++)
				p += sprintf(p, "thread %d tid %d tls %p\n", i, info[i].tid, info[i].tls);
			write_file("tls", line, 0);
			wrote_tls = 1;
		}
		pthread_mutex_lock(&badmu);
		snprintf(line, sizeof(line), "counters: %lu %lu %lu %lu\n%s", now[0], now[1], now[2], now[3], badmsg);
		pthread_mutex_unlock(&badmu);
		write_file("counters", line, 0);
	}
}

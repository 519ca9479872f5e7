#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/util.h"
#include "util/log.h"

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p) {
		fprintf(stderr, "Error: out of memory allocating %zu bytes\n", n);
		abort();
	}
	return p;
}

void *xzalloc(size_t n)
{
	void *p = xmalloc(n);
	memset(p, 0, n);
	return p;
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p) {
		fprintf(stderr, "Error: out of memory allocating %zu bytes\n", n);
		abort();
	}
	return p;
}

char *xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;
	return memcpy(xmalloc(n), s, n);
}

int read_file_at(int dirfd, const char *path, char **buf, size_t *len)
{
	_cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
	size_t cap = 65536, n = 0;
	char *b;

	if (fd < 0)
		return -errno;
	b = xmalloc(cap);
	for (;;) {
		ssize_t r;

		if (cap - n < 4096) {
			cap *= 2;
			b = xrealloc(b, cap);
		}
		r = read(fd, b + n, cap - n - 1);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			int err = -errno;
			free(b);
			return err;
		}
		if (r == 0)
			break;
		n += r;
	}
	b[n] = '\0';
	*buf = b;
	if (len)
		*len = n;
	return 0;
}

bool path_is_under(const char *path, const char *prefix)
{
	size_t n = strlen(prefix);

	if (n == 1 && prefix[0] == '/')
		return path[0] == '/';
	if (strncmp(path, prefix, n))
		return false;
	return path[n] == '\0' || path[n] == '/';
}

const char *path_below(const char *path, const char *prefix)
{
	size_t n = strlen(prefix);

	if (n == 1 && prefix[0] == '/')
		n = 0;
	path += n;
	while (*path == '/')
		path++;
	return path;
}

size_t path_parent_len(const char *path, size_t len)
{
	while (len > 1 && path[len - 1] != '/')
		len--;
	if (len > 1)
		len--;
	return len;
}

bool relpath_is_clean(const char *path)
{
	if (!*path || *path == '/')
		return false;
	for (const char *c = path;;) {
		size_t n = strcspn(c, "/");

		if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
			return false;
		c += n;
		if (!*c)
			return true;
		c++;
	}
}

int open_images_dir(const char *dir, bool create)
{
	int fd;

	if (create && mkdir(dir, 0700) && errno != EEXIST) {
		print_on_level(LOG_ERROR, "Error: can't create images directory %s: %s\n", dir, strerror(errno));
		return -1;
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		print_on_level(LOG_ERROR, "Error: can't open images directory %s: %s\n", dir, strerror(errno));
	return fd;
}


uint64_t monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

int pread_full(int fd, void *buf, size_t n, uint64_t off)
{
	for (size_t got = 0; got < n;) {
		ssize_t k = pread(fd, (char *)buf + got, n - got, (off_t)(off + got));

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return k ? -errno : -ENODATA;
		got += (size_t)k;
	}
	return 0;
}

static volatile sig_atomic_t stop_signo;

static void on_stop_signal(int sig)
{
	stop_signo = sig;
}

static const int stop_sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};

#define NR_STOP_SIGS (sizeof(stop_sigs) / sizeof(stop_sigs[0]))
static struct sigaction stop_old[NR_STOP_SIGS];
static bool stop_caught[NR_STOP_SIGS];

/* A signal the caller ignores (nohup, a script's `cmd &`) stays ignored. */
void catch_stop_signals(void)
{
	struct sigaction sa = {.sa_handler = on_stop_signal, .sa_flags = SA_RESTART};

	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < NR_STOP_SIGS; i++) {
		if (stop_caught[i] || sigaction(stop_sigs[i], NULL, &stop_old[i]) || stop_old[i].sa_handler == SIG_IGN)
			continue;
		stop_caught[i] = !sigaction(stop_sigs[i], &sa, NULL);
	}
}

/* Back to what they were before catch_stop_signals(). */
void release_stop_signals(void)
{
	for (size_t i = 0; i < NR_STOP_SIGS; i++)
		if (stop_caught[i] && !sigaction(stop_sigs[i], &stop_old[i], NULL))
			stop_caught[i] = false;
}

int stop_requested(void)
{
	static bool said;

	if (!stop_signo)
		return 0;
	if (!said)
		pr_err("interrupted by %s: stopping, and undoing what was done\n", strsignal(stop_signo));
	said = true;
	return -EINTR;
}

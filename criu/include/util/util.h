/* Small helpers: cleanup attributes and ownership hand-over, as crun does. */
#ifndef CRIU_UTIL_H
#define CRIU_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>
#include <stdio.h>
#include <dirent.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static inline void freep(void *p)
{
	free(*(void **)p);
}
static inline void closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}
static inline void fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}
static inline void closedirp(DIR **d)
{
	if (*d)
		closedir(*d);
}

#define _cleanup_free_	   __attribute__((cleanup(freep)))
#define _cleanup_close_	   __attribute__((cleanup(closep)))
#define _cleanup_fclose_   __attribute__((cleanup(fclosep)))
#define _cleanup_closedir_ __attribute__((cleanup(closedirp)))

static inline void *steal_ptr_impl(void *pp)
{
	void **p = pp;
	void *v = *p;
	*p = NULL;
	return v;
}
#define steal_pointer(pp) steal_ptr_impl(pp)

static inline int steal_fd(int *fd)
{
	int v = *fd;
	*fd = -1;
	return v;
}

/* Kernel-internal device encoding, as CRIU images store st_dev (MKKDEV). */
#define KDEV_MINORBITS 20
#define KDEV_MAKE(ma, mi) ((uint32_t)(((ma) << KDEV_MINORBITS) | (mi)))
#define KDEV_MAJOR(d)	  ((d) >> KDEV_MINORBITS)
#define KDEV_MINOR(d)	  ((d) & ((1U << KDEV_MINORBITS) - 1))

void *xmalloc(size_t n);
void *xzalloc(size_t n);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
/* Reads a whole file (any length) into a NUL-terminated buffer. */
int read_file_at(int dirfd, const char *path, char **buf, size_t *len);
/* Is `path` equal to `prefix` or below it ("/a/b" is below "/a", "/ab" is not)? */
bool path_is_under(const char *path, const char *prefix);
/* Opens (and with `create`, makes) the images directory; -1 after an error. */
int open_images_dir(const char *dir, bool create);
/* A relative path with no "", "." or ".." components ("a/b", not "a/../b"). */
bool relpath_is_clean(const char *path);
/* Length of the parent directory of the first `len` bytes of an absolute
 * path: "/a/b" -> 2 ("/a"), "/a" -> 1 ("/"). */
size_t path_parent_len(const char *path, size_t len);
/* The part of `path` below `prefix` without leading '/', "" when equal. */
const char *path_below(const char *path, const char *prefix);

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t monotonic_ns(void);

/*
 * SIGINT, SIGTERM, SIGHUP and SIGQUIT, from now on, only noted: a dump or
 * restore stops at its next step and undoes itself (a tree released as it
 * was, a half-restored one killed) instead of dying with tasks frozen, or
 * with their memory given back. stop_requested(): 0, or -EINTR once one
 * came (said the first time).
 */
void catch_stop_signals(void);
int stop_requested(void);
/* Those signals back to what they were (once the tree runs on its own);
 * signals the caller ignored were never caught. */
void release_stop_signals(void);

/* n bytes of fd at off, whole, into buf (EINTR retried): 0, -errno, or
 * -ENODATA for a file that ends before. */
int pread_full(int fd, void *buf, size_t n, uint64_t off);

#endif

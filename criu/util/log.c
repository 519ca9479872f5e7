#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <fcntl.h>

#include "util/log.h"

static int log_level = DEFAULT_LOGLEVEL;
static FILE *log_file; /* NULL: log to stderr */
static FILE *err_file; /* NULL: stderr */
/* The first error since log_first_error_reset(): the RPC reply's cr_errmsg. */
static char first_error[512];

int log_init(int level, const char *path)
{
	log_level = level;
	if (log_file) {
		fclose(log_file);
		log_file = NULL;
	}
	if (!path || !strcmp(path, "-"))
		return 0;
	log_file = fopen(path, "we");
	if (!log_file) {
		fprintf(stderr, "Error: can't open log file %s: %s\n", path, strerror(errno));
		return -errno;
	}
	setvbuf(log_file, NULL, _IOLBF, 0);
	return 0;
}

void log_fini(void)
{
	if (log_file)
		fclose(log_file);
	log_file = NULL;
}

int log_get_level(void)
{
	return log_level;
}

void print_on_level(int level, const char *fmt, ...)
{
	int saved_errno = errno;
	va_list ap;

	if (level == LOG_MSG) {
		va_start(ap, fmt);
		vfprintf(stdout, fmt, ap);
		va_end(ap);
		errno = saved_errno;
		return;
	}
	if (level > log_level && level != LOG_ERROR) {
		errno = saved_errno;
		return;
	}
	if (level == LOG_ERROR && !first_error[0]) {
		size_t n;

		va_start(ap, fmt);
		vsnprintf(first_error, sizeof(first_error), fmt, ap);
		va_end(ap);
		n = strlen(first_error);
		if (n && first_error[n - 1] == '\n')
			first_error[n - 1] = '\0';
	}
	if (log_file) {
		va_start(ap, fmt);
		vfprintf(log_file, fmt, ap);
		va_end(ap);
	}
	if (!log_file || level == LOG_ERROR) {
		va_start(ap, fmt);
		vfprintf(err_file ? err_file : stderr, fmt, ap);
		va_end(ap);
	}
	errno = saved_errno;
}

int log_move_fds(int log_fd, int err_fd)
{
	FILE *f;

	fflush(NULL);
	if (log_file) {
		if (dup2(fileno(log_file), log_fd) < 0 || !(f = fdopen(log_fd, "w")))
			return -errno;
		fclose(log_file);
		setvbuf(f, NULL, _IOLBF, 0);
		log_file = f;
	}
	if (dup2(STDERR_FILENO, err_fd) < 0 || !(f = fdopen(err_fd, "w")))
		return -errno;
	setvbuf(f, NULL, _IONBF, 0);
	if (err_file)
		fclose(err_file);
	err_file = f;
	return 0;
}

const char *log_first_error(void)
{
	return first_error[0] ? first_error : NULL;
}

void log_first_error_reset(void)
{
	first_error[0] = '\0';
}

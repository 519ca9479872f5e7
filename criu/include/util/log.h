/* Logging: one family of macros with file:line, levels 0..4 (-v), -o FILE. */
#ifndef CRIU_LOG_H
#define CRIU_LOG_H

#include <errno.h>
#include <string.h>

enum log_level {
	LOG_MSG = 0, /* always printed, to stdout (results for the user) */
	LOG_ERROR = 1,
	LOG_WARN = 2,
	LOG_INFO = 3,
	LOG_DEBUG = 4,
};

#define DEFAULT_LOGLEVEL LOG_WARN

/*
 * Opens the log file (NULL: stderr only). Errors always go to stderr as well,
 * so a user who passed -o still sees why a command failed.
 */
int log_init(int level, const char *path);
void log_fini(void);
int log_get_level(void);
/* Moves the log and the error stream to these fd numbers (restored tasks
 * need the low ones). */
int log_move_fds(int log_fd, int err_fd);
/* The first error printed since log_first_error_reset() (NULL: none):
 * what an RPC client is told went wrong. */
const char *log_first_error(void);
void log_first_error_reset(void);
void print_on_level(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#ifndef LOG_PREFIX
#define LOG_PREFIX ""
#endif

#define pr_msg(fmt, ...)   print_on_level(LOG_MSG, fmt, ##__VA_ARGS__)
#define pr_info(fmt, ...)  print_on_level(LOG_INFO, LOG_PREFIX fmt, ##__VA_ARGS__)
#define pr_debug(fmt, ...) print_on_level(LOG_DEBUG, LOG_PREFIX fmt, ##__VA_ARGS__)
#define pr_err(fmt, ...) \
	print_on_level(LOG_ERROR, "Error (%s:%d): " LOG_PREFIX fmt, __FILE__, __LINE__, ##__VA_ARGS__)
#define pr_warn(fmt, ...) \
	print_on_level(LOG_WARN, "Warn  (%s:%d): " LOG_PREFIX fmt, __FILE__, __LINE__, ##__VA_ARGS__)
#define pr_perror(fmt, ...) pr_err(fmt ": %s\n", ##__VA_ARGS__, strerror(errno))
/* A hint says what the user can do about the error printed just before. */
#define pr_hint(fmt, ...) print_on_level(LOG_ERROR, "       " fmt, ##__VA_ARGS__)

#endif

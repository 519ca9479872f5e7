/*
 * Parse /proc/PID/fdinfo/FD: the fields every open file has, text in, a
 * struct out. Pure: no syscalls, never prints, returns -EINVAL and fills a
 * struct proc_err on bad input.
 *
 *   pos:	2772            (decimal, signed: some devices use negative offsets)
 *   flags:	0100001         (octal, with a leading 0: the file's O_* flags)
 *   mnt_id:	27
 *   ino:	10953306        (since Linux 5.12)
 *   eventfd-count:	0       (lines specific to the kind of file...)
 *   lock:	1: POSIX  ADVISORY  WRITE 1234 00:05:6 0 EOF
 *
 * The four common fields are parsed; every other line is kept as printed
 * (without its '\n'), in order, for the parser of that kind of file.
 */
#ifndef CRIU_PROC_FDINFO_H
#define CRIU_PROC_FDINFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proc/proc-text.h"

struct proc_fdinfo {
	int64_t pos;
	uint32_t flags;
	int32_t mnt_id;
	uint64_t ino;
	bool has_ino; /* kernels before 5.12 do not print it */

	char **lines;	  /* the other lines, raw */
	unsigned *lineno; /* the line number of each in the file, for errors */
	size_t nr_lines;
};

/*
 * Parses `len` bytes of `buf` (need not be NUL-terminated; any line
 * length). pos, flags and mnt_id are required, ino optional. `fi` is
 * overwritten (zeroed first). On error returns -EINVAL and fills `err` (may
 * be NULL); free `fi` with proc_fdinfo_free either way.
 */
int proc_fdinfo_parse(const char *buf, size_t len, struct proc_fdinfo *fi, struct proc_err *err);

void proc_fdinfo_free(struct proc_fdinfo *fi);

#endif

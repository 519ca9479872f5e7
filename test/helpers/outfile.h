/*
 * The test workloads' reports: files in the directory `outdir` (set from
 * argv), each written whole to a temporary name and renamed, so a reader
 * never sees half of one; or appended to.
 */
#ifndef CRIU_TEST_OUTFILE_H
#define CRIU_TEST_OUTFILE_H

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char *outdir;

static void write_file(const char *name, const char *text, int append)
{
	char path[4096], tmp[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", outdir, name);
	snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", outdir, name);
	fd = open(append ? path : tmp, O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC), 0644);
	if (fd < 0)
		return;
	if (write(fd, text, strlen(text)) < 0) {
		/* nothing better to do */
	}
	close(fd);
	if (!append)
		rename(tmp, path);
}

#endif

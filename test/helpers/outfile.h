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
#include <time.h>
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

/*
 * The workload's loop, forever: each time OUTDIR/trigger appears it is
 * removed and OUTDIR/result gets, after what check(round) says (NULL: all
 * as it should be), "round N: verified OK untouched-resident 0" or
 * "round N: BAD what". Rounds count from 1.
 */
static void __attribute__((noreturn, unused)) serve_rounds(const char *(*check)(int round))
{
	struct timespec ts = {0, 50000000};
	char trigger[4096], line[256];
	int round = 0;

	snprintf(trigger, sizeof(trigger), "%s/trigger", outdir);
	for (;;) {
		if (!access(trigger, F_OK)) {
			const char *bad;

			unlink(trigger);
			bad = check(++round);
			if (bad)
				snprintf(line, sizeof(line), "round %d: BAD %s\n", round, bad);
			else
				snprintf(line, sizeof(line), "round %d: verified OK untouched-resident 0\n", round);
			write_file("result", line, 0);
		}
		nanosleep(&ts, NULL);
	}
}

#endif

/*
 * stats-dump / stats-restore (upstream's format, images/stats.proto): how
 * long a dump's or restore's stages took and how many pages went where,
 * written to the work directory for tools that print them (Podman's
 * --print-stats, crit). Times are kept in nanoseconds here and written in
 * microseconds, as upstream.
 */
#ifndef CRIU_IMAGE_STATS_H
#define CRIU_IMAGE_STATS_H

#include <stdint.h>

struct dump_stats {
	uint64_t freezing_ns; /* seizing the tree */
	uint64_t frozen_ns;   /* from the tree stopped to released (or killed) */
	uint64_t memdump_ns;  /* copying memory out of the tasks */
	uint64_t memwrite_ns; /* writing it to the images */
	uint64_t pages_scanned;
	uint64_t pages_written;
};

struct restore_stats {
	uint64_t forking_ns; /* creating the tasks */
	uint64_t restore_ns; /* from the first task made to the tree resumed */
	uint64_t pages_restored;
	uint64_t pages_compared; /* --auto-dedup */
};

/* Writes stats-dump / stats-restore into dirfd (replacing an older one);
 * 0, or -1 after pr_err. */
int stats_write_dump(int dirfd, const struct dump_stats *s);
int stats_write_restore(int dirfd, const struct restore_stats *s);

#endif

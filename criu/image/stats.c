/* stats-dump and stats-restore (see image/stats.h). */
#include <stdint.h>

#include "image/image.h"
#include "image/stats.h"
#include "stats.pb-c.h"

/* microseconds in the image's uint32: saturates after 71 minutes */
static uint32_t us32(uint64_t ns)
{
	uint64_t us = ns / 1000;

	return us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

static int write_stats(int dirfd, enum img_type type, StatsEntry *e)
{
	struct img_writer w;

	if (img_writer_open(&w, dirfd, type, 0))
		return -1;
	if (img_write_entry(&w, &e->base) || img_writer_commit(&w)) {
		img_writer_abort(&w);
		return -1;
	}
	return 0;
}

int stats_write_dump(int dirfd, const struct dump_stats *s)
{
	StatsEntry e = STATS_ENTRY__INIT;
	DumpStatsEntry d = DUMP_STATS_ENTRY__INIT;

	d.freezing_time = us32(s->freezing_ns);
	d.frozen_time = us32(s->frozen_ns);
	d.memdump_time = us32(s->memdump_ns);
	d.memwrite_time = us32(s->memwrite_ns);
	d.pages_scanned = s->pages_scanned;
	d.pages_skipped_parent = 0; /* no parent images: criu has no pre-dump */
	d.pages_written = s->pages_written;
	d.pages_lazy = 0;
	e.dump = &d;
	return write_stats(dirfd, IMG_STATS_DUMP, &e);
}

int stats_write_restore(int dirfd, const struct restore_stats *s)
{
	StatsEntry e = STATS_ENTRY__INIT;
	RestoreStatsEntry r = RESTORE_STATS_ENTRY__INIT;

	r.pages_compared = s->pages_compared;
	r.pages_skipped_cow = 0;
	r.forking_time = us32(s->forking_ns);
	r.restore_time = us32(s->restore_ns);
	r.has_pages_restored = 1;
	r.pages_restored = s->pages_restored;
	e.restore = &r;
	return write_stats(dirfd, IMG_STATS_RESTORE, &e);
}

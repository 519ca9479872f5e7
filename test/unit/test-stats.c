/*
 * stats-dump and stats-restore (image/stats.c): written in upstream's
 * format (service magic, STATS magic, one stats_entry with the right half
 * set, times in microseconds), read back by our reader and, where Debian's
 * crit is installed, decoded by it the way tools that print statistics do.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "unit.h"
#include "image/image.h"
#include "image/stats.h"
#include "stats.pb-c.h"

static char dir[64];

static int setup_dir(void)
{
	snprintf(dir, sizeof(dir), "/tmp/criu-test-stats.XXXXXX");
	return mkdtemp(dir) ? open(dir, O_DIRECTORY | O_RDONLY) : -1;
}

static StatsEntry *read_back(int dfd, const char *name, enum img_type type, uint32_t *magic)
{
	struct img_reader r;
	ProtobufCMessage *m = NULL;
	int fd = openat(dfd, name, O_RDONLY);

	*magic = 0;
	if (fd < 0 || read(fd, magic, 4) != 4) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	close(fd);
	if (img_reader_open(&r, dfd, name, type))
		return NULL;
	if (img_read_entry(&r, &m) != 1)
		m = NULL;
	img_reader_close(&r);
	return (StatsEntry *)m;
}

static int test_dump_stats(void)
{
	struct dump_stats s = {.freezing_ns = 1500000, .frozen_ns = 25000000, .memdump_ns = 7000,
			       .memwrite_ns = 9000000000000ULL, .pages_scanned = 300, .pages_written = 120};
	int dfd = setup_dir();
	uint32_t magic;
	StatsEntry *e;

	CHECK(dfd >= 0);
	CHECK(stats_write_dump(dfd, &s) == 0);
	e = read_back(dfd, "stats-dump", IMG_STATS_DUMP, &magic);
	CHECK(magic == 0x55105940); /* IMG_SERVICE, as upstream's service images */
	CHECK(e && e->dump && !e->restore);
	CHECK(e->dump->freezing_time == 1500 && e->dump->frozen_time == 25000 && e->dump->memdump_time == 7);
	CHECK(e->dump->memwrite_time == UINT32_MAX); /* saturates rather than wraps */
	CHECK(e->dump->pages_scanned == 300 && e->dump->pages_written == 120 && e->dump->pages_skipped_parent == 0);
	protobuf_c_message_free_unpacked(&e->base, NULL);
	close(dfd);
	return 0;
}

static int test_restore_stats(void)
{
	struct restore_stats s = {.forking_ns = 2000000, .restore_ns = 40000000, .pages_restored = 77};
	int dfd = setup_dir();
	uint32_t magic;
	StatsEntry *e;
	char cmd[256];

	CHECK(dfd >= 0);
	CHECK(stats_write_restore(dfd, &s) == 0);
	e = read_back(dfd, "stats-restore", IMG_STATS_RESTORE, &magic);
	CHECK(magic == 0x55105940);
	CHECK(e && e->restore && !e->dump);
	CHECK(e->restore->forking_time == 2000 && e->restore->restore_time == 40000);
	CHECK(e->restore->has_pages_restored && e->restore->pages_restored == 77);
	protobuf_c_message_free_unpacked(&e->base, NULL);
	close(dfd);
	/* crit (pycriu 3.17) decodes it: the format tools that print stats read */
	if (access("/usr/bin/crit", X_OK) == 0) {
		snprintf(cmd, sizeof(cmd), "crit decode -i %s/stats-restore 2>/dev/null | grep -q '\"forking_time\": 2000'",
			 dir);
		CHECK(system(cmd) == 0);
	}
	return 0;
}

static const struct unit_case cases[] = {
	{"stats-dump-written-as-upstream", test_dump_stats},
	{"stats-restore-written-as-upstream", test_restore_stats},
	{NULL, NULL},
};

UNIT_MAIN(cases)

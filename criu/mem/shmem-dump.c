/*
 * Shared anonymous memory (MAP_SHARED|MAP_ANONYMOUS, or a shared mapping
 * of /dev/zero): its pages are in an unlinked shmem file, not in any one
 * process, so they are dumped once per object, whichever process of the
 * tree maps it first:
 *   pagemap-shmem-<shmid>.img  pagemap_head{pages_id}, then pagemap_entry
 *                              runs whose vaddr is the offset in the object
 *   pages-<pages_id>.img       their contents, in order
 * shmid is the object's inode number, which every area mapping it has in
 * its vma_entry (as upstream). The object is read through
 * /proc/PID/map_files (CAP_CHECKPOINT_RESTORE), its holes skipped with
 * SEEK_DATA/SEEK_HOLE: pages never touched are not saved.
 */
#define LOG_PREFIX "task-dump: "

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/image.h"
#include "util/log.h"
#include "mem/pagemap-image.h"
#include "pagemap.pb-c.h"
#include "task/task-dump.h"
#include "util/util.h"
#include "image/vma-status.h"

#define PAGE_SZ	 4096ULL
#define SHM_BUF	 (4U << 20)

/*
 * Pages [off, end) of the object into the pages image, a buffer at a time;
 * the part of the last page past the file's size (a memfd's, say) as zeros.
 */
static int copy_range(int fd, struct img_writer *pages, char *buf, uint64_t off, uint64_t end, uint64_t size)
{
	while (off < end) {
		size_t n = end - off < SHM_BUF ? (size_t)(end - off) : SHM_BUF;
		ssize_t got;

		if (off >= size) {
			memset(buf, 0, n);
			if (img_write_raw(pages, buf, n))
				return -EIO;
			off += n;
			continue;
		}
		if (off + n > size)
			n = (size_t)(size - off);
		got = pread(fd, buf, n, (off_t)off);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			pr_err("can't read shared memory at offset %" PRIu64 ": %s\n", off,
			       got ? strerror(errno) : "end of file");
			return got ? -errno : -EIO;
		}
		if (img_write_raw(pages, buf, (size_t)got))
			return -EIO;
		off += (uint64_t)got;
	}
	return 0;
}

int td_dump_shmem_fd(struct td_ctx *c, int fd, uint64_t shmid, uint64_t size, const char *what)
{
	PagemapHead head = PAGEMAP_HEAD__INIT;
	struct img_writer *map, *pages;
	_cleanup_free_ char *buf = NULL;
	uint64_t off = 0, saved = 0;
	int ret = 0;

	map = img_set_new(&c->d->imgs, IMG_PAGEMAP_SHMEM, (unsigned)shmid);
	if (!map)
		return -EIO;
	head.pages_id = ++c->next_pages_id;
	if (img_write_entry(map, &head.base))
		return -EIO;
	pages = img_set_new(&c->d->imgs, IMG_PAGES, head.pages_id);
	if (!pages)
		return -EIO;
	buf = xmalloc(SHM_BUF);
	while (!ret && off < size) {
		PagemapEntry pe = PAGEMAP_ENTRY__INIT;
		off_t data = lseek(fd, (off_t)off, SEEK_DATA), hole;

		if (data < 0) {
			if (errno != ENXIO) /* ENXIO: no data from here on */
				ret = -errno;
			break;
		}
		hole = lseek(fd, data, SEEK_HOLE);
		if (hole < 0) {
			ret = -errno;
			break;
		}
		/* whole pages: a page is the unit shmem allocates */
		data &= ~(off_t)(PAGE_SZ - 1);
		hole = (off_t)(((uint64_t)hole + PAGE_SZ - 1) & ~(PAGE_SZ - 1));
		if ((uint64_t)hole > ((size + PAGE_SZ - 1) & ~(PAGE_SZ - 1)))
			hole = (off_t)((size + PAGE_SZ - 1) & ~(PAGE_SZ - 1));
		if ((uint64_t)hole - (uint64_t)data > (uint64_t)UINT32_MAX * PAGE_SZ)
			hole = data + (off_t)((uint64_t)UINT32_MAX * PAGE_SZ); /* nr_pages is 32 bits: the rest next run */
		pe.vaddr = (uint64_t)data;
		pagemap_entry_set_pages(&pe, ((uint64_t)hole - (uint64_t)data) / PAGE_SZ);
		pe.has_flags = true;
		pe.flags = PE_PRESENT;
		if (img_write_entry(map, &pe.base))
			return -EIO;
		ret = copy_range(fd, pages, buf, (uint64_t)data, (uint64_t)hole, size);
		saved += (uint64_t)hole - (uint64_t)data;
		off = (uint64_t)hole;
	}
	if (ret) {
		pr_err("%s: can't find its pages: %s\n", what, strerror(-ret));
		return ret;
	}
	if (c->stats)
		c->stats->pages_bytes += saved;
	pr_debug("%s, object %" PRIu64 " (%" PRIu64 " KiB): %" PRIu64 " KiB saved\n", what, shmid, size >> 10,
		 saved >> 10);
	return 0;
}

/* One object, read from the area `v` of process `pid` that maps it. */
static int dump_object(struct td_ctx *c, pid_t pid, const VmaEntry *v)
{
	_cleanup_close_ int fd = -1;
	char path[96], what[96];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d/map_files/%" PRIx64 "-%" PRIx64, pid, v->start, v->end);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st)) {
		pr_perror("process %d: can't open its shared memory at %s", pid, path);
		return -errno;
	}
	snprintf(what, sizeof(what), "process %d: shared memory at %#" PRIx64, pid, v->start);
	return td_dump_shmem_fd(c, fd, v->shmid, (uint64_t)st.st_size, what);
}

int td_dump_shmem(struct td_ctx *c, struct td_proc *p, const VmaEntry *vmas, size_t nr)
{
	for (size_t i = 0; i < nr; i++) {
		const VmaEntry *v = &vmas[i];
		int ret;

		if (!(v->status & VMA_ANON_SHARED))
			continue;
		if (!v->shmid || v->shmid > UINT32_MAX) {
			pr_err("process %d: shared memory at %#" PRIx64 " has inode %" PRIu64
			       ", which its images can't name\n",
			       p->pid, v->start, v->shmid);
			return -EOPNOTSUPP;
		}
		if (hmap_get_int(&c->shmems, v->shmid))
			continue; /* another area, or process, had it */
		ret = dump_object(c, p->pid, v);
		if (ret)
			return ret;
		hmap_put_int(&c->shmems, v->shmid, (void *)1);
	}
	return 0;
}

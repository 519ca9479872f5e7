/*
 * Restore, parse and act from criu: the shared anonymous memory objects of
 * the tree (mem/shmem-dump.c wrote them). Each object is made again by
 * criu before the tree is forked: a MAP_SHARED|MAP_ANONYMOUS mapping (so
 * that it is the same kind of shmem file, "/dev/zero (deleted)" in maps),
 * whose file criu keeps through /proc/self/map_files and fills with
 * pwrite(2) (never mapped in criu: its pages are not criu's memory). The
 * descriptor is inherited by every task, which maps it MAP_SHARED at each
 * of its areas' offsets (task/fork.c, mem/mm-restore.c): the processes that
 * shared the object share it again.
 */
#define LOG_PREFIX "restore: "

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <linux/memfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 0x0008U /* Linux 6.3 */
#define MFD_EXEC	0x0010U
#endif

#include "image/image.h"
#include "util/log.h"
#include "mem/pagemap-image.h"
#include "task/rtree.h"
#include "util/kerndat.h"
#include "util/util.h"
#include "image/vma-status.h"

#define PAGE	4096ULL
#define SHM_BUF (4U << 20)

static struct rshmem *find(const struct rtree *t, uint64_t shmid)
{
	return hmap_get_int(&t->shmem_by_id, shmid);
}

/* Its pagemap: sorted, page-aligned, inside 64-bit space; its pages image's size. */
static int read_object(struct rtree *t, struct rshmem *s)
{
	struct img_reader r;
	ProtobufCMessage *m;
	char name[64], pages[32];
	uint64_t next = 0, total = 0;
	size_t seen = 0;
	struct stat st;
	int ret;

	snprintf(name, sizeof(name), "pagemap-shmem-%" PRIu64 ".img", s->shmid);
	if (faccessat(t->imgs_dirfd, name, F_OK, 0)) {
		pr_err("%s is missing: the shared memory areas of mm images need it\n", name);
		return -ENOENT;
	}
	ret = img_reader_open(&r, t->imgs_dirfd, name, IMG_PAGEMAP_SHMEM);
	while (!ret && (ret = img_read_entry(&r, &m)) > 0) {
		ret = 0;
		if (++seen == 1) {
			s->pages_id = ((PagemapHead *)m)->pages_id;
		} else {
			PagemapEntry *pe = (PagemapEntry *)m;
			uint64_t end;

			ret = pagemap_entry_check(name, pe, next);
			if (ret)
				break;
			end = pe->vaddr + pe->nr_pages * PAGE;
			s->runs = xrealloc(s->runs, (s->nr_runs + 1) * sizeof(*s->runs));
			s->runs[s->nr_runs++] = (struct rshmem_run){pe->vaddr, pe->nr_pages * PAGE};
			next = end;
			total += end - pe->vaddr;
		}
		protobuf_c_message_free_unpacked(m, NULL);
	}
	img_reader_close(&r);
	if (ret < 0)
		return ret;
	if (!seen) {
		pr_err("%s has no head\n", name);
		return -EINVAL;
	}
	if (s->memfd && next > ((s->size + PAGE - 1) & ~(PAGE - 1))) {
		pr_err("%s: pages up to %" PRIu64 " for a memfd of %" PRIu64 " bytes\n", name, next, s->size);
		return -EINVAL;
	}
	if (!s->memfd && next > s->size)
		s->size = next; /* pages past every area: the object was larger (a memfd has its size) */
	snprintf(pages, sizeof(pages), "pages-%u.img", s->pages_id);
	if (fstatat(t->imgs_dirfd, pages, &st, 0)) {
		pr_perror("%s: can't find its pages image %s", name, pages);
		return -ENOENT;
	}
	if ((uint64_t)st.st_size != total) {
		pr_err("%s: its runs hold %" PRIu64 " bytes, %s has %lld\n", name, total, pages, (long long)st.st_size);
		return -EINVAL;
	}
	s->fd = -1;
	return 0;
}

/* memfd.img: each memfd inode an object of its own, by its shmid. */
static int read_memfds(struct rtree *t, struct hmap *index)
{
	_cleanup_free_ ProtobufCMessage **v = NULL;
	struct img_reader r;
	ProtobufCMessage *m;
	size_t n = 0;
	int ret;

	if (faccessat(t->imgs_dirfd, "memfd.img", F_OK, 0))
		return 0;
	ret = img_reader_open(&r, t->imgs_dirfd, "memfd.img", IMG_MEMFD_INODE);
	while (!ret && (ret = img_read_entry(&r, &m)) > 0) {
		v = xrealloc(v, (n + 1) * sizeof(*v));
		v[n++] = m;
		ret = 0;
	}
	img_reader_close(&r);
	for (size_t i = 0; i < n; i++) {
		const MemfdInodeEntry *e = (const MemfdInodeEntry *)v[i];
		struct rshmem *s;

		if (!ret && (!e->shmid || strlen(e->name) > 249 || e->size > (UINT64_MAX >> 1) ||
			     (e->has_hugetlb_flag && e->hugetlb_flag) || hmap_get_int(index, e->shmid))) {
			pr_err("memfd.img: inode %" PRIu64 " (\"%.40s\", object %u, %" PRIu64 " bytes) is malformed, "
			       "a huge-page one or named twice\n",
			       e->inode_id, e->name, e->shmid, e->size);
			ret = -EINVAL;
		}
		if (ret) {
			protobuf_c_message_free_unpacked(v[i], NULL);
			continue;
		}
		t->shmems = xrealloc(t->shmems, (t->nr_shmems + 1) * sizeof(*t->shmems));
		s = &t->shmems[t->nr_shmems++];
		memset(s, 0, sizeof(*s));
		s->shmid = e->shmid;
		s->size = e->size;
		s->fd = -1;
		s->memfd = e;
		hmap_put_int(index, e->shmid, (void *)(uintptr_t)t->nr_shmems);
		t->msgs = xrealloc(t->msgs, (t->nr_msgs + 1) * sizeof(*t->msgs)); /* freed with the tree */
		t->msgs[t->nr_msgs++] = v[i];
	}
	return ret < 0 ? ret : 0;
}

int rtree_read_shmem(struct rtree *t)
{
	struct hmap index; /* shmid -> its place in t->shmems + 1, while that grows */
	int ret;

	hmap_init(&t->shmem_by_id);
	hmap_init(&t->memfd_by_inode);
	hmap_init(&index);
	for (size_t i = 0; i < t->nr; i++) {
		const MmEntry *mm = t->procs[i].mm;

		for (size_t k = 0; mm && k < mm->n_vmas; k++) {
			const VmaEntry *v = mm->vmas[k];
			struct rshmem *s;
			uint64_t end;

			if (!(v->status & VMA_ANON_SHARED))
				continue;
			end = v->pgoff + (v->end - v->start);
			if (!v->shmid || (v->pgoff & (PAGE - 1)) || end < v->pgoff) {
				pr_err("mm-%d.img: shared memory area %#llx has shmid %llu, offset %#llx\n",
				       t->procs[i].vpid, (unsigned long long)v->start, (unsigned long long)v->shmid,
				       (unsigned long long)v->pgoff);
				hmap_free(&index);
				return -EINVAL;
			}
			/* one object however many areas and processes map it */
			uintptr_t at = (uintptr_t)hmap_get_int(&index, v->shmid);

			if (at) {
				s = &t->shmems[at - 1];
			} else {
				t->shmems = xrealloc(t->shmems, (t->nr_shmems + 1) * sizeof(*t->shmems));
				s = &t->shmems[t->nr_shmems++];
				memset(s, 0, sizeof(*s));
				s->shmid = v->shmid;
				s->fd = -1;
				hmap_put_int(&index, v->shmid, (void *)(uintptr_t)t->nr_shmems);
			}
			if (end > s->size)
				s->size = end;
		}
	}
	ret = read_memfds(t, &index);
	hmap_free(&index);
	if (ret)
		return ret;
	/* the array is complete: now the maps may point into it */
	for (size_t i = 0; i < t->nr_shmems; i++) {
		hmap_put_int(&t->shmem_by_id, t->shmems[i].shmid, &t->shmems[i]);
		if (t->shmems[i].memfd &&
		    hmap_put_int(&t->memfd_by_inode, t->shmems[i].memfd->inode_id, &t->shmems[i])) {
			pr_err("memfd.img: inode %" PRIu64 " appears twice\n", t->shmems[i].memfd->inode_id);
			return -EINVAL;
		}
	}
	for (size_t i = 0; i < t->nr_shmems; i++) {
		int ret = read_object(t, &t->shmems[i]);

		if (ret)
			return ret;
	}
	return 0;
}

/* One object made and filled; its descriptor at `above` or higher. */
/*
 * A memfd, sealable whatever it was: the dumped seals (F_SEAL_SEAL too) go
 * on once every task has mapped it (rtree_seal_memfds). Executable
 * (MFD_EXEC, 6.3+, as kerndat says) so that its mode can be set as dumped; where
 * vm.memfd_noexec forbids that, or the kernel is older, without.
 */
static int make_memfd(const struct rshmem *s)
{
	int fd = (int)syscall(SYS_memfd_create, s->memfd->name,
			      MFD_CLOEXEC | MFD_ALLOW_SEALING | (kdat_has(KF_MEMFD_EXEC) ? MFD_EXEC : 0));

	if (fd < 0 && errno == EACCES) /* vm.memfd_noexec=2 */
		fd = (int)syscall(SYS_memfd_create, s->memfd->name, MFD_CLOEXEC | MFD_NOEXEC_SEAL);
	if (fd < 0 || ftruncate(fd, (off_t)s->size)) {
		pr_perror("can't make memfd \"%s\" of %" PRIu64 " bytes", s->memfd->name, s->size);
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	return fd;
}

/* Anonymous shared memory, opened as a file through map_files. */
static int make_anon_shared(const struct rshmem *s)
{
	char path[80];
	void *p = mmap(NULL, s->size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	int fd;

	if (p == MAP_FAILED) {
		pr_perror("can't make shared memory %" PRIu64 " of %" PRIu64 " bytes", s->shmid, s->size);
		return -errno;
	}
	snprintf(path, sizeof(path), "/proc/self/map_files/%lx-%lx", (unsigned long)p,
		 (unsigned long)((char *)p + s->size));
	fd = open(path, O_RDWR | O_CLOEXEC);
	munmap(p, s->size);
	if (fd < 0) {
		pr_perror("can't open shared memory %" PRIu64 " at %s", s->shmid, path);
		return -errno;
	}
	return fd;
}

/* The object's runs from its pages image into s->fd, through buf. */
static int fill_object(struct rtree *t, const struct rshmem *s, char *buf)
{
	char name[32];
	_cleanup_close_ int img = -1;
	uint64_t img_off = 0;

	snprintf(name, sizeof(name), "pages-%u.img", s->pages_id);
	img = open_pages_image(t, s->pages_id);
	if (img < 0) {
		if (!t->auto_dedup)
			pr_err("can't open %s: %s\n", name, strerror(-img));
		return img;
	}
	for (size_t i = 0; i < s->nr_runs; i++) {
		for (uint64_t done = 0; done < s->runs[i].len;) {
			size_t n = s->runs[i].len - done < SHM_BUF ? (size_t)(s->runs[i].len - done) : SHM_BUF;
			ssize_t got = pread(img, buf, n, (off_t)img_off);

			if (got != (ssize_t)n) {
				pr_err("shared memory %" PRIu64 ": can't read %zu bytes of %s at %" PRIu64 ": %s\n",
				       s->shmid, n, name, img_off, got < 0 ? strerror(errno) : "short read");
				return -EIO;
			}
			/* a memfd's last page only up to its size: writing more would grow it */
			uint64_t at = s->runs[i].off + done;
			size_t w = !s->memfd || at + n <= s->size ? n : at >= s->size ? 0 : (size_t)(s->size - at);

			if (w && pwrite(s->fd, buf, w, (off_t)at) != (ssize_t)w) {
				pr_perror("shared memory %" PRIu64 ": can't write %zu bytes at %" PRIu64, s->shmid, w,
					  at);
				return -EIO;
			}
			dedup_pages(t, img, s->pages_id, img_off, n);
			done += n;
			img_off += n;
		}
	}
	pr_debug("shared memory %" PRIu64 ": %" PRIu64 " KiB, %" PRIu64 " KiB of pages\n", s->shmid, s->size >> 10,
		 img_off >> 10);
	return 0;
}

static int make_object(struct rtree *t, struct rshmem *s, int above, char *buf)
{
	int fd = s->memfd ? make_memfd(s) : make_anon_shared(s), ret;

	if (fd < 0)
		return fd;
	s->fd = fcntl(fd, F_DUPFD, above); /* inherited by the tasks: no CLOEXEC */
	close(fd);
	if (s->fd < 0)
		return -errno;
	ret = fill_object(t, s, buf);
	if (ret)
		return ret;
	/* its mode before its seals: F_SEAL_EXEC on an executable one would add the write seals */
	if (s->memfd && (fchown(s->fd, s->memfd->uid, s->memfd->gid) ||
			 (s->memfd->has_mode && fchmod(s->fd, (mode_t)(s->memfd->mode & 07777))))) {
		pr_perror("memfd \"%s\": can't give it its owner %u:%u and mode %o", s->memfd->name, s->memfd->uid,
			  s->memfd->gid, s->memfd->mode);
		return -errno;
	}
	return 0;
}

int rtree_open_shmem(struct rtree *t, int above)
{
	_cleanup_free_ char *buf = NULL;

	if (!t->nr_shmems)
		return 0;
	buf = xmalloc(SHM_BUF);
	for (size_t i = 0; i < t->nr_shmems; i++) {
		int ret = make_object(t, &t->shmems[i], above, buf);

		if (ret)
			return ret;
	}
	return 0;
}

const struct rshmem *rtree_memfd(const struct rtree *t, uint64_t inode_id)
{
	return hmap_get_int(&t->memfd_by_inode, inode_id);
}

int rtree_open_memfd(const struct rtree *t, const struct rfile *f)
{
	const MemfdFileEntry *e = f->fe->memfd;
	const struct rshmem *s = rtree_memfd(t, e->inode_id);
	char path[32];
	int fd;

	if (!s || s->fd < 0 || t->host_proc_fd < 0)
		return -EINVAL;
	/* its own open file of the inode, through the host's /proc */
	snprintf(path, sizeof(path), "self/fd/%d", s->fd);
	fd = openat(t->host_proc_fd, path,
		    (int)(e->flags & (O_ACCMODE | O_APPEND | O_NONBLOCK | O_NOATIME | O_SYNC | O_DSYNC)) | O_CLOEXEC);
	if (fd < 0 || lseek(fd, (off_t)e->pos, SEEK_SET) < 0) {
		pr_perror("memfd file %u (\"%s\"): can't open it again at %" PRIu64, e->id, s->memfd->name, e->pos);
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	return fd;
}

int rtree_seal_memfds(const struct rtree *t)
{
	for (size_t i = 0; i < t->nr_shmems; i++) {
		const struct rshmem *s = &t->shmems[i];
		int got;

		if (!s->memfd || s->fd < 0)
			continue;
		if (s->memfd->seals && fcntl(s->fd, F_ADD_SEALS, (int)s->memfd->seals)) {
			pr_perror("memfd \"%s\": can't seal it again (%#x)", s->memfd->name, s->memfd->seals);
			return -errno;
		}
		got = fcntl(s->fd, F_GET_SEALS);
		if (got >= 0 && (uint32_t)got != s->memfd->seals)
			pr_warn("memfd \"%s\": sealed %#x, not %#x as dumped (a kernel or vm.memfd_noexec that adds "
				"seals)\n",
				s->memfd->name, got, s->memfd->seals);
	}
	return 0;
}

int rtree_shmem_fd(const struct rtree *t, uint64_t shmid)
{
	const struct rshmem *s = find(t, shmid);

	return s ? s->fd : -1;
}

void rtree_free_shmem(struct rtree *t)
{
	for (size_t i = 0; i < t->nr_shmems; i++) {
		if (t->shmems[i].fd >= 0)
			close(t->shmems[i].fd);
		free(t->shmems[i].runs);
	}
	free(t->shmems);
	t->shmems = NULL;
	t->nr_shmems = 0;
	hmap_free(&t->shmem_by_id);
	hmap_free(&t->memfd_by_inode);
}

/*
 * Copying a seized process's pages into a pages image, the "act" step of
 * the memory dump (mem/mm-dump.c decides which pages).
 *
 * Three ways, chosen per process when the copier opens:
 * - workers, when the image is on tmpfs and there are CPUs to spare:
 *   batches go to worker threads that process_vm_readv(2) them a piece at
 *   a time into a buffer that stays in their CPU's cache and pwrite(2) it
 *   at its place in the image. tmpfs never clears a page written whole
 *   (a page faulted into a mapping of the file it does clear: a second
 *   pass over fresh memory), and the reads run in parallel while writes to
 *   the file take its inode lock in turn; the image grows (ftruncate)
 *   before each batch.
 * - splice: the process itself is made to run vmsplice(2)
 *   (one injected syscall per batch) into a pipe whose read end we hold;
 *   vmsplice only takes references to its pages, and splice(2) moves them
 *   from the pipe into the image file: the one copy is the kernel's, into
 *   the image's page cache. The pipe's write end and a small scratch area
 *   for the iovec array live in the process during the dump only.
 * - buffer: process_vm_readv(2) into a reused buffer, then write(2): two
 *   copies. Used when the process has no seized thread to inject into, when
 *   it can't get a pipe (fd limit, seccomp), and for the ranges vmsplice
 *   refuses (PROT_NONE areas: read through /proc/PID/mem).
 *
 * Either way memory use is bounded by one batch, whatever the process size.
 *
 * When the dump is to kill the process (page_copy_opts.release), each batch, once
 * in the image, is given back (page-release.h), whichever way it went: the
 * image's pages then come from the memory just freed. The mapped way's
 * batches are given back by the calling thread (the tracer: injections
 * can only come from it) as the workers finish them.
 */
#ifndef CRIU_PAGE_COPY_H
#define CRIU_PAGE_COPY_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "image/image.h"
#include "mem/page-release.h"
#include "ptrace/seize.h"

#define PAGE_COPY_BUF_SIZE    (8U << 20) /* bytes per batch at most */
#define PAGE_COPY_IOVS	      1024U	 /* remote ranges per batch (IOV_MAX) */
#define PAGE_COPY_RING	      4U	 /* batches queued to the workers */
#define PAGE_COPY_MAX_THREADS 4
#define PAGE_COPY_PIECE	      (256U << 10) /* a worker's buffer: what it reads, then writes */

struct page_copy_opts {
	int threads;	  /* workers for the mapped way; < 2: none */
	bool no_vmsplice; /* the buffer way rather than splice */
	/* non-NULL: each batch, once in the image, is given back (page-release.h);
	 * seized[0..nr_seized) are the process's seized threads */
	struct page_release_journal *release;
	struct seized_thread **seized;
	size_t nr_seized;
	const struct page_kept_area *keep; /* areas never given back, sorted */
	size_t nr_keep;
	/* some pages are shared with another process (copy-on-write after a
	 * fork): read only through /proc/PID/mem, which doesn't pin them
	 * (process_vm_readv and the workers do: the kernel copies a shared
	 * anonymous page before it lets it be pinned, which would un-share
	 * it in a process that goes on running) */
	bool shared_pages;
};

struct page_copy_batch {
	struct iovec remote[PAGE_COPY_IOVS];
	size_t nr;
	uint64_t off, len; /* where in the image */
};

#define PAGE_COPY_DONE (PAGE_COPY_RING + PAGE_COPY_MAX_THREADS)

struct page_copy_workers {
	pthread_mutex_t lock;
	pthread_cond_t cond; /* the ring changed, or an error, or done */
	struct page_copy_batch ring[PAGE_COPY_RING];
	size_t first, queued;
	struct page_copy_batch fin[PAGE_COPY_DONE]; /* copied, to be given back (release only) */
	size_t nr_fin;
	bool done;
	int err;
	pthread_t th[PAGE_COPY_MAX_THREADS];
	int nr_threads;
};

struct page_copier {
	pid_t pid;
	struct img_writer *w;
	struct iovec remote[PAGE_COPY_IOVS]; /* the batch: ranges of the process */
	size_t nr;
	size_t used;  /* bytes in the batch */
	size_t limit; /* bytes a batch may hold */

	/* buffer way */
	bool no_pin; /* page_copy_opts.shared_pages: /proc/PID/mem only */
	int mem_fd;  /* /proc/PID/mem, opened on first need */
	char *buf;   /* PAGE_COPY_BUF_SIZE, allocated on first need */

	/* splice way: t is NULL when it is not in use */
	struct seized_thread *t;
	int pipe_rd;	  /* our read end */
	int remote_wr;	  /* the write end, a descriptor of the process */
	uint64_t scratch; /* the iovec array, in the process */

	/* mapped way: NULL when it is not in use */
	struct page_copy_workers *wk;
	struct page_copy_batch *drain; /* the workers' finished batches, taken out */

	/* giving back: releasing says whether rel is open */
	bool releasing;
	bool closing; /* page_copy_close: a failed dump gives nothing more back */
	struct page_releaser rel;

	uint64_t spliced, copied; /* bytes each way */
};

/*
 * Prepares copying from the process of seized thread `t` (NULL: no splice)
 * into `w`, the way `o` and the image allow. 0 or -errno.
 */
int page_copy_open(struct page_copier *pc, pid_t pid, struct seized_thread *t, struct img_writer *w,
		   const struct page_copy_opts *o);
/* Queues `len` bytes at `addr` of the process; copies full batches. */
int page_copy_add(struct page_copier *pc, uint64_t addr, uint64_t len);
/* Copies what is queued and waits until every byte is in the image. */
int page_copy_flush(struct page_copier *pc);
/*
 * Takes back from the process what page_copy_open put there (its pipe end, the
 * scratch area) and frees the rest; always to be called. -errno if the
 * process could not be cleaned up.
 */
int page_copy_close(struct page_copier *pc);

#endif

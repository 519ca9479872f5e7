/*
 * Giving a process's memory back while it is dumped, when the dump is to
 * kill it anyway (no -R): each batch of pages, once it is in the pages
 * image, is dropped from the process (MADV_DONTNEED, run by the process
 * itself through an injected process_madvise(2)). The image's pages are
 * then allocated from the memory just freed: the dump needs no more memory
 * than the process had, instead of twice that, and on a VM that is the
 * difference between pages the host still backs and pages it must fault in
 * again.
 *
 * A failed dump must leave the process as it was, so every range given
 * back is journaled with where its bytes are in the image; the journal
 * holds its own descriptor of each pages image, so the bytes stay readable
 * after the images are removed. page_release_undo() writes them back through
 * /proc/PID/mem (as a tracer we may write read-only private pages too).
 *
 * Never given back: the pages holding a thread's `syscall` instruction
 * (later injections run there), read-only areas (putting them back would
 * take a forced write), areas a userfaultfd watches (dropping pages there
 * would send its frozen monitor an event and wait for it), and the memory
 * of a process that shares it with another (CLONE_VM, vfork): the caller
 * does not ask.
 */
#ifndef CRIU_PAGE_RELEASE_H
#define CRIU_PAGE_RELEASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "ptrace/seize.h"

struct page_release_range {
	uint64_t addr, len; /* in the process */
	uint64_t off;	    /* in its pages image */
};

struct page_release_proc {
	pid_t pid;
	int img_fd; /* our own descriptor of the pages image */
	struct page_release_range *r;
	size_t nr, cap;
};

/* Every range given back during one dump. */
struct page_release_journal {
	struct page_release_proc *procs;
	size_t nr, cap;
	size_t nr_fds; /* procs holding an img_fd: at most half the fd limit */
};

#define PAGE_RELEASE_KEEP 8 /* pages never given back, per process */

/* An area whose pages are never given back, sorted by start. */
struct page_kept_area {
	uint64_t start, end;
};

/* One process's side, opened for the dump of its pages. */
struct page_releaser {
	struct page_release_journal *j;
	size_t proc; /* its page_release_proc in j */
	struct seized_thread *t;
	uint64_t scratch; /* the iovec array, in the process */
	uint64_t keep[PAGE_RELEASE_KEEP];
	size_t nr_keep;
	const struct page_kept_area *areas; /* not owned */
	size_t nr_areas;
	bool per_range; /* no process_madvise(PIDFD_SELF): one madvise per range */
	uint64_t released;
};

/*
 * Prepares giving back memory of the process whose seized threads are
 * threads[0..nr_threads) (each one's `syscall` instruction kept) that goes
 * into the pages image open at `img_fd`; the areas[0..nr_areas) (sorted)
 * are kept whole: read-only ones, which only a forced write through
 * /proc/PID/mem could put back, and those a userfaultfd watches. 0, or
 * -errno: the caller then dumps without giving anything back.
 */
int page_release_open(struct page_releaser *r, struct page_release_journal *j, struct seized_thread **threads,
		      size_t nr_threads, int img_fd, const struct page_kept_area *areas, size_t nr_areas);
/*
 * Gives back ranges `v[0..nr)`, which are in the image from `img_off` on,
 * in that order. Ranges the kernel refuses (mlocked, say) are kept. 0, or
 * -errno when the process can no longer be injected into.
 */
int page_release_ranges(struct page_releaser *r, const struct iovec *v, size_t nr, uint64_t img_off);
/* Takes the scratch area back out of the process. */
int page_release_close(struct page_releaser *r);

/* Writes back every journaled range; 0, or -errno if one could not be. */
int page_release_undo(struct page_release_journal *j);
void page_release_journal_free(struct page_release_journal *j);

#endif

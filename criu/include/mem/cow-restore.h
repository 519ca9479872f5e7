/*
 * Copy-on-write sharing between a restored parent and the children it had
 * forked: a page the two still shared at dump (a pre-forked server's N
 * workers and their parent) must come back one page, not N + 1 copies.
 *
 * Only fork makes two processes share a private anonymous page, so the
 * parent's areas that a child has too (same start and end, same kind) are
 * made and filled by the parent's task itself, in criu's code, before it
 * forks its children ("premapped"), at a temporary place that no dumped
 * area of the tree uses (a reservation criu maps before the tree is
 * forked, which every task inherits). The children get them by the fork;
 * each, before it forks its own, writes only its pages whose contents
 * differ from what it inherited (copied on write, as the dumped task's
 * were) and drops those its image doesn't have (the parent's pages it
 * never had, or dropped), so that grandchildren inherit what their own
 * parent has. Then, from criu, each task mremaps its premapped areas into
 * place (mremap moves page table entries: shared pages stay shared) and
 * unmaps the rest of the reservation. The images need no mark: which areas
 * are inherited is decided from both tasks' areas, and which pages are
 * shared from their contents, as upstream does.
 *
 * Not premapped: areas the parent keeps from its children (MADV_DONTFORK,
 * MADV_WIPEONFORK), stacks (MAP_GROWSDOWN), areas of a task that shares
 * its memory with another (CLONE_VM).
 */
#ifndef CRIU_MEM_COW_RESTORE_H
#define CRIU_MEM_COW_RESTORE_H

#include <stdbool.h>
#include <stdint.h>

struct rtree;
struct rproc;
struct seized_thread;

/* Per area of a task: where the premapped copy is (0: nowhere), and whether
 * the task made it (else it inherited it from its parent). */
struct rpremap {
	uint64_t addr;
	bool own;
};

/*
 * decide and act, in criu before the tree is forked: which areas each
 * task premaps or inherits (rproc.premap), and the reservation they go
 * in (rtree.premap_start/len, mapped PROT_NONE in criu). 0; a tree without
 * such areas, or no room for them, restores without (warned).
 */
int rtree_plan_premap(struct rtree *t);

/* act, in task p (criu's code) before it forks its children: its own
 * premapped areas mapped and filled from its pages image, the inherited
 * ones made what the image says (pages that differ written, pages it
 * doesn't have dropped). 0 or -errno. */
int premap_fill(const struct rtree *t, struct rproc *p);

/* From criu, in restore_mm: is [start, end) of the reservation (kept by
 * the unmapping of everything else)? */
bool premap_reserved(const struct rtree *t, uint64_t start, uint64_t end);

/* Area i of p moved into place if it is premapped (*moved), writable as
 * the other private areas are while they are filled. 0 or -errno. */
int premap_move(struct rproc *p, struct seized_thread *st, size_t i, bool *moved);

/* The rest of the reservation unmapped from the task. */
int premap_unreserve(const struct rtree *t, struct seized_thread *st);

#endif

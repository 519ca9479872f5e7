/*
 * Time namespaces. At dump (task/timens-dump.c): the clocks the tree sees,
 * so that restore can make a time namespace in which CLOCK_MONOTONIC and
 * CLOCK_BOOTTIME go on from where they were, as upstream CRIU does.
 */
#ifndef CRIU_TASK_TIMENS_H
#define CRIU_TASK_TIMENS_H

#include "dump.h"

/*
 * One timens_entry {monotonic, boottime} into d->imgs: timens-0.img with
 * criu's own clocks when the root shares criu's time namespace (upstream
 * writes it with every such dump, and its restore makes a new namespace
 * from it), else timens-<d->time_ns_id>.img with the clocks of the root's
 * (criu's clocks moved by the namespace's offsets). Runs after the process
 * stage (d->root_ids, d->time_ns_id), while the tree is frozen. 0 or
 * -errno, printed.
 */
int timens_dump(struct dump_ctx *d);

#endif

/*
 * The tree's time namespace. Upstream CRIU saves the clocks a time
 * namespace shifts (CLOCK_MONOTONIC, CLOCK_BOOTTIME) as the tree saw them
 * at dump, in timens-<id>.img (id 0: the tree shared the dumping criu's
 * namespace, and these are criu's clocks); restore makes the tree a new
 * time namespace whose offsets make those clocks go on from there, on this
 * host or another, after any downtime or reboot. Dump: task/timens-dump.c;
 * restore: task/timens-restore.c.
 */
#ifndef CRIU_TASK_TIMENS_H
#define CRIU_TASK_TIMENS_H

#include <stdint.h>
#include <sys/types.h>

#include "dump.h"
#include "proc/proc-timens.h"
#include "timens.pb-c.h"

/* The offsets of the time namespace `who` ("self" or a pid) is in, from
 * /proc/<who>/timens_offsets. 0 or -errno, printed. */
int timens_read_offsets(const char *who, struct proc_timens_offsets *off);

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

/*
 * Restore, in criu before the root task is made: a new time namespace for
 * criu's children, with the offsets that take its clocks to e's. Returns a
 * descriptor of criu's own time namespace, for timens_end(), or -errno
 * (printed). -ENOSYS: the kernel has no time namespaces (nothing changed).
 */
int timens_begin(const TimensEntry *e);
/* The offsets of the time namespace task pid made for its children and
 * has not entered yet (one owned by the tree's user namespace, made by
 * its root: task/userns.h), as timens_begin sets criu's. 0 or -errno,
 * printed. */
int timens_set_offsets(pid_t pid, const TimensEntry *e);
/* Children made from now on are in criu's own time namespace again. */
int timens_end(int own_ns_fd);

/* The offsets (from the host's clocks, as timens_offsets takes them) that
 * take clocks criu reads now at (mono, boot) nanoseconds to e's values,
 * criu itself being in a time namespace of offsets (own_mono, own_boot):
 * pure, for the unit test. */
void timens_offsets(const TimensEntry *e, int64_t mono_now, int64_t boot_now, int64_t own_mono, int64_t own_boot,
		    int64_t *mono_off, int64_t *boot_off);

#endif

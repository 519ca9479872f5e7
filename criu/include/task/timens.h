/*
 * The tree's time namespace. Upstream CRIU saves the clocks a time
 * namespace shifts (CLOCK_MONOTONIC, CLOCK_BOOTTIME) as the tree saw them
 * at dump, in timens-<id>.img (id 0: the tree shared the dumping criu's
 * namespace, and these are criu's clocks); restore makes the tree a new
 * time namespace whose offsets make those clocks go on from there, on this
 * host or another, after any downtime or reboot.
 */
#ifndef CRIU_TASK_TIMENS_H
#define CRIU_TASK_TIMENS_H

#include <stdint.h>

#include "timens.pb-c.h"

/*
 * Restore, in criu before the root task is made: a new time namespace for
 * criu's children, with the offsets that take its clocks to e's. Returns a
 * descriptor of criu's own time namespace, for timens_end(), or -errno
 * (printed). -ENOSYS: the kernel has no time namespaces (nothing changed).
 */
int timens_begin(const TimensEntry *e);
/* Children made from now on are in criu's own time namespace again. */
int timens_end(int own_ns_fd);

/* The offsets that take clocks now at (mono, boot) nanoseconds to e's
 * values: pure, for the unit test. */
void timens_offsets(const TimensEntry *e, int64_t mono_now, int64_t boot_now, int64_t *mono_off,
		    int64_t *boot_off);

#endif

/*
 * Decide, for every mount of a dumped namespace, how it comes back on
 * restore; resolve external mounts from --external mnt[KEY]:VAL (explicit),
 * then autodetection (mnt[], --ext-mount-map auto). Pure: no syscalls.
 */
#ifndef CRIU_MOUNT_EXTERNAL_H
#define CRIU_MOUNT_EXTERNAL_H

#include "mount-tree.h"
#include "options.h"

/* The ext_key upstream writes for autodetected external mounts; their host
 * path is then kept in mnt_entry.source. */
#define AUTODETECTED_MOUNT "CRIU:AUTODETECTED"

/*
 * Classifies every mount of `t`. `host` is the mount tree of criu's own
 * namespace, used to find where autodetected mounts live on the host (may be
 * NULL when autodetection is off). Prints every problem found (not just the
 * first), each naming the mount and the option that fixes it; returns the
 * number of problems (0: every mount has a plan).
 */
int mount_classify(struct mount_tree *t, const struct options *o, const struct mount_tree *host);

/* Normalizes a mountpoint KEY as users type it ("/bar/" -> "/bar"); returns
 * false when it is not an absolute path. Writes into `out` (PATH_MAX). */
bool ext_key_normalize(const char *key, char *out, size_t outlen);

#endif

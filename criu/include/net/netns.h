/*
 * A network namespace of the tree's own that holds nothing but lo
 * (net/netns.c): checked and saved at dump as netdev-1.img, recreated at
 * restore.
 */
#ifndef CRIU_NET_NS_H
#define CRIU_NET_NS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "netdev.pb-c.h"

/*
 * Task pid's network namespace: *own false when it is criu's; else lo's
 * entry (its strings static). -EOPNOTSUPP, printed, if the namespace holds
 * more than lo, unless lo_only: then only lo is read (--empty-ns net).
 */
int netns_of_task(pid_t pid, bool lo_only, bool *own, NetDeviceEntry *lo);
/* The devices of netdev-1.img: only lo is accepted. */
int netns_check_image(const NetDeviceEntry *const *devs, size_t n);
/* lo of the caller's (new) network namespace as `lo` says. */
int netns_apply(const NetDeviceEntry *lo);

#endif

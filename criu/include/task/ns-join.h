/*
 * Namespaces restore enters rather than makes (task/ns-join.c), as
 * restore_ns_plan decided: joined (--join-ns), external (--inherit-fd for
 * the KEY the images name). Parse: the keys in netns-/pidns-<id>.img.
 * Act: the descriptors opened and checked before anything is created; the
 * root task enters them first thing (net, ipc, uts); criu enters an
 * external pid namespace around the root's clone.
 */
#ifndef CRIU_TASK_NS_JOIN_H
#define CRIU_TASK_NS_JOIN_H

#include <stdbool.h>

#include "restore-plan.h"

/* What the images say of namespaces that were someone else's. */
struct ns_ext_images {
	char *net_key, *pid_key; /* ext_key of netns-<id>.img, pidns-<id>.img; NULL */
	bool netns_conf;	 /* netns-<id>.img holds settings besides ext_key */
};

/* Reads netns-<net id>.img, pidns-<pid id>.img of the kinds the tree had
 * of its own, when they are there. 0 or -errno, printed. */
int ns_ext_images_read(int imgs_dirfd, const struct restore_ns *ns, struct ns_ext_images *e);
void ns_ext_images_free(struct ns_ext_images *e);

/* fds[k]: a descriptor of each namespace to enter (NSA_JOIN, NSA_INHERIT),
 * -1 for the others; each checked to be a namespace of its kind. 0 or
 * -errno, printed, nothing left open. */
int ns_join_open(const struct restore_ns_plan *p, int fds[RNS_NR]);
void ns_join_close(int fds[RNS_NR]);
/* In the root task, before anything else: enters the network, IPC and
 * UTS namespaces of fds, then closes every one. 0 or -errno, printed. */
int ns_join_enter(int fds[RNS_NR]);

#endif

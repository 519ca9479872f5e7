/*
 * An external pid namespace (task/pidns.c): the tree lives in a pid
 * namespace that is someone else's (--external pid[INODE]:KEY at dump,
 * runc's for a container whose config gives a pid namespace path).
 */
#ifndef CRIU_TASK_PIDNS_H
#define CRIU_TASK_PIDNS_H

struct dump_ctx;

/* Writes pidns-1.img with the KEY when one is given; a pid[INODE] that is
 * not the tree's namespace is refused. 0 or -errno, printed. */
int pidns_dump(struct dump_ctx *d);

#endif

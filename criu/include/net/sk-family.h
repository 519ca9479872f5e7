/*
 * Sockets at dump: one file kind claims every socket descriptor
 * (FD_TYPES__UNIXSK's match and dump ops), asks the socket its family,
 * and hands it to that family's entry of one table; a family without a
 * dump op is refused, by name. A new family is its dump op plus an entry
 * in net/sk-family.c's table (and, for restore, its FdTypes' file kind).
 */
#ifndef CRIU_NET_SK_FAMILY_H
#define CRIU_NET_SK_FAMILY_H

#include <stdbool.h>
#include <stdint.h>

#include "fdinfo.pb-c.h"
#include "fown.pb-c.h"

struct td_ctx;
struct td_proc;
struct td_fd;

/* A socket descriptor of a task, as the family dump ops get it. */
struct td_sock_fd {
	int fd, lfd; /* the task's, criu's copy */
	uint32_t flags;
	uint64_t ino;
};

struct sk_family {
	int family;	  /* AF_* */
	const char *name; /* "AF_UNIX", in messages */
	FdTypes type;	  /* the file_entry it is dumped as: its file kind restores it */
	/* act: the socket as a file_entry of `type` (NULL: refused). */
	int (*dump)(struct td_ctx *c, struct td_proc *p, const struct td_sock_fd *f, int family, uint32_t id,
		    FownEntry *fown);
};

extern const struct sk_family sk_families[];
extern const size_t nr_sk_families;
/* The entry of `family`, or NULL. */
const struct sk_family *sk_family_get(int family);

/* The socket kind's dump ops (file-kind.h). */
bool td_is_socket(const struct td_fd *f);
int td_dump_socket(struct td_ctx *c, struct td_proc *p, const struct td_fd *f, uint32_t id, FownEntry *fown);

#endif

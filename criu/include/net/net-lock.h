#ifndef CRIU_NET_LOCK_H
#define CRIU_NET_LOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One established TCP connection, as its socket sees it (inet_sk_entry's
 * words and ports). */
struct net_lock_conn {
	uint32_t ino; /* the socket's inode: names its table */
	int family;   /* AF_INET, AF_INET6 */
	const uint32_t *src, *dst;
	uint32_t src_port, dst_port;
};

/* Drops every packet of c's connection, both ways, until net_unlock_tcp.
 * 0 or -errno, printed. */
int net_lock_tcp(const struct net_lock_conn *c);
/* Lets the packets of the connections of these socket inodes through
 * again, in one transaction; a lock not there is no error. 0 or -errno,
 * printed. */
int net_unlock_tcp(const uint32_t *inos, size_t n);
/* The same in the network namespace of descriptor nsfd (-1: criu's). */
int net_lock_tcp_in(int nsfd, const struct net_lock_conn *c);
int net_unlock_tcp_in(int nsfd, const uint32_t *inos, size_t n);

#endif

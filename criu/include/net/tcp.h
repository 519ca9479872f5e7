/*
 * Established TCP connections (--tcp-established), part of the inet
 * socket kind: dumped and made again through TCP_REPAIR, their network
 * lock lifted once the tree is restored.
 */
#ifndef CRIU_NET_TCP_H
#define CRIU_NET_TCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rtree;
struct rfile;
struct sockaddr;
struct td_ctx;
struct td_proc;
struct td_sock_fd;
struct net_lock_conn;

/*
 * dump (net/tcp-dump.c): an established TCP connection's state and queues,
 * to tcp-stream-<ino>.img; the socket left in repair mode (dump_ctx), and,
 * with lock, its packets dropped from before its queues are read
 * (net/net-lock.c).
 */
int td_dump_tcp_stream(struct td_ctx *c, struct td_proc *p, const struct td_sock_fd *f,
		       const struct net_lock_conn *lock);

/* restore, parse (net/tcp-restore.c) */
bool rfile_tcp_established(const struct rfile *f);
/* Reads and checks f's tcp-stream image into f->tcp, f->tcp_data. */
int rtree_read_tcp(struct rtree *t, struct rfile *f);
void rfile_free_tcp(struct rfile *f);
/* restore, act: fd, new, into repair mode (before its options and bind). */
int rtree_tcp_repair_on(int fd, uint32_t id);
/* fd, in repair mode and bound, connected to peer with f's state and queues. */
int rtree_tcp_repair(const struct rfile *f, int fd, const struct sockaddr *peer, unsigned peer_len);
/* Every established connection, in its holder (seized, not running yet),
 * out of repair mode, its unsent bytes written, unlocked. */
int rtree_tcp_resume(const struct rtree *t);
/* How many established TCP connections the tree has. */
size_t rtree_nr_tcp(const struct rtree *t);

#endif

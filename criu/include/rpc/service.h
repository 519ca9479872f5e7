/*
 * `criu swrk FD`: serve RPC requests (images/rpc.proto) on an inherited
 * SOCK_SEQPACKET socket, the way runc and libcriu drive criu.
 */
#ifndef CRIU_RPC_SERVICE_H
#define CRIU_RPC_SERVICE_H

/* The upstream RPC/CLI interface level criu implements: what VERSION
 * replies and the first line of `criu --version` say (criu's own name and
 * version come in VERSION's name and the second line), which runtimes
 * gate features on
 * (runc: 3.0 for any checkpoint, 3.11 external netns, 3.14 cgroup v2
 * freezer, 3.15 external pid ns; crun 3.15; Podman 3.11). A promise:
 * raise it only with what the level means. 4.2: every option those
 * runtimes send for their containers is honoured, and every one criu
 * can't honour yet is refused by name, never ignored. */
#define CRIU_IFACE_MAJOR 4
#define CRIU_IFACE_MINOR 2

/* One session on socket `sk`; returns the exit code for main(). */
int cr_swrk(int sk);

/* `criu service`: listens on o->service_address (SOCK_SEQPACKET), a
 * worker process per connection; --daemon detaches once listening. */
struct options;
int cr_service(const struct options *o);

/* `criu swrk FD` from argv (argc >= 2, argv[1] == "swrk"). */
int cr_swrk_main(int argc, char **argv);

#endif

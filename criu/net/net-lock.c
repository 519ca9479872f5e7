/*
 * The network lock for established TCP connections whose peer may be
 * outside the tree (sockets of criu's own network namespace): from just
 * before dump reads a connection's queues until restore has made it
 * again, every packet of its address and port pair is dropped, both ways,
 * by an nftables table of its own, inet criu_tcp_<socket inode, hex>
 * (libnftables, run in a child: it exits on a kernel without nf_tables).
 * A table of that name already there (a lock never lifted) fails the
 * dump rather than being merged into. A dropped packet is one the peer sends again later, so:
 * nothing is acknowledged after the queues were read, and while the tree
 * is gone the peer gets no reset from the host, only silence, which TCP
 * rides out with retransmissions. The table outlives the dump on purpose;
 * restore deletes it once the socket is back (so do a failed dump and
 * dump -R), and without a restore `nft delete table inet criu_tcp_<ino>`
 * lets the peer see the connection gone.
 *
 * A tree in a network namespace of its own (lo only, net/netns.c) needs no
 * lock: nothing outside it can reach its sockets. One whose namespace is
 * the runtime's (--external net[], --empty-ns net: its devices may lead
 * out, veths to the host) gets the same tables in that namespace (the
 * _in variants: libnftables' child enters it first), as upstream locks
 * such a namespace from inside.
 */
#define LOG_PREFIX "net-lock: "

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <sched.h>
#include <nftables/libnftables.h>

#include "util/kerndat.h"
#include "util/log.h"
#include "net/net-lock.h"
#include "util/util.h"

/* A socket address as nftables writes it; an IPv4-mapped IPv6 one as IPv4. */
static const char *addr_str(int family, const uint32_t *w, char *buf, size_t len, bool *v4)
{
	struct in6_addr a6;

	*v4 = family == AF_INET;
	if (family == AF_INET)
		return inet_ntop(AF_INET, w, buf, (socklen_t)len);
	memcpy(&a6, w, sizeof(a6));
	if (IN6_IS_ADDR_V4MAPPED(&a6)) {
		*v4 = true;
		return inet_ntop(AF_INET, &a6.s6_addr[12], buf, (socklen_t)len);
	}
	return inet_ntop(AF_INET6, w, buf, (socklen_t)len);
}

/*
 * libnftables, in a child: it exit()s on a kernel or namespace without
 * nf_tables (its netlink socket refused), which must not take criu, and a
 * tree, down with it. 0; -ENOENT (said nothing) for a table that isn't
 * there, when quiet_enoent; -EPERM with nftables' reason, said.
 */
static int run(const char *cmd, bool quiet_enoent, int nsfd)
{
	char why[512] = "";
	const char *more;
	int pfd[2], status = 0;
	ssize_t n = 0;
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC)) {
		pr_perror("can't make a pipe for nftables");
		return -errno;
	}
	pid = fork();
	if (pid < 0) {
		pr_perror("can't fork for nftables");
		close(pfd[0]);
		close(pfd[1]);
		return -EAGAIN;
	}
	if (pid == 0) {
		struct nft_ctx *nft;
		const char *e;
		int r;

		close(pfd[0]);
		/* libnftables says why on stderr when it gives up: ours goes to the pipe */
		dup2(pfd[1], STDERR_FILENO);
		if (nsfd >= 0 && setns(nsfd, CLONE_NEWNET)) {
			dprintf(pfd[1], "can't enter the tree's network namespace: %s", strerror(errno));
			_exit(6);
		}
		nft = nft_ctx_new(NFT_CTX_DEFAULT);
		if (!nft)
			_exit(4);
		nft_ctx_buffer_output(nft);
		nft_ctx_buffer_error(nft);
		r = nft_run_cmd_from_buffer(nft, cmd);
		e = nft_ctx_get_error_buffer(nft);
		if (r && e && write(pfd[1], e, strlen(e)) < 0)
			_exit(5);
		_exit(r ? 1 : 0);
	}
	close(pfd[1]);
	for (size_t got = 0; got < sizeof(why) - 1; got += (size_t)n) {
		n = read(pfd[0], why + got, sizeof(why) - 1 - got);
		if (n < 0 && errno == EINTR) {
			n = 0;
			continue;
		}
		if (n <= 0)
			break;
	}
	close(pfd[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	why[strcspn(why, "\n")] = '\0';
	if (quiet_enoent && strstr(why, "No such file or directory"))
		return -ENOENT;
	more = strchr(cmd, '\n');
	pr_err("nftables refused \"%.*s\"%s: %s\n", (int)strcspn(cmd, "\n"), cmd, more && more[1] ? " ..." : "",
	       why[0] ? why : "(no reason given: a kernel or network namespace without nf_tables?)");
	return -EPERM;
}

int net_lock_tcp(const struct net_lock_conn *c)
{
	return net_lock_tcp_in(-1, c);
}

int net_lock_tcp_in(int nsfd, const struct net_lock_conn *c)
{
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN], cmd[1024];
	bool v4a, v4b;
	const char *ip;

	if (!kdat_has(KF_NETWORK_LOCK_NFTABLES)) {
		pr_err("socket inode %u: nftables refused (no nf_tables in this kernel, or no CAP_NET_ADMIN): the "
		       "connection can't be locked\n",
		       c->ino);
		return -EPERM;
	}
	if (!addr_str(c->family, c->src, src, sizeof(src), &v4a) ||
	    !addr_str(c->family, c->dst, dst, sizeof(dst), &v4b) || v4a != v4b) {
		pr_err("socket inode %u: can't write its addresses for nftables\n", c->ino);
		return -EINVAL;
	}
	ip = v4a ? "ip" : "ip6";
	snprintf(cmd, sizeof(cmd),
		 "create table inet criu_tcp_%x\n"
		 "add chain inet criu_tcp_%x in { type filter hook input priority -150; policy accept; }\n"
		 "add chain inet criu_tcp_%x out { type filter hook output priority -150; policy accept; }\n"
		 "add rule inet criu_tcp_%x in %s saddr %s %s daddr %s tcp sport %u tcp dport %u drop\n"
		 "add rule inet criu_tcp_%x out %s saddr %s %s daddr %s tcp sport %u tcp dport %u drop\n",
		 c->ino, c->ino, c->ino, c->ino, ip, dst, ip, src, c->dst_port, c->src_port, c->ino, ip, src, ip, dst,
		 c->src_port, c->dst_port);
	return run(cmd, false, nsfd);
}

int net_unlock_tcp(const uint32_t *inos, size_t n)
{
	return net_unlock_tcp_in(-1, inos, n);
}

int net_unlock_tcp_in(int nsfd, const uint32_t *inos, size_t n)
{
	char one[64];
	char *cmd;
	size_t len = 0;
	int ret = 0;

	if (!n)
		return 0;
	/* all at once (one transaction) */
	cmd = xmalloc(n * sizeof(one));
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(cmd + len, sizeof(one), "delete table inet criu_tcp_%x\n", inos[i]);
	if (run(cmd, true, nsfd)) {
		/* one of them gone already (deleted by hand): the others one by one */
		for (size_t i = 0; i < n; i++) {
			int r;

			snprintf(one, sizeof(one), "delete table inet criu_tcp_%x\n", inos[i]);
			r = run(one, true, nsfd);
			if (r && r != -ENOENT)
				ret = r;
		}
	}
	free(cmd);
	return ret;
}

/*
 * The network lock for established TCP connections whose peer may be
 * outside the tree (sockets of criu's own network namespace): from just
 * before dump reads a connection's queues until restore has made it
 * again, every packet of its address and port pair is dropped, both ways,
 * by an nftables table of its own, inet criu_tcp_<socket inode, hex>
 * (libnftables). A dropped packet is one the peer sends again later, so:
 * nothing is acknowledged after the queues were read, and while the tree
 * is gone the peer gets no reset from the host, only silence, which TCP
 * rides out with retransmissions. The table outlives the dump on purpose;
 * restore deletes it once the socket is back (so do a failed dump and
 * dump -R), and without a restore `nft delete table inet criu_tcp_<ino>`
 * lets the peer see the connection gone.
 *
 * A tree in a network namespace of its own (lo only, net-ns.c) needs no
 * lock: nothing outside it can reach its sockets.
 */
#define LOG_PREFIX "net-lock: "

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <nftables/libnftables.h>

#include "log.h"
#include "net-lock.h"

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

/* 0; -ENOENT (said nothing) for a table that isn't there, when quiet_enoent; -EPERM, said. */
static int run(const char *cmd, bool quiet_enoent)
{
	struct nft_ctx *nft = nft_ctx_new(NFT_CTX_DEFAULT);
	int ret;

	if (!nft) {
		pr_err("can't start libnftables\n");
		return -ENOMEM;
	}
	nft_ctx_buffer_output(nft);
	nft_ctx_buffer_error(nft);
	ret = nft_run_cmd_from_buffer(nft, cmd);
	if (ret) {
		const char *why = nft_ctx_get_error_buffer(nft);

		if (quiet_enoent && why && strstr(why, "No such file or directory")) {
			ret = -ENOENT;
		} else {
			pr_err("nftables refused \"%.200s\": %s\n", cmd, why && *why ? why : "(no reason given)");
			ret = -EPERM;
		}
	}
	nft_ctx_free(nft);
	return ret;
}

int net_lock_tcp(const struct net_lock_conn *c)
{
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN], cmd[1024];
	bool v4a, v4b;
	const char *ip;

	if (!addr_str(c->family, c->src, src, sizeof(src), &v4a) ||
	    !addr_str(c->family, c->dst, dst, sizeof(dst), &v4b) || v4a != v4b) {
		pr_err("socket inode %u: can't write its addresses for nftables\n", c->ino);
		return -EINVAL;
	}
	ip = v4a ? "ip" : "ip6";
	snprintf(cmd, sizeof(cmd),
		 "add table inet criu_tcp_%x\n"
		 "add chain inet criu_tcp_%x in { type filter hook input priority -150; policy accept; }\n"
		 "add chain inet criu_tcp_%x out { type filter hook output priority -150; policy accept; }\n"
		 "add rule inet criu_tcp_%x in %s saddr %s %s daddr %s tcp sport %u tcp dport %u drop\n"
		 "add rule inet criu_tcp_%x out %s saddr %s %s daddr %s tcp sport %u tcp dport %u drop\n",
		 c->ino, c->ino, c->ino, c->ino, ip, dst, ip, src, c->dst_port, c->src_port, c->ino, ip, src, ip, dst,
		 c->src_port, c->dst_port);
	return run(cmd, false);
}

int net_unlock_tcp(uint32_t ino)
{
	char cmd[64];
	int ret;

	snprintf(cmd, sizeof(cmd), "delete table inet criu_tcp_%x\n", ino);
	/* a table already gone (restored twice, deleted by hand, never made) is no error */
	ret = run(cmd, true);
	return ret == -ENOENT ? 0 : ret;
}

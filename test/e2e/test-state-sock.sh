#!/bin/bash
# End-to-end: socket state comes back as it was dumped, or the dump refuses
# it (test/helpers/state-sock-static, one case per piece of state), in a
# container with a network namespace of its own (the helper brings lo up).
# Arguments: only the cases named (all without).
. "$(dirname "$0")/lib.sh"

ONLY=" $* "
sock_case() { # CASE WANT
	[ "$ONLY" = "  " ] || [[ $ONLY == *" $1 "* ]] || return 0
	UNSHARE_EXTRA=--net state_case state-sock-static "$1" "$2"
}

state_rootfs

# attached filters: classic BPF carried, a locked or eBPF one refused
sock_case filter-udp same
sock_case filter-unix same
sock_case filter-tcp same
STATE_DUMP_ARGS=--tcp-established sock_case filter-tcp-estab same
sock_case filter-locked "refused:SO_LOCK_FILTER"
sock_case filter-ebpf "refused:eBPF"

# options: carried, and read back the same
sock_case opts-tcp-listen same
sock_case opts-tcp-unconn same
STATE_DUMP_ARGS=--tcp-established sock_case opts-tcp-estab same
sock_case opts-udp same
sock_case opts-udp6 same
sock_case opts-unix same
# options the images have no place for: refused, named
for o in TCP_USER_TIMEOUT TCP_DEFER_ACCEPT TCP_FASTOPEN TCP_NOTSENT_LOWAT TCP_MAXSEG TCP_WINDOW_CLAMP TCP_SYNCNT \
	TCP_LINGER2 TCP_QUICKACK TCP_CONGESTION SO_TIMESTAMP SO_TIMESTAMPNS IP_RECVERR IP_MTU_DISCOVER IPV6_RECVERR \
	UDP_CORK SO_PEEK_OFF SO_PASSPIDFD SO_PASSRIGHTS; do
	sock_case "refuse-$o" "refused:$o"
done
for o in TCP_USER_TIMEOUT TCP_NOTSENT_LOWAT TCP_CONGESTION; do
	STATE_DUMP_ARGS=--tcp-established sock_case "refuse-estab-$o" "refused:$o"
done

# shut down UDP sockets: still shut
sock_case udp-shut-wr same
sock_case udp-shut-unconn same
sock_case udp-shut-rd same

# corked datagrams not sent yet: refused
sock_case udp-cork-pending "refused:corked"
sock_case udp-msgmore-pending "refused:corked"

# SO_REUSEPORT groups, in one task and across two
sock_case reuseport-udp same
sock_case reuseport-tcp same
sock_case reuseport-user same
# a socket's owner comes back its holder's fsuid: another one is refused
sock_case owner-other "refused:restore would give it to uid 0"

# bound to an address the namespace has not
sock_case freebind-v4 same
sock_case freebind-v6 same
sock_case transparent "refused:IP_TRANSPARENT"

# datagrams waiting to be read: carried, from their senders, or refused
sock_case udp-queue-v4 same
sock_case udp-queue-v6 same
sock_case udp-queue-connected same
sock_case udp-queue-reuseport "refused:SO_REUSEPORT group has datagrams waiting"
sock_case udp-queue-pktinfo "refused:IP_PKTINFO"
sock_case unix-dgram-queue "refused:has 2 datagrams queued"
sock_case udp-error-pending "refused:error waiting to be reported"

# owners: a socket's uid and gid, a bound path's mode and owner
sock_case owner-user same
sock_case owner-unix-other "refused:restore would give it to"
sock_case owner-inet-group "refused:restore would give it to gid"

# SO_PEERCRED: the process (ids, groups) that made a pair or listened, named again
sock_case peercred-pair same
sock_case peercred-child same
sock_case peercred-gone "refused:which is not in the tree"
sock_case peercred-accept-other same
sock_case peercred-groups-changed "refused:SO_PEERGROUPS"

left=$(leftover_tasks "$R")
if [ -z "$left" ]; then ok no-leftover-tasks; else fail no-leftover-tasks "still running: $(echo $left)"; fi
finish

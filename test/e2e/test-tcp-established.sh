#!/bin/bash
# End-to-end: established TCP connections (dump --tcp-established, through
# TCP_REPAIR), both ends in the tree (test/helpers/tcpconn-static.c: an
# IPv4 pair whose receiving end's small buffer leaves bytes waiting in
# both queues, unsent ones among them; an IPv6 pair with TCP_NODELAY; the
# listeners), in a container with a network namespace of its own. Every
# byte of each stream is numbered: after restore each end reads on from
# where it stopped, no byte lost, doubled or out of place, and writes
# more; the listener takes new connections. Also: -R leaves the
# connections working; a dump without --tcp-established refuses them and
# the workload runs on; damaged tcp-stream images are refused; and a
# connection to a peer outside the tree is locked (nftables) from the dump
# to the restore: the bytes the peer sends meanwhile arrive after it, with
# no reset.
. "$(dirname "$0")/lib.sh"

H=$TOP/test/helpers
if [ ! -x "$H/tcpconn-static" ]; then
	fail helpers-built "$H/tcpconn-static is missing: run make all"
	finish
fi
if ! command -v ip >/dev/null; then
	skip tcp-established "no ip (iproute2) to bring lo up"
	finish
fi
R=$WORK/root
make_rootfs "$R"
mknod -m 666 "$R/dev/null" c 1 3
mkdir -p "$R/out"
cp "$H/tcpconn-static" "$R/tcpconn"
CLEAN='for fd in /proc/self/fd/*; do fd=${fd##*/}; [ "$fd" -gt 2 ] && eval "exec $fd>&-"; done; export PATH=/bin:$PATH
	ip link set lo up'
# established PID: the namespace's established TCP connections (state 01),
# local and remote address, one per line
established() {
	local f
	for f in tcp tcp6; do
		nsenter --net --target "$1" cat /proc/net/$f | awk -v f=$f 'NR > 1 && $4 == "01" {print f, $2, $3}'
	done | sort
}
start() {
	rm -rf "$R/out" && mkdir -p "$R/out"
	ROUND=0
	CPID=$(UNSHARE_EXTRA=--net start_container "$R" "$CLEAN" 'exec </dev/null >/dev/null 2>&1; /tcpconn /out & wait') &&
		wait_until 10 [ -s "$R/out/ready" ]
}

if ! start; then
	fail tcp-start "container did not start"
	finish
fi
verified tcp-verified-before # and the queues filled again
before=$(established "$CPID")
expect tcp-four-ends [ "$(echo "$before" | grep -c .)" = 4 ]

# without --tcp-established: refused, the workload runs on
run_criu dump -t "$CPID" -D "$WORK/img-no" -v4 -o "$WORK/dump-no.log"
expect tcp-refused-without-option [ "$RC" -ne 0 ]
expect tcp-refused-message contains "$OUT" "dump it with --tcp-established"
verified tcp-runs-on-after-refusal

# -R: dumped, and the connections go on as they were
run_criu dump -R --tcp-established -t "$CPID" -D "$WORK/img-r" -v4 -o "$WORK/dump-r.log"
if [ "$RC" -eq 0 ]; then ok tcp-dump-leave-running; else fail tcp-dump-leave-running "exit $RC: $OUT; $(tail -n 3 "$WORK/dump-r.log")"; fi
verified tcp-runs-on-after-dump-r
expect tcp-same-connections-after-dump-r [ "$(established "$CPID")" = "$before" ]

# the dump proper: the queues as the last round left them
K=$(awk '{print $1}' /proc/$CPID/task/$CPID/children)
proc_snapshot "$CPID" "$WORK/before.json"
run_criu dump --tcp-established -t "$CPID" -D "$WORK/img" -v4 -o "$WORK/dump.log"
if [ "$RC" -eq 0 ]; then ok tcp-dump; else fail tcp-dump "exit $RC: $OUT; $(tail -n 3 "$WORK/dump.log")"; fi
n=$(ls "$WORK/img" | grep -c '^tcp-stream-[0-9a-f]*\.img$')
expect tcp-four-stream-images [ "$n" = 4 ]
# crit reads them, and sees bytes waiting (the IPv4 client's send queue)
queued=0
for f in "$WORK"/img/tcp-stream-*.img; do
	if crit decode -i "$f" >"$f.json" 2>"$WORK/crit.err"; then
		q=$("$PY" -c 'import json,sys; e=json.load(open(sys.argv[1]))["entries"][0]; print(e["inq_len"] + e["outq_len"])' "$f.json" 2>/dev/null)
		queued=$((queued + ${q:-0}))
	else
		fail tcp-crit-decodes "$(head -c 300 "$WORK/crit.err")"
	fi
done
expect tcp-queues-dumped [ "$queued" -gt 10000 ]
expect tcp-unsent-dumped grep -q '"unsq_len": [1-9]' "$WORK"/img/tcp-stream-*.img.json
wait_until 3 gone "$CPID"
restore_ns "$WORK/img" --root "$R" -v4 -o "$WORK/restore.log"
if [ "$RC" -eq 0 ] && [ -n "$RPID" ]; then
	ok tcp-restore
	expect tcp-same-connections [ "$(established "$RPID")" = "$before" ]
	verified tcp-verified-after # every byte waiting at the dump read, in order
	verified tcp-verified-again
	proc_snapshot "$RPID" "$WORK/after.json"
	for k in tree status fds; do
		same_procs "tcp-same-$k" "$WORK/before.json" "$WORK/after.json" $k
	done
	stop_task "$RPID"
else
	fail tcp-restore "exit $RC: $OUT; $(tail -n 3 "$WORK/restore.log")"
fi

# damaged stream images: refused before any task, nothing left behind
refused() {
	local name=$1 msg=$2 mounts
	mounts=$(wc -l </proc/self/mountinfo)
	restore_ns "$WORK/bad-$name" --root "$R" -v4 -o "$WORK/bad-$name.log"
	expect "$name-refused" [ "$RC" -ne 0 ]
	expect "$name-message" contains "$OUT" "$msg"
	expect "$name-no-task" not grep -q "seized thread" "$WORK/bad-$name.log"
	expect "$name-no-mounts" [ "$(wc -l </proc/self/mountinfo)" = "$mounts" ]
	[ -n "${RPID:-}" ] && stop_task "$RPID"
	RPID=""
}
first=$(ls "$WORK/img" | grep '^tcp-stream-[0-9a-f]*\.img$' | head -n 1)
rm -rf "$WORK/bad-tcp-missing" && cp -a "$WORK/img" "$WORK/bad-tcp-missing" && rm "$WORK/bad-tcp-missing/$first"
refused tcp-missing "is missing"
rm -rf "$WORK/bad-tcp-short" && cp -a "$WORK/img" "$WORK/bad-tcp-short"
big=$(ls -S "$WORK"/img/tcp-stream-*.img | head -n 1)
truncate -s -1 "$WORK/bad-tcp-short/$(basename "$big")"
refused tcp-short "truncated payload"
if "$PY" -c 'import pycriu.images' 2>/dev/null; then
	rm -rf "$WORK/bad-tcp-wscale" && cp -a "$WORK/img" "$WORK/bad-tcp-wscale"
	"$PY" -c '
import sys, pycriu.images as I
p = sys.argv[1]
img = I.load(open(p, "rb"))
img["entries"][0]["snd_wscale"] = 15
I.dump(img, open(p, "wb"))' "$WORK/bad-tcp-wscale/$first"
	refused tcp-wscale "window scale above 14"
else
	skip tcp-malformed "no pycriu (Debian's criu package) to alter images with"
fi
# a peer outside the tree (in the network namespace the tree shares with
# the host): locked from the dump on, so that what it sends while the tree
# is gone is dropped, not answered with a reset, and comes in again once
# the restore has unlocked the connection
PORT=47391
P=$WORK/peer
mkdir -p "$P"
"$H/tcpconn-static" "$P" peer $PORT </dev/null >/dev/null 2>&1 &
echo $! >>"$PIDLIST"
wait_until 10 [ -s "$P/ready" ]
rm -rf "$R/out" && mkdir -p "$R/out"
ROUND=0
peer_sent() { cat "$P/sent" 2>/dev/null || echo 0; }
peer_got() { cat "$P/got" 2>/dev/null || echo 0; }
# burst: the peer writes 20000 more bytes
burst() { touch "$P/trigger"; wait_until 10 [ ! -e "$P/trigger" ]; }
if CPID=$(start_container "$R" "$CLEAN" "exec </dev/null >/dev/null 2>&1; /tcpconn /out client $PORT & wait") &&
	wait_until 10 [ -s "$R/out/ready" ]; then
	burst
	wait_until 10 [ "$(peer_sent)" = 20000 ]
	echo 20000 >"$R/out/expect"
	verified tcp-peer-verified-before
	expect tcp-peer-got-before wait_until 10 [ "$(peer_got)" = 3000 ]
	# -R: locked while dumped, unlocked after: the next burst comes through at once
	run_criu dump -R --tcp-established -t "$CPID" -D "$WORK/img-peer-r" -v4 -o "$WORK/dump-peer-r.log"
	if [ "$RC" -ne 0 ] && contains "$OUT" "nftables refused"; then
		skip tcp-peer "this kernel's nftables can't lock a connection: $(grep -m1 'nftables refused' "$WORK/dump-peer-r.log" | head -c 200)"
		stop_task "$CPID"
		left=$(leftover_tasks "$WORK")
		if [ -z "$left" ]; then ok no-leftover-tasks; else fail no-leftover-tasks "still running: $(echo $left)"; fi
		finish
	fi
	if [ "$RC" -eq 0 ]; then ok tcp-peer-dump-r; else fail tcp-peer-dump-r "exit $RC: $OUT; $(tail -n 3 "$WORK/dump-peer-r.log")"; fi
	burst
	echo 40000 >"$R/out/expect"
	verified tcp-peer-unlocked-after-dump-r
	run_criu dump --tcp-established -t "$CPID" -D "$WORK/img-peer" -v4 -o "$WORK/dump-peer.log"
	if [ "$RC" -eq 0 ]; then ok tcp-peer-dump; else fail tcp-peer-dump "exit $RC: $OUT; $(tail -n 3 "$WORK/dump-peer.log")"; fi
	expect tcp-peer-locked-said grep -q "TCP connections locked" "$WORK/dump-peer.log"
	wait_until 3 gone "$CPID"
	# the tree is gone: the peer writes into the lock
	burst
	sleep 1
	expect tcp-peer-no-reset-while-gone [ ! -e "$P/broken" ]
	# a restore that fails late (its memory image cut short): the
	# connection stays as dump left it, locked, and a second restore goes on
	rm -rf "$WORK/bad-peer" && cp -a "$WORK/img-peer" "$WORK/bad-peer"
	pg=$(ls -S "$WORK"/bad-peer/pages-*.img | head -n 1)
	truncate -s 4096 "$pg"
	restore_ns "$WORK/bad-peer" --root "$R" -v4 -o "$WORK/restore-bad-peer.log"
	expect tcp-peer-bad-restore-fails [ "$RC" -ne 0 ]
	expect tcp-peer-bad-restore-says-locked contains "$OUT" "TCP connections stay as the dump left them"
	expect tcp-peer-bad-restore-was-late grep -q "seized thread" "$WORK/restore-bad-peer.log"
	[ -n "${RPID:-}" ] && stop_task "$RPID"
	RPID=""
	sleep 0.5
	expect tcp-peer-no-reset-after-failed-restore [ ! -e "$P/broken" ]
	if restore_ns "$WORK/img-peer" --root "$R" -v4 -o "$WORK/restore-peer.log"; then
		ok tcp-peer-restore
		echo 60000 >"$R/out/expect"
		verified tcp-peer-verified-after # the burst sent while it was gone, retransmitted
		expect tcp-peer-got-after wait_until 10 [ "$(peer_got)" = 9000 ]
		expect tcp-peer-not-broken [ ! -e "$P/broken" ]
		# urgent data not read yet: refused (it would be lost), the workload runs on
		touch "$P/urgent"
		wait_until 10 [ -e "$P/urgent-sent" ]
		run_criu dump -R --tcp-established -t "$RPID" -D "$WORK/img-urgent" -v4 -o "$WORK/dump-urgent.log"
		expect tcp-urgent-refused [ "$RC" -ne 0 ]
		expect tcp-urgent-message contains "$OUT" "urgent (out-of-band) data not read yet"
		echo 60000 >"$R/out/expect"
		verified tcp-urgent-runs-on
		expect tcp-urgent-not-broken [ ! -e "$P/broken" ]
		stop_task "$RPID"
	else
		fail tcp-peer-restore "exit $RC: $OUT; $(tail -n 3 "$WORK/restore-peer.log")"
	fi
else
	fail tcp-peer-start "container did not start"
fi
left=$(leftover_tasks "$WORK")
if [ -z "$left" ]; then ok no-leftover-tasks; else fail no-leftover-tasks "still running: $(echo $left)"; fi
finish

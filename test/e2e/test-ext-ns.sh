#!/bin/bash
# End-to-end: namespaces that are someone else's. (a) A container in a
# network namespace the "runtime" (this test) made and configured (lo up,
# a veth with an address) is dumped with --external net[INODE]:KEY and
# restored with --inherit-fd fd[N]:KEY: it comes back in THAT namespace,
# its listener answering there. (b) --empty-ns net: the namespace's devices
# are not dumped, restore makes a new one left as upstream leaves it (lo
# down). (c) --join-ns net/uts/ipc: the restored tree is in the joined
# namespaces, whose hostname stays the joined one's. (d) Mistakes are
# refused with a clear message: a wrong inode (the tree runs on), no
# --inherit-fd for the key, a --join-ns path that is no namespace or one
# of another kind, a kind criu doesn't join (nothing is left behind).
# (e) A tree in another's pid namespace (--external pid[INODE]:KEY) comes
# back in it, with its pid there.
. "$(dirname "$0")/lib.sh"

R=$WORK/root
make_rootfs "$R"
ln -sf busybox "$R/bin/nc"
ln -sf busybox "$R/bin/hostname"
mknod -m 666 "$R/dev/null" c 1 3
CLEAN='for fd in /proc/self/fd/*; do fd=${fd##*/}; [ "$fd" -gt 2 ] && eval "exec $fd>&-"; done; export PATH=/bin:$PATH'
QUIET='exec </dev/null >/dev/null 2>&1; '
ino() { stat -L -c %i "$1"; }
mounts_now() { wc -l </proc/self/mountinfo; }

if ! command -v ip >/dev/null; then
	skip ext-ns "no ip(8) (iproute2) to configure a network namespace"
	finish
fi

# (a) the runtime's network namespace, bound to a file as `ip netns add` does
NS=$WORK/extnet
touch "$NS"
if ! unshare --net="$NS" true; then
	skip ext-net "can't make a network namespace bound to a file here"
	finish
fi
nsenter --net="$NS" sh -c 'ip link set lo up && ip link add ve0 type veth peer name ve1 &&
	ip addr add 10.77.0.1/24 dev ve0 && ip link set ve0 up && ip link set ve1 up'
NSINO=$(ino "$NS")
# start_container's unshare, run in the runtime's namespace
unshare() { exec nsenter --net="$NS" -- /usr/bin/unshare "$@"; }
CPID=$(start_container "$R" "$CLEAN" "$QUIET"'nc -ll -p 7777 -e /bin/echo pong')
unset -f unshare
answer() { nsenter --net="$NS" busybox nc -w 2 10.77.0.1 7777 </dev/null 2>/dev/null; }
if [ -n "$CPID" ] && wait_until 5 eval '[ "$(answer)" = pong ]'; then
	expect ext-net-container-in-it [ "$(ino /proc/"$CPID"/ns/net)" = "$NSINO" ]

	# (d) a wrong inode: refused, the tree runs on, no images
	run_criu dump -t "$CPID" -D "$WORK/img-bad" --external "net[$((NSINO + 1))]:extnet"
	expect ext-net-wrong-inode-refused [ "$RC" -ne 0 ]
	expect ext-net-wrong-inode-message contains "$OUT" "the tree's network namespace is net:[$NSINO], not net:[$((NSINO + 1))]"
	expect ext-net-wrong-inode-no-images [ ! -e "$WORK/img-bad/inventory.img" ]
	expect ext-net-wrong-inode-runs-on eval '[ "$(answer)" = pong ]'
	run_criu dump -t "$CPID" -D "$WORK/img-bad" --external "net[abc]:extnet"
	expect ext-net-not-inode-refused contains "$OUT" "'abc' is not a namespace inode"

	run_criu dump -t "$CPID" -D "$WORK/img-ext" --external "net[$NSINO]:extnet"
	expect ext-net-dump [ "$RC" -eq 0 ]
	expect ext-net-no-netdev [ ! -e "$WORK/img-ext/netdev-1.img" ]
	expect ext-net-netns-image [ -s "$WORK/img-ext/netns-1.img" ]
	if command -v crit >/dev/null; then
		expect ext-net-crit contains "$(crit decode -i "$WORK/img-ext/netns-1.img" 2>&1)" '"ext_key": "extnet"'
	fi
	wait_until 3 not kill -0 "$CPID"

	# (d) no descriptor for the key: refused before anything is made
	before=$(mounts_now)
	restore_ns "$WORK/img-ext" --root "$R"
	expect ext-net-no-fd-refused [ "$RC" -ne 0 ]
	expect ext-net-no-fd-message contains "$OUT" "--inherit-fd fd[N]:extnet"
	expect ext-net-no-fd-nothing-left eval '[ "$(mounts_now)" = "$before" ] && [ ! -s "$WORK/rpid" ]'
	# a descriptor of another kind of namespace
	exec 7</proc/self/ns/uts
	restore_ns "$WORK/img-ext" --root "$R" --inherit-fd "fd[7]:extnet"
	expect ext-net-wrong-kind-refused contains "$OUT" "not a net namespace"
	exec 7<&-

	exec 7<"$NS"
	if restore_ns "$WORK/img-ext" --root "$R" --inherit-fd "fd[7]:extnet"; then
		ok ext-net-restore
		expect ext-net-restored-in-it [ "$(ino /proc/"$RPID"/ns/net)" = "$NSINO" ]
		expect ext-net-listener-answers wait_until 5 eval '[ "$(answer)" = pong ]'
		expect ext-net-veth-kept eval 'nsenter --net="$NS" ip -o addr show ve0 | grep -q 10.77.0.1/24'
		stop_task "$RPID"
	else
		fail ext-net-restore "$OUT"
	fi
	exec 7<&-
else
	fail ext-net-start "the container's listener did not answer: $(cat "$WORK/container.log")"
fi

# (a2) --tcp-established in the runtime's namespace: a peer outside the tree
# (the runtime's side) keeps its connection through dump and restore, even
# when it sends while the tree is gone: the connection is locked in that
# namespace (upstream locks it from inside too), not reset by its kernel
cat >"$WORK/peer.py" <<'PYEOF'
import os, socket, sys, time
w = sys.argv[1]
s = socket.create_connection(("10.77.0.1", 7778), timeout=5)
s.sendall(b"a\n")
print("first", s.recv(10), flush=True)
open(w + "/peer-ready", "w").close()
while not os.path.exists(w + "/peer-send"):
    time.sleep(0.05)
s.sendall(b"b\n")
open(w + "/peer-sent", "w").close()
s.settimeout(30)
try:
    print("second", s.recv(10), flush=True)
except Exception as e:
    print("error", e, flush=True)
PYEOF
unshare() { exec nsenter --net="$NS" -- /usr/bin/unshare "$@"; }
CPID=$(start_container "$R" "$CLEAN" "$QUIET"'nc -ll -p 7778 -e /bin/cat')
unset -f unshare
if [ -n "$CPID" ] && ! command -v python3 >/dev/null; then
	skip ext-net-tcp "no python3 for the peer"
elif [ -n "$CPID" ]; then
	sleep 0.3
	nsenter --net="$NS" python3 "$WORK/peer.py" "$WORK" >"$WORK/peer.out" 2>&1 &
	PEER=$!
	if wait_until 5 test -e "$WORK/peer-ready"; then
		run_criu dump -t "$CPID" -D "$WORK/img-tcp" --external "net[$NSINO]:extnet" --tcp-established
		expect ext-net-tcp-dump [ "$RC" -eq 0 ]
		wait_until 3 not kill -0 "$CPID"
		touch "$WORK/peer-send"
		wait_until 3 test -e "$WORK/peer-sent"
		sleep 0.5 # an unlocked namespace would answer with a reset by now
		exec 7<"$NS"
		if restore_ns "$WORK/img-tcp" --root "$R" --inherit-fd "fd[7]:extnet"; then
			ok ext-net-tcp-restore
			wait "$PEER"
			expect ext-net-tcp-peer-kept grep -qF "second b'b\n'" "$WORK/peer.out"
			stop_task "$RPID"
		else
			fail ext-net-tcp-restore "$OUT"
		fi
		exec 7<&-
	else
		fail ext-net-tcp-peer "the peer did not connect: $(cat "$WORK/peer.out")"
	fi
	kill "$PEER" 2>/dev/null
	stop_task "$CPID"
else
	fail ext-net-tcp-start "container did not start"
fi

# (b) --empty-ns net: a namespace with a veth and lo up, not dumped
SETUP=$CLEAN'
	ip link set lo up
	ip link add a0 type veth peer name a1'
if CPID=$(UNSHARE_EXTRA=--net start_container "$R" "$SETUP" "$QUIET"'while :; do sleep 1; done'); then
	run_criu dump -t "$CPID" -D "$WORK/img-full"
	expect empty-net-without-option-refused contains "$OUT" "only one with nothing but lo can be dumped"
	run_criu dump -t "$CPID" -D "$WORK/img-empty" --empty-ns net
	expect empty-net-dump [ "$RC" -eq 0 ]
	OUT=$("$CRIU" show -f "$WORK/img-empty/netdev-1.img" 2>&1)
	only_lo() { [ "$(grep -c . <<<"$OUT")" = 1 ] && contains "$OUT" "name: lo"; }
	expect empty-net-netdev-only-lo only_lo
	wait_until 3 not kill -0 "$CPID"
	if restore_ns "$WORK/img-empty" --root "$R" --empty-ns net; then
		ok empty-net-restore
		expect empty-net-own-ns [ "$(ino /proc/"$RPID"/ns/net)" != "$(ino /proc/self/ns/net)" ]
		links=$(nsenter --net --target "$RPID" ip -o link)
		expect empty-net-only-lo [ "$(echo "$links" | wc -l)" = 1 ]
		# lo as dumped (up): runtimes don't bring it up on restore
		expect empty-net-lo-as-dumped eval 'echo "$links" | grep -q "<LOOPBACK,UP"'
		stop_task "$RPID"
	else
		fail empty-net-restore "$OUT"
	fi
	# images without --empty-ns at restore: the same (lo only in the image)
	if restore_ns "$WORK/img-empty" --root "$R"; then
		expect empty-net-images-alone eval 'nsenter --net --target "$RPID" ip -o link | grep -q "lo: <LOOPBACK,UP"'
		stop_task "$RPID"
	else
		fail empty-net-images-alone "$OUT"
	fi
else
	fail empty-net-start "container did not start"
fi
run_criu restore -D "$WORK/img-empty" --empty-ns ipc
expect empty-ns-ipc-refused contains "$OUT" "only the network namespace can be restored empty"
# --join-ns net: the tree goes into the runtime's namespace of (a), left as it is
if restore_ns "$WORK/img-empty" --root "$R" --join-ns "net:$NS"; then
	expect join-net-same [ "$(ino /proc/"$RPID"/ns/net)" = "$NSINO" ]
	expect join-net-untouched eval 'nsenter --net="$NS" ip -o addr show ve0 | grep -q 10.77.0.1/24'
	stop_task "$RPID"
else
	fail join-net "$OUT"
fi
restore_ns "$WORK/img-empty" --root "$R" --join-ns "net:$NS" --empty-ns net
expect join-net-and-empty-refused contains "$OUT" "ask for two different network namespaces"

# (c) --join-ns uts and ipc: namespaces held by another process
unshare --uts --ipc sh -c 'hostname joined-host; exec sleep 1000' &
HPID=$!
disown "$HPID"
echo "$HPID" >>"$PIDLIST"
wait_until 5 eval '[ "$(nsenter --uts --target $HPID hostname 2>/dev/null)" = joined-host ]'
if CPID=$(start_container "$R" "$CLEAN"'
	hostname ctr-host' "$QUIET"'while :; do sleep 1; done'); then
	run_criu dump -t "$CPID" -D "$WORK/img-join"
	expect join-dump [ "$RC" -eq 0 ]
	wait_until 3 not kill -0 "$CPID"
	before=$(mounts_now)
	# NAME|--join-ns VALUE|what criu says
	for bad in "missing-file|uts:$WORK/nowhere|can't open it" \
		"net-ns-file-for-uts|uts:$NS|a namespace of another kind, not a uts namespace" \
		"mnt|mnt:$HPID|can't join an existing one" "pid|pid:$HPID|a pid namespace is not joined" \
		"relative-path|uts:relative|expected an absolute path"; do
		IFS='|' read -r name value says <<<"$bad"
		restore_ns "$WORK/img-join" --root "$R" --join-ns "$value"
		expect "join-refused-$name" eval '[ "$RC" -ne 0 ] && contains "$OUT" "$says"'
	done
	expect join-refused-nothing-left eval '[ "$(mounts_now)" = "$before" ]'
	if restore_ns "$WORK/img-join" --root "$R" --join-ns "uts:/proc/$HPID/ns/uts" --join-ns "ipc:$HPID"; then
		ok join-restore
		expect join-uts-same [ "$(ino /proc/"$RPID"/ns/uts)" = "$(ino /proc/"$HPID"/ns/uts)" ]
		expect join-ipc-same [ "$(ino /proc/"$RPID"/ns/ipc)" = "$(ino /proc/"$HPID"/ns/ipc)" ]
		expect join-hostname-kept [ "$(nsenter --uts --target "$RPID" hostname)" = joined-host ]
		expect join-tree-runs kill -0 "$RPID"
		stop_task "$RPID"
	else
		fail join-restore "$OUT"
	fi
	# without --join-ns: new namespaces with the dumped hostname
	if restore_ns "$WORK/img-join" --root "$R"; then
		expect join-none-hostname [ "$(nsenter --uts --target "$RPID" hostname)" = ctr-host ]
		stop_task "$RPID"
	fi
else
	fail join-start "container did not start"
fi
stop_task "$HPID"

# (e) --external pid[INODE]:KEY: a tree inside another's pid namespace (a
# holder whose init reaps, as runc's pause does) comes back in it, with its
# pid there, when --inherit-fd gives the namespace
start_pidns_holder
nspid() { awk '/^NSpid:/ {print $NF}' /proc/"$1"/status; }
nsenter --pid --target "$PH" -- setsid sh -c 'i=0; while :; do i=$((i+1)); echo $i >'"$WORK"'/count; sleep 0.1; done' \
	</dev/null >/dev/null 2>&1 &
N=$!
disown "$N"
echo "$N" >>"$PIDLIST"
if wait_until 5 eval '[ -n "$(cat /proc/$N/task/$N/children 2>/dev/null)" ] && [ -s "$WORK/count" ]'; then
	TP=$(tr -d ' ' </proc/$N/task/$N/children)
	PINO=$(ino /proc/"$PH"/ns/pid)
	VP=$(nspid "$TP")
	run_criu dump -t "$TP" -D "$WORK/img-bad-pid" --external "pid[$((PINO + 1))]:extpid"
	expect ext-pid-wrong-inode-refused contains "$OUT" "the tree's pid namespace is pid:[$PINO]"
	expect ext-pid-wrong-inode-runs-on kill -0 "$TP"
	run_criu dump -t "$TP" -D "$WORK/img-pid" --external "pid[$PINO]:extpid"
	expect ext-pid-dump [ "$RC" -eq 0 ]
	if command -v crit >/dev/null; then
		expect ext-pid-crit contains "$(crit decode -i "$WORK/img-pid/pidns-1.img" 2>&1)" '"ext_key": "extpid"'
	fi
	wait_until 3 not kill -0 "$TP"
	restore_ns "$WORK/img-pid"
	expect ext-pid-no-fd-refused contains "$OUT" "--inherit-fd fd[N]:extpid"
	exec 7</proc/"$PH"/ns/pid
	if restore_ns "$WORK/img-pid" --inherit-fd "fd[7]:extpid"; then
		ok ext-pid-restore
		expect ext-pid-same-ns [ "$(ino /proc/"$RPID"/ns/pid)" = "$PINO" ]
		expect ext-pid-same-pid [ "$(nspid "$RPID")" = "$VP" ]
		c=$(cat "$WORK/count")
		expect ext-pid-counts-on wait_until 5 eval '[ "$(cat "$WORK/count")" -gt "$c" ]'
		stop_task "$RPID"
	else
		fail ext-pid-restore "$OUT"
	fi
	exec 7<&-
else
	fail ext-pid-start "the tree did not start in the holder's pid namespace"
fi
stop_task "$PH"
stop_task "$U"
finish

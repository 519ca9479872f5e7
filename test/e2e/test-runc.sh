#!/bin/bash
# Acceptance with a real client: Debian's runc 1.1.5 drives criu over RPC
# (`runc --criu ./criu/criu checkpoint/restore`, criu swrk on a socketpair).
#
# The container is a busybox bundle with runc's default namespaces (pid,
# net, ipc, uts, mount), runc's masked paths, a host volume at /vol, a
# tmpfs at /tmp and stdio on pipes (runc carries pipes through
# descriptors.json and inherit_fd; a file outside the container can't be).
# Its shell counts in a loop into /tmp/count and /vol/out, with the name
# read from /vol/name, while a TCP connection on its loopback carries a
# second count.
#
# Checked on the restored container itself: it counts on from where it was
# (same pid 1, same shell variables), /vol is the directory config.json
# names at restore (the seed's mapping, through runc), /tmp kept its files,
# masked paths are still masked, the container is in its cgroups, and the
# TCP stream goes on with no number lost. Then --leave-running, and a second
# restore of the same images under the same name, which must be refused
# with nothing left behind.
. "$(dirname "$0")/lib.sh"

if ! command -v runc >/dev/null; then
	skip runc "runc is not installed (Debian package runc)"
	finish
fi
. "$(dirname "$0")/lib-runc.sh"

checkpoint() { # NAME [runc checkpoint options]
	local name=$1
	shift
	OUT=$(cd "$B" && runc --criu "$CRIU" checkpoint --image-path "$WORK/$name" --work-path "$WORK/$name-work" \
		"$@" "$CT" 2>&1)
	local rc=$?
	OUT="$OUT; dump.log: $(grep -E 'Error|rpc:' "$WORK/$name-work/dump.log" 2>/dev/null)"
	return $rc
}

restore() { # NAME
	local name=$1
	(cd "$B" && : | runc --criu "$CRIU" restore -d --image-path "$WORK/$name" --work-path "$WORK/$name-work" \
		"$CT" 2>&1 | cat >"$WORK/$name-restore.out") &
	wait_until 20 runc_status_is "$CT" running || wait_until 10 test -s "$WORK/$name-restore.out"
	OUT="$(cat "$WORK/$name-restore.out"); restore.log: $(grep -E 'Error' "$WORK/$name-work/restore.log" 2>/dev/null)"
	runc_status_is "$CT" running
}

if ! runc_start "$CT"; then
	skip runc-run "runc can't run a container here: $(tail -3 "$WORK/run-$CT.log")"
	finish
fi
wait_until 10 test -s "$WORK/vol/out"
expect runc-container-counts wait_until 5 counting
expect runc-container-tcp-flows wait_until 5 tcp_flowing
PID1=$(runc_pid "$CT")
CG_BEFORE=$(sed 's/^[0-9]*://' "/proc/$PID1/cgroup" | sort)

# --- checkpoint: the container stops, its images are complete ---
expect runc-checkpoint checkpoint img --tcp-established
N_AT_DUMP=$(cat "$WORK/vol/out")
expect runc-checkpoint-stops-container not runc_status_is "$CT" running
expect runc-checkpoint-writes-images test -s "$WORK/img/inventory.img"
expect runc-checkpoint-writes-stats test -s "$WORK/img-work/stats-dump"
expect runc-checkpoint-notifies-post-dump grep -q "notify: post-dump" "$WORK/img-work/dump.log"

# --- restore with /vol moved to another host directory ---
"$PY" - "$B/config.json" "$WORK/vol" "$WORK/vol2" <<'PYEOF'
import json, sys
path, old, new = sys.argv[1:4]
c = json.load(open(path))
for m in c['mounts']:
    if m['source'] == old:
        m['source'] = new
json.dump(c, open(path, 'w'))
PYEOF
expect runc-restore restore img
expect runc-restore-writes-stats test -s "$WORK/img-work/stats-restore"
expect runc-restored-counts-on wait_until 5 counting
N_AFTER=$(count_of)
expect runc-restored-count-continues [ "${N_AFTER:-0}" -gt "${N_AT_DUMP:-0}" ]
OUT=$(in_ct cat /tmp/count)
expect runc-restored-reads-new-volume contains "$OUT" from-host2
expect runc-restored-writes-new-volume wait_until 5 test -s "$WORK/vol2/out"
OUT=$(in_ct cat /tmp/marker)
expect runc-restored-tmpfs-kept-files [ "$OUT" = made-before ]
OUT=$(in_ct stat -c '%F %t:%T' /proc/timer_list)
expect runc-restored-masked-path-still-masked [ "$OUT" = "character special file 1:3" ]
PID1=$(runc_pid "$CT")
OUT=$(sed 's/^[0-9]*://' "/proc/$PID1/cgroup" | sort)
expect runc-restored-in-same-cgroups [ "$OUT" = "$CG_BEFORE" ]
OUT=$(in_ct cat /proc/1/cmdline | tr '\0' ' ')
expect runc-restored-pid1-is-the-shell contains "$OUT" "/bin/sh -c"
expect runc-restored-tcp-flows-on wait_until 5 tcp_flowing
OUT=$(in_ct head -c 300 /tmp/tcp.log | tr '\n' ' ')
expect runc-restored-tcp-stream-whole tcp_stream_whole

# --- a second restore of the same images under the same name ---
MNT_BEFORE=$(wc -l </proc/self/mountinfo)
OUT=$(cd "$B" && : | runc --criu "$CRIU" restore -d --image-path "$WORK/img" --work-path "$WORK/img-work2" "$CT" 2>&1)
expect runc-second-restore-refused [ $? -ne 0 ]
expect runc-second-restore-first-counts-on wait_until 5 counting
expect runc-second-restore-leaves-no-mounts [ "$(wc -l </proc/self/mountinfo)" = "$MNT_BEFORE" ]
expect runc-second-restore-same-pid1 [ "$(runc_pid "$CT")" = "$PID1" ]

# --- --leave-running: the container goes on; its images restore later ---
expect runc-checkpoint-leave-running checkpoint img2 --leave-running --tcp-established
expect runc-leave-running-still-running runc_status_is "$CT" running
expect runc-leave-running-counts-on wait_until 5 counting
expect runc-leave-running-tcp-flows-on wait_until 5 tcp_flowing
N_AT_DUMP=$(cat "$WORK/vol2/out")
runc_gone "$CT"
expect runc-leave-running-restore restore img2
expect runc-leave-running-restored-counts wait_until 5 counting
N_AFTER=$(count_of)
expect runc-leave-running-count-from-images [ "${N_AFTER:-0}" -gt 0 ]
expect runc-leave-running-restored-tcp-whole tcp_stream_whole
runc_gone "$CT"

# --- a network namespace the configuration names (a pod's, a CNI one) ---
# runc then sends external net[INODE]:extRootNetNS at checkpoint and the
# namespace as inherit_fd extRootNetNS at restore: the container must come
# back in that very namespace, its configuration untouched.
touch "$WORK/netns"
if unshare --net="$WORK/netns" true && nsenter --net="$WORK/netns" sh -c \
	'ip link set lo up && ip link add eth-crit type veth peer name eth-crit-p && ip addr add 10.78.9.1/24 dev eth-crit && ip link set eth-crit up'; then
	"$PY" - "$B/config.json" "$WORK/netns" <<'PYEOF'
import json, sys
path, ns = sys.argv[1:3]
c = json.load(open(path))
for n in c['linux']['namespaces']:
    if n['type'] == 'network':
        n['path'] = ns
json.dump(c, open(path, 'w'))
PYEOF
	NSINO=$(stat -L -c %i "$WORK/netns")
	CT=$CT-netns
	if runc_start "$CT"; then
		expect runc-netns-container-in-it [ "$(stat -L -c %i "/proc/$(runc_pid "$CT")/ns/net")" = "$NSINO" ]
		expect runc-netns-checkpoint checkpoint img-netns --tcp-established
		expect runc-netns-external-in-log grep -q "is external: saved as extRootNetNS" "$WORK/img-netns-work/dump.log"
		ns_has_address() { nsenter --net="$WORK/netns" ip -o addr show eth-crit | grep -q 10.78.9.1/24; }
		expect runc-netns-namespace-outlives-dump ns_has_address
		expect runc-netns-restore restore img-netns
		expect runc-netns-restored-in-it [ "$(stat -L -c %i "/proc/$(runc_pid "$CT")/ns/net")" = "$NSINO" ]
		OUT=$(in_ct ip -o addr show eth-crit)
		expect runc-netns-restored-sees-its-address contains "$OUT" "10.78.9.1/24"
		expect runc-netns-restored-counts-on wait_until 5 counting
		expect runc-netns-restored-tcp-whole tcp_stream_whole
	else
		fail runc-netns-start "runc can't start a container in a named namespace: $(tail -3 "$WORK/run-$CT.log")"
	fi
else
	skip runc-netns "can't make a named network namespace here"
fi
finish

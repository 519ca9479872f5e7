#!/bin/bash
# End-to-end: a tree with a mount namespace of its own in criu's pid
# namespace (`unshare --mount` and a pivot_root into a busybox root, no
# --pid): dumped with its mounts, restored under --root in a new mount
# namespace, in criu's pid namespace with the pids it had (which must be
# free again: the dump killed the tree). The restored root sees its own
# root and mounts (its /proc), each process has its pid, its children
# are there and its shell loop goes on counting.
. "$(dirname "$0")/lib.sh"

become_subreaper "$@"

R=$WORK/root
make_rootfs "$R"
mknod -m 666 "$R/dev/null" c 1 3
mkdir -p "$R/out"
ROOT=$R unshare --mount --uts --ipc --fork --propagation private -- bash -c '
	set -e
	mount --bind "$ROOT" "$ROOT"
	mount -t proc proc "$ROOT/proc"
	cd "$ROOT"
	pivot_root . oldroot
	umount -l /oldroot
	exec /bin/sh -c "sleep 1000 & sleep 1001 & i=0; while :; do i=\$((i+1)); echo \$i >/out/count; sleep 0.1; done" \
		</dev/null >/dev/null 2>&1
' >"$WORK/start.log" 2>&1 &
U=$!
echo "$U" >>"$PIDLIST"
P=
wait_until 10 eval 'P=$(awk "{print \$1}" /proc/$U/task/$U/children 2>/dev/null); [ -n "$P" ] && [ -s "$R/out/count" ]'
if [ -z "$P" ] || [ ! -s "$R/out/count" ]; then
	fail mntns-start "the tree did not start: $(cat "$WORK/start.log")"
	finish
fi
echo "$P" >>"$PIDLIST"
# pids ROOT: the root and its two long sleeps ("PID:sleep 100N"), not the
# loop's short sleep of the moment
pids() {
	local c
	echo -n "$1 "
	for c in $(cat /proc/$1/task/*/children); do
		tr '\0' ' ' 2>/dev/null </proc/$c/cmdline | grep -q '^sleep 100[01] $' && echo -n "$c:$(tr '\0' ' ' </proc/$c/cmdline)"
	done
}
expect mntns-own-mount-ns [ "$(readlink /proc/$P/ns/mnt)" != "$(readlink /proc/self/ns/mnt)" ]
expect mntns-host-pid-ns [ "$(readlink /proc/$P/ns/pid)" = "$(readlink /proc/self/ns/pid)" ]
wait_until 5 eval '[ "$(pids $P | grep -o sleep | wc -l)" = 2 ]'
BEFORE=$(pids "$P")
ALL=$(tree_pids "$P")

run_criu dump -t "$P" -D "$WORK/img" -v4 -o "$WORK/dump.log"
if [ "$RC" -eq 0 ]; then ok mntns-dump; else fail mntns-dump "$OUT"; finish; fi
expect mntns-mount-image [ -n "$(ls "$WORK/img"/mountpoints-*.img 2>/dev/null)" ]
# the tree and its orphans gone and reaped: their pids free
for p in $ALL; do wait_until 5 gone "$p"; done
DUMPED=$(cat "$R/out/count")

if restore_ns "$WORK/img" --root "$R" -v4 -o "$WORK/restore.log"; then
	ok mntns-restore
	expect mntns-same-root-pid [ "$RPID" = "$P" ]
	AFTER=$(pids "$RPID")
	if [ "$AFTER" = "$BEFORE" ]; then ok mntns-same-pids; else fail mntns-same-pids "before: $BEFORE; after: $AFTER"; fi
	expect mntns-new-mount-ns [ "$(readlink /proc/$RPID/ns/mnt)" != "$(readlink /proc/self/ns/mnt)" ]
	expect mntns-host-pid-ns-after [ "$(readlink /proc/$RPID/ns/pid)" = "$(readlink /proc/self/ns/pid)" ]
	expect mntns-its-root [ "$(readlink /proc/$RPID/root)" = / ] # as it sees it: its own root
	expect mntns-its-proc grep -q " /proc proc " /proc/$RPID/mounts
	expect mntns-counts-on wait_until 5 eval '[ "$(cat "$R/out/count")" -gt "$DUMPED" ]'
	for p in $(tree_pids "$RPID"); do kill -KILL "$p" 2>/dev/null; done
else
	fail mntns-restore "exit $RC: $OUT"
fi
finish

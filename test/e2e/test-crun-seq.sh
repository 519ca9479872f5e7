#!/bin/bash
# libcriu as crun uses it. Debian's crun is built without CRIU, so a client
# of the project's own (test/helpers/libcriu-crun-seq.c) makes crun 1.8.1's
# calls in crun's order, through our libcriu.so.2, which runs the `criu`
# found on PATH: checkpoint (version check, images fd, log, pid, work dir,
# root, external bind mounts and cgroup mounts, masked paths, freezer,
# options, soft cgroup management, criu_dump) of a container runc started,
# then restore (inherited stdio pipes from descriptors.json, bind mounts
# with new sources, masked paths from /dev/null, root on a bind of the
# rootfs, cgroup root, criu_restore_child) of a container runc no longer
# knows. The restored container must count on, read its volume from the new
# host directory, keep its TCP stream whole and sit in the cgroup root it
# was given.
. "$(dirname "$0")/lib.sh"

if ! command -v runc >/dev/null; then
	skip crun-seq "runc is not installed (Debian package runc), and it starts the container"
	finish
fi
CT=criu-e2e-crun-$$
. "$(dirname "$0")/lib-runc.sh"

SEQ=$TOP/test/helpers/libcriu-crun-seq
CG=/criu-e2e-crun-$$
CT_PID=

crun_cleanup() {
	[ -n "$CT_PID" ] && kill -KILL "$CT_PID" 2>/dev/null
	while [ -n "$CT_PID" ] && kill -0 "$CT_PID" 2>/dev/null; do sleep 0.05; done
	runc_gone "$CT"
	umount -R "$B/criu-root" 2>/dev/null
	# only the cgroups this test named (criu made them on restore)
	for d in /sys/fs/cgroup/*"$CG" /sys/fs/cgroup"$CG"; do
		[ -d "$d" ] && rmdir "$d" 2>/dev/null
	done
	cleanup
}
trap crun_cleanup EXIT

# crun's libcriu runs `criu` from PATH: ours.
mkdir -p "$WORK/bin"
ln -s "$CRIU" "$WORK/bin/criu"
export PATH=$WORK/bin:$PATH

if ! runc_start "$CT"; then
	skip crun-seq-run "runc can't run a container here: $(tail -3 "$WORK/run-$CT.log")"
	finish
fi
expect crun-seq-container-counts wait_until 5 counting
expect crun-seq-container-tcp-flows wait_until 5 tcp_flowing
PID=$(runc_pid "$CT")

# What crun reads from config.json and its cgroup: the bind mounts (and,
# with v1 cgroups, each cgroup mount) as external mounts, the masked paths
# that are files, the freezer of the container's cgroup.
ARGS=(bind=/vol)
while read -r mp; do ARGS+=("bind=$mp"); done < <(awk '$9 == "cgroup" { print $5 }' "/proc/$PID/mountinfo")
while read -r p; do
	[ -e "/proc/$PID/root$p" ] && [ ! -d "/proc/$PID/root$p" ] && ARGS+=("mask=$p")
done < <("$PY" -c 'import json,sys; print("\n".join(json.load(open(sys.argv[1]))["linux"]["maskedPaths"]))' "$B/config.json")
FREEZER=$(awk -F: '$2 == "freezer" { print "/sys/fs/cgroup/freezer" $3 }' "/proc/$PID/cgroup")
[ -n "$FREEZER" ] || FREEZER=$(awk -F: '$1 == "0" { print $3 }' "/proc/$PID/cgroup" |
	sed "s|^|$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)|")

OUT=$("$SEQ" checkpoint "$WORK/img" "$WORK/work" "$PID" "$B/rootfs" "$FREEZER" "${ARGS[@]}" tcp 2>&1)
OUT="$OUT; dump.log: $(grep -E 'Error|rpc:' "$WORK/work/dump.log" 2>/dev/null)"
expect crun-seq-checkpoint contains "$OUT" "checkpointed $PID"
expect crun-seq-checkpoint-stops-container wait_until 5 not kill -0 "$PID"
expect crun-seq-checkpoint-descriptors grep -q 'pipe:' "$WORK/img/descriptors.json"
N_AT_DUMP=$(cat "$WORK/vol/out")
runc_gone "$CT"

# restore: the volume from another host directory, as crun maps it
RARGS=(bind=/vol:"$WORK/vol2")
for a in "${ARGS[@]}"; do
	case $a in
	bind=/sys/fs/cgroup/*) RARGS+=("$a:${a#bind=}") ;;
	mask=*) RARGS+=("$a") ;;
	esac
done
mkdir -p "$B/criu-root"
mount --rbind "$B/rootfs" "$B/criu-root"
(: | "$SEQ" restore "$WORK/img" "$WORK/work" "$B/criu-root" "$CG" "${RARGS[@]}" tcp 2>&1 | cat >"$WORK/restore.out") &
wait_until 20 grep -q "restored \|failed" "$WORK/restore.out"
CT_PID=$(sed -n 's/^restored \([0-9]*\)$/\1/p' "$WORK/restore.out")
[ -n "$CT_PID" ] && echo "$CT_PID" >>"$PIDLIST"
umount -R "$B/criu-root"
OUT="$(cat "$WORK/restore.out"); restore.log: $(grep Error "$WORK/work/restore.log" 2>/dev/null)"
expect crun-seq-restore [ -n "$CT_PID" ]
if [ -z "$CT_PID" ]; then
	finish
fi
OUT=$(grep notify "$WORK/restore.out" | tr '\n' ' ')
expect crun-seq-restore-notifies-post-restore contains "$OUT" "notify post-restore $CT_PID"
expect crun-seq-restored-counts-on wait_until 5 counting
N_AFTER=$(count_of)
expect crun-seq-restored-count-continues [ "${N_AFTER:-0}" -gt "${N_AT_DUMP:-0}" ]
OUT=$(in_ct cat /tmp/count)
expect crun-seq-restored-reads-new-volume contains "$OUT" from-host2
expect crun-seq-restored-writes-new-volume wait_until 5 test -s "$WORK/vol2/out"
OUT=$(in_ct stat -c '%F %t:%T' /proc/timer_list)
expect crun-seq-restored-masked-path-still-masked [ "$OUT" = "character special file 1:3" ]
expect crun-seq-restored-tcp-flows-on wait_until 5 tcp_flowing
expect crun-seq-restored-tcp-stream-whole tcp_stream_whole
OUT=$(readlink "/proc/$CT_PID/fd/1")
expect crun-seq-restored-stdout-is-the-new-pipe contains "$OUT" "pipe:"
OUT=$(cat "/proc/$CT_PID/cgroup")
expect crun-seq-restored-in-cgroup-root [ "$(cut -d: -f3 <<<"$OUT" | sort -u)" = "$CG" ]
finish

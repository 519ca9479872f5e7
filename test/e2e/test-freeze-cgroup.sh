#!/bin/bash
# End-to-end: --freeze-cgroup (RPC freeze_cgroup): a container whose tasks
# are in a cgroup of the test's own is frozen through it before it is
# seized, in a v1 freezer hierarchy and in a v2 one. After a dump with -R
# the tree runs on and the cgroup is thawed; a cgroup frozen before the
# dump is frozen after it; a dump without -R restores and counts on; a
# path that is no freezer cgroup is refused with the workload untouched.
# Each cgroup is removed at the end, also on failure.
. "$(dirname "$0")/lib.sh"

R=$WORK/root
make_rootfs "$R"
ln -sf busybox "$R/bin/usleep"
mknod -m 666 "$R/dev/null" c 1 3
# a tree that keeps forking: the counter and short-lived children
PROG='exec </dev/null >/dev/null 2>&1; n=0; while :; do n=$((n+1)); echo $n >/tmp/count; (usleep 1000) & usleep 20000; done'
CGS=()
cleanup_cgroups() {
	local cg p
	for cg in "${CGS[@]}"; do
		[ -e "$cg/freezer.state" ] && echo THAWED >"$cg/freezer.state" 2>/dev/null
		[ -e "$cg/cgroup.freeze" ] && echo 0 >"$cg/cgroup.freeze" 2>/dev/null
		for p in $(cat "$cg/cgroup.procs" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
		for _ in $(seq 100); do rmdir "$cg" 2>/dev/null && break; sleep 0.05; done
	done
}
trap 'cleanup_cgroups; cleanup' EXIT

counting() { # the count moves
	local a b
	a=$(cat "$R/tmp/count" 2>/dev/null)
	sleep 0.3
	b=$(cat "$R/tmp/count" 2>/dev/null)
	[ -n "$a" ] && [ -n "$b" ] && [ "$b" -gt "$a" ]
}

run_kind() { # NAME ROOT-HIERARCHY STATE-FILE FROZEN-VALUE THAWED-VALUE
	local name=$1 root=$2 file=$3 frozen=$4 thawed=$5 cg p
	if [ ! -w "$root/cgroup.procs" ]; then
		skip "$name" "no writable cgroup hierarchy at $root"
		return
	fi
	cg=$root/criu-e2e-freeze-$$-$name
	mkdir "$cg" || { skip "$name" "can't make a cgroup under $root"; return; }
	CGS+=("$cg")
	if [ ! -e "$cg/$file" ]; then
		skip "$name" "$cg has no $file"
		return
	fi
	if ! CPID=$(start_container "$R" "" "$PROG"); then
		fail "$name-start" "container did not start"
		return
	fi
	for p in $(tree_pids "$CPID"); do echo "$p" >"$cg/cgroup.procs" 2>/dev/null; done
	wait_until 10 test -s "$R/tmp/count"

	run_criu dump -t "$CPID" -D "$WORK/img-$name-r" -R --freeze-cgroup "$cg"
	expect "$name-dump-leave-running" [ "$RC" -eq 0 ]
	expect "$name-thawed-after" grep -qx "$thawed" "$cg/$file"
	expect "$name-runs-on" wait_until 5 counting

	echo "$frozen" >"$cg/$file"
	sleep 0.3
	run_criu dump -t "$CPID" -D "$WORK/img-$name-f" -R --freeze-cgroup "$cg"
	expect "$name-dump-of-frozen" [ "$RC" -eq 0 ]
	OUT="state: $(cat "$cg/$file")"
	expect "$name-frozen-before-stays-frozen" grep -qx "$frozen" "$cg/$file"
	expect "$name-frozen-tree-does-not-count" not counting
	echo "$thawed" >"$cg/$file"

	run_criu dump -t "$CPID" -D "$WORK/img-$name-bad" -R --freeze-cgroup /proc
	expect "$name-not-a-freezer-refused" contains "$OUT" "not a freezer cgroup"
	expect "$name-refusal-leaves-tree" wait_until 5 counting

	run_criu dump -t "$CPID" -D "$WORK/img-$name" --freeze-cgroup "$cg"
	expect "$name-dump" [ "$RC" -eq 0 ]
	stop_task "$CPID"
	restore_ns "$WORK/img-$name" --root "$R"
	expect "$name-restore" [ "$RC" -eq 0 ]
	expect "$name-restored-counts" wait_until 5 counting
	[ -n "$RPID" ] && stop_task "$RPID"
}

run_kind v1 /sys/fs/cgroup/freezer freezer.state FROZEN THAWED
if [ -e /sys/fs/cgroup/unified/cgroup.procs ]; then
	run_kind v2 /sys/fs/cgroup/unified cgroup.freeze 1 0
else
	run_kind v2 /sys/fs/cgroup cgroup.freeze 1 0
fi
finish

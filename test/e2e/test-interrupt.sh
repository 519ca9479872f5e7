#!/bin/bash
# End-to-end: criu stopped part-way. SIGTERM (or SIGINT, SIGHUP, SIGQUIT)
# to a dump makes it stop at its next step and undo itself: the workload
# (768 MiB, given back as it is dumped: --release-memory) runs on with every byte as it was,
# no images are left. SIGTERM to a restore: the half-restored tree is
# killed, nothing is left mounted. SIGKILL, which criu can't see: a
# restore's tasks die with it (they must never run half restored); a
# --release-memory dump's workload either runs on intact (killed before any
# memory was given back) or dies with criu, never runs on with memory
# missing (test-dump-kill.sh: without the option it always runs on).
. "$(dirname "$0")/lib.sh"

H=$TOP/test/helpers
if [ ! -x "$H/memtest-static" ]; then
	fail helpers-built "$H/memtest-static is missing: run make all"
	finish
fi
R=$WORK/root
make_rootfs "$R"
mknod -m 666 "$R/dev/null" c 1 3
cp "$H/memtest-static" "$R/memtest"
CLEAN='for fd in /proc/self/fd/*; do fd=${fd##*/}; [ "$fd" -gt 2 ] && eval "exec $fd>&-"; done; export PATH=/bin:$PATH'
MB=768

start() {
	rm -rf "$R/out" && mkdir -p "$R/out"
	ROUND=0
	CPID=$(start_container "$R" "$CLEAN" "exec </dev/null >/dev/null 2>&1; /memtest /out $MB 0 0 & wait") &&
		wait_until 30 [ -s "$R/out/ready" ]
}
# in_log FILE TEXT: waits (10 s) until criu's log has TEXT
in_log() { wait_until 10 grep -q "$2" "$1"; }
tree_pids() { # the tasks of CPID's pid namespace, or of a restored one
	local ns p
	ns=$(readlink "/proc/$1/ns/pid" 2>/dev/null) || return 0
	for p in /proc/[0-9]*; do
		[ "$(readlink "$p/ns/pid" 2>/dev/null)" = "$ns" ] && echo "${p#/proc/}"
	done
}

# 1. dump, SIGTERM once it is copying memory (and giving it back)
if start; then
	verified int-verified-before
	"$CRIU" dump --release-memory -t "$CPID" -D "$WORK/img-term" -v4 -o "$WORK/dump-term.log" >"$WORK/dump-term.out" 2>&1 &
	D=$!
	in_log "$WORK/dump-term.log" "seize"
	kill -TERM $D
	wait $D
	rc=$?
	expect int-dump-term-fails [ "$rc" -ne 0 ]
	expect int-dump-term-says grep -q "interrupted by" "$WORK/dump-term.out"
	expect int-dump-term-no-images [ ! -e "$WORK/img-term/inventory.img" ]
	verified int-dump-term-workload-intact
	# 2. dump, SIGKILL: the workload intact, or gone; never running corrupted
	"$CRIU" dump --release-memory -t "$CPID" -D "$WORK/img-kill" -v4 -o "$WORK/dump-kill.log" >/dev/null 2>&1 &
	D=$!
	in_log "$WORK/dump-kill.log" "page-release\|pages"
	kill -KILL $D
	wait $D 2>/dev/null
	sleep 0.5
	K=$(awk '{print $1}' /proc/$CPID/task/$CPID/children 2>/dev/null)
	if [ -n "$K" ] && [ -d "/proc/$K" ]; then
		verified int-dump-kill-workload-intact-or-gone
	else
		ok int-dump-kill-workload-intact-or-gone
	fi
	stop_task "$CPID"
else
	fail int-start "container did not start"
fi

# 3. restore, SIGTERM while it is restoring: killed, nothing left
if start && run_criu dump -t "$CPID" -D "$WORK/img" -v4 -o "$WORK/dump.log" && [ "$RC" -eq 0 ]; then
	ok int-dump
	wait_until 3 gone "$CPID"
	for sig in TERM KILL; do
		mounts=$(wc -l </proc/self/mountinfo)
		rm -f "$WORK/rpid"
		"$CRIU" restore -D "$WORK/img" --root "$R" -d --pidfile "$WORK/rpid" -v4 -o "$WORK/restore-$sig.log" \
			>"$WORK/restore-$sig.out" 2>&1 &
		C=$!
		in_log "$WORK/restore-$sig.log" "seized thread"
		# the restored root, if any came up: none of its tree may stay
		root=$(awk '{print $1}' /proc/$C/task/$C/children 2>/dev/null)
		kill -$sig $C
		wait $C 2>/dev/null
		rc=$?
		expect "int-restore-$sig-fails" [ "$rc" -ne 0 ]
		[ "$sig" = TERM ] && expect int-restore-term-says grep -q "interrupted by" "$WORK/restore-$sig.out"
		if [ -n "$root" ]; then
			expect "int-restore-$sig-no-tasks-left" wait_until 5 eval '[ -z "$(tree_pids '"$root"')" ]'
		else
			skip "int-restore-$sig-no-tasks-left" "the restore had no task yet when it was stopped"
		fi
		expect "int-restore-$sig-no-mounts-left" [ "$(wc -l </proc/self/mountinfo)" = "$mounts" ]
	done
	# and the images are still good
	if restore_ns "$WORK/img" --root "$R" -v4 -o "$WORK/restore.log"; then
		verified int-restore-after-all
		stop_task "$RPID"
	else
		fail int-restore-after-all "exit $RC: $OUT"
	fi
else
	fail int-dump "exit ${RC:-?}: ${OUT:-}"
fi
left=$(leftover_tasks "$WORK")
if [ -z "$left" ]; then ok no-leftover-tasks; else fail no-leftover-tasks "still running: $(echo $left)"; fi
finish

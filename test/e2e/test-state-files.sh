#!/bin/bash
# End-to-end: open-file state comes back as it was dumped, or the dump
# refuses it (test/helpers/state-files-static, one case per piece of state).
# STATE_CASES="case ..." runs only those.
. "$(dirname "$0")/lib.sh"

LOCKS="refused:file locks can't be dumped yet"
want() {
	case $1 in
	lock-*) echo "$LOCKS" ;;
	fdtable-siblings) echo "refused:shares its fd table with process" ;;
	*) echo same ;;
	esac
}

state_rootfs
for c in ${STATE_CASES:-fdtable-shared fdtable-three fdtable-chain fdtable-siblings async-pipe-pid async-owner-uids async-pipe-pgrp async-pipe-tid async-socket \
	async-fifo memfd-exec memfd-exec-sealed memfd-exe lock-flock lock-posix-read lock-posix-write lock-ofd lock-lease \
	lock-mapped-flock}; do
	[ "$c" = memfd-exec-attached ] || state_case state-files-static "$c" "$(want "$c")"
done
# --file-locks is upstream's permission to dump locks, which runtimes pass
# (LXC always): criu carries none yet, so a tree holding one is still
# refused, and one holding none dumps as without it.
with_file_locks() {
	local c=$1 out
	out=$(STATE_DUMP_ARGS=--file-locks state_case state-files-static "$c" "$(want "$c")" 2>&1 |
		sed "s/ $c-/ $c-with-file-locks-/")
	echo "$out"
	! grep -q '^not ok' <<<"$out" || FAILED=1
}
[ -z "${STATE_CASES:-}" ] && for c in lock-flock fdtable-shared; do with_file_locks "$c"; done
# criu restore without -d stays the tree's parent until it exits: it must
# hold no writable file of a memfd the tree runs (exec would fail ETXTBSY).
attached_memfd_exec() {
	local name=memfd-exec-attached out=/out-memfd-exec-attached cpid criu_pid
	cp "$TOP/test/helpers/state-files-static" "$R/state-files-static"
	rm -rf "${R:?}$out" && mkdir -p "$R$out"
	if ! cpid=$(start_container "$R" "" "exec </dev/null >/dev/null 2>$out/stderr; /state-files-static $out memfd-exec & wait") ||
		! wait_until 20 test -e "$R$out/ready"; then
		fail "$name-setup" "$(cat "$R$out/setup-failed" 2>/dev/null)"
		return
	fi
	run_criu dump -t "$cpid" -D "$WORK/img-$name"
	stop_task "$cpid"
	[ "$RC" -eq 0 ] || { fail "$name-dump" "rc $RC: $OUT"; return; }
	rm -f "$WORK/rpid-attached"
	"$CRIU" restore -D "$WORK/img-$name" --root "$R" --pidfile "$WORK/rpid-attached" >"$WORK/$name.log" 2>&1 &
	criu_pid=$!
	echo "$criu_pid" >>"$PIDLIST"
	if ! wait_until 20 test -s "$WORK/rpid-attached"; then
		fail "$name-restore" "$(cat "$WORK/$name.log")"
		return
	fi
	echo "$(cat "$WORK/rpid-attached")" >>"$PIDLIST"
	expect "$name-criu-waits" kill -0 "$criu_pid"
	touch "$R$out/trigger"
	if wait_until 20 grep -q "^round 1: verified OK" "$R$out/result"; then
		ok "$name-runs-while-criu-waits"
	else
		fail "$name-runs-while-criu-waits" "$(cat "$R$out/result" 2>/dev/null)"
	fi
	stop_task "$(cat "$WORK/rpid-attached")"
	wait "$criu_pid" 2>/dev/null
}
[ -z "${STATE_CASES:-}" ] || [[ " $STATE_CASES " == *" memfd-exec-attached "* ]] && attached_memfd_exec
finish

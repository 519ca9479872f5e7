#!/bin/bash
# End-to-end: memory state comes back as it was dumped, or the dump refuses
# it (test/helpers/state-mem-static, one case per piece of state).
# MEM_CASES="case ..." runs only those.
. "$(dirname "$0")/lib.sh"

state_rootfs

mem_case() { # CASE WANT
	[ -n "${MEM_CASES:-}" ] && [[ " $MEM_CASES " != *" $1 "* ]] && return 0
	state_case state-mem-static "$1" "$2"
}

# mem_running CASE: dumped with -R (left running): round 2, on the same
# workload after the dump, must find its state as it was (the dump must
# not un-share copy-on-write pages by reading them).
mem_running() {
	local name=$1 out=/out-$1-running cpid
	[ -n "${MEM_CASES:-}" ] && [[ " $MEM_CASES " != *" $1-running "* ]] && return 0
	cp "$TOP/test/helpers/state-mem-static" "$R/state-mem-static"
	rm -rf "${R:?}$out"
	mkdir -p "$R$out"
	if ! cpid=$(start_container "$R" "" "exec </dev/null >/dev/null 2>$out/stderr; /state-mem-static $out $name & wait") ||
	   ! wait_until 20 test -e "$R$out/ready"; then
		fail "$name-running-setup" "not ready: $(cat "$R$out/setup-failed" "$R$out/stderr" 2>/dev/null)"
		[ -n "$cpid" ] && stop_task "$cpid"
		return 1
	fi
	for round in 1 2; do
		if [ $round = 2 ]; then
			run_criu dump -R -t "$cpid" -D "$WORK/img-$name-running"
			if [ "$RC" -ne 0 ]; then
				fail "$name-running-dump" "rc $RC: $OUT"
				break
			fi
			ok "$name-running-dump"
		fi
		touch "$R$out/trigger"
		if wait_until 20 grep -q "^round $round: verified OK" "$R$out/result"; then
			ok "$name-running-round-$round"
		else
			fail "$name-running-round-$round" "$(cat "$R$out/result" 2>/dev/null)"
		fi
	done
	stop_task "$cpid"
}

mem_case anon-private same
# copy-on-write sharing with forked children
mem_case cow-shared same
mem_case cow-scale same
mem_case cow-chain same
mem_running cow-shared
mem_running cow-scale
# areas moved, grown, shrunk or split after their pages were written
for c in remap-move remap-grow remap-grow-inplace remap-shrink remap-swap split-mprotect split-hole split-protnone brk-grow remap-big adjacent-areas huge-split growsdown stack-deep; do
	mem_case "$c" same
done
# file mappings: the protection they may take later
for c in file-shared-rw file-shared-ro file-private file-remap; do
	mem_case "$c" same
done
# per-area state
for c in madv-dontfork madv-wipeonfork madv-dontdump madv-hugepage madv-nohugepage madv-mergeable madv-sequential madv-random; do
	mem_case "$c" same
done
mem_case ksm-merge-any refused:PR_SET_MEMORY_MERGE
mem_case mlock same
mem_case mlock-onfault refused:MLOCK_ONFAULT
mem_case mlock-setuid same
mem_case mlockall-current same
mem_case mlockall-future refused:MCL_FUTURE
mem_case no-vdso same
mem_case mseal refused:mseal
finish

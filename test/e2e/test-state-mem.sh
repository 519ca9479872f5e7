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

mem_case anon-private same
# copy-on-write sharing with forked children
mem_case cow-shared same
mem_case cow-scale same
mem_case cow-chain same
# areas moved, grown, shrunk or split after their pages were written
for c in remap-move remap-grow remap-grow-inplace remap-shrink remap-swap split-mprotect split-hole split-protnone brk-grow remap-big adjacent-areas huge-split growsdown stack-deep; do
	mem_case "$c" same
done
# file mappings: the protection they may take later
for c in file-shared-rw file-shared-ro file-private file-remap; do
	mem_case "$c" same
done
# per-area state
for c in madv-dontfork madv-wipeonfork madv-dontdump madv-hugepage madv-nohugepage madv-mergeable; do
	mem_case "$c" same
done
mem_case mlock same
mem_case mlock-onfault refused:MLOCK_ONFAULT
mem_case mlock-setuid same
mem_case mlockall-current same
mem_case mlockall-future refused:MCL_FUTURE
mem_case no-vdso same
finish

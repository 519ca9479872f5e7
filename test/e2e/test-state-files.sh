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
	async-fifo memfd-exec memfd-exec-sealed lock-flock lock-posix-read lock-posix-write lock-ofd lock-lease \
	lock-mapped-flock}; do
	state_case state-files-static "$c" "$(want "$c")"
done
finish

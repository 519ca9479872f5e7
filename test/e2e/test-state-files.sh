#!/bin/bash
# End-to-end: open-file state comes back as it was dumped, or the dump
# refuses it (test/helpers/state-files-static, one case per piece of state).
. "$(dirname "$0")/lib.sh"

state_rootfs
for c in ${STATE_CASES:-fdtable-shared fdtable-siblings async-pipe-pid async-pipe-pgrp async-pipe-tid async-socket async-fifo memfd-exec memfd-exec-sealed lock-flock lock-posix-read lock-posix-write lock-ofd lock-lease lock-mapped-flock}; do
	state_case state-files-static $c same
done
finish

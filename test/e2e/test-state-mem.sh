#!/bin/bash
# End-to-end: memory state comes back as it was dumped, or the dump refuses
# it (test/helpers/state-mem-static, one case per piece of state).
. "$(dirname "$0")/lib.sh"

state_rootfs
state_case state-mem-static anon-private same
finish

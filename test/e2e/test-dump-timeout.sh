#!/bin/bash
# End-to-end: --timeout. A process that can't be stopped (a vfork parent
# whose child never execs: uninterruptible sleep) makes the dump fail once
# the time is up, naming the thread and why, instead of hanging; the tree
# runs on as it was, no images are left.
. "$(dirname "$0")/lib.sh"

H=$TOP/test/helpers
if [ ! -x "$H/vforkhold-static" ]; then
	fail helpers-built "$H/vforkhold-static is missing: run make all"
	finish
fi
R=$WORK/root
make_rootfs "$R"
mknod -m 666 "$R/dev/null" c 1 3
mkdir -p "$R/out"
cp "$H/vforkhold-static" "$R/vforkhold"
CLEAN='for fd in /proc/self/fd/*; do fd=${fd##*/}; [ "$fd" -gt 2 ] && eval "exec $fd>&-"; done; export PATH=/bin:$PATH'

if ! CPID=$(start_container "$R" "$CLEAN" 'exec </dev/null >/dev/null 2>&1; /vforkhold /out & wait'); then
	fail timeout-start "container did not start"
	finish
fi
wait_until 10 [ -s "$R/out/ready" ]
K=$(awk '{print $1}' /proc/$CPID/task/$CPID/children)
wait_until 5 eval '[ "$(awk "/^State:/ {print \$2}" /proc/$K/status)" = D ]'
expect timeout-parent-in-d [ "$(awk '/^State:/ {print $2}' /proc/$K/status)" = D ]
a=$(date +%s)
run_criu dump -t "$CPID" -D "$WORK/img" --timeout 2 -v4 -o "$WORK/dump.log"
b=$(date +%s)
expect timeout-refused [ "$RC" -ne 0 ]
expect timeout-message contains "$OUT" "did not stop within 2 s"
expect timeout-names-why contains "$OUT" "uninterruptible sleep"
expect timeout-in-time [ $((b - a)) -le 8 ]
expect timeout-no-images [ ! -e "$WORK/img/inventory.img" ]
# the tree as it was: the parent still waiting, nothing left stopped or traced
expect timeout-tree-runs-on eval '[ "$(awk "/^State:/ {print \$2}" /proc/$K/status)" = D ] && ! grep -qE "^TracerPid:\s+[1-9]" /proc/$K/status /proc/$CPID/status'
stop_task "$CPID"
left=$(leftover_tasks "$WORK")
if [ -z "$left" ]; then ok no-leftover-tasks; else fail no-leftover-tasks "still running: $(echo $left)"; fi
finish

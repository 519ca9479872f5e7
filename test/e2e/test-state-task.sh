#!/bin/bash
# End-to-end: task state comes back as it was dumped, or the dump refuses
# it (test/helpers/state-task-static, one case per piece of state).
. "$(dirname "$0")/lib.sh"

state_rootfs
cases=(
	"stop-tstp same"
	"stop-tstp-threads same"
	"stop-ttin same"
	"stop-sigstop same"
	"zombie-setsid same"
	"zombie-setpgid same"
	"zombie-sibling-pgrp same"
	"mb-none same"
	"mb-private same"
	"mb-sync-core same"
	"mb-private-sync-core same"
	"mb-rseq same"
	"mb-global same"
	"mb-all same"
	"sched-nice same"
	"sched-batch same"
	"sched-idle same"
	"sched-fifo same"
	"sched-rr same"
	"sched-fifo-reset same"
	"sched-other-reset same"
	"sched-threads same"
	"sched-deadline refused:runs under SCHED_DEADLINE"
	"proc-parent-status refused:the /proc entry of process"
	"proc-parent-fddir refused:the /proc entry of process"
	"proc-parent-cwd same"
	"proc-sibling-cwd refused:the /proc entry of process"
	"proc-self-status refused:the /proc entry of process"
)
for c in "${cases[@]}"; do
	read -r name want <<<"$c"
	[ -n "${ONLY:-}" ] && [[ "$name" != $ONLY ]] && continue
	state_case state-task-static "$name" "$want"
done
finish

#!/bin/bash
# End-to-end: a tree that is no container (it shares criu's pid and mount
# namespaces, as a program started from a shell does) is dumped and
# restored in host mode: back with the same pids, in criu's namespaces,
# with no --root. Restoring it while its pid is taken, or with --root, is
# refused with a message, leaving nothing behind.
. "$(dirname "$0")/lib.sh"

become_subreaper "$@"

COUNT=$WORK/count
# the loop appends 1, 2, 3...: the last line is where it is
num() { local v; v=$(tail -n 1 "$1" 2>/dev/null) && [[ $v =~ ^[0-9]+$ ]] && echo "$v"; }
stat_field() { awk -v f="$2" '{sub(/.*\) /, ""); print $(f - 2)}' /proc/"$1"/stat 2>/dev/null; }

# the tree: a session of its own (setsid), a bash loop and its sleeps
setsid bash -c 'i=0; while :; do i=$((i+1)); echo $i >>"$0"; sleep 0.1; done' "$COUNT" </dev/null >/dev/null 2>&1 &
P=$!
echo "$P" >>"$PIDLIST"
disown "$P" # bash still reaps it, without a word about the killed job
if ! wait_until 10 eval '[ "$(num "$COUNT")" -ge 3 ]'; then
	fail host-start "the loop did not start"
	finish
fi
expect host-session-leader [ "$(stat_field "$P" 6)" = "$P" ]
run_criu dump -t "$P" -D "$WORK/img" -v4 -o "$WORK/dump.log"
if [ "$RC" -eq 0 ]; then ok host-dump; else fail host-dump "$OUT"; fi
# it and its orphans reaped (by this shell, their subreaper): its pid is free
in_session() { grep -ls "^[0-9]* ([^)]*) [A-Z] [0-9]* [0-9]* $P " /proc/[0-9]*/stat; }
wait_until 5 eval '[ -z "$(in_session)" ]'

expect host-no-mount-image [ -z "$(ls "$WORK/img"/mountpoints-*.img 2>/dev/null)" ]
DUMPED=$(num "$COUNT")

run_criu restore -D "$WORK/img" -d --root "$WORK" --pidfile "$WORK/rpid-bad"
expect host-root-refused [ "$RC" -ne 0 ]
expect host-root-message contains "$OUT" "--root is for container images"

restore_ns "$WORK/img" -v4 -o "$WORK/restore.log"
if [ "$RC" -eq 0 ]; then
	ok host-restore
	expect host-same-pid [ "$RPID" = "$P" ]
	expect host-session-kept [ "$(stat_field "$RPID" 6)" = "$P" ]
	expect host-same-pidns [ "$(readlink /proc/"$RPID"/ns/pid)" = "$(readlink /proc/self/ns/pid)" ]
	expect host-same-mntns [ "$(readlink /proc/"$RPID"/ns/mnt)" = "$(readlink /proc/self/ns/mnt)" ]
	if wait_until 5 eval '[ "$(num "$COUNT")" -gt "$DUMPED" ]'; then
		# on from where it was: every number once, in order, however
		# late this shell looks (a restart would write 1 again)
		last=$(num "$COUNT")
		if [ "$(head -n "$last" "$COUNT")" = "$(seq 1 "$last")" ]; then
			ok host-continues
		else
			fail host-continues "the counter's numbers are not 1..$last once each (dumped at $DUMPED): $(head -n "$last" "$COUNT" | tr '\n' ' ')"
		fi
	else
		fail host-continues "counter stays at $(num "$COUNT") (dumped at $DUMPED)"
	fi
	# again, while it runs: its pid is taken
	run_criu restore -D "$WORK/img" -d
	expect host-pid-taken-refused [ "$RC" -ne 0 ]
	expect host-pid-taken-message contains "$OUT" "pid $P, the root task's, is in use here"
	kids=$(cat /proc/"$RPID"/task/*/children 2>/dev/null)
	stop_task "$RPID"
	for k in $kids; do kill -KILL "$k" 2>/dev/null; done
else
	fail host-restore "$OUT; $(tail -n 3 "$WORK/restore.log")"
fi
if wait_until 3 eval '[ -z "$(in_session)" ]'; then ok no-leftover-tasks; else fail no-leftover-tasks "$(in_session)"; fi
finish

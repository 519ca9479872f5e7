#!/bin/bash
# End-to-end: POSIX timers (test/helpers/ptimer-static.c: a periodic
# signal timer, a one-shot SIGEV_NONE timer an hour away, a periodic
# SIGEV_THREAD_ID timer aimed at a second thread, one never armed) across
# a dump and restore in a real container: the same ids (the program holds
# them), the periodic ones still firing at their signals and thread, the
# one-shot's time left counted on, the unarmed one still unarmed, and the
# tree, status, maps and fds as before.
. "$(dirname "$0")/lib.sh"

H=$TOP/test/helpers
if [ ! -x "$H/ptimer-static" ]; then
	fail helpers-built "$H/ptimer-static is missing: run make all"
	finish
fi
R=$WORK/root
make_rootfs "$R"
mknod -m 666 "$R/dev/null" c 1 3
mkdir -p "$R/out"
cp "$H/ptimer-static" "$R/ptimer"
CLEAN='for fd in /proc/self/fd/*; do fd=${fd##*/}; [ "$fd" -gt 2 ] && eval "exec $fd>&-"; done; export PATH=/bin:$PATH'
val() { sed -n "s/.*\\b$1 \\([-0-9]*\\).*/\\1/p" "$R/out/state" 2>/dev/null; }
moved() { [ "$(val a)" -gt "$1" ] && [ "$(val c)" -gt "$2" ]; }

if ! CPID=$(start_container "$R" "$CLEAN" 'exec </dev/null >/dev/null 2>&1; /ptimer /out & wait'); then
	fail ptimer-start "container did not start"
	finish
fi
wait_until 10 [ -s "$R/out/state" ]
K=$(awk '{print $1}' /proc/$CPID/task/$CPID/children)
timers_before=$(cat /proc/$K/timers | grep -v '^notify' | tr '\n' ' ')
expect ptimer-four-timers [ "$(grep -c '^ID:' /proc/$K/timers)" = 4 ]
proc_snapshot "$CPID" "$WORK/before.json"
run_criu dump -t "$CPID" -D "$WORK/img" -v4 -o "$WORK/dump.log"
if [ "$RC" -eq 0 ]; then ok ptimer-dump; else fail ptimer-dump "exit $RC: $OUT; $(tail -n 3 "$WORK/dump.log")"; fi
b_dumped=$(val b-left)
a0=$(val a)
c0=$(val c)
wait_until 3 gone "$CPID"
restore_ns "$WORK/img" --root "$R" -v4 -o "$WORK/restore.log"
if [ "$RC" -eq 0 ] && [ -n "$RPID" ]; then
	ok ptimer-restore
	K2=$(awk '{print $1}' /proc/$RPID/task/$RPID/children)
	if wait_until 5 moved "$a0" "$c0"; then
		ok ptimer-periodic-fire
	else
		fail ptimer-periodic-fire "counts stay at $(cat "$R/out/state"), dumped a $a0 c $c0"
	fi
	expect ptimer-same-ids [ "$(val ids-ok)" = 1 ]
	timers_after=$(cat /proc/$K2/timers | grep -v '^notify' | tr '\n' ' ')
	if [ "$timers_after" = "$timers_before" ]; then
		ok ptimer-same-timers
	else
		fail ptimer-same-timers "before: $timers_before; after: $timers_after"
	fi
	# the SIGEV_THREAD_ID timer still aims at the second thread (its vtid)
	expect ptimer-thread-target grep -q "^notify: signal/tid\." /proc/$K2/timers
	b=$(val b-left)
	if [ -n "$b" ] && [ "$b" -le "$b_dumped" ] && [ "$b" -gt $((b_dumped - 60)) ]; then
		ok ptimer-oneshot-left
	else
		fail ptimer-oneshot-left "an hour's timer had $b_dumped s left at dump, $b after restore"
	fi
	expect ptimer-unarmed [ "$(val d-armed)" = 0 ]
	proc_snapshot "$RPID" "$WORK/after.json"
	for k in tree status maps fds; do
		same_procs "ptimer-same-$k" "$WORK/before.json" "$WORK/after.json" $k
	done
	stop_task "$RPID"
else
	fail ptimer-restore "exit $RC: $OUT; $(tail -n 3 "$WORK/restore.log")"
fi

# A fast timer (every 1 ms, about as long as criu takes to read the timers
# and the signal queues: the dump reads again whenever one may have fired
# in between, see timers_soonest_signal's unit test): the dump succeeds,
# and after restore that timer fires on, its count going on from the
# dumped one.
rm -rf "$R/out" && mkdir -p "$R/out"
if CPID=$(start_container "$R" "$CLEAN" 'exec </dev/null >/dev/null 2>&1; /ptimer /out fast & wait'); then
	wait_until 10 [ -s "$R/out/state" ]
	run_criu dump -t "$CPID" -D "$WORK/img-fast" -v4 -o "$WORK/dump-fast.log"
	if [ "$RC" -eq 0 ]; then ok ptimer-fast-dump; else fail ptimer-fast-dump "exit $RC: $OUT; $(tail -n 3 "$WORK/dump-fast.log")"; fi
	e0=$(val e)
	wait_until 3 gone "$CPID"
	restore_ns "$WORK/img-fast" --root "$R" -v4 -o "$WORK/restore-fast.log"
	if [ "$RC" -eq 0 ] && [ -n "$RPID" ]; then
		ok ptimer-fast-restore
		if wait_until 5 eval '[ "$(val e)" -gt "$e0" ]'; then
			ok ptimer-fast-fires
		else
			fail ptimer-fast-fires "e stays at $(val e), dumped at $e0"
		fi
		stop_task "$RPID"
	else
		fail ptimer-fast-restore "exit $RC: $OUT; $(tail -n 3 "$WORK/restore-fast.log")"
	fi
else
	fail ptimer-fast-start "container did not start"
fi

# A CPU-time timer of "the calling thread" in a process with two threads:
# which thread it times can't be read, so the dump refuses, names it, and
# the workload runs on.
rm -rf "$R/out" && mkdir -p "$R/out"
if CPID=$(start_container "$R" "$CLEAN" 'exec </dev/null >/dev/null 2>&1; /ptimer /out threadcpu & wait'); then
	wait_until 10 [ -s "$R/out/state" ]
	run_criu dump -t "$CPID" -D "$WORK/img-cpu" -v4 -o "$WORK/dump-cpu.log"
	if [ "$RC" -ne 0 ] && grep -q "counts the CPU time of the thread that made it" "$WORK/dump-cpu.log"; then
		ok ptimer-threadcpu-refused
	else
		fail ptimer-threadcpu-refused "exit $RC: $OUT; $(tail -n 3 "$WORK/dump-cpu.log")"
	fi
	a1=$(val a)
	if wait_until 5 eval '[ "$(val a)" -gt "$a1" ]'; then
		ok ptimer-threadcpu-still-running
	else
		fail ptimer-threadcpu-still-running "the workload stopped counting after the refused dump"
	fi
	stop_task "$CPID"
else
	fail ptimer-threadcpu-start "container did not start"
fi
left=$(leftover_tasks "$WORK")
if [ -z "$left" ]; then ok no-leftover-tasks; else fail no-leftover-tasks "still running: $(echo $left)"; fi
finish

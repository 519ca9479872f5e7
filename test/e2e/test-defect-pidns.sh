#!/bin/bash
# End-to-end: a tree that is pid 1 of a pid namespace of its own but runs
# in criu's mount namespace (`unshare --pid --fork PROGRAM` from a shell).
#   1. its init multi-threaded: a dump without -R kills it and must not
#      hang (the dying init waits in the kernel for its other threads,
#      zombies only criu, their tracer, can reap; it hung when the thread
#      that waits came first in criu's order, so it is tried over several
#      dump and restore cycles); every dump here runs under a timeout, so
#      a regression fails rather than hangs;
#   2. restored: pid 1 of a new pid namespace, in criu's mount namespace,
#      each thread and process with the pid it had there, running on with
#      its state (the threads helper checks its own TLS, masks and
#      counters; it must not have started again);
#   3. the same for a tree of processes (a shell and two children);
#   4. the issue's reproduction: python3 with 4 threads as pid 1.
. "$(dirname "$0")/lib.sh"

H=$TOP/test/helpers
DUMP_TIMEOUT=30
if [ ! -x "$H/threads" ]; then
	fail helpers-built "$H/threads is missing: run make all"
	finish
fi

# start_pidns NAME CMD...: CMD as pid 1 of a new pid namespace (criu's
# mount namespace); $P its pid here.
start_pidns() {
	local name=$1 u i
	shift
	unshare --pid --fork -- "$@" </dev/null >"$WORK/$name.out" 2>&1 &
	u=$!
	echo "$u" >>"$PIDLIST"
	P=
	for ((i = 0; i < 100; i++)); do
		P=$(awk '{print $1}' /proc/$u/task/$u/children 2>/dev/null)
		[ -n "$P" ] && break
		sleep 0.05
	done
	[ -n "$P" ] && echo "$P" >>"$PIDLIST"
	[ -n "$P" ]
}

# ns_pids PID: "hostpid:nspid" of every thread of PID's pid namespace.
ns_ids() {
	local ns t
	ns=$(readlink "/proc/$1/ns/pid")
	for t in /proc/[0-9]*/task/[0-9]*; do
		[ "$(readlink "$t/ns/pid" 2>/dev/null)" = "$ns" ] || continue
		awk '/^NSpid:/ {print $NF}' "$t/status" 2>/dev/null
	done | sort -n | tr '\n' ' '
}

# dump_kills NAME: dump of $P without -R under a timeout; the tree gone.
dump_kills() {
	local name=$1 rc
	timeout -s KILL $DUMP_TIMEOUT "$CRIU" dump -t "$P" -D "$WORK/img-$name" -v4 -o "$WORK/$name-dump.log" \
		>"$WORK/$name-dump.out" 2>&1
	rc=$?
	if [ $rc -eq 137 ]; then
		fail "$name-dump-ends" "criu still waiting after ${DUMP_TIMEOUT} s (killed): $(tail -n 3 "$WORK/$name-dump.log" | tr '\n' ' ')"
		return 1
	fi
	if [ $rc -ne 0 ]; then
		fail "$name-dump-ends" "exit $rc: $(cat "$WORK/$name-dump.out")"
		return 1
	fi
	ok "$name-dump-ends"
	expect "$name-tree-gone" wait_until 5 gone "$P"
}

# restored NAME IDS: restore of NAME's images; $RPID pid 1 of a new pid
# namespace in our mount namespace, its threads with the ids IDS there.
restored() {
	local name=$1 want=$2 got
	if ! restore_ns "$WORK/img-$name" -v4 -o "$WORK/$name-restore.log"; then
		fail "$name-restore" "exit $RC: $OUT; log: $(tail -n 3 "$WORK/img-$name/$name-restore.log" 2>/dev/null | tr '\n' ' ')"
		return 1
	fi
	ok "$name-restore"
	got=$(awk '/^NSpid:/ {print $NF}' /proc/$RPID/status)
	expect "$name-pid-1" [ "$got" = 1 ]
	expect "$name-new-pidns" [ "$(readlink /proc/$RPID/ns/pid)" != "$(readlink /proc/self/ns/pid)" ]
	expect "$name-host-mounts" [ "$(readlink /proc/$RPID/ns/mnt)" = "$(readlink /proc/self/ns/mnt)" ]
	got=$(ns_ids "$RPID")
	if [ "$got" = "$want" ]; then
		ok "$name-same-pids"
	else
		fail "$name-same-pids" "before the dump: $want; restored: $got"
	fi
}

# 1, 2: the threads helper as pid 1
OUTD=$WORK/threads-out
mkdir -p "$OUTD"
if start_pidns threads "$H/threads" "$OUTD" && wait_until 10 [ -s "$OUTD/tls" ]; then
	expect threads-is-pid-1 [ "$(awk '/^NSpid:/ {print $NF}' /proc/$P/status)" = 1 ]
	expect threads-has-5 [ "$(ls /proc/$P/task | wc -l)" = 5 ]
	ids=$(ns_ids "$P")
	for n in 1 2 3 4 5 6; do
		dump_kills threads$n && restored threads$n "$ids" || break
		c1=$(cat "$OUTD/counters")
		expect threads$n-runs-on wait_until 5 eval '[ "$(cat "$OUTD/counters")" != "$c1" ]'
		sleep 0.2
		expect threads$n-state-kept not grep -qs BAD "$OUTD/counters" "$OUTD/bad"
		expect threads$n-not-restarted [ "$(wc -l <"$OUTD/starts")" = 1 ]
		P=$RPID
	done
	stop_task "$P"
else
	fail threads-start "not ready: $(cat "$WORK/threads.out")"
fi

# 3: a shell and two children as pid 1's tree
if start_pidns shtree sh -c 'sleep 1000 & sleep 1001 & wait' && wait_until 5 eval '[ "$(ns_ids "$P" | wc -w)" = 3 ]'; then
	ids=$(ns_ids "$P")
	if dump_kills shtree && restored shtree "$ids"; then
		kids=$(for c in $(cat /proc/$RPID/task/*/children); do tr '\0' ' ' </proc/$c/cmdline; echo; done | sort | tr '\n' ,)
		expect shtree-children [ "$kids" = "sleep 1000 ,sleep 1001 ," ]
		stop_task "$RPID"
	fi
else
	fail shtree-start "not ready: $(cat "$WORK/shtree.out")"
fi

# 4: the issue's reproduction
if command -v python3 >/dev/null; then
	if start_pidns python python3 -c '
import threading, time
for _ in range(4):
    threading.Thread(target=time.sleep, args=(1000,), daemon=True).start()
time.sleep(1000)' && wait_until 10 eval '[ "$(ls /proc/$P/task 2>/dev/null | wc -l)" = 5 ]'; then
		ids=$(ns_ids "$P")
		if dump_kills python && restored python "$ids"; then
			expect python-runs [ "$(ls /proc/$RPID/task | wc -l)" = 5 ]
			stop_task "$RPID"
		fi
	else
		fail python-start "not ready: $(cat "$WORK/python.out")"
	fi
else
	skip python "no python3"
fi
finish

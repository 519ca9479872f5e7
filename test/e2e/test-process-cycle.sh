#!/bin/bash
# End-to-end: the full process checkpoint/restore cycle. Each workload runs
# in a real container (pid 1 is busybox sh, the workload its child, except
# for the shell counter, which is pid 1 itself); the test snapshots the tree
# from /proc (virtual pids, pgids, sids, the status fields, maps and fds of
# every process: test/e2e/procsnap.py), dumps it, checks it is gone,
# restores it with -d, compares the restored tree with the snapshot and
# checks that the workload goes on where it was.
#
# Workloads: a busybox shell counter, a multi-threaded program (test/helpers/
# threads.c, dynamically linked: the host's /usr is bound read-only into the
# container, an external mount), a python3 counter (same), memory contents
# (memtest-static.c), a tree of three processes with pipes holding data, a
# zombie, a process group and a session (pipetree-static.c). Then dump -R,
# and a dump that must fail (a socket connected to a peer outside the tree).
. "$(dirname "$0")/lib.sh"

H=$TOP/test/helpers
for b in threads pipetree-static memtest-static sockhold-static; do
	if [ ! -x "$H/$b" ]; then
		fail helpers-built "$H/$b is missing: run make all"
		finish
	fi
done

# Every workload's fds are inside its container: stdin /dev/null, stdout
# and stderr /log (O_APPEND), never the test's own log outside the root.
REDIR='exec </dev/null >>/log 2>&1; '
# Prepended to every container SETUP: no descriptor of the test's own
# environment leaks into the container (a dump would have to refuse it),
# and the root switch uses busybox's umount, not the host's /usr/bin one
# once /usr is bound in (it needs a /proc the container does not have).
CLEAN='for fd in /proc/self/fd/*; do fd=${fd##*/}; [ "$fd" -gt 2 ] && eval "exec $fd>&-"; done
	export PATH=/bin:$PATH
'

# proc_root NAME: a busybox root for a workload, with /dev/null, usleep, /out.
proc_root() {
	local r=$WORK/root-$1
	make_rootfs "$r"
	ln -sf busybox "$r/bin/usleep"
	mknod -m 666 "$r/dev/null" c 1 3
	mkdir -p "$r/out"
	: >"$r/log"
	echo "$r"
}

tail_log() { tail -n 4 "$1" 2>/dev/null | tr '\n' ' '; }
num() { local v; v=$(cat "$1" 2>/dev/null) && [[ $v =~ ^[0-9]+$ ]] && echo "$v"; }
# a counter file changed from $2 (and holds a number)
changed() { local v; v=$(num "$1") && [ "$v" != "$2" ]; }

# cycle NAME EXTERNAL(0|1) SETUP PROGRAM [--ignore-comm X]: the whole
# dump/restore cycle of one workload, whose root is $R. Hooks, each
# optional: NAME_ready (true once the workload has state; waited for up to
# 15 s), NAME_pre (before the dump), NAME_dumped (once the tree is gone),
# NAME_restored (right after the restore, before the slow snapshot: the
# first sign of life), NAME_after (the restored tree is $RPID, its snapshot
# $RSNAP).
cycle() {
	local name=$1 ext=$2 setup=$3 prog=$4 pids p left
	shift 4
	local ign=("$@") extargs=()
	[ "$ext" = 1 ] && extargs=(--external 'mnt[]')
	IMG=$WORK/img-$name
	BEFORE=$WORK/$name.before.json
	RSNAP=$WORK/$name.after.json
	RPID=""
	if ! CPID=$(start_container "$R" "$CLEAN$setup" "$prog"); then
		fail "$name-start" "container did not start: $(cat "$WORK/container.log")"
		return 1
	fi
	if ! wait_until 15 "${name}_ready"; then
		fail "$name-ready" "workload has no state after 15 s; /log: $(tail_log "$R/log") out: $(ls "$R/out" | tr '\n' ' ')"
		stop_task "$CPID"
		return 1
	fi
	ok "$name-running"
	declare -F "${name}_pre" >/dev/null && "${name}_pre"
	proc_snapshot "$CPID" "$BEFORE" "${ign[@]}"
	pids=$(tree_pids "$CPID")
	run_criu dump -t "$CPID" -D "$IMG" -v4 -o "$WORK/$name-dump.log" "${extargs[@]}"
	if [ "$RC" -ne 0 ]; then
		fail "$name-dump" "exit $RC: $OUT; log: $(tail_log "$WORK/$name-dump.log")"
		for p in tree-gone restore same-tree continues; do skip "$name-$p" "dump failed"; done
		stop_task "$CPID"
		return 1
	fi
	ok "$name-dump"
	if wait_until 3 gone $pids; then
		ok "$name-tree-gone"
	else
		left=$(for p in $pids; do [ -e /proc/$p ] && echo -n "$p "; done)
		fail "$name-tree-gone" "still there 3 s after dump: $left"
		stop_task "$CPID"
		for p in $pids; do while [ -e /proc/$p ]; do sleep 0.05; done; done
	fi
	declare -F "${name}_dumped" >/dev/null && "${name}_dumped"
	restore_ns "$IMG" --root "$R" "${extargs[@]}" -v4 -o "$WORK/$name-restore.log"
	if [ "$RC" -ne 0 ] || [ -z "$RPID" ]; then
		fail "$name-restore" "exit $RC, pidfile '${RPID}': $OUT; log: $(tail_log "$WORK/$name-restore.log")"
		for p in root-is-pid1 same-tree same-status same-maps same-fds continues; do
			skip "$name-$p" "restore failed"
		done
		[ -n "$RPID" ] && stop_task "$RPID"
		return 1
	fi
	ok "$name-restore"
	declare -F "${name}_restored" >/dev/null && "${name}_restored"
	local vpid
	vpid=$(awk '/^NSpid:/ {print $NF}' /proc/$RPID/status 2>/dev/null)
	expect "$name-root-is-pid1" [ "$vpid" = 1 ]
	proc_snapshot "$RPID" "$RSNAP" "${ign[@]}"
	for p in tree status maps fds; do
		same_procs "$name-same-$p" "$BEFORE" "$RSNAP" $p
	done
	declare -F "${name}_after" >/dev/null && "${name}_after"
	stop_task "$RPID"
}

# 1. busybox shell counter, pid 1 itself; usleep children come and go.
R=$(proc_root count)
count_ready() { [ "$(num "$R/tmp/count")" -ge 10 ]; }
count_dumped() { DUMPED=$(num "$R/tmp/count"); }
# the first value a restored counter writes: must follow the dumped one
first_count() {
	FIRST=""
	wait_until 5 changed "$1" "$DUMPED" && FIRST=$(num "$1")
}
# check_first NAME FILE: the counter went on from where it was dumped.
check_first() {
	if [ -z "$FIRST" ]; then
		fail "$1-continues" "counter stayed at '$(cat "$2")' for 5 s after restore (dumped at $DUMPED)"
	elif [ "$FIRST" -gt "$DUMPED" ] && [ "$FIRST" -le $((DUMPED + 3)) ]; then
		ok "$1-continues"
	else
		fail "$1-continues" "first value after restore is $FIRST, dumped at $DUMPED (reset?)"
	fi
	if [ -n "$FIRST" ]; then
		COUNTER=$2
		expect "$1-keeps-counting" wait_until 3 eval '[ "$(num "$COUNTER")" -gt "$FIRST" ]'
	fi
}
count_restored() { first_count "$R/tmp/count"; }
count_after() { check_first count "$R/tmp/count"; }
cycle count 0 "" "$REDIR"'i=0; while :; do i=$((i+1)); echo $i > /tmp/count; usleep 100000; done' \
	--ignore-comm usleep

# 2. threads: dynamically linked, the host's libraries bound in.
R=$(proc_root threads)
cp "$H/threads" "$R/threads"
LIBS=$(host_lib_setup "$R")
counters() { sed -n 's/^counters: //p' "$R/out/counters" 2>/dev/null; }
threads_ready() {
	local c
	[ -s "$R/out/tls" ] || return 1
	for c in $(counters); do [ "$c" -ge 200 ] || return 1; done
	[ -n "$(counters)" ]
}
threads_dumped() { DUMPED=$(counters); }
threads_restored() {
	FIRST=""
	wait_until 5 eval '[ -n "$(counters)" ] && [ "$(counters)" != "$DUMPED" ]' && FIRST=$(counters)
}
threads_after() {
	local i a b bad=""
	if [ -z "$FIRST" ]; then
		fail threads-continue "counters stayed '$(counters)' for 5 s after restore"
	else
		read -ra a <<<"$DUMPED"
		read -ra b <<<"$FIRST"
		for i in 0 1 2 3; do
			[ "${b[$i]:-0}" -ge "${a[$i]}" ] && [ "${b[$i]:-0}" -le $((a[i] + 1000)) ] ||
				bad="$bad counter $i: ${a[$i]} -> ${b[$i]:-none};"
		done
		if [ -z "$bad" ]; then ok threads-continue; else fail threads-continue "dumped '$DUMPED', then$bad"; fi
		read -ra a <<<"$(counters)"
		expect threads-all-running [ "${a[0]}" -gt "${b[0]}" ] && [ "${a[1]}" -gt "${b[1]}" ] &&
			[ "${a[2]}" -gt "${b[2]}" ] && [ "${a[3]}" -gt "${b[3]}" ]
	fi
	if grep -q BAD "$R/out/counters" "$R/out/bad" 2>/dev/null; then
		fail threads-tls-consistent "$(cat "$R/out/bad" | head -5 | tr '\n' ' ')"
	else
		ok threads-tls-consistent
	fi
	expect threads-not-restarted [ "$(wc -l <"$R/out/starts")" = 1 ]
}
cycle threads 1 "$LIBS" "$REDIR"'/threads /out & wait'

# 3. python3 counter: dynamic, the interpreter from the host's /usr.
R=$(proc_root python)
LIBS=$(host_lib_setup "$R")
cat >"$R/count.py" <<'EOF'
import os, time
with open("/out/starts", "a") as f:
    f.write("start %d\n" % os.getpid())
i = 0
while True:
    i += 1
    with open("/out/.count.tmp", "w") as f:
        f.write("%d\n" % i)
    os.rename("/out/.count.tmp", "/out/count")
    time.sleep(0.1)
EOF
python_ready() { [ "$(num "$R/out/count")" -ge 10 ]; }
python_dumped() { DUMPED=$(num "$R/out/count"); }
python_restored() { first_count "$R/out/count"; }
python_after() {
	check_first python "$R/out/count"
	expect python-not-restarted [ "$(wc -l <"$R/out/starts")" = 1 ]
}
cycle python 1 "$LIBS" "$REDIR"'/usr/bin/python3 /count.py & wait'

# 4. memory: 256 MiB of pattern, 64 MiB never touched, 16 MiB read-only.
R=$(proc_root memtest)
cp "$H/memtest-static" "$R/memtest"
memtest_ready() { [ -s "$R/out/ready" ]; }
# verify_round N: triggers a verification and waits for round N's result.
verify_round() {
	touch "$R/out/trigger"
	wait_until 15 grep -q "^round $1:" "$R/out/result"
}
memtest_pre() {
	if verify_round 1 && grep -q "verified OK" "$R/out/result"; then
		ok memtest-verified-before-dump
	else
		fail memtest-verified-before-dump "$(cat "$R/out/result" 2>/dev/null || echo no result)"
	fi
	expect memtest-untouched-not-resident-before grep -q "untouched-resident 0$" "$R/out/result"
}
memtest_after() {
	if ! verify_round 2; then
		fail memtest-verified-after-restore "no round 2 result within 15 s: $(cat "$R/out/result" 2>/dev/null)"
		return
	fi
	if grep -q "verified OK" "$R/out/result"; then
		ok memtest-verified-after-restore
	else
		fail memtest-verified-after-restore "$(cat "$R/out/result")"
	fi
	if grep -q "untouched-resident 0$" "$R/out/result"; then
		ok memtest-untouched-not-resident
	else
		fail memtest-untouched-not-resident "the never-touched 64 MiB is resident after restore: $(cat "$R/out/result")"
	fi
	expect memtest-not-restarted [ "$(wc -l <"$R/out/starts")" = 1 ]
}
cycle memtest 0 "" "$REDIR"'/memtest /out & wait'

# 5. pipetree: pipes with pending data, a zombie, a process group, a session.
R=$(proc_root pipetree)
cp "$H/pipetree-static" "$R/pipetree"
pipetree_ready() { [ -s "$R/out/ready" ] && [ -s "$R/out/child.ids" ] && [ -s "$R/out/grandchild.ids" ]; }
field() { sed -n "s/^$2 \([0-9a-f]*\).*/\1/p" "$1" | head -1; }
pipetree_pre() {
	local z
	z=$(field "$R/out/parent.ids" zombie)
	ZOMBIE_HOST=""
	for p in $(tree_pids "$CPID"); do
		[ "$(awk '/^NSpid:/ {print $NF}' /proc/$p/status)" = "$z" ] && ZOMBIE_HOST=$p
	done
	expect pipetree-zombie-before-dump grep -q '^State:.*Z' "/proc/${ZOMBIE_HOST:-none}/status"
}
pipetree_after() {
	local ppid host role from sent got
	ppid=$(field "$R/out/parent.ids" pid)
	host=$(snap_host "$ppid" "$RSNAP")
	if [ -z "$host" ]; then
		fail pipetree-signal "no process with virtual pid $ppid in the restored tree"
		return
	fi
	kill -USR1 "$host"
	if ! wait_until 5 eval '[ -s "$R/out/parent.result" ] && [ -s "$R/out/child.result" ] && [ -s "$R/out/grandchild.result" ]'; then
		fail pipetree-signal "not every process answered SIGUSR1 within 5 s: $(ls "$R/out" | tr '\n' ' ')"
	else
		ok pipetree-signal
	fi
	for role in parent:grandchild child:parent grandchild:child; do
		from=${role#*:}
		role=${role%:*}
		if [ "$(head -1 "$R/out/$role.result" 2>/dev/null)" = "$(head -1 "$R/out/$role.ids")" ]; then
			ok "pipetree-$role-ids"
		else
			fail "pipetree-$role-ids" "before: $(head -1 "$R/out/$role.ids"), after: $(head -1 "$R/out/$role.result" 2>/dev/null)"
		fi
		sent=$(sed -n 's/^sent /got /p' "$R/out/$from.ids")
		got=$(grep '^got ' "$R/out/$role.result" 2>/dev/null)
		if [ "$got" = "$sent" ]; then
			ok "pipetree-$role-pipe-data"
		else
			fail "pipetree-$role-pipe-data" "expected '$sent' (unread data from $from), read '${got:-nothing}'"
		fi
	done
	local z
	z=$(field "$R/out/parent.ids" zombie)
	if grep -q "^zombie $z waitpid $z status exited 7$" "$R/out/parent.result" 2>/dev/null; then
		ok pipetree-zombie-reaped
	else
		fail pipetree-zombie-reaped "zombie $z: $(grep zombie "$R/out/parent.result" 2>/dev/null)"
	fi
	expect pipetree-not-restarted [ "$(wc -l <"$R/out/starts")" = 3 ]
}
cycle pipetree 0 "" "$REDIR"'/pipetree /out & wait'

# 6. dump -R: the tree keeps running, untouched, and the images restore.
R=$(proc_root leave)
# the tree's pids but its short-lived usleep children, sorted. A child
# caught between fork and exec still says "sh", so a pid counts only if
# two samples 50 ms apart both see it and neither sees it as usleep.
lasting_sample() {
	local p
	for p in $(tree_pids "$1"); do
		[ "$(cat /proc/$p/comm 2>/dev/null)" = usleep ] || echo "$p"
	done | sort
}
lasting_pids() {
	local a
	a=$(lasting_sample "$1")
	sleep 0.05
	comm -12 <(echo "$a") <(lasting_sample "$1")
}
stopped_or_traced() {
	local p
	for p in "$@"; do
		grep -qE '^State:\s+[tT]' /proc/$p/status 2>/dev/null && echo -n "$p stopped "
		grep -qE '^TracerPid:\s+[1-9]' /proc/$p/status 2>/dev/null && echo -n "$p traced "
	done
}
if CPID=$(start_container "$R" "$CLEAN" "$REDIR"'i=0; while :; do i=$((i+1)); echo $i > /tmp/count; usleep 100000; done'); then
	wait_until 15 eval '[ "$(num "$R/tmp/count")" -ge 10 ]'
	proc_snapshot "$CPID" "$WORK/leave.before.json" --ignore-comm usleep
	pids=$(lasting_pids "$CPID")
	v1=$(num "$R/tmp/count")
	run_criu dump -t "$CPID" -D "$WORK/img-leave" -R -v4 -o "$WORK/leave-dump.log"
	v2=$(num "$R/tmp/count")
	if [ "$RC" -eq 0 ]; then ok leave-running-dump; else fail leave-running-dump "exit $RC: $OUT; log: $(tail_log "$WORK/leave-dump.log")"; fi
	expect leave-running-inventory [ -e "$WORK/img-leave/inventory.img" ]
	sleep 0.3
	if [ -e /proc/$CPID ] && [ "$(lasting_pids "$CPID")" = "$pids" ]; then
		ok leave-running-alive
	else
		fail leave-running-alive "tree before: $(echo $pids), after: $(echo $(tree_pids "$CPID"))"
	fi
	bad=$(stopped_or_traced $(tree_pids "$CPID"))
	if [ -z "$bad" ]; then ok leave-running-released; else fail leave-running-released "$bad"; fi
	expect leave-running-counts wait_until 3 eval '[ "$(num "$R/tmp/count")" -gt "$v2" ]'
	proc_snapshot "$CPID" "$WORK/leave.after.json" --ignore-comm usleep
	for p in tree status maps fds; do
		same_procs "leave-running-untouched-$p" "$WORK/leave.before.json" "$WORK/leave.after.json" $p
	done
	stop_task "$CPID"
	restore_ns "$WORK/img-leave" --root "$R" -v4 -o "$WORK/leave-restore.log"
	if [ "$RC" -eq 0 ] && [ -n "$RPID" ]; then
		ok leave-running-restore
		v3=$(num "$R/tmp/count")
		if wait_until 5 changed "$R/tmp/count" "$v3"; then
			v4=$(num "$R/tmp/count")
			# the images hold the counter as it was during the dump
			if [ "$v4" -gt "$v1" ] && [ "$v4" -le $((v2 + 3)) ]; then
				ok leave-running-restored-counter
			else
				fail leave-running-restored-counter "restored counter at $v4, dumped between $v1 and $v2"
			fi
		else
			fail leave-running-restored-counter "restored counter stays at $v3"
		fi
		stop_task "$RPID"
	else
		fail leave-running-restore "exit $RC: $OUT; log: $(tail_log "$WORK/leave-restore.log")"
	fi
else
	fail leave-running-start "container did not start"
fi

# 7. A dump that fails (a socket connected to a listener outside the tree)
#    exits non-zero, writes no inventory.img and leaves the tree as it was.
R=$(proc_root sockfail)
cp "$H/sockhold-static" "$R/sockhold"
SOCK=criu-e2e-$$-$RANDOM
"$PY" -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.bind("\0" + sys.argv[1])
s.listen(1)
open(sys.argv[2], "w").write("listening\n")
c, _ = s.accept()
time.sleep(3600)' "$SOCK" "$WORK/listening" &
echo $! >>"$PIDLIST"
disown $!  # killed at cleanup: no "Killed" notice
wait_until 5 [ -s "$WORK/listening" ]
if CPID=$(start_container "$R" "$CLEAN" "$REDIR"'/sockhold /out '"$SOCK"' & wait'); then
	if wait_until 15 eval '[ "$(num "$R/out/count")" -ge 5 ]'; then
		proc_snapshot "$CPID" "$WORK/sockfail.before.json"
		pids=$(tree_pids "$CPID" | sort)
		mkdir -p "$WORK/img-sockfail"
		run_criu dump -t "$CPID" -D "$WORK/img-sockfail" -v4 -o "$WORK/sockfail-dump.log"
		if [ "$RC" -ne 0 ]; then
			ok dump-failure-exits-nonzero
		else
			fail dump-failure-exits-nonzero "dump of a socket connected outside the tree succeeded: $OUT"
		fi
		expect dump-failure-no-inventory [ ! -e "$WORK/img-sockfail/inventory.img" ]
		sleep 0.3
		if [ "$(tree_pids "$CPID" | sort)" = "$pids" ]; then
			ok dump-failure-tree-alive
		else
			fail dump-failure-tree-alive "tree before: $(echo $pids), after: $(echo $(tree_pids "$CPID"))"
		fi
		bad=$(stopped_or_traced $pids)
		if [ -z "$bad" ]; then ok dump-failure-released; else fail dump-failure-released "$bad"; fi
		v=$(num "$R/out/count")
		expect dump-failure-keeps-running wait_until 3 eval '[ "$(num "$R/out/count")" -gt "$v" ]'
		proc_snapshot "$CPID" "$WORK/sockfail.after.json"
		for p in tree status maps fds; do
			same_procs "dump-failure-untouched-$p" "$WORK/sockfail.before.json" "$WORK/sockfail.after.json" $p
		done
	else
		fail dump-failure-start "workload did not count: $(tail_log "$R/log")"
	fi
	stop_task "$CPID"
else
	fail dump-failure-start "container did not start"
fi

# Nothing of any container or restored tree is left behind.
left=$(leftover_tasks "$WORK")
if [ -z "$left" ]; then ok no-leftover-tasks; else fail no-leftover-tasks "still running: $(echo $left)"; fi
finish

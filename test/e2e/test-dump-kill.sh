#!/bin/bash
# End-to-end: criu killed with SIGKILL in the middle of a dump without -R
# (the OOM killer, an operator, a node shutting down) must leave the
# workload running as it was: until inventory.img is committed nothing
# irreversible happens to the tree. The workload is memtest-static (a
# pattern over KILL_FILL_MB of memory, a read-only area, an area never
# touched) in a real container; criu is killed
#   - as memtest's pages start to go into the image, 0.05 s and 0.1 s
#     after that, and when its pages image is a quarter, half, three
#     quarters written and whole (the rest of the dump is left);
# then the workload must be running, neither stopped nor traced, and its
# own check of every byte must pass. (Not tried: the few microseconds of
# each syscall criu injects into a task, while the task's registers are
# criu's; a criu killed then takes that task along, see ptrace/inject.c.) Last, the explicit choice that risks
# it (--release-memory) is shown to do what its help says: memory is given
# back as it is dumped, so a criu killed then takes the tree along.
. "$(dirname "$0")/lib.sh"

H=$TOP/test/helpers
if [ ! -x "$H/memtest-static" ]; then
	fail helpers-built "$H/memtest-static is missing: run make all"
	finish
fi
FILL=${KILL_FILL_MB:-512}
REDIR='exec </dev/null >>/log 2>&1; '
CLEAN='for fd in /proc/self/fd/*; do fd=${fd##*/}; [ "$fd" -gt 2 ] && eval "exec $fd>&-"; done
	export PATH=/bin:$PATH
'
tail_log() { tail -n 4 "$1" 2>/dev/null | tr '\n' ' '; }

# state_of PID: "" when running free; else what is wrong with it.
state_of() {
	local p=$1
	[ -e "/proc/$p" ] || { echo "gone"; return; }
	grep -qE '^State:\s+[tTZX]' /proc/$p/status && echo -n "$(grep ^State: /proc/$p/status | tr -s '\t ' ' ') "
	grep -qE '^TracerPid:\s+[1-9]' /proc/$p/status && echo -n "traced by $(awk '/^TracerPid:/ {print $2}' /proc/$p/status) "
}

# start: memtest in a container, $R its root, $CPID its init, $MPID memtest.
start() {
	R=$WORK/root
	rm -rf "$R"
	make_rootfs "$R"
	mknod -m 666 "$R/dev/null" c 1 3
	mkdir -p "$R/out"
	: >"$R/log"
	cp "$H/memtest-static" "$R/memtest"
	if ! CPID=$(start_container "$R" "$CLEAN" "$REDIR/memtest /out $FILL 16 8 & wait"); then
		fail start "container did not start"
		return 1
	fi
	if ! wait_until 60 [ -s "$R/out/ready" ]; then
		fail start "memtest not ready: $(tail_log "$R/log")"
		stop_task "$CPID"
		return 1
	fi
	MPID=$(awk '{print $1}' /proc/$CPID/task/$CPID/children)
	ROUND=0
}

# the biggest pages image being written (a temporary name until commit)
pages_bytes() {
	local f
	f=$(ls -S "$1"/.pages-*.tmp.* "$1"/pages-*.img 2>/dev/null | head -n 1)
	[ -n "$f" ] && stat -c %s "$f" || echo 0
}

# killed_at NAME HOW ARG [DELAY [DUMP-ARGS...]]: starts a dump without -R
# and kills criu with SIGKILL when HOW says, DELAY seconds later: "bytes
# N" (a pages image has N bytes).
# Sets KILLED to what was seen when it was killed ("" if the dump ended
# first).
killed_at() {
	local name=$1 how=$2 arg=$3 delay=${4:-0} dir=$WORK/img-$1 pid i
	shift 3
	[ $# -gt 0 ] && shift
	rm -rf "$dir"
	mkdir -p "$dir"
	"$CRIU" dump -t "$CPID" -D "$dir" -v4 -o "$WORK/$name.log" "$@" >"$WORK/$name.out" 2>&1 &
	pid=$!
	KILLED=
	case $how in
	bytes) for ((i = 0; i < 6000; i++)); do
			[ "$(pages_bytes "$dir")" -ge "$arg" ] && break
			kill -0 $pid 2>/dev/null || break
			sleep 0.005
		done ;;
	esac
	[ "$delay" = 0 ] || sleep "$delay"
	kill -KILL $pid 2>/dev/null && KILLED=yes
	{ wait $pid; } 2>/dev/null # no "Killed" job notice
	[ -n "$KILLED" ] &&
		KILLED="pages image at $(pages_bytes "$dir") bytes; last log line: $(tail -n 1 "$WORK/$name.log" 2>/dev/null)"
	[ -e "$dir/inventory.img" ] && KILLED=
	return 0
}

# survived NAME: the workload runs on as it was, every byte verified.
survived() {
	local name=$1 s
	if [ -z "$KILLED" ]; then
		skip "$name-killed" "the dump was over before criu was killed"
		stop_task "$CPID"
		return 1
	else
		ok "$name-killed"
		echo "   ($name: killed with the $KILLED)"
	fi
	# the kernel detaches a dead tracer's tracees at once; give it a moment
	wait_until 2 eval '[ -z "$(state_of $MPID)$(state_of $CPID)" ]'
	s="$(state_of "$MPID")"
	if [ -z "$s$(state_of "$CPID")" ]; then
		ok "$name-runs-on"
	else
		fail "$name-runs-on" "memtest: ${s:-fine}; container init: $(state_of "$CPID"); criu's log ended: $(tail -n 3 "$WORK/$name.log" | tr '\n' ' ')"
		return 1
	fi
	verified "$name-verified"
}

MIB=1048576
start
for d in 0 0.05 0.1; do
	[ -e "/proc/$MPID" ] || break
	killed_at "pages+$d" bytes $((4 * MIB)) "$d"
	survived "pages+$d" || start || break
done
for q in 1 2 3 4; do
	[ -e "/proc/$MPID" ] || break
	killed_at "pages-$q-4" bytes $((FILL * MIB * q / 4))
	survived "pages-$q-4" || start || break
done
[ -e "/proc/$MPID" ] && verified untouched-at-end

# The explicit choice: memory is given back as it is dumped (the log says
# so); killed then, criu takes the tree along, as --help warns.
if [ -e "/proc/$MPID" ]; then
	killed_at release-memory bytes $((FILL * MIB / 2)) 0 --release-memory
	if [ -n "$KILLED" ] && grep -q "memory is released as it is dumped" "$WORK/release-memory.log"; then
		ok release-memory-gives-back
	elif [ -n "$KILLED" ]; then
		fail release-memory-gives-back "no page given back before criu was killed: $(tail_log "$WORK/release-memory.log")"
	else
		skip release-memory-gives-back "the dump was over before criu was killed"
	fi
	if [ -n "$KILLED" ]; then
		expect release-memory-tree-killed wait_until 5 gone "$MPID"
	fi
fi
stop_task "$CPID"

left=$(leftover_tasks "$WORK")
if [ -z "$left" ]; then ok no-leftover-tasks; else fail no-leftover-tasks "still running: $(echo $left)"; fi
finish

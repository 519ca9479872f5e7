# Shared helpers for end-to-end tests. Each test script sources this file.
#
# Every test runs inside its own private mount namespace ("the sandbox",
# entered by re-executing the script under unshare), which stands in for the
# host: host directories, shared host mounts and the containers' mounts are
# all made there, so nothing a test does is visible outside and everything
# goes away with the sandbox, even when a test fails half-way.
#
# Output protocol (counted by test/run.sh): "ok NAME", "not ok NAME: why",
# "skip NAME: why".

set -u
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CRIU=${CRIU:-$TOP/criu/criu}
FAILED=0

if [ -z "${CRIU_E2E_SANDBOX:-}" ]; then
	export CRIU_E2E_SANDBOX=1
	exec unshare --mount --propagation private -- "$BASH" "$0" "$@"
fi

WORK=$(mktemp -d /tmp/criu-e2e.XXXXXX)
# The sandbox's own tmpfs, so that host paths of the tests live on a
# filesystem the test owns.
mount -t tmpfs -o mode=755 criu-e2e "$WORK"
# PIDs of every process a test started that may outlive it (unshare and the
# container init it forked), one per line. A file, because start_container
# runs in a command substitution, whose variables die with it.
PIDLIST=$(mktemp /tmp/criu-e2e-pids.XXXXXX)

cleanup() {
	local p pids
	pids=$(cat "$PIDLIST")
	# the init of a pid namespace takes every task of it along when killed
	for p in $pids; do kill -KILL "$p" 2>/dev/null; done
	for p in $pids; do
		while kill -0 "$p" 2>/dev/null; do sleep 0.05; done
	done
	rm -f "$PIDLIST"
	umount -R "$WORK" 2>/dev/null
	rmdir "$WORK" 2>/dev/null
}
trap cleanup EXIT

ok() { echo "ok $1"; }
fail() {
	echo "not ok $1: $2"
	FAILED=1
}
skip() { echo "skip $1: $2"; }

# make_rootfs DIR: a minimal root from Debian's busybox-static.
make_rootfs() {
	local d=$1
	mkdir -p "$d"/{bin,proc,sys,dev,tmp,etc,oldroot}
	cp /bin/busybox "$d/bin/busybox"
	for c in sh sleep cat echo ls mount umount mkdir chroot pivot_root kill true seq; do
		ln -sf busybox "$d/bin/$c"
	done
}

# start_container ROOTFS SETUP [PROGRAM]
# Starts a container: new mount, pid, uts and ipc namespaces; runs SETUP
# (bash, with $ROOT set, before the root switch: make mounts below $ROOT
# there), then bind-mounts ROOTFS onto itself, pivot_roots into it and runs
# PROGRAM (busybox sh; default: sleep forever). The sandbox is private, so
# the container's copies of its mounts are private too, except mounts a test
# made shared on purpose. Prints the PID (as seen from
# the sandbox) of the container's init, whose root is ROOTFS.
# UNSHARE_EXTRA: more unshare(1) options (e.g. --net).
start_container() {
	local root=$1 setup=$2 prog=${3:-"while :; do sleep 1; done"}
	ROOT=$root unshare ${UNSHARE_EXTRA:-} --mount --pid --uts --ipc --fork --propagation unchanged -- bash -c '
		set -e
		mount --bind "$ROOT" "$ROOT"
		'"$setup"'
		exec 3<>/dev/null
		cd "$ROOT"
		pivot_root . oldroot
		umount -l /oldroot
		exec /bin/sh -c "$0" <&3 >&3 2>&3 3>&-
	' "$prog" >"$WORK/container.log" 2>&1 &
	local ushare=$!
	local child=""
	echo "$ushare" >>"$PIDLIST"
	for _ in $(seq 1 200); do
		child=$(cat /proc/$ushare/task/$ushare/children 2>/dev/null | awk '{print $1}')
		if [ -n "$child" ] && [ "$(readlink /proc/$child/root 2>/dev/null)" = "/" ] &&
		   [ "$(readlink /proc/$child/exe 2>/dev/null)" = "/bin/busybox" ]; then
			break
		fi
		sleep 0.05
	done
	[ -n "$child" ] && echo "$child" >>"$PIDLIST"
	[ -n "$child" ] || { echo "container did not start: $(cat "$WORK/container.log")" >&2; return 1; }
	echo "$child"
}

# start_pidns_holder: a pid namespace whose init reaps (as runc's pause
# does), for trees put into an external pid namespace. Sets U (the
# unshare) and PH (the namespace's init, which takes its tasks along).
start_pidns_holder() {
	unshare --pid --fork --mount-proc bash -c 'while :; do sleep 1; done' </dev/null >/dev/null 2>&1 &
	U=$!
	disown "$U"
	echo "$U" >>"$PIDLIST"
	wait_until 5 eval '[ -n "$(cat /proc/$U/task/$U/children 2>/dev/null)" ]'
	PH=$(tr -d ' ' </proc/$U/task/$U/children)
	echo "$PH" >>"$PIDLIST"
}

# Runs criu, capturing stdout+stderr in $OUT and the exit code in $RC.
run_criu() {
	OUT=$("$CRIU" "$@" 2>&1)
	RC=$?
}

# expect NAME CONDITION-DESCRIPTION COMMAND...: ok if COMMAND succeeds.
expect() {
	local name=$1
	shift
	if "$@"; then ok "$name"; else fail "$name" "command failed: $* ; criu said: ${OUT:-}"; fi
}

not() { ! "$@"; }
contains() { grep -qF -- "$2" <<<"$1"; }

finish() {
	exit $FAILED
}

# verified NAME: a helper that checks its memory on demand (memtest-static,
# shmem-static: $R/out/trigger, then "round N: ..." in $R/out/result)
# checks every byte again; ok when all are right and the never-touched
# area is still not resident. ROUND counts the rounds asked for.
ROUND=0
verified() {
	ROUND=$((ROUND + 1))
	touch "$R/out/trigger"
	if ! wait_until 15 grep -q "^round $ROUND:" "$R/out/result"; then
		fail "$1" "no round $ROUND result: $(cat "$R/out/result" 2>/dev/null)"
	elif grep -q "^round $ROUND: verified OK untouched-resident 0$" "$R/out/result"; then
		ok "$1"
	else
		fail "$1" "$(cat "$R/out/result")"
	fi
}

# restore_ns IMGDIR ARGS...: runs criu restore -d with a pidfile; on success
# sets RPID to the task holding the restored namespaces (killed at cleanup).
restore_ns() {
	local img=$1
	shift
	rm -f "$WORK/rpid"
	run_criu restore -D "$img" -d --pidfile "$WORK/rpid" "$@"
	RPID=$(cat "$WORK/rpid" 2>/dev/null)
	[ -n "$RPID" ] && echo "$RPID" >>"$PIDLIST"
	[ "$RC" -eq 0 ] && [ -n "$RPID" ]
}

# Kills a container or restored task (the init of its pid namespace) and
# waits until it is gone.
stop_task() {
	kill -KILL "$1" 2>/dev/null
	while kill -0 "$1" 2>/dev/null; do sleep 0.05; done
}

# same_mounts NAME DUMPED_MOUNTINFO_FILE PID [OLD=NEW...]: the restored
# namespace of PID has the same tree, roots, flags and propagation.
same_mounts() {
	local name=$1 before=$2 pid=$3 diff
	shift 3
	diff=$(python3 "$TOP/test/e2e/mntcmp.py" "$before" /proc/$pid/mountinfo "$@" 2>&1)
	if [ $? -eq 0 ]; then ok "$name"; else fail "$name" "$diff"; fi
}

# The sandbox's ("host's") own mountinfo, without mount ids of nothing: used
# to prove a failed restore left nothing mounted.
host_mounts() { cut -d' ' -f1-10 /proc/self/mountinfo; }
# the placeholder renames itself (comm), its command line stays criu's
placeholders() { pgrep -c -x criu-nsholder || true; }

# --- process checkpoint/restore helpers ---

# wait_until SECONDS COMMAND...: polls COMMAND every 50 ms; fails on timeout.
wait_until() {
	local t=$1 i
	shift
	for ((i = 0; i < t * 20; i++)); do
		"$@" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

# host_lib_setup ROOTFS: prepares ROOTFS for dynamically linked programs and
# prints a start_container SETUP snippet binding the host's /usr (and /lib,
# /lib64 when they are directories) read-only into it. Symlinks such as a
# merged /lib -> usr/lib are copied as symlinks. The binds are external
# mounts: dump and restore them with --external 'mnt[]'.
host_lib_setup() {
	local root=$1 d
	for d in usr lib lib64; do
		[ -e "/$d" ] || continue
		if [ -L "/$d" ]; then
			ln -sfn "$(readlink "/$d")" "$root/$d"
		else
			mkdir -p "$root/$d"
			echo "mount --bind /$d \"\$ROOT/$d\"; mount -o remount,bind,ro \"\$ROOT/$d\""
		fi
	done
}

# tree_pids PID: PID and all its descendants (host pids), one a line.
tree_pids() {
	local p c
	for p in "$@"; do
		echo "$p"
		for c in $(cat /proc/"$p"/task/*/children 2>/dev/null); do tree_pids "$c"; done
	done
}

# gone PID...: none of the PIDs exists (zombies count as gone only once reaped).
gone() {
	local p
	for p in "$@"; do [ -e "/proc/$p" ] && return 1; done
	return 0
}

# proc_snapshot PID FILE [--ignore-comm NAME...]: a snapshot of the tree of
# PID (test/e2e/procsnap.py) taken twice in a row until two agree, so that a
# transient state (an fd open for a moment) is not what gets compared.
proc_snapshot() {
	local pid=$1 file=$2 i
	shift 2
	"${PY:-python3}" "$TOP/test/e2e/procsnap.py" snap "$pid" "$file" "$@" || return 1
	for i in 1 2 3 4 5 6 7 8 9 10; do
		sleep 0.05
		"${PY:-python3}" "$TOP/test/e2e/procsnap.py" snap "$pid" "$file.2" "$@" || return 1
		if "${PY:-python3}" "$TOP/test/e2e/procsnap.py" same "$file" "$file.2"; then
			rm -f "$file.2"
			return 0
		fi
		mv "$file.2" "$file"
	done
	return 0
}

# same_procs NAME BEFORE AFTER SECTION: ok when the two snapshots agree on
# SECTION (tree, status, maps or fds); else the differences are the why.
same_procs() {
	local diff
	diff=$("${PY:-python3}" "$TOP/test/e2e/procsnap.py" cmp "$2" "$3" "$4" 2>&1)
	if [ $? -eq 0 ]; then ok "$1"; else fail "$1" "$diff"; fi
}

# snap_host VPID SNAPSHOT: the host pid of the process VPID of a snapshot.
snap_host() { "${PY:-python3}" "$TOP/test/e2e/procsnap.py" host "$1" "$2"; }

# leftover_tasks DIR: pids of processes whose root is DIR or below it.
leftover_tasks() {
	local p r
	for p in /proc/[0-9]*; do
		r=$(readlink "$p/root" 2>/dev/null) || continue
		case "$r" in "$1" | "$1"/*) echo "${p#/proc/}" ;; esac
	done
}

# The python3 for the test's own scripts: the system one when there is one
# (a pyenv shim on PATH costs a shell script per call; procsnap.py is called
# a few hundred times).
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3

# become_subreaper "$@" (at the top of a script, after sourcing lib.sh):
# runs the script again as a child subreaper (prctl survives exec), so that
# the orphans of the trees it dumps are reparented to it and reaped: a
# zombie still holds its pid, which a restore with the same pids needs free.
become_subreaper() {
	[ -n "${CRIU_E2E_SUBREAPER:-}" ] && return 0
	export CRIU_E2E_SUBREAPER=1
	trap - EXIT
	rm -f "$PIDLIST"
	umount "$WORK" && rmdir "$WORK"
	exec "$PY" -c 'import ctypes, os, sys
ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
os.execv(sys.argv[1], sys.argv[1:])' "$BASH" "$0" "$@"
}

# --- state cases (test/helpers/state-*-static, built on statecheck.h) ---

# state_rootfs: the busybox root the state cases of a script run in ($R).
state_rootfs() {
	R=$WORK/state-root
	make_rootfs "$R"
	mknod -m 666 "$R/dev/null" c 1 3
}

# state_case HELPER CASE WANT: runs test/helpers/HELPER's CASE as the child
# of a container's init ($R from state_rootfs), checks its state (round 1),
# dumps it and:
#   WANT=same          restores it; round 2 must find the state as it was.
#   WANT=refused:TEXT  the dump must fail saying TEXT, and leave the
#                      workload running with its state as it was (round 2).
# STATE_DUMP_ARGS / STATE_RESTORE_ARGS: more criu options (word-split).
# UNSHARE_EXTRA as for start_container. Prints ok/not ok lines named
# CASE-... and returns non-zero when a step failed. After it, $CPID / $RPID
# are gone: every task it started is stopped.
state_case() {
	local helper=$1 name=$2 want=$3 out=/out-$2 cpid round=0 step
	local -a dargs=() rargs=()
	read -r -a dargs <<<"${STATE_DUMP_ARGS:-}"
	read -r -a rargs <<<"${STATE_RESTORE_ARGS:-}"
	RPID=
	cp "$TOP/test/helpers/$helper" "$R/$helper"
	rm -rf "${R:?}$out"
	mkdir -p "$R$out"
	_state_round() { # NAME: one round, ok when the state is as it was
		round=$((round + 1))
		touch "$R$out/trigger"
		if ! wait_until 20 grep -q "^round $round:" "$R$out/result"; then
			fail "$1" "no round $round result: $(cat "$R$out/result" "$R$out/setup-failed" 2>/dev/null)"
			return 1
		elif grep -q "^round $round: verified OK" "$R$out/result"; then
			ok "$1"
		else
			fail "$1" "$(cat "$R$out/result")"
			return 1
		fi
	}
	if ! cpid=$(start_container "$R" "" "exec </dev/null >/dev/null 2>$out/stderr; /$helper $out $name & wait"); then
		fail "$name-start" "container did not start"
		return 1
	fi
	if ! wait_until 20 test -e "$R$out/ready"; then
		fail "$name-setup" "not ready: $(cat "$R$out/setup-failed" "$R$out/stderr" 2>/dev/null)"
		stop_task "$cpid"
		return 1
	fi
	_state_round "$name-state-before-dump" || { stop_task "$cpid"; return 1; }
	run_criu dump -t "$cpid" -D "$WORK/img-$name" "${dargs[@]}"
	case $want in
	refused:*)
		step=0
		if [ "$RC" -ne 0 ] && contains "$OUT" "${want#refused:}"; then
			ok "$name-refused-at-dump"
		else
			fail "$name-refused-at-dump" "rc $RC, want a refusal saying '${want#refused:}'; criu said: $OUT"
			step=1
		fi
		if kill -0 "$cpid" 2>/dev/null; then
			_state_round "$name-state-kept-after-refusal" || step=1
		else
			fail "$name-state-kept-after-refusal" "the workload is gone"
			step=1
		fi
		stop_task "$cpid"
		return $step
		;;
	esac
	if [ "$RC" -ne 0 ]; then
		fail "$name-dump" "rc $RC: $OUT"
		stop_task "$cpid"
		return 1
	fi
	ok "$name-dump"
	stop_task "$cpid"
	if ! restore_ns "$WORK/img-$name" --root "$R" "${rargs[@]}"; then
		fail "$name-restore" "rc $RC: $OUT"
		[ -n "$RPID" ] && stop_task "$RPID"
		return 1
	fi
	ok "$name-restore"
	step=0
	_state_round "$name-state-after-restore" || step=1
	stop_task "$RPID"
	return $step
}

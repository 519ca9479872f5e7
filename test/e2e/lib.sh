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
start_container() {
	local root=$1 setup=$2 prog=${3:-"while :; do sleep 1; done"}
	ROOT=$root unshare --mount --pid --uts --ipc --fork --propagation unchanged -- bash -c '
		set -e
		mount --bind "$ROOT" "$ROOT"
		'"$setup"'
		cd "$ROOT"
		pivot_root . oldroot
		umount -l /oldroot
		exec /bin/sh -c "$0"
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

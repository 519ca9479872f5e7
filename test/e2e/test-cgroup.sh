#!/bin/bash
# End-to-end: cgroups (cgroup.img, --manage-cgroups, --cgroup-root) on the
# real hierarchies of this machine: v1 controllers (pids, cpu), a named v1
# hierarchy (name=systemd) and the v2 one, wherever they are writable.
#
# A container's init sits in a test cgroup T, one child in T/a and one in
# T/b, each with settings of its own (pids.max, cpu.shares, the v2
# cgroup.max.descendants). Dumped, its cgroups deleted, it is restored:
#  - by default (soft): every task back in its cgroup, the cgroups made
#    again with their settings;
#  - --manage-cgroups=full --cgroup-root /NEW: T becomes NEW, a and b
#    follow below it; a cgroup that exists gets its settings written;
#  - soft into an existing cgroup: its settings are left as they are;
#  - none with the cgroups missing, and a --cgroup-root naming no
#    hierarchy: refused with a clear message, nothing made, no task left
#    (at dump: refused, the container runs on).
# A container with a cgroup namespace of its own rooted at T reads the
# same /proc/self/cgroup inside before and after, also restored under
# another root. Every cgroup is removed at the end, also on failure.
. "$(dirname "$0")/lib.sh"
[ -n "${CG_TRACE:-}" ] && set -x

CG=/sys/fs/cgroup
T=criu-e2e-cg-$$
N=criu-e2e-cgnew-$$
HIERS=()
for h in pids cpu systemd unified; do
	[ -w "$CG/$h/cgroup.procs" ] && HIERS+=("$h")
done
if [ ${#HIERS[@]} -eq 0 ]; then
	skip cgroup "no writable cgroup hierarchy under $CG"
	finish
fi

# every cgroup made here, deepest first
rm_tree() { # HIER PATH: kills what is in it and removes it, children first
	local d=$CG/$1/$2 sub p
	[ -d "$d" ] || return 0
	for sub in $(find "$d" -mindepth 1 -type d | sort -r); do rm_tree "$1" "${sub#$CG/$1/}"; done
	for p in $(cat "$d/cgroup.procs" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
	for _ in $(seq 100); do rmdir "$d" 2>/dev/null && return 0; sleep 0.05; done
}
# criu may make N in every hierarchy (--cgroup-root without a controller)
ALL_HIERS=()
for h in "$CG"/*/; do
	h=${h%/}
	[ -e "$h/cgroup.procs" ] && ALL_HIERS+=("${h##*/}")
done
cleanup_cgroups() {
	local h
	for h in "${ALL_HIERS[@]}"; do rm_tree "$h" "$T"; rm_tree "$h" "$N"; done
}
trap 'cleanup; cleanup_cgroups' EXIT
# all cgroups of the test gone (after the tasks in them)
remove_cgroups() {
	local h
	cleanup_cgroups
	for h in "${ALL_HIERS[@]}"; do [ ! -d "$CG/$h/$T" ] && [ ! -d "$CG/$h/$N" ] || return 1; done
}
has() { [ -e "$CG/$1/$2" ]; }
# the settings each cgroup gets
set_props() { # PREFIX
	local p=$1
	if has pids "$p"; then
		echo 100 >"$CG/pids/$p/pids.max"
		echo 50 >"$CG/pids/$p/a/pids.max"
		echo 20 >"$CG/pids/$p/b/pids.max"
	fi
	if has cpu "$p"; then
		echo 512 >"$CG/cpu/$p/a/cpu.shares"
		echo 256 >"$CG/cpu/$p/b/cpu.shares"
	fi
	if has unified "$p"; then
		echo 7 >"$CG/unified/$p/a/cgroup.max.descendants"
	fi
}
# "prop-check PREFIX": the settings of set_props are there
props_are() {
	local p=$1
	if has pids "$p"; then
		[ "$(cat "$CG/pids/$p/pids.max")" = 100 ] && [ "$(cat "$CG/pids/$p/a/pids.max")" = 50 ] &&
			[ "$(cat "$CG/pids/$p/b/pids.max")" = 20 ] || return 1
	fi
	if has cpu "$p"; then
		[ "$(cat "$CG/cpu/$p/a/cpu.shares")" = 512 ] && [ "$(cat "$CG/cpu/$p/b/cpu.shares")" = 256 ] || return 1
	fi
	if has unified "$p"; then
		[ "$(cat "$CG/unified/$p/a/cgroup.max.descendants")" = 7 ] || return 1
	fi
	return 0
}
# in_cgroup PID PATH: in every test hierarchy, PID is in PATH
in_cgroup() {
	local pid=$1 path=$2 h name
	for h in "${HIERS[@]}"; do
		case $h in
		unified) name="" ;;
		systemd) name="name=systemd" ;;
		*) name=$(awk -F: -v h="$h" '{ n = split($2, c, ","); for (i = 1; i <= n; i++) if (c[i] == h) print $2 }' /proc/$pid/cgroup) ;;
		esac
		grep -qx "[0-9]*:$name:$path" /proc/$pid/cgroup || {
			echo "process $pid: not in $path of $h: $(cat /proc/$pid/cgroup | tr '\n' ' ')" >&2
			return 1
		}
	done
}

R=$WORK/root
make_rootfs "$R"
ln -sf busybox "$R/bin/usleep"
mknod -m 666 "$R/dev/null" c 1 3
# init counts; two sleepers to be put in a and b
# the sleepers' durations are this run's own, so that no other test's
# processes are taken for them
SA=$((2000000 + ($$ % 1000000) * 2))
SB=$((SA + 1))
PROG='exec </dev/null >/dev/null 2>&1; (exec sleep '$SA') & (exec sleep '$SB') & n=0; while :; do n=$((n+1)); echo $n >/tmp/count; usleep 50000; done'

# the init's children running sleep N
sleeper() { # INIT N
	local c
	for c in $(cat /proc/$1/task/*/children); do
		[ "$(cat /proc/$c/comm 2>/dev/null)" = sleep ] && grep -q "$2" /proc/$c/cmdline 2>/dev/null && echo "$c"
	done
}

has_sleepers() { [ -n "$(sleeper "$1" "$SA")" ] && [ -n "$(sleeper "$1" "$SB")" ]; }

# start CGNS: a container in T (own cgroup namespace there if CGNS=1),
# its sleepers in T/a and T/b; sets CPID
start() {
	local h
	for h in "${HIERS[@]}"; do mkdir -p "$CG/$h/$T/a" "$CG/$h/$T/b"; done
	set_props "$T"
	CPID=$(
		for h in "${HIERS[@]}"; do echo $BASHPID >"$CG/$h/$T/cgroup.procs"; done
		[ "$1" = 1 ] && export UNSHARE_EXTRA=--cgroup
		start_container "$R" "" "$PROG"
	) || return 1
	wait_until 10 test -s "$R/tmp/count" || return 1
	wait_until 5 has_sleepers "$CPID" || return 1
	S1=$(sleeper "$CPID" "$SA")
	S2=$(sleeper "$CPID" "$SB")
	for h in "${HIERS[@]}"; do
		echo "$S1" >"$CG/$h/$T/a/cgroup.procs" && echo "$S2" >"$CG/$h/$T/b/cgroup.procs" || return 1
	done
}
counting() {
	local a b
	a=$(cat "$R/tmp/count" 2>/dev/null)
	sleep 0.3
	b=$(cat "$R/tmp/count" 2>/dev/null)
	[ -n "$a" ] && [ -n "$b" ] && [ "$b" -gt "$a" ]
}
# placed NAME ROOTPID PREFIX: the restored tree's tasks are in PREFIX, PREFIX/a, PREFIX/b
placed() {
	local s1 s2
	s1=$(sleeper "$2" "$SA")
	s2=$(sleeper "$2" "$SB")
	expect "$1" bash -c "[ -n '$s1' ] && [ -n '$s2' ]" &&
		expect "$1-root" in_cgroup "$2" "/$3" &&
		expect "$1-a" in_cgroup "$s1" "/$3/a" &&
		expect "$1-b" in_cgroup "$s2" "/$3/b"
}
rst() { restore_ns "$1" --root "$R" "${@:2}"; }
restart() { # kills the restored tree, removes the cgroups
	[ -n "${RPID:-}" ] && stop_task "$RPID"
	RPID=
	remove_cgroups
}

# --- dump ---------------------------------------------------------------
if ! start 0; then
	fail start "the container did not start in its cgroups"
	finish
fi
run_criu dump -t "$CPID" -D "$WORK/img-bad" --cgroup-root nosuchcontroller:/x
expect dump-bad-root-refused [ "$RC" -ne 0 ]
expect dump-bad-root-message contains "$OUT" "names no cgroup hierarchy"
expect dump-bad-root-runs-on wait_until 5 counting
IMG=$WORK/img
run_criu dump -t "$CPID" -D "$IMG"
expect dump [ "$RC" -eq 0 ]
expect dump-cgroup-img test -s "$IMG/cgroup.img"
run_criu show -f "$IMG/cgroup.img"
expect show-cgroup-img contains "$OUT" "$T"
expect dump-killed wait_until 5 not kill -0 "$CPID"
expect dump-cgroups-deleted remove_cgroups

# --- default (soft): made again with their settings ---------------------
if rst "$IMG"; then
	ok restore-soft
	placed soft "$RPID" "$T"
	expect soft-props props_are "$T"
	expect soft-counting wait_until 5 counting
else
	fail restore-soft "criu said: $OUT"
fi
restart

# --- bad input: nothing made, no task ------------------------------------
rst "$IMG" --cgroup-root nosuchcontroller:/x
expect bad-root-refused [ "$RC" -ne 0 ]
expect bad-root-message contains "$OUT" "names no cgroup hierarchy"
expect bad-root-nothing-made bash -c "! ls -d $CG/*/$T 2>/dev/null | grep -q ."
expect bad-root-no-task bash -c "! pgrep -f '^sleep ($SA|$SB)\$' >/dev/null"
rst "$IMG" --manage-cgroups=none
expect none-missing-refused [ "$RC" -ne 0 ]
expect none-missing-message contains "$OUT" "is missing"
expect none-nothing-made bash -c "! ls -d $CG/*/$T 2>/dev/null | grep -q ."
rst "$IMG" --manage-cgroups=bogus
expect bad-mode-refused contains "$OUT" "unknown mode"
# a --pidfile that can't be written: the tree killed, the cgroups made removed
run_criu restore -D "$IMG" -d --root "$R" --pidfile "$WORK/no-such-dir/pid"
expect bad-pidfile-refused [ "$RC" -ne 0 ]
expect bad-pidfile-nothing-left bash -c "! ls -d $CG/*/$T 2>/dev/null | grep -q ."
expect bad-pidfile-no-task bash -c "! pgrep -f '^sleep ($SA|$SB)\$' >/dev/null"
restart

# --- full under a new root: existing cgroups get their settings too -----
for h in "${HIERS[@]}"; do mkdir -p "$CG/$h/$N/a"; done
has pids "$N" && echo max >"$CG/pids/$N/a/pids.max"
if rst "$IMG" --manage-cgroups=full --cgroup-root "/$N"; then
	ok restore-full-new-root
	placed full "$RPID" "$N"
	expect full-props props_are "$N"
	expect full-old-root-unused bash -c "! ls -d $CG/*/$T 2>/dev/null | grep -q ."
	expect full-counting wait_until 5 counting
else
	fail restore-full-new-root "criu said: $OUT"
fi
restart

# --- a crafted cgroup.img naming cgroup.kill: never written, even into an
# existing cgroup with --manage-cgroups=full (it would kill what is there) --
if [ -w "$CG/unified/cgroup.procs" ] && command -v crit >/dev/null; then
	CR=$WORK/img-crafted
	cp -a "$IMG" "$CR"
	crit decode -i "$IMG/cgroup.img" | python3 -c '
import json, sys
d = json.load(sys.stdin)
for c in d["entries"][0]["controllers"]:
    if c.get("cnames") == [""]:
        for x in c.get("dirs", []):
            x.setdefault("properties", []).append({"name": "cgroup.kill", "value": "1"})
json.dump(d, sys.stdout)' | crit encode -o "$CR/cgroup.img"
	mkdir -p "$CG/unified/$N"
	sleep 100009 </dev/null >/dev/null 2>&1 &
	VICTIM=$!
	disown "$VICTIM"
	echo "$VICTIM" >>"$PIDLIST"
	echo "$VICTIM" >"$CG/unified/$N/cgroup.procs"
	if rst "$CR" --manage-cgroups=full --cgroup-root "/$N"; then
		ok crafted-kill-restore
		expect crafted-kill-warned contains "$OUT" "cgroup.kill is no setting dump saves"
		expect crafted-kill-victim-alive kill -0 "$VICTIM"
		expect crafted-kill-tree-alive kill -0 "$RPID"
	else
		fail crafted-kill-restore "criu said: $OUT"
	fi
	kill -KILL "$VICTIM" 2>/dev/null
	restart
else
	skip crafted-kill "no writable v2 hierarchy or no crit"
fi

# --- soft into an existing cgroup: its settings stay ---------------------
for h in "${HIERS[@]}"; do mkdir -p "$CG/$h/$N/a"; done
if has pids "$N"; then
	echo 33 >"$CG/pids/$N/a/pids.max"
	if rst "$IMG" --manage-cgroups --cgroup-root "/$N"; then
		placed soft-existing "$RPID" "$N"
		expect soft-existing-kept [ "$(cat "$CG/pids/$N/a/pids.max")" = 33 ]
		expect soft-made-set [ "$(cat "$CG/pids/$N/b/pids.max")" = 20 ]
	else
		fail soft-existing "criu said: $OUT"
	fi
	restart
fi

# --- a per-controller root (cpu only): the others stay where they were ---
if has cpu "$T" || [ -w "$CG/cpu/cgroup.procs" ]; then
	if rst "$IMG" --cgroup-root "cpu:/$N"; then
		s1=$(sleeper "$RPID" "$SA")
		expect cpu-root-moved grep -qx "[0-9]*:cpu:/$N/a" /proc/$s1/cgroup
		expect cpu-root-others grep -qx "[0-9]*:pids:/$T/a" /proc/$s1/cgroup
	else
		fail cpu-root "criu said: $OUT"
	fi
	restart
fi

# start_threads HIER NAME: the threads helper as pid 1 of a pid namespace,
# in cgroup T of hierarchy HIER (T/t made): TP its pid, TID its second
# thread, VTID that thread's id inside the namespace.
start_threads() {
	mkdir -p "$CG/$1/$T/t"
	(
		echo $BASHPID >"$CG/$1/$T/cgroup.procs"
		exec unshare --pid --fork -- "$THREADS" "$WORK" </dev/null >"$WORK/$2.out" 2>&1
	) &
	echo $! >>"$PIDLIST"
	wait_until 5 bash -c "[ -n \"\$(cat /proc/$!/task/*/children 2>/dev/null)\" ]"
	TP=$(cat /proc/$!/task/*/children | awk '{print $1}')
	echo "$TP" >>"$PIDLIST"
	wait_until 5 bash -c "[ \$(ls /proc/$TP/task | wc -l) -ge 5 ]"
	TID=$(ls /proc/$TP/task | sort -n | sed -n 2p)
	VTID=$(awk '/^NSpid/ {print $3}' /proc/$TP/task/$TID/status)
}
# The restored RPID's thread whose id in its namespace is VTID.
restored_tid() {
	local t
	for t in /proc/$RPID/task/*; do
		[ "$(awk '/^NSpid/ {print $3}' "$t/status")" = "$VTID" ] && echo "${t##*/}"
	done
}

# --- a thread in a cgroup of its own (v1 hierarchies move threads one by
# one): the threads helper as pid 1 of a pid namespace, one thread in T/t --
THREADS=$TOP/test/helpers/threads
if [ -x "$THREADS" ] && has pids ""; then
	start_threads pids threads
	echo "$TID" >"$CG/pids/$T/t/tasks"
	run_criu dump -t "$TP" -D "$WORK/img-thr"
	expect thread-dump [ "$RC" -eq 0 ]
	wait_until 5 not kill -0 "$TP"
	remove_cgroups
	if restore_ns "$WORK/img-thr"; then
		tid=$(restored_tid)
		expect thread-process-cgroup grep -qx "[0-9]*:pids:/$T" /proc/$RPID/cgroup
		expect thread-own-cgroup grep -qx "[0-9]*:pids:/$T/t" /proc/$RPID/task/$tid/cgroup
		expect thread-others grep -qx "[0-9]*:pids:/$T" "$(ls -d /proc/$RPID/task/* | sort -t/ -k5 -n | tail -1)/cgroup"
	else
		fail thread-restore "criu said: $OUT"
	fi
	restart
else
	skip thread-cgroup "no threads helper (make all) or no pids hierarchy"
fi

# --- a v2 threaded subtree: the process in T (which becomes "domain
# threaded"), one thread in the threaded T/t; restore makes T/t threaded
# again (the kernel refuses "domain threaded" as a value) --------------
if [ -x "$THREADS" ] && has unified ""; then
	start_threads unified threads2
	if echo threaded >"$CG/unified/$T/t/cgroup.type" && echo "$TID" >"$CG/unified/$T/t/cgroup.threads"; then
		run_criu dump -t "$TP" -D "$WORK/img-thr2"
		expect threaded-dump [ "$RC" -eq 0 ]
		wait_until 5 not kill -0 "$TP"
		remove_cgroups
		if restore_ns "$WORK/img-thr2"; then
			ok threaded-restore
			tid=$(restored_tid)
			expect threaded-type [ "$(cat "$CG/unified/$T/t/cgroup.type")" = threaded ]
			expect threaded-parent-type [ "$(cat "$CG/unified/$T/cgroup.type")" = "domain threaded" ]
			expect threaded-process grep -qx "0::/$T" /proc/$RPID/cgroup
			expect threaded-thread grep -qx "0::/$T/t" /proc/$RPID/task/$tid/cgroup
		else
			fail threaded-restore "criu said: $OUT"
		fi
	else
		skip threaded "this kernel's v2 hierarchy has no threaded cgroups"
		kill -KILL "$TP"
	fi
	restart
else
	skip threaded "no threads helper (make all) or no v2 hierarchy"
fi

# --- into an external pid namespace (--external pid[INODE]:KEY): the
# tree there in T/a, restored into it, moved into T/a again (the tasks
# reach criu's hierarchy mounts through /proc/<criu's host pid>) --------
start_pidns_holder
for h in "${HIERS[@]}"; do mkdir -p "$CG/$h/$T/a"; done
nsenter --pid --target "$PH" -- setsid sh -c 'while :; do sleep 0.1; done' </dev/null >/dev/null 2>&1 &
NS=$!
disown "$NS"
echo "$NS" >>"$PIDLIST"
if wait_until 5 eval '[ -n "$(cat /proc/$NS/task/$NS/children 2>/dev/null)" ]'; then
	TP=$(tr -d ' ' </proc/$NS/task/$NS/children)
	for h in "${HIERS[@]}"; do echo "$TP" >"$CG/$h/$T/a/cgroup.procs"; done
	PINO=$(stat -L -c %i /proc/"$PH"/ns/pid)
	run_criu dump -t "$TP" -D "$WORK/img-extpid" --external "pid[$PINO]:extpid"
	expect extpid-dump [ "$RC" -eq 0 ]
	wait_until 3 not kill -0 "$TP"
	remove_cgroups
	exec 7</proc/"$PH"/ns/pid
	if restore_ns "$WORK/img-extpid" --inherit-fd "fd[7]:extpid"; then
		ok extpid-restore
		expect extpid-same-ns [ "$(stat -L -c %i /proc/"$RPID"/ns/pid)" = "$PINO" ]
		expect extpid-cgroup in_cgroup "$RPID" "/$T/a"
	else
		fail extpid-restore "criu said: $OUT"
	fi
	exec 7<&-
	restart
else
	fail extpid-start "the tree did not start in the holder's pid namespace"
fi
stop_task "$PH"
stop_task "$U"
remove_cgroups

# --- upstream CRIU 4.2 compatibility (a plain host tree, as upstream dumps
# those here): its cgroup.img restored by criu, and the other way round ---
UPSTREAM=${UPSTREAM_CRIU:-/opt/upstream-criu/criu}
# cross NAME DUMPER RESTORER: a session in T with a sleeper in T/b, dumped
# by one, its cgroups deleted, restored by the other
cross() {
	local name=$1 dumper=$2 restorer=$3 img=$WORK/img-$1 p s h
	for h in "${HIERS[@]}"; do mkdir -p "$CG/$h/$T/b"; done
	has pids "$T" && echo 42 >"$CG/pids/$T/b/pids.max"
	p=$(
		for h in "${HIERS[@]}"; do echo $BASHPID >"$CG/$h/$T/cgroup.procs"; done
		# stdio and nothing else from the test's own tmpfs: upstream looks
		# /dev/null's mount up and misses the sandbox's copy
		: >"$WORK/cross-io"
		for f in $(ls /proc/$BASHPID/fd); do [ "$f" -gt 2 ] && eval "exec $f>&-" 2>/dev/null; done
		setsid sh -c 'sleep 100003 & while :; do sleep 0.2; done' <"$WORK/cross-io" >>"$WORK/cross-io" 2>&1 &
		echo $!
	)
	echo "$p" >>"$PIDLIST"
	wait_until 5 pgrep -s "$p" -f "^sleep 100003" >/dev/null
	s=$(pgrep -s "$p" -f "^sleep 100003")
	for h in "${HIERS[@]}"; do echo "$s" >"$CG/$h/$T/b/cgroup.procs"; done
	mkdir -p "$img"
	OUT=$("$dumper" dump -t "$p" -D "$img" -o dump.log 2>&1)
	if [ $? -ne 0 ] || [ ! -s "$img/cgroup.img" ]; then
		fail "$name-dump" "$(grep Error "$img/dump.log" | grep -v RLIMIT)"
		return
	fi
	# the old session gone (zombies too), its cgroups with it
	wait_until 10 bash -c "[ -z \"\$(ps -eo sid= | awk -v s=$p '\$1==s')\" ]"
	remove_cgroups
	OUT=$("$restorer" restore -D "$img" -d --pidfile "$img/pid" -o restore.log 2>&1)
	if [ $? -ne 0 ]; then
		fail "$name-restore" "$(grep Error "$img/restore.log" | grep -v RLIMIT)"
		return
	fi
	p=$(cat "$img/pid")
	echo "$p" >>"$PIDLIST"
	s=$(pgrep -s "$p" -f "^sleep 100003")
	expect "$name-root" in_cgroup "$p" "/$T"
	expect "$name-child" in_cgroup "$s" "/$T/b"
	if has pids "$T"; then expect "$name-props" [ "$(cat "$CG/pids/$T/b/pids.max")" = 42 ]; fi
	kill -KILL "$s" "$p"
	wait_until 5 not kill -0 "$p"
	remove_cgroups
}
if [ -x "$UPSTREAM" ] && "$UPSTREAM" --version 2>/dev/null | grep -q "Version: 4"; then
	cross upstream-dump "$UPSTREAM" "$CRIU"
	cross upstream-restore "$CRIU" "$UPSTREAM"
else
	skip upstream-cgroup-img "no upstream CRIU 4.x at $UPSTREAM"
fi

# --- a cgroup namespace of the container's own ---------------------------
if [ ! -e /proc/self/ns/cgroup ]; then
	skip cgroupns "no cgroup namespaces in this kernel"
	finish
fi
if ! start 1; then
	fail cgns-start "the container did not start in its cgroups"
	finish
fi
inside() { # PID: /proc/PID/cgroup as PID's cgroup namespace sees it (test hierarchies only)
	nsenter -t "$1" -C cat /proc/"$1"/cgroup | grep -E ":(pids|cpu|name=systemd|):"
}
BEFORE_ROOT=$(inside "$CPID")
BEFORE_A=$(inside "$S1")
expect cgns-inside-root bash -c "grep -q ':/$' <<<'$BEFORE_ROOT'"
expect cgns-inside-a bash -c "grep -q ':/a$' <<<'$BEFORE_A'"
IMG2=$WORK/img-cgns
run_criu dump -t "$CPID" -D "$IMG2"
expect cgns-dump [ "$RC" -eq 0 ]
wait_until 5 not kill -0 "$CPID"
remove_cgroups
if rst "$IMG2"; then
	ok cgns-restore
	placed cgns "$RPID" "$T"
	expect cgns-own-ns [ "$(readlink /proc/$RPID/ns/cgroup)" != "$(readlink /proc/self/ns/cgroup)" ]
	expect cgns-same-root-view [ "$(inside "$RPID")" = "$BEFORE_ROOT" ]
	expect cgns-same-a-view [ "$(inside "$(sleeper "$RPID" "$SA")")" = "$BEFORE_A" ]
else
	fail cgns-restore "criu said: $OUT"
fi
restart
if rst "$IMG2" --cgroup-root "/$N"; then
	placed cgns-new-root "$RPID" "$N"
	expect cgns-new-root-view [ "$(inside "$RPID")" = "$BEFORE_ROOT" ]
	expect cgns-new-root-a-view [ "$(inside "$(sleeper "$RPID" "$SA")")" = "$BEFORE_A" ]
else
	fail cgns-new-root "criu said: $OUT"
fi
restart
at_ns_root() { # PID: sees itself at its cgroup namespace's root in every test hierarchy
	local v
	v=$(inside "$1")
	[ -n "$v" ] && ! grep -qv ':/$' <<<"$v"
}
# ignore: the tasks stay in criu's cgroups, the namespace is made there
if rst "$IMG2" --manage-cgroups=ignore; then
	expect cgns-ignore-own-ns [ "$(readlink /proc/$RPID/ns/cgroup)" != "$(readlink /proc/self/ns/cgroup)" ]
	expect cgns-ignore-root-view at_ns_root "$RPID"
	expect cgns-ignore-nothing-made bash -c "! ls -d $CG/*/$T 2>/dev/null | grep -q ."
else
	fail cgns-ignore "criu said: $OUT"
fi
restart
finish

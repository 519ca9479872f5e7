#!/bin/bash
# End-to-end: a container whose terminal's master is held outside it (a
# runtime's console socket), moved through checkpoint and restore with RPC
# orphan_pts_master. The tree gets a new pty in its own devpts, as its
# stdio and controlling terminal with the dumped modes, window size and
# foreground group; the client gets the new master in the
# orphan-pts-master notification.
#  1. libcriu (test/helpers/libcriu-pty.c holds the master): dump without
#     orphan_pts_master refused, the container untouched; dump and restore
#     with it; the restored shell answers on the new master, and the
#     container's /dev/console, a bind of its slave, is that new pty.
#  1b. same with the container's /dev/pts the host's devpts (an external
#     mount): a restore while the dumped index is taken there is refused,
#     naming the holder, and leaves nothing; once freed the tree gets that
#     very index back.
#  1c. a /dev/console bind of a pty no process of the tree has open,
#     restored without orphan_pts_master: refused, naming it, nothing left
#     (no bind of a dead pty).
#  2. runc: `runc run -d --console-socket`, checkpoint, `runc restore -d
#     --console-socket`: the receiver (test/helpers/console-recv.py) gets
#     the new master and talks to the restored process through it. Runs once
#     criu accepts every option runc sets (skipped with the refusal before).
. "$(dirname "$0")/lib.sh"

HELPER=$TOP/test/helpers/libcriu-pty
RECV=$TOP/test/helpers/console-recv.py
alive() { [ -e "/proc/$1" ] && [ "$(field "$1" 3)" != Z ]; }
field() { awk -v f="$2" '{sub(/.*\) /, ""); print $(f - 2)}' /proc/"$1"/stat 2>/dev/null; }
# the tty_nr /proc/PID/stat shows for /dev/pts/N (major 136)
pts_nr() { echo $((136 << 8 | ($1 & 255) | (($1 >> 8) << 20))); }
# a line of the helper's output: "KEY ..."
said() { grep -m1 "^$1 " "$LOG" 2>/dev/null; }
# the helper's libcriu call of that step returned a failure
failed_step() { local l; l=$(said "$1") && [ "$l" != "$1 0" ]; }
# the job on the terminal: one answer a line, saying whether its stdin is a
# terminal and the window size it sees
JOB='echo ready; while read line; do echo "got $line tty=$([ -t 0 ] && echo yes || echo no) size=$(stty size)"; done'

# --- 1. libcriu -------------------------------------------------------------
R=$WORK/root
make_rootfs "$R"
for a in setsid stty usleep [; do ln -sf busybox "$R/bin/$a"; done
mknod -m 666 "$R/dev/null" c 1 3
touch "$R/dev/console"
mkdir -p "$R/dev/pts"
ln -sf pts/ptmx "$R/dev/ptmx"
echo "$JOB" >"$R/job.sh"
# init waits for its terminal (made by the helper in its devpts), binds its
# slave on /dev/console as runc does, then is the leader of a session that
# terminal controls
INIT='while [ ! -e /tmp/pty-ready ]; do usleep 50000; done
	mount --bind /dev/pts/0 /dev/console
	exec setsid -c /bin/sh /job.sh </dev/pts/0 >/dev/pts/0 2>&1'
if ! CPID=$(start_container "$R" 'mount -t devpts -o newinstance,ptmxmode=0666,mode=620 devpts "$ROOT/dev/pts"' \
	"$INIT"); then
	fail libcriu-container "did not start"
	finish
fi
IMG=$WORK/img
mkdir -p "$IMG"
LOG=$WORK/helper.out
"$HELPER" "$CRIU" "$CPID" "$IMG" "$R" >"$LOG" 2>&1 &
HPID=$!
disown "$HPID" # killed at the end: no "Killed" notice
echo "$HPID" >>"$PIDLIST"
wait_until 60 grep -q "^done\|none" "$LOG"
sleep 0.2
OUT=$(cat "$LOG")
expect libcriu-terminal-works contains "$(said before)" "got one tty=yes size=33 101"
expect refused-without-option failed_step refused
expect refusal-names-option grep -q "orphan_pts_master" "$IMG/refused.log"
expect refused-tree-untouched contains "$(said kept)" "got two tty=yes size=33 101"
expect dump-with-option [ "$(said dump)" = "dump 0" ]
expect tree-gone-after-dump wait_until 5 gone "$CPID"
if command -v crit >/dev/null; then
	ti=$(crit decode -i "$IMG/tty-info.img" 2>&1)
	expect crit-tty-session contains "$ti" '"sid": 1'
	expect crit-tty-index contains "$ti" '"index": 0'
else
	skip crit-tty-info "crit is not installed"
fi
expect restore-without-notify-refused failed_step no-notify
expect refusal-names-notify grep -q "notify_scripts" "$IMG/restore-no-notify.log"
expect orphan-notified contains "$(said 'notify orphan-pts-master')" "master 1 index 0"
order=$(grep '^notify ' "$LOG" | cut -d' ' -f2 | tr '\n' ' ')
expect notify-order contains "$order" "post-setup-namespaces orphan-pts-master post-restore"
RPID=$(said restore | cut -d' ' -f2)
[[ $RPID =~ ^[1-9][0-9]*$ ]] || RPID=
[ -n "$RPID" ] && echo "$RPID" >>"$PIDLIST"
expect restore-with-option [ -n "$RPID" ]
expect getter-is-notified-fd [ "$(said restored-master)" = "restored-master same-as-notified 1" ]
expect termios-winsize-kept [ "$(said termios)" = "termios same 1 size 33 101" ]
expect locked-modes-kept [ "$(said locked)" = "locked ixon 1" ]
expect restored-talks-on-new-master contains "$(said after)" "got ping tty=yes size=33 101"
if [ -n "$RPID" ] && [ -e "/proc/$RPID" ]; then
	expect restored-stdin-same-pts [ "$(readlink /proc/"$RPID"/fd/0)" = /dev/pts/0 ]
	expect restored-session-leader [ "$(field "$RPID" 6)" = "$RPID" ]
	expect restored-controlling-tty [ "$(field "$RPID" 7)" = "$(pts_nr 0)" ]
	expect restored-foreground [ "$(field "$RPID" 8)" = "$(field "$RPID" 5)" ]
	# /dev/console is a bind of the new pty's slave, alive (a dead one refuses opens)
	expect restored-console-is-new-pty [ "$(stat -L -c %d:%t:%T /proc/"$RPID"/fd/0)" = \
		"$(stat -c %d:%t:%T /proc/"$RPID"/root/dev/console)" ]
	expect restored-console-alive sh -c "echo >/proc/$RPID/root/dev/console"
	# a terminal that controls a session inside the tree is no shell job's
	run_criu dump -j -t "$RPID" -D "$WORK" -o dump-j.log
	expect shell-job-own-session-refused [ "$RC" -ne 0 ]
	expect shell-job-refusal-says-why contains "$OUT" "controlling terminal of session 1 inside the tree"
	expect shell-job-refused-tree-runs alive "$RPID"
fi
# the helper first: the restored init is its child, reaped once it is gone
stop_task "$HPID"
[ -n "$RPID" ] && stop_task "$RPID"

# --- 1b. libcriu, the host's devpts: the dumped index taken ------------------
rm -f "$R/tmp/pty-ready"
PTS=$WORK/pts
mkdir -p "$PTS"
mount -t devpts -o newinstance,ptmxmode=0666,mode=620 devpts "$PTS"
# no /dev/console bind here: the host's devpts, it would be an external mount of a slave
if ! CPID=$(start_container "$R" "mount --bind $PTS \"\$ROOT/dev/pts\"" \
	'while [ ! -e /tmp/pty-ready ]; do usleep 50000; done
	exec setsid -c /bin/sh /job.sh </dev/pts/0 >/dev/pts/0 2>&1'); then
	fail ext-container "did not start"
	finish
fi
IMG=$WORK/img-ext
mkdir -p "$IMG"
LOG=$WORK/helper-ext.out
"$HELPER" "$CRIU" "$CPID" "$IMG" "$R" "$PTS" >"$LOG" 2>&1 &
HPID=$!
disown "$HPID"
echo "$HPID" >>"$PIDLIST"
wait_until 60 grep -q "^done\|none" "$LOG"
sleep 0.2
OUT=$(cat "$LOG")
expect ext-dump [ "$(said dump)" = "dump 0" ]
# the helper still holds the old master: index 0 of that devpts is taken
expect ext-held-refused contains "$(said held)" "held -"
expect ext-held-nothing-left contains "$(said held)" "tasks 0 mounts-same 1"
OUT=$(cat "$IMG/restore-held.log" 2>/dev/null)
expect ext-held-says-index contains "$OUT" "pty 0 of the devpts of /dev/pts/ptmx, the terminal the tree had, is in use"
expect ext-held-says-holder contains "$OUT" "in use by $HPID (libcriu-pty)"
OUT=$(cat "$LOG")
expect ext-orphan-notified contains "$(said 'notify orphan-pts-master')" "master 1 index 0"
RPID=$(said restore | cut -d' ' -f2)
[[ $RPID =~ ^[1-9][0-9]*$ ]] || RPID=
[ -n "$RPID" ] && echo "$RPID" >>"$PIDLIST"
expect ext-restore-once-freed [ -n "$RPID" ]
expect ext-restored-talks contains "$(said after)" "got ping tty=yes size=33 101"
if [ -n "$RPID" ] && [ -e "/proc/$RPID" ]; then
	expect ext-restored-same-index [ "$(readlink /proc/"$RPID"/fd/0)" = /dev/pts/0 ]
	expect ext-restored-same-devpts [ "$(stat -L -c %d /proc/"$RPID"/fd/0)" = "$(stat -c %d "$PTS")" ]
fi
stop_task "$HPID"
[ -n "$RPID" ] && stop_task "$RPID"

# --- 1c. a /dev/console bind of a pty the tree does not use ---------------
rm -f "$R/tmp/pty-ready"
if CPID=$(start_container "$R" 'mount -t devpts -o newinstance,ptmxmode=0666,mode=620 devpts "$ROOT/dev/pts"' \
	'while [ ! -e /dev/pts/0 ]; do usleep 50000; done
	mount --bind /dev/pts/0 /dev/console
	touch /tmp/bound
	while :; do sleep 1; done'); then
	# the master held outside (a runtime's), no process of the tree has the slave open
	exec 7<>"/proc/$CPID/root/dev/pts/ptmx"
	wait_until 10 test -e "/proc/$CPID/root/tmp/bound"
	IMG=$WORK/img-console
	run_criu dump -t "$CPID" -D "$IMG" -o dump.log
	expect console-dump [ "$RC" -eq 0 ]
	stop_task "$CPID"
	exec 7>&-
	before=$(host_mounts)
	restore_ns "$IMG" --root "$R" -o restore.log
	expect console-restore-refused [ "$RC" -ne 0 ]
	OUT=$(cat "$IMG/restore.log" 2>/dev/null)
	expect console-refusal-names-option contains "$OUT" "a pty slave no terminal of the tree makes: restore makes such a pty only with RPC orphan_pts_master"
	expect console-nothing-mounted [ "$(host_mounts)" = "$before" ]
	expect console-no-task [ -z "$(leftover_tasks "$R")" ]
	[ -n "$RPID" ] && stop_task "$RPID"
	rm -f "$R/tmp/bound"
else
	fail console-container "did not start"
fi
umount "$PTS"

# --- 2. runc ----------------------------------------------------------------
if ! command -v runc >/dev/null; then
	skip runc "runc is not installed (Debian package runc)"
	finish
fi
B=$WORK/bundle
CT=criu-e2e-pty-$$
mkdir -p "$B/rootfs/bin" "$B/rootfs/tmp"
cp /bin/busybox "$B/rootfs/bin/"
for a in sh stty [; do ln -sf busybox "$B/rootfs/bin/$a"; done
(cd "$B" && runc spec) || { fail runc-spec "runc spec failed"; finish; }
"$PY" - "$B/config.json" "$JOB" <<'PYEOF'
import json, sys
path, job = sys.argv[1], sys.argv[2]
c = json.load(open(path))
c['process']['terminal'] = True
c['process']['args'] = ['/bin/sh', '-c', job]
c['root']['readonly'] = False
json.dump(c, open(path, 'w'))
PYEOF
RCPIDS=()
runc_cleanup() {
	runc kill "$CT" KILL >/dev/null 2>&1
	for _ in $(seq 50); do runc delete "$CT" >/dev/null 2>&1 && break; sleep 0.1; done
	runc delete -f "$CT" >/dev/null 2>&1
	for p in "${RCPIDS[@]}"; do kill "$p" 2>/dev/null; done
}
trap 'runc_cleanup; cleanup' EXIT
# the receiver: holds the master runc sends, sets 33x101 and echo off on the first
"$PY" "$RECV" "$WORK/con1.sock" "$WORK/con1" --setup &
RCPIDS+=($!)
wait_until 5 test -S "$WORK/con1.sock"
if ! (cd "$B" && runc run -d --console-socket "$WORK/con1.sock" "$CT" </dev/null >"$WORK/run.log" 2>&1); then
	skip runc-run "runc can't run a container here: $(tail -3 "$WORK/run.log")"
	finish
fi
expect runc-terminal-ready wait_until 10 grep -q ready "$WORK/con1"
echo one >"$WORK/con1.in"
expect runc-terminal-works wait_until 5 grep -q "got one tty=yes size=33 101" "$WORK/con1"
ATTRS1=$(cat "$WORK/con1.attrs" 2>/dev/null)
OUT=$(cd "$B" && runc --criu "$CRIU" checkpoint --image-path "$WORK/rimg" --work-path "$WORK/rwork" "$CT" 2>&1)
RC=$?
refused=$(grep -o "RPC option [a-z_]* is not supported[a-z ]*" "$WORK/rwork/dump.log" 2>/dev/null | head -1)
if [ "$RC" -ne 0 ] && [ -n "$refused" ]; then
	skip runc-checkpoint "criu does not take every option runc sets yet: $refused"
	finish
fi
expect runc-checkpoint [ "$RC" -eq 0 ]
"$PY" "$RECV" "$WORK/con2.sock" "$WORK/con2" &
RCPIDS+=($!)
wait_until 5 test -S "$WORK/con2.sock"
OUT=$(cd "$B" && runc --criu "$CRIU" restore -d --console-socket "$WORK/con2.sock" --image-path "$WORK/rimg" \
	--work-path "$WORK/rwork" "$CT" </dev/null 2>&1)
RC=$?
OUT="$OUT; restore.log: $(tail -5 "$WORK/rwork/restore.log" 2>/dev/null)"
expect runc-restore [ "$RC" -eq 0 ]
expect runc-new-master-received wait_until 5 test -s "$WORK/con2.attrs"
expect runc-termios-winsize-kept [ "$(cat "$WORK/con2.attrs" 2>/dev/null)" = "$ATTRS1" ]
echo ping >"$WORK/con2.in"
expect runc-restored-talks-on-new-master wait_until 5 grep -q "got ping tty=yes size=33 101" "$WORK/con2"
IPID=$(runc state "$CT" 2>/dev/null | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["pid"])')
if [ -n "$IPID" ] && [ -e "/proc/$IPID" ]; then
	expect runc-restored-controlling-tty [ "$(field "$IPID" 7)" != 0 ]
	expect runc-restored-foreground [ "$(field "$IPID" 8)" = "$(field "$IPID" 5)" ]
fi
finish

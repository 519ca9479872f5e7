#!/bin/bash
# End-to-end: -j/--shell-job. A container started from a "terminal" (a pty
# whose session leader, outside the container, is what a terminal emulator
# starts: test/helpers/ptyrun.py) has that pty as its stdio. Dump refuses it
# without -j and saves it with -j; restore refuses it without -j, or when
# criu's stdin is no terminal, and with -j, run from a second terminal,
# connects the job to that one: it goes on printing there and reads what is
# typed there.
. "$(dirname "$0")/lib.sh"

PTYRUN=$TOP/test/helpers/ptyrun.py
R=$WORK/root
make_rootfs "$R"
ln -sf busybox "$R/bin/usleep"
mknod -m 666 "$R/dev/null" c 1 3

num() { local v; v=$(cat "$1" 2>/dev/null) && [[ $v =~ ^[0-9]+$ ]] && echo "$v"; }
changed() { local v; v=$(num "$1") && [ "$v" != "$2" ]; }
pid_of() { cat "$1.pid" 2>/dev/null; }
# the last "tick N" a terminal log shows
last_tick() { tr -d '\r' <"$1" 2>/dev/null | awk '$1 == "tick" {n = $2} END {print n + 0}'; }
field() { awk -v f="$2" '{sub(/.*\) /, ""); print $(f - 2)}' /proc/"$1"/stat 2>/dev/null; }

# The job: prints a tick a line on its terminal, and reads a line from it
# whenever /tmp/go appears.
JOB='i=0; while :; do i=$((i+1)); echo "tick $i"; echo $i >/tmp/count
	if [ -e /tmp/go ]; then rm /tmp/go; read line; echo "read $line"; fi; usleep 200000; done'

# 1. The job, on terminal 1.
T1=$WORK/term1
ROOT=$R "$PY" "$PTYRUN" "$T1" unshare --mount --pid --uts --ipc --fork --propagation unchanged -- \
	bash -c 'for fd in /proc/self/fd/*; do fd=${fd##*/}; [ "$fd" -gt 2 ] && eval "exec $fd>&-"; done
		mount --bind "$ROOT" "$ROOT"; cd "$ROOT"; pivot_root . oldroot; /bin/busybox umount -l /oldroot
		export PATH=/bin; exec /bin/sh -c "$0"' "$JOB" &
echo $! >>"$PIDLIST"
wait_until 5 [ -s "$T1.pid" ]
U=$(pid_of "$T1")
[ -n "$U" ] && echo "$U" >>"$PIDLIST"
CPID=""
for _ in $(seq 1 200); do
	CPID=$(awk '{print $1}' /proc/"$U"/task/"$U"/children 2>/dev/null)
	[ -n "$CPID" ] && [ "$(readlink /proc/"$CPID"/exe 2>/dev/null)" = /bin/busybox ] && break
	CPID=""
	sleep 0.05
done
if [ -z "$CPID" ] || ! wait_until 10 eval '[ "$(num "$R/tmp/count")" -ge 3 ]'; then
	fail shell-job-start "the job did not start on its terminal: $(cat "$T1" 2>/dev/null)"
	finish
fi
echo "$CPID" >>"$PIDLIST"
TTY1=$(cat "$T1.tty")
expect job-on-terminal [ "$(readlink /proc/"$CPID"/fd/1)" = "$TTY1" ]

# 2. Without -j dump refuses, naming the fd and the option; the job runs on.
run_criu dump -t "$CPID" -D "$WORK/img-noj"
expect dump-without-j-fails [ "$RC" -ne 0 ]
expect dump-without-j-message contains "$OUT" "--shell-job"
expect dump-without-j-names-fd contains "$OUT" "fd 0 is the terminal $TTY1"
v=$(num "$R/tmp/count")
expect dump-without-j-job-runs wait_until 3 changed "$R/tmp/count" "$v"

# 3. With -j: dumped, the terminal described in tty-info.img.
run_criu dump -t "$CPID" -D "$WORK/img" -j -v4 -o "$WORK/dump.log"
if [ "$RC" -eq 0 ]; then ok dump-j; else fail dump-j "exit $RC: $OUT; $(tail -n 3 "$WORK/dump.log")"; fi
expect job-gone wait_until 3 gone "$CPID"
DUMPED=$(num "$R/tmp/count")
expect tty-info-written [ -s "$WORK/img/tty-info.img" ]
if command -v crit >/dev/null; then
	ti=$(crit decode -i "$WORK/img/tty-info.img" 2>&1)
	expect crit-tty-info contains "$ti" '"type": "PTY"'
	expect crit-tty-index contains "$ti" "\"index\": ${TTY1##*/}"
	fi=$(crit decode -i "$WORK/img/files.img" 2>&1)
	expect crit-tty-file contains "$fi" '"type": "TTY"'
else
	skip crit-tty-info "crit is not installed"
fi

# 4. Restore without -j, or with -j but no terminal: refused, nothing left.
run_criu restore -D "$WORK/img" --root "$R" -d </dev/null
expect restore-without-j-fails [ "$RC" -ne 0 ]
expect restore-without-j-message contains "$OUT" "-j/--shell-job"
run_criu restore -D "$WORK/img" --root "$R" -d -j </dev/null
expect restore-no-terminal-fails [ "$RC" -ne 0 ]
expect restore-no-terminal-message contains "$OUT" "standard input is not a terminal"
expect refused-restores-leave-nothing [ -z "$(leftover_tasks "$WORK")" ]

# 5. restore -j -d from terminal 2 (criu run by that terminal's shell, as a
#    user would): the job goes on counting there and reads from it.
T2=$WORK/term2
"$PY" "$PTYRUN" "$T2" bash -c '"$0" restore -D "$1" --root "$2" -d -j --pidfile "$3" -v4 -o "$4"
	echo "criu exited $?"; exec sleep 1000000' "$CRIU" "$WORK/img" "$R" "$WORK/rpid" "$WORK/restore.log" &
echo $! >>"$PIDLIST"
wait_until 5 [ -s "$T2.pid" ]
SH2=$(pid_of "$T2")
[ -n "$SH2" ] && echo "$SH2" >>"$PIDLIST"
if wait_until 10 grep -q "criu exited" "$T2" && grep -q "criu exited 0" "$T2"; then
	ok restore-j
	RPID=$(cat "$WORK/rpid")
	echo "$RPID" >>"$PIDLIST"
	TTY2=$(cat "$T2.tty")
	expect restored-on-terminal-2 [ "$(readlink /proc/"$RPID"/fd/1)" = "$TTY2" ]
	expect restored-stdin-terminal-2 [ "$(readlink /proc/"$RPID"/fd/0)" = "$TTY2" ]
	expect restored-in-shell-session [ "$(field "$RPID" 6)" = "$SH2" ]
	expect restored-in-foreground [ "$(field "$RPID" 8)" = "$(field "$RPID" 5)" ]
	if wait_until 5 eval '[ "$(last_tick "$T2")" -gt 0 ]'; then
		first=$(tr -d '\r' <"$T2" | awk '$1 == "tick" {print $2; exit}')
		if [ "$first" -gt "$DUMPED" ] && [ "$first" -le $((DUMPED + 2)) ]; then
			ok restored-prints-on-terminal
		else
			fail restored-prints-on-terminal "first tick on terminal 2 is $first, dumped at $DUMPED"
		fi
	else
		fail restored-prints-on-terminal "nothing on terminal 2: $(tail -c 300 "$T2")"
	fi
	touch "$R/tmp/go"
	sleep 0.5
	echo "typed-on-2" >"$T2.in"
	expect restored-reads-terminal wait_until 5 grep -q "read typed-on-2" "$T2"
	stop_task "$RPID"
else
	fail restore-j "$(tr -d '\r' <"$T2" | tail -n 3); $(tail -n 5 "$WORK/restore.log" 2>/dev/null)"
fi
[ -n "$SH2" ] && stop_task "$SH2"
[ -n "$U" ] && stop_task "$U"
left=$(leftover_tasks "$WORK")
if [ -z "$left" ]; then ok no-leftover-tasks; else fail no-leftover-tasks "still running: $(echo $left)"; fi
finish

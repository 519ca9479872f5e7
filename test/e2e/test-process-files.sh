#!/bin/bash
# End-to-end: descriptors that need more than a path across dump/restore:
# a FIFO with data queued in it; files held open on an external bind mount,
# which reopen through the mapping given at restore; eventfd, signalfd,
# timerfd and epoll; unix sockets; --inherit-fd values.
. "$(dirname "$0")/lib.sh"

R=$WORK/root
make_rootfs "$R"
ln -sf busybox "$R/bin/usleep"
ln -sf busybox "$R/bin/mkfifo"
mknod -m 666 "$R/dev/null" c 1 3
CLEAN='for fd in /proc/self/fd/*; do fd=${fd##*/}; [ "$fd" -gt 2 ] && eval "exec $fd>&-"; done; export PATH=/bin:$PATH'

# 1. A FIFO holding data: after restore the task reads what was queued.
PROG='exec </dev/null >/dev/null 2>&1; mkfifo /tmp/f; exec 5<>/tmp/f; echo queued-data >&5; : >/tmp/ready
	while :; do if [ -e /tmp/go ]; then read line <&5; echo "$line" >/tmp/got; rm /tmp/go; fi; usleep 50000; done'
if CPID=$(start_container "$R" "$CLEAN" "$PROG"); then
	for _ in $(seq 100); do [ -e "$R/tmp/ready" ] && break; sleep 0.05; done
	run_criu dump -t "$CPID" -D "$WORK/img1"
	expect fifo-dump [ "$RC" -eq 0 ]
	stop_task "$CPID"
	restore_ns "$WORK/img1" --root "$R"
	expect fifo-restore [ "$RC" -eq 0 ]
	touch "$R/tmp/go"
	for _ in $(seq 100); do [ -s "$R/tmp/got" ] && break; sleep 0.05; done
	expect fifo-data-kept [ "$(cat "$R/tmp/got" 2>/dev/null)" = queued-data ]
	[ -n "$RPID" ] && stop_task "$RPID"
else
	fail fifo-start "container did not start"
fi

# 2. Files held open on an external bind mount (/bar, a host directory): a
#    reader part-way through a file and an appender. Restored with /bar
#    mapped to another host directory, both are that directory's files, the
#    reader at the same offset.
A=$WORK/vol-a
B=$WORK/vol-b
mkdir -p "$A" "$B" "$R/bar"
printf 'first\nA-second\n' >"$A/data"
printf 'first\nB-second\n' >"$B/data"
: >"$A/log"
: >"$B/log"
PROG='exec </dev/null >/dev/null 2>&1; exec 6</bar/data 7>>/bar/log; read first <&6; echo "before $first" >&7
	: >/tmp/ready2
	while :; do if [ -e /tmp/go2 ]; then rm /tmp/go2; read next <&6; echo "after $next" >&7; fi; usleep 50000; done'
if CPID=$(start_container "$R" "$CLEAN"'
	mount --bind '"$A"' "$ROOT/bar"' "$PROG"); then
	for _ in $(seq 100); do [ -e "$R/tmp/ready2" ] && break; sleep 0.05; done
	run_criu dump -t "$CPID" -D "$WORK/img2" --external 'mnt[/bar]:barmount'
	expect ext-fds-dump [ "$RC" -eq 0 ]
	stop_task "$CPID"
	restore_ns "$WORK/img2" --root "$R" --external "mnt[barmount]:$B"
	expect ext-fds-restore [ "$RC" -eq 0 ]
	if [ -n "$RPID" ]; then
		touch "$R/tmp/go2"
		for _ in $(seq 100); do [ -s "$B/log" ] && break; sleep 0.05; done
		expect ext-fds-append-to-new-source grep -qx "after B-second" "$B/log"
		expect ext-fds-old-source-untouched [ "$(cat "$A/log")" = "before first" ]
		stop_task "$RPID"
	fi
else
	fail ext-fds-start "container did not start"
fi

# 3. eventfd, signalfd, timerfd and epoll (test/helpers/anonfds-static):
#    after restore the eventfd counter, the pending signal behind the
#    signalfd, a running timer and the epoll's registrations are there; so
#    is the owner (F_SETOWN, F_SETSIG) of a pipe.
if [ -x "$TOP/test/helpers/anonfds-static" ]; then
	cp "$TOP/test/helpers/anonfds-static" "$R/anonfds"
	mkdir -p "$R/out3"
	ANON_WANT='epoll 1 2 3
eventfd 7
signalfd 10
timerfd OK
fown self 12'
	if CPID=$(start_container "$R" "$CLEAN" 'exec </dev/null >/dev/null 2>&1; /anonfds /out3 & wait'); then
		for _ in $(seq 100); do [ -e "$R/out3/ready" ] && break; sleep 0.05; done
		proc_snapshot "$CPID" "$WORK/anon.before.json"
		run_criu dump -t "$CPID" -D "$WORK/img3" -v4 -o "$WORK/dump3.log"
		expect anon-dump [ "$RC" -eq 0 ]
		if command -v crit >/dev/null; then
			files=$(crit decode -i "$WORK/img3/files.img" 2>&1)
			for k in EVENTFD SIGNALFD TIMERFD EVENTPOLL; do
				expect "anon-crit-$k" contains "$files" "\"type\": \"$k\""
			done
		fi
		stop_task "$CPID"
		restore_ns "$WORK/img3" --root "$R" -v4 -o "$WORK/restore3.log"
		if [ "$RC" -eq 0 ]; then
			ok anon-restore
			proc_snapshot "$RPID" "$WORK/anon.after.json"
			for k in tree status maps fds; do
				same_procs "anon-same-$k" "$WORK/anon.before.json" "$WORK/anon.after.json" $k
			done
			touch "$R/out3/go"
			for _ in $(seq 100); do [ -s "$R/out3/result" ] && break; sleep 0.05; done
			if [ "$(cat "$R/out3/result" 2>/dev/null)" = "$ANON_WANT" ]; then
				ok anon-state-kept
			else
				fail anon-state-kept "got: $(tr '\n' ';' <"$R/out3/result" 2>/dev/null)"
			fi
			stop_task "$RPID"
		else
			fail anon-restore "$OUT; $(tail -n 3 "$WORK/restore3.log")"
		fi
	else
		fail anon-start "container did not start"
	fi
else
	fail anon-helper "test/helpers/anonfds-static is missing: run make all"
fi

# 4. unix sockets (test/helpers/unixsk-static): a stream pair split between
#    two processes with bytes queued both ways, seqpacket and datagram pairs
#    with messages queued, listeners on a path and an abstract name.
if [ -x "$TOP/test/helpers/unixsk-static" ]; then
	cp "$TOP/test/helpers/unixsk-static" "$R/unixsk"
	mkdir -p "$R/out4"
	UNIX_WANT='stream stream-data
seqpacket m1 m22
dgram d1
listen ok ok'
	if CPID=$(start_container "$R" "$CLEAN" 'exec </dev/null >/dev/null 2>&1; /unixsk /out4 & wait'); then
		for _ in $(seq 100); do [ -e "$R/out4/ready" ] && break; sleep 0.05; done
		proc_snapshot "$CPID" "$WORK/unix.before.json"
		run_criu dump -t "$CPID" -D "$WORK/img4" -v4 -o "$WORK/dump4.log"
		if [ "$RC" -eq 0 ]; then ok unix-dump; else fail unix-dump "$OUT; $(tail -n 3 "$WORK/dump4.log")"; fi
		if command -v crit >/dev/null; then
			expect unix-crit-files contains "$(crit decode -i "$WORK/img4/files.img" 2>&1)" '"type": "UNIXSK"'
			expect unix-crit-queues contains "$(crit decode -i "$WORK/img4/sk-queues.img" 2>&1)" '"id_for"'
		fi
		stop_task "$CPID"
		# a live socket now at the listener's path: restore must not take it
		rm -f "$R/tmp/listen.sock"
		"$PY" -c 'import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(1)
open(sys.argv[2], "w").close(); time.sleep(60)' "$R/tmp/listen.sock" "$WORK/squatter" &
		SQ=$!
		echo "$SQ" >>"$PIDLIST"
		wait_until 5 [ -e "$WORK/squatter" ]
		restore_ns "$WORK/img4" --root "$R"
		expect unix-live-path-refused [ "$RC" -ne 0 ]
		expect unix-live-path-message contains "$OUT" "/tmp/listen.sock is in use"
		expect unix-live-path-kept [ -S "$R/tmp/listen.sock" ]
		kill "$SQ" 2>/dev/null
		wait "$SQ" 2>/dev/null
		restore_ns "$WORK/img4" --root "$R" -v4 -o "$WORK/restore4.log"
		if [ "$RC" -eq 0 ]; then
			ok unix-restore
			proc_snapshot "$RPID" "$WORK/unix.after.json"
			for k in tree status maps fds; do
				same_procs "unix-same-$k" "$WORK/unix.before.json" "$WORK/unix.after.json" $k
			done
			touch "$R/out4/go"
			for _ in $(seq 100); do [ -s "$R/out4/result" ] && [ -s "$R/out4/child" ] && break; sleep 0.05; done
			if [ "$(cat "$R/out4/result" 2>/dev/null)" = "$UNIX_WANT" ]; then
				ok unix-state-kept
			else
				fail unix-state-kept "got: $(tr '\n' ';' <"$R/out4/result" 2>/dev/null)"
			fi
			expect unix-pair-across-processes [ "$(cat "$R/out4/child" 2>/dev/null)" = "back back" ]
			stop_task "$RPID"
		else
			fail unix-restore "$OUT; $(tail -n 3 "$WORK/restore4.log")"
		fi
	else
		fail unix-start "container did not start"
	fi
else
	fail unix-helper "test/helpers/unixsk-static is missing: run make all"
fi

# 5. --inherit-fd values are checked before anything is done.
run_criu restore -D "$WORK/img1" --root "$R" --inherit-fd 'fd[x]:pipe:[1]'
expect inherit-fd-bad-value contains "$OUT" "expected fd[N]:RESOURCE"
run_criu restore -D "$WORK/img1" --root "$R" --inherit-fd 'fd[987]:pipe:[1]'
expect inherit-fd-not-open contains "$OUT" "is not a descriptor criu was started with"
finish

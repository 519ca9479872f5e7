#!/bin/bash
# End-to-end: IPv4/IPv6 sockets as servers hold them
# (test/helpers/sockinet-static.c: TCP listeners on 127.0.0.1 and ::1, a
# bound UDP socket, a connected one, an unbound TCP socket) in a container
# with a network namespace of its own (lo up), across a dump and restore.
# After restore the program connects to both listeners and exchanges
# bytes, sends a datagram from its connected UDP socket to its bound one
# (from the same port as before) and checks the options; the namespace's
# listening sockets are the same (/proc/net/tcp, tcp6, udp); crit decodes
# files.img; tree, status, maps and fds as before. A connected TCP socket
# is refused, naming it, and the workload runs on.
. "$(dirname "$0")/lib.sh"

H=$TOP/test/helpers
if [ ! -x "$H/sockinet-static" ]; then
	fail helpers-built "$H/sockinet-static is missing: run make all"
	finish
fi
R=$WORK/root
make_rootfs "$R"
mknod -m 666 "$R/dev/null" c 1 3
mkdir -p "$R/out"
cp "$H/sockinet-static" "$R/sockinet"
CLEAN='for fd in /proc/self/fd/*; do fd=${fd##*/}; [ "$fd" -gt 2 ] && eval "exec $fd>&-"; done; export PATH=/bin:$PATH
	ip link set lo up'
# sockets PID: local address and state of the TCP, TCPv6 and UDP sockets
# of PID's network namespace (not the TIME_WAIT ends of the program's own
# test connections, 06, which belong to no descriptor)
sockets() {
	local f
	for f in tcp tcp6 udp; do
		nsenter --net --target "$1" cat /proc/net/$f | awk -v f=$f 'NR > 1 && $4 != "06" {print f, $2, $4}'
	done | sort
}

if ! command -v ip >/dev/null; then
	skip inet-sockets "no ip (iproute2) to bring lo up"
	finish
fi
if ! CPID=$(UNSHARE_EXTRA=--net start_container "$R" "$CLEAN" 'exec </dev/null >/dev/null 2>&1; /sockinet /out & wait'); then
	fail inet-start "container did not start"
	finish
fi
wait_until 10 [ -s "$R/out/ready" ]
verified inet-verified-before
before=$(sockets "$CPID")
expect inet-listeners-there eval 'echo "$before" | grep -q "^tcp 0100007F:1B9E 0A$"'
proc_snapshot "$CPID" "$WORK/before.json"
run_criu dump -t "$CPID" -D "$WORK/img" -v4 -o "$WORK/dump.log"
if [ "$RC" -eq 0 ]; then ok inet-dump; else fail inet-dump "exit $RC: $OUT; $(tail -n 3 "$WORK/dump.log")"; fi
if crit decode -i "$WORK/img/files.img" >"$WORK/files.json" 2>"$WORK/crit.err"; then
	ok inet-crit-decodes
	expect inet-crit-five-sockets [ "$(grep -o '"type": "INETSK"' "$WORK/files.json" | wc -l)" = 5 ]
else
	fail inet-crit-decodes "$(head -c 300 "$WORK/crit.err")"
fi
# the descriptors say INETSK too (upstream's restore looks files up by type
# and id): the sockinet process's five, nothing claims UNIXSK
fdinfo=$(for f in "$WORK"/img/fdinfo-*.img; do "$CRIU" show -f "$f"; done)
expect inet-fdinfo-type [ "$(grep -c 'type: INETSK' <<<"$fdinfo")" -ge 5 ]
expect inet-fdinfo-no-unixsk not contains "$fdinfo" 'type: UNIXSK'
wait_until 3 gone "$CPID"
restore_ns "$WORK/img" --root "$R" -v4 -o "$WORK/restore.log"
if [ "$RC" -eq 0 ] && [ -n "$RPID" ]; then
	ok inet-restore
	after=$(sockets "$RPID")
	if [ "$after" = "$before" ]; then ok inet-same-sockets; else fail inet-same-sockets "before: $(echo $before); after: $(echo $after)"; fi
	verified inet-verified-after
	proc_snapshot "$RPID" "$WORK/after.json"
	for k in tree status maps fds; do
		same_procs "inet-same-$k" "$WORK/before.json" "$WORK/after.json" $k
	done
	stop_task "$RPID"
else
	fail inet-restore "exit $RC: $OUT; $(tail -n 3 "$WORK/restore.log")"
fi

# run as uid 1000 from the start: its sockets come back that user's (criu
# makes them as root)
rm -rf "$R/out" && mkdir -p "$R/out" && chmod 777 "$R/out"
ROUND=0
if CPID=$(UNSHARE_EXTRA=--net start_container "$R" "$CLEAN" 'exec </dev/null >/dev/null 2>&1; /sockinet /out user & wait'); then
	wait_until 10 [ -s "$R/out/ready" ]
	K=$(awk '{print $1}' /proc/$CPID/task/$CPID/children)
	owners_before=$(for f in 3 4 5 6 7; do stat -L -c %u /proc/$K/fd/$f; done | tr '\n' ' ')
	run_criu dump -t "$CPID" -D "$WORK/img-user" -v4 -o "$WORK/dump-user.log"
	expect inet-user-dump [ "$RC" -eq 0 ]
	wait_until 3 gone "$CPID"
	if restore_ns "$WORK/img-user" --root "$R" -v4 -o "$WORK/restore-user.log"; then
		K=$(awk '{print $1}' /proc/$RPID/task/$RPID/children)
		owners_after=$(for f in 3 4 5 6 7; do stat -L -c %u /proc/$K/fd/$f; done | tr '\n' ' ')
		expect inet-user-owners eval '[ "$owners_before" = "1000 1000 1000 1000 1000 " ] && [ "$owners_after" = "$owners_before" ]'
		verified inet-user-verified-after
		stop_task "$RPID"
	else
		fail inet-user-restore "exit $RC: $OUT; $(tail -n 3 "$WORK/restore-user.log")"
	fi
else
	fail inet-user-start "container did not start"
fi

# a connected TCP socket: refused, naming it; the workload runs on
rm -rf "$R/out" && mkdir -p "$R/out"
ROUND=0
if CPID=$(UNSHARE_EXTRA=--net start_container "$R" "$CLEAN" 'exec </dev/null >/dev/null 2>&1; /sockinet /out connected & wait'); then
	wait_until 10 [ -s "$R/out/ready" ]
	run_criu dump -t "$CPID" -D "$WORK/img-conn" -v4 -o "$WORK/dump-conn.log"
	expect inet-connected-refused [ "$RC" -ne 0 ]
	expect inet-connected-message contains "$OUT" "is an established TCP connection: dump it with --tcp-established"
	verified inet-connected-runs-on
	stop_task "$CPID"
else
	fail inet-connected-start "container did not start"
fi
left=$(leftover_tasks "$WORK")
if [ -z "$left" ]; then ok no-leftover-tasks; else fail no-leftover-tasks "still running: $(echo $left)"; fi
finish

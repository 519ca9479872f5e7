#!/bin/bash
# A container with a time namespace of its own, its clocks a day ahead of
# the host's (unshare --time --monotonic/--boottime): after dump, a pause
# and restore, CLOCK_MONOTONIC and CLOCK_BOOTTIME inside go on from where
# they were at the dump, without a jump: neither the day of offset lost nor
# the pause added. The clocks are read inside the tree's time namespace
# (nsenter -T), as its programs read them.
. "$(dirname "$0")/lib.sh"

if [ ! -e /proc/self/ns/time ]; then
	skip timens "this kernel has no time namespaces (Linux 5.6 or later)"
	finish
fi

R=$WORK/root
make_rootfs "$R"
DAY=86400

clock_in() { # PID CLOCK: the clock as the task's time namespace shows it, in s
	nsenter -t "$1" -T "$PY" -c "import time; print('%.6f' % time.clock_gettime(time.$2))"
}
clock_here() { "$PY" -c "import time; print('%.6f' % time.clock_gettime(time.$1))"; }
# within LO X HI: LO <= X <= HI (decimals)
within() { "$PY" -c "import sys; lo, x, hi = map(float, sys.argv[1:]); sys.exit(0 if lo <= x <= hi else 1)" "$@"; }
plus() { "$PY" -c "import sys; print('%.6f' % (float(sys.argv[1]) + float(sys.argv[2])))" "$1" "$2"; }

if ! CPID=$(UNSHARE_EXTRA="--time --monotonic $DAY --boottime $DAY" start_container "$R" "" \
	'while :; do sleep 1; done'); then
	skip timens-start "can't start a container in a time namespace here: $(cat "$WORK/container.log")"
	finish
fi
expect timens-own-namespace [ "$(readlink /proc/"$CPID"/ns/time)" != "$(readlink /proc/self/ns/time)" ]
for c in CLOCK_MONOTONIC CLOCK_BOOTTIME; do
	h=$(clock_here $c)
	t=$(clock_in "$CPID" $c)
	OUT="$c: tree $t, host $h"
	expect "timens-$c-a-day-ahead" within "$(plus "$h" $((DAY - 5)))" "$t" "$(plus "$h" $((DAY + 5)))"
done

M0=$(clock_in "$CPID" CLOCK_MONOTONIC)
B0=$(clock_in "$CPID" CLOCK_BOOTTIME)
run_criu dump -t "$CPID" -D "$WORK/img"
expect timens-dump [ "$RC" -eq 0 ]
expect timens-dump-writes-image test -s "$WORK/img/timens-1.img"
wait_until 5 not kill -0 "$CPID"
sleep 2 # the pause the restored clocks must not show

run_criu restore -D "$WORK/img" --root "$R" -d --pidfile "$WORK/rpid"
RPID=$(cat "$WORK/rpid" 2>/dev/null)
if [ "$RC" -ne 0 ] || [ -z "$RPID" ]; then
	fail timens-restore "rc $RC: $OUT"
	finish
fi
echo "$RPID" >>"$PIDLIST"
ok timens-restore
expect timens-restored-own-namespace [ "$(readlink /proc/"$RPID"/ns/time)" != "$(readlink /proc/self/ns/time)" ]
M2=$(clock_in "$RPID" CLOCK_MONOTONIC)
B2=$(clock_in "$RPID" CLOCK_BOOTTIME)
# from where they were: not before the dump's reading, and less than the
# 2 s pause later (the dump and restore themselves take well under 1 s)
OUT="monotonic before dump $M0, after restore $M2"
expect timens-monotonic-goes-on within "$M0" "$M2" "$(plus "$M0" 1.8)"
OUT="boottime before dump $B0, after restore $B2"
expect timens-boottime-goes-on within "$B0" "$B2" "$(plus "$B0" 1.8)"
sleep 0.5
M3=$(clock_in "$RPID" CLOCK_MONOTONIC)
OUT="monotonic $M2 then $M3"
expect timens-monotonic-runs within "$(plus "$M2" 0.4)" "$M3" "$(plus "$M2" 5)"
stop_task "$RPID"
finish

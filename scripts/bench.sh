#!/bin/bash
# make bench: time criu on containers with 1,000 and 10,000 mounts.
# Everything runs in a private mount namespace (the sandbox) that dies with
# the script. Figures are the median of 5 runs.
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
CRIU=$TOP/criu/criu
if [ -z "${CRIU_BENCH_SANDBOX:-}" ]; then
	export CRIU_BENCH_SANDBOX=1
	exec unshare --mount --propagation private -- bash "$0" "$@"
fi
WORK=$(mktemp -d /tmp/criu-bench.XXXXXX)
mount -t tmpfs bench "$WORK"
PIDLIST=$WORK.pids
: >"$PIDLIST"
cleanup() {
	for p in $(cat "$PIDLIST"); do kill -KILL "$p" 2>/dev/null; done
	for p in $(cat "$PIDLIST"); do while kill -0 "$p" 2>/dev/null; do sleep 0.05; done; done
	rm -f "$PIDLIST"
	umount -R "$WORK" 2>/dev/null
	rmdir "$WORK"
}
trap cleanup EXIT

now() { date +%s.%N; }
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# A container whose mounts are 90% binds inside it and 10% external binds.
start() {
	local n=$1 root=$WORK/root$1
	mkdir -p "$root"/{bin,data,m,e,oldroot} "$WORK/vol$n"
	cp /bin/busybox "$root/bin/"
	ln -sf busybox "$root/bin/sh"
	for c in sleep umount mount; do ln -sf busybox "$root/bin/$c"; done
	ROOT=$root unshare --mount --pid --fork -- bash -c '
		mount --bind "$ROOT" "$ROOT"
		'"$TOP"'/test/helpers/mkmounts "$ROOT/data" "$ROOT/m" '"$((n * 9 / 10))"' > '"$WORK"'/kernel'"$n"'.a
		'"$TOP"'/test/helpers/mkmounts '"$WORK"'/vol'"$n"' "$ROOT/e" '"$((n / 10))"' > '"$WORK"'/kernel'"$n"'.b
		cd "$ROOT"; pivot_root . oldroot; umount -l /oldroot
		exec /bin/sh -c "while :; do sleep 1; done"' >/dev/null 2>&1 &
	local u=$!
	echo "$u" >>"$PIDLIST"
	for _ in $(seq 1 400); do
		c=$(awk '{print $1}' /proc/$u/task/$u/children 2>/dev/null)
		[ -n "$c" ] && [ "$(readlink /proc/$c/exe)" = /bin/busybox ] && break
		sleep 0.05
	done
	echo "$c" >>"$PIDLIST"
	echo "$c"
}

printf "%-8s %-14s %-14s %-14s %s\n" mounts "criu dump" "criu restore" "kernel mounts" "(mounts only; median of 5)"
declare -A T R K
for n in 1000 10000; do
	pid=$(start $n)
	for i in 1 2 3 4 5; do
		rm -rf "$WORK/img"
		a=$(now)
		"$CRIU" dump -t "$pid" -D "$WORK/img" --external 'mnt[]' >/dev/null 2>&1 || { echo "dump failed"; exit 1; }
		b=$(now)
		echo "$b - $a" | bc -l
	done | median >"$WORK/t$n"
	T[$n]=$(cat "$WORK/t$n")
	for i in 1 2 3 4 5; do
		rm -f "$WORK/rpid"
		a=$(now)
		"$CRIU" restore -D "$WORK/img" --root "$WORK/root$n" --external 'mnt[]' -d --pidfile "$WORK/rpid" \
			>/dev/null 2>&1 || { echo "restore failed" >&2; break; }
		b=$(now)
		echo "$b - $a" | bc -l
		r=$(cat "$WORK/rpid")
		kill -KILL "$r"
		while kill -0 "$r" 2>/dev/null; do sleep 0.01; done
	done | median >"$WORK/r$n"
	R[$n]=$(cat "$WORK/r$n")
	K[$n]=$(echo "$(cat $WORK/kernel$n.a) + $(cat $WORK/kernel$n.b)" | bc -l)
	printf "%-8s %-14s %-14s %-14s\n" "$n" "$(printf '%.3f s' "${T[$n]}")" "$(printf '%.3f s' "${R[$n]}")" \
		"$(printf '%.3f s' "${K[$n]}")"
done
printf "dump    10000/1000: %.1fx (linear: 10x; target <= 12x); target < 0.3 s for 10,000 (upstream ~12 s)\n" \
	"$(echo "${T[10000]} / ${T[1000]}" | bc -l)"
printf "restore 10000/1000: %.1fx; restore / bare kernel loop at 10,000: %.2fx (target <= 1.5x; upstream ~7 s vs 1.5 s)\n" \
	"$(echo "${R[10000]} / ${R[1000]}" | bc -l)" "$(echo "${R[10000]} / ${K[10000]}" | bc -l)"

#!/bin/bash
# make bench: time criu on containers with 1,000 and 10,000 mounts, on a
# process with 1 GiB of memory, and under runc (checkpoint + restore of a
# busybox container with a volume); mount namespaces: 10 of 1,000 mounts
# each against 10,000 mounts in one.
# Usage: scripts/bench.sh [mounts] [mntns] [process] [runc]   (default: all sections)
# Everything runs in a private mount namespace (the sandbox) that dies with
# the script. Mount figures are the median of 5 runs.
set -u
SECTIONS=${*:-mounts mntns process runc}
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
RUNC_BENCH_CT=
cleanup() {
	if [ -n "$RUNC_BENCH_CT" ]; then
		runc kill "$RUNC_BENCH_CT" KILL >/dev/null 2>&1
		for _ in $(seq 50); do runc delete "$RUNC_BENCH_CT" >/dev/null 2>&1 && break; sleep 0.1; done
		runc delete -f "$RUNC_BENCH_CT" >/dev/null 2>&1
	fi
	for p in $(cat "$PIDLIST"); do kill -KILL "$p" 2>/dev/null; done
	for p in $(cat "$PIDLIST"); do while kill -0 "$p" 2>/dev/null; do sleep 0.05; done; done
	rm -f "$PIDLIST"
	for d in "${IMGDIRS[@]}"; do rm -rf "$d"; done
	umount -R "$WORK" 2>/dev/null
	rmdir "$WORK"
}
trap cleanup EXIT

now() { date +%s.%N; }
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# A container whose mounts are 90% binds inside it and 10% external binds;
# PROGRAM (busybox sh) is its init, by default a sleep loop.
start() {
	local n=$1 root=$WORK/root$1 prog=${2:-"while :; do sleep 1; done"}
	mkdir -p "$root"/{bin,data,m,e,oldroot,dev} "$WORK/vol$n"
	[ -e "$root/dev/null" ] || mknod -m 666 "$root/dev/null" c 1 3 # the stdin of background jobs
	cp /bin/busybox "$root/bin/"
	cp "$TOP/test/helpers/unshare-mnt-static" "$root/bin/unshare-mnt"
	ln -sf busybox "$root/bin/sh"
	for c in sleep umount mount; do ln -sf busybox "$root/bin/$c"; done
	ROOT=$root unshare --mount --pid --fork -- bash -c '
		for fd in /proc/self/fd/*; do fd=${fd##*/}; [ "$fd" -gt 2 ] && eval "exec $fd>&-"; done
		mount --bind "$ROOT" "$ROOT"
		'"$TOP"'/test/helpers/mkmounts "$ROOT/data" "$ROOT/m" '"$((n * 9 / 10))"' > '"$WORK"'/kernel'"$n"'.a
		'"$TOP"'/test/helpers/mkmounts '"$WORK"'/vol'"$n"' "$ROOT/e" '"$((n / 10))"' > '"$WORK"'/kernel'"$n"'.b
		cd "$ROOT"; pivot_root . oldroot; umount -l /oldroot
		exec /bin/sh -c "$0"' "$prog" >/dev/null 2>&1 &
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

bench_mounts() {
	printf "%-8s %-14s %-14s %-14s %s\n" mounts "criu dump" "criu restore" "kernel mounts" "(mounts only; median of 5)"
	declare -A T R K
	for n in 1000 10000; do
		pid=$(start $n)
		for i in 1 2 3 4 5; do
			rm -rf "$WORK/img"
			a=$(now)
			"$CRIU" dump -R -t "$pid" -D "$WORK/img" --external 'mnt[]' >/dev/null 2>&1 || { echo "dump failed"; exit 1; }
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
}

# dump_median PID: the median of 5 dumps (-R, mounts autodetected), in s
dump_median() {
	for i in 1 2 3 4 5; do
		rm -rf "$WORK/img"
		a=$(now)
		"$CRIU" dump -R -t "$1" -D "$WORK/img" --external 'mnt[]' >/dev/null 2>&1 || { echo "dump failed" >&2; exit 1; }
		b=$(now)
		echo "$b - $a" | bc -l
	done | median
}

# restore_median ROOT: the median of 5 restores of $WORK/img under ROOT, in s
restore_median() {
	local r
	for i in 1 2 3 4 5; do
		rm -f "$WORK/rpid"
		a=$(now)
		"$CRIU" restore -D "$WORK/img" --root "$1" --external 'mnt[]' -d --pidfile "$WORK/rpid" \
			>/dev/null 2>&1 || { echo "restore failed" >&2; exit 1; }
		b=$(now)
		echo "$b - $a" | bc -l
		r=$(cat "$WORK/rpid")
		kill -KILL "$r"
		while kill -0 "$r" 2>/dev/null; do sleep 0.01; done
	done | median
}

# mntns_count PID: how many mount namespaces the tree of PID has
mntns_count() {
	local p
	for p in $(tree "$1"); do readlink "/proc/$p/ns/mnt"; done | sort -u | wc -l
}
tree() {
	local c
	echo "$1"
	for c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do tree "$c"; done
}

# --- mntns: the 1,000-mount container whose init started 9 more shells,
# N-1 of them after `unshare -m --propagation unchanged` (test/helpers/
# unshare-mnt-static): N namespaces of 1,000 mounts, one image each; against
# the 10,000-mount container with the same 10 shells in its one namespace,
# so that only the mounts differ.
shells() { # shells N: the init's program, N-1 of the 9 shells in namespaces of their own
	echo "i=1; while [ \$i -le 9 ]; do if [ \$i -lt $1 ]; then unshare-mnt sh -c 'while :; do sleep 1; done' &
		else sh -c 'while :; do sleep 1; done' & fi; i=\$((i + 1)); done; while :; do sleep 1; done"
}
bench_mntns() {
	local n pid one rone
	declare -A D R
	if [ ! -x "$TOP/test/helpers/unshare-mnt-static" ]; then
		echo "mntns: test/helpers/unshare-mnt-static missing (make all)"
		return 1
	fi
	echo
	printf "%-34s %-12s %-12s %s\n" "mount namespaces (10 shells each)" "criu dump" "criu restore" "(median of 5)"
	for n in 1 5 10; do
		pid=$(start 1000 "$(shells $n)")
		for _ in $(seq 1 200); do [ "$(mntns_count "$pid")" -ge "$n" ] && break; sleep 0.05; done
		[ "$(mntns_count "$pid")" -eq "$n" ] || { echo "mntns: $n namespaces did not start"; return 1; }
		D[$n]=$(dump_median "$pid")
		kill -KILL "$pid"
		while kill -0 "$pid" 2>/dev/null; do sleep 0.01; done
		R[$n]=$(restore_median "$WORK/root1000")
		printf "%-34s %-12s %-12s\n" "$n x 1,000 mounts" "$(printf '%.3f s' "${D[$n]}")" "$(printf '%.3f s' "${R[$n]}")"
	done
	pid=$(start 10000 "$(shells 1)")
	one=$(dump_median "$pid")
	kill -KILL "$pid"
	while kill -0 "$pid" 2>/dev/null; do sleep 0.01; done
	rone=$(restore_median "$WORK/root10000")
	printf "%-34s %-12s %-12s\n" "1 x 10,000 mounts" "$(printf '%.3f s' "$one")" "$(printf '%.3f s' "$rone")"
	# what namespaces 2.. add over the first: linear when 4 cost 4/9 of 9
	printf "dump 10 namespaces x 1,000 / 10,000 in one: %.2fx (target <= 1.5x); the 4 namespaces beyond the first / the 9: %.2fx (linear: 0.44x)\n" \
		"$(echo "${D[10]} / $one" | bc -l)" "$(echo "(${D[5]} - ${D[1]}) / (${D[10]} - ${D[1]})" | bc -l)"
	# restore: the 20 processes' part (forking, seizing, ~1 s here) is the same in every row
	printf "restore 10 namespaces x 1,000 / 10,000 in one: %.2fx (target <= 1.5x)\n" "$(echo "${R[10]} / $rone" | bc -l)"
}

# --- process: 1 GiB of touched anonymous memory (test/helpers/memtest-static)
# dumped to /dev/shm and to disk (/var/tmp: page cache included, no sync),
# then restored, BENCH_RUNS times (3). Reports MB/s of memory, the frozen
# time criu logs and criu's peak RSS of each run, and the medians.
MEM_MB=1024
RUNS=${BENCH_RUNS:-3}
IMGDIRS=()

# peak_rss OUTFILE CMD...: runs CMD; OUTFILE gets its peak RSS in KiB (GNU
# time -v when installed, else VmHWM polled every 10 ms: a lower bound).
peak_rss() {
	local out=$1 p hwm=0 h rc
	shift
	if [ -x /usr/bin/time ]; then
		/usr/bin/time -v -o "$out.time" "$@"
		rc=$?
		awk -F': ' '/Maximum resident set size/ {print $2}' "$out.time" >"$out"
		return $rc
	fi
	"$@" &
	p=$!
	while kill -0 "$p" 2>/dev/null; do
		h=$(awk '/^VmHWM:/ {print $2}' /proc/$p/status 2>/dev/null)
		[ -n "$h" ] && [ "$h" -gt "$hwm" ] && hwm=$h
		sleep 0.01
	done
	wait "$p"
	rc=$?
	echo "$hwm" >"$out"
	return $rc
}

start_memtest() {
	local root=$WORK/proot c u
	rm -rf "$root"
	mkdir -p "$root"/{bin,dev,out,oldroot}
	cp /bin/busybox "$root/bin/"
	ln -sf busybox "$root/bin/sh"
	mknod -m 666 "$root/dev/null" c 1 3
	cp "$TOP/test/helpers/memtest-static" "$root/memtest"
	ROOT=$root unshare --mount --pid --uts --ipc --fork -- bash -c '
		for fd in /proc/self/fd/*; do fd=${fd##*/}; [ "$fd" -gt 2 ] && eval "exec $fd>&-"; done
		mount --bind "$ROOT" "$ROOT"
		cd "$ROOT"; pivot_root . oldroot; /bin/busybox umount -l /oldroot
		exec /bin/sh -c "exec </dev/null >/dev/null 2>&1; /memtest /out '"$MEM_MB"' 0 0 & wait"' \
		</dev/null >/dev/null 2>&1 &
	u=$!
	echo "$u" >>"$PIDLIST"
	for _ in $(seq 1 400); do
		c=$(awk '{print $1}' /proc/$u/task/$u/children 2>/dev/null)
		[ -n "$c" ] && [ "$(readlink /proc/$c/exe)" = /bin/busybox ] && break
		sleep 0.05
	done
	echo "$c" >>"$PIDLIST"
	for _ in $(seq 1 600); do
		[ -s "$root/out/ready" ] && break
		sleep 0.05
	done
	[ -s "$root/out/ready" ] || { echo "memtest did not start" >&2; return 1; }
	echo "$c"
}

# baseline DIR: MB/s of dd writing $MEM_MB MiB of zeroes into a new file
# in DIR, fsync'd as dump's images are: what one writer gets on this
# machine, fresh pages and all (in a VM, touching memory the host has taken
# back costs far more than copying it).
baseline() {
	local out
	out=$(dd if=/dev/zero of="$1/baseline" bs=8M count=$((MEM_MB / 8)) conv=fsync 2>&1 | tail -n 1)
	rm -f "$1/baseline"
	awk -v mb="$MEM_MB" '{for (i = 1; i < NF; i++) if ($(i + 1) == "s,") t = $i} END {if (t > 0) printf "%.0f", mb * 1048576 / t / 1e6}' <<<"$out"
}

# fresh_rate: MB/s of test/helpers/freshmem touching a new $MEM_MB MiB
# buffer with one thread per CPU: how fast this machine hands out memory
# no process has, which is what every page of a restored task is. In a VM
# that gives freed memory back to its host, that is the ceiling of a plain
# restore, whatever criu does.
fresh_rate() {
	"$TOP/test/helpers/freshmem" "$MEM_MB" "$(nproc)" 2>/dev/null
}

bench_process() {
	local store dir pid a b t r rss rrss frozen size res rpid anon where ropts
	declare -A BASE
	if [ ! -x "$TOP/test/helpers/memtest-static" ] || [ ! -x "$TOP/test/helpers/freshmem" ]; then
		echo "process: test/helpers/memtest-static or freshmem missing (make all)"
		return 1
	fi
	echo
	printf "%-9s %-18s %-14s %-12s %-20s %-12s %s\n" images "dump" "frozen" "dump RSS" "restore" "restore RSS" \
		"(process with $MEM_MB MiB of touched memory; $RUNS runs each, then the median)"
	sleep 3 # memory freed by whatever ran before goes back to the host
	anon=$(fresh_rate)
	# "dedup": images on /dev/shm again, restored with --auto-dedup (each
	# page punched out of the image once restored: the task's new memory
	# is the images' own, just freed).
	# "warm": images on /dev/shm, plain restore, but just before it
	# freshmem touches and frees twice the memory, so the restore's pages
	# are memory the kernel already has: criu's own speed, apart from the
	# machine's (a VM's host returns such memory within seconds).
	# "released": images on /dev/shm, dumped with --release-memory (the
	# tree's pages given back as they are dumped, for the images to take).
	for store in /dev/shm released dedup warm /var/tmp; do
	where=$store ropts= dopts=
	[ "$store" = released ] && where=/dev/shm dopts=--release-memory
	[ "$store" = dedup ] && where=/dev/shm ropts=--auto-dedup
	[ "$store" = warm ] && where=/dev/shm
	: >"$WORK/dmb" && : >"$WORK/rmb"
	for run in $(seq 1 "$RUNS"); do
		dir=$(mktemp -d "$where/criu-bench.XXXXXX")
		IMGDIRS+=("$dir")
		BASE[$store]=$(baseline "$dir")
		pid=$(start_memtest) || return 1
		a=$(now)
		peak_rss "$WORK/rss" "$CRIU" dump -t "$pid" -D "$dir" $dopts -v4 -o "$dir/dump.log" >/dev/null 2>&1
		r=$?
		b=$(now)
		if [ $r -ne 0 ]; then
			echo "$store: dump failed: $(tail -n 3 "$dir/dump.log" | tr '\n' ' ')"
			kill -KILL "$pid" 2>/dev/null
			continue
		fi
		t=$(echo "$b - $a" | bc -l)
		rss=$(cat "$WORK/rss")
		# "frozen for X s" when criu logs it, else the whole dump
		frozen=$(grep -io 'frozen for [0-9.]* s' "$dir/dump.log" | tail -1 | awk '{print $3}')
		[ -n "$frozen" ] && frozen="$(printf '%.3f s' "$frozen")" || frozen="(dump) $(printf '%.3f s' "$t")"
		size=$(du -sm "$dir" | awk '{print $1}')
		while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
		rm -f "$WORK/rpid"
		[ "$store" = warm ] && "$TOP/test/helpers/freshmem" $((2 * MEM_MB)) "$(nproc)" >/dev/null
		a=$(now)
		peak_rss "$WORK/rrss" "$CRIU" restore -D "$dir" --root "$WORK/proot" -d --pidfile "$WORK/rpid" \
			$ropts -v4 -o "$dir/restore.log" >/dev/null 2>&1
		r=$?
		b=$(now)
		rpid=$(cat "$WORK/rpid" 2>/dev/null)
		[ -n "$rpid" ] && echo "$rpid" >>"$PIDLIST"
		if [ $r -ne 0 ] || [ -z "$rpid" ]; then
			res="failed: $(tail -n 2 "$dir/restore.log" | tr '\n' ' ')"
		else
			touch "$WORK/proot/out/trigger"
			for _ in $(seq 1 200); do
				grep -q "^round 1:" "$WORK/proot/out/result" 2>/dev/null && break
				sleep 0.05
			done
			rt=$(echo "$b - $a" | bc -l)
			res="$(printf '%.3f s %5.0f MB/s' "$rt" "$(echo "$MEM_MB / $rt" | bc -l)")"
			if grep -q "verified OK" "$WORK/proot/out/result" 2>/dev/null; then
				echo "$MEM_MB / $rt" | bc -l >>"$WORK/rmb"
			else
				res="$res (memory NOT verified)"
			fi
		fi
		echo "$MEM_MB / $t" | bc -l >>"$WORK/dmb"
		rrss=$(cat "$WORK/rrss" 2>/dev/null)
		printf "%-9s %-18s %-14s %-12s %-20s %-12s %s\n" "$store" \
			"$(printf '%.3f s %5.0f MB/s' "$t" "$(echo "$MEM_MB / $t" | bc -l)")" "$frozen" \
			"$((rss / 1024)) MiB" "$res" "$((${rrss:-0} / 1024)) MiB" "images $size MiB"
		[ -n "$rpid" ] && { kill -KILL "$rpid" 2>/dev/null; while kill -0 "$rpid" 2>/dev/null; do sleep 0.05; done; }
		echo "          (machine: dd writes $MEM_MB MiB into a new file there at ${BASE[$store]:-?} MB/s)"
		[ -n "${BENCH_KEEP:-}" ] && for l in "$dir"/*.log; do cp "$l" "$BENCH_KEEP/$(basename "$store").$run.$(basename "$l")"; done; rm -rf "$dir"
	done
	printf "%-9s median: dump %5.0f MB/s, restore %5.0f MB/s\n" "$store" "$(median <"$WORK/dmb")" \
		"$(median <"$WORK/rmb")"
	done
	echo "          (machine: $MEM_MB MiB of new anonymous memory touched by $(nproc) threads at ${anon:-?} MB/s, after 3 s idle:"
	echo "           the ceiling of a plain restore, whose pages are all new memory; \"warm\" shows criu with memory at hand)"
	echo "a plain dump keeps the tree's memory until its images are committed (a killed criu leaves the tree as it was): on"
	echo "/dev/shm the images' pages are new memory, so it runs at the machine's new-memory speed; \"released\" (--release-memory)"
	echo "gives each page back as it is dumped, for the images to take"
	echo "targets: dump >= 1500 MB/s to /dev/shm, restore >= 2000 MB/s, criu's RSS < 64 MiB (upstream dumps ~200 MB/s to disk)"
}

# One of criu's statistics files as microseconds: FIELD=VALUE per line.
stats_us() {
	local f v
	for f in $("$CRIU" show -f "$1" 2>/dev/null | tr -d '{}' | sed 's/: /=/g'); do
		v=${f#*=}
		[[ $f == *_time=0x* ]] && echo "${f%%=*}=$((16#${v#0x}))"
	done
}

# runc checkpoint + restore of a busybox bundle with a host volume, run by
# Debian's runc with criu over RPC; the share in criu from its statistics.
bench_runc() {
	local B=$WORK/rbundle CT=criu-bench-$$ i t0 t1 rc
	if ! command -v runc >/dev/null; then
		echo "runc: skipped (runc is not installed)"
		return
	fi
	mkdir -p "$B/rootfs/bin" "$B/rootfs/vol" "$B/rootfs/tmp" "$B/rootfs/dev" "$WORK/rvol"
	cp /bin/busybox "$B/rootfs/bin/"
	for a in sh cat usleep; do ln -sf busybox "$B/rootfs/bin/$a"; done
	(cd "$B" && runc spec)
	python3 - "$B/config.json" "$WORK/rvol" <<'PYEOF'
import json, sys
path, vol = sys.argv[1], sys.argv[2]
c = json.load(open(path))
c['process']['terminal'] = False
c['process']['args'] = ['/bin/sh', '-c', 'n=0; while :; do n=$((n+1)); echo $n >/vol/out; usleep 50000; done']
c['root']['readonly'] = False
c['mounts'].append({'destination': '/vol', 'type': 'bind', 'source': vol, 'options': ['rbind', 'rw']})
json.dump(c, open(path, 'w'))
PYEOF
	RUNC_BENCH_CT=$CT
	(cd "$B" && : | runc run -d "$CT" 2>&1 | cat >/dev/null) &
	for _ in $(seq 100); do [ -s "$WORK/rvol/out" ] && break; sleep 0.05; done
	: >"$WORK/rc" ; : >"$WORK/rr"; : >"$WORK/sc"; : >"$WORK/sr"
	for i in 1 2 3 4 5; do
		t0=$(now)
		(cd "$B" && runc --criu "$CRIU" checkpoint --image-path "$WORK/rimg$i" --work-path "$WORK/rwork$i" "$CT") ||
			{ echo "runc: checkpoint failed: $(grep Error "$WORK/rwork$i/dump.log" | head -3)"; return; }
		t1=$(now)
		echo "$t1 - $t0" | bc -l >>"$WORK/rc"
		stats_us "$WORK/rwork$i/stats-dump" | awk -F= '/freezing_time|frozen_time/ {s += $2} END {printf "%.6f\n", s / 1e6}' >>"$WORK/sc"
		t0=$(now)
		rm -f "$WORK/rdone"
		# runc's stdio are pipes, read by cat as long as the container
		# lives; the time is when runc itself is done
		(cd "$B" && : | { runc --criu "$CRIU" restore -d --image-path "$WORK/rimg$i" --work-path "$WORK/rwork$i" "$CT"
			echo "$? $(now)" >"$WORK/rdone"; } 2>&1 | cat >/dev/null) &
		for _ in $(seq 1000); do [ -s "$WORK/rdone" ] && break; sleep 0.01; done
		read -r rc t1 <"$WORK/rdone" 2>/dev/null
		[ "${rc:-1}" = 0 ] || { echo "runc: restore failed: $(grep Error "$WORK/rwork$i/restore.log" | head -3)"; return; }
		echo "$t1 - $t0" | bc -l >>"$WORK/rr"
		stats_us "$WORK/rwork$i/stats-restore" | awk -F= '/forking_time|restore_time/ {s += $2} END {printf "%.6f\n", s / 1e6}' >>"$WORK/sr"
	done
	printf "%-22s %-12s %-12s %s\n" "runc (median of 5)" "wall" "in criu" "(criu: frozen+freezing / forking+restore time from stats)"
	printf "%-22s %-12s %-12s %.0f%%\n" "runc checkpoint" "$(printf '%.3f s' "$(median <"$WORK/rc")")" \
		"$(printf '%.3f s' "$(median <"$WORK/sc")")" "$(echo "100 * $(median <"$WORK/sc") / $(median <"$WORK/rc")" | bc -l)"
	printf "%-22s %-12s %-12s %.0f%%\n" "runc restore -d" "$(printf '%.3f s' "$(median <"$WORK/rr")")" \
		"$(printf '%.3f s' "$(median <"$WORK/sr")")" "$(echo "100 * $(median <"$WORK/sr") / $(median <"$WORK/rr")" | bc -l)"
}

for section in $SECTIONS; do
	case $section in
	mounts) bench_mounts ;;
	mntns) bench_mntns ;;
	process) bench_process ;;
	runc) bench_runc ;;
	*) echo "unknown section $section (mounts, mntns, process, runc)" >&2; exit 2 ;;
	esac
done

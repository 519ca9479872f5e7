#!/bin/bash
# End-to-end: shared anonymous memory (test/helpers/shmem-static.c: a
# parent and child sharing a MAP_SHARED|MAP_ANONYMOUS area, part of it
# never touched, its first page unmapped, and a shared /dev/zero mapping)
# across a dump and restore in a real container: each object is dumped once
# (pagemap-shmem-<shmid>.img), made again before the tree is forked, and
# mapped by both processes, which go on sharing it: the child's counter
# still reaches the parent, every byte is there, the holes are still holes,
# and the tree, status, maps and fds are as before.
. "$(dirname "$0")/lib.sh"

H=$TOP/test/helpers
if [ ! -x "$H/shmem-static" ]; then
	fail helpers-built "$H/shmem-static is missing: run make all"
	finish
fi
R=$WORK/root
make_rootfs "$R"
mknod -m 666 "$R/dev/null" c 1 3
mknod -m 666 "$R/dev/zero" c 1 5
mkdir -p "$R/out"
cp "$H/shmem-static" "$R/shmem"
CLEAN='for fd in /proc/self/fd/*; do fd=${fd##*/}; [ "$fd" -gt 2 ] && eval "exec $fd>&-"; done; export PATH=/bin:$PATH'
num() { local v; v=$(cat "$1" 2>/dev/null) && [[ $v =~ ^[0-9]+$ ]] && echo "$v"; }
ROUND=0

if ! CPID=$(start_container "$R" "$CLEAN" 'exec </dev/null >/dev/null 2>&1; /shmem /out & wait'); then
	fail shmem-start "container did not start"
	finish
fi
wait_until 10 [ -s "$R/out/ready" ]
c=$(num "$R/out/count")
expect shmem-shared-before wait_until 3 eval '[ "$(num "$R/out/count")" != "$c" ]'
verified shmem-verified-before
proc_snapshot "$CPID" "$WORK/before.json"
run_criu dump -t "$CPID" -D "$WORK/img" -v4 -o "$WORK/dump.log"
if [ "$RC" -eq 0 ]; then ok shmem-dump; else fail shmem-dump "exit $RC: $OUT; $(tail -n 3 "$WORK/dump.log")"; fi
n=$(ls "$WORK"/img/pagemap-shmem-*.img 2>/dev/null | wc -l)
expect shmem-two-objects-once [ "$n" = 2 ]
bad=""
for f in "$WORK"/img/pagemap-shmem-*.img; do
	crit decode -i "$f" >/dev/null 2>&1 || bad="$bad ${f##*/}"
done
if [ -z "$bad" ]; then ok shmem-crit-decodes; else fail shmem-crit-decodes "crit decode failed on$bad"; fi
# the 16 MiB object: its 8 MiB filled (less the unmapped first page, which
# the object still has) saved, its untouched half not
size=$(du -b --apparent-size -c "$WORK"/img/pages-*.img | tail -1 | awk '{print $1}')
expect shmem-holes-not-saved [ "$size" -lt $((12 * 1048576)) ]
wait_until 3 gone "$CPID"
restore_ns "$WORK/img" --root "$R" -v4 -o "$WORK/restore.log"
if [ "$RC" -eq 0 ] && [ -n "$RPID" ]; then
	ok shmem-restore
	c=$(num "$R/out/count")
	if wait_until 3 eval '[ "$(num "$R/out/count")" != "$c" ]' && [ "$(num "$R/out/count")" -ge "${c:-0}" ]; then
		ok shmem-still-shared
	else
		fail shmem-still-shared "the parent no longer sees the child's counter move: $c, then $(num "$R/out/count")"
	fi
	verified shmem-verified-after
	proc_snapshot "$RPID" "$WORK/after.json"
	for k in tree status maps fds; do
		same_procs "shmem-same-$k" "$WORK/before.json" "$WORK/after.json" $k
	done
	stop_task "$RPID"
else
	fail shmem-restore "exit $RC: $OUT; $(tail -n 3 "$WORK/restore.log")"
fi

# again with --auto-dedup: the objects' pages (and the processes') are
# punched out of their images once restored, and are all there (each
# object made once: a second copy would read the holes). The tree is back
# at its dumped state, which had done one round.
ROUND=1
if restore_ns "$WORK/img" --root "$R" --auto-dedup -v4 -o "$WORK/restore-dedup.log"; then
	ok shmem-dedup-restore
	verified shmem-dedup-verified
	held=$(du -B1 -c "$WORK"/img/pages-*.img | tail -1 | awk '{print $1}')
	if [ "$held" -lt 65536 ]; then
		ok shmem-dedup-punched
	else
		fail shmem-dedup-punched "the pages images still hold $held bytes"
	fi
	stop_task "$RPID"
else
	fail shmem-dedup-restore "exit $RC: $OUT; $(tail -n 3 "$WORK/restore-dedup.log")"
fi
left=$(leftover_tasks "$WORK")
if [ -z "$left" ]; then ok no-leftover-tasks; else fail no-leftover-tasks "still running: $(echo $left)"; fi
finish

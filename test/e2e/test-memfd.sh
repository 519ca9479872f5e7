#!/bin/bash
# End-to-end: memfd_create(2) files (test/helpers/memfd-static.c: a
# sealed, partly written 1 MiB + 100 bytes "cache" open twice, read-write
# and read-only, each at its own offset; an unsealable "plain" one) across
# a dump and restore in a real container, with a shared mapping of the
# cache, a private one of the plain memfd (a page written), and a memfd
# kept only by its shared mapping. The program checks contents,
# sizes, seals (and that they hold), offsets, access modes and that its
# two files are one inode; the names are checked from outside; crit
# decodes memfd.img; the untouched part of the cache stays unallocated;
# tree, status, maps and fds as before.
. "$(dirname "$0")/lib.sh"

H=$TOP/test/helpers
if [ ! -x "$H/memfd-static" ]; then
	fail helpers-built "$H/memfd-static is missing: run make all"
	finish
fi
R=$WORK/root
make_rootfs "$R"
mknod -m 666 "$R/dev/null" c 1 3
mkdir -p "$R/out"
cp "$H/memfd-static" "$R/memfd"
CLEAN='for fd in /proc/self/fd/*; do fd=${fd##*/}; [ "$fd" -gt 2 ] && eval "exec $fd>&-"; done; export PATH=/bin:$PATH'
links() { for f in 3 4 5 6 7; do readlink /proc/$1/fd/$f; done | tr '\n' ' '; }

if ! CPID=$(start_container "$R" "$CLEAN" 'exec </dev/null >/dev/null 2>&1; /memfd /out & wait'); then
	fail memfd-start "container did not start"
	finish
fi
wait_until 10 [ -s "$R/out/ready" ]
verified memfd-verified-before
K=$(awk '{print $1}' /proc/$CPID/task/$CPID/children)
names_before=$(links "$K")
expect memfd-named [ "$names_before" = "/memfd:cache (deleted) /memfd:cache (deleted) /memfd:plain (deleted) /memfd:noexec (deleted) /memfd:producer (deleted) " ]
# a dump that leaves the tree running moves no offset of its files
run_criu dump -R -t "$CPID" -D "$WORK/img-r" -v4 -o "$WORK/dump-r.log"
expect memfd-dump-leave-running [ "$RC" -eq 0 ]
verified memfd-verified-after-dump-R
proc_snapshot "$CPID" "$WORK/before.json"
run_criu dump -t "$CPID" -D "$WORK/img" -v4 -o "$WORK/dump.log"
if [ "$RC" -eq 0 ]; then ok memfd-dump; else fail memfd-dump "exit $RC: $OUT; $(tail -n 3 "$WORK/dump.log")"; fi
if crit decode -i "$WORK/img/memfd.img" >"$WORK/memfd.json" 2>"$WORK/crit.err"; then
	ok memfd-crit-decodes
	expect memfd-crit-names eval 'grep -q "\"name\": \"cache\"" "$WORK/memfd.json" && grep -q "\"name\": \"plain\"" "$WORK/memfd.json"'
else
	fail memfd-crit-decodes "$(head -c 300 "$WORK/crit.err")"
fi
# the memfds' pages saved: what was written (256 KiB and the cache's last
# page, the plain one's page), not the cache's hole
saved=0
for m in "$WORK"/img/pagemap-shmem-*.img; do
	id=$(crit decode -i "$m" 2>/dev/null | sed -n 's/.*"pages_id": \([0-9]*\).*/\1/p' | head -1)
	[ -n "$id" ] && saved=$((saved + $(stat -c %s "$WORK/img/pages-$id.img")))
done
# (cache 256 KiB + its last page + the page each round writes, plain's,
# noexec's and producer's page, maponly's 64 KiB)
expect memfd-holes-not-saved [ "$saved" -eq $((276 * 1024 + 65536)) ]
expect memfd-maponly-saved grep -q '"name": "maponly"' "$WORK/memfd.json"
wait_until 3 gone "$CPID"
restore_ns "$WORK/img" --root "$R" -v4 -o "$WORK/restore.log"
if [ "$RC" -eq 0 ] && [ -n "$RPID" ]; then
	ok memfd-restore
	K=$(awk '{print $1}' /proc/$RPID/task/$RPID/children)
	# before the program reads it all: the cache's hole not allocated
	kb=$(du -k -L /proc/$K/fd/3 2>/dev/null | awk '{print $1}')
	expect memfd-restored-sparse eval '[ -n "$kb" ] && [ "$kb" -lt 600 ]'
	verified memfd-verified-after
	expect memfd-same-names [ "$(links "$K")" = "$names_before" ]
	proc_snapshot "$RPID" "$WORK/after.json"
	for k in tree status maps fds; do
		same_procs "memfd-same-$k" "$WORK/before.json" "$WORK/after.json" $k
	done
	stop_task "$RPID"
else
	fail memfd-restore "exit $RC: $OUT; $(tail -n 3 "$WORK/restore.log")"
fi

# a memfd file naming an inode memfd.img doesn't have: refused
if "$PY" -c 'import pycriu.images' 2>/dev/null; then
	rm -rf "$WORK/bad" && cp -a "$WORK/img" "$WORK/bad"
	"$PY" -c '
import sys, pycriu.images as I
p = sys.argv[1] + "/files.img"
img = I.load(open(p, "rb"))
for e in img["entries"]:
    if e["type"] == "MEMFD":
        e["memfd"]["inode_id"] = 4242
        break
I.dump(img, open(p, "wb"))' "$WORK/bad"
	restore_ns "$WORK/bad" --root "$R" -v4 -o "$WORK/bad.log"
	expect memfd-bad-inode-refused [ "$RC" -ne 0 ]
	expect memfd-bad-inode-message grep -q "which memfd.img doesn't have" "$WORK/bad.log"
	[ -n "$RPID" ] && stop_task "$RPID"
fi
left=$(leftover_tasks "$WORK")
if [ -z "$left" ]; then ok no-leftover-tasks; else fail no-leftover-tasks "still running: $(echo $left)"; fi
finish

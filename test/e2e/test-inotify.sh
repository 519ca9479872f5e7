#!/bin/bash
# End-to-end: an inotify descriptor (test/helpers/inotify-static.c: a
# directory and a file watched, numbered 2 and 3 after a removed watch 1)
# across a dump and restore in a real container. After restore the same
# events come with the watch numbers the program holds, a new watch gets a
# number past them; the fdinfo shows the same watches and masks; crit
# decodes files.img with the watches' paths; tree, status, maps and fds
# as before. A damaged watch list is refused.
. "$(dirname "$0")/lib.sh"

H=$TOP/test/helpers
if [ ! -x "$H/inotify-static" ]; then
	fail helpers-built "$H/inotify-static is missing: run make all"
	finish
fi
R=$WORK/root
make_rootfs "$R"
mknod -m 666 "$R/dev/null" c 1 3
mkdir -p "$R/out" "$R/watched"
cp "$H/inotify-static" "$R/inotify"
CLEAN='for fd in /proc/self/fd/*; do fd=${fd##*/}; [ "$fd" -gt 2 ] && eval "exec $fd>&-"; done; export PATH=/bin:$PATH'

# watches PID: "wd inode mask" of the inotify fd of PID, sorted
watches() {
	local f
	for f in /proc/$1/fd/*; do
		[ "$(readlink "$f")" = anon_inode:inotify ] || continue
		grep '^inotify' "/proc/$1/fdinfo/${f##*/}" |
			sed 's/.*wd:\([0-9a-f]*\) ino:\([0-9a-f]*\) .*mask:\([0-9a-f]*\) .*/\1 \2 \3/'
	done | sort
}

if ! CPID=$(start_container "$R" "$CLEAN" 'exec </dev/null >/dev/null 2>&1; /inotify /out /watched & wait'); then
	fail inotify-start "container did not start"
	finish
fi
wait_until 10 [ -s "$R/out/ready" ]
verified inotify-verified-before
K=$(awk '{print $1}' /proc/$CPID/task/$CPID/children)
before=$(watches "$K")
expect inotify-three-watches [ "$(echo "$before" | grep -c .)" = 3 ]
# the symlink's watch is on the link's own inode
expect inotify-link-watch-on-link eval 'echo "$before" | grep -q "^4 $(printf %x "$(stat -c %i "$R/watched/link")") "'
# a dump that leaves the tree running changes nothing it can see
run_criu dump -R -t "$CPID" -D "$WORK/img-r" -v4 -o "$WORK/dump-r.log"
expect inotify-dump-leave-running [ "$RC" -eq 0 ]
verified inotify-verified-after-dump-R
proc_snapshot "$CPID" "$WORK/before.json"
run_criu dump -t "$CPID" -D "$WORK/img" -v4 -o "$WORK/dump.log"
if [ "$RC" -eq 0 ]; then ok inotify-dump; else fail inotify-dump "exit $RC: $OUT; $(tail -n 3 "$WORK/dump.log")"; fi
if crit decode -i "$WORK/img/files.img" >"$WORK/files.json" 2>"$WORK/crit.err"; then
	ok inotify-crit-decodes
	expect inotify-crit-paths eval 'grep -q "\"path\": \"/watched\"" "$WORK/files.json" && grep -q "\"path\": \"/watched/file\"" "$WORK/files.json"'
else
	fail inotify-crit-decodes "$(head -c 300 "$WORK/crit.err")"
fi
wait_until 3 gone "$CPID"
restore_ns "$WORK/img" --root "$R" -v4 -o "$WORK/restore.log"
if [ "$RC" -eq 0 ] && [ -n "$RPID" ]; then
	ok inotify-restore
	verified inotify-verified-after
	K=$(awk '{print $1}' /proc/$RPID/task/$RPID/children)
	after=$(watches "$K")
	if [ "$after" = "$before" ]; then ok inotify-same-watches; else fail inotify-same-watches "before: $(echo $before); after: $(echo $after)"; fi
	proc_snapshot "$RPID" "$WORK/after.json"
	for k in tree status maps fds; do
		same_procs "inotify-same-$k" "$WORK/before.json" "$WORK/after.json" $k
	done
	stop_task "$RPID"
else
	fail inotify-restore "exit $RC: $OUT; $(tail -n 3 "$WORK/restore.log")"
fi

# a watch list naming one number twice, or a watch without a path: refused
# before anything is made
if "$PY" -c 'import pycriu.images' 2>/dev/null; then
	for bad in twice nopath; do
		rm -rf "$WORK/bad-$bad" && cp -a "$WORK/img" "$WORK/bad-$bad"
		"$PY" -c '
import sys, pycriu.images as I
p = sys.argv[1] + "/files.img"
img = I.load(open(p, "rb"))
for e in img["entries"]:
    if e["type"] == "INOTIFY":
        w = e["ify"]["wd"]
        if sys.argv[2] == "twice":
            w[1]["wd"] = w[0]["wd"]
        else:
            del w[0]["f_handle"]["path"]
I.dump(img, open(p, "wb"))' "$WORK/bad-$bad" $bad
		restore_ns "$WORK/bad-$bad" --root "$R" -v4 -o "$WORK/bad-$bad.log"
		expect "inotify-$bad-refused" [ "$RC" -ne 0 ]
		expect "inotify-$bad-no-task" not grep -q "seized thread" "$WORK/bad-$bad.log"
		[ -n "$RPID" ] && stop_task "$RPID"
	done
	expect inotify-twice-message grep -q "appears twice" "$WORK/bad-twice.log"
	expect inotify-nopath-message grep -q "is malformed" "$WORK/bad-nopath.log"
else
	skip inotify-malformed "no pycriu (Debian's criu package) to alter images with"
fi
left=$(leftover_tasks "$WORK")
if [ -z "$left" ]; then ok no-leftover-tasks; else fail no-leftover-tasks "still running: $(echo $left)"; fi
finish

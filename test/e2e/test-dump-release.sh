#!/bin/bash
# End-to-end: a dump that is to kill the tree, asked to (--release-memory),
# gives its memory back as the pages go into the image
# (criu/mem/page-release.c), and a dump that fails after that puts every
# byte back. Without the option nothing is given back. The workload is memtest-static (a
# pattern over its fill area, a read-only area, an area never touched) in a
# real container; its own verification of every byte is the check.
#   1. the dump fails at a descriptor after the memory was dumped (a netlink
#      socket): the memory is back, the tree runs on as it was;
#   2. the dump fails for want of space, images on a small tmpfs;
#   3. the dump succeeds: the memory was given back, the restore verifies;
#   4. dump -R gives nothing back;
#   5. two processes sharing one memory (CLONE_VM) are refused;
#   6. (a dump without --release-memory gives nothing back) restore --auto-dedup punches each restored page out of the images
#      (and refuses images it can't write to before making any task);
#   7. an area the program asked huge pages for comes back in huge pages.
. "$(dirname "$0")/lib.sh"

H=$TOP/test/helpers
if [ ! -x "$H/memtest-static" ]; then
	fail helpers-built "$H/memtest-static is missing: run make all"
	finish
fi
FILL=96
REDIR='exec </dev/null >>/log 2>&1; '
CLEAN='for fd in /proc/self/fd/*; do fd=${fd##*/}; [ "$fd" -gt 2 ] && eval "exec $fd>&-"; done
	export PATH=/bin:$PATH
'
tail_log() { tail -n 4 "$1" 2>/dev/null | tr '\n' ' '; }

stopped_or_traced() {
	local p
	for p in "$@"; do
		grep -qE '^State:\s+[tT]' /proc/$p/status 2>/dev/null && echo -n "$p stopped "
		grep -qE '^TracerPid:\s+[1-9]' /proc/$p/status 2>/dev/null && echo -n "$p traced "
	done
}

# start NAME [sock]: memtest in a container, $R its root, $CPID its init,
# $MPID memtest itself; 1 when it did not get ready.
start() {
	R=$WORK/root-$1
	make_rootfs "$R"
	mknod -m 666 "$R/dev/null" c 1 3
	mkdir -p "$R/out"
	: >"$R/log"
	cp "$H/memtest-static" "$R/memtest"
	if ! CPID=$(start_container "$R" "$CLEAN" "$REDIR/memtest /out $FILL 16 8 ${2:-} & wait"); then
		fail "$1-start" "container did not start"
		return 1
	fi
	if ! wait_until 15 [ -s "$R/out/ready" ]; then
		fail "$1-start" "memtest not ready: $(tail_log "$R/log")"
		stop_task "$CPID"
		return 1
	fi
	MPID=$(awk '{print $1}' /proc/$CPID/task/$CPID/children)
	ROUND=0
}

rss_mb() { awk '/^VmRSS:/ {print int($2 / 1024)}' /proc/$1/status 2>/dev/null; }

# given_back LOG: KiB the dump says it gave back for memtest.
given_back() { sed -n 's/.*page-release: process '"$MPID"': \([0-9]*\) KiB given back.*/\1/p' "$1" | head -1; }

# failed_dump NAME DIR WHY: the dump into DIR fails saying WHY, and leaves
# memtest with all of its memory, running on as it was.
failed_dump() {
	local name=$1 dir=$2 why=$3 log=$WORK/$1-dump.log kib pids
	verified "$name-verified-before"
	proc_snapshot "$CPID" "$WORK/$name.before.json"
	pids=$(tree_pids "$CPID" | sort)
	run_criu dump --release-memory -t "$CPID" -D "$dir" -v4 -o "$log"
	if [ "$RC" -ne 0 ] && contains "$OUT$(cat "$log")" "$why"; then
		ok "$name-dump-fails"
	else
		fail "$name-dump-fails" "exit $RC, expected an error saying '$why': $OUT; log: $(tail_log "$log")"
	fi
	kib=$(given_back "$log")
	if [ -n "$kib" ] && [ "$kib" -gt 0 ]; then
		ok "$name-memory-was-given-back"
	else
		fail "$name-memory-was-given-back" "the log says nothing was given back: $(grep page- "$log" | tr '\n' ' ')"
	fi
	expect "$name-memory-put-back" grep -q "process $MPID: .* KiB of memory put back" "$log"
	expect "$name-no-inventory" [ ! -e "$dir/inventory.img" ]
	if [ "$(tree_pids "$CPID" | sort)" = "$pids" ] && [ -z "$(stopped_or_traced $pids)" ]; then
		ok "$name-tree-runs-on"
	else
		fail "$name-tree-runs-on" "before: $(echo $pids); after: $(echo $(tree_pids "$CPID")) $(stopped_or_traced $pids)"
	fi
	verified "$name-verified-after"
	proc_snapshot "$CPID" "$WORK/$name.after.json"
	for p in tree status maps fds; do
		same_procs "$name-untouched-$p" "$WORK/$name.before.json" "$WORK/$name.after.json" $p
	done
	stop_task "$CPID"
}

# 1. a descriptor dump refuses, found after the memory was dumped
if start sockfail sock; then
	failed_dump sockfail "$WORK/img-sockfail" "AF_NETLINK"
fi

# 2. no space left for the pages: a 40 MiB tmpfs for a 96 MiB fill
if start nospace; then
	mkdir -p "$WORK/small"
	mount -t tmpfs -o size=40m small "$WORK/small"
	failed_dump nospace "$WORK/small/img" "no space left"
	# the cause is the filesystem, not the process's memory
	expect nospace-blames-no-memory not contains "$OUT" "can't read memory"
	umount "$WORK/small"
fi

# 3. a dump that succeeds gave the memory back; the restore has it all
if start cycle; then
	verified cycle-verified-before
	run_criu dump --release-memory -t "$CPID" -D "$WORK/img-cycle" -v4 -o "$WORK/cycle-dump.log"
	if [ "$RC" -eq 0 ]; then ok cycle-dump; else fail cycle-dump "exit $RC: $OUT; log: $(tail_log "$WORK/cycle-dump.log")"; fi
	kib=$(given_back "$WORK/cycle-dump.log")
	if [ -n "$kib" ] && [ "$kib" -ge $((FILL * 1024)) ]; then
		ok cycle-memory-given-back
	else
		fail cycle-memory-given-back "given back: ${kib:-nothing} KiB, the fill alone is $((FILL * 1024)) KiB"
	fi
	expect cycle-nothing-put-back not grep -q "put back" "$WORK/cycle-dump.log"
	wait_until 3 gone "$CPID"
	if restore_ns "$WORK/img-cycle" --root "$R" -v4 -o "$WORK/cycle-restore.log"; then
		ok cycle-restore
		verified cycle-verified-after-restore
		stop_task "$RPID"
	else
		fail cycle-restore "exit $RC: $OUT; log: $(tail_log "$WORK/cycle-restore.log")"
	fi
fi

# 4. dump -R: nothing given back, the memory stays resident
if start leave; then
	before=$(rss_mb "$MPID")
	run_criu dump -R -t "$CPID" -D "$WORK/img-leave" -v4 -o "$WORK/leave-dump.log"
	if [ "$RC" -eq 0 ]; then ok leave-dump; else fail leave-dump "exit $RC: $OUT; log: $(tail_log "$WORK/leave-dump.log")"; fi
	expect leave-nothing-given-back not grep -q "given back" "$WORK/leave-dump.log"
	after=$(rss_mb "$MPID")
	if [ -n "$after" ] && [ "$after" -ge $((FILL + 8)) ]; then
		ok leave-memory-resident
	else
		fail leave-memory-resident "memtest's RSS ${before:-?} MiB before the dump, ${after:-?} MiB after"
	fi
	verified leave-verified-after
	stop_task "$CPID"
fi

# 5. two processes sharing one memory (CLONE_VM): refused, nothing given
#    back, both run on
if [ -x "$H/vmshare-static" ]; then
	R=$WORK/root-vmshare
	make_rootfs "$R"
	mknod -m 666 "$R/dev/null" c 1 3
	mkdir -p "$R/out"
	cp "$H/vmshare-static" "$R/vmshare"
	if CPID=$(start_container "$R" "$CLEAN" "$REDIR/vmshare /out & wait"); then
		wait_until 5 [ -s "$R/out/count" ]
		run_criu dump --release-memory -t "$CPID" -D "$WORK/img-vmshare" -v4 -o "$WORK/vmshare-dump.log"
		expect vmshare-refused [ "$RC" -ne 0 ]
		expect vmshare-message contains "$OUT" "shares its memory with process"
		expect vmshare-nothing-given-back not grep -q "given back" "$WORK/vmshare-dump.log"
		c=$(cat "$R/out/count")
		expect vmshare-runs-on wait_until 3 eval '[ "$(cat "$R/out/count")" != "$c" ]'
		stop_task "$CPID"
	else
		fail vmshare-start "container did not start"
	fi
else
	fail helpers-built "$H/vmshare-static is missing: run make all"
fi

# 6. restore --auto-dedup: refused from images criu can't write to (a
#    read-only bind of them) before any task is made; then from the images
#    themselves: every byte back, the pages images still their size but
#    all holes
blocks() { du -B1 -c "$@" | tail -1 | awk '{print $1}'; }
if start dedup; then
	verified dedup-verified-before
	run_criu dump -t "$CPID" -D "$WORK/img-dedup" -v4 -o "$WORK/dedup-dump.log"
	if [ "$RC" -eq 0 ]; then ok dedup-dump; else fail dedup-dump "exit $RC: $OUT; log: $(tail_log "$WORK/dedup-dump.log")"; fi
	expect dedup-default-nothing-given-back not grep -q "given back" "$WORK/dedup-dump.log"
	wait_until 3 gone "$CPID"
	size=$(du -b --apparent-size -c "$WORK"/img-dedup/pages-*.img | tail -1 | awk '{print $1}')
	held=$(blocks "$WORK"/img-dedup/pages-*.img)
	mkdir -p "$WORK/ro"
	mount --bind "$WORK/img-dedup" "$WORK/ro" && mount -o remount,bind,ro "$WORK/ro"
	mounts_before=$(wc -l </proc/self/mountinfo)
	restore_ns "$WORK/ro" --root "$R" --auto-dedup -v4 -o "$WORK/dedup-ro-restore.log"
	expect dedup-readonly-refused [ "$RC" -ne 0 ]
	expect dedup-readonly-message contains "$OUT" "--auto-dedup: can't open pages-"
	expect dedup-readonly-no-task not grep -q "seized thread" "$WORK/dedup-ro-restore.log"
	[ -n "$RPID" ] && stop_task "$RPID"
	expect dedup-readonly-no-mounts [ "$(wc -l </proc/self/mountinfo)" = "$mounts_before" ]
	expect dedup-readonly-images-kept [ "$(blocks "$WORK"/img-dedup/pages-*.img)" = "$held" ]
	umount "$WORK/ro"
	# a pages image that is a link to another file: never opened through
	# the link, never punched through a second name; the file untouched
	big=$(ls -S "$WORK"/img-dedup/pages-*.img | head -n 1)
	head -c 1048576 /dev/urandom >"$WORK/victim"
	sum=$(md5sum <"$WORK/victim")
	for how in symlink hardlink; do
		rm -rf "$WORK/img-$how" && cp -a "$WORK/img-dedup" "$WORK/img-$how"
		rm "$WORK/img-$how/${big##*/}"
		if [ $how = symlink ]; then
			ln -s "$WORK/victim" "$WORK/img-$how/${big##*/}"
		else
			ln "$WORK/victim" "$WORK/img-$how/${big##*/}"
		fi
		restore_ns "$WORK/img-$how" --root "$R" --auto-dedup -v4 -o "$WORK/dedup-$how.log"
		expect "dedup-$how-refused" [ "$RC" -ne 0 ]
		[ -n "$RPID" ] && stop_task "$RPID"
	done
	expect dedup-symlink-message grep -q "is not a regular file\|symbolic link\|can't open" "$WORK/dedup-symlink.log"
	expect dedup-hardlink-message grep -q "links or is on another filesystem" "$WORK/dedup-hardlink.log"
	expect dedup-victim-untouched [ "$(md5sum <"$WORK/victim")" = "$sum" ]
	if restore_ns "$WORK/img-dedup" --root "$R" --auto-dedup -v4 -o "$WORK/dedup-restore.log"; then
		ok dedup-restore
		verified dedup-verified-after-restore
		after=$(blocks "$WORK"/img-dedup/pages-*.img)
		now=$(du -b --apparent-size -c "$WORK"/img-dedup/pages-*.img | tail -1 | awk '{print $1}')
		if [ "$held" -ge $((FILL * 1048576)) ] && [ "$after" -lt 1048576 ] && [ "$now" = "$size" ]; then
			ok dedup-images-punched
		else
			fail dedup-images-punched "pages images held $held bytes before the restore, $after after (size $size, then $now)"
		fi
		stop_task "$RPID"
	else
		fail dedup-restore "exit $RC: $OUT; log: $(tail_log "$WORK/dedup-restore.log")"
	fi
fi

# 7. MADV_HUGEPAGE on the fill area: huge pages before, huge pages after
#    (filled by populate + read, not page by page), every byte right
huge_kb() { awk '/^AnonHugePages:/ {s += $2} END {print s + 0}' /proc/$1/smaps 2>/dev/null; }
if start thp thp; then
	before=$(huge_kb "$MPID")
	if [ "${before:-0}" -lt 2048 ]; then
		skip thp-restored "no transparent huge pages for the fill area here (AnonHugePages ${before:-?} kB)"
		stop_task "$CPID"
	else
		run_criu dump --release-memory -t "$CPID" -D "$WORK/img-thp" -v4 -o "$WORK/thp-dump.log"
		if [ "$RC" -eq 0 ]; then ok thp-dump; else fail thp-dump "exit $RC: $OUT; log: $(tail_log "$WORK/thp-dump.log")"; fi
		wait_until 3 gone "$CPID"
		if restore_ns "$WORK/img-thp" --root "$R" -v4 -o "$WORK/thp-restore.log"; then
			ok thp-restore
			M=$(awk '{print $1}' /proc/$RPID/task/$RPID/children)
			after=$(huge_kb "$M")
			if [ "${after:-0}" -ge $((before / 2)) ]; then
				ok thp-restored-huge
			else
				fail thp-restored-huge "AnonHugePages ${before} kB before the dump, ${after:-?} kB after restore"
			fi
			verified thp-verified-after-restore
			stop_task "$RPID"
		else
			fail thp-restore "exit $RC: $OUT; log: $(tail_log "$WORK/thp-restore.log")"
		fi
	fi
fi

left=$(leftover_tasks "$WORK")
if [ -z "$left" ]; then ok no-leftover-tasks; else fail no-leftover-tasks "still running: $(echo $left)"; fi
finish

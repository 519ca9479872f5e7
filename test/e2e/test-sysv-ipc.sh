#!/bin/bash
# End-to-end: System V IPC objects in a container's IPC namespace
# (test/helpers/sysv-static.c: a keyed segment half written, a private
# one, a semaphore set, a queue with three messages, an empty queue made
# smaller) across a dump and restore. The program checks every object by
# the ids it holds, keys, modes, sizes, contents and messages; the
# namespace's own listing (/proc/sysvipc) is compared before and after;
# crit decodes the images; damaged images are refused. Then the same with
# the keyed segment kept attached by the program: it comes back at the
# same address.
. "$(dirname "$0")/lib.sh"

H=$TOP/test/helpers
if [ ! -x "$H/sysv-static" ]; then
	fail helpers-built "$H/sysv-static is missing: run make all"
	finish
fi
R=$WORK/root
make_rootfs "$R"
mknod -m 666 "$R/dev/null" c 1 3
mkdir -p "$R/out"
cp "$H/sysv-static" "$R/sysv"
CLEAN='for fd in /proc/self/fd/*; do fd=${fd##*/}; [ "$fd" -gt 2 ] && eval "exec $fd>&-"; done; export PATH=/bin:$PATH'

# listing PID: the System V objects of PID's IPC namespace, the columns
# a restore keeps (key, id, mode, size or count, owner), one per line
listing() {
	local f
	for f in shm sem msg; do
		nsenter --ipc=/proc/$1/ns/ipc cat /proc/sysvipc/$f | awk -v f=$f '
			NR > 1 && f == "shm" {print f, $1, $2, $3, $4, $8, $9}
			NR > 1 && f == "sem" {print f, $1, $2, $3, $4, $5, $6}
			NR > 1 && f == "msg" {print f, $1, $2, $3, $4, $5, $8, $9}'
	done
}

if ! CPID=$(start_container "$R" "$CLEAN" 'exec </dev/null >/dev/null 2>&1; /sysv /out & wait'); then
	fail sysv-start "container did not start"
	finish
fi
wait_until 10 [ -s "$R/out/ready" ]
verified sysv-verified-before
before=$(listing "$CPID")
expect sysv-five-objects [ "$(echo "$before" | grep -c .)" = 5 ]
run_criu dump -t "$CPID" -D "$WORK/img" -v4 -o "$WORK/dump.log"
if [ "$RC" -eq 0 ]; then ok sysv-dump; else fail sysv-dump "exit $RC: $OUT; $(tail -n 3 "$WORK/dump.log")"; fi
bad=""
for k in shm sem msg; do
	f=$WORK/img/ipcns-$k-1.img
	if [ ! -s "$f" ] || ! crit decode -i "$f" >"$WORK/$k.json" 2>"$WORK/$k.err"; then
		bad="$bad ipcns-$k-1.img($(head -c 200 "$WORK/$k.err" 2>/dev/null))"
	fi
done
if [ -z "$bad" ]; then ok sysv-crit-decodes; else fail sysv-crit-decodes "crit can't decode$bad"; fi
# crit sees the messages and the values as written
expect sysv-crit-sees-values grep -q 32767 "$WORK/sem.json"
expect sysv-crit-sees-messages grep -q '"mtype": 7' "$WORK/msg.json"
wait_until 3 gone "$CPID"
restore_ns "$WORK/img" --root "$R" -v4 -o "$WORK/restore.log"
if [ "$RC" -eq 0 ] && [ -n "$RPID" ]; then
	ok sysv-restore
	# the keyed segment's zero pages stay unallocated (rss, bytes; before
	# the program reads it all)
	rss=$(nsenter --ipc=/proc/$RPID/ns/ipc cat /proc/sysvipc/shm | awk '$1 == 1592590337 {print $15}')
	if [ -n "$rss" ] && [ "$rss" -le $((600 * 1024)) ]; then
		ok sysv-restored-sparse
	else
		fail sysv-restored-sparse "the 1 MiB segment with 512 KiB written has ${rss:-?} bytes resident"
	fi
	verified sysv-verified-after
	after=$(listing "$RPID")
	if [ "$after" = "$before" ]; then
		ok sysv-same-objects
	else
		fail sysv-same-objects "before: $(echo $before); after: $(echo $after)"
	fi
	stop_task "$RPID"
else
	fail sysv-restore "exit $RC: $OUT; $(tail -n 3 "$WORK/restore.log")"
fi

# images altered as a damaged or hostile one would be: each restore fails
# naming the problem, with no task left and nothing mounted on the host
alter() {
	local name=$1 kind=$2 code=$3 dir=$WORK/bad-$1
	rm -rf "$dir"
	cp -a "$WORK/img" "$dir"
	"$PY" -c '
import sys, pycriu.images as I
path = sys.argv[1]
with open(path, "rb") as fh:
    img = I.load(fh)
e = img["entries"]
'"$code"'
with open(path, "wb") as fh:
    I.dump(img, fh)' "$dir/ipcns-$kind-1.img"
}
refused() {
	local mounts
	mounts=$(wc -l </proc/self/mountinfo)
	restore_ns "$WORK/bad-$1" --root "$R" -v4 -o "$WORK/bad-$1.log"
	expect "$1-refused" [ "$RC" -ne 0 ]
	expect "$1-message" contains "$OUT" "$2"
	expect "$1-no-task" not grep -q "seized thread" "$WORK/bad-$1.log"
	expect "$1-no-mounts" [ "$(wc -l </proc/self/mountinfo)" = "$mounts" ]
	[ -n "${RPID:-}" ] && stop_task "$RPID"
	RPID=""
}
# (a segment's bytes cut short: by hand, pycriu can't rewrite that image)
rm -rf "$WORK/bad-sysv-shm-short" && cp -a "$WORK/img" "$WORK/bad-sysv-shm-short"
truncate -s -4096 "$WORK/bad-sysv-shm-short/ipcns-shm-1.img"
refused sysv-shm-short "truncated payload"
if "$PY" -c 'import pycriu.images' 2>/dev/null; then
	alter sysv-sem-twice sem 'import copy; e.append(copy.deepcopy(e[0]))'
	refused sysv-sem-twice "ipcns-sem-1.img: id"
	alter sysv-msg-type msg 'e[0]["extra"][0]["mtype"] = 0'
	refused sysv-msg-type "has type 0"
else
	skip sysv-malformed "no pycriu (Debian's criu package) to alter images with"
fi

# kernel.shm_rmid_forced turned on once the objects are made (an
# unattached segment then goes with the next detach, the program's own
# checks included, so it is checked only once, after restore), and limits
# lowered below what the objects already use (shmmni, msgmni, kernel.sem,
# msgmax under a queued message's size): the dump (-R) must not destroy
# the unattached segments by reading them, nor cut or miss the message;
# the restore makes everything and ends with the lowered limits
in_ipc() { nsenter --ipc --target "$1" cat "/proc/sys/kernel/$2" | tr -s ' \t' ' '; }
rm -rf "$R/out" && mkdir -p "$R/out"
ROUND=0
if CPID=$(start_container "$R" "$CLEAN" 'exec </dev/null >/dev/null 2>&1; /sysv /out & wait'); then
	wait_until 10 [ -s "$R/out/ready" ]
	nsenter --ipc --target "$CPID" sh -c 'echo 1 >/proc/sys/kernel/shmmni; echo 1 >/proc/sys/kernel/msgmni
		echo 100 >/proc/sys/kernel/msgmax; echo "250 4 32 1" >/proc/sys/kernel/sem
		echo 1 >/proc/sys/kernel/shm_rmid_forced'
	list_before=$(listing "$CPID")
	run_criu dump -R -t "$CPID" -D "$WORK/img-limits" -v4 -o "$WORK/dump-limits.log"
	if [ "$RC" -eq 0 ]; then ok sysv-limits-dump; else fail sysv-limits-dump "exit $RC: $OUT; $(tail -n 3 "$WORK/dump-limits.log")"; fi
	expect sysv-rmid-forced-dump-kept-segments [ "$(listing "$CPID")" = "$list_before" ]
	expect sysv-rmid-forced-still-on [ "$(in_ipc "$CPID" shm_rmid_forced) $(in_ipc "$CPID" msgmax)" = "1 100" ]
	stop_task "$CPID"
	if restore_ns "$WORK/img-limits" --root "$R" -v4 -o "$WORK/restore-limits.log"; then
		ok sysv-limits-restore
		expect sysv-limits-same-objects-restored [ "$(listing "$RPID")" = "$list_before" ]
		expect sysv-limits-back [ "$(in_ipc "$RPID" shmmni) $(in_ipc "$RPID" msgmni) $(in_ipc "$RPID" msgmax) $(in_ipc "$RPID" shm_rmid_forced)" = "1 1 100 1" ]
		expect sysv-limits-sem-back [ "$(in_ipc "$RPID" sem)" = "250 4 32 1" ]
		# msgmax back up, or the program itself can't copy its 1000-byte message
		nsenter --ipc --target "$RPID" sh -c 'echo 8192 >/proc/sys/kernel/msgmax'
		verified sysv-limits-verified-after
		stop_task "$RPID"
	else
		fail sysv-limits-restore "exit $RC: $OUT; $(tail -n 3 "$WORK/restore-limits.log")"
	fi
else
	fail sysv-limits-start "container did not start"
fi

# attached MODE: the keyed segment kept attached (as a postmaster does;
# "rmid": the private one too, removed at once so that it goes with its
# last user): attached again at the same address, the program's pointers
# still good, the removed one removed again
attached() {
	local m=$1 seg_before seg_after K list_before list_after nattch
	rm -rf "$R/out" && mkdir -p "$R/out"
	ROUND=0
	if ! CPID=$(start_container "$R" "$CLEAN" "exec </dev/null >/dev/null 2>&1; /sysv /out $m & wait"); then
		fail "sysv-$m-start" "container did not start"
		return
	fi
	wait_until 10 [ -s "$R/out/ready" ]
	verified "sysv-$m-verified-before"
	K=$(awk '{print $1}' /proc/$CPID/task/$CPID/children)
	seg_before=$(grep SYSV /proc/$K/maps | awk '{print $1, $2, $3, $5}')
	list_before=$(listing "$CPID")
	proc_snapshot "$CPID" "$WORK/$m-before.json"
	run_criu dump -t "$CPID" -D "$WORK/img-$m" -v4 -o "$WORK/dump-$m.log"
	if [ "$RC" -eq 0 ]; then ok "sysv-$m-dump"; else fail "sysv-$m-dump" "exit $RC: $OUT; $(tail -n 3 "$WORK/dump-$m.log")"; fi
	wait_until 3 gone "$CPID"
	if ! restore_ns "$WORK/img-$m" --root "$R" -v4 -o "$WORK/restore-$m.log"; then
		fail "sysv-$m-restore" "exit $RC: $OUT; $(tail -n 3 "$WORK/restore-$m.log")"
		return
	fi
	ok "sysv-$m-restore"
	verified "sysv-$m-verified-after"
	K=$(awk '{print $1}' /proc/$RPID/task/$RPID/children)
	seg_after=$(grep SYSV /proc/$K/maps | awk '{print $1, $2, $3, $5}')
	if [ -n "$seg_before" ] && [ "$seg_after" = "$seg_before" ]; then
		ok "sysv-$m-same-place"
	else
		fail "sysv-$m-same-place" "before: $seg_before; after: $seg_after"
	fi
	list_after=$(listing "$RPID")
	if [ "$list_after" = "$list_before" ]; then
		ok "sysv-$m-same-objects"
	else
		fail "sysv-$m-same-objects" "before: $(echo $list_before); after: $(echo $list_after)"
	fi
	# the removed one is removed again: perms shows SHM_DEST (01000)
	[ "$m" = rmid ] && expect sysv-rmid-removed-again eval 'echo "$list_after" | grep -q "^shm 0 [0-9]* 1600 "'
	nattch=$(nsenter --ipc=/proc/$RPID/ns/ipc cat /proc/sysvipc/shm | awk '$1 == 1592590337 {print $7}')
	expect "sysv-$m-nattch" [ "$nattch" = 1 ]
	proc_snapshot "$RPID" "$WORK/$m-after.json"
	for k in tree status maps fds; do
		same_procs "sysv-$m-same-$k" "$WORK/$m-before.json" "$WORK/$m-after.json" $k
	done
	stop_task "$RPID"
}
attached attach
attached rmid
# a 160 MiB segment (a database's buffer pool, not attached): carried
# whole, while criu's own memory stays small both ways (its bytes go a
# buffer at a time, never the image whole): peak RSS under 64 MiB
rm -rf "$R/out" && mkdir -p "$R/out"
ROUND=0
if [ ! -x /usr/bin/time ]; then
	skip sysv-big "no /usr/bin/time (Debian's time package) to measure criu's peak RSS"
elif CPID=$(start_container "$R" "$CLEAN" 'exec </dev/null >/dev/null 2>&1; /sysv /out big & wait'); then
	wait_until 30 [ -s "$R/out/ready" ]
	verified sysv-big-verified-before
	OUT=$(/usr/bin/time -f %M -o "$WORK/big-dump.rss" "$CRIU" dump -t "$CPID" -D "$WORK/img-big" -v4 \
		-o "$WORK/dump-big.log" 2>&1)
	RC=$?
	if [ "$RC" -eq 0 ]; then ok sysv-big-dump; else fail sysv-big-dump "exit $RC: $OUT; $(tail -n 3 "$WORK/dump-big.log")"; fi
	expect sysv-big-image-whole [ "$(stat -c %s "$WORK/img-big/ipcns-shm-1.img")" -gt $((160 << 20)) ]
	run_criu show -f "$WORK/img-big/ipcns-shm-1.img"
	expect sysv-big-show contains "$OUT" "size: 0xa000000"
	wait_until 3 gone "$CPID"
	rm -f "$WORK/rpid"
	OUT=$(/usr/bin/time -f %M -o "$WORK/big-restore.rss" "$CRIU" restore -D "$WORK/img-big" --root "$R" -d \
		--pidfile "$WORK/rpid" -v4 -o "$WORK/restore-big.log" 2>&1)
	RC=$?
	RPID=$(cat "$WORK/rpid" 2>/dev/null)
	[ -n "$RPID" ] && echo "$RPID" >>"$PIDLIST"
	if [ "$RC" -eq 0 ] && [ -n "$RPID" ]; then
		ok sysv-big-restore
		verified sysv-big-verified-after
		for k in dump restore; do
			rss=$(tail -n 1 "$WORK/big-$k.rss")
			if [ -n "$rss" ] && [ "$rss" -lt $((64 * 1024)) ]; then
				ok "sysv-big-$k-rss-small"
			else
				fail "sysv-big-$k-rss-small" "criu $k peaked at ${rss:-?} KiB with a 160 MiB segment"
			fi
		done
		stop_task "$RPID"
	else
		fail sysv-big-restore "exit $RC: $OUT; $(tail -n 3 "$WORK/restore-big.log")"
	fi
	RPID=""
else
	fail sysv-big-start "container did not start"
fi
# an area that attaches a segment the images don't have: refused
if "$PY" -c 'import pycriu.images' 2>/dev/null; then
	rm -rf "$WORK/bad-sysv-attach" && cp -a "$WORK/img-attach" "$WORK/bad-sysv-attach"
	"$PY" -c '
import sys, glob, pycriu.images as I
for p in glob.glob(sys.argv[1] + "/mm-*.img"):
    img = I.load(open(p, "rb"))
    hit = False
    for v in img["entries"][0]["vmas"]:
        st = v["status"]
        st = int(st, 0) if isinstance(st, str) else st
        if st & 0x400:
            v["shmid"] = 9999
            hit = True
    if hit:
        I.dump(img, open(p, "wb"))' "$WORK/bad-sysv-attach"
	refused sysv-attach "which ipcns-shm-1.img doesn't have"
fi
left=$(leftover_tasks "$WORK")
if [ -z "$left" ]; then ok no-leftover-tasks; else fail no-leftover-tasks "still running: $(echo $left)"; fi
finish

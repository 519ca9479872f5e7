#!/bin/bash
# End-to-end edge cases of the mount subsystem, written by an independent
# reviewer "like a container-runtime engineer would use it": odd names, a
# runc-like container, superblock flags, hidden and deleted mounts, stale
# images, propagation between the restored namespace and the host (the
# sandbox), option and image garbage. A "not ok" here is a real bug; nothing
# is skipped to hide one.
. "$(dirname "$0")/lib.sh"

ROOTFS=$WORK/root
make_rootfs "$ROOTFS"
img=$WORK/img

# Tasks left by criu restore (the task holding a restored namespace renames
# itself, so it is found by its command line, whatever its name). Only ours
# count: their environment carries a mark of this run.
export CRIU_EDGE_MARK=$WORK
ph_count() {
	local n=0 p
	for p in $(pgrep -f -- "$CRIU restore"); do
		{ tr '\0' '\n' </proc/$p/environ; } 2>/dev/null | grep -qx "CRIU_EDGE_MARK=$WORK" && n=$((n + 1))
	done
	echo $n
}
PH0=$(ph_count)
# host_same NAME BEFORE: the sandbox's mountinfo is as it was; says what changed.
host_same() {
	local d
	d=$(diff <(echo "$2") <(host_mounts))
	if [ -z "$d" ]; then ok "$1"; else fail "$1" "the sandbox's mounts changed: $(echo $d)"; fi
}

# ct NAME SETUP [PROGRAM]: start a container, keep its mountinfo in
# $WORK/NAME.mi; CPID is its init.
ct() {
	local name=$1
	CPID=$(start_container "$ROOTFS" "$2" "${3:-}") || { fail "$name-start" "container did not start"; return 1; }
	cp /proc/$CPID/mountinfo "$WORK/$name.mi"
}
# PROGRAM mounts made after pivot_root: wait until MOUNTPOINT shows up.
wait_mp() {
	for _ in $(seq 1 100); do
		grep -q " $2 " /proc/$1/mountinfo 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}
wait_file() {
	for _ in $(seq 1 100); do [ -e "$1" ] && return 0; sleep 0.05; done
	return 1
}
loop() { echo "$1; while :; do sleep 1; done"; }
tmpfs_img() { # tmpfs archive name of a mount of PID at MOUNTPOINT
	python3 -c "import os; st=os.stat('/proc/$1/root$2'); print('tmpfs-dev-%d.tar.gz.img' % ((os.major(st.st_dev)<<20)|os.minor(st.st_dev)))"
}
tree_same() { python3 "$TOP/test/e2e/mntcmp.py" "$@" >/dev/null 2>&1; }
# cond 'SHELL CONDITION': for expect, so that "a && b" is checked as a whole
cond() { eval "$1"; }
count_at() { awk -v mp="$1" '$5 == mp' /proc/self/mountinfo | wc -l; }

############################################################################
# 1. Mountpoints with space, tab, newline and backslash; an external key
#    and name with spaces.
mkdir -p "$WORK/esc-host" "$ROOTFS/a b" "$ROOTFS/tab	x" "$ROOTFS/nl
y" "$ROOTFS/back\\z" "$ROOTFS/ext sp"
echo esc >"$WORK/esc-host/f"
if ct esc '
	mount -t tmpfs t1 "$ROOT/a b"; echo data >"$ROOT/a b/file"
	mount -t tmpfs t2 "$ROOT/tab	x"
	mount -t tmpfs t3 "$ROOT/nl
y"
	mount -t tmpfs t4 "$ROOT/back\\z"
	mount --bind '"$WORK"'/esc-host "$ROOT/ext sp"'; then
	rm -rf "$img"
	run_criu dump -R -t "$CPID" -D "$img" --external 'mnt[/ext sp]:ext name'
	expect esc-dump [ "$RC" -eq 0 ]
	run_criu show -f "$img/mountpoints-1.img" -F mountpoint,root
	expect esc-show-unescaped contains "$OUT" 'mountpoint: /ext sp root: ext name'
	stop_task "$CPID"
	restore_ns "$img" --root "$ROOTFS" --external "mnt[ext name]:$WORK/esc-host"
	expect esc-restore [ "$RC" -eq 0 ]
	expect esc-same-tree tree_same "$WORK/esc.mi" /proc/$RPID/mountinfo
	expect esc-contents [ "$(cat "/proc/$RPID/root/a b/file" "/proc/$RPID/root/ext sp/f" 2>/dev/null)" = "data
esc" ]
	stop_task "$RPID"
fi

############################################################################
# 2. A runc-like container: proc with read-only /proc/sys and /proc/bus,
#    /proc/keys masked by /dev/null, /dev on tmpfs with /dev/null and
#    /dev/zero bound from the host, devpts newinstance, shm, mqueue,
#    read-only sysfs, /etc/hosts and /etc/resolv.conf file binds.
mkdir -p "$ROOTFS/etc"
touch "$ROOTFS/etc/hosts" "$ROOTFS/etc/resolv.conf"
echo "1.2.3.4 runc" >"$WORK/hosts"
echo "nameserver 1.1.1.1" >"$WORK/resolv"
RUNC='
	mount -t proc proc "$ROOT/proc"
	mount -t tmpfs -o nosuid,mode=755,size=65536k tmpfs "$ROOT/dev"
	mkdir -p "$ROOT/dev/pts" "$ROOT/dev/shm" "$ROOT/dev/mqueue"
	touch "$ROOT/dev/null" "$ROOT/dev/zero"
	mount --bind /dev/null "$ROOT/dev/null"
	mount --bind /dev/zero "$ROOT/dev/zero"
	mount -t devpts -o newinstance,ptmxmode=0666,mode=0620,gid=5 devpts "$ROOT/dev/pts"
	mount -t tmpfs -o nosuid,nodev,noexec,mode=1777,size=65536k shm "$ROOT/dev/shm"
	mount -t mqueue -o nosuid,nodev,noexec mqueue "$ROOT/dev/mqueue"
	mount -t sysfs -o ro,nosuid,nodev,noexec sysfs "$ROOT/sys"
	mount --bind '"$WORK"'/hosts "$ROOT/etc/hosts"
	mount --bind '"$WORK"'/resolv "$ROOT/etc/resolv.conf"
	mount --bind "$ROOT/proc/sys" "$ROOT/proc/sys"; mount -o remount,bind,ro "$ROOT/proc/sys"
	mount --bind "$ROOT/proc/bus" "$ROOT/proc/bus"; mount -o remount,bind,ro "$ROOT/proc/bus"
	mount --bind /dev/null "$ROOT/proc/keys"
'
if ct runc "$RUNC"; then
	rm -rf "$img" "$img-auto"
	run_criu dump -R -t "$CPID" -D "$img" --external 'mnt[/etc/hosts]:hosts' --external 'mnt[/etc/resolv.conf]:resolv' \
		--external 'mnt[/dev/null]:null' --external 'mnt[/dev/zero]:zero' --external 'mnt[/proc/keys]:keys'
	expect runc-named-dump [ "$RC" -eq 0 ]
	run_criu dump -R -t "$CPID" -D "$img-auto" --external 'mnt[]'
	expect runc-auto-dump [ "$RC" -eq 0 ]
	stop_task "$CPID"
	before=$(host_mounts)
	restore_ns "$img" --root "$ROOTFS" --external "mnt[hosts]:$WORK/hosts" --external "mnt[resolv]:$WORK/resolv" \
		--external mnt[null]:/dev/null --external mnt[zero]:/dev/zero --external mnt[keys]:/dev/null
	expect runc-named-restore [ "$RC" -eq 0 ]
	expect runc-named-same-tree tree_same "$WORK/runc.mi" /proc/$RPID/mountinfo
	expect runc-hosts-content [ "$(cat /proc/$RPID/root/etc/hosts 2>/dev/null)" = "1.2.3.4 runc" ]
	stop_task "$RPID"
	restore_ns "$img-auto" --root "$ROOTFS" --external 'mnt[]'
	expect runc-auto-restore [ "$RC" -eq 0 ]
	expect runc-auto-same-tree tree_same "$WORK/runc.mi" /proc/$RPID/mountinfo
	stop_task "$RPID"
	host_same runc-host-untouched "$before"
fi

############################################################################
# 3. External under external, an external whose host dir is itself a mount
#    of the sandbox, a file bound from a tmpfs of the container, a triple
#    overmount, per-mount flags, proc with hidepid, a read-only root.
mkdir -p "$WORK/outer/in" "$WORK/inner" "$WORK/hvol" "$ROOTFS"/{bar,vol,ft,fb,fl,ov,d1,d2,d3,p2,ns}
touch "$ROOTFS/fb/file"
echo outer >"$WORK/outer/o"
echo inner >"$WORK/inner/i"
mount -t tmpfs hostvol "$WORK/hvol"
echo hv >"$WORK/hvol/x"
echo d3 >"$ROOTFS/d3/top"
MIXED='
	mount --bind '"$WORK"'/outer "$ROOT/bar"
	mount --bind '"$WORK"'/inner "$ROOT/bar/in"
	mount --bind '"$WORK"'/hvol "$ROOT/vol"
	mount -t tmpfs ft "$ROOT/ft"; echo ff >"$ROOT/ft/f"
	mount --bind "$ROOT/ft/f" "$ROOT/fb/file"
	mount -t tmpfs -o nosuid,nodev,noexec,noatime fl "$ROOT/fl"
	mount -t tmpfs -o nosymfollow,strictatime,nodiratime ns "$ROOT/ns"
	mount -t proc -o hidepid=2 proc "$ROOT/p2"
	mount --bind "$ROOT/d1" "$ROOT/ov"; mount --bind "$ROOT/d2" "$ROOT/ov"; mount --bind "$ROOT/d3" "$ROOT/ov"
	mount -o remount,bind,ro "$ROOT"
'
if ct mixed "$MIXED"; then
	rm -rf "$img" "$img-auto"
	run_criu dump -R -t "$CPID" -D "$img" --external 'mnt[/bar]:outer' --external 'mnt[/bar/in]:inner' \
		--external 'mnt[/vol]:vol'
	expect mixed-dump [ "$RC" -eq 0 ]
	run_criu dump -R -t "$CPID" -D "$img-auto" --external 'mnt[]'
	expect mixed-auto-dump [ "$RC" -eq 0 ]
	stop_task "$CPID"
	before=$(host_mounts)
	restore_ns "$img" --root "$ROOTFS" --external "mnt[outer]:$WORK/outer" --external "mnt[inner]:$WORK/inner" \
		--external "mnt[vol]:$WORK/hvol"
	expect mixed-restore [ "$RC" -eq 0 ]
	expect mixed-same-tree tree_same "$WORK/mixed.mi" /proc/$RPID/mountinfo
	r=/proc/$RPID/root
	expect mixed-nested-external [ "$(cat $r/bar/o $r/bar/in/i 2>/dev/null)" = "outer
inner" ]
	expect mixed-host-mount-as-volume [ "$(cat $r/vol/x 2>/dev/null)" = hv ]
	expect mixed-file-bind-from-tmpfs [ "$(cat $r/fb/file 2>/dev/null)" = ff ]
	expect mixed-overmount-top [ "$(cat $r/ov/top 2>/dev/null)" = d3 ]
	expect mixed-root-readonly grep -q '^[0-9]* [0-9]* [^ ]* /root / ro,' /proc/$RPID/mountinfo
	stop_task "$RPID"
	restore_ns "$img-auto" --root "$ROOTFS" --external 'mnt[]'
	expect mixed-auto-restore [ "$RC" -eq 0 ]
	expect mixed-auto-same-tree tree_same "$WORK/mixed.mi" /proc/$RPID/mountinfo
	stop_task "$RPID"
	host_same mixed-host-untouched "$before"
	# the same restored namespace can be dumped and restored again
	restore_ns "$img" --root "$ROOTFS" --external "mnt[outer]:$WORK/outer" --external "mnt[inner]:$WORK/inner" \
		--external "mnt[vol]:$WORK/hvol"
	r1=$RPID
	rm -rf "$img-again"
	run_criu dump -R -t "$r1" -D "$img-again" --external 'mnt[/bar]:outer' --external 'mnt[/bar/in]:inner' \
		--external 'mnt[/vol]:vol'
	expect redump-restored [ "$RC" -eq 0 ]
	stop_task "$r1"
	restore_ns "$img-again" --root "$ROOTFS" --external "mnt[outer]:$WORK/outer" --external "mnt[inner]:$WORK/inner" \
		--external "mnt[vol]:$WORK/hvol"
	expect redump-same-tree tree_same "$WORK/mixed.mi" /proc/$RPID/mountinfo
	stop_task "$RPID"
fi
umount "$WORK/hvol"

############################################################################
# 4. Superblock flags: a read-only tmpfs with contents (runc masks
#    /proc/acpi this way), a tmpfs with sync,dirsync.
mkdir -p "$ROOTFS"/{rt,nd}
if ct sb '
	mount -t tmpfs rt "$ROOT/rt"; echo c >"$ROOT/rt/f"; mount -o remount,ro "$ROOT/rt"
	mount -t tmpfs -o sync,dirsync nd "$ROOT/nd"
	mount -t proc proc "$ROOT/proc"; mount -t tmpfs -o ro mask "$ROOT/proc/acpi"'; then
	rm -rf "$img"
	run_criu dump -R -t "$CPID" -D "$img"
	expect sb-dump [ "$RC" -eq 0 ]
	stop_task "$CPID"
	restore_ns "$img" --root "$ROOTFS"
	expect sb-restore [ "$RC" -eq 0 ]
	expect sb-readonly-contents [ "$(cat /proc/$RPID/root/rt/f 2>/dev/null)" = c ]
	# super options (field 11) must come back as they were
	expect sb-readonly-tmpfs [ "$(awk '$5 == "/rt" {print $NF}' /proc/$RPID/mountinfo)" = ro ]
	expect sb-readonly-masked-dir [ "$(awk '$5 == "/proc/acpi" {print $NF}' /proc/$RPID/mountinfo)" = ro ]
	expect sb-sync-dirsync [ "$(awk '$5 == "/nd" {print $NF}' /proc/$RPID/mountinfo)" = rw,sync,dirsync ]
	stop_task "$RPID"
fi

############################################################################
# 5. An overmounted tmpfs: a clear error, no images, the task goes on, the
#    host is unchanged and no process is left.
mkdir -p "$ROOTFS/ovt"
if ct ovt 'mount -t tmpfs low "$ROOT/ovt"; echo x >"$ROOT/ovt/f"; mount -t tmpfs high "$ROOT/ovt"'; then
	rm -rf "$img"
	before=$(host_mounts)
	run_criu dump -R -t "$CPID" -D "$img"
	expect overmounted-tmpfs-refused [ "$RC" -eq 1 ]
	expect overmounted-tmpfs-message contains "$OUT" ":/ovt: can't reach this tmpfs mount"
	expect overmounted-tmpfs-no-images [ -z "$(ls -A "$img" 2>/dev/null)" ]
	expect overmounted-tmpfs-task-alive kill -0 "$CPID"
	host_same overmounted-tmpfs-host-untouched "$before"
	expect overmounted-tmpfs-no-process [ "$(ph_count)" = "$PH0" ]
	stop_task "$CPID"
fi

############################################################################
# 6. Files of a tmpfs hidden under a mount made inside it (/run with
#    /run/secrets mounted over a non-empty directory) are part of the tmpfs
#    and must survive; so must the mode of the covered directory.
mkdir -p "$ROOTFS/run"
if ct hidden '
	mount -t tmpfs run "$ROOT/run"; mkdir -m 0710 "$ROOT/run/secrets"; echo under >"$ROOT/run/secrets/hidden"
	mount -t tmpfs sec "$ROOT/run/secrets"; echo top >"$ROOT/run/secrets/visible"'; then
	rm -rf "$img"
	run_criu dump -R -t "$CPID" -D "$img"
	expect hidden-dump [ "$RC" -eq 0 ]
	stop_task "$CPID"
	restore_ns "$img" --root "$ROOTFS"
	expect hidden-restore [ "$RC" -eq 0 ]
	if [ -n "$RPID" ]; then
		nsenter -m -t "$RPID" sh -c 'mkdir -p /tmp/peek && mount --bind /run /tmp/peek' 2>/dev/null
		expect tmpfs-file-under-submount-kept \
			[ "$(cat /proc/$RPID/root/tmp/peek/secrets/hidden 2>/dev/null)" = under ]
		expect tmpfs-dir-under-submount-mode \
			[ "$(stat -c %a /proc/$RPID/root/tmp/peek/secrets 2>/dev/null)" = 710 ]
		stop_task "$RPID"
	fi
fi

############################################################################
# 7. A bind mount whose source directory was deleted ("//deleted" in
#    mountinfo): dump must either refuse it clearly, or write images that
#    restore accepts.
mkdir -p "$ROOTFS/data/gone" "$ROOTFS/bind"
if ct deleted 'mount --bind "$ROOT/data/gone" "$ROOT/bind"'; then
	rmdir "$ROOTFS/data/gone"
	rm -rf "$img"
	run_criu dump -R -t "$CPID" -D "$img"
	stop_task "$CPID"
	if [ "$RC" -eq 0 ]; then
		restore_ns "$img" --root "$ROOTFS"
		expect deleted-bind-root [ "$RC" -eq 0 ]
		[ -n "$RPID" ] && stop_task "$RPID"
	else
		expect deleted-bind-root contains "$OUT" "deleted"
	fi
fi

############################################################################
# 8. A bind mount whose root is longer than PATH_MAX (made with a relative
#    source path): the mountinfo line is ~5 KiB. Dump and restore must agree.
mkdir -p "$ROOTFS/lbind"
long=$(python3 -c "print('/'.join(['x' * 100] * 45))")
mkdir -p "$ROOTFS/$long"
cat >"$WORK/longbind.py" <<'EOF'
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
os.chdir(sys.argv[1])
for c in sys.argv[2].split('/'):
    os.chdir(c)
if libc.mount(b".", (sys.argv[1] + "/lbind").encode(), None, 4096, None):
    sys.exit(os.strerror(ctypes.get_errno()))
EOF
if ct longroot 'python3 '"$WORK"'/longbind.py "$ROOT" '"$long"; then
	rm -rf "$img"
	run_criu dump -R -t "$CPID" -D "$img"
	dumped=$RC
	stop_task "$CPID"
	if [ "$dumped" -eq 0 ]; then
		restore_ns "$img" --root "$ROOTFS"
		expect long-root-bind [ "$RC" -eq 0 ]
		[ -n "$RPID" ] && stop_task "$RPID"
	else
		ok long-root-bind # refused at dump: consistent
	fi
fi
rm -rf "$ROOTFS/xxxxxxxxxx"* 2>/dev/null

############################################################################
# 9. Stale images. (a) A dump of a task in criu's own mount namespace writes
#    no mount image; into a directory holding an older container's images,
#    restore must not bring the old container's mounts back.
mkdir -p "$ROOTFS/st"
if ct stale 'mount -t tmpfs oldct "$ROOT/st"'; then
	rm -rf "$img"
	run_criu dump -R -t "$CPID" -D "$img"
	old_sum=$(cat "$img"/* | md5sum)
	# (b) a failed dump into it leaves the previous set as it was
	run_criu dump -R -t "$CPID" -D "$img" --external 'mnt[/nonexistent]:x'
	expect stale-failed-dump-fails [ "$RC" -eq 1 ]
	expect stale-failed-dump-keeps-old-set [ "$(cat "$img"/* | md5sum)" = "$old_sum" ]
	# (c) dumping the same container twice into one directory
	run_criu dump -R -t "$CPID" -D "$img"
	expect dump-twice-same-dir cond '[ "$RC" -eq 0 ] && [ -z "$(ls -A "$img" | grep "\.tmp\.")" ]'
	stop_task "$CPID"
	sleep 1000 &
	own=$!
	run_criu dump -R -t "$own" -D "$img"
	kill "$own"
	if [ "$RC" -eq 0 ]; then
		restore_ns "$img" --root "$ROOTFS"
		expect stale-own-ns-dump-no-old-mounts not grep -q ' /st ' /proc/${RPID:-0}/mountinfo
		[ -n "$RPID" ] && stop_task "$RPID"
	else
		ok stale-own-ns-dump-no-old-mounts
	fi
fi
# (d) a dump that fails while committing (here: inventory.img can't be
#     replaced) must not leave the new mount image next to the old inventory.
mkdir -p "$ROOTFS/sa" "$ROOTFS/sb"
if ct commitA 'mount -t tmpfs A "$ROOT/sa"'; then
	rm -rf "$img"
	run_criu dump -R -t "$CPID" -D "$img"
	stop_task "$CPID"
	a_sum=$(md5sum <"$img/mountpoints-1.img")
	if chattr +i "$img/inventory.img" 2>/dev/null; then
		if ct commitB 'mount -t tmpfs B "$ROOT/sb"'; then
			run_criu dump -R -t "$CPID" -D "$img"
			chattr -i "$img/inventory.img"
			expect partial-commit-fails [ "$RC" -eq 1 ]
			expect partial-commit-no-mixed-set cond '[ ! -e "$img/inventory.img" ] ||
				[ "$(md5sum <"$img/mountpoints-1.img")" = "$a_sum" ]'
			stop_task "$CPID"
		fi
	else
		skip partial-commit-no-mixed-set "chattr +i is not supported on this tmpfs"
	fi
	chattr -i "$img/inventory.img" 2>/dev/null
fi

############################################################################
# 10. Restore variants: --root given as a symlink, relative host paths,
#     mountpoints missing in the root, concurrent restores, a bad --pidfile.
mkdir -p "$WORK/rv" "$ROOTFS/rvbar" "$ROOTFS/rvt/deep"
touch "$ROOTFS/etc/rvfile"
echo rv >"$WORK/rv/f"
echo rvfile >"$WORK/rvfile"
if ct rv '
	mount --bind '"$WORK"'/rv "$ROOT/rvbar"
	mount -t tmpfs deep "$ROOT/rvt/deep"
	mount --bind '"$WORK"'/rvfile "$ROOT/etc/rvfile"'; then
	rm -rf "$img"
	run_criu dump -R -t "$CPID" -D "$img" --external 'mnt[/rvbar]:rv' --external 'mnt[/etc/rvfile]:rvfile'
	stop_task "$CPID"
	before=$(host_mounts)
	ln -sfn root "$WORK/rootlink"
	restore_ns "$img" --root "$WORK/rootlink" --external "mnt[rv]:$WORK/rv" --external "mnt[rvfile]:$WORK/rvfile"
	expect root-symlink [ "$RC" -eq 0 ]
	[ -n "$RPID" ] && stop_task "$RPID"
	restore_ns "$img" --root "$ROOTFS" --external "mnt[rv]:$WORK/rv" --external "mnt[rvfile]:$WORK/rvfile" \
		--pidfile "$WORK/no/such/dir/pidfile"
	expect bad-pidfile-fails [ "$RC" -eq 1 ]
	expect bad-pidfile-no-process [ "$(ph_count)" = "$PH0" ]
	(cd "$WORK" && restore_ns img --root root --external "mnt[rv]:rv" --external "mnt[rvfile]:rvfile" &&
		echo "$RPID" >"$WORK/relpid")
	RPID=$(cat "$WORK/relpid" 2>/dev/null)
	expect relative-paths cond '[ -n "$RPID" ] && [ "$(cat /proc/$RPID/root/rvbar/f 2>/dev/null)" = rv ]'
	[ -n "$RPID" ] && stop_task "$RPID"
	rmdir "$ROOTFS/rvbar"
	rm -rf "$ROOTFS/rvt"
	rm "$ROOTFS/etc/rvfile"
	restore_ns "$img" --root "$ROOTFS" --external "mnt[rv]:$WORK/rv" --external "mnt[rvfile]:$WORK/rvfile"
	expect missing-mountpoints-created cond '[ "$RC" -eq 0 ] && tree_same "$WORK/rv.mi" /proc/$RPID/mountinfo &&
		[ "$(cat /proc/$RPID/root/etc/rvfile)" = rvfile ]'
	[ -n "$RPID" ] && stop_task "$RPID"
	for i in 1 2 3 4; do
		"$CRIU" restore -D "$img" -d --pidfile "$WORK/cpid$i" --root "$ROOTFS" --external "mnt[rv]:$WORK/rv" \
			--external "mnt[rvfile]:$WORK/rvfile" >/dev/null 2>&1 &
	done
	wait
	good=0
	for i in 1 2 3 4; do
		p=$(cat "$WORK/cpid$i" 2>/dev/null) || continue
		echo "$p" >>"$PIDLIST"
		tree_same "$WORK/rv.mi" /proc/$p/mountinfo && good=$((good + 1))
		stop_task "$p"
	done
	expect concurrent-restores [ "$good" -eq 4 ]
	host_same restore-variants-host-untouched "$before"
fi

############################################################################
# 11. Command line and image garbage.
run_criu dump -R -t 1 --external 'mnt[]:smx'
expect opt-bad-auto-flag cond '[ "$RC" -eq 1 ] && contains "$OUT" "unknown flag '\''x'\''"'
# as upstream: any level after -v (4 and above: everything), any text a number
run_criu -v9 check
expect opt-verbosity-upstream cond '[ "$RC" -eq 0 ] && contains "$OUT" "Looks good"'
run_criu --no-such-option check
expect opt-unknown cond '[ "$RC" -eq 1 ] && contains "$OUT" "unknown option --no-such-option"'
run_criu dump -R -D "$WORK/x"
expect opt-dump-needs-pid cond '[ "$RC" -eq 1 ] && contains "$OUT" "add -t PID"'
run_criu restore -D "$WORK/nonexistent-dir"
expect opt-restore-missing-dir cond '[ "$RC" -eq 1 ] && [ ! -e "$WORK/nonexistent-dir" ]'
run_criu check
expect check-looks-good cond '[ "$RC" -eq 0 ] && contains "$OUT" "Looks good"'
expect check-lists-features cond 'grep -qE "^clone3_set_tid +required +yes " <<<"$OUT" &&
	grep -qE "^uffd +optional +(yes|no) " <<<"$OUT"'
run_criu check --feature mnt_id
expect check-one-feature cond '[ "$RC" -eq 0 ] && contains "$OUT" "mnt_id is supported"'
run_criu check --feature no-such-feature
expect check-unknown-feature cond '[ "$RC" -eq 1 ] && contains "$OUT" "criu check --feature list"'
run_criu check --feature list
expect check-feature-list cond '[ "$RC" -eq 0 ] && grep -qx "network_lock_nftables" <<<"$OUT" && grep -qx "uffd-noncoop" <<<"$OUT"'
run_criu check --feature uffd-noncoop
expect check-upstream-name-refused cond '[ "$RC" -eq 1 ] && contains "$OUT" "uffd-noncoop: not supported: criu has no lazy pages"'
head -c 200 /dev/urandom >"$WORK/garbage.img"
: >"$WORK/empty.img"
printf '\x19\x43\x56\x54\x28\x39\x56\x55\xff\xff\xff\x0f' >"$WORK/huge-entry.img"
for f in garbage empty huge-entry; do
	run_criu show -f "$WORK/$f.img"
	expect "show-$f-rejected" cond '[ "$RC" -eq 1 ] && contains "$OUT" "$f.img"'
done
run_criu show -f "$WORK"
expect show-directory-rejected [ "$RC" -eq 1 ]
if ct showct 'mount -t tmpfs s "$ROOT/tmp"; echo x >"$ROOT/tmp/x"'; then
	rm -rf "$img"
	run_criu dump -R -t "$CPID" -D "$img"
	run_criu show -f "$img/inventory.img"
	expect show-inventory cond '[ "$RC" -eq 0 ] && contains "$OUT" "img_version: 0x2"'
	run_criu show -f "$img/$(tmpfs_img "$CPID" /tmp)"
	expect show-tmpfs-archive [ "$RC" -eq 0 ]
	run_criu show -f "$img/mountpoints-1.img" -F mountpoint,no_such_field
	expect show-unknown-field cond '[ "$RC" -eq 1 ] && contains "$OUT" "unknown field '\''no_such_field'\''"'
	stop_task "$CPID"
fi

############################################################################
# 12. Propagation between the restored namespace and the host. Last: these
#     make shared mounts in the sandbox, and later containers would see them.
#
# (a) A volume shared with the host, with a tmpfs the container mounted
#     inside it (it propagated to the host then, and is still there). Restore
#     must not stack a second copy on the host.
mkdir -p "$WORK/sh1/sub" "$ROOTFS/vol" "$ROOTFS/t2"
mount --bind "$WORK/sh1" "$WORK/sh1"
mount --make-shared "$WORK/sh1"
if ct shvol 'mount --bind '"$WORK"'/sh1 "$ROOT/vol"' \
	"$(loop 'mount -t tmpfs inner /vol/sub; mount -t tmpfs t2 /t2')" && wait_mp "$CPID" /t2; then
	cp /proc/$CPID/mountinfo "$WORK/shvol.mi"
	rm -rf "$img"
	run_criu dump -R -t "$CPID" -D "$img" --external 'mnt[/vol]:vol'
	expect shared-volume-dump [ "$RC" -eq 0 ]
	t2img=$(tmpfs_img "$CPID" /t2)
	stop_task "$CPID"
	n_before=$(count_at "$WORK/sh1/sub")
	before=$(host_mounts)
	restore_ns "$img" --root "$ROOTFS" --external "mnt[vol]:$WORK/sh1"
	expect shared-volume-restore [ "$RC" -eq 0 ]
	expect shared-volume-restore-no-host-mounts [ "$(count_at "$WORK/sh1/sub")" = "$n_before" ]
	[ -n "$RPID" ] && stop_task "$RPID"
	while [ "$(count_at "$WORK/sh1/sub")" -gt "$n_before" ]; do umount "$WORK/sh1/sub"; done
	# (b) a restore that fails after /vol/sub was attached (a later tmpfs has
	#     no archive) must leave nothing on the host
	cp -a "$img" "$img-broken"
	rm -f "$img-broken/$t2img"
	before=$(host_mounts)
	restore_ns "$img-broken" --root "$ROOTFS" --external "mnt[vol]:$WORK/sh1"
	expect shared-volume-failed-restore-fails [ "$RC" -eq 1 ]
	host_same shared-volume-failed-restore-host-untouched "$before"
	expect shared-volume-failed-restore-no-process [ "$(ph_count)" = "$PH0" ]
	while [ "$(count_at "$WORK/sh1/sub")" -gt "$n_before" ]; do umount "$WORK/sh1/sub"; done
fi
umount -R "$WORK/sh1"

# (b2) A volume shared with the host (Kubernetes "Bidirectional") bound
#      twice in the container: both binds are peers of the host mount, so a
#      mount made on the host shows inside. It must after restore too.
mkdir -p "$WORK/sh4/sub" "$ROOTFS/vol2"
mount --bind "$WORK/sh4" "$WORK/sh4"
mount --make-shared "$WORK/sh4"
if ct sh4 'mount --bind '"$WORK"'/sh4 "$ROOT/vol"; mount --bind "$ROOT/vol" "$ROOT/vol2"'; then
	rm -rf "$img" "$img-auto"
	run_criu dump -R -t "$CPID" -D "$img" --external 'mnt[/vol]:vol'
	run_criu dump -R -t "$CPID" -D "$img-auto" --external 'mnt[]:s'
	expect shared-two-binds-dump [ "$RC" -eq 0 ]
	stop_task "$CPID"
	for d in "$img" "$img-auto"; do
		n=shared-two-binds$([ "$d" = "$img" ] || echo -auto)
		if [ "$d" = "$img" ]; then
			restore_ns "$d" --root "$ROOTFS" --external "mnt[vol]:$WORK/sh4"
		else
			restore_ns "$d" --root "$ROOTFS" --external 'mnt[]'
		fi
		expect "$n-restore" [ "$RC" -eq 0 ]
		[ -n "$RPID" ] || continue
		mount -t tmpfs hostprobe "$WORK/sh4/sub"
		expect "$n-host-to-container" cond 'grep -q " /vol/sub .* hostprobe " /proc/$RPID/mountinfo'
		umount "$WORK/sh4/sub"
		stop_task "$RPID"
	done
fi
umount -R "$WORK/sh4"

# (c) A volume that is a slave of the host and shared inside the container
#     (shared:N master:M, as after "mount --make-rslave; mount --make-shared").
#     Restored, it must stay a slave: mounts made in it must not reach the host.
mkdir -p "$WORK/sh2/sub" "$ROOTFS/vol2"
mount --bind "$WORK/sh2" "$WORK/sh2"
mount --make-shared "$WORK/sh2"
if ct slsh 'mount --bind '"$WORK"'/sh2 "$ROOT/vol"; mount --make-slave "$ROOT/vol"' \
	"$(loop 'mount --make-shared /vol; touch /vol/ready')" && wait_file "$WORK/sh2/ready"; then
	cp /proc/$CPID/mountinfo "$WORK/slsh.mi"
	rm -rf "$img" "$img-auto"
	run_criu dump -R -t "$CPID" -D "$img" --external 'mnt[/vol]:vol'
	expect slave-shared-dump [ "$RC" -eq 0 ]
	run_criu dump -R -t "$CPID" -D "$img-auto" --external 'mnt[]:sm'
	expect slave-shared-auto-dump [ "$RC" -eq 0 ]
	stop_task "$CPID"
	for d in "$img" "$img-auto"; do
		n=slave-shared$([ "$d" = "$img" ] || echo -auto)
		before=$(host_mounts)
		if [ "$d" = "$img" ]; then
			restore_ns "$d" --root "$ROOTFS" --external "mnt[vol]:$WORK/sh2"
		else
			restore_ns "$d" --root "$ROOTFS" --external 'mnt[]'
		fi
		expect "$n-restore" [ "$RC" -eq 0 ]
		[ -n "$RPID" ] || continue
		expect "$n-same-tree" tree_same "$WORK/slsh.mi" /proc/$RPID/mountinfo
		nsenter -m -t "$RPID" mount -t tmpfs probe /vol/sub 2>/dev/null
		host_same "$n-no-leak" "$before"
		while [ "$(count_at "$WORK/sh2/sub")" -gt 0 ]; do umount "$WORK/sh2/sub"; done
		stop_task "$RPID"
	done
fi
# (d) The same with a second bind of that volume in the container: both
#     are peers inside and slaves of the host. Dump accepts it with mnt[]:sm,
#     so restore must rebuild it.
if ct slsh2 'mount --bind '"$WORK"'/sh2 "$ROOT/vol"; mount --make-slave "$ROOT/vol"' \
	"$(loop 'mount --make-shared /vol; mount --bind /vol /vol2')" && wait_mp "$CPID" /vol2; then
	cp /proc/$CPID/mountinfo "$WORK/slsh2.mi"
	rm -rf "$img"
	run_criu dump -R -t "$CPID" -D "$img" --external 'mnt[]:sm'
	expect slave-shared-two-binds-dump [ "$RC" -eq 0 ]
	stop_task "$CPID"
	restore_ns "$img" --root "$ROOTFS" --external 'mnt[]'
	expect slave-shared-two-binds-restore cond '[ "$RC" -eq 0 ] && tree_same "$WORK/slsh2.mi" /proc/$RPID/mountinfo'
	[ -n "$RPID" ] && stop_task "$RPID"
fi
umount -R "$WORK/sh2"

# (e) Everything of the sandbox shared (as on a systemd host), the volume's
#     host dir and --root shared mounts too: restore adds nothing to it.
mkdir -p "$WORK/sh3" "$ROOTFS/pa" "$ROOTFS/pb"
if ct rshared '
	mount --bind '"$WORK"'/sh3 "$ROOT/vol"
	mount -t tmpfs peer "$ROOT/pa"; mount --make-shared "$ROOT/pa"; mount --bind "$ROOT/pa" "$ROOT/pb"
	mount -t proc proc "$ROOT/proc"'; then
	rm -rf "$img"
	run_criu dump -R -t "$CPID" -D "$img" --external 'mnt[/vol]:vol'
	stop_task "$CPID"
	mount --make-rshared "$WORK"
	mount --bind "$WORK/sh3" "$WORK/sh3"
	mount --bind "$ROOTFS" "$ROOTFS"
	before=$(host_mounts)
	restore_ns "$img" --root "$ROOTFS" --external "mnt[vol]:$WORK/sh3"
	expect rshared-host-restore [ "$RC" -eq 0 ]
	expect rshared-host-same-tree tree_same "$WORK/rshared.mi" /proc/$RPID/mountinfo
	host_same rshared-host-untouched "$before"
	nsenter -m -t "$RPID" sh -c 'mount -t tmpfs x /vol; mount -t tmpfs y /pa; mount -t tmpfs z /tmp' 2>/dev/null
	host_same rshared-host-container-mounts-stay-inside "$before"
	stop_task "$RPID"
fi

expect no-placeholder-left [ "$(ph_count)" = "$PH0" ]
finish

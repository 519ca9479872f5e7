#!/bin/bash
# End-to-end: a container with a second mount namespace (issue 15, "mount
# namespaces, all of them").
#
# The container (pid + mount namespaces, its own root) has tmpfs /shared and
# /s2, both shared, and host dirs H1 -> /ext1, H2 -> /ext2. A child runs
# `unshare -m --propagation unchanged` (a copy that keeps the peer groups),
# makes /s2 a slave there, holds /ext2/f open and sleeps; the container's
# namespace then unmounts /ext2, which is left in the nested one only.
#
# Dump: one mountpoints-<id>.img per namespace, each task's ids naming its
# own; the nested /ext1 written as a bind of e1, /ext2 named by its
# /proc/<vpid>/root key (or autodetected with mnt[]); peer groups and the
# master of /s2 the same across images; bad keys and a nested namespace
# under a root in criu's namespace refused, the tree running on as it was.
# Restore (--external mnt[e1]:H1 mnt[e2]:H2): two distinct namespaces with
# the mounts they had, /shared propagating both ways, /s2 from the root's
# to the nested one only, /ext2/f still open and H2's.
. "$(dirname "$0")/lib.sh"

ROOTFS=$WORK/root
make_rootfs "$ROOTFS"
# busybox's unshare can't keep the propagation (--propagation unchanged fails)
cp "$TOP/test/helpers/unshare-mnt-static" "$ROOTFS/bin/unshare-mnt"
cp "$TOP/test/helpers/unixlisten-static" "$ROOTFS/bin/unixlisten"
mknod -m 666 "$ROOTFS/dev/null" c 1 3 # the stdin of background jobs
mkdir -p "$ROOTFS"/{shared,s2,ext1,ext2,priv,x} "$WORK/H1" "$WORK/H2"
# /x/f: opened before the unshare, so on a mount of the root's namespace,
# which then covers /x: the nested process's file is the real one still
echo real >"$ROOTFS/x/f"
echo h1 >"$WORK/H1/f"
echo h2 >"$WORK/H2/f"
img=$WORK/img

SETUP='
	mount -t tmpfs shared "$ROOT/shared"; mount --make-shared "$ROOT/shared"
	mount -t tmpfs s2 "$ROOT/s2"; mount --make-shared "$ROOT/s2"
	mount --bind '"$WORK"'/H1 "$ROOT/ext1"
	mount --bind '"$WORK"'/H2 "$ROOT/ext2"'
# the container init: the nested namespace first, then /ext2 goes from its own
PROG='rm -f /tmp/nested-ready /tmp/ct-ready
exec 7</x/f
unshare-mnt sh -c "mount --make-slave /s2 && mount -t tmpfs priv /priv && { unixlisten /priv/sock </dev/null & } && busybox mkfifo /priv/fifo && exec 6<>/priv/fifo && exec 5</ext2/f && while [ ! -S /priv/sock ]; do sleep 0.1; done && echo >/tmp/nested-ready && while :; do sleep 1; done" &
exec 7<&-
while [ ! -e /tmp/nested-ready ]; do sleep 0.1; done
mount -t tmpfs decoy /x && echo decoy >/x/f && umount /ext2 && echo >/tmp/ct-ready
while :; do sleep 1; done'

# cond 'SHELL CONDITION': for expect, so that "a && b" is checked as a whole
cond() { eval "$1"; }
mntns() { readlink "/proc/$1/ns/mnt" 2>/dev/null; }
# nested_of PID: the child of PID in another mount namespace than PID's
nested_of() {
	local c
	for c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
		[ "$(mntns "$c")" != "$(mntns "$1")" ] && { echo "$c"; return 0; }
	done
	return 1
}
vpid_of() { awk '/^NSpid:/ {print $NF}' "/proc/$1/status"; }
# shown FILE FIELDS: criu show's entries of an image, one a line
shown() { "$CRIU" show -f "$1" -F "$2" 2>&1; }
# field NAME LINE: the value of "NAME: VALUE" in a line of criu show
field() { grep -o "\b$1: [^ ]*" <<<"$2" | head -n 1 | cut -d' ' -f2; }
# entry IMG MOUNTPOINT: the line of the mount at MOUNTPOINT
entry() { shown "$1" mnt_id,mountpoint,root,ext_key,source,shared_id,master_id | grep "mountpoint: $2 "; }
# in_ns PID CMD...: CMD run in the mount namespace (and root) of PID
in_ns() {
	local p=$1
	shift
	nsenter -t "$p" -m -r -w -- "$@"
}
# has_mp PID MOUNTPOINT: PID's namespace has a mount there
has_mp() { awk -v mp="$2" '$5 == mp {f = 1} END {exit !f}' "/proc/$1/mountinfo"; }
# propagates NAME FROM TO DIR WANT: a tmpfs mounted under DIR in FROM's
# namespace shows in TO's (WANT yes) or not (no); unmounted after
N=0
propagates() {
	local name=$1 from=$2 to=$3 dir=$4 want=$5 mp got=no
	N=$((N + 1))
	mp=$dir/p$N
	if ! in_ns "$from" sh -c "mkdir -p $mp && mount -t tmpfs p$N $mp"; then
		fail "$name" "can't mount $mp in the namespace of $from"
		return
	fi
	wait_until 1 has_mp "$to" "$mp" && got=yes
	in_ns "$from" umount "$mp"
	if [ "$got" = "$want" ]; then ok "$name"; else fail "$name" "a mount at $mp in $from's namespace: in $to's: $got, want $want"; fi
}
# running_as_before NAME: the container and its nested task go on, unchanged
running_as_before() {
	if ! kill -0 "$CPID" 2>/dev/null || ! kill -0 "$NPID" 2>/dev/null; then
		fail "$1" "the tree is gone"
	elif ! tree_same "$WORK/ns1.mi" /proc/$CPID/mountinfo || ! tree_same "$WORK/ns2.mi" /proc/$NPID/mountinfo; then
		fail "$1" "the mounts changed"
	elif [ "$(readlink /proc/$NPID/fd/5)" != /ext2/f ]; then
		fail "$1" "/ext2/f is no longer open"
	else
		ok "$1"
	fi
}
tree_same() { python3 "$TOP/test/e2e/mntcmp.py" "$@" >/dev/null 2>&1; }

############################################################################
# The container
CPID=$(start_container "$ROOTFS" "$SETUP" "$PROG") || { fail start "the container did not start"; finish; }
if ! wait_until 10 test -e "$ROOTFS/tmp/ct-ready" || ! NPID=$(nested_of "$CPID"); then
	fail start "no nested namespace: $(cat "$WORK/container.log")"
	finish
fi
V=$(vpid_of "$NPID")
cp /proc/$CPID/mountinfo "$WORK/ns1.mi"
cp /proc/$NPID/mountinfo "$WORK/ns2.mi"
# the fixture is what the test means: two namespaces, /ext2 in the nested one only
expect setup-two-namespaces cond '[ "$(mntns $CPID)" != "$(mntns $NPID)" ] && [ "$(mntns $NPID)" != "$(mntns $$)" ]'
expect setup-ext2-nested-only cond '! has_mp $CPID /ext2 && has_mp $NPID /ext2 && has_mp $NPID /ext1'
propagates setup-shared-root-to-nested "$CPID" "$NPID" /shared yes
propagates setup-shared-nested-to-root "$NPID" "$CPID" /shared yes
propagates setup-s2-root-to-nested "$CPID" "$NPID" /s2 yes
propagates setup-s2-not-nested-to-root "$NPID" "$CPID" /s2 no

############################################################################
# Refusals: the tree runs on as it was
run_criu dump -t "$CPID" -D "$img" --external 'mnt[/ext1]:e1'
expect refused-no-key-for-nested cond '[ "$RC" -ne 0 ] && contains "$OUT" "mnt[/proc/$V/root/ext2]:NAME"'
running_as_before refused-no-key-running
run_criu dump -t "$CPID" -D "$img" --external 'mnt[/ext1]:e1' --external 'mnt[/proc/999/root/ext2]:e2'
expect refused-unknown-vpid cond '[ "$RC" -ne 0 ] && contains "$OUT" "there is no process 999 in the dumped tree"'
running_as_before refused-unknown-vpid-running
run_criu dump -t "$CPID" -D "$img" --external 'mnt[/ext1]:e1' --external "mnt[/proc/$V/root/ext2]:e2" \
	--external "mnt[/proc/$V/root/nothing]:x"
expect refused-no-such-mount cond '[ "$RC" -ne 0 ] && contains "$OUT" "no mount at /nothing in the container as that process sees it"'
running_as_before refused-no-such-mount-running
# /ext2 is not a mount of the root's namespace: the plain key names that one
run_criu dump -t "$CPID" -D "$img" --external 'mnt[/ext1]:e1' --external 'mnt[/ext2]:e2'
expect refused-plain-key-names-root-ns cond '[ "$RC" -ne 0 ] && contains "$OUT" "no mount at /ext2 in the container" &&
	contains "$OUT" "name it with --external mnt[/proc/$V/root/ext2]:NAME"'
expect refused-no-images cond '[ ! -e "$img/inventory.img" ] && ! ls "$img"/mountpoints-*.img >/dev/null 2>&1'

############################################################################
# Dump with names
rm -rf "$img"
run_criu dump -R -t "$CPID" -D "$img" --external 'mnt[/ext1]:e1' --external "mnt[/proc/$V/root/ext2]:e2"
expect dump-named [ "$RC" -eq 0 ]
running_as_before dump-named-running
expect dump-two-images cond '[ "$(cd "$img" && ls mountpoints-*.img | tr "\n" " ")" = "mountpoints-1.img mountpoints-2.img " ]'
ids1=$(shown "$img/ids-1.img" mnt_ns_id)
ids2=$(shown "$img/ids-$V.img" mnt_ns_id)
inv=$(shown "$img/inventory.img" root_ids)
expect dump-ids-root-ns1 [ "$(field mnt_ns_id "$ids1")" = 0x1 ]
expect dump-ids-nested-ns2 [ "$(field mnt_ns_id "$ids2")" = 0x2 ]
# every process: the nested shell and its children in 2, the others in 1
ids_right() {
	local pid ppid want got bad=""
	while read -r pid ppid; do
		pid=$((pid)) ppid=$((ppid)) want=1
		{ [ "$pid" -eq "$V" ] || [ "$ppid" -eq "$V" ]; } && want=2
		got=$(field mnt_ns_id "$(shown "$img/ids-$pid.img" mnt_ns_id)")
		[ "$((got))" -eq "$want" ] || bad="$bad $pid:$got"
	done < <(shown "$img/pstree.img" pid,ppid | sed 's/pid: //; s/ppid: //')
	[ -z "$bad" ] || { echo "wrong mnt_ns_id:$bad" >&2; return 1; }
}
expect dump-ids-every-process ids_right
expect dump-root-ids-criu-ns cond '[ "$(field mnt_ns_id "$inv")" = 0x3 ]'
e1=$(entry "$img/mountpoints-1.img" /ext1)
n1=$(entry "$img/mountpoints-2.img" /ext1)
n2=$(entry "$img/mountpoints-2.img" /ext2)
expect dump-root-ext1-named cond '[ "$(field ext_key "$e1")" = e1 ] && [ "$(field root "$e1")" = e1 ]'
expect dump-nested-ext1-bind-of-e1 cond '[ "$(field ext_key "$n1")" = e1 ] && [ "$(field root "$n1")" = e1 ]'
expect dump-nested-ext2-named cond '[ "$(field ext_key "$n2")" = e2 ] && [ "$(field root "$n2")" = e2 ]'
expect dump-no-ext2-in-root-image cond '[ -z "$(entry "$img/mountpoints-1.img" /ext2)" ]'
s1=$(entry "$img/mountpoints-1.img" /shared) s2=$(entry "$img/mountpoints-2.img" /shared)
t1=$(entry "$img/mountpoints-1.img" /s2) t2=$(entry "$img/mountpoints-2.img" /s2)
expect dump-shared-group-across cond '[ -n "$(field shared_id "$s1")" ] && [ "$(field shared_id "$s1")" = "$(field shared_id "$s2")" ]'
expect dump-s2-slave-across cond '[ -n "$(field shared_id "$t1")" ] && [ "$(field master_id "$t2")" = "$(field shared_id "$t1")" ] && [ -z "$(field shared_id "$t2")" ]'
# mnt ids unique across the images, each namespace's root first
ids_all=$(cat <(shown "$img/mountpoints-1.img" mnt_id) <(shown "$img/mountpoints-2.img" mnt_id) | grep -o 'mnt_id: [^ ]*')
expect dump-mnt-ids-unique [ "$(sort <<<"$ids_all" | uniq -d | wc -l)" -eq 0 ]
expect dump-nested-root-first cond 'shown "$img/mountpoints-2.img" mountpoint | head -n 1 | grep -q "mountpoint: /\$"'
# the tmpfs of /shared is archived once, though both namespaces mount it (with /s2, /priv and /x: 4)
expect dump-one-tmpfs-archive-per-sb [ "$(ls "$img"/tmpfs-dev-*.img | wc -l)" -eq 4 ]

# Dump with autodetection
rm -rf "$img-auto"
run_criu dump -R -t "$CPID" -D "$img-auto" --external 'mnt[]'
expect dump-auto [ "$RC" -eq 0 ]
a2=$(entry "$img-auto/mountpoints-2.img" /ext2)
expect dump-auto-nested-ext2 cond '[ "$(field ext_key "$a2")" = CRIU:AUTOGENERATED ] && [ "$(field source "$a2")" = "$WORK/H2" ]'
running_as_before dump-auto-running

############################################################################
# A nested mount namespace under a root that shares criu's: refused
# the tree: a bash whose child is in a namespace of its own
bash -c "unshare -m --propagation unchanged sleep 1001 & wait" </dev/null >/dev/null 2>&1 &
HT=$!
disown "$HT"
echo "$HT" >>"$PIDLIST"
wait_until 5 eval 'c=$(cat /proc/$HT/task/*/children 2>/dev/null); [ -n "$c" ] && [ "$(mntns $c)" != "$(mntns $$)" ]'
run_criu dump -R -t "$HT" -D "$img-host"
expect refused-nested-under-host cond '[ "$RC" -ne 0 ] && contains "$OUT" "shares criu'"'"'s: nested mount namespaces are dumped only under a root with its own"'
expect refused-nested-under-host-running kill -0 "$HT"
stop_task "$HT"

############################################################################
# A chrooted process (below the container's root, or below its nested
# namespace's) would come back at its namespace's root: refused
R2=$WORK/root2
make_rootfs "$R2"
cp "$TOP/test/helpers/unshare-mnt-static" "$R2/bin/unshare-mnt"
make_rootfs "$R2/jail"
mknod -m 666 "$R2/dev/null" c 1 3 # the stdin of background jobs
for where in container nested; do
	jailed='chroot /jail /bin/sh -c "while :; do sleep 1; done"'
	[ "$where" = nested ] && jailed="unshare-mnt $jailed"
	C2=$(start_container "$R2" "" "$jailed & while :; do sleep 1; done") || { fail "chroot-$where-start" "no container"; continue; }
	wait_until 5 eval '[ -n "$(cat /proc/$C2/task/*/children 2>/dev/null)" ]'
	sleep 0.3
	run_criu dump -R -t "$C2" -D "$img-chroot"
	expect "refused-chroot-$where" cond '[ "$RC" -ne 0 ] && contains "$OUT" "has a root directory of its own (chroot)"'
	expect "refused-chroot-$where-running" kill -0 "$C2"
	stop_task "$C2"
done

############################################################################
# Restore
stop_task "$CPID"
H2INO=$(stat -c %d:%i "$WORK/H2/f")
# a failure while the nested namespace is built (e2, a directory, mapped to
# a file): nothing is left mounted or running
before=$(host_mounts)
echo x >"$WORK/afile"
run_criu restore -D "$img" -d --root "$ROOTFS" --external "mnt[e1]:$WORK/H1" --external "mnt[e2]:$WORK/afile"
expect restore-fails-in-nested cond '[ "$RC" -ne 0 ] && contains "$OUT" "/ext2"'
expect restore-fails-nothing-mounted cond '[ "$(host_mounts)" = "$before" ]'
expect restore-fails-nothing-running cond '[ -z "$(pgrep -f unixlisten)" ]'

if restore_ns "$img" --root "$ROOTFS" --external "mnt[e1]:$WORK/H1" --external "mnt[e2]:$WORK/H2"; then
	ok restore
else
	fail restore "rc $RC: $OUT"
fi
if [ -n "${RPID:-}" ] && kill -0 "$RPID" 2>/dev/null && RN=$(nested_of "$RPID"); then
	expect restore-distinct-namespaces cond '[ "$(mntns $RPID)" != "$(mntns $RN)" ] && [ "$(mntns $RN)" != "$(mntns $$)" ] && [ "$(mntns $RPID)" != "$(mntns $$)" ]'
	same_mounts restore-root-ns-mounts "$WORK/ns1.mi" "$RPID"
	same_mounts restore-nested-ns-mounts "$WORK/ns2.mi" "$RN"
	expect restore-ext2-open cond '[ "$(readlink /proc/$RN/fd/5)" = /ext2/f ] && [ "$(stat -L -c %d:%i /proc/$RN/fd/5)" = "$H2INO" ]'
	# the service's socket (PrivateTmp-like /priv): bound in its own namespace's /priv again
	expect restore-socket-in-nested-ns cond '[ "$(stat -c %F /proc/$RN/root/priv/sock)" = socket ] && [ ! -e "$ROOTFS/priv/sock" ]'
	expect restore-fifo-in-nested-ns cond '[ "$(stat -L -c %d:%i /proc/$RN/fd/6)" = "$(stat -c %d:%i /proc/$RN/root/priv/fifo)" ]'
	expect restore-file-opened-before-unshare cond '[ "$(cat /proc/$RN/fd/7)" = real ] && [ "$(cat /proc/$RPID/root/x/f)" = decoy ]'
	expect restore-ext1-is-h1 cond '[ "$(cat /proc/$RN/root/ext1/f)" = h1 ] && [ "$(cat /proc/$RPID/root/ext1/f)" = h1 ]'
	propagates restore-shared-root-to-nested "$RPID" "$RN" /shared yes
	propagates restore-shared-nested-to-root "$RN" "$RPID" /shared yes
	propagates restore-s2-root-to-nested "$RPID" "$RN" /s2 yes
	propagates restore-s2-not-nested-to-root "$RN" "$RPID" /s2 no
	stop_task "$RPID"
else
	fail restore-nested "no restored tree with a nested namespace (root ${RPID:-none})"
fi
finish

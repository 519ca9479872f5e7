#!/bin/bash
# End-to-end: the mount half of `criu restore`. Each scenario builds a real
# container, dumps its mounts, kills it, restores the namespace and compares
# the restored mountinfo with the dumped one (same tree, roots, flags and
# propagation; ids may differ) and the files seen through each mount.
. "$(dirname "$0")/lib.sh"

ROOTFS=$WORK/root
make_rootfs "$ROOTFS"
mkdir -p "$WORK/foo/sub" "$WORK/foo2/sub" "$ROOTFS/bar" "$ROOTFS/sub" "$ROOTFS/data/a/x" "$ROOTFS/data/b" \
	"$ROOTFS/data/c" "$ROOTFS/o" "$ROOTFS/ro" "$ROOTFS/etc" "$ROOTFS/tmp" "$ROOTFS/a" "$ROOTFS/b" "$ROOTFS/vol" \
	"$WORK/shared"
echo "foo" >"$WORK/foo/file"
echo "foo2" >"$WORK/foo2/file"
echo "foo2-sub" >"$WORK/foo2/sub/file"
echo "a" >"$ROOTFS/data/a/file"
echo "b" >"$ROOTFS/data/b/file"
echo "c" >"$ROOTFS/data/c/file"
echo "127.0.0.1 host" >"$WORK/hosts"
echo "10.0.0.1 other" >"$WORK/hosts2"
touch "$ROOTFS/etc/hosts"
img=$WORK/img

# dump_container NAME SETUP DUMP-ARGS...: start, dump, save mountinfo, kill.
dump_container() {
	local name=$1 setup=$2
	shift 2
	rm -rf "$img"
	CPID=$(start_container "$ROOTFS" "$setup") || { fail "$name-start" "container did not start"; return 1; }
	cp /proc/$CPID/mountinfo "$WORK/$name.mi"
	run_criu dump -t "$CPID" -D "$img" "$@"
	stop_task "$CPID"
	[ "$RC" -eq 0 ] || { fail "$name-dump" "$OUT"; return 1; }
}

# 1. The seed: dumped with mnt[/bar]:barmount, restored with mnt[barmount]:/foo2.
SEED='
	mount --bind '"$WORK"'/foo "$ROOT/bar"
	mount -t proc proc "$ROOT/proc"
	mount -t tmpfs -o size=4m,mode=1777 tmpfs "$ROOT/tmp"
	mount --bind "$ROOT/data/a" "$ROOT/o"
'
if dump_container seed "$SEED" --external 'mnt[/bar]:barmount'; then
	before=$(host_mounts)
	restore_ns "$img" --root "$ROOTFS" --external "mnt[barmount]:$WORK/foo2"
	expect seed-restored [ "$RC" -eq 0 ]
	same_mounts seed-same-tree "$WORK/seed.mi" "$RPID" "/foo=/foo2"
	expect seed-sees-mapped-files [ "$(cat /proc/$RPID/root/bar/file)" = foo2 ]
	expect seed-internal-bind [ "$(cat /proc/$RPID/root/o/file)" = a ]
	expect seed-host-untouched [ "$(host_mounts)" = "$before" ]
	stop_task "$RPID"
	# the older spelling
	restore_ns "$img" --root "$ROOTFS" --ext-mount-map "barmount:$WORK/foo2"
	expect seed-legacy-map [ "$RC" -eq 0 ] && [ "$(cat /proc/$RPID/root/bar/file)" = foo2 ]
	stop_task "$RPID"
fi

# 2. Errors, each before anything is created: the host stays as it was.
if dump_container errors "$SEED" --external 'mnt[/bar]:barmount'; then
	before=$(host_mounts)
	ph=$(placeholders)
	barid=$(awk '$5 == "/bar" {print $1}' "$WORK/errors.mi")
	restore_ns "$img" --root "$ROOTFS"
	expect no-mapping-fails [ "$RC" -eq 1 ]
	expect no-mapping-message contains "$OUT" "No mapping for $barid:/bar mountpoint (name 'barmount'): add --external mnt[barmount]:<host path>"
	restore_ns "$img" --root "$ROOTFS" --external "mnt[barmount]:$WORK/nonexistent"
	expect missing-host-path-fails [ "$RC" -eq 1 ]
	expect missing-host-path-message contains "$OUT" "$WORK/nonexistent (for 'barmount') does not exist"
	restore_ns "$img" --root "$ROOTFS" --external "mnt[barmount]:$WORK/hosts"
	expect file-for-dir-fails [ "$RC" -eq 1 ]
	expect file-for-dir-message contains "$OUT" "is a file, but the mountpoint is a directory"
	restore_ns "$img" --external "mnt[barmount]:$WORK/foo2"
	expect missing-root-fails [ "$RC" -eq 1 ]
	expect missing-root-message contains "$OUT" "add --root ROOTFS"
	restore_ns "$img" --root "$ROOTFS" --external "mnt[barmount]:$WORK/foo2" --external "mnt[barmnt]:$WORK/foo2"
	expect unknown-name-fails [ "$RC" -eq 1 ]
	expect unknown-name-message contains "$OUT" "no mount in the image is named 'barmnt'"
	restore_ns "$img" --root "$WORK/nonexistent-root" --external "mnt[barmount]:$WORK/foo2"
	expect bad-root-fails [ "$RC" -eq 1 ]
	# a symlink planted at the mountpoint must not send the mount anywhere
	mv "$ROOTFS/bar" "$ROOTFS/bar.real"
	mkdir -p "$WORK/victim"
	ln -s "$WORK/victim" "$ROOTFS/bar"
	restore_ns "$img" --root "$ROOTFS" --external "mnt[barmount]:$WORK/foo2"
	expect symlink-mountpoint-refused [ "$RC" -eq 1 ]
	expect symlink-message contains "$OUT" "symlink"
	expect symlink-victim-untouched [ -z "$(ls -A "$WORK/victim")" ]
	rm "$ROOTFS/bar"
	mv "$ROOTFS/bar.real" "$ROOTFS/bar"
	# a damaged image is rejected
	cp -a "$img" "$WORK/img-bad"
	mimg=$(ls "$WORK/img-bad"/mountpoints-*.img)
	head -c 40 "$mimg" >"$mimg.tmp" && mv "$mimg.tmp" "$mimg"
	restore_ns "$WORK/img-bad" --root "$ROOTFS" --external "mnt[barmount]:$WORK/foo2"
	expect truncated-image-fails [ "$RC" -eq 1 ]
	expect truncated-image-message contains "$OUT" "truncated"
	rm -f "$WORK/img-bad/inventory.img"
	restore_ns "$WORK/img-bad" --root "$ROOTFS"
	expect no-inventory-fails [ "$RC" -eq 1 ]
	expect errors-host-untouched [ "$(host_mounts)" = "$before" ]
	expect errors-no-tasks-left [ "$(placeholders)" = "$ph" ]
fi

# 3. Autodetected: restored only when allowed.
if dump_container auto "$SEED" --external 'mnt[]'; then
	before=$(host_mounts)
	restore_ns "$img" --root "$ROOTFS"
	expect auto-needs-permission [ "$RC" -eq 1 ]
	expect auto-permission-message contains "$OUT" "add --external mnt[]"
	expect auto-refused-host-untouched [ "$(host_mounts)" = "$before" ]
	restore_ns "$img" --root "$ROOTFS" --external 'mnt[]'
	expect auto-restored [ "$RC" -eq 0 ]
	same_mounts auto-same-tree "$WORK/auto.mi" "$RPID"
	expect auto-sees-host-files [ "$(cat /proc/$RPID/root/bar/file)" = foo ]
	stop_task "$RPID"
	restore_ns "$img" --root "$ROOTFS" --ext-mount-map auto
	expect auto-legacy-restored [ "$RC" -eq 0 ]
	stop_task "$RPID"
fi

# 4. A file bind mount, a bind of a subdirectory of an external mount, a
#    read-only external mount.
MIXED='
	mount --bind '"$WORK"'/hosts "$ROOT/etc/hosts"
	mount --bind '"$WORK"'/foo "$ROOT/bar"
	mount --bind '"$WORK"'/foo/sub "$ROOT/sub"
	mount --bind '"$WORK"'/foo "$ROOT/ro"
	mount -o remount,bind,ro "$ROOT/ro"
'
MIXED_IMG=""
if dump_container mixed "$MIXED" --external 'mnt[/etc/hosts]:hosts' --external 'mnt[/bar]:barmount' \
	--external 'mnt[/ro]:romount'; then
	run_criu show -f "$(ls "$img"/mountpoints-*.img)" -F mountpoint,root,ext_key
	expect subdir-named-in-image contains "$OUT" "mountpoint: /sub root: barmount/sub ext_key: barmount"
	expect subdir-no-host-path not grep -qaF "$WORK/foo" "$(ls "$img"/mountpoints-*.img)"
	restore_ns "$img" --root "$ROOTFS" --external "mnt[hosts]:$WORK/hosts2" \
		--external "mnt[barmount]:$WORK/foo2" --external "mnt[romount]:$WORK/foo2"
	expect mixed-restored [ "$RC" -eq 0 ] && MIXED_IMG=$img
	same_mounts mixed-same-tree "$WORK/mixed.mi" "$RPID" "/foo=/foo2" "/hosts=/hosts2"
	expect file-bind-content [ "$(cat /proc/$RPID/root/etc/hosts)" = "10.0.0.1 other" ]
	expect subdir-of-external [ "$(cat /proc/$RPID/root/sub/file)" = foo2-sub ]
	expect ro-external-is-ro grep -q " /ro ro," /proc/$RPID/mountinfo
	stop_task "$RPID"
	restore_ns "$img" --root "$ROOTFS" --external "mnt[hosts]:$WORK/foo2" \
		--external "mnt[barmount]:$WORK/foo2" --external "mnt[romount]:$WORK/foo2"
	expect dir-for-file-fails [ "$RC" -eq 1 ]
	expect dir-for-file-message contains "$OUT" "is a directory, but the mountpoint is a file"
fi

# 4b. Crafted images can't reach outside the mapped host path: a ".." in the
#     path below a name, or a symlink the container planted in its volume.
if [ -n "$MIXED_IMG" ] && mimg=$(ls "$img"/mountpoints-*.img 2>/dev/null); then
	mkdir -p "$WORK/secret"
	echo secret >"$WORK/secret/file"
	ln -sfn "$WORK/secret" "$WORK/foo2/evil"
	for bad in "barmount/../secret" "barmount/evil"; do
		crit decode -i "$mimg" |
			python3 -c "import json,sys; d=json.load(sys.stdin)
for e in d['entries']:
    if e['mountpoint'] == '/sub': e['root'] = sys.argv[1]
json.dump(d, sys.stdout)" "$bad" | crit encode -o "$WORK/crafted.img"
		rm -rf "$WORK/img-crafted"
		cp -a "$img" "$WORK/img-crafted"
		cp "$WORK/crafted.img" "$WORK/img-crafted/$(basename "$mimg")"
		before=$(host_mounts)
		restore_ns "$WORK/img-crafted" --root "$ROOTFS" --external "mnt[hosts]:$WORK/hosts2" \
			--external "mnt[barmount]:$WORK/foo2" --external "mnt[romount]:$WORK/foo2"
		expect "crafted-${bad//[\/.]/_}-refused" [ "$RC" -eq 1 ]
		expect "crafted-${bad//[\/.]/_}-host-untouched" [ "$(host_mounts)" = "$before" ]
		[ "$RC" -eq 0 ] && stop_task "$RPID"
	done
	rm -f "$WORK/foo2/evil"
fi

# 5. Overmounts: /o covered by a second bind, with a mount hidden under it.
OVER='
	mount --bind "$ROOT/data/a" "$ROOT/o"
	mount --bind "$ROOT/data/c" "$ROOT/o/x"
	mount --bind "$ROOT/data/b" "$ROOT/o"
'
if dump_container over "$OVER"; then
	restore_ns "$img" --root "$ROOTFS"
	expect over-restored [ "$RC" -eq 0 ]
	same_mounts over-same-tree "$WORK/over.mi" "$RPID"
	expect over-top-visible [ "$(cat /proc/$RPID/root/o/file)" = b ]
	stop_task "$RPID"
fi

# 6. Sharing: peers inside the container, an unbindable mount, and an
#    external mount that is a slave of a shared host mount.
mount --bind "$WORK/shared" "$WORK/shared"
mount --make-shared "$WORK/shared"
SHARING='
	mount -t tmpfs peer "$ROOT/a"; mount --make-shared "$ROOT/a"; mount --bind "$ROOT/a" "$ROOT/b"
	mount --bind '"$WORK"'/shared "$ROOT/vol"; mount --make-slave "$ROOT/vol"
	mount -t tmpfs unb "$ROOT/o"; mount --make-unbindable "$ROOT/o"
'
if dump_container sharing "$SHARING" --external 'mnt[]:m'; then
	restore_ns "$img" --root "$ROOTFS" --external 'mnt[]'
	expect sharing-restored [ "$RC" -eq 0 ]
	same_mounts sharing-same-tree "$WORK/sharing.mi" "$RPID"
	# propagation works: a mount under /a shows under /b, a host mount under
	# the shared host directory shows in the slave /vol
	nsenter -m -t "$RPID" mkdir -p /a/new
	nsenter -m -t "$RPID" mount -t tmpfs probe /a/new
	expect peers-propagate grep -q " /b/new " /proc/$RPID/mountinfo
	mkdir -p "$WORK/shared/hostnew"
	mount -t tmpfs hostprobe "$WORK/shared/hostnew"
	expect slave-receives-host-mounts grep -q " /vol/hostnew " /proc/$RPID/mountinfo
	umount "$WORK/shared/hostnew"
	nsenter -m -t "$RPID" mount -t tmpfs back /vol 2>/dev/null
	expect slave-does-not-send not grep -q "back" <(grep " $WORK/shared" /proc/self/mountinfo)
	stop_task "$RPID"
fi

# 6b. An external mount shared with the host (dumped with mnt[]:s): nothing
#     made during restore reaches the host; afterwards it is a peer again.
SHAREDEXT='
	mount --bind '"$WORK"'/shared "$ROOT/vol"
'
if dump_container sharedext "$SHAREDEXT" --external 'mnt[]:s'; then
	before=$(host_mounts)
	restore_ns "$img" --root "$ROOTFS" --external 'mnt[]'
	expect shared-ext-restored [ "$RC" -eq 0 ]
	expect shared-ext-host-untouched [ "$(host_mounts)" = "$before" ]
	same_mounts shared-ext-same-tree "$WORK/sharedext.mi" "$RPID"
	mkdir -p "$WORK/shared/fromhost"
	mount -t tmpfs fromhost "$WORK/shared/fromhost"
	expect shared-ext-receives grep -q " /vol/fromhost " /proc/$RPID/mountinfo
	umount "$WORK/shared/fromhost"
	stop_task "$RPID"
fi

# 7. tmpfs with files of several modes and owners.
TMPFS='
	mount -t tmpfs -o size=8m,mode=0750,uid=1000,gid=1000 data "$ROOT/tmp"
	echo secret >"$ROOT/tmp/secret"; chmod 600 "$ROOT/tmp/secret"; chown 1000:1000 "$ROOT/tmp/secret"
	echo prog >"$ROOT/tmp/suid"; chmod 4755 "$ROOT/tmp/suid"
	mkdir "$ROOT/tmp/sticky"; chmod 1777 "$ROOT/tmp/sticky"; chown 65534:65534 "$ROOT/tmp/sticky"
	ln -s /etc/passwd "$ROOT/tmp/link"
	dd if=/dev/urandom of="$ROOT/tmp/blob" bs=64k count=16 2>/dev/null
	sha256sum "$ROOT/tmp/blob" | cut -d" " -f1 >'"$WORK"'/blob.sum
'
if dump_container tmpfs "$TMPFS"; then
	restore_ns "$img" --root "$ROOTFS"
	expect tmpfs-restored [ "$RC" -eq 0 ]
	same_mounts tmpfs-same-tree "$WORK/tmpfs.mi" "$RPID"
	t=/proc/$RPID/root/tmp
	expect tmpfs-root-mode [ "$(stat -c '%a %u %g' $t/)" = "750 1000 1000" ]
	expect tmpfs-secret [ "$(stat -c '%a %u %g' $t/secret)" = "600 1000 1000" ] && [ "$(cat $t/secret)" = secret ]
	expect tmpfs-suid [ "$(stat -c '%a' $t/suid)" = "4755" ]
	expect tmpfs-sticky [ "$(stat -c '%a %u %g' $t/sticky)" = "1777 65534 65534" ]
	expect tmpfs-symlink [ "$(readlink $t/link)" = /etc/passwd ]
	expect tmpfs-blob [ "$(sha256sum $t/blob | cut -d' ' -f1)" = "$(cat "$WORK/blob.sum")" ]
	stop_task "$RPID"
fi

# 8. Several thousand mounts.
mkdir -p "$WORK/vols" "$ROOTFS/m" "$ROOTFS/e"
MANY='
	'"$TOP"'/test/helpers/mkmounts "$ROOT/data" "$ROOT/m" 3000 >/dev/null
	'"$TOP"'/test/helpers/mkmounts '"$WORK"'/vols "$ROOT/e" 100 >/dev/null
'
if dump_container many "$MANY" --external 'mnt[/e/0]:vols'; then
	restore_ns "$img" --root "$ROOTFS" --external "mnt[vols]:$WORK/vols"
	expect many-restored [ "$RC" -eq 0 ]
	same_mounts many-same-tree "$WORK/many.mi" "$RPID"
	stop_task "$RPID"
fi
finish

#!/bin/bash
# End-to-end: the mount half of `criu dump` on real containers (mount, pid,
# uts and ipc namespaces, pivot_root into a busybox root) with external bind
# mounts: the seed's /bar scenario and its variants.
. "$(dirname "$0")/lib.sh"

ROOTFS=$WORK/root
make_rootfs "$ROOTFS"
mkdir -p "$WORK/foo" "$ROOTFS/bar" "$ROOTFS/data/sub" "$ROOTFS/bind" "$ROOTFS/etc" "$ROOTFS/run"
echo "hello from the host" >"$WORK/foo/file"
echo "127.0.0.1 localhost" >"$WORK/hosts"
touch "$ROOTFS/etc/hosts"

SETUP='
	mount --bind '"$WORK"'/foo "$ROOT/bar"
	mount -t proc proc "$ROOT/proc"
	mount -t tmpfs -o size=4m,mode=1777 tmpfs "$ROOT/tmp"
	mount --bind "$ROOT/data/sub" "$ROOT/bind"
'
pid=$(start_container "$ROOTFS" "$SETUP") || { fail start "container did not start"; finish; }
barid=$(awk '$5 == "/bar" {print $1}' /proc/$pid/mountinfo)
img=$WORK/img
state_before=$(cat /proc/$pid/status | grep -E '^State')

# 1. Unmapped: the exact upstream message, a hint with the fixing option, no images.
run_criu dump -t "$pid" -D "$img"
expect unmapped-fails [ "$RC" -eq 1 ]
expect unmapped-message contains "$OUT" "$barid:/bar doesn't have a proper root mount"
expect unmapped-hint contains "$OUT" "--external mnt[/bar]:NAME"
expect unmapped-no-images [ -z "$(ls -A "$img" 2>/dev/null | grep -v '^\.')" -a -z "$(ls -A "$img" 2>/dev/null)" ]
expect unmapped-task-running kill -0 "$pid"
expect unmapped-task-not-stopped [ "$(grep -E '^State' /proc/$pid/status)" = "$state_before" ]

# 2. Mapped with --external: the name replaces the host root in the image.
rm -rf "$img"
run_criu dump -t "$pid" -D "$img" --external 'mnt[/bar]:barmount'
expect mapped-succeeds [ "$RC" -eq 0 ]
mimg=$(ls "$img"/mountpoints-*.img 2>/dev/null | head -1)
expect mapped-image-exists [ -n "$mimg" ]
expect mapped-inventory-exists [ -f "$img/inventory.img" ]
run_criu show -f "$mimg" -F mnt_id,root,mountpoint
line=$(grep 'mountpoint: /bar$' <<<"$OUT")
expect mapped-show-line [ "$line" = "mnt_id: $(printf '0x%x' "$barid") root: barmount mountpoint: /bar" ]
expect mapped-no-host-path not grep -qaF "$WORK/foo" "$mimg"
crit_json=$(crit decode -i "$mimg" 2>&1)
expect mapped-crit-decodes contains "$crit_json" '"ext_key": "barmount"'
expect mapped-crit-root contains "$crit_json" '"root": "barmount"'
expect mapped-crit-inventory contains "$(crit decode -i "$img/inventory.img")" "\"img_version\": 2"
expect mapped-task-running kill -0 "$pid"
# internal mounts come from inside: /bind is a bind of the root mount, /proc and /tmp are fresh
run_criu show -f "$mimg"
expect mapped-show-all contains "$OUT" "mountpoint: /bind"
expect mapped-tmpfs-archive [ -f "$img/tmpfs-dev-$(python3 -c "
import os; st=os.stat('/proc/$pid/root/tmp'); print((os.major(st.st_dev)<<20)|os.minor(st.st_dev))").tar.gz.img" ]

# 3. The legacy spelling.
rm -rf "$img"
run_criu dump -t "$pid" -D "$img" --ext-mount-map /bar:barmount
expect legacy-map-succeeds [ "$RC" -eq 0 ]
run_criu show -f "$(ls "$img"/mountpoints-*.img)" -F root,mountpoint
expect legacy-map-image contains "$OUT" "root: barmount mountpoint: /bar"

# 4. Autodetection keeps what restore needs to find the host path.
rm -rf "$img"
run_criu dump -t "$pid" -D "$img" --external 'mnt[]'
expect auto-succeeds [ "$RC" -eq 0 ]
crit_json=$(crit decode -i "$(ls "$img"/mountpoints-*.img)" 2>&1)
expect auto-ext-key contains "$crit_json" '"ext_key": "CRIU:AUTODETECTED"'
expect auto-host-path contains "$crit_json" "\"source\": \"$WORK/foo\""
rm -rf "$img"
run_criu dump -t "$pid" -D "$img" --ext-mount-map auto
expect auto-legacy-succeeds [ "$RC" -eq 0 ]

# 5. Typos and malformed values: clear errors, nothing written.
rm -rf "$img"
run_criu dump -t "$pid" -D "$img" --external 'mnt[/baz]:barmount'
expect typo-fails [ "$RC" -eq 1 ]
expect typo-names-key contains "$OUT" "no mount at /baz"
expect typo-no-inventory [ ! -e "$img/inventory.img" ]
run_criu dump -t "$pid" -D "$img" --external 'mnt[/bar]:a' --ext-mount-map /bar/:b
expect duplicate-fails [ "$RC" -eq 1 ]
expect duplicate-message contains "$OUT" "mountpoint /bar is given twice"
run_criu dump -t "$pid" -D "$img" --external 'mnt[/bar'
expect malformed-fails [ "$RC" -eq 1 ]
expect malformed-message contains "$OUT" "missing ']'"
run_criu dump -t "$pid" -D "$img" --external 'mnt[/bar]'
expect missing-value-fails [ "$RC" -eq 1 ]
run_criu dump -t "$pid" -D "$img" --external 'mnt[]:x'
expect bad-flag-fails [ "$RC" -eq 1 ]
run_criu dump -t "$pid" -D "$img" --external 'mnt[/]:rootname'
expect root-key-fails [ "$RC" -eq 1 ]
expect no-images-after-errors [ ! -e "$img/inventory.img" ] 
expect task-alive-after-errors kill -0 "$pid"

# 6. A file bind mount, like /etc/hosts.
FILESETUP='
	mount --bind '"$WORK"'/hosts "$ROOT/etc/hosts"
'
pid2=$(start_container "$ROOTFS" "$FILESETUP") || fail start2 "container did not start"
hostsid=$(awk '$5 == "/etc/hosts" {print $1}' /proc/$pid2/mountinfo)
rm -rf "$img"
run_criu dump -t "$pid2" -D "$img"
expect file-unmapped-message contains "$OUT" "$hostsid:/etc/hosts doesn't have a proper root mount"
run_criu dump -t "$pid2" -D "$img" --external 'mnt[/etc/hosts]:hosts'
expect file-mapped-succeeds [ "$RC" -eq 0 ]
run_criu show -f "$(ls "$img"/mountpoints-*.img)" -F root,mountpoint
expect file-mapped-image contains "$OUT" "root: hosts mountpoint: /etc/hosts"
rm -rf "$img"
run_criu dump -t "$pid2" -D "$img" --external 'mnt[]'
expect file-auto-succeeds [ "$RC" -eq 0 ]
expect file-auto-source contains "$(crit decode -i "$(ls "$img"/mountpoints-*.img)")" "\"source\": \"$WORK/hosts\""

# 7. A task in criu's own mount namespace gets no mount image.
sleep 1000 &
own=$!
rm -rf "$img"
run_criu dump -t "$own" -D "$img"
expect own-ns-succeeds [ "$RC" -eq 0 ]
expect own-ns-no-mount-image [ -z "$(ls "$img"/mountpoints-*.img 2>/dev/null)" ]
kill "$own"

# 8. Log file relative to the images dir, verbosity.
rm -rf "$img"
run_criu dump -t "$pid" -D "$img" --external 'mnt[/bar]:barmount' -v4 -o dump.log
expect log-file-in-imgs-dir grep -q "dumped .* mounts" "$img/dump.log"
finish

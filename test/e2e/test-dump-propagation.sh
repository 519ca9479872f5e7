#!/bin/bash
# End-to-end: external mounts that propagate with the host (shared peers,
# slaves of a host mount), sharing inside the container, and a container with
# several thousand mounts.
. "$(dirname "$0")/lib.sh"

ROOTFS=$WORK/root
make_rootfs "$ROOTFS"
mkdir -p "$WORK/shared" "$ROOTFS/vol" "$ROOTFS/a" "$ROOTFS/b" "$ROOTFS/data" "$ROOTFS/m" "$ROOTFS/e"
# A shared "host" mount in the sandbox.
mount --bind "$WORK/shared" "$WORK/shared"
mount --make-shared "$WORK/shared"
img=$WORK/img

# Shared with the host.
pid=$(start_container "$ROOTFS" 'mount --bind '"$WORK"'/shared "$ROOT/vol"') || { fail start "no container"; finish; }
volid=$(awk '$5 == "/vol" {print $1}' /proc/$pid/mountinfo)
run_criu dump -R -t "$pid" -D "$img" --external 'mnt[]'
expect shared-refused [ "$RC" -eq 1 ]
expect shared-message contains "$OUT" "$volid:/vol is an external mount shared with the host"
expect shared-hint contains "$OUT" "--external mnt[]:s"
expect shared-no-images [ ! -e "$img/inventory.img" ]
run_criu dump -R -t "$pid" -D "$img" --external 'mnt[]:s'
expect shared-allowed-s [ "$RC" -eq 0 ]
expect shared-id-in-image contains "$(crit decode -i "$(ls "$img"/mountpoints-*.img)")" '"shared_id"'
rm -rf "$img"
run_criu dump -R -t "$pid" -D "$img" --external 'mnt[]:sm'
expect shared-allowed-sm [ "$RC" -eq 0 ]
rm -rf "$img"
run_criu dump -R -t "$pid" -D "$img" --ext-mount-map auto --enable-external-sharing
expect shared-allowed-legacy [ "$RC" -eq 0 ]
rm -rf "$img"
run_criu dump -R -t "$pid" -D "$img" --external 'mnt[/vol]:vol'
expect shared-explicit-map [ "$RC" -eq 0 ]

# A slave of a host mount.
rm -rf "$img"
pid=$(start_container "$ROOTFS" 'mount --bind '"$WORK"'/shared "$ROOT/vol"; mount --make-slave "$ROOT/vol"') ||
	{ fail start2 "no container"; finish; }
run_criu dump -R -t "$pid" -D "$img" --external 'mnt[]'
expect slave-refused [ "$RC" -eq 1 ]
expect slave-message contains "$OUT" "is a slave of mount group"
expect slave-hint contains "$OUT" "--external mnt[]:m"
run_criu dump -R -t "$pid" -D "$img" --external 'mnt[]:s'
expect slave-refused-with-s [ "$RC" -eq 1 ]
run_criu dump -R -t "$pid" -D "$img" --external 'mnt[]:m'
expect slave-allowed-m [ "$RC" -eq 0 ]
expect master-id-in-image contains "$(crit decode -i "$(ls "$img"/mountpoints-*.img)")" '"master_id"'
rm -rf "$img"
run_criu dump -R -t "$pid" -D "$img" --external 'mnt[]:ms'
expect slave-allowed-ms [ "$RC" -eq 0 ]
rm -rf "$img"
run_criu dump -R -t "$pid" -D "$img" -M auto --enable-external-masters
expect slave-allowed-legacy [ "$RC" -eq 0 ]

# Sharing inside the container needs no flag: both peers are in the image.
rm -rf "$img"
pid=$(start_container "$ROOTFS" '
	mount -t tmpfs peer "$ROOT/a"; mount --make-shared "$ROOT/a"; mount --bind "$ROOT/a" "$ROOT/b"') ||
	{ fail start3 "no container"; finish; }
run_criu dump -R -t "$pid" -D "$img"
expect internal-sharing-ok [ "$RC" -eq 0 ]
run_criu show -f "$(ls "$img"/mountpoints-*.img)" -F mountpoint,shared_id
ida=$(grep 'mountpoint: /a ' <<<"$OUT" | sed 's/.*shared_id: //')
idb=$(grep 'mountpoint: /b ' <<<"$OUT" | sed 's/.*shared_id: //')
expect internal-peers-same-group [ -n "$ida" ] && [ "$ida" = "$idb" ]

# Thousands of mounts: 3,000 internal binds and 200 external ones.
rm -rf "$img"
mkdir -p "$WORK/vols"
pid=$(start_container "$ROOTFS" '
	'"$TOP"'/test/helpers/mkmounts "$ROOT/data" "$ROOT/m" 3000 >/dev/null
	'"$TOP"'/test/helpers/mkmounts '"$WORK"'/vols "$ROOT/e" 200 >/dev/null') ||
	{ fail start4 "no container"; finish; }
n=$(wc -l </proc/$pid/mountinfo)
run_criu dump -R -t "$pid" -D "$img"
expect many-unmapped-fails [ "$RC" -eq 1 ]
# the 200 external binds share one host root: the first needs a mapping,
# the others are restored as binds of it
expect many-unmapped-one-error [ "$(grep -c "doesn't have a proper root mount" <<<"$OUT")" -eq 1 ]
run_criu dump -R -t "$pid" -D "$img" --external 'mnt[]'
expect many-auto-ok [ "$RC" -eq 0 ]
run_criu show -f "$(ls "$img"/mountpoints-*.img)" -F mnt_id
expect many-all-in-image [ "$(wc -l <<<"$OUT")" -eq "$n" ]
finish

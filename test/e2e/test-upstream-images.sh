#!/bin/bash
# End-to-end: images written by upstream CRIU 4.2 (test/fixtures/upstream-4.2,
# see its README) restored by criu. Each brings back the container upstream
# dumped: the shell goes on counting from where it was, /bar comes from the
# host directory the restore maps (seed-mapped) or from the host path the
# image recorded (seed-auto), the clocks go on from the dump's (a time
# namespace of the tree's own, from timens-0.img), and the sandbox's
# ("host's") mounts are as before. Then what must be refused: no mapping
# for the external mount, an image of a kind criu can't restore, another
# busybox than the one the images map.
. "$(dirname "$0")/lib.sh"

FX=$TOP/test/fixtures/upstream-4.2

# The images map /bin/busybox of Debian's busybox-static by size: another
# build would give the restored tasks other code.
want_size=$("$CRIU" show -f "$FX/seed-mapped/files.img" -F reg | grep -o 'name: /bin/busybox .*size: 0x[0-9a-f]*' | sed 's/.*size: //')
if [ "$(printf '%d' "$want_size" 2>/dev/null)" != "$(stat -c %s /bin/busybox)" ]; then
	skip upstream-images "this machine's /bin/busybox is $(stat -c %s /bin/busybox) bytes, the images' $want_size: not the busybox-static they were made with"
	finish
fi

# fixture SEED: a copy of the images and the root they were dumped from, in $W.
fixture() {
	W=$WORK/$1
	mkdir -p "$W"
	sh "$FX/make-root.sh" "$W" >/dev/null
	cp -r "$FX/$1" "$W/img"
}

# counting PID: /tmp/counter inside the restored container goes up.
counting() {
	local a
	a=$(nsenter -t "$1" -m cat /tmp/counter 2>/dev/null) || return 1
	wait_until 5 bash -c '[ "$(nsenter -t '"$1"' -m cat /tmp/counter 2>/dev/null)" -gt '"$a"' ]'
}

seen() { nsenter -t "$1" -m cat /tmp/seen 2>/dev/null; }

# The clocks the tree sees: its uptime (CLOCK_BOOTTIME) is the dumped one,
# 2685.5 s, plus the seconds since the restore, whatever the host's is.
clocks_go_on() {
	local pid=$1 up host
	[ "$(readlink /proc/$pid/ns/time)" != "$(readlink /proc/self/ns/time)" ] || return 1
	up=$(nsenter -t "$pid" -T cat /proc/uptime | cut -d' ' -f1)
	host=$(cut -d' ' -f1 /proc/uptime)
	python3 -c "import sys; u=float('$up'); sys.exit(0 if 2685.5 <= u < 2685.5 + 60 else 1)" || {
		echo "tree uptime $up (host $host), want 2685.5 s plus the time since the restore" >&2
		return 1
	}
}

# bar_from PID DIR: /bar of the restored container is a bind of DIR.
bar_from() {
	local root
	root=$(awk '$5 == "/bar" { print $4 }' /proc/$1/mountinfo)
	[ "$(stat -c %d:%i "$2")" = "$(nsenter -t "$1" -m /bin/busybox stat -c %d:%i /bar)" ] && [ -n "$root" ]
}

before=$(host_mounts)

# --- seed-mapped: /bar from a directory the restore names ---
fixture seed-mapped
mkdir -p "$W/foo2"
echo other >"$W/foo2/file"
if restore_ns "$W/img" --root "$W/root" --external "mnt[barmount]:$W/foo2"; then
	ok mapped-restored
	expect mapped-counts counting "$RPID"
	expect mapped-bar-from-map bar_from "$RPID" "$W/foo2"
	expect mapped-sees-mapped-dir wait_until 5 bash -c '[ "$(nsenter -t '"$RPID"' -m cat /tmp/seen)" = other ]'
	expect mapped-clocks-go-on clocks_go_on "$RPID"
	expect mapped-shell-runs-sleep wait_until 5 grep -q '[0-9]' /proc/$RPID/task/$RPID/children
	stop_task "$RPID"
else
	fail mapped-restored "$OUT"
fi

# --- seed-auto: /bar from the host path the image recorded ---
fixture seed-auto
# that path, /tmp/criu-upstream-fixture/foo, on a tmpfs of the sandbox's own:
# the real host's /tmp is not touched
mkdir -p /tmp/criu-upstream-fixture
mount -t tmpfs criu-e2e-fx /tmp/criu-upstream-fixture
mkdir -p /tmp/criu-upstream-fixture/foo
echo content-from-foo >/tmp/criu-upstream-fixture/foo/file
before_auto=$(host_mounts)
if restore_ns "$W/img" --root "$W/root" --external 'mnt[]'; then
	ok auto-restored
	expect auto-counts counting "$RPID"
	expect auto-bar-from-recorded-path bar_from "$RPID" /tmp/criu-upstream-fixture/foo
	expect auto-sees-host-dir wait_until 5 bash -c '[ "$(nsenter -t '"$RPID"' -m cat /tmp/seen)" = content-from-foo ]'
	expect auto-clocks-go-on clocks_go_on "$RPID"
	stop_task "$RPID"
else
	fail auto-restored "$OUT"
fi
expect auto-host-mounts-unchanged test "$(host_mounts)" = "$before_auto"
umount /tmp/criu-upstream-fixture
rmdir /tmp/criu-upstream-fixture 2>/dev/null

# --- criu itself in a time namespace 1000 s ahead: the tree's clocks are
# still the dump's (offsets are written from the host's clocks) ---
fixture seed-mapped
mkdir -p "$W/foo2"
echo other >"$W/foo2/file"
rm -f "$WORK/rpid"
OUT=$(unshare -T --monotonic 1000 --boottime 1000 -f "$CRIU" restore -D "$W/img" --root "$W/root" \
	--external "mnt[barmount]:$W/foo2" -d --pidfile "$WORK/rpid" 2>&1)
RPID=$(cat "$WORK/rpid" 2>/dev/null)
if [ -n "$RPID" ]; then
	echo "$RPID" >>"$PIDLIST"
	expect criu-in-timens-clocks-go-on clocks_go_on "$RPID"
	stop_task "$RPID"
else
	fail criu-in-timens-restored "$OUT"
fi

# --- refusals, each leaving nothing behind ---
fixture seed-mapped
restore_ns "$W/img" --root "$W/root"
expect refused-no-mapping test "$RC" -ne 0
expect refused-no-mapping-says contains "$OUT" "add --external mnt[barmount]:"

cp "$W/img/seccomp.img" "$W/img/filelocks.img"
restore_ns "$W/img" --root "$W/root" --external "mnt[barmount]:$W/root/bar"
expect refused-unsupported-image test "$RC" -ne 0
expect refused-unsupported-image-named contains "$OUT" "filelocks.img holds file locks, which criu can't restore yet"
rm "$W/img/filelocks.img"

# set_ids IMG FIELD VALUE: an ids image with one namespace id changed (crit)
set_ids() {
	crit decode -i "$1" | python3 -c 'import json,sys; d=json.load(sys.stdin); d["entries"][0][sys.argv[1]]=int(sys.argv[2]); print(json.dumps(d))' "$2" "$3" | crit encode -o "$1.new" && mv "$1.new" "$1"
}
if command -v crit >/dev/null; then
	# the sleep in a UTS namespace of its own: it would come back in the root's
	cp "$W/img/ids-25.img" "$W/ids-25.orig"
	set_ids "$W/img/ids-25.img" uts_ns_id 11
	restore_ns "$W/img" --root "$W/root" --external "mnt[barmount]:$W/root/bar"
	expect refused-nested-namespace test "$RC" -ne 0
	expect refused-nested-namespace-says contains "$OUT" "is in a uts namespace (11) other than the root task's (4)"
	cp "$W/ids-25.orig" "$W/img/ids-25.img"
	# the tree in a cgroup namespace of its own (Docker and Podman on cgroup
	# v2): made again, here at criu's cgroups (the images have no cgroup.img:
	# every task was in the dumping criu's cgroups)
	cp "$W/img/ids-1.img" "$W/ids-1.orig"
	set_ids "$W/img/ids-1.img" cgroup_ns_id 12
	set_ids "$W/img/ids-25.img" cgroup_ns_id 12
	if restore_ns "$W/img" --root "$W/root" --external "mnt[barmount]:$W/root/bar"; then
		expect own-cgroupns-restored [ "$(readlink /proc/$RPID/ns/cgroup)" != "$(readlink /proc/self/ns/cgroup)" ]
		stop_task "$RPID"
	else
		fail own-cgroupns-restored "criu said: $OUT"
	fi
	cp "$W/ids-1.orig" "$W/img/ids-1.img"
	cp "$W/ids-25.orig" "$W/img/ids-25.img"
else
	skip refused-nested-namespace "Debian's crit is not installed"
fi

# another busybox in the root: the executable's pages would not be the dump's
cp /bin/busybox "$W/root/bin/busybox.real"
{ cat /bin/busybox; echo padding; } >"$W/root/bin/busybox"
restore_ns "$W/img" --root "$W/root" --external "mnt[barmount]:$W/root/bar"
expect refused-other-executable test "$RC" -ne 0
expect refused-other-executable-says contains "$OUT" "not the same file"
mv "$W/root/bin/busybox.real" "$W/root/bin/busybox"

expect host-mounts-unchanged test "$(host_mounts)" = "$before"
expect no-tasks-left test -z "$(pgrep -f "$WORK/seed" 2>/dev/null)"
finish

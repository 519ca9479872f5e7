#!/bin/bash
# End-to-end: an unprivileged container, as unprivileged LXC or rootless
# Podman make one, in a user namespace of its own (uid and gid 0 -> 100000,
# 65536 ids, written from outside as newuidmap would; made by root, then
# by uid 1000), its own mount and
# pid namespaces made in it, a root whose files are 100000+N's on the host,
# a tmpfs mounted inside with files owned inside, a process running as
# uid 0 inside and one as uid 1000, and memory to verify. After dump and
# restore: the maps, setgroups and the owner are the same; the restored
# namespaces are owned by the new user namespace; the creds are the same,
# seen from outside and from inside; the tasks hold no capability over
# the host (a host-owned file they can't write before, they can't after);
# files keep their owners; the counters and the memory go on; a service in
# a mount namespace of its own (unshared inside) has it again, owned by the
# new user namespace, with its own tmpfs. Once with
# setgroups allowed, once denied and with a time namespace made in the
# user namespace. A nested user namespace and a namespace
# the tree's user namespace doesn't own are refused at dump, the tree left
# running. A host directory bound in from inside comes back (cloned by
# criu, attached inside).
. "$(dirname "$0")/lib.sh"

H=$TOP/test/helpers
for b in credhold-static memtest-static; do
	if [ ! -x "$H/$b" ]; then
		fail helpers-built "$H/$b is missing: run make all"
		finish
	fi
done
if [ ! -e /proc/self/ns/user ] || [ "$(id -u)" != 0 ]; then
	skip userns "needs user namespaces and root"
	finish
fi
PY=$(command -v python3)

# ns_info PID: "userns-ino owner parent-is-ours" and, per kind, whether the
# kind's namespace is owned by PID's user namespace
ns_info() {
	"$PY" - "$1" <<'EOF'
import fcntl, os, struct, sys
pid = sys.argv[1]
NS_GET_USERNS, NS_GET_PARENT, NS_GET_OWNER_UID = 0xb701, 0xb702, 0xb704
u = os.open("/proc/%s/ns/user" % pid, os.O_RDONLY)
ino = os.fstat(u).st_ino
owner = struct.unpack("I", fcntl.ioctl(u, NS_GET_OWNER_UID, b"\0" * 4))[0]
parent = os.fstat(fcntl.ioctl(u, NS_GET_PARENT)).st_ino
out = ["owner=%d" % owner, "parent-is-ours=%d" % (parent == os.stat("/proc/self/ns/user").st_ino)]
for k in ("mnt", "pid", "time"):
    fd = os.open("/proc/%s/ns/%s" % (pid, k), os.O_RDONLY)
    out.append("%s-owned=%d" % (k, os.fstat(fcntl.ioctl(fd, NS_GET_USERNS)).st_ino == ino))
print(" ".join(out))
EOF
}

# creds PID: the Uid/Gid/Groups/CapEff lines of /proc/PID/status
creds() { grep -E '^(Uid|Gid|Groups|CapEff|CapPrm|CapBnd):' /proc/"$1"/status 2>/dev/null | tr -s '\t ' ' '; }
# creds_inside USERNS_PID PID: the same, read by a process in that user namespace (its ids)
creds_inside() { nsenter -t "$1" -U cat /proc/"$2"/status 2>/dev/null | grep -E '^(Uid|Gid|Groups):' | tr -s '\t ' ' '; }
own_userns() { [ "$(readlink /proc/"$1"/ns/user)" != "$(readlink /proc/self/ns/user)" ]; }
kids() { tr -s ' ' '\n' </proc/"$1"/task/"$1"/children 2>/dev/null | sed '/^$/d'; }
by_name() { # PARENT ARGV0-SUFFIX: the child of PARENT running it
	local k
	for k in $(kids "$1"); do
		case "$(tr '\0' ' ' 2>/dev/null </proc/"$k"/cmdline)" in "$2"*) echo "$k" ;; esac
	done
}
mono_in() { nsenter -t "$1" -T "$PY" -c "import time; print(time.clock_gettime(time.CLOCK_MONOTONIC))"; }
mono_here() { "$PY" -c "import time; print(time.clock_gettime(time.CLOCK_MONOTONIC))"; }
cond() { eval "$1"; }
count() { awk '{print $2}' "$1" 2>/dev/null; }
# try_host_write: the container's root task tries to append to /hostfile
# (the host's root's) and to write /data/mine (its own root's); says
# "denied wrote" when it is what it was: root inside, no one outside
try_host_write() {
	rm -f "$R/out/tryres"
	touch "$R/out/try"
	wait_until 5 test -s "$R/out/tryres" && cat "$R/out/tryres"
}

# start_userns_ct SETGROUPS PROGRAM [OWNER]: the container, its user
# namespace made by uid OWNER (default 0), the host's CT_EXT (if set) bound
# on its /ext from inside, CT_TIME more unshare(1) options (its own time
# namespace); sets U (unshare) and C (its init)
start_userns_ct() {
	local sg=$1 prog=$2 owner=${3:-0} clear=--keep-groups outer=--keep-groups
	[ "$sg" = allow ] && clear=--clear-groups
	# setgroups denied: the tasks keep the groups the namespace was made
	# with, here one the namespace maps (1000 inside)
	[ "$sg" = deny ] && outer="--groups 101000"
	ROOT=$R EXT=${CT_EXT:-} setpriv --reuid "$owner" --regid "$owner" $outer unshare ${CT_TIME:-} --user --keep-caps --mount --pid --fork --setgroups "$sg" -- bash -c '
		n=0
		while [ -z "$(cat /proc/self/uid_map)" ]; do
			n=$((n + 1)) && [ $n -lt 250 ] || exit 1
			sleep 0.02
		done
		exec setpriv --reuid 0 --regid 0 '"$clear"' bash -c "
			set -e
			mount --make-rprivate /
			mount --bind \"\$ROOT\" \"\$ROOT\"
			mount -t tmpfs -o mode=755 ct-tmp \"\$ROOT/tmp\"
			echo own >\"\$ROOT/tmp/own\"
			chown 1000:1000 \"\$ROOT/tmp/own\"
			mount -t proc proc \"\$ROOT/proc\"
			[ -z \"\$EXT\" ] || mount --bind \"\$EXT\" \"\$ROOT/ext\"
			cd \"\$ROOT\"
			pivot_root . oldroot
			/bin/umount -l /oldroot
			exec /bin/sh -c \"\$0\"
		" "$0"' "$prog" </dev/null >"$WORK/container.log" 2>&1 &
	U=$!
	disown "$U"
	echo "$U" >>"$PIDLIST"
	# its own once unshare(1) has made it: before, the map would be ours
	wait_until 5 own_userns "$U" || return 1
	echo "0 100000 65536" >/proc/"$U"/uid_map && echo "0 100000 65536" >/proc/"$U"/gid_map || return 1
	wait_until 5 eval '[ -n "$(kids "$U")" ]'
	C=$(kids "$U")
	# the init of the container's pid namespace: killing unshare(1) leaves it
	[ -n "$C" ] && echo "$C" >>"$PIDLIST"
	# pivoted and exec'd: no more of the host's bash
	wait_until 10 eval '[ "$(readlink /proc/$C/root)" = / ] && [ "$(readlink /proc/$C/exe)" = /bin/busybox ]' 
}

# The container's root task: starts the helpers, then on /out/try tries the two writes.
PROG='exec </dev/null >/dev/null 2>&1
/unshare-mnt sh -c "mkdir -p /tmp/p && mount -t tmpfs nested /tmp/p && echo n >/tmp/p/f && exec 5</tmp/p/f && while :; do sleep 1; done" &
/credhold /out/s0 &
/credhold /out/s1000 -u 1000 &
/memtest /out 8 2 1 &
while :; do
	if [ -e /out/try ]; then
		rm -f /out/try
		r1=wrote; { echo x >>/hostfile; } 2>/dev/null || r1=denied
		r2=wrote; { echo x >/data/mine; } 2>/dev/null || r2=denied
		echo "$r1 $r2" >/out/tryres.tmp && mv /out/tryres.tmp /out/tryres
	fi
	sleep 0.1
done'

run_case() {
	local sg=$1 owner=$2 time=${3:-} n="userns-$1" before_ns before_map before_sg c0 c1000 cm pre_c0 pre_c1000 pre_in0 pre_in1000 pre_ls
	R=$WORK/root-$sg
	ROUND=0
	make_rootfs "$R"
	ln -sf busybox "$R/bin/umount"
	mknod -m 666 "$R/dev/null" c 1 3
	mkdir -p "$R/out" "$R/data" "$R/ext" "$WORK/ext-$sg"
	echo ext >"$WORK/ext-$sg/e"
	chown -R 100000:100000 "$WORK/ext-$sg"
	cp "$H/credhold-static" "$R/credhold"
	cp "$H/memtest-static" "$R/memtest"
	cp "$H/unshare-mnt-static" "$R/unshare-mnt"
	echo data >"$R/data/f"
	chown -R 100000:100000 "$R"
	chown 101000:101000 "$R/data/f"
	chmod 777 "$R/out"
	echo host >"$R/hostfile"
	chown 0:0 "$R/hostfile"
	chmod 666 "$R/hostfile"
	chmod 644 "$R/hostfile"

	if ! CT_EXT=$WORK/ext-$sg CT_TIME=$time start_userns_ct "$sg" "$PROG" "$owner"; then
		fail "$n-start" "the container did not start: $(cat "$WORK/container.log")"
		return
	fi
	wait_until 10 eval '[ -n "$(by_name "$C" /credhold)" ] && [ -s "$R/out/ready" ] && [ -s "$R/out/s1000" ]'
	c0=$(by_name "$C" "/credhold /out/s0")
	c1000=$(by_name "$C" "/credhold /out/s1000")
	cm=$(by_name "$C" /memtest)
	if [ -z "$c0" ] || [ -z "$c1000" ] || [ -z "$cm" ]; then
		fail "$n-start" "helpers missing under $C: $(kids "$C")"
		return
	fi
	before_map=$(cat /proc/"$C"/uid_map /proc/"$C"/gid_map | tr -s ' ')
	before_sg=$(cat /proc/"$C"/setgroups)
	before_ns=$(ns_info "$C")
	pre_c0=$(creds "$c0") pre_c1000=$(creds "$c1000") pre_root=$(creds "$C")
	pre_in0=$(creds_inside "$C" "$c0") pre_in1000=$(creds_inside "$C" "$c1000")
	pre_ls=$(ls -ln "$R/data/f" /proc/"$C"/root/tmp/own | awk '{print $3, $4, $NF}' | sed "s|/proc/$C/root||")
	pre_tmp=$(awk '$5 == "/tmp" {print $NF}' /proc/"$C"/mountinfo)
	nn=$(by_name "$C" "sh -c mkdir")
	expect "$n-setup-nested-mntns" cond '[ -n "$nn" ] && [ "$(readlink /proc/$nn/ns/mnt)" != "$(readlink /proc/$C/ns/mnt)" ]' 
	OUT="inside: $pre_in1000"
	expect "$n-setup-uid1000-inside" contains "$pre_in1000" "Uid: 1000 1000 1000 1000"
	OUT="$(try_host_write)"
	expect "$n-setup-no-host-write" [ "$OUT" = "denied wrote" ]
	verified "$n-memory-before"
	cnt0=$(count "$R/out/s0")

	run_criu dump -t "$C" -D "$WORK/img-$sg" --external 'mnt[/ext]:ext'

	expect "$n-dump" [ "$RC" -eq 0 ]
	expect "$n-dump-userns-image" test -s "$WORK/img-$sg/userns-1.img"
	wait_until 5 not kill -0 "$C"
	stop_task "$U"

	if ! restore_ns "$WORK/img-$sg" --root "$R" --external "mnt[ext]:$WORK/ext-$sg"; then
		fail "$n-restore" "rc $RC: $OUT"
		return
	fi
	ok "$n-restore"
	wait_until 5 eval '[ -n "$(by_name "$RPID" "/credhold /out/s1000")" ]'
	c0=$(by_name "$RPID" "/credhold /out/s0")
	c1000=$(by_name "$RPID" "/credhold /out/s1000")
	OUT="$(cat /proc/"$RPID"/uid_map /proc/"$RPID"/gid_map | tr -s ' ') vs $before_map"
	expect "$n-maps-equal" [ "$(cat /proc/"$RPID"/uid_map /proc/"$RPID"/gid_map | tr -s ' ')" = "$before_map" ]
	OUT="$(cat /proc/"$RPID"/setgroups) vs $before_sg"
	expect "$n-setgroups-equal" [ "$(cat /proc/"$RPID"/setgroups)" = "$before_sg" ]
	OUT="$(ns_info "$RPID") vs $before_ns"
	expect "$n-owner-and-ns-owned" [ "$(ns_info "$RPID")" = "$before_ns" ]
	expect "$n-ns-owned-by-new-userns" contains "$before_ns" "owner=$owner parent-is-ours=1 mnt-owned=1 pid-owned=1"
	if [ -n "$time" ]; then
		expect "$n-timens-owned-by-new-userns" contains "$before_ns" "time-owned=1"
		OUT="tree $(mono_in "$RPID"), host $(mono_here)"
		expect "$n-timens-a-day-ahead" "$PY" -c "import sys; sys.exit(0 if abs(float(sys.argv[1]) - float(sys.argv[2]) - 86400) < 60 else 1)" "$(mono_in "$RPID")" "$(mono_here)"
	fi
	expect "$n-new-userns" [ "$(readlink /proc/"$RPID"/ns/user)" != "$(readlink /proc/self/ns/user)" ]
	OUT="$(creds "$RPID") vs $pre_root"
	expect "$n-root-creds" [ "$(creds "$RPID")" = "$pre_root" ]
	OUT="$(creds "$c0") vs $pre_c0"
	expect "$n-uid0-creds-and-caps" [ "$(creds "$c0")" = "$pre_c0" ]
	OUT="$(creds "$c1000") vs $pre_c1000"
	expect "$n-uid1000-creds-and-caps" [ "$(creds "$c1000")" = "$pre_c1000" ]
	OUT="$(creds_inside "$RPID" "$c0") / $(creds_inside "$RPID" "$c1000") vs $pre_in0 / $pre_in1000"
	expect "$n-creds-inside" [ "$(creds_inside "$RPID" "$c0")/$(creds_inside "$RPID" "$c1000")" = "$pre_in0/$pre_in1000" ]
	OUT="$(ls -ln "$R/data/f" /proc/"$RPID"/root/tmp/own | awk '{print $3, $4, $NF}' | sed "s|/proc/$RPID/root||") vs $pre_ls"
	expect "$n-owners" [ "$(ls -ln "$R/data/f" /proc/"$RPID"/root/tmp/own | awk '{print $3, $4, $NF}' | sed "s|/proc/$RPID/root||")" = "$pre_ls" ]
	OUT="$(awk '$5 == "/tmp" {print $NF}' /proc/"$RPID"/mountinfo) vs $pre_tmp"
	expect "$n-tmpfs-options" [ "$(awk '$5 == "/tmp" {print $NF}' /proc/"$RPID"/mountinfo)" = "$pre_tmp" ]
	OUT=$(cat /proc/"$RPID"/root/ext/e 2>&1)
	expect "$n-host-bind" [ "$OUT" = ext ]
	OUT="$(try_host_write)"
	expect "$n-still-no-host-write" [ "$OUT" = "denied wrote" ]
	expect "$n-hostfile-untouched" [ "$(cat "$R/hostfile")" = host ]
	OUT="count $(count "$R/out/s0") after $cnt0"
	expect "$n-counter-goes-on" wait_until 5 eval '[ "$(count "$R/out/s0")" -gt "$cnt0" ]'
	verified "$n-memory-after"
	# the service in a mount namespace of its own (systemd's PrivateTmp in an unprivileged container)
	nn=$(by_name "$RPID" "sh -c mkdir")
	OUT="nested $nn: $(readlink /proc/$nn/ns/mnt 2>&1) root $(readlink /proc/$RPID/ns/mnt); $(ns_info "$nn" 2>&1)"
	expect "$n-nested-mntns" cond '[ -n "$nn" ] && [ "$(readlink /proc/$nn/ns/mnt)" != "$(readlink /proc/$RPID/ns/mnt)" ]'
	expect "$n-nested-mntns-owned" contains "$(ns_info "$nn" 2>&1)" "owner=$owner parent-is-ours=1 mnt-owned=1"
	expect "$n-nested-tmpfs" cond '[ "$(cat /proc/$nn/fd/5)" = n ] && [ "$(cat /proc/$nn/root/tmp/p/f)" = n ] && [ ! -e /proc/$RPID/root/tmp/p/f ]'
	stop_task "$RPID"
}

# as LXC started by root; as rootless Podman, its namespace made by uid
# 1000, with a time namespace of its own too, a day ahead
run_case allow 0
if [ -e /proc/self/ns/time ]; then
	run_case deny 1000 "--time --monotonic 86400 --boottime 86400"
else
	run_case deny 1000
fi

# Refused at dump, the tree left running: a task in a user namespace
# nested in the tree's; a network namespace the tree's user namespace
# doesn't own (made by the host's root before it).
R=$WORK/root-nested
make_rootfs "$R"
ln -sf busybox "$R/bin/umount"
ln -sf busybox "$R/bin/unshare"
mknod -m 666 "$R/dev/null" c 1 3
chown -R 100000:100000 "$R"
if start_userns_ct allow 'exec </dev/null >/dev/null 2>&1; unshare -U sleep 1000 & while :; do sleep 1; done'; then
	wait_until 5 eval '[ -n "$(kids "$C")" ]'
	run_criu dump -t "$C" -D "$WORK/img-nested"
	expect userns-nested-refused [ "$RC" -ne 0 ]
	expect userns-nested-says-why contains "$OUT" "user namespace of its own, not the root's"
	expect userns-nested-runs-on kill -0 "$C"
	stop_task "$U"
else
	fail userns-nested-start "$(cat "$WORK/container.log")"
fi

unshare --net --fork -- unshare --user --keep-caps --fork sleep 1000 </dev/null >/dev/null 2>&1 &
N=$!
disown "$N"
echo "$N" >>"$PIDLIST"
wait_until 5 eval '[ -n "$(kids "$(kids "$N")")" ] && own_userns "$(kids "$N")"'
S=$(kids "$(kids "$N")")
# in no pid namespace of their own: each goes only when killed
echo "$(kids "$N")" >>"$PIDLIST"
echo "$S" >>"$PIDLIST"
echo 0 100000 65536 >/proc/"$(kids "$N")"/uid_map
run_criu dump -t "$S" -D "$WORK/img-netns"
expect userns-foreign-netns-refused [ "$RC" -ne 0 ]
expect userns-foreign-netns-says-why contains "$OUT" "net namespace is its own but is not owned by its user namespace"
expect userns-foreign-netns-runs-on kill -0 "$S"
stop_task "$S"
stop_task "$N"

# A namespace with no root inside (bubblewrap's and Flatpak's one-id map),
# and one in criu's pid namespace: restore could not make them: refused at
# dump, running on
for what in noroot hostpid; do
	if [ $what = noroot ]; then
		unshare --user --pid --fork sleep 1000 </dev/null >/dev/null 2>&1 &
	else
		unshare --user sleep 1000 </dev/null >/dev/null 2>&1 &
	fi
	N=$!
	disown "$N"
	echo "$N" >>"$PIDLIST"
	wait_until 5 own_userns "$N"
	if [ $what = noroot ]; then
		echo "1000 101000 1" >/proc/"$N"/uid_map && echo "1000 101000 1" >/proc/"$N"/gid_map
		wait_until 5 eval '[ -n "$(kids "$N")" ]'
		S=$(kids "$N")
		echo "$S" >>"$PIDLIST"
		says="maps no root"
	else
		echo "0 100000 65536" >/proc/"$N"/uid_map && echo "0 100000 65536" >/proc/"$N"/gid_map
		S=$N
		says="shares criu's pid namespace"
	fi
	run_criu dump -t "$S" -D "$WORK/img-$what"
	expect "userns-$what-refused" [ "$RC" -ne 0 ]
	expect "userns-$what-says-why" contains "$OUT" "$says"
	expect "userns-$what-runs-on" kill -0 "$S"
	stop_task "$S"
	stop_task "$N"
done
finish

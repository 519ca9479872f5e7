#!/bin/bash
# make demo: a narrated walk through the external bind mount scenario, dump
# and restore.
#
# A container (new mount, pid, uts and ipc namespaces, pivot_root into a
# busybox root) has /bar bind-mounted from a host directory outside its
# root. The demo shows what criu dump says about it without a mapping, dumps
# it with the older --ext-mount-map and with autodetection while it keeps
# running (-R), then checkpoints it for good with --external
# mnt[/bar]:barmount (the container is gone afterwards), shows the image with
# criu show and crit, and restores it with --external mnt[barmount]:<a second
# host directory>: the container's own program comes back, goes on counting
# from where it stopped and now reads the second directory at /bar; the
# host's mountinfo is unchanged, and a restore without the mapping is refused
# without leaving anything behind.
# Every command is printed before it runs.
#
# Everything happens inside a private mount namespace (the sandbox, entered
# by re-executing this script under unshare), so no mount is visible outside,
# and the EXIT trap kills every process and unmounts everything the demo made,
# whether it succeeds, fails or is interrupted.
#
# Exits non-zero as soon as a step does not behave as described.
#
# To add a step, write a step_NAME function and list it in STEPS at the end.
set -u

TOP=$(cd "$(dirname "$0")/.." && pwd)
CRIU=${CRIU:-$TOP/criu/criu}

if [ "$(id -u)" -ne 0 ]; then
	echo "demo: run as root (it makes namespaces and mounts)" >&2
	exit 1
fi
if [ ! -x "$CRIU" ]; then
	echo "demo: $CRIU is missing; run 'make' (or 'make demo')" >&2
	exit 1
fi
for tool in unshare busybox crit; do
	command -v "$tool" >/dev/null || {
		echo "demo: $tool is missing; run 'make demo', which installs it" >&2
		exit 1
	}
done

if [ -z "${CRIU_DEMO_SANDBOX:-}" ]; then
	export CRIU_DEMO_SANDBOX=1
	exec unshare --mount --propagation private -- "$BASH" "$0" "$@"
fi

# ------------------------------------------------------------ sandbox

WORK=$(mktemp -d /tmp/criu-demo.XXXXXX)
# The processes the demo started (the container's unshare and its init, the
# task holding the restored namespace).
PIDS=()

# gone PID: true once PID has exited (a zombie waiting to be reaped counts).
gone() {
	local st
	st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) || return 0
	[ -z "$st" ] || [ "${st%% *}" = Z ]
}

# wait_gone PID: waits up to 10 s for PID to exit and, if its parent is
# around to do it, to be reaped (a detached restored task is reaped by init).
wait_gone() {
	for _ in $(seq 1 200); do
		[ -e "/proc/$1" ] || return 0
		sleep 0.05
	done
	gone "$1"
}

cleanup() {
	local p
	trap '' INT TERM HUP # a second Ctrl-C must not cut the cleanup short
	# The init of a pid namespace takes every task of it along when killed.
	for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait_gone "$p"; done
	umount -R "$WORK" 2>/dev/null
	rmdir "$WORK" 2>/dev/null
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

mount -t tmpfs -o mode=755 criu-demo "$WORK"

HOSTDIR=$WORK/foo  # the host directory, "/foo" of the story
HOSTDIR2=$WORK/foo2 # another host directory, mapped to /bar on restore
ROOTFS=$WORK/root  # the container's root filesystem
IMG=$WORK/img      # images of the mapped dump
IMG_AUTO=$WORK/img-auto
PID=           # the container's init, as seen from here
BAR_ID=        # mount id of /bar in the container

# ------------------------------------------------------------ narration

if [ -t 1 ]; then
	BOLD=$'\e[1m' DIM=$'\e[2m' RED=$'\e[31m' GREEN=$'\e[32m' OFF=$'\e[0m'
else
	BOLD='' DIM='' RED='' GREEN='' OFF=''
fi
STEP=0

step() {
	STEP=$((STEP + 1))
	printf '\n%s== %d. %s%s\n' "$BOLD" "$STEP" "$*" "$OFF"
}
say() { printf '%s\n' "$*" | fold -s -w 78; }
good() { printf '%s-> %s%s\n' "$GREEN" "$*" "$OFF"; }
die() {
	printf '%sdemo failed at step %d: %s%s\n' "$RED" "$STEP" "$*" "$OFF" >&2
	exit 1
}

# Quotes an argument for display only when it needs it.
show_arg() {
	if [[ $1 =~ ^[A-Za-z0-9_./:=,@%+-]+$ ]]; then
		printf '%s' "$1"
	else
		printf "'%s'" "${1//\'/\'\\\'\'}"
	fi
}

# Runs "$@" with its output in a file, not a pipe: a process it leaves
# behind (a detached restored tree) must not keep the demo waiting for EOF.
capture() {
	"$@" >"$WORK/.output" 2>&1 </dev/null
	RC=$?
	OUT=$(cat "$WORK/.output")
	[ -n "$OUT" ] && printf '%s\n' "$OUT" | sed 's/^/    /'
	[ "$RC" -ne 0 ] && printf '%s    (exit status %d)%s\n' "$DIM" "$RC" "$OFF"
	return 0
}

# run CMD ARGS...: prints "$ CMD ARGS" (criu for our binary), runs it, shows
# its output indented, keeps it in $OUT and the exit status in $RC.
run() {
	local shown=() a
	for a in "$@"; do shown+=("$(show_arg "$a")"); done
	[ "$1" = "$CRIU" ] && shown[0]=criu
	printf '%s$ %s%s\n' "$BOLD" "${shown[*]}" "$OFF"
	capture "$@"
}

# runsh 'SHELL TEXT': the same for a piece of shell (redirections, loops).
runsh() {
	printf '%s$ %s%s\n' "$BOLD" "$1" "$OFF"
	capture bash -c "$1"
}

has() { grep -qF -- "$1" <<<"$OUT"; }

# ------------------------------------------------------------ steps

step_host_dir() {
	step "A directory on the host"
	say "The host keeps data in a directory outside any container. In the story it is /foo; here it lives in the demo's sandbox."
	run mkdir -p "$HOSTDIR"
	runsh "echo 'hello from the host' > $HOSTDIR/message"
	run ls -l "$HOSTDIR"
	[ -f "$HOSTDIR/message" ] || die "could not create $HOSTDIR/message"
}

step_rootfs() {
	step "A container root filesystem from busybox-static"
	runsh "mkdir -p $ROOTFS/{bin,proc,tmp,bar,oldroot}"
	run cp "$(command -v busybox)" "$ROOTFS/bin/busybox"
	runsh "for c in sh cat sleep echo umount; do ln -s busybox $ROOTFS/bin/\$c; done"
	run ls "$ROOTFS" "$ROOTFS/bin"
	[ -x "$ROOTFS/bin/sh" ] || die "the root filesystem has no /bin/sh"
}

# The container's program: reads /bar/message every 0.2 s and writes what it
# read, with a counter, to /bar/seen, which the host sees as $HOSTDIR/seen.
# shellcheck disable=SC2016 # expanded in the container, not here
PROGRAM='n=0; while :; do n=$((n + 1)); read line </bar/message; echo "$n $line" >/bar/seen; sleep 0.2; done'

# The container: the same recipe as container runtimes follow for a volume.
# shellcheck disable=SC2016 # expanded by the container's bash
CONTAINER_SETUP='set -e
mount --bind "$ROOT" "$ROOT"             # the root must be a mount point
mount --bind "$HOSTDIR" "$ROOT/bar"      # the volume: root outside the container
mount -t proc proc "$ROOT/proc"
exec 3<>/dev/null                        # stdio for the container, as runtimes give one
cd "$ROOT"
pivot_root . oldroot
umount -l /oldroot                       # the host is out of sight now
exec /bin/sh -c "$PROGRAM" <&3 >&3 2>&3 3>&-'

step_start_container() {
	step "Start the container"
	say "New mount, pid, uts and ipc namespaces; /bar is bind-mounted from $HOSTDIR, whose contents are outside the container's root; then pivot_root into the busybox root. The container's program keeps reading /bar:"
	printf '%s$ export ROOT=%s HOSTDIR=%s%s\n' "$BOLD" "$ROOTFS" "$HOSTDIR" "$OFF"
	printf '%s$ export PROGRAM='\''%s'\''%s\n' "$BOLD" "$PROGRAM" "$OFF"
	printf '%s$ unshare --mount --pid --uts --ipc --fork --propagation unchanged bash -c '\''%s'\'' &%s\n' \
		"$BOLD" "$CONTAINER_SETUP" "$OFF" | sed '2,$s/^/      /'
	ROOT=$ROOTFS HOSTDIR=$HOSTDIR PROGRAM=$PROGRAM \
		unshare --mount --pid --uts --ipc --fork --propagation unchanged -- \
		bash -c "$CONTAINER_SETUP" >"$WORK/container.log" 2>&1 &
	local ushare=$! child=
	PIDS+=("$ushare")
	disown "$ushare" # killed by the cleanup; no "Killed" notice from bash then
	for _ in $(seq 1 200); do
		child=$(awk '{print $1}' "/proc/$ushare/task/$ushare/children" 2>/dev/null)
		if [ -n "$child" ] && [ "$(readlink "/proc/$child/root")" = / ] &&
			[ "$(readlink "/proc/$child/exe")" = /bin/busybox ]; then
			break
		fi
		child=
		sleep 0.05
	done
	[ -n "$child" ] || die "the container did not start: $(cat "$WORK/container.log")"
	PIDS+=("$child")
	PID=$child
	for _ in $(seq 1 100); do
		[ -s "$HOSTDIR/seen" ] && break
		sleep 0.05
	done
	good "the container runs; its init is PID $PID here (PID 1 inside)"
	run cat "$HOSTDIR/seen"
	has "hello from the host" || die "the container does not read /bar"
}

step_mountinfo() {
	step "What the container's mountinfo says about /bar"
	run grep -E '^[0-9]+ [0-9]+ [0-9]+:[0-9]+ [^ ]+ (/|/bar) ' "/proc/$PID/mountinfo"
	BAR_ID=$(awk '$5 == "/bar" {print $1}' "/proc/$PID/mountinfo")
	local bar_root top_root
	bar_root=$(awk '$5 == "/bar" {print $4}' "/proc/$PID/mountinfo")
	top_root=$(awk '$5 == "/" {print $4}' "/proc/$PID/mountinfo")
	[ -n "$BAR_ID" ] || die "no /bar in the container's mountinfo"
	say "Field 4 is the mount's root within its filesystem, field 5 where it is mounted. Both mounts come from the same filesystem (field 3), but the container's / shows only $top_root of it, while /bar (mount $BAR_ID) shows $bar_root, which lies outside $top_root. Nothing inside the container contains the root of /bar: it is an external bind mount."
}

step_dump_unmapped() {
	step "Dump without telling criu about /bar"
	run "$CRIU" dump -t "$PID" -D "$IMG"
	[ "$RC" -ne 0 ] || die "criu dump succeeded, expected it to refuse /bar"
	has "$BAR_ID:/bar doesn't have a proper root mount" ||
		die "the message '$BAR_ID:/bar doesn't have a proper root mount' is missing"
	has "--external mnt[/bar]:NAME" || die "the hint with the fixing option is missing"
	[ ! -e "$IMG/inventory.img" ] || die "a failed dump left images behind"
	good "refused, naming the mount and the option that fixes it; no images were written"
}

step_dump_typo() {
	step "A typo in the mountpoint is an error too"
	run "$CRIU" dump -t "$PID" -D "$IMG" --external 'mnt[/baz]:barmount'
	if [ "$RC" -eq 0 ] || ! has "no mount at /baz"; then
		die "a key that matches no mount was not reported"
	fi
	good "a key that matches no mount is reported, not ignored"
}

step_dump_mapped() {
	step "Dump with --external mnt[/bar]:barmount"
	say "On dump, the key is the mountpoint inside the container and the value an arbitrary name that goes into the image in place of the host root."
	COUNT_BEFORE=$(cut -d' ' -f1 "$HOSTDIR/seen")
	run "$CRIU" dump -t "$PID" -D "$IMG" --external 'mnt[/bar]:barmount'
	[ "$RC" -eq 0 ] || die "criu dump --external mnt[/bar]:barmount failed"
	run ls "$IMG"
	MNT_IMG=$(find "$IMG" -name 'mountpoints-*.img' | head -n 1)
	[ -n "$MNT_IMG" ] || die "no mountpoints-N.img in $IMG"
	[ -f "$IMG/inventory.img" ] || die "no inventory.img in $IMG"
	good "dumped: $(basename "$MNT_IMG") holds the mounts, inventory.img marks a complete dump"
}

step_show() {
	step "The image, as criu show prints it"
	run "$CRIU" show -f "$MNT_IMG" -F mnt_id,root,mountpoint
	local want
	want="mnt_id: $(printf '0x%x' "$BAR_ID") root: barmount mountpoint: /bar"
	has "$want" || die "expected the line '$want'"
	good "the root of /bar is the name 'barmount', not the host path"
	! grep -qaF "$HOSTDIR" "$MNT_IMG" || die "the host path $HOSTDIR appears in the image"
	good "the host path $HOSTDIR appears nowhere in the image"
}

step_crit() {
	step "The same image, decoded by upstream CRIU's crit"
	say "crit comes with Debian's criu package; it reads our images because they use upstream's format."
	run crit decode -i "$MNT_IMG" --pretty
	[ "$RC" -eq 0 ] || die "crit could not decode $MNT_IMG"
	has '"root": "barmount"' || die "crit shows no root \"barmount\""
	has '"ext_key": "barmount"' || die "crit shows no ext_key \"barmount\""
	has '"mountpoint": "/bar"' || die "crit shows no /bar"
	good "crit reads it: magic \"MNTS\", /bar with root and ext_key \"barmount\""
}

step_legacy_map() {
	step "The older spelling, --ext-mount-map /bar:barmount, does the same"
	say "-R (--leave-running) keeps the container running after this dump; without it criu dump ends the tree once its images are safely written."
	run "$CRIU" dump -R -t "$PID" -D "$WORK/img-legacy" --ext-mount-map /bar:barmount
	[ "$RC" -eq 0 ] || die "criu dump --ext-mount-map failed"
	run "$CRIU" show -f "$(ls "$WORK"/img-legacy/mountpoints-*.img)" -F root,mountpoint
	has "root: barmount mountpoint: /bar" || die "the legacy spelling wrote a different image"
}

step_dump_auto() {
	step "Autodetection: --external mnt[]"
	say "Without a map, criu finds where each external mount comes from on the host and stores that path, so that restore can bind it back without being told."
	run "$CRIU" dump -R -t "$PID" -D "$IMG_AUTO" --external 'mnt[]'
	[ "$RC" -eq 0 ] || die "criu dump --external mnt[] failed"
	local img
	img=$(find "$IMG_AUTO" -name 'mountpoints-*.img' | head -n 1)
	[ -n "$img" ] || die "no mountpoints-N.img in $IMG_AUTO"
	run "$CRIU" show -f "$img" -F mnt_id,root,mountpoint,source,ext_key
	local line
	line=$(grep 'mountpoint: /bar ' <<<"$OUT")
	[[ $line == *"source: $HOSTDIR "* ]] || die "the host path $HOSTDIR is not stored as the source of /bar"
	[[ $line == *"ext_key: CRIU:"* ]] || die "/bar is not marked as autodetected"
	good "/bar is marked ${line##*ext_key: }; its source is the host path $HOSTDIR"
}

step_still_running() {
	step "The container kept running"
	say "Both dumps froze the whole tree for a moment (ptrace, nothing injected) and released it exactly as it was."
	local before
	before=$(cut -d' ' -f1 "$HOSTDIR/seen")
	sleep 1
	run grep -E '^(Name|State|NSpid):' "/proc/$PID/status"
	kill -0 "$PID" 2>/dev/null || die "the container's init is gone"
	run cat "$HOSTDIR/seen"
	local after=${OUT%% *}
	[ "$after" -gt "$before" ] 2>/dev/null || die "the container stopped reading /bar (counter $before, then $after)"
	good "still reading /bar: its counter went from $before to $after"
}

# ------------------------------------------------------------ restore
# The second half of the scenario: the container is gone, and
#   criu restore ... --external mnt[barmount]:HOSTPATH
# brings its mounts back with HOSTPATH bind-mounted at /bar. The demo maps
# the name to a second host directory, so that what /bar shows is visibly
# decided by the mapping and not by the image. The restored namespace is
# detached (-d); the PID of the task holding it, from --pidfile, joins PIDS so
# that the cleanup kills it too.
RESTORED_PID=

# Mountinfo of the demo's own namespace (the "host" of the story) before the
# restores, to show that they add nothing to it.
HOST_MOUNTINFO=$WORK/host-mountinfo.before

# The processes whose command line names the demo's directory: criu runs and
# the tasks they left (the restored namespace's holder keeps criu's command
# line). Other criu runs on the machine are not the demo's business.
demo_tasks() { pgrep -f -- "$WORK" | sort -n | tr '\n' ' '; }

step_stop_container() {
	step "The checkpointed container is gone"
	say "Without -R, criu dump ends the tree once every image is written: the container's processes, its namespaces and the mounts in them are gone. From now on only the images remember them: the program's memory, registers and descriptors, and /bar."
	wait_gone "$PID" || die "the container's init did not exit after the dump"
	gone "$PID" || die "the container's init is still there"
	good "the container is gone; its counter stopped at $(cut -d' ' -f1 "$HOSTDIR/seen")"
	cp /proc/self/mountinfo "$HOST_MOUNTINFO"
}

step_other_host_dir() {
	step "Another host directory"
	say "On restore, the name in the image is mapped to a host path again, and it need not be the one used at dump: another host, another volume. The demo uses a second directory with a different message, so that we can tell which one /bar shows."
	run mkdir -p "$HOSTDIR2"
	runsh "echo 'hello from the second host directory' > $HOSTDIR2/message"
	run ls -l "$HOSTDIR2"
}

step_restore() {
	step "Restore with --external mnt[barmount]:$HOSTDIR2"
	say "On restore the key is the name from the image and the value the host path to bind-mount at the mountpoint. --root is the directory the container's / comes from; -d returns once the namespace is built, and --pidfile says which task holds it."
	run "$CRIU" restore -D "$IMG" --root "$ROOTFS" --external "mnt[barmount]:$HOSTDIR2" \
		-d --pidfile "$WORK/restored.pid"
	if [ -s "$WORK/restored.pid" ]; then
		RESTORED_PID=$(cat "$WORK/restored.pid")
		PIDS+=("$RESTORED_PID")
	fi
	[ "$RC" -eq 0 ] || die "criu restore failed"
	[ -n "$RESTORED_PID" ] || die "criu restore wrote no pidfile"
	has "Restored: root task $RESTORED_PID" || die "criu did not report the restored task"
	good "restored; the container's init is PID $RESTORED_PID here"
	say "The container's own init is back: the same program, pid 1 of new pid, uts and ipc namespaces, with its memory, registers and descriptors as they were."
	run grep -E '^(Name|State|NSpid):' "/proc/$RESTORED_PID/status"
	[ "$(awk '/^NSpid:/ {print $NF}' "/proc/$RESTORED_PID/status")" = 1 ] ||
		die "the restored init is not pid 1 of a new pid namespace"
	runsh "tr '\\0' ' ' </proc/$RESTORED_PID/cmdline; echo"
	has "while :" || die "the restored task is not the container's program"
}

step_goes_on() {
	step "The program goes on where it stopped, reading the new /bar"
	say "It was dumped with its counter at $COUNT_BEFORE. It writes /bar/seen, which is now in $HOSTDIR2:"
	for _ in $(seq 1 50); do
		[ -s "$HOSTDIR2/seen" ] && break
		sleep 0.1
	done
	sleep 0.5
	run cat "$HOSTDIR2/seen"
	has "hello from the second host directory" || die "the restored program does not read the mapped /bar"
	local n=${OUT%% *}
	[ "$n" -gt "$COUNT_BEFORE" ] 2>/dev/null || die "the counter did not go on from $COUNT_BEFORE (now $n)"
	[ "$n" -lt $((COUNT_BEFORE + 100)) ] || die "the counter restarted or jumped: $n"
	good "counter $COUNT_BEFORE at dump, $n now: the same process going on, reading /bar from $HOSTDIR2"
}

step_restored_mounts() {
	step "/bar in the restored namespace shows the mapped directory"
	run grep -E '^[0-9]+ [0-9]+ [0-9]+:[0-9]+ [^ ]+ /bar ' "/proc/$RESTORED_PID/mountinfo"
	has " /bar " || die "no /bar in the restored namespace's mountinfo"
	local root
	root=$(awk '$5 == "/bar" {print $4}' "/proc/$RESTORED_PID/mountinfo")
	[ "$root" = "/${HOSTDIR2##*/}" ] || die "/bar shows $root, expected /${HOSTDIR2##*/}"
	say "Field 4 is now $root: the second directory of the demo's tmpfs, where the dumped container had /${HOSTDIR##*/}."
	run ls -l "/proc/$RESTORED_PID/root/bar"
	run cat "/proc/$RESTORED_PID/root/bar/message"
	has "hello from the second host directory" || die "/bar of the restored namespace does not show $HOSTDIR2"
	run grep -E '^[0-9]+ [0-9]+ [0-9]+:[0-9]+ [^ ]+ (/|/proc) ' "/proc/$RESTORED_PID/mountinfo"
	has " / " || die "no / in the restored namespace"
	has " /proc " || die "no /proc in the restored namespace"
	good "/bar is $HOSTDIR2 ; / and a fresh /proc are back too"
}

step_host_unchanged() {
	step "The host's mounts did not change"
	say "criu builds the namespace from detached copies of the host paths, made private before the new namespace exists, and turns the new namespace into a slave of its own: nothing it mounts there shows on the host. Compare criu's own mountinfo with the copy taken before the restore:"
	run diff "$HOST_MOUNTINFO" /proc/self/mountinfo
	[ "$RC" -eq 0 ] || die "the host's mountinfo changed during the restore"
	good "identical: $(wc -l <"$HOST_MOUNTINFO") mounts before, the same after"
}

step_restore_error() {
	step "A restore error: no mapping for the name"
	say "The image names barmount but does not say where it comes from on this host; criu will not guess. Restore without --external:"
	local tasks_before
	tasks_before=$(demo_tasks)
	run "$CRIU" restore -D "$IMG" --root "$ROOTFS" -d --pidfile "$WORK/failed.pid"
	if [ -s "$WORK/failed.pid" ]; then
		PIDS+=("$(cat "$WORK/failed.pid")")
		die "the restore without a mapping succeeded"
	fi
	[ "$RC" -ne 0 ] || die "the restore without a mapping succeeded"
	local want="No mapping for $BAR_ID:/bar mountpoint (name 'barmount'): add --external mnt[barmount]:<host path>"
	has "$want" || die "expected the message '$want'"
	good "refused, naming the mount, its name and the option to add"
	say "It was refused before anything was made: no task, no namespace, no mount. The demo's tasks are as before, the restored container still runs, and the host's mountinfo is still the copy from before both restores:"
	[ "$(demo_tasks)" = "$tasks_before" ] || die "the failed restore left a task behind: $(demo_tasks)"
	kill -0 "$RESTORED_PID" || die "the restored container died"
	run diff "$HOST_MOUNTINFO" /proc/self/mountinfo
	[ "$RC" -eq 0 ] || die "the failed restore changed the host's mountinfo"
	good "nothing was left behind"
}

step_stop_restored() {
	step "Stop the restored namespace"
	say "Killing its init takes the namespace and every mount in it along."
	run kill -KILL "$RESTORED_PID"
	wait_gone "$RESTORED_PID" || die "the restored init did not exit"
	run diff "$HOST_MOUNTINFO" /proc/self/mountinfo
	[ "$RC" -eq 0 ] || die "the host's mountinfo changed"
	good "gone, and the host is as it was"
}

STEPS=(
	step_host_dir
	step_rootfs
	step_start_container
	step_mountinfo
	step_dump_unmapped
	step_dump_typo
	step_legacy_map
	step_dump_auto
	step_still_running
	step_dump_mapped
	step_show
	step_crit
	step_stop_container
	step_other_host_dir
	step_restore
	step_goes_on
	step_restored_mounts
	step_host_unchanged
	step_restore_error
	step_stop_restored
)

printf '%sExternal bind mounts: checkpoint a container, restore it with another volume%s\n' "$BOLD" "$OFF"
say "criu is $CRIU; everything below runs in a private mount namespace with its files in $WORK, removed at the end."
for s in "${STEPS[@]}"; do
	"$s"
done
printf '\n%sDemo finished: every step behaved as described.%s\n' "$GREEN" "$OFF"

#!/bin/bash
# End-to-end, dump only: what upstream CRIU 4.x's restore needs of our
# images, checked in the images themselves (no upstream binary needed).
# - inventory.img: root_ids, the dumping criu's ids in the tasks' id space,
#   differ from the root task's (ids-1.img) exactly in the namespace kinds
#   the container owns, and address space, fd table, fs info and signal
#   handlers are no task's; an empty plugins_entry, network lock "skip" (2),
#   a UUID run id.
# - timens-0.img: criu's monotonic and boottime clocks while the tree was
#   frozen; seccomp.img written though there are no filters; the vDSO's
#   pages saved; at most 44 auxv words.
# - a container with a time namespace of its own (as a restore leaves it):
#   timens-1.img with that namespace's clocks (criu's plus its offsets),
#   root_ids.time_ns_id not the root's, no timens-0.img.
# - a process whose children would go to another time namespace: refused,
#   running on.
# - every image of those dumps decoded by Debian's crit (CRIU 3.17, which
#   skips the fields it doesn't know) and by criu show.
. "$(dirname "$0")/lib.sh"

R=$WORK/root
make_rootfs "$R"
mknod -m 666 "$R/dev/null" c 1 3
CLEAN='for fd in /proc/self/fd/*; do fd=${fd##*/}; [ "$fd" -gt 2 ] && eval "exec $fd>&-"; done'
QUIET='exec </dev/null >/dev/null 2>&1; '

# clocks: CLOCK_MONOTONIC and CLOCK_BOOTTIME in ns, as criu reads them
clocks() { python3 -c 'import time; print(time.clock_gettime_ns(time.CLOCK_MONOTONIC), time.clock_gettime_ns(time.CLOCK_BOOTTIME))'; }
# show FILE: criu show's one line of an image's first entry
show() { "$CRIU" show -f "$1" 2>&1 | head -n 1; }
# idval NAME TEXT: the value of "NAME: 0x..." in TEXT, decimal; empty if absent
idval() { local v; v=$(grep -o "\b$1: 0x[0-9a-f]*" <<<"$2" | head -n 1); [ -n "$v" ] && echo $((${v##* })); }
# timens_ns FILE: the monotonic and boottime of a timens image, in ns
timens_ns() {
	show "$1" | python3 -c '
import re, sys
v = [int(x, 16) for x in re.findall(r"tv_(?:sec|nsec): 0x([0-9a-f]+)", sys.stdin.read())]
print(v[0] * 10**9 + v[1], v[2] * 10**9 + v[3]) if len(v) == 4 else print("bad")'
}
# within LO X HI
within() { [ "$1" -le "$2" ] && [ "$2" -le "$3" ]; }

KINDS="pid_ns_id net_ns_id ipc_ns_id uts_ns_id mnt_ns_id user_ns_id cgroup_ns_id time_ns_id"

# root_ids_check NAME IMGDIR "OWNED KINDS": root_ids against ids-1.img
root_ids_check() {
	local name=$1 img=$2 owned=$3 inv ids k a b bad=""
	inv=$("$CRIU" show -f "$img/inventory.img" -F root_ids 2>&1)
	ids=$(show "$img/ids-1.img")
	for k in $KINDS; do
		a=$(idval "$k" "$inv") b=$(idval "$k" "$ids")
		if [ -z "$a" ] || [ -z "$b" ]; then
			bad="$bad $k:missing"
		elif [[ " $owned " == *" $k "* ]]; then
			[ "$a" != "$b" ] || bad="$bad $k:same"
		else
			[ "$a" = "$b" ] || bad="$bad $k:differs"
		fi
	done
	# kernel objects: no task's (upstream: an equal files_id is CLONE_FILES)
	for k in vm_id files_id fs_id sighand_id; do
		a=$(idval "$k" "$inv")
		for f in "$img"/ids-*.img; do
			[ -n "$a" ] && [ "$a" != "$(idval "$k" "$(show "$f")")" ] || bad="$bad $k:$(basename "$f")"
		done
	done
	if [ -z "$bad" ]; then ok "$name"; else fail "$name" "$bad; root_ids: $inv; ids-1: $ids"; fi
}

# 1. A container with its own mount, pid, uts and ipc namespaces.
if CPID=$(start_container "$R" "$CLEAN" "$QUIET"'sleep 1000 & while :; do sleep 1; done'); then
	read -r m0 b0 < <(clocks)
	run_criu dump -t "$CPID" -D "$WORK/img"
	read -r m1 b1 < <(clocks)
	expect ct-dump [ "$RC" -eq 0 ]
	root_ids_check ct-root-ids "$WORK/img" "pid_ns_id ipc_ns_id uts_ns_id mnt_ns_id"
	inv=$(show "$WORK/img/inventory.img")
	expect ct-lock-skip [ "$(idval network_lock_method "$inv")" = 2 ]
	expect ct-plugins-empty contains "$inv" "plugins_entry: {  }"
	expect ct-run-id eval 'grep -qE "dump_criu_run_id: [0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$" <<<"$inv"'
	expect ct-seccomp-empty eval '[ -e "$WORK/img/seccomp.img" ] && [ -z "$(show "$WORK/img/seccomp.img")" ]'
	expect ct-no-own-timens [ ! -e "$WORK/img/timens-1.img" ]
	read -r tm tb < <(timens_ns "$WORK/img/timens-0.img")
	expect ct-timens0-monotonic within "$m0" "${tm:-0}" "$m1"
	expect ct-timens0-boottime within "$b0" "${tb:-0}" "$b1"
	mm=$(show "$WORK/img/mm-1.img")
	# "mm_saved_auxv: [ ... ]": the words plus 3
	expect ct-auxv-44 [ "$(grep -o 'mm_saved_auxv: \[[^]]*\]' <<<"$mm" | wc -w)" -le $((44 + 3)) ]
	# a run of pages starts at the vDSO (VMA_AREA_VDSO 0x8)
	vdso=$(python3 -c '
import re, sys
for v in re.findall(r"\{ start: (0x[0-9a-f]+) end: 0x[0-9a-f]+[^}]*status: (0x[0-9a-f]+)", sys.argv[1]):
    if int(v[1], 16) & 0x8:
        print(v[0])' "$mm")
	runs=$("$CRIU" show -f "$WORK/img/pagemap-1.img" 2>&1)
	expect ct-vdso-pages eval '[ -n "$vdso" ] && grep -q "^vaddr: $vdso " <<<"$runs"'
	wait_until 3 gone "$CPID"
else
	fail ct-start "container did not start"
fi

# 2. A container in a time namespace of its own (a restored tree is in
#    one): its clocks, criu's moved by the offsets.
if ! unshare --time true 2>/dev/null; then
	skip ct-timens "no time namespaces here"
elif CPID=$(UNSHARE_EXTRA="--time --monotonic 1000 --boottime 5000" start_container "$R" "$CLEAN" \
	"$QUIET"'while :; do sleep 1; done'); then
	read -r m0 b0 < <(clocks)
	run_criu dump -t "$CPID" -D "$WORK/img-time"
	read -r m1 b1 < <(clocks)
	expect timens-dump [ "$RC" -eq 0 ]
	root_ids_check timens-root-ids "$WORK/img-time" "pid_ns_id ipc_ns_id uts_ns_id mnt_ns_id time_ns_id"
	expect timens-no-timens0 [ ! -e "$WORK/img-time/timens-0.img" ]
	read -r tm tb < <(timens_ns "$WORK/img-time/timens-1.img")
	s=1000000000
	expect timens-monotonic within $((m0 + 1000 * s)) "${tm:-0}" $((m1 + 1000 * s))
	expect timens-boottime within $((b0 + 5000 * s)) "${tb:-0}" $((b1 + 5000 * s))
	wait_until 3 gone "$CPID"
else
	fail timens-start "container did not start"
fi

# 3. unshare(CLONE_NEWTIME) with neither a fork nor an exec after it (an
#    exec moves the process into it): its children would be in a namespace
#    restore would not make. Refused.
if unshare --time true 2>/dev/null; then
	setsid python3 -c '
import ctypes, time
if ctypes.CDLL(None, use_errno=True).unshare(0x80) == 0:  # CLONE_NEWTIME
    time.sleep(1000)' </dev/null >/dev/null 2>&1 &
	P=$!
	disown "$P" # killed at the end: no job notice
	echo "$P" >>"$PIDLIST"
	wait_until 5 eval '[ "$(readlink /proc/$P/ns/time_for_children)" != "$(readlink /proc/$P/ns/time)" ]'
	run_criu dump -t "$P" -D "$WORK/img-nested"
	expect nested-timens-refused [ "$RC" -ne 0 ]
	expect nested-timens-message contains "$OUT" "has unshared a time namespace for its children"
	expect nested-timens-no-inventory [ ! -e "$WORK/img-nested/inventory.img" ]
	expect nested-timens-running kill -0 "$P"
	stop_task "$P"
fi

# every image criu wrote, through crit 3.17 and criu show (raw ones aside)
decodes_all() {
	local f bad=""
	for f in "$@"; do
		case ${f##*/} in pages-* | tmpfs-*) continue ;; esac
		crit decode -i "$f" >/dev/null 2>&1 || bad="$bad crit:${f##*/}"
		"$CRIU" show -f "$f" >/dev/null 2>&1 || bad="$bad show:${f##*/}"
	done
	[ -z "$bad" ] || { echo "not decoded:$bad" >&2; return 1; }
}
if ! command -v crit >/dev/null; then
	skip crit-decodes-every-image "Debian's crit is not installed"
elif ls "$WORK"/img/*.img >/dev/null 2>&1; then
	expect crit-decodes-every-image decodes_all "$WORK"/img/* "$WORK"/img-time/* 2>/dev/null
	expect images-include-timens-and-seccomp test -e "$WORK/img/timens-0.img" -a -e "$WORK/img/seccomp.img"
fi
finish

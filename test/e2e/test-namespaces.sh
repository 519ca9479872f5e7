#!/bin/bash
# End-to-end: the namespaces around the tree. The IPC namespace's settings
# (kernel.sem, kernel.shm*, kernel.msg*, fs.mqueue.*) come back in the
# restored one, and a network namespace of the container's own holding only
# lo comes back with lo as it was; what can't be recreated is refused at
# dump, with the tree left running: POSIX message queues in the IPC
# namespace, a network namespace with more than lo, a process of the tree
# in a namespace of its own. (A System V segment made by ipcmk comes back;
# test-sysv-ipc.sh has the rest of System V IPC.)
. "$(dirname "$0")/lib.sh"

R=$WORK/root
make_rootfs "$R"
ln -sf busybox "$R/bin/unshare"
mknod -m 666 "$R/dev/null" c 1 3
CLEAN='for fd in /proc/self/fd/*; do fd=${fd##*/}; [ "$fd" -gt 2 ] && eval "exec $fd>&-"; done; export PATH=/bin:$PATH'
QUIET='exec </dev/null >/dev/null 2>&1; '
# in_ipc PID FILE: a sysctl of PID's IPC namespace
in_ipc() { nsenter --ipc --target "$1" cat "/proc/sys/$2" 2>/dev/null | tr -s ' \t' ' '; }

# refused NAME MESSAGE: a dump of $CPID fails saying MESSAGE; the tree runs on
refused() {
	run_criu dump -t "$CPID" -D "$WORK/img-$1"
	expect "$1-refused" [ "$RC" -ne 0 ]
	expect "$1-message" contains "$OUT" "$2"
	expect "$1-no-inventory" [ ! -e "$WORK/img-$1/inventory.img" ]
	expect "$1-still-running" kill -0 "$CPID"
	if grep -qE '^(State:\s+[tT]|TracerPid:\s+[1-9])' /proc/"$CPID"/status; then
		fail "$1-released" "$(grep -E '^(State|TracerPid)' /proc/"$CPID"/status | tr '\n' ' ')"
	else
		ok "$1-released"
	fi
	stop_task "$CPID"
}

# 1. IPC settings: set in the container's namespace, restored in the new one.
SETUP=$CLEAN'
	echo "251 32001 33 129" >/proc/sys/kernel/sem
	echo 12345678 >/proc/sys/kernel/shmmax
	echo 7777 >/proc/sys/kernel/msgmnb
	echo 17 >/proc/sys/fs/mqueue/msg_max'
if CPID=$(start_container "$R" "$SETUP" "$QUIET"'while :; do sleep 1; done'); then
	expect ipc-set-in-container [ "$(in_ipc "$CPID" kernel/shmmax)" = 12345678 ]
	run_criu dump -t "$CPID" -D "$WORK/img-ipc"
	expect ipc-dump [ "$RC" -eq 0 ]
	expect ipc-image [ -s "$WORK/img-ipc/ipcns-var-1.img" ]
	if command -v crit >/dev/null; then
		expect ipc-crit contains "$(crit decode -i "$WORK/img-ipc/ipcns-var-1.img" 2>&1)" '"shm_ctlmax": 12345678'
	fi
	stop_task "$CPID"
	restore_ns "$WORK/img-ipc" --root "$R"
	if [ "$RC" -eq 0 ]; then
		ok ipc-restore
		expect ipc-sem-restored [ "$(in_ipc "$RPID" kernel/sem)" = "251 32001 33 129" ]
		expect ipc-shmmax-restored [ "$(in_ipc "$RPID" kernel/shmmax)" = 12345678 ]
		expect ipc-msgmnb-restored [ "$(in_ipc "$RPID" kernel/msgmnb)" = 7777 ]
		expect ipc-mq-restored [ "$(in_ipc "$RPID" fs/mqueue/msg_max)" = 17 ]
		expect ipc-host-untouched [ "$(cat /proc/sys/kernel/shmmax)" != 12345678 ]
		stop_task "$RPID"
	else
		fail ipc-restore "$OUT"
	fi
else
	fail ipc-start "container did not start"
fi

# 2. A System V shared memory segment in the container's IPC namespace,
#    made by ipcmk and attached by nobody: it comes back with its id, key
#    and size.
shm_list() { nsenter --ipc --target "$1" cat /proc/sysvipc/shm 2>/dev/null | awk 'NR > 1 {print $1, $2, $3, $4}'; }
if ! command -v ipcmk >/dev/null; then
	skip sysv-ipcmk "no ipcmk (util-linux) to make a segment"
elif CPID=$(start_container "$R" "$CLEAN"'
	ipcmk -M 4096 >/dev/null' "$QUIET"'while :; do sleep 1; done'); then
	seg=$(shm_list "$CPID")
	run_criu dump -t "$CPID" -D "$WORK/img-sysv"
	expect sysv-ipcmk-dump [ "$RC" -eq 0 ]
	wait_until 3 gone "$CPID"
	if restore_ns "$WORK/img-sysv" --root "$R"; then
		expect sysv-ipcmk-back eval '[ -n "$seg" ] && [ "$(shm_list "$RPID")" = "$seg" ]'
		stop_task "$RPID"
	else
		fail sysv-ipcmk-restore "$OUT"
	fi
else
	fail sysv-start "container did not start"
fi

# 2b. A POSIX message queue in it (made with mq_open through python's ctypes).
MQ='import ctypes, os; rt = ctypes.CDLL("librt.so.1", use_errno=True); rt.mq_open.restype = ctypes.c_int
fd = rt.mq_open(b"/criu-e2e-q", os.O_CREAT | os.O_RDWR, 0o600, None)
raise SystemExit(0 if fd >= 0 else 1)'
# (the probe in an IPC namespace of its own, which goes with it)
if ! unshare --ipc python3 -c "$MQ" 2>/dev/null; then
	skip mqueue-refused "can't make a POSIX message queue here"
else
	if CPID=$(start_container "$R" "$CLEAN"'
		python3 -c '"'$MQ'"' >/dev/null' "$QUIET"'while :; do sleep 1; done'); then
		refused mqueue "1 POSIX message queues"
	else
		fail mqueue-start "container did not start"
	fi
fi

# 3. A network namespace of the container's own with nothing but lo (up):
#    restored as a new one, lo up; one with more in it is refused.
link_of() { nsenter --net --target "$1" ip -o link show lo 2>/dev/null; }
if CPID=$(UNSHARE_EXTRA=--net start_container "$R" "$CLEAN"'
	ip link set lo up' "$QUIET"'while :; do sleep 1; done'); then
	run_criu dump -t "$CPID" -D "$WORK/img-net"
	expect netns-dump [ "$RC" -eq 0 ]
	expect netns-image [ -s "$WORK/img-net/netdev-1.img" ]
	if command -v crit >/dev/null; then
		expect netns-crit contains "$(crit decode -i "$WORK/img-net/netdev-1.img" 2>&1)" '"type": "LOOPBACK"'
	fi
	stop_task "$CPID"
	restore_ns "$WORK/img-net" --root "$R"
	if [ "$RC" -eq 0 ]; then
		ok netns-restore
		expect netns-own [ "$(readlink /proc/"$RPID"/ns/net)" != "$(readlink /proc/self/ns/net)" ]
		expect netns-lo-up contains "$(link_of "$RPID")" "LOOPBACK,UP"
		expect netns-only-lo [ "$(nsenter --net --target "$RPID" ip -o link | wc -l)" = 1 ]
		stop_task "$RPID"
	else
		fail netns-restore "$OUT"
	fi
else
	fail netns-start "container did not start"
fi
if CPID=$(UNSHARE_EXTRA=--net start_container "$R" "$CLEAN"'
	ip link add v0 type veth peer name v1' "$QUIET"'while :; do sleep 1; done'); then
	refused netns-veth "has a network namespace of its own with device v"
else
	fail netns-veth-start "container did not start"
fi

# 4. A process of the tree in a UTS namespace of its own.
if CPID=$(start_container "$R" "$CLEAN" "$QUIET"'unshare -u sleep 1000 & while :; do sleep 1; done'); then
	wait_until 5 eval '[ -n "$(cat /proc/$CPID/task/$CPID/children)" ]'
	sleep 0.2
	refused nested-uts "is in a uts namespace of its own, not the root's"
else
	fail nested-start "container did not start"
fi

left=$(leftover_tasks "$WORK")
if [ -z "$left" ]; then ok no-leftover-tasks; else fail no-leftover-tasks "still running: $(echo $left)"; fi
finish

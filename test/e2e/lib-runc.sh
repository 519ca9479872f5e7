# Shared by the tests that drive criu through a runtime's calls (runc's
# RPC, crun's libcriu sequence): a busybox bundle for runc and helpers to
# run it and look inside. Source after lib.sh; needs runc.
#
# The container: runc's default namespaces (pid, net, ipc, uts, mount),
# runc's masked paths, a host volume at /vol, a tmpfs at /tmp and stdio on
# pipes (runtimes carry pipes through descriptors.json and inherit_fd; a
# file outside the container can't be). Its shell counts in a loop into
# /tmp/count and /vol/out, with the name read from /vol/name, while a TCP
# connection on its loopback carries a second count into /tmp/tcp.log.

B=$WORK/bundle
CT=${CT:-criu-e2e-runc-$$}
RUNC_CTS=()
mkdir -p "$B/rootfs/bin" "$B/rootfs/vol" "$B/rootfs/tmp" "$B/rootfs/dev" "$WORK/vol" "$WORK/vol2"
cp /bin/busybox "$B/rootfs/bin/"
for a in sh cat usleep nc sleep awk head wc tail ls stat grep ip; do ln -sf busybox "$B/rootfs/bin/$a"; done
echo from-host >"$WORK/vol/name"
echo from-host2 >"$WORK/vol2/name"
(cd "$B" && runc spec) || { fail runc-spec "runc spec failed"; finish; }
"$PY" - "$B/config.json" "$WORK/vol" <<'PYEOF'
import json, sys
path, vol = sys.argv[1], sys.argv[2]
c = json.load(open(path))
c['process']['terminal'] = False
c['process']['args'] = ['/bin/sh', '-c',
    'echo made-before >/tmp/marker; '
    'sleep 1000000 | nc -l -p 7000 >/tmp/tcp.log & usleep 200000; '
    '(i=0; while :; do i=$((i+1)); echo $i; usleep 20000; done | nc 127.0.0.1 7000) & '
    'n=0; while :; do n=$((n+1)); echo "$n $(cat /vol/name)" >/tmp/count; echo $n >/vol/out; usleep 50000; done']
c['root']['readonly'] = False
c['mounts'].append({'destination': '/vol', 'type': 'bind', 'source': vol, 'options': ['rbind', 'rw']})
c['mounts'].append({'destination': '/tmp', 'type': 'tmpfs', 'source': 'tmpfs', 'options': ['nosuid', 'mode=1777']})
json.dump(c, open(path, 'w'))
PYEOF

runc_gone() {
	local ct=$1
	runc kill "$ct" KILL >/dev/null 2>&1
	for _ in $(seq 50); do runc delete "$ct" >/dev/null 2>&1 && break; sleep 0.1; done
	runc delete -f "$ct" >/dev/null 2>&1
}
runc_cleanup() {
	local ct
	for ct in "${RUNC_CTS[@]}"; do runc_gone "$ct"; done
	cleanup
}
trap runc_cleanup EXIT

# The container's stdio are pipes: cat keeps the output, an empty pipe is
# stdin. runc -d returns once the container runs; cat lives on with it.
runc_start() {
	local ct=$1
	RUNC_CTS+=("$ct")
	(cd "$B" && : | runc run -d "$ct" 2>&1 | cat >"$WORK/run-$ct.log") &
	wait_until 10 runc_status_is "$ct" running
}
runc_status() { runc state "$1" 2>/dev/null | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["status"])' 2>/dev/null; }
runc_status_is() { [ "$(runc_status "$1")" = "$2" ]; }
runc_pid() { runc state "$1" 2>/dev/null | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["pid"])' 2>/dev/null; }
# A command inside the container: through runc, or, with CT_PID set (a
# container runc does not know, restored by another client), by entering
# that task's namespaces and root.
in_ct() {
	if [ -n "${CT_PID:-}" ]; then
		nsenter -t "$CT_PID" -m -u -i -n -p -r -w "$@" 2>/dev/null
	else
		runc exec "$CT" "$@" 2>/dev/null
	fi
}
count_of() { in_ct cat /tmp/count | cut -d' ' -f1; }

# grows CMD...: the number CMD prints is larger 0.3 s later.
grows() {
	local a b
	a=$("$@")
	sleep 0.3
	b=$("$@")
	[ -n "$a" ] && [ -n "$b" ] && [ "$b" -gt "$a" ]
}
counting() { grows count_of; }

# The TCP stream is the numbers 1, 2, 3 ... with none lost, none twice.
tcp_stream_whole() {
	in_ct awk 'NR != $1 { bad = 1 } END { exit bad || NR < 2 }' /tmp/tcp.log
}
tcp_lines() { in_ct wc -l /tmp/tcp.log | awk '{print $1}'; }
tcp_flowing() { grows tcp_lines; }


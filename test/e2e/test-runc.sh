#!/bin/bash
# End-to-end with a real client: Debian's runc drives criu over RPC
# (`runc --criu ./criu/criu checkpoint`, criu swrk on a socketpair). runc
# asks VERSION, then sends its CHECKPOINT request. criu does not honour
# everything runc always sets yet (empty_ns; manage_cgroups and cg_root it
# does), so today the checkpoint must end in a clear refusal naming the
# option, in runc's
# dump.log, with the container still running as it was. The container
# (a busybox bundle with a host volume) is removed at the end.
. "$(dirname "$0")/lib.sh"

if ! command -v runc >/dev/null; then
	skip runc "runc is not installed (Debian package runc)"
	finish
fi

B=$WORK/bundle
CT=criu-e2e-runc-$$
mkdir -p "$B/rootfs/bin" "$B/rootfs/vol" "$B/rootfs/tmp" "$B/rootfs/dev" "$WORK/vol"
cp /bin/busybox "$B/rootfs/bin/"
for a in sh cat usleep; do ln -sf busybox "$B/rootfs/bin/$a"; done
echo from-host >"$WORK/vol/name"
(cd "$B" && runc spec) || { fail runc-spec "runc spec failed"; finish; }
"$PY" - "$B/config.json" "$WORK/vol" <<'PYEOF'
import json, sys
path, vol = sys.argv[1], sys.argv[2]
c = json.load(open(path))
c['process']['terminal'] = False
c['process']['args'] = ['/bin/sh', '-c',
    'n=0; while :; do n=$((n+1)); echo "$n $(cat /vol/name)" >/tmp/count; usleep 50000; done']
c['root']['readonly'] = False
c['mounts'].append({'destination': '/vol', 'type': 'bind', 'source': vol, 'options': ['rbind', 'rw']})
json.dump(c, open(path, 'w'))
PYEOF

runc_cleanup() {
	runc kill "$CT" KILL >/dev/null 2>&1
	for _ in $(seq 50); do runc delete "$CT" >/dev/null 2>&1 && break; sleep 0.1; done
	runc delete -f "$CT" >/dev/null 2>&1
}
trap 'runc_cleanup; cleanup' EXIT

counting() {
	local a b
	a=$(cut -d' ' -f1 "$B/rootfs/tmp/count" 2>/dev/null)
	sleep 0.3
	b=$(cut -d' ' -f1 "$B/rootfs/tmp/count" 2>/dev/null)
	[ -n "$a" ] && [ -n "$b" ] && [ "$b" -gt "$a" ]
}

if ! (cd "$B" && runc run -d "$CT" </dev/null >"$WORK/runc-run.log" 2>&1); then
	skip runc-run "runc can't run a container here: $(tail -3 "$WORK/runc-run.log")"
	finish
fi
wait_until 10 test -s "$B/rootfs/tmp/count"
expect runc-container-runs wait_until 5 counting

OUT=$(cd "$B" && runc --criu "$CRIU" checkpoint --image-path "$WORK/img" --work-path "$WORK/work" "$CT" 2>&1)
RC=$?
OUT="$OUT; dump.log: $(cat "$WORK/work/dump.log" 2>/dev/null)"
expect runc-checkpoint-reaches-criu test -s "$WORK/work/dump.log"
expect runc-checkpoint-refused [ "$RC" -ne 0 ]
expect runc-refusal-names-option grep -q "RPC option [a-z_]* is not supported" "$WORK/work/dump.log"
expect runc-refused-container-still-running [ "$(runc state "$CT" 2>/dev/null | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["status"])')" = running ]
expect runc-refused-container-counts-on wait_until 5 counting
OUT=$(ls "$WORK/img" 2>/dev/null)
expect runc-refusal-writes-no-images not test -e "$WORK/img/inventory.img"
finish

#!/bin/bash
# End-to-end: restore never trusts its images. A real dump (a container with
# seccomp filters, an epoll, an eventfd...) is altered one way at a time
# through pycriu, as a corrupt or hostile images directory would be, and
# each restore must fail with a message naming the problem, starting no
# task and leaving the host's mounts as they were.
. "$(dirname "$0")/lib.sh"

H=$TOP/test/helpers
for b in seccomp-static anonfds-static; do
	if [ ! -x "$H/$b" ]; then
		fail helpers-built "$H/$b is missing: run make all"
		finish
	fi
done
if ! "$PY" -c 'import pycriu.images' 2>/dev/null; then
	skip malformed-images "no pycriu (Debian's criu package) to alter images with"
	finish
fi
R=$WORK/root
make_rootfs "$R"
mknod -m 666 "$R/dev/null" c 1 3
mkdir -p "$R/out" "$R/out3"
cp "$H/seccomp-static" "$R/seccomp"
cp "$H/anonfds-static" "$R/anonfds"
CLEAN='for fd in /proc/self/fd/*; do fd=${fd##*/}; [ "$fd" -gt 2 ] && eval "exec $fd>&-"; done; export PATH=/bin:$PATH'

if ! CPID=$(start_container "$R" "$CLEAN" 'exec </dev/null >/dev/null 2>&1; /seccomp /out/s & /anonfds /out3 & wait'); then
	fail malformed-start "container did not start"
	finish
fi
wait_until 5 [ -e "$R/out3/ready" ]
wait_until 5 [ -s "$R/out/s" ]
run_criu dump -t "$CPID" -D "$WORK/img"
expect malformed-base-dump [ "$RC" -eq 0 ]
stop_task "$CPID"
host_before=$(cat /proc/self/mountinfo | wc -l)

# alter NAME IMAGE-GLOB PYTHON: copies the images to $WORK/bad-NAME and runs
# PYTHON on the first image matching IMAGE-GLOB, with `img` loaded (pycriu's
# dict) and written back afterwards.
alter() {
	local name=$1 glob=$2 code=$3 dir=$WORK/bad-$1 f
	rm -rf "$dir"
	cp -a "$WORK/img" "$dir"
	f=$(ls "$dir"/$glob 2>/dev/null | head -n 1)
	[ -n "$f" ] || return 1
	"$PY" -c '
import sys, pycriu.images as I
path = sys.argv[1]
with open(path, "rb") as fh:
    img = I.load(fh)
'"$code"'
with open(path, "wb") as fh:
    I.dump(img, fh)' "$f"
}

# refused NAME MESSAGE: restoring $WORK/bad-NAME fails saying MESSAGE.
refused() {
	restore_ns "$WORK/bad-$1" --root "$R"
	expect "$1-refused" [ "$RC" -ne 0 ]
	expect "$1-message" contains "$OUT" "$2"
	[ -n "${RPID:-}" ] && stop_task "$RPID"
	RPID=""
}

# the core of the thread with seccomp filters (the seccomp helper's)
SECCOMP_CORE=$("$PY" -c '
import sys, glob, pycriu.images as I
for p in sorted(glob.glob(sys.argv[1] + "/core-*.img")):
    e = I.load(open(p, "rb"))["entries"][0]
    if e.get("thread_core", {}).get("seccomp_mode") == "filter":
        print(p.rsplit("/", 1)[1]); break' "$WORK/img")

if [ -z "$SECCOMP_CORE" ]; then
	fail malformed-seccomp-core "no core in filter mode in the dump"
else
	alter seccomp-prev seccomp.img 'img["entries"][0]["seccomp_filters"][0]["prev"] = 5'
	refused seccomp-prev "seccomp.img: filter 0"
	alter seccomp-bytes seccomp.img '
import base64
f = img["entries"][0]["seccomp_filters"][0]
f["filter"] = base64.b64encode(base64.b64decode(f["filter"])[:-3]).decode()'
	refused seccomp-bytes "expected whole instructions"
	alter seccomp-index "$SECCOMP_CORE" 'img["entries"][0]["thread_core"]["seccomp_filter"] = 99'
	refused seccomp-index "seccomp filter 99, which seccomp.img does not have"
	alter creds-short "$SECCOMP_CORE" 'img["entries"][0]["thread_core"]["creds"]["cap_bnd"] = [4294967295]'
	refused creds-short "credentials missing or malformed"
	alter creds-missing "$SECCOMP_CORE" 'del img["entries"][0]["thread_core"]["creds"]'
	refused creds-missing "credentials missing or malformed"
fi
alter epoll-target files.img '
for e in img["entries"]:
    if e["type"] == "EVENTPOLL":
        e["epfd"]["tfd"][0]["tfd"] = 999'
refused epoll-target "watches fd 999, which process"
alter eventfd-bare files.img '
for e in img["entries"]:
    if e["type"] == "EVENTFD":
        del e["efd"]'
refused eventfd-bare "lacks its description"
# POSIX timers timer_create would refuse, or that name a thread the
# process doesn't have, or one id twice (added to the root's core)
PT='
def timer(i, notify, signo, tid=None):
    t = {"it_id": i, "clock_id": 1, "si_signo": signo, "it_sigev_notify": notify, "sival_ptr": 0,
         "overrun": 0, "isec": 0, "insec": 0, "vsec": 5, "vnsec": 0}
    if tid is not None:
        t["notify_thread_id"] = tid
    return t
tm = img["entries"][0]["tc"].setdefault("timers", {})
'
alter ptimer-nosig core-1.img "$PT"'
tm["posix"] = [timer(0, 0, 0)]'
refused ptimer-nosig "POSIX timer 0 (id 0) is malformed"
alter ptimer-tid core-1.img "$PT"'
tm["posix"] = [timer(3, 4, 10, 4242)]'
refused ptimer-tid "POSIX timer 0 (id 3) is malformed"
alter ptimer-twice core-1.img "$PT"'
tm["posix"] = [timer(2, 1, 0), timer(2, 0, 10)]'
refused ptimer-twice "POSIX timer id 2 appears twice"
alter state-bad "$SECCOMP_CORE" 'img["entries"][0]["tc"]["task_state"] = 9'
refused state-bad "task_state 9"

# A pages image cut short, of a process other than the root: found only
# once the tree is forked and seized, so every task must be killed and
# reaped (a traced zombie only criu can reap would keep the namespace's
# init, and criu waiting for it, hanging forever).
PAGES_ID=$("$PY" -c '
import sys, glob, pycriu.images as I
for p in sorted(glob.glob(sys.argv[1] + "/pagemap-*.img")):
    if p.endswith("/pagemap-1.img"):
        continue
    print(I.load(open(p, "rb"))["entries"][0]["pages_id"]); break' "$WORK/img")
if [ -z "$PAGES_ID" ] || [ ! -s "$WORK/img/pages-$PAGES_ID.img" ]; then
	fail pages-short-image "no pages image of a process other than the root in the dump"
else
	rm -rf "$WORK/bad-pages-short"
	cp -a "$WORK/img" "$WORK/bad-pages-short"
	truncate -s $(($(stat -c %s "$WORK/img/pages-$PAGES_ID.img") / 2 / 4096 * 4096)) \
		"$WORK/bad-pages-short/pages-$PAGES_ID.img"
	rm -f "$WORK/rpid"
	OUT=$(timeout 60 "$CRIU" restore -D "$WORK/bad-pages-short" -d --pidfile "$WORK/rpid" --root "$R" 2>&1)
	RC=$?
	RPID=$(cat "$WORK/rpid" 2>/dev/null)
	[ -n "$RPID" ] && echo "$RPID" >>"$PIDLIST" && stop_task "$RPID"
	expect pages-short-no-hang [ "$RC" -ne 124 ]
	expect pages-short-refused [ "$RC" -ne 0 ]
	expect pages-short-message contains "$OUT" "pages-$PAGES_ID.img"
	expect pages-short-no-tasks [ -z "$(leftover_tasks "$WORK")" ]
	# the root's pagemap naming that process's pages image too
	alter pages-twice pagemap-1.img 'img["entries"][0]["pages_id"] = '"$PAGES_ID"
	refused pages-twice "pages-$PAGES_ID.img is named by two pagemaps"
fi

expect malformed-host-mounts-untouched [ "$(cat /proc/self/mountinfo | wc -l)" = "$host_before" ]
left=$(leftover_tasks "$WORK")
if [ -z "$left" ]; then ok no-leftover-tasks; else fail no-leftover-tasks "still running: $(echo $left)"; fi
finish

#!/bin/bash
# End-to-end: criu driven over RPC (criu swrk), by the project's libcriu
# (test/helpers/libcriu-client) and by hand-made datagrams
# (test/e2e/rpcraw.py): the library as crun loads it, every request type
# criu serves or refuses, bad clients, and a container dumped through
# libcriu with its volume as an external mount, then restored with the
# volume mapped to another host directory.
. "$(dirname "$0")/lib.sh"

CLIENT=$TOP/test/helpers/libcriu-client
LIB=$TOP/lib/c/libcriu.so.2

# 1. crun dlopen()s libcriu.so.2 and resolves every name it uses.
OUT=$("$TOP/test/helpers/dlsym-check" "$LIB" <"$TOP/test/e2e/data/libcriu-crun.syms" 2>&1)
expect libcriu-has-crun-symbols [ $? -eq 0 ]
SONAME=$(objdump -p "$LIB" 2>/dev/null | awk '/SONAME/ {print $2}')
OUT="soname $SONAME"
expect libcriu-soname [ "$SONAME" = libcriu.so.2 ]
OUT=$(nm -D --defined-only "$LIB" | awk '{print $3}' | grep -v '^criu_')
expect libcriu-exports-only-criu-api [ -z "$OUT" ]

# 2. VERSION, CHECK, FEATURE_CHECK through the library.
OUT=$("$CLIENT" "$CRIU" version 2>&1)
expect rpc-version contains "$OUT" "version 40200 at-least-3.0 1"
OUT=$("$CLIENT" "$CRIU" check 2>&1)
expect rpc-check contains "$OUT" "check 0"
OUT=$("$CLIENT" "$CRIU" features 2>&1)
expect rpc-feature-check contains "$OUT" "features 0 mem_track 0 lazy_pages 0 pidfd_store 0"

# 3. Bad clients get a reply that says what was wrong, then criu exits.
OUT=$(/usr/bin/python3 "$TOP/test/e2e/rpcraw.py" "$CRIU" garbage 2>&1)
expect rpc-malformed-message-answered contains "$OUT" "reply EMPTY success=0 errmsg=a 12-byte message is not a criu_req"
expect rpc-malformed-message-exit contains "$OUT" "exit=1"
OUT=$(/usr/bin/python3 "$TOP/test/e2e/rpcraw.py" "$CRIU" unknown-type 2>&1)
expect rpc-unknown-type-answered contains "$OUT" "errmsg=unknown request type 99"
OUT=$(/usr/bin/python3 "$TOP/test/e2e/rpcraw.py" "$CRIU" empty-close 2>&1)
expect rpc-client-gone-before-request contains "$OUT" "exit=0"

# 4. A dump whose images_dir_fd is not a directory, an option criu does not
#    carry, a request type criu does not serve: refused, the task untouched.
setsid sleep 1000 </dev/null >/dev/null 2>&1 &
SPID=$!
echo "$SPID" >>"$PIDLIST"
echo data >"$WORK/not-a-dir"
OUT=$(/usr/bin/python3 "$TOP/test/e2e/rpcraw.py" "$CRIU" not-dir "$WORK/not-a-dir" "$SPID" 2>&1)
expect rpc-images-fd-not-dir contains "$OUT" "Not a directory"
mkdir -p "$WORK/img-refused"
OUT=$("$CLIENT" "$CRIU" dump "$WORK/img-refused" "$SPID" opt-ext-unix-sk 2>&1)
expect rpc-unsupported-option-refused contains "$OUT" "RPC option ext_unix_sk is not supported"
expect rpc-unsupported-option-returns-ebade contains "$OUT" "dump failed -52"
OUT=$("$CLIENT" "$CRIU" pre-dump "$WORK/img-refused" "$SPID" 2>&1)
expect rpc-pre-dump-refused contains "$OUT" "criu does not serve PRE_DUMP requests"
OUT="state $(awk '/^State/ {print $2}' /proc/$SPID/status) files $(ls "$WORK/img-refused" | wc -l)"
expect rpc-refusals-leave-task-and-dir [ "$OUT" = "state S files 0" ]

# 5. Notifications: pre-dump, then post-dump once the images are complete;
#    a client that says no at pre-dump stops the dump before anything is
#    written, at post-dump after (the images stay, the task runs on).
mkdir -p "$WORK/img-notify" "$WORK/img-no-pre" "$WORK/img-no-post"
OUT=$("$CLIENT" "$CRIU" dump "$WORK/img-notify" "$SPID" leave-running notify 2>&1)
expect rpc-notify-order [ "$(grep '^notify [a-z]' <<<"$OUT" | tr '\n' ' ')" = "notify pre-dump 0 notify post-dump 0 " ]
expect rpc-notify-dump-ok contains "$OUT" "dump ok"
OUT=$("$CLIENT" "$CRIU" dump "$WORK/img-no-pre" "$SPID" notify-fail=pre-dump 2>&1)
expect rpc-notify-no-at-pre-dump contains "$OUT" "the RPC client said no at pre-dump"
OUT="$OUT; files: $(ls "$WORK/img-no-pre")"
expect rpc-notify-no-at-pre-dump-writes-nothing [ -z "$(ls "$WORK/img-no-pre")" ]
OUT=$("$CLIENT" "$CRIU" dump "$WORK/img-no-post" "$SPID" notify-fail=post-dump 2>&1)
expect rpc-notify-no-at-post-dump contains "$OUT" "stopped at post-dump: the images in"
expect rpc-notify-no-at-post-dump-images-kept test -e "$WORK/img-no-post/inventory.img"
OUT="state $(awk '/^State/ {print $2}' /proc/$SPID/status 2>/dev/null)"
expect rpc-notify-no-leaves-task-running [ "$OUT" = "state S" ]
# the client dies while criu waits for its answer, the tree frozen
mkdir -p "$WORK/img-gone"
OUT=$("$CLIENT" "$CRIU" dump "$WORK/img-gone" "$SPID" notify-exit=post-dump 2>&1)
released() { [ "$(awk '/^TracerPid/ {print $2}' /proc/$SPID/status)" = 0 ] && [ "$(awk '/^State/ {print $2}' /proc/$SPID/status)" = S ]; }
expect rpc-client-gone-mid-dump-tree-released wait_until 10 released
SWRK=$(sed -n 's/^criu \([0-9]*\).*/\1/p' <<<"$OUT")
expect rpc-client-gone-mid-dump-criu-gone wait_until 10 not kill -0 "${SWRK:-1}"
expect rpc-dump-writes-stats test -s "$WORK/img-notify/stats-dump"

# 6. The same notifications reach --action-script programs, with the
#    environment upstream gives them; a script's failure stops the dump.
cat >"$WORK/script.sh" <<SH
#!/bin/sh
echo "\$CRTOOLS_SCRIPT_ACTION \$CRTOOLS_IMAGE_DIR" >>"$WORK/script.log"
[ "\$CRTOOLS_SCRIPT_ACTION" != "\${FAIL_AT:-none}" ]
SH
chmod +x "$WORK/script.sh"
run_criu dump -t "$SPID" -D "$WORK/img-script" -R --action-script "$WORK/script.sh"
OUT="$OUT; $(cat "$WORK/script.log")"
expect action-script-runs [ "$(cut -d' ' -f1 "$WORK/script.log" | tr '\n' ' ')" = "pre-dump post-dump " ]
expect action-script-image-dir grep -q " $WORK/img-script$" "$WORK/script.log"
: >"$WORK/script.log"
FAIL_AT=pre-dump run_criu dump -t "$SPID" -D "$WORK/img-script2" -R --action-script "$WORK/script.sh"
expect action-script-failure-stops-dump [ "$RC" -ne 0 ]
expect action-script-failure-says-which contains "$OUT" "exited with 1 at pre-dump"
kill "$SPID"

# 7. criu service: a socket, a worker per connection, a pidfile.
"$CRIU" service --address "$WORK/criu.sock" --daemon --pidfile "$WORK/service.pid" -o "$WORK/service.log"
wait_until 10 test -s "$WORK/service.pid"
SVC=$(cat "$WORK/service.pid" 2>/dev/null)
[ -n "$SVC" ] && echo "$SVC" >>"$PIDLIST"
OUT=$("$CLIENT" "sk:$WORK/criu.sock" version 2>&1)
expect service-version contains "$OUT" "version 40200"
OUT=$("$CLIENT" "sk:$WORK/criu.sock" check 2>&1)
expect service-check-second-connection contains "$OUT" "check 0"
if [ -n "$SVC" ]; then
	kill "$SVC"
	wait_until 10 gone "$SVC"
	expect service-stops-and-removes-socket not test -e "$WORK/criu.sock"
fi

# 8. A container with a volume, dumped through libcriu as runc would name
#    the volume (key = value = its mountpoint), restored through libcriu as
#    the client's child (criu_restore_child, as crun does) with the volume
#    mapped to another host directory, every restore notification in order.
R=$WORK/root
make_rootfs "$R"
ln -sf busybox "$R/bin/usleep"
mknod -m 666 "$R/dev/null" c 1 3
mkdir -p "$R/vol" "$WORK/vol-a" "$WORK/vol-b"
echo from-a >"$WORK/vol-a/name"
echo from-b >"$WORK/vol-b/name"
PROG='exec </dev/null >/dev/null 2>&1; n=0; while :; do n=$((n+1)); echo "$n $(cat /vol/name)" >/tmp/count; usleep 50000; done'
if CPID=$(start_container "$R" 'mount --bind '"$WORK/vol-a"' "$ROOT/vol"' "$PROG"); then
	wait_until 10 test -s "$R/tmp/count"
	mkdir -p "$WORK/img"
	OUT=$("$CLIENT" "$CRIU" dump "$WORK/img" "$CPID" log=dump.log ext=/vol:/vol 2>&1)
	expect rpc-dump-container contains "$OUT" "dump ok"
	expect rpc-dump-log-in-images-dir test -s "$WORK/img/dump.log"
	expect rpc-dump-ended-tree gone "$CPID"
	dumped=$(cut -d' ' -f1 "$R/tmp/count")
	# the client says no while the tree is being restored: the tree is
	# killed, nothing stays mounted, and the images restore afterwards
	# the tree counts into $R/tmp/count whenever it runs
	count_still() { local a b; a=$(cat "$R/tmp/count"); sleep 0.5; b=$(cat "$R/tmp/count"); [ "$a" = "$b" ]; }
	MNT_BEFORE=$(host_mounts)
	for stage in setup-namespaces post-restore; do
		OUT=$("$CLIENT" "$CRIU" restore "$WORK/img" "root=$R" "ext=/vol:$WORK/vol-b" "notify-fail=$stage" \
			log=restore-no.log 2>&1)
		expect "rpc-restore-no-at-$stage" contains "$OUT" "said no at $stage"
		expect "rpc-restore-no-at-$stage-no-task" count_still
		expect "rpc-restore-no-at-$stage-no-mounts" [ "$(host_mounts)" = "$MNT_BEFORE" ]
	done
	OUT=$("$CLIENT" "$CRIU" restore "$WORK/img" "root=$R" "ext=/vol:$WORK/vol-b" notify log=restore.log \
		"pidfile=$WORK/rpc-rpid" 2>&1)
	RPID=$(cat "$WORK/rpc-rpid" 2>/dev/null)
	[ -n "$RPID" ] && echo "$RPID" >>"$PIDLIST"
	expect rpc-restore-child contains "$OUT" "restore pid $RPID parent-is-me 1"
	want="notify pre-restore 0 notify setup-namespaces $RPID notify post-setup-namespaces $RPID"
	want="$want notify post-restore $RPID notify pre-resume $RPID notify post-resume $RPID "
	expect rpc-restore-notify-order [ "$(grep '^notify [a-z]' <<<"$OUT" | tr '\n' ' ')" = "$want" ]
	expect rpc-restore-writes-stats test -s "$WORK/img/stats-restore"
	if [ -n "$RPID" ]; then
		# the count goes on from where the dump left it, reading the new volume
		counted() { read -r n name <"$R/tmp/count" && [ "$n" -gt "$1" ] && [ "$name" = from-b ]; }
		OUT="dumped at $dumped"
		expect rpc-restored-counts-on-with-new-volume wait_until 10 counted "$((dumped + 2))"
		stop_task "$RPID"
	fi
else
	fail rpc-container-start "container did not start"
fi

# 9. make install into a staging directory; a program builds against the
#    installed header with pkg-config and runs with the installed library.
STAGE=$WORK/stage
if make -s -C "$TOP" install DESTDIR="$STAGE" PREFIX=/usr >"$WORK/install.log" 2>&1; then
	ok make-install
	for f in usr/sbin/criu usr/include/criu/criu.h usr/lib/libcriu.so.2 usr/lib/libcriu.so usr/lib/libcriu.a \
		usr/lib/pkgconfig/criu.pc usr/share/man/man8/criu.8; do
		[ -e "$STAGE/$f" ] || fail make-install-files "$f missing"
	done
	cat >"$WORK/prog.c" <<'C'
#include <criu.h>
#include <stdio.h>
int main(int argc, char **argv)
{
	criu_set_service_binary(argv[1]);
	criu_init_opts();
	printf("%d\n", criu_get_version());
	return 0;
}
C
	flags=$(PKG_CONFIG_SYSROOT_DIR=$STAGE PKG_CONFIG_PATH=$STAGE/usr/lib/pkgconfig pkg-config --cflags --libs criu)
	OUT="flags: $flags"
	# a sanitized library (make check-asan) needs its runtime first in the program
	san=
	ldd "$LIB" 2>/dev/null | grep -q libasan && san="-fsanitize=address,undefined"
	# shellcheck disable=SC2086
	if cc $san -o "$WORK/prog" "$WORK/prog.c" $flags 2>"$WORK/cc.log"; then
		OUT=$(LD_LIBRARY_PATH=$STAGE/usr/lib "$WORK/prog" "$STAGE/usr/sbin/criu" 2>&1)
		expect installed-libcriu-works [ "$OUT" = 40200 ]
	else
		fail installed-libcriu-builds "$(cat "$WORK/cc.log") $OUT"
	fi
	make -s -C "$TOP" uninstall DESTDIR="$STAGE" PREFIX=/usr >/dev/null 2>&1
	OUT=$(find "$STAGE" -type f)
	expect make-uninstall [ -z "$OUT" ]
else
	fail make-install "$(tail -5 "$WORK/install.log")"
fi

finish

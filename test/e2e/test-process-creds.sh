#!/bin/bash
# End-to-end: what a container runtime sets on a container's processes
# comes back: a reduced capability bounding set, securebits, the scheduling
# policy, oom_score_adj (test/helpers/credhold-static takes them on and
# reports what it has from inside); a non-root user with ambient
# capabilities and no_new_privs. A process dumped stopped comes back stopped.
# seccomp filters (test/helpers/seccomp-static) come back and still work.
. "$(dirname "$0")/lib.sh"

H=$TOP/test/helpers
for b in credhold-static seccomp-static; do
	if [ ! -x "$H/$b" ]; then
		fail helpers-built "$H/$b is missing: run make all"
		finish
	fi
done
R=$WORK/root
make_rootfs "$R"
mknod -m 666 "$R/dev/null" c 1 3
mkdir -p "$R/out"
cp "$H/credhold-static" "$R/credhold"
CLEAN='for fd in /proc/self/fd/*; do fd=${fd##*/}; [ "$fd" -gt 2 ] && eval "exec $fd>&-"; done; export PATH=/bin:$PATH'
QUIET='exec </dev/null >/dev/null 2>&1; '

child_of() { awk '{print $1}' /proc/"$1"/task/"$1"/children 2>/dev/null; }
status_field() { awk -v f="$2:" '$1 == f {print $2}' /proc/"$1"/status 2>/dev/null; }
policy_of() { awk '{sub(/.*\) /, ""); print $(41 - 2)}' /proc/"$1"/stat 2>/dev/null; }
# what the helper says of itself, without its running count
state() { sed 's/^count [0-9]* //' "$R/out/state" 2>/dev/null; }
count() { awk '{print $2}' "$R/out/state" 2>/dev/null; }
snapshot() {
	echo "bnd $(status_field "$1" CapBnd) inh $(status_field "$1" CapInh) eff $(status_field "$1" CapEff) policy $(policy_of "$1")" \
		"oom $(cat /proc/"$1"/oom_score_adj 2>/dev/null) state $(state)"
}

# 1. Bounding set without CAP_SYS_ADMIN (21) and CAP_NET_ADMIN (12), yet
#    CAP_NET_ADMIN inheritable (added before the drop), SECBIT_NOROOT (1),
#    SCHED_BATCH (3), oom_score_adj 300.
SETUP=$CLEAN'
	echo 300 >/proc/self/oom_score_adj'
if CPID=$(start_container "$R" "$SETUP" "$QUIET"'/credhold /out/state -i 12 -b 21 -b 12 -s 1 -p batch & wait'); then
	wait_until 5 [ -s "$R/out/state" ]
	K=$(child_of "$CPID")
	before=$(snapshot "$K")
	proc_snapshot "$CPID" "$WORK/creds.before.json"
	expect creds-set [ "$(status_field "$K" CapBnd)" != "$(status_field $$ CapBnd)" ]
	expect creds-state-set contains "$before" "secbits 1 keepcaps 0 nnp 0 policy 3"
	run_criu dump -t "$CPID" -D "$WORK/img" -v4 -o "$WORK/dump.log"
	expect creds-dump [ "$RC" -eq 0 ]
	stop_task "$CPID"
	restore_ns "$WORK/img" --root "$R" -v4 -o "$WORK/restore.log"
	if [ "$RC" -eq 0 ]; then
		ok creds-restore
		K2=$(child_of "$RPID")
		c=$(count)
		wait_until 3 eval '[ "$(count)" != "$c" ]'
		after=$(snapshot "$K2")
		if [ "$after" = "$before" ]; then
			ok creds-same
		else
			fail creds-same "before: $before; after: $after"
		fi
		proc_snapshot "$RPID" "$WORK/creds.after.json"
		for k in tree status maps fds; do
			same_procs "creds-same-$k" "$WORK/creds.before.json" "$WORK/creds.after.json" $k
		done
		expect creds-root-oom [ "$(cat /proc/"$RPID"/oom_score_adj)" = 300 ]
		stop_task "$RPID"
	else
		fail creds-restore "$OUT; $(tail -n 3 "$WORK/restore.log")"
	fi
else
	fail creds-start "container did not start"
fi

# 2. A non-root user given capabilities, as a runtime does it: uid 1000
#    with CAP_NET_BIND_SERVICE (10) and CAP_NET_RAW (13) permitted,
#    inheritable and ambient, and no_new_privs (Kubernetes'
#    allowPrivilegeEscalation: false). All of it comes back, seen from
#    /proc and from the process itself.
rm -f "$R/out/state"
chmod 1777 "$R/out"
amb_snapshot() {
	echo "uid $(status_field "$1" Uid) inh $(status_field "$1" CapInh) prm $(status_field "$1" CapPrm)" \
		"eff $(status_field "$1" CapEff) amb $(status_field "$1" CapAmb) nnp $(status_field "$1" NoNewPrivs)" \
		"state $(state)"
}
if CPID=$(start_container "$R" "$CLEAN" "$QUIET"'/credhold /out/state -n -u 1000 -a 10 -a 13 & wait'); then
	wait_until 5 [ -s "$R/out/state" ]
	K=$(child_of "$CPID")
	before=$(amb_snapshot "$K")
	expect nnp-amb-set contains "$before" "amb 0000000000002400 nnp 1"
	proc_snapshot "$CPID" "$WORK/amb.before.json"
	run_criu dump -t "$CPID" -D "$WORK/img-amb" -v4 -o "$WORK/amb-dump.log"
	expect nnp-amb-dump [ "$RC" -eq 0 ]
	# Debian's crit, whose schema predates fields 18 and 19, still decodes it
	bad=""
	for f in "$WORK"/img-amb/core-*.img; do
		crit decode -i "$f" >/dev/null 2>&1 || bad="$bad ${f##*/}"
	done
	if [ -z "$bad" ]; then ok nnp-amb-crit-decodes; else fail nnp-amb-crit-decodes "crit decode failed on$bad"; fi
	stop_task "$CPID"
	restore_ns "$WORK/img-amb" --root "$R" -v4 -o "$WORK/amb-restore.log"
	if [ "$RC" -eq 0 ]; then
		ok nnp-amb-restore
		K2=$(child_of "$RPID")
		c=$(count)
		wait_until 3 eval '[ "$(count)" != "$c" ]'
		after=$(amb_snapshot "$K2")
		if [ "$after" = "$before" ]; then
			ok nnp-amb-same
		else
			fail nnp-amb-same "before: $before; after: $after"
		fi
		proc_snapshot "$RPID" "$WORK/amb.after.json"
		for k in tree status maps fds; do
			same_procs "nnp-amb-same-$k" "$WORK/amb.before.json" "$WORK/amb.after.json" $k
		done
		stop_task "$RPID"
	else
		fail nnp-amb-restore "$OUT; $(tail -n 3 "$WORK/amb-restore.log")"
	fi
else
	fail nnp-amb-start "container did not start"
fi

# 3. A process stopped (SIGSTOP) when dumped comes back stopped, before
#    running any of its code; SIGCONT lets it go on.
rm -f "$R/out/state"
if CPID=$(start_container "$R" "$CLEAN" "$QUIET"'/credhold /out/state & wait'); then
	wait_until 5 [ -s "$R/out/state" ]
	K=$(child_of "$CPID")
	kill -STOP "$K"
	wait_until 3 eval 'grep -q "^State:[[:space:]]*T" /proc/$K/status'
	run_criu dump -t "$CPID" -D "$WORK/img-stop"
	expect stopped-dump [ "$RC" -eq 0 ]
	stop_task "$CPID"
	c=$(count)
	restore_ns "$WORK/img-stop" --root "$R"
	if [ "$RC" -eq 0 ]; then
		ok stopped-restore
		K2=$(child_of "$RPID")
		expect stopped-restored-stopped grep -q "^State:[[:space:]]*T" /proc/"$K2"/status
		sleep 0.5
		expect stopped-does-not-run [ "$(count)" = "$c" ]
		kill -CONT "$K2"
		expect stopped-continues wait_until 3 eval '[ "$(count)" != "$c" ]'
		stop_task "$RPID"
	else
		fail stopped-restore "$OUT"
	fi
else
	fail stopped-start "container did not start"
fi

# 4. seccomp filters, different in two threads: the same ones after restore
#    (what they make mkdir/rmdir return, /proc's Seccomp fields).
cp "$H/seccomp-static" "$R/seccomp"
rm -f "$R/out/state"
SECCOMP_WANT="main mkdir 1 rmdir 2 thread mkdir 1 rmdir 13"
seccomp_state() { sed 's/^count [0-9]* //' "$R/out/state" 2>/dev/null; }
seccomp_proc() {
	local t
	for t in $(ls /proc/"$1"/task | sort -n); do
		grep -E '^Seccomp(_filters)?:' /proc/"$1"/task/"$t"/status | tr -s ' \t' ' ' | tr '\n' ' '
	done
}
if CPID=$(start_container "$R" "$CLEAN" "$QUIET"'/seccomp /out/state & wait'); then
	wait_until 5 eval '[ "$(seccomp_state)" = "$SECCOMP_WANT" ]'
	K=$(child_of "$CPID")
	expect seccomp-set [ "$(seccomp_state)" = "$SECCOMP_WANT" ]
	sp_before=$(seccomp_proc "$K")
	proc_snapshot "$CPID" "$WORK/seccomp.before.json"
	run_criu dump -t "$CPID" -D "$WORK/img-seccomp" -v4 -o "$WORK/dump-seccomp.log"
	expect seccomp-dump [ "$RC" -eq 0 ]
	expect seccomp-image [ -s "$WORK/img-seccomp/seccomp.img" ]
	if command -v crit >/dev/null; then
		# two filters: mkdir's, shared, and the thread's rmdir one after it
		n=$(crit decode -i "$WORK/img-seccomp/seccomp.img" 2>&1 | grep -o '"filter"' | wc -l)
		if [ "$n" = 2 ]; then
			ok seccomp-forest
		else
			fail seccomp-forest "$n filters: $(crit decode -i "$WORK/img-seccomp/seccomp.img" 2>&1 | head -c 600)"
		fi
	fi
	stop_task "$CPID"
	restore_ns "$WORK/img-seccomp" --root "$R" -v4 -o "$WORK/restore-seccomp.log"
	if [ "$RC" -eq 0 ]; then
		ok seccomp-restore
		K2=$(child_of "$RPID")
		c=$(count)
		wait_until 3 eval '[ "$(count)" != "$c" ]'
		if [ "$(seccomp_state)" = "$SECCOMP_WANT" ]; then
			ok seccomp-filters-work
		else
			fail seccomp-filters-work "restored: $(seccomp_state)"
		fi
		proc_snapshot "$RPID" "$WORK/seccomp.after.json"
		for k in tree status maps fds; do
			same_procs "seccomp-same-$k" "$WORK/seccomp.before.json" "$WORK/seccomp.after.json" $k
		done
		if [ "$(seccomp_proc "$K2")" = "$sp_before" ]; then
			ok seccomp-proc-same
		else
			fail seccomp-proc-same "before: $sp_before; after: $(seccomp_proc "$K2")"
		fi
		stop_task "$RPID"
	else
		fail seccomp-restore "$OUT; $(tail -n 3 "$WORK/restore-seccomp.log")"
	fi
else
	fail seccomp-start "container did not start"
fi

left=$(leftover_tasks "$WORK")
if [ -z "$left" ]; then ok no-leftover-tasks; else fail no-leftover-tasks "still running: $(echo $left)"; fi
finish

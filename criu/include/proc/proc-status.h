/*
 * Parse /proc/PID/status: the fields the dumper needs, text in, a struct
 * out. Pure: no syscalls, never prints, returns -EINVAL and fills a struct
 * proc_err on bad input.
 *
 * Every line is "Key:<TAB>value". Keys we do not know are skipped (newer
 * kernels add some every few releases); a known key seen twice or with a
 * malformed value is an error. The fields every kernel we support prints
 * (see PROC_STATUS_REQUIRED) must be present; the others (newer ones, or
 * ones behind a config option) are marked in `seen` when present.
 */
#ifndef CRIU_PROC_STATUS_H
#define CRIU_PROC_STATUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "proc/proc-text.h"

/* Bits of proc_status.seen, one per key. */
enum proc_status_key {
	PS_NAME,
	PS_UMASK,
	PS_STATE,
	PS_TGID,
	PS_PID,
	PS_PPID,
	PS_TRACERPID,
	PS_UID,
	PS_GID,
	PS_GROUPS,
	PS_NSTGID,
	PS_NSPID,
	PS_NSPGID,
	PS_NSSID,
	PS_SIGQ,
	PS_SIGPND,
	PS_SHDPND,
	PS_SIGBLK,
	PS_SIGIGN,
	PS_SIGCGT,
	PS_CAPINH,
	PS_CAPPRM,
	PS_CAPEFF,
	PS_CAPBND,
	PS_CAPAMB,
	PS_NONEWPRIVS,
	PS_SECCOMP,
	PS_SPEC_STORE_BYPASS,
	PS_NR_KEYS,
};

#define PS_BIT(k) (1ULL << (k))
/* Printed by every kernel since 3.x (older than anything we run on). */
#define PROC_STATUS_REQUIRED                                                                                           \
	(PS_BIT(PS_NAME) | PS_BIT(PS_STATE) | PS_BIT(PS_TGID) | PS_BIT(PS_PID) | PS_BIT(PS_PPID) |                     \
	 PS_BIT(PS_TRACERPID) | PS_BIT(PS_UID) | PS_BIT(PS_GID) | PS_BIT(PS_GROUPS) | PS_BIT(PS_SIGQ) |                \
	 PS_BIT(PS_SIGPND) | PS_BIT(PS_SHDPND) | PS_BIT(PS_SIGBLK) | PS_BIT(PS_SIGIGN) | PS_BIT(PS_SIGCGT) |           \
	 PS_BIT(PS_CAPINH) | PS_BIT(PS_CAPPRM) | PS_BIT(PS_CAPEFF) | PS_BIT(PS_CAPBND))

/* A list of ids, one per pid namespace level (NStgid, NSpid, ...) or group. */
struct proc_id_list {
	uint32_t *ids;
	size_t nr;
};

struct proc_status {
	uint64_t seen; /* PS_BIT(key) for every key found */

	char *name;	/* Name: the command name, unescaped ("\n" and "\\" decoded) */
	uint32_t umask; /* Umask: octal */
	char state;	/* State: the letter, e.g. 'S' of "S (sleeping)" */
	pid_t tgid;	/* Tgid, Pid, PPid, TracerPid: in the reader's pid namespace */
	pid_t pid;
	pid_t ppid;
	pid_t tracer_pid;
	uint32_t uid[4];	    /* Uid: real, effective, saved, filesystem */
	uint32_t gid[4];	    /* Gid: the same */
	struct proc_id_list groups; /* Groups: supplementary groups */
	struct proc_id_list nstgid; /* NStgid: outermost namespace first, the task's own last */
	struct proc_id_list nspid;  /* NSpid */
	struct proc_id_list nspgid; /* NSpgid */
	struct proc_id_list nssid;  /* NSsid */
	uint32_t sigq_queued;	    /* SigQ: "queued/limit" */
	uint64_t sigq_limit;
	uint64_t sig_pending; /* SigPnd: per-thread pending signals, bit N-1 for signal N */
	uint64_t shd_pending; /* ShdPnd: process-wide pending */
	uint64_t sig_blocked; /* SigBlk */
	uint64_t sig_ignored; /* SigIgn */
	uint64_t sig_caught;  /* SigCgt */
	uint64_t cap_inh;     /* CapInh, CapPrm, CapEff, CapBnd, CapAmb: bit N for capability N */
	uint64_t cap_prm;
	uint64_t cap_eff;
	uint64_t cap_bnd;
	uint64_t cap_amb;
	bool no_new_privs;	 /* NoNewPrivs */
	uint32_t seccomp;	 /* Seccomp: 0 disabled, 1 strict, 2 filter */
	char *spec_store_bypass; /* Speculation_Store_Bypass: as printed, e.g. "thread force mitigated" */
};

/*
 * Parses `len` bytes of `buf` (need not be NUL-terminated; any line
 * length). `st` is overwritten (zeroed first). On error returns -EINVAL,
 * fills `err` (may be NULL); `st` must be freed with proc_status_free
 * either way.
 */
int proc_status_parse(const char *buf, size_t len, struct proc_status *st, struct proc_err *err);

void proc_status_free(struct proc_status *st);

/* The key as printed, e.g. "NSpid", for messages. */
const char *proc_status_key_name(enum proc_status_key key);

#endif

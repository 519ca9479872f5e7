/*
 * Running single syscalls inside a seized thread, and reading and writing
 * its memory, without loading any code into it.
 *
 * inject_syscall() points the thread at a `syscall` instruction that is
 * already in its address space (in the vDSO, else in any executable
 * mapping; nothing is written there) and drives it with PTRACE_SYSCALL
 * from syscall-entry to syscall-exit stop. The thread's registers, signal
 * mask and pending signals are as before afterwards (it stays in that stop
 * until the next injection or release_task()), so that:
 * - a syscall it was blocked in (read, nanosleep...) is restarted on
 *   release exactly as the kernel would have without us, or fails with
 *   EINTR if a signal handler without SA_RESTART runs first;
 * - signals that arrive meanwhile stay queued: all are blocked during the
 *   injection but those the kernel forces on faults (SEGV, BUS, ILL, TRAP,
 *   FPE, SYS), which are caught at their delivery stop and queued again
 *   with rt_tgsigqueueinfo() from the thread itself, same siginfo (a signal
 *   taken from the process-wide queue goes back to this thread's queue);
 *   SIGSTOP stops the group as usual;
 * - an rseq critical section it was stopped in is aborted as the kernel
 *   would have done on resume (rip set to the abort handler).
 *
 * The injected syscall must not block, must not be one that can return
 * -ERESTART_RESTARTBLOCK (nanosleep, poll...: it would replace the thread's
 * own restart state), and must not change the signal mask.
 */
#ifndef CRIU_INJECT_H
#define CRIU_INJECT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ptrace/seize.h"

/*
 * Runs syscall `nr` in the seized thread. Returns 0 with the raw result in
 * *ret (-errno values included), or -errno if the injection itself failed
 * (-ESRCH: the thread died; -ENOSYS: seccomp or syscall user dispatch
 * refused the syscall).
 */
long inject_syscall(struct seized_thread *t, long nr, long a1, long a2, long a3, long a4, long a5, long a6, long *ret);

/*
 * What a failed injection's -errno means, for the caller's message (the
 * injection prints nothing itself for -ENOSYS, refused by seccomp or
 * syscall user dispatch, and -ENOEXEC, no `syscall` instruction found).
 */
const char *inject_strerror(int err);

/*
 * inject_syscall() for callers that want any failure reported: the
 * injection's, or the syscall's own -errno, printed once with `what` (the
 * call as the user should read it, e.g. "madvise(MADV_HUGEPAGE)") and
 * returned. On success the result goes to *out, which may be NULL.
 */
int inject_call(struct seized_thread *t, const char *what, long nr, long a1, long a2, long a3, long a4, long a5,
		long a6, long *out);

/* mmap/munmap in the thread's process; -errno from the kernel or from us. */
int inject_mmap(struct seized_thread *t, uint64_t addr, size_t len, int prot, int flags, int fd, off_t off,
		uint64_t *mapped);
int inject_munmap(struct seized_thread *t, uint64_t addr, size_t len);

/*
 * Memory of process `pid`: process_vm_readv/writev, and /proc/PID/mem for
 * what they can't reach (read-only or PROT_NONE pages, which the kernel
 * lets a ptracer access). The whole range or -errno.
 */
int remote_read(pid_t pid, uint64_t addr, void *buf, size_t len);
int remote_write(pid_t pid, uint64_t addr, const void *buf, size_t len);

/*
 * Is `ip` inside the rseq critical section the thread has armed? Then 1 and
 * the abort handler's address, as the kernel would jump there on resume;
 * 0 if not (no rseq, no section, or an invalid one the kernel will punish).
 */
int rseq_cs_abort_ip(struct seized_thread *t, uint64_t ip, uint64_t *abort_ip);

#endif

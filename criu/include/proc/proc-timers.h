/*
 * Parse /proc/PID/timers: the POSIX timers (timer_create(2)) of a process.
 * Pure: no syscalls, never prints, returns -EINVAL and fills a struct
 * proc_err on bad input.
 *
 *   ID: 7
 *   signal: 10/0000000000000000
 *   notify: signal/pid.8247
 *   ClockID: 1
 *
 * Four lines a timer: its id, the signal and sigev_value (hex), how it
 * notifies ("signal", "none" or "thread", then "/pid.N" or "/tid.N" when
 * SIGEV_THREAD_ID names thread N, as the reader's pid namespace numbers
 * it) and its clock.
 */
#ifndef CRIU_PROC_TIMERS_H
#define CRIU_PROC_TIMERS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/time.h>
#include <sys/types.h>
#include <time.h>

#include "proc/proc-text.h"

struct proc_timer {
	int32_t id;
	int32_t signo;
	uint64_t sival;	  /* sigev_value, as the kernel prints it */
	int32_t notify;	  /* SIGEV_SIGNAL, SIGEV_NONE, SIGEV_THREAD, | SIGEV_THREAD_ID */
	pid_t notify_pid; /* the pid or tid after "pid." / "tid." */
	int32_t clock;
};

struct proc_timers {
	struct proc_timer *t;
	size_t nr;
};

/*
 * The least time left, in ns, on a timer that sends a signal when it
 * expires: the three itimers (it[3]) and the POSIX timers of `t` whose
 * time left is val[i] (SIGEV_NONE ones send nothing and don't count).
 * UINT64_MAX when none is armed. A dump that read the timers and then the
 * signal queues within less than this knows no signal came in between.
 */
uint64_t timers_soonest_signal(const struct itimerval it[3], const struct proc_timers *t, const struct itimerspec *val);

/* Parses `len` bytes of `buf`; `out` is overwritten (free with proc_timers_free). */
int proc_timers_parse(const char *buf, size_t len, struct proc_timers *out, struct proc_err *err);
void proc_timers_free(struct proc_timers *t);

#endif

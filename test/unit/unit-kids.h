/*
 * Children of a unit test that fork trees of their own: their pids, killed
 * with their process groups and reaped (orphans too: the test is a child
 * subreaper) when the holder goes out of scope.
 */
#ifndef CRIU_UNIT_KIDS_H
#define CRIU_UNIT_KIDS_H

#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

struct kids {
	pid_t pid[8];
	int n;
};

static inline void kill_kids(struct kids *k)
{
	for (int round = 0; round < 10000; round++) {
		pid_t r;

		for (int i = 0; i < k->n; i++) {
			kill(-k->pid[i], SIGKILL);
			kill(k->pid[i], SIGKILL);
		}
		r = waitpid(-1, NULL, __WALL | WNOHANG);
		if (r < 0)
			break;
		if (r == 0)
			usleep(1000);
	}
	k->n = 0;
}

/* Declare after what must be released before the kids are killed. */
#define _cleanup_kids_ __attribute__((cleanup(kill_kids)))

#endif

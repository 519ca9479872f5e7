/*
 * vforkhold-static OUTDIR: a parent that vfork()s a child which never
 * execs nor exits, so the parent waits in the kernel (uninterruptible,
 * state D) and can't be stopped: what a dump's --timeout is for. Writes
 * OUTDIR/ready first.
 */
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "outfile.h"

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s OUTDIR\n", argv[0]);
		return 2;
	}
	outdir = argv[1];
	write_file("ready", "ok\n", 0);
	if (vfork() == 0)
		for (;;)
			pause(); /* the parent waits until this one execs or exits: never */
	return 0;
}

/*
 * The frame of the state-checking workloads (test/helpers/state-*-static):
 * one program per kind of state, one case per piece of state.
 *
 *   state-KIND-static OUTDIR CASE
 *
 * runs CASE's setup (which makes the state: maps memory, forks children,
 * opens sockets ...), writes OUTDIR/ready, then serves rounds: each time
 * OUTDIR/trigger appears, CASE's check compares the state the process sees
 * now with what setup made, and OUTDIR/result gets "round N: verified OK"
 * or "round N: BAD what differs" (serve_rounds in outfile.h). Round 1 is
 * taken before the dump, round 2 after the restore (or after a refused
 * dump): the same program, before and after, must see the same thing.
 * test/e2e/lib.sh's state_case drives it.
 *
 * A check keeps what it found in a static buffer (bad()); setup's
 * failures exit 2 with the reason on stderr and in OUTDIR/setup-failed.
 */
#ifndef CRIU_TEST_STATECHECK_H
#define CRIU_TEST_STATECHECK_H

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "outfile.h"

struct state_case {
	const char *name;
	void (*setup)(void);
	const char *(*check)(int round);
};

static char state_why[200];

/* The check's verdict: "BAD" text, formatted. */
static const char * __attribute__((format(printf, 1, 2), unused)) bad(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(state_why, sizeof(state_why), fmt, ap);
	va_end(ap);
	return state_why;
}

/* Setup could not make the state: the test reports why and stops. */
static void __attribute__((noreturn, format(printf, 1, 2), unused)) setup_failed(const char *fmt, ...)
{
	char line[300];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 2, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	snprintf(line + n, sizeof(line) - n, ": %s\n", strerror(errno));
	fputs(line, stderr);
	write_file("setup-failed", line, 0);
	exit(2);
}

static int state_main(int argc, char **argv, const struct state_case *cases)
{
	const struct state_case *c;

	if (argc != 3) {
		fprintf(stderr, "usage: %s OUTDIR CASE\ncases:", argv[0]);
		for (c = cases; c->name; c++)
			fprintf(stderr, " %s", c->name);
		fputc('\n', stderr);
		return 2;
	}
	outdir = argv[1];
	for (c = cases; c->name; c++)
		if (!strcmp(c->name, argv[2]))
			break;
	if (!c->name) {
		fprintf(stderr, "%s: no case %s\n", argv[0], argv[2]);
		return 2;
	}
	c->setup();
	write_file("ready", "ready\n", 0);
	serve_rounds(c->check);
}

#endif

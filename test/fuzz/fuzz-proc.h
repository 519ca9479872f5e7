/*
 * What every fuzz target of a /proc parser checks about a failure: the
 * error record is well-formed (a reason, a terminated excerpt) and the one
 * formatter turns it into a terminated, non-empty message.
 */
#ifndef CRIU_FUZZ_PROC_H
#define CRIU_FUZZ_PROC_H

#include <stdbool.h>
#include <string.h>

#include "proc/proc-text.h"

static inline bool fuzz_err_ok(const struct proc_err *err)
{
	struct proc_err_msg m;

	if (!err->why || !memchr(err->text, '\0', sizeof(err->text)))
		return false;
	m = proc_err_msg(err);
	return m.s[0] && memchr(m.s, '\0', sizeof(m.s));
}

#endif

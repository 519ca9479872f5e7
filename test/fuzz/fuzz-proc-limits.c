/*
 * libFuzzer target for the /proc/PID/limits parser: any bytes in, no
 * crash, no read outside the buffer. Built and run by test/fuzz/run.sh.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-proc.h"
#include "proc/proc-limits.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proc_limits l;
	struct proc_err err;
	char *copy;

	copy = malloc(size ? size : 1);
	if (!copy)
		return 0;
	if (size)
		memcpy(copy, data, size);
	if (proc_limits_parse(copy, size, &l, &err) < 0 && !fuzz_err_ok(&err))
		abort();
	free(copy);
	return 0;
}

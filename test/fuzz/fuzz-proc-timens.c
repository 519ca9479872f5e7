/*
 * libFuzzer target for the /proc/PID/timens_offsets parser: any bytes in,
 * no crash, no read outside the buffer, and a parsed offset always
 * normalised (nanoseconds in 0..999999999).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-proc.h"
#include "proc/proc-timens.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proc_timens_offsets o;
	struct proc_timespec out;
	struct proc_err err;
	char *copy;

	copy = malloc(size ? size : 1);
	if (!copy)
		return 0;
	if (size)
		memcpy(copy, data, size);
	if (proc_timens_parse(copy, size, &o, &err) < 0) {
		if (!fuzz_err_ok(&err))
			abort();
	} else {
		if (o.monotonic.nsec < 0 || o.monotonic.nsec > 999999999 || o.boottime.nsec < 0 ||
		    o.boottime.nsec > 999999999)
			abort();
		/* any offsets: in range or -ERANGE, never overflowing */
		if (!timens_clock_shift(o.monotonic, o.boottime, o.monotonic, &out) &&
		    (out.sec < 0 || out.nsec < 0 || out.nsec > 999999999))
			abort();
	}
	free(copy);
	return 0;
}

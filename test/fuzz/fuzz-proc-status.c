/*
 * libFuzzer target for the /proc/PID/status parser: any bytes in, no
 * crash, no leak, no read outside the buffer; a file it accepts has every
 * required key. Built and run by test/fuzz/run.sh.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-proc.h"
#include "proc/proc-status.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proc_status st;
	struct proc_err err;
	char *copy;
	int ret;

	copy = malloc(size ? size : 1);
	if (!copy)
		return 0;
	if (size)
		memcpy(copy, data, size);
	ret = proc_status_parse(copy, size, &st, &err);
	if (ret < 0 && !fuzz_err_ok(&err))
		abort();
	if (ret == 0) {
		if ((st.seen & PROC_STATUS_REQUIRED) != PROC_STATUS_REQUIRED || !st.name)
			abort();
		if (st.seccomp > 2 || st.tgid < 0 || st.pid < 0 || st.ppid < 0)
			abort();
		if (!(st.seen & PS_BIT(PS_SPEC_STORE_BYPASS)) != !st.spec_store_bypass)
			abort();
	}
	proc_status_free(&st);
	free(copy);
	return 0;
}

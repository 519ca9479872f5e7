/*
 * libFuzzer target for the /proc/PID/fdinfo/FD parser: any bytes in, no
 * crash, no leak, no read outside the buffer; the raw lines it keeps are
 * never one of the four common keys. Built and run by test/fuzz/run.sh.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proc-fdinfo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const ours[] = {"pos:", "flags:", "mnt_id:", "ino:"};
	struct proc_fdinfo fi;
	struct proc_parse_error err;
	char *copy;
	int ret;

	copy = malloc(size ? size : 1);
	if (!copy)
		return 0;
	if (size)
		memcpy(copy, data, size);
	ret = proc_fdinfo_parse(copy, size, &fi, &err);
	if (ret < 0 && !memchr(err.msg, '\0', sizeof(err.msg)))
		abort();
	for (size_t i = 0; ret == 0 && i < fi.nr_lines; i++)
		for (size_t k = 0; k < sizeof(ours) / sizeof(ours[0]); k++)
			if (!strncmp(fi.lines[i], ours[k], strlen(ours[k])))
				abort();
	proc_fdinfo_free(&fi);
	free(copy);
	return 0;
}

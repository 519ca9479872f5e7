/*
 * libFuzzer target for the mountinfo parser: any bytes in, no crash, no leak,
 * no read outside the buffer. Built and run by test/fuzz/run.sh.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-proc.h"
#include "proc/mountinfo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mountinfo_table t = {0};
	struct proc_err err;
	char *copy, *out;

	/* An exact-size copy, so ASan sees any read past `size`. */
	copy = malloc(size ? size : 1);
	if (!copy)
		return 0;
	if (size)
		memcpy(copy, data, size);

	if (mountinfo_parse(copy, size, &t, &err) < 0) {
		/* The error is well-formed and names its line. */
		if (!fuzz_err_ok(&err) || !err.line)
			abort();
	}
	for (size_t i = 0; i < t.nr; i++) {
		struct mountinfo_entry *e = &t.entries[i];

		/* Every string is set; re-interpreting optional agrees. */
		if (!e->root || !e->mountpoint || !e->mnt_opts || !e->optional || !e->fstype || !e->source ||
		    !e->sb_opts)
			abort();
		if (mountinfo_parse_optional(e))
			abort();
	}
	mountinfo_table_free(&t);

	/* The shared unescaper on its own, over the whole input. */
	out = malloc(size + 1);
	if (out) {
		size_t bad;

		if (!proc_unescape_octal(out, (struct proc_span){copy, size}, &bad) && strlen(out) > size)
			abort();
		free(out);
	}
	free(copy);
	return 0;
}

/*
 * libFuzzer target for the /proc/PID/maps parser: any bytes in, no crash,
 * no leak, no read outside the buffer, and every entry it accepts is
 * consistent. Built and run by test/fuzz/run.sh.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-proc.h"
#include "proc/proc-maps.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proc_maps m = {0};
	struct proc_err err;
	char *copy;

	/* An exact-size copy, so ASan sees any read past `size`. */
	copy = malloc(size ? size : 1);
	if (!copy)
		return 0;
	if (size)
		memcpy(copy, data, size);
	if (proc_maps_parse(copy, size, &m, &err) < 0 && (!fuzz_err_ok(&err) || !err.line))
		abort();
	for (size_t i = 0; i < m.nr; i++) {
		const struct proc_maps_entry *e = &m.entries[i];

		if (e->start >= e->end || !e->path)
			abort();
		if ((e->kind == PROC_VMA_ANON) != !*e->path)
			abort();
		if (!e->anon_name != (e->kind != PROC_VMA_ANON_NAMED && e->kind != PROC_VMA_SHMEM_NAMED))
			abort();
		if (e->deleted && e->kind != PROC_VMA_FILE)
			abort();
	}
	proc_maps_free(&m);
	free(copy);
	return 0;
}

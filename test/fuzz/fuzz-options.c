/*
 * libFuzzer target for the command-line parser: the input, split at NUL
 * bytes, is the argument vector after "criu". Any arguments in: no crash,
 * no leak (every field parse_options() filled is freed by options_free(),
 * on success and on every error path), a result of -1, 0 or 1 only.
 * Built and run by test/fuzz/run.sh.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"
#include "util/log.h"

#define MAX_ARGS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool quiet;
	char *argv[MAX_ARGS + 2], *buf;
	struct options o;
	int argc = 1, ret;

	if (!quiet) {
		log_init(-1, NULL); /* errors are expected: don't print them */
		quiet = true;
	}
	buf = malloc(size + 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	argv[0] = "criu";
	for (size_t i = 0; i <= size && argc <= MAX_ARGS; i++) {
		argv[argc++] = buf + i;
		i += strlen(buf + i);
	}
	argv[argc] = NULL;
	ret = parse_options(argc, argv, &o);
	if (ret < -1 || ret > 1)
		abort();
	options_free(&o);
	free(buf);
	return 0;
}

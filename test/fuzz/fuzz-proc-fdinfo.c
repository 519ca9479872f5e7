/*
 * libFuzzer target for the /proc/PID/fdinfo/FD parser: any bytes in, no
 * crash, no leak, no read outside the buffer; the raw lines it keeps are
 * never one of the four common keys; the parsers of the kind-specific
 * lines (proc/fdinfo-anon.c: eventfd, signalfd, timerfd, epoll, inotify) then
 * run on them, with the same rules. Built and run by test/fuzz/run.sh.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-proc.h"
#include "proc/fdinfo-anon.h"
#include "proc/proc-fdinfo.h"

static void kinds(const struct proc_fdinfo *fi)
{
	struct proc_err err;
	struct fdinfo_eventfd e;
	struct fdinfo_timerfd t;
	struct fdinfo_epoll_tfd *tfds;
	struct fdinfo_inotify_wd *wds;
	uint64_t mask;
	size_t n;

	if (fdinfo_eventfd(fi, &e, &err) < 0 && !fuzz_err_ok(&err))
		abort();
	if (fdinfo_signalfd(fi, &mask, &err) < 0 && !fuzz_err_ok(&err))
		abort();
	if (fdinfo_timerfd(fi, &t, &err) < 0 && !fuzz_err_ok(&err))
		abort();
	/* a bad epoll or inotify line is named by its number */
	if (fdinfo_epoll(fi, &tfds, &n, &err) < 0 && (tfds || n || !fuzz_err_ok(&err) || !err.line))
		abort();
	free(tfds);
	if (fdinfo_inotify(fi, &wds, &n, &err) < 0 && (wds || n || !fuzz_err_ok(&err) || !err.line))
		abort();
	for (size_t i = 0; i < n; i++)
		if (wds[i].wd < 1 || wds[i].fh_bytes > FDINFO_FH_MAX)
			abort();
	free(wds);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const ours[] = {"pos:", "flags:", "mnt_id:", "ino:"};
	struct proc_fdinfo fi;
	struct proc_err err;
	char *copy;
	int ret;

	copy = malloc(size ? size : 1);
	if (!copy)
		return 0;
	if (size)
		memcpy(copy, data, size);
	ret = proc_fdinfo_parse(copy, size, &fi, &err);
	if (ret < 0 && !fuzz_err_ok(&err))
		abort();
	for (size_t i = 0; ret == 0 && i < fi.nr_lines; i++)
		for (size_t k = 0; k < sizeof(ours) / sizeof(ours[0]); k++)
			if (!strncmp(fi.lines[i], ours[k], strlen(ours[k])))
				abort();
	if (ret == 0)
		kinds(&fi);
	proc_fdinfo_free(&fi);
	free(copy);
	return 0;
}

/*
 * The registers and signal state of a seized thread: general, FPU and
 * extended (xsave) registers through PTRACE_GETREGSET, the signal mask,
 * pending siginfo and the rseq configuration. The thread must be in a
 * ptrace stop (seize.c).
 */
#define LOG_PREFIX "seize: "

#include <cpuid.h>
#include <elf.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>

#include "ptrace/seize.h"
#include "util/kerndat.h"
#include "util/log.h"
#include "util/util.h"

static int getregset(struct seized_thread *t, int type, void *buf, size_t *len)
{
	struct iovec iov = {.iov_base = buf, .iov_len = *len};

	if (ptrace(PTRACE_GETREGSET, t->tid, (void *)(long)type, &iov))
		return -errno;
	*len = iov.iov_len;
	return 0;
}

int get_regs(struct seized_thread *t, struct user_regs_struct *regs)
{
	size_t len = sizeof(*regs);
	int ret = getregset(t, NT_PRSTATUS, regs, &len);

	if (ret < 0) {
		pr_err("can't read registers of %d: %s\n", t->tid, strerror(-ret));
		return ret;
	}
	if (len != sizeof(*regs)) {
		pr_err("thread %d is not a 64-bit task\n", t->tid);
		return -EOPNOTSUPP;
	}
	return 0;
}

int set_regs(struct seized_thread *t, const struct user_regs_struct *regs)
{
	struct iovec iov = {.iov_base = (void *)regs, .iov_len = sizeof(*regs)};

	if (ptrace(PTRACE_SETREGSET, t->tid, (void *)NT_PRSTATUS, &iov)) {
		pr_perror("can't set registers of %d", t->tid);
		return -errno;
	}
	return 0;
}

int get_fpregs(struct seized_thread *t, struct user_fpregs_struct *fpregs)
{
	size_t len = sizeof(*fpregs);
	int ret = getregset(t, NT_PRFPREG, fpregs, &len);

	if (ret < 0)
		pr_err("can't read FPU registers of %d: %s\n", t->tid, strerror(-ret));
	else if (len != sizeof(*fpregs))
		ret = -EOPNOTSUPP;
	return ret;
}

/* The XSAVE size for every feature the CPU has (CPUID 0xD.0, ECX). */
static size_t xsave_size_hint(void)
{
	unsigned int a, b, c, d;

	if (__get_cpuid_max(0, NULL) < 0xd)
		return 0;
	__cpuid_count(0xd, 0, a, b, c, d);
	return c;
}

int get_xsave(struct seized_thread *t, void **buf, size_t *len)
{
	/* The kernel says how much it wrote; a full buffer may be truncated. */
	for (size_t size = xsave_size_hint() + 4096; size <= (1 << 20); size *= 2) {
		void *b = xmalloc(size);
		size_t n = size;
		int ret = getregset(t, NT_X86_XSTATE, b, &n);

		if (ret < 0) {
			free(b);
			pr_err("can't read the XSAVE area of %d: %s\n", t->tid, strerror(-ret));
			return ret;
		}
		if (n < size) {
			*buf = b;
			*len = n;
			return 0;
		}
		free(b);
	}
	return -E2BIG;
}

int get_sigmask(struct seized_thread *t, uint64_t *mask)
{
	if (ptrace(PTRACE_GETSIGMASK, t->tid, (void *)sizeof(*mask), mask)) {
		pr_perror("can't read the signal mask of %d", t->tid);
		return -errno;
	}
	return 0;
}

int set_sigmask(struct seized_thread *t, uint64_t mask)
{
	if (ptrace(PTRACE_SETSIGMASK, t->tid, (void *)sizeof(mask), &mask)) {
		pr_perror("can't set the signal mask of %d", t->tid);
		return -errno;
	}
	return 0;
}

int get_pending_siginfo(struct seized_thread *t, bool shared, siginfo_t **infos, size_t *nr)
{
	const int chunk = 32;
	siginfo_t *v = NULL;
	size_t n = 0;

	for (;;) {
		struct __ptrace_peeksiginfo_args args = {
			.off = n,
			.flags = shared ? PTRACE_PEEKSIGINFO_SHARED : 0,
			.nr = chunk,
		};
		long got;

		v = xrealloc(v, (n + chunk) * sizeof(*v));
		got = ptrace(PTRACE_PEEKSIGINFO, t->tid, &args, v + n);
		if (got < 0) {
			int err = -errno;

			pr_perror("can't peek the signal queue of %d", t->tid);
			free(v);
			return err;
		}
		n += (size_t)got;
		if (got < chunk)
			break;
	}
	if (!n) {
		free(v);
		v = NULL;
	}
	*infos = v;
	*nr = n;
	return 0;
}

int get_rseq_config(struct seized_thread *t, struct rseq_config *conf)
{
	long ret;

	memset(conf, 0, sizeof(*conf));
	if (!kdat_has(KF_GET_RSEQ_CONF)) {
		pr_warn("can't read the rseq configuration of %d: no PTRACE_GET_RSEQ_CONFIGURATION (Linux 5.13)\n",
			t->tid);
		return -EOPNOTSUPP;
	}
	ret = ptrace(PTRACE_GET_RSEQ_CONFIGURATION, t->tid, (void *)sizeof(*conf), conf);
	if (ret < 0) {
		pr_perror("can't read the rseq configuration of %d", t->tid);
		if (errno != EIO)
			return -errno;
		kdat_set(KF_GET_RSEQ_CONF, false);
		return -EOPNOTSUPP;
	}
	return 0;
}

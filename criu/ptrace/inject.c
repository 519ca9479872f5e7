/*
 * Single syscalls injected into a seized thread through ptrace.
 *
 * The thread is sent to a `syscall` instruction found in its own address
 * space and driven with PTRACE_SYSCALL: the syscall-entry stop, then the
 * syscall-exit stop, where rax holds the result. No breakpoint is used, so
 * no SIGTRAP is generated (a blocked or ignored SIGTRAP would have its
 * handler reset by the kernel), and no byte of the target is modified.
 *
 * At the syscall-exit stop the thread's registers and signal mask are put
 * back and it stays there: the next injection starts from that stop, and
 * release_task() traps it back into a PTRACE_INTERRUPT stop before it
 * detaches (seize_retrap()). The restart of a syscall the thread was
 * seized in is decided by the kernel after get_signal() returns, from the
 * registers we put back (rax = -ERESTART*, orig_rax = its number), so it is
 * restarted, or fails with EINTR after a handler, exactly as without us.
 * (A detach straight from the syscall-exit stop would behave the same,
 * since detaching sets TIF_SIGPENDING, but we don't rely on that.)
 *
 * While a syscall is injected, the thread's registers and signal mask are
 * ours: if criu died then (SIGKILL, the OOM killer), the kernel would
 * detach it and it would run on from our `syscall` instruction with them.
 * It is killed instead (seize_guard(): PTRACE_O_EXITKILL for that time
 * only). Between injections it is as it was, and a criu that dies leaves
 * it running: the restart rule above is the kernel's on any detach.
 */
#define LOG_PREFIX "inject: "

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ptrace/inject.h"
#include "util/log.h"
#include "ptrace/seize.h"
#include "util/util.h"

#define SIGBIT(sig) (1ULL << ((sig)-1))
/*
 * Signals the kernel forces on a thread for what it just did (faults, a
 * seccomp or syscall-user-dispatch trap). Blocking one does not hold it
 * back: the kernel unblocks it and resets its handler to SIG_DFL. So these
 * stay unblocked while we inject and we catch them at their delivery stop.
 */
#define FORCED_SIGNALS                                                                                                 \
	(SIGBIT(SIGSEGV) | SIGBIT(SIGBUS) | SIGBIT(SIGILL) | SIGBIT(SIGTRAP) | SIGBIT(SIGFPE) | SIGBIT(SIGSYS))
/* si_code of a SIGSYS (asm-generic/siginfo.h; glibc 2.36 lacks them). */
#define SIGSYS_SECCOMP	     1
#define SIGSYS_USER_DISPATCH 2

#define SYSCALL_INSN_LEN 2
/* Stops we step over (group stops, signals) in one syscall, at most. */
#define MAX_STOPS 256

struct injection {
	struct seized_thread *t;
	struct user_regs_struct saved; /* the registers as we found them */
	uint64_t resume_ip;	       /* saved.rip, or an rseq abort handler */
	uint64_t saved_mask;
	long nr;	  /* the syscall being run */
	siginfo_t *stash; /* signals dequeued meanwhile, to queue again */
	size_t nr_stash, cap_stash;
};

/* ------------------------------------------------------------------------
 * Memory
 */

static int proc_mem_rw(pid_t pid, uint64_t addr, void *buf, size_t len, bool write)
{
	_cleanup_close_ int fd = -1;
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/mem", pid);
	fd = open(path, (write ? O_RDWR : O_RDONLY) | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	while (len) {
		ssize_t n = write ? pwrite(fd, buf, len, (off_t)addr) : pread(fd, buf, len, (off_t)addr);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		addr += (uint64_t)n;
		buf = (char *)buf + n;
		len -= (size_t)n;
	}
	return 0;
}

int remote_read(pid_t pid, uint64_t addr, void *buf, size_t len)
{
	struct iovec local = {.iov_base = buf, .iov_len = len};
	struct iovec remote = {.iov_base = (void *)addr, .iov_len = len};
	ssize_t n = process_vm_readv(pid, &local, 1, &remote, 1, 0);

	if (n == (ssize_t)len)
		return 0;
	if (n < 0)
		n = 0;
	return proc_mem_rw(pid, addr + (uint64_t)n, (char *)buf + n, len - (size_t)n, false);
}

int remote_write(pid_t pid, uint64_t addr, const void *buf, size_t len)
{
	struct iovec local = {.iov_base = (void *)buf, .iov_len = len};
	struct iovec remote = {.iov_base = (void *)addr, .iov_len = len};
	ssize_t n = process_vm_writev(pid, &local, 1, &remote, 1, 0);

	if (n == (ssize_t)len)
		return 0;
	if (n < 0)
		n = 0;
	return proc_mem_rw(pid, addr + (uint64_t)n, (char *)buf + n, len - (size_t)n, true);
}

/* ------------------------------------------------------------------------
 * Where to run syscalls: bytes 0f 05 already in the target
 */

static bool is_syscall_insn(const uint8_t *b)
{
	return b[0] == 0x0f && b[1] == 0x05;
}

static bool has_syscall_at(pid_t pid, uint64_t ip)
{
	uint8_t b[SYSCALL_INSN_LEN];

	return ip && !remote_read(pid, ip, b, sizeof(b)) && is_syscall_insn(b);
}

static int scan_range(pid_t pid, uint64_t start, uint64_t end, uint64_t *ip)
{
	const size_t chunk = 64 << 10;
	_cleanup_free_ uint8_t *buf = xmalloc(chunk);

	/* Chunks overlap by one byte, for an instruction across their edge. */
	for (uint64_t a = start; a + 1 < end; a += chunk - 1) {
		size_t n = end - a < chunk ? (size_t)(end - a) : chunk;

		if (remote_read(pid, a, buf, n))
			return -EFAULT;
		for (size_t i = 0; i + 1 < n; i++) {
			if (is_syscall_insn(buf + i)) {
				*ip = a + i;
				return 0;
			}
		}
	}
	return -ENOENT;
}

struct code_range {
	uint64_t start, end;
};

/*
 * The executable mappings of a process, the vDSO first (small, always
 * there); the other special ones ([vsyscall], [uprobes]) can't run code
 * from any address.
 */
static int exec_ranges(pid_t pid, struct code_range **out, size_t *nr)
{
	_cleanup_free_ char *maps = NULL;
	struct code_range *v = NULL;
	size_t n = 0, cap = 0;
	char path[64];
	int ret;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	ret = read_file_at(AT_FDCWD, path, &maps, NULL);
	if (ret < 0)
		return ret == -ENOENT ? -ESRCH : ret;
	for (char *line = maps, *next; line && *line; line = next) {
		unsigned long start, end;
		char perms[5];
		int name = 0;
		bool vdso;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (sscanf(line, "%lx-%lx %4s %*s %*s %*s %n", &start, &end, perms, &name) < 3 || !name)
			continue;
		vdso = !strcmp(line + name, "[vdso]");
		if (perms[2] != 'x' || (line[name] == '[' && !vdso))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			v = xrealloc(v, cap * sizeof(*v));
		}
		v[n] = (struct code_range){start, end};
		if (vdso) {
			v[n] = v[0];
			v[0] = (struct code_range){start, end};
		}
		n++;
	}
	if (!n) {
		/* No address space: the process is exiting. */
		free(v);
		return -ESRCH;
	}
	*out = v;
	*nr = n;
	return 0;
}

static int find_syscall_ip(struct seized_thread *t)
{
	_cleanup_free_ struct code_range *ranges = NULL;
	size_t nr;
	int ret;

	ret = exec_ranges(t->pid, &ranges, &nr);
	if (ret < 0)
		return ret;
	for (size_t i = 0; i < nr; i++) {
		if (!scan_range(t->pid, ranges[i].start, ranges[i].end, &t->syscall_ip)) {
			pr_debug("process %d: syscall instruction at %#lx\n", t->pid, (unsigned long)t->syscall_ip);
			return 0;
		}
	}
	/* reported by the caller (inject_strerror) */
	pr_debug("no syscall instruction in the executable mappings of %d\n", t->pid);
	return -ENOEXEC;
}

/* Checked each time: the restorer may have unmapped the vDSO meanwhile. */
static int ensure_syscall_ip(struct seized_thread *t)
{
	if (has_syscall_at(t->pid, t->syscall_ip))
		return 0;
	t->syscall_ip = 0;
	return find_syscall_ip(t);
}

/* ------------------------------------------------------------------------
 * rseq
 */

/* struct rseq_cs of the rseq ABI, and where struct rseq points to it. */
struct rseq_cs_desc {
	uint32_t version;
	uint32_t flags;
	uint64_t start_ip;
	uint64_t post_commit_offset;
	uint64_t abort_ip;
};
#define RSEQ_CS_PTR_OFFSET 8 /* after u32 cpu_id_start, u32 cpu_id */

int rseq_cs_abort_ip(struct seized_thread *t, uint64_t ip, uint64_t *abort_ip)
{
	struct rseq_config conf;
	struct rseq_cs_desc cs;
	uint64_t cs_ptr;
	uint32_t sig;

	if (get_rseq_config(t, &conf) < 0 || !conf.rseq_abi_pointer)
		return 0;
	if (remote_read(t->pid, conf.rseq_abi_pointer + RSEQ_CS_PTR_OFFSET, &cs_ptr, sizeof(cs_ptr)) || !cs_ptr)
		return 0;
	if (remote_read(t->pid, cs_ptr, &cs, sizeof(cs)))
		return 0;
	if (ip - cs.start_ip >= cs.post_commit_offset)
		return 0;
	/* The kernel's own checks; it kills a task with an invalid section. */
	if (cs.version || cs.abort_ip - cs.start_ip < cs.post_commit_offset || cs.abort_ip < sizeof(sig))
		return 0;
	if (remote_read(t->pid, cs.abort_ip - sizeof(sig), &sig, sizeof(sig)) || sig != conf.signature)
		return 0;
	*abort_ip = cs.abort_ip;
	return 1;
}

/* ------------------------------------------------------------------------
 * Driving the thread
 */

static int resume(struct seized_thread *t, int request, int sig)
{
	if (ptrace(request, t->tid, NULL, (void *)(long)sig)) {
		pr_perror("can't resume thread %d", t->tid);
		return -errno;
	}
	return 0;
}

static void stash_signal(struct injection *in, const siginfo_t *si)
{
	if (in->nr_stash == in->cap_stash) {
		in->cap_stash = in->cap_stash ? in->cap_stash * 2 : 4;
		in->stash = xrealloc(in->stash, in->cap_stash * sizeof(*in->stash));
	}
	in->stash[in->nr_stash++] = *si;
}

/* A SIGSYS for our own syscall: seccomp or syscall user dispatch refused it. */
static bool refused_our_syscall(struct injection *in, const siginfo_t *si)
{
	return si->si_signo == SIGSYS && (si->si_code == SIGSYS_SECCOMP || si->si_code == SIGSYS_USER_DISPATCH) &&
	       si->si_syscall == in->nr && (uint64_t)si->si_call_addr == in->t->syscall_ip + SYSCALL_INSN_LEN;
}

/*
 * A signal reached its delivery stop while we run a syscall: only SIGSTOP
 * and the forced signals can, the rest are blocked. SIGSTOP stops the group
 * as it would have (we resume the thread from that group stop and it stops
 * again on release); the others are kept to be queued again.
 */
static int signal_stop(struct injection *in, int sig, int *deliver)
{
	struct seized_thread *t = in->t;
	siginfo_t si;

	*deliver = 0;
	if (ptrace(PTRACE_GETSIGINFO, t->tid, NULL, &si)) {
		pr_perror("can't read the signal of thread %d", t->tid);
		return -errno;
	}
	if (sig == SIGSTOP) {
		*deliver = sig;
		return 0;
	}
	if (refused_our_syscall(in, &si)) {
		/* reported by the caller (inject_strerror) */
		pr_debug("thread %d: syscall %ld refused by %s\n", t->tid, in->nr,
			 si.si_code == SIGSYS_SECCOMP ? "seccomp" : "syscall user dispatch");
		return -ENOSYS;
	}
	pr_debug("thread %d: signal %d held back during injection\n", t->tid, sig);
	stash_signal(in, &si);
	return 0;
}

static int syscall_stop(struct seized_thread *t, struct __ptrace_syscall_info *info)
{
	if (ptrace(PTRACE_GET_SYSCALL_INFO, t->tid, (void *)sizeof(*info), info) < 0) {
		pr_perror("can't read the syscall stop of thread %d", t->tid);
		return -errno;
	}
	return 0;
}

/* Runs one syscall from whatever ptrace stop the thread is in. */
static int run_syscall(struct injection *in, long nr, const long args[6], long *ret)
{
	struct seized_thread *t = in->t;
	struct user_regs_struct r = in->saved;
	bool entered = false;
	int err, sig = 0;

	in->nr = nr;
	r.rip = t->syscall_ip;
	r.rax = (unsigned long long)nr;
	r.orig_rax = (unsigned long long)-1; /* not in a syscall: nothing to restart */
	r.rdi = (unsigned long long)args[0];
	r.rsi = (unsigned long long)args[1];
	r.rdx = (unsigned long long)args[2];
	r.r10 = (unsigned long long)args[3];
	r.r8 = (unsigned long long)args[4];
	r.r9 = (unsigned long long)args[5];
	err = set_regs(t, &r);
	for (int i = 0; !err && i < MAX_STOPS; i++) {
		struct __ptrace_syscall_info info;
		int status;

		err = resume(t, PTRACE_SYSCALL, sig);
		if (!err)
			err = seize_wait(t, &status);
		if (err)
			break;
		sig = 0;
		if (WSTOPSIG(status) == (SIGTRAP | 0x80)) {
			err = syscall_stop(t, &info);
			if (!err && info.op == PTRACE_SYSCALL_INFO_ENTRY)
				entered = true;
			if (!err && info.op == PTRACE_SYSCALL_INFO_EXIT && entered) {
				*ret = info.exit.rval;
				return 0;
			}
		} else if (!(status >> 16)) {
			err = signal_stop(in, WSTOPSIG(status), &sig);
		}
		/* Other stops: a group stop, or a leftover PTRACE_INTERRUPT. */
	}
	if (!err) {
		pr_err("thread %d: too many stops while running syscall %ld\n", t->tid, nr);
		err = -EAGAIN;
	}
	return err;
}

static int run_syscall6(struct injection *in, long nr, long a1, long a2, long a3, long a4, long a5, long a6, long *ret)
{
	const long args[6] = {a1, a2, a3, a4, a5, a6};

	return run_syscall(in, nr, args, ret);
}

/*
 * Queues the signals we caught again, from the thread itself: a task may
 * queue any siginfo to itself, which keeps si_code, si_pid, si_value...
 * All signals are blocked meanwhile so that they stay queued.
 */
static int requeue_signals(struct injection *in)
{
	struct seized_thread *t = in->t;
	long page, ret;
	int err;

	err = set_sigmask(t, ~0ULL);
	if (!err)
		err = run_syscall6(in, __NR_mmap, 0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0,
				   &page);
	if (!err && page < 0 && page > -4096)
		err = (int)page;
	if (err) {
		pr_err("thread %d: %zu signals lost: no memory to queue them again: %s\n", t->tid, in->nr_stash,
		       strerror(-err));
		return err;
	}
	/* the ids as the thread itself sees them: it may be in a pid namespace */
	long vpid = 0, vtid = 0;

	err = run_syscall6(in, __NR_getpid, 0, 0, 0, 0, 0, 0, &vpid);
	if (!err)
		err = run_syscall6(in, __NR_gettid, 0, 0, 0, 0, 0, 0, &vtid);
	for (size_t i = 0; !err && i < in->nr_stash; i++) {
		const siginfo_t *si = &in->stash[i];

		err = remote_write(t->pid, (uint64_t)page, si, sizeof(*si));
		if (!err)
			err = run_syscall6(in, __NR_rt_tgsigqueueinfo, vpid, vtid, si->si_signo, page, 0, 0, &ret);
		if (!err && ret < 0)
			err = (int)ret;
		if (err) {
			pr_err("thread %d: signal %d lost: %s\n", t->tid, si->si_signo, strerror(-err));
			break;
		}
		t->nr_requeued++;
		t->held_signals |= SIGBIT(si->si_signo);
	}
	if (!t->dead)
		run_syscall6(in, __NR_munmap, page, 4096, 0, 0, 0, 0, &ret);
	return err;
}

static int inject_begin(struct injection *in)
{
	struct seized_thread *t = in->t;
	uint64_t abort_ip;
	int err;

	err = get_regs(t, &in->saved);
	if (!err)
		err = get_sigmask(t, &in->saved_mask);
	if (err)
		return err;
	/*
	 * Stopped in an rseq critical section, the thread would be sent to its
	 * abort handler when it next returns to user mode. Our detour returns
	 * elsewhere first and the kernel would just disarm the section, so
	 * do the abort ourselves.
	 */
	in->resume_ip = in->saved.rip;
	if (rseq_cs_abort_ip(t, in->saved.rip, &abort_ip) > 0) {
		pr_debug("thread %d: in an rseq critical section, resumes at its abort handler %#lx\n", t->tid,
			 (unsigned long)abort_ip);
		in->resume_ip = abort_ip;
	}
	/* Signals we queued again stay queued until release: keep them blocked. */
	return set_sigmask(t, ~FORCED_SIGNALS | (in->saved_mask & FORCED_SIGNALS) | t->held_signals);
}

static int inject_end(struct injection *in)
{
	struct seized_thread *t = in->t;
	struct user_regs_struct r = in->saved;
	int err = 0, err2;

	if (in->nr_stash && !t->dead)
		err = requeue_signals(in);
	if (t->dead)
		return -ESRCH;
	r.rip = in->resume_ip;
	t->needs_retrap = true;
	err2 = set_regs(t, &r);
	if (!err2)
		err2 = set_sigmask(t, in->saved_mask);
	return err2 ? err2 : err;
}

long inject_syscall(struct seized_thread *t, long nr, long a1, long a2, long a3, long a4, long a5, long a6, long *ret)
{
	struct injection in = {.t = t};
	int err, err2;

	if (!t->seized)
		return -ESRCH;
	err = ensure_syscall_ip(t);
	if (!err)
		err = seize_guard(t, true);
	if (err)
		return err;
	err = inject_begin(&in);
	if (err) { /* nothing changed in the thread */
		seize_guard(t, false);
		return err;
	}
	err = run_syscall6(&in, nr, a1, a2, a3, a4, a5, a6, ret);
	err2 = inject_end(&in);
	free(in.stash);
	if (!err2) /* as it was: it may outlive criu again */
		err2 = seize_guard(t, false);
	if (!err && err2)
		err = err2;
	if (err)
		pr_debug("thread %d: syscall %ld failed: %s\n", t->tid, nr, strerror(-err));
	return err;
}

int inject_mmap(struct seized_thread *t, uint64_t addr, size_t len, int prot, int flags, int fd, off_t off,
		uint64_t *mapped)
{
	long ret, err;

	err = inject_syscall(t, __NR_mmap, (long)addr, (long)len, prot, flags, fd, (long)off, &ret);
	if (err)
		return (int)err;
	if (ret < 0 && ret > -4096)
		return (int)ret;
	*mapped = (uint64_t)ret;
	return 0;
}

int inject_munmap(struct seized_thread *t, uint64_t addr, size_t len)
{
	long ret, err;

	err = inject_syscall(t, __NR_munmap, (long)addr, (long)len, 0, 0, 0, 0, &ret);
	return err ? (int)err : (int)ret;
}

const char *inject_strerror(int err)
{
	switch (err) {
	case -ENOSYS:
		return "refused by seccomp or syscall user dispatch";
	case -ENOEXEC:
		return "no syscall instruction in its executable mappings";
	default:
		return strerror(-err);
	}
}

int inject_call(struct seized_thread *t, const char *what, long nr, long a1, long a2, long a3, long a4, long a5,
		long a6, long *out)
{
	long ret = 0;
	int err = (int)inject_syscall(t, nr, a1, a2, a3, a4, a5, a6, &ret);

	if (err) {
		pr_err("task %d: can't run %s: %s\n", t->tid, what, inject_strerror(err));
		return err;
	}
	if (ret < 0 && ret > -4096) {
		pr_err("task %d: %s failed: %s\n", t->tid, what, strerror((int)-ret));
		return (int)ret;
	}
	if (out)
		*out = ret;
	return 0;
}

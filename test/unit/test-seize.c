/*
 * Seizing and syscall injection on real processes forked by the test: each
 * case runs small C functions in children, seizes them, reads their state,
 * injects syscalls, releases them and checks they go on exactly as before
 * (counters in shared memory, exit codes of children that check their own
 * state). Children are in their own process group and die with the test;
 * every case kills and reaps them, also when it fails.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/rseq.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "unit.h"
#include "unit-kids.h"
#include "ptrace/inject.h"
#include "ptrace/seize.h"
#include "util/util.h"

/* Shared with the children. */
struct shm {
	volatile long counter[8];
	volatile long value[8];
	volatile pid_t pids[8];
	volatile int ready, stop, fd;
};
static struct shm *shm;


static void forget_kid(struct kids *k, pid_t pid)
{
	for (int i = 0; i < k->n; i++)
		if (k->pid[i] == pid)
			k->pid[i] = k->pid[--k->n];
}

/* Declared after the kids, so released before they are killed. */
#define _cleanup_thread_ __attribute__((cleanup(release_task)))
#define _cleanup_tree_	 __attribute__((cleanup(release_tree)))

static pid_t spawn(struct kids *k, void (*fn)(void))
{
	pid_t pid = fork();

	if (pid == 0) {
		setpgid(0, 0);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		fn();
		_exit(0);
	}
	if (pid > 0)
		k->pid[k->n++] = pid;
	return pid;
}

/* Polls for up to 5 s. */
#define WAIT_FOR(cond)                                                                                                 \
	({                                                                                                             \
		bool _ok = false;                                                                                      \
		for (int _i = 0; _i < 5000 && !(_ok = (cond)); _i++)                                                   \
			usleep(1000);                                                                                  \
		_ok;                                                                                                   \
	})

/* Exit code of a child (128 + signal if killed), -1 if it does not exit. */
static int wait_exit(struct kids *k, pid_t pid)
{
	int st = -1;

	if (!WAIT_FOR(waitpid(pid, &st, WNOHANG) == pid))
		return -1;
	forget_kid(k, pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* The state letter of a thread (R, S, T, t, Z...). */
static char task_state(pid_t pid, pid_t tid)
{
	char path[64], *buf, *p, state = '?';

	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", pid, tid);
	buf = unit_slurp(path, NULL);
	if (buf && (p = strrchr(buf, ')')) && p[1] && p[2])
		state = p[2];
	free(buf);
	return state;
}

/* The syscall a task is blocked in (/proc/PID/syscall), -1 if running. */
static long blocked_syscall(pid_t pid)
{
	char path[64], *buf;
	long nr = -1;

	snprintf(path, sizeof(path), "/proc/%d/syscall", pid);
	buf = unit_slurp(path, NULL);
	if (buf && buf[0] >= '0' && buf[0] <= '9')
		nr = strtol(buf, NULL, 10);
	free(buf);
	return nr;
}

/* Mutes stderr around calls that must fail and say why. */
static void quiet(bool on)
{
	static int saved = -1;
	int null = open("/dev/null", O_WRONLY);

	fflush(stderr);
	if (on && saved < 0) {
		saved = dup(STDERR_FILENO);
		dup2(null, STDERR_FILENO);
	} else if (!on && saved >= 0) {
		dup2(saved, STDERR_FILENO);
		close(saved);
		saved = -1;
	}
	close(null);
}

static long frozen(volatile long *counter)
{
	long before = *counter;

	usleep(20000);
	return *counter == before;
}

static void setup(void)
{
	if (!shm) {
		prctl(PR_SET_CHILD_SUBREAPER, 1);
		shm = mmap(NULL, sizeof(*shm), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		if (shm == MAP_FAILED)
			abort();
	}
	memset((void *)shm, 0, sizeof(*shm));
}

#define INJECT(t, nr, a1, a2, a3, a4, ret)                                                                             \
	inject_syscall(t, nr, (long)(a1), (long)(a2), (long)(a3), (long)(a4), 0, 0, ret)

/* ------------------------------------------------------------------------
 * 1. One thread: state, injected syscalls, memory
 */

static void usr1_handler(int sig, siginfo_t *si, void *uc)
{
	shm->value[1]++;
}

/* Rounding modes: x87 control word RC (bits 10-11), MXCSR RC (13-14). */
#define RC_TOWARD_ZERO(cw, csr) (((cw)&0xc00) == 0xc00 && ((csr)&0x6000) == 0x6000)

static bool rounds_toward_zero(void)
{
	unsigned short cw;
	unsigned int csr;

	__asm__ volatile("fnstcw %0; stmxcsr %1" : "=m"(cw), "=m"(csr));
	return RC_TOWARD_ZERO(cw, csr);
}

static void round_toward_zero(void)
{
	unsigned short cw;
	unsigned int csr;

	__asm__ volatile("fnstcw %0; stmxcsr %1" : "=m"(cw), "=m"(csr));
	cw |= 0xc00;
	csr |= 0x6000;
	__asm__ volatile("fldcw %0; ldmxcsr %1" : : "m"(cw), "m"(csr));
}

static const struct itimerval child_timer = {.it_interval = {500, 0}, .it_value = {1000, 0}};

/* Sets some state, counts until told to stop, exits 0 if the state is intact. */
static void counting_child(void)
{
	struct sigaction sa = {.sa_sigaction = usr1_handler, .sa_flags = SA_SIGINFO | SA_RESTART}, old;
	struct timespec zero = {0, 0};
	struct itimerval it;
	sigset_t block, mask;
	siginfo_t si;
	int bad = 0;

	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGUSR2);
	sigaction(SIGUSR1, &sa, NULL);
	setitimer(ITIMER_REAL, &child_timer, NULL);
	sigemptyset(&block);
	sigaddset(&block, SIGUSR2);
	sigaddset(&block, SIGRTMIN + 2);
	sigprocmask(SIG_BLOCK, &block, NULL);
	round_toward_zero();
	shm->ready = 1;
	while (!shm->stop)
		shm->counter[0]++;

	sigaction(SIGUSR1, NULL, &old);
	bad |= old.sa_sigaction != usr1_handler || !(old.sa_flags & SA_RESTART) || !sigismember(&old.sa_mask, SIGUSR2);
	getitimer(ITIMER_REAL, &it);
	bad |= (it.it_interval.tv_sec != 500) << 1;
	sigprocmask(SIG_BLOCK, NULL, &mask);
	bad |= (!sigismember(&mask, SIGUSR2) || !sigismember(&mask, SIGRTMIN + 2) || sigismember(&mask, SIGUSR1)) << 2;
	bad |= !rounds_toward_zero() << 3;
	bad |= (sigtimedwait(&block, &si, &zero) < 0 || sigtimedwait(&block, &si, &zero) < 0) << 4;
	_exit(bad);
}

static int find_signal(const siginfo_t *v, size_t n, int sig)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].si_signo == sig)
			return (int)i;
	return -1;
}

/* Registers, FPU, signal mask and queues, rseq, as the child set them. */
static int check_state(struct seized_thread *t)
{
	_cleanup_free_ siginfo_t *shared = NULL, *own = NULL;
	_cleanup_free_ void *xsave = NULL;
	struct user_fpregs_struct fp;
	struct rseq_config rc;
	size_t n_shared, n_own, xlen;
	uint64_t mask;
	int i;

	CHECK(get_fpregs(t, &fp) == 0);
	CHECK(RC_TOWARD_ZERO(fp.cwd, fp.mxcsr));
	CHECK(get_xsave(t, &xsave, &xlen) == 0);
	CHECK(xlen >= 576 && !memcmp((char *)xsave + 24, &fp.mxcsr, 4)); /* legacy area, then header */
	CHECK(get_sigmask(t, &mask) == 0);
	CHECK(mask == (1ULL << (SIGUSR2 - 1) | 1ULL << (SIGRTMIN + 2 - 1)));
	CHECK(get_pending_siginfo(t, true, &shared, &n_shared) == 0);
	CHECK((i = find_signal(shared, n_shared, SIGUSR2)) >= 0);
	CHECK(shared[i].si_code == SI_QUEUE && shared[i].si_value.sival_int == 42 && shared[i].si_pid == getpid());
	CHECK(get_pending_siginfo(t, false, &own, &n_own) == 0);
	CHECK(n_own == 1 && own[0].si_signo == SIGRTMIN + 2 && own[0].si_code == SI_TKILL);
	CHECK(get_rseq_config(t, &rc) == 0);
	if (__rseq_size) {
		uintptr_t tp;

		__asm__("mov %%fs:0, %0" : "=r"(tp)); /* same TLS address after fork */
		CHECK(rc.rseq_abi_pointer == tp + __rseq_offset && rc.signature == RSEQ_SIG);
	}
	return 0;
}

/* The kernel's struct sigaction on x86_64, and its flag for sa_restorer. */
struct k_sigaction {
	uint64_t handler, flags, restorer, mask;
};
#define K_SA_RESTORER 0x04000000

/* Syscalls only the task can answer, results read back from its memory. */
static int check_injection(struct seized_thread *t, pid_t pid)
{
	uint8_t page[4096], back[4096];
	struct k_sigaction ksa;
	struct itimerval it;
	uint64_t scratch, ro;
	long ret;

	CHECK(INJECT(t, SYS_getpid, 0, 0, 0, 0, &ret) == 0 && ret == pid);
	CHECK(INJECT(t, SYS_getppid, 0, 0, 0, 0, &ret) == 0 && ret == getpid());
	CHECK(INJECT(t, SYS_close, -1, 0, 0, 0, &ret) == 0 && ret == -EBADF);
	CHECK(inject_mmap(t, 0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0, &scratch) == 0);
	CHECK(INJECT(t, SYS_rt_sigaction, SIGUSR1, 0, scratch, 8, &ret) == 0 && ret == 0);
	CHECK(remote_read(pid, scratch, &ksa, sizeof(ksa)) == 0);
	CHECK(ksa.handler == (uintptr_t)usr1_handler);
	CHECK((ksa.flags & (SA_SIGINFO | SA_RESTART | K_SA_RESTORER)) == (SA_SIGINFO | SA_RESTART | K_SA_RESTORER));
	CHECK(ksa.mask == 1ULL << (SIGUSR2 - 1));
	CHECK(INJECT(t, SYS_getitimer, ITIMER_REAL, scratch, 0, 0, &ret) == 0 && ret == 0);
	CHECK(remote_read(pid, scratch, &it, sizeof(it)) == 0);
	CHECK(it.it_interval.tv_sec == 500 && it.it_value.tv_sec >= 990 && it.it_value.tv_sec < 1000);
	for (size_t i = 0; i < sizeof(page); i++)
		page[i] = (uint8_t)(i * 7);
	CHECK(remote_write(pid, scratch, page, sizeof(page)) == 0);
	CHECK(remote_read(pid, scratch, back, sizeof(back)) == 0 && !memcmp(page, back, sizeof(page)));
	CHECK(inject_munmap(t, scratch, 4096) == 0);
	CHECK(remote_read(pid, scratch, back, 8) < 0);
	/* Read-only memory: written through /proc/PID/mem. */
	CHECK(inject_mmap(t, 0, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0, &ro) == 0);
	CHECK(remote_write(pid, ro + 100, "written", 8) == 0);
	CHECK(remote_read(pid, ro + 100, back, 8) == 0 && !memcmp(back, "written", 8));
	CHECK(inject_munmap(t, ro, 4096) == 0);
	CHECK(inject_munmap(t, ro, 4096) == 0); /* munmap of nothing is fine */
	CHECK(inject_mmap(t, 0, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0, &ro) == -EINVAL);
	return 0;
}

static int test_single_thread(void)
{
	_cleanup_kids_ struct kids k = {0};
	_cleanup_thread_ struct seized_thread t = {0};
	struct user_regs_struct regs, regs2;
	uint64_t mask;
	long before;
	pid_t pid;

	setup();
	CHECK((pid = spawn(&k, counting_child)) > 0);
	CHECK(WAIT_FOR(shm->ready));
	CHECK(sigqueue(pid, SIGUSR2, (union sigval){.sival_int = 42}) == 0);
	CHECK(tgkill(pid, pid, SIGRTMIN + 2) == 0);
	CHECK(seize_task(pid, &t) == 0);
	CHECK(t.seized && t.tid == pid && t.pid == pid && !t.was_stopped && t.seccomp_suspended);
	CHECK(task_state(pid, pid) == 't' && frozen(&shm->counter[0]));
	CHECK(get_regs(&t, &regs) == 0);
	CHECK((long)regs.orig_rax == -1 && regs.rip);
	if (check_state(&t) || check_injection(&t, pid))
		return 1;
	CHECK(get_regs(&t, &regs2) == 0 && !memcmp(&regs, &regs2, sizeof(regs)));
	CHECK(get_sigmask(&t, &mask) == 0 && mask == (1ULL << (SIGUSR2 - 1) | 1ULL << (SIGRTMIN + 2 - 1)));
	if (check_state(&t))
		return 1;
	CHECK(release_task(&t) == 0 && !t.seized);
	before = shm->counter[0];
	CHECK(WAIT_FOR(shm->counter[0] > before + 1000));
	shm->stop = 1;
	CHECK(wait_exit(&k, pid) == 0);
	CHECK(shm->value[1] == 0); /* no SIGUSR1 came from nowhere */
	return 0;
}

/* ------------------------------------------------------------------------
 * 2. Threads
 */

static void *spin_thread(void *arg)
{
	long i = (long)arg;

	shm->pids[i] = gettid();
	for (;;)
		shm->counter[i]++;
	return NULL;
}

static void threaded_child(void)
{
	pthread_t th;

	shm->pids[0] = getpid();
	for (long i = 1; i <= 4; i++)
		pthread_create(&th, NULL, spin_thread, (void *)i);
	spin_thread(0);
}

static int test_threads(void)
{
	_cleanup_kids_ struct kids k = {0};
	_cleanup_tree_ struct seized_tree tree = {0};
	long before[5];
	pid_t pid;

	setup();
	CHECK((pid = spawn(&k, threaded_child)) > 0);
	CHECK(WAIT_FOR(shm->pids[1] && shm->pids[2] && shm->pids[3] && shm->pids[4] && shm->counter[4]));
	CHECK(seize_tree(pid, &tree) == 0);
	CHECK(tree.nr_threads == 5 && tree.nr_zombies == 0);
	for (int i = 0; i < 5; i++) {
		struct seized_thread *t = &tree.threads[i];
		bool known = false;
		long ret;

		for (int j = 0; j < 5; j++)
			known |= t->tid == shm->pids[j];
		CHECK(known && t->seized && t->pid == pid && task_state(pid, t->tid) == 't');
		CHECK(INJECT(t, SYS_gettid, 0, 0, 0, 0, &ret) == 0 && ret == t->tid);
		CHECK(INJECT(t, SYS_getpid, 0, 0, 0, 0, &ret) == 0 && ret == pid);
	}
	for (int i = 0; i < 5; i++)
		CHECK(frozen(&shm->counter[i]));
	for (int i = 0; i < 5; i++)
		before[i] = shm->counter[i];
	release_tree(&tree);
	for (int i = 0; i < 5; i++)
		CHECK(WAIT_FOR(shm->counter[i] > before[i] + 1000));
	return 0;
}

/* ------------------------------------------------------------------------
 * 3. A tree with a zombie and a process whose main thread has exited
 */

static void spin_forever(int slot)
{
	shm->pids[slot] = getpid();
	for (;;)
		shm->counter[slot]++;
}

static void *leaderless_worker(void *arg)
{
	shm->value[4] = gettid();
	for (;;)
		shm->counter[4]++;
	return NULL;
}

/* A (0) -> B (1) -> C (2); A -> Z (3), a zombie; A -> D (4), main thread gone. */
static void tree_child(void)
{
	pthread_t th;

	if (fork() == 0) {
		if (fork() == 0)
			spin_forever(2);
		spin_forever(1);
	}
	pid_t z = fork();
	if (z == 0)
		_exit(0);
	shm->pids[3] = z;
	if (fork() == 0) {
		shm->pids[4] = getpid();
		pthread_create(&th, NULL, leaderless_worker, NULL);
		pthread_exit(NULL);
	}
	spin_forever(0);
}

static int test_tree(void)
{
	_cleanup_kids_ struct kids k = {0};
	_cleanup_tree_ struct seized_tree tree = {0};
	_cleanup_thread_ struct seized_thread z = {0};
	bool seen[5] = {false};
	pid_t pid;
	int ret;

	setup();
	CHECK((pid = spawn(&k, tree_child)) > 0);
	CHECK(WAIT_FOR(shm->pids[0] && shm->pids[1] && shm->pids[2] && shm->pids[3] && shm->value[4]));
	CHECK(WAIT_FOR(task_state(shm->pids[3], shm->pids[3]) == 'Z' && task_state(shm->pids[4], shm->pids[4]) == 'Z'));
	CHECK(seize_tree(pid, &tree) == 0);
	CHECK(tree.nr_threads == 4);
	CHECK(tree.nr_zombies == 1 && tree.zombies[0] == shm->pids[3]);
	CHECK(tree.threads[0].tid == pid); /* the root first */
	for (size_t i = 0; i < tree.nr_threads; i++) {
		struct seized_thread *t = &tree.threads[i];

		for (int j = 0; j < 5; j++)
			if (t->pid == shm->pids[j] && t->tid == (j == 4 ? shm->value[4] : t->pid))
				seen[j] = true;
	}
	CHECK(seen[0] && seen[1] && seen[2] && !seen[3] && seen[4]);
	for (int i = 0; i < 5; i++)
		CHECK(i == 3 || frozen(&shm->counter[i]));
	release_tree(&tree);
	for (int i = 0; i < 5; i++) {
		long before = shm->counter[i];

		CHECK(i == 3 || WAIT_FOR(shm->counter[i] > before + 1000));
	}
	/* Zombies and missing tasks are told apart from other failures. */
	CHECK(seize_task(shm->pids[3], &z) == -ESRCH && z.zombie && !z.seized);
	CHECK(seize_task(0x3fffffff, &z) == -ESRCH && !z.zombie);
	quiet(true);
	ret = seize_tree(shm->pids[3], &tree);
	quiet(false);
	CHECK(ret == -ESRCH && !tree.threads);
	return 0;
}

/* ------------------------------------------------------------------------
 * 4. Stopped tasks stay stopped
 */

static void spin_child(void)
{
	spin_forever(0);
}

static int test_stopped(void)
{
	_cleanup_kids_ struct kids k = {0};
	_cleanup_thread_ struct seized_thread t = {0};
	long ret, before;
	pid_t pid;
	int st;

	setup();
	CHECK((pid = spawn(&k, spin_child)) > 0);
	CHECK(WAIT_FOR(shm->counter[0] > 0));
	CHECK(kill(pid, SIGSTOP) == 0);
	CHECK(waitpid(pid, &st, WUNTRACED) == pid && WIFSTOPPED(st));
	CHECK(seize_task(pid, &t) == 0 && t.was_stopped && t.stop_signo == SIGSTOP);
	CHECK(INJECT(&t, SYS_getpid, 0, 0, 0, 0, &ret) == 0 && ret == pid);
	CHECK(release_task(&t) == 0);
	usleep(50000);
	CHECK(task_state(pid, pid) == 'T' && frozen(&shm->counter[0]));
	CHECK(waitpid(pid, &st, WUNTRACED | WNOHANG) == 0); /* no second stop report */
	CHECK(kill(pid, SIGCONT) == 0);
	before = shm->counter[0];
	CHECK(WAIT_FOR(shm->counter[0] > before + 1000));

	/* SIGSTOP while seized, taken during an injection: stopped on release. */
	CHECK(seize_task(pid, &t) == 0 && !t.was_stopped);
	CHECK(kill(pid, SIGSTOP) == 0);
	CHECK(INJECT(&t, SYS_getpid, 0, 0, 0, 0, &ret) == 0 && ret == pid);
	CHECK(INJECT(&t, SYS_getpid, 0, 0, 0, 0, &ret) == 0 && ret == pid);
	CHECK(release_task(&t) == 0);
	CHECK(WAIT_FOR(task_state(pid, pid) == 'T'));
	CHECK(frozen(&shm->counter[0]));
	CHECK(kill(pid, SIGCONT) == 0);
	before = shm->counter[0];
	CHECK(WAIT_FOR(shm->counter[0] > before + 1000));
	return 0;
}

/* ------------------------------------------------------------------------
 * 5. Threads blocked in syscalls go on with them
 */

static void noop_handler(int sig)
{
	shm->value[0]++;
}

/*
 * Reads "hello"; or with a SIGUSR1 handler without SA_RESTART, fails with
 * EINTR once the handler has run.
 */
static void reader_child(void)
{
	struct sigaction sa = {.sa_handler = noop_handler};
	char buf[16];
	ssize_t n;

	if (shm->value[1])
		sigaction(SIGUSR1, &sa, NULL);
	n = read(shm->fd, buf, sizeof(buf));
	if (shm->value[1])
		_exit(n < 0 && errno == EINTR && shm->value[0] == 1 ? 0 : 12);
	_exit(n == 5 && !memcmp(buf, "hello", 5) ? 0 : 11);
}

static void sleeper_child(void)
{
	struct timespec a, b, d = {0, 400 * 1000 * 1000};
	int r;

	clock_gettime(CLOCK_MONOTONIC, &a);
	r = nanosleep(&d, NULL);
	clock_gettime(CLOCK_MONOTONIC, &b);
	if (r)
		_exit(errno == EINTR ? 10 : 11);
	_exit((b.tv_sec - a.tv_sec) * 1000000000L + b.tv_nsec - a.tv_nsec >= 400000000L ? 0 : 13);
}

/* Seizes a child blocked in `nr`, injects, releases; it must exit with 0. */
static int seize_blocked(void (*fn)(void), long nr, long restart, int wfd, int sig)
{
	_cleanup_kids_ struct kids k = {0};
	_cleanup_thread_ struct seized_thread t = {0};
	struct user_regs_struct regs, regs2;
	long ret;
	pid_t pid;

	CHECK((pid = spawn(&k, fn)) > 0);
	CHECK(WAIT_FOR(blocked_syscall(pid) == nr));
	CHECK(seize_task(pid, &t) == 0 && get_regs(&t, &regs) == 0);
	CHECK((long)regs.orig_rax == nr && (long)regs.rax == -restart);
	if (sig)
		CHECK(kill(pid, sig) == 0);
	CHECK(INJECT(&t, SYS_getpid, 0, 0, 0, 0, &ret) == 0 && ret == pid);
	CHECK(INJECT(&t, SYS_getppid, 0, 0, 0, 0, &ret) == 0 && ret == getpid());
	CHECK(get_regs(&t, &regs2) == 0 && !memcmp(&regs, &regs2, sizeof(regs)));
	CHECK(release_task(&t) == 0);
	if (wfd >= 0 && !sig) {
		usleep(50000); /* back in read(), not returned */
		CHECK(blocked_syscall(pid) == nr);
		CHECK(write(wfd, "hello", 5) == 5);
	}
	CHECK(wait_exit(&k, pid) == 0);
	return 0;
}

static int test_blocked_syscalls(void)
{
	_cleanup_close_ int rfd = -1, wfd = -1;
	int p[2];

	setup();
	CHECK(pipe(p) == 0);
	rfd = p[0];
	wfd = p[1];
	shm->fd = rfd;
	if (seize_blocked(reader_child, SYS_read, KERNEL_ERESTARTSYS, wfd, 0))
		return 1;
	shm->value[1] = 1; /* with a handler */
	if (seize_blocked(reader_child, SYS_read, KERNEL_ERESTARTSYS, wfd, SIGUSR1))
		return 1;
	return seize_blocked(sleeper_child, SYS_clock_nanosleep, KERNEL_ERESTART_RESTARTBLOCK, -1, 0);
}

/* ------------------------------------------------------------------------
 * 6. A tree that forks and clones all the time
 */

static void *short_thread(void *arg)
{
	usleep(500);
	return NULL;
}

static void forker_child(void)
{
	for (;;) {
		pthread_t th;

		if (fork() == 0) {
			if (fork() == 0)
				_exit(0);
			usleep(2000);
			_exit(0);
		}
		if (!pthread_create(&th, NULL, short_thread, NULL))
			pthread_detach(th);
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		shm->counter[0]++;
		usleep(100);
	}
}

static bool in_tree(const struct seized_tree *tree, pid_t pid)
{
	for (size_t i = 0; i < tree->nr_threads; i++)
		if (tree->threads[i].pid == pid)
			return true;
	for (size_t i = 0; i < tree->nr_zombies; i++)
		if (tree->zombies[i] == pid)
			return true;
	return false;
}

/* Every child of every seized thread is in the tree, every thread stopped. */
static int check_closed(const struct seized_tree *tree)
{
	for (size_t i = 0; i < tree->nr_threads; i++) {
		const struct seized_thread *t = &tree->threads[i];
		char path[96], *buf, *p, *end;

		CHECK(t->seized && task_state(t->pid, t->tid) == 't');
		snprintf(path, sizeof(path), "/proc/%d/task/%d/children", t->pid, t->tid);
		CHECK((buf = unit_slurp(path, NULL)) != NULL);
		for (p = buf;; p = end) {
			long child = strtol(p, &end, 10);

			if (end == p)
				break;
			if (!in_tree(tree, (pid_t)child)) {
				free(buf);
				CHECK(!"a child escaped the seize");
			}
		}
		free(buf);
	}
	return 0;
}

static int test_forking_tree(void)
{
	_cleanup_kids_ struct kids k = {0};
	_cleanup_tree_ struct seized_tree tree = {0};
	size_t most = 0;
	pid_t pid;

	setup();
	CHECK((pid = spawn(&k, forker_child)) > 0);
	CHECK(WAIT_FOR(shm->counter[0] > 20));
	for (int round = 0; round < 20; round++) {
		long before;

		CHECK(seize_tree(pid, &tree) == 0);
		CHECK(tree.threads[0].tid == pid);
		if (check_closed(&tree))
			return 1;
		CHECK(frozen(&shm->counter[0]));
		most = tree.nr_threads + tree.nr_zombies > most ? tree.nr_threads + tree.nr_zombies : most;
		before = shm->counter[0];
		release_tree(&tree);
		CHECK(WAIT_FOR(shm->counter[0] > before + 5));
	}
	CHECK(most > 2); /* we did catch more than the forker itself */
	return 0;
}

/* ------------------------------------------------------------------------
 * 7. Signals sent during injections are not lost
 */

#define NR_RT_SIGNALS 2000

static void rt_handler(int sig, siginfo_t *si, void *uc)
{
	shm->counter[1]++;
	shm->value[0] += si->si_value.sival_int;
}

static void sys_handler(int sig, siginfo_t *si, void *uc)
{
	shm->value[2] = si->si_value.sival_int;
	shm->value[3] = si->si_code;
	shm->value[4] = si->si_pid;
	shm->counter[2]++;
}

static void signalled_child(void)
{
	struct sigaction rt = {.sa_sigaction = rt_handler, .sa_flags = SA_SIGINFO | SA_RESTART};
	struct sigaction sys = {.sa_sigaction = sys_handler, .sa_flags = SA_SIGINFO | SA_RESTART};

	sigaction(SIGRTMIN + 1, &rt, NULL);
	sigaction(SIGSYS, &sys, NULL);
	shm->ready = 1;
	spin_forever(0);
}

static void sender_child(void)
{
	pid_t target = shm->pids[0];

	for (int i = 1; i <= NR_RT_SIGNALS; i++) {
		while (sigqueue(target, SIGRTMIN + 1, (union sigval){.sival_int = i}) && errno == EAGAIN)
			usleep(100);
		if (i % 8 == 0)
			usleep(50);
	}
	shm->stop = 1;
}

static int test_signals(void)
{
	_cleanup_kids_ struct kids k = {0};
	_cleanup_thread_ struct seized_thread t = {0};
	unsigned int requeued = 0;
	pid_t pid, sender;
	int rounds = 0;
	long ret;

	setup();
	CHECK((pid = spawn(&k, signalled_child)) > 0);
	CHECK(WAIT_FOR(shm->ready && shm->pids[0] == pid));
	CHECK((sender = spawn(&k, sender_child)) > 0);
	while (!shm->stop || rounds < 20) {
		CHECK(WAIT_FOR(shm->counter[2] == rounds)); /* the last SIGSYS arrived */
		CHECK(seize_task(pid, &t) == 0);
		/* Not blocked while we inject: caught and queued again. */
		CHECK(sigqueue(pid, SIGSYS, (union sigval){.sival_int = 1000 + rounds}) == 0);
		for (int i = 0; i < 3; i++)
			CHECK(INJECT(&t, SYS_getpid, 0, 0, 0, 0, &ret) == 0 && ret == pid);
		requeued += t.nr_requeued;
		CHECK(release_task(&t) == 0);
		rounds++;
	}
	CHECK(WAIT_FOR(shm->counter[2] == rounds));
	CHECK(requeued == (unsigned int)rounds);
	CHECK(shm->value[2] == 1000 + rounds - 1 && shm->value[3] == SI_QUEUE && shm->value[4] == getpid());
	CHECK(wait_exit(&k, sender) == 0);
	CHECK(WAIT_FOR(shm->counter[1] == NR_RT_SIGNALS));
	CHECK(shm->value[0] == (long)NR_RT_SIGNALS * (NR_RT_SIGNALS + 1) / 2);
	return 0;
}

/* ------------------------------------------------------------------------
 * 8. A thread stopped in an rseq critical section is aborted as usual
 */

/*
 * rseq_spin(&rseq->rseq_cs, cs, counter): arms the critical section and
 * spins inside it; each abort counts and arms it again.
 */
extern char rseq_cs_start[], rseq_cs_end[], rseq_cs_abort[];
void rseq_spin(volatile uint64_t *rseq_cs, const struct rseq_cs *cs, volatile long *counter);
__asm__(".text\n"
	".globl rseq_spin, rseq_cs_start, rseq_cs_end, rseq_cs_abort\n"
	".hidden rseq_spin, rseq_cs_start, rseq_cs_end, rseq_cs_abort\n"
	"rseq_spin:\n"
	"1:	movq %rsi, (%rdi)\n"
	"rseq_cs_start:\n"
	"	jmp rseq_cs_start\n"
	"rseq_cs_end:\n"
	"	.long 0x53053053\n" /* RSEQ_SIG, right before the abort handler */
	"rseq_cs_abort:\n"
	"	incq (%rdx)\n"
	"	jmp 1b\n");
_Static_assert(RSEQ_SIG == 0x53053053, "RSEQ_SIG");

static struct rseq_cs spin_cs;

static void rseq_child(void)
{
	struct sigaction sa = {.sa_handler = noop_handler};
	uintptr_t tp;

	sigaction(SIGUSR1, &sa, NULL);
	shm->ready = 1;
	__asm__("mov %%fs:0, %0" : "=r"(tp));
	spin_cs.start_ip = (uintptr_t)rseq_cs_start;
	spin_cs.post_commit_offset = (uintptr_t)(rseq_cs_end - rseq_cs_start);
	spin_cs.abort_ip = (uintptr_t)rseq_cs_abort;
	rseq_spin((volatile uint64_t *)(tp + __rseq_offset + 8), &spin_cs, &shm->counter[0]);
}

/* Aborts happen on preemption or signal delivery: send signals. */
static bool aborts_go_on(pid_t pid)
{
	long before = shm->counter[0];

	for (int i = 0; i < 500 && shm->counter[0] < before + 3; i++) {
		kill(pid, SIGUSR1);
		usleep(1000);
	}
	return shm->counter[0] >= before + 3;
}

static int test_rseq(void)
{
	_cleanup_kids_ struct kids k = {0};
	_cleanup_thread_ struct seized_thread t = {0};
	struct user_regs_struct regs;
	bool in_cs = false;
	uint64_t abort_ip;
	long ret;
	pid_t pid;

	if (!__rseq_size) {
		unit_skip_reason = "glibc did not register rseq";
		return UNIT_SKIP;
	}
	setup();
	CHECK((pid = spawn(&k, rseq_child)) > 0);
	CHECK(WAIT_FOR(shm->ready));
	CHECK(aborts_go_on(pid));
	for (int i = 0; i < 100 && !in_cs; i++) {
		CHECK(seize_task(pid, &t) == 0 && get_regs(&t, &regs) == 0);
		in_cs = regs.rip >= (uintptr_t)rseq_cs_start && regs.rip < (uintptr_t)rseq_cs_end;
		if (!in_cs)
			CHECK(release_task(&t) == 0);
	}
	CHECK(in_cs);
	CHECK(rseq_cs_abort_ip(&t, regs.rip, &abort_ip) == 1 && abort_ip == (uintptr_t)rseq_cs_abort);
	CHECK(rseq_cs_abort_ip(&t, (uintptr_t)rseq_cs_abort, &abort_ip) == 0);
	CHECK(INJECT(&t, SYS_getpid, 0, 0, 0, 0, &ret) == 0 && ret == pid);
	CHECK(get_regs(&t, &regs) == 0 && regs.rip == (uintptr_t)rseq_cs_abort);
	CHECK(release_task(&t) == 0);
	CHECK(aborts_go_on(pid));
	return 0;
}

/* ------------------------------------------------------------------------
 * 9. A failed seize releases what it seized
 */

static void traced_tree_child(void)
{
	if (fork() == 0)
		spin_forever(1);
	spin_forever(0);
}

static void other_tracer(void)
{
	if (ptrace(PTRACE_SEIZE, shm->pids[1], NULL, NULL))
		_exit(1);
	shm->ready = 1;
	pause();
}

static int test_seize_failure(void)
{
	_cleanup_kids_ struct kids k = {0};
	_cleanup_tree_ struct seized_tree tree = {0};
	long before;
	pid_t pid;
	int ret;

	setup();
	CHECK((pid = spawn(&k, traced_tree_child)) > 0);
	CHECK(WAIT_FOR(shm->pids[0] && shm->pids[1]));
	CHECK(spawn(&k, other_tracer) > 0);
	CHECK(WAIT_FOR(shm->ready));
	quiet(true);
	ret = seize_tree(pid, &tree);
	quiet(false);
	CHECK(ret == -EPERM);
	CHECK(tree.nr_threads == 0 && !tree.threads);
	CHECK(task_state(pid, pid) != 't');
	before = shm->counter[0];
	CHECK(WAIT_FOR(shm->counter[0] > before + 1000));
	return 0;
}

/* A task killed while seized: injections fail, release cleans up. */
static int test_killed(void)
{
	_cleanup_kids_ struct kids k = {0};
	_cleanup_thread_ struct seized_thread t = {0};
	long ret, err;
	pid_t pid;

	setup();
	CHECK((pid = spawn(&k, spin_child)) > 0);
	CHECK(seize_task(pid, &t) == 0);
	CHECK(INJECT(&t, SYS_getpid, 0, 0, 0, 0, &ret) == 0 && ret == pid);
	CHECK(kill(pid, SIGKILL) == 0);
	quiet(true);
	err = INJECT(&t, SYS_getpid, 0, 0, 0, 0, &ret);
	quiet(false);
	CHECK(err == -ESRCH);
	CHECK(release_task(&t) == 0 && !t.seized);
	CHECK(WAIT_FOR(task_state(pid, pid) == '?')); /* reaped: we are its tracer and parent */
	forget_kid(&k, pid);
	return 0;
}

/*
 * A tracer killed (SIGKILL, as the OOM killer does) while it holds a task:
 * between injections the task runs on, as it was, untraced; while
 * seize_guard() holds it (an injection has its registers) it dies too
 * rather than run on with them.
 */
static pid_t guard_target;
static bool guard_on;

static void tracer_then_killed(void)
{
	struct seized_thread t = {0};
	long ret;

	if (seize_task(guard_target, &t) || INJECT(&t, SYS_getpid, 0, 0, 0, 0, &ret) || ret != guard_target)
		_exit(1);
	if (guard_on && seize_guard(&t, true))
		_exit(1);
	shm->ready = 1;
	for (;;)
		pause();
}

static int tracer_killed(bool guard)
{
	_cleanup_kids_ struct kids k = {0};
	long before;
	pid_t tracer;

	setup();
	CHECK((guard_target = spawn(&k, spin_child)) > 0);
	CHECK(WAIT_FOR(shm->pids[0]));
	guard_on = guard;
	CHECK((tracer = spawn(&k, tracer_then_killed)) > 0);
	CHECK(WAIT_FOR(shm->ready || task_state(tracer, tracer) == 'Z'));
	CHECK(shm->ready && frozen(&shm->counter[0]));
	CHECK(kill(tracer, SIGKILL) == 0);
	CHECK(wait_exit(&k, tracer) == 128 + SIGKILL);
	if (guard) {
		CHECK(wait_exit(&k, guard_target) == 128 + SIGKILL);
		return 0;
	}
	before = shm->counter[0];
	CHECK(WAIT_FOR(shm->counter[0] > before + 1000));
	CHECK(task_state(guard_target, guard_target) == 'R' || task_state(guard_target, guard_target) == 'S');
	return 0;
}

static int test_tracer_killed(void)
{
	return tracer_killed(false);
}

static int test_tracer_killed_guarded(void)
{
	return tracer_killed(true);
}

static const struct unit_case cases[] = {
	{"seize_single_thread", test_single_thread},
	{"seize_threads", test_threads},
	{"seize_tree_with_zombie", test_tree},
	{"seize_stopped_stays_stopped", test_stopped},
	{"inject_blocked_syscalls_restart", test_blocked_syscalls},
	{"seize_forking_tree_converges", test_forking_tree},
	{"inject_keeps_signals", test_signals},
	{"inject_rseq_critical_section", test_rseq},
	{"seize_failure_releases", test_seize_failure},
	{"inject_into_killed_task", test_killed},
	{"tracer_killed_task_runs_on", test_tracer_killed},
	{"tracer_killed_guarded_task_dies", test_tracer_killed_guarded},
	{},
};

UNIT_MAIN(cases)

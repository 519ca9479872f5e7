/*
 * state-files-static OUTDIR CASE: open-file state across checkpoint/restore
 * (statecheck.h). Cases:
 *   fdtable-shared      a child cloned with CLONE_FILES (no CLONE_VM): one fd
 *                       table for both (kcmp KCMP_FILES), an fd opened by one
 *                       is seen by the other's fstat.
 *   fdtable-three       two children cloned so: three processes, one table.
 *   fdtable-chain       a child cloned so, and its own child too.
 *   fdtable-siblings    two children sharing one table the parent left
 *                       (unshare(CLONE_FILES) after cloning them).
 *   async-pipe-pid      a pipe's read end with O_ASYNC, F_SETOWN to the
 *                       process, F_SETSIG SIGRTMIN+1: the flags, owner and
 *                       signal read back, and a write raises the signal.
 *   async-owner-uids    the same, the owner set with euid 1000: its uids.
 *   async-pipe-pgrp     the same with F_SETOWN -pgid and SIGIO (no F_SETSIG).
 *   async-pipe-tid      F_SETOWN_EX F_OWNER_TID to a thread, F_SETSIG: the
 *                       thread gets the signal.
 *   async-socket        a unix stream socket with O_ASYNC, owner the process,
 *                       F_SETSIG SIGUSR2.
 *   async-fifo          a FIFO's read end, likewise (its owner is on its path).
 *   memfd-exec          a memfd holding a copy of this program, kept only
 *                       O_RDONLY: still O_RDONLY, and a child can fexecve it
 *                       (no writable descriptor or mapping left: ETXTBSY).
 *   memfd-exec-sealed   the same, sealed (write, grow, shrink, seal), run by
 *                       execveat(AT_EMPTY_PATH); its seals come back.
 *   memfd-exe           the program re-executed from such a memfd: its
 *                       executable is the memfd, which can still be run.
 *   lock-flock          flock(LOCK_EX) held: another open file can't take it.
 *   lock-posix-read     fcntl F_SETLK read lock: a child sees it (F_GETLK).
 *   lock-posix-write    fcntl F_SETLK write lock on a range, likewise.
 *   lock-ofd            F_OFD_SETLK write lock: another open file sees it.
 *   lock-lease          F_SETLEASE read lease: F_GETLEASE says so.
 *   lock-mapped-flock   a flock held only by a file mapping (fd closed).
 * Run as "state-files-static --exit0" it exits 0 (what the memfd runs).
 */
#include <fcntl.h>
#ifndef F_GETOWNER_UIDS
#define F_GETOWNER_UIDS 17
#endif
#include <linux/kcmp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <sys/file.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include "statecheck.h"

#ifndef F_SEAL_SEAL
#define F_ADD_SEALS 1033
#define F_GET_SEALS 1034
#define F_SEAL_SEAL 0x0001
#define F_SEAL_SHRINK 0x0002
#define F_SEAL_GROW 0x0004
#define F_SEAL_WRITE 0x0008
#endif
#ifndef MFD_ALLOW_SEALING
#define MFD_ALLOW_SEALING 0x0002U
#endif

/* ------------------------------------------------------------------------
 * A shared descriptor table: the child answers requests on a pipe
 */

#define STACK_SIZE (256 * 1024)

static int req[2][2], rep[2]; /* requests to each sharer, their replies */
static pid_t sharers[2];
static int nr_sharers;

/*
 * A sharer's loop: "s FD" -> fstat(FD)'s inode or -errno, "o" -> the fd of
 * "/" it opened, "c FD" -> close(FD).
 */
static int chain; /* fdtable-chain: sharer 0 clones sharer 1 itself */
static void clone_sharer(void);

static int sharer(void *arg)
{
	int in = req[(intptr_t)arg][0];
	char cmd[32];
	long long v;
	ssize_t n;

	if (chain && (intptr_t)arg == 0) {
		/* ours, told to our parent, which has no other way to know it */
		clone_sharer();
		v = sharers[1];
		if (write(rep[1], &v, sizeof(v)) != sizeof(v))
			_exit(1);
	}
	for (;;) {
		struct stat st;

		n = read(in, cmd, sizeof(cmd) - 1);
		if (n <= 0)
			_exit(0);
		cmd[n] = '\0';
		if (cmd[0] == 's')
			v = fstat(atoi(cmd + 2), &st) ? -errno : (long long)st.st_ino;
		else if (cmd[0] == 'c')
			v = close(atoi(cmd + 2)) ? -errno : 0;
		else
			v = open("/", O_RDONLY | O_DIRECTORY);
		if (v == -1)
			v = -errno;
		if (write(rep[1], &v, sizeof(v)) != sizeof(v))
			_exit(1);
	}
	return 0;
}

static void clone_sharer(void)
{
	char *stack = mmap(NULL, STACK_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	intptr_t i = nr_sharers++;

	if (stack == MAP_FAILED)
		setup_failed("mmap");
	if (!(chain && i == 1) && pipe(req[i]))
		setup_failed("pipe");
	sharers[i] = clone(sharer, stack + STACK_SIZE, CLONE_FILES | SIGCHLD, (void *)i);
	if (sharers[i] < 0)
		setup_failed("clone(CLONE_FILES)");
}

static void fdtable_shared_setup(void)
{
	if (pipe2(rep, O_NONBLOCK))
		setup_failed("pipe");
	clone_sharer();
}

static void fdtable_three_setup(void)
{
	if (pipe2(rep, O_NONBLOCK))
		setup_failed("pipe");
	clone_sharer();
	clone_sharer();
}

static void fdtable_chain_setup(void)
{
	struct timespec ts = {0, 10000000};
	long long v = 0;

	if (pipe2(rep, O_NONBLOCK))
		setup_failed("pipe");
	chain = 1;
	if (pipe(req[1]))
		setup_failed("pipe");
	clone_sharer();
	for (int k = 0; k < 500 && read(rep[0], &v, sizeof(v)) != sizeof(v); k++)
		nanosleep(&ts, NULL);
	if (v <= 0)
		setup_failed("no grandchild");
	sharers[1] = (pid_t)v;
	nr_sharers = 2;
}

static void fdtable_siblings_setup(void)
{
	if (pipe2(rep, O_NONBLOCK))
		setup_failed("pipe");
	clone_sharer();
	clone_sharer();
	/* the parent leaves the table to its two children */
	if (unshare(CLONE_FILES))
		setup_failed("unshare(CLONE_FILES)");
}

/* Sharer i's answer to cmd. */
static long long ask(int i, const char *fmt, long long arg)
{
	struct timespec ts = {0, 10000000};
	long long v = -1;
	char cmd[32];

	snprintf(cmd, sizeof(cmd), fmt, arg);
	if (write(req[i][1], cmd, strlen(cmd)) < 0)
		return -errno;
	for (int k = 0; k < 500; k++) {
		if (read(rep[0], &v, sizeof(v)) == sizeof(v))
			return v;
		nanosleep(&ts, NULL);
	}
	return -ETIMEDOUT;
}

static int kcmp_files(pid_t a, pid_t b)
{
	return (int)syscall(SYS_kcmp, a, b, KCMP_FILES, 0, 0);
}

/* An fd sharer `opener` opens is the same file in sharer `seer`; then closed by `seer`. */
static const char *opened_by_seen_by(int opener, int seer)
{
	struct stat root;
	long long fd = ask(opener, "o", 0), v;

	if (fd < 0)
		return bad("child %d could not open /: %lld", sharers[opener], fd);
	v = ask(seer, "s %lld", fd);
	if (stat("/", &root) || v != (long long)root.st_ino)
		return bad("fd %lld child %d opened: child %d's fstat says %lld, not inode %llu", fd,
			   sharers[opener], sharers[seer], v, (unsigned long long)root.st_ino);
	v = ask(seer, "c %lld", fd);
	return v ? bad("child %d can't close fd %lld child %d opened: %lld", sharers[seer], fd, sharers[opener], v)
		 : NULL;
}

static const char *fdtable_shared_check(int round)
{
	struct stat st;
	long long v;
	int r = kcmp_files(getpid(), sharers[0]), fd;

	if (r != 0)
		return bad("kcmp(KCMP_FILES) with child %d: %d (%s)", sharers[0], r, r < 0 ? strerror(errno) : "differ");
	/* ours, seen by the sharer */
	fd = open("/", O_RDONLY | O_DIRECTORY);
	if (fd < 0 || fstat(fd, &st))
		return bad("open /: %s", strerror(errno));
	v = ask(0, "s %lld", fd);
	close(fd);
	if (v != (long long)st.st_ino)
		return bad("fd %d we opened: child %d's fstat says %lld, not inode %llu", fd, sharers[0], v,
			   (unsigned long long)st.st_ino);
	/* the sharer's, seen by us */
	v = ask(0, "o", 0);
	if (v < 0 || fstat((int)v, &st) || close((int)v))
		return bad("fd %lld child %d opened: not ours (%s)", v, sharers[0], strerror(errno));
	return NULL;
}

/* We and both children: one table. */
static const char *fdtable_all_check(int round)
{
	const char *why = fdtable_shared_check(round);

	if (why)
		return why;
	if (kcmp_files(getpid(), sharers[1]) != 0)
		return bad("kcmp(KCMP_FILES) with child %d: differ", sharers[1]);
	if ((why = opened_by_seen_by(0, 1)) || (why = opened_by_seen_by(1, 0)))
		return why;
	return NULL;
}

static const char *fdtable_siblings_check(int round)
{
	int r = kcmp_files(sharers[0], sharers[1]), mine = kcmp_files(getpid(), sharers[0]);
	const char *why;
	long long v;
	int fd;

	if (r != 0)
		return bad("kcmp(KCMP_FILES) of children %d and %d: %d", sharers[0], sharers[1], r);
	if (mine == 0)
		return bad("we share our table with child %d, which we had left", sharers[0]);
	if ((why = opened_by_seen_by(0, 1)) || (why = opened_by_seen_by(1, 0)))
		return why;
	/* an fd only we open is not in theirs */
	fd = open("/", O_RDONLY | O_DIRECTORY);
	if (fd < 0)
		return bad("open /: %s", strerror(errno));
	v = ask(0, "s %lld", fd);
	close(fd);
	return v == -EBADF ? NULL : bad("child %d's fstat of our new fd %d: %lld, not EBADF", sharers[0], fd, v);
}

/* ------------------------------------------------------------------------
 * O_ASYNC owners
 */

static int afd[2]; /* [0] with O_ASYNC; writes go to [1] */
static int async_sig;
static struct f_owner_ex async_owner;
static volatile int thread_got;
static volatile pid_t thread_tid;

static void block(int sig)
{
	sigset_t s;

	sigemptyset(&s);
	sigaddset(&s, sig);
	if (sigprocmask(SIG_BLOCK, &s, NULL))
		setup_failed("sigprocmask");
}

static void set_async(int fd, int sig, int type, pid_t pid)
{
	async_owner.type = type;
	async_owner.pid = pid;
	async_sig = sig;
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_ASYNC))
		setup_failed("F_SETFL O_ASYNC");
	if (fcntl(fd, F_SETOWN_EX, &async_owner))
		setup_failed("F_SETOWN_EX");
	if (sig && fcntl(fd, F_SETSIG, sig))
		setup_failed("F_SETSIG");
}

static void async_pipe_pid_setup(void)
{
	if (pipe(afd))
		setup_failed("pipe");
	block(SIGRTMIN + 1);
	set_async(afd[0], SIGRTMIN + 1, F_OWNER_PID, getpid());
}

static uid_t owner_uids[2];
static const char *async_check(int round);

/* set as another effective user: the owner's uids say whom it may signal */
static void async_owner_uids_setup(void)
{
	if (pipe(afd))
		setup_failed("pipe");
	block(SIGRTMIN + 1);
	if (setresuid(0, 1000, 0))
		setup_failed("setresuid");
	set_async(afd[0], SIGRTMIN + 1, F_OWNER_PID, getpid());
	if (setresuid(0, 0, 0))
		setup_failed("setresuid back");
	if (fcntl(afd[0], F_GETOWNER_UIDS, owner_uids) || owner_uids[1] != 1000)
		setup_failed("F_GETOWNER_UIDS");
}

static const char *async_owner_uids_check(int round)
{
	uid_t uids[2];

	if (fcntl(afd[0], F_GETOWNER_UIDS, uids))
		return bad("F_GETOWNER_UIDS: %s", strerror(errno));
	if (uids[0] != owner_uids[0] || uids[1] != owner_uids[1])
		return bad("owner uids %u/%u, not %u/%u", uids[0], uids[1], owner_uids[0], owner_uids[1]);
	return async_check(round);
}

static void async_pipe_pgrp_setup(void)
{
	if (setpgid(0, 0))
		setup_failed("setpgid");
	if (pipe(afd))
		setup_failed("pipe");
	block(SIGIO);
	if (fcntl(afd[0], F_SETOWN, -getpgrp()))
		setup_failed("F_SETOWN -pgrp");
	async_owner.type = F_OWNER_PGRP;
	async_owner.pid = getpgrp();
	if (fcntl(afd[0], F_SETFL, fcntl(afd[0], F_GETFL) | O_ASYNC))
		setup_failed("F_SETFL O_ASYNC");
}

static void *sig_thread(void *arg)
{
	sigset_t s;
	siginfo_t si;

	thread_tid = (pid_t)syscall(SYS_gettid);
	sigemptyset(&s);
	sigaddset(&s, SIGRTMIN + 2);
	for (;;)
		if (sigwaitinfo(&s, &si) > 0 && si.si_fd == afd[0])
			thread_got++;
	return NULL;
}

static void async_pipe_tid_setup(void)
{
	pthread_t th;
	struct timespec ts = {0, 1000000};

	if (pipe(afd))
		setup_failed("pipe");
	block(SIGRTMIN + 2); /* in every thread: only sigwaitinfo takes it */
	if (pthread_create(&th, NULL, sig_thread, NULL))
		setup_failed("pthread_create");
	while (!thread_tid)
		nanosleep(&ts, NULL);
	set_async(afd[0], SIGRTMIN + 2, F_OWNER_TID, thread_tid);
}

static void async_socket_setup(void)
{
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, afd))
		setup_failed("socketpair");
	block(SIGUSR2);
	set_async(afd[0], SIGUSR2, F_OWNER_PID, getpid());
}

static void async_fifo_setup(void)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/fifo", outdir);
	if (mkfifo(path, 0600))
		setup_failed("mkfifo");
	afd[0] = open(path, O_RDONLY | O_NONBLOCK);
	afd[1] = open(path, O_WRONLY);
	if (afd[0] < 0 || afd[1] < 0)
		setup_failed("open %s", path);
	block(SIGRTMIN + 3);
	set_async(afd[0], SIGRTMIN + 3, F_OWNER_PID, getpid());
}

/* The signal a write to the other end raises, taken by us (or the thread). */
static const char *async_signal_arrives(void)
{
	struct timespec wait = {3, 0}, tick = {0, 10000000};
	int sig = async_sig ? async_sig : SIGIO, before = thread_got;
	siginfo_t si;
	sigset_t s;
	char c;

	if (write(afd[1], "x", 1) != 1)
		return bad("write: %s", strerror(errno));
	if (async_owner.type == F_OWNER_TID) {
		for (int i = 0; i < 300 && thread_got == before; i++)
			nanosleep(&tick, NULL);
		if (thread_got == before)
			return bad("thread %d got no signal %d in 3 s", thread_tid, sig);
	} else {
		sigemptyset(&s);
		sigaddset(&s, sig);
		if (sigtimedwait(&s, &si, &wait) != sig) {
			ssize_t n = read(afd[0], &c, 1);

			return bad("no signal %d in 3 s (the data %s)", sig, n == 1 ? "arrived" : "did not arrive");
		}
		if (async_sig && si.si_fd != afd[0])
			return bad("signal %d for fd %d, not %d", sig, si.si_fd, afd[0]);
	}
	if (read(afd[0], &c, 1) != 1)
		return bad("read back: %s", strerror(errno));
	return NULL;
}

static const char *async_check(int round)
{
	struct f_owner_ex ox;
	int fl = fcntl(afd[0], F_GETFL), sig = fcntl(afd[0], F_GETSIG);

	if (fl < 0 || !(fl & O_ASYNC))
		return bad("F_GETFL %#x: no O_ASYNC", fl);
	if (fcntl(afd[0], F_GETOWN_EX, &ox))
		return bad("F_GETOWN_EX: %s", strerror(errno));
	if (ox.type != async_owner.type || ox.pid != async_owner.pid)
		return bad("owner type %d pid %d, not type %d pid %d", ox.type, ox.pid, async_owner.type,
			   async_owner.pid);
	if (async_owner.type == F_OWNER_PGRP && fcntl(afd[0], F_GETOWN) != -async_owner.pid)
		return bad("F_GETOWN %d, not -%d", fcntl(afd[0], F_GETOWN), async_owner.pid);
	if (sig != async_sig)
		return bad("F_GETSIG %d, not %d", sig, async_sig);
	return async_signal_arrives();
}

/* ------------------------------------------------------------------------
 * A memfd that is run
 */

static int mfd = -1;
static int mfd_seals;
static int mfd_execveat;

static const char *self_path; /* argv[0]: this program, in the container's root */

static void memfd_fill(unsigned flags)
{
	char buf[65536];
	int self = open(self_path, O_RDONLY), rw;
	bool had_proc = !access("/proc/self/fd", F_OK);
	ssize_t n;

	rw = (int)syscall(SYS_memfd_create, "prog", flags);
	if (self < 0 || rw < 0)
		setup_failed("open %s or memfd_create", self_path);
	while ((n = read(self, buf, sizeof(buf))) > 0)
		if (write(rw, buf, (size_t)n) != n)
			setup_failed("write memfd");
	close(self);
	if (mfd_seals && fcntl(rw, F_ADD_SEALS, mfd_seals))
		setup_failed("F_ADD_SEALS");
	/* kept read-only only (as runc does): a writable one would make exec
	 * fail (ETXTBSY). Reopened through a /proc of our own, gone after. */
	if (!had_proc && mount("proc", "/proc", "proc", 0, NULL))
		setup_failed("mount /proc");
	snprintf(buf, sizeof(buf), "/proc/self/fd/%d", rw);
	mfd = open(buf, O_RDONLY);
	if (mfd < 0)
		setup_failed("reopen memfd O_RDONLY");
	if (!had_proc && umount("/proc"))
		setup_failed("umount /proc");
	close(rw);
}

static void memfd_exec_setup(void)
{
	memfd_fill(0);
}

static void memfd_exec_sealed_setup(void)
{
	mfd_seals = F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL;
	mfd_execveat = 1;
	memfd_fill(MFD_ALLOW_SEALING);
}

static const char *memfd_exec_check(int round)
{
	static char *const argv[] = {"state-files-static", "--exit0", NULL};
	static char *const envp[] = {NULL};
	int fl = fcntl(mfd, F_GETFL), seals = fcntl(mfd, F_GET_SEALS), status;
	pid_t pid;

	if (fl < 0 || (fl & O_ACCMODE) != O_RDONLY)
		return bad("F_GETFL %#x: not O_RDONLY", fl);
	if (seals != (mfd_seals ? mfd_seals : F_SEAL_SEAL))
		return bad("seals %#x, not %#x", seals, mfd_seals ? mfd_seals : F_SEAL_SEAL);
	pid = fork();
	if (pid < 0)
		return bad("fork: %s", strerror(errno));
	if (pid == 0) {
		if (mfd_execveat)
			syscall(SYS_execveat, mfd, "", argv, envp, AT_EMPTY_PATH);
		else
			fexecve(mfd, argv, envp);
		_exit(100 + errno);
	}
	if (waitpid(pid, &status, 0) != pid)
		return bad("waitpid: %s", strerror(errno));
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		return bad("running the memfd: status %#x%s", status,
			   WIFEXITED(status) && WEXITSTATUS(status) == 100 + ETXTBSY ? " (ETXTBSY)" : "");
	return NULL;
}

/* Running from the memfd: we exec it with our own arguments, once. */
static char **self_argv;

static void memfd_exe_setup(void)
{
	const char *fd = getenv("STATE_FROM_MEMFD_FD");
	char buf[64];

	if (fd) {
		mfd = atoi(fd);
		return;
	}
	memfd_fill(0);
	snprintf(buf, sizeof(buf), "STATE_FROM_MEMFD_FD=%d", mfd);
	{
		char *const env[] = {buf, NULL};

		fexecve(mfd, self_argv, env);
	}
	setup_failed("fexecve the memfd");
}

/* our executable is the memfd (seen through a /proc mounted for the
 * while), and a child can still run it */
static const char *memfd_exe_check(int round)
{
	struct stat exe, mine;
	char link[256] = "";
	bool had_proc = !access("/proc/self/exe", F_OK);
	ssize_t n = -1;
	int r = -1;

	if (!had_proc && mount("proc", "/proc", "proc", 0, NULL))
		return bad("mount /proc: %s", strerror(errno));
	r = stat("/proc/self/exe", &exe);
	n = readlink("/proc/self/exe", link, sizeof(link) - 1);
	if (!had_proc)
		umount("/proc");
	if (r || n < 0 || fstat(mfd, &mine))
		return bad("stat /proc/self/exe: %s", strerror(errno));
	link[n] = '\0';
	if (exe.st_ino != mine.st_ino || exe.st_dev != mine.st_dev || strncmp(link, "/memfd:prog", 11))
		return bad("our executable is %s (inode %llu), not the memfd (inode %llu)", link,
			   (unsigned long long)exe.st_ino, (unsigned long long)mine.st_ino);
	return memfd_exec_check(round);
}

/* ------------------------------------------------------------------------
 * File locks
 */

static int lfd = -1;
static char lpath[4096];
static void *lmap;

static void lock_file(void)
{
	snprintf(lpath, sizeof(lpath), "%s/lockfile", outdir);
	lfd = open(lpath, O_RDWR | O_CREAT, 0644);
	if (lfd < 0 || ftruncate(lfd, 4096))
		setup_failed("open %s", lpath);
}

static void lock_flock_setup(void)
{
	lock_file();
	if (flock(lfd, LOCK_EX))
		setup_failed("flock");
}

/* another open file of the lock file can't take an exclusive flock */
static const char *flock_held(void)
{
	int fd = open(lpath, O_RDONLY);

	if (fd < 0)
		return bad("open %s: %s", lpath, strerror(errno));
	if (!flock(fd, LOCK_EX | LOCK_NB)) {
		close(fd);
		return bad("the flock is gone: another open file took it");
	}
	close(fd);
	return errno == EWOULDBLOCK ? NULL : bad("flock: %s", strerror(errno));
}

static const char *lock_flock_check(int round)
{
	return flock_held();
}

static struct flock posix_lk;

static void posix_setup(short type, off_t start, off_t len)
{
	lock_file();
	posix_lk.l_type = type;
	posix_lk.l_whence = SEEK_SET;
	posix_lk.l_start = start;
	posix_lk.l_len = len;
	if (fcntl(lfd, F_SETLK, &posix_lk))
		setup_failed("F_SETLK");
}

static void lock_posix_read_setup(void)
{
	posix_setup(F_RDLCK, 0, 0);
}

static void lock_posix_write_setup(void)
{
	posix_setup(F_WRLCK, 100, 200);
}

/* a child asks F_GETLK for a write lock over everything: ours must conflict */
static const char *lock_posix_check(int round)
{
	int p[2], status;
	struct flock got;
	pid_t pid;

	if (pipe(p))
		return bad("pipe: %s", strerror(errno));
	pid = fork();
	if (pid == 0) {
		struct flock q = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
		int fd = open(lpath, O_RDWR);

		if (fd < 0 || fcntl(fd, F_GETLK, &q))
			_exit(1);
		_exit(write(p[1], &q, sizeof(q)) == sizeof(q) ? 0 : 1);
	}
	close(p[1]);
	if (pid < 0 || read(p[0], &got, sizeof(got)) != sizeof(got)) {
		close(p[0]);
		waitpid(pid, &status, 0);
		return bad("the child could not ask F_GETLK");
	}
	close(p[0]);
	waitpid(pid, &status, 0);
	if (got.l_type != posix_lk.l_type || got.l_start != posix_lk.l_start || got.l_len != posix_lk.l_len ||
	    got.l_pid != getpid())
		return bad("F_GETLK from a child: type %d start %lld len %lld pid %d, not %d %lld %lld %d", got.l_type,
			   (long long)got.l_start, (long long)got.l_len, got.l_pid, posix_lk.l_type,
			   (long long)posix_lk.l_start, (long long)posix_lk.l_len, getpid());
	return NULL;
}

static void lock_ofd_setup(void)
{
	struct flock l = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 10, .l_len = 20};

	lock_file();
	if (fcntl(lfd, F_OFD_SETLK, &l))
		setup_failed("F_OFD_SETLK");
}

static const char *lock_ofd_check(int round)
{
	struct flock q = {.l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
	int fd = open(lpath, O_RDWR);

	if (fd < 0 || fcntl(fd, F_OFD_GETLK, &q))
		return bad("F_OFD_GETLK: %s", strerror(errno));
	close(fd);
	if (q.l_type != F_WRLCK || q.l_start != 10 || q.l_len != 20)
		return bad("F_OFD_GETLK from another open file: type %d start %lld len %lld", q.l_type,
			   (long long)q.l_start, (long long)q.l_len);
	return NULL;
}

static void lock_lease_setup(void)
{
	lock_file();
	close(lfd);
	lfd = open(lpath, O_RDONLY);
	if (lfd < 0 || fcntl(lfd, F_SETLEASE, F_RDLCK))
		setup_failed("F_SETLEASE");
}

static const char *lock_lease_check(int round)
{
	int l = fcntl(lfd, F_GETLEASE);

	return l == F_RDLCK ? NULL : bad("F_GETLEASE %d, not F_RDLCK", l);
}

static void lock_mapped_flock_setup(void)
{
	lock_flock_setup();
	lmap = mmap(NULL, 4096, PROT_READ, MAP_SHARED, lfd, 0);
	if (lmap == MAP_FAILED)
		setup_failed("mmap");
	close(lfd); /* the mapping keeps the open file, and its flock */
}

static const struct state_case cases[] = {
	{"fdtable-shared", fdtable_shared_setup, fdtable_shared_check},
	{"fdtable-three", fdtable_three_setup, fdtable_all_check},
	{"fdtable-chain", fdtable_chain_setup, fdtable_all_check},
	{"fdtable-siblings", fdtable_siblings_setup, fdtable_siblings_check},
	{"async-pipe-pid", async_pipe_pid_setup, async_check},
	{"async-owner-uids", async_owner_uids_setup, async_owner_uids_check},
	{"async-pipe-pgrp", async_pipe_pgrp_setup, async_check},
	{"async-pipe-tid", async_pipe_tid_setup, async_check},
	{"async-socket", async_socket_setup, async_check},
	{"async-fifo", async_fifo_setup, async_check},
	{"memfd-exec", memfd_exec_setup, memfd_exec_check},
	{"memfd-exec-sealed", memfd_exec_sealed_setup, memfd_exec_check},
	{"memfd-exe", memfd_exe_setup, memfd_exe_check},
	{"lock-flock", lock_flock_setup, lock_flock_check},
	{"lock-posix-read", lock_posix_read_setup, lock_posix_check},
	{"lock-posix-write", lock_posix_write_setup, lock_posix_check},
	{"lock-ofd", lock_ofd_setup, lock_ofd_check},
	{"lock-lease", lock_lease_setup, lock_lease_check},
	{"lock-mapped-flock", lock_mapped_flock_setup, lock_flock_check},
	{NULL, NULL, NULL},
};

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "--exit0"))
		return 0;
	self_path = argv[0];
	self_argv = argv;
	return state_main(argc, argv, cases);
}

/*
 * The open files of a seized tree (files/files-dump.c) on real processes:
 * a child holding a regular file at an offset (and a dup of it), a
 * directory, /dev/null, a pipe with unread data (both ends), a pipe of
 * which only the write end is left, an O_CLOEXEC descriptor and a FIFO
 * with data; its own child shares them after fork. The images are read
 * back and checked, and after release the tasks still find their data in
 * the pipes. Kinds we can't dump give -EOPNOTSUPP naming the fd.
 * Children are in their own process group and die with the test; every
 * case kills and reaps them, also when it fails.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <sys/fanotify.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "unit.h"
#include "unit-kids.h"
#include "dump.h"
#include "fdinfo.pb-c.h"
#include "image/image.h"
#include "pipe-data.pb-c.h"
#include "ptrace/seize.h"
#include "task/task-dump.h"
#include "util/util.h"

#define PIPE_MSG "hello pipe"
#define WONLY_MSG "w-only"
#define FIFO_MSG "fifo data"
#define FILE_TEXT "0123456789abcdef"

struct shm {
	volatile int ready, stop, done, mode;
	volatile pid_t pid_b;
	volatile int fd_reg, fd_dup, fd_dir, fd_null, fd_pr, fd_pw, fd_w2, fd_cloexec, fd_fifo, fd_null_b;
	volatile int got_pipe_len, got_fifo_len, got_w2_queued;
	char got_pipe[64], got_fifo[64];
	char dir[256], data[300], fifo[300];
};
static struct shm *shm;



/* Declared after the kids, so released before they are killed. */
#define _cleanup_tree_ __attribute__((cleanup(release_tree)))

#define WAIT_FOR(cond)                                                       \
	({                                                                   \
		bool _ok = false;                                            \
		for (int _i = 0; _i < 5000 && !(_ok = (cond)); _i++)         \
			usleep(1000);                                        \
		_ok;                                                         \
	})

/* Only the descriptors the case sets up: 0-2 on /dev/null, nothing else. */
static void clean_fds(void)
{
	int null = open("/dev/null", O_RDWR);

	for (int i = 0; i < 3; i++)
		dup2(null, i);
	close_range(3, ~0U, 0);
}

static pid_t spawn(struct kids *k, void (*fn)(void))
{
	pid_t pid = fork();

	if (pid == 0) {
		setpgid(0, 0);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		clean_fds();
		fn();
		_exit(0);
	}
	if (pid > 0)
		k->pid[k->n++] = pid;
	return pid;
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

static void idle_until_stop(void)
{
	while (!shm->stop)
		usleep(1000);
}

/* ------------------------------------------------------------------------
 * The tree
 */

static void child_b(void)
{
	shm->fd_null_b = open("/dev/null", O_RDONLY); /* the same inode, another open file */
	shm->pid_b = getpid();
	idle_until_stop();
	_exit(0);
}

static void child_a(void)
{
	int p[2], w2[2];

	shm->fd_reg = open(shm->data, O_RDWR);
	lseek(shm->fd_reg, 5, SEEK_SET);
	shm->fd_dup = dup(shm->fd_reg);
	shm->fd_dir = open(shm->dir, O_RDONLY | O_DIRECTORY);
	shm->fd_null = open("/dev/null", O_WRONLY);
	if (pipe(p) || pipe(w2))
		_exit(1);
	shm->fd_pr = p[0];
	shm->fd_pw = p[1];
	if (write(p[1], PIPE_MSG, strlen(PIPE_MSG)) < 0 || write(w2[1], WONLY_MSG, strlen(WONLY_MSG)) < 0)
		_exit(1);
	close(w2[0]);
	shm->fd_w2 = w2[1];
	shm->fd_cloexec = open(shm->data, O_RDONLY | O_CLOEXEC);
	shm->fd_fifo = open(shm->fifo, O_RDWR | O_NONBLOCK);
	if (write(shm->fd_fifo, FIFO_MSG, strlen(FIFO_MSG)) < 0)
		_exit(1);
	if (fork() == 0)
		child_b();
	while (!shm->pid_b)
		usleep(1000);
	shm->ready = 1;
	idle_until_stop();
	/* After release: the data is still queued. */
	shm->got_pipe_len = (int)read(p[0], shm->got_pipe, sizeof(shm->got_pipe));
	shm->got_fifo_len = (int)read(shm->fd_fifo, shm->got_fifo, sizeof(shm->got_fifo));
	ioctl(w2[1], FIONREAD, &shm->got_w2_queued);
	shm->done = 1;
	for (;;)
		pause();
}

static int make_files(void)
{
	char path[320];
	int fd;

	snprintf(shm->dir, sizeof(shm->dir), "/tmp/td-files-XXXXXX");
	if (!mkdtemp(shm->dir))
		return -1;
	snprintf(shm->data, sizeof(shm->data), "%s/data", shm->dir);
	snprintf(shm->fifo, sizeof(shm->fifo), "%s/fifo", shm->dir);
	fd = open(shm->data, O_WRONLY | O_CREAT, 0644);
	if (fd < 0 || write(fd, FILE_TEXT, strlen(FILE_TEXT)) < 0)
		return -1;
	close(fd);
	if (mkfifo(shm->fifo, 0600) < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/img", shm->dir);
	return mkdir(path, 0700);
}

static void remove_files(void)
{
	char cmd[300];

	if (shm->dir[0] && !getenv("KEEP_IMAGES")) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", shm->dir);
		if (system(cmd)) {
		}
	}
}

static int imgdir(void)
{
	char path[300];

	snprintf(path, sizeof(path), "%s/img", shm->dir);
	return open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

static void commit_all(struct dump_ctx *d, bool ok)
{
	if (ok)
		img_set_commit(&d->imgs);
	else
		img_set_discard(&d->imgs);
}

static void fill_proc(struct td_proc *p, pid_t pid, uint32_t files_id)
{
	memset(p, 0, sizeof(*p));
	p->pid = p->vpid = pid;
	p->files_id = files_id;
	p->writes_fdinfo = true;
}

/* The files stage on a seized tree of n processes, as dump_task_tree runs it. */
struct run {
	struct dump_ctx d;
	struct td_ctx c;
	struct td_proc procs[2];
	struct task_dump_stats stats;
	int64_t cwd_id, cwd_id2, exe_id, root_id;
};

static int run_files(struct run *r, const pid_t *pids, size_t n, bool paths)
{
	int ret;

	memset(r, 0, sizeof(*r));
	r->d.imgs.dirfd = imgdir();
	r->c.d = &r->d;
	r->c.stats = &r->stats;
	r->c.procs = r->procs;
	r->c.nr_procs = n;
	hmap_init(&r->c.by_pid);
	for (size_t i = 0; i < n; i++)
		fill_proc(&r->procs[i], pids[i], (uint32_t)i + 1);
	ret = td_files_init(&r->c);
	for (size_t i = 0; !ret && i < n; i++)
		ret = td_dump_fds(&r->c, &r->procs[i]);
	if (!ret && paths) {
		r->cwd_id = td_dump_path_file(&r->c, &r->procs[0], "cwd", O_RDONLY | O_DIRECTORY);
		r->cwd_id2 = td_dump_path_file(&r->c, &r->procs[1], "cwd", O_RDONLY | O_DIRECTORY);
		r->root_id = td_dump_path_file(&r->c, &r->procs[0], "root", O_RDONLY | O_DIRECTORY);
		r->exe_id = td_dump_path_file(&r->c, &r->procs[0], "exe", O_RDONLY);
	}
	td_files_fini(&r->c);
	commit_all(&r->d, ret == 0);
	close(r->d.imgs.dirfd);
	return ret;
}

/* ------------------------------------------------------------------------
 * Reading the images back
 */

#define MAX_ENTRIES 64

struct entries {
	ProtobufCMessage *m[MAX_ENTRIES];
	size_t n;
	char payload[MAX_ENTRIES][64];
	size_t payload_len[MAX_ENTRIES];
};

static int read_image(const char *name, enum img_type type, struct entries *e)
{
	struct img_reader r;
	int fd = imgdir(), ret;

	memset(e, 0, sizeof(*e));
	ret = img_reader_open(&r, fd, name, type);
	close(fd);
	if (ret < 0)
		return ret;
	while (e->n < MAX_ENTRIES && (ret = img_read_entry(&r, &e->m[e->n])) == 1) {
		size_t len = r.payload_len < 64 ? r.payload_len : 64;

		if (r.payload)
			memcpy(e->payload[e->n], r.payload, len);
		e->payload_len[e->n] = r.payload_len;
		e->n++;
	}
	img_reader_close(&r);
	return ret;
}

static void free_entries(struct entries *e)
{
	for (size_t i = 0; i < e->n; i++)
		protobuf_c_message_free_unpacked(e->m[i], NULL);
	e->n = 0;
}

#define _cleanup_entries_ __attribute__((cleanup(free_entries)))

static FileEntry *file_by_id(struct entries *files, uint32_t id)
{
	for (size_t i = 0; i < files->n; i++)
		if (((FileEntry *)files->m[i])->id == id)
			return (FileEntry *)files->m[i];
	return NULL;
}

static FdinfoEntry *fd_entry(struct entries *fdi, int fd)
{
	for (size_t i = 0; i < fdi->n; i++)
		if ((int)((FdinfoEntry *)fdi->m[i])->fd == fd)
			return (FdinfoEntry *)fdi->m[i];
	return NULL;
}

static FileEntry *file_of_fd(struct entries *files, struct entries *fdi, int fd)
{
	FdinfoEntry *e = fd_entry(fdi, fd);

	return e ? file_by_id(files, e->id) : NULL;
}

static int payload_of(struct entries *pd, uint32_t pipe_id, const char *want, uint32_t *size)
{
	for (size_t i = 0; i < pd->n; i++) {
		PipeDataEntry *e = (PipeDataEntry *)pd->m[i];

		if (e->pipe_id != pipe_id)
			continue;
		*size = e->size;
		return e->bytes == strlen(want) && pd->payload_len[i] == e->bytes &&
		       !memcmp(pd->payload[i], want, e->bytes);
	}
	return 0;
}

static int check_reg(FileEntry *f, const char *name, uint32_t accmode, uint64_t pos)
{
	CHECK(f && f->type == FD_TYPES__REG && f->reg);
	CHECK_STR(f->reg->name, name);
	CHECK((f->reg->flags & O_ACCMODE) == accmode);
	CHECK(!(f->reg->flags & O_CLOEXEC));
	CHECK(f->reg->pos == pos);
	CHECK(f->reg->fown && !f->reg->fown->pid);
	return 0;
}

static int check_fdinfo_a(struct entries *files, struct entries *fdi)
{
	FileEntry *f;

	CHECK(fdi->n == 12); /* 0-2, reg, dup, dir, null, pipe r/w, w2, cloexec, fifo */
	CHECK(!check_reg(file_of_fd(files, fdi, shm->fd_reg), shm->data, O_RDWR, 5));
	f = file_of_fd(files, fdi, shm->fd_reg);
	CHECK(f->reg->has_size && f->reg->size == strlen(FILE_TEXT) && S_ISREG(f->reg->mode));
	CHECK(fd_entry(fdi, shm->fd_dup)->id == fd_entry(fdi, shm->fd_reg)->id);
	CHECK(!check_reg(file_of_fd(files, fdi, shm->fd_dir), shm->dir, O_RDONLY, 0));
	CHECK(S_ISDIR(file_of_fd(files, fdi, shm->fd_dir)->reg->mode));
	CHECK(!check_reg(file_of_fd(files, fdi, shm->fd_null), "/dev/null", O_WRONLY, 0));
	CHECK(S_ISCHR(file_of_fd(files, fdi, shm->fd_null)->reg->mode));
	CHECK(!check_reg(file_of_fd(files, fdi, shm->fd_cloexec), shm->data, O_RDONLY, 0));
	CHECK(fd_entry(fdi, shm->fd_cloexec)->flags == FD_CLOEXEC);
	CHECK(fd_entry(fdi, shm->fd_reg)->flags == 0);
	CHECK(fd_entry(fdi, shm->fd_cloexec)->id != fd_entry(fdi, shm->fd_reg)->id);
	return 0;
}

static int check_pipes(struct entries *files, struct entries *fdi, uint32_t *pipe_ino, uint32_t *w2_ino)
{
	FileEntry *r = file_of_fd(files, fdi, shm->fd_pr), *w = file_of_fd(files, fdi, shm->fd_pw);
	FileEntry *w2 = file_of_fd(files, fdi, shm->fd_w2), *fi, *reg;

	CHECK(r && w && w2 && r->type == FD_TYPES__PIPE && w->type == FD_TYPES__PIPE && r->pipe && w->pipe);
	CHECK(fd_entry(fdi, shm->fd_pr)->type == FD_TYPES__PIPE);
	CHECK(r->id != w->id && r->pipe->pipe_id == w->pipe->pipe_id);
	CHECK((r->pipe->flags & O_ACCMODE) == O_RDONLY && (w->pipe->flags & O_ACCMODE) == O_WRONLY);
	CHECK(w2->pipe && w2->pipe->pipe_id != r->pipe->pipe_id);
	*pipe_ino = r->pipe->pipe_id;
	*w2_ino = w2->pipe->pipe_id;
	fi = file_of_fd(files, fdi, shm->fd_fifo);
	CHECK(fi && fi->type == FD_TYPES__FIFO && fi->fifo && fi->fifo->has_regf_id);
	CHECK(fd_entry(fdi, shm->fd_fifo)->type == FD_TYPES__FIFO);
	reg = file_by_id(files, fi->fifo->regf_id);
	CHECK(!check_reg(reg, shm->fifo, O_RDWR, 0));
	CHECK(S_ISFIFO(reg->reg->mode));
	return 0;
}

/* B shares every open file with A, and has one of its own. */
static int check_fdinfo_b(struct entries *fa, struct entries *fb)
{
	int fds[] = {shm->fd_reg, shm->fd_dup, shm->fd_dir, shm->fd_null, shm->fd_pr, shm->fd_pw, shm->fd_fifo};

	CHECK(fb->n == fa->n + 1);
	for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
		CHECK(fd_entry(fb, fds[i]) && fd_entry(fb, fds[i])->id == fd_entry(fa, fds[i])->id);
	CHECK(fd_entry(fb, shm->fd_null_b));
	CHECK(fd_entry(fb, shm->fd_null_b)->id != fd_entry(fa, shm->fd_null)->id);
	return 0;
}

static int check_paths(struct run *r, struct entries *files)
{
	char cwd[300];
	FileEntry *f;

	CHECK(r->cwd_id > 0 && r->cwd_id == r->cwd_id2 && r->root_id > 0 && r->exe_id > 0);
	CHECK(r->root_id != r->cwd_id && r->exe_id != r->cwd_id);
	CHECK(getcwd(cwd, sizeof(cwd)));
	f = file_by_id(files, (uint32_t)r->cwd_id);
	CHECK(f && f->reg && S_ISDIR(f->reg->mode));
	CHECK_STR(f->reg->name, cwd);
	CHECK((f->reg->flags & O_DIRECTORY) && f->reg->has_mnt_id && f->reg->mnt_id > 0);
	f = file_by_id(files, (uint32_t)r->root_id);
	CHECK(f && f->reg);
	CHECK_STR(f->reg->name, "/");
	f = file_by_id(files, (uint32_t)r->exe_id);
	CHECK(f && f->reg && S_ISREG(f->reg->mode) && f->reg->name[0] == '/');
	return 0;
}

static int check_images(struct run *r)
{
	_cleanup_entries_ struct entries files = {0}, fa = {0}, fb = {0}, pd = {0}, fd = {0};
	uint32_t pipe_ino = 0, w2_ino = 0, size = 0;

	CHECK(read_image("files.img", IMG_FILES, &files) == 0);
	CHECK(read_image("fdinfo-1.img", IMG_FDINFO, &fa) == 0);
	CHECK(read_image("fdinfo-2.img", IMG_FDINFO, &fb) == 0);
	CHECK(read_image("pipes-data.img", IMG_PIPES_DATA, &pd) == 0);
	CHECK(read_image("fifo-data.img", IMG_FIFO_DATA, &fd) == 0);
	CHECK(r->stats.nr_files == files.n);
	if (check_fdinfo_a(&files, &fa) || check_pipes(&files, &fa, &pipe_ino, &w2_ino) ||
	    check_fdinfo_b(&fa, &fb) || check_paths(r, &files))
		return 1;
	/* stdin/out/err: one open file of /dev/null; the pipes' data once each. */
	CHECK(fd_entry(&fa, 0)->id == fd_entry(&fa, 2)->id);
	CHECK(pd.n == 2 && fd.n == 1);
	CHECK(payload_of(&pd, pipe_ino, PIPE_MSG, &size) && size == 65536);
	CHECK(payload_of(&pd, w2_ino, WONLY_MSG, &size));
	CHECK(payload_of(&fd, ((PipeDataEntry *)fd.m[0])->pipe_id, FIFO_MSG, &size));
	return 0;
}

static int crit_decodes(void)
{
	const char *names[] = {"files.img", "fdinfo-1.img", "fdinfo-2.img", "pipes-data.img", "fifo-data.img"};
	char cmd[700];

	if (system("command -v crit >/dev/null 2>&1"))
		return 0;
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		snprintf(cmd, sizeof(cmd), "crit decode -i '%s/img/%s' --pretty >/dev/null", shm->dir, names[i]);
		if (system(cmd)) {
			snprintf(unit_fail_msg, sizeof(unit_fail_msg), "crit can't decode %s", names[i]);
			return 1;
		}
	}
	return 0;
}

static int test_tree(void)
{
	_cleanup_kids_ struct kids kids = {0};
	struct seized_tree t = {0};
	struct run r;
	pid_t pids[2];
	int ret;

	setup();
	if (make_files()) {
		remove_files();
		CHECK(!"can't create the test files");
	}
	spawn(&kids, child_a);
	if (!WAIT_FOR(shm->ready)) {
		remove_files();
		CHECK(!"child not ready");
	}
	pids[0] = kids.pid[0];
	pids[1] = shm->pid_b;
	ret = seize_tree(pids[0], &t);
	if (!ret)
		ret = run_files(&r, pids, 2, true);
	release_tree(&t);
	shm->stop = 1;
	if (ret || !WAIT_FOR(shm->done)) {
		snprintf(unit_fail_msg, sizeof(unit_fail_msg), "dump: %s, child done: %d", strerror(-ret), shm->done);
		remove_files();
		return 1;
	}
	ret = check_images(&r) || crit_decodes();
	remove_files();
	if (ret)
		return 1;
	CHECK(shm->got_pipe_len == (int)strlen(PIPE_MSG) && !memcmp(shm->got_pipe, PIPE_MSG, strlen(PIPE_MSG)));
	CHECK(shm->got_fifo_len == (int)strlen(FIFO_MSG) && !memcmp(shm->got_fifo, FIFO_MSG, strlen(FIFO_MSG)));
	CHECK(shm->got_w2_queued == (int)strlen(WONLY_MSG));
	return 0;
}

/* ------------------------------------------------------------------------
 * What can't be dumped yet
 */

static void child_lonely(void)
{
	int sp[2];

	switch (shm->mode) {
	case 0:
		socket(AF_PACKET, SOCK_DGRAM, 0);
		(void)sp;
		break;
	case 1:
		fanotify_init(FAN_CLASS_NOTIF, O_RDONLY);
		break;
	case 2:
		open(shm->data, O_RDONLY);
		unlink(shm->data);
		break;
	case 3:
		open("/dev/ptmx", O_RDWR | O_NOCTTY);
		break;
	case 4: /* chrooted: paths from its root */
		close_range(0, ~0U, 0); /* /dev/null would be outside its root */
		if (chroot(shm->dir) || chdir("/") || open("/data", O_RDONLY) != 0)
			_exit(1);
		break;
	case 5: /* SIGIO to itself */
		sp[0] = open(shm->data, O_RDONLY);
		fcntl(sp[0], F_SETOWN, getpid());
		fcntl(sp[0], F_SETSIG, SIGUSR1);
		break;
	}
	shm->ready = 1;
	idle_until_stop();
}

/*
 * Runs the files stage on a child of `mode`; its stderr goes to `err`.
 * With `check`, runs it on the images of a dump that succeeded (*check_ret).
 */
static int run_lonely(int mode, char *err, size_t size, int (*check)(pid_t), int *check_ret)
{
	_cleanup_kids_ struct kids kids = {0};
	struct seized_tree t = {0};
	char path[320];
	struct run r;
	int ret, saved, fd;

	setup();
	if (make_files()) {
		remove_files();
		return -EIO;
	}
	shm->mode = mode;
	spawn(&kids, child_lonely);
	if (!WAIT_FOR(shm->ready)) {
		remove_files();
		return -ETIMEDOUT;
	}
	snprintf(path, sizeof(path), "%s/stderr", shm->dir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	dup2(fd, STDERR_FILENO);
	ret = seize_tree(kids.pid[0], &t);
	if (!ret)
		ret = run_files(&r, kids.pid, 1, false);
	release_tree(&t);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	memset(err, 0, size);
	if (pread(fd, err, size - 1, 0) < 0)
		err[0] = '\0';
	close(fd);
	if (!ret && check)
		*check_ret = check(kids.pid[0]);
	remove_files();
	return ret;
}

static int refused(int mode, char *err, size_t size)
{
	return run_lonely(mode, err, size, NULL, NULL);
}

static int check_chroot(pid_t pid)
{
	_cleanup_entries_ struct entries files = {0}, fdi = {0};

	CHECK(read_image("files.img", IMG_FILES, &files) == 0);
	CHECK(read_image("fdinfo-1.img", IMG_FDINFO, &fdi) == 0);
	CHECK(fdi.n == 1);
	CHECK(!check_reg(file_of_fd(&files, &fdi, 0), "/data", O_RDONLY, 0));
	return 0;
}

static int check_fown(pid_t pid)
{
	_cleanup_entries_ struct entries files = {0}, fdi = {0};
	FileEntry *f;

	CHECK(read_image("files.img", IMG_FILES, &files) == 0);
	CHECK(read_image("fdinfo-1.img", IMG_FDINFO, &fdi) == 0);
	f = file_of_fd(&files, &fdi, 3);
	CHECK(f && f->reg && f->reg->fown);
	CHECK(f->reg->fown->pid == (uint32_t)pid && f->reg->fown->pid_type == F_OWNER_PID);
	CHECK(f->reg->fown->signum == SIGUSR1 && f->reg->fown->euid == geteuid());
	return 0;
}

static int expect_dumped(int mode, int (*check)(pid_t))
{
	char err[1024];
	int check_ret = 1, ret = run_lonely(mode, err, sizeof(err), check, &check_ret);

	if (ret) {
		snprintf(unit_fail_msg, sizeof(unit_fail_msg), "ret %d (%s): %.400s", ret, strerror(-ret), err);
		return 1;
	}
	return check_ret;
}

static int test_chroot(void)
{
	return expect_dumped(4, check_chroot);
}

static int test_fown(void)
{
	return expect_dumped(5, check_fown);
}

static int expect_refused(int mode, const char *what)
{
	char err[1024], want[128];
	int ret = refused(mode, err, sizeof(err));

	snprintf(want, sizeof(want), "fd 3 is a %s", what);
	if (ret != -EOPNOTSUPP || !strstr(err, want)) {
		snprintf(unit_fail_msg, sizeof(unit_fail_msg), "ret %d (%s), expected \"%s\" in: %.300s", ret,
			 strerror(-ret), want, err);
		return 1;
	}
	return 0;
}

static int test_socket(void)
{
	return expect_refused(0, "socket");
}

static int test_fanotify(void)
{
	return expect_refused(1, "fanotify");
}

static int test_deleted(void)
{
	char err[1024];
	int ret = refused(2, err, sizeof(err));

	CHECK(ret == -EOPNOTSUPP);
	CHECK(strstr(err, "fd 3 is the deleted file"));
	return 0;
}

static int test_pty(void)
{
	if (access("/dev/ptmx", R_OK | W_OK)) {
		unit_skip_reason = "no /dev/ptmx";
		return UNIT_SKIP;
	}
	return expect_refused(3, "pty master (/dev/ptmx)");
}

static const struct unit_case cases[] = {
	{"task_dump_files_tree", test_tree},
	{"task_dump_files_socket", test_socket},
	{"task_dump_files_fanotify", test_fanotify},
	{"task_dump_files_deleted", test_deleted},
	{"task_dump_files_pty", test_pty},
	{"task_dump_files_chroot", test_chroot},
	{"task_dump_files_fown", test_fown},
	{},
};

UNIT_MAIN(cases)

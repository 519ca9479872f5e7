/*
 * The IPC namespace: its sysctls (kernel.sem, kernel.msg*, kernel.shm*,
 * the next ids, fs.mqueue.*) into ipcns-var-<id>.img and back. The kernel
 * shows and takes them for the IPC namespace of the task that opens the
 * files, whatever procfs it goes through, so dump reads them in a child
 * that joins the tree's namespace, and restore writes them from the first
 * task of the new one.
 *
 * Its System V objects are ipc-sysv-*.c's; POSIX message queues are not
 * saved yet: a namespace holding any is refused at dump, never silently
 * emptied.
 */
#define LOG_PREFIX "ipc: "

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ipc/ipc-ns.h"
#include "util/log.h"
#include "util/util.h"

/* Where each number lives; `optional` ones may be missing on a kernel. */
static const struct ipc_var_file {
	const char *path;
	size_t off; /* in struct ipc_vars */
	bool wide, optional;
} var_files[] = {
#define V(p, field, w, opt)                                                                                            \
	{                                                                                                              \
		.path = p, .off = offsetof(struct ipc_vars, field), .wide = w, .optional = opt                         \
	}
	V("kernel/msgmax", msgmax, false, false),
	V("kernel/msgmnb", msgmnb, false, false),
	V("kernel/msgmni", msgmni, false, false),
	V("kernel/auto_msgmni", auto_msgmni, false, true),
	V("kernel/shmmax", shmmax, true, false),
	V("kernel/shmall", shmall, true, false),
	V("kernel/shmmni", shmmni, false, false),
	V("kernel/shm_rmid_forced", shm_rmid_forced, false, false),
	V("fs/mqueue/queues_max", mq_queues_max, false, false),
	V("fs/mqueue/msg_max", mq_msg_max, false, false),
	V("fs/mqueue/msgsize_max", mq_msgsize_max, false, false),
	V("fs/mqueue/msg_default", mq_msg_default, false, true),
	V("fs/mqueue/msgsize_default", mq_msgsize_default, false, true),
	V("kernel/msg_next_id", msg_next_id, false, true),
	V("kernel/sem_next_id", sem_next_id, false, true),
	V("kernel/shm_next_id", shm_next_id, false, true),
#undef V
};

int proc_sys_read(const char *rel, char *buf, size_t size)
{
	char path[128];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/sys/%s", rel);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return 0;
}

/* Objects listed in /proc/sysvipc/NAME: its lines but the header. */
static int count_objects(const char *name)
{
	char path[64], line[512];
	int n = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/sysvipc/%s", name);
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? 0 : -errno;
	while (fgets(line, sizeof(line), f))
		if (strchr(line, '\n'))
			n++;
	fclose(f);
	return n < 0 ? 0 : n;
}

int ipc_vars_read(struct ipc_vars *v)
{
	char buf[128];
	int ret;

	memset(v, 0, sizeof(*v));
	/* optional numbers a kernel does not have: "not there" */
	v->mq_msg_default = v->mq_msgsize_default = UINT32_MAX;
	v->msg_next_id = v->sem_next_id = v->shm_next_id = UINT32_MAX;
	ret = proc_sys_read("kernel/sem", buf, sizeof(buf));
	if (ret || sscanf(buf, "%u %u %u %u", &v->sem[0], &v->sem[1], &v->sem[2], &v->sem[3]) != 4)
		return ret ? ret : -EINVAL;
	for (size_t i = 0; i < ARRAY_SIZE(var_files); i++) {
		const struct ipc_var_file *f = &var_files[i];
		char *end;

		ret = proc_sys_read(f->path, buf, sizeof(buf));
		if (ret == -ENOENT && f->optional)
			continue;
		if (ret)
			return ret;
		if (f->wide) {
			*(uint64_t *)((char *)v + f->off) = strtoull(buf, &end, 10);
		} else {
			/* the next ids read -1 until set */
			*(uint32_t *)((char *)v + f->off) = (uint32_t)strtol(buf, &end, 10);
		}
		if (end == buf)
			return -EINVAL;
		v->present |= 1U << i;
	}
	v->nr_shm = count_objects("shm");
	v->nr_sem = count_objects("sem");
	v->nr_msg = count_objects("msg");
	return 0;
}

/*
 * POSIX message queues of the caller's IPC namespace: an mqueue
 * filesystem shows them, mounted in a mount namespace of the caller's own
 * (it is a short-lived child's) so that nothing outside sees it.
 */
static int count_mqueues(void)
{
	struct dirent *de;
	int n = 0;
	DIR *d;

	if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
	    mount("mqueue", "/tmp", "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL))
		return -errno;
	d = opendir("/tmp");
	if (!d)
		return -errno;
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

int ipc_vars_of_task(pid_t pid, struct ipc_vars *v)
{
	char path[64];
	int fds[2], status = -1, err = 0;
	pid_t child;

	snprintf(path, sizeof(path), "/proc/%d/ns/ipc", pid);
	if (pipe2(fds, O_CLOEXEC))
		return -errno;
	child = fork();
	if (child == 0) {
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		int ret = fd < 0 || setns(fd, CLONE_NEWIPC) ? -errno : ipc_vars_read(v);

		if (!ret)
			v->nr_mq = count_mqueues();

		close(fds[0]);
		if (write(fds[1], &ret, sizeof(ret)) != sizeof(ret) || write(fds[1], v, sizeof(*v)) != sizeof(*v))
			_exit(1);
		_exit(0);
	}
	close(fds[1]);
	if (child > 0 && read(fds[0], &err, sizeof(err)) == sizeof(err) && read(fds[0], v, sizeof(*v)) == sizeof(*v))
		status = err;
	close(fds[0]);
	if (child > 0)
		waitpid(child, NULL, 0);
	if (status) {
		pr_err("can't read the IPC namespace settings of task %d: %s\n", pid,
		       strerror(status < 0 && status != -1 ? -status : EIO));
		return status < 0 && status != -1 ? status : -EIO;
	}
	return 0;
}

void ipc_vars_to_entry(const struct ipc_vars *v, IpcVarEntry *e, uint32_t *sem)
{
	memcpy(sem, v->sem, sizeof(v->sem));
	e->n_sem_ctls = 4;
	e->sem_ctls = sem;
	e->msg_ctlmax = v->msgmax;
	e->msg_ctlmnb = v->msgmnb;
	e->msg_ctlmni = v->msgmni;
	e->auto_msgmni = v->auto_msgmni;
	e->shm_ctlmax = v->shmmax;
	e->shm_ctlall = v->shmall;
	e->shm_ctlmni = v->shmmni;
	e->shm_rmid_forced = v->shm_rmid_forced;
	e->mq_queues_max = v->mq_queues_max;
	e->mq_msg_max = v->mq_msg_max;
	e->mq_msgsize_max = v->mq_msgsize_max;
	e->has_mq_msg_default = v->mq_msg_default != UINT32_MAX;
	e->has_mq_msgsize_default = v->mq_msgsize_default != UINT32_MAX;
	e->mq_msg_default = v->mq_msg_default;
	e->mq_msgsize_default = v->mq_msgsize_default;
	/* an id never set reads -1, which can't be written back: left out, as
	 * upstream does (its restore writes any it finds, and fails on -1) */
	e->has_msg_next_id = v->msg_next_id != UINT32_MAX;
	e->has_sem_next_id = v->sem_next_id != UINT32_MAX;
	e->has_shm_next_id = v->shm_next_id != UINT32_MAX;
	e->msg_next_id = v->msg_next_id;
	e->sem_next_id = v->sem_next_id;
	e->shm_next_id = v->shm_next_id;
}

int proc_sys_write(const char *rel, const char *text)
{
	char path[128];
	size_t len = strlen(text);
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/sys/%s", rel);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, text, len);
	close(fd);
	return n == (ssize_t)len ? 0 : n < 0 ? -errno : -EIO;
}

long long ipc_sysctl_read(const char *name)
{
	char rel[64], text[32];

	snprintf(rel, sizeof(rel), "kernel/%s", name);
	return proc_sys_read(rel, text, sizeof(text)) || !text[0] ? -1 : strtoll(text, NULL, 10);
}

int ipc_sysctl_write(const char *name, long long v)
{
	char rel[64], text[32];
	int ret;

	snprintf(rel, sizeof(rel), "kernel/%s", name);
	snprintf(text, sizeof(text), "%lld", v);
	ret = proc_sys_write(rel, text);
	if (ret)
		pr_err("can't set kernel.%s to %s in this IPC namespace: %s\n", name, text, strerror(-ret));
	return ret;
}

int ipc_vars_apply(const IpcVarEntry *e)
{
	const struct {
		const char *path;
		uint64_t val;
		bool has, is_id;
	} tab[] = {
		{"kernel/msgmax", e->msg_ctlmax, true, false},
		{"kernel/msgmnb", e->msg_ctlmnb, true, false},
		{"kernel/msgmni", e->msg_ctlmni, true, false},
		{"kernel/shmmax", e->shm_ctlmax, true, false},
		{"kernel/shmall", e->shm_ctlall, true, false},
		{"kernel/shmmni", e->shm_ctlmni, true, false},
		{"kernel/shm_rmid_forced", e->shm_rmid_forced, true, false},
		{"fs/mqueue/queues_max", e->mq_queues_max, true, false},
		{"fs/mqueue/msg_max", e->mq_msg_max, true, false},
		{"fs/mqueue/msgsize_max", e->mq_msgsize_max, true, false},
		{"fs/mqueue/msg_default", e->mq_msg_default, e->has_mq_msg_default, false},
		{"fs/mqueue/msgsize_default", e->mq_msgsize_default, e->has_mq_msgsize_default, false},
		{"kernel/msg_next_id", e->msg_next_id, e->has_msg_next_id, true},
		{"kernel/sem_next_id", e->sem_next_id, e->has_sem_next_id, true},
		{"kernel/shm_next_id", e->shm_next_id, e->has_shm_next_id, true},
	};
	char buf[96];
	int ret;

	if (e->n_sem_ctls != 4) {
		pr_err("ipcns-var: kernel.sem has %zu numbers, expected 4\n", e->n_sem_ctls);
		return -EINVAL;
	}
	snprintf(buf, sizeof(buf), "%u %u %u %u", e->sem_ctls[0], e->sem_ctls[1], e->sem_ctls[2], e->sem_ctls[3]);
	ret = proc_sys_write("kernel/sem", buf);
	if (ret) {
		pr_err("can't set kernel.sem to %s: %s\n", buf, strerror(-ret));
		return ret;
	}
	for (size_t i = 0; i < ARRAY_SIZE(tab); i++) {
		if (!tab[i].has || (tab[i].is_id && (uint32_t)tab[i].val == UINT32_MAX))
			continue; /* an id never set reads -1: nothing to set */
		if (tab[i].is_id)
			snprintf(buf, sizeof(buf), "%d", (int)(uint32_t)tab[i].val);
		else
			snprintf(buf, sizeof(buf), "%" PRIu64, tab[i].val);
		ret = proc_sys_write(tab[i].path, buf);
		if (ret == -ENOENT && tab[i].is_id)
			continue; /* a kernel without checkpoint/restore ids */
		if (ret) {
			pr_err("can't set %s to %s in the new IPC namespace: %s\n", tab[i].path, buf, strerror(-ret));
			return ret;
		}
	}
	return 0;
}

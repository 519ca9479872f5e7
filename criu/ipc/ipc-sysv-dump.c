/*
 * System V IPC objects, dump (act; see ipc-sysv.h): from inside the tree's
 * IPC namespace, every segment, semaphore set and message queue with its
 * contents into ipcns-{shm,sem,msg}-1.img.
 *
 * Objects are found by index (shmctl/semctl/msgctl *_INFO for the highest
 * index in use, then *_STAT_ANY of each, which gives the id without
 * checking permissions). A segment's bytes are read through its file
 * (/proc/self/map_files of an attachment), so that its holes read as
 * zeros without being allocated. Message queues are read with
 * msgrcv(MSG_COPY): the messages stay in the queue.
 *
 * A segment removed (IPC_RMID) while still attached (a common way to
 * have it go with its last user) is saved with SHM_DEST in its mode.
 *
 * Not saved, as upstream: creator ids (the restorer makes them), times,
 * the last pids, semaphore undo lists.
 */
#define LOG_PREFIX "ipc: "

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <linux/magic.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "util/hashmap.h"
#include "ipc/ipc-ns.h"
#include "ipc/ipc-sysv.h"
#include "util/log.h"
#include "util/util.h"
#include "task/userns.h"

#define PAGE_SZ 4096U

#ifndef SHM_STAT_ANY
#define SHM_STAT_ANY 15
#endif
#ifndef SEM_STAT_ANY
#define SEM_STAT_ANY 20
#endif
#ifndef MSG_STAT_ANY
#define MSG_STAT_ANY 13
#endif
#ifndef MSG_COPY
#define MSG_COPY 040000
#endif

static void fill_desc(IpcDescEntry *d, const struct ipc_perm *p, int id, uint32_t mode_mask)
{
	d->key = (uint32_t)p->__key;
	/* as the tree's user namespace sees them (criu reads the host's) */
	d->uid = userns_uid(p->uid);
	d->gid = userns_gid(p->gid);
	d->cuid = userns_uid(p->cuid);
	d->cgid = userns_gid(p->cgid);
	d->mode = p->mode & mode_mask;
	d->id = (uint32_t)id;
}

static int write_zeros(struct img_writer *w, uint64_t len, char *buf)
{
	int ret = 0;

	memset(buf, 0, SYSV_CHUNK);
	while (!ret && len) {
		size_t n = len < SYSV_CHUNK ? (size_t)len : SYSV_CHUNK;

		ret = img_write_raw(w, buf, n);
		len -= n;
	}
	return ret;
}

/* A segment's bytes, through its file: holes are zeros, never allocated. */
static int dump_shm_bytes(struct img_writer *w, int id, uint64_t size, char *buf)
{
	char path[80];
	uint64_t done = 0;
	void *at = shmat(id, NULL, SHM_RDONLY);
	int fd, ret = 0;

	if (at == (void *)-1) {
		pr_perror("can't attach System V shared memory segment %d to read it", id);
		return -errno;
	}
	snprintf(path, sizeof(path), "/proc/self/map_files/%lx-%lx", (unsigned long)at,
		 (unsigned long)at + (unsigned long)((size + PAGE_SZ - 1) & ~(uint64_t)(PAGE_SZ - 1)));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	shmdt(at);
	if (fd < 0 && errno == ENOENT) {
		/* its mapping is longer than its size in small pages: huge pages */
		pr_err("System V shared memory segment %d is made of huge pages (SHM_HUGETLB): not supported\n", id);
		return -EOPNOTSUPP;
	}
	if (fd < 0) {
		pr_perror("can't open System V shared memory segment %d through %s", id, path);
		return -errno;
	}
	{
		struct statfs sfs;

		if (!fstatfs(fd, &sfs) && sfs.f_type == HUGETLBFS_MAGIC) {
			pr_err("System V shared memory segment %d is made of huge pages (SHM_HUGETLB): not supported\n",
			       id);
			close(fd);
			return -EOPNOTSUPP;
		}
	}
	while (!ret && done < size) {
		size_t want = size - done < SYSV_CHUNK ? (size_t)(size - done) : SYSV_CHUNK;
		ssize_t n = pread(fd, buf, want, (off_t)done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			/* past the file's end (a segment can't shrink, but be sure): zeros */
			ret = n < 0 ? -errno : write_zeros(w, size - done, buf);
			if (n < 0)
				pr_perror("can't read System V shared memory segment %d", id);
			done = size;
			break;
		}
		ret = img_write_raw(w, buf, (size_t)n);
		done += (uint64_t)n;
	}
	close(fd);
	if (!ret && (size & 3))
		ret = img_write_raw(w, (const char[4]){0}, 4 - (size & 3));
	return ret;
}

/* Every object the namespace has was read (*_STAT_ANY is Linux 4.17's)? */
static int check_count(const char *what, int got, int in_use)
{
	if (got == in_use)
		return 0;
	pr_err("the IPC namespace has %d System V %s, criu could read %d of them: a kernel without "
	       "SHM_STAT_ANY/SEM_STAT_ANY/MSG_STAT_ANY (Linux 4.17), or one changing them meanwhile\n",
	       in_use, what, got);
	return -EOPNOTSUPP;
}

static int dump_shm(struct img_writer *(*new_image)(void *, enum img_type), void *ctx, char *buf,
		    struct sysv_seg **segs, size_t *nr)
{
	struct shm_info info;
	struct img_writer *w = NULL;
	int max = shmctl(0, SHM_INFO, (struct shmid_ds *)&info), ret = 0, err, got = 0;
	long long rmid_forced;

	if (max < 0) {
		pr_perror("shmctl(SHM_INFO)");
		return -errno;
	}
	/*
	 * With kernel.shm_rmid_forced, detaching our reading attachment from a
	 * segment nobody else has attached would destroy it: off meanwhile.
	 */
	rmid_forced = ipc_sysctl_read("shm_rmid_forced");
	if (rmid_forced > 0 && ipc_sysctl_write("shm_rmid_forced", 0))
		return -EPERM;
	for (int idx = 0; !ret && idx <= max; idx++) {
		IpcShmEntry e = IPC_SHM_ENTRY__INIT;
		IpcDescEntry d = IPC_DESC_ENTRY__INIT;
		struct shmid_ds ds;
		int id = shmctl(idx, SHM_STAT_ANY, &ds);

		if (id < 0 && errno == EINVAL)
			continue; /* a free index */
		if (id < 0) {
			pr_perror("shmctl(%d, SHM_STAT_ANY)", idx);
			ret = -errno;
			break; /* shm_rmid_forced back as it was, below */
		}
		fill_desc(&d, &ds.shm_perm, id, 0777 | SHM_LOCKED | SHM_DEST);
		e.desc = &d;
		e.size = ds.shm_segsz;
		got++;
		if (!w && !(w = new_image(ctx, IMG_IPCNS_SHM))) {
			ret = -EIO;
			break;
		}
		ret = img_write_entry(w, &e.base);
		if (!ret)
			ret = dump_shm_bytes(w, id, e.size, buf);
		if (!ret) {
			pr_debug("System V shared memory segment %d (key %#x): %" PRIu64 " bytes\n", id, d.key, e.size);
			*segs = xrealloc(*segs, (*nr + 1) * sizeof(**segs));
			(*segs)[(*nr)++] = (struct sysv_seg){.id = (uint64_t)id, .size = e.size};
		}
	}
	if (rmid_forced > 0 && (err = ipc_sysctl_write("shm_rmid_forced", rmid_forced)))
		ret = ret ? ret : err;
	return ret ? ret : check_count("shared memory segments", got, info.used_ids);
}

static int dump_sem(struct img_writer *(*new_image)(void *, enum img_type), void *ctx)
{
	struct seminfo info;
	struct img_writer *w = NULL;
	int max = semctl(0, 0, SEM_INFO, (union semun){.buf = (struct semid_ds *)&info}), ret = 0, got = 0;

	if (max < 0) {
		pr_perror("semctl(SEM_INFO)");
		return -errno;
	}
	for (int idx = 0; !ret && idx <= max; idx++) {
		IpcSemEntry e = IPC_SEM_ENTRY__INIT;
		IpcDescEntry d = IPC_DESC_ENTRY__INIT;
		struct semid_ds ds;
		int id = semctl(idx, 0, SEM_STAT_ANY, (union semun){.buf = &ds});
		_cleanup_free_ unsigned short *vals = NULL;
		size_t len;

		if (id < 0 && errno == EINVAL)
			continue;
		if (id < 0) {
			pr_perror("semctl(%d, SEM_STAT_ANY)", idx);
			return -errno;
		}
		got++;
		len = ((size_t)ds.sem_nsems * 2 + 7) & ~(size_t)7;
		vals = xzalloc(len ? len : 8);
		if (ds.sem_nsems && semctl(id, 0, GETALL, (union semun){.array = vals}) < 0) {
			pr_perror("semctl(%d, GETALL)", id);
			return -errno;
		}
		fill_desc(&d, &ds.sem_perm, id, 0777);
		e.desc = &d;
		e.nsems = (uint32_t)ds.sem_nsems;
		if (!w && !(w = new_image(ctx, IMG_IPCNS_SEM)))
			return -EIO;
		ret = img_write_entry(w, &e.base);
		if (!ret)
			ret = img_write_raw(w, vals, len);
	}
	return ret ? ret : check_count("semaphore sets", got, info.semusz);
}

/*
 * One queue's messages, oldest first, left in the queue (MSG_COPY), each
 * at most `cap` bytes (the kernel copies no more than kernel.msgmax, which
 * the caller made at least that).
 */
static int dump_msgs(struct img_writer *w, int id, uint32_t qnum, size_t cap)
{
	_cleanup_free_ char *buf = xmalloc(sizeof(long) + cap + 8);
	int ret = 0;

	for (uint32_t i = 0; !ret && i < qnum; i++) {
		IpcMsg m = IPC_MSG__INIT;
		ssize_t n = msgrcv(id, buf, cap, (long)i, IPC_NOWAIT | MSG_COPY);
		uint8_t head[4 + 32];
		size_t plen, text;

		if (n < 0) {
			pr_perror("can't read message %u of System V message queue %d (msgrcv MSG_COPY)", i, id);
			return -errno;
		}
		m.mtype = (uint64_t) * (long *)buf;
		m.msize = (uint32_t)n;
		plen = ipc_msg__get_packed_size(&m);
		ipc_msg__pack(&m, head + 4);
		put_le32(head, (uint32_t)plen);
		ret = img_write_raw(w, head, 4 + plen);
		text = ((size_t)n + 7) & ~(size_t)7;
		memset(buf + sizeof(long) + n, 0, text - (size_t)n);
		if (!ret)
			ret = img_write_raw(w, buf + sizeof(long), text);
	}
	return ret;
}

static int dump_msg(struct img_writer *(*new_image)(void *, enum img_type), void *ctx)
{
	struct msginfo info;
	struct img_writer *w = NULL;
	int max = msgctl(0, MSG_INFO, (struct msqid_ds *)&info), ret = 0, got = 0, in_use;
	size_t msgmax, raised, need;

	if (max < 0) {
		pr_perror("msgctl(MSG_INFO)");
		return -errno;
	}
	in_use = info.msgpool; /* MSG_INFO's: the queues there are */
	if (msgctl(0, IPC_INFO, (struct msqid_ds *)&info) < 0) {
		pr_perror("msgctl(IPC_INFO)");
		return -errno;
	}
	msgmax = info.msgmax > 0 ? (size_t)info.msgmax : 8192;
	raised = msgmax;
	for (int idx = 0; !ret && idx <= max; idx++) {
		IpcMsgEntry e = IPC_MSG_ENTRY__INIT;
		IpcDescEntry d = IPC_DESC_ENTRY__INIT;
		struct msqid_ds ds;
		int id = msgctl(idx, MSG_STAT_ANY, &ds);

		if (id < 0 && errno == EINVAL)
			continue;
		if (id < 0) {
			pr_perror("msgctl(%d, MSG_STAT_ANY)", idx);
			ret = -errno;
			break; /* msgmax back as it was, below */
		}
		got++;
		fill_desc(&d, &ds.msg_perm, id, 0777);
		e.desc = &d;
		e.qbytes = (uint32_t)ds.msg_qbytes;
		e.qnum = (uint32_t)ds.msg_qnum;
		if (!w && !(w = new_image(ctx, IMG_IPCNS_MSG))) {
			ret = -EIO;
			break;
		}
		/*
		 * A message may be larger than kernel.msgmax is now (lowered
		 * since it was sent), never than the bytes in its queue; MSG_COPY
		 * copies no more than msgmax: raised meanwhile.
		 */
		need = (size_t)ds.__msg_cbytes > msgmax ? (size_t)ds.__msg_cbytes : msgmax;
		if (need > raised) {
			ret = ipc_sysctl_write("msgmax", (long long)need);
			if (ret)
				break;
			raised = need;
		}
		ret = img_write_entry(w, &e.base);
		if (!ret)
			ret = dump_msgs(w, id, e.qnum, need);
		if (!ret)
			pr_debug("System V message queue %d (key %#x): %u messages\n", id, d.key, e.qnum);
	}
	if (raised > msgmax) {
		int err = ipc_sysctl_write("msgmax", (long long)msgmax);

		ret = ret ? ret : err;
	}
	return ret ? ret : check_count("message queues", got, in_use);
}

int sysv_dump(pid_t pid, struct img_writer *(*new_image)(void *ctx, enum img_type type), void *ctx,
	      struct sysv_seg **segs, size_t *nr)
{
	_cleanup_close_ int self = open("/proc/thread-self/ns/ipc", O_RDONLY | O_CLOEXEC);
	_cleanup_free_ char *buf = xmalloc(SYSV_CHUNK);
	char path[64];
	int fd, ret;

	snprintf(path, sizeof(path), "/proc/%d/ns/ipc", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (self < 0 || fd < 0 || setns(fd, CLONE_NEWIPC)) {
		ret = -errno;
		pr_perror("can't enter the IPC namespace of task %d", pid);
		if (fd >= 0)
			close(fd);
		return ret;
	}
	close(fd);
	ret = dump_shm(new_image, ctx, buf, segs, nr);
	if (!ret)
		ret = dump_sem(new_image, ctx);
	if (!ret)
		ret = dump_msg(new_image, ctx);
	if (setns(self, CLONE_NEWIPC)) {
		pr_perror("can't go back to criu's own IPC namespace");
		return -errno;
	}
	return ret;
}

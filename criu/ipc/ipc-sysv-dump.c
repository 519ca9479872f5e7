/*
 * System V IPC objects: see ipc-sysv.h.
 *
 * Objects are found by index (shmctl/semctl/msgctl *_INFO for the highest
 * index in use, then *_STAT_ANY of each, which gives the id without
 * checking permissions). A segment's bytes are read through its file
 * (/proc/self/map_files of an attachment), so that its holes read as
 * zeros without being allocated, and its restored copy skips whole zero
 * pages so that it stays as sparse. Message queues are read with
 * msgrcv(MSG_COPY): the messages stay in the queue.
 *
 * A segment removed (IPC_RMID) while still attached (a common way to
 * have it go with its last user) is saved with SHM_DEST in its mode; it
 * is made again like any other, attached by the restored tasks, then
 * removed again (sysv_remove_destroyed, injected in a restored task once
 * every address space is back), so it goes when they detach.
 *
 * Not restored, as upstream: creator ids (the restorer made them),
 * times, the last pids, semaphore undo lists.
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
#include "ptrace/inject.h"
#include "ipc/ipc-ns.h"
#include "ipc/ipc-sysv.h"
#include "util/log.h"
#include "task/rtree.h"
#include "util/util.h"

#define SYSV_CHUNK   (1U << 20)
#define SYSV_MAX_OBJ 32768 /* IPCMNI: more are not possible in one namespace */
#define PAGE_SZ	     4096U

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

union semun {
	int val;
	struct semid_ds *buf;
	unsigned short *array;
};

static void fill_desc(IpcDescEntry *d, const struct ipc_perm *p, int id, uint32_t mode_mask)
{
	d->key = (uint32_t)p->__key;
	d->uid = p->uid;
	d->gid = p->gid;
	d->cuid = p->cuid;
	d->cgid = p->cgid;
	d->mode = p->mode & mode_mask;
	d->id = (uint32_t)id;
}

static int write_sysctl(const char *name, long long v)
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

static long long read_sysctl(const char *name)
{
	char rel[64], text[32];

	snprintf(rel, sizeof(rel), "kernel/%s", name);
	return proc_sys_read(rel, text, sizeof(text)) || !text[0] ? -1 : strtoll(text, NULL, 10);
}

/* ------------------------------------------------------------------------
 * Dump (act), in the tree's IPC namespace
 */

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
	rmid_forced = read_sysctl("shm_rmid_forced");
	if (rmid_forced > 0 && write_sysctl("shm_rmid_forced", 0))
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
	if (rmid_forced > 0 && (err = write_sysctl("shm_rmid_forced", rmid_forced)))
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
			ret = write_sysctl("msgmax", (long long)need);
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
		int err = write_sysctl("msgmax", (long long)msgmax);

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

/* ------------------------------------------------------------------------
 * Restore: parse
 */

/* Each entry, with where its payload is: in memory (payload), or for a
 * payload_in_file type (segments' bytes) in the file (payload_off). */
static int read_image(int dirfd, enum img_type type, struct img_reader *r, ProtobufCMessage ***v,
		      const uint8_t ***payload, uint64_t **payload_off, size_t *nr)
{
	char name[64];
	ProtobufCMessage *m;
	int ret;

	snprintf(name, sizeof(name), img_desc(type)->name_fmt, 1);
	if (faccessat(dirfd, name, F_OK, 0))
		return 0;
	ret = img_reader_open(r, dirfd, name, type);
	while (!ret && (ret = img_read_entry(r, &m)) > 0) {
		if (*nr == SYSV_MAX_OBJ) {
			pr_err("%s: more than %u objects\n", name, SYSV_MAX_OBJ);
			protobuf_c_message_free_unpacked(m, NULL);
			return -EINVAL;
		}
		*v = xrealloc(*v, (*nr + 1) * sizeof(**v));
		if (payload) {
			*payload = xrealloc(*payload, (*nr + 1) * sizeof(**payload));
			(*payload)[*nr] = r->payload;
		}
		if (payload_off) {
			*payload_off = xrealloc(*payload_off, (*nr + 1) * sizeof(**payload_off));
			(*payload_off)[*nr] = r->payload_off;
		}
		(*v)[(*nr)++] = m;
		ret = 0;
	}
	return ret < 0 ? ret : 0;
}

/* Ids once each, keys (but IPC_PRIVATE) once each, per kind; modes. */
static int check_descs(const char *what, IpcDescEntry *const *d, size_t n, uint32_t modes)
{
	struct hmap ids, keys;
	int ret = 0;

	hmap_init(&ids);
	hmap_init(&keys);
	for (size_t i = 0; !ret && i < n; i++) {
		if (d[i]->id > INT32_MAX || (d[i]->mode & ~modes) ||
		    ((d[i]->mode & SHM_DEST) && d[i]->key != IPC_PRIVATE)) {
			pr_err("%s: object %zu has id %u, mode %#o\n", what, i, d[i]->id, d[i]->mode);
			ret = -EINVAL;
		} else if (hmap_get_int(&ids, d[i]->id)) {
			pr_err("%s: id %u appears twice\n", what, d[i]->id);
			ret = -EINVAL;
		} else if (d[i]->key != IPC_PRIVATE && hmap_get_int(&keys, d[i]->key)) {
			pr_err("%s: key %#x appears twice\n", what, d[i]->key);
			ret = -EINVAL;
		} else {
			hmap_put_int(&ids, d[i]->id, (void *)1);
			if (d[i]->key != IPC_PRIVATE)
				hmap_put_int(&keys, d[i]->key, (void *)1);
		}
	}
	hmap_free(&ids);
	hmap_free(&keys);
	return ret;
}

/* Each message of a queue a real type (the framing was checked as read). */
static int check_msgs(const IpcMsgEntry *e, const uint8_t *p)
{
	for (uint32_t i = 0; i < e->qnum; i++) {
		uint32_t len = get_le32(p);
		IpcMsg *m = ipc_msg__unpack(NULL, len, p + 4);
		bool bad = !m || m->mtype < 1 || m->mtype > LONG_MAX;

		if (bad)
			pr_err("ipcns-msg-1.img: queue %u: message %u has type %" PRIu64 " (1 or more expected)\n",
			       e->desc->id, i, m ? m->mtype : 0);
		p += 4 + len + (m ? (((uint64_t)m->msize + 7) & ~7ULL) : 0);
		if (m)
			ipc_msg__free_unpacked(m, NULL);
		if (bad)
			return -EINVAL;
	}
	return 0;
}

int sysv_read(int dirfd, struct sysv_objs *o)
{
	_cleanup_free_ IpcDescEntry **d = NULL;
	size_t n;
	int ret;

	memset(o, 0, sizeof(*o));
	o->shm_r.fd = o->sem_r.fd = o->msg_r.fd = -1;
	ret = read_image(dirfd, IMG_IPCNS_SHM, &o->shm_r, (ProtobufCMessage ***)&o->shm, NULL, &o->shm_off,
			 &o->nr_shm);
	if (!ret)
		ret = read_image(dirfd, IMG_IPCNS_SEM, &o->sem_r, (ProtobufCMessage ***)&o->sem, &o->sem_vals, NULL,
				 &o->nr_sem);
	if (!ret)
		ret = read_image(dirfd, IMG_IPCNS_MSG, &o->msg_r, (ProtobufCMessage ***)&o->msg, &o->msg_data, NULL,
				 &o->nr_msg);
	if (ret)
		return ret;
	n = o->nr_shm > o->nr_sem ? o->nr_shm : o->nr_sem;
	d = xzalloc((n > o->nr_msg ? n : o->nr_msg) * sizeof(*d) + 1);
	for (size_t i = 0; i < o->nr_shm; i++) {
		if (o->shm[i]->has_in_pagemaps && o->shm[i]->in_pagemaps) {
			pr_err("ipcns-shm-1.img: segment %u keeps its bytes in pagemaps; only inline bytes are read\n",
			       o->shm[i]->desc->id);
			return -EOPNOTSUPP;
		}
		if (o->shm[i]->size > SIZE_MAX / 2) {
			pr_err("ipcns-shm-1.img: segment %u has a size of %" PRIu64 " bytes\n", o->shm[i]->desc->id,
			       o->shm[i]->size);
			return -EINVAL;
		}
		if (o->shm[i]->has_hugetlb_flag && o->shm[i]->hugetlb_flag) {
			pr_err("ipcns-shm-1.img: segment %u is a hugetlb one: not supported\n", o->shm[i]->desc->id);
			return -EOPNOTSUPP;
		}
		d[i] = o->shm[i]->desc;
	}
	ret = check_descs("ipcns-shm-1.img", d, o->nr_shm, 0777U | SHM_LOCKED | SHM_DEST);
	for (size_t i = 0; !ret && i < o->nr_shm; i++)
		hmap_put_int(&o->shm_by_id, o->shm[i]->desc->id, o->shm[i]);
	for (size_t i = 0; !ret && i < o->nr_sem; i++) {
		if (o->sem[i]->nsems > 65535) {
			pr_err("ipcns-sem-1.img: set %u has %u semaphores\n", o->sem[i]->desc->id, o->sem[i]->nsems);
			return -EINVAL;
		}
		d[i] = o->sem[i]->desc;
	}
	if (!ret)
		ret = check_descs("ipcns-sem-1.img", d, o->nr_sem, 0777U);
	for (size_t i = 0; !ret && i < o->nr_msg; i++)
		d[i] = o->msg[i]->desc;
	if (!ret)
		ret = check_descs("ipcns-msg-1.img", d, o->nr_msg, 0777U);
	for (size_t i = 0; !ret && i < o->nr_msg; i++)
		ret = check_msgs(o->msg[i], o->msg_data[i]);
	return ret;
}

const IpcShmEntry *sysv_shm(const struct sysv_objs *o, uint64_t id)
{
	return hmap_get_int(&o->shm_by_id, id);
}

void sysv_free(struct sysv_objs *o)
{
	hmap_free(&o->shm_by_id);
	for (size_t i = 0; i < o->nr_shm; i++)
		protobuf_c_message_free_unpacked(&o->shm[i]->base, NULL);
	for (size_t i = 0; i < o->nr_sem; i++)
		protobuf_c_message_free_unpacked(&o->sem[i]->base, NULL);
	for (size_t i = 0; i < o->nr_msg; i++)
		protobuf_c_message_free_unpacked(&o->msg[i]->base, NULL);
	free(o->shm);
	free(o->shm_off);
	free(o->sem);
	free(o->sem_vals);
	free(o->msg);
	free(o->msg_data);
	img_reader_close(&o->shm_r);
	img_reader_close(&o->sem_r);
	img_reader_close(&o->msg_r);
	memset(o, 0, sizeof(*o));
	o->shm_r.fd = o->sem_r.fd = o->msg_r.fd = -1;
}

/* ------------------------------------------------------------------------
 * Restore: act, in the new IPC namespace
 */

/* The next object of a kind gets `id`; then did it? */
static int made_as(const char *kind, int got, uint32_t want)
{
	if (got < 0) {
		pr_perror("can't make System V %s %u", kind, want);
		return -errno;
	}
	if ((uint32_t)got != want) {
		pr_err("System V %s %u came back as %d (a kernel without kernel.*_next_id?)\n", kind, want, got);
		return -EEXIST;
	}
	return 0;
}

static bool zero_page(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/*
 * Makes segment e and fills it from the image (fd, its bytes at off), a
 * buffer at a time: criu holds SYSV_CHUNK bytes of it, never the whole
 * segment. Whole zero pages are left out: the segment stays as sparse.
 */
static int create_shm(const IpcShmEntry *e, int fd, uint64_t off, uint8_t *buf)
{
	const IpcDescEntry *d = e->desc;
	struct shmid_ds ds;
	uint8_t *at;
	int id, ret = write_sysctl("shm_next_id", d->id);

	if (ret)
		return ret;
	id = shmget((key_t)d->key, (size_t)e->size, (int)(d->mode & 0777) | IPC_CREAT | IPC_EXCL);
	ret = made_as("shared memory segment", id, d->id);
	if (ret)
		return ret;
	at = shmat(id, NULL, 0);
	if (at == (void *)-1) {
		pr_perror("can't attach System V shared memory segment %d to fill it", id);
		return -errno;
	}
	for (uint64_t done = 0; !ret && done < e->size;) {
		size_t n = e->size - done < SYSV_CHUNK ? (size_t)(e->size - done) : SYSV_CHUNK;
		off_t data = lseek(fd, (off_t)(off + done), SEEK_DATA);

		/* a hole in the image (a sparse copy of it) is zeros: nothing to read */
		if ((data < 0 && errno == ENXIO) || (data >= 0 && (uint64_t)data >= off + done + n)) {
			done += n;
			continue;
		}
		ret = pread_full(fd, buf, n, off + done);
		if (ret) {
			pr_err("ipcns-shm-1.img: can't read segment %u's bytes at offset %" PRIu64 ": %s\n", d->id,
			       off + done, strerror(-ret));
			break;
		}
		for (size_t p = 0; p < n; p += PAGE_SZ) {
			size_t k = n - p < PAGE_SZ ? n - p : PAGE_SZ;

			if (!zero_page(buf + p, k))
				memcpy(at + done + p, buf + p, k);
		}
		done += n;
	}
	shmdt(at);
	if (ret)
		return ret;
	memset(&ds, 0, sizeof(ds));
	ds.shm_perm.uid = d->uid;
	ds.shm_perm.gid = d->gid;
	ds.shm_perm.mode = (unsigned short)(d->mode & 0777);
	if (shmctl(id, IPC_SET, &ds) || ((d->mode & SHM_LOCKED) && shmctl(id, SHM_LOCK, NULL))) {
		pr_perror("can't set the owner, mode or lock of System V shared memory segment %d", id);
		return -errno;
	}
	return 0;
}

static int create_sem(const IpcSemEntry *e, const uint8_t *vals)
{
	const IpcDescEntry *d = e->desc;
	_cleanup_free_ unsigned short *v = xzalloc(((size_t)e->nsems + 1) * sizeof(*v));
	struct semid_ds ds;
	int id, ret = write_sysctl("sem_next_id", d->id);

	if (ret)
		return ret;
	id = semget((key_t)d->key, (int)e->nsems, (int)(d->mode & 0777) | IPC_CREAT | IPC_EXCL);
	ret = made_as("semaphore set", id, d->id);
	if (ret)
		return ret;
	memcpy(v, vals, (size_t)e->nsems * sizeof(*v));
	if (e->nsems && semctl(id, 0, SETALL, (union semun){.array = v})) {
		pr_perror("can't set the values of System V semaphore set %d", id);
		return -errno;
	}
	memset(&ds, 0, sizeof(ds));
	ds.sem_perm.uid = d->uid;
	ds.sem_perm.gid = d->gid;
	ds.sem_perm.mode = (unsigned short)(d->mode & 0777);
	if (semctl(id, 0, IPC_SET, (union semun){.buf = &ds})) {
		pr_perror("can't set the owner and mode of System V semaphore set %d", id);
		return -errno;
	}
	return 0;
}

/*
 * A queue gets kernel.msgmnb as its size: the namespace's is raised to the
 * dumped one meanwhile (setting a size above it later would need
 * CAP_SYS_RESOURCE), and put back after.
 */
static int create_msg(const IpcMsgEntry *e, const uint8_t *p)
{
	const IpcDescEntry *d = e->desc;
	long long mnb = read_sysctl("msgmnb");
	struct msqid_ds ds;
	int id, ret = write_sysctl("msg_next_id", d->id);
	bool raised = false;
	char *buf = NULL;

	if (!ret && mnb >= 0 && e->qbytes > mnb) {
		ret = write_sysctl("msgmnb", e->qbytes);
		raised = !ret;
	}
	if (ret)
		return ret;
	id = msgget((key_t)d->key, (int)(d->mode & 0777) | IPC_CREAT | IPC_EXCL);
	ret = made_as("message queue", id, d->id);
	for (uint32_t i = 0; !ret && i < e->qnum; i++) {
		uint32_t len = get_le32(p);
		IpcMsg *m = ipc_msg__unpack(NULL, len, p + 4); /* checked at read */

		if (!m) {
			ret = -ENOMEM;
			break;
		}
		p += 4 + len;
		buf = xrealloc(buf, sizeof(long) + m->msize + 1);
		*(long *)buf = (long)m->mtype;
		memcpy(buf + sizeof(long), p, m->msize);
		if (msgsnd(id, buf, m->msize, IPC_NOWAIT)) {
			ret = -errno;
			pr_perror("can't queue message %u (%u bytes) in System V message queue %d", i, m->msize, id);
		}
		p += ((uint64_t)m->msize + 7) & ~7ULL;
		ipc_msg__free_unpacked(m, NULL);
	}
	free(buf);
	if (!ret) {
		memset(&ds, 0, sizeof(ds));
		ds.msg_perm.uid = d->uid;
		ds.msg_perm.gid = d->gid;
		ds.msg_perm.mode = (unsigned short)(d->mode & 0777);
		ds.msg_qbytes = e->qbytes;
		if (msgctl(id, IPC_SET, &ds)) {
			ret = -errno;
			pr_perror("can't set the owner, mode and size of System V message queue %d", id);
		}
	}
	if (raised) {
		int err = write_sysctl("msgmnb", mnb);

		ret = ret ? ret : err;
	}
	return ret;
}

int sysv_remove_destroyed(const struct sysv_objs *o, struct seized_thread *st)
{
	int ret = 0;

	for (size_t i = 0; !ret && i < o->nr_shm; i++)
		if (o->shm[i]->desc->mode & SHM_DEST)
			ret = inject_call(st, "shmctl(IPC_RMID)", __NR_shmctl, (long)o->shm[i]->desc->id, IPC_RMID, 0, 0, 0, 0,
				   NULL);
	return ret;
}

/*
 * The namespace's limits as high as they go while the objects are made:
 * the dumped ones (applied before, applied again after) may be below what
 * its objects already used (a limit lowered once they were made), and
 * kernel.shm_rmid_forced would destroy a segment as the filling
 * attachment goes.
 */
static int raise_limits(const struct sysv_objs *o)
{
	long long msgmax = read_sysctl("msgmax"), biggest = 0;
	int ret;

	for (size_t i = 0; i < o->nr_msg; i++) {
		const uint8_t *p = o->msg_data[i];

		for (uint32_t k = 0; k < o->msg[i]->qnum; k++) {
			uint32_t len = get_le32(p);
			IpcMsg *m = ipc_msg__unpack(NULL, len, p + 4);

			if (!m)
				return -ENOMEM;
			if (m->msize > biggest)
				biggest = m->msize;
			p += 4 + len + (((uint64_t)m->msize + 7) & ~7ULL);
			ipc_msg__free_unpacked(m, NULL);
		}
	}
	ret = write_sysctl("shm_rmid_forced", 0);
	if (!ret)
		ret = write_sysctl("shmmax", (long long)(~0ULL >> 1));
	if (!ret)
		ret = write_sysctl("shmall", (long long)(~0ULL >> 1));
	if (!ret)
		ret = write_sysctl("shmmni", SYSV_MAX_OBJ);
	if (!ret)
		ret = write_sysctl("msgmni", SYSV_MAX_OBJ);
	if (!ret && biggest > msgmax)
		ret = write_sysctl("msgmax", biggest);
	if (!ret) {
		static const char sem[] = "65536 2147483647 500 32768";

		ret = proc_sys_write("kernel/sem", sem);
		if (ret)
			pr_err("can't raise kernel.sem to %s in the new IPC namespace: %s\n", sem, strerror(-ret));
	}
	return ret;
}

int sysv_create(const struct sysv_objs *o)
{
	int ret = 0;

	if (o->nr_shm || o->nr_sem || o->nr_msg)
		ret = raise_limits(o);
	if (o->nr_shm) {
		uint8_t *buf = xmalloc(SYSV_CHUNK);

		for (size_t i = 0; !ret && i < o->nr_shm; i++)
			ret = create_shm(o->shm[i], o->shm_r.fd, o->shm_off[i], buf);
		free(buf);
	}
	for (size_t i = 0; !ret && i < o->nr_sem; i++)
		ret = create_sem(o->sem[i], o->sem_vals[i]);
	for (size_t i = 0; !ret && i < o->nr_msg; i++)
		ret = create_msg(o->msg[i], o->msg_data[i]);
	if (!ret && (o->nr_shm || o->nr_sem || o->nr_msg))
		pr_info("made %zu System V shared memory segments, %zu semaphore sets, %zu message queues\n", o->nr_shm,
			o->nr_sem, o->nr_msg);
	return ret;
}

/*
 * System V IPC objects, restore (act; see ipc-sysv.h): in the new IPC
 * namespace, each object made again with its dumped id (kernel.*_next_id
 * set before each) and filled. A segment's restored copy skips whole zero
 * pages, so that it stays as sparse as it was. A segment dumped removed
 * but attached is made like any other, attached by the restored tasks,
 * then removed again (sysv_remove_destroyed(), injected in a restored task
 * once every address space is back), so it goes when they detach.
 */
#define LOG_PREFIX "ipc: "

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ipc/ipc-ns.h"
#include "ipc/ipc-sysv.h"
#include "ptrace/inject.h"
#include "util/log.h"
#include "util/util.h"

#define PAGE_SZ 4096U

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
	int id, ret = ipc_sysctl_write("shm_next_id", d->id);

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
	int id, ret = ipc_sysctl_write("sem_next_id", d->id);

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
	long long mnb = ipc_sysctl_read("msgmnb");
	struct msqid_ds ds;
	int id, ret = ipc_sysctl_write("msg_next_id", d->id);
	bool raised = false;
	char *buf = NULL;

	if (!ret && mnb >= 0 && e->qbytes > mnb) {
		ret = ipc_sysctl_write("msgmnb", e->qbytes);
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
		int err = ipc_sysctl_write("msgmnb", mnb);

		ret = ret ? ret : err;
	}
	return ret;
}

int sysv_remove_destroyed(const struct sysv_objs *o, struct seized_thread *st)
{
	int ret = 0;

	for (size_t i = 0; !ret && i < o->nr_shm; i++)
		if (o->shm[i]->desc->mode & SHM_DEST)
			ret = inject_call(st, "shmctl(IPC_RMID)", __NR_shmctl, (long)o->shm[i]->desc->id, IPC_RMID, 0,
					  0, 0, 0, NULL);
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
	long long msgmax = ipc_sysctl_read("msgmax"), biggest = 0;
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
	ret = ipc_sysctl_write("shm_rmid_forced", 0);
	if (!ret)
		ret = ipc_sysctl_write("shmmax", (long long)(~0ULL >> 1));
	if (!ret)
		ret = ipc_sysctl_write("shmall", (long long)(~0ULL >> 1));
	if (!ret)
		ret = ipc_sysctl_write("shmmni", SYSV_MAX_OBJ);
	if (!ret)
		ret = ipc_sysctl_write("msgmni", SYSV_MAX_OBJ);
	if (!ret && biggest > msgmax)
		ret = ipc_sysctl_write("msgmax", biggest);
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

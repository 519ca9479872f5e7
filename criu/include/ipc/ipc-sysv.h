/*
 * System V IPC objects of an IPC namespace: shared memory segments,
 * semaphore sets and message queues.
 *
 * dump (act, ipc-sysv-dump.c): from inside the tree's namespace, every object with its id,
 * key, owner and mode, and its contents (a segment's bytes, a set's
 * values, a queue's messages, read with MSG_COPY so the queue stays as it
 * is) into ipcns-shm-1.img, ipcns-sem-1.img and ipcns-msg-1.img.
 *
 * restore: the images read and checked before anything is made (parse,
 * ipc-sysv-image.c), then, in the new namespace, each object made again
 * with its dumped id (kernel.{shm,sem,msg}_next_id) and filled (act,
 * ipc-sysv-restore.c).
 */
#ifndef CRIU_IPC_SYSV_H
#define CRIU_IPC_SYSV_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/hashmap.h"
#include "image/image.h"
#include "ipc-msg.pb-c.h"
#include "ipc-sem.pb-c.h"
#include "ipc-shm.pb-c.h"

/* Bytes of a segment criu holds at once, dumping or restoring it. */
#define SYSV_CHUNK (1U << 20)
/* IPCMNI: more objects of a kind are not possible in one namespace. */
#define SYSV_MAX_OBJ 32768

/* semctl(2)'s fourth argument, which the caller must define. */
union semun {
	int val;
	struct semid_ds *buf;
	unsigned short *array;
};

/* A segment as dumped: its id and size. */
struct sysv_seg {
	uint64_t id, size;
};

/* Writes the images of the System V objects of task pid's IPC namespace
 * (the caller knows it is not criu's own). new_image opens a pending image;
 * *segs (*nr, owned by the caller) gets the segments written. 0 or -errno,
 * printed. */
int sysv_dump(pid_t pid, struct img_writer *(*new_image)(void *ctx, enum img_type type), void *ctx,
	      struct sysv_seg **segs, size_t *nr);

struct sysv_objs {
	struct img_reader shm_r, sem_r, msg_r; /* own the entries' payloads */
	IpcShmEntry **shm;
	uint64_t *shm_off; /* where each segment's bytes are in shm_r's file */
	size_t nr_shm;
	struct hmap shm_by_id; /* desc->id -> IpcShmEntry * */
	IpcSemEntry **sem;
	const uint8_t **sem_vals;
	size_t nr_sem;
	IpcMsgEntry **msg;
	const uint8_t **msg_data; /* each queue's messages, as in the image */
	size_t nr_msg;
};

/* Reads and checks whichever of the three images dirfd holds. 0 or -errno, printed. */
int sysv_read(int dirfd, unsigned id, struct sysv_objs *o);
/* Makes every object in the caller's IPC namespace (a new, empty one). */
int sysv_create(const struct sysv_objs *o);
struct seized_thread;
/* Removes again (IPC_RMID, injected through st, a task of the new
 * namespace) the segments dumped removed but attached; after every
 * address space is restored. */
int sysv_remove_destroyed(const struct sysv_objs *o, struct seized_thread *st);
/* The segment ipcns-shm-1.img has with id `id`, or NULL. */
const IpcShmEntry *sysv_shm(const struct sysv_objs *o, uint64_t id);
void sysv_free(struct sysv_objs *o);

#endif

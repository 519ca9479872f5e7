/*
 * System V IPC objects, restore (parse; see ipc-sysv.h): ipcns-shm-1.img,
 * ipcns-sem-1.img and ipcns-msg-1.img read and checked (unique ids and
 * keys, modes, each queue's messages) before anything is made. A
 * segment's bytes stay in its image until ipc-sysv-restore.c copies them.
 */
#define LOG_PREFIX "ipc: "

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>

#include "ipc/ipc-sysv.h"
#include "util/hashmap.h"
#include "util/log.h"
#include "util/util.h"

/* Each entry, with where its payload is: in memory (payload), or for a
 * payload_in_file type (segments' bytes) in the file (payload_off). */
static int read_image(int dirfd, unsigned id, enum img_type type, struct img_reader *r, ProtobufCMessage ***v,
		      const uint8_t ***payload, uint64_t **payload_off, size_t *nr)
{
	char name[64];
	ProtobufCMessage *m;
	int ret;

	snprintf(name, sizeof(name), img_desc(type)->name_fmt, id);
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

int sysv_read(int dirfd, unsigned id, struct sysv_objs *o)
{
	_cleanup_free_ IpcDescEntry **d = NULL;
	size_t n;
	int ret;

	memset(o, 0, sizeof(*o));
	o->shm_r.fd = o->sem_r.fd = o->msg_r.fd = -1;
	ret = read_image(dirfd, id, IMG_IPCNS_SHM, &o->shm_r, (ProtobufCMessage ***)&o->shm, NULL, &o->shm_off, &o->nr_shm);
	if (!ret)
		ret = read_image(dirfd, id, IMG_IPCNS_SEM, &o->sem_r, (ProtobufCMessage ***)&o->sem, &o->sem_vals, NULL,
				 &o->nr_sem);
	if (!ret)
		ret = read_image(dirfd, id, IMG_IPCNS_MSG, &o->msg_r, (ProtobufCMessage ***)&o->msg, &o->msg_data, NULL,
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

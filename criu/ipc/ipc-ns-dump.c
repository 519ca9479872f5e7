/*
 * The IPC namespace at dump (ipcns_dump, a stage of cr_dump): when the
 * tree's root has one of its own, its sysctls (ipc/ipc-ns.c) into
 * ipcns-var-1.img and its System V objects (ipc-sysv-dump.c), each
 * segment a process of the tree has attached checked to be one of them.
 * Above both, so that neither depends on the other's dump.
 */
#define LOG_PREFIX "ipc: "

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dump.h"
#include "ipc/ipc-ns.h"
#include "ipc/ipc-sysv.h"
#include "util/hashmap.h"
#include "util/log.h"

static struct img_writer *new_ipc_image(void *ctx, enum img_type type)
{
	return img_set_new(&((struct dump_ctx *)ctx)->imgs, type, 1);
}

/*
 * The settings of the task's IPC namespace, when it has its own, and its
 * System V objects (ipc-sysv-dump.c); one holding POSIX message queues is
 * refused, as they are not saved yet.
 */
int ipcns_dump(struct dump_ctx *d)
{
	IpcVarEntry e = IPC_VAR_ENTRY__INIT;
	struct img_writer *w;
	struct sysv_seg *segs = NULL;
	size_t nr_segs = 0;
	struct hmap by_id;
	struct ipc_vars v;
	struct stat a, b;
	char path[64];
	uint32_t sem[4];
	int ret;

	snprintf(path, sizeof(path), "/proc/%d/ns/ipc", d->pid);
	if (stat(path, &a) || stat("/proc/self/ns/ipc", &b) || a.st_ino == b.st_ino)
		return 0; /* ours: restore gives the tree a fresh one */
	ret = ipc_vars_of_task(d->pid, &v);
	if (ret)
		return ret;
	if (v.nr_shm < 0 || v.nr_sem < 0 || v.nr_msg < 0 || v.nr_mq < 0) {
		pr_err("can't tell whether the IPC namespace of task %d holds objects (/proc/sysvipc, mqueue): %s\n",
		       d->pid,
		       strerror(-(v.nr_shm < 0	 ? v.nr_shm
				  : v.nr_sem < 0 ? v.nr_sem
				  : v.nr_msg < 0 ? v.nr_msg
						 : v.nr_mq)));
		return -EIO;
	}
	if (v.nr_mq) {
		pr_err("the IPC namespace of task %d holds %d POSIX message queues, which can't be dumped yet\n",
		       d->pid, v.nr_mq);
		return -EOPNOTSUPP;
	}
	ipc_vars_to_entry(&v, &e, sem);
	w = img_set_new(&d->imgs, IMG_IPC_VAR, 1);
	ret = w ? img_write_entry(w, &e.base) : -EIO;
	if (!ret && (v.nr_shm || v.nr_sem || v.nr_msg))
		ret = sysv_dump(d->pid, new_ipc_image, d, &segs, &nr_segs);
	/* every attached segment is one the images hold (not one attached before an unshare) */
	hmap_init(&by_id);
	for (size_t k = 0; !ret && k < nr_segs; k++)
		hmap_put_int(&by_id, segs[k].id, &segs[k]);
	for (size_t i = 0; !ret && i < d->nr_sysv_refs; i++) {
		const struct sysv_ref *r = &d->sysv_refs[i];
		const struct sysv_seg *seg = hmap_get_int(&by_id, r->id);

		if (!seg || seg->size != r->size) {
			pr_err("process %d: the System V segment attached at %#llx (id %llu, %llu bytes) is not one of "
			       "its IPC namespace's: not supported\n",
			       r->pid, (unsigned long long)r->start, (unsigned long long)r->id,
			       (unsigned long long)r->size);
			ret = -EOPNOTSUPP;
		}
	}
	hmap_free(&by_id);
	free(segs);
	return ret;
}

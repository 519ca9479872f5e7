/*
 * The IPC namespace's settings (ipc/ipc-ns.c): read in the namespace, saved as
 * ipcns-var-<id>.img (ipc_var_entry), applied in the new one at restore.
 */
#ifndef CRIU_IPC_NS_H
#define CRIU_IPC_NS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ipc-var.pb-c.h"

struct ipc_vars {
	uint32_t sem[4]; /* kernel.sem: SEMMSL SEMMNS SEMOPM SEMMNI */
	uint32_t msgmax, msgmnb, msgmni, auto_msgmni;
	uint64_t shmmax, shmall;
	uint32_t shmmni, shm_rmid_forced;
	uint32_t mq_queues_max, mq_msg_max, mq_msgsize_max, mq_msg_default, mq_msgsize_default;
	uint32_t msg_next_id, sem_next_id, shm_next_id; /* (uint32_t)-1: never set */
	uint32_t present;				/* bit i: the i-th file was there */
	int nr_shm, nr_sem, nr_msg;			/* System V objects in the namespace, or -errno */
	int nr_mq;					/* POSIX message queues, or -errno */
};

/* The settings of the caller's IPC namespace. 0 or -errno. */
int ipc_vars_read(struct ipc_vars *v);
/* The settings of task pid's IPC namespace, read by a child that joins it. */
int ipc_vars_of_task(pid_t pid, struct ipc_vars *v);
/* As an ipc_var_entry; `sem` (4 numbers) backs e->sem_ctls. */
void ipc_vars_to_entry(const struct ipc_vars *v, IpcVarEntry *e, uint32_t *sem);
/* Sets the caller's IPC namespace as `e` says. 0 or -errno, printed. */
int ipc_vars_apply(const IpcVarEntry *e);
/* /proc/sys/<rel> of the caller's namespaces: read (NUL-terminated), or
 * written whole. 0 or -errno. */
int proc_sys_read(const char *rel, char *buf, size_t size);
int proc_sys_write(const char *rel, const char *text);
/* kernel.<name> of the caller's IPC namespace: its value, or -1 if it
 * can't be read. */
long long ipc_sysctl_read(const char *name);
/* Sets kernel.<name> in the caller's IPC namespace. 0 or -errno, printed. */
int ipc_sysctl_write(const char *name, long long v);

#endif

/*
 * The areas of a seized process at dump (vma-dump.c), for mm-dump.c:
 * /proc/PID/smaps read, each area classified into a vma_entry, the files
 * behind file mappings dumped.
 */
#ifndef CRIU_MEM_VMA_DUMP_H
#define CRIU_MEM_VMA_DUMP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "proc/proc-maps.h"
#include "task/task-dump.h"
#include "vma.pb-c.h"

/* /proc/PID/smaps: its maps lines parsed, and the VmFlags of each. */
struct td_smaps {
	struct proc_maps maps;
	char **vmflags; /* per entry, into text; NULL if the kernel printed none */
	char *text;
	size_t nr_headers;
};

/* 0 or -errno, printed; td_smaps_free() in either case. */
int td_read_smaps(pid_t pid, struct td_smaps *s);
void td_smaps_free(struct td_smaps *s);
/* Is the two-letter flag `f` among the space-separated VmFlags? */
bool td_has_vmflag(const char *vmflags, const char *f);
/* vmas[i] for each area of s: classified, its file dumped, attached
 * System V segments checked and noted for ipcns_dump. 0 or -errno, printed. */
int td_collect_vmas(struct td_ctx *c, struct td_proc *p, const struct td_smaps *s, VmaEntry *vmas);

/*
 * Refuses (-EOPNOTSUPP, printed) a process whose future mappings are locked
 * (mlockall(MCL_FUTURE)), which no image field records: probed with one
 * injected PROT_NONE page, which adds to VmLck only then; and one whose
 * future mappings are KSM-mergeable (prctl(PR_SET_MEMORY_MERGE)), from its
 * ksm_stat. 0 when neither.
 */
int td_check_lock_future(struct td_proc *p);

#endif

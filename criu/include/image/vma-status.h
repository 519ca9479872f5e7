/*
 * The kind bits of vma_entry.status and the flags of pagemap_entry, with
 * upstream CRIU's values (images must mean the same thing to both tools).
 */
#ifndef CRIU_VMA_STATUS_H
#define CRIU_VMA_STATUS_H

#define VMA_AREA_REGULAR  (1U << 0)  /* an area restore recreates (set on all but vsyscall) */
#define VMA_AREA_STACK	  (1U << 1)  /* [stack] */
#define VMA_AREA_VSYSCALL (1U << 2)  /* [vsyscall]: fixed by the kernel, never restored */
#define VMA_AREA_VDSO	  (1U << 3)  /* [vdso] */
#define VMA_FORCE_READ	  (1U << 4)  /* not readable: pages were read through /proc/PID/mem */
#define VMA_AREA_HEAP	  (1U << 5)  /* [heap] */
#define VMA_FILE_PRIVATE  (1U << 6)  /* MAP_PRIVATE of a file (shmid: its file_entry id) */
#define VMA_FILE_SHARED	  (1U << 7)  /* MAP_SHARED of a file */
#define VMA_ANON_SHARED	  (1U << 8)  /* MAP_SHARED|MAP_ANONYMOUS */
#define VMA_ANON_PRIVATE  (1U << 9)  /* MAP_PRIVATE|MAP_ANONYMOUS */
#define VMA_AREA_SYSVIPC  (1U << 10) /* SysV shared memory */
#define VMA_AREA_SOCKET	  (1U << 11) /* a packet socket ring */
#define VMA_AREA_VVAR	  (1U << 12) /* [vvar] and [vvar_vclock] */
#define VMA_AREA_AIORING  (1U << 13) /* io_setup ring */
#define VMA_AREA_MEMFD	  (1U << 14) /* a memfd mapping */
#define VMA_EXT_FILE	  (1U << 27)
#define VMA_NO_PROT_WRITE (1U << 28)
#define VMA_PREMMAPED	  (1U << 30)
#define VMA_UNSUPP	  (1U << 31)

/* pagemap_entry.flags */
#define PE_PARENT  (1U << 0) /* in the parent (pre-dump) images */
#define PE_LAZY	   (1U << 1) /* to be fetched on demand */
#define PE_PRESENT (1U << 2) /* in this dump's pages image */

#endif

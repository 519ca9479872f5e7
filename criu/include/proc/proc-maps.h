/*
 * Parse /proc/PID/maps: text in, one entry per memory area out. Pure: no
 * syscalls, never prints, returns -EINVAL and fills a struct
 * proc_err on bad input.
 *
 * Line format (proc(5)); the kernel prints the first five fields with
 * single spaces, then, when the area has a name, pads with spaces to a fixed
 * column and prints the name up to the end of the line:
 *
 *   7f2a1c000000-7f2a1c021000 rw-p 00000000 fe:00 247134       /usr/bin/my prog
 *   (1) start-end              (2)  (3)      (4)   (5)          (6) path
 *
 * (1) hex addresses, (2) "rwxp"/"rwxs" with '-' for a missing permission,
 * (3) hex file offset, (4) hex major:minor, (5) decimal inode, (6) the name:
 * nothing (anonymous memory), a file path, or a bracketed special name
 * ("[heap]", "[stack]", "[vdso]", "[vvar]", "[vvar_vclock]", "[vsyscall]",
 * "[anon:NAME]", "[anon_shmem:NAME]", ...).
 *
 * The kernel does not escape spaces or backslashes in the path (only a
 * newline, printed as the four characters "\012"), so the path is kept as
 * printed: everything after the padding. A file path ending in " (deleted)"
 * has that suffix removed and `deleted` set; a file whose real name ends in
 * " (deleted)" cannot be told apart from it here (the dumper looks at
 * /proc/PID/map_files for the truth).
 */
#ifndef CRIU_PROC_MAPS_H
#define CRIU_PROC_MAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proc/proc-text.h"

enum proc_vma_kind {
	PROC_VMA_ANON,	      /* no name */
	PROC_VMA_FILE,	      /* a file path (or a pseudo file name such as "anon_inode:[...]") */
	PROC_VMA_HEAP,	      /* [heap] */
	PROC_VMA_STACK,	      /* [stack] */
	PROC_VMA_VDSO,	      /* [vdso] */
	PROC_VMA_VVAR,	      /* [vvar] */
	PROC_VMA_VVAR_VCLOCK, /* [vvar_vclock] (6.x kernels) */
	PROC_VMA_VSYSCALL,    /* [vsyscall] */
	PROC_VMA_ANON_NAMED,  /* [anon:NAME], prctl(PR_SET_VMA_ANON_NAME) on private memory */
	PROC_VMA_SHMEM_NAMED, /* [anon_shmem:NAME], the same on shared anonymous memory */
	PROC_VMA_SPECIAL,     /* any other [name], e.g. [uprobes] or old kernels' [stack:TID] */
};

struct proc_maps_entry {
	uint64_t start; /* (1) first byte */
	uint64_t end;	/* (1) one past the last byte; start < end */
	bool read;	/* (2) */
	bool write;
	bool exec;
	bool shared;	    /* (2) 's' (MAP_SHARED) rather than 'p' */
	uint64_t pgoff;	    /* (3) offset in the file, in bytes */
	uint32_t dev_major; /* (4) */
	uint32_t dev_minor;
	uint64_t ino; /* (5) */
	enum proc_vma_kind kind;
	char *path;	 /* (6) as printed, without " (deleted)"; "" for PROC_VMA_ANON, never NULL */
	char *anon_name; /* NAME of [anon:NAME] and [anon_shmem:NAME], else NULL */
	bool deleted;	 /* a PROC_VMA_FILE whose name ended in " (deleted)" */
};

struct proc_maps {
	struct proc_maps_entry *entries;
	size_t nr;
	size_t cap;
};

/*
 * Parses `len` bytes of `buf` (need not be NUL-terminated; any line length;
 * the last line may lack '\n'; an empty input is a task without memory, e.g.
 * a kernel thread or a zombie). Appends entries to `m` (zeroed or filled by
 * an earlier call). On error returns -EINVAL, fills `err` (may be NULL) and
 * leaves `m` with the entries parsed so far (free it with proc_maps_free).
 */
int proc_maps_parse(const char *buf, size_t len, struct proc_maps *m, struct proc_err *err);

/* Frees every entry and the array; leaves `m` zeroed. */
void proc_maps_free(struct proc_maps *m);

/* "anon", "file", "heap", ... for logs and tests. */
const char *proc_vma_kind_name(enum proc_vma_kind kind);

#endif

/*
 * Parse /proc/PID/mountinfo: text in, entries out. Pure: no syscalls, never
 * prints, returns -errno and fills a struct proc_err on bad input.
 *
 * Line format (proc(5)):
 *   36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
 *   (1)(2)(3)   (4)   (5)      (6)      (7)   (8) (9)   (10)         (11)
 * Fields 4, 5, 9, 10 and 11 may contain \ooo octal escapes (the kernel
 * escapes space, tab, newline and backslash); they are unescaped here. Field 9
 * may be "type.subtype". Fields 10 and 11 may be empty strings (e.g. an empty
 * source).
 */
#ifndef CRIU_MOUNTINFO_H
#define CRIU_MOUNTINFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proc/proc-text.h"

struct mountinfo_entry {
	uint32_t mnt_id;    /* (1) */
	uint32_t parent_id; /* (2) */
	uint32_t major;	    /* (3) st_dev of the superblock */
	uint32_t minor;
	char *root;	  /* (4) unescaped */
	char *mountpoint; /* (5) unescaped */
	char *mnt_opts;	  /* (6) per-mount options, e.g. "rw,nosuid,relatime" */
	char *optional;	  /* (7) raw optional fields joined by ' ', "" if none */
	char *fstype;	  /* (9) unescaped, including ".subtype" */
	char *source;	  /* (10) unescaped, may be "" */
	char *sb_opts;	  /* (11) superblock options, unescaped */

	/* Interpreted from (7) by mountinfo_parse_optional(); 0 / false if absent. */
	uint32_t shared_id;	 /* shared:N */
	uint32_t master_id;	 /* master:N */
	uint32_t propagate_from; /* propagate_from:N */
	bool unbindable;	 /* unbindable */
};

struct mountinfo_table {
	struct mountinfo_entry *entries;
	size_t nr;
	size_t cap;
};

/*
 * Parses `len` bytes of `buf` (need not be NUL-terminated; any line length;
 * the last line may lack '\n'; empty lines only at the end). Appends entries
 * to `t` (which must be zeroed or previously filled). On error returns
 * -EINVAL, fills `err` (may be NULL; fields are named as in
 * "field 3 (major:minor)") and leaves `t` with the entries parsed so far
 * (caller frees with mountinfo_table_free).
 */
int mountinfo_parse(const char *buf, size_t len, struct mountinfo_table *t, struct proc_err *err);

/* Interprets e->optional into shared_id/master_id/propagate_from/unbindable.
 * Unknown tags are ignored (future kernels); malformed numbers are -EINVAL. */
int mountinfo_parse_optional(struct mountinfo_entry *e);

/* Frees every string of every entry and the array; leaves `t` zeroed. */
void mountinfo_table_free(struct mountinfo_table *t);

#endif

/*
 * The areas of a seized process at dump (see vma-dump.h): /proc/PID/smaps
 * parsed into vma_entry fields (its header lines are /proc/PID/maps lines,
 * its VmFlags lines tell madvise bits and MAP_GROWSDOWN), each area
 * classified by td_vma_classify() (pure), then the file behind each file
 * mapping put in files.img and every attached System V segment checked to
 * be restorable. mm-dump.c writes them and decides which pages to save.
 */
#define LOG_PREFIX "task-dump: "

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "image/vma-status.h"
#include "mem/vma-dump.h"
#include "ptrace/inject.h"
#include "proc/proc-maps.h"
#include "task/task-dump.h"
#include "util/log.h"
#include "util/util.h"

/* ------------------------------------------------------------------------
 * Parse: a maps line and its VmFlags into vma_entry fields
 */

/* Is the two-letter flag `f` among the space-separated VmFlags? */
bool td_has_vmflag(const char *vmflags, const char *f)
{
	for (const char *s = vmflags; s && *s;) {
		while (*s == ' ')
			s++;
		if (s[0] == f[0] && s[0] && s[1] == f[1] && (s[2] == ' ' || !s[2]))
			return true;
		while (*s && *s != ' ')
			s++;
	}
	return false;
}

/* madvise(2) advice kept in vma_entry.madv as 1 << advice, as upstream. */
static uint64_t vmflags_madv(const char *vmflags)
{
	static const struct {
		char flag[3];
		int advice;
	} tab[] = {
		{"sr", MADV_SEQUENTIAL}, {"rr", MADV_RANDOM},	{"dc", MADV_DONTFORK},	 {"dd", MADV_DONTDUMP},
		{"mg", MADV_MERGEABLE},	 {"hg", MADV_HUGEPAGE}, {"nh", MADV_NOHUGEPAGE}, {"wf", MADV_WIPEONFORK},
	};
	uint64_t madv = 0;

	for (size_t i = 0; i < ARRAY_SIZE(tab); i++)
		if (td_has_vmflag(vmflags, tab[i].flag))
			madv |= 1ULL << tab[i].advice;
	return madv;
}

/* The kind bits of an area with a bracketed kernel name; 0 if not one. */
static uint32_t special_status(enum proc_vma_kind kind)
{
	switch (kind) {
	case PROC_VMA_VSYSCALL:
		return VMA_AREA_VSYSCALL; /* not VMA_AREA_REGULAR: never restored */
	case PROC_VMA_VDSO:
		return VMA_AREA_REGULAR | VMA_AREA_VDSO;
	case PROC_VMA_VVAR:
	case PROC_VMA_VVAR_VCLOCK:
		return VMA_AREA_REGULAR | VMA_AREA_VVAR;
	default:
		return 0;
	}
}

/* The kernel's name for a System V segment's file: "/SYSV<key, 8 hex digits> (deleted)". */
static bool is_sysv_name(const struct proc_maps_entry *e)
{
	if (!e->deleted || strncmp(e->path, "/SYSV", 5) || strlen(e->path) != 13)
		return false;
	for (int i = 5; i < 13; i++)
		if (!((e->path[i] >= '0' && e->path[i] <= '9') || (e->path[i] >= 'a' && e->path[i] <= 'f')))
			return false;
	return true;
}

/* Is the named file area anonymous shared memory, or one we can't do? */
static int classify_file(const struct proc_maps_entry *e, bool *anon, const char **why)
{
	*anon = false;
	if (e->path[0] != '/') {
		*why = "not a file mapping (anon_inode, socket...)";
		return -EOPNOTSUPP;
	}
	if (!e->shared && is_sysv_name(e)) {
		*why = "System V shared memory mapped privately";
		return -EOPNOTSUPP;
	}
	/* MAP_SHARED|MAP_ANONYMOUS and shared /dev/zero: an unlinked shmem file. */
	*anon = e->shared && e->deleted && !strcmp(e->path, "/dev/zero");
	return 0;
}

/* What VmFlags forbid or add (regular areas only). */
static int apply_vmflags(const char *vmflags, VmaEntry *v, const char **why)
{
	if (td_has_vmflag(vmflags, "io") || td_has_vmflag(vmflags, "pf")) {
		*why = "device memory (VM_IO/VM_PFNMAP)";
		return -EOPNOTSUPP;
	}
	if (td_has_vmflag(vmflags, "ht")) {
		*why = "hugetlb memory";
		return -EOPNOTSUPP;
	}
	if (td_has_vmflag(vmflags, "gd"))
		v->flags |= MAP_GROWSDOWN;
	if (td_has_vmflag(vmflags, "sl")) {
		*why = "sealed with mseal(2), which the images can't record (it would come back unsealed)";
		return -EOPNOTSUPP;
	}
	if (td_has_vmflag(vmflags, "lf")) {
		/* restored with mlock(), all its pages would be made present and locked */
		*why = "locked with MLOCK_ONFAULT or MCL_ONFAULT (mlock2, mlockall), which the images can't record; "
		       "lock it with plain mlock() to have it restored locked";
		return -EOPNOTSUPP;
	}
	if (td_has_vmflag(vmflags, "lo"))
		v->flags |= MAP_LOCKED;
	if (td_has_vmflag(vmflags, "nr"))
		v->flags |= MAP_NORESERVE;
	v->madv = vmflags_madv(vmflags);
	v->has_madv = v->madv != 0;
	return 0;
}

int td_vma_classify(const struct proc_maps_entry *e, const char *vmflags, VmaEntry *v, const char **why)
{
	bool anon = true;
	int ret;

	vma_entry__init(v);
	*why = NULL;
	v->start = e->start;
	v->end = e->end;
	v->pgoff = e->pgoff;
	v->fd = -1;
	v->prot = (e->read ? PROT_READ : 0) | (e->write ? PROT_WRITE : 0) | (e->exec ? PROT_EXEC : 0);
	v->flags = e->shared ? MAP_SHARED : MAP_PRIVATE;
	v->status = special_status(e->kind);
	if (v->status) { /* kernel-made: no file, no VmFlags that matter */
		v->flags |= MAP_ANONYMOUS;
		v->status |= VMA_ANON_PRIVATE;
		return 0;
	}
	v->status = VMA_AREA_REGULAR;
	if (e->kind == PROC_VMA_SPECIAL) {
		*why = "special kernel mapping";
		return -EOPNOTSUPP;
	}
	if (e->kind == PROC_VMA_HEAP)
		v->status |= VMA_AREA_HEAP;
	if (e->kind == PROC_VMA_STACK) {
		v->status |= VMA_AREA_STACK;
		if (!vmflags)
			v->flags |= MAP_GROWSDOWN;
	}
	if (e->kind == PROC_VMA_FILE && e->shared && is_sysv_name(e)) {
		/* an attached segment: its bytes are the namespace's (ipc-sysv-dump.c) */
		v->status |= VMA_AREA_SYSVIPC;
		v->shmid = e->ino; /* the segment's id is its file's inode number */
		return apply_vmflags(vmflags, v, why);
	}
	if (e->kind == PROC_VMA_FILE) {
		ret = classify_file(e, &anon, why);
		if (ret)
			return ret;
	}
	if (anon) {
		v->flags |= MAP_ANONYMOUS;
		v->status |= e->shared ? VMA_ANON_SHARED : VMA_ANON_PRIVATE;
		if (e->shared)
			v->shmid = e->ino; /* the shmem inode, as upstream */
	} else {
		v->status |= e->shared ? VMA_FILE_SHARED : VMA_FILE_PRIVATE;
		/* a memfd's: its file is a memfd file_entry (mem/memfd-dump.c) */
		if (e->deleted && !strncmp(e->path, "/memfd:", 7))
			v->status |= VMA_AREA_MEMFD;
	}
	if (!e->shared && !e->read)
		v->status |= VMA_FORCE_READ; /* its pages go through /proc/PID/mem */
	return apply_vmflags(vmflags, v, why);
}

/* ------------------------------------------------------------------------
 * Reading smaps: maps lines and the VmFlags of each
 */

static bool is_header_line(const char *l)
{
	return (*l >= '0' && *l <= '9') || (*l >= 'a' && *l <= 'f');
}

/* Splits smaps text in place: header lines copied into `maps_text`. */
static void split_smaps(struct td_smaps *s, size_t len, char *maps_text, size_t *maps_len)
{
	static const char key[] = "VmFlags:";
	char *l = s->text, *end = s->text + len;

	*maps_len = 0;
	while (l < end) {
		char *nl = memchr(l, '\n', (size_t)(end - l));
		size_t n = nl ? (size_t)(nl - l) : (size_t)(end - l);

		if (is_header_line(l)) {
			memcpy(maps_text + *maps_len, l, n);
			*maps_len += n;
			maps_text[(*maps_len)++] = '\n';
			s->vmflags = xrealloc(s->vmflags, (s->nr_headers + 1) * sizeof(*s->vmflags));
			s->vmflags[s->nr_headers++] = NULL;
		} else if (s->nr_headers && !strncmp(l, key, strlen(key))) {
			l[n] = '\0';
			s->vmflags[s->nr_headers - 1] = l + strlen(key);
		}
		l += n + 1;
	}
}

void td_smaps_free(struct td_smaps *s)
{
	proc_maps_free(&s->maps);
	free(s->vmflags);
	free(s->text);
}

int td_read_smaps(pid_t pid, struct td_smaps *s)
{
	struct proc_err perr;
	_cleanup_free_ char *maps_text = NULL;
	size_t len, maps_len;
	char path[64];
	int ret;

	snprintf(path, sizeof(path), "/proc/%d/smaps", pid);
	ret = read_file_at(AT_FDCWD, path, &s->text, &len);
	if (ret < 0) {
		pr_err("can't read %s: %s\n", path, strerror(-ret));
		return ret;
	}
	maps_text = xmalloc(len + 1);
	split_smaps(s, len, maps_text, &maps_len);
	ret = proc_maps_parse(maps_text, maps_len, &s->maps, &perr);
	if (ret < 0) {
		pr_err("%s: %s\n", path, proc_err_msg(&perr).s);
		return ret;
	}
	if (s->maps.nr != s->nr_headers) {
		pr_err("%s: %zu areas parsed from %zu header lines\n", path, s->maps.nr, s->nr_headers);
		return -EINVAL;
	}
	return 0;
}

/* ------------------------------------------------------------------------
 * The areas: classification, then the files behind them
 */

static int vma_file(struct td_ctx *c, struct td_proc *p, VmaEntry *v)
{
	char link[64], path[96];
	struct stat lst, st;
	int64_t id;

	snprintf(link, sizeof(link), "map_files/%" PRIx64 "-%" PRIx64, v->start, v->end);
	snprintf(path, sizeof(path), "/proc/%d/%s", p->pid, link);
	if (lstat(path, &lst) < 0 || stat(path, &st) < 0) {
		pr_perror("can't stat %s", path);
		return -errno;
	}
	if (!S_ISREG(st.st_mode) && !(S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 5))) {
		pr_err("process %d: area %" PRIx64 "-%" PRIx64
		       " maps a device or special file (mode %o); not supported\n",
		       p->pid, v->start, v->end, st.st_mode);
		return -EOPNOTSUPP;
	}
	/* The link's mode tells how the mapped file was opened, as upstream reads it. */
	v->has_fdflags = true;
	v->fdflags = (lst.st_mode & S_IWUSR) ? ((lst.st_mode & S_IRUSR) ? O_RDWR : O_WRONLY) : O_RDONLY;
	if (v->status & VMA_AREA_MEMFD)
		id = td_dump_memfd_map(c, p, path, v->fdflags);
	else
		id = td_dump_path_file(c, p, link, v->fdflags);
	if (id < 0)
		return (int)id;
	v->shmid = (uint64_t)id;
	return 0;
}

/*
 * Attached System V segments: each attachment whole, from its start, in
 * one area or several in a row (mprotect splits one), of a segment of the
 * tree's own IPC namespace, which the dump saves. Restore attaches it
 * again at the same place (shmat) and needs nothing else.
 */
static int check_sysv_areas(struct td_ctx *c, struct td_proc *p, const VmaEntry *vmas, size_t nr)
{
	struct stat a, b;
	char path[96];
	bool own = false, checked = false;

	for (size_t i = 0; i < nr; i++) {
		uint64_t want, have;
		size_t j;

		if (!(vmas[i].status & VMA_AREA_SYSVIPC))
			continue;
		if (!checked) {
			snprintf(path, sizeof(path), "/proc/%d/ns/ipc", p->pid);
			own = !stat(path, &a) && !stat("/proc/self/ns/ipc", &b) && a.st_ino != b.st_ino;
			checked = true;
		}
		if (!own) {
			pr_err("process %d: area %" PRIx64 "-%" PRIx64 " is System V shared memory segment %" PRIu64
			       " of criu's own IPC namespace, which the dump doesn't save\n",
			       p->pid, vmas[i].start, vmas[i].end, vmas[i].shmid);
			return -EOPNOTSUPP;
		}
		snprintf(path, sizeof(path), "/proc/%d/map_files/%" PRIx64 "-%" PRIx64, p->pid, vmas[i].start,
			 vmas[i].end);
		if (vmas[i].pgoff || stat(path, &a)) {
			pr_err("process %d: area %" PRIx64 "-%" PRIx64 " maps System V shared memory segment %" PRIu64
			       " from offset %" PRIu64 ": only whole attachments can be restored\n",
			       p->pid, vmas[i].start, vmas[i].end, vmas[i].shmid, vmas[i].pgoff);
			return -EOPNOTSUPP;
		}
		want = ((uint64_t)a.st_size + 4095) & ~4095ULL;
		have = vmas[i].end - vmas[i].start;
		for (j = i + 1;
		     j < nr && have < want && (vmas[j].status & VMA_AREA_SYSVIPC) && vmas[j].shmid == vmas[i].shmid &&
		     vmas[j].start == vmas[j - 1].end && vmas[j].pgoff == have;
		     j++)
			have += vmas[j].end - vmas[j].start;
		if (have != want) {
			pr_err("process %d: area %" PRIx64 "-%" PRIx64 " maps %" PRIu64 " bytes of System V shared "
			       "memory segment %" PRIu64 " of %" PRIu64 ": only whole attachments can be restored\n",
			       p->pid, vmas[i].start, vmas[j - 1].end, have, vmas[i].shmid, want);
			return -EOPNOTSUPP;
		}
		/* that the namespace the dump saves has this very segment is checked then */
		c->d->sysv_refs = xrealloc(c->d->sysv_refs, (c->d->nr_sysv_refs + 1) * sizeof(*c->d->sysv_refs));
		c->d->sysv_refs[c->d->nr_sysv_refs++] = (struct sysv_ref){
			.pid = p->pid, .start = vmas[i].start, .id = vmas[i].shmid, .size = (uint64_t)a.st_size};
		i = j - 1;
	}
	return 0;
}

int td_collect_vmas(struct td_ctx *c, struct td_proc *p, const struct td_smaps *s, VmaEntry *vmas)
{
	int ret;

	for (size_t i = 0; i < s->maps.nr; i++) {
		const struct proc_maps_entry *e = &s->maps.entries[i];
		const char *why;

		ret = td_vma_classify(e, s->vmflags[i], &vmas[i], &why);
		if (ret) {
			pr_err("process %d: area %" PRIx64 "-%" PRIx64 " %s: %s; not supported\n", p->pid, e->start,
			       e->end, e->path, why);
			return ret;
		}
		if (vmas[i].status & (VMA_FILE_PRIVATE | VMA_FILE_SHARED)) {
			ret = vma_file(c, p, &vmas[i]);
			if (ret)
				return ret;
		}
	}
	return check_sysv_areas(c, p, vmas, s->maps.nr);
}

/* ------------------------------------------------------------------------
 * mlockall(MCL_FUTURE)
 */

/* The process's VmLck, in kB; -errno. */
static long vm_locked_kb(pid_t pid)
{
	_cleanup_free_ char *buf = NULL;
	char path[64];
	const char *l;
	int ret;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	ret = read_file_at(AT_FDCWD, path, &buf, NULL);
	if (ret < 0)
		return ret;
	l = strstr(buf, "\nVmLck:");
	return l ? strtol(l + 7, NULL, 10) : -ENOENT;
}

/*
 * prctl(PR_SET_MEMORY_MERGE): every area, and every later one, mergeable
 * by KSM. The areas' "mg" is carried; the process's flag no image field
 * records. 0, or -EOPNOTSUPP (printed); a kernel without ksm_stat has none.
 */
static int check_merge_any(pid_t pid)
{
	_cleanup_free_ char *buf = NULL;
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/ksm_stat", pid);
	if (read_file_at(AT_FDCWD, path, &buf, NULL) < 0 || !strstr(buf, "ksm_merge_any: yes"))
		return 0;
	pr_err("process %d has prctl(PR_SET_MEMORY_MERGE) set: the areas it maps are mergeable by KSM, which the "
	       "images can't record (a restored process would not have it)\n",
	       pid);
	pr_hint("have the process clear it (prctl(PR_SET_MEMORY_MERGE, 0)) and madvise(MADV_MERGEABLE) the areas "
		"it wants merged before the dump\n");
	return -EOPNOTSUPP;
}

int td_check_lock_future(struct td_proc *p)
{
	uint64_t addr = 0;
	long before, after;
	int ret;

	if (!p->nr_threads)
		return 0;
	ret = check_merge_any(p->pid);
	if (ret)
		return ret;
	before = vm_locked_kb(p->pid);
	if (before < 0) {
		pr_err("process %d: can't read its VmLck: %s\n", p->pid, strerror((int)-before));
		return (int)before;
	}
	ret = inject_mmap(p->threads[0], 0, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0, &addr);
	after = ret ? before : vm_locked_kb(p->pid);
	if (!ret)
		ret = inject_munmap(p->threads[0], addr, 4096);
	if (ret == -EAGAIN) {
		after = before + 1; /* over RLIMIT_MEMLOCK: only a locked mapping is refused so */
		ret = 0;
	}
	if (ret) {
		pr_err("process %d: can't tell whether it has mlockall(MCL_FUTURE) set: a probe mapping failed: %s\n",
		       p->pid, inject_strerror(ret));
		return ret;
	}
	if (after > before) {
		pr_err("process %d has mlockall(MCL_FUTURE) set: the mappings it makes are locked, which the images "
		       "can't record (a restored process would not lock them)\n",
		       p->pid);
		pr_hint("have the process call munlockall() and mlock() what it needs locked before the dump\n");
		return -EOPNOTSUPP;
	}
	return 0;
}

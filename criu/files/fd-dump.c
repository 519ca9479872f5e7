/*
 * Dump: helpers the file table (files-dump.c) and the kinds of open file
 * share: what a descriptor's link says it is, /proc reads, and writing
 * a file_entry into files.img.
 */
#define LOG_PREFIX "task-dump: "

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fdinfo.pb-c.h"
#include "files/files-dump.h"
#include "task/task-dump.h"
#include "util/log.h"
#include "util/util.h"

bool td_str_starts(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

void td_anon_name(const char *link, char *kind, size_t size)
{
	const char *s;
	size_t n;

	if (!td_str_starts(link, "anon_inode:")) {
		snprintf(kind, size, "%s", "");
		return;
	}
	s = link + strlen("anon_inode:");
	n = strlen(s);
	if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
		s++;
		n -= 2;
	}
	snprintf(kind, size, "%.*s", (int)n, s);
}

bool td_fd_is_anon(const struct td_fd *f, const char *kind)
{
	char name[64];

	if (!td_str_starts(f->link, "anon_inode:"))
		return false;
	td_anon_name(f->link, name, sizeof(name));
	return !strcmp(name, kind);
}

bool td_fd_is_memfd_link(const struct td_fd *f)
{
	return td_str_starts(f->link, "/memfd:") && f->st.st_nlink == 0;
}

bool td_fd_has_path(const struct td_fd *f)
{
	return f->link[0] == '/' && !td_fd_is_memfd_link(f) && !S_ISSOCK(f->st.st_mode);
}

int td_read_link(const char *path, char *buf, size_t size)
{
	ssize_t n = readlink(path, buf, size - 1);

	if (n < 0) {
		pr_perror("can't read the link %s", path);
		return -errno;
	}
	if ((size_t)n >= size - 1) {
		pr_err("%s: the path it points to is too long\n", path);
		return -ENAMETOOLONG;
	}
	buf[n] = '\0';
	return 0;
}

int td_read_fdinfo(pid_t pid, int fd, struct proc_fdinfo *fi)
{
	struct proc_err perr;
	_cleanup_free_ char *buf = NULL;
	char path[64];
	size_t len;
	int ret;

	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", pid, fd);
	else
		snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	ret = read_file_at(AT_FDCWD, path, &buf, &len);
	if (ret < 0) {
		pr_err("can't read %s: %s\n", path, strerror(-ret));
		return ret;
	}
	ret = proc_fdinfo_parse(buf, len, fi, &perr);
	if (ret < 0)
		pr_err("%s: %s\n", path, proc_err_msg(&perr).s);
	return ret;
}

int td_write_file_entry(struct td_ctx *c, FileEntry *fe)
{
	int ret = img_write_entry(c->files_img, &fe->base);

	if (ret)
		return ret;
	/* for the descriptors of it (files-dump.c: write_fdinfo) */
	hmap_put_int(&c->file_types, fe->id, (void *)(uintptr_t)fe->type);
	if (c->stats)
		c->stats->nr_files++;
	return 0;
}

/*
 * Restore: regular files, directories and the like (reg_file_entry), by
 * path. A memory device (/dev/null, /dev/zero...) is opened by criu on the
 * host, before the namespaces, so that containers without their own still
 * get it; every other path is reopened by the root in the new namespaces,
 * with the dumped flags and position.
 */
#define LOG_PREFIX "restore: "

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "files/reg.h"
#include "task/rtree.h"
#include "util/log.h"
#include "util/util.h"

int reg_check(const FileEntry *fe)
{
	return fe->reg ? 0 : file_lacks(fe);
}

const FownEntry *reg_fown(const FileEntry *fe)
{
	return fe->reg ? fe->reg->fown : NULL;
}

bool reg_inherit_name(const struct rfile *f, char *buf, size_t len)
{
	snprintf(buf, len, "%s", f->fe->reg->name);
	return true;
}

static bool is_memory_device(const RegFileEntry *r)
{
	static const char *const names[] = {"/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom"};

	if (!r->has_mode || !S_ISCHR(r->mode))
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (!strcmp(r->name, names[i]))
			return true;
	return false;
}

int reg_open_host(struct rfile *f, const struct options *o, int above)
{
	const RegFileEntry *r = f->fe->reg;
	int flags = (int)(r->flags & (O_ACCMODE | O_APPEND | O_NONBLOCK)), fd;

	if (!is_memory_device(r))
		return 0;
	fd = open(r->name, flags | O_CLOEXEC);
	if (fd < 0) {
		pr_perror("can't open %s", r->name);
		return -errno;
	}
	f->host_fd = fcntl(fd, F_DUPFD, above);
	close(fd);
	if (f->host_fd < 0) {
		pr_perror("can't move the descriptor of %s above %d", r->name, above);
		return -errno;
	}
	return 0;
}

int reg_open(struct rtree *t, struct rfile *f)
{
	const RegFileEntry *r = f->fe->reg;
	int flags = (int)(r->flags & ~(uint32_t)(O_CREAT | O_EXCL | O_TRUNC | O_NOCTTY | O_CLOEXEC));
	int fd;

	fd = open(r->name, flags | O_CLOEXEC);
	if (fd < 0) {
		pr_perror("can't reopen %s (file %u)", r->name, f->fe->id);
		return -errno;
	}
	if (r->pos && lseek(fd, (off_t)r->pos, SEEK_SET) < 0) {
		pr_perror("can't seek %s to %llu", r->name, (unsigned long long)r->pos);
		close(fd);
		return -errno;
	}
	return rtree_move_fd(fd, f->table_fd);
}

/*
 * Entering the namespaces restore doesn't make (task/ns-join.h).
 *
 * As upstream: a --join-ns PATH that is a number names a pid, whose
 * namespace of that kind (/proc/PID/ns/KIND) is joined; an external
 * namespace's descriptor is criu's own fd N of --inherit-fd fd[N]:KEY. A
 * descriptor that is no namespace, or one of another kind, is refused
 * before anything is created (upstream's setns would fail half-way).
 */
#define LOG_PREFIX "restore: "

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/nsfs.h>

#include "image/image.h"
#include "netdev.pb-c.h"
#include "pidns.pb-c.h"
#include "task/ns-join.h"
#include "util/log.h"
#include "util/util.h"

/* One entry of image `type` for ns id `id`, or NULL (*ret 0) if absent. */
static int read_one(int dirfd, enum img_type type, unsigned id, ProtobufCMessage **m)
{
	struct img_reader r;
	char name[64];
	int ret;

	*m = NULL;
	snprintf(name, sizeof(name), img_desc(type)->name_fmt, id);
	if (faccessat(dirfd, name, F_OK, 0))
		return 0;
	ret = img_reader_open(&r, dirfd, name, type);
	if (ret)
		return ret;
	ret = img_read_entry(&r, m);
	img_reader_close(&r);
	return ret < 0 ? -EINVAL : 0; /* an empty image (upstream's with --empty-ns) says nothing */
}

int ns_ext_images_read(int imgs_dirfd, const struct restore_ns *ns, struct ns_ext_images *e)
{
	ProtobufCMessage *m;
	int ret = 0;

	memset(e, 0, sizeof(*e));
	if (ns->own[RNS_NET])
		ret = read_one(imgs_dirfd, IMG_NETNS, ns->id[RNS_NET], &m);
	if (!ret && ns->own[RNS_NET] && m) {
		NetnsEntry *n = (NetnsEntry *)m;

		e->net_key = n->ext_key ? xstrdup(n->ext_key) : NULL;
		e->netns_conf = n->n_def_conf || n->n_all_conf || n->n_def_conf4 || n->n_all_conf4 || n->n_def_conf6 ||
				n->n_all_conf6 || n->n_nsids || n->n_unix_conf || n->n_ipv4_sysctl;
		protobuf_c_message_free_unpacked(m, NULL);
	}
	if (!ret && ns->own[RNS_PID])
		ret = read_one(imgs_dirfd, IMG_PIDNS, ns->id[RNS_PID], &m);
	if (!ret && ns->own[RNS_PID] && m) {
		PidnsEntry *p = (PidnsEntry *)m;

		e->pid_key = p->ext_key ? xstrdup(p->ext_key) : NULL;
		protobuf_c_message_free_unpacked(m, NULL);
	}
	return ret;
}

void ns_ext_images_free(struct ns_ext_images *e)
{
	free(e->net_key);
	free(e->pid_key);
	memset(e, 0, sizeof(*e));
}

static const struct {
	enum restore_ns_kind k;
	const char *name;
	int flag;
} kinds[] = {
	{RNS_NET, "net", CLONE_NEWNET},
	{RNS_IPC, "ipc", CLONE_NEWIPC},
	{RNS_UTS, "uts", CLONE_NEWUTS},
	{RNS_PID, "pid", CLONE_NEWPID},
};

/* fd must be a namespace of kind `flag`; `what` names it for the message. */
static int check_kind(int fd, int flag, const char *name, const char *what)
{
	int type = ioctl(fd, NS_GET_NSTYPE);

	if (type < 0) {
		pr_err("%s is not a namespace (%s)\n", what, strerror(errno));
		pr_hint("give a %s namespace file: /proc/PID/ns/%s or a bind mount of one\n", name, name);
		return -EINVAL;
	}
	if (type != flag) {
		pr_err("%s is a namespace of another kind, not a %s namespace\n", what, name);
		return -EINVAL;
	}
	return 0;
}

/* --join-ns NS:PATH: the file, or /proc/PATH/ns/NS for a pid. */
static int open_joined(const char *name, const char *path, int flag)
{
	char buf[64], what[4200];
	const char *file = path;
	int fd;

	if (path[0] != '/') {
		snprintf(buf, sizeof(buf), "/proc/%s/ns/%s", path, name);
		file = buf;
	}
	snprintf(what, sizeof(what), "--join-ns %s:%s (%s)", name, path, file);
	fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		pr_err("%s: can't open it: %s\n", what, strerror(errno));
		pr_hint("the namespace must exist when restore starts: a bind-mounted namespace file or a running "
			"pid\n");
		return -ENOENT;
	}
	if (check_kind(fd, flag, name, what)) {
		close(fd);
		return -EINVAL;
	}
	return fd;
}

/* An external namespace: a copy of criu's --inherit-fd descriptor. */
static int open_inherited(const char *name, int fd, int flag)
{
	char what[96];
	int copy;

	snprintf(what, sizeof(what), "--inherit-fd fd[%d] for the external %s namespace", fd, name);
	if (check_kind(fd, flag, name, what))
		return -EINVAL;
	copy = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (copy < 0) {
		pr_perror("can't duplicate %s", what);
		return -errno;
	}
	return copy;
}

int ns_join_open(const struct restore_ns_plan *p, int fds[RNS_NR])
{
	for (int k = 0; k < RNS_NR; k++)
		fds[k] = -1;
	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++) {
		enum restore_ns_kind k = kinds[i].k;
		int fd = -1;

		if (p->act[k] == NSA_JOIN)
			fd = open_joined(kinds[i].name, p->path[k], kinds[i].flag);
		else if (p->act[k] == NSA_INHERIT)
			fd = open_inherited(kinds[i].name, p->fd[k], kinds[i].flag);
		else
			continue;
		if (fd < 0) {
			ns_join_close(fds);
			return fd;
		}
		fds[k] = fd;
		pr_info("the tree goes into the %s %s namespace %s\n", p->act[k] == NSA_JOIN ? "joined" : "external",
			kinds[i].name, p->act[k] == NSA_JOIN ? p->path[k] : "given by --inherit-fd");
	}
	return 0;
}

void ns_join_close(int fds[RNS_NR])
{
	for (int k = 0; k < RNS_NR; k++) {
		if (fds[k] >= 0)
			close(fds[k]);
		fds[k] = -1;
	}
}

int ns_join_enter(int fds[RNS_NR])
{
	int ret = 0;

	for (size_t i = 0; !ret && i < ARRAY_SIZE(kinds); i++) {
		if (kinds[i].k == RNS_PID || fds[kinds[i].k] < 0)
			continue; /* criu enters a pid namespace for its child (restore.c) */
		if (setns(fds[kinds[i].k], kinds[i].flag)) {
			ret = -errno;
			pr_perror("can't enter the %s namespace", kinds[i].name);
		}
	}
	ns_join_close(fds);
	return ret;
}

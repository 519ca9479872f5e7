/*
 * Dump: a socket descriptor, handed to its family's dump op (sk-family.h).
 * The family is read from criu's copy of the socket (SO_DOMAIN).
 */
#define LOG_PREFIX "task-dump: "

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "files/files-dump.h"
#include "net/inet.h"
#include "net/sk-family.h"
#include "net/sockopt.h"
#include "net/unix.h"
#include "task/task-dump.h"
#include "util/log.h"
#include "util/util.h"

const struct sk_family sk_families[] = {
	{AF_UNIX, "AF_UNIX", FD_TYPES__UNIXSK, td_dump_unix},
	{AF_INET, "AF_INET", FD_TYPES__INETSK, td_dump_inet},
	{AF_INET6, "AF_INET6", FD_TYPES__INETSK, td_dump_inet},
	/* known, to be named when refused */
	{AF_NETLINK, "AF_NETLINK", FD_TYPES__NETLINKSK, NULL},
	{AF_PACKET, "AF_PACKET", FD_TYPES__PACKETSK, NULL},
};

const size_t nr_sk_families = ARRAY_SIZE(sk_families);

const struct sk_family *sk_family_get(int family)
{
	for (size_t i = 0; i < nr_sk_families; i++)
		if (sk_families[i].family == family)
			return &sk_families[i];
	return NULL;
}

bool td_is_socket(const struct td_fd *f)
{
	return td_str_starts(f->link, "socket:[") || S_ISSOCK(f->st.st_mode);
}

int td_dump_socket(struct td_ctx *c, struct td_proc *p, const struct td_fd *f, uint32_t id, FownEntry *fown)
{
	struct td_sock_fd s = {.fd = f->fd, .lfd = f->lfd, .flags = f->fi.flags, .ino = f->st.st_ino};
	const struct sk_family *fam;
	char who[48];
	int family, ret;

	snprintf(who, sizeof(who), "process %d: fd %d", p->pid, f->fd);
	ret = sk_get_int(f->lfd, SOL_SOCKET, SO_DOMAIN, &family, who);
	if (ret < 0)
		return ret;
	fam = sk_family_get(family);
	if (!fam || !fam->dump) {
		pr_err("process %d: fd %d is a socket of family %d (%s), which can't be dumped yet\n", p->pid, f->fd,
		       family, fam ? fam->name : "?");
		return -EOPNOTSUPP;
	}
	return fam->dump(c, p, &s, family, id, fown);
}

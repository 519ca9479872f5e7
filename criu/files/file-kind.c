/*
 * The table of kinds of open file (file-kind.h): one entry per FdTypes
 * value criu dumps and restores, naming the ops each kind defines in its
 * own files. The file tables of dump and restore dispatch on it and
 * nothing else; adding a kind is adding its file and its entry here.
 */
#include <stddef.h>

#include "files/anon.h"
#include "files/file-kind.h"
#include "files/inotify.h"
#include "files/memfd.h"
#include "files/pipe.h"
#include "files/reg.h"
#include "files/tty.h"
#include "net/inet.h"
#include "net/sk-family.h"
#include "net/tcp.h"
#include "net/unix.h"
#include "util/util.h"

const struct file_kind file_kinds[] = {
	{
		.type = FD_TYPES__REG,
		.name = "regular file",
		.match = td_is_reg,
		.dump = td_dump_reg,
		.check = reg_check,
		.fown = reg_fown,
		.inherit_name = reg_inherit_name,
		.open_host = reg_open_host,
		.open = reg_open,
	},
	{
		.type = FD_TYPES__PIPE,
		.name = "pipe",
		.match = td_is_pipe,
		.dump = td_dump_pipe,
		.check = pipe_check,
		.fown = pipe_fown,
		.link = pipe_link,
		.free = pipe_free,
		.inherit_name = pipe_inherit_name,
		.open = pipe_open,
	},
	{
		/* no fown: dump puts the owner on its path entry (fifo.regf_id) */
		.type = FD_TYPES__FIFO,
		.name = "FIFO",
		.match = td_is_fifo,
		.dump = td_dump_fifo,
		.check = fifo_check,
		.link = fifo_link,
		.free = fifo_free,
		.inherit_name = fifo_inherit_name,
		.open = fifo_open,
	},
	{
		/* dumped through the socket kind (UNIXSK's match and dump) by family */
		.type = FD_TYPES__INETSK,
		.name = "IPv4/IPv6 socket",
		.check = inet_sk_check,
		.fown = inet_sk_fown,
		.link = inet_sk_link,
		.free = inet_sk_free,
		/* established connections in repair mode may share a listener's port */
		.open_last = rfile_tcp_established,
		.open = inet_sk_open,
	},
	{
		.type = FD_TYPES__UNIXSK,
		.name = "unix socket",
		/* every socket at dump: handed on by family (net/sk-family.c) */
		.match = td_is_socket,
		.dump = td_dump_socket,
		.dump_done = td_unix_check_peers,
		.check = unix_sk_check,
		.fown = unix_sk_fown,
		.link = unix_sk_link,
		.free = unix_sk_free,
		.open = unix_sk_open,
	},
	{
		.type = FD_TYPES__EVENTFD,
		.name = "eventfd",
		.match = td_is_eventfd,
		.dump = td_dump_eventfd,
		.check = eventfd_check,
		.fown = eventfd_fown,
		.open = eventfd_open,
	},
	{
		.type = FD_TYPES__EVENTPOLL,
		.name = "epoll",
		.match = td_is_epoll,
		.dump = td_dump_epoll,
		.check = epoll_check,
		.fown = epoll_fown,
		.resolve = epoll_resolve,
		.open = epoll_open,
		.installed = epoll_installed,
	},
	{
		.type = FD_TYPES__INOTIFY,
		.name = "inotify",
		.match = td_is_inotify,
		.dump = td_dump_inotify,
		.check = inotify_check,
		.fown = inotify_fown,
		.open = inotify_open,
	},
	{
		.type = FD_TYPES__SIGNALFD,
		.name = "signalfd",
		.match = td_is_signalfd,
		.dump = td_dump_signalfd,
		.check = signalfd_check,
		.fown = signalfd_fown,
		.open = signalfd_open,
	},
	{
		/* -j: criu's own terminal, opened on the host; orphan_pts_master: a new pty */
		.type = FD_TYPES__TTY,
		.name = "terminal",
		.match = td_is_tty,
		.dump = td_dump_tty,
		.check = tty_check,
		.fown = tty_fown,
		.link = tty_link,
		.resolve = tty_resolve,
		.inherit_name = tty_inherit_name,
		.open_host = tty_open_host,
		.open = tty_orphan_open,
	},
	{
		.type = FD_TYPES__TIMERFD,
		.name = "timerfd",
		.match = td_is_timerfd,
		.dump = td_dump_timerfd,
		.check = timerfd_check,
		.fown = timerfd_fown,
		.open = timerfd_open,
	},
	{
		.type = FD_TYPES__MEMFD,
		.name = "memfd",
		.match = td_is_memfd,
		.dump = td_dump_memfd_file,
		.check = memfd_check,
		.fown = memfd_fown,
		.resolve = memfd_resolve,
		.open = memfd_open,
	},
};

const size_t nr_file_kinds = ARRAY_SIZE(file_kinds);

const struct file_kind *file_kind_get(FdTypes type)
{
	for (size_t i = 0; i < nr_file_kinds; i++)
		if (file_kinds[i].type == type)
			return &file_kinds[i];
	return NULL;
}

const struct file_kind *file_kind_match(const struct td_fd *f)
{
	for (size_t i = 0; i < nr_file_kinds; i++)
		if (file_kinds[i].match && file_kinds[i].match(f))
			return &file_kinds[i];
	return NULL;
}

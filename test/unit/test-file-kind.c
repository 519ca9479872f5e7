/*
 * The table of kinds of open file (criu/files/file-kind.c) and the socket
 * family table (criu/net/sk-family.c), with no process and no image:
 * - complete: every FdTypes value criu dumps (by a kind or a socket
 *   family) has a kind with what restore needs of it, each type once;
 * - each kind's pure check op refuses an entry lacking its description
 *   ("lacks its description") and takes a minimal sane one;
 * - at dump, at most one kind claims any descriptor, and the one
 *   expected: descriptors of every kind, and of what no kind takes;
 * - a pty file's slave path entry shared with a descriptor or another
 *   terminal is refused (the terminal kind's resolve op).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "unit.h"
#include "files/file-kind.h"
#include "files/files-dump.h"
#include "net/sk-family.h"
#include "sk-inet.pb-c.h"
#include "sk-unix.pb-c.h"
#include "task/rtree.h"
#include "util/log.h"

static char logpath[64];

/* Errors go to stderr and to this log file, so cases can check the text. */
static void log_capture(void)
{
	snprintf(logpath, sizeof(logpath), "/tmp/criu-test-file-kind-log.%d", (int)getpid());
	log_init(LOG_ERROR, logpath);
}

static char *log_captured(void)
{
	char *s;

	log_fini();
	log_init(DEFAULT_LOGLEVEL, NULL);
	s = unit_slurp(logpath, NULL);
	unlink(logpath);
	return s ? s : strdup("");
}

/* Has restore what it needs of this kind? */
static int restorable(const struct file_kind *k)
{
	return k && k->name && k->check && (k->open || k->open_host);
}

static int test_complete(void)
{
	for (size_t i = 0; i < nr_file_kinds; i++) {
		const struct file_kind *k = &file_kinds[i];

		if (!restorable(k)) {
			snprintf(unit_fail_msg, sizeof(unit_fail_msg), "kind %d (%s) lacks check or open", k->type,
				 k->name ? k->name : "?");
			return 1;
		}
		/* dumped by itself: claimed by its match op */
		CHECK(!k->dump == !k->match);
		CHECK(file_kind_get(k->type) == k);
		for (size_t j = i + 1; j < nr_file_kinds; j++)
			CHECK(file_kinds[j].type != k->type);
	}
	for (size_t i = 0; i < nr_sk_families; i++) {
		const struct sk_family *f = &sk_families[i];

		CHECK(sk_family_get(f->family) == f);
		if (f->dump && !restorable(file_kind_get(f->type))) {
			snprintf(unit_fail_msg, sizeof(unit_fail_msg),
				 "socket family %s is dumped as type %d, which no kind restores", f->name, f->type);
			return 1;
		}
	}
	/* what criu dumps today, by name */
	static const FdTypes dumped[] = {FD_TYPES__REG,	     FD_TYPES__PIPE,	FD_TYPES__FIFO,	     FD_TYPES__INETSK,
					 FD_TYPES__UNIXSK,   FD_TYPES__EVENTFD, FD_TYPES__EVENTPOLL, FD_TYPES__INOTIFY,
					 FD_TYPES__SIGNALFD, FD_TYPES__TTY,	FD_TYPES__TIMERFD,   FD_TYPES__MEMFD};
	for (size_t i = 0; i < sizeof(dumped) / sizeof(dumped[0]); i++)
		CHECK(restorable(file_kind_get(dumped[i])));
	CHECK(!file_kind_get(FD_TYPES__UND));
	CHECK(!file_kind_get(FD_TYPES__PACKETSK));
	return 0;
}

static int test_socket_families(void)
{
	CHECK(sk_family_get(AF_UNIX) && sk_family_get(AF_UNIX)->dump &&
	      sk_family_get(AF_UNIX)->type == FD_TYPES__UNIXSK);
	CHECK(sk_family_get(AF_INET) && sk_family_get(AF_INET)->dump &&
	      sk_family_get(AF_INET)->type == FD_TYPES__INETSK);
	CHECK(sk_family_get(AF_INET6) && sk_family_get(AF_INET6)->dump &&
	      sk_family_get(AF_INET6)->type == FD_TYPES__INETSK);
	/* named in the refusal, not dumped */
	CHECK(sk_family_get(AF_NETLINK) && !sk_family_get(AF_NETLINK)->dump);
	CHECK_STR(sk_family_get(AF_PACKET)->name, "AF_PACKET");
	CHECK(!sk_family_get(AF_BLUETOOTH));
	return 0;
}

/* An entry of each kind's type with no description at all: refused, saying so. */
static int test_check_lacks_description(void)
{
	for (size_t i = 0; i < nr_file_kinds; i++) {
		FileEntry fe = FILE_ENTRY__INIT;
		char want[96], *log;
		int ret;

		fe.type = file_kinds[i].type;
		fe.id = 7000 + (uint32_t)i;
		log_capture();
		ret = file_kinds[i].check(&fe);
		log = log_captured();
		snprintf(want, sizeof(want), "files.img: file %u of type %d lacks its description", fe.id, fe.type);
		if (ret != -EINVAL || !strstr(log, want)) {
			snprintf(unit_fail_msg, sizeof(unit_fail_msg),
				 "kind %s: %d for an entry without its description, said: %.300s", file_kinds[i].name,
				 ret, log);
			free(log);
			return 1;
		}
		free(log);
		if (file_kinds[i].fown)
			CHECK(file_kinds[i].fown(&fe) == NULL);
	}
	return 0;
}

/* A socket entry without its options lacks its description too. */
static int test_check_socket_without_opts(void)
{
	FileEntry fe = FILE_ENTRY__INIT;
	UnixSkEntry u = UNIX_SK_ENTRY__INIT;
	InetSkEntry in = INET_SK_ENTRY__INIT;

	fe.type = FD_TYPES__UNIXSK;
	fe.usk = &u;
	CHECK(file_kind_get(FD_TYPES__UNIXSK)->check(&fe) == -EINVAL);
	fe.type = FD_TYPES__INETSK;
	fe.usk = NULL;
	fe.isk = &in;
	CHECK(file_kind_get(FD_TYPES__INETSK)->check(&fe) == -EINVAL);
	return 0;
}

/* Minimal sane entries pass their kind's check, and give their owner. */
static int test_check_accepts(void)
{
	FownEntry fown = FOWN_ENTRY__INIT;
	SkOptsEntry opts = SK_OPTS_ENTRY__INIT;
	RegFileEntry reg = REG_FILE_ENTRY__INIT;
	PipeEntry pipe = PIPE_ENTRY__INIT;
	FifoEntry fifo = FIFO_ENTRY__INIT;
	TtyFileEntry tty = TTY_FILE_ENTRY__INIT;
	EventfdFileEntry efd = EVENTFD_FILE_ENTRY__INIT;
	SignalfdEntry sgfd = SIGNALFD_ENTRY__INIT;
	TimerfdEntry tfd = TIMERFD_ENTRY__INIT;
	EventpollFileEntry epfd = EVENTPOLL_FILE_ENTRY__INIT;
	InotifyFileEntry ify = INOTIFY_FILE_ENTRY__INIT;
	MemfdFileEntry memfd = MEMFD_FILE_ENTRY__INIT;
	UnixSkEntry usk = UNIX_SK_ENTRY__INIT;
	InetSkEntry isk = INET_SK_ENTRY__INIT;
	FileEntry e[12];

	for (size_t i = 0; i < 12; i++)
		file_entry__init(&e[i]);
	reg.fown = pipe.fown = tty.fown = efd.fown = sgfd.fown = tfd.fown = epfd.fown = ify.fown = memfd.fown =
		usk.fown = isk.fown = &fown;
	reg.name = "/etc/hostname";
	usk.type = SOCK_STREAM;
	usk.state = 7; /* TCP_CLOSE: unconnected */
	usk.opts = &opts;
	isk.family = AF_INET;
	isk.type = SOCK_STREAM;
	isk.proto = 6;	/* IPPROTO_TCP */
	isk.state = 10; /* TCP_LISTEN */
	isk.src_port = 8080;
	isk.opts = &opts;
	e[0].type = FD_TYPES__REG, e[0].reg = &reg;
	e[1].type = FD_TYPES__PIPE, e[1].pipe = &pipe;
	e[2].type = FD_TYPES__FIFO, e[2].fifo = &fifo;
	e[3].type = FD_TYPES__TTY, e[3].tty = &tty;
	e[4].type = FD_TYPES__EVENTFD, e[4].efd = &efd;
	e[5].type = FD_TYPES__SIGNALFD, e[5].sgfd = &sgfd;
	e[6].type = FD_TYPES__TIMERFD, e[6].tfd = &tfd;
	e[7].type = FD_TYPES__EVENTPOLL, e[7].epfd = &epfd;
	e[8].type = FD_TYPES__INOTIFY, e[8].ify = &ify;
	e[9].type = FD_TYPES__MEMFD, e[9].memfd = &memfd;
	e[10].type = FD_TYPES__UNIXSK, e[10].usk = &usk;
	e[11].type = FD_TYPES__INETSK, e[11].isk = &isk;
	for (size_t i = 0; i < 12; i++) {
		const struct file_kind *k = file_kind_get(e[i].type);

		CHECK(k);
		if (k->check(&e[i])) {
			snprintf(unit_fail_msg, sizeof(unit_fail_msg), "kind %s refuses a sane entry", k->name);
			return 1;
		}
		/* a FIFO's owner is on its path entry */
		CHECK(e[i].type == FD_TYPES__FIFO ? !k->fown : k->fown(&e[i]) == &fown);
	}
	/* and what a kind's check adds: a UDP socket in the listening state */
	isk.type = SOCK_DGRAM;
	isk.proto = 17;
	CHECK(file_kind_get(FD_TYPES__INETSK)->check(&e[11]) == -EINVAL);
	return 0;
}

/* A descriptor as /proc would show it. */
static struct td_fd *fd_of(struct td_fd *f, const char *link, mode_t mode, unsigned ma, unsigned mi, nlink_t nlink,
			   uint32_t flags)
{
	memset(f, 0, sizeof(*f));
	f->fd = 3;
	f->lfd = -1;
	snprintf(f->link, sizeof(f->link), "%s", link);
	f->st.st_mode = mode;
	f->st.st_rdev = makedev(ma, mi);
	f->st.st_nlink = nlink;
	f->fi.flags = flags;
	return f;
}

static int test_match(void)
{
	static const struct {
		const char *link;
		mode_t mode;
		unsigned ma, mi;
		nlink_t nlink;
		uint32_t flags;
		int want; /* FdTypes, or -1: no kind */
	} cases[] = {
		{"socket:[1234]", S_IFSOCK | 0777, 0, 0, 1, O_RDWR, FD_TYPES__UNIXSK},
		{"/run/app.sock", S_IFSOCK | 0755, 0, 0, 1, O_PATH, FD_TYPES__UNIXSK},
		{"anon_inode:[eventfd]", 0600, 0, 0, 1, O_RDWR, FD_TYPES__EVENTFD},
		{"anon_inode:[signalfd]", 0600, 0, 0, 1, O_RDWR, FD_TYPES__SIGNALFD},
		{"anon_inode:[timerfd]", 0600, 0, 0, 1, O_RDWR, FD_TYPES__TIMERFD},
		{"anon_inode:[eventpoll]", 0600, 0, 0, 1, O_RDWR, FD_TYPES__EVENTPOLL},
		{"anon_inode:inotify", 0600, 0, 0, 1, O_RDONLY, FD_TYPES__INOTIFY},
		{"anon_inode:[fanotify]", 0600, 0, 0, 1, O_RDONLY, -1},
		{"anon_inode:[io_uring]", 0600, 0, 0, 1, O_RDWR, -1},
		{"pipe:[77]", S_IFIFO | 0600, 0, 0, 1, O_RDONLY, FD_TYPES__PIPE},
		{"pipe:[77]", S_IFREG | 0600, 0, 0, 1, O_RDONLY, -1},
		{"net:[4026531840]", S_IFREG | 0444, 0, 0, 1, O_RDONLY, -1},
		{"/memfd:buf (deleted)", S_IFREG | 0777, 0, 0, 0, O_RDWR, FD_TYPES__MEMFD},
		{"/memfd:buf (deleted)", S_IFREG | 0777, 0, 0, 0, O_PATH, -1},
		{"/memfd:named on disk", S_IFREG | 0644, 0, 0, 1, O_RDONLY, FD_TYPES__REG},
		{"/etc/hostname", S_IFREG | 0644, 0, 0, 1, O_RDONLY, FD_TYPES__REG},
		{"/old (deleted)", S_IFREG | 0644, 0, 0, 0, O_RDONLY, FD_TYPES__REG}, /* refused by its dump op */
		{"/srv", S_IFDIR | 0755, 0, 0, 2, O_RDONLY | O_DIRECTORY, FD_TYPES__REG},
		{"/tmp/fifo", S_IFIFO | 0600, 0, 0, 1, O_PATH, FD_TYPES__REG},
		{"/dev/null", S_IFCHR | 0666, 1, 3, 1, O_RDWR, FD_TYPES__REG},
		{"/tmp/fifo", S_IFIFO | 0600, 0, 0, 1, O_RDONLY | O_NONBLOCK, FD_TYPES__FIFO},
		{"/dev/pts/3", S_IFCHR | 0620, 136, 3, 1, O_RDWR, FD_TYPES__TTY},
		{"/dev/tty", S_IFCHR | 0666, 5, 0, 1, O_RDWR, FD_TYPES__TTY},
		{"/dev/ptmx", S_IFCHR | 0666, 5, 2, 1, O_RDWR, FD_TYPES__TTY}, /* refused by its dump op */
		{"/dev/pts/3", S_IFCHR | 0620, 136, 3, 1, O_PATH, FD_TYPES__REG},
		{"/dev/kvm", S_IFCHR | 0660, 10, 232, 1, O_RDWR, -1},
		{"/dev/sda", S_IFBLK | 0660, 8, 0, 1, O_RDONLY, -1},
	};
	struct td_fd f;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct file_kind *got;
		int claims = 0;

		fd_of(&f, cases[i].link, cases[i].mode, cases[i].ma, cases[i].mi, cases[i].nlink, cases[i].flags);
		for (size_t k = 0; k < nr_file_kinds; k++)
			claims += file_kinds[k].match && file_kinds[k].match(&f);
		got = file_kind_match(&f);
		if (claims > 1 || (got ? (int)got->type : -1) != cases[i].want) {
			snprintf(unit_fail_msg, sizeof(unit_fail_msg),
				 "%s (mode 0%o, flags %#x): %d kinds claim it, type %d, expected %d", cases[i].link,
				 (unsigned)cases[i].mode, cases[i].flags, claims, got ? (int)got->type : -1,
				 cases[i].want);
			return 1;
		}
	}
	return 0;
}

/*
 * A pty file's slave path entry (regf_id) holds the new master at restore:
 * one a descriptor also uses, or another terminal names, is refused by
 * the kind's resolve op; its own unused entry is taken.
 */
static int tty_resolve_case(bool used, bool shared, const char *want)
{
	FileEntry fe[3] = {FILE_ENTRY__INIT, FILE_ENTRY__INIT, FILE_ENTRY__INIT};
	TtyFileEntry tty[2] = {TTY_FILE_ENTRY__INIT, TTY_FILE_ENTRY__INIT};
	RegFileEntry reg = REG_FILE_ENTRY__INIT;
	struct rfile files[3] = {0};
	struct rproc holder = {.vpid = 42};
	struct rtree t = {.files = files, .nr_files = 3};
	char *log;
	int ret;

	reg.name = "/dev/pts/0";
	for (int i = 0; i < 2; i++) {
		fe[i].id = 10 + (uint32_t)i;
		fe[i].type = FD_TYPES__TTY;
		fe[i].tty = &tty[i];
		tty[i].has_regf_id = true;
		tty[i].regf_id = shared || !i ? 12 : 13;
		tty[i].tty_info_id = (uint32_t)i + 1;
	}
	fe[2].id = 12;
	fe[2].type = FD_TYPES__REG;
	fe[2].reg = &reg;
	hmap_init(&t.file_by_id);
	for (int i = 0; i < 3; i++) {
		files[i].fe = &fe[i];
		hmap_put_int(&t.file_by_id, fe[i].id, &files[i]);
	}
	if (used) {
		files[2].holder = &holder;
		files[2].holder_fd = 5;
	}
	log_capture();
	ret = file_kind_get(FD_TYPES__TTY)->resolve(&t, &files[0]);
	log = log_captured();
	hmap_free(&t.file_by_id);
	if ((want ? ret != -EINVAL || !strstr(log, want) : ret != 0)) {
		snprintf(unit_fail_msg, sizeof(unit_fail_msg), "used %d shared %d: %d, said: %.300s", used, shared, ret,
			 log);
		free(log);
		return 1;
	}
	free(log);
	return 0;
}

static int test_tty_slave_path(void)
{
	CHECK(file_kind_get(FD_TYPES__TTY)->resolve != NULL);
	if (tty_resolve_case(false, false, NULL))
		return 1;
	if (tty_resolve_case(true, false, "which fd 5 of process 42 uses too"))
		return 1;
	return tty_resolve_case(false, true, "of different terminals (1, 2), name the same slave path entry 12");
}

static const struct unit_case cases[] = {
	{"file_kind_complete", test_complete},
	{"file_kind_socket_families", test_socket_families},
	{"file_kind_check_lacks_description", test_check_lacks_description},
	{"file_kind_check_socket_without_opts", test_check_socket_without_opts},
	{"file_kind_check_accepts", test_check_accepts},
	{"file_kind_match", test_match},
	{"file_kind_tty_slave_path", test_tty_slave_path},
	{},
};

UNIT_MAIN(cases)

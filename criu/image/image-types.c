/*
 * The table of image types: for each, its file name pattern, its magic, the
 * protobuf message of its entries and how long the raw payload after an
 * entry is (pipes-data, sk-queues, System V objects, TCP queues); lookups
 * by type, by file name and by magic. image/image.c writes and reads images
 * against it.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "image/image.h"
#include "util/util.h"

#include "inventory.pb-c.h"
#include "mnt.pb-c.h"
#include "core.pb-c.h"
#include "mm.pb-c.h"
#include "pagemap.pb-c.h"
#include "pstree.pb-c.h"
#include "fdinfo.pb-c.h"
#include "fs.pb-c.h"
#include "tty.pb-c.h"
#include "netdev.pb-c.h"
#include "seccomp.pb-c.h"
#include "sk-packet.pb-c.h"
#include "pipe.pb-c.h"
#include "pipe-data.pb-c.h"
#include "fifo.pb-c.h"
#include "sa.pb-c.h"
#include "creds.pb-c.h"
#include "userns.pb-c.h"
#include "utsns.pb-c.h"
#include "ipc-var.pb-c.h"
#include "memfd.pb-c.h"
#include "ipc-shm.pb-c.h"
#include "ipc-sem.pb-c.h"
#include "ipc-msg.pb-c.h"
#include "timer.pb-c.h"
#include "tcp-stream.pb-c.h"
#include "timens.pb-c.h"
#include "pidns.pb-c.h"
#include "cgroup.pb-c.h"
#include "stats.pb-c.h"

/* A pipe_data_entry is followed by the `bytes` bytes that were in the pipe. */
static uint64_t pipe_data_payload_len(const ProtobufCMessage *msg)
{
	return ((const PipeDataEntry *)msg)->bytes;
}

static uint64_t sk_packet_payload_len(const ProtobufCMessage *msg)
{
	return ((const SkPacketEntry *)msg)->length;
}

/* A segment's bytes, padded to 4; UINT64_MAX for a size no file holds. */
static uint64_t ipc_shm_payload_len(const ProtobufCMessage *msg)
{
	uint64_t size = ((const IpcShmEntry *)msg)->size;

	return size > (UINT64_MAX >> 1) ? UINT64_MAX : (size + 3) & ~3ULL;
}

/* A connection's receive queue, then its send queue. */
static uint64_t tcp_stream_payload_len(const ProtobufCMessage *msg)
{
	const TcpStreamEntry *e = (const TcpStreamEntry *)msg;

	return (uint64_t)e->inq_len + e->outq_len;
}

/* A set's values, 16 bits each, padded to 8 bytes. */
static uint64_t ipc_sem_payload_len(const ProtobufCMessage *msg)
{
	return ((uint64_t)((const IpcSemEntry *)msg)->nsems * 2 + 7) & ~7ULL;
}

/* qnum messages: a 32-bit length, an ipc_msg, its text padded to 8. */
static uint64_t ipc_msg_payload_scan(const ProtobufCMessage *msg, const uint8_t *buf, uint64_t avail)
{
	uint32_t qnum = ((const IpcMsgEntry *)msg)->qnum;
	uint64_t off = 0;

	for (uint32_t i = 0; i < qnum; i++) {
		IpcMsg *m;
		uint32_t len;
		uint64_t text;

		if (avail - off < 4)
			return UINT64_MAX;
		len = get_le32(buf + off);
		off += 4;
		if (len > avail - off || len > IMG_MAX_ENTRY)
			return UINT64_MAX;
		m = ipc_msg__unpack(NULL, len, buf + off);
		if (!m)
			return UINT64_MAX;
		if (m->msize > INT32_MAX) { /* msgsnd takes no more */
			ipc_msg__free_unpacked(m, NULL);
			return UINT64_MAX;
		}
		text = ((uint64_t)m->msize + 7) & ~7ULL;
		ipc_msg__free_unpacked(m, NULL);
		off += len;
		if (text > avail - off)
			return UINT64_MAX;
		off += text;
	}
	return off;
}

/* A protobuf image (or, with magic 0 and pb NULL, a raw one) of type IMG_<t>. */
#define IMG_ROW(t, fmt, m, desc, ...)                                                                                  \
	[IMG_##t] = {.type = IMG_##t, .name = #t, .name_fmt = fmt, .magic = m, .pb = desc, ##__VA_ARGS__}

/* clang-format off */
static const struct img_type_desc img_types[IMG_NR] = {
	[IMG_INVENTORY] = {
		.type = IMG_INVENTORY,
		.name = "INVENTORY",
		.name_fmt = "inventory.img",
		.magic = 0x58313116U,
		.no_common = true,
		.pb = &inventory_entry__descriptor,
	},
	[IMG_MNTS] = {
		.type = IMG_MNTS,
		.name = "MNTS",
		.name_fmt = "mountpoints-%u.img",
		.magic = 0x55563928U,
		.pb = &mnt_entry__descriptor,
	},
	[IMG_TMPFS_DEV] = {
		.type = IMG_TMPFS_DEV,
		.name = "TMPFS_DEV",
		.name_fmt = "tmpfs-dev-%u.tar.gz.img",
	},
	IMG_ROW(PSTREE, "pstree.img", 0x50273030U, &pstree_entry__descriptor),
	IMG_ROW(CORE, "core-%u.img", 0x55053847U, &core_entry__descriptor),
	IMG_ROW(MM, "mm-%u.img", 0x57492820U, &mm_entry__descriptor),
	IMG_ROW(PAGEMAP, "pagemap-%u.img", 0x56084025U, &pagemap_entry__descriptor,
		.pb_head = &pagemap_head__descriptor),
	IMG_ROW(PAGES, "pages-%u.img", 0, NULL),
	IMG_ROW(PAGEMAP_SHMEM, "pagemap-shmem-%u.img", 0x56084025U, &pagemap_entry__descriptor,
		.pb_head = &pagemap_head__descriptor),
	IMG_ROW(FILES, "files.img", 0x56303138U, &file_entry__descriptor),
	IMG_ROW(FDINFO, "fdinfo-%u.img", 0x56213732U, &fdinfo_entry__descriptor),
	IMG_ROW(FS, "fs-%u.img", 0x51403912U, &fs_entry__descriptor),
	IMG_ROW(IDS, "ids-%u.img", 0x54432030U, &task_kobj_ids_entry__descriptor),
	IMG_ROW(PIPES, "pipes.img", 0x56513555U, &pipe_entry__descriptor),
	IMG_ROW(PIPES_DATA, "pipes-data.img", 0x56453709U, &pipe_data_entry__descriptor,
		.payload_len = pipe_data_payload_len),
	IMG_ROW(FIFO, "fifo.img", 0x58364939U, &fifo_entry__descriptor),
	IMG_ROW(FIFO_DATA, "fifo-data.img", 0x59333054U, &pipe_data_entry__descriptor,
		.payload_len = pipe_data_payload_len),
	IMG_ROW(SIGACT, "sigacts-%u.img", 0x55344201U, &sa_entry__descriptor),
	IMG_ROW(CREDS, "creds-%u.img", 0x54023547U, &creds_entry__descriptor),
	IMG_ROW(UTSNS, "utsns-%u.img", 0x54473203U, &utsns_entry__descriptor),
	IMG_ROW(IPC_VAR, "ipcns-var-%u.img", 0x53115007U, &ipc_var_entry__descriptor),
	IMG_ROW(ITIMERS, "itimers-%u.img", 0x57464056U, &itimer_entry__descriptor),
	IMG_ROW(TTY_INFO, "tty-info.img", 0x59453036U, &tty_info_entry__descriptor),
	IMG_ROW(NETDEV, "netdev-%u.img", 0x57373951U, &net_device_entry__descriptor),
	IMG_ROW(SECCOMP, "seccomp.img", 0x64413049U, &seccomp_entry__descriptor),
	IMG_ROW(SK_QUEUES, "sk-queues.img", 0x56264026U, &sk_packet_entry__descriptor,
		.payload_len = sk_packet_payload_len),
	IMG_ROW(MEMFD_INODE, "memfd.img", 0x48453499U, &memfd_inode_entry__descriptor),
	IMG_ROW(IPCNS_SHM, "ipcns-shm-%u.img", 0x46283044U, &ipc_shm_entry__descriptor,
		.payload_len = ipc_shm_payload_len, .payload_in_file = true),
	IMG_ROW(IPCNS_SEM, "ipcns-sem-%u.img", 0x59573019U, &ipc_sem_entry__descriptor,
		.payload_len = ipc_sem_payload_len),
	IMG_ROW(IPCNS_MSG, "ipcns-msg-%u.img", 0x55453737U, &ipc_msg_entry__descriptor,
		.payload_scan = ipc_msg_payload_scan),
	IMG_ROW(TCP_STREAM, "tcp-stream-%x.img", 0x51465506U, &tcp_stream_entry__descriptor,
		.payload_len = tcp_stream_payload_len),
	IMG_ROW(TIMENS, "timens-%u.img", 0x43114433U, &timens_entry__descriptor),
	IMG_ROW(NETNS, "netns-%u.img", 0x55933752U, &netns_entry__descriptor),
	IMG_ROW(PIDNS, "pidns-%u.img", 0x61157326U, &pidns_entry__descriptor),
	IMG_ROW(CGROUP, "cgroup.img", 0x59383330U, &cgroup_entry__descriptor),
	IMG_ROW(USERNS, "userns-%u.img", 0x55474906U, &userns_entry__descriptor),
	IMG_ROW(STATS_DUMP, "stats-dump", 0x57093306U, &stats_entry__descriptor, .service = true),
	IMG_ROW(STATS_RESTORE, "stats-restore", 0x57093306U, &stats_entry__descriptor, .service = true),
};
/* clang-format on */

const struct img_type_desc *img_desc(enum img_type type)
{
	if ((int)type < 0 || type >= IMG_NR)
		return NULL;
	return &img_types[type];
}

/* Does `s` match `fmt`, where "%u" stands for a decimal number that fits in 32 bits? */
static bool name_matches(const char *fmt, const char *s)
{
	while (*fmt) {
		if (fmt[0] == '%' && (fmt[1] == 'u' || fmt[1] == 'x')) {
			bool hex = fmt[1] == 'x';
			uint64_t v = 0;

			if (!(hex ? isxdigit((unsigned char)*s) : isdigit((unsigned char)*s)))
				return false;
			while (hex ? isxdigit((unsigned char)*s) : isdigit((unsigned char)*s)) {
				int dv =
					isdigit((unsigned char)*s) ? *s - '0' : (tolower((unsigned char)*s) - 'a' + 10);

				v = v * (hex ? 16 : 10) + (uint64_t)dv;
				if (v > UINT32_MAX)
					return false;
				s++;
			}
			fmt += 2;
			continue;
		}
		if (*fmt != *s)
			return false;
		fmt++;
		s++;
	}
	return *s == '\0';
}

const struct img_type_desc *img_desc_by_filename(const char *basename)
{
	const char *slash;

	if (!basename)
		return NULL;
	slash = strrchr(basename, '/');
	if (slash)
		basename = slash + 1;
	for (size_t i = 0; i < IMG_NR; i++)
		if (name_matches(img_types[i].name_fmt, basename))
			return &img_types[i];
	return NULL;
}

/* A protobuf image type by its own magic (common-magic types only). */
const struct img_type_desc *img_desc_by_magic(uint32_t magic)
{
	for (size_t i = 0; i < IMG_NR; i++)
		if (img_types[i].pb && !img_types[i].no_common && !img_types[i].service && img_types[i].magic == magic)
			return &img_types[i];
	return NULL;
}

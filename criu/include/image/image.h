/*
 * Image files in CRIU's "images v1.1" format:
 *   u32 IMG_COMMON magic (0x54564319), u32 type magic   -- inventory.img has only its own magic
 *   then entries: u32 little-endian byte count, then that many bytes of packed protobuf.
 * Raw payload images (tmpfs archives, pages) have no header and no framing.
 *
 * Writers write to a temporary name in the images directory and rename into
 * place on commit, so a failed dump never leaves a valid-looking image behind.
 * Readers reject a wrong magic, a truncated entry or an absurd size with an
 * error naming the file and the byte offset.
 */
#ifndef CRIU_IMAGE_H
#define CRIU_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <protobuf-c/protobuf-c.h>

#define IMG_COMMON_MAGIC 0x54564319U
#define IMG_MAX_ENTRY	 (16U << 20) /* larger entries are rejected as corrupt */

enum img_type {
	IMG_INVENTORY,
	IMG_MNTS,      /* mountpoints-%u.img, mnt_entry */
	IMG_TMPFS_DEV, /* tmpfs-dev-%u.tar.gz.img, raw gzip'd tar */
	/* The process engine's images (file names and magics as upstream's). */
	IMG_PSTREE,	   /* pstree.img, pstree_entry per task */
	IMG_CORE,	   /* core-<tid>.img, one core_entry */
	IMG_MM,		   /* mm-<pid>.img, one mm_entry */
	IMG_PAGEMAP,	   /* pagemap-<pid>.img, a pagemap_head, then pagemap_entry */
	IMG_PAGES,	   /* pages-<pages_id>.img, raw pages */
	IMG_PAGEMAP_SHMEM, /* pagemap-shmem-<shmid>.img: a shared memory object's pages */
	IMG_FILES,	   /* files.img, file_entry per open file */
	IMG_FDINFO,	   /* fdinfo-<files id>.img, fdinfo_entry per descriptor */
	IMG_FS,		   /* fs-<pid>.img, one fs_entry */
	IMG_IDS,	   /* ids-<pid>.img, one task_kobj_ids_entry */
	IMG_PIPES,	   /* pipes.img, pipe_entry (older images; files.img now) */
	IMG_PIPES_DATA,	   /* pipes-data.img, pipe_data_entry, each followed by its bytes */
	IMG_FIFO,	   /* fifo.img, fifo_entry (older images; files.img now) */
	IMG_FIFO_DATA,	   /* fifo-data.img, like pipes-data.img */
	IMG_SIGACT,	   /* sigacts-<pid>.img, sa_entry per signal (older images) */
	IMG_CREDS,	   /* creds-<pid>.img, one creds_entry (older images) */
	IMG_UTSNS,	   /* utsns-<ns id>.img, one utsns_entry */
	IMG_IPC_VAR,	   /* ipcns-var-<ns id>.img, one ipc_var_entry */
	IMG_ITIMERS,	   /* itimers-<pid>.img, three itimer_entry (older images) */
	IMG_TTY_INFO,	   /* tty-info.img, tty_info_entry per terminal */
	IMG_NETDEV,	   /* netdev-<ns id>.img, net_device_entry per device */
	IMG_SECCOMP,	   /* seccomp.img, one seccomp_entry with every filter */
	IMG_SK_QUEUES,	   /* sk-queues.img, sk_packet_entry per packet, each followed by its bytes */
	IMG_MEMFD_INODE,   /* memfd.img, memfd_inode_entry per memfd inode */
	IMG_IPCNS_SHM,	   /* ipcns-shm-<ns id>.img, ipc_shm_entry per segment, each followed by its bytes */
	IMG_IPCNS_SEM,	   /* ipcns-sem-<ns id>.img, ipc_sem_entry per set, each followed by its values */
	IMG_IPCNS_MSG,	   /* ipcns-msg-<ns id>.img, ipc_msg_entry per queue, each followed by its messages */
	IMG_TCP_STREAM,	   /* tcp-stream-<socket inode, hex>.img, one tcp_stream_entry and its queues */
	IMG_TIMENS,	   /* timens-<ns id>.img, one timens_entry: the clocks at dump (id 0: criu's) */
	IMG_NETNS,	   /* netns-<ns id>.img, one netns_entry (criu: only an external one's ext_key) */
	IMG_PIDNS,	   /* pidns-<ns id>.img, one pidns_entry: an external pid namespace's ext_key */
	IMG_CGROUP,	   /* cgroup.img, one cgroup_entry: the tree's cgroup sets and directories */
	IMG_USERNS,	   /* userns-<ns id>.img, one userns_entry: a user namespace's maps */
	IMG_STATS_DUMP,	   /* stats-dump, a service image: a dump's timings (upstream); never read back */
	IMG_STATS_RESTORE, /* stats-restore, the same for a restore (same magic) */
	IMG_NR,
	IMG_ANY = -1, /* for img_reader_open: accept any known type */
};

struct img_type_desc {
	enum img_type type;
	const char *name;		      /* short name, e.g. "MNTS" */
	const char *name_fmt;		      /* file name pattern with one %u (or none) */
	uint32_t magic;			      /* the type's own magic; 0 for raw images */
	bool service; /* IMG_SERVICE_MAGIC, not IMG_COMMON, before its own (stats-dump) */
	bool no_common;			      /* inventory: only its own magic, no IMG_COMMON */
	const ProtobufCMessageDescriptor *pb; /* NULL for raw images */
	/* The type of the first entry when it differs from pb (pagemap's head). */
	const ProtobufCMessageDescriptor *pb_head;
	/* Bytes of raw data that follow an entry in the file, outside the
	 * protobuf framing (pipes-data: pipe_data_entry.bytes); NULL if none. */
	uint64_t (*payload_len)(const ProtobufCMessage *msg);
	/* For payloads whose length the entry doesn't give (a message queue's
	 * messages): the bytes of payload that start at buf (avail there), or
	 * UINT64_MAX if they are malformed. Checked on read only. */
	uint64_t (*payload_scan)(const ProtobufCMessage *msg, const uint8_t *buf, uint64_t avail);
	/* Payloads as large as the memory they hold (a System V segment's
	 * bytes): a reader opened on a file reads the entries alone and leaves
	 * the payloads there, for the caller to read at payload_off (criu's
	 * RSS must not grow with the dumped memory). payload_len types only. */
	bool payload_in_file;
};

const struct img_type_desc *img_desc(enum img_type type);
/* Identifies an image by its file name (pattern match on name_fmt). */
const struct img_type_desc *img_desc_by_filename(const char *basename);
/* A protobuf image type by the magic after IMG_COMMON (the first of two
 * types sharing one: pagemap before pagemap-shmem); NULL if none. */
const struct img_type_desc *img_desc_by_magic(uint32_t magic);

struct img_writer {
	int dirfd; /* not owned */
	int fd;
	enum img_type type;
	uint64_t off;
	char name[256];
	char tmpname[280];
	uint64_t nr_entries;  /* entries written so far */
	uint64_t payload_due; /* payload bytes the last entry announced, not yet written */
};

/* Creates `<name>` (from name_fmt and id) as a temporary file in dirfd and
 * writes the header. */
int img_writer_open(struct img_writer *w, int dirfd, enum img_type type, unsigned id);
/* In an image with a head type (pagemap), the first entry must be the head
 * and the others must not. In an image with payloads (pipes-data), the
 * entry's payload must be written (img_write_raw) before the next entry. */
int img_write_entry(struct img_writer *w, const ProtobufCMessage *msg);
int img_write_raw(struct img_writer *w, const void *buf, size_t len);
/* Moves `len` bytes from the pipe `pipe_fd` into a raw image (splice(2)). */
int img_splice_raw(struct img_writer *w, int pipe_fd, size_t len);
/* An entry and the payload it announces, which must be exactly `len` bytes. */
int img_write_entry_payload(struct img_writer *w, const ProtobufCMessage *msg, const void *data, size_t len);
/* fsyncs, renames the temporary file to its final name, closes. */
int img_writer_commit(struct img_writer *w);
/* Closes and unlinks the temporary file; safe to call twice or after commit. */
void img_writer_abort(struct img_writer *w);

/*
 * The images of one dump (image-set.c): each opened as a pending writer;
 * img_set_commit() removes what an earlier dump left in the directory that
 * this one does not replace, then renames every image into place in the
 * order they were opened; img_set_discard() unlinks them all. Both leave
 * the set empty.
 */
struct img_set {
	int dirfd; /* not owned */
	struct img_writer **w;
	size_t nr;
};

struct img_writer *img_set_new(struct img_set *s, enum img_type type, unsigned id);
int img_set_commit(struct img_set *s);
void img_set_discard(struct img_set *s);

struct img_reader {
	int fd;
	const struct img_type_desc *desc;
	uint64_t off;
	uint64_t size;
	char path[512]; /* for error messages */
	/* Protobuf images are parsed from memory: the whole file (read at open,
	 * owned) or the caller's buffer. Raw images, and payload_in_file ones
	 * opened on a file (each entry read as it comes), keep fd open
	 * instead, and buf is NULL. */
	const uint8_t *buf;
	void *owned;
	uint64_t nr_entries; /* entries read so far */
	/* The payload of the entry read last (pipes-data), in buf; NULL/0 when
	 * the type has none. Valid until the reader is closed. */
	const uint8_t *payload;
	size_t payload_len;
	/* Where that payload starts in the image; for payload_in_file types
	 * opened on a file, payload is NULL and this is the way to it (pread
	 * on fd). */
	uint64_t payload_off;
};

/* Opens `name` relative to dirfd (or absolute), checks the magics against
 * `expect` (IMG_ANY: identify it by magic). -EINVAL with an error printed when
 * the file is not the expected image. */
int img_reader_open(struct img_reader *r, int dirfd, const char *name, enum img_type expect);
/* Same from an in-memory buffer (fuzzing, tests); the buffer must outlive r. */
int img_reader_open_mem(struct img_reader *r, const void *buf, size_t len, const char *label, enum img_type expect);
/* Reads the next entry: 1 and *msg set (free with protobuf_c_message_free_unpacked),
 * 0 at a clean end of file, <0 on a truncated/oversized/undecodable entry.
 * The first entry of a pagemap image is a pagemap_head (desc->pb_head); an
 * entry's payload, if the type has one, is checked and skipped, and
 * r->payload points to it (or, read from a file, r->payload_off says where
 * it is for a payload_in_file type). */
int img_read_entry(struct img_reader *r, ProtobufCMessage **msg);
void img_reader_close(struct img_reader *r);

/* `criu show`: prints every entry of the image at `path`, one line per entry,
 * "name: value" pairs separated by spaces; `fields` is NULL (all set fields)
 * or "a,b,c". Returns 0, or <0 after printing an error. */
int show_image(const char *path, const char *fields, FILE *out);
/* One entry as `criu show` prints it, without the newline: all set fields
 * (fields == NULL) or the comma-separated selection. Returns 0, or <0 after
 * printing an error (unknown field name, output error). */
int show_entry(FILE *out, const ProtobufCMessage *msg, const char *fields);

/* The 32-bit little-endian words images frame entries and payloads with. */
static inline void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static inline uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

#endif

/*
 * Image files: round trips, atomic writers, rejection of broken files,
 * `criu show` output (golden files), compatibility with Debian's crit and a
 * replay of the fuzz corpus.
 *
 * UNIT_UPDATE_GOLDEN=1 rewrites the golden files in test/unit/fixtures/image/;
 * UNIT_UPDATE_CORPUS=1 regenerates the seeds in test/fuzz/corpus/image/.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit.h"
#include "image/image.h"
#include "util/log.h"
#include "inventory.pb-c.h"
#include "mnt.pb-c.h"
#include "ipc-shm.pb-c.h"

#define GOLDEN_DIR "test/unit/fixtures/image/"
#define CORPUS_DIR "test/fuzz/corpus/image/"

static char tmpdir[64];
static char logpath[128];

/* --------------------------------------------------------------- helpers */

static void rm_tmpdir(void)
{
	DIR *d;
	struct dirent *de;

	if (!tmpdir[0])
		return;
	d = opendir(tmpdir);
	if (d) {
		int dfd = dirfd(d);

		while ((de = readdir(d)))
			if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
				unlinkat(dfd, de->d_name, 0);
		closedir(d);
	}
	rmdir(tmpdir);
	tmpdir[0] = '\0';
}

/* A fresh empty directory per case; returns an fd for it. */
static int new_tmpdir(void)
{
	rm_tmpdir();
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/criu-test-image.XXXXXX");
	if (!mkdtemp(tmpdir)) {
		tmpdir[0] = '\0';
		return -1;
	}
	return open(tmpdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

static int count_dir_entries(int dfd)
{
	DIR *d = fdopendir(dup(dfd));
	struct dirent *de;
	int n = 0;

	if (!d)
		return -1;
	rewinddir(d);
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static bool exists_at(int dfd, const char *name)
{
	return faccessat(dfd, name, F_OK, 0) == 0;
}

/* Errors go to stderr and to this log file, so cases can check the text. */
static void log_capture(void)
{
	snprintf(logpath, sizeof(logpath), "/tmp/criu-test-image-log.%d", (int)getpid());
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

/* Checks that the last captured log contains every one of the strings. */
#define CHECK_LOG(...)                                                                                                 \
	do {                                                                                                           \
		char *_log = log_captured();                                                                           \
		const char *_want[] = {__VA_ARGS__};                                                                   \
		for (size_t _i = 0; _i < sizeof(_want) / sizeof(_want[0]); _i++) {                                     \
			if (!strstr(_log, _want[_i])) {                                                                \
				snprintf(unit_fail_msg, sizeof(unit_fail_msg), "%s:%d: log lacks \"%s\": %s",          \
					 __FILE__, __LINE__, _want[_i], _log);                                         \
				free(_log);                                                                            \
				return 1;                                                                              \
			}                                                                                              \
		}                                                                                                      \
		free(_log);                                                                                            \
	} while (0)

static char s_root[] = "/bar mount/ünïcødé 日本";
static char s_mountpoint[] = "/mnt/with space";
static char s_source[] = "none";
static char s_options[] = "rw,size=1024k,mode=755";
static char s_fsname[] = "fuse.sshfs";
static char s_ext_key[] = "ext\tkey\n1";
static char s_slash[] = "/";
static char s_proc[] = "proc";
static char s_empty[] = "";
static char s_rw[] = "rw";

/* Every field set, strings with spaces, tabs, newlines and UTF-8. */
static void mnt_full(MntEntry *m)
{
	mnt_entry__init(m);
	m->fstype = FSTYPE__TMPFS;
	m->mnt_id = 0x22;
	m->root_dev = (0x103U << 20) | 0x5;
	m->parent_mnt_id = 1;
	m->flags = 0x100000 | 0x2;
	m->root = s_root;
	m->mountpoint = s_mountpoint;
	m->source = s_source;
	m->options = s_options;
	m->has_shared_id = true;
	m->shared_id = 7;
	m->has_master_id = true;
	m->master_id = 0xffffffff;
	m->has_with_plugin = true;
	m->with_plugin = false;
	m->has_ext_mount = true;
	m->ext_mount = true;
	m->fsname = s_fsname;
	m->has_internal_sharing = true;
	m->internal_sharing = true;
	m->has_deleted = true;
	m->deleted = false;
	m->has_sb_flags = true;
	m->sb_flags = 0x1;
	m->ext_key = s_ext_key;
}

/* Only the required fields; an empty source. */
static void mnt_min(MntEntry *m)
{
	mnt_entry__init(m);
	m->fstype = FSTYPE__PROC;
	m->mnt_id = 35;
	m->root_dev = 4;
	m->parent_mnt_id = 0x22;
	m->flags = 0;
	m->root = s_slash;
	m->mountpoint = s_proc;
	m->source = s_empty;
	m->options = s_rw;
}

static TaskKobjIdsEntry inv_ids;

static void inventory(InventoryEntry *e)
{
	inventory_entry__init(e);
	task_kobj_ids_entry__init(&inv_ids);
	inv_ids.vm_id = 1;
	inv_ids.files_id = 2;
	inv_ids.fs_id = 3;
	inv_ids.sighand_id = 4;
	inv_ids.has_mnt_ns_id = true;
	inv_ids.mnt_ns_id = 5;
	e->img_version = 2;
	e->has_fdinfo_per_id = true;
	e->fdinfo_per_id = true;
	e->root_ids = &inv_ids;
	e->has_lsmtype = true;
	e->lsmtype = LSMTYPE__APPARMOR;
	e->has_dump_uptime = true;
	e->dump_uptime = 0x123456789aULL;
}

static int write_entries(int dfd, enum img_type type, unsigned id, ProtobufCMessage **msgs, size_t n)
{
	struct img_writer w;

	if (img_writer_open(&w, dfd, type, id) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (img_write_entry(&w, msgs[i]) < 0) {
			img_writer_abort(&w);
			return -1;
		}
	}
	return img_writer_commit(&w);
}

/* mountpoints-1.img with a full and a minimal entry, inventory.img, a raw image. */
static int write_sample_dir(int dfd)
{
	MntEntry full, min;
	InventoryEntry inv;
	ProtobufCMessage *mnts[] = {&full.base, &min.base};
	ProtobufCMessage *invs[] = {&inv.base};
	struct img_writer w;
	static const char tgz[] = "\x1f\x8b\x08\x00 pretend tarball";

	mnt_full(&full);
	mnt_min(&min);
	inventory(&inv);
	if (write_entries(dfd, IMG_MNTS, 1, mnts, 2) < 0 || write_entries(dfd, IMG_INVENTORY, 0, invs, 1) < 0)
		return -1;
	if (img_writer_open(&w, dfd, IMG_TMPFS_DEV, 9) < 0)
		return -1;
	if (img_write_raw(&w, tgz, sizeof(tgz) - 1) < 0) {
		img_writer_abort(&w);
		return -1;
	}
	return img_writer_commit(&w);
}

static bool str_eq(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return !strcmp(a, b);
}

static int mnt_equal(const MntEntry *a, const MntEntry *b)
{
	CHECK(a->fstype == b->fstype);
	CHECK(a->mnt_id == b->mnt_id);
	CHECK(a->root_dev == b->root_dev);
	CHECK(a->parent_mnt_id == b->parent_mnt_id);
	CHECK(a->flags == b->flags);
	CHECK(str_eq(a->root, b->root));
	CHECK(str_eq(a->mountpoint, b->mountpoint));
	CHECK(str_eq(a->source, b->source));
	CHECK(str_eq(a->options, b->options));
	CHECK(a->has_shared_id == b->has_shared_id && a->shared_id == b->shared_id);
	CHECK(a->has_master_id == b->has_master_id && a->master_id == b->master_id);
	CHECK(a->has_with_plugin == b->has_with_plugin && a->with_plugin == b->with_plugin);
	CHECK(a->has_ext_mount == b->has_ext_mount && a->ext_mount == b->ext_mount);
	CHECK(str_eq(a->fsname, b->fsname));
	CHECK(a->has_internal_sharing == b->has_internal_sharing && a->internal_sharing == b->internal_sharing);
	CHECK(a->has_deleted == b->has_deleted && a->deleted == b->deleted);
	CHECK(a->has_sb_flags == b->has_sb_flags && a->sb_flags == b->sb_flags);
	CHECK(str_eq(a->ext_key, b->ext_key));
	return 0;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = v & 0xff;
	p[1] = (v >> 8) & 0xff;
	p[2] = (v >> 16) & 0xff;
	p[3] = (v >> 24) & 0xff;
}

#define MNTS_MAGIC 0x55563928U
#define INV_MAGIC  0x58313116U

/* A MNTS image in memory: header, then `body`. */
static size_t mnts_image(uint8_t *buf, const void *body, size_t len)
{
	put32(buf, IMG_COMMON_MAGIC);
	put32(buf + 4, MNTS_MAGIC);
	memcpy(buf + 8, body, len);
	return 8 + len;
}

/* Packs one minimal mnt entry framed with its size at buf; returns the length. */
static size_t framed_min_entry(uint8_t *buf)
{
	MntEntry m;
	size_t n;

	mnt_min(&m);
	n = protobuf_c_message_pack(&m.base, buf + 4);
	put32(buf, (uint32_t)n);
	return n + 4;
}

/* Opens buf as `expect`, reads all entries; returns the first error, or the count. */
static int read_all_mem(const void *buf, size_t len, enum img_type expect)
{
	struct img_reader r;
	ProtobufCMessage *m;
	int ret, n = 0;

	ret = img_reader_open_mem(&r, buf, len, "mountpoints-1.img", expect);
	if (ret < 0)
		return ret;
	while ((ret = img_read_entry(&r, &m)) > 0) {
		protobuf_c_message_free_unpacked(m, NULL);
		n++;
	}
	img_reader_close(&r);
	return ret < 0 ? ret : n;
}

static char *show_to_string(const char *path, const char *fields, int *ret)
{
	char *s = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&s, &len);

	if (!f)
		return NULL;
	*ret = show_image(path, fields, f);
	fclose(f);
	return s;
}

/* ----------------------------------------------------------------- cases */

static int test_desc_table(void)
{
	const struct img_type_desc *d;

	d = img_desc(IMG_MNTS);
	CHECK(d && d->type == IMG_MNTS && d->magic == MNTS_MAGIC && !d->no_common && d->pb == &mnt_entry__descriptor);
	d = img_desc(IMG_INVENTORY);
	CHECK(d && d->magic == INV_MAGIC && d->no_common && d->pb == &inventory_entry__descriptor);
	d = img_desc(IMG_TMPFS_DEV);
	CHECK(d && d->magic == 0 && !d->pb);
	CHECK(img_desc(IMG_NR) == NULL);
	CHECK(img_desc(IMG_ANY) == NULL);

	CHECK(img_desc_by_filename("mountpoints-12.img") == img_desc(IMG_MNTS));
	CHECK(img_desc_by_filename("/some/dir/mountpoints-0.img") == img_desc(IMG_MNTS));
	CHECK(img_desc_by_filename("inventory.img") == img_desc(IMG_INVENTORY));
	CHECK(img_desc_by_filename("tmpfs-dev-4294967295.tar.gz.img") == img_desc(IMG_TMPFS_DEV));
	CHECK(img_desc_by_filename("tmpfs-dev-4294967296.tar.gz.img") == NULL);
	CHECK(img_desc_by_filename("mountpoints-.img") == NULL);
	CHECK(img_desc_by_filename("mountpoints-1.img.bak") == NULL);
	CHECK(img_desc_by_filename("mountpoints-x1.img") == NULL);
	CHECK(img_desc_by_filename("inventory.im") == NULL);
	CHECK(img_desc_by_filename("") == NULL);

	/* by the magic after IMG_COMMON: inventory has none; of the two
	 * pagemap types sharing one, the process's */
	CHECK(img_desc_by_magic(MNTS_MAGIC) == img_desc(IMG_MNTS));
	CHECK(img_desc_by_magic(img_desc(IMG_PAGEMAP)->magic) == img_desc(IMG_PAGEMAP));
	CHECK(img_desc_by_magic(INV_MAGIC) == NULL);
	CHECK(img_desc_by_magic(0) == NULL);
	return 0;
}

static int test_roundtrip_mnts(void)
{
	int dfd = new_tmpdir();
	MntEntry want[3];
	ProtobufCMessage *msgs[3] = {&want[0].base, &want[1].base, &want[2].base};
	struct img_reader r;
	ProtobufCMessage *m;
	struct stat st;
	uint8_t *raw;
	size_t len;
	int n = 0;

	CHECK(dfd >= 0);
	mnt_full(&want[0]);
	mnt_min(&want[1]);
	mnt_min(&want[2]);
	want[2].mnt_id = 0xffffffff;
	want[2].has_shared_id = true;
	want[2].shared_id = 0;
	want[2].fsname = s_empty;
	CHECK(write_entries(dfd, IMG_MNTS, 7, msgs, 3) == 0);

	/* Header: little-endian common and type magic; images are private. */
	CHECK(fstatat(dfd, "mountpoints-7.img", &st, 0) == 0);
	CHECK((st.st_mode & 0777) == 0600);
	CHECK(img_reader_open(&r, dfd, "mountpoints-7.img", IMG_MNTS) == 0);
	raw = (uint8_t *)r.buf;
	CHECK(r.size == (uint64_t)st.st_size && r.off == 8);
	CHECK(!memcmp(raw, "\x19\x43\x56\x54\x28\x39\x56\x55", 8));
	len = protobuf_c_message_get_packed_size(msgs[0]);
	CHECK(raw[8] == (len & 0xff) && raw[9] == (len >> 8) && raw[10] == 0 && raw[11] == 0);

	while (img_read_entry(&r, &m) > 0) {
		CHECK(n < 3);
		CHECK(m->descriptor == &mnt_entry__descriptor);
		int bad = mnt_equal((MntEntry *)m, &want[n]);
		protobuf_c_message_free_unpacked(m, NULL);
		CHECK(!bad);
		n++;
	}
	CHECK(n == 3);
	CHECK(r.off == r.size);
	CHECK(img_read_entry(&r, &m) == 0 && m == NULL); /* stays at EOF */
	img_reader_close(&r);
	img_reader_close(&r); /* twice is fine */

	/* IMG_ANY finds the type by its magic, whatever the file is called. */
	CHECK(renameat(dfd, "mountpoints-7.img", dfd, "renamed") == 0);
	CHECK(img_reader_open(&r, dfd, "renamed", IMG_ANY) == 0);
	CHECK(r.desc == img_desc(IMG_MNTS));
	img_reader_close(&r);
	close(dfd);
	return 0;
}

static int test_roundtrip_inventory(void)
{
	int dfd = new_tmpdir();
	InventoryEntry inv;
	ProtobufCMessage *msgs[] = {&inv.base};
	struct img_reader r;
	ProtobufCMessage *m;
	InventoryEntry *got;

	CHECK(dfd >= 0);
	inventory(&inv);
	CHECK(write_entries(dfd, IMG_INVENTORY, 0, msgs, 1) == 0);
	CHECK(exists_at(dfd, "inventory.img"));
	CHECK(img_reader_open(&r, dfd, "inventory.img", IMG_ANY) == 0);
	CHECK(r.desc == img_desc(IMG_INVENTORY) && r.off == 4);
	CHECK(!memcmp(r.buf, "\x16\x31\x31\x58", 4));
	CHECK(img_read_entry(&r, &m) == 1);
	got = (InventoryEntry *)m;
	CHECK(got->img_version == 2 && got->has_fdinfo_per_id && got->fdinfo_per_id);
	CHECK(got->has_lsmtype && got->lsmtype == LSMTYPE__APPARMOR);
	CHECK(got->has_dump_uptime && got->dump_uptime == 0x123456789aULL);
	CHECK(!got->has_ns_per_id && !got->has_root_cg_set && !got->has_tcp_close);
	CHECK(got->root_ids && got->root_ids->vm_id == 1 && got->root_ids->sighand_id == 4);
	CHECK(got->root_ids->has_mnt_ns_id && got->root_ids->mnt_ns_id == 5 && !got->root_ids->has_net_ns_id);
	protobuf_c_message_free_unpacked(m, NULL);
	CHECK(img_read_entry(&r, &m) == 0);
	img_reader_close(&r);
	close(dfd);
	return 0;
}

static int test_roundtrip_raw(void)
{
	int dfd = new_tmpdir();
	struct img_reader r;
	ProtobufCMessage *m;
	char buf[64];

	CHECK(dfd >= 0);
	CHECK(write_sample_dir(dfd) == 0);
	CHECK(img_reader_open(&r, dfd, "tmpfs-dev-9.tar.gz.img", IMG_ANY) == 0);
	CHECK(r.desc == img_desc(IMG_TMPFS_DEV));
	CHECK(r.fd >= 0 && r.size == 20 && r.off == 0);
	CHECK(read(r.fd, buf, sizeof(buf)) == 20);
	CHECK(!memcmp(buf, "\x1f\x8b\x08\x00 pretend tarball", 20));
	log_capture();
	CHECK(img_read_entry(&r, &m) < 0 && m == NULL);
	CHECK_LOG("raw image");
	img_reader_close(&r);
	CHECK(r.fd == -1);

	/* Asked for by type, a raw image is opened whatever its name. */
	CHECK(renameat(dfd, "tmpfs-dev-9.tar.gz.img", dfd, "x") == 0);
	CHECK(img_reader_open(&r, dfd, "x", IMG_TMPFS_DEV) == 0);
	CHECK(r.desc == img_desc(IMG_TMPFS_DEV) && r.size == 20);
	img_reader_close(&r);
	close(dfd);
	return 0;
}

/*
 * ipcns-shm: entries read one by one from the file, segments' bytes left
 * there (payload NULL, payload_off where they start); a file cut inside
 * the bytes, or inside an entry, is refused as a whole-read one would be.
 */
static int test_stream_payload(void)
{
	int dfd = new_tmpdir(), fd;
	IpcDescEntry d[2] = {IPC_DESC_ENTRY__INIT, IPC_DESC_ENTRY__INIT};
	IpcShmEntry e[2] = {IPC_SHM_ENTRY__INIT, IPC_SHM_ENTRY__INIT};
	static uint8_t bytes[2][8192 + 4];
	struct img_writer w;
	struct img_reader r;
	ProtobufCMessage *m;
	uint64_t off[2];
	uint8_t got[16];
	struct stat st;

	CHECK(dfd >= 0);
	for (int i = 0; i < 2; i++) {
		d[i].key = 0x100 + (uint32_t)i;
		d[i].id = (uint32_t)i;
		e[i].desc = &d[i];
		e[i].size = i ? 8190 : 4096; /* the second padded to 8192 */
		memset(bytes[i], 'a' + i, sizeof(bytes[i]));
	}
	CHECK(img_writer_open(&w, dfd, IMG_IPCNS_SHM, 1) == 0);
	for (int i = 0; i < 2; i++)
		CHECK(img_write_entry_payload(&w, &e[i].base, bytes[i], (e[i].size + 3) & ~3ULL) == 0);
	CHECK(img_writer_commit(&w) == 0);

	CHECK(img_reader_open(&r, dfd, "ipcns-shm-1.img", IMG_IPCNS_SHM) == 0);
	CHECK(r.buf == NULL && r.fd >= 0);
	for (int i = 0; i < 2; i++) {
		CHECK(img_read_entry(&r, &m) == 1);
		CHECK(((IpcShmEntry *)m)->size == e[i].size && ((IpcShmEntry *)m)->desc->key == d[i].key);
		CHECK(r.payload == NULL && r.payload_len == ((e[i].size + 3) & ~3ULL));
		off[i] = r.payload_off;
		CHECK(pread(r.fd, got, sizeof(got), (off_t)off[i]) == sizeof(got));
		CHECK(got[0] == 'a' + i && got[15] == 'a' + i);
		protobuf_c_message_free_unpacked(m, NULL);
	}
	CHECK(off[1] > off[0] + 4096);
	CHECK(img_read_entry(&r, &m) == 0);
	img_reader_close(&r);

	/* opened by name (criu show), the same */
	CHECK(img_reader_open(&r, dfd, "ipcns-shm-1.img", IMG_ANY) == 0);
	CHECK(r.buf == NULL && img_read_entry(&r, &m) == 1);
	protobuf_c_message_free_unpacked(m, NULL);
	img_reader_close(&r);

	fd = openat(dfd, "ipcns-shm-1.img", O_RDWR);
	CHECK(fd >= 0 && fstat(fd, &st) == 0);
	/* the last segment's bytes cut short */
	CHECK(ftruncate(fd, st.st_size - 100) == 0);
	CHECK(img_reader_open(&r, dfd, "ipcns-shm-1.img", IMG_IPCNS_SHM) == 0);
	CHECK(img_read_entry(&r, &m) == 1);
	protobuf_c_message_free_unpacked(m, NULL);
	log_capture();
	CHECK(img_read_entry(&r, &m) < 0 && m == NULL);
	CHECK_LOG("truncated payload");
	img_reader_close(&r);
	/* cut inside the second entry */
	CHECK(ftruncate(fd, (off_t)off[0] + 4096 + 6) == 0);
	CHECK(img_reader_open(&r, dfd, "ipcns-shm-1.img", IMG_IPCNS_SHM) == 0);
	CHECK(img_read_entry(&r, &m) == 1);
	protobuf_c_message_free_unpacked(m, NULL);
	log_capture();
	CHECK(img_read_entry(&r, &m) < 0 && m == NULL);
	CHECK_LOG("truncated entry");
	img_reader_close(&r);
	/* the header alone cut */
	CHECK(ftruncate(fd, 6) == 0);
	log_capture();
	CHECK(img_reader_open(&r, dfd, "ipcns-shm-1.img", IMG_IPCNS_SHM) < 0);
	CHECK_LOG("truncated header");
	close(fd);
	close(dfd);
	return 0;
}

static int test_atomic_commit(void)
{
	int dfd = new_tmpdir();
	struct img_writer w;
	MntEntry m;

	CHECK(dfd >= 0);
	mnt_min(&m);
	CHECK(img_writer_open(&w, dfd, IMG_MNTS, 3) == 0);
	CHECK_STR(w.name, "mountpoints-3.img");
	CHECK(img_write_entry(&w, &m.base) == 0);
	/* Before the commit only the temporary file exists. */
	CHECK(!exists_at(dfd, "mountpoints-3.img"));
	CHECK(exists_at(dfd, w.tmpname));
	CHECK(w.tmpname[0] == '.');
	CHECK(count_dir_entries(dfd) == 1);
	CHECK(img_writer_commit(&w) == 0);
	CHECK(exists_at(dfd, "mountpoints-3.img"));
	CHECK(count_dir_entries(dfd) == 1);
	CHECK(w.fd == -1);
	/* Abort after commit leaves the committed image alone. */
	img_writer_abort(&w);
	CHECK(exists_at(dfd, "mountpoints-3.img"));
	close(dfd);
	return 0;
}

static int test_atomic_abort(void)
{
	int dfd = new_tmpdir();
	struct img_writer w;
	MntEntry m;

	CHECK(dfd >= 0);
	mnt_min(&m);
	CHECK(img_writer_open(&w, dfd, IMG_MNTS, 3) == 0);
	CHECK(img_write_entry(&w, &m.base) == 0);
	img_writer_abort(&w);
	CHECK(count_dir_entries(dfd) == 0);
	img_writer_abort(&w); /* twice is fine */
	CHECK(count_dir_entries(dfd) == 0);

	/* A failed commit on a closed writer reports, writes on it too. */
	log_capture();
	CHECK(img_write_entry(&w, &m.base) < 0);
	CHECK(img_writer_commit(&w) < 0);
	CHECK_LOG("closed image");

	/* A raw image that is aborted leaves nothing either. */
	CHECK(img_writer_open(&w, dfd, IMG_TMPFS_DEV, 1) == 0);
	CHECK(img_write_raw(&w, "abc", 3) == 0);
	img_writer_abort(&w);
	CHECK(count_dir_entries(dfd) == 0);
	close(dfd);
	return 0;
}

static int test_writer_errors(void)
{
	int dfd = new_tmpdir();
	struct img_writer w;
	InventoryEntry inv;

	CHECK(dfd >= 0);
	inventory(&inv);
	CHECK(img_writer_open(&w, dfd, IMG_MNTS, 1) == 0);
	log_capture();
	CHECK(img_write_entry(&w, &inv.base) == -EINVAL);
	CHECK_LOG("can't write a inventory_entry into a MNTS image");
	img_writer_abort(&w);

	log_capture();
	CHECK(img_writer_open(&w, dfd, IMG_NR, 1) < 0);
	CHECK(img_writer_open(&w, -1, IMG_MNTS, 1) < 0);
	img_writer_abort(&w);
	CHECK_LOG("unknown image type", "can't create");
	CHECK(count_dir_entries(dfd) == 0);
	close(dfd);
	return 0;
}

static int test_reject_common_magic(void)
{
	uint8_t buf[64];
	size_t n;

	n = mnts_image(buf, "", 0);
	put32(buf, 0xdeadbeef);
	log_capture();
	CHECK(read_all_mem(buf, n, IMG_MNTS) == -EINVAL);
	CHECK(read_all_mem(buf, n, IMG_ANY) == -EINVAL);
	CHECK_LOG("mountpoints-1.img: not a CRIU image: magic 0xdeadbeef at offset 0, expected 0x54564319");
	return 0;
}

static int test_reject_type_magic(void)
{
	uint8_t buf[64];
	size_t n;

	n = mnts_image(buf, "", 0);
	CHECK(read_all_mem(buf, n, IMG_MNTS) == 0);

	log_capture();
	CHECK(read_all_mem(buf, n, IMG_INVENTORY) == -EINVAL);
	CHECK_LOG("is a MNTS image (magic 0x55563928), expected INVENTORY");

	put32(buf + 4, 0x12345678);
	log_capture();
	CHECK(read_all_mem(buf, n, IMG_MNTS) == -EINVAL);
	CHECK(read_all_mem(buf, n, IMG_ANY) == -EINVAL);
	CHECK_LOG("unknown CRIU image type: magic 0x12345678 at offset 4, expected MNTS");

	/* inventory's own magic where a MNTS image is expected */
	put32(buf, INV_MAGIC);
	log_capture();
	CHECK(read_all_mem(buf, n, IMG_MNTS) == -EINVAL);
	CHECK_LOG("is a INVENTORY image");
	return 0;
}

static int test_reject_truncated_header(void)
{
	uint8_t buf[64];

	mnts_image(buf, "", 0);
	log_capture();
	CHECK(read_all_mem(buf, 0, IMG_MNTS) == -EINVAL);
	CHECK(read_all_mem(buf, 3, IMG_ANY) == -EINVAL);
	CHECK(read_all_mem(buf, 5, IMG_MNTS) == -EINVAL);
	CHECK(read_all_mem(buf, 7, IMG_ANY) == -EINVAL);
	CHECK_LOG("truncated header: 0 bytes, need 8", "truncated header: 3 bytes, need 4",
		  "truncated header: 5 bytes, need 8", "truncated header: 7 bytes, need 8");
	return 0;
}

static int test_reject_truncated_entry(void)
{
	uint8_t body[256], buf[300];
	size_t n, e;

	e = framed_min_entry(body);
	e += framed_min_entry(body + e);
	n = mnts_image(buf, body, e);
	CHECK(read_all_mem(buf, n, IMG_MNTS) == 2);

	/* Second entry cut short by 3 bytes; its size word is at 8 + e/2. */
	log_capture();
	CHECK(read_all_mem(buf, n - 3, IMG_MNTS) == -EINVAL);
	char want[256];
	snprintf(want, sizeof(want),
		 "mountpoints-1.img: truncated entry at offset %zu: header says %zu bytes, %zu left", 8 + e / 2,
		 e / 2 - 4, e / 2 - 7);
	CHECK_LOG(want);

	/* Only part of a size word left. */
	log_capture();
	CHECK(read_all_mem(buf, 8 + e / 2 + 2, IMG_MNTS) == -EINVAL);
	snprintf(want, sizeof(want), "truncated entry size at offset %zu: 2 bytes left, need 4", 8 + e / 2);
	CHECK_LOG(want);

	/* The same through a file: the message names the path. */
	int dfd = new_tmpdir();
	struct img_reader r;
	ProtobufCMessage *m;
	char path[128];
	CHECK(dfd >= 0);
	int fd = openat(dfd, "mountpoints-5.img", O_WRONLY | O_CREAT, 0600);
	CHECK(fd >= 0);
	CHECK(write(fd, buf, n - 1) == (ssize_t)(n - 1));
	close(fd);
	snprintf(path, sizeof(path), "%s/mountpoints-5.img", tmpdir);
	CHECK(img_reader_open(&r, AT_FDCWD, path, IMG_ANY) == 0);
	CHECK(img_read_entry(&r, &m) == 1);
	protobuf_c_message_free_unpacked(m, NULL);
	log_capture();
	CHECK(img_read_entry(&r, &m) == -EINVAL && !m);
	img_reader_close(&r);
	snprintf(want, sizeof(want), "%s: truncated entry at offset %zu", path, 8 + e / 2);
	CHECK_LOG(want);
	close(dfd);
	return 0;
}

static int test_reject_huge_size(void)
{
	uint8_t buf[64];
	size_t n;

	n = mnts_image(buf,
		       "\xff\xff\xff\xff"
		       "abcdef",
		       10);
	log_capture();
	CHECK(read_all_mem(buf, n, IMG_MNTS) == -EINVAL);
	CHECK_LOG("entry at offset 8 claims 4294967295 bytes, more than the limit of 16777216");

	/* Within the limit but beyond the end of the file. */
	put32(buf + 8, IMG_MAX_ENTRY);
	log_capture();
	CHECK(read_all_mem(buf, n, IMG_MNTS) == -EINVAL);
	CHECK_LOG("truncated entry at offset 8: header says 16777216 bytes, 6 left");
	return 0;
}

static int test_reject_garbage_protobuf(void)
{
	uint8_t buf[64];
	size_t n;

	/* A field key with wire type 7, which does not exist. */
	n = mnts_image(buf, "\x04\x00\x00\x00\x0f\xff\xff\xff", 8);
	log_capture();
	CHECK(read_all_mem(buf, n, IMG_MNTS) == -EINVAL);
	CHECK_LOG("can't decode the mnt_entry entry at offset 8 (4 bytes)", "unsupported wire type 7");

	/* A string field whose length runs past the entry. */
	n = mnts_image(buf, "\x03\x00\x00\x00\x32\x7f\x41", 7);
	log_capture();
	CHECK(read_all_mem(buf, n, IMG_MNTS) == -EINVAL);
	CHECK_LOG("field 6 at byte 0 runs past the end of the entry");
	return 0;
}

static int test_reject_missing_required(void)
{
	uint8_t body[128], buf[160];
	MntEntry m;
	size_t n, len;

	/* A well-formed mnt_entry holding only fstype and mnt_id. */
	mnt_min(&m);
	len = protobuf_c_message_pack(&m.base, body + 4);
	CHECK(body[4] == 0x08 && body[6] == 0x10);
	len = 4; /* fstype, mnt_id */
	put32(body, (uint32_t)len);
	n = mnts_image(buf, body, 4 + len);
	log_capture();
	CHECK(read_all_mem(buf, n, IMG_MNTS) == -EINVAL);
	CHECK_LOG("can't decode the mnt_entry entry at offset 8", "missing required field 'root_dev'");

	/* A zero-length entry is an empty message: everything is missing. */
	n = mnts_image(buf, "\0\0\0\0", 4);
	log_capture();
	CHECK(read_all_mem(buf, n, IMG_MNTS) == -EINVAL);
	CHECK_LOG("missing required field 'fstype'");

	/* A nested message missing its required fields. */
	put32(buf, INV_MAGIC);
	memcpy(buf + 4, "\x06\x00\x00\x00\x08\x02\x1a\x02\x08\x01", 10);
	log_capture();
	CHECK(read_all_mem(buf, 14, IMG_INVENTORY) == -EINVAL);
	CHECK_LOG("can't decode the inventory_entry entry at offset 4 (6 bytes): in root_ids: missing required field "
		  "'files_id'");
	/* ...and the same entry with the nested message complete is fine. */
	memcpy(buf + 4, "\x0c\x00\x00\x00\x08\x02\x1a\x08\x08\x01\x10\x02\x18\x03\x20\x04", 16);
	CHECK(read_all_mem(buf, 20, IMG_INVENTORY) == 1);
	return 0;
}

static int test_reader_misc(void)
{
	int dfd = new_tmpdir();
	struct img_reader r;
	uint8_t buf[16];
	size_t n;

	CHECK(dfd >= 0);
	/* A header and nothing else: no entries, no error. */
	n = mnts_image(buf, "", 0);
	CHECK(read_all_mem(buf, n, IMG_ANY) == 0);

	log_capture();
	CHECK(img_reader_open(&r, dfd, "mountpoints-1.img", IMG_MNTS) == -ENOENT);
	CHECK(img_reader_open(&r, dfd, ".", IMG_ANY) == -EINVAL);
	img_reader_close(&r);
	CHECK_LOG("can't open mountpoints-1.img", ".: not a regular file");
	close(dfd);
	return 0;
}

static int show_golden(const char *path, const char *fields, const char *golden)
{
	int ret = -1;
	char *out = show_to_string(path, fields, &ret);

	CHECK(out);
	if (ret != 0) {
		snprintf(unit_fail_msg, sizeof(unit_fail_msg), "show_image(%s) = %d", path, ret);
		free(out);
		return 1;
	}
	ret = unit_golden(golden, out);
	free(out);
	return ret;
}

static int test_show_all(void)
{
	int dfd = new_tmpdir();
	char path[128];

	CHECK(dfd >= 0);
	CHECK(write_sample_dir(dfd) == 0);
	close(dfd);
	snprintf(path, sizeof(path), "%s/mountpoints-1.img", tmpdir);
	CHECK(!show_golden(path, NULL, GOLDEN_DIR "mnt-all.golden"));
	snprintf(path, sizeof(path), "%s/inventory.img", tmpdir);
	CHECK(!show_golden(path, NULL, GOLDEN_DIR "inventory.golden"));
	snprintf(path, sizeof(path), "%s/tmpfs-dev-9.tar.gz.img", tmpdir);
	CHECK(!show_golden(path, NULL, GOLDEN_DIR "raw.golden"));
	return 0;
}

static int test_show_select(void)
{
	int dfd = new_tmpdir();
	char path[128];

	CHECK(dfd >= 0);
	CHECK(write_sample_dir(dfd) == 0);
	close(dfd);
	snprintf(path, sizeof(path), "%s/mountpoints-1.img", tmpdir);
	CHECK(!show_golden(path, "mnt_id,root,mountpoint", GOLDEN_DIR "mnt-select.golden"));
	/* Any order; a field unset in an entry is left out of its line. */
	CHECK(!show_golden(path, "shared_id, mnt_id,fstype", GOLDEN_DIR "mnt-select-order.golden"));
	snprintf(path, sizeof(path), "%s/inventory.img", tmpdir);
	CHECK(!show_golden(path, "root_ids,lsmtype", GOLDEN_DIR "inventory-select.golden"));
	return 0;
}

static int test_show_errors(void)
{
	int dfd = new_tmpdir();
	char path[128], *out;
	int ret = 0;

	CHECK(dfd >= 0);
	CHECK(write_sample_dir(dfd) == 0);
	snprintf(path, sizeof(path), "%s/mountpoints-1.img", tmpdir);
	log_capture();
	out = show_to_string(path, "mnt_id,bogus", &ret);
	CHECK(out && ret < 0 && out[0] == '\0'); /* nothing printed before the error */
	free(out);
	CHECK_LOG("unknown field 'bogus' in mnt_entry; valid fields: fstype, mnt_id, root_dev, parent_mnt_id, flags, "
		  "root, mountpoint, source, options, shared_id, master_id, with_plugin, ext_mount, fsname, "
		  "internal_sharing, deleted, sb_flags, ext_key\n");

	/* Not an image at all. */
	int fd = openat(dfd, "notes.txt", O_WRONLY | O_CREAT, 0600);
	CHECK(fd >= 0);
	CHECK(write(fd, "hello world\n", 12) == 12);
	close(fd);
	snprintf(path, sizeof(path), "%s/notes.txt", tmpdir);
	log_capture();
	out = show_to_string(path, NULL, &ret);
	CHECK(out && ret < 0 && out[0] == '\0');
	free(out);
	CHECK_LOG("notes.txt: not a CRIU image: magic 0x6c6c6568 at offset 0");

	/* A truncated image: the good entries are shown, then the error. */
	snprintf(path, sizeof(path), "%s/mountpoints-1.img", tmpdir);
	CHECK(truncate(path, 60) == 0);
	log_capture();
	out = show_to_string(path, "mnt_id", &ret);
	CHECK(ret < 0);
	free(out);
	CHECK_LOG("truncated entry at offset");

	/* Raw images have no fields. */
	snprintf(path, sizeof(path), "%s/tmpfs-dev-9.tar.gz.img", tmpdir);
	log_capture();
	out = show_to_string(path, "x", &ret);
	CHECK(ret < 0);
	free(out);
	CHECK_LOG("no fields to select");

	log_capture();
	out = show_to_string("/nonexistent/inventory.img", NULL, &ret);
	CHECK(ret == -ENOENT);
	free(out);
	CHECK_LOG("can't open /nonexistent/inventory.img");
	close(dfd);
	return 0;
}

static int test_show_entry(void)
{
	char *s = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&s, &len);
	MntEntry m;

	CHECK(f);
	mnt_min(&m);
	CHECK(show_entry(f, &m.base, "mountpoint,mnt_id") == 0);
	fputc('|', f);
	CHECK(show_entry(f, &m.base, "shared_id") == 0);
	fputc('|', f);
	CHECK(show_entry(f, &m.base, NULL) == 0);
	log_capture();
	CHECK(show_entry(f, &m.base, "nope") == -EINVAL);
	CHECK(show_entry(f, &m.base, ",") == -EINVAL);
	CHECK_LOG("unknown field 'nope'", "no field names in ','");
	fclose(f);
	CHECK_STR(s, "mountpoint: proc mnt_id: 0x23||fstype: 0x1 mnt_id: 0x23 root_dev: 0x4 parent_mnt_id: 0x22 "
		     "flags: 0x0 root: / mountpoint: proc source: \"\" options: rw");
	free(s);
	return 0;
}

/* Runs a command, returns its stdout (NULL if it could not run). */
static char *run_capture(const char *cmd, int *status)
{
	FILE *p = popen(cmd, "r");
	char *s = NULL;
	size_t len = 0, n;
	char chunk[4096];

	if (!p)
		return NULL;
	while ((n = fread(chunk, 1, sizeof(chunk), p)) > 0) {
		s = realloc(s, len + n + 1);
		memcpy(s + len, chunk, n);
		len += n;
	}
	*status = pclose(p);
	if (!s)
		s = strdup("");
	s[len] = '\0';
	return s;
}

#define CRIT "/usr/bin/crit"

static int test_crit_decode(void)
{
	int dfd, status;
	char cmd[256], *out;

	if (access(CRIT, X_OK)) {
		unit_skip_reason = CRIT " not installed (apt-get install criu)";
		return UNIT_SKIP;
	}
	dfd = new_tmpdir();
	CHECK(dfd >= 0);
	CHECK(write_sample_dir(dfd) == 0);
	close(dfd);

	snprintf(cmd, sizeof(cmd), CRIT " decode -i %s/inventory.img 2>&1", tmpdir);
	out = run_capture(cmd, &status);
	CHECK(out);
	if (status != 0 || !strstr(out, "\"magic\": \"INVENTORY\"") || !strstr(out, "\"img_version\": 2") ||
	    !strstr(out, "\"lsmtype\": \"APPARMOR\"") || !strstr(out, "\"mnt_ns_id\": 5") ||
	    !strstr(out, "\"dump_uptime\": 78187493530")) {
		snprintf(unit_fail_msg, sizeof(unit_fail_msg), "crit decode inventory (status %d): %.400s", status,
			 out);
		free(out);
		return 1;
	}
	free(out);

	snprintf(cmd, sizeof(cmd), CRIT " decode -i %s/mountpoints-1.img 2>&1", tmpdir);
	out = run_capture(cmd, &status);
	CHECK(out);
	if (status != 0 || !strstr(out, "\"magic\": \"MNTS\"") || !strstr(out, "\"mnt_id\": 34") ||
	    !strstr(out, "\"mountpoint\": \"/mnt/with space\"") || !strstr(out, "\"master_id\": 4294967295") ||
	    !strstr(out, "\"ext_key\": \"ext\\tkey\\n1\"") || !strstr(out, "\"mnt_id\": 35") ||
	    !strstr(out, "\"source\": \"\"") || !strstr(out, "\"internal_sharing\": true")) {
		snprintf(unit_fail_msg, sizeof(unit_fail_msg), "crit decode mountpoints (status %d): %.400s", status,
			 out);
		free(out);
		return 1;
	}
	free(out);
	return 0;
}

/* The other way round: crit writes an image from JSON, we read it. */
static int test_crit_encode(void)
{
	int dfd, status;
	char cmd[512], *out;
	struct img_reader r;
	ProtobufCMessage *m;
	MntEntry *e;
	FILE *f;

	if (access(CRIT, X_OK)) {
		unit_skip_reason = CRIT " not installed (apt-get install criu)";
		return UNIT_SKIP;
	}
	dfd = new_tmpdir();
	CHECK(dfd >= 0);
	snprintf(cmd, sizeof(cmd), "%s/m.json", tmpdir);
	f = fopen(cmd, "w");
	CHECK(f);
	fputs("{\"magic\": \"MNTS\", \"entries\": [{\"fstype\": 5, \"mnt_id\": 34, \"root_dev\": \"0:22\", "
	      "\"parent_mnt_id\": 1, \"flags\": \"0x100000\", \"root\": \"/\", \"mountpoint\": \"/bar\", "
	      "\"source\": \"none\", \"options\": \"rw\", \"shared_id\": 3, \"ext_key\": \"k\"}]}",
	      f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), CRIT " encode -i %s/m.json -o %s/mountpoints-2.img 2>&1", tmpdir, tmpdir);
	out = run_capture(cmd, &status);
	CHECK(out);
	if (status != 0) {
		snprintf(unit_fail_msg, sizeof(unit_fail_msg), "crit encode (status %d): %.400s", status, out);
		free(out);
		return 1;
	}
	free(out);
	CHECK(img_reader_open(&r, dfd, "mountpoints-2.img", IMG_MNTS) == 0);
	CHECK(img_read_entry(&r, &m) == 1);
	e = (MntEntry *)m;
	int ok = e->fstype == 5 && e->mnt_id == 34 && e->root_dev == 22 && e->flags == 0x100000 &&
		 !strcmp(e->mountpoint, "/bar") && e->has_shared_id && e->shared_id == 3 && !e->has_master_id &&
		 e->ext_key && !strcmp(e->ext_key, "k") && !e->fsname;
	protobuf_c_message_free_unpacked(m, NULL);
	CHECK(ok);
	CHECK(img_read_entry(&r, &m) == 0);
	img_reader_close(&r);
	close(dfd);
	return 0;
}

static int write_file(const char *path, const void *buf, size_t len)
{
	FILE *f = fopen(path, "wb");

	if (!f)
		return -1;
	if (len && fwrite(buf, 1, len, f) != len) {
		fclose(f);
		return -1;
	}
	return fclose(f);
}

/* Copies image `name` from the temporary directory into the corpus as `seed`. */
static int seed_from_tmp(const char *name, const char *seed)
{
	char src[160], dst[160];
	size_t len;
	char *buf;
	int ret;

	snprintf(src, sizeof(src), "%s/%s", tmpdir, name);
	snprintf(dst, sizeof(dst), CORPUS_DIR "%s", seed);
	buf = unit_slurp(src, &len);
	if (!buf)
		return -1;
	ret = write_file(dst, buf, len);
	free(buf);
	return ret;
}

/* The seeds of the fuzz corpus: small valid images and typical breakage. */
static int generate_corpus(void)
{
	uint8_t buf[512], body[256];
	size_t n, e;
	int dfd = new_tmpdir();

	CHECK(dfd >= 0);
	CHECK(write_sample_dir(dfd) == 0);
	close(dfd);
	mkdir("test/fuzz/corpus", 0755);
	mkdir(CORPUS_DIR, 0755);
	CHECK(seed_from_tmp("mountpoints-1.img", "valid-mnts") == 0);
	CHECK(seed_from_tmp("inventory.img", "valid-inventory") == 0);

	e = framed_min_entry(body);
	n = mnts_image(buf, body, e);
	CHECK(write_file(CORPUS_DIR "valid-mnt-min", buf, n) == 0);
	CHECK(write_file(CORPUS_DIR "trunc-entry", buf, n - 5) == 0);
	CHECK(write_file(CORPUS_DIR "trunc-size", buf, 10) == 0);
	CHECK(write_file(CORPUS_DIR "header-only", buf, 8) == 0);
	CHECK(write_file(CORPUS_DIR "trunc-header", buf, 6) == 0);
	put32(buf + 8, 0xffffffff);
	CHECK(write_file(CORPUS_DIR "huge-size", buf, n) == 0);
	n = mnts_image(buf, "\x04\x00\x00\x00\x0f\xff\xff\xff", 8);
	CHECK(write_file(CORPUS_DIR "garbage-pb", buf, n) == 0);
	n = mnts_image(buf, "\x04\x00\x00\x00\x08\x05\x10\x22", 8);
	CHECK(write_file(CORPUS_DIR "missing-required", buf, n) == 0);
	put32(buf + 4, 0x12345678);
	CHECK(write_file(CORPUS_DIR "unknown-type", buf, n) == 0);
	CHECK(write_file(CORPUS_DIR "not-image", "hello world\n", 12) == 0);
	put32(buf, INV_MAGIC);
	memcpy(buf + 4, "\x06\x00\x00\x00\x08\x02\x1a\x02\x08\x01", 10);
	CHECK(write_file(CORPUS_DIR "inventory-bad-nested", buf, 14) == 0);
	return 0;
}

/* Every corpus file (seeds and crashes found by fuzzing) parses without crashing. */
static int test_fuzz_corpus(void)
{
	DIR *d;
	struct dirent *de;
	FILE *devnull;
	int files = 0;

	if (getenv("UNIT_UPDATE_CORPUS") && generate_corpus())
		return 1;
	d = opendir(CORPUS_DIR);
	CHECK(d);
	devnull = fopen("/dev/null", "w");
	CHECK(devnull);
	log_capture(); /* the broken ones print errors */
	while ((de = readdir(d))) {
		char path[512];
		struct img_reader r;
		ProtobufCMessage *m;
		size_t len;
		char *buf;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), CORPUS_DIR "%s", de->d_name);
		buf = unit_slurp(path, &len);
		if (!buf)
			continue;
		files++;
		if (img_reader_open_mem(&r, buf, len, de->d_name, IMG_ANY) == 0) {
			while (img_read_entry(&r, &m) > 0) {
				show_entry(devnull, m, NULL);
				protobuf_c_message_free_unpacked(m, NULL);
			}
			img_reader_close(&r);
		}
		free(buf);
	}
	closedir(d);
	fclose(devnull);
	free(log_captured());
	CHECK(files >= 10);
	return 0;
}

static __attribute__((destructor)) void cleanup(void)
{
	rm_tmpdir();
}

static const struct unit_case cases[] = {
	{"image-desc-table", test_desc_table},
	{"image-roundtrip-mnts", test_roundtrip_mnts},
	{"image-roundtrip-inventory", test_roundtrip_inventory},
	{"image-roundtrip-raw", test_roundtrip_raw},
	{"image-stream-payload", test_stream_payload},
	{"image-atomic-commit", test_atomic_commit},
	{"image-atomic-abort", test_atomic_abort},
	{"image-writer-errors", test_writer_errors},
	{"image-reject-common-magic", test_reject_common_magic},
	{"image-reject-type-magic", test_reject_type_magic},
	{"image-reject-truncated-header", test_reject_truncated_header},
	{"image-reject-truncated-entry", test_reject_truncated_entry},
	{"image-reject-huge-size", test_reject_huge_size},
	{"image-reject-garbage-protobuf", test_reject_garbage_protobuf},
	{"image-reject-missing-required", test_reject_missing_required},
	{"image-reader-misc", test_reader_misc},
	{"show-all-fields", test_show_all},
	{"show-select-fields", test_show_select},
	{"show-errors", test_show_errors},
	{"show-entry", test_show_entry},
	{"crit-decode-our-images", test_crit_decode},
	{"crit-encode-read-by-us", test_crit_encode},
	{"image-fuzz-corpus-replay", test_fuzz_corpus},
	{},
};

UNIT_MAIN(cases)

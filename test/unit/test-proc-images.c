/*
 * The process engine's image types (criu/image.c, images/ *.proto): for each
 * one, entries with every field set (test/unit/unit-pb.h) are written, read
 * back equal, shown by `criu show` (golden file), decoded by Debian's crit
 * to exactly the JSON we expect (which proves field names, numbers and
 * types, and the magic), and encoded back by crit into a file our reader
 * reads equal. Also: hand-written JSON through crit encode, the framing
 * rules of pagemap (head first) and pipes-data (raw bytes after each
 * entry), raw pages, and our .proto files against pycriu's schemas.
 *
 * UNIT_UPDATE_GOLDEN=1 rewrites test/unit/fixtures/proc-images/show.golden.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "unit.h"
#include "unit-pb.h"
#include "image/image.h"
#include "util/log.h"
#include "util/util.h"
#include "core.pb-c.h"
#include "fdinfo.pb-c.h"
#include "pagemap.pb-c.h"
#include "pipe-data.pb-c.h"
#include "pstree.pb-c.h"

#define CRIT   "/usr/bin/crit"
#define PY     "/usr/bin/python3"
#define GOLDEN "test/unit/fixtures/proc-images/show.golden"

/* The image types under test, in enum order. */
static const enum img_type types[] = {
	IMG_PSTREE, IMG_CORE,  IMG_MM,	  IMG_PAGEMAP,	  IMG_FILES,   IMG_FDINFO,
	IMG_FS,	    IMG_IDS,   IMG_PIPES, IMG_PIPES_DATA, IMG_FIFO,    IMG_FIFO_DATA,
	IMG_SIGACT, IMG_CREDS, IMG_UTSNS, IMG_IPC_VAR,	  IMG_ITIMERS,
};

#define MAX_ENTRIES 3

/* A sample image: its entries and, for pipes-data, their payloads. */
struct sample {
	const struct img_type_desc *d;
	char name[64];
	ProtobufCMessage *msg[MAX_ENTRIES];
	uint8_t *payload[MAX_ENTRIES];
	size_t nr;
};

static char tmpdir[64];

static void rm_tmpdir(void)
{
	DIR *d;
	struct dirent *de;

	if (!tmpdir[0])
		return;
	d = opendir(tmpdir);
	if (d) {
		while ((de = readdir(d)))
			if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
				unlinkat(dirfd(d), de->d_name, 0);
		closedir(d);
	}
	rmdir(tmpdir);
	tmpdir[0] = '\0';
}

static int new_tmpdir(void)
{
	rm_tmpdir();
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/criu-test-proc-images.XXXXXX");
	if (!mkdtemp(tmpdir)) {
		tmpdir[0] = '\0';
		return -1;
	}
	return open(tmpdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

/* Entries with every field set; pagemap gets its head first; pipes-data
 * entries announce 37, 0 and 5000 bytes of payload. */
static void sample_build(struct sample *s, enum img_type type)
{
	static const size_t payload_len[MAX_ENTRIES] = {37, 0, 5000};

	memset(s, 0, sizeof(*s));
	s->d = img_desc(type);
	snprintf(s->name, sizeof(s->name), s->d->name_fmt, 7U);
	for (s->nr = 0; s->nr < MAX_ENTRIES; s->nr++) {
		const ProtobufCMessageDescriptor *pb = s->d->pb_head && !s->nr ? s->d->pb_head : s->d->pb;
		ProtobufCMessage *m = pb_new_filled(pb, (unsigned)s->nr + 1);

		if (s->d->payload_len) {
			size_t n = payload_len[s->nr];

			((PipeDataEntry *)m)->bytes = (uint32_t)n;
			s->payload[s->nr] = malloc(n ? n : 1);
			for (size_t i = 0; i < n; i++)
				s->payload[s->nr][i] = (uint8_t)(i * 13 + s->nr);
		}
		s->msg[s->nr] = m;
	}
}

static void sample_free(struct sample *s)
{
	for (size_t i = 0; i < s->nr; i++) {
		protobuf_c_message_free_unpacked(s->msg[i], NULL);
		free(s->payload[i]);
	}
	s->nr = 0;
}

static int sample_write(int dfd, const struct sample *s)
{
	struct img_writer w;
	int ret = img_writer_open(&w, dfd, s->d->type, 7);

	for (size_t i = 0; !ret && i < s->nr; i++) {
		if (s->d->payload_len)
			ret = img_write_entry_payload(&w, s->msg[i], s->payload[i],
						      ((PipeDataEntry *)s->msg[i])->bytes);
		else
			ret = img_write_entry(&w, s->msg[i]);
	}
	if (!ret)
		return img_writer_commit(&w);
	img_writer_abort(&w);
	return ret;
}

/* Reads `name` and checks that it holds exactly the entries of s. */
static int sample_check_file(int dfd, const char *name, const struct sample *s, enum img_type expect)
{
	struct img_reader r;
	ProtobufCMessage *m;
	size_t i;
	int ret;

	if (img_reader_open(&r, dfd, name, expect) < 0) {
		snprintf(unit_fail_msg, sizeof(unit_fail_msg), "%s: can't open", name);
		return 1;
	}
	for (i = 0; (ret = img_read_entry(&r, &m)) > 0; i++) {
		bool ok = i < s->nr && pb_equal(m, s->msg[i]);

		if (ok && s->d->payload_len) {
			size_t n = ((PipeDataEntry *)s->msg[i])->bytes;

			ok = r.payload_len == n && (!n || !memcmp(r.payload, s->payload[i], n));
		}
		protobuf_c_message_free_unpacked(m, NULL);
		if (!ok) {
			snprintf(unit_fail_msg, sizeof(unit_fail_msg), "%s: entry %zu differs", name, i);
			img_reader_close(&r);
			return 1;
		}
	}
	img_reader_close(&r);
	if (ret < 0 || i != s->nr) {
		snprintf(unit_fail_msg, sizeof(unit_fail_msg), "%s: read %zu of %zu entries (ret %d)", name, i, s->nr,
			 ret);
		return 1;
	}
	return 0;
}

/* Entry k as crit decode prints it: pipes-data entries get their payload
 * as "extra", in base64. */
static void json_entry(FILE *f, const struct sample *s, size_t k)
{
	char *obj = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&obj, &len);

	if (!m)
		abort();
	pb_json(m, s->msg[k]);
	fclose(m);
	/* crit 3.17 knows pagemap_entry's field 2 by its 3.x name */
	if (s->msg[k]->descriptor == &pagemap_entry__descriptor) {
		char *at = strstr(obj, "\"compat_nr_pages\":");

		if (at) {
			memmove(at + 1, at + 1 + strlen("compat_"), strlen(at + 1 + strlen("compat_")) + 1);
			len -= strlen("compat_");
		}
	}
	if (!s->d->payload_len) {
		fputs(obj, f);
	} else {
		fprintf(f, "%.*s, \"extra\": ", (int)len - 1, obj);
		pb_json_base64(f, s->payload[k], ((PipeDataEntry *)s->msg[k])->bytes);
		fputc('}', f);
	}
	free(obj);
}

static int run(const char *cmd, char *out, size_t outlen)
{
	FILE *p = popen(cmd, "r");
	size_t n = 0;
	int status;

	if (!p)
		return -1;
	while (n + 1 < outlen) {
		size_t r = fread(out + n, 1, outlen - n - 1, p);

		if (!r)
			break;
		n += r;
	}
	out[n] = '\0';
	status = pclose(p);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static bool have_crit(void)
{
	if (access(CRIT, X_OK) || access(PY, X_OK)) {
		unit_skip_reason = CRIT " not installed (apt-get install criu)";
		return false;
	}
	return true;
}

/* ------------------------------------------------------------------ cases */

static int test_desc_table(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(types); i++) {
		const struct img_type_desc *d = img_desc(types[i]);
		char name[64];

		CHECK(d && d->type == types[i] && d->pb && d->magic && !d->no_common);
		snprintf(name, sizeof(name), d->name_fmt, 4294967295U);
		CHECK(img_desc_by_filename(name) == d);
		for (size_t j = 0; j < i; j++)
			CHECK(img_desc(types[j])->magic != d->magic);
	}
	CHECK(img_desc_by_filename("pages-3.img") == img_desc(IMG_PAGES) && !img_desc(IMG_PAGES)->pb);
	CHECK(img_desc_by_filename("pagemap-3.img") == img_desc(IMG_PAGEMAP));
	CHECK(img_desc(IMG_PAGEMAP)->pb_head == &pagemap_head__descriptor);
	CHECK(img_desc_by_filename("pipes-data.img") == img_desc(IMG_PIPES_DATA));
	CHECK(img_desc_by_filename("ipcns-var-1.img") == img_desc(IMG_IPC_VAR));
	CHECK(img_desc_by_filename("core-.img") == NULL && img_desc_by_filename("pstree-1.img") == NULL);
	return 0;
}

/* Write, read back equal (by type and by magic), and `criu show` it. */
static int test_roundtrip_and_show(void)
{
	char *shown = NULL;
	size_t shown_len = 0;
	FILE *out = open_memstream(&shown, &shown_len);
	int dfd = new_tmpdir(), ret = 0;

	CHECK(out && dfd >= 0);
	for (size_t i = 0; !ret && i < ARRAY_SIZE(types); i++) {
		struct sample s;
		char path[256];

		sample_build(&s, types[i]);
		ret = sample_write(dfd, &s);
		if (ret)
			snprintf(unit_fail_msg, sizeof(unit_fail_msg), "%s: write failed: %d", s.name, ret);
		if (!ret)
			ret = sample_check_file(dfd, s.name, &s, types[i]);
		if (!ret)
			ret = sample_check_file(dfd, s.name, &s, IMG_ANY);
		snprintf(path, sizeof(path), "%s/%s", tmpdir, s.name);
		fprintf(out, "== %s\n", s.name);
		if (!ret && show_image(path, NULL, out) < 0) {
			snprintf(unit_fail_msg, sizeof(unit_fail_msg), "show %s failed", s.name);
			ret = 1;
		}
		sample_free(&s);
	}
	fclose(out);
	close(dfd);
	rm_tmpdir();
	if (!ret)
		ret = unit_golden(GOLDEN, shown);
	free(shown);
	return ret;
}

/*
 * Fields upstream added after the schema of Debian's crit (3.17; the ones
 * check-proto-schemas.py checks against upstream 4.2.1 alone) in the image
 * types under test: crit drops them, so the round trip leaves them out.
 * Clears them in m and every message below it.
 */
static void strip_newer(ProtobufCMessage *m)
{
	static const char *const newer[][2] = {
		{"creds_entry", "no_new_privs"},   {"creds_entry", "cap_amb"},
		{"task_core_entry", "stop_signo"}, {"task_core_entry", "membarrier_registration_mask"},
		{"thread_core_entry", "cg_set"},   {"user_x86_xsave_entry", "cet"},
		{"file_entry", "pidfd"},	   {"inet_sk_entry", "tcp_opts"},
		{"ip_opts_entry", "pktinfo"},	   {"ip_opts_entry", "tos"},
		{"ip_opts_entry", "ttl"},	   {"pagemap_entry", "nr_pages"},
		/* ours (check-proto-schemas.py's OURS): crit 3.17 doesn't know them either */
		{"unix_sk_entry", "peer_cred"},	   {"sk_packet_entry", "addr"},
	};
	const ProtobufCMessageDescriptor *d = m->descriptor;

	for (size_t i = 0; i < ARRAY_SIZE(newer); i++) {
		const ProtobufCFieldDescriptor *f;

		if (strcmp(d->name, newer[i][0]) ||
		    !(f = protobuf_c_message_descriptor_get_field_by_name(d, newer[i][1])))
			continue;
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			*(size_t *)((char *)m + f->quantifier_offset) = 0; /* the array is still freed */
		} else if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
			ProtobufCMessage **sub = (ProtobufCMessage **)((char *)m + f->offset);

			/* an optional message has no has_ flag: absent is NULL */
			if (*sub)
				protobuf_c_message_free_unpacked(*sub, NULL);
			*sub = NULL;
		} else if (f->label == PROTOBUF_C_LABEL_OPTIONAL) {
			*(protobuf_c_boolean *)((char *)m + f->quantifier_offset) = 0;
		}
	}
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		void *at = (char *)m + f->offset;

		if (f->type != PROTOBUF_C_TYPE_MESSAGE)
			continue;
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n = *(size_t *)((char *)m + f->quantifier_offset);

			for (size_t k = 0; k < n; k++)
				strip_newer((*(ProtobufCMessage ***)at)[k]);
		} else if (*(ProtobufCMessage **)at) {
			strip_newer(*(ProtobufCMessage **)at);
		}
	}
}

/* crit decodes our files to the JSON we expect, and encodes that JSON
 * back into files that our reader reads equal. */
static int test_crit_roundtrip(void)
{
	char cmd[1024], out[4096];
	int dfd, ret = 0;

	if (!have_crit())
		return UNIT_SKIP;
	dfd = new_tmpdir();
	CHECK(dfd >= 0);
	for (size_t i = 0; !ret && i < ARRAY_SIZE(types); i++) {
		struct sample s;
		char want[256];
		FILE *f;

		sample_build(&s, types[i]);
		for (size_t k = 0; k < s.nr; k++)
			strip_newer(s.msg[k]);
		ret = sample_write(dfd, &s);
		snprintf(want, sizeof(want), "%s/%s.want.json", tmpdir, s.name);
		f = fopen(want, "w");
		if (!ret && f) {
			fprintf(f, "{\"magic\": \"%s\", \"entries\": [", s.d->name);
			for (size_t k = 0; k < s.nr; k++) {
				fputs(k ? ", " : "", f);
				json_entry(f, &s, k);
			}
			fputs("]}\n", f);
		}
		if (f)
			fclose(f);
		snprintf(cmd, sizeof(cmd),
			 CRIT " decode -i %s/%s -o %s/%s.json 2>&1 && " PY " test/unit/json-same.py %s %s/%s.json 2>&1",
			 tmpdir, s.name, tmpdir, s.name, want, tmpdir, s.name);
		if (!ret && run(cmd, out, sizeof(out)) != 0) {
			snprintf(unit_fail_msg, sizeof(unit_fail_msg), "crit decode %s: %.400s", s.name, out);
			ret = 1;
		}
		snprintf(cmd, sizeof(cmd), CRIT " encode -i %s/%s.json -o %s/crit-%s 2>&1", tmpdir, s.name, tmpdir,
			 s.name);
		if (!ret && run(cmd, out, sizeof(out)) != 0) {
			snprintf(unit_fail_msg, sizeof(unit_fail_msg), "crit encode %s: %.400s", s.name, out);
			ret = 1;
		}
		snprintf(cmd, sizeof(cmd), "crit-%s", s.name);
		if (!ret)
			ret = sample_check_file(dfd, cmd, &s, types[i]);
		sample_free(&s);
	}
	close(dfd);
	if (!ret)
		rm_tmpdir();
	return ret;
}

static int write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -1;
	fputs(text, f);
	return fclose(f);
}

/* JSON written by hand, as a user of crit would, read by us. */
static int test_crit_encode_handwritten(void)
{
	static const struct {
		const char *file;
		const char *json;
	} images[] = {
		{"pstree.img",
		 "{\"magic\": \"PSTREE\", \"entries\": [{\"pid\": 1, \"ppid\": 0, \"pgid\": 1, \"sid\": 1, "
		 "\"threads\": [1, 7]}, {\"pid\": 9, \"ppid\": 1, \"pgid\": 9, \"sid\": 1}]}"},
		{"pagemap-1.img", "{\"magic\": \"PAGEMAP\", \"entries\": [{\"pages_id\": 3}, {\"vaddr\": \"0x400000\", "
				  "\"nr_pages\": 2, \"flags\": \"PE_PRESENT\"}, {\"vaddr\": 4198400, \"nr_pages\": 1, "
				  "\"in_parent\": true}]}"},
		{"pipes-data.img", "{\"magic\": \"PIPES_DATA\", \"entries\": [{\"pipe_id\": 5, \"bytes\": 5, \"size\": "
				   "65536, \"extra\": \"aGVsbG8=\\n\"}, {\"pipe_id\": 6, \"bytes\": 0}]}"},
		{"core-1.img",
		 "{\"magic\": \"CORE\", \"entries\": [{\"mtype\": \"X86_64\", \"tc\": {\"task_state\": 1, "
		 "\"exit_code\": 0, \"personality\": 0, \"flags\": 4194560, \"blk_sigset\": \"0x4200\", "
		 "\"comm\": \"sleep\", \"rlimits\": {\"rlimits\": [{\"cur\": 8388608, \"max\": "
		 "18446744073709551615}]}, \"sigactions\": [{\"sigaction\": 0, \"flags\": 0, "
		 "\"restorer\": 0, \"mask\": 0}]}, \"thread_core\": {\"futex_rla\": 0, \"futex_rla_len\": "
		 "24, \"sched_nice\": -5, \"rseq_entry\": {\"rseq_abi_pointer\": 140737488351232, "
		 "\"rseq_abi_size\": 32, \"signature\": 1392848979}}}]}"},
		{"fdinfo-2.img", "{\"magic\": \"FDINFO\", \"entries\": [{\"id\": 1, \"flags\": 1, \"type\": \"PIPE\", "
				 "\"fd\": 3}]}"},
	};
	char path[256], cmd[1024], out[4096];
	struct img_reader r;
	ProtobufCMessage *m;
	int dfd;

	if (!have_crit())
		return UNIT_SKIP;
	dfd = new_tmpdir();
	CHECK(dfd >= 0);
	for (size_t i = 0; i < ARRAY_SIZE(images); i++) {
		snprintf(path, sizeof(path), "%s/%s.json", tmpdir, images[i].file);
		CHECK(write_text(path, images[i].json) == 0);
		snprintf(cmd, sizeof(cmd), CRIT " encode -i %s -o %s/%s 2>&1", path, tmpdir, images[i].file);
		if (run(cmd, out, sizeof(out))) {
			snprintf(unit_fail_msg, sizeof(unit_fail_msg), "crit encode %s: %.400s", images[i].file, out);
			return 1;
		}
	}

	CHECK(img_reader_open(&r, dfd, "pstree.img", IMG_PSTREE) == 0);
	CHECK(img_read_entry(&r, &m) == 1);
	{
		PstreeEntry *e = (PstreeEntry *)m;
		int ok = e->pid == 1 && e->n_threads == 2 && e->threads[1] == 7;

		protobuf_c_message_free_unpacked(m, NULL);
		CHECK(ok);
	}
	CHECK(img_read_entry(&r, &m) == 1);
	CHECK(((PstreeEntry *)m)->pid == 9 && ((PstreeEntry *)m)->n_threads == 0);
	protobuf_c_message_free_unpacked(m, NULL);
	CHECK(img_read_entry(&r, &m) == 0);
	img_reader_close(&r);

	CHECK(img_reader_open(&r, dfd, "pagemap-1.img", IMG_PAGEMAP) == 0);
	CHECK(img_read_entry(&r, &m) == 1 && m->descriptor == &pagemap_head__descriptor);
	CHECK(((PagemapHead *)m)->pages_id == 3);
	protobuf_c_message_free_unpacked(m, NULL);
	CHECK(img_read_entry(&r, &m) == 1 && m->descriptor == &pagemap_entry__descriptor);
	/* crit 3.17 writes the 3.x spelling: the length in field 2 */
	CHECK(((PagemapEntry *)m)->vaddr == 0x400000 && ((PagemapEntry *)m)->compat_nr_pages == 2);
	CHECK(!((PagemapEntry *)m)->has_nr_pages);
	CHECK(((PagemapEntry *)m)->has_flags && ((PagemapEntry *)m)->flags == 4 /* PE_PRESENT */);
	protobuf_c_message_free_unpacked(m, NULL);
	CHECK(img_read_entry(&r, &m) == 1 && ((PagemapEntry *)m)->vaddr == 0x401000);
	CHECK(((PagemapEntry *)m)->has_in_parent && ((PagemapEntry *)m)->in_parent);
	protobuf_c_message_free_unpacked(m, NULL);
	CHECK(img_read_entry(&r, &m) == 0);
	img_reader_close(&r);

	CHECK(img_reader_open(&r, dfd, "pipes-data.img", IMG_PIPES_DATA) == 0);
	CHECK(img_read_entry(&r, &m) == 1 && ((PipeDataEntry *)m)->pipe_id == 5);
	CHECK(r.payload_len == 5 && !memcmp(r.payload, "hello", 5));
	protobuf_c_message_free_unpacked(m, NULL);
	CHECK(img_read_entry(&r, &m) == 1 && ((PipeDataEntry *)m)->pipe_id == 6 && r.payload_len == 0);
	protobuf_c_message_free_unpacked(m, NULL);
	CHECK(img_read_entry(&r, &m) == 0);
	img_reader_close(&r);

	CHECK(img_reader_open(&r, dfd, "core-1.img", IMG_CORE) == 0);
	CHECK(img_read_entry(&r, &m) == 1);
	{
		CoreEntry *c = (CoreEntry *)m;
		int ok = c->mtype == CORE_ENTRY__MARCH__X86_64 && c->tc && c->tc->blk_sigset == 0x4200 &&
			 !strcmp(c->tc->comm, "sleep") && c->tc->rlimits && c->tc->rlimits->n_rlimits == 1 &&
			 c->tc->rlimits->rlimits[0]->max == UINT64_MAX && c->tc->n_sigactions == 1 && c->thread_core &&
			 c->thread_core->has_sched_nice && c->thread_core->sched_nice == -5 &&
			 c->thread_core->rseq_entry && c->thread_core->rseq_entry->signature == 0x53053053 &&
			 !c->thread_info && !c->ids;

		protobuf_c_message_free_unpacked(m, NULL);
		CHECK(ok);
	}
	img_reader_close(&r);

	CHECK(img_reader_open(&r, dfd, "fdinfo-2.img", IMG_FDINFO) == 0);
	CHECK(img_read_entry(&r, &m) == 1);
	CHECK(((FdinfoEntry *)m)->type == FD_TYPES__PIPE && ((FdinfoEntry *)m)->fd == 3);
	protobuf_c_message_free_unpacked(m, NULL);
	img_reader_close(&r);
	close(dfd);
	rm_tmpdir();
	return 0;
}

/* Errors go to a log file, so the cases can read them. */
static char logpath[128];

static void log_capture(void)
{
	snprintf(logpath, sizeof(logpath), "/tmp/criu-test-proc-images-log.%d", (int)getpid());
	log_init(LOG_ERROR, logpath);
}

static bool log_has(const char *what)
{
	char *s;
	bool found;

	log_fini();
	log_init(DEFAULT_LOGLEVEL, NULL);
	s = unit_slurp(logpath, NULL);
	unlink(logpath);
	found = s && strstr(s, what);
	if (!found)
		snprintf(unit_fail_msg, sizeof(unit_fail_msg), "log lacks \"%s\": %.300s", what, s ? s : "");
	free(s);
	return found;
}

#define CHECK_LOG(what)                                                                                                \
	do {                                                                                                           \
		if (!log_has(what))                                                                                    \
			return 1;                                                                                      \
	} while (0)

static int test_pagemap_head_rules(void)
{
	PagemapHead head = PAGEMAP_HEAD__INIT;
	PagemapEntry pe = PAGEMAP_ENTRY__INIT;
	struct img_writer w;
	int dfd = new_tmpdir();

	CHECK(dfd >= 0);
	CHECK(img_writer_open(&w, dfd, IMG_PAGEMAP, 1) == 0);
	log_capture();
	CHECK(img_write_entry(&w, &pe.base) == -EINVAL);
	CHECK_LOG("can't write a pagemap_entry into a PAGEMAP image as entry 0, expected a pagemap_head");
	CHECK(img_write_entry(&w, &head.base) == 0);
	log_capture();
	CHECK(img_write_entry(&w, &head.base) == -EINVAL);
	CHECK_LOG("as entry 1, expected a pagemap_entry");
	CHECK(img_write_entry(&w, &pe.base) == 0);
	CHECK(img_writer_commit(&w) == 0);
	close(dfd);
	rm_tmpdir();
	return 0;
}

static int test_payload_rules(void)
{
	PipeDataEntry e = PIPE_DATA_ENTRY__INIT;
	struct img_writer w;
	struct img_reader r;
	ProtobufCMessage *m;
	uint8_t file[64];
	int dfd = new_tmpdir(), fd;
	ssize_t n;

	CHECK(dfd >= 0);
	e.pipe_id = 1;
	e.bytes = 4;

	/* The entry's payload must come before the next entry and the commit. */
	CHECK(img_writer_open(&w, dfd, IMG_PIPES_DATA, 0) == 0);
	CHECK(img_write_entry(&w, &e.base) == 0);
	log_capture();
	CHECK(img_write_entry(&w, &e.base) == -EINVAL);
	CHECK_LOG("4 bytes of the previous entry's payload are missing");
	log_capture();
	CHECK(img_write_raw(&w, "12345", 5) == -EINVAL);
	CHECK_LOG("5 bytes of payload where the entry announced 4");
	CHECK(img_write_raw(&w, "12", 2) == 0);
	log_capture();
	CHECK(img_writer_commit(&w) == -EINVAL);
	CHECK_LOG("2 bytes of the last entry's payload are missing");
	CHECK(faccessat(dfd, "pipes-data.img", F_OK, 0) < 0);

	/* img_write_entry_payload checks the length against the entry. */
	CHECK(img_writer_open(&w, dfd, IMG_PIPES_DATA, 0) == 0);
	log_capture();
	CHECK(img_write_entry_payload(&w, &e.base, "123", 3) == -EINVAL);
	CHECK_LOG("announces 4 bytes of payload, 3 given");
	CHECK(img_write_entry_payload(&w, &e.base, "1234", 4) == 0);
	CHECK(img_writer_commit(&w) == 0);
	CHECK(img_writer_open(&w, dfd, IMG_PSTREE, 0) == 0);
	log_capture();
	CHECK(img_write_entry_payload(&w, &e.base, "1234", 4) == -EINVAL);
	CHECK_LOG("PSTREE entries have no payload");
	img_writer_abort(&w);

	/* The reader rejects a payload cut short. */
	fd = openat(dfd, "pipes-data.img", O_RDONLY | O_CLOEXEC);
	CHECK(fd >= 0);
	n = pread(fd, file, sizeof(file), 0);
	close(fd);
	CHECK(n == 20);
	CHECK(img_reader_open_mem(&r, file, (size_t)n, "pipes-data.img", IMG_PIPES_DATA) == 0);
	CHECK(img_read_entry(&r, &m) == 1 && r.payload_len == 4 && !memcmp(r.payload, "1234", 4));
	protobuf_c_message_free_unpacked(m, NULL);
	CHECK(img_read_entry(&r, &m) == 0 && !r.payload);
	img_reader_close(&r);
	CHECK(img_reader_open_mem(&r, file, (size_t)n - 1, "pipes-data.img", IMG_PIPES_DATA) == 0);
	log_capture();
	CHECK(img_read_entry(&r, &m) == -EINVAL && !m);
	CHECK_LOG("truncated payload at offset 16: the entry announces 4 bytes, 3 left");
	img_reader_close(&r);
	close(dfd);
	rm_tmpdir();
	return 0;
}

static int test_raw_pages(void)
{
	static uint8_t pages[2 * 4096];
	struct img_writer w;
	struct img_reader r;
	char path[128], *shown = NULL;
	size_t len = 0;
	FILE *out;
	int dfd = new_tmpdir();

	CHECK(dfd >= 0);
	memset(pages, 0xa5, sizeof(pages));
	CHECK(img_writer_open(&w, dfd, IMG_PAGES, 3) == 0);
	CHECK(img_write_raw(&w, pages, sizeof(pages)) == 0);
	CHECK(img_writer_commit(&w) == 0);
	CHECK(img_reader_open(&r, dfd, "pages-3.img", IMG_ANY) == 0);
	CHECK(r.desc->type == IMG_PAGES && r.size == sizeof(pages) && r.fd >= 0);
	img_reader_close(&r);
	snprintf(path, sizeof(path), "%s/pages-3.img", tmpdir);
	out = open_memstream(&shown, &len);
	CHECK(out && show_image(path, NULL, out) == 0);
	fclose(out);
	CHECK_STR(shown, "raw image, 8192 bytes\n");
	free(shown);
	close(dfd);
	rm_tmpdir();
	return 0;
}

/* Our .proto files agree with pycriu's compiled schemas, field by field. */
static int test_schemas_match_pycriu(void)
{
	char cmd[512], out[8192];
	int dfd;

	if (!have_crit())
		return UNIT_SKIP;
	if (system("command -v protoc-c >/dev/null 2>&1")) {
		unit_skip_reason = "protoc-c not installed";
		return UNIT_SKIP;
	}
	dfd = new_tmpdir();
	CHECK(dfd >= 0);
	close(dfd);
	snprintf(cmd, sizeof(cmd),
		 "protoc-c --proto_path=images --include_imports --descriptor_set_out=%s/all.pb images/*.proto 2>&1 "
		 "&& " PY " test/unit/check-proto-schemas.py %s/all.pb 2>&1",
		 tmpdir, tmpdir);
	if (run(cmd, out, sizeof(out))) {
		snprintf(unit_fail_msg, sizeof(unit_fail_msg), "%.500s", out);
		return 1;
	}
	rm_tmpdir();
	return 0;
}

static const struct unit_case cases[] = {
	{"proc_images_desc_table", test_desc_table},
	{"proc_images_roundtrip_and_show", test_roundtrip_and_show},
	{"proc_images_crit_roundtrip", test_crit_roundtrip},
	{"proc_images_crit_encode_handwritten", test_crit_encode_handwritten},
	{"proc_images_pagemap_head_rules", test_pagemap_head_rules},
	{"proc_images_payload_rules", test_payload_rules},
	{"proc_images_raw_pages", test_raw_pages},
	{"proc_images_schemas_match_pycriu", test_schemas_match_pycriu},
	{},
};

int main(void)
{
	int ret = unit_run(cases);

	rm_tmpdir();
	return ret;
}

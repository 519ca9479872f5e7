/*
 * libFuzzer target for the image reader and `criu show` formatting: the input
 * is an image file of any type. Every entry that decodes is printed (all
 * fields, then its first field alone) to /dev/null and freed.
 *
 * Build with clang -fsanitize=fuzzer,address,undefined together with
 * criu/image.c, criu/show.c, criu/log.c, criu/util.c and the generated
 * images/ *.pb-c.c, link -lprotobuf-c; seeds are in test/fuzz/corpus/image/.
 * Errors about broken inputs go to stderr (-close_fd_mask=2 hides them).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "image/image.h"
#include "util/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *devnull;
	struct img_reader r;
	ProtobufCMessage *msg;

	if (!devnull) {
		devnull = fopen("/dev/null", "w");
		if (!devnull)
			return 0;
	}
	if (img_reader_open_mem(&r, data, size, "fuzz.img", IMG_ANY) < 0)
		return 0;
	while (img_read_entry(&r, &msg) > 0) {
		show_entry(devnull, msg, NULL);
		if (msg->descriptor->n_fields)
			show_entry(devnull, msg, msg->descriptor->fields[0].name);
		protobuf_c_message_free_unpacked(msg, NULL);
	}
	img_reader_close(&r);
	return 0;
}

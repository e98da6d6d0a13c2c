/* fuzz_stream - libFuzzer target for the event stream reader */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "buf.h"
#include "json.h"
#include "mp.h"
#include "stream.h"

/* Reads every event of data; checks each record and renders it. */
static void
run(const uint8_t *data, size_t size, int skip)
{
	struct buf text = { 0 };
	struct event ev;
	struct reader *r;
	const char *p;
	int fd, ret;

	fd = memfd_create("fuzz", 0);
	if (fd < 0)
		abort();
	if (size && write(fd, data, size) != (ssize_t)size)
		abort();
	lseek(fd, 0, SEEK_SET);
	r = reader_new(fd, "fuzz");
	reader_set_max(r, 1 << 20);
	reader_set_skip_invalid(r, skip);
	while ((ret = reader_next(r, &ev)) == READ_EVENT) {
		p = ev.rec;
		if (mp_skip(&p, ev.rec + ev.rec_len, NULL) != MP_OK ||
		    p != ev.rec + ev.rec_len || ((*ev.rec & 0xf0) != 0x80 &&
		    (uint8_t)*ev.rec != 0xde && (uint8_t)*ev.rec != 0xdf))
			abort();
		if (ev.nsec >= 1000000000u)
			abort();
		text.len = 0;
		p = ev.rec;
		json_from_mp(&text, &p, ev.rec + ev.rec_len);
		json_put_str(&text, ev.tag, ev.tag_len);
	}
	if (skip && ret == READ_ERR)
		abort();        /* --skip-invalid never fails on data */
	if (ret == READ_ERR && strlen(reader_errmsg(r)) == 0)
		abort();
	reader_free(r);
	close(fd);
	buf_free(&text);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	run(data, size, 0);
	run(data, size, 1);
	return 0;
}

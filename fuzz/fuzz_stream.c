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
static uint64_t
run(const uint8_t *data, size_t size, int skip)
{
	struct buf text = { 0 };
	struct event ev;
	struct reader *r;
	const char *p;
	uint64_t n = 0;
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
		n++;
	}
	if (skip && ret == READ_ERR)
		abort();        /* --skip-invalid never fails on data */
	if (ret == READ_ERR && strlen(reader_errmsg(r)) == 0)
		abort();
	reader_free(r);
	close(fd);
	buf_free(&text);
	return n;
}

/* The same bytes fed in 7-byte pieces, frame ends on: the event count. */
static uint64_t
run_fed(const uint8_t *data, size_t size)
{
	struct reader *r = reader_new(-1, "fed");
	struct event ev;
	uint64_t n = 0;
	size_t off = 0, k;
	int ret = READ_AGAIN;

	reader_set_max(r, 1 << 20);
	reader_set_frame_end(r, 1);
	while (ret == READ_AGAIN) {
		k = size - off < 7 ? size - off : 7;
		if (k)
			reader_feed(r, data + off, k);
		else
			reader_feed_eof(r);
		off += k;
		while ((ret = reader_next_buffered(r, &ev)) > 0)
			n += ret == READ_EVENT;
	}
	reader_free(r);
	return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (run(data, size, 0) != run_fed(data, size))
		abort();        /* fed or read, split or not: the same events */
	run(data, size, 1);
	return 0;
}

/* fuzz_stream - libFuzzer target for the event stream reader */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>

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

/* reader_next_value (lcat --msgpack): whole values within the limit. */
static void
run_values(const uint8_t *data, size_t size, int skip)
{
	struct reader *r;
	const char *v, *p;
	size_t len;
	int fd, ret;

	fd = memfd_create("fuzz", 0);
	if (fd < 0)
		abort();
	if (size && write(fd, data, size) != (ssize_t)size)
		abort();
	lseek(fd, 0, SEEK_SET);
	r = reader_new(fd, "values");
	reader_set_max(r, 64);
	reader_set_skip_invalid(r, skip);
	while ((ret = reader_next_value(r, &v, &len)) == READ_EVENT) {
		p = v;
		if (len > 64 || mp_skip(&p, v + len, NULL) != MP_OK ||
		    p != v + len)
			abort();
	}
	if (skip && ret == READ_ERR)
		abort();
	reader_free(r);
	close(fd);
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

/*
 * The events of one frame, as "sec.nsec:record" lines; returns 1 if the
 * reader ended with an error.
 */
static int
frame_events(const char *f, size_t n, struct buf *out)
{
	struct reader *r = reader_new(-1, "frame");
	struct event ev;
	char t[48];
	int ret;

	reader_set_max(r, 1 << 24);
	reader_feed(r, f, n);
	reader_feed_eof(r);
	while ((ret = reader_next_buffered(r, &ev)) == READ_EVENT) {
		snprintf(t, sizeof(t), "%lld.%u:", (long long)ev.sec, ev.nsec);
		buf_puts(out, t);
		buf_put(out, ev.rec, ev.rec_len);
		buf_putc(out, '\n');
	}
	if (ret == READ_ERR && !strstr(reader_errmsg(r), "frame: byte 0: "))
		abort();
	reader_free(r);
	return ret == READ_ERR;
}

/* Appends gzip members of p[0..n), split at cut. */
static void
gzip_members(struct buf *out, const char *p, size_t n, size_t cut)
{
	z_stream zs;
	int i;

	for (i = 0; i < 2; i++) {
		memset(&zs, 0, sizeof(zs));
		if (deflateInit2(&zs, 1 + (int)(n % 9), Z_DEFLATED,
		    16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
			abort();
		buf_reserve(out, deflateBound(&zs, n) + 64);
		zs.next_in = (unsigned char *)(i ? p + cut : p);
		zs.avail_in = i ? n - cut : cut;
		zs.next_out = (unsigned char *)out->p + out->len;
		zs.avail_out = out->cap - out->len;
		if (deflate(&zs, Z_FINISH) != Z_STREAM_END)
			abort();
		out->len = out->cap - zs.avail_out;
		deflateEnd(&zs);
	}
}

/*
 * The bytes as the entries of a PackedForward frame, plain and gzip'd (in
 * two members): the same events, and an error in both or neither.
 */
static void
run_packed(const uint8_t *data, size_t size)
{
	static struct buf plain, gz, z, ev1, ev2;
	msgpack_packer pk;
	int e1, e2;

	plain.len = gz.len = z.len = ev1.len = ev2.len = 0;
	mp_packer_init(&pk, &plain);
	msgpack_pack_array(&pk, 2);
	msgpack_pack_str_with_body(&pk, "t", 1);
	msgpack_pack_bin_with_body(&pk, data, size);
	gzip_members(&z, (const char *)data, size, size / 3);
	mp_packer_init(&pk, &gz);
	msgpack_pack_array(&pk, 3);
	msgpack_pack_str_with_body(&pk, "t", 1);
	msgpack_pack_bin_with_body(&pk, z.p, z.len);
	msgpack_pack_map(&pk, 1);
	msgpack_pack_str_with_body(&pk, "compressed", 10);
	msgpack_pack_str_with_body(&pk, "gzip", 4);
	e1 = frame_events(plain.p, plain.len, &ev1);
	e2 = frame_events(gz.p, gz.len, &ev2);
	if (e1 != e2 || ev1.len != ev2.len ||
	    (ev1.len && memcmp(ev1.p, ev2.p, ev1.len)))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (run(data, size, 0) != run_fed(data, size))
		abort();        /* fed or read, split or not: the same events */
	run(data, size, 1);
	run_packed(data, size);
	run_values(data, size, size & 1);
	return 0;
}

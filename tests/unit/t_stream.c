/* t_stream - the event stream reader: every shape, every split, bad input */
#include <fcntl.h>
#include <sys/wait.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "err.h"
#include "fwd.h"
#include "mark.h"
#include "mp.h"
#include "stream.h"
#include "tap.h"

static struct buf s;            /* the stream under test */
static msgpack_packer pk;

static void
rec1(const char *k, const char *v)
{
	msgpack_pack_map(&pk, 1);
	msgpack_pack_str_with_body(&pk, k, strlen(k));
	msgpack_pack_str_with_body(&pk, v, strlen(v));
}

static void
tagstr(const char *t)
{
	msgpack_pack_str_with_body(&pk, t, strlen(t));
}

static void
tagstr2(msgpack_packer *p, const char *t)
{
	msgpack_pack_str_with_body(p, t, strlen(t));
}

static void
entries(struct buf *b)
{
	msgpack_packer p2;

	mp_packer_init(&p2, b);
	msgpack_pack_array(&p2, 2);
	mp_put_eventtime(b, 1502880723, 309664000);
	msgpack_pack_map(&p2, 1);
	msgpack_pack_str_with_body(&p2, "n", 1);
	msgpack_pack_int(&p2, 1);
	msgpack_pack_array(&p2, 2);
	msgpack_pack_int(&p2, 1502880724);
	msgpack_pack_map(&p2, 1);
	msgpack_pack_str_with_body(&p2, "n", 1);
	msgpack_pack_int(&p2, 2);
}

static void
gzip_member(struct buf *out, const char *p, size_t n)
{
	z_stream zs;

	memset(&zs, 0, sizeof(zs));
	deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
	buf_reserve(out, deflateBound(&zs, n) + 64);
	zs.next_in = (unsigned char *)p;
	zs.avail_in = n;
	zs.next_out = (unsigned char *)out->p + out->len;
	zs.avail_out = out->cap - out->len;
	deflate(&zs, Z_FINISH);
	out->len = out->cap - zs.avail_out;
	deflateEnd(&zs);
}

/* A stream with every shape; returns the number of events in it. */
static int
build_all(void)
{
	struct buf e = { 0 }, z = { 0 };
	const char ext8[] = "\xc7\x08\x00\x59\x94\x23\xd3\x00\x00\x00\x07";

	s.len = 0;
	mp_packer_init(&pk, &s);
	/* Message, fixext8 EventTime */
	msgpack_pack_array(&pk, 3); tagstr("m.fixext");
	mp_put_eventtime(&s, 1502880723, 309664000); rec1("a", "1");
	/* Message, ext8 EventTime, with an option */
	msgpack_pack_array(&pk, 4); tagstr("m.ext8");
	buf_put(&s, ext8, 11); rec1("a", "2");
	msgpack_pack_map(&pk, 1); tagstr("chunk"); tagstr("abc");
	/* heartbeat */
	msgpack_pack_nil(&pk);
	/* Message, int and float times */
	msgpack_pack_array(&pk, 3); tagstr("m.int");
	msgpack_pack_uint32(&pk, 1502880723); rec1("a", "3");
	msgpack_pack_array(&pk, 3); tagstr("m.float");
	msgpack_pack_double(&pk, 1502880723.5); rec1("a", "4");
	/* Forward */
	entries(&e);
	msgpack_pack_array(&pk, 2); tagstr("f.fwd");
	msgpack_pack_array(&pk, 2); buf_put(&s, e.p, e.len);
	/* PackedForward, bin and str */
	msgpack_pack_array(&pk, 3); tagstr("f.bin");
	msgpack_pack_bin_with_body(&pk, e.p, e.len);
	msgpack_pack_map(&pk, 1); tagstr("size"); msgpack_pack_int(&pk, 2);
	msgpack_pack_array(&pk, 2); tagstr("f.str");
	msgpack_pack_str_with_body(&pk, e.p, e.len);
	/* CompressedPackedForward, two gzip members */
	gzip_member(&z, e.p, 12);
	gzip_member(&z, e.p + 12, e.len - 12);
	msgpack_pack_array(&pk, 3); tagstr("f.gz");
	msgpack_pack_bin_with_body(&pk, z.p, z.len);
	msgpack_pack_map(&pk, 2); tagstr("size"); msgpack_pack_int(&pk, 2);
	tagstr("compressed"); tagstr("gzip");
	/* Fluent Bit v2 entry and a nil record */
	msgpack_pack_array(&pk, 2); tagstr("f.v2");
	msgpack_pack_array(&pk, 2);
	msgpack_pack_array(&pk, 2);
	msgpack_pack_array(&pk, 2); mp_put_eventtime(&s, 7, 8);
	msgpack_pack_map(&pk, 0);
	rec1("v", "2");
	msgpack_pack_array(&pk, 2); msgpack_pack_int(&pk, 9);
	msgpack_pack_nil(&pk);
	buf_free(&e);
	buf_free(&z);
	return 4 + 2 * 4 + 1;
}

/* Events as text lines "tag sec.nsec hex(rec)", for comparing runs. */
static void
describe(struct buf *out, const struct event *ev)
{
	char t[64];
	size_t i;

	buf_put(out, ev->tag, ev->tag_len);
	snprintf(t, sizeof(t), " %lld.%09u ", (long long)ev->sec, ev->nsec);
	buf_puts(out, t);
	for (i = 0; i < ev->rec_len; i++) {
		snprintf(t, sizeof(t), "%02x", (unsigned char)ev->rec[i]);
		buf_puts(out, t);
	}
	buf_putc(out, '\n');
}

/*
 * Reads d[0..n) through a pipe written in two parts, split at k; appends
 * the events to desc.  Returns the last reader result; err gets the
 * message.
 */
static int
read_split(const char *d, size_t n, size_t k, struct buf *desc, char *err,
    size_t errcap, int skip, size_t max, struct reader_stats *st)
{
	struct reader *r;
	struct event ev;
	int fds[2], ret;

	if (pipe(fds) < 0)
		abort();
	r = reader_new(fds[0], "test");
	reader_set_skip_invalid(r, skip);
	if (max)
		reader_set_max(r, max);
	if (k && write(fds[1], d, k) != (ssize_t)k)
		abort();
	if (k)
		reader_fill(r);
	while ((ret = reader_next_buffered(r, &ev)) == READ_EVENT)
		describe(desc, &ev);
	if (ret == READ_AGAIN) {
		if (n > k && write(fds[1], d + k, n - k) != (ssize_t)(n - k))
			abort();
		close(fds[1]);
		fds[1] = -1;
		while ((ret = reader_next(r, &ev)) == READ_EVENT)
			describe(desc, &ev);
	}
	if (err)
		snprintf(err, errcap, "%s", reader_errmsg(r));
	if (st)
		*st = *reader_stats(r);
	if (fds[1] >= 0)
		close(fds[1]);
	close(fds[0]);
	reader_free(r);
	return ret;
}

static int
count_lines(const struct buf *b)
{
	size_t i;
	int n = 0;

	for (i = 0; i < b->len; i++)
		n += b->p[i] == '\n';
	return n;
}

static void
test_shapes(void)
{
	struct buf base = { 0 }, got = { 0 };
	struct reader_stats st;
	size_t k, bad = 0;
	int want = build_all(), ret;

	ret = read_split(s.p, s.len, s.len, &base, NULL, 0, 0, 0, &st);
	is_int(ret, READ_EOF, "every shape reads to the end");
	is_int(count_lines(&base), want, "every shape gives its events");
	is_int(st.nil_records, 1, "a nil record is skipped and counted");
	buf_put(&base, "", 1);
	ok(strstr(base.p, "m.fixext 1502880723.309664000 81a161a131\n") != NULL,
	    "fixext8 EventTime with nanoseconds");
	ok(strstr(base.p, "m.ext8 1502880723.000000007 ") != NULL,
	    "ext8 EventTime");
	ok(strstr(base.p, "m.int 1502880723.000000000 ") != NULL, "int time");
	ok(strstr(base.p, "m.float 1502880723.500000000 ") != NULL,
	    "float time");
	ok(strstr(base.p, "f.gz 1502880724.000000000 81a16e02\n") != NULL,
	    "two gzip members inflate to both entries");
	ok(strstr(base.p, "f.v2 7.000000008 81a176a132\n") != NULL,
	    "Fluent Bit [[time, metadata], record] entry");
	base.len--;
	for (k = 0; k <= s.len; k++) {
		got.len = 0;
		ret = read_split(s.p, s.len, k, &got, NULL, 0, 0, 0, NULL);
		if (ret != READ_EOF || got.len != base.len ||
		    memcmp(got.p, base.p, base.len) != 0)
			bad++;
	}
	is_int(bad, 0, "split at each of %zu byte boundaries: same events",
	    s.len + 1);
	buf_free(&base);
	buf_free(&got);
}

/* One Message event {"a":"1"} with tag "t": 18 bytes. */
static void
one(struct buf *b)
{
	msgpack_packer p2;

	mp_packer_init(&p2, b);
	msgpack_pack_array(&p2, 3);
	msgpack_pack_str_with_body(&p2, "t", 1);
	mp_put_eventtime(b, 1, 2);
	msgpack_pack_map(&p2, 1);
	msgpack_pack_str_with_body(&p2, "a", 1);
	msgpack_pack_str_with_body(&p2, "1", 1);
}

static void
expect_err(const char *name, const char *d, size_t n, int events,
    const char *msg)
{
	struct buf got = { 0 };
	char err[512];
	int ret;

	ret = read_split(d, n, n, &got, err, sizeof(err), 0, 0, NULL);
	is_int(ret, READ_ERR, "%s: an error", name);
	is_int(count_lines(&got), events, "%s: good events before it kept",
	    name);
	ok(strstr(err, msg) != NULL, "%s: the message names it", name);
	if (!strstr(err, msg))
		printf("#   got [%s]\n", err);
	buf_free(&got);
}

static void
test_errors(void)
{
	struct buf b = { 0 }, got = { 0 };
	struct reader_stats st;
	char err[512];
	size_t one_len;
	int ret;

	one(&b);
	one_len = b.len;
	is_int(one_len, 18, "one event is 18 bytes");
	one(&b);
	expect_err("truncated", b.p, b.len - 1, 1,
	    "test: byte 18: truncated event: the input ends 17 bytes into it");
	b.len = one_len;
	buf_put(&b, "\xc1", 1);
	expect_err("0xc1", b.p, b.len, 1, "test: byte 18: invalid msgpack "
	    "byte 0xc1");
	b.len = one_len;
	buf_put(&b, "\x81\xa1x\x01", 4);
	expect_err("a map", b.p, b.len, 1, "byte 18: expected an event "
	    "[tag, time, record], found a map");
	b.len = one_len;
	buf_put(&b, "\x93\x01\x01\x80", 4);
	expect_err("int tag", b.p, b.len, 1, "event tag is an integer");
	b.len = one_len;
	buf_put(&b, "\x93\xa1t\xc3\x80", 5);
	expect_err("bool time", b.p, b.len, 1, "event time is a boolean");
	b.len = one_len;
	buf_put(&b, "\x93\xa1t\x01\x01", 5);
	expect_err("int record", b.p, b.len, 1, "event record is an integer");
	b.len = one_len;
	buf_put(&b, "\x93\xa1t\xc4\x03" "abc\x81\xaa" "compressed\xa4" "gzip", 25);
	expect_err("bad gzip", b.p, b.len, 1, "gzip");
	b.len = one_len;
	buf_put(&b, "\x92\xa1t\x91\x01", 5);
	expect_err("bad entry", b.p, b.len, 1, "entry 1 of the frame is not");

	/* --skip-invalid: garbage between good events */
	b.len = 0;
	one(&b);
	buf_put(&b, "\xc1\xc1\x01\x02\x81\xa1x\x01", 8);
	one(&b);
	buf_put(&b, "\xdd\xff\xff", 3);
	one(&b);
	ret = read_split(b.p, b.len, b.len, &got, err, sizeof(err), 1, 0, &st);
	is_int(ret, READ_EOF, "skip: reads to the end");
	is_int(count_lines(&got), 3, "skip: every good event");
	is_int(st.skipped_bytes, 11, "skip: counts the bad bytes");
	is_int(st.skipped_places, 2, "skip: counts the places");

	/* size limit */
	b.len = 0;
	one(&b);
	one(&b);
	got.len = 0;
	ret = read_split(b.p, b.len, b.len, &got, err, sizeof(err), 0, 16, NULL);
	is_int(ret, READ_ERR, "an event over --max-event-size is an error");
	ok(strstr(err, "event larger than 16 bytes") != NULL, "and says so: %s",
	    err);
	buf_free(&b);
	buf_free(&got);
}

/*
 * Feeds d[0..n) in pieces of k bytes, then the end, to r, a reader with no
 * fd, the events described in desc; the reader's last result.
 */
static int
feed_pieces(struct reader *r, const char *d, size_t n, size_t k,
    struct buf *desc)
{
	struct event ev;
	size_t off = 0, m;
	int ret = READ_AGAIN;

	while (ret == READ_AGAIN) {
		m = n - off < k ? n - off : k;
		if (m)
			reader_feed(r, d + off, m);
		else
			reader_feed_eof(r);
		off += m;
		while ((ret = reader_next_buffered(r, &ev)) == READ_EVENT)
			describe(desc, &ev);
	}
	return ret;
}

/* Feeds d[0..n) in pieces of k bytes to a reader with no fd. */
static int
read_fed(const char *d, size_t n, size_t k, struct buf *desc)
{
	struct reader *r = reader_new(-1, "fed");
	int ret = feed_pieces(r, d, n, k, desc);

	reader_free(r);
	return ret;
}

static void
test_feed(void)
{
	struct buf base = { 0 }, got = { 0 };
	size_t k, bad = 0;
	int ret;

	build_all();
	read_split(s.p, s.len, s.len, &base, NULL, 0, 0, 0, NULL);
	for (k = 1; k <= s.len; k++) {
		got.len = 0;
		ret = read_fed(s.p, s.len, k, &got);
		if (ret != READ_EOF || got.len != base.len ||
		    memcmp(got.p, base.p, base.len) != 0)
			bad++;
	}
	is_int(bad, 0, "reader_feed in pieces of 1 to %zu bytes: same events",
	    s.len);
	buf_free(&base);
	buf_free(&got);
}

/* The option {"chunk": id}. */
static void
frame_with(msgpack_packer *p, const char *id)
{
	msgpack_pack_map(p, 1);
	msgpack_pack_str_with_body(p, "chunk", 5);
	msgpack_pack_str_with_body(p, id, strlen(id));
}

/*
 * What a reader with frame ends on says: "E tag" for an event, with "!"
 * when it ends its frame, "F chunk-bytes" for READ_FRAME.
 */
static void
frames_of(const char *d, size_t n, struct buf *out)
{
	struct reader *r = reader_new(-1, "frames");
	struct event ev;
	struct fwd_str id;
	const char *opt;
	size_t olen;
	int ret;

	reader_set_frame_end(r, 1);
	reader_feed(r, d, n);
	reader_feed_eof(r);
	while ((ret = reader_next_buffered(r, &ev)) > 0) {
		if (ret == READ_EVENT) {
			buf_puts(out, "E ");
			buf_put(out, ev.tag, ev.tag_len);
			buf_puts(out, reader_frame_done(r) ? "!" : "");
		} else {
			opt = reader_frame_option(r, &olen);
			buf_puts(out, "F ");
			if (opt && fwd_option_chunk(opt, olen, &id))
				buf_put(out, id.p + 1, id.len - 1);
		}
		buf_putc(out, ' ');
	}
	buf_putc(out, ret == READ_EOF ? '.' : '?');
	reader_free(r);
}

static void
test_frame_end(void)
{
	struct buf b = { 0 }, got = { 0 }, e = { 0 }, z = { 0 };
	msgpack_packer p, pe;
	const char *want;

	mp_packer_init(&p, &b);
	mp_packer_init(&pe, &e);
	/* Forward, no entries */
	msgpack_pack_array(&p, 3); tagstr2(&p, "f0");
	msgpack_pack_array(&p, 0); frame_with(&p, "c1");
	/* PackedForward, empty entries */
	msgpack_pack_array(&p, 3); tagstr2(&p, "p0");
	msgpack_pack_bin_with_body(&p, "", 0); frame_with(&p, "c2");
	/* Forward, nil records only */
	msgpack_pack_array(&p, 3); tagstr2(&p, "fn");
	msgpack_pack_array(&p, 2);
	msgpack_pack_array(&p, 2); msgpack_pack_int(&p, 1); msgpack_pack_nil(&p);
	msgpack_pack_array(&p, 2); msgpack_pack_int(&p, 2); msgpack_pack_nil(&p);
	frame_with(&p, "c3");
	/* one event, then a nil record: the end comes after the event */
	msgpack_pack_array(&pe, 2); msgpack_pack_int(&pe, 1);
	msgpack_pack_map(&pe, 0);
	msgpack_pack_array(&pe, 2); msgpack_pack_int(&pe, 2);
	msgpack_pack_nil(&pe);
	msgpack_pack_array(&p, 3); tagstr2(&p, "pn");
	msgpack_pack_bin_with_body(&p, e.p, e.len); frame_with(&p, "c4");
	/* gzip of nil records only */
	gzip_member(&z, e.p + 3, e.len - 3);
	msgpack_pack_array(&p, 3); tagstr2(&p, "gz");
	msgpack_pack_bin_with_body(&p, z.p, z.len);
	msgpack_pack_map(&p, 2);
	msgpack_pack_str_with_body(&p, "chunk", 5);
	msgpack_pack_str_with_body(&p, "c5", 2);
	msgpack_pack_str_with_body(&p, "compressed", 10);
	msgpack_pack_str_with_body(&p, "gzip", 4);
	/* a Message with a nil record is skipped, as in_forward does */
	msgpack_pack_array(&p, 4); tagstr2(&p, "mn");
	msgpack_pack_int(&p, 1); msgpack_pack_nil(&p); frame_with(&p, "c6");
	/* a Forward with an event last: the event says it */
	msgpack_pack_array(&p, 2); tagstr2(&p, "f1");
	msgpack_pack_array(&p, 1);
	msgpack_pack_array(&p, 2); msgpack_pack_int(&p, 1); msgpack_pack_map(&p, 0);
	frames_of(b.p, b.len, &got);
	want = "F c1 F c2 F c3 E pn F c4 F c5 E f1! .";
	is_mem(got.p, got.len, want, strlen(want),
	    "frames ending without an event are reported, with the option");
	buf_free(&b);
	buf_free(&got);
	buf_free(&e);
	buf_free(&z);
}

/*
 * Appends n entries [EventTime, {"a": str of len bytes}] to b, each
 * entry's time its index plus first.
 */
static void
entry_block(struct buf *b, size_t n, size_t len, uint32_t first)
{
	msgpack_packer p;
	size_t i;

	mp_packer_init(&p, b);
	for (i = 0; i < n; i++) {
		msgpack_pack_array(&p, 2);
		mp_put_eventtime(b, first + (uint32_t)i, 0);
		msgpack_pack_map(&p, 1);
		msgpack_pack_str_with_body(&p, "a", 1);
		msgpack_pack_str(&p, len);
		buf_reserve(b, len);
		memset(b->p + b->len, 'x', len);
		b->len += len;
	}
}

/* A CompressedPackedForward frame [tag, bin(z), {"compressed": "gzip"}]. */
static void
gz_frame(struct buf *b, const char *tag, const char *z, size_t zlen)
{
	msgpack_packer p;

	mp_packer_init(&p, b);
	msgpack_pack_array(&p, 3);
	tagstr2(&p, tag);
	msgpack_pack_bin_with_body(&p, z, zlen);
	msgpack_pack_map(&p, 1);
	msgpack_pack_str_with_body(&p, "compressed", 10);
	msgpack_pack_str_with_body(&p, "gzip", 4);
}

/* Appends one gzip member of `times` copies of block[0..n). */
static void
gzip_repeat(struct buf *out, const char *block, size_t n, size_t times)
{
	z_stream zs;
	size_t i;
	int flush;

	memset(&zs, 0, sizeof(zs));
	deflateInit2(&zs, 9, Z_DEFLATED, 16 + MAX_WBITS, 9, Z_DEFAULT_STRATEGY);
	for (i = 0; i < times; i++) {
		zs.next_in = (unsigned char *)block;
		zs.avail_in = n;
		flush = i + 1 == times ? Z_FINISH : Z_NO_FLUSH;
		do {
			buf_reserve(out, 64 * 1024);
			zs.next_out = (unsigned char *)out->p + out->len;
			zs.avail_out = out->cap - out->len;
			deflate(&zs, flush);
			out->len = out->cap - zs.avail_out;
		} while (zs.avail_out == 0 || (flush == Z_FINISH &&
		    zs.avail_in > 0));
	}
	deflateEnd(&zs);
}

static void
test_too_big(void)
{
	struct buf b = { 0 }, e = { 0 }, z = { 0 };
	struct reader *r;
	struct event ev;
	int ret, n;

	one(&b);
	r = reader_new(-1, "big");
	reader_set_max(r, 10);
	reader_feed(r, b.p, b.len);
	ret = reader_next_buffered(r, &ev);
	ok(ret == READ_ERR && reader_too_big(r), "over the limit: "
	    "reader_too_big");
	is_str(reader_errwhat(r), "event larger than 10 bytes (see "
	    "--max-event-size)", "reader_errwhat leaves out name and byte");
	reader_free(r);
	r = reader_new(-1, "bad");
	reader_feed(r, "\xc1", 1);
	ret = reader_next_buffered(r, &ev);
	ok(ret == READ_ERR && !reader_too_big(r), "other errors: not too big");
	reader_free(r);
	/*
	 * 100 entries of 100 bytes inflate beyond a 1 kB limit: the whole
	 * entries within it come out, then the error
	 */
	b.len = 0;
	entry_block(&e, 100, 100, 0);
	gzip_member(&z, e.p, e.len);
	gz_frame(&b, "gz", z.p, z.len);
	r = reader_new(-1, "bomb");
	reader_set_max(r, 1024);
	reader_feed(r, b.p, b.len);
	reader_feed_eof(r);
	n = 0;
	while ((ret = reader_next_buffered(r, &ev)) == READ_EVENT)
		n++;
	is_int(n, 1024 / (e.len / 100), "gzip beyond the limit: the entries "
	    "within it");
	ok(ret == READ_ERR && reader_too_big(r), "then too big");
	ok(strstr(reader_errmsg(r), "bomb: byte 0: gzip entries inflate to "
	    "more than 1024 bytes") != NULL, "and says so: %s",
	    reader_errmsg(r));
	reader_free(r);
	buf_free(&b);
	buf_free(&e);
	buf_free(&z);
}

/*
 * A gzip bomb: a frame of a few hundred kB inflating to 100 MB of entries
 * is read event by event in a small window, all of it.
 */
static void
test_gzip_bomb(void)
{
	struct buf block = { 0 }, z = { 0 }, b = { 0 }, want = { 0 };
	const size_t per = 1000, times = 100;
	struct reader *r;
	struct event ev;
	size_t mem, most = 0, n = 0, bad = 0, done_mid = 0;
	int ret;

	entry_block(&block, per, 1000, 0);
	entry_block(&want, 1, 1000, 0);
	gzip_repeat(&z, block.p, block.len, times);
	gz_frame(&b, "bomb", z.p, z.len);
	r = reader_new(-1, "bomb");
	reader_set_max(r, 256u << 20);
	reader_set_frame_end(r, 1);
	reader_feed(r, b.p, b.len);
	reader_feed_eof(r);
	while ((ret = reader_next_buffered(r, &ev)) == READ_EVENT) {
		mem = reader_mem(r);
		most = mem > most ? mem : most;
		/* the record {"a": 1000 x}: after the array and time */
		if (ev.rec_len != want.len - 11 ||
		    memcmp(ev.rec, want.p + 11, ev.rec_len) != 0 ||
		    ev.sec != (int64_t)(n % per) || ev.tag_len != 4)
			bad++;
		n++;
		if (reader_frame_done(r) && n != per * times)
			done_mid++;
	}
	is_int(ret, READ_EOF, "gzip bomb: read to the end");
	is_int(n, per * times, "gzip bomb: every one of %zu entries (%zu MB "
	    "from a %zu kB frame)", per * times, block.len * times >> 20,
	    b.len >> 10);
	is_int(bad, 0, "gzip bomb: every event intact");
	is_int(done_mid, 0, "gzip bomb: only the last event ends the frame");
	ok(most < b.len * 2 + 256 * 1024, "gzip bomb: reader_mem stays small "
	    "(%zu kB at most)", most >> 10);
	reader_free(r);

	/* one entry of 3 MB: the window grows to hold it, then back */
	block.len = 0;
	entry_block(&block, 1, 3u << 20, 5);
	entry_block(&block, 1, 10, 6);
	z.len = 0;
	gzip_member(&z, block.p, block.len);
	b.len = 0;
	gz_frame(&b, "big", z.p, z.len);
	r = reader_new(-1, "big");
	reader_set_max(r, 4u << 20);
	reader_feed(r, b.p, b.len);
	reader_feed_eof(r);
	ret = reader_next_buffered(r, &ev);
	ok(ret == READ_EVENT && ev.sec == 5 && ev.rec_len > 3u << 20,
	    "an entry larger than the window");
	ret = reader_next_buffered(r, &ev);
	ok(ret == READ_EVENT && ev.sec == 6 && reader_frame_done(r),
	    "and the one after it, ending the frame");
	is_int(reader_next_buffered(r, &ev), READ_EOF, "then the end");
	reader_trim(r);
	ok(reader_mem(r) < 64 * 1024, "reader_trim gives the window back "
	    "(%zu bytes held)", reader_mem(r));
	reader_free(r);

	/* the same entry beyond a 2 MB limit */
	r = reader_new(-1, "big");
	reader_set_max(r, 2u << 20);
	reader_feed(r, b.p, b.len);
	reader_feed_eof(r);
	ret = reader_next_buffered(r, &ev);
	ok(ret == READ_ERR && reader_too_big(r), "an entry beyond the limit: "
	    "too big");
	reader_free(r);
	buf_free(&block);
	buf_free(&want);
	buf_free(&z);
	buf_free(&b);
}

/* Counts the events of d; err gets the message of a READ_ERR. */
static int
count_events(const char *d, size_t n, int *ret, char *err, size_t cap)
{
	struct reader *r = reader_new(-1, "gz");
	struct event ev;
	int k = 0;

	reader_feed(r, d, n);
	reader_feed_eof(r);
	while ((*ret = reader_next_buffered(r, &ev)) == READ_EVENT)
		k++;
	snprintf(err, cap, "%s", reader_errmsg(r));
	reader_free(r);
	return k;
}

/* Bad gzip data after good members: the entries before it come out. */
static void
test_gzip_corrupt(void)
{
	struct buf e = { 0 }, z = { 0 }, b = { 0 };
	char err[512];
	size_t one;
	int ret, n;

	entry_block(&e, 10, 100, 0);
	gzip_member(&z, e.p, e.len);
	one = z.len;
	gzip_member(&z, e.p, e.len);
	gz_frame(&b, "gz", z.p, z.len);
	n = count_events(b.p, b.len, &ret, err, sizeof(err));
	ok(n == 20 && ret == READ_EOF, "two members: 20 events");
	/* the second member's deflate data garbled */
	memset(z.p + one + 10, 0xff, 8);
	b.len = 0;
	gz_frame(&b, "gz", z.p, z.len);
	n = count_events(b.p, b.len, &ret, err, sizeof(err));
	is_int(n, 10, "bad data in the second member: the first one's events");
	ok(ret == READ_ERR && strstr(err, "gz: byte 0: bad gzip data in "
	    "compressed entries") != NULL, "then the error: %s", err);
	/* the second member cut short */
	z.len = one;
	gzip_member(&z, e.p, e.len);
	z.len = one + (z.len - one) / 2;
	b.len = 0;
	gz_frame(&b, "gz", z.p, z.len);
	n = count_events(b.p, b.len, &ret, err, sizeof(err));
	ok(n >= 10 && n < 20, "a truncated member: the events before (%d)",
	    n);
	ok(ret == READ_ERR && strstr(err, "truncated gzip data") != NULL,
	    "then the error: %s", err);
	/* junk after the last member */
	z.len = one;
	buf_put(&z, "junk", 4);
	b.len = 0;
	gz_frame(&b, "gz", z.p, z.len);
	n = count_events(b.p, b.len, &ret, err, sizeof(err));
	ok(n == 10 && ret == READ_ERR && strstr(err, "bad gzip data") != NULL,
	    "junk after a member: its events, then an error: %s", err);
	/* no gzip data at all */
	b.len = 0;
	gz_frame(&b, "gz", "", 0);
	n = count_events(b.p, b.len, &ret, err, sizeof(err));
	ok(n == 0 && ret == READ_ERR && strstr(err, "truncated gzip data"),
	    "empty gzip data: truncated");
	buf_free(&e);
	buf_free(&z);
	buf_free(&b);
}

/* A record of n small pairs {"kNNNNNNNN": i}. */
static void
wide_record(struct buf *b, uint32_t n)
{
	msgpack_packer p;
	char k[16];
	uint32_t i;

	mp_packer_init(&p, b);
	msgpack_pack_map(&p, n);
	for (i = 0; i < n; i++) {
		snprintf(k, sizeof(k), "k%08u", i);
		msgpack_pack_str_with_body(&p, k, 9);
		msgpack_pack_uint32(&p, i);
	}
}

/*
 * Feeds d[0..n) in pieces of 4 kB, trying after each: returns the events
 * read and the bytes the reader examined.
 */
static int
trickle(const char *d, size_t n, uint64_t *scanned)
{
	struct reader *r = reader_new(-1, "trickle");
	struct event ev;
	size_t off = 0, k;
	int ret = READ_AGAIN, events = 0;

	reader_set_max(r, 256u << 20);
	while (ret == READ_AGAIN) {
		k = n - off < 4096 ? n - off : 4096;
		if (k)
			reader_feed(r, d + off, k);
		else
			reader_feed_eof(r);
		off += k;
		while ((ret = reader_next_buffered(r, &ev)) == READ_EVENT)
			events++;
	}
	*scanned = reader_stats(r)->scanned;
	reader_free(r);
	return ret == READ_EOF ? events : -1;
}

/*
 * One big event (20 MB of small fields) arriving 4 kB at a time is
 * examined a few times over, not once per piece: the scan resumes.
 */
static void
test_linear(void)
{
	struct buf rec = { 0 }, b = { 0 }, e = { 0 };
	msgpack_packer p;
	uint64_t scanned;
	int n;

	wide_record(&rec, 1400000);
	mp_packer_init(&p, &b);
	msgpack_pack_array(&p, 3);
	tagstr2(&p, "big");
	mp_put_eventtime(&b, 1, 0);
	buf_put(&b, rec.p, rec.len);
	n = trickle(b.p, b.len, &scanned);
	is_int(n, 1, "a %zu MB Message in 4 kB pieces: one event",
	    b.len >> 20);
	ok(scanned < 4 * (uint64_t)b.len, "examined in linear time: %llu "
	    "bytes for %zu", (unsigned long long)scanned, b.len);
	/* Forward: [tag, [[time, record]]] */
	b.len = 0;
	msgpack_pack_array(&p, 2);
	tagstr2(&p, "fwd");
	msgpack_pack_array(&p, 2);
	msgpack_pack_array(&p, 2);
	msgpack_pack_int(&p, 1);
	buf_put(&b, rec.p, rec.len);
	msgpack_pack_array(&p, 2);
	msgpack_pack_int(&p, 2);
	msgpack_pack_map(&p, 0);
	n = trickle(b.p, b.len, &scanned);
	is_int(n, 2, "a Forward frame in 4 kB pieces: both events");
	ok(scanned < 6 * (uint64_t)b.len, "examined in linear time: %llu "
	    "bytes for %zu", (unsigned long long)scanned, b.len);
	/* PackedForward of many entries */
	entry_block(&e, 200000, 80, 0);
	b.len = 0;
	msgpack_pack_array(&p, 2);
	tagstr2(&p, "packed");
	msgpack_pack_bin_with_body(&p, e.p, e.len);
	n = trickle(b.p, b.len, &scanned);
	is_int(n, 200000, "a PackedForward frame in 4 kB pieces: every event");
	ok(scanned < 6 * (uint64_t)b.len, "examined in linear time: %llu "
	    "bytes for %zu", (unsigned long long)scanned, b.len);
	buf_free(&rec);
	buf_free(&b);
	buf_free(&e);
}

/* reader_next_value (lcat --msgpack) on a big value through a pipe. */
static void
test_linear_value(void)
{
	struct buf rec = { 0 };
	struct reader *r;
	const char *v;
	size_t len, off, k;
	int fds[2], ret;
	pid_t pid;

	wide_record(&rec, 1000000);
	if (pipe(fds) < 0)
		abort();
	fflush(stdout);
	if ((pid = fork()) == 0) {
		close(fds[0]);
		for (off = 0; off < rec.len; off += k) {
			k = rec.len - off < 4096 ? rec.len - off : 4096;
			if (write(fds[1], rec.p + off, k) != (ssize_t)k)
				_exit(1);
		}
		_exit(0);
	}
	close(fds[1]);
	r = reader_new(fds[0], "pipe");
	reader_set_max(r, 256u << 20);
	ret = reader_next_value(r, &v, &len);
	ok(ret == READ_EVENT && len == rec.len && memcmp(v, rec.p, len) == 0,
	    "reader_next_value: a %zu MB value through a pipe", len >> 20);
	ok(reader_stats(r)->scanned < 3 * (uint64_t)rec.len, "examined in "
	    "linear time: %llu bytes", (unsigned long long)
	    reader_stats(r)->scanned);
	is_int(reader_next_value(r, &v, &len), READ_EOF, "then the end");
	waitpid(pid, NULL, 0);
	close(fds[0]);
	reader_free(r);

	/* a whole value over the limit: an error, or skipped whole */
	if (pipe(fds) < 0)
		abort();
	if (write(fds[1], "\x01\xa5hello\x02", 8) != 8)
		abort();
	close(fds[1]);
	r = reader_new(fds[0], "pipe");
	reader_set_max(r, 4);
	ret = reader_next_value(r, &v, &len);
	ok(ret == READ_EVENT && len == 1 && *v == 1, "a value within the limit");
	ret = reader_next_value(r, &v, &len);
	ok(ret == READ_ERR && reader_too_big(r), "a whole value over it: too "
	    "big (%s)", reader_errmsg(r));
	reader_free(r);
	close(fds[0]);
	if (pipe(fds) < 0)
		abort();
	if (write(fds[1], "\x01\xa5hello\x02", 8) != 8)
		abort();
	close(fds[1]);
	r = reader_new(fds[0], "pipe");
	reader_set_max(r, 4);
	reader_set_skip_invalid(r, 1);
	reader_next_value(r, &v, &len);
	ret = reader_next_value(r, &v, &len);
	ok(ret == READ_EVENT && len == 1 && *v == 2 &&
	    reader_stats(r)->skipped_bytes == 6, "skipped whole with "
	    "--skip-invalid");
	reader_free(r);
	close(fds[0]);
	buf_free(&rec);
}

/*
 * A reader holding part of a frame may be given more bytes (reader_feed
 * moves its buffer): the frame's entries stay right.
 */
static void
test_feed_mid_frame(void)
{
	struct buf e = { 0 }, z = { 0 }, b = { 0 }, one_ev = { 0 };
	struct reader *r;
	struct event ev;
	int n = 0, ret, bad = 0, i;

	entry_block(&e, 50, 100, 0);
	gzip_member(&z, e.p, e.len);
	one(&one_ev);
	for (i = 0; i < 2; i++) {
		b.len = 0;
		buf_put(&b, one_ev.p, one_ev.len);
		if (i == 0)
			gz_frame(&b, "gz", z.p, z.len);
		else {
			msgpack_packer p;

			mp_packer_init(&p, &b);
			msgpack_pack_array(&p, 2);
			tagstr2(&p, "pk");
			msgpack_pack_bin_with_body(&p, e.p, e.len);
		}
		r = reader_new(-1, "mid");
		reader_feed(r, b.p, b.len);
		n = 0;
		bad = 0;
		while ((ret = reader_next_buffered(r, &ev)) == READ_EVENT) {
			if (n > 0 && (ev.sec != n - 1 || ev.tag_len != 2 ||
			    memcmp(ev.tag, i ? "pk" : "gz", 2) != 0))
				bad++;
			n++;
			/* a lot more, moving the buffer, mid-frame */
			if (n == 3) {
				char big[100000];

				memset(big, 0xc0, sizeof(big));
				reader_feed(r, big, sizeof(big));
			}
		}
		ok(n == 51 && bad == 0 && ret == READ_AGAIN, "%s: bytes fed "
		    "mid-frame: its entries stay right (%d events)",
		    i ? "PackedForward" : "gzip", n);
		reader_free(r);
	}
	buf_free(&e);
	buf_free(&z);
	buf_free(&b);
	buf_free(&one_ev);
}

static void
test_map_helpers(void)
{
	struct buf b = { 0 }, o = { 0 };
	msgpack_packer p2;
	const char *v;
	size_t vlen;
	int i;

	mp_packer_init(&p2, &b);
	msgpack_pack_map(&p2, 16);
	for (i = 0; i < 16; i++) {
		char k[16];

		snprintf(k, sizeof(k), "k%d", i);
		msgpack_pack_str_with_body(&p2, k, strlen(k));
		msgpack_pack_int(&p2, i);
	}
	ok(mp_map_get(b.p, b.p + b.len, "k15", 3, &v, &vlen) && vlen == 1 &&
	    *v == 15, "mp_map_get finds a key");
	ok(!mp_map_get(b.p, b.p + b.len, "k16", 3, &v, &vlen),
	    "mp_map_get misses an absent key");
	mp_map_put_without(&o, b.p, b.p + b.len, "k3", 2);
	is_int((unsigned char)o.p[0], 0x8f, "without: 15 pairs, a fixmap");
	is_int(o.len, b.len - 3 - 4 + 1, "without: one pair less");
	ok(!mp_map_get(o.p, o.p + o.len, "k3", 2, &v, &vlen) &&
	    mp_map_get(o.p, o.p + o.len, "k4", 2, &v, &vlen) && *v == 4,
	    "without: the key is gone, the others stay");
	buf_free(&b);
	buf_free(&o);
}

/* Mark handler: the mark's sequence as a line "mark SEQ" in the buf. */
static void
note_mark(void *arg, const char *p, size_t len)
{
	struct buf *desc = arg;
	struct mark m;
	char t[64];

	if (mark_parse(p, len, &m) != 1) {
		buf_puts(desc, "bad mark\n");
		return;
	}
	snprintf(t, sizeof(t), "mark %llu\n", (unsigned long long)m.seq);
	buf_puts(desc, t);
}

/*
 * Reads d[0..n) fed in pieces of k bytes (0: through a pipe in two parts
 * split at n / 2, reader_next), marks noted in desc if handled.
 */
static int
read_marks(const char *d, size_t n, size_t k, struct buf *desc, int handle,
    int skip, struct reader_stats *st, char *err, size_t errcap)
{
	struct reader *r;
	struct event ev;
	int ret = READ_AGAIN, fds[2] = { -1, -1 };

	if (!k && pipe(fds) < 0)
		abort();
	r = reader_new(k ? -1 : fds[0], "marks");
	reader_set_skip_invalid(r, skip);
	if (handle)
		reader_set_mark(r, note_mark, desc);
	if (!k) {
		if (write(fds[1], d, n / 2) != (ssize_t)(n / 2))
			abort();
		reader_fill(r);
		while ((ret = reader_next_buffered(r, &ev)) == READ_EVENT)
			describe(desc, &ev);
		if (write(fds[1], d + n / 2, n - n / 2) != (ssize_t)(n - n / 2))
			abort();
		close(fds[1]);
		if (ret == READ_AGAIN)
			while ((ret = reader_next(r, &ev)) == READ_EVENT)
				describe(desc, &ev);
		close(fds[0]);
	}
	if (k)
		ret = feed_pieces(r, d, n, k, desc);
	if (st)
		*st = *reader_stats(r);
	if (err)
		snprintf(err, errcap, "%s", reader_errmsg(r));
	reader_free(r);
	return ret;
}

static const unsigned char mark_id[MARK_ID_LEN] = "0123456789abcdef";

/* events and marks: e1 m1 e2 e3 m2 (a Forward frame of 2) m3 e4 */
static void
marks_stream(struct buf *b)
{
	msgpack_packer p;

	b->len = 0;
	mp_packer_init(&p, b);
	one(b);
	mark_put(b, mark_id, 1, "/tmp/x/r");
	one(b);
	one(b);
	mark_put(b, mark_id, 2, "/tmp/x/r");
	msgpack_pack_array(&p, 2);
	tagstr2(&p, "f");
	msgpack_pack_array(&p, 2);
	entries(b);
	mark_put(b, mark_id, 3, "/tmp/x/r");
	one(b);
}

static void
test_marks(void)
{
	struct buf b = { 0 }, base = { 0 }, got = { 0 }, plain = { 0 };
	struct reader_stats st;
	size_t k, bad = 0, at;
	char err[512];
	int ret;

	marks_stream(&b);
	ret = read_marks(b.p, b.len, b.len, &base, 1, 0, &st, NULL, 0);
	is_int(ret, READ_EOF, "marks: the stream reads to its end");
	buf_put(&base, "", 1);
	ok(strstr(base.p, "t 1.000000002 81a161a131\nmark 1\nt 1.000000002 "
	    "81a161a131\nt 1.000000002 81a161a131\nmark 2\nf 1502880723."
	    "309664000 81a16e01\nf 1502880724.000000000 81a16e02\nmark 3\n"
	    "t 1.000000002 81a161a131\n") == base.p, "marks go to the handler "
	    "in stream order, between the events");
	if (strstr(base.p, "mark 1") == NULL)
		printf("#   got %s\n", base.p);
	base.len--;
	is_int(st.events, 6, "marks: 6 events");
	is_int(st.marks, 3, "marks: 3 marks met");
	for (k = 1; k <= b.len; k++) {
		got.len = 0;
		ret = read_marks(b.p, b.len, k, &got, 1, 0, NULL, NULL, 0);
		if (ret != READ_EOF || got.len != base.len ||
		    memcmp(got.p, base.p, base.len) != 0)
			bad++;
	}
	is_int(bad, 0, "marks: fed in pieces of 1 to %zu bytes: same order",
	    b.len);
	got.len = 0;
	ret = read_marks(b.p, b.len, 0, &got, 1, 0, NULL, NULL, 0);
	ok(ret == READ_EOF && got.len == base.len && memcmp(got.p, base.p,
	    base.len) == 0, "marks: through a pipe with reader_next: same");

	/* no handler: dropped, counted; the events as before */
	ret = read_marks(b.p, b.len, b.len, &plain, 0, 0, &st, NULL, 0);
	ok(ret == READ_EOF && count_lines(&plain) == 6, "no handler: every "
	    "event");
	buf_put(&plain, "", 1);
	ok(strstr(plain.p, "mark") == NULL, "no handler: no mark");
	is_int(st.marks, 3, "no handler: the marks dropped are counted");

	/* a malformed mark: bad data, with its offset; or skipped */
	b.len = 0;
	one(&b);
	at = b.len;
	mark_put(&b, mark_id, 1, "relative/r");
	mark_put(&b, mark_id, 2, "/tmp/x/r");
	one(&b);
	got.len = 0;
	ret = read_marks(b.p, b.len, b.len, &got, 1, 0, NULL, err,
	    sizeof(err));
	is_int(ret, READ_ERR, "a malformed mark is an error");
	ok(strstr(err, "marks: byte 18: malformed mark") != NULL && at == 18,
	    "which names its offset: %s", err);
	is_int(count_lines(&got), 1, "the event before it is returned");
	got.len = 0;
	ret = read_marks(b.p, b.len, b.len, &got, 1, 1, &st, NULL, 0);
	buf_put(&got, "", 1);
	ok(ret == READ_EOF && st.skipped_places == 1 && st.skipped_bytes ==
	    3 + MARK_HEAD + 10 && strstr(got.p, "81a161a131\nmark 2\nt ") !=
	    NULL, "--skip-invalid: skipped whole, the next mark passes");

	/* --skip-invalid resynchronises on a mark after garbage */
	b.len = 0;
	one(&b);
	buf_put(&b, "\xc1\x01\xc7\x02", 4);
	mark_put(&b, mark_id, 4, "/tmp/x/r");
	one(&b);
	got.len = 0;
	ret = read_marks(b.p, b.len, b.len, &got, 1, 1, &st, NULL, 0);
	buf_put(&got, "", 1);
	ok(ret == READ_EOF && st.skipped_bytes == 4 && strstr(got.p,
	    "81a161a131\nmark 4\nt ") != NULL, "--skip-invalid: resync "
	    "finds a mark after garbage (skipped %llu)",
	    (unsigned long long)st.skipped_bytes);
	buf_free(&b);
	buf_free(&base);
	buf_free(&got);
	buf_free(&plain);
}

/* reader_next_value (lcat --msgpack) gives marks to the handler too. */
static void
test_marks_value(void)
{
	struct buf b = { 0 }, got = { 0 };
	struct reader *r;
	const char *v;
	size_t len;
	int n = 0, ret;

	buf_put(&b, "\x81\xa1x\x01", 4);
	mark_put(&b, mark_id, 1, "/tmp/x/r");
	buf_put(&b, "\x81\xa1x\x02", 4);
	mark_put(&b, mark_id, 2, "rel");
	buf_put(&b, "\x81\xa1x\x03", 4);
	r = reader_new(-1, "v");
	reader_set_mark(r, note_mark, &got);
	reader_feed(r, b.p, b.len);
	reader_feed_eof(r);
	while ((ret = reader_next_value(r, &v, &len)) == READ_EVENT) {
		n++;
		buf_puts(&got, len == 4 && v[3] == n ? "value\n" : "wrong\n");
	}
	buf_put(&got, "", 1);
	ok(ret == READ_ERR && n == 2 && strcmp(got.p, "value\nmark 1\nvalue\n")
	    == 0, "reader_next_value: a mark goes to the handler; a "
	    "malformed one is an error (%s)", reader_errmsg(r));
	reader_free(r);
	got.len = 0;
	n = 0;
	r = reader_new(-1, "v");
	reader_set_skip_invalid(r, 1);
	reader_feed(r, b.p, b.len);
	reader_feed_eof(r);
	while ((ret = reader_next_value(r, &v, &len)) == READ_EVENT)
		n++;
	ok(ret == READ_EOF && n == 3 && reader_stats(r)->marks == 1 &&
	    reader_stats(r)->skipped_places == 1, "reader_next_value: no "
	    "handler drops and counts; --skip-invalid skips a malformed one");
	reader_free(r);
	buf_free(&b);
	buf_free(&got);
}

int
main(void)
{
	test_shapes();
	test_errors();
	test_feed();
	test_frame_end();
	test_too_big();
	test_gzip_bomb();
	test_gzip_corrupt();
	test_linear();
	test_linear_value();
	test_feed_mid_frame();
	test_map_helpers();
	test_marks();
	test_marks_value();
	buf_free(&s);
	return done_testing();
}

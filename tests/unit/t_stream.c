/* t_stream - the event stream reader: every shape, every split, bad input */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "err.h"
#include "fwd.h"
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

/* Feeds d[0..n) in pieces of k bytes to a reader with no fd. */
static int
read_fed(const char *d, size_t n, size_t k, struct buf *desc)
{
	struct reader *r = reader_new(-1, "fed");
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

static void
test_too_big(void)
{
	struct buf b = { 0 }, e = { 0 }, z = { 0 };
	struct reader *r;
	struct event ev;
	msgpack_packer p;
	int ret;

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
	/* 100 kB of zeros inflate beyond a 1 kB limit */
	buf_reserve(&e, 100000);
	memset(e.p, 0, 100000);
	gzip_member(&z, e.p, 100000);
	b.len = 0;
	mp_packer_init(&p, &b);
	msgpack_pack_array(&p, 3); tagstr2(&p, "gz");
	msgpack_pack_bin_with_body(&p, z.p, z.len);
	msgpack_pack_map(&p, 1);
	msgpack_pack_str_with_body(&p, "compressed", 10);
	msgpack_pack_str_with_body(&p, "gzip", 4);
	r = reader_new(-1, "bomb");
	reader_set_max(r, 1024);
	reader_feed(r, b.p, b.len);
	ret = reader_next_buffered(r, &ev);
	ok(ret == READ_ERR && reader_too_big(r), "gzip inflating beyond the "
	    "limit: too big");
	reader_free(r);
	buf_free(&b);
	buf_free(&e);
	buf_free(&z);
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

int
main(void)
{
	test_shapes();
	test_errors();
	test_feed();
	test_frame_end();
	test_too_big();
	test_map_helpers();
	buf_free(&s);
	return done_testing();
}

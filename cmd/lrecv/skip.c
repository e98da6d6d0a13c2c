/*
 * skip - lrecv --skip-invalid-event: in_forward's skip_invalid_event.
 * Each whole request is looked at before the reader sees it: an entry
 * whose time is not an integer or an EventTime, or whose record is not a
 * map, is dropped and counted; the rest of its frame goes on, and the
 * frame is acked.  A Message-mode event that is invalid is dropped and
 * still acked.
 */
#include <stdint.h>
#include <string.h>

#include "err.h"
#include "gz.h"
#include "mark.h"
#include "mp.h"
#include "stream.h"

#include "lrecv.h"

/* What one request was found to hold. */
struct sk {
	const char *tag;
	size_t tag_len;
	int tag_ok;
	uint32_t bad, all;      /* entries dropped, entries in all */
};

static struct buf ents, frame, inflated;

/* Is o a time in_forward takes: an integer or an EventTime? */
static int
time_ok(const struct mp_obj *o)
{
	const unsigned char *d;

	if (o->type == MP_INT)
		return 1;
	if (o->type == MP_UINT)
		return o->v.u <= INT64_MAX;
	if (o->type != MP_EXT || o->ext_type != 0 || o->len != 8)
		return 0;
	d = (const unsigned char *)o->data + 4;
	/* the nanoseconds must be below a second, as the reader wants */
	return ((uint32_t)d[0] << 24 | (uint32_t)d[1] << 16 |
	    (uint32_t)d[2] << 8 | d[3]) < 1000000000u;
}

/*
 * Is the entry p[0..end) [time, record] with a valid time and a map
 * record?  Fluent Bit's [[time, metadata], record] is taken too.
 */
static int
entry_ok(const char *p, const char *end)
{
	struct mp_obj a, t, h;

	if (mp_head(&p, end, &a) != MP_OK || a.type != MP_ARRAY || a.v.n < 2 ||
	    mp_head(&p, end, &t) != MP_OK)
		return 0;
	if (t.type == MP_ARRAY) {
		if (t.v.n != 2 || mp_head(&p, end, &h) != MP_OK ||
		    mp_skip(&p, end, NULL) != MP_OK)
			return 0;
		t = h;
	}
	if (!time_ok(&t) || mp_head(&p, end, &a) != MP_OK)
		return 0;
	return a.type == MP_MAP;
}

/* Appends the header of an array of n elements. */
static void
put_arrayhdr(struct buf *b, uint32_t n)
{
	unsigned char h[5];

	if (n < 16) {
		buf_putc(b, 0x90 | n);
		return;
	}
	h[0] = 0xdd;
	h[1] = n >> 24;
	h[2] = n >> 16;
	h[3] = n >> 8;
	h[4] = n;
	buf_put(b, h, 5);
}

/* Appends a bin header for n bytes. */
static void
put_binhdr(struct buf *b, size_t n)
{
	unsigned char h[5];

	h[0] = 0xc6;
	h[1] = n >> 24;
	h[2] = n >> 16;
	h[3] = n >> 8;
	h[4] = n;
	buf_put(b, h, 5);
}

/* Starts frame: [tag, ... with the tag (or "" if it was no string). */
static void
frame_head(const struct sk *s, int nelem)
{
	frame.len = 0;
	put_arrayhdr(&frame, nelem);
	mp_put_strhdr(&frame, s->tag_ok ? s->tag_len : 0);
	if (s->tag_ok)
		buf_put(&frame, s->tag, s->tag_len);
}

/* Forward mode: the entries of the array at p, the good ones into ents. */
static uint32_t
forward_entries(struct sk *s, const char *p, const char *end,
    const char **after)
{
	struct mp_obj a;
	const char *e;
	uint32_t i, good = 0;

	mp_head(&p, end, &a);
	for (i = 0; i < a.v.n; i++) {
		e = p;
		mp_skip(&p, end, NULL);         /* scanned whole before */
		s->all++;
		if (s->tag_ok && entry_ok(e, p)) {
			buf_put(&ents, e, p - e);
			good++;
		} else {
			s->bad++;
		}
	}
	*after = p;
	return good;
}

/*
 * PackedForward: the msgpack stream p[0..end), the good entries into ents.
 * Bytes that are not msgpack end it: they count as one bad entry.
 */
static void
packed_entries(struct sk *s, const char *p, const char *end)
{
	const char *e;

	while (p < end) {
		e = p;
		s->all++;
		if (mp_skip(&p, end, NULL) != MP_OK) {
			s->bad++;
			return;
		}
		if (s->tag_ok && entry_ok(e, p))
			buf_put(&ents, e, p - e);
		else
			s->bad++;
	}
}

/* Says what was dropped from one request. */
static void
report(struct conn *c, const struct sk *s)
{
	char tag[68];
	size_t i, n = s->tag_ok ? s->tag_len : 0;

	/* the peer's tag, cut short and with no control byte to forge lines */
	n = n < 64 ? n : 64;
	for (i = 0; i < n; i++)
		tag[i] = (unsigned char)s->tag[i] < 0x20 || s->tag[i] == 0x7f ?
		    '?' : s->tag[i];
	tag[n] = '\0';
	if (n < s->tag_len && s->tag_ok)
		memcpy(tag + n, "...", 4);
	counts.skipped++;       /* a place, as the reader counts them */
	warn("%s: tag '%s': %u of %u events invalid (time not an integer or "
	    "EventTime, record not a map, or tag not a string): skipped "
	    "(--skip-invalid-event)", c->name, tag, s->bad, s->all);
}

/* Feeds frame (or the request p[0..n) as it came) to the reader. */
static void
feed(struct conn *c, const char *p, size_t n)
{
	reader_feed(c->r, p, n);
}

/* A request that cannot be read whole, dropped: no ack can be sent. */
static void
drop(struct conn *c, const char *why)
{
	counts.skipped++;
	warn("%s: %s: request skipped, not acked (--skip-invalid-event)",
	    c->name, why);
}

/* Frees the scratch buffers a big request made large. */
static void
trim(void)
{
	if (ents.cap > TRIM_BYTES)
		buf_free(&ents);
	if (frame.cap > TRIM_BYTES)
		buf_free(&frame);
	if (inflated.cap > TRIM_BYTES)
		buf_free(&inflated);
}

/*
 * The frame [tag, entries, option?] at p[0..n), entries at ent (e their
 * head): the reader gets it as it came if every entry is good, else
 * rebuilt with the good ones only (gzip or zstd entries decompressed,
 * its option without "compressed"), so the frame is still acked.
 */
static void
frame_filter(struct conn *c, struct sk *s, const char *p, size_t n,
    const char *ent, const struct mp_obj *e, uint32_t nelem)
{
	const char *end = p + n, *opt = NULL, *v, *q = ent, *d;
	size_t vl, dl, over;
	uint32_t good = 0;
	int gz = 0, r;          /* gz: 1 gzip, 2 zstd */

	ents.len = 0;
	if (e->type == MP_ARRAY)
		good = forward_entries(s, ent, end, &q);
	else
		mp_skip(&q, end, NULL);
	if (nelem == 3) {
		opt = q;
		if (mp_map_get(opt, end, "compressed", 10, &v, &vl)) {
			if (vl == 5 && memcmp(v, "\xa4gzip", 5) == 0)
				gz = 1;
			else if (vl == 5 && memcmp(v, "\xa4zstd", 5) == 0)
				gz = 2;
			else if (vl != 5 || memcmp(v, "\xa4text", 5) != 0)
				e = NULL;       /* another codec */
		}
	}
	if (!e || (gz && e->type == MP_ARRAY)) {
		feed(c, p, n);          /* the reader judges it as before */
		return;
	}
	if (e->type != MP_ARRAY) {
		d = e->data;
		dl = e->len;
		/* the frame rebuilt around them must fit the reader's limit */
		over = (size_t)(ent - p) + (size_t)(end - q) + 16;
		if (gz && dl && over >= o.chunk_limit) {
			drop(c, "a request over --chunk-size-limit");
			return;
		}
		if (gz && dl) {
			/* as the reader takes them: gzip members or zstd frames */
			inflated.len = 0;
			r = gz == 1 ? gz_decompress(&inflated, d, dl,
			    o.chunk_limit - over) : zst_decompress(&inflated, d,
			    dl, o.chunk_limit - over);
			if (r != GZ_OK) {
				drop(c, gz == 1 ? "gzip entries that do not "
				    "inflate, or inflate beyond --chunk-size-limit" :
				    "zstd entries that do not decompress, or "
				    "decompress beyond --chunk-size-limit");
				return;
			}
			d = inflated.p;
			dl = inflated.len;
		}
		packed_entries(s, d, d + dl);
	}
	if (!s->bad && s->tag_ok) {
		feed(c, p, n);
		return;
	}
	if (ents.len > UINT32_MAX) {
		drop(c, "entries beyond 4 GB");
		return;
	}
	frame_head(s, nelem);
	if (e->type == MP_ARRAY)
		put_arrayhdr(&frame, good);
	else
		put_binhdr(&frame, ents.len);
	if (ents.len)
		buf_put(&frame, ents.p, ents.len);
	if (opt && gz)
		mp_map_put_without(&frame, opt, end, "compressed", 10);
	else if (opt)
		buf_put(&frame, opt, end - opt);
	report(c, s);
	feed(c, frame.p, frame.len);
}

/*
 * A Message-mode event [tag, time, record, option?] at p[0..n), its time
 * t and the record at rec: an invalid one is dropped, and acked with an
 * empty frame that carries its option.
 */
static void
message_filter(struct conn *c, struct sk *s, const char *p, size_t n,
    const struct mp_obj *t, const char *rec, uint32_t nelem)
{
	const char *q = rec, *end = p + n;
	struct mp_obj r;

	s->all = 1;
	if (s->tag_ok && time_ok(t) && mp_head(&q, end, &r) == MP_OK &&
	    r.type == MP_MAP) {
		feed(c, p, n);
		return;
	}
	s->bad = 1;
	report(c, s);
	if (nelem != 4)
		return;
	q = rec;
	mp_skip(&q, end, NULL);
	frame_head(s, 3);
	put_arrayhdr(&frame, 0);
	buf_put(&frame, q, end - q);
	feed(c, frame.p, frame.len);
}

/*
 * One whole request p[0..n), looked at before the reader gets it (fed
 * to c->r; the caller drains).
 */
void
skip_value(struct conn *c, const char *p, size_t n)
{
	const char *q = p, *end = p + n, *at;
	struct mp_obj a, tag, t;
	struct sk s = { 0 };

	mp_head(&q, end, &a);
	if (a.type == MP_NIL || (a.type == MP_EXT && a.ext_type == MARK_EXT)) {
		feed(c, p, n);          /* a heartbeat; a mark, dropped */
		return;
	}
	if (a.type != MP_ARRAY || a.v.n < 2 || a.v.n > 4) {
		drop(c, "not an event [tag, time, record] or a frame [tag, "
		    "entries, option]");
		return;
	}
	at = q;
	mp_head(&at, end, &tag);
	mp_skip(&q, end, NULL);         /* the request was scanned whole */
	s.tag_ok = tag.type == MP_STR || tag.type == MP_BIN;
	s.tag = tag.data;
	s.tag_len = tag.len;
	at = q;
	mp_head(&q, end, &t);
	if (t.type == MP_ARRAY || t.type == MP_STR || t.type == MP_BIN) {
		if (a.v.n > 3)
			drop(c, "a frame of 4 elements");
		else
			frame_filter(c, &s, p, n, at, &t, a.v.n);
	} else if (a.v.n < 3) {
		drop(c, "an event with no record");
	} else {
		q = at;
		mp_skip(&q, end, NULL);
		message_filter(c, &s, p, n, &t, q, a.v.n);
	}
	trim();
}

/*
 * msgpack bytes in c->jin (from stream offset c->jbase): each whole
 * request goes through skip_value.  Returns -1 if c is closing: bytes
 * that are not msgpack, a request over --chunk-size-limit.
 */
int
skip_in(struct conn *c, int eof)
{
	const char *bad = NULL;
	uint64_t bad_at = 0;
	size_t off = 0;
	int r = MP_SHORT;

	while (c->state == S_DATA && off < c->jin.len) {
		r = mp_scan(&c->ms, c->jin.p + off, c->jin.p + c->jin.len,
		    &bad);
		if (r == MP_BAD && bad)
			bad_at = c->jbase + (bad - c->jin.p);
		if (r != MP_OK)
			break;
		if (c->ms.off > o.chunk_limit)
			break;
		skip_value(c, c->jin.p + off, c->ms.off);
		off += c->ms.off;
		mp_scan_init(&c->ms);
	}
	if (off) {
		memmove(c->jin.p, c->jin.p + off, c->jin.len - off);
		c->jin.len -= off;
		c->jbase += off;
	}
	if (c->state != S_DATA)
		return -1;
	if (r == MP_BAD) {
		counts.bad++;
		warn("%s: byte %llu: invalid msgpack (connection closed)",
		    c->name, (unsigned long long)bad_at);
	} else if (c->jin.len > o.chunk_limit || (r == MP_OK &&
	    c->ms.off > o.chunk_limit)) {
		counts.bad++;
		counts.chunks_dropped++;
		warn("%s: request larger than --chunk-size-limit %zu: dropped, "
		    "not acked; closing", c->name, o.chunk_limit);
	} else {
		if (eof && c->jin.len)
			drop(c, "the input ends inside it");
		return 0;
	}
	conn_closing(c);
	return -1;
}

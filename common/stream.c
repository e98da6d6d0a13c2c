/* stream - read every Forward shape as events; write Message mode */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "be.h"
#include "err.h"
#include "mark.h"
#include "mp.h"
#include "stream.h"
#include "stream_int.h"

static const char *const type_names[] = {
	"nil", "a boolean", "an integer", "an integer", "a float", "a string",
	"binary data", "an array", "a map", "an extension"
};

struct reader *
reader_new(int fd, const char *name)
{
	struct reader *r = xcalloc(1, sizeof(*r));

	r->fd = fd;
	r->name = xstrdup(name);
	r->max = STREAM_MAX_EVENT;
	r->rsize = READ_MIN;
	r->cap = READ_MIN * 2;
	r->buf = xmalloc(r->cap);
	r->scan_at = UINT64_MAX;
	return r;
}

/* Ends the expansion of a frame: gives zlib's state back. */
static void
frame_close(struct reader *r)
{
	r->in_frame = 0;
	r->gz = 0;
	if (r->zinit)
		inflateEnd(&r->zs);
	r->zinit = 0;
}

void
reader_free(struct reader *r)
{
	if (!r)
		return;
	frame_close(r);
	free(r->name);
	free(r->buf);
	buf_free(&r->z);
	free(r);
}

void
reader_set_max(struct reader *r, size_t max)
{
	r->max = max;
}

void
reader_set_skip_invalid(struct reader *r, int on)
{
	r->skip = on;
}

void
reader_set_idle(struct reader *r, void (*fn)(void *), void *arg)
{
	r->idle = fn;
	r->idle_arg = arg;
}

void
reader_watch_out(struct reader *r, int out_fd)
{
	waiter_watch_out(&r->wait, out_fd);
}

void
reader_set_mark(struct reader *r, void (*fn)(void *, const char *, size_t),
    void *arg)
{
	r->mark = fn;
	r->mark_arg = arg;
}

void
reader_set_frame_end(struct reader *r, int on)
{
	r->frame_marks = on;
}

int
reader_too_big(const struct reader *r)
{
	return r->toobig;
}

const char *
reader_errmsg(const struct reader *r)
{
	return r->err;
}

const char *
reader_errwhat(const struct reader *r)
{
	return r->err + r->errwhat;
}

const struct reader_stats *
reader_stats(const struct reader *r)
{
	return &r->st;
}

uint64_t
reader_offset(const struct reader *r)
{
	return r->base + r->start;
}

const char *
reader_frame_option(const struct reader *r, size_t *len)
{
	*len = r->opt_len;
	return r->opt;
}

int
reader_frame_done(const struct reader *r)
{
	return r->frame_done;
}

int
reader_fail(struct reader *r, const char *at, const char *fmt, ...)
{
	va_list ap;
	int n;

	r->toobig = 0;
	n = snprintf(r->err, sizeof(r->err), "%s: byte %llu: ", r->name,
	    (unsigned long long)(r->base + (at - r->buf)));
	if (n < 0 || (size_t)n >= sizeof(r->err))
		n = 0;
	r->errwhat = n;
	va_start(ap, fmt);
	vsnprintf(r->err + n, sizeof(r->err) - n, fmt, ap);
	va_end(ap);
	return READ_ERR;
}

/* mp_skip, counting the bytes it walked in r->st.scanned. */
static int
skip_count(struct reader *r, const char **p, const char *end,
    const char **bad)
{
	const char *from = *p, *at = from;
	int ret = mp_skip(p, end, &at);

	r->st.scanned += (ret == MP_OK ? *p : at) - from;
	if (bad)
		*bad = at;
	return ret;
}

/* skip_count, for stream_gz.c. */
int
reader_skip_count(struct reader *r, const char **p, const char *end,
    const char **bad)
{
	return skip_count(r, p, end, bad);
}

/* mp_scan, likewise. */
static int
scan_count(struct reader *r, const char *v, const char *end,
    const char **bad)
{
	size_t from = r->scan.off;
	int ret = mp_scan(&r->scan, v, end, bad);

	r->st.scanned += r->scan.off - from;
	return ret;
}

int
event_time_from_double(double d, int64_t *sec, uint32_t *nsec)
{
	double f = floor(d), ulp_ns, q = 1, ns;

	if (!(f >= -9.2e18 && f <= 9.2e18))
		return -1;
	/* digits finer than the double resolves are noise: round them off */
	ulp_ns = (nextafter(d, INFINITY) - d) * 1e9;
	while (q < 1e9 && q < ulp_ns)
		q *= 10;
	ns = floor((d - f) * 1e9 / q + 0.5) * q;
	*sec = (int64_t)f;
	*nsec = ns >= 1e9 ? 0 : (uint32_t)ns;
	if (ns >= 1e9)
		(*sec)++;
	return 0;
}

/* Decodes an event time; returns 0, or -1 if o is not a time. */
static int
decode_time(const struct mp_obj *o, int64_t *sec, uint32_t *nsec)
{
	*nsec = 0;
	switch (o->type) {
	case MP_UINT:
		if (o->v.u > INT64_MAX)
			return -1;
		*sec = (int64_t)o->v.u;
		return 0;
	case MP_INT:
		*sec = o->v.i;
		return 0;
	case MP_FLOAT:
		return event_time_from_double(o->v.f, sec, nsec);
	case MP_EXT:
		if (o->ext_type == 0 && o->len == 8) {
			*sec = be32_get(o->data);
			*nsec = be32_get(o->data + 4);
			return *nsec < 1000000000u ? 0 : -1;
		}
		if (o->ext_type == -1 && o->len == 4) {
			*sec = be32_get(o->data);
			return 0;
		}
		if (o->ext_type == -1 && o->len == 8) {
			uint64_t v = (uint64_t)be32_get(o->data) << 32 |
			    be32_get(o->data + 4);
			*nsec = (uint32_t)(v >> 34);
			*sec = (int64_t)(v & 0x3ffffffffULL);
			return *nsec < 1000000000u ? 0 : -1;
		}
		if (o->ext_type == -1 && o->len == 12) {
			*nsec = be32_get(o->data);
			*sec = (int64_t)((uint64_t)be32_get(o->data + 4) << 32 |
			    be32_get(o->data + 8));
			return *nsec < 1000000000u ? 0 : -1;
		}
		return -1;
	default:
		return -1;
	}
}

/*
 * Decodes one entry [time, record] (or Fluent Bit's [[time, meta],
 * record]) at r->ent.  Returns READ_EVENT, READ_ERR, or READ_AGAIN when the
 * entry had a nil record and was skipped.
 */
static int
next_entry(struct reader *r, struct event *ev)
{
	const char *p, *end, *at;
	const char *where = r->buf + r->frame_start;
	struct mp_obj a, t, h, rec;
	uint32_t i;

	r->ent_index++;
	if (r->gz && zentry(r) < 0)
		return READ_ERR;
	p = r->ent;
	end = r->ent_end;
	if (mp_head(&p, end, &a) != MP_OK || a.type != MP_ARRAY || a.v.n < 2)
		return reader_fail(r, where, "entry %u of the frame is not an array "
		    "[time, record]", r->ent_index);
	if (mp_head(&p, end, &t) != MP_OK)
		return reader_fail(r, where, "entry %u: truncated", r->ent_index);
	if (t.type == MP_ARRAY) {
		/* Fluent Bit: [[time, metadata], record] */
		if (t.v.n != 2 || mp_head(&p, end, &h) != MP_OK ||
		    mp_skip(&p, end, NULL) != MP_OK)
			return reader_fail(r, where, "entry %u: bad [time, metadata] "
			    "header", r->ent_index);
		t = h;
	}
	if (decode_time(&t, &ev->sec, &ev->nsec) < 0)
		return reader_fail(r, where, "entry %u: time is %s, not a time",
		    r->ent_index, type_names[t.type]);
	at = p;
	if (mp_head(&p, end, &rec) != MP_OK)
		return reader_fail(r, where, "entry %u: truncated record", r->ent_index);
	if (rec.type != MP_MAP && rec.type != MP_NIL)
		return reader_fail(r, where, "entry %u: record is %s, not a map",
		    r->ent_index, type_names[rec.type]);
	p = at;
	if (mp_skip(&p, end, NULL) != MP_OK)
		return reader_fail(r, where, "entry %u: invalid msgpack in record",
		    r->ent_index);
	ev->rec = at;
	ev->rec_len = p - at;
	for (i = 2; i < a.v.n; i++)
		if (mp_skip(&p, end, NULL) != MP_OK)
			return reader_fail(r, where, "entry %u: invalid msgpack",
			    r->ent_index);
	r->ent = p;
	ev->tag = r->tag;
	ev->tag_len = r->tag_len;
	if (rec.type == MP_NIL) {
		r->st.nil_records++;
		return READ_AGAIN;
	}
	return READ_EVENT;
}

static int
frame_has_more(struct reader *r)
{
	if (!r->packed)
		return r->ent_left > 0;
	if (r->gz)
		zpeek(r);
	return r->ent < r->ent_end || r->zheld || (r->gz && r->zerr);
}

/* Returns the next event of the frame being expanded, or READ_AGAIN. */
static int
frame_next(struct reader *r, struct event *ev)
{
	int ret;

	while (frame_has_more(r)) {
		if (!r->packed)
			r->ent_left--;
		ret = next_entry(r, ev);
		if (ret == READ_AGAIN)
			continue;
		if (ret == READ_EVENT) {
			r->frame_done = !frame_has_more(r);
			if (r->frame_done) {
				frame_close(r);
				r->start = r->frame_end;
			}
		}
		return ret;
	}
	frame_close(r);
	r->start = r->frame_end;
	r->frame_done = 1;
	/* the frame ended on nil records (or had none): no event said so */
	return r->frame_marks ? READ_FRAME : READ_AGAIN;
}

/*
 * Sets up expansion of a Forward or PackedForward frame [tag, entries,
 * option?] whose whole extent was validated; p is at entries.
 */
static int
frame_begin(struct reader *r, const char *p, const char *end, uint32_t n)
{
	const char *fs = r->buf + r->frame_start;
	struct mp_obj e;
	int codec;

	mp_head(&p, end, &e);
	r->ent_index = 0;
	r->packed = e.type != MP_ARRAY;
	if (r->packed) {
		r->ent = e.data;
		r->ent_end = e.data + e.len;
	} else {
		r->ent = p;
		r->ent_left = e.v.n;
		while (e.v.n--)
			mp_skip(&p, end, NULL);
		r->ent_end = p;
	}
	r->opt = n == 3 ? p : NULL;
	r->opt_len = n == 3 ? (size_t)(r->buf + r->frame_end - p) : 0;
	codec = option_codec(r->opt, r->opt ? r->opt + r->opt_len : NULL);
	if (codec < 0)
		return reader_fail(r, fs, "unsupported \"compressed\" option");
	if (codec > 0) {
		if (!r->packed)
			return reader_fail(r, fs, "\"compressed\" option on a Forward "
			    "frame: %s needs packed entries",
			    codec == C_ZSTD ? "zstd" : "gzip");
		if (zstart(r, r->ent, r->ent_end - r->ent, fs, codec) < 0)
			return READ_ERR;
	}
	r->in_frame = 1;
	return READ_AGAIN;
}

#define NEED_MORE 2

static int
short_or_bad(struct reader *r, int ret, const char *at)
{
	if (ret == MP_SHORT)
		return NEED_MORE;
	if ((unsigned char)*at == 0xc1)
		return reader_fail(r, at, "invalid msgpack byte 0xc1");
	return reader_fail(r, at, "msgpack nested deeper than %d levels",
	    MP_MAX_DEPTH);
}

static int
too_big(struct reader *r, const char *at)
{
	reader_fail(r, at, "event larger than %zu bytes (see --max-event-size)",
	    r->max);
	r->toobig = 1;
	return READ_ERR;
}

/*
 * Before skipping what may be a long value: 1 if the top-level value at
 * r->start is known to be incomplete.  Its scan resumes where it stopped,
 * so a value that arrives in many reads is examined once, not once a read.
 */
static int
top_short(struct reader *r)
{
	if (r->scan_at != r->base + r->start)
		return 0;       /* first look: skip it directly */
	return scan_count(r, r->buf + r->start, r->buf + r->end, NULL) ==
	    MP_SHORT;
}

/* The value at r->start is incomplete: scan it as far as it goes. */
static void
scan_note(struct reader *r)
{
	if (r->scan_at == r->base + r->start)
		return;
	r->scan_at = r->base + r->start;
	mp_scan_init(&r->scan);
	scan_count(r, r->buf + r->start, r->buf + r->end, NULL);
}

/* A Forward or PackedForward frame: validate it whole, then expand. */
static int
parse_frame(struct reader *r, const char *entries, uint32_t n,
    const struct mp_obj *tag)
{
	const char *s = r->buf + r->start, *q = s, *bad = s;
	int ret;

	if (n > 3)
		return reader_fail(r, s, "forward frame has %u elements, expected "
		    "[tag, entries, option]", n);
	if (top_short(r))
		return NEED_MORE;
	if ((ret = skip_count(r, &q, r->buf + r->end, &bad)) != MP_OK)
		return short_or_bad(r, ret, bad);
	if ((size_t)(q - s) > r->max)
		return too_big(r, s);
	r->frame_start = r->start;
	r->frame_end = q - r->buf;
	r->tag = tag->data;
	r->tag_len = tag->len;
	return frame_begin(r, entries, q, n);
}

/*
 * A top-level ext value s[0..len) of type MARK_EXT: a mark goes to the
 * handler (or is dropped and counted without one).  READ_AGAIN, or
 * READ_ERR if it is malformed.
 */
static int
top_mark(struct reader *r, const char *s, size_t len)
{
	struct mark m;

	if (mark_parse(s, len, &m) != 1)
		return reader_fail(r, s, "malformed mark: an extension of type %d "
		    "that is not a valid version %d mark", MARK_EXT,
		    MARK_VERSION);
	r->start += len;
	r->st.marks++;
	r->resyncing = 0;
	if (r->mark)
		r->mark(r->mark_arg, s, len);
	return READ_AGAIN;
}

/*
 * The usual event, whole in the buffer: [fixstr tag, EventTime, fixmap],
 * as the lkit programs write it.  READ_EVENT, or 0 for parse_top to look
 * at the value the long way (whatever it is, and to say what is wrong).
 */
static int
parse_usual(struct reader *r, struct event *ev)
{
	const char *s = r->buf + r->start, *end = r->buf + r->end, *t, *rec, *p;
	const unsigned char *u = (const unsigned char *)s;
	size_t tl;
	uint32_t nsec;

	if (end - s < 13 || u[0] != 0x93 || (u[1] & 0xe0) != 0xa0)
		return 0;
	tl = u[1] & 0x1f;
	t = s + 2 + tl;
	if (end - t < 11 || (unsigned char)t[0] != 0xd7 || t[1] != 0 ||
	    ((unsigned char)t[10] & 0xf0) != 0x80)
		return 0;
	if ((nsec = be32_get(t + 6)) >= 1000000000u)
		return 0;
	p = rec = t + 10;
	if (r->scan_at == r->base + r->start ||
	    mp_skip_quick(&p, end) != MP_OK || (size_t)(p - s) > r->max)
		return 0;
	r->st.scanned += p - rec;
	ev->sec = be32_get(t + 2);
	ev->nsec = nsec;
	ev->rec = rec;
	ev->rec_len = p - rec;
	ev->tag = s + 2;
	ev->tag_len = tl;
	r->opt = NULL;
	r->opt_len = 0;
	r->start = p - r->buf;
	r->frame_done = 1;
	return READ_EVENT;
}

/*
 * Parses the value at r->start: READ_EVENT for a Message, READ_AGAIN when a
 * frame was set up, a nil skipped or a mark taken, NEED_MORE, or READ_ERR.
 */
static int
parse_top(struct reader *r, struct event *ev)
{
	const char *s = r->buf + r->start, *p = s, *end = r->buf + r->end;
	const char *at, *bad;
	struct mp_obj a, tag, t, rec;
	int ret;

	if (parse_usual(r, ev) == READ_EVENT)
		return READ_EVENT;
	if ((ret = mp_head(&p, end, &a)) != MP_OK)
		return short_or_bad(r, ret, s);
	if (a.type == MP_NIL) {
		r->start++;
		return READ_AGAIN;
	}
	if (a.type == MP_EXT && a.ext_type == MARK_EXT)
		return top_mark(r, s, p - s);
	if (a.type != MP_ARRAY)
		return reader_fail(r, s, "expected an event [tag, time, record], "
		    "found %s", type_names[a.type]);
	if (a.v.n < 2 || a.v.n > 4)
		return reader_fail(r, s, "expected an event [tag, time, record], "
		    "found an array of %u", a.v.n);
	at = p;
	if ((ret = mp_head(&p, end, &tag)) != MP_OK)
		return short_or_bad(r, ret, at);
	if (tag.type != MP_STR && tag.type != MP_BIN)
		return reader_fail(r, s, "event tag is %s, not a string",
		    type_names[tag.type]);
	at = p;
	if ((ret = mp_head(&p, end, &t)) != MP_OK)
		return short_or_bad(r, ret, at);
	if (t.type == MP_ARRAY || t.type == MP_STR || t.type == MP_BIN)
		return parse_frame(r, at, a.v.n, &tag);
	if (a.v.n < 3)
		return reader_fail(r, s, "event has no record: found an array of 2 "
		    "whose second element is %s", type_names[t.type]);
	if (decode_time(&t, &ev->sec, &ev->nsec) < 0)
		return reader_fail(r, s, "event time is %s, not a time",
		    t.type == MP_EXT ? "an extension of another type or size" :
		    type_names[t.type]);
	at = p;
	if ((ret = mp_head(&p, end, &rec)) != MP_OK)
		return short_or_bad(r, ret, at);
	if (rec.type != MP_MAP && rec.type != MP_NIL)
		return reader_fail(r, s, "event record is %s, not a map",
		    type_names[rec.type]);
	if (top_short(r))
		return NEED_MORE;
	p = at;
	if ((ret = skip_count(r, &p, end, &bad)) != MP_OK)
		return short_or_bad(r, ret, bad);
	ev->rec = at;
	ev->rec_len = p - at;
	r->opt = NULL;
	r->opt_len = 0;
	if (a.v.n == 4) {
		at = p;
		if ((ret = skip_count(r, &p, end, &bad)) != MP_OK)
			return short_or_bad(r, ret, bad);
		r->opt = at;
		r->opt_len = p - at;
	}
	if ((size_t)(p - s) > r->max)
		return too_big(r, s);
	ev->tag = tag.data;
	ev->tag_len = tag.len;
	r->start = p - r->buf;
	r->frame_done = 1;
	if (rec.type == MP_NIL) {
		r->st.nil_records++;
		return READ_AGAIN;
	}
	return READ_EVENT;
}

/*
 * A plausible event start while resynchronising: fixarray 2-4, a tag; or
 * a mark's ext8 head.
 */
static int
candidate(const struct reader *r)
{
	const unsigned char *p = (const unsigned char *)r->buf + r->start;
	size_t left = r->end - r->start;

	if (p[0] == 0xc7)
		return left < 3 || (p[2] == MARK_EXT && p[1] > MARK_HEAD);
	if (p[0] < 0x92 || p[0] > 0x94)
		return 0;
	if (left < 2)
		return 1;
	return (p[1] >= 0xa0 && p[1] <= 0xbf) || (p[1] >= 0xd9 && p[1] <= 0xdb) ||
	    (p[1] >= 0xc4 && p[1] <= 0xc6);
}

static void
skip_bytes(struct reader *r, size_t n)
{
	r->start += n;
	r->st.skipped_bytes += n;
}

/* --skip-invalid: drop the bad value whole if it is msgpack, else a byte. */
static void
skip_bad(struct reader *r)
{
	const char *p = r->buf + r->start;

	if (r->in_frame) {
		frame_close(r);
		r->start = r->frame_start;
		skip_bytes(r, r->frame_end - r->frame_start);
	} else if (!r->resyncing && mp_skip(&p, r->buf + r->end, NULL) ==
	    MP_OK) {
		skip_bytes(r, p - (r->buf + r->start));
	} else {
		skip_bytes(r, 1);
	}
	if (!r->resyncing)
		r->st.skipped_places++;
	r->resyncing = 1;
}

static int
got_event(struct reader *r)
{
	r->st.events++;
	r->resyncing = 0;
	return READ_EVENT;
}

/* After NEED_MORE: wait for bytes, or fail if too big or at the end. */
static int
need_more(struct reader *r)
{
	const char *s = r->buf + r->start;

	if (r->end - r->start > r->max)
		return too_big(r, s);
	if (r->eof)
		return reader_fail(r, s, "truncated event: the input ends %zu bytes "
		    "into it", r->end - r->start);
	return READ_AGAIN;
}

int
reader_next_buffered(struct reader *r, struct event *ev)
{
	int ret;

	for (;;) {
		if (r->in_frame) {
			ret = frame_next(r, ev);
			if (ret == READ_EVENT)
				return got_event(r);
			if (ret == READ_FRAME) {
				r->resyncing = 0;
				return ret;
			}
			if (ret == READ_AGAIN)
				continue;
		} else if (r->start == r->end) {
			return r->eof ? READ_EOF : READ_AGAIN;
		} else if (r->resyncing && !candidate(r)) {
			skip_bytes(r, 1);
			continue;
		} else {
			ret = parse_top(r, ev);
			if (ret == READ_EVENT)
				return got_event(r);
			if (ret == READ_AGAIN)
				continue;
			if (ret == NEED_MORE) {
				scan_note(r);
				ret = need_more(r);
				if (ret == READ_AGAIN)
					return ret;
				if (r->skip && r->eof && !r->resyncing) {
					r->st.skipped_places++;
					skip_bytes(r, r->end - r->start);
					continue;
				}
			}
		}
		if (!r->skip)
			return READ_ERR;
		skip_bad(r);
	}
}

/* Where a frame being expanded points into buf, as offsets. */
struct frame_offs {
	size_t tag, opt, ent, ent_end, zin;
};

static void
frame_save(const struct reader *r, struct frame_offs *o)
{
	o->tag = r->tag - r->buf;
	o->opt = r->opt ? (size_t)(r->opt - r->buf) : 0;
	o->ent = r->gz ? 0 : (size_t)(r->ent - r->buf);
	o->ent_end = r->gz ? 0 : (size_t)(r->ent_end - r->buf);
	o->zin = r->gz ? (size_t)((const char *)r->zs.next_in - r->buf) : 0;
}

/* After buf moved, and its bytes shifted down by shift. */
static void
frame_restore(struct reader *r, const struct frame_offs *o, size_t shift)
{
	r->frame_start -= shift;
	r->frame_end -= shift;
	r->tag = r->buf + (o->tag - shift);
	if (r->opt)
		r->opt = r->buf + (o->opt - shift);
	if (r->gz) {
		r->zs.next_in = (unsigned char *)r->buf +
		    (o->zin - shift);
	} else {
		r->ent = r->buf + (o->ent - shift);
		r->ent_end = r->buf + (o->ent_end - shift);
	}
}

char *
reader_space(struct reader *r, size_t *avail)
{
	struct frame_offs fo = { 0 };
	size_t cap, shift = 0;

	if (r->in_frame)
		frame_save(r, &fo);
	if (r->start == r->end) {
		r->base += r->end;
		r->start = r->end = 0;
	} else if (r->start > 0 && (r->cap - r->end < r->rsize ||
	    r->end - r->start <= r->start)) {
		/* moving no more than was consumed: a copy per byte at most */
		memmove(r->buf, r->buf + r->start, r->end - r->start);
		shift = r->start;
		r->base += r->start;
		r->end -= r->start;
		r->start = 0;
	}
	if (r->cap - r->end < r->rsize) {
		for (cap = r->cap; cap - r->end < r->rsize; cap *= 2)
			;
		r->buf = xrealloc(r->buf, cap);
		r->cap = cap;
	}
	if (r->in_frame)
		frame_restore(r, &fo, shift);
	*avail = r->cap - r->end;
	return r->buf + r->end;
}

void
reader_commit(struct reader *r, size_t n)
{
	r->end += n;
	r->st.bytes += n;
	if (n >= r->rsize && r->rsize < READ_SIZE)
		r->rsize *= 2;
}

void
reader_feed(struct reader *r, const void *p, size_t n)
{
	const char *q = p;
	size_t avail, k;
	char *to;

	while (n > 0) {
		to = reader_space(r, &avail);
		k = n < avail ? n : avail;
		memcpy(to, q, k);
		reader_commit(r, k);
		q += k;
		n -= k;
	}
}

void
reader_trim(struct reader *r)
{
	if (r->in_frame)
		return;
	buf_free(&r->z);
	if (r->start == r->end && r->cap > TRIM_AT) {
		free(r->buf);
		r->base += r->end;
		r->start = r->end = 0;
		r->cap = READ_MIN * 2;
		r->buf = xmalloc(r->cap);
	}
}

size_t
reader_mem(const struct reader *r)
{
	return sizeof(*r) + r->cap + r->z.cap + (r->zinit ? ZSTATE : 0);
}

void
reader_feed_eof(struct reader *r)
{
	r->eof = 1;
}

ssize_t
reader_fill(struct reader *r)
{
	size_t avail;
	char *to = reader_space(r, &avail);
	ssize_t n;

	n = read(r->fd, to, avail);
	if (n > 0)
		reader_commit(r, n);
	else if (n == 0)
		r->eof = 1;
	return n;
}

/* Reads once more; READ_AGAIN to go on, or READ_EOF / READ_SYSERR. */
static int
read_more(struct reader *r)
{
	ssize_t n;

	if (!stream_wait(r->fd, &r->wait, r->idle, r->idle_arg))
		return READ_EOF;
	n = reader_fill(r);
	if (n >= 0 || errno == EINTR || errno == EAGAIN)
		return READ_AGAIN;
	snprintf(r->err, sizeof(r->err), "%s: unable to read: %s", r->name,
	    strerror(errno));
	r->errwhat = 0;
	return READ_SYSERR;
}

int
reader_next(struct reader *r, struct event *ev)
{
	int ret;

	for (;;) {
		ret = reader_next_buffered(r, ev);
		if (ret != READ_AGAIN)
			return ret;
		if ((ret = read_more(r)) != READ_AGAIN)
			return ret;
	}
}

/* Whether the whole value q[0..len) is an ext value of type MARK_EXT. */
static int
value_is_mark(const char *q, size_t len)
{
	const char *e = q;
	struct mp_obj o;

	return mp_head(&e, q + len, &o) == MP_OK && o.type == MP_EXT &&
	    o.ext_type == MARK_EXT;
}

int
reader_next_value(struct reader *r, const char **p, size_t *len)
{
	const char *q, *bad;
	int ret;

	for (;;) {
		q = r->buf + r->start;
		bad = q;
		if (r->start == r->end && r->eof)
			return READ_EOF;
		if (r->scan_at != r->base + r->start) {
			r->scan_at = r->base + r->start;
			mp_scan_init(&r->scan);
		}
		ret = r->start == r->end ? MP_SHORT :
		    scan_count(r, q, r->buf + r->end, &bad);
		if (ret == MP_OK && r->scan.off > r->max) {
			too_big(r, q);
			if (!r->skip)
				return READ_ERR;
			if (!r->resyncing)
				r->st.skipped_places++;
			skip_bytes(r, r->scan.off);     /* the whole value */
			continue;
		}
		if (ret == MP_OK && value_is_mark(q, r->scan.off)) {
			ret = top_mark(r, q, r->scan.off);
			if (ret == READ_AGAIN)
				continue;
			if (!r->skip)
				return READ_ERR;
			if (!r->resyncing)
				r->st.skipped_places++;
			skip_bytes(r, r->scan.off);     /* the whole value */
			continue;
		}
		if (ret == MP_OK) {
			q += r->scan.off;
			*p = r->buf + r->start;
			*len = q - *p;
			r->start = q - r->buf;
			r->st.events++;
			r->resyncing = 0;
			return READ_EVENT;
		}
		if (ret == MP_BAD)
			ret = short_or_bad(r, ret, bad);
		else if (r->start != r->end)
			ret = need_more(r);
		else
			ret = READ_AGAIN;
		if (ret == READ_ERR && r->skip) {
			/* resynchronise a byte at a time: any value will do */
			if (!r->resyncing)
				r->st.skipped_places++;
			r->resyncing = 1;
			skip_bytes(r, 1);
			continue;
		}
		if (ret != READ_AGAIN)
			return ret;
		if ((ret = read_more(r)) != READ_AGAIN)
			return ret;
	}
}

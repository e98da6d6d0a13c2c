/* stream - read every Forward shape as events; write Message mode */
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "err.h"
#include "mark.h"
#include "mp.h"
#include "sig.h"
#include "clock.h"
#include "stream.h"

#define READ_MIN (16 * 1024)            /* a new reader's reads */
#define READ_SIZE (128 * 1024)          /* the most it asks for at once */
#define TRIM_AT (4 * READ_SIZE)         /* reader_trim frees larger buffers */
#define ZWIN (64 * 1024)                /* window of inflated entries */
#define ZSTATE (40 * 1024)              /* zlib's inflate state and window */
#define STOP_IDLE_MS 500
#define STOP_MAX_MS 5000

struct reader {
	int fd;
	char *name;
	char *buf;
	size_t cap;
	size_t start;           /* first byte not consumed */
	size_t end;             /* end of the bytes read */
	uint64_t base;          /* stream offset of buf[0] */
	size_t max;
	size_t rsize;           /* the next read: doubles while reads fill it */
	int eof;
	int skip;
	int toobig;             /* the last error was the size limit */
	int frame_marks;        /* READ_FRAME for frames with no event */
	void (*idle)(void *);
	void *idle_arg;
	void (*mark)(void *, const char *, size_t);
	void *mark_arg;
	char err[512];
	size_t errwhat;         /* where the text after the position starts */
	struct reader_stats st;
	/* the frame being expanded (Forward, PackedForward) */
	int in_frame;
	int frame_done;
	size_t frame_start;     /* in buf */
	size_t frame_end;
	const char *tag;
	size_t tag_len;
	const char *ent;        /* next entry (in buf, or in z) */
	const char *ent_end;
	uint32_t ent_left;      /* Forward: entries left */
	int packed;
	uint32_t ent_index;
	const char *opt;
	size_t opt_len;
	/* a compressed frame: inflated a window at a time as entries go */
	int gz;                 /* the entries are in z, from zs */
	int zinit;              /* zs holds zlib's state */
	int zend;               /* the last member ended with the input */
	int zerr;               /* ZE_*: met before the bytes in z ran out */
	int zheld;              /* zbyte was inflated ahead, not yet in z */
	char zbyte;
	const char *zmsg;       /* zlib's words for ZE_BAD */
	size_t zout;            /* bytes inflated from this frame */
	z_stream zs;
	struct buf z;           /* the window: inflated entries */
	/* a top-level value seen incomplete: its scan, resumed as bytes come */
	uint64_t scan_at;       /* its stream offset, or UINT64_MAX */
	struct mp_scan scan;
	/* skipping */
	int resyncing;
	uint64_t resync_from;
	struct waiter wait;
};

enum { ZE_BAD = 1, ZE_TRUNC, ZE_BIG };

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

static int __attribute__((format(printf, 3, 4)))
fail(struct reader *r, const char *at, const char *fmt, ...)
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

static uint32_t
be32(const char *p)
{
	const unsigned char *u = (const unsigned char *)p;

	return (uint32_t)u[0] << 24 | (uint32_t)u[1] << 16 |
	    (uint32_t)u[2] << 8 | u[3];
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
			*sec = be32(o->data);
			*nsec = be32(o->data + 4);
			return *nsec < 1000000000u ? 0 : -1;
		}
		if (o->ext_type == -1 && o->len == 4) {
			*sec = be32(o->data);
			return 0;
		}
		if (o->ext_type == -1 && o->len == 8) {
			uint64_t v = (uint64_t)be32(o->data) << 32 |
			    be32(o->data + 4);
			*nsec = (uint32_t)(v >> 34);
			*sec = (int64_t)(v & 0x3ffffffffULL);
			return *nsec < 1000000000u ? 0 : -1;
		}
		if (o->ext_type == -1 && o->len == 12) {
			*nsec = be32(o->data);
			*sec = (int64_t)((uint64_t)be32(o->data + 4) << 32 |
			    be32(o->data + 8));
			return *nsec < 1000000000u ? 0 : -1;
		}
		return -1;
	default:
		return -1;
	}
}

/* Finds "compressed" in an option map; returns 1 for "gzip", -1 unknown. */
static int
option_gzip(const char *p, const char *end)
{
	struct mp_obj m, k, v;
	uint32_t i;

	if (!p || mp_head(&p, end, &m) != MP_OK || m.type != MP_MAP)
		return 0;
	for (i = 0; i < m.v.n; i++) {
		if (mp_head(&p, end, &k) != MP_OK)
			return 0;
		if (k.type == MP_STR && k.len == 10 &&
		    memcmp(k.data, "compressed", 10) == 0) {
			if (mp_head(&p, end, &v) != MP_OK)
				return 0;
			if (v.type != MP_STR)
				return -1;
			if (v.len == 4 && memcmp(v.data, "gzip", 4) == 0)
				return 1;
			if (v.len == 4 && memcmp(v.data, "text", 4) == 0)
				return 0;
			return -1;
		}
		if ((k.type == MP_ARRAY || k.type == MP_MAP) && k.v.n) {
			return 0;
		}
		if (mp_skip(&p, end, NULL) != MP_OK)
			return 0;
	}
	return 0;
}

/* Starts inflating the gzip members of src[0..len); 0, or READ_ERR. */
static int
zstart(struct reader *r, const char *src, size_t len, const char *at)
{
	if (r->zinit) {
		inflateReset(&r->zs);
	} else {
		memset(&r->zs, 0, sizeof(r->zs));
		if (inflateInit2(&r->zs, 16 + MAX_WBITS) != Z_OK)
			return fail(r, at, "unable to start gzip "
			    "decompression");
		r->zinit = 1;
	}
	r->zs.next_in = (unsigned char *)src;
	r->zs.avail_in = len;           /* a bin's length fits 32 bits */
	r->gz = 1;
	r->zend = r->zerr = r->zheld = 0;
	r->zout = 0;
	if (r->z.cap < ZWIN) {
		r->z.p = xrealloc(r->z.p, ZWIN);
		r->z.cap = ZWIN;
	}
	r->z.len = 0;
	r->ent = r->ent_end = r->z.p;
	return 0;
}

/*
 * Inflates up to room bytes to `to`, member after member; returns how many.
 * Sets zend at the end of the last member, or zerr: bad data, data that
 * ends inside a member, or a frame inflating to more than r->max bytes.
 */
static size_t
zrun(struct reader *r, char *to, size_t room)
{
	z_stream *zs = &r->zs;
	size_t got = 0, n, k;
	char probe;
	int ret;

	while (got < room && !r->zend && !r->zerr) {
		n = room - got;
		if (n > r->max - r->zout)
			n = r->max - r->zout;
		if (n > 1u << 30)
			n = 1u << 30;
		/* at the limit, one byte more says the frame is too big */
		zs->next_out = (unsigned char *)(n ? to + got : &probe);
		zs->avail_out = n ? n : 1;
		ret = inflate(zs, Z_NO_FLUSH);
		k = (n ? n : 1) - zs->avail_out;
		if (!n && k) {
			r->zerr = ZE_BIG;
			break;
		}
		got += k;
		r->zout += k;
		if (ret == Z_STREAM_END) {
			if (zs->avail_in == 0)
				r->zend = 1;
			else
				inflateReset(zs);       /* another member */
		} else if (ret == Z_BUF_ERROR) {
			r->zerr = ZE_TRUNC;     /* no input left to go on */
		} else if (ret != Z_OK) {
			r->zerr = ZE_BAD;
			r->zmsg = zs->msg ? zs->msg : "error";
		}
	}
	return got;
}

/*
 * Moves the unread bytes to the front of the window and inflates after
 * them, doubling the window (up to the limit) when they fill half of it,
 * so an entry is scanned a bounded number of times.  Returns 1 if bytes
 * were added.
 */
static int
zfill(struct reader *r)
{
	size_t keep = r->ent_end - r->ent, cap, top;

	if (!r->zheld && (r->zend || r->zerr))
		return 0;
	if (keep && r->ent != r->z.p)
		memmove(r->z.p, r->ent, keep);
	r->z.len = keep;
	top = r->max < SIZE_MAX - 1 ? r->max + 1 : SIZE_MAX;
	if (r->z.cap - keep < r->z.cap / 2 && r->z.cap < top) {
		cap = r->z.cap <= top / 2 ? r->z.cap * 2 : top;
		r->z.p = xrealloc(r->z.p, cap);
		r->z.cap = cap;
	}
	if (r->zheld) {
		r->z.p[r->z.len++] = r->zbyte;
		r->zheld = 0;
	}
	r->z.len += zrun(r, r->z.p + r->z.len, r->z.cap - r->z.len);
	r->ent = r->z.p;
	r->ent_end = r->z.p + r->z.len;
	return r->z.len > keep;
}

/*
 * With the window drained, inflates one byte ahead (kept aside, so the
 * event just returned stays where it is): is there another entry?
 */
static void
zpeek(struct reader *r)
{
	if (r->ent == r->ent_end && !r->zheld)
		r->zheld = zrun(r, &r->zbyte, 1) == 1;
}

static int
zfail(struct reader *r)
{
	const char *fs = r->buf + r->frame_start;

	if (r->zerr == ZE_BIG) {
		fail(r, fs, "gzip entries inflate to more than %zu bytes "
		    "(--max-event-size)", r->max);
		r->toobig = 1;
		return READ_ERR;
	}
	if (r->zerr == ZE_TRUNC)
		return fail(r, fs, "truncated gzip data in compressed entries");
	return fail(r, fs, "bad gzip data in compressed entries: %s", r->zmsg);
}

/*
 * Inflates until the window holds the whole entry at r->ent, or the
 * inflated data ends inside it (next_entry says how).  READ_ERR for gzip
 * trouble before the entry's end, else 0.
 */
static int
zentry(struct reader *r)
{
	const char *q;

	do {
		q = r->ent;
		if (skip_count(r, &q, r->ent_end, NULL) != MP_SHORT)
			return 0;
	} while (zfill(r));
	return r->zerr ? zfail(r) : 0;
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
		return fail(r, where, "entry %u of the frame is not an array "
		    "[time, record]", r->ent_index);
	if (mp_head(&p, end, &t) != MP_OK)
		return fail(r, where, "entry %u: truncated", r->ent_index);
	if (t.type == MP_ARRAY) {
		/* Fluent Bit: [[time, metadata], record] */
		if (t.v.n != 2 || mp_head(&p, end, &h) != MP_OK ||
		    mp_skip(&p, end, NULL) != MP_OK)
			return fail(r, where, "entry %u: bad [time, metadata] "
			    "header", r->ent_index);
		t = h;
	}
	if (decode_time(&t, &ev->sec, &ev->nsec) < 0)
		return fail(r, where, "entry %u: time is %s, not a time",
		    r->ent_index, type_names[t.type]);
	at = p;
	if (mp_head(&p, end, &rec) != MP_OK)
		return fail(r, where, "entry %u: truncated record", r->ent_index);
	if (rec.type != MP_MAP && rec.type != MP_NIL)
		return fail(r, where, "entry %u: record is %s, not a map",
		    r->ent_index, type_names[rec.type]);
	p = at;
	if (mp_skip(&p, end, NULL) != MP_OK)
		return fail(r, where, "entry %u: invalid msgpack in record",
		    r->ent_index);
	ev->rec = at;
	ev->rec_len = p - at;
	for (i = 2; i < a.v.n; i++)
		if (mp_skip(&p, end, NULL) != MP_OK)
			return fail(r, where, "entry %u: invalid msgpack",
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
	int gz;

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
	gz = option_gzip(r->opt, r->opt ? r->opt + r->opt_len : NULL);
	if (gz < 0)
		return fail(r, fs, "unsupported \"compressed\" option");
	if (gz == 1) {
		if (!r->packed)
			return fail(r, fs, "\"compressed\" option on a Forward "
			    "frame: gzip needs packed entries");
		if (zstart(r, r->ent, r->ent_end - r->ent, fs) < 0)
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
		return fail(r, at, "invalid msgpack byte 0xc1");
	return fail(r, at, "msgpack nested deeper than %d levels",
	    MP_MAX_DEPTH);
}

static int
too_big(struct reader *r, const char *at)
{
	fail(r, at, "event larger than %zu bytes (see --max-event-size)",
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
		return fail(r, s, "forward frame has %u elements, expected "
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
		return fail(r, s, "malformed mark: an extension of type %d "
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

	if ((ret = mp_head(&p, end, &a)) != MP_OK)
		return short_or_bad(r, ret, s);
	if (a.type == MP_NIL) {
		r->start++;
		return READ_AGAIN;
	}
	if (a.type == MP_EXT && a.ext_type == MARK_EXT)
		return top_mark(r, s, p - s);
	if (a.type != MP_ARRAY)
		return fail(r, s, "expected an event [tag, time, record], "
		    "found %s", type_names[a.type]);
	if (a.v.n < 2 || a.v.n > 4)
		return fail(r, s, "expected an event [tag, time, record], "
		    "found an array of %u", a.v.n);
	at = p;
	if ((ret = mp_head(&p, end, &tag)) != MP_OK)
		return short_or_bad(r, ret, at);
	if (tag.type != MP_STR && tag.type != MP_BIN)
		return fail(r, s, "event tag is %s, not a string",
		    type_names[tag.type]);
	at = p;
	if ((ret = mp_head(&p, end, &t)) != MP_OK)
		return short_or_bad(r, ret, at);
	if (t.type == MP_ARRAY || t.type == MP_STR || t.type == MP_BIN)
		return parse_frame(r, at, a.v.n, &tag);
	if (a.v.n < 3)
		return fail(r, s, "event has no record: found an array of 2 "
		    "whose second element is %s", type_names[t.type]);
	if (decode_time(&t, &ev->sec, &ev->nsec) < 0)
		return fail(r, s, "event time is %s, not a time",
		    t.type == MP_EXT ? "an extension of another type or size" :
		    type_names[t.type]);
	at = p;
	if ((ret = mp_head(&p, end, &rec)) != MP_OK)
		return short_or_bad(r, ret, at);
	if (rec.type != MP_MAP && rec.type != MP_NIL)
		return fail(r, s, "event record is %s, not a map",
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
		return fail(r, s, "truncated event: the input ends %zu bytes "
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

void
stream_tune_malloc(void)
{
#ifdef M_MMAP_THRESHOLD
	/*
	 * Fixed thresholds.  glibc's moving one rises to the size of the last
	 * big block freed, after which growing a big buffer in the heap copies
	 * it and holds both; a fixed one alone would give memory back at each
	 * free and fault it in again for the next request.
	 */
	mallopt(M_MMAP_THRESHOLD, 4 << 20);
	mallopt(M_TRIM_THRESHOLD, 16 << 20);
#endif
}

int
stream_wait(int fd, struct waiter *wt, void (*idle)(void *), void *arg)
{
	int timeout, w;
	long long gone;

	for (;;) {
		if (sig_stop && !wt->stopping) {
			wt->stopping = 1;
			wt->stop_ms = clock_ms();
		}
		timeout = -1;
		if (wt->stopping) {
			gone = clock_ms() - wt->stop_ms;
			if (gone >= STOP_MAX_MS)
				return 0;
			timeout = STOP_MAX_MS - gone < STOP_IDLE_MS ?
			    (int)(STOP_MAX_MS - gone) : STOP_IDLE_MS;
		}
		if (idle) {
			w = sig_wait(fd, POLLIN, 0);
			if (w == 1)
				return 1;
			if (w == 0)
				idle(arg);
		}
		w = sig_wait(fd, POLLIN, timeout);
		if (w == 1)
			return 1;
		if (w == 0)
			return 0;
		sig_service();
	}
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

void
event_put_time(struct buf *b, int64_t sec, uint32_t nsec)
{
	unsigned char *q;
	uint64_t v = (uint64_t)sec;
	int i;

	if (sec >= 0 && sec <= 0xffffffffLL) {
		mp_put_eventtime(b, (uint32_t)sec, nsec);
		return;
	}
	buf_reserve(b, 9);
	q = (unsigned char *)b->p + b->len;
	q[0] = 0xd3;
	for (i = 0; i < 8; i++)
		q[1 + i] = v >> (56 - 8 * i);
	b->len += 9;
}

void
event_write(struct out *o, const char *tag, size_t tag_len, int64_t sec,
    uint32_t nsec, const char *rec, size_t rec_len)
{
	struct buf *b = &o->b;

	buf_reserve(b, 1 + 5 + tag_len + 10 + rec_len);
	b->p[b->len++] = (char)0x93;
	mp_put_strhdr(b, tag_len);
	memcpy(b->p + b->len, tag, tag_len);
	b->len += tag_len;
	event_put_time(b, sec, nsec);
	memcpy(b->p + b->len, rec, rec_len);
	b->len += rec_len;
	out_check(o);
}

void
event_now(int64_t *sec, uint32_t *nsec)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	*sec = ts.tv_sec;
	*nsec = (uint32_t)ts.tv_nsec;
}

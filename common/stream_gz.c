/*
 * stream_gz - CompressedPackedForward: the entries inflated whole (zstd,
 * and gzip up to ZWHOLE: libdeflate), else a window at a time (zlib)
 */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "err.h"
#include "gz.h"
#include "mp.h"
#include "stream_int.h"

/*
 * Finds "compressed" in an option map: C_GZIP for "gzip", C_ZSTD for
 * "zstd", 0 for "text" or none, -1 for anything else.
 */
int
option_codec(const char *p, const char *end)
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
				return C_GZIP;
			if (v.len == 4 && memcmp(v.data, "zstd", 4) == 0)
				return C_ZSTD;
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

/*
 * Inflates src[0..len) whole into z, up to max: the window then holds every
 * entry and zend (or zerr) is set.  0 if done, -1 to inflate a window at a
 * time instead (gzip that is bad or inflates beyond ZWHOLE: zlib's way
 * gives the entries before the trouble and says what it is).
 */
static int
zwhole(struct reader *r, const char *src, size_t len)
{
	size_t cap = r->max;
	int ret;

	r->z.len = 0;
	if (r->codec == C_ZSTD) {
		ret = zst_decompress(&r->z, src, len, cap);
	} else {
		if (cap > ZWHOLE)
			cap = ZWHOLE;
		if ((ret = gz_decompress(&r->z, src, len, cap)) != GZ_OK) {
			if (r->z.cap > ZWIN)    /* the window is enough */
				buf_free(&r->z);
			return -1;
		}
	}
	/* frame_save keeps next_in's place in buf */
	r->zs.next_in = (unsigned char *)src + len;
	r->zs.avail_in = 0;
	if (ret == GZ_OK)
		r->zend = 1;
	else if (ret == GZ_BIG)
		r->zerr = ZE_BIG;
	else {
		r->zerr = ZE_BAD;
		r->zmsg = gz_why();
	}
	r->zout = r->z.len;
	r->ent = r->z.p;
	r->ent_end = r->z.p + r->z.len;
	return 0;
}

/* Starts inflating the members of src[0..len); 0, or READ_ERR. */
int
zstart(struct reader *r, const char *src, size_t len, const char *at,
    int codec)
{
	r->gz = 1;
	r->codec = codec;
	r->zend = r->zerr = r->zheld = 0;
	r->zout = 0;
	if (zwhole(r, src, len) == 0)
		return 0;
	if (r->zinit) {
		inflateReset(&r->zs);
	} else {
		memset(&r->zs, 0, sizeof(r->zs));
		if (inflateInit2(&r->zs, 16 + MAX_WBITS) != Z_OK)
			return reader_fail(r, at, "unable to start gzip "
			    "decompression");
		r->zinit = 1;
	}
	r->zs.next_in = (unsigned char *)src;
	r->zs.avail_in = len;           /* a bin's length fits 32 bits */
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
void
zpeek(struct reader *r)
{
	if (r->ent == r->ent_end && !r->zheld)
		r->zheld = zrun(r, &r->zbyte, 1) == 1;
}

static int
zfail(struct reader *r)
{
	const char *fs = r->buf + r->frame_start;
	const char *name = r->codec == C_ZSTD ? "zstd" : "gzip";

	if (r->zerr == ZE_BIG) {
		reader_fail(r, fs, "%s entries inflate to more than %zu bytes "
		    "(--max-event-size)", name, r->max);
		r->toobig = 1;
		return READ_ERR;
	}
	if (r->zerr == ZE_TRUNC)
		return reader_fail(r, fs, "truncated %s data in compressed "
		    "entries", name);
	return reader_fail(r, fs, "bad %s data in compressed entries: %s", name,
	    r->zmsg);
}

/*
 * Inflates until the window holds the whole entry at r->ent, or the
 * inflated data ends inside it (next_entry says how).  READ_ERR for gzip
 * trouble before the entry's end, else 0.
 */
int
zentry(struct reader *r)
{
	const char *q;

	do {
		q = r->ent;
		if (reader_skip_count(r, &q, r->ent_end, NULL) != MP_SHORT)
			return 0;
	} while (zfill(r));
	return r->zerr ? zfail(r) : 0;
}

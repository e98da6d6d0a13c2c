/* mp - zero-copy msgpack cursor and packer glue */
#include <string.h>

#include "mp.h"

static inline uint16_t
be16(const char *p)
{
	const unsigned char *u = (const unsigned char *)p;

	return (uint16_t)(u[0] << 8 | u[1]);
}

static inline uint32_t
be32(const char *p)
{
	const unsigned char *u = (const unsigned char *)p;

	return (uint32_t)u[0] << 24 | (uint32_t)u[1] << 16 |
	    (uint32_t)u[2] << 8 | u[3];
}

static inline uint64_t
be64(const char *p)
{
	return (uint64_t)be32(p) << 32 | be32(p + 4);
}

/* Payload of str, bin or ext: the header is hdr bytes, the length n. */
static int
payload(const char **p, const char *end, size_t hdr, uint32_t n,
    struct mp_obj *o)
{
	if ((size_t)(end - *p) < hdr || (size_t)(end - *p) - hdr < n)
		return MP_SHORT;
	o->data = *p + hdr;
	o->len = n;
	*p += hdr + n;
	return MP_OK;
}

static int
sized(const char **p, const char *end, unsigned char c, struct mp_obj *o)
{
	size_t avail = end - *p;

	switch (c) {
	case 0xc4: case 0xd9:
		if (avail < 2)
			return MP_SHORT;
		o->type = c == 0xc4 ? MP_BIN : MP_STR;
		return payload(p, end, 2, (unsigned char)(*p)[1], o);
	case 0xc5: case 0xda:
		if (avail < 3)
			return MP_SHORT;
		o->type = c == 0xc5 ? MP_BIN : MP_STR;
		return payload(p, end, 3, be16(*p + 1), o);
	case 0xc6: case 0xdb:
		if (avail < 5)
			return MP_SHORT;
		o->type = c == 0xc6 ? MP_BIN : MP_STR;
		return payload(p, end, 5, be32(*p + 1), o);
	case 0xc7:
		if (avail < 3)
			return MP_SHORT;
		o->type = MP_EXT;
		o->ext_type = (int8_t)(*p)[2];
		return payload(p, end, 3, (unsigned char)(*p)[1], o);
	case 0xc8:
		if (avail < 4)
			return MP_SHORT;
		o->type = MP_EXT;
		o->ext_type = (int8_t)(*p)[3];
		return payload(p, end, 4, be16(*p + 1), o);
	case 0xc9:
		if (avail < 6)
			return MP_SHORT;
		o->type = MP_EXT;
		o->ext_type = (int8_t)(*p)[5];
		return payload(p, end, 6, be32(*p + 1), o);
	default: /* 0xd4..0xd8 fixext */
		if (avail < 2)
			return MP_SHORT;
		o->type = MP_EXT;
		o->ext_type = (int8_t)(*p)[1];
		return payload(p, end, 2, 1u << (c - 0xd4), o);
	}
}

/* Fixed-size scalars and container headers of 0xca..0xdf but sized ones. */
static int
fixed(const char **p, const char *end, unsigned char c, struct mp_obj *o)
{
	static const unsigned char width[] = {
		/* ca */ 4, 8, 1, 2, 4, 8, 1, 2, 4, 8,
		/* d4..db: sized */ 0, 0, 0, 0, 0, 0, 0, 0,
		/* dc */ 2, 4, 2, 4
	};
	size_t w = width[c - 0xca];
	const char *q = *p + 1;
	union { uint32_t u; float f; } f32;
	union { uint64_t u; double d; } f64;

	if ((size_t)(end - *p) < 1 + w)
		return MP_SHORT;
	switch (c) {
	case 0xca: f32.u = be32(q); o->type = MP_FLOAT; o->v.f = f32.f; break;
	case 0xcb: f64.u = be64(q); o->type = MP_FLOAT; o->v.f = f64.d; break;
	case 0xcc: o->type = MP_UINT; o->v.u = (unsigned char)*q; break;
	case 0xcd: o->type = MP_UINT; o->v.u = be16(q); break;
	case 0xce: o->type = MP_UINT; o->v.u = be32(q); break;
	case 0xcf: o->type = MP_UINT; o->v.u = be64(q); break;
	case 0xd0: o->type = MP_INT; o->v.i = (int8_t)*q; break;
	case 0xd1: o->type = MP_INT; o->v.i = (int16_t)be16(q); break;
	case 0xd2: o->type = MP_INT; o->v.i = (int32_t)be32(q); break;
	case 0xd3: o->type = MP_INT; o->v.i = (int64_t)be64(q); break;
	case 0xdc: o->type = MP_ARRAY; o->v.n = be16(q); break;
	case 0xdd: o->type = MP_ARRAY; o->v.n = be32(q); break;
	case 0xde: o->type = MP_MAP; o->v.n = be16(q); break;
	default: o->type = MP_MAP; o->v.n = be32(q); break;
	}
	if (o->type == MP_INT && o->v.i >= 0)
		o->type = MP_UINT;
	*p += 1 + w;
	return MP_OK;
}

int
mp_head(const char **p, const char *end, struct mp_obj *o)
{
	unsigned char c;

	if (*p >= end)
		return MP_SHORT;
	c = (unsigned char)**p;
	if (c <= 0x7f) {
		o->type = MP_UINT;
		o->v.u = c;
	} else if (c >= 0xe0) {
		o->type = MP_INT;
		o->v.i = (int8_t)c;
	} else if (c <= 0x8f) {
		o->type = MP_MAP;
		o->v.n = c & 0x0f;
	} else if (c <= 0x9f) {
		o->type = MP_ARRAY;
		o->v.n = c & 0x0f;
	} else if (c <= 0xbf) {
		o->type = MP_STR;
		return payload(p, end, 1, c & 0x1f, o);
	} else if (c == 0xc0) {
		o->type = MP_NIL;
	} else if (c == 0xc1) {
		return MP_BAD;
	} else if (c <= 0xc3) {
		o->type = MP_BOOL;
		o->v.b = c == 0xc3;
	} else if (c <= 0xc9 || (c >= 0xd4 && c <= 0xdb)) {
		return sized(p, end, c, o);
	} else {
		return fixed(p, end, c, o);
	}
	(*p)++;
	return MP_OK;
}

void
mp_scan_init(struct mp_scan *s)
{
	s->off = 0;
	s->depth = 0;
	s->left[0] = 1;
}

int
mp_scan(struct mp_scan *s, const char *v, const char *end, const char **bad)
{
	const char *q = v + s->off, *at;
	int depth = s->depth, r = MP_OK;
	struct mp_obj o;

	for (;;) {
		while (depth > 0 && s->left[depth] == 0)
			depth--;
		if (s->left[depth] == 0)
			break;
		at = q;
		if ((r = mp_head(&q, end, &o)) != MP_OK)
			break;
		if ((o.type == MP_ARRAY || o.type == MP_MAP) && o.v.n > 0 &&
		    depth == MP_MAX_DEPTH) {
			q = at;
			r = MP_BAD;
			break;
		}
		s->left[depth]--;
		if ((o.type == MP_ARRAY || o.type == MP_MAP) && o.v.n > 0)
			s->left[++depth] = o.type == MP_MAP ?
			    (uint64_t)o.v.n * 2 : o.v.n;
	}
	s->depth = depth;
	s->off = q - v;
	if (r != MP_OK && bad)
		*bad = q;
	return r;
}

int
mp_skip(const char **p, const char *end, const char **bad)
{
	struct mp_scan s;
	int r;

	mp_scan_init(&s);
	if ((r = mp_scan(&s, *p, end, bad)) == MP_OK)
		*p += s.off;
	return r;
}

static int
buf_write_cb(void *data, const char *p, size_t n)
{
	buf_put(data, p, n);
	return 0;
}

void
mp_packer_init(msgpack_packer *pk, struct buf *b)
{
	msgpack_packer_init(pk, b, buf_write_cb);
}

void
mp_put_eventtime(struct buf *b, uint32_t sec, uint32_t nsec)
{
	unsigned char *q;

	buf_reserve(b, 10);
	q = (unsigned char *)b->p + b->len;
	q[0] = 0xd7;
	q[1] = 0x00;
	q[2] = sec >> 24; q[3] = sec >> 16; q[4] = sec >> 8; q[5] = sec;
	q[6] = nsec >> 24; q[7] = nsec >> 16; q[8] = nsec >> 8; q[9] = nsec;
	b->len += 10;
}

void
mp_put_strhdr(struct buf *b, size_t n)
{
	unsigned char *q;

	buf_reserve(b, 5);
	q = (unsigned char *)b->p + b->len;
	if (n < 32) {
		q[0] = 0xa0 | n;
		b->len += 1;
	} else if (n < 256) {
		q[0] = 0xd9;
		q[1] = n;
		b->len += 2;
	} else if (n < 65536) {
		q[0] = 0xda;
		q[1] = n >> 8;
		q[2] = n;
		b->len += 3;
	} else {
		q[0] = 0xdb;
		q[1] = n >> 24; q[2] = n >> 16; q[3] = n >> 8; q[4] = n;
		b->len += 5;
	}
}

/* Is the key at *p equal to k?  Advances *p past the key. */
static int
key_is(const char **p, const char *end, const char *k, size_t klen)
{
	const char *at = *p;
	struct mp_obj o;

	if (mp_head(p, end, &o) != MP_OK)
		return 0;
	if (o.type == MP_STR || o.type == MP_BIN)
		return o.len == klen && memcmp(o.data, k, klen) == 0;
	*p = at;
	mp_skip(p, end, NULL);
	return 0;
}

int
mp_map_get(const char *map, const char *end, const char *k, size_t klen,
    const char **val, size_t *vlen)
{
	const char *p = map, *v;
	struct mp_obj m;
	uint32_t i;

	if (mp_head(&p, end, &m) != MP_OK || m.type != MP_MAP)
		return 0;
	for (i = 0; i < m.v.n; i++) {
		int hit = key_is(&p, end, k, klen);

		v = p;
		if (mp_skip(&p, end, NULL) != MP_OK)
			return 0;
		if (hit) {
			*val = v;
			*vlen = p - v;
			return 1;
		}
	}
	return 0;
}

void
mp_put_maphdr(struct buf *b, uint32_t n)
{
	unsigned char *q;

	buf_reserve(b, 5);
	q = (unsigned char *)b->p + b->len;
	if (n < 16) {
		q[0] = 0x80 | n;
		b->len += 1;
	} else if (n < 65536) {
		q[0] = 0xde;
		q[1] = n >> 8;
		q[2] = n;
		b->len += 3;
	} else {
		q[0] = 0xdf;
		q[1] = n >> 24; q[2] = n >> 16; q[3] = n >> 8; q[4] = n;
		b->len += 5;
	}
}

void
mp_map_put_without(struct buf *out, const char *map, const char *end,
    const char *k, size_t klen)
{
	const char *p = map, *pair;
	struct mp_obj m;
	uint32_t i, kept = 0;
	size_t hdr;

	if (mp_head(&p, end, &m) != MP_OK || m.type != MP_MAP)
		return;
	hdr = out->len;
	mp_put_maphdr(out, m.v.n);      /* rewritten below if a pair goes */
	for (i = 0; i < m.v.n; i++) {
		pair = p;
		if (key_is(&p, end, k, klen)) {
			mp_skip(&p, end, NULL);
			continue;
		}
		mp_skip(&p, end, NULL);
		buf_put(out, pair, p - pair);
		kept++;
	}
	if (kept != m.v.n) {
		struct buf h = { 0 };
		size_t old, body;

		mp_put_maphdr(&h, kept);
		old = (m.v.n < 16 ? 1 : m.v.n < 65536 ? 3 : 5);
		body = out->len - hdr - old;
		buf_reserve(out, h.len);
		memmove(out->p + hdr + h.len, out->p + hdr + old, body);
		memcpy(out->p + hdr, h.p, h.len);
		out->len = hdr + h.len + body;
		buf_free(&h);
	}
}

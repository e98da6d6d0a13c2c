/* mp - zero-copy msgpack cursor and packer glue */
#include <string.h>

#include "be.h"
#include "mp.h"

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
		return payload(p, end, 3, be16_get(*p + 1), o);
	case 0xc6: case 0xdb:
		if (avail < 5)
			return MP_SHORT;
		o->type = c == 0xc6 ? MP_BIN : MP_STR;
		return payload(p, end, 5, be32_get(*p + 1), o);
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
		return payload(p, end, 4, be16_get(*p + 1), o);
	case 0xc9:
		if (avail < 6)
			return MP_SHORT;
		o->type = MP_EXT;
		o->ext_type = (int8_t)(*p)[5];
		return payload(p, end, 6, be32_get(*p + 1), o);
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
	case 0xca: f32.u = be32_get(q); o->type = MP_FLOAT; o->v.f = f32.f; break;
	case 0xcb: f64.u = be64_get(q); o->type = MP_FLOAT; o->v.f = f64.d; break;
	case 0xcc: o->type = MP_UINT; o->v.u = (unsigned char)*q; break;
	case 0xcd: o->type = MP_UINT; o->v.u = be16_get(q); break;
	case 0xce: o->type = MP_UINT; o->v.u = be32_get(q); break;
	case 0xcf: o->type = MP_UINT; o->v.u = be64_get(q); break;
	case 0xd0: o->type = MP_INT; o->v.i = (int8_t)*q; break;
	case 0xd1: o->type = MP_INT; o->v.i = (int16_t)be16_get(q); break;
	case 0xd2: o->type = MP_INT; o->v.i = (int32_t)be32_get(q); break;
	case 0xd3: o->type = MP_INT; o->v.i = (int64_t)be64_get(q); break;
	case 0xdc: o->type = MP_ARRAY; o->v.n = be16_get(q); break;
	case 0xdd: o->type = MP_ARRAY; o->v.n = be32_get(q); break;
	case 0xde: o->type = MP_MAP; o->v.n = be16_get(q); break;
	default: o->type = MP_MAP; o->v.n = be32_get(q); break;
	}
	if (o->type == MP_INT && o->v.i >= 0)
		o->type = MP_UINT;
	*p += 1 + w;
	return MP_OK;
}

int
mp_head_any(const char **p, const char *end, struct mp_obj *o)
{
	unsigned char c;
	size_t n;

	if (*p >= end)
		return MP_SHORT;
	c = (unsigned char)**p;
	switch (c >> 4) {
	case 0x0: case 0x1: case 0x2: case 0x3:
	case 0x4: case 0x5: case 0x6: case 0x7:
		o->type = MP_UINT;
		o->v.u = c;
		break;
	case 0x8:
		o->type = MP_MAP;
		o->v.n = c & 0x0f;
		break;
	case 0x9:
		o->type = MP_ARRAY;
		o->v.n = c & 0x0f;
		break;
	case 0xa: case 0xb:
		o->type = MP_STR;
		return payload(p, end, 1, c & 0x1f, o);
	case 0xe: case 0xf:
		o->type = MP_INT;
		o->v.i = (int8_t)c;
		break;
	default:
		switch (c) {
		case 0xc0:
			o->type = MP_NIL;
			break;
		case 0xc1:
			return MP_BAD;
		case 0xc2: case 0xc3:
			o->type = MP_BOOL;
			o->v.b = c == 0xc3;
			break;
		case 0xd4: case 0xd5: case 0xd6: case 0xd7: case 0xd8:
			n = (size_t)1 << (c - 0xd4);
			if ((size_t)(end - *p) < 2 + n)
				return MP_SHORT;
			o->type = MP_EXT;
			o->ext_type = (int8_t)(*p)[1];
			o->data = *p + 2;
			o->len = (uint32_t)n;
			*p += 2 + n;
			return MP_OK;
		case 0xc4: case 0xc5: case 0xc6: case 0xc7: case 0xc8:
		case 0xc9: case 0xd9: case 0xda: case 0xdb:
			return sized(p, end, c, o);
		default:
			return fixed(p, end, c, o);
		}
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

/*
 * Bytes of the head at q[0..avail) and the elements it opens (*more),
 * for mp_skip_quick; 0 when the exact scan must decide (the byte 0xc1, the
 * head cut short).
 */
static size_t
head_len(const unsigned char *q, size_t avail, uint64_t *more)
{
	unsigned char c = q[0];

	*more = 0;
	switch (c) {
	case 0xc0: case 0xc2: case 0xc3:
		return 1;
	case 0xc4: case 0xd9:
		return avail < 2 ? 0 : 2 + (size_t)q[1];
	case 0xc5: case 0xda:
		return avail < 3 ? 0 : 3 + (size_t)be16_get((const char *)q + 1);
	case 0xc6: case 0xdb:
		return avail < 5 ? 0 : 5 + (size_t)be32_get((const char *)q + 1);
	case 0xc7:
		return avail < 3 ? 0 : 3 + (size_t)q[1];
	case 0xc8:
		return avail < 4 ? 0 : 4 + (size_t)be16_get((const char *)q + 1);
	case 0xc9:
		return avail < 6 ? 0 : 6 + (size_t)be32_get((const char *)q + 1);
	case 0xca: case 0xce: case 0xd2:
		return 5;
	case 0xcb: case 0xcf: case 0xd3:
		return 9;
	case 0xcc: case 0xd0:
		return 2;
	case 0xcd: case 0xd1:
		return 3;
	case 0xd4: case 0xd5: case 0xd6: case 0xd7: case 0xd8:
		return 2 + ((size_t)1 << (c - 0xd4));
	case 0xdc: case 0xde:
		if (avail < 3)
			return 0;
		*more = be16_get((const char *)q + 1);
		*more *= c == 0xde ? 2 : 1;
		return 3;
	case 0xdd: case 0xdf:
		if (avail < 5)
			return 0;
		*more = be32_get((const char *)q + 1);
		*more *= c == 0xdf ? 2 : 1;
		return 5;
	default:        /* 0xc1 */
		return 0;
	}
}

/*
 * Past the pairs of the fixmap at *q whose keys are fixstr and values
 * scalars of one byte, fixstr or str8; returns the values left (each pair
 * not passed counts two), *q at the first of them.
 */
static uint64_t
fixmap_pairs(const unsigned char **qp, const unsigned char *e)
{
	const unsigned char *q = *qp, *v;
	unsigned pairs = *q & 0x0f;
	size_t kn, vn;
	unsigned char c;

	for (q++; pairs > 0; pairs--) {
		if (q >= e || (*q & 0xe0) != 0xa0)
			break;
		kn = 1 + (*q & 0x1f);
		if ((size_t)(e - q) <= kn)
			break;
		v = q + kn;
		c = *v;
		if ((c & 0xe0) == 0xa0)
			vn = 1 + (c & 0x1f);
		else if (c <= 0x7f || c >= 0xe0 || c == 0xc0 || c == 0xc2 ||
		    c == 0xc3)
			vn = 1;
		else if (c == 0xd9 && e - v >= 2)
			vn = 2 + (size_t)v[1];
		else
			break;
		if ((size_t)(e - v) < vn)
			break;
		q = v + vn;
	}
	*qp = q;
	return 2 * (uint64_t)pairs;
}

/*
 * mp_skip's usual case, counting the values left rather than keeping a
 * stack: more containers than MP_MAX_DEPTH is the only way to nest that
 * deep, and goes to the exact scan.
 */
int
mp_skip_quick(const char **p, const char *end)
{
	const unsigned char *q = (const unsigned char *)*p;
	const unsigned char *e = (const unsigned char *)end;
	uint64_t left = 1, more;
	size_t n, nest = 0;
	unsigned char c;

	if (q < e && *q > 0x80 && *q <= 0x8f) {
		/* a small map, pair by pair while keys are fixstr */
		left = fixmap_pairs(&q, e);
		if (left == 0) {
			*p = (const char *)q;
			return MP_OK;
		}
		nest = 1;
	}
	for (;;) {
		if (q >= e)
			return -1;
		c = *q;
		if ((c & 0xe0) == 0xa0) {
			n = 1 + (c & 0x1f);
		} else if (c <= 0x7f || c >= 0xe0) {
			n = 1;
		} else if (c == 0xd9) {
			if (e - q < 2)
				return -1;
			n = 2 + (size_t)q[1];
		} else {
			if (c <= 0x9f) {
				n = 1;
				more = c <= 0x8f ? 2 * (uint64_t)(c & 0x0f) :
				    c & 0x0f;
			} else if ((n = head_len(q, e - q, &more)) == 0) {
				return -1;
			}
			if (more > 0) {
				if (++nest > MP_MAX_DEPTH)
					return -1;
				left += more;
			}
		}
		if ((size_t)(e - q) < n)
			return -1;
		q += n;
		if (--left == 0)
			break;
	}
	*p = (const char *)q;
	return MP_OK;
}

int
mp_skip_any(const char **p, const char *end, const char **bad)
{
	struct mp_scan s;
	int r;

	if (mp_skip_quick(p, end) == MP_OK)
		return MP_OK;
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

/* rec - record builder */
#include <string.h>

#include "mp.h"
#include "rec.h"

#define ROOM 5          /* a map32 header */

void
rec_begin(struct rec *r, struct buf *b)
{
	r->b = b;
	r->hdr = b->len;
	r->n = 0;
	r->room = ROOM;
	buf_reserve(b, ROOM);
	b->len += ROOM;
}

void
rec_begin_most(struct rec *r, struct buf *b, uint64_t most)
{
	r->b = b;
	r->hdr = b->len;
	r->n = 0;
	r->room = most < 16 ? 1 : most < 65536 ? 3 : ROOM;
	buf_reserve(b, r->room);
	b->len += r->room;
}

void
rec_key(struct rec *r, const char *k, size_t klen)
{
	mp_put_strhdr(r->b, klen);
	buf_put(r->b, k, klen);
	r->n++;
}

void
rec_str(struct rec *r, const char *k, size_t klen, const char *v,
    size_t vlen)
{
	rec_key(r, k, klen);
	mp_put_strhdr(r->b, vlen);
	buf_put(r->b, v, vlen);
}

void
rec_raw(struct rec *r, const char *k, size_t klen, const char *v,
    size_t vlen)
{
	rec_key(r, k, klen);
	buf_put(r->b, v, vlen);
}

void
rec_pairs(struct rec *r, const char *p, size_t len, uint32_t n)
{
	buf_put(r->b, p, len);
	r->n += n;
}

void
rec_end(struct rec *r)
{
	struct buf *b = r->b;
	size_t body = b->len - r->hdr - r->room;
	char hdr[ROOM];
	struct buf h = { hdr, 0, ROOM };

	mp_put_maphdr(&h, r->n);
	if (h.len != r->room) {
		if (h.len > r->room)
			buf_reserve(b, h.len - r->room);
		memmove(b->p + r->hdr + h.len, b->p + r->hdr + r->room, body);
	}
	memcpy(b->p + r->hdr, hdr, h.len);
	b->len = r->hdr + h.len + body;
}

/* mp - a zero-copy msgpack cursor over raw bytes, and a packer into a buf */
#ifndef LKIT_MP_H
#define LKIT_MP_H

#include <stdint.h>
#include <stddef.h>
#include <msgpack.h>

#include "buf.h"

/*
 * msgpack-c's unpacker decodes into a zone-allocated object tree and gives
 * no byte spans, so lkit reads msgpack with this cursor: a value is a span
 * of bytes in the input, copied through untouched unless a program changes
 * it.  Writing uses msgpack-c's packer (mp_packer_init).
 */

enum mp_type {
	MP_NIL, MP_BOOL, MP_UINT, MP_INT, MP_FLOAT, MP_STR, MP_BIN,
	MP_ARRAY, MP_MAP, MP_EXT
};

/* Results of mp_head and mp_skip. */
enum { MP_OK = 0, MP_SHORT = -1, MP_BAD = -2 };

/* Deepest nesting mp_skip accepts, so renderers may recurse safely. */
#define MP_MAX_DEPTH 512

struct mp_obj {
	enum mp_type type;
	union {
		int b;          /* MP_BOOL */
		uint64_t u;     /* MP_UINT: every non-negative integer */
		int64_t i;      /* MP_INT: negative integers only */
		double f;       /* MP_FLOAT: float 32 widened */
		uint32_t n;     /* MP_ARRAY: elements, MP_MAP: pairs */
	} v;
	const char *data;       /* MP_STR, MP_BIN, MP_EXT payload (borrowed) */
	uint32_t len;           /* its length in bytes */
	int8_t ext_type;        /* MP_EXT */
};

/*
 * Decodes the head of the value at *p and advances *p past it: past the
 * whole value for scalars, str, bin and ext (payload in o->data), past the
 * header only for arrays and maps (o->v.n elements or pairs follow).
 * Returns MP_OK, MP_SHORT if the bytes end first (nothing advanced), or
 * MP_BAD for the never-used byte 0xc1 (nothing advanced).
 */
int mp_head_any(const char **p, const char *end, struct mp_obj *o);

/*
 * mp_head_any decodes every head; mp_head, what callers use, decodes the
 * commonest (fixstr, fixint, fixmap, fixarray) inline.
 */
static inline int
mp_head(const char **p, const char *end, struct mp_obj *o)
{
	const char *q = *p;
	unsigned char c;
	size_t n;

	if (q < end) {
		c = (unsigned char)*q;
		if ((c & 0xe0) == 0xa0) {
			n = c & 0x1f;
			if ((size_t)(end - q) > n) {
				o->type = MP_STR;
				o->data = q + 1;
				o->len = (uint32_t)n;
				*p = q + 1 + n;
				return MP_OK;
			}
		} else if (c <= 0x7f) {
			o->type = MP_UINT;
			o->v.u = c;
			*p = q + 1;
			return MP_OK;
		} else if (c <= 0x9f) {
			o->type = c <= 0x8f ? MP_MAP : MP_ARRAY;
			o->v.n = c & 0x0f;
			*p = q + 1;
			return MP_OK;
		}
	}
	return mp_head_any(p, end, o);
}

/*
 * Advances *p past one whole value, validating its structure.  Returns
 * MP_OK, MP_SHORT (value incomplete), or MP_BAD (invalid byte, or nesting
 * deeper than MP_MAX_DEPTH); on failure *p is left unchanged and, if bad is
 * not NULL, *bad is set to the offending byte.
 */
int mp_skip_any(const char **p, const char *end, const char **bad);

/* mp_skip_any as above; mp_skip passes a fixstr, str8 or fixint inline. */
static inline int
mp_skip(const char **p, const char *end, const char **bad)
{
	const char *q = *p;
	unsigned char c;
	size_t n;

	if (q < end) {
		c = (unsigned char)*q;
		if ((c & 0xe0) == 0xa0)
			n = 1 + (c & 0x1f);
		else if (c <= 0x7f || c >= 0xe0)
			n = 1;
		else if (c == 0xd9 && end - q >= 2)
			n = 2 + (size_t)(unsigned char)q[1];
		else
			n = 0;
		if (n > 0 && (size_t)(end - q) >= n) {
			*p = q + n;
			return MP_OK;
		}
	}
	return mp_skip_any(p, end, bad);
}

/*
 * mp_skip's quick path alone: MP_OK with *p past the value, or -1 (*p
 * unchanged) where mp_skip would decide by a slower exact scan: an error,
 * the bytes ending, or more nested containers than MP_MAX_DEPTH.
 */
int mp_skip_quick(const char **p, const char *end);

/*
 * mp_skip for a value whose bytes arrive in pieces: the scan stops where
 * the bytes end and resumes there, so the value is examined once however
 * it is split.  mp_scan_init starts a scan of one value; mp_scan continues
 * it over v[0..end - v), the value's bytes so far (the same bytes at the
 * same offsets as in earlier calls, maybe more).  Returns MP_OK with off
 * the value's length, MP_SHORT to be called again with more bytes, or
 * MP_BAD with *bad (if not NULL) at the offending byte.  Calling again
 * after MP_OK or MP_BAD returns the same.
 */
struct mp_scan {
	size_t off;             /* bytes of the value scanned */
	int depth;
	uint64_t left[MP_MAX_DEPTH + 1];
};

void mp_scan_init(struct mp_scan *s);
int mp_scan(struct mp_scan *s, const char *v, const char *end,
    const char **bad);

/* Binds a msgpack-c packer to append to b. */
void mp_packer_init(msgpack_packer *pk, struct buf *b);

/* Appends an EventTime (fixext8, type 0): seconds then nanoseconds, BE. */
void mp_put_eventtime(struct buf *b, uint32_t sec, uint32_t nsec);

/* Appends a str header for a string of n bytes (the bytes follow). */
void mp_put_strhdr(struct buf *b, size_t n);

/*
 * Looks up the str (or bin) key k in the map at map[0..end); on success
 * returns 1 and the value's raw bytes in *val, *vlen (borrowed).  The map
 * must be validated.  Returns 0 when the key is absent.
 */
int mp_map_get(const char *map, const char *end, const char *k, size_t klen,
    const char **val, size_t *vlen);

/* Appends the map at map[0..end) to out without the pair of key k. */
void mp_map_put_without(struct buf *out, const char *map, const char *end,
    const char *k, size_t klen);

/* Appends a map header for n pairs. */
void mp_put_maphdr(struct buf *b, uint32_t n);

#endif

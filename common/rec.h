/* rec - build a record (msgpack map) pair by pair, header fixed at the end */
#ifndef LKIT_REC_H
#define LKIT_REC_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

struct rec {
	struct buf *b;          /* borrowed: the map is appended here */
	size_t hdr;             /* offset of the map header in b */
	uint32_t n;             /* pairs so far */
	size_t room;            /* bytes kept for the header */
};

/* Starts a map at the end of b (room for the header is kept). */
void rec_begin(struct rec *r, struct buf *b);
/*
 * The same for a map of no more than most pairs: the room kept is the
 * header of that many, so the pairs seldom move when the map ends.
 */
void rec_begin_most(struct rec *r, struct buf *b, uint64_t most);
/* Adds key k with a str value v. */
void rec_str(struct rec *r, const char *k, size_t klen, const char *v,
    size_t vlen);
/* Adds key k with v, the raw bytes of one msgpack value. */
void rec_raw(struct rec *r, const char *k, size_t klen, const char *v,
    size_t vlen);
/* Adds a key; the caller then appends exactly one msgpack value to r->b. */
void rec_key(struct rec *r, const char *k, size_t klen);
/* Adds the raw bytes of n whole key-value pairs. */
void rec_pairs(struct rec *r, const char *p, size_t len, uint32_t n);
/*
 * Finishes the map: writes the header for r->n pairs in its smallest form
 * (moving the pairs if it is shorter than the room kept).
 */
void rec_end(struct rec *r);

#endif

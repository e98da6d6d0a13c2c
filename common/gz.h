/*
 * gz - compression of whole buffers: gzip (libdeflate) and zstd (libzstd).
 * Peer data is hostile: every decompressor is bounded by max, never by a
 * size the data claims.  Streams read a piece at a time (ltail's .gz
 * files, the reader's large frames) stay with zlib.
 */
#ifndef LKIT_GZ_H
#define LKIT_GZ_H

#include <stddef.h>

#include "buf.h"

enum {
	GZ_OK = 0,
	GZ_BAD = -1,            /* not whole, valid data of the format */
	GZ_BIG = -2             /* the data inflates beyond max */
};

/*
 * Appends one gzip member holding p[0..n) to out, at level 1..12 (zlib's
 * -1 is 6): 0, or -1 when out of memory.
 */
int gz_compress(struct buf *out, const void *p, size_t n, int level);

/*
 * Appends the data of the gzip members of p[0..n) to out, out->len staying
 * at most max: GZ_OK, GZ_BIG, or GZ_BAD (empty input, a bad or cut member,
 * bytes after the last member).  On an error out->len is as it was.
 */
int gz_decompress(struct buf *out, const void *p, size_t n, size_t max);

/* The same for one zlib stream (HTTP's "deflate"), nothing after it. */
int gz_unzlib(struct buf *out, const void *p, size_t n, size_t max);

/* gz_decompress for gzip members, else gz_unzlib: by the magic bytes. */
int gz_inflate_any(struct buf *out, const void *p, size_t n, size_t max);

/* Appends one zstd frame holding p[0..n) at level 1..19: 0, or -1. */
int zst_compress(struct buf *out, const void *p, size_t n, int level);

/*
 * Appends the data of the zstd frames of p[0..n) to out, out->len staying
 * at most max: GZ_OK, GZ_BIG or GZ_BAD, as gz_decompress.  The sizes the
 * frames declare are hints, never trusted beyond max.
 */
int zst_decompress(struct buf *out, const void *p, size_t n, size_t max);

/* The words of the last GZ_BAD, for messages. */
const char *gz_why(void);

#endif

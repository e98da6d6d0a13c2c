/* gz - whole-buffer gzip (libdeflate) and zstd (libzstd), bounded */
#include <stdint.h>
#include <string.h>
#include <libdeflate.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "gz.h"

#define DEFLATE_RATIO 1032      /* the most a deflate byte expands to */
#define FIRST_ROOM 4096         /* room when no size hint helps */

enum { K_GZIP, K_ZLIB, K_ANY };

static struct libdeflate_compressor *comp[13];
static struct libdeflate_decompressor *dec;
static ZSTD_CCtx *zcc;
static ZSTD_DCtx *zdc;
static const char *why = "";

const char *
gz_why(void)
{
	return why;
}

static int
bad(struct buf *out, size_t start, const char *what)
{
	out->len = start;
	why = what;
	return GZ_BAD;
}

int
gz_compress(struct buf *out, const void *p, size_t n, int level)
{
	struct libdeflate_compressor *c;
	size_t bound, got;

	if (level < 0)
		level = 6;
	if (level > 12)
		level = 12;
	if (!comp[level] && !(comp[level] = libdeflate_alloc_compressor(level)))
		return -1;
	c = comp[level];
	bound = libdeflate_gzip_compress_bound(c, n);
	buf_reserve(out, bound);
	got = libdeflate_gzip_compress(c, p, n, out->p + out->len, bound);
	if (got == 0)
		return -1;
	out->len += got;
	return 0;
}

/*
 * The room to try first: what the last 4 bytes (gzip's ISIZE, the size of
 * the last member mod 2^32) say, but no more than deflate can expand n
 * bytes to, and no more than room.
 */
static size_t
first_room(const unsigned char *p, size_t n, size_t room, int kind)
{
	size_t guess = FIRST_ROOM;
	uint32_t isize;

	if (kind != K_ZLIB && n >= 18 && p[0] == 0x1f && p[1] == 0x8b) {
		isize = (uint32_t)p[n - 4] | (uint32_t)p[n - 3] << 8 |
		    (uint32_t)p[n - 2] << 16 | (uint32_t)p[n - 1] << 24;
		guess = isize > FIRST_ROOM ? isize : FIRST_ROOM;
	} else if (n <= SIZE_MAX / 4) {
		guess = n * 4 > FIRST_ROOM ? n * 4 : FIRST_ROOM;
	}
	if (n <= (SIZE_MAX - 64) / DEFLATE_RATIO &&
	    guess > n * DEFLATE_RATIO + 64)
		guess = n * DEFLATE_RATIO + 64;
	return guess < room ? guess : room;
}

/* One member at p: libdeflate's answer, and how much it read and wrote. */
static enum libdeflate_result
member(const unsigned char *p, size_t n, char *to, size_t avail, int kind,
    size_t *in, size_t *got)
{
	if (kind == K_GZIP || (kind == K_ANY && n >= 2 && p[0] == 0x1f &&
	    p[1] == 0x8b))
		return libdeflate_gzip_decompress_ex(dec, p, n, to, avail, in,
		    got);
	return libdeflate_zlib_decompress_ex(dec, p, n, to, avail, in, got);
}

/*
 * The members of p[0..n), one after the other, into out up to max: room
 * doubles (up to max) when a member does not fit, and that member is
 * inflated again.
 */
static int
members(struct buf *out, const unsigned char *p, size_t n, size_t max,
    int kind)
{
	size_t start = out->len, at = 0, in, got, want, left;
	enum libdeflate_result r;

	if (start > max)
		return GZ_BIG;
	if (n == 0)
		return bad(out, start, "no data");
	if (!dec && !(dec = libdeflate_alloc_decompressor()))
		return bad(out, start, "out of memory");
	want = first_room(p, n, max - start, kind);
	while (at < n) {
		left = max - out->len;
		if (want > left)
			want = left;
		buf_reserve(out, want ? want : 1);
		r = member(p + at, n - at, out->p + out->len, want, kind, &in,
		    &got);
		if (r == LIBDEFLATE_INSUFFICIENT_SPACE) {
			if (want >= left) {
				out->len = start;
				return GZ_BIG;
			}
			want = want < FIRST_ROOM / 2 ? FIRST_ROOM : want * 2;
			continue;
		}
		if (r != LIBDEFLATE_SUCCESS || in == 0 || in > n - at)
			return bad(out, start, at ? "bad data after a member" :
			    "bad or truncated data");
		out->len += got;
		at += in;
		want = out->cap - out->len;
	}
	return GZ_OK;
}

int
gz_decompress(struct buf *out, const void *p, size_t n, size_t max)
{
	return members(out, p, n, max, K_GZIP);
}

int
gz_unzlib(struct buf *out, const void *p, size_t n, size_t max)
{
	return members(out, p, n, max, K_ZLIB);
}

int
gz_inflate_any(struct buf *out, const void *p, size_t n, size_t max)
{
	return members(out, p, n, max, K_ANY);
}

int
zst_compress(struct buf *out, const void *p, size_t n, int level)
{
	size_t bound = ZSTD_compressBound(n), got;

	if (ZSTD_isError(bound))
		return -1;
	if (!zcc && !(zcc = ZSTD_createCCtx()))
		return -1;
	buf_reserve(out, bound);
	got = ZSTD_compressCCtx(zcc, out->p + out->len, bound, p, n, level);
	if (ZSTD_isError(got))
		return -1;
	out->len += got;
	return 0;
}

int
zst_decompress(struct buf *out, const void *p, size_t n, size_t max)
{
	size_t start = out->len, room, want, r;
	unsigned long long hint;

	if (start > max)
		return GZ_BIG;
	if (n == 0)
		return bad(out, start, "no data");
	if (!zdc && !(zdc = ZSTD_createDCtx()))
		return bad(out, start, "out of memory");
	room = max - start;
	hint = ZSTD_getFrameContentSize(p, n);
	if (hint == ZSTD_CONTENTSIZE_ERROR || hint == ZSTD_CONTENTSIZE_UNKNOWN)
		want = n <= SIZE_MAX / 4 ? n * 4 : SIZE_MAX;
	else
		want = hint < SIZE_MAX ? (size_t)hint : SIZE_MAX;
	if (want < FIRST_ROOM)
		want = FIRST_ROOM;
	for (;;) {
		if (want > room)
			want = room;
		buf_reserve(out, want ? want : 1);
		r = ZSTD_decompressDCtx(zdc, out->p + start, want, p, n);
		if (!ZSTD_isError(r))
			break;
		if (ZSTD_getErrorCode(r) != ZSTD_error_dstSize_tooSmall)
			return bad(out, start, ZSTD_getErrorName(r));
		if (want >= room)
			return GZ_BIG;
		want = want <= SIZE_MAX / 2 ? want * 2 : SIZE_MAX;
	}
	out->len = start + r;
	return GZ_OK;
}

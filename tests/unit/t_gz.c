/* t_gz - whole-buffer gzip and zstd: round trips, members, bounds, garbage */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "buf.h"
#include "gz.h"
#include "tap.h"

#define S(s) (s), sizeof(s) - 1

static struct buf out;

/* Text that compresses, or bytes that do not. */
static void
fill(struct buf *b, size_t n, int random)
{
	uint32_t x = 2463534242u;
	size_t i;

	b->len = 0;
	buf_reserve(b, n + 1);
	for (i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		b->p[i] = random ? (char)x : "level=info msg=ok n="[x % 20];
	}
	b->len = n;
}

/* zlib's gzip of p (with a file name in the header), for the other way. */
static void
zlib_gzip(struct buf *z, const char *p, size_t n)
{
	z_stream zs;
	gz_header h;

	memset(&zs, 0, sizeof(zs));
	memset(&h, 0, sizeof(h));
	h.name = (unsigned char *)"app.log";
	deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
	deflateSetHeader(&zs, &h);
	buf_reserve(z, deflateBound(&zs, n) + 64);
	zs.next_in = (unsigned char *)p;
	zs.avail_in = n;
	zs.next_out = (unsigned char *)z->p + z->len;
	zs.avail_out = z->cap - z->len;
	deflate(&zs, Z_FINISH);
	z->len = z->cap - zs.avail_out;
	deflateEnd(&zs);
}

/* zlib reads our gzip back: 1 if it gives plain. */
static int
zlib_reads(const struct buf *z, const struct buf *plain)
{
	z_stream zs;
	char *o = malloc(plain->len + 1);
	int r, same;

	memset(&zs, 0, sizeof(zs));
	inflateInit2(&zs, 16 + MAX_WBITS);
	zs.next_in = (unsigned char *)z->p;
	zs.avail_in = z->len;
	zs.next_out = (unsigned char *)o;
	zs.avail_out = plain->len + 1;
	r = inflate(&zs, Z_FINISH);
	same = r == Z_STREAM_END && zs.avail_in == 0 &&
	    zs.total_out == plain->len && memcmp(o, plain->p, plain->len) == 0;
	inflateEnd(&zs);
	free(o);
	return same;
}

/* plain compressed at level, zlib reading gzip back, and decompressed. */
static void
trip(const struct buf *plain, int zstd, int level, const char *kind)
{
	struct buf z = { 0 };
	int r;

	r = zstd ? zst_compress(&z, plain->p, plain->len, level) :
	    gz_compress(&z, plain->p, plain->len, level);
	is_int(r, 0, "%s %zu bytes of %s, level %d", zstd ? "zstd" : "gzip",
	    plain->len, kind, level);
	if (!zstd)
		ok(zlib_reads(&z, plain), "zlib reads it back");
	out.len = 0;
	r = zstd ? zst_decompress(&out, z.p, z.len, plain->len) :
	    gz_decompress(&out, z.p, z.len, plain->len);
	is_int(r, GZ_OK, "decompressed at max exactly");
	ok(out.len == plain->len && (!plain->len ||
	    memcmp(out.p, plain->p, plain->len) == 0), "the same bytes");
	buf_free(&z);
}

static void
test_round_trips(void)
{
	static const size_t sizes[] = { 0, 1, 100, 70000, 1u << 20 };
	struct buf plain = { 0 }, z = { 0 };
	size_t i;
	int rnd;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		for (rnd = 0; rnd < 2; rnd++) {
			fill(&plain, sizes[i], rnd);
			trip(&plain, 0, 1, rnd ? "random" : "text");
			trip(&plain, 0, 6, rnd ? "random" : "text");
			trip(&plain, 1, 3, rnd ? "random" : "text");
		}
	}
	fill(&plain, 50000, 0);
	z.len = 0;
	zlib_gzip(&z, plain.p, plain.len);
	out.len = 0;
	is_int(gz_decompress(&out, z.p, z.len, 1u << 20), GZ_OK,
	    "zlib's gzip, with a file name: read");
	ok(out.len == plain.len && memcmp(out.p, plain.p, plain.len) == 0,
	    "zlib's gzip: the same bytes");
	buf_free(&plain);
	buf_free(&z);
}

static void
test_members(void)
{
	struct buf z = { 0 }, one = { 0 };

	gz_compress(&z, S("one,"), 1);
	gz_compress(&z, "", 0, 6);
	gz_compress(&z, S("two,"), 9);
	zlib_gzip(&z, S("three"));
	out.len = 0;
	is_int(gz_decompress(&out, z.p, z.len, 100), GZ_OK,
	    "four members, one empty, one zlib's");
	is_mem(out.p, out.len, "one,two,three", 13, "members: their data");
	out.len = 0;
	is_int(gz_decompress(&out, z.p, z.len, 12), GZ_BIG,
	    "members: the last over max: too big");
	is_int(out.len, 0, "members: out as it was");
	gz_compress(&one, "", 0, 1);
	out.len = 0;
	is_int(gz_decompress(&out, one.p, one.len, 0), GZ_OK,
	    "an empty member alone, max 0");
	is_int(out.len, 0, "empty member: no bytes");
	out.len = 0;
	buf_put(&out, "head", 4);
	is_int(gz_decompress(&out, z.p, z.len, 17), GZ_OK,
	    "max counts what out held before");
	is_mem(out.p, out.len, "headone,two,three", 17, "appended after");
	out.len = 0;
	buf_put(&out, "head", 4);
	is_int(gz_decompress(&out, z.p, z.len, 16), GZ_BIG,
	    "max counts what out held: one over");
	is_mem(out.p, out.len, "head", 4, "out as it was");
	z.len = 0;
	zst_compress(&z, S("one,"), 1);
	buf_put(&z, "\x50\x2a\x4d\x18\x03\0\0\0abc", 11);  /* skippable */
	zst_compress(&z, "", 0, 1);
	zst_compress(&z, S("two"), 19);
	out.len = 0;
	is_int(zst_decompress(&out, z.p, z.len, 100), GZ_OK,
	    "zstd: frames, a skippable one, an empty one");
	is_mem(out.p, out.len, "one,two", 7, "zstd frames: their data");
	out.len = 0;
	is_int(zst_decompress(&out, z.p, z.len, 6), GZ_BIG,
	    "zstd frames: over max: too big");
	is_int(out.len, 0, "zstd: out as it was");
	buf_free(&z);
	buf_free(&one);
}

/* Every cut of z short of its end is bad, but at the member's end (whole). */
static int
cuts_bad(const struct buf *z, size_t whole, int zstd)
{
	size_t n;
	int r;

	for (n = 0; n < z->len; n++) {
		out.len = 0;
		r = zstd ? zst_decompress(&out, z->p, n, 1u << 20) :
		    gz_decompress(&out, z->p, n, 1u << 20);
		if (n == whole && r == GZ_OK && out.len == 3000)
			continue;
		if (r != GZ_BAD || out.len != 0) {
			printf("# cut at %zu of %zu: %d\n", n, z->len, r);
			return 0;
		}
	}
	return 1;
}

static void
test_truncated(void)
{
	struct buf z = { 0 }, plain = { 0 };
	size_t whole;

	fill(&plain, 3000, 0);

	gz_compress(&z, plain.p, plain.len, 6);
	whole = z.len;
	gz_compress(&z, S("second"), 6);
	ok(cuts_bad(&z, whole, 0), "gzip: every truncation is bad");
	z.len = 0;
	zst_compress(&z, plain.p, plain.len, 3);
	whole = z.len;
	zst_compress(&z, S("second"), 3);
	ok(cuts_bad(&z, whole, 1), "zstd: every truncation is bad");
	buf_free(&z);
	buf_free(&plain);
}

static void
test_garbage(void)
{
	static const char *tails[] = { "\0\0\0", "x", "\x1f\x8b", "\x1f",
		"\x28\xb5\x2f\xfd" };
	struct buf z = { 0 };
	size_t i, n;

	gz_compress(&z, S("data"), 6);
	n = z.len;
	for (i = 0; i < sizeof(tails) / sizeof(tails[0]); i++) {
		z.len = n;
		buf_put(&z, tails[i], strlen(tails[i]) ? strlen(tails[i]) : 3);
		out.len = 0;
		is_int(gz_decompress(&out, z.p, z.len, 100), GZ_BAD,
		    "gzip then garbage %zu: bad", i);
		is_int(out.len, 0, "garbage: out as it was");
	}
	out.len = 0;
	is_int(gz_decompress(&out, S("not gzip at all"), 100), GZ_BAD,
	    "not gzip: bad");
	out.len = 0;
	is_int(gz_decompress(&out, "", 0, 100), GZ_BAD, "empty input: bad");
	out.len = 0;
	is_int(zst_decompress(&out, "", 0, 100), GZ_BAD, "zstd: empty: bad");
	z.len = 0;
	zst_compress(&z, S("data"), 3);
	n = z.len;
	for (i = 0; i < sizeof(tails) / sizeof(tails[0]); i++) {
		z.len = n;
		buf_put(&z, tails[i], strlen(tails[i]) ? strlen(tails[i]) : 3);
		out.len = 0;
		is_int(zst_decompress(&out, z.p, z.len, 100), GZ_BAD,
		    "zstd then garbage %zu: bad", i);
	}
	/* a flipped byte of the CRC */
	z.len = 0;
	gz_compress(&z, S("data"), 6);
	z.p[z.len - 6] ^= 1;
	out.len = 0;
	is_int(gz_decompress(&out, z.p, z.len, 100), GZ_BAD, "bad CRC: bad");
	ok(*gz_why() != '\0', "gz_why says why: %s", gz_why());
	buf_free(&z);
}

static void
test_zlib(void)
{
	struct buf z = { 0 };
	uLongf zl = 128;

	buf_reserve(&z, 128);
	compress2((Bytef *)z.p, &zl, (const Bytef *)"deflate body", 12, 6);
	z.len = zl;
	out.len = 0;
	is_int(gz_unzlib(&out, z.p, z.len, 100), GZ_OK, "zlib stream: ok");
	is_mem(out.p, out.len, "deflate body", 12, "zlib stream: data");
	out.len = 0;
	is_int(gz_inflate_any(&out, z.p, z.len, 100), GZ_OK,
	    "any: zlib stream");
	out.len = 0;
	is_int(gz_decompress(&out, z.p, z.len, 100), GZ_BAD,
	    "gzip only: a zlib stream is bad");
	gz_compress(&z, S(" and gzip"), 6);
	out.len = 0;
	is_int(gz_inflate_any(&out, z.p, z.len, 100), GZ_OK,
	    "any: zlib then gzip");
	is_mem(out.p, out.len, "deflate body and gzip", 21, "any: both");
	buf_free(&z);
}

static void
test_bombs(void)
{
	struct buf plain = { 0 }, z = { 0 };
	size_t max = 1u << 20;

	plain.len = 0;
	buf_reserve(&plain, 16u << 20);
	memset(plain.p, 0, 16u << 20);
	plain.len = 16u << 20;
	gz_compress(&z, plain.p, plain.len, 9);
	free(out.p);
	memset(&out, 0, sizeof(out));
	is_int(gz_decompress(&out, z.p, z.len, max), GZ_BIG,
	    "gzip bomb (%zu bytes to 16 MiB): too big", z.len);
	ok(out.cap <= 2 * max, "gzip bomb: out grew to the bound only (%zu)",
	    out.cap);
	/* ISIZE lies: 4 GiB - 1 claimed for 5 bytes */
	z.len = 0;
	gz_compress(&z, S("small"), 6);
	memset(z.p + z.len - 4, 0xff, 4);
	free(out.p);
	memset(&out, 0, sizeof(out));
	is_int(gz_decompress(&out, z.p, z.len, 64u << 20), GZ_BAD,
	    "ISIZE of 4 GiB for 5 bytes: bad");
	ok(out.cap <= 64 * 1024, "ISIZE not trusted: out is %zu bytes",
	    out.cap);
	/* ISIZE too small: grows, then the check fails */
	z.len = 0;
	fill(&plain, 100000, 0);
	gz_compress(&z, plain.p, plain.len, 6);
	memset(z.p + z.len - 4, 0, 4);
	z.p[z.len - 4] = 1;
	out.len = 0;
	is_int(gz_decompress(&out, z.p, z.len, 1u << 20), GZ_BAD,
	    "ISIZE too small: bad");
	z.len = 0;
	memset(plain.p, 0, 16u << 20);
	zst_compress(&z, plain.p, 16u << 20, 19);
	free(out.p);
	memset(&out, 0, sizeof(out));
	is_int(zst_decompress(&out, z.p, z.len, max), GZ_BIG,
	    "zstd bomb (%zu bytes to 16 MiB): too big", z.len);
	ok(out.cap <= 2 * max, "zstd bomb: out grew to the bound only (%zu)",
	    out.cap);
	buf_free(&plain);
	buf_free(&z);
}

/* A zstd frame that claims 2^40 bytes and holds 5. */
static void
test_zstd_claims(void)
{
	unsigned char f[64];
	size_t n;

	/* magic, FHD: 8-byte content size, single segment clear */
	memcpy(f, "\x28\xb5\x2f\xfd\xc0\x50", 6);  /* FHD, window byte */
	memset(f + 6, 0, 8);
	f[6 + 5] = 1;                                   /* 2^40 */
	/* one raw last block of 5 bytes: header 5 << 3 | 1 */
	f[14] = (5 << 3) | 1; f[15] = 0; f[16] = 0;
	memcpy(f + 17, "small", 5);
	n = 22;
	free(out.p);
	memset(&out, 0, sizeof(out));
	ok(zst_decompress(&out, f, n, 1u << 20) != GZ_OK,
	    "zstd frame claiming 2^40 bytes: refused");
	ok(out.cap <= 2u << 20, "the claim not trusted: out is %zu bytes",
	    out.cap);
}

int
main(void)
{
	test_round_trips();
	test_members();
	test_truncated();
	test_garbage();
	test_zlib();
	test_bombs();
	test_zstd_claims();
	buf_free(&out);
	return done_testing();
}

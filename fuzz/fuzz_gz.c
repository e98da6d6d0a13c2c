/*
 * fuzz_gz - libFuzzer target for common/gz.c: the gzip and zstd
 * decompressors on hostile bytes (bounded, ok only for whole data, the
 * same answer under a larger bound), and round trips of the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "gz.h"

#define MAX_OUT 4096            /* small, so the bound is reached */

typedef int (*dec_fn)(struct buf *, const void *, size_t, size_t);

static struct buf o1, o2, z;

static int
same(const char *a, size_t an, const char *b, size_t bn)
{
	return an == bn && (an == 0 || memcmp(a, b, an) == 0);
}

/* One decompressor under MAX_OUT and 64 times that: consistent answers. */
static void
decode(dec_fn f, const uint8_t *p, size_t n)
{
	int r1, r2;

	o1.len = o2.len = 0;
	r1 = f(&o1, p, n, MAX_OUT);
	if (r1 != GZ_OK && r1 != GZ_BAD && r1 != GZ_BIG)
		abort();
	if (o1.len > MAX_OUT || (r1 != GZ_OK && o1.len != 0))
		abort();
	r2 = f(&o2, p, n, 64 * MAX_OUT);
	if (o2.len > 64 * MAX_OUT || (r2 != GZ_OK && o2.len != 0))
		abort();
	if (r1 == GZ_OK && (r2 != GZ_OK || !same(o1.p, o1.len, o2.p, o2.len)))
		abort();
	if (r2 == GZ_OK && o2.len <= MAX_OUT && r1 != GZ_OK)
		abort();
	if (r1 == GZ_BAD && r2 == GZ_OK)
		abort();
}

/* p compressed and back: the same bytes. */
static void
round_trip(const uint8_t *p, size_t n)
{
	z.len = 0;
	if (gz_compress(&z, p, n, n % 13) < 0)
		abort();
	o1.len = 0;
	if (gz_decompress(&o1, z.p, z.len, n) != GZ_OK ||
	    !same(o1.p, o1.len, (const char *)p, n))
		abort();
	z.len = 0;
	if (zst_compress(&z, p, n, 1 + n % 5) < 0)
		abort();
	o1.len = 0;
	if (zst_decompress(&o1, z.p, z.len, n) != GZ_OK ||
	    !same(o1.p, o1.len, (const char *)p, n))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	decode(gz_decompress, data, size);
	decode(gz_unzlib, data, size);
	decode(gz_inflate_any, data, size);
	decode(zst_decompress, data, size);
	if (size <= 65536)
		round_trip(data, size);
	return 0;
}

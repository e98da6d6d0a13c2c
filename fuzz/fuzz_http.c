/* fuzz_http - libFuzzer target for common/http.c */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "http.h"

#define MAX_BODY 4096           /* small, so limits are reached */
#define MAX_GZ 1024

static struct buf o1, o2, o3;

/* Is [s, s + n) inside [p, p + len)? */
static int
inside(const char *s, size_t n, const char *p, size_t len)
{
	return s >= p && s <= p + len && n <= (size_t)(p + len - s);
}

/* Do a[0..an) and b[0..bn) hold the same bytes?  (either may be NULL if 0) */
static int
same(const char *a, size_t an, const char *b, size_t bn)
{
	return an == bn && (an == 0 || memcmp(a, b, an) == 0);
}

static int
hexdig(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/*
 * A second reading of a chunked body, written from RFC 9112 in another
 * way (whole buffer, by lines), with the same limits: 1 and the data in
 * out when it is whole and valid, 0 when not.
 */
static int
ref_dechunk(const char *p, size_t n, struct buf *out, size_t *used,
    size_t max)
{
	size_t i = 0, j, d, sz, total = 0, trailers = 0;
	int v, ext;

	for (;;) {
		for (j = i, sz = 0; j < n && (v = hexdig(p[j])) >= 0; j++) {
			if ((size_t)v > max - total ||
			    sz > (max - total - v) / 16)
				return 0;
			sz = sz * 16 + v;
		}
		if (j == i)
			return 0;
		for (d = j; j < n && (p[j] == ' ' || p[j] == '\t'); j++)
			;
		if ((ext = j < n && p[j] == ';'))
			for (j++; j < n && p[j] != '\r'; j++)
				if (((unsigned char)p[j] < 0x20 && p[j] != '\t') ||
				    p[j] == 0x7f)
					return 0;
		if (j + 2 > n || p[j] != '\r' || p[j + 1] != '\n' ||
		    j + 1 - i > 4096 || (!ext && j != d))
			return 0;
		i = j + 2;
		if (sz == 0)
			break;
		if (n - i < 2 || n - i - 2 < sz || p[i + sz] != '\r' ||
		    p[i + sz + 1] != '\n')
			return 0;
		buf_put(out, p + i, sz);
		total += sz;
		i += sz + 2;
	}
	for (;;) {
		for (j = i; j < n && p[j] != '\r' && p[j] != '\n'; j++)
			;
		if (j + 2 > n || p[j] != '\r' || p[j + 1] != '\n')
			return 0;
		trailers += j + 2 - i;
		if (trailers > HTTP_MAX_HEAD)
			return 0;
		if (j == i)
			break;
		i = j + 2;
	}
	*used = j + 2;
	return 1;
}

/* The bytes as a chunked body: whole, fed in pieces, and read again. */
static void
chunked(const char *p, size_t n, size_t max)
{
	struct http_dechunker d;
	size_t u1 = 0, u2 = 0, u3 = 0, k, step;
	int r1, r2 = HTTP_SHORT, ok3;

	o1.len = o2.len = o3.len = 0;
	r1 = http_dechunk(p, n, &o1, &u1, max);
	if (r1 != HTTP_OK && r1 != HTTP_SHORT && r1 != HTTP_BAD &&
	    r1 != HTTP_TOOBIG)
		abort();
	if (r1 != HTTP_OK && o1.len)
		abort();                /* out only appended to when whole */
	if (r1 == HTTP_OK && (u1 > n || o1.len > max || o1.len > u1))
		abort();
	/* fed in pieces of 1 to 16 bytes, the sizes from the data */
	http_dechunk_init(&d);
	for (k = 0; r2 == HTTP_SHORT && k < n; k += step) {
		step = ((unsigned char)p[k] % 16) + 1;
		r2 = http_dechunk_feed(&d, p, k + step < n ? k + step : n, &o2,
		    &u2, max);
	}
	if (n == 0)
		r2 = http_dechunk_feed(&d, p, 0, &o2, &u2, max);
	if (r1 != r2 || (r1 == HTTP_OK && (u1 != u2 ||
	    !same(o1.p, o1.len, o2.p, o2.len))))
		abort();
	if (r1 == HTTP_OK && u1 > 0) {
		/* a body cut short wants more */
		o3.len = 0;
		if (http_dechunk(p, u1 - 1, &o3, &u3, max) != HTTP_SHORT)
			abort();
	}
	o3.len = 0;
	ok3 = ref_dechunk(p, n, &o3, &u3, max);
	if (ok3 != (r1 == HTTP_OK) || (ok3 && (u3 != u1 ||
	    !same(o3.p, o3.len, o1.p, o1.len))))
		abort();
}

/* A multipart body with a boundary from the Content-Type. */
static void
multipart(const char *ct, size_t cl, const char *body, size_t blen)
{
	const char *b, *v;
	size_t bl, vl;
	int r;

	if (!(b = http_boundary(ct, cl, &bl)))
		return;
	if (!inside(b, bl, ct, cl) || bl == 0)
		abort();
	r = http_multipart(body, blen, b, bl, "json", &v, &vl);
	if (r < -1 || r > 1 || (r == 1 && !inside(v, vl, body, blen)))
		abort();
	r = http_multipart(body, blen, b, bl, "msgpack", &v, &vl);
	if (r < -1 || r > 1 || (r == 1 && !inside(v, vl, body, blen)))
		abort();
}

static void
forms(const char *p, size_t n)
{
	o1.len = 0;
	http_urldecode(&o1, p, n);
	if (o1.len > n)
		abort();
	o1.len = 0;
	if (http_param(p, n, "json", &o1) && o1.len > n)
		abort();
	o1.len = 0;
	http_param(p, n, "a", &o1);
}

/* A request head, then what follows it as its body. */
static void
request(const char *p, size_t n)
{
	struct http_req rq;
	const char *why = NULL, *v;
	size_t scan = 0, k, vl;
	int r, i, ready, ready2 = 0;

	r = http_parse_head(p, n, &rq, &why);
	if (r != HTTP_OK && r != HTTP_SHORT && r != HTTP_BAD &&
	    r != HTTP_TOOBIG)
		abort();
	if ((r == HTTP_BAD || r == HTTP_TOOBIG) && !why)
		abort();
	/* http_head_ready, at once and in pieces, agrees */
	ready = http_head_ready(p, n, &scan);
	scan = 0;
	for (k = 0; !ready2 && k < n; k += 5)
		ready2 = http_head_ready(p, k + 5 < n ? k + 5 : n, &scan);
	if (ready != ready2 || (ready && r == HTTP_SHORT) ||
	    (r == HTTP_OK && !ready))
		abort();
	if (r != HTTP_OK)
		return;
	if (rq.head_len > n || rq.head_len > HTTP_MAX_HEAD || rq.head_len < 4 ||
	    memcmp(p + rq.head_len - 4, "\r\n\r\n", 4) != 0 ||
	    rq.nhdr > HTTP_MAX_HEADERS || rq.content_length < -1 ||
	    (rq.chunked && rq.content_length != -1) ||
	    !inside(rq.method, rq.method_len, p, rq.head_len) ||
	    !inside(rq.path, rq.path_len, p, rq.head_len) ||
	    !inside(rq.query, rq.query_len, p, rq.head_len))
		abort();
	for (i = 0; i < rq.nhdr; i++)
		if (!inside(rq.hdr[i].name, rq.hdr[i].nlen, p, rq.head_len) ||
		    !inside(rq.hdr[i].value, rq.hdr[i].vlen, p, rq.head_len))
			abort();
	forms(rq.query, rq.query_len);
	if (rq.chunked)
		chunked(p + rq.head_len, n - rq.head_len, MAX_BODY);
	if ((v = http_header(&rq, "content-type", &vl)))
		multipart(v, vl, p + rq.head_len, n - rq.head_len);
}

/* gzip: corrupt is bad, too big is too big, and out stays bounded. */
static void
gunzip(const char *p, size_t n)
{
	int r1, r2;

	o1.len = o2.len = 0;
	r1 = http_gunzip(&o1, p, n, MAX_GZ);
	if (r1 != HTTP_OK && r1 != HTTP_BAD && r1 != HTTP_TOOBIG)
		abort();
	if (o1.len > MAX_GZ + 1 || (r1 == HTTP_OK && o1.len > MAX_GZ))
		abort();
	r2 = http_gunzip(&o2, p, n, 16 * MAX_GZ);
	if (r1 == HTTP_OK && (r2 != HTTP_OK ||
	    !same(o1.p, o1.len, o2.p, o2.len)))
		abort();
	if (r2 == HTTP_OK && o2.len <= MAX_GZ && r1 != HTTP_OK)
		abort();
	if (r1 == HTTP_TOOBIG && r2 == HTTP_OK && o2.len <= MAX_GZ)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *nl;
	size_t max;

	request(p, size);
	/* the bytes as a chunked body, or the first choosing max and the rest */
	chunked(p, size, (size_t)-1);
	if (size > 0) {
		max = (size_t)(unsigned char)p[0] * 8;
		chunked(p + 1, size - 1, max);
	}
	forms(p, size);
	/* first line a Content-Type, the rest a multipart body */
	if ((nl = memchr(p, '\n', size)))
		multipart(p, nl - p, nl + 1, size - (nl + 1 - p));
	gunzip(p, size);
	return 0;
}

/* fuzz_json - libFuzzer target for common/json.c: parse, render, reparse */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "jscan.h"
#include "json.h"
#include "mp.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct buf out1, out0, txt, again;

#define CHECK(c) do { if (!(c)) abort(); } while (0)

/* The msgpack float64 of d, as msgpack-c writes it. */
static void
mp_put_double_ref(struct buf *b, double d)
{
	msgpack_packer pk;

	mp_packer_init(&pk, b);
	msgpack_pack_double(&pk, d);
}

/* Parses with a sentinel prefix in out, which must survive SHORT/BAD. */
static int
parse(const char *s, size_t n, int eof, size_t *used, struct buf *out,
    struct json_err *err)
{
	int r;

	out->len = 0;
	buf_put(out, "XYZ", 3);
	r = json_parse(s, n, eof, used, out, err);
	CHECK(memcmp(out->p, "XYZ", 3) == 0);
	if (r != JSON_OK)
		CHECK(out->len == 3);
	else
		CHECK(out->len > 3 && *used > 0 && *used <= n);
	if (r == JSON_BAD)
		CHECK(err->offset <= n && err->msg != NULL);
	return r;
}

/* eof=0 may only say SHORT where eof=1 says OK or BAD. */
static void
compare(int r1, int r0, size_t u1, size_t u0, const struct json_err *e1,
    const struct json_err *e0)
{
	if (r0 == JSON_SHORT) {
		CHECK(r1 == JSON_OK || r1 == JSON_BAD);
		return;
	}
	CHECK(r0 == r1);
	if (r0 == JSON_OK) {
		CHECK(u0 == u1 && out0.len == out1.len);
		CHECK(memcmp(out0.p, out1.p, out1.len) == 0);
	} else if (r0 == JSON_BAD) {
		CHECK(e0->offset == e1->offset);
		CHECK(strcmp(e0->msg, e1->msg) == 0);
	}
}

/* The parsed value renders to JSON that parses to the same bytes. */
static void
roundtrip(const struct buf *m)
{
	const char *p = m->p + 3, *end = m->p + m->len;
	struct json_err err;
	size_t used;

	CHECK(mp_skip(&p, end, NULL) == MP_OK && p == end);
	p = m->p + 3;
	txt.len = 0;
	json_from_mp(&txt, &p, end);
	CHECK(p == end);
	CHECK(parse(txt.p, txt.len, 1, &used, &again, &err) == JSON_OK);
	CHECK(used == txt.len);
	CHECK(again.len == m->len && memcmp(again.p, m->p, m->len) == 0);
}

/* json_put_str of any bytes parses back to a str of the same bytes. */
static void
str_roundtrip(const char *s, size_t n)
{
	struct json_err err;
	struct mp_obj o;
	const char *p;
	size_t used;

	txt.len = 0;
	json_put_str(&txt, s, n);
	CHECK(parse(txt.p, txt.len, 0, &used, &again, &err) == JSON_OK);
	CHECK(used == txt.len);
	p = again.p + 3;
	CHECK(mp_head(&p, again.p + again.len, &o) == MP_OK);
	CHECK(o.type == MP_STR && o.len == n && memcmp(o.data, s, n) == 0);
	CHECK(p == again.p + again.len);
}

/* A finite double renders to a float that parses to the same bits. */
static void
double_roundtrip(const char *s)
{
	struct json_err err;
	size_t used;
	double d;

	memcpy(&d, s, sizeof d);
	if (isnan(d) || isinf(d))
		return;
	txt.len = 0;
	json_put_double(&txt, d);
	CHECK(parse(txt.p, txt.len, 1, &used, &again, &err) == JSON_OK);
	CHECK(used == txt.len && again.len == 3 + 9);
	CHECK((unsigned char)again.p[3] == 0xcb);
	txt.len = 0;
	buf_put(&txt, again.p + 3, 9);
	again.len = 0;
	mp_put_double_ref(&again, d);
	CHECK(memcmp(txt.p, again.p, 9) == 0);
}

/*
 * The checker of JSON that arrives in pieces (common/jscan, lcat's)
 * never holds back a value json_parse would take or reject: while the
 * checker says the value goes on, so does the parser.
 */

static void
pieces(const char *s, size_t n)
{
	struct jscan js;
	struct json_err err;
	size_t k, used, step = 1;

	jscan_reset(&js);
	for (k = 1; k <= n; k++) {
		if (jscan_end(&js, s, k))
			return;
		if (js.state == J_WAIT)
			abort();        /* only read_json sets it */
		if (k % step && k != n)
			continue;       /* a verdict stays: a sample will do */
		if (k >= 256)
			step = k / 16;
		CHECK(parse(s, k, 0, &used, &again, &err) == JSON_SHORT ||
		    parse(s, k, 0, &used, &again, &err) == JSON_EMPTY);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct json_err e1, e0;
	size_t u1 = 0, u0 = 0;
	int r1, r0;

	r1 = parse(s, size, 1, &u1, &out1, &e1);
	r0 = parse(s, size, 0, &u0, &out0, &e0);
	compare(r1, r0, u1, u0, &e1, &e0);
	if (r1 == JSON_OK) {
		roundtrip(&out1);
		/* the consumed prefix alone parses the same */
		CHECK(parse(s, u1, 1, &u0, &out0, &e0) == JSON_OK && u0 == u1);
		CHECK(out0.len == out1.len &&
		    memcmp(out0.p, out1.p, out1.len) == 0);
	}
	pieces(s, size);
	str_roundtrip(s, size);
	if (size >= sizeof(double))
		double_roundtrip(s);
	return 0;
}

/* t_http - request heads, chunked bodies, forms, multipart and gzip */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "fwd.h"
#include "http.h"
#include "tap.h"

#define S(s) (s), sizeof(s) - 1
#define is_lit(got, glen, lit, ...) \
	is_mem((got), (glen), (lit), sizeof(lit) - 1, __VA_ARGS__)

static struct http_req rq;
static const char *why;

static int
head(const char *s)
{
	why = NULL;
	return http_parse_head(s, strlen(s), &rq, &why);
}

static void
test_head(void)
{
	char big[HTTP_MAX_HEAD + 200];
	size_t i, n;

	is_int(head("POST /a.b?x=1 HTTP/1.1\r\nHost: h\r\nContent-Length: 7"
	    "\r\n\r\nrest"), HTTP_OK, "head: a POST");
	is_lit(rq.method, rq.method_len, "POST", "head: the method");
	is_lit(rq.path, rq.path_len, "/a.b", "head: the path");
	is_lit(rq.query, rq.query_len, "x=1", "head: the query");
	is_int(rq.content_length, 7, "head: Content-Length");
	is_int(rq.head_len, strlen("POST /a.b?x=1 HTTP/1.1\r\nHost: h\r\n"
	    "Content-Length: 7\r\n\r\n"), "head: its length");
	ok(rq.keepalive && !rq.chunked, "head: keep-alive, not chunked");
	is_int(head("POST / HTTP/1.1\r\nHost: h\r\n"), HTTP_SHORT,
	    "head: cut short");
	is_int(head("GET / HTTP/1.0\r\n\r\n"), HTTP_OK, "head: HTTP/1.0");
	ok(!rq.keepalive && rq.content_length == -1, "head: 1.0 closes, "
	    "no length");

	/* item 7: the body length must not be ambiguous */
	is_int(head("POST / HTTP/1.1\r\nContent-Length: 5\r\n"
	    "Content-Length: 50\r\n\r\n"), HTTP_BAD,
	    "head: two different Content-Length: bad");
	is_int(head("POST / HTTP/1.1\r\nContent-Length: 5\r\n"
	    "content-length: 5\r\n\r\n"), HTTP_OK,
	    "head: the same Content-Length twice: taken (RFC 9112 6.3)");
	is_int(rq.content_length, 5, "head: and its value");
	is_int(head("POST / HTTP/1.1\r\nContent-Length: 5\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n"), HTTP_BAD,
	    "head: Content-Length and chunked: bad");
	is_int(head("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n"
	    "Content-Length: 5\r\n\r\n"), HTTP_BAD,
	    "head: chunked and Content-Length: bad");
	is_int(head("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n"),
	    HTTP_BAD, "head: Transfer-Encoding gzip: bad");
	is_int(head("POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n"
	    "\r\n"), HTTP_BAD, "head: Transfer-Encoding gzip, chunked: bad");
	is_int(head("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n"), HTTP_BAD,
	    "head: chunked twice: bad");
	is_int(head("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"),
	    HTTP_BAD, "head: chunked in HTTP/1.0: bad");
	is_int(head("POST / HTTP/1.1\r\nTransfer-Encoding: Chunked\r\n\r\n"),
	    HTTP_OK, "head: Transfer-Encoding: Chunked");
	ok(rq.chunked && rq.content_length == -1, "head: chunked, no length");
	is_int(head("POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n"),
	    HTTP_BAD, "head: Content-Length -1: bad");
	is_int(head("POST / HTTP/1.1\r\nContent-Length: +5\r\n\r\n"),
	    HTTP_BAD, "head: Content-Length +5: bad");
	is_int(head("POST / HTTP/1.1\r\nContent-Length: 5a\r\n\r\n"),
	    HTTP_BAD, "head: Content-Length 5a: bad");
	is_int(head("POST / HTTP/1.1\r\nContent-Length: 5, 5\r\n\r\n"),
	    HTTP_BAD, "head: Content-Length 5, 5: bad");
	is_int(head("POST / HTTP/1.1\r\nContent-Length:\r\n\r\n"),
	    HTTP_BAD, "head: empty Content-Length: bad");
	is_int(head("POST / HTTP/1.1\r\nContent-Length: "
	    "9223372036854775807\r\n\r\n"), HTTP_OK,
	    "head: Content-Length LLONG_MAX is a number");
	is_int(head("POST / HTTP/1.1\r\nContent-Length: "
	    "9223372036854775808\r\n\r\n"), HTTP_BAD,
	    "head: Content-Length LLONG_MAX + 1: bad");
	is_int(head("POST / HTTP/1.1\r\nContent-Length: "
	    "000000000000000000000000000042\r\n\r\n"), HTTP_OK,
	    "head: leading zeros are fine");
	is_int(rq.content_length, 42, "head: and the value");

	/* what another server could read otherwise */
	is_int(head("POST / HTTP/1.1\r\nTransfer-Encoding : chunked\r\n\r\n"),
	    HTTP_BAD, "head: space before the colon: bad");
	is_int(head("POST / HTTP/1.1\r\nX: a\r\n b\r\n\r\n"), HTTP_BAD,
	    "head: a folded line: bad");
	is_int(head("POST / HTTP/1.1\r\nX: a\nContent-Length: 5\r\n\r\n"),
	    HTTP_BAD, "head: a bare LF in a value: bad");
	is_int(head("POST / HTTP/1.1\r\nX: a\tb\r\n\r\n"), HTTP_OK,
	    "head: a tab in a value is fine");
	is_int(head("POST /a\tb HTTP/1.1\r\n\r\n"), HTTP_BAD,
	    "head: a control byte in the target: bad");
	is_int(head("PO(ST / HTTP/1.1\r\n\r\n"), HTTP_BAD,
	    "head: a method not a token: bad");
	is_int(head("\r\n\r\n"), HTTP_BAD, "head: empty request line: bad");

	/* sizes */
	n = snprintf(big, sizeof(big), "GET / HTTP/1.1\r\n");
	for (i = 0; i < HTTP_MAX_HEADERS; i++)
		n += snprintf(big + n, sizeof(big) - n, "X%zu: y\r\n", i);
	snprintf(big + n, sizeof(big) - n, "\r\n");
	is_int(head(big), HTTP_OK, "head: %d headers", HTTP_MAX_HEADERS);
	snprintf(big + n, sizeof(big) - n, "Z: 1\r\n\r\n");
	is_int(head(big), HTTP_BAD, "head: one header more: bad");
	n = snprintf(big, sizeof(big), "GET / HTTP/1.1\r\nX: ");
	memset(big + n, 'a', HTTP_MAX_HEAD);
	memcpy(big + n + HTTP_MAX_HEAD, "\r\n\r\n", 5);
	is_int(head(big), HTTP_TOOBIG, "head: a whole head over the limit: "
	    "too big");
	big[n + HTTP_MAX_HEAD] = '\0';
	is_int(head(big), HTTP_TOOBIG, "head: a part over the limit: too big");
}

static void
test_head_ready(void)
{
	const char *h = "GET / HTTP/1.1\r\nA: b\r\n\r\nmore";
	size_t scan = 0, i, n = strlen(h);
	int r = 0;

	for (i = 1; i <= n && !(r = http_head_ready(h, i, &scan)); i++)
		;
	is_int(i, strlen("GET / HTTP/1.1\r\nA: b\r\n\r\n"),
	    "head_ready: byte by byte, ready at the blank line");
	is_int(scan, i, "head_ready: scanned all it was given");
	scan = 0;
	is_int(http_head_ready(h, 22, &scan), 0, "head_ready: not yet");
	is_int(http_head_ready(h, 24, &scan), 1,
	    "head_ready: the CRLF CRLF split over calls");
	scan = 0;
	is_int(http_head_ready(S("\r\n\r"), &scan), 0, "head_ready: 3 bytes");
}

static struct buf out;

/* http_dechunk of s into a fresh out: its result; *used set. */
static int
dechunk(const char *s, size_t n, size_t max, size_t *used)
{
	out.len = 0;
	*used = 0;
	return http_dechunk(s, n, &out, used, max);
}

static void
test_dechunk(void)
{
	static const char body[] = "5\r\nhello\r\n1;ext=\"v\"\r\n \r\n"
	    "6 ; e\r\nworld!\r\n0\r\nTrailer: x\r\n\r\nGET /next";
	size_t whole = sizeof(body) - 1 - strlen("GET /next"), used, i;
	int bad = 0;

	is_int(dechunk(S(body), 1000, &used), HTTP_OK, "dechunk: a body");
	is_lit(out.p, out.len, "hello world!", "dechunk: its data");
	is_int(used, whole, "dechunk: used up to the trailers' end");
	for (i = 0; i < whole; i++)
		bad += dechunk(body, i, 1000, &used) != HTTP_SHORT;
	is_int(bad, 0, "dechunk: every prefix wants more");
	is_int(dechunk(S(body), 12, &used), HTTP_OK, "dechunk: max 12 fits");
	is_int(dechunk(S(body), 11, &used), HTTP_TOOBIG, "dechunk: max 11 not");
	is_int(dechunk(S("0\r\n\r\n"), 0, &used), HTTP_OK, "dechunk: empty");
	is_int(used, 5, "dechunk: empty, 5 bytes");

	/* item 2: a size that wraps once added to the data so far */
	is_int(dechunk(S("1\r\na\r\nffffffffffffffff\r\nxx"), 1 << 20, &used),
	    HTTP_TOOBIG, "dechunk: size 2^64-1 after a chunk: too big");
	is_int(dechunk(S("1\r\na\r\nffffffffffffffff\r\nxx"), (size_t)-1,
	    &used), HTTP_TOOBIG, "dechunk: size 2^64-1 after a chunk, no max: "
	    "too big");
	is_int(dechunk(S("1\r\na\r\nfffffffffffffffe\r\nxx"), (size_t)-1,
	    &used), HTTP_SHORT, "dechunk: size 2^64-2 after a chunk, no max: "
	    "waits for it");
	is_int(dechunk(S("10000000000000000\r\n"), (size_t)-1, &used),
	    HTTP_TOOBIG, "dechunk: size 2^64: too big");
	is_int(dechunk(S("ffffffffffffffff\r\n"), 1 << 20, &used),
	    HTTP_TOOBIG, "dechunk: size 2^64-1 first: too big");
	is_int(dechunk(S("00000000000000000000000003\r\nabc\r\n0\r\n\r\n"),
	    10, &used), HTTP_OK, "dechunk: leading zeros");

	/* sizes strtoull took and a proxy might not */
	is_int(dechunk(S("0x3\r\nabc\r\n0\r\n\r\n"), 10, &used), HTTP_BAD,
	    "dechunk: 0x3: bad");
	is_int(dechunk(S(" 3\r\nabc\r\n0\r\n\r\n"), 10, &used), HTTP_BAD,
	    "dechunk: a space before the size: bad");
	is_int(dechunk(S("+3\r\nabc\r\n0\r\n\r\n"), 10, &used), HTTP_BAD,
	    "dechunk: +3: bad");
	is_int(dechunk(S("-1\r\nabc\r\n0\r\n\r\n"), 10, &used), HTTP_BAD,
	    "dechunk: -1: bad");
	is_int(dechunk(S("3 \r\nabc\r\n0\r\n\r\n"), 10, &used), HTTP_BAD,
	    "dechunk: whitespace and no extension: bad");
	is_int(dechunk(S("\r\nabc\r\n0\r\n\r\n"), 10, &used), HTTP_BAD,
	    "dechunk: no size: bad");
	is_int(dechunk(S("3\r\nabcd\r\n0\r\n\r\n"), 10, &used), HTTP_BAD,
	    "dechunk: data longer than its size: bad");
	is_int(dechunk(S("3\nabc\r\n0\r\n\r\n"), 10, &used), HTTP_BAD,
	    "dechunk: a bare LF: bad");
	is_int(dechunk(S("0\r\nX: a\nY: b\r\n\r\n"), 10, &used), HTTP_BAD,
	    "dechunk: a bare LF in the trailers: bad");
	is_int(dechunk(S("3;a\001b\r\nabc\r\n0\r\n\r\n"), 10, &used),
	    HTTP_BAD, "dechunk: a control byte in an extension: bad");
}

static void
test_dechunk_long_lines(void)
{
	struct buf b = { 0 };
	size_t used, i;

	buf_puts(&b, "3;");
	for (i = 0; i < 5000; i++)
		buf_putc(&b, 'e');
	buf_puts(&b, "\r\nabc\r\n0\r\n\r\n");
	is_int(dechunk(b.p, b.len, 10, &used), HTTP_BAD,
	    "dechunk: a size line of 5000 bytes: bad");
	b.len = 0;
	buf_puts(&b, "0\r\n");
	for (i = 0; i < HTTP_MAX_HEAD / 8 + 1; i++)
		buf_puts(&b, "X: abc\r\n");
	is_int(dechunk(b.p, b.len, 10, &used), HTTP_TOOBIG,
	    "dechunk: trailers over HTTP_MAX_HEAD: too big");
	buf_free(&b);
}

/* A big body fed 7 bytes at a time, then in its longest pieces. */
static void
test_dechunk_feed(void)
{
	struct http_dechunker d;
	struct buf b = { 0 }, want = { 0 };
	size_t used = 0, i, k, half;
	char line[32], save;
	int r = HTTP_SHORT, n = 0;

	for (i = 0; i < 3000; i++) {
		k = i % 97 + 1;
		snprintf(line, sizeof(line), "%zx%s\r\n", k, i % 5 ? "" : ";x");
		buf_puts(&b, line);
		for (; k > 0; k--) {
			buf_putc(&b, 'a' + i % 26);
			buf_putc(&want, 'a' + i % 26);
		}
		buf_puts(&b, "\r\n");
	}
	buf_puts(&b, "0\r\n\r\nPOST");
	http_dechunk_init(&d);
	out.len = 0;
	for (i = 7; r == HTTP_SHORT && i < b.len + 7; i += 7, n++)
		r = http_dechunk_feed(&d, b.p, i < b.len ? i : b.len, &out,
		    &used, want.len);
	is_int(r, HTTP_OK, "feed: a body 7 bytes at a time (%d calls)", n);
	is_int(used, b.len - 4, "feed: used all but the next request");
	ok(out.len == want.len && memcmp(out.p, want.p, want.len) == 0,
	    "feed: its data, appended once");
	is_int(http_dechunk_feed(&d, b.p, b.len, &out, &used, want.len),
	    HTTP_OK, "feed: once over, it stays over");
	is_int(out.len, want.len, "feed: and appends nothing more");

	/* bytes already scanned are not read again until the end */
	http_dechunk_init(&d);
	half = b.len / 2;
	is_int(http_dechunk_feed(&d, b.p, half, &out, &used, want.len),
	    HTTP_SHORT, "feed: half the body");
	save = b.p[0];
	b.p[0] = 'X';
	is_int(http_dechunk_feed(&d, b.p, half + 100, &out, &used, want.len),
	    HTTP_SHORT, "feed: the first half is not scanned again");
	b.p[0] = save;
	out.len = 0;
	is_int(http_dechunk_feed(&d, b.p, b.len, &out, &used, want.len),
	    HTTP_OK, "feed: then the rest");
	ok(out.len == want.len && memcmp(out.p, want.p, want.len) == 0,
	    "feed: the same data");

	http_dechunk_init(&d);
	is_int(http_dechunk_feed(&d, b.p, 100, &out, &used, 10), HTTP_TOOBIG,
	    "feed: over max");
	is_int(http_dechunk_feed(&d, b.p, b.len, &out, &used, 10), HTTP_TOOBIG,
	    "feed: and stays so");
	http_dechunk_init(&d);
	is_int(http_dechunk_feed(&d, S("1\r\na\r\n"), &out, &used, 10),
	    HTTP_SHORT, "feed: a chunk");
	is_int(http_dechunk_feed(&d, S("1\r\na\r\nffffffffffffffff\r\n"), &out,
	    &used, (size_t)-1), HTTP_TOOBIG,
	    "feed: then size 2^64-1, no max: too big");
	buf_free(&b);
	buf_free(&want);
}

static void
test_forms(void)
{
	struct buf b = { 0 };
	const char *v, *ct, *body;
	size_t vl, bl;

	http_urldecode(&b, S("a+b%41%4a%zz%4"));
	is_lit(b.p, b.len, "a bAJ%zz%4", "urldecode");
	b.len = 0;
	ok(http_param(S("x=1&json=%7B%7D&y"), "json", &b), "param: found");
	is_lit(b.p, b.len, "{}", "param: decoded");
	b.len = 0;
	ok(!http_param(S("x=1&y"), "json", &b), "param: absent");
	ok(!http_param(S("x=1&"), "json", &b), "param: absent, ends in &");
	ok(http_param(S("json="), "json", &b) && b.len == 0, "param: empty");
	ct = "multipart/form-data; boundary=XyZ";
	v = http_boundary(ct, strlen(ct), &bl);
	ok(v && bl == 3 && memcmp(v, "XyZ", 3) == 0, "boundary");
	ct = "multipart/form-data; boundary=\"a b\"; x";
	v = http_boundary(ct, strlen(ct), &bl);
	ok(v && bl == 3 && memcmp(v, "a b", 3) == 0, "boundary: quoted");
	ok(!http_boundary("boundary", 8, &bl), "boundary: short: none");
	ok(!http_boundary("boundary=", 9, &bl), "boundary: empty: none");
	body = "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n"
	    "A\r\n--XyZ\r\nContent-Disposition: form-data; name=\"json\"\r\n"
	    "\r\n{\"k\":1}\r\n--XyZ--\r\n";
	is_int(http_multipart(body, strlen(body), "XyZ", 3, "json", &v, &vl), 1,
	    "multipart: the json part");
	is_lit(v, vl, "{\"k\":1}", "multipart: its bytes");
	is_int(http_multipart(body, strlen(body), "XyZ", 3, "msgpack", &v, &vl),
	    0, "multipart: no msgpack part");
	is_int(http_multipart(body, 40, "XyZ", 3, "json", &v, &vl), -1,
	    "multipart: cut short: malformed");
	buf_free(&b);
}

static void
test_gunzip(void)
{
	struct buf z = { 0 }, plain = { 0 };
	size_t i;

	for (i = 0; i < 100000; i++)
		buf_putc(&plain, "abcdefgh"[i % 7]);
	fwd_gzip(&z, plain.p, plain.len, 6);
	out.len = 0;
	is_int(http_gunzip(&out, z.p, z.len, plain.len), HTTP_OK,
	    "gunzip: at max exactly");
	ok(out.len == plain.len && memcmp(out.p, plain.p, plain.len) == 0,
	    "gunzip: the data");
	out.len = 0;
	is_int(http_gunzip(&out, z.p, z.len, plain.len - 1), HTTP_TOOBIG,
	    "gunzip: one byte over max: too big");
	ok(out.len <= plain.len, "gunzip: out holds at most max + 1 bytes");
	out.len = 0;
	is_int(http_gunzip(&out, z.p, z.len, 1000), HTTP_TOOBIG,
	    "gunzip: small max: too big");
	ok(out.len <= 1001, "gunzip: out holds at most max + 1 bytes (%zu)",
	    out.len);
	out.len = 0;
	is_int(http_gunzip(&out, z.p, z.len - 4, plain.len), HTTP_BAD,
	    "gunzip: cut short: bad");
	z.p[z.len / 2] ^= 0x55;
	z.p[z.len / 2 + 1] ^= 0x55;
	out.len = 0;
	/* item 7: corrupt data is Z_DATA_ERROR, which was HTTP_TOOBIG */
	is_int(http_gunzip(&out, z.p, z.len, plain.len), HTTP_BAD,
	    "gunzip: corrupt: bad, not too big");
	out.len = 0;
	is_int(http_gunzip(&out, S("not gzip at all"), 1000), HTTP_BAD,
	    "gunzip: not gzip: bad");
	out.len = 0;
	is_int(http_gunzip(&out, "", 0, 1000), HTTP_BAD, "gunzip: empty: bad");
	z.len = 0;
	fwd_gzip(&z, S("one,"), 6);
	fwd_gzip(&z, S("two"), 6);
	out.len = 0;
	is_int(http_gunzip(&out, z.p, z.len, 1000), HTTP_OK,
	    "gunzip: two members");
	is_lit(out.p, out.len, "one,two", "gunzip: both members' data");
	buf_put(&z, "\0\0\0", 3);
	out.len = 0;
	is_int(http_gunzip(&out, z.p, z.len, 1000), HTTP_BAD,
	    "gunzip: bytes after the members: bad");
	buf_free(&z);
	buf_free(&plain);
}

static void
test_response(void)
{
	struct buf b = { 0 };
	char ct[700];

	memset(ct, 'c', sizeof(ct) - 1);
	ct[sizeof(ct) - 1] = '\0';
	http_response(&b, 200, ct, "X: y\r\n", 3, 1);
	buf_putc(&b, '\0');
	ok(strstr(b.p, ct) && strstr(b.p, "\r\nContent-Length: 3\r\n"
	    "Connection: keep-alive\r\nX: y\r\n\r\n"),
	    "response: a long Content-Type whole");
	buf_free(&b);
}

int
main(void)
{
	test_head();
	test_head_ready();
	test_dechunk();
	test_dechunk_long_lines();
	test_dechunk_feed();
	test_forms();
	test_gunzip();
	test_response();
	buf_free(&out);
	return done_testing();
}

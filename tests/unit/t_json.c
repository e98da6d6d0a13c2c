/* t_json - unit tests of common/json.c */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>

#include "buf.h"
#include "json.h"
#include "mp.h"
#include "tap.h"

static struct buf out, txt;
static struct json_err jerr;
static size_t used;
static uint64_t rng = 0x9e3779b97f4a7c15ull;

#define PJ(lit) pj(lit, sizeof(lit) - 1)

/* xorshift64: a fixed sequence, so failures reproduce */
static uint64_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static unsigned
rndn(unsigned n)
{
	return (unsigned)(rnd() % n);
}

/* Parses t[0..n) with eof=1 into out (emptied first). */
static int
pj(const char *t, size_t n)
{
	out.len = 0;
	return json_parse(t, n, 1, &used, &out, &jerr);
}

static const char *
hex(const void *p, size_t n)
{
	static char h[2 * 64 + 4];
	const unsigned char *u = p;
	size_t i;

	for (i = 0; i < n && i < 64; i++)
		sprintf(h + 2 * i, "%02x", u[i]);
	if (n > 64)
		strcpy(h + 128, "...");
	return h;
}

/* t with control bytes shown as '.', for TAP descriptions. */
static const char *
vis(const char *t)
{
	static char v[128];
	size_t i;

	for (i = 0; t[i] != '\0' && i < sizeof v - 1; i++)
		v[i] = (unsigned char)t[i] < 0x20 ? '.' : t[i];
	v[i] = '\0';
	return v;
}

/* The whole of t parses to the msgpack bytes whose hex is want. */
static void
parses_to(const char *t, const char *want)
{
	int r = pj(t, strlen(t));

	is_int(r, JSON_OK, "parse %s", t);
	is_str(hex(out.p, out.len), want, "  msgpack of %s", t);
	is_int(used, strlen(t), "  used all of %s", t);
}

/* Renders the msgpack value in m with json_from_mp into txt (NUL-ended);
 * returns nonzero if it consumed exactly n bytes. */
static int
render(const char *m, size_t n)
{
	const char *p = m;

	txt.len = 0;
	json_from_mp(&txt, &p, m + n);
	buf_putc(&txt, '\0');
	txt.len--;
	return p == m + n;
}

/* The JSON string t (with quotes) parses to the bytes want[0..n). */
static void
str_is(const char *t, const char *want, size_t n, const char *name)
{
	const char *p;
	struct mp_obj o;

	if (pj(t, strlen(t)) != JSON_OK) {
		ok(0, "%s: parse failed: %s", name, jerr.msg);
		return;
	}
	p = out.p;
	if (mp_head(&p, out.p + out.len, &o) != MP_OK || o.type != MP_STR) {
		ok(0, "%s: not a str", name);
		return;
	}
	is_mem(o.data, o.len, want, n, "%s", name);
}

#define STR_IS(t, lit, name) str_is(t, lit, sizeof(lit) - 1, name)

static void
test_escapes(void)
{
	STR_IS("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", "\"\\/\b\f\n\r\t",
	    "short escapes");
	STR_IS("\"\\u0000\"", "\0", "\\u0000 is one NUL byte");
	STR_IS("\"a\\u0041\\u00e9\\u20AC\"", "aA\xc3\xa9\xe2\x82\xac",
	    "\\u escapes to UTF-8, either case");
	STR_IS("\"\\ud83d\\ude00\"", "\xf0\x9f\x98\x80",
	    "surrogate pair joined");
	STR_IS("\"\\uD83D\\uDE00x\"", "\xf0\x9f\x98\x80x",
	    "surrogate pair upper case");
	STR_IS("\"\\udbff\\udfff\"", "\xf4\x8f\xbf\xbf", "U+10FFFF");
	STR_IS("\"\\ud83d\"", "\xef\xbf\xbd", "lone high surrogate");
	STR_IS("\"\\ud83dx\"", "\xef\xbf\xbdx", "high surrogate, char");
	STR_IS("\"\\ud83d\\u0041\"", "\xef\xbf\xbd" "A",
	    "high surrogate, \\u0041");
	STR_IS("\"\\ud83d\\ud83d\\ude00\"", "\xef\xbf\xbd\xf0\x9f\x98\x80",
	    "high, then pair");
	STR_IS("\"\\ude00\"", "\xef\xbf\xbd", "lone low surrogate");
	STR_IS("\"\\udc7f\"", "\xef\xbf\xbd", "\\udc7f is U+FFFD");
	STR_IS("\"\\udc80\\udcff\"", "\x80\xff",
	    "\\udc80 and \\udcff are raw bytes");
	STR_IS("\"\\udced\\udca0\\udc80\"", "\xed\xa0\x80",
	    "surrogate escapes make raw bytes");
	STR_IS("\"\xc0\x80\xff\xed\xa0\x80\"", "\xc0\x80\xff\xed\xa0\x80",
	    "raw invalid UTF-8 kept");
	STR_IS("\"\x7f\"", "\x7f", "raw DEL kept");
	STR_IS("\"\"", "", "empty string");
}

static void
put_is(const char *s, size_t n, const char *want, const char *name)
{
	txt.len = 0;
	json_put_str(&txt, s, n);
	is_mem(txt.p, txt.len, want, strlen(want), "put_str %s", name);
}

#define PUT_IS(lit, want, name) put_is(lit, sizeof(lit) - 1, want, name)

static void
test_put_str(void)
{
	char all[32], want[400], *w = want;
	int c;

	for (c = 0; c < 32; c++)
		all[c] = (char)c;
	w += sprintf(w, "\"");
	for (c = 0; c < 32; c++)
		if (c == '\b' || c == '\f' || c == '\n' || c == '\r' ||
		    c == '\t')
			w += sprintf(w, "\\%c", "b...fnr.t"[c == '\b' ? 0 :
			    c == '\f' ? 4 : c == '\n' ? 5 : c == '\r' ? 6 : 8]);
		else
			w += sprintf(w, "\\u%04x", c);
	sprintf(w, "\"");
	put_is(all, 32, want, "control characters");
	PUT_IS("a\"b\\c/d\x7f", "\"a\\\"b\\\\c/d\x7f\"", "quote, "
	    "backslash, slash, DEL");
	PUT_IS("", "\"\"", "empty");
	PUT_IS("\xc2\x80\xdf\xbf\xe0\xa0\x80\xed\x9f\xbf\xee\x80\x80"
	    "\xef\xbf\xbf\xf0\x90\x80\x80\xf4\x8f\xbf\xbf",
	    "\"\xc2\x80\xdf\xbf\xe0\xa0\x80\xed\x9f\xbf\xee\x80\x80"
	    "\xef\xbf\xbf\xf0\x90\x80\x80\xf4\x8f\xbf\xbf\"",
	    "UTF-8 boundaries kept");
	PUT_IS("\x80", "\"\\udc80\"", "lone continuation byte");
	PUT_IS("\xc0\x80", "\"\\udcc0\\udc80\"", "overlong NUL");
	PUT_IS("\xc1\xbf", "\"\\udcc1\\udcbf\"", "overlong 2-byte");
	PUT_IS("\xe0\x9f\xbf", "\"\\udce0\\udc9f\\udcbf\"",
	    "overlong 3-byte");
	PUT_IS("\xf0\x8f\xbf\xbf", "\"\\udcf0\\udc8f\\udcbf\\udcbf\"",
	    "overlong 4-byte");
	PUT_IS("\xed\xa0\x80", "\"\\udced\\udca0\\udc80\"",
	    "UTF-8 encoded surrogate");
	PUT_IS("\xf4\x90\x80\x80", "\"\\udcf4\\udc90\\udc80\\udc80\"",
	    "above U+10FFFF");
	PUT_IS("\xf5\xff\xfe", "\"\\udcf5\\udcff\\udcfe\"",
	    "never-valid bytes");
	PUT_IS("x\xe2\x82", "\"x\\udce2\\udc82\"", "truncated at end");
	PUT_IS("\xe2\x82" "A", "\"\\udce2\\udc82A\"", "truncated before A");
	PUT_IS("0123456789abcdef\n0123456789\xc3\xa9",
	    "\"0123456789abcdef\\n0123456789\xc3\xa9\"", "long runs");
}

/* Bytes of one value packed by msgpack-c, to compare with ours. */
static msgpack_sbuffer sb;
static msgpack_packer pk;

static void
ref_reset(void)
{
	msgpack_sbuffer_clear(&sb);
}

static void
same_as_ref(const char *t, const char *name)
{
	int r = pj(t, strlen(t));

	ok(r == JSON_OK && out.len == sb.size && memcmp(out.p, sb.data,
	    sb.size) == 0, "%s: same bytes as msgpack-c (%s)", t, name);
}

static void
test_ints(void)
{
	static const int64_t iv[] = { 0, 1, 127, 128, 255, 256, 65535, 65536,
	    4294967295LL, 4294967296LL, INT64_MAX, -1, -32, -33, -128, -129,
	    -32768, -32769, -2147483648LL, -2147483649LL, INT64_MIN };
	char t[32];
	size_t i;

	for (i = 0; i < sizeof iv / sizeof iv[0]; i++) {
		snprintf(t, sizeof t, "%lld", (long long)iv[i]);
		ref_reset();
		msgpack_pack_int64(&pk, iv[i]);
		same_as_ref(t, "int64");
	}
	ref_reset();
	msgpack_pack_uint64(&pk, UINT64_MAX);
	same_as_ref("18446744073709551615", "uint64 max");
	ref_reset();
	msgpack_pack_uint64(&pk, (uint64_t)INT64_MAX + 1);
	same_as_ref("9223372036854775808", "int64 max + 1");
	parses_to("-0", "00");
	parses_to("9223372036854775807", "cf7fffffffffffffff");
	parses_to("-9223372036854775808", "d38000000000000000");
	parses_to("18446744073709551615", "cfffffffffffffffff");
	parses_to("18446744073709551616", "cb43f0000000000000");
	parses_to("-9223372036854775809", "cbc3e0000000000000");
	parses_to("100000000000000000000000000000", "cb45f431e0fae6d721");
	parses_to("1E2", "cb4059000000000000");
	parses_to("1e+2", "cb4059000000000000");
	parses_to("0e0", "cb0000000000000000");
}

static void
test_floats(void)
{
	parses_to("0.1", "cb3fb999999999999a");
	parses_to("1e-300", "cb01a56e1fc2f8f359");
	parses_to("5e-324", "cb0000000000000001");
	parses_to("1.7976931348623157e308", "cb7fefffffffffffff");
	parses_to("-0.0", "cb8000000000000000");
	parses_to("-0e5", "cb8000000000000000");
	parses_to("1.0", "cb3ff0000000000000");
	parses_to("2.5e-05", "cb3efa36e2eb1c432d");
	parses_to("1e-400", "cb0000000000000000");
	parses_to("0.30000000000000004441", "cb3fd3333333333334");
	parses_to("1e22", "cb4480f0cf064dd592");
	parses_to("123456789012345678901234567890e-30",
	    "cb3fbf9add3746f65f");
	ref_reset();
	msgpack_pack_double(&pk, -1.5e-7);
	same_as_ref("-1.5e-7", "double");
}

static void
double_is(double d, const char *want)
{
	txt.len = 0;
	json_put_double(&txt, d);
	is_mem(txt.p, txt.len, want, strlen(want), "put_double %s", want);
}

static void
test_put_double(void)
{
	double zero = 0.0;

	double_is(1.0, "1.0");
	double_is(100.0, "100.0");
	double_is(-3.0, "-3.0");
	double_is(0.0, "0.0");
	double_is(-0.0, "-0.0");
	double_is(0.1, "0.1");
	double_is(1.0 / 3, "0.3333333333333333");
	double_is(1e-300, "1e-300");
	double_is(5e-324, "5e-324");
	double_is(DBL_MAX, "1.7976931348623157e+308");
	double_is(1e20, "1e+20");
	double_is(123456789012345680000.0, "1.2345678901234568e+20");
	double_is(2.5e-5, "2.5e-05");
	double_is(zero / zero, "null");
	double_is(1 / zero, "null");
	double_is(-1 / zero, "null");
}

/* Random decimal texts: the fast path must agree with strtod. */
static void
test_float_fastpath(void)
{
	char t[64];
	int i, n, bad = 0, k;
	struct mp_obj o;
	const char *p;
	double want;

	for (i = 0; i < 20000; i++) {
		n = 0;
		if (rndn(2))
			t[n++] = '-';
		t[n++] = (char)('1' + rndn(9));
		for (k = rndn(16); k > 0; k--)
			t[n++] = (char)('0' + rndn(10));
		t[n++] = '.';
		for (k = 1 + rndn(10); k > 0; k--)
			t[n++] = (char)('0' + rndn(10));
		if (rndn(2))
			n += sprintf(t + n, "e%d", (int)rndn(61) - 30);
		t[n] = '\0';
		want = strtod(t, NULL);
		if (pj(t, (size_t)n) != JSON_OK) {
			bad++;
			continue;
		}
		p = out.p;
		if (mp_head(&p, out.p + out.len, &o) != MP_OK ||
		    o.type != MP_FLOAT || memcmp(&o.v.f, &want, sizeof want)) {
			if (bad++ == 0)
				printf("# first mismatch: %s\n", t);
		}
	}
	is_int(bad, 0, "20000 random decimals parse as strtod does");
}

struct badcase {
	const char *t;
	int eof;
	size_t off;
	const char *msg;
};

static const struct badcase bads[] = {
	{ "[1,]", 1, 3, "unexpected character ']'" },
	{ "[,1]", 1, 1, "unexpected character ','" },
	{ "{\"a\":1,}", 1, 7, "expected string as object key" },
	{ "{1:2}", 1, 1, "expected string as object key" },
	{ "{\"a\" 1}", 1, 5, "expected ':' after key" },
	{ "{\"a\":1 \"b\":2}", 0, 7, "expected ',' or '}'" },
	{ "[1 2]", 0, 3, "expected ',' or ']'" },
	{ "[1}", 1, 2, "expected ',' or ']'" },
	{ "01", 0, 1, "leading zero in number" },
	{ "-01", 1, 2, "leading zero in number" },
	{ "+1", 1, 0, "unexpected character '+'" },
	{ ".5", 1, 0, "unexpected character '.'" },
	{ "-", 1, 1, "unexpected end of input" },
	{ "-a", 0, 1, "expected digit after '-'" },
	{ "- 1", 0, 1, "expected digit after '-'" },
	{ "1.", 1, 2, "unexpected end of input" },
	{ "1.e3", 0, 2, "expected digit after '.'" },
	{ "1e", 1, 2, "unexpected end of input" },
	{ "1e+", 1, 3, "unexpected end of input" },
	{ "1ex", 0, 2, "expected digit in exponent" },
	{ "1e+-1", 0, 3, "expected digit in exponent" },
	{ "1e400", 1, 0, "number out of range" },
	{ "[0,-1e999]", 1, 3, "number out of range" },
	{ "NaN", 1, 0, "unexpected character 'N'" },
	{ "Infinity", 0, 0, "unexpected character 'I'" },
	{ "-Infinity", 0, 1, "expected digit after '-'" },
	{ "nan", 0, 1, "unexpected character 'a'" },
	{ "tru", 1, 3, "unexpected end of input" },
	{ "trUe", 0, 2, "unexpected character 'U'" },
	{ "nul", 1, 3, "unexpected end of input" },
	{ "\"a\x01" "b\"", 0, 2, "control character in string" },
	{ "\"a\tb\"", 0, 2, "control character in string" },
	{ "\"\\x\"", 0, 1, "invalid escape" },
	{ "\"ab\\'\"", 0, 3, "invalid escape" },
	{ "\"\\u12G4\"", 0, 1, "invalid \\u escape" },
	{ "\"\\U0041\"", 0, 1, "invalid escape" },
	{ "\"abc", 1, 0, "unterminated string" },
	{ "[\"abc\\", 1, 1, "unterminated string" },
	{ "\"\\u00", 1, 0, "unterminated string" },
	{ "[1,2", 1, 4, "unexpected end of input" },
	{ "{\"a\"", 1, 4, "unexpected end of input" },
	{ "// c\n1", 0, 0, "unexpected character '/'" },
	{ "[1,/* c */2]", 0, 3, "unexpected character '/'" },
	{ "'a'", 0, 0, "unexpected character '''" },
	{ "\x01", 0, 0, "unexpected control character" },
	{ "\xef\xbb\xbf{}", 0, 0, "unexpected byte" },
	{ "[\f]", 0, 1, "unexpected control character" },
	{ "{\"a\":}", 0, 5, "unexpected character '}'" },
};

static void
test_bad(void)
{
	size_t i, n;
	int r;

	for (i = 0; i < sizeof bads / sizeof bads[0]; i++) {
		n = strlen(bads[i].t);
		out.len = 0;
		buf_put(&out, "XYZ", 3);
		jerr.msg = NULL;
		r = json_parse(bads[i].t, n, bads[i].eof, &used, &out, &jerr);
		is_int(r, JSON_BAD, "bad: %s", vis(bads[i].t));
		is_int(jerr.offset, bads[i].off, "  offset");
		is_str(jerr.msg ? jerr.msg : "(null)", bads[i].msg,
		    "  message");
		ok(out.len == 3 && memcmp(out.p, "XYZ", 3) == 0,
		    "  out restored");
	}
}

/* Every proper prefix is SHORT with eof=0 (or EMPTY), BAD with eof=1,
 * and leaves out as it was; the whole text then parses. */
static void
test_split(const char *t, int is_number)
{
	size_t k, n = strlen(t), base;
	int r, fails = 0;
	char *want;

	pj(t, n);
	want = malloc(out.len + 1);
	memcpy(want, out.p, out.len);
	base = out.len;
	for (k = 0; k < n; k++) {
		out.len = 0;
		buf_put(&out, "XYZ", 3);
		r = json_parse(t, k, 0, &used, &out, &jerr);
		if (r != (strspn(t, " \t\r\n") >= k ? JSON_EMPTY : JSON_SHORT))
			fails++;
		if (out.len != 3 || memcmp(out.p, "XYZ", 3) != 0)
			fails++;
		r = json_parse(t, k, 1, &used, &out, &jerr);
		if (r == JSON_OK && is_number)
			continue;
		if (r != (strspn(t, " \t\r\n") >= k ? JSON_EMPTY : JSON_BAD))
			fails++;
		if (out.len != 3 || memcmp(out.p, "XYZ", 3) != 0)
			fails++;
	}
	is_int(fails, 0, "every prefix of %s is short", vis(t));
	out.len = 0;
	r = json_parse(t, n, 0, &used, &out, &jerr);
	is_int(r, is_number ? JSON_SHORT : JSON_OK, "  whole, eof=0");
	r = pj(t, n);
	is_int(r, JSON_OK, "  whole, eof=1");
	is_mem(out.p, out.len, want, base, "  same msgpack");
	free(want);
}

static void
test_splits(void)
{
	test_split("{\"a\":[1,2.5e3,\"x\\u00e9y\",true,null,false],"
	    "\"b\":{}, \"c\" : [ ] }", 0);
	test_split("\"\\ud83d\\ude00\\n\\\\\xc3\xa9\"", 0);
	test_split("-12.5e-3", 1);
	test_split("  [ 0 , -0.0 , 1E+2, 123 ]", 0);
	test_split("123", 1);
	test_split("0", 1);
	test_split("true", 0);
	test_split("false", 0);
	test_split("null", 0);
	test_split("\"0123456789abcdef0123456789\"", 0);
}

static void
used_is(const char *t, int eof, int want_r, size_t want_used)
{
	out.len = 0;
	is_int(json_parse(t, strlen(t), eof, &used, &out, &jerr), want_r,
	    "parse '%s' eof=%d", vis(t), eof);
	is_int(used, want_used, "  used");
}

static void
test_used(void)
{
	used_is("1 x", 0, JSON_OK, 1);
	used_is("1 x", 1, JSON_OK, 1);
	used_is("123abc", 0, JSON_OK, 3);
	used_is("true,false", 0, JSON_OK, 4);
	used_is("truex", 0, JSON_OK, 4);
	used_is("{}{}", 0, JSON_OK, 2);
	used_is("\"a\"b", 0, JSON_OK, 3);
	used_is("  [1]  \n", 0, JSON_OK, 5);
	used_is("1\n", 0, JSON_OK, 1);
	used_is("[]]", 1, JSON_OK, 2);
	used_is(" \t\r\n ", 0, JSON_EMPTY, 5);
	used_is(" \t\r\n ", 1, JSON_EMPTY, 5);
	used_is("", 1, JSON_EMPTY, 0);
	out.len = 0;
	is_int(json_parse(NULL, 0, 0, &used, &out, &jerr), JSON_EMPTY,
	    "NULL, 0 is empty");
	parses_to("{}", "80");
	parses_to("[]", "90");
	parses_to("\"\"", "a0");
	parses_to(" [ { } , [ ] , \"\" ]", "938090a0");
}

static void
nested(int depth, int obj, int r, size_t off)
{
	struct buf t = { NULL, 0, 0 };
	const char *p;
	int i;

	for (i = 0; i < depth; i++)
		buf_puts(&t, obj ? "{\"a\":" : "[");
	buf_putc(&t, '1');
	for (i = 0; i < depth; i++)
		buf_putc(&t, obj ? '}' : ']');
	is_int(pj(t.p, t.len), r, "%d nested %s", depth, obj ? "objects" :
	    "arrays");
	if (r == JSON_OK) {
		p = out.p;
		is_int(mp_skip(&p, out.p + out.len, NULL), MP_OK,
		    "  mp_skip accepts it");
		ok(p == out.p + out.len, "  whole");
	} else {
		is_int(jerr.offset, off, "  offset");
		is_str(jerr.msg, "nesting too deep", "  message");
	}
	buf_free(&t);
}

static void
test_nesting(void)
{
	nested(JSON_MAX_DEPTH, 0, JSON_OK, 0);
	nested(JSON_MAX_DEPTH + 1, 0, JSON_BAD, JSON_MAX_DEPTH);
	nested(JSON_MAX_DEPTH, 1, JSON_OK, 0);
	nested(JSON_MAX_DEPTH + 1, 1, JSON_BAD, 5 * JSON_MAX_DEPTH);
	nested(100000, 0, JSON_BAD, JSON_MAX_DEPTH);
}

/* An array or object of n items: its header and msgpack-c's view. */
static void
sized(unsigned n, int obj, const char *hdr)
{
	struct buf t = { NULL, 0, 0 };
	msgpack_unpacked u;
	size_t off = 0;
	unsigned i;
	char k[16];

	buf_putc(&t, obj ? '{' : '[');
	for (i = 0; i < n; i++) {
		if (i > 0)
			buf_putc(&t, ',');
		if (obj)
			buf_put(&t, k, (size_t)sprintf(k, "\"%u\":", i));
		buf_putc(&t, '7');
	}
	buf_putc(&t, obj ? '}' : ']');
	is_int(pj(t.p, t.len), JSON_OK, "%s of %u", obj ? "map" : "array", n);
	is_mem(hex(out.p, strlen(hdr) / 2), strlen(hdr), hdr, strlen(hdr),
	    "  header");
	msgpack_unpacked_init(&u);
	ok(msgpack_unpack_next(&u, out.p, out.len, &off) ==
	    MSGPACK_UNPACK_SUCCESS && off == out.len && u.data.type ==
	    (obj ? MSGPACK_OBJECT_MAP : MSGPACK_OBJECT_ARRAY) &&
	    (obj ? u.data.via.map.size : u.data.via.array.size) == n,
	    "  msgpack-c decodes it");
	msgpack_unpacked_destroy(&u);
	buf_free(&t);
}

static void
test_sizes(void)
{
	sized(15, 0, "9f");
	sized(16, 0, "dc0010");
	sized(65535, 0, "dcffff");
	sized(65536, 0, "dd00010000");
	sized(15, 1, "8f");
	sized(16, 1, "de0010");
	sized(65536, 1, "df00010000");
	parses_to("[[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16],1]",
	    "92dc00100102030405060708090a0b0c0d0e0f1001");
}

/* Strings of text length n whose escapes decode to m bytes. */
static void
str_sized(size_t n, int esc)
{
	struct buf t = { NULL, 0, 0 };
	size_t i, m = esc ? n / 2 : n;
	char *want = malloc(m + 1);

	buf_putc(&t, '"');
	for (i = 0; i < m; i++) {
		want[i] = esc ? '\n' : 'a';
		buf_puts(&t, esc ? "\\n" : "a");
	}
	buf_putc(&t, '"');
	buf_putc(&t, '\0');
	ref_reset();
	msgpack_pack_str_with_body(&pk, want, m);
	same_as_ref(t.p, "str");
	ok(out.len == sb.size && memcmp(out.p, sb.data, sb.size) == 0,
	    "str of %zu bytes from %zu: same as msgpack-c", m, n);
	free(want);
	buf_free(&t);
}

static void
test_str_sizes(void)
{
	static const size_t n[] = { 0, 31, 32, 255, 256, 65535, 65536 };
	size_t i;

	for (i = 0; i < sizeof n / sizeof n[0]; i++)
		str_sized(n[i], 0);
	str_sized(40, 1);
	str_sized(300, 1);
	str_sized(70000, 1);
}

/* msgpack-c's own decoder agrees with what json_parse wrote. */
static void
test_msgpack_c(void)
{
	msgpack_unpacked u;
	msgpack_object *a;
	size_t off = 0;
	int r;

	PJ("{\"a\":[1,-2,3.5,\"x\",true,false,null],\"b\":{},"
	    "\"c\":18446744073709551615,\"d\":-9223372036854775808}");
	msgpack_unpacked_init(&u);
	r = msgpack_unpack_next(&u, out.p, out.len, &off);
	ok(r == MSGPACK_UNPACK_SUCCESS && off == out.len, "msgpack-c decodes");
	ok(u.data.type == MSGPACK_OBJECT_MAP && u.data.via.map.size == 4,
	    "  a map of 4");
	a = &u.data.via.map.ptr[0].val;
	ok(a->type == MSGPACK_OBJECT_ARRAY && a->via.array.size == 7,
	    "  a: array of 7");
	ok(a->via.array.ptr[0].via.u64 == 1 && a->via.array.ptr[1].via.i64 ==
	    -2 && a->via.array.ptr[2].via.f64 == 3.5, "  1, -2, 3.5");
	ok(a->via.array.ptr[3].type == MSGPACK_OBJECT_STR &&
	    a->via.array.ptr[3].via.str.size == 1, "  \"x\"");
	ok(a->via.array.ptr[4].via.boolean && !a->via.array.ptr[5].via.boolean
	    && a->via.array.ptr[6].type == MSGPACK_OBJECT_NIL,
	    "  true, false, null");
	ok(u.data.via.map.ptr[1].val.type == MSGPACK_OBJECT_MAP &&
	    u.data.via.map.ptr[1].val.via.map.size == 0, "  b: {}");
	ok(u.data.via.map.ptr[2].val.via.u64 == UINT64_MAX, "  c: uint max");
	ok(u.data.via.map.ptr[3].val.via.i64 == INT64_MIN, "  d: int min");
	msgpack_unpacked_destroy(&u);
}

static void
rendered(const char *want, const char *name)
{
	ok(render(sb.data, sb.size), "render %s: consumed all", name);
	is_str(txt.p, want, "render %s", name);
}

static void
test_render(void)
{
	static const char ev[] = { 0, 0, 0, 1, 0, 0, 0, 5 };

	ref_reset();
	msgpack_pack_map(&pk, 4);
	msgpack_pack_int64(&pk, 1);
	msgpack_pack_str_with_body(&pk, "a", 1);
	msgpack_pack_str_with_body(&pk, "k", 1);
	msgpack_pack_bin_with_body(&pk, "\0\xff", 2);
	msgpack_pack_array(&pk, 2);
	msgpack_pack_int64(&pk, 1);
	msgpack_pack_str_with_body(&pk, "\"", 1);
	msgpack_pack_nil(&pk);
	msgpack_pack_true(&pk);
	msgpack_pack_false(&pk);
	/* an array key is the base64 of its msgpack bytes 92 01 a1 22 */
	rendered("{\"1\":\"a\",\"k\":\"\\u0000\\udcff\","
	    "\"kgGhIg==\":null,\"true\":false}", "map keys");
	ref_reset();
	msgpack_pack_ext_with_body(&pk, ev, 8, 0);
	rendered("1", "EventTime");
	ref_reset();
	msgpack_pack_ext_with_body(&pk, "\x80\0\0\0\0\0\0\0", 8, 0);
	rendered("2147483648", "EventTime seconds unsigned");
	ref_reset();
	msgpack_pack_array(&pk, 5);
	msgpack_pack_ext_with_body(&pk, "\1", 1, 5);
	msgpack_pack_ext_with_body(&pk, "\1\2", 2, 5);
	msgpack_pack_ext_with_body(&pk, "\1\2\3", 3, -1);
	msgpack_pack_ext_with_body(&pk, "\1\2\3\4", 4, 0);
	msgpack_pack_ext_with_body(&pk, "\xfb\xff", 2, 9);
	rendered("[\"AQ==\",\"AQI=\",\"AQID\",\"AQIDBA==\",\"+/8=\"]",
	    "ext as base64");
	ref_reset();
	msgpack_pack_array(&pk, 7);
	msgpack_pack_float(&pk, 1.5f);
	msgpack_pack_double(&pk, 1.0);
	msgpack_pack_double(&pk, NAN);
	msgpack_pack_double(&pk, -INFINITY);
	msgpack_pack_int64(&pk, INT64_MIN);
	msgpack_pack_uint64(&pk, UINT64_MAX);
	msgpack_pack_float(&pk, 0.1f);
	rendered("[1.5,1.0,null,null,-9223372036854775808,"
	    "18446744073709551615,0.10000000149011612]", "numbers");
	ref_reset();
	msgpack_pack_map(&pk, 2);
	msgpack_pack_str_with_body(&pk, "", 0);
	msgpack_pack_map(&pk, 0);
	msgpack_pack_bin_with_body(&pk, "b", 1);
	msgpack_pack_array(&pk, 0);
	rendered("{\"\":{},\"b\":[]}", "empty containers");
	ref_reset();
	msgpack_pack_ext_with_body(&pk, "", 0, 3);
	rendered("\"\"", "empty ext");
}

/* Property 1: parse, render, parse gives the same msgpack. */
static int
text_roundtrip(const char *t, size_t n)
{
	struct buf a = { NULL, 0, 0 };
	const char *p;
	int r = 0;

	if (pj(t, n) != JSON_OK) {
		printf("# does not parse: %.*s: %s\n", (int)n, t, jerr.msg);
		return 0;
	}
	buf_put(&a, out.p, out.len);
	p = a.p;
	if (mp_skip(&p, a.p + a.len, NULL) == MP_OK && p == a.p + a.len &&
	    render(a.p, a.len)) {
		r = pj(txt.p, txt.len) == JSON_OK && used == txt.len &&
		    out.len == a.len && memcmp(out.p, a.p, a.len) == 0;
	}
	if (!r)
		printf("# round trip fails: %.*s -> %s\n", (int)n, t, txt.p);
	buf_free(&a);
	return r;
}

/* Property 2: json_put_str, then parse, gives the bytes back. */
static int
bytes_roundtrip(const char *s, size_t n)
{
	struct mp_obj o;
	const char *p;

	txt.len = 0;
	json_put_str(&txt, s, n);
	if (pj(txt.p, txt.len) != JSON_OK || used != txt.len)
		return 0;
	p = out.p;
	return mp_head(&p, out.p + out.len, &o) == MP_OK && o.type ==
	    MP_STR && o.len == n && memcmp(o.data, s, n) == 0 &&
	    p == out.p + out.len;
}

static const char *const samples[] = {
	"{\"a\":[1,2.5e3,\"x\\u00e9y\",true,null,false],\"b\":{}}",
	"\"\\ud83d\\ude00 \\ud800 \\udfff \\udc80 \\u0000 \xff\xc0\x80\"",
	"[0,-0,-0.0,1e400000000000000000000000000000000000000000000,1e-400]",
	"[18446744073709551615,18446744073709551616,-9223372036854775808]",
	"[-9223372036854775809,5e-324,1.7976931348623157e308,0.1,1E22]",
	"[123456789012345678901234567890,3.14159265358979323846264338]",
	"{\"\":\"\",\"\\\"\":\"\\\\\",\"\\/\":\"/\"}",
	"{\"\x7f\":\"\\b\\f\\n\\r\\t\"}",
	"[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]",
	"{\"a\":{\"a\":{\"a\":{\"a\":{}}}}}",
	"\"\\u0001\\u001f\\u007f\\u0080\\u07ff\\u0800\\uffff\\ufffe\"",
	"\"\xed\xa0\x80\xf4\x90\x80\x80\xf0\x8f\xbf\xbf\xe2\x82\"",
	"[1.5e300,-2.5e-300,100,1e2,1e+2,1E-2,0.000001,1234567.0]",
};

static void
test_sample_roundtrips(void)
{
	size_t i;

	for (i = 0; i < sizeof samples / sizeof samples[0]; i++) {
		if (strstr(samples[i], "1e4000") != NULL) {
			is_int(pj(samples[i], strlen(samples[i])), JSON_BAD,
			    "out of range sample rejected");
			continue;
		}
		ok(text_roundtrip(samples[i], strlen(samples[i])),
		    "round trip sample %zu", i);
	}
}

/* One random byte: biased to the bytes that need care. */
static char
rnd_byte(void)
{
	static const char special[] = "\"\\/\b\f\n\r\t\x7f\x80\xbf\xc0\xc1"
	    "\xc2\xdf\xe0\xed\xef\xf0\xf4\xf5\xff";

	switch (rndn(4)) {
	case 0:
		return (char)rndn(256);
	case 1:
		return special[rndn(sizeof special - 1)];
	case 2:
		return (char)(0x80 + rndn(64));
	default:
		return (char)(0x20 + rndn(95));
	}
}

static void
test_random_bytes(void)
{
	struct buf t = { NULL, 0, 0 };
	char s[80];
	int i, fails = 0;
	size_t n, k;

	for (i = 0; i < 5000; i++) {
		n = rndn(sizeof s);
		for (k = 0; k < n; k++)
			s[k] = rnd_byte();
		if (!bytes_roundtrip(s, n)) {
			if (fails++ == 0)
				printf("# first failure: %s\n", hex(s, n));
		}
		t.len = 0;
		buf_put(&t, txt.p, txt.len);
		if (!text_roundtrip(t.p, t.len))
			fails++;
	}
	is_int(fails, 0, "5000 random byte strings round trip");
	buf_free(&t);
}

static void gen_value(struct buf *, int);

static void
gen_ws(struct buf *b)
{
	static const char ws[] = " \t\r\n";

	while (rndn(4) == 0)
		buf_putc(b, ws[rndn(4)]);
}

static void
gen_string(struct buf *b)
{
	static const char *const esc[] = { "\\\"", "\\\\", "\\/", "\\b",
	    "\\f", "\\n", "\\r", "\\t", "\\u0000", "\\ud83d\\ude00",
	    "\\ud800", "\\udfff", "\\udc80", "\\udcff", "\xc3\xa9",
	    "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xff", "\xed\xa0\x80" };
	char u[8];
	int n;

	buf_putc(b, '"');
	for (n = rndn(12); n > 0; n--) {
		if (rndn(3) == 0) {
			buf_puts(b, esc[rndn(sizeof esc / sizeof esc[0])]);
		} else if (rndn(4) == 0) {
			snprintf(u, sizeof u, "\\u%04x", rndn(0x10000));
			buf_puts(b, u);
		} else {
			buf_putc(b, "abcXYZ 09~{}[],:"[rndn(16)]);
		}
	}
	buf_putc(b, '"');
}

static void
gen_number(struct buf *b)
{
	static const char *const num[] = { "0", "-0", "1", "-1", "127",
	    "-33", "65536", "9223372036854775807", "-9223372036854775808",
	    "18446744073709551615", "18446744073709551616", "0.1", "-0.0",
	    "1e-300", "5e-324", "1.7976931348623157e308", "2.5E+3", "1e22",
	    "123456789.123456789", "-9223372036854775809" };
	char t[32];

	if (rndn(2)) {
		buf_puts(b, num[rndn(sizeof num / sizeof num[0])]);
		return;
	}
	snprintf(t, sizeof t, "%s%u.%ue%d", rndn(2) ? "-" : "", rndn(100000),
	    rndn(1000), (int)rndn(600) - 300);
	buf_puts(b, t);
}

static void
gen_container(struct buf *b, int depth, int obj)
{
	int n;

	buf_putc(b, obj ? '{' : '[');
	gen_ws(b);
	for (n = rndn(6); n > 0; n--) {
		if (obj) {
			gen_string(b);
			gen_ws(b);
			buf_putc(b, ':');
			gen_ws(b);
		}
		gen_value(b, depth + 1);
		gen_ws(b);
		if (n > 1) {
			buf_putc(b, ',');
			gen_ws(b);
		}
	}
	buf_putc(b, obj ? '}' : ']');
}

static void
gen_value(struct buf *b, int depth)
{
	switch (rndn(depth > 5 ? 4 : 6)) {
	case 0:
		gen_string(b);
		break;
	case 1:
		gen_number(b);
		break;
	case 2:
		buf_puts(b, rndn(2) ? "true" : rndn(2) ? "false" : "null");
		break;
	case 3:
		gen_string(b);
		break;
	default:
		gen_container(b, depth, rndn(2));
	}
}

static void
test_random_texts(void)
{
	struct buf t = { NULL, 0, 0 };
	int i, fails = 0;

	for (i = 0; i < 3000; i++) {
		t.len = 0;
		gen_value(&t, 0);
		if (!text_roundtrip(t.p, t.len))
			fails++;
	}
	is_int(fails, 0, "3000 random JSON texts round trip");
	buf_free(&t);
}

int
main(void)
{
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	test_escapes();
	test_put_str();
	test_ints();
	test_floats();
	test_put_double();
	test_float_fastpath();
	test_bad();
	test_splits();
	test_used();
	test_nesting();
	test_sizes();
	test_str_sizes();
	test_msgpack_c();
	test_render();
	test_sample_roundtrips();
	test_random_bytes();
	test_random_texts();
	msgpack_sbuffer_destroy(&sb);
	buf_free(&out);
	buf_free(&txt);
	return done_testing();
}

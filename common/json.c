/* json - JSON text (RFC 8259) to msgpack and back, exact */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "json.h"
#include "mp.h"

/* Parser state: offsets in errors are counted from s. */
struct jp {
	const unsigned char *s;
	const unsigned char *p;
	const unsigned char *end;
	int eof;
	int depth;
	struct buf *out;
	struct json_err *err;
};

/* A number as scanned: its digits and exponent, before any conversion. */
struct num {
	uint64_t m;             /* integer and fraction digits */
	int ovf;                /* m would overflow: some digits not in it */
	int neg;
	int isfloat;            /* has a fraction or an exponent */
	long frac;              /* fraction digits in m */
	long exp;               /* the explicit exponent, clamped */
};

#define ONES    0x0101010101010101ull
#define HIGHS   0x8080808080808080ull

#define U(c) "unexpected character '" c "'"
static const char *const unexpected_msg[] = {
	U(" "), U("!"), U("\""), U("#"), U("$"), U("%"), U("&"), U("'"),
	U("("), U(")"), U("*"), U("+"), U(","), U("-"), U("."), U("/"),
	U("0"), U("1"), U("2"), U("3"), U("4"), U("5"), U("6"), U("7"),
	U("8"), U("9"), U(":"), U(";"), U("<"), U("="), U(">"), U("?"),
	U("@"), U("A"), U("B"), U("C"), U("D"), U("E"), U("F"), U("G"),
	U("H"), U("I"), U("J"), U("K"), U("L"), U("M"), U("N"), U("O"),
	U("P"), U("Q"), U("R"), U("S"), U("T"), U("U"), U("V"), U("W"),
	U("X"), U("Y"), U("Z"), U("["), U("\\"), U("]"), U("^"), U("_"),
	U("`"), U("a"), U("b"), U("c"), U("d"), U("e"), U("f"), U("g"),
	U("h"), U("i"), U("j"), U("k"), U("l"), U("m"), U("n"), U("o"),
	U("p"), U("q"), U("r"), U("s"), U("t"), U("u"), U("v"), U("w"),
	U("x"), U("y"), U("z"), U("{"), U("|"), U("}"), U("~"),
};
#undef U

/* Powers of ten that are exact in a double. */
static const double pow10_tab[] = {
	1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22
};

static const char hexdig[] = "0123456789abcdef";

static int parse_value(struct jp *);

/* Nonzero if some byte of v is zero (exact as a yes/no answer). */
static inline uint64_t
has_zero(uint64_t v)
{
	return (v - ONES) & ~v & HIGHS;
}

/* Nonzero if some byte of v is below n, for n <= 128. */
static inline uint64_t
has_less(uint64_t v, unsigned n)
{
	return (v - ONES * n) & ~v & HIGHS;
}

static inline uint64_t
load64(const unsigned char *p)
{
	uint64_t w;

	memcpy(&w, p, sizeof w);
	return w;
}

static inline void
store_be(unsigned char *d, uint64_t v, int n)
{
	while (n-- > 0) {
		d[n] = (unsigned char)v;
		v >>= 8;
	}
}

/* Returns the first '"', '\\' or control byte at or after p, or end. */
static const unsigned char *
skip_str_plain(const unsigned char *p, const unsigned char *end)
{
	uint64_t w;

	while (end - p >= 8) {
		w = load64(p);
		if (has_less(w, 0x20) | has_zero(w ^ (ONES * '"')) |
		    has_zero(w ^ (ONES * '\\')))
			break;
		p += 8;
	}
	while (p < end && *p >= 0x20 && *p != '"' && *p != '\\')
		p++;
	return p;
}

/* As skip_str_plain, but also stops at any byte >= 0x80. */
static const unsigned char *
skip_ascii_plain(const unsigned char *p, const unsigned char *end)
{
	uint64_t w;

	while (end - p >= 8) {
		w = load64(p);
		if ((w & HIGHS) | has_less(w, 0x20) |
		    has_zero(w ^ (ONES * '"')) | has_zero(w ^ (ONES * '\\')))
			break;
		p += 8;
	}
	while (p < end && *p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\')
		p++;
	return p;
}

static const unsigned char *
skip_ws(const unsigned char *p, const unsigned char *end)
{
	while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' ||
	    *p == '\t'))
		p++;
	return p;
}

/* msgpack writers: the smallest encoding, as msgpack-c's packer makes. */
static void
put_uint(struct buf *b, uint64_t v)
{
	unsigned char *d;
	int n;

	buf_reserve(b, 9);
	d = (unsigned char *)b->p + b->len;
	if (v < 0x80) {
		d[0] = (unsigned char)v;
		b->len++;
		return;
	}
	if (v < 0x100)
		d[0] = 0xcc, n = 1;
	else if (v < 0x10000)
		d[0] = 0xcd, n = 2;
	else if (v <= 0xffffffffu)
		d[0] = 0xce, n = 4;
	else
		d[0] = 0xcf, n = 8;
	store_be(d + 1, v, n);
	b->len += 1 + n;
}

/* v < 0 */
static void
put_negint(struct buf *b, int64_t v)
{
	unsigned char *d;
	int n;

	buf_reserve(b, 9);
	d = (unsigned char *)b->p + b->len;
	if (v >= -32) {
		d[0] = (unsigned char)(v & 0xff);
		b->len++;
		return;
	}
	if (v >= -128)
		d[0] = 0xd0, n = 1;
	else if (v >= -32768)
		d[0] = 0xd1, n = 2;
	else if (v >= INT32_MIN)
		d[0] = 0xd2, n = 4;
	else
		d[0] = 0xd3, n = 8;
	store_be(d + 1, (uint64_t)v, n);
	b->len += 1 + n;
}

static void
put_float(struct buf *b, double f)
{
	uint64_t u;

	memcpy(&u, &f, sizeof u);
	buf_reserve(b, 9);
	b->p[b->len] = (char)0xcb;
	store_be((unsigned char *)b->p + b->len + 1, u, 8);
	b->len += 9;
}

static size_t
strhdr_len(size_t n)
{
	return n < 32 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : 5;
}

/* Writes a str header for n bytes at d; returns its length. */
static size_t
strhdr_at(unsigned char *d, size_t n)
{
	size_t hl = strhdr_len(n);

	if (hl == 1) {
		d[0] = (unsigned char)(0xa0 | n);
		return 1;
	}
	d[0] = hl == 2 ? 0xd9 : hl == 3 ? 0xda : 0xdb;
	store_be(d + 1, n, (int)hl - 1);
	return hl;
}

static int
bad(struct jp *j, const unsigned char *at, const char *msg)
{
	j->err->offset = (size_t)(at - j->s);
	j->err->msg = msg;
	return JSON_BAD;
}

/* The text ended inside a value. */
static int
ended(struct jp *j)
{
	if (!j->eof)
		return JSON_SHORT;
	return bad(j, j->end, "unexpected end of input");
}

static int
unexpected(struct jp *j, const unsigned char *at)
{
	if (*at < 0x20)
		return bad(j, at, "unexpected control character");
	if (*at >= 0x7f)
		return bad(j, at, "unexpected byte");
	return bad(j, at, unexpected_msg[*at - 0x20]);
}

static int
parse_lit(struct jp *j, const char *lit, size_t n, int byte)
{
	size_t i, avail = (size_t)(j->end - j->p);

	for (i = 1; i < n; i++) {
		if (i == avail)
			return ended(j);
		if (j->p[i] != (unsigned char)lit[i])
			return unexpected(j, j->p + i);
	}
	buf_putc(j->out, byte);
	j->p += n;
	return JSON_OK;
}

/* Writes the final header of a container of n items whose 1-byte
 * placeholder is at hdr, moving its contents if a longer one is needed. */
static void
fix_header(struct buf *b, size_t hdr, uint32_t n, int fix, int code16)
{
	size_t grow;

	if (n < 16) {
		b->p[hdr] = (char)(fix | n);
		return;
	}
	grow = n < 0x10000 ? 2 : 4;
	buf_reserve(b, grow);
	memmove(b->p + hdr + 1 + grow, b->p + hdr + 1, b->len - hdr - 1);
	b->p[hdr] = (char)(grow == 2 ? code16 : code16 + 1);
	store_be((unsigned char *)b->p + hdr + 1, n, (int)grow);
	b->len += grow;
}

static int
ishex(int c)
{
	return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' &&
	    (c | 0x20) <= 'f');
}

static unsigned
hex4(const unsigned char *p)
{
	unsigned v = 0;
	int i, c;

	for (i = 0; i < 4; i++) {
		c = p[i];
		v = v << 4 | (unsigned)(c <= '9' ? c - '0' : (c | 0x20) - 'a' +
		    10);
	}
	return v;
}

/* The string that starts at j->p has no end before j->end. */
static int
unterminated(struct jp *j)
{
	if (!j->eof)
		return JSON_SHORT;
	return bad(j, j->p, "unterminated string");
}

/* Checks the escape at p (a backslash inside the string at j->p). */
static int
check_escape(struct jp *j, const unsigned char *p)
{
	size_t i, avail = (size_t)(j->end - p);

	if (avail < 2)
		return unterminated(j);
	switch (p[1]) {
	case '"': case '\\': case '/':
	case 'b': case 'f': case 'n': case 'r': case 't':
		return JSON_OK;
	case 'u':
		for (i = 2; i < 6; i++) {
			if (i == avail)
				return unterminated(j);
			if (!ishex(p[i]))
				return bad(j, p, "invalid \\u escape");
		}
		return JSON_OK;
	default:
		return bad(j, p, "invalid escape");
	}
}

/* Finds the closing quote of the string at j->p, validating escapes. */
static int
scan_string(struct jp *j, const unsigned char **q, int *esc)
{
	const unsigned char *p = j->p + 1;
	int r;

	for (;;) {
		p = skip_str_plain(p, j->end);
		if (p == j->end)
			return unterminated(j);
		if (*p == '"')
			break;
		if (*p < 0x20)
			return bad(j, p, "control character in string");
		if ((r = check_escape(j, p)) != JSON_OK)
			return r;
		*esc = 1;
		p += p[1] == 'u' ? 6 : 2;
	}
	*q = p;
	return JSON_OK;
}

static unsigned char *
put_utf8(unsigned char *d, unsigned long c)
{
	if (c < 0x80) {
		*d++ = (unsigned char)c;
	} else if (c < 0x800) {
		*d++ = (unsigned char)(0xc0 | c >> 6);
		*d++ = (unsigned char)(0x80 | (c & 0x3f));
	} else if (c < 0x10000) {
		*d++ = (unsigned char)(0xe0 | c >> 12);
		*d++ = (unsigned char)(0x80 | (c >> 6 & 0x3f));
		*d++ = (unsigned char)(0x80 | (c & 0x3f));
	} else {
		*d++ = (unsigned char)(0xf0 | c >> 18);
		*d++ = (unsigned char)(0x80 | (c >> 12 & 0x3f));
		*d++ = (unsigned char)(0x80 | (c >> 6 & 0x3f));
		*d++ = (unsigned char)(0x80 | (c & 0x3f));
	}
	return d;
}

/*
 * Decodes the (validated) \u escape at p into *d; returns the text after
 * it.  Pairs are joined; a lone \udc80..\udcff is the byte it escapes;
 * any other lone surrogate is U+FFFD.
 */
static const unsigned char *
decode_u(unsigned char **d, const unsigned char *p, const unsigned char *q)
{
	unsigned long c = hex4(p + 2), lo;

	p += 6;
	if (c >= 0xd800 && c <= 0xdbff) {
		if (q - p >= 6 && p[0] == '\\' && p[1] == 'u' &&
		    (lo = hex4(p + 2)) >= 0xdc00 && lo <= 0xdfff) {
			c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
			p += 6;
		} else {
			c = 0xfffd;
		}
	} else if (c >= 0xdc00 && c <= 0xdfff) {
		if (c >= 0xdc80 && c <= 0xdcff) {
			*(*d)++ = (unsigned char)(c & 0xff);
			return p;
		}
		c = 0xfffd;
	}
	*d = put_utf8(*d, c);
	return p;
}

/* The byte a one-letter escape stands for. */
static unsigned char
unescape(int c)
{
	switch (c) {
	case 'b':
		return '\b';
	case 'f':
		return '\f';
	case 'n':
		return '\n';
	case 'r':
		return '\r';
	case 't':
		return '\t';
	default:
		return (unsigned char)c;        /* '"', '\\' or '/' */
	}
}

/* Decodes the validated string body [p, q) to dst; returns its length.
 * The result is never longer than the text. */
static size_t
decode_string(unsigned char *dst, const unsigned char *p,
    const unsigned char *q)
{
	const unsigned char *r;
	unsigned char *d = dst;

	while (p < q) {
		r = memchr(p, '\\', (size_t)(q - p));
		if (r == NULL)
			r = q;
		memcpy(d, p, (size_t)(r - p));
		d += r - p;
		if (r == q)
			break;
		if (r[1] == 'u') {
			p = decode_u(&d, r, q);
		} else {
			*d++ = unescape(r[1]);
			p = r + 2;
		}
	}
	return (size_t)(d - dst);
}

static int
parse_string(struct jp *j)
{
	const unsigned char *q;
	unsigned char *d;
	size_t n, m, hl;
	int esc = 0, r;

	if ((r = scan_string(j, &q, &esc)) != JSON_OK)
		return r;
	n = (size_t)(q - j->p - 1);
	if (n > 0xffffffffu)
		return bad(j, j->p, "string too long");
	hl = strhdr_len(n);
	buf_reserve(j->out, hl + n);
	d = (unsigned char *)j->out->p + j->out->len;
	if (!esc) {
		memcpy(d + strhdr_at(d, n), j->p + 1, n);
		j->out->len += hl + n;
	} else {
		m = decode_string(d + hl, j->p + 1, q);
		if (strhdr_len(m) != hl)
			memmove(d + strhdr_len(m), d + hl, m);
		j->out->len += strhdr_at(d, m) + m;
	}
	j->p = q + 1;
	return JSON_OK;
}

/* Scans digits into nm; frac says they follow the decimal point. */
static const unsigned char *
scan_digits(const unsigned char *p, const unsigned char *end, struct num *nm,
    int frac)
{
	unsigned dg;

	for (; p < end && (dg = (unsigned)*p - '0') < 10; p++) {
		if (!nm->ovf && nm->m <= (UINT64_MAX - dg) / 10) {
			nm->m = nm->m * 10 + dg;
			nm->frac += frac;
		} else {
			nm->ovf = 1;
		}
	}
	return p;
}

/* Scans an exponent after the 'e' at p; returns the text after it. */
static int
scan_exp(struct jp *j, const unsigned char **pp, struct num *nm)
{
	const unsigned char *p = *pp + 1;
	int neg = 0;

	if (p < j->end && (*p == '+' || *p == '-'))
		neg = *p++ == '-';
	if (p == j->end)
		return ended(j);
	if ((unsigned)*p - '0' >= 10)
		return bad(j, p, "expected digit in exponent");
	for (; p < j->end && (unsigned)*p - '0' < 10; p++)
		if (nm->exp < 1000000)
			nm->exp = nm->exp * 10 + (*p - '0');
	if (neg)
		nm->exp = -nm->exp;
	nm->isfloat = 1;
	*pp = p;
	return JSON_OK;
}

/* Scans the integer part of the number at p, after any '-'. */
static int
scan_int(struct jp *j, const unsigned char **pp, struct num *nm)
{
	const unsigned char *p = *pp;

	if (p == j->end)
		return ended(j);
	if (*p == '0') {
		if (++p < j->end && (unsigned)*p - '0' < 10)
			return bad(j, p, "leading zero in number");
	} else if ((unsigned)*p - '1' < 9) {
		p = scan_digits(p, j->end, nm, 0);
	} else {
		return bad(j, p, "expected digit after '-'");
	}
	*pp = p;
	return JSON_OK;
}

/* Scans the number at j->p to *pp (grammar only, no conversion). */
static int
scan_number(struct jp *j, const unsigned char **pp, struct num *nm)
{
	const unsigned char *p = j->p, *end = j->end;
	int r;

	if (*p == '-') {
		nm->neg = 1;
		p++;
	}
	if ((r = scan_int(j, &p, nm)) != JSON_OK)
		return r;
	if (p < end && *p == '.') {
		if (++p == end)
			return ended(j);
		if ((unsigned)*p - '0' >= 10)
			return bad(j, p, "expected digit after '.'");
		p = scan_digits(p, end, nm, 1);
		nm->isfloat = 1;
	}
	if (p < end && (*p == 'e' || *p == 'E') &&
	    (r = scan_exp(j, &p, nm)) != JSON_OK)
		return r;
	/* "12" at the end of the text could still become "123" */
	if (p == end && !j->eof)
		return JSON_SHORT;
	*pp = p;
	return JSON_OK;
}

/* Converts the number text [p, q) with strtod (correctly rounded). */
static double
slow_double(const unsigned char *p, const unsigned char *q)
{
	char tmp[64], *t = tmp;
	size_t n = (size_t)(q - p);
	double d;

	if (n >= sizeof tmp)
		t = xmalloc(n + 1);
	memcpy(t, p, n);
	t[n] = '\0';
	d = strtod(t, NULL);
	if (t != tmp)
		free(t);
	return d;
}

static double
to_double(const unsigned char *p, const unsigned char *q,
    const struct num *nm)
{
	long e = nm->exp - nm->frac;
	double d;

#if defined(FLT_EVAL_METHOD) && FLT_EVAL_METHOD == 0
	/* Clinger's fast path: both operands exact, one rounding. */
	if (!nm->ovf && nm->m <= (1ull << 53) && e >= -22 && e <= 22) {
		d = (double)nm->m;
		d = e < 0 ? d / pow10_tab[-e] : d * pow10_tab[e];
		return nm->neg ? -d : d;
	}
#else
	(void)e;
#endif
	return slow_double(p, q);
}

static int
parse_number(struct jp *j)
{
	struct num nm = { 0, 0, 0, 0, 0, 0 };
	const unsigned char *q;
	double d;
	int r;

	if ((r = scan_number(j, &q, &nm)) != JSON_OK)
		return r;
	if (!nm.isfloat && !nm.ovf && !nm.neg) {
		put_uint(j->out, nm.m);
	} else if (!nm.isfloat && !nm.ovf && nm.m <= (uint64_t)INT64_MAX + 1) {
		if (nm.m == 0)
			put_uint(j->out, 0);
		else
			put_negint(j->out, -(int64_t)(nm.m - 1) - 1);
	} else {
		d = to_double(j->p, q, &nm);
		if (isinf(d))
			return bad(j, j->p, "number out of range");
		put_float(j->out, d);
	}
	j->p = q;
	return JSON_OK;
}

/* Skips white space; returns nonzero if text remains. */
static int
more(struct jp *j)
{
	j->p = skip_ws(j->p, j->end);
	return j->p < j->end;
}

static int
parse_array(struct jp *j)
{
	size_t hdr = j->out->len;
	uint32_t n = 0;
	int r;

	buf_putc(j->out, 0x90);
	j->p++;
	if (!more(j))
		return ended(j);
	if (*j->p != ']') {
		for (;;) {
			if (n == UINT32_MAX)
				return bad(j, j->p, "too many elements");
			if ((r = parse_value(j)) != JSON_OK)
				return r;
			n++;
			if (!more(j))
				return ended(j);
			if (*j->p == ']')
				break;
			if (*j->p != ',')
				return bad(j, j->p, "expected ',' or ']'");
			j->p++;
			if (!more(j))
				return ended(j);
		}
	}
	j->p++;
	fix_header(j->out, hdr, n, 0x90, 0xdc);
	return JSON_OK;
}

/* Parses a key, its ':' and its value. */
static int
parse_member(struct jp *j)
{
	int r;

	if (*j->p != '"')
		return bad(j, j->p, "expected string as object key");
	if ((r = parse_string(j)) != JSON_OK)
		return r;
	if (!more(j))
		return ended(j);
	if (*j->p != ':')
		return bad(j, j->p, "expected ':' after key");
	j->p++;
	if (!more(j))
		return ended(j);
	return parse_value(j);
}

static int
parse_object(struct jp *j)
{
	size_t hdr = j->out->len;
	uint32_t n = 0;
	int r;

	buf_putc(j->out, 0x80);
	j->p++;
	if (!more(j))
		return ended(j);
	if (*j->p != '}') {
		for (;;) {
			if (n == UINT32_MAX)
				return bad(j, j->p, "too many members");
			if ((r = parse_member(j)) != JSON_OK)
				return r;
			n++;
			if (!more(j))
				return ended(j);
			if (*j->p == '}')
				break;
			if (*j->p != ',')
				return bad(j, j->p, "expected ',' or '}'");
			j->p++;
			if (!more(j))
				return ended(j);
		}
	}
	j->p++;
	fix_header(j->out, hdr, n, 0x80, 0xde);
	return JSON_OK;
}

/* Parses the value at j->p (not white space, not the end). */
static int
parse_value(struct jp *j)
{
	int r;

	switch (*j->p) {
	case '"':
		return parse_string(j);
	case '[': case '{':
		if (j->depth == JSON_MAX_DEPTH)
			return bad(j, j->p, "nesting too deep");
		j->depth++;
		r = *j->p == '[' ? parse_array(j) : parse_object(j);
		j->depth--;
		return r;
	case 't':
		return parse_lit(j, "true", 4, 0xc3);
	case 'f':
		return parse_lit(j, "false", 5, 0xc2);
	case 'n':
		return parse_lit(j, "null", 4, 0xc0);
	case '-': case '0': case '1': case '2': case '3': case '4':
	case '5': case '6': case '7': case '8': case '9':
		return parse_number(j);
	default:
		return unexpected(j, j->p);
	}
}

int
json_parse(const char *s, size_t len, int eof, size_t *used,
    struct buf *out, struct json_err *err)
{
	struct json_err dummy;
	struct jp j;
	size_t len0 = out->len;
	int r;

	if (used != NULL)
		*used = 0;
	if (len == 0)
		return JSON_EMPTY;
	j.s = j.p = (const unsigned char *)s;
	j.end = j.s + len;
	j.eof = eof;
	j.depth = 0;
	j.out = out;
	j.err = err != NULL ? err : &dummy;
	if (!more(&j)) {
		if (used != NULL)
			*used = len;
		return JSON_EMPTY;
	}
	r = parse_value(&j);
	if (r != JSON_OK) {
		out->len = len0;
		return r;
	}
	if (used != NULL)
		*used = (size_t)(j.p - j.s);
	return JSON_OK;
}

/*
 * Returns the length of the valid UTF-8 sequence (RFC 3629) at p, whose
 * first byte is >= 0x80, or 0 if it is not one.
 */
static size_t
utf8_len(const unsigned char *p, const unsigned char *end)
{
	unsigned c = p[0], lo = 0x80, hi = 0xbf;
	size_t i, n;

	if (c < 0xc2 || c > 0xf4)
		return 0;
	if (c < 0xe0) {
		n = 2;
	} else if (c < 0xf0) {
		n = 3;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
	} else {
		n = 4;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
	}
	if ((size_t)(end - p) < n || p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

/* Returns the end of the run at p that can be copied as it is. */
static const unsigned char *
verbatim_run(const unsigned char *p, const unsigned char *end)
{
	size_t n;

	for (;;) {
		p = skip_ascii_plain(p, end);
		if (p == end || *p < 0x80 || (n = utf8_len(p, end)) == 0)
			return p;
		p += n;
	}
}

/* The letter of the short escape for c, or 0 if it has none. */
static int
short_escape(unsigned c)
{
	switch (c) {
	case '\b':
		return 'b';
	case '\f':
		return 'f';
	case '\n':
		return 'n';
	case '\r':
		return 'r';
	case '\t':
		return 't';
	case '"':
		return '"';
	case '\\':
		return '\\';
	default:
		return 0;
	}
}

/* Writes the escape for c: a special ASCII character, or a byte of
 * invalid UTF-8 as a PEP 383 surrogate. */
static void
put_escape(struct buf *b, unsigned c)
{
	char t[6];
	int e;

	if ((e = short_escape(c)) != 0) {
		t[0] = '\\';
		t[1] = (char)e;
		buf_put(b, t, 2);
		return;
	}
	memcpy(t, c < 0x80 ? "\\u00" : "\\udc", 4);
	t[4] = hexdig[c >> 4];
	t[5] = hexdig[c & 0xf];
	buf_put(b, t, 6);
}

void
json_put_str(struct buf *out, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *end, *r;

	buf_reserve(out, len + 2);
	buf_putc(out, '"');
	if (len == 0) {
		buf_putc(out, '"');
		return;
	}
	for (end = p + len; p < end; p = r + 1) {
		r = verbatim_run(p, end);
		buf_put(out, p, (size_t)(r - p));
		if (r == end)
			break;
		put_escape(out, *r);
	}
	buf_putc(out, '"');
}

static void
put_dec(struct buf *b, uint64_t v, int neg)
{
	char t[24], *e = t + sizeof t, *p = e;

	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	if (neg)
		*--p = '-';
	buf_put(b, p, (size_t)(e - p));
}

void
json_put_double(struct buf *out, double d)
{
	char t[40];
	int prec, n = 0;

	if (isnan(d) || isinf(d)) {
		buf_put(out, "null", 4);
		return;
	}
	if (fabs(d) < 1e15 && d == (double)(int64_t)d) {
		/* what %.15g would print, without printf */
		put_dec(out, (uint64_t)fabs(d), signbit(d) != 0);
		buf_put(out, ".0", 2);
		return;
	}
	/*
	 * For a normal double, %.15g is the shortest form whenever it reads
	 * back (any shorter decimal that did would round to it); a subnormal
	 * holds fewer digits, so search from one.
	 */
	for (prec = fabs(d) < DBL_MIN ? 1 : 15; prec <= 17; prec++) {
		n = snprintf(t, sizeof t, "%.*g", prec, d);
		if (strtod(t, NULL) == d)
			break;
	}
	buf_put(out, t, (size_t)n);
	if (strpbrk(t, ".e") == NULL)
		buf_put(out, ".0", 2);
}

static void
put_base64(struct buf *b, const unsigned char *p, size_t n)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789+/";
	unsigned long v;
	char t[4];
	size_t i;

	buf_reserve(b, (n + 2) / 3 * 4 + 2);
	buf_putc(b, '"');
	for (i = 0; i < n; i += 3) {
		v = (unsigned long)p[i] << 16;
		if (i + 1 < n)
			v |= (unsigned long)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		t[0] = a[v >> 18];
		t[1] = a[v >> 12 & 63];
		t[2] = i + 1 < n ? a[v >> 6 & 63] : '=';
		t[3] = i + 2 < n ? a[v & 63] : '=';
		buf_put(b, t, 4);
	}
	buf_putc(b, '"');
}

static void
put_ext(struct buf *b, const struct mp_obj *o)
{
	const unsigned char *d = (const unsigned char *)o->data;

	if (o->ext_type == 0 && o->len == 8)
		put_dec(b, (uint64_t)d[0] << 24 | (uint64_t)d[1] << 16 |
		    (uint64_t)d[2] << 8 | d[3], 0);
	else
		put_base64(b, d, o->len);
}

/* Writes a map key: str and bin as strings, anything else as the JSON
 * string of its JSON text. */
static void
put_key(struct buf *b, const char **p, const char *end)
{
	struct buf t = { NULL, 0, 0 };
	const char *q = *p;
	struct mp_obj o;

	if (mp_head(&q, end, &o) == MP_OK && (o.type == MP_STR ||
	    o.type == MP_BIN)) {
		json_put_str(b, o.data, o.len);
		*p = q;
		return;
	}
	if (o.type == MP_ARRAY || o.type == MP_MAP) {
		/*
		 * The JSON text of a container key would be escaped again at
		 * every level of nesting, growing exponentially: write the
		 * key's msgpack bytes in base64 instead.
		 */
		q = *p;
		mp_skip(p, end, NULL);
		put_base64(b, (const unsigned char *)q, *p - q);
		return;
	}
	json_from_mp(&t, p, end);
	json_put_str(b, t.p, t.len);
	buf_free(&t);
}

static void
put_container(struct buf *out, const char **p, const char *end,
    const struct mp_obj *o)
{
	uint32_t i;

	buf_putc(out, o->type == MP_MAP ? '{' : '[');
	for (i = 0; i < o->v.n; i++) {
		if (i > 0)
			buf_putc(out, ',');
		if (o->type == MP_MAP) {
			put_key(out, p, end);
			buf_putc(out, ':');
		}
		json_from_mp(out, p, end);
	}
	buf_putc(out, o->type == MP_MAP ? '}' : ']');
}

void
json_from_mp(struct buf *out, const char **p, const char *end)
{
	struct mp_obj o;

	if (mp_head(p, end, &o) != MP_OK) {
		/* not validated: say null and stop at the end */
		buf_put(out, "null", 4);
		*p = end;
		return;
	}
	switch (o.type) {
	case MP_NIL:
		buf_put(out, "null", 4);
		break;
	case MP_BOOL:
		buf_puts(out, o.v.b ? "true" : "false");
		break;
	case MP_UINT:
		put_dec(out, o.v.u, 0);
		break;
	case MP_INT:
		put_dec(out, o.v.i < 0 ? 0 - (uint64_t)o.v.i :
		    (uint64_t)o.v.i, o.v.i < 0);
		break;
	case MP_FLOAT:
		json_put_double(out, o.v.f);
		break;
	case MP_STR:
	case MP_BIN:
		json_put_str(out, o.data, o.len);
		break;
	case MP_EXT:
		put_ext(out, &o);
		break;
	case MP_ARRAY:
	case MP_MAP:
		put_container(out, p, end, &o);
		break;
	}
}

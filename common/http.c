/* http - request heads, chunked bodies, forms and multipart, gzip */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gz.h"
#include "http.h"

static const char *
find_crlf(const char *p, const char *end)
{
	const char *q;

	for (q = p; q + 1 < end; q++)
		if (q[0] == '\r' && q[1] == '\n')
			return q;
	return NULL;
}

static int
token_eq(const char *s, size_t n, const char *w)
{
	return n == strlen(w) && strncasecmp(s, w, n) == 0;
}

/* A tchar of RFC 9110: the bytes of methods and header names. */
static int
tchar(int c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z') || (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* Are s[0..n) all tchars? */
static int
is_token(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!tchar((unsigned char)s[i]))
			return 0;
	return n > 0;
}

/* Does s[0..n) hold a control byte (but tab, if tab)? */
static int
has_ctl(const char *s, size_t n, int tab)
{
	size_t i;
	unsigned char c;

	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if ((c < 0x20 && !(tab && c == '\t')) || c == 0x7f)
			return 1;
	}
	return 0;
}

/* The request line: METHOD SP TARGET SP HTTP/1.x */
static int
request_line(const char *p, const char *eol, struct http_req *rq)
{
	const char *sp1 = memchr(p, ' ', eol - p), *sp2, *q;

	if (!sp1 || !(sp2 = memchr(sp1 + 1, ' ', eol - sp1 - 1)))
		return -1;
	if (eol - sp2 != 9 || strncmp(sp2 + 1, "HTTP/1.", 7) != 0 ||
	    (sp2[8] != '0' && sp2[8] != '1'))
		return -1;
	rq->method = p;
	rq->method_len = sp1 - p;
	rq->path = sp1 + 1;
	q = memchr(rq->path, '?', sp2 - rq->path);
	rq->path_len = (q ? q : sp2) - rq->path;
	rq->query = q ? q + 1 : sp2;
	rq->query_len = q ? (size_t)(sp2 - q - 1) : 0;
	rq->minor = sp2[8] - '0';
	if (!is_token(rq->method, rq->method_len) ||
	    has_ctl(rq->path, sp2 - rq->path, 0))
		return -1;
	return *rq->path == '/' ? 0 : -1;
}

/*
 * One header line.  Whitespace before the colon, an obsolete folded line
 * (it starts with whitespace) and control bytes in the value are errors:
 * another server reading them otherwise could see another request.
 */
static int
header_line(const char *p, const char *eol, struct http_req *rq)
{
	const char *colon = memchr(p, ':', eol - p), *v;
	struct http_hdr *h;

	if (!colon || !is_token(p, colon - p) || rq->nhdr == HTTP_MAX_HEADERS)
		return -1;
	for (v = colon + 1; v < eol && (*v == ' ' || *v == '\t'); v++)
		;
	while (eol > v && (eol[-1] == ' ' || eol[-1] == '\t'))
		eol--;
	if (has_ctl(v, eol - v, 1))
		return -1;
	h = &rq->hdr[rq->nhdr++];
	h->name = p;
	h->nlen = colon - p;
	h->value = v;
	h->vlen = eol - v;
	return 0;
}

/* A Content-Length value: 1 or more digits, at most LLONG_MAX; or -1. */
static long long
length_value(const char *v, size_t n)
{
	long long x = 0;
	size_t i;

	if (n == 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9' ||
		    x > (LLONG_MAX - (v[i] - '0')) / 10)
			return -1;
		x = x * 10 + (v[i] - '0');
	}
	return x;
}

/*
 * How long the body is: Content-Length, chunked, or neither.  Following
 * RFC 9112 section 6.3, repeated Content-Length headers are taken when
 * they all say the same (a list "5, 5" in one header is not), refused when
 * they differ; Transfer-Encoding with Content-Length, a coding other than
 * a lone chunked, or one in HTTP/1.0 is refused: a proxy in front that
 * framed the body otherwise would let a client smuggle a request past it.
 */
static const char *
body_length(struct http_req *rq)
{
	const struct http_hdr *h;
	long long x;
	int i, nte = 0;

	rq->content_length = -1;
	for (i = 0; i < rq->nhdr; i++) {
		h = &rq->hdr[i];
		if (token_eq(h->name, h->nlen, "transfer-encoding")) {
			if (nte++ || !token_eq(h->value, h->vlen, "chunked"))
				return "unsupported Transfer-Encoding";
			rq->chunked = 1;
		} else if (token_eq(h->name, h->nlen, "content-length")) {
			if ((x = length_value(h->value, h->vlen)) < 0)
				return "bad Content-Length";
			if (rq->content_length >= 0 && x != rq->content_length)
				return "Content-Length headers differ";
			rq->content_length = x;
		}
	}
	if (rq->chunked && rq->content_length >= 0)
		return "both Content-Length and Transfer-Encoding";
	if (rq->chunked && rq->minor == 0)
		return "Transfer-Encoding in HTTP/1.0";
	return NULL;
}

static void
head_meaning(struct http_req *rq)
{
	const char *v;
	size_t n;

	rq->keepalive = rq->minor == 1;
	if ((v = http_header(rq, "connection", &n))) {
		if (token_eq(v, n, "close"))
			rq->keepalive = 0;
		else if (token_eq(v, n, "keep-alive"))
			rq->keepalive = 1;
	}
}

int
http_parse_head(const char *p, size_t len, struct http_req *rq,
    const char **why)
{
	const char *end = p + len, *eol, *q;

	memset(rq, 0, sizeof(*rq));
	if (!(eol = find_crlf(p, end)))
		goto short_or_big;
	if (request_line(p, eol, rq) < 0) {
		*why = "malformed request line";
		return HTTP_BAD;
	}
	for (q = eol + 2;; q = eol + 2) {
		if (!(eol = find_crlf(q, end)))
			goto short_or_big;
		if (eol == q)
			break;
		if (header_line(q, eol, rq) < 0) {
			*why = "malformed header, or too many headers";
			return HTTP_BAD;
		}
	}
	rq->head_len = eol + 2 - p;
	if (rq->head_len > HTTP_MAX_HEAD) {
		*why = "request head too large";
		return HTTP_TOOBIG;
	}
	if ((*why = body_length(rq)))
		return HTTP_BAD;
	head_meaning(rq);
	return HTTP_OK;
short_or_big:
	if (len > HTTP_MAX_HEAD) {
		*why = "request head too large";
		return HTTP_TOOBIG;
	}
	return HTTP_SHORT;
}

const char *
http_header(const struct http_req *rq, const char *name, size_t *vlen)
{
	int i;

	for (i = 0; i < rq->nhdr; i++)
		if (token_eq(rq->hdr[i].name, rq->hdr[i].nlen, name)) {
			*vlen = rq->hdr[i].vlen;
			return rq->hdr[i].value;
		}
	return NULL;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
http_head_ready(const char *p, size_t len, size_t *scan)
{
	size_t i = *scan > 3 ? *scan - 3 : 0;
	const char *q;

	for (; i + 4 <= len; i = q - p + 1) {
		if (!(q = memchr(p + i, '\r', len - i - 3)))
			break;
		if (memcmp(q, "\r\n\r\n", 4) == 0) {
			*scan = len;
			return 1;
		}
	}
	*scan = len;
	return 0;
}

/*
 * The chunked body, RFC 9112 section 7.1, one state per place in it:
 *	chunk-size [ BWS ";" chunk-ext ] CRLF, the data, CRLF, ...,
 *	"0" CRLF, trailer lines, CRLF
 */
enum {
	DC_SIZE, DC_BWS, DC_EXT, DC_SIZE_LF, DC_DATA, DC_DATA_CR, DC_DATA_LF,
	DC_TRAILER_START, DC_TRAILER, DC_TRAILER_LF, DC_END_LF, DC_OVER
};

#define HTTP_MAX_CHUNK_LINE 4096        /* a size line with its extensions */

void
http_dechunk_init(struct http_dechunker *d)
{
	memset(d, 0, sizeof(*d));
	d->state = DC_SIZE;
}

static int
dc_over(struct http_dechunker *d, int r)
{
	d->state = DC_OVER;
	d->result = r;
	return r;
}

/* A hex digit v more of the chunk size, checked before it is added. */
static int
dc_digit(struct http_dechunker *d, int v, size_t max)
{
	size_t room = max - d->total;   /* total <= max */

	if (d->size > room / 16 || (unsigned long long)v > room - d->size * 16)
		return dc_over(d, HTTP_TOOBIG);
	d->size = d->size * 16 + v;
	d->digits++;
	return HTTP_SHORT;
}

/* The end of the size line: the data next, or the trailers. */
static void
dc_size_done(struct http_dechunker *d)
{
	d->line = 0;
	d->digits = 0;
	if (d->size == 0) {
		d->state = DC_TRAILER_START;
	} else {
		d->total += d->size;
		d->state = DC_DATA;
	}
}

/* One byte c of a size line. */
static int
dc_size_byte(struct http_dechunker *d, int c, size_t max)
{
	int v;

	if (++d->line > HTTP_MAX_CHUNK_LINE)
		return dc_over(d, HTTP_BAD);
	if (d->state == DC_SIZE && (v = hexval(c)) >= 0)
		return dc_digit(d, v, max);
	if (d->state == DC_SIZE && d->digits == 0)
		return dc_over(d, HTTP_BAD);
	if (d->state == DC_EXT && c != '\r') {
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return dc_over(d, HTTP_BAD);
	} else if (c == ' ' || c == '\t') {
		d->state = DC_BWS;
	} else if (c == ';') {
		d->state = DC_EXT;
	} else if (c == '\r' && d->state != DC_BWS) {
		d->state = DC_SIZE_LF;
	} else {
		return dc_over(d, HTTP_BAD);
	}
	return HTTP_SHORT;
}

/* One byte c of a line end or of the trailers. */
static int
dc_other_byte(struct http_dechunker *d, int c)
{
	if (d->state >= DC_TRAILER_START && ++d->trailers > HTTP_MAX_HEAD)
		return dc_over(d, HTTP_TOOBIG);
	switch (d->state) {
	case DC_SIZE_LF:
		if (c != '\n')
			break;
		dc_size_done(d);
		return HTTP_SHORT;
	case DC_DATA_CR:
		if (c != '\r')
			break;
		d->state = DC_DATA_LF;
		return HTTP_SHORT;
	case DC_DATA_LF:
	case DC_TRAILER_LF:
		if (c != '\n')
			break;
		d->state = d->state == DC_DATA_LF ? DC_SIZE : DC_TRAILER_START;
		return HTTP_SHORT;
	case DC_TRAILER_START:
	case DC_TRAILER:
		if (c == '\n')
			break;          /* a bare LF */
		if (c != '\r')
			d->state = DC_TRAILER;
		else
			d->state = d->state == DC_TRAILER ? DC_TRAILER_LF :
			    DC_END_LF;
		return HTTP_SHORT;
	case DC_END_LF:
		if (c != '\n')
			break;
		return dc_over(d, HTTP_OK);
	}
	return dc_over(d, HTTP_BAD);
}

/* Runs d over p[d->pos..len), the data appended to out unless NULL. */
static int
dc_run(struct http_dechunker *d, const char *p, size_t len, struct buf *out,
    size_t max)
{
	size_t k;
	int c, r = HTTP_SHORT;

	while (d->pos < len && r == HTTP_SHORT) {
		if (d->state == DC_DATA) {
			k = len - d->pos < d->size ? len - d->pos : d->size;
			if (out)
				buf_put(out, p + d->pos, k);
			d->pos += k;
			if ((d->size -= k) == 0)
				d->state = DC_DATA_CR;
			continue;
		}
		c = (unsigned char)p[d->pos++];
		if (d->state <= DC_EXT)
			r = dc_size_byte(d, c, max);
		else
			r = dc_other_byte(d, c);
	}
	return r;
}

int
http_dechunk_feed(struct http_dechunker *d, const char *p, size_t len,
    struct buf *out, size_t *used, size_t max)
{
	struct http_dechunker again;
	int r;

	if (d->state == DC_OVER)
		r = d->result;
	else if (len < d->pos || d->total > max)
		r = dc_over(d, HTTP_BAD);       /* not the body fed before */
	else if ((r = dc_run(d, p, len, NULL, max)) == HTTP_OK) {
		/* all there: copy the data in one pass */
		buf_reserve(out, d->total);
		http_dechunk_init(&again);
		dc_run(&again, p, d->pos, out, max);
	}
	if (r == HTTP_OK)
		*used = d->pos;
	return r;
}

int
http_dechunk(const char *p, size_t len, struct buf *out, size_t *used,
    size_t max)
{
	struct http_dechunker d;

	if (out->len > max)
		return HTTP_TOOBIG;
	http_dechunk_init(&d);
	return http_dechunk_feed(&d, p, len, out, used, max - out->len);
}

void
http_urldecode(struct buf *out, const char *s, size_t n)
{
	size_t i;
	int h, l;

	buf_reserve(out, n);
	for (i = 0; i < n; i++) {
		if (s[i] == '+') {
			buf_putc(out, ' ');
		} else if (s[i] == '%' && i + 2 < n &&
		    (h = hexval(s[i + 1])) >= 0 && (l = hexval(s[i + 2])) >= 0) {
			buf_putc(out, h << 4 | l);
			i += 2;
		} else {
			buf_putc(out, s[i]);
		}
	}
}

int
http_param(const char *q, size_t qlen, const char *name, struct buf *out)
{
	const char *p = q, *end = q + qlen, *amp, *eq;
	size_t nl = strlen(name);

	while (p < end) {
		amp = memchr(p, '&', end - p);
		if (!amp)
			amp = end;
		eq = memchr(p, '=', amp - p);
		if (eq && (size_t)(eq - p) == nl && memcmp(p, name, nl) == 0) {
			http_urldecode(out, eq + 1, amp - eq - 1);
			return 1;
		}
		if (amp == end)
			break;
		p = amp + 1;
	}
	return 0;
}

const char *
http_boundary(const char *ct, size_t clen, size_t *blen)
{
	const char *end = ct + clen, *b, *e;
	size_t i;

	for (i = 0; i + 9 <= clen; i++)
		if (strncasecmp(ct + i, "boundary=", 9) == 0)
			break;
	if (i + 9 > clen)
		return NULL;
	b = ct + i + 9;
	if (b < end && *b == '"') {
		b++;
		if (!(e = memchr(b, '"', end - b)))
			return NULL;
	} else {
		for (e = b; e < end && *e != ';' && *e != ' '; e++)
			;
	}
	*blen = e - b;
	return *blen ? b : NULL;
}

/* memmem, which C99 lacks. */
static const char *
find(const char *h, size_t hl, const char *n, size_t nl)
{
	const char *p, *end = h + hl;

	for (p = h; nl <= (size_t)(end - p); p++) {
		p = memchr(p, n[0], end - p - nl + 1);
		if (!p)
			return NULL;
		if (memcmp(p, n, nl) == 0)
			return p;
	}
	return NULL;
}

/* Is this part's Content-Disposition name="name"? */
static int
part_named(const char *h, size_t hl, const char *name)
{
	char want[128];
	int n = snprintf(want, sizeof(want), "name=\"%s\"", name);

	return n > 0 && n < (int)sizeof(want) && find(h, hl, want, n) != NULL;
}

int
http_multipart(const char *body, size_t len, const char *boundary, size_t blen,
    const char *name, const char **val, size_t *vlen)
{
	char delim[256];
	const char *p, *end = body + len, *hend, *next;
	size_t dl;

	if (blen + 4 > sizeof(delim))
		return -1;
	memcpy(delim, "\r\n--", 4);
	memcpy(delim + 4, boundary, blen);
	dl = blen + 4;
	/* the first delimiter may open the body without its CRLF */
	if (len >= dl - 2 && memcmp(body, delim + 2, dl - 2) == 0)
		p = body + dl - 2;
	else if (!(p = find(body, len, delim, dl)))
		return -1;
	else
		p += dl;
	for (;;) {
		if (end - p >= 2 && p[0] == '-' && p[1] == '-')
			return 0;               /* the closing delimiter */
		if (end - p < 2 || p[0] != '\r' || p[1] != '\n')
			return -1;
		p += 2;
		if (!(hend = find(p, end - p, "\r\n\r\n", 4)) ||
		    !(next = find(hend + 4, end - hend - 4, delim, dl)))
			return -1;
		if (part_named(p, hend - p, name)) {
			*val = hend + 4;
			*vlen = next - *val;
			return 1;
		}
		p = next + dl;
	}
}

int
http_gunzip(struct buf *out, const char *p, size_t n, size_t max)
{
	switch (gz_inflate_any(out, p, n, max)) {
	case GZ_OK: return HTTP_OK;
	case GZ_BIG: return HTTP_TOOBIG;
	default: return HTTP_BAD;
	}
}

static const char *
reason(int code)
{
	switch (code) {
	case 200: return "OK";
	case 204: return "No Content";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 411: return "Length Required";
	case 413: return "Payload Too Large";
	case 415: return "Unsupported Media Type";
	case 417: return "Expectation Failed";
	case 431: return "Request Header Fields Too Large";
	case 503: return "Service Unavailable";
	default: return "Error";
	}
}

void
http_response(struct buf *out, int code, const char *ctype,
    const char *extra, size_t blen, int keepalive)
{
	char h[128];
	int n;

	n = snprintf(h, sizeof(h), "HTTP/1.1 %d %s\r\nContent-Type: ", code,
	    reason(code));
	buf_put(out, h, n);
	buf_puts(out, ctype);
	n = snprintf(h, sizeof(h), "\r\nContent-Length: %zu\r\nConnection: "
	    "%s\r\n", blen, keepalive ? "keep-alive" : "close");
	buf_put(out, h, n);
	if (extra)
		buf_puts(out, extra);
	buf_put(out, "\r\n", 2);
}

/* http - request heads, chunked bodies, forms and multipart, gzip */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

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
	return rq->method_len && *rq->path == '/' ? 0 : -1;
}

static int
header_line(const char *p, const char *eol, struct http_req *rq)
{
	const char *colon = memchr(p, ':', eol - p), *v;
	struct http_hdr *h;

	if (!colon || colon == p || rq->nhdr == HTTP_MAX_HEADERS)
		return -1;
	for (v = colon + 1; v < eol && (*v == ' ' || *v == '\t'); v++)
		;
	while (eol > v && (eol[-1] == ' ' || eol[-1] == '\t'))
		eol--;
	h = &rq->hdr[rq->nhdr++];
	h->name = p;
	h->nlen = colon - p;
	h->value = v;
	h->vlen = eol - v;
	return 0;
}

static void
head_meaning(struct http_req *rq)
{
	const char *v;
	size_t n;

	rq->content_length = -1;
	if ((v = http_header(rq, "content-length", &n)) && n && n < 19 &&
	    strspn(v, "0123456789") >= n)
		rq->content_length = strtoll(v, NULL, 10);
	else if (v)
		rq->content_length = -2;
	v = http_header(rq, "transfer-encoding", &n);
	rq->chunked = v && token_eq(v, n, "chunked");
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
	head_meaning(rq);
	if (rq->content_length == -2) {
		*why = "bad Content-Length";
		return HTTP_BAD;
	}
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

int
http_dechunk(const char *p, size_t len, struct buf *out, size_t *used,
    size_t max)
{
	const char *q = p, *end = p + len, *eol;
	unsigned long long n;
	char *e;

	for (;;) {
		if (!(eol = find_crlf(q, end)))
			return HTTP_SHORT;
		n = strtoull(q, &e, 16);
		if (e == q || (e != eol && *e != ';'))
			return HTTP_BAD;
		q = eol + 2;
		if (n == 0) {
			/* trailers, then the blank line */
			while ((eol = find_crlf(q, end)) && eol != q)
				q = eol + 2;
			if (!eol)
				return HTTP_SHORT;
			*used = eol + 2 - p;
			return HTTP_OK;
		}
		if (out->len + n > max)
			return HTTP_TOOBIG;
		if ((size_t)(end - q) < n + 2)
			return HTTP_SHORT;
		buf_put(out, q, n);
		if (q[n] != '\r' || q[n + 1] != '\n')
			return HTTP_BAD;
		q += n + 2;
	}
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
		p = amp + 1;
	}
	return 0;
}

const char *
http_boundary(const char *ct, size_t clen, size_t *blen)
{
	const char *end = ct + clen, *b = ct, *e;

	for (; b + 9 <= end; b++)
		if (strncasecmp(b, "boundary=", 9) == 0)
			break;
	if (b + 9 > end)
		return NULL;
	b += 9;
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
	z_stream zs;
	int r = Z_OK;

	memset(&zs, 0, sizeof(zs));
	if (inflateInit2(&zs, 32 + MAX_WBITS) != Z_OK)
		return HTTP_BAD;
	zs.next_in = (unsigned char *)p;
	zs.avail_in = n;
	while (zs.avail_in > 0) {
		buf_reserve(out, 64 * 1024);
		zs.next_out = (unsigned char *)out->p + out->len;
		zs.avail_out = out->cap - out->len;
		r = inflate(&zs, Z_NO_FLUSH);
		out->len = out->cap - zs.avail_out;
		if (out->len > max) {
			r = HTTP_TOOBIG;
			break;
		}
		if (r == Z_STREAM_END && zs.avail_in > 0)
			inflateReset(&zs);      /* another gzip member */
		else if (r != Z_OK && r != Z_STREAM_END)
			break;
	}
	inflateEnd(&zs);
	if (r == HTTP_TOOBIG)
		return HTTP_TOOBIG;
	return r == Z_STREAM_END ? HTTP_OK : HTTP_BAD;
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
	case 411: return "Length Required";
	case 413: return "Payload Too Large";
	case 415: return "Unsupported Media Type";
	case 503: return "Service Unavailable";
	default: return "Error";
	}
}

void
http_response(struct buf *out, int code, const char *ctype,
    const char *extra, size_t blen, int keepalive)
{
	char h[512];
	int n;

	n = snprintf(h, sizeof(h), "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n"
	    "Content-Length: %zu\r\nConnection: %s\r\n", code, reason(code),
	    ctype, blen, keepalive ? "keep-alive" : "close");
	buf_put(out, h, n);
	if (extra)
		buf_puts(out, extra);
	buf_put(out, "\r\n", 2);
}

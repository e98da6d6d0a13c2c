/* http - just enough HTTP/1.1 for in_http and a metrics endpoint */
#ifndef LKIT_HTTP_H
#define LKIT_HTTP_H

#include <stddef.h>

#include "buf.h"

#define HTTP_MAX_HEADERS 64
#define HTTP_MAX_HEAD (64 * 1024)       /* request line and headers */

enum { HTTP_OK = 0, HTTP_SHORT = -1, HTTP_BAD = -2, HTTP_TOOBIG = -3 };

struct http_hdr {
	const char *name, *value;       /* borrowed from the request bytes */
	size_t nlen, vlen;
};

struct http_req {
	const char *method, *path, *query;      /* path without the query */
	size_t method_len, path_len, query_len;
	int minor;                      /* HTTP/1.minor */
	struct http_hdr hdr[HTTP_MAX_HEADERS];
	int nhdr;
	size_t head_len;                /* bytes up to the blank line */
	long long content_length;       /* -1 if absent */
	int chunked;
	int keepalive;                  /* by version and Connection */
};

/*
 * Parses the request head at p[0..len).  HTTP_OK fills rq (pointers into
 * p), HTTP_SHORT wants more bytes, HTTP_BAD / HTTP_TOOBIG set *why.  A head
 * whose body length is ambiguous is HTTP_BAD: Content-Length headers that
 * differ, or with Transfer-Encoding, a Transfer-Encoding other than
 * chunked, a Content-Length not all digits or too large.
 */
int http_parse_head(const char *p, size_t len, struct http_req *rq,
    const char **why);

/* The value of header name (any case), or NULL. */
const char *http_header(const struct http_req *rq, const char *name,
    size_t *vlen);

/*
 * Decodes a chunked body at p[0..len) into out (at most max bytes in out):
 * HTTP_OK with the bytes used in *used, HTTP_SHORT, HTTP_BAD or HTTP_TOOBIG;
 * out is only appended to on HTTP_OK.  Each call scans p from the start:
 * a reader of a body that arrives in pieces wants http_dechunk_feed.
 */
int http_dechunk(const char *p, size_t len, struct buf *out, size_t *used,
    size_t max);

/*
 * A chunked body read as it arrives, in linear time: the caller keeps one
 * per request, zeroed by http_dechunk_init, and passes the body bytes so
 * far (the same start each time, len growing) to http_dechunk_feed.  Only
 * the bytes not seen before are scanned; nothing is appended to out until
 * the last chunk and the trailers are there, so out may be scratch shared
 * between connections.
 */
struct http_dechunker {
	size_t pos;                     /* body bytes scanned */
	size_t total;                   /* data bytes in the chunks so far */
	unsigned long long size;        /* the chunk size being read, or left */
	size_t line;                    /* bytes of the current line */
	size_t trailers;                /* bytes of trailer lines */
	int state;
	int digits;                     /* hex digits of the size */
	int result;                     /* once over: HTTP_OK, _BAD, _TOOBIG */
};

/* Readies d for a new body. */
void http_dechunk_init(struct http_dechunker *d);

/*
 * Goes on decoding the chunked body p[0..len) (at most max data bytes):
 * HTTP_SHORT wants more bytes; HTTP_OK has appended the data to out and set
 * *used to the length of the chunked body, the bytes after it being the
 * next request's; HTTP_BAD for a malformed body, HTTP_TOOBIG over max.
 * Call http_dechunk_init before the next body.
 */
int http_dechunk_feed(struct http_dechunker *d, const char *p, size_t len,
    struct buf *out, size_t *used, size_t max);

/*
 * Where the blank line that ends a request head is: *scan says how much
 * of p[0..len) earlier calls searched (0 for new bytes).  1 when p holds a
 * whole head, so that http_parse_head will not answer HTTP_SHORT, 0 when
 * not yet; a caller waiting for a head calls http_parse_head when this
 * says 1 or len exceeds HTTP_MAX_HEAD, so a trickled head costs linear
 * time.
 */
int http_head_ready(const char *p, size_t len, size_t *scan);

/* Appends s[0..n) URL-decoded ('+' is a space) to out. */
void http_urldecode(struct buf *out, const char *s, size_t n);

/*
 * Finds name=value in an urlencoded string and appends the decoded value
 * to out: 1 found, 0 not.
 */
int http_param(const char *q, size_t qlen, const char *name, struct buf *out);

/*
 * Finds the part of a multipart/form-data body whose name is name: 1 and
 * its bytes in *val (borrowed), 0 not found, -1 a malformed body.
 */
int http_multipart(const char *body, size_t len, const char *boundary,
    size_t blen, const char *name, const char **val, size_t *vlen);

/* The boundary parameter of a multipart Content-Type, or NULL. */
const char *http_boundary(const char *ctype, size_t clen, size_t *blen);

/*
 * Inflates gzip (or zlib) data into out, at most max bytes in out: HTTP_OK,
 * HTTP_TOOBIG when the data inflates beyond max, HTTP_BAD when it is not
 * whole, valid gzip or zlib data.
 */
int http_gunzip(struct buf *out, const char *p, size_t n, size_t max);

/* Appends a response head with a body of blen bytes; extra ends in CRLF. */
void http_response(struct buf *out, int code, const char *ctype,
    const char *extra, size_t blen, int keepalive);

#endif

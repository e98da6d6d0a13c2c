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
 * p), HTTP_SHORT wants more bytes, HTTP_BAD / HTTP_TOOBIG set *why.
 */
int http_parse_head(const char *p, size_t len, struct http_req *rq,
    const char **why);

/* The value of header name (any case), or NULL. */
const char *http_header(const struct http_req *rq, const char *name,
    size_t *vlen);

/*
 * Decodes a chunked body at p[0..len) into out (at most max bytes): HTTP_OK
 * with the bytes used in *used, HTTP_SHORT, HTTP_BAD or HTTP_TOOBIG.
 */
int http_dechunk(const char *p, size_t len, struct buf *out, size_t *used,
    size_t max);

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

/* Inflates gzip (or zlib) data into out, at most max bytes: HTTP_OK, ... */
int http_gunzip(struct buf *out, const char *p, size_t n, size_t max);

/* Appends a response head with a body of blen bytes; extra ends in CRLF. */
void http_response(struct buf *out, int code, const char *ctype,
    const char *extra, size_t blen, int keepalive);

#endif

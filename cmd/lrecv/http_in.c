/* http_in - lrecv's HTTP input (Fluentd in_http): requests, CORS, payloads */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "err.h"
#include "http.h"
#include "json.h"
#include "mp.h"
#include "rec.h"
#include "stats.h"
#include "stream.h"

#include "lrecv.h"

static char why_buf[256];       /* *why, when it says more than a constant */

/* Is origin allowed by --cors-allow-origins? */
static int
cors_ok(const char *origin, size_t n)
{
	const char *p = o.cors, *e;

	while (p && *p) {
		e = strchr(p, ',');
		if (!e)
			e = p + strlen(p);
		if ((e - p == 1 && *p == '*') || ((size_t)(e - p) == n &&
		    strncmp(p, origin, n) == 0))
			return 1;
		p = *e ? e + 1 : e;
	}
	return 0;
}

/*
 * Queues a response; codes 200 and 204 have an empty body, others say
 * why.  flags R_E2E: it waits for the events to be delivered
 * (--end-to-end).
 */
static void
reply(struct conn *c, int code, const char *why, int keep,
    const char *origin, size_t olen, uint32_t flags)
{
	struct buf *b = &scratch.tmp;
	char body[600], extra[600] = "";
	int n = 0;

	if (code >= 300 && why)
		n = snprintf(body, sizeof(body), "%d %s\n", code, why);
	if (origin && (size_t)snprintf(extra, sizeof(extra),
	    "Access-Control-Allow-Origin: %.*s\r\n%s", (int)olen, origin,
	    o.cors_cred ? "Access-Control-Allow-Credentials: true\r\n" : "") >=
	    sizeof(extra))
		extra[0] = '\0';
	b->len = 0;
	http_response(b, code, "text/plain", extra[0] ? extra : NULL, n, keep);
	buf_put(b, body, n);
	if (code >= 300)
		counts.http_errors++;
	conn_reply_after_flush(c, b->p, b->len, R_RAW | flags);
	if (!keep)
		conn_closing(c);
}

void
http_in_reply(struct conn *c, int code, const char *why, int keep,
    const char *origin, size_t olen)
{
	reply(c, code, why, keep, origin, olen, 0);
}

/*
 * The time of a record: its "time" field if it is a number (removed: the
 * record is then in scratch.rec).
 */
static void
record_time(const char **rec, size_t *len, int64_t *sec, uint32_t *nsec)
{
	const char *v, *p;
	struct mp_obj t;
	size_t vl;
	char num[64], *e;
	double d;

	if (!mp_map_get(*rec, *rec + *len, "time", 4, &v, &vl))
		return;
	p = v;
	mp_head(&p, v + vl, &t);
	if (t.type == MP_UINT || t.type == MP_INT) {
		*sec = t.type == MP_UINT ? (int64_t)t.v.u : t.v.i;
		*nsec = 0;
	} else if (t.type == MP_FLOAT) {
		event_time_from_double(t.v.f, sec, nsec);
	} else if ((t.type == MP_STR || t.type == MP_BIN) && t.len < sizeof(num)) {
		memcpy(num, t.data, t.len);
		num[t.len] = '\0';
		d = strtod(num, &e);
		if (*e || e == num)
			return;
		event_time_from_double(d, sec, nsec);
	} else {
		return;
	}
	scratch.tmp.len = 0;
	mp_map_put_without(&scratch.tmp, *rec, *rec + *len, "time", 4);
	scratch.rec.len = 0;
	buf_put(&scratch.rec, scratch.tmp.p, scratch.tmp.len);
	*rec = scratch.rec.p;
	*len = scratch.rec.len;
}

/*
 * The client's address; with --trust-forwarded-for the first address of
 * an X-Forwarded-For header (white space trimmed), as in_http takes it.
 */
static const char *
remote_addr(const struct conn *c, const struct http_req *rq, size_t *len)
{
	const char *v, *e;
	size_t n;

	if (o.trust_xff && (v = http_header(rq, "x-forwarded-for", &n))) {
		e = memchr(v, ',', n);
		n = e ? (size_t)(e - v) : n;
		while (n && (*v == ' ' || *v == '\t'))
			v++, n--;
		while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
			n--;
		if (n) {
			*len = n < NET_ADDR_MAX ? n : NET_ADDR_MAX;
			return v;
		}
	}
	*len = strlen(c->addr);
	return c->addr;
}

/* Adds HTTP_* headers and REMOTE_ADDR as asked, into scratch.fields. */
static void
http_fields(struct conn *c, const struct http_req *rq, const char **rec,
    size_t *len)
{
	struct rec r;
	struct mp_obj m;
	const char *p = *rec;
	char key[256];
	size_t i, k;
	int h;

	if (!o.add_headers && !o.add_remote)
		return;
	mp_head(&p, *rec + *len, &m);
	scratch.fields.len = 0;
	rec_begin(&r, &scratch.fields);
	rec_pairs(&r, p, *rec + *len - p, m.v.n);
	for (h = 0; o.add_headers && h < rq->nhdr; h++) {
		k = snprintf(key, sizeof(key), "HTTP_%.*s",
		    (int)rq->hdr[h].nlen, rq->hdr[h].name);
		for (i = 5; i < k && i < sizeof(key); i++)
			key[i] = key[i] == '-' ? '_' : (char)toupper(
			    (unsigned char)key[i]);
		rec_str(&r, key, k < sizeof(key) ? k : sizeof(key) - 1,
		    rq->hdr[h].value, rq->hdr[h].vlen);
	}
	if (o.add_remote) {
		p = remote_addr(c, rq, &k);
		rec_str(&r, "REMOTE_ADDR", 11, p, k);
	}
	rec_end(&r);
	*rec = scratch.fields.p;
	*len = scratch.fields.len;
}

static const char *const mp_names[] = {
	"nil", "a boolean", "an integer", "an integer", "a float", "a string",
	"binary data", "an array", "a map", "an extension"
};

/* NULL if every key of the map at p is a str, else what one is. */
static const char *
bad_key(const char *p, const char *end)
{
	struct mp_obj m, k;
	uint32_t i;

	if (mp_head(&p, end, &m) != MP_OK || m.type != MP_MAP)
		return "not a map";
	for (i = 0; i < m.v.n; i++) {
		if (mp_head(&p, end, &k) != MP_OK)
			return "truncated";
		if (k.type != MP_STR)
			return mp_names[k.type];
		if (mp_skip(&p, end, NULL) != MP_OK)
			return "truncated";
	}
	return NULL;
}

/* Emits the record rec[0..len) of an HTTP request. */
static void
http_emit(struct conn *c, const struct http_req *rq, const char *rec,
    size_t len, const int64_t *qsec, uint32_t qnsec)
{
	struct event ev;

	ev.tag = scratch.http_tag.p;
	ev.tag_len = scratch.http_tag.len;
	ev.sec = 0;
	ev.nsec = 0;
	record_time(&rec, &len, &ev.sec, &ev.nsec);
	if (qsec) {
		ev.sec = *qsec;
		ev.nsec = qnsec;
	}
	http_fields(c, rq, &rec, &len);
	ev.rec = rec;
	ev.rec_len = len;
	conn_emit(c, &ev);
}

/*
 * Checks (emit_them 0) or emits every record of the values in
 * scratch.records: maps with str keys (lkit-stream(5)), alone or in
 * arrays.  The tag is scratch.http_tag.
 */
static int
http_walk(struct conn *c, const struct http_req *rq, int emit_them,
    const int64_t *qsec, uint32_t qnsec, const char **why)
{
	const struct buf *vals = &scratch.records;
	const char *p = vals->p, *end = vals->p + vals->len, *v, *rec, *bk;
	struct mp_obj h;
	uint32_t i, n, nrec = 0;

	while (p < end) {
		v = p;
		mp_head(&p, end, &h);
		n = h.type == MP_ARRAY ? h.v.n : 1;
		if (h.type != MP_ARRAY && h.type != MP_MAP) {
			*why = "a record is not an object (nor an array of them)";
			return -1;
		}
		if (h.type == MP_MAP)
			p = v;
		for (i = 0; i < n; i++, nrec++) {
			rec = p;
			if (h.type == MP_ARRAY && (unsigned char)*p != 0xde &&
			    (unsigned char)*p != 0xdf && ((unsigned char)*p & 0xf0) != 0x80) {
				*why = "an array element is not an object";
				return -1;
			}
			mp_skip(&p, end, NULL);
			if (emit_them) {
				http_emit(c, rq, rec, p - rec, qsec, qnsec);
			} else if ((bk = bad_key(rec, p))) {
				snprintf(why_buf, sizeof(why_buf), "record %u: a "
				    "key is %s, not a string", nrec + 1, bk);
				*why = why_buf;
				return -1;
			}
		}
	}
	return 0;
}

/* JSON text (one value, or one per line) as msgpack in scratch.records. */
static int
json_values(const char *p, size_t n, const char **why)
{
	struct json_err err;
	size_t used, off = 0;
	int r;

	for (;;) {
		r = json_parse(p + off, n - off, 1, &used, &scratch.records,
		    &err);
		if (r == JSON_EMPTY)
			return 0;
		if (r != JSON_OK) {
			snprintf(why_buf, sizeof(why_buf), "bad JSON at byte "
			    "%zu: %s", off + err.offset, err.msg);
			*why = why_buf;
			return -1;
		}
		off += used;
	}
}

static int
mp_values(const char *p, size_t n, const char **why)
{
	const char *q = p, *end = p + n;

	while (q < end)
		if (mp_skip(&q, end, NULL) != MP_OK) {
			*why = "bad msgpack";
			return -1;
		}
	buf_put(&scratch.records, p, n);
	return 0;
}

/* Finds the records of a request: msgpack values in scratch.records. */
static int
http_payload(const struct http_req *rq, const char *body, size_t blen,
    const char **why)
{
	struct buf *z = &scratch.inflated, *pv = &scratch.param;
	const char *ct, *enc, *b, *v;
	size_t cl = 0, el, bl, vl;
	int r;

	scratch.records.len = pv->len = 0;
	if ((enc = http_header(rq, "content-encoding", &el)) &&
	    (strncasecmp(enc, "gzip", 4) == 0 || strncasecmp(enc, "deflate",
	    7) == 0)) {
		z->len = 0;
		if ((r = http_gunzip(z, body, blen, o.body_limit)) != HTTP_OK) {
			*why = r == HTTP_TOOBIG ? "body inflates beyond "
			    "--body-size-limit" : "bad gzip body";
			return r == HTTP_TOOBIG ? -2 : -1;
		}
		body = z->p;
		blen = z->len;
	}
	if (!(ct = http_header(rq, "content-type", &cl)))
		ct = "";
#define CT(s) (cl >= sizeof(s) - 1 && strncasecmp(ct, s, sizeof(s) - 1) == 0)
	if (CT("application/json") || CT("application/x-ndjson") ||
	    CT("application/csp-report"))
		return json_values(body, blen, why);
	if (CT("application/msgpack") || CT("application/x-msgpack"))
		return mp_values(body, blen, why);
	if (CT("application/x-www-form-urlencoded")) {
		if (http_param(body, blen, "json", pv) ||
		    http_param(body, blen, "ndjson", pv))
			return json_values(pv->p, pv->len, why);
		if (http_param(body, blen, "msgpack", pv))
			return mp_values(pv->p, pv->len, why);
	}
	if (CT("multipart/form-data") && (b = http_boundary(ct, cl, &bl))) {
		if (http_multipart(body, blen, b, bl, "json", &v, &vl) == 1 ||
		    http_multipart(body, blen, b, bl, "ndjson", &v, &vl) == 1)
			return json_values(v, vl, why);
		if (http_multipart(body, blen, b, bl, "msgpack", &v, &vl) == 1)
			return mp_values(v, vl, why);
	}
#undef CT
	if (http_param(rq->query, rq->query_len, "json", pv) ||
	    http_param(rq->query, rq->query_len, "ndjson", pv))
		return json_values(pv->p, pv->len, why);
	if (http_param(rq->query, rq->query_len, "msgpack", pv))
		return mp_values(pv->p, pv->len, why);
	*why = "no records: send a JSON, NDJSON or msgpack body, or a json=, "
	    "ndjson= or msgpack= parameter";
	return -1;
}

/* What the head of a request says, checked before its body is read. */
struct hhead {
	const char *origin;     /* an allowed Origin, or NULL */
	size_t olen;
	int64_t qs;             /* the time= parameter */
	uint32_t qn;
	int has_time;
};

enum { H_EVENTS, H_PREFLIGHT, H_METRICS };      /* below any status */

/* The tag from the path into scratch.http_tag: 0, or -1 with *why. */
static int
http_tag(const struct http_req *rq, const char **why)
{
	struct buf *tag = &scratch.http_tag;
	unsigned char ch;
	size_t i;

	if (rq->path_len < 2) {
		*why = "no tag: POST to /TAG";
		return -1;
	}
	tag->len = 0;
	http_urldecode(tag, rq->path + 1, rq->path_len - 1);
	for (i = 0; i < tag->len; i++) {
		ch = (unsigned char)tag->p[i];
		if (ch < 0x20 || ch == 0x7f) {
			snprintf(why_buf, sizeof(why_buf), "the tag holds a "
			    "control byte (0x%02x at %zu)", ch, i);
			*why = why_buf;
			return -1;
		}
		if (ch == '/')
			tag->p[i] = '.';
	}
	return 0;
}

/* The time= parameter, if any, into h: 0, or -1 with *why. */
static int
http_qtime(const struct http_req *rq, struct hhead *h, const char **why)
{
	struct buf *pv = &scratch.param;
	char *t;
	double d;

	pv->len = 0;
	h->has_time = 0;
	if (!http_param(rq->query, rq->query_len, "time", pv))
		return 0;
	buf_putc(pv, '\0');
	d = strtod(pv->p, &t);
	if (*t || t == pv->p || event_time_from_double(d, &h->qs, &h->qn) < 0) {
		*why = "bad time= parameter";
		return -1;
	}
	h->has_time = 1;
	return 0;
}

/* Is the method of rq m? */
static int
method_is(const struct http_req *rq, const char *m)
{
	return rq->method_len == strlen(m) && memcmp(rq->method, m,
	    rq->method_len) == 0;
}

/*
 * What the head alone decides: H_EVENTS (the tag in scratch.http_tag,
 * the time in h), H_PREFLIGHT, H_METRICS, or an error status with *why.
 */
static int
http_verdict(struct conn *c, const struct http_req *rq, struct hhead *h,
    const char **why)
{
	memset(h, 0, sizeof(*h));
	if (c->kind == K_METRICS)
		return H_METRICS;
	if (o.cors && (h->origin = http_header(rq, "origin", &h->olen)) &&
	    !cors_ok(h->origin, h->olen)) {
		h->origin = NULL;
		*why = "origin not allowed";
		return 403;
	}
	if (method_is(rq, "OPTIONS"))
		return H_PREFLIGHT;
	if (!method_is(rq, "POST") && !method_is(rq, "GET")) {
		*why = "POST events to /TAG";
		return 405;
	}
	if (http_tag(rq, why) < 0 || http_qtime(rq, h, why) < 0)
		return 400;
	return H_EVENTS;
}

/* POST /TAG (or GET with parameters): the events, then the response. */
static void
http_events(struct conn *c, const struct http_req *rq,
    const struct hhead *h, const char *body, size_t blen)
{
	const char *why = NULL;
	int r;

	r = http_payload(rq, body, blen, &why);
	if (r == 0)
		r = http_walk(c, rq, 0, NULL, 0, &why);
	if (r < 0) {
		warn("%s: %s", c->name, why);
		http_in_reply(c, r == -2 ? 413 : 400, why, rq->keepalive,
		    h->origin, h->olen);
		return;
	}
	http_walk(c, rq, 1, h->has_time ? &h->qs : NULL, h->qn, &why);
	counts.http_requests++;
	reply(c, o.http_204 ? 204 : 200, NULL, rq->keepalive, h->origin,
	    h->olen, o.e2e ? R_E2E : 0);
}

/* CORS preflight: allowed origins get the methods and headers. */
static void
preflight(struct conn *c, const struct http_req *rq, const char *origin,
    size_t olen)
{
	struct buf *b = &scratch.tmp;
	char extra[700];

	snprintf(extra, sizeof(extra), "Access-Control-Allow-Origin: %.*s\r\n"
	    "Access-Control-Allow-Methods: POST, GET, OPTIONS\r\n"
	    "Access-Control-Allow-Headers: Content-Type, Content-Encoding\r\n"
	    "%s", origin ? (int)olen : 1, origin ? origin : "*",
	    o.cors_cred && origin ? "Access-Control-Allow-Credentials: "
	    "true\r\n" : "");
	b->len = 0;
	http_response(b, 200, "text/plain", extra, 0, rq->keepalive);
	conn_reply_after_flush(c, b->p, b->len, R_RAW);
	if (!rq->keepalive)
		conn_closing(c);
}

/* Answers a request whose body is here whole. */
static void
http_answer(struct conn *c, const struct http_req *rq, const char *body,
    size_t blen)
{
	const char *why = NULL;
	struct hhead h;
	int v = http_verdict(c, rq, &h, &why);

	if (v == H_METRICS) {
		metrics_serve(c, rq);
	} else if (v == H_PREFLIGHT) {
		preflight(c, rq, h.origin, h.olen);
	} else if (v == H_EVENTS) {
		http_events(c, rq, &h, body, blen);
	} else {
		if (v == 400)
			warn("%s: %s", c->name, why);
		http_in_reply(c, v, why, rq->keepalive, h.origin, h.olen);
	}
}

/* A request that cannot be served: the status, then the close.  -1. */
static int
http_fail(struct conn *c, int code, const char *why, const char *origin,
    size_t olen)
{
	warn("%s: %s", c->name, why);
	http_in_reply(c, code, why, 0, origin, olen);
	return -1;
}

/* Does the client wait for 100 Continue before it sends the body? */
static int
expects_continue(const struct http_req *rq)
{
	const char *v;
	size_t n;

	return rq->minor >= 1 && (v = http_header(rq, "expect", &n)) &&
	    n == 12 && strncasecmp(v, "100-continue", 12) == 0;
}

/*
 * The body is not all here: a client that waits to be told to send it
 * (Expect: 100-continue) hears 100 Continue, or the final status if the
 * head already fails.  0 to wait, -1 refused.
 */
static int
http_wait(struct conn *c, const struct http_req *rq)
{
	static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
	const char *why = NULL;
	struct hhead h;
	int v;

	if (c->continued || !expects_continue(rq))
		return 0;
	if ((v = http_verdict(c, rq, &h, &why)) >= 100)
		return http_fail(c, v, why, h.origin, h.olen);
	c->continued = 1;
	if (c->aoff == c->acks.len)
		buf_put(&c->wb, cont, sizeof(cont) - 1);
	else
		conn_reply_after_flush(c, cont, sizeof(cont) - 1, R_RAW);
	return 0;
}

/*
 * The body of rq: HTTP_OK with it in *body, *blen and the request's size
 * in *total; HTTP_SHORT; or another HTTP_ code with *why.
 */
static int
http_body(struct conn *c, const struct http_req *rq, const char **body,
    size_t *blen, size_t *total, const char **why)
{
	struct buf *dch = &scratch.dechunked;
	size_t used;
	int r;

	if (!rq->chunked) {
		*blen = rq->content_length > 0 ? (size_t)rq->content_length : 0;
		*total = rq->head_len + *blen;
		*body = c->hin.p + rq->head_len;
		c->hwant = *total;
		return c->hin.len < *total ? HTTP_SHORT : HTTP_OK;
	}
	/*
	 * The decoder scans only bytes it has not seen, and fills the scratch
	 * buffer once, when the body is whole: http_worth may have done that
	 * just before, in the same read.
	 */
	if (!c->hchunked) {
		c->hchunked = 1;
		c->dc_from = rq->head_len;
		http_dechunk_init(&c->dc);
		dch->len = 0;
	}
	r = http_dechunk_feed(&c->dc, c->hin.p + rq->head_len,
	    c->hin.len - rq->head_len, dch, &used, o.body_limit);
	if (r == HTTP_TOOBIG)
		*why = "chunked body larger than --body-size-limit";
	else if (r != HTTP_OK && r != HTTP_SHORT)
		*why = "bad chunked body";
	*body = dch->p;
	*blen = dch->len;
	*total = rq->head_len + used;
	return r;
}

/* One request at the start of c->hin: 1 handled, 0 wait, -1 stop. */
static int
http_one(struct conn *c)
{
	struct http_req rq;
	const char *why, *body;
	size_t total, blen;
	int r;

	r = http_parse_head(c->hin.p, c->hin.len, &rq, &why);
	if (r == HTTP_SHORT)
		return 0;
	if (r != HTTP_OK)
		return http_fail(c, r == HTTP_TOOBIG ? 413 : 400, why, NULL, 0);
	if (rq.content_length > (long long)o.body_limit)
		return http_fail(c, 413, "body larger than --body-size-limit",
		    NULL, 0);
	r = http_body(c, &rq, &body, &blen, &total, &why);
	if (r == HTTP_SHORT)
		return http_wait(c, &rq);
	if (r != HTTP_OK)
		return http_fail(c, r == HTTP_TOOBIG ? 413 : 400, why, NULL, 0);
	c->continued = c->hchunked = 0;
	c->hwant = 0;
	http_answer(c, &rq, body, blen);
	memmove(c->hin.p, c->hin.p + total, c->hin.len - total);
	c->hin.len -= total;
	c->nreq++;
	return c->state == S_CLOSING ? -1 : 1;
}

/*
 * Can the bytes that came after old finish what the request waits for?
 * A request trickled in small pieces is then not parsed again each time:
 * a head ends with a line (at most HTTP_MAX_HEADERS of them), a body of
 * known length at its length, a chunked one when the decoder, which scans
 * only new bytes, has its end (or an error).
 */
static int
http_worth(struct conn *c, size_t old)
{
	size_t from, used;

	if (c->hwant)
		return c->hin.len >= c->hwant;
	if (c->hchunked) {
		scratch.dechunked.len = 0;
		return http_dechunk_feed(&c->dc, c->hin.p + c->dc_from,
		    c->hin.len - c->dc_from, &scratch.dechunked, &used,
		    o.body_limit) != HTTP_SHORT;
	}
	from = old > 0 ? old - 1 : 0;
	return c->hin.len > HTTP_MAX_HEAD || memchr(c->hin.p + from, '\n',
	    c->hin.len - from);
}

/*
 * One read into c->hin: bytes, 0 at the end or a plain read failed, -1
 * none now, -2 a TLS read failed (said, dropped).
 */
static ssize_t
http_recv(struct conn *c)
{
	ssize_t n;

	if (c->ssl) {
		n = conn_io(c, c->hin.p + c->hin.len, c->hin.cap - c->hin.len,
		    0);
		if (n == -2)
			conn_drop(c);
		return n;
	}
	n = read(c->it.fd, c->hin.p + c->hin.len, c->hin.cap - c->hin.len);
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? -1 : 0;
	return n;
}

/*
 * Reads what the client sent and answers every request now whole; a tls:
 * listener's connection goes through the TLS handshake first.
 */
void
http_in_read(struct conn *c)
{
	size_t old = c->hin.len;
	ssize_t n;
	int r;

	if (c->state == S_TLS && (r = conn_tls_accept(c)) != 0) {
		if (r < 0)
			conn_drop(c);
		return;
	}
	if (c->hin.len > HTTP_MAX_HEAD + o.body_limit + 65536) {
		http_fail(c, 413, "request too large", NULL, 0);
		return;
	}
	buf_reserve(&c->hin, 64 * 1024);
	if ((n = http_recv(c)) < 0)
		return;
	/* TLS may hold decrypted bytes epoll knows nothing of: read on */
	if (c->ssl && n > 0)
		loop.tls_more = 1;
	if (n == 0) {
		if (c->hin.len)
			warn("%s: connection closed inside a request", c->name);
		c->eof = 1;
		return;
	}
	c->hin.len += n;
	c->got_data = 1;
	c->last = clock_ms();
	stats.bytes_in += n;
	if (!http_worth(c, old))
		return;
	while (http_one(c) > 0)
		;
}

/* forward - lrecv's Forward input: the handshake, requests, acks, JSON mode */
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <openssl/ssl.h>

#include "err.h"
#include "fwd.h"
#include "json.h"
#include "mp.h"
#include "rec.h"
#include "stream.h"

#include "lrecv.h"

#define PEEK_MAX 4096                   /* largest PING accepted */
#define TLS_ROUNDS 16                   /* TLS reads in a row per wakeup */
#define JSON_READ (16u * 1024)          /* JSON mode: bytes asked per read */

static char self_host[256];

/* The handshake failed: a PONG that says why, then the close. */
static void
refuse(struct conn *c, const char *reason)
{
	struct fwd_pong po = { 0, { reason, strlen(reason) }, { "", 0 },
		{ "", 0 } };

	warn("%s: handshake refused: %s", c->name, reason);
	counts.refused++;
	fwd_pong_put(&c->wb, &po);
	conn_closing(c);
}

/* The name sent in PONG: --self-hostname, or the host's. */
static const char *
self_hostname(void)
{
	if (!self_host[0]) {
		if (o.self_host)
			snprintf(self_host, sizeof(self_host), "%s", o.self_host);
		else if (gethostname(self_host, sizeof(self_host) - 1) < 0)
			snprintf(self_host, sizeof(self_host), "localhost");
	}
	return self_host;
}

/* Starts the --shared-key handshake: the HELO, then PING is awaited. */
void
fwd_in_helo(struct conn *c)
{
	struct fwd_helo h;

	if (fwd_random(c->nonce, sizeof(c->nonce)) < 0 ||
	    fwd_random(c->auth, sizeof(c->auth)) < 0)
		die(EX_SYS, "unable to get random bytes");
	h.nonce.p = (char *)c->nonce;
	h.nonce.len = sizeof(c->nonce);
	h.auth.p = (char *)c->auth;
	h.auth.len = sizeof(c->auth);     /* always, as Fluentd does */
	h.keepalive = !o.deny_keepalive;
	fwd_helo_put(&c->wb, &h);
	c->state = S_PING;
}

/* Does the PING name a --user (of cl's users=) with its password? */
static int
user_ok(const struct fwd_ping *pg, const struct conn *c,
    const struct client *cl)
{
	struct fwd_str auth = { (char *)c->auth, sizeof(c->auth) }, u, pw;
	char hex[FWD_DIGEST_LEN + 1];
	int i;

	for (i = 0; i < o.nusers; i++) {
		u.p = o.users[i].name;
		u.len = strlen(u.p);
		if (u.len != pg->user.len || memcmp(u.p, pg->user.p, u.len) ||
		    !client_user_ok(cl, u.p, u.len))
			continue;
		pw.p = o.users[i].pass;
		pw.len = strlen(pw.p);
		fwd_digest(hex, &auth, &u, &pw, NULL);
		return pg->pass.len == FWD_DIGEST_LEN &&
		    memcmp(hex, pg->pass.p, FWD_DIGEST_LEN) == 0;
	}
	return 0;
}

/* Checks a whole PING and answers it. */
static void
check_ping(struct conn *c, const struct fwd_ping *pg)
{
	struct fwd_str nonce = { (char *)c->nonce, sizeof(c->nonce) };
	const struct client *cl = client_find((struct sockaddr *)&c->sa);
	struct fwd_str key = { o.shared_key, strlen(o.shared_key) };
	struct fwd_str me = { self_hostname(), strlen(self_hostname()) };
	struct fwd_pong po = { 1, { "", 0 }, me, { NULL, 0 } };
	char hex[FWD_DIGEST_LEN + 1], why[NET_ADDR_MAX + 40];

	if (pg->host.len == me.len && memcmp(pg->host.p, me.p, me.len) == 0) {
		refuse(c, "same hostname between input and output: invalid "
		    "configuration");
		return;
	}
	if (!cl && o.deny_anon) {
		snprintf(why, sizeof(why), "anonymous source host '%s' denied",
		    c->addr);
		refuse(c, why);
		return;
	}
	if (cl && cl->key) {
		key.p = cl->key;
		key.len = strlen(cl->key);
	}
	fwd_digest(hex, &pg->salt, &pg->host, &nonce, &key);
	if (pg->digest.len != FWD_DIGEST_LEN ||
	    memcmp(hex, pg->digest.p, FWD_DIGEST_LEN) != 0) {
		refuse(c, "shared_key mismatch");
		return;
	}
	if (o.nusers && !user_ok(pg, c, cl)) {
		refuse(c, "username/password mismatch");
		return;
	}
	fwd_digest(hex, &pg->salt, &me, &nonce, &key);
	po.digest.p = hex;
	po.digest.len = FWD_DIGEST_LEN;
	fwd_pong_put(&c->wb, &po);
	c->state = S_DATA;
}

/* Answers the PING at b[0..n); bytes used, 0 if more are needed. */
static size_t
ping_from(struct conn *c, const char *b, size_t n)
{
	struct fwd_ping pg;
	size_t used;
	int r;

	c->got_data = 1;
	r = fwd_ping_parse(b, n, &used, &pg);
	if (r == FWD_SHORT && n < PEEK_MAX)
		return 0;
	if (r != FWD_OK) {
		refuse(c, "invalid ping message");
		return 0;
	}
	check_ping(c, &pg);
	return used;
}

/* The client's host name, looked up once (or its address). */
static const char *
client_hostname(struct conn *c)
{
	char h[1025];

	if (!c->hostname) {
		if (c->sa.ss_family == AF_UNIX || getnameinfo((struct sockaddr *)
		    &c->sa, sizeof(c->sa), h, sizeof(h), NULL, 0, 0) != 0)
			snprintf(h, sizeof(h), "%s", c->addr);
		c->hostname = xstrdup(h);
	}
	return c->hostname;
}

/*
 * The record with the source keys set (replacing any already there), in
 * scratch.rec.
 */
void
fwd_in_source_keys(struct conn *c, const char **rec, size_t *len)
{
	const char *keys[2] = { o.src_host_key, o.src_addr_key };
	const char *vals[2], *p, *v;
	struct buf *rb = &scratch.rec, *tb = &scratch.tmp;
	struct mp_obj m;
	struct rec r;
	size_t vl;
	int i;

	vals[0] = o.src_host_key ? client_hostname(c) : NULL;
	vals[1] = c->addr;
	rb->len = 0;
	buf_put(rb, *rec, *len);
	for (i = 0; i < 2; i++) {
		if (!keys[i])
			continue;
		if (mp_map_get(rb->p, rb->p + rb->len, keys[i],
		    strlen(keys[i]), &v, &vl)) {
			tb->len = 0;
			mp_map_put_without(tb, rb->p, rb->p + rb->len, keys[i],
			    strlen(keys[i]));
			rb->len = 0;
			buf_put(rb, tb->p, tb->len);
		}
		tb->len = 0;
		p = rb->p;
		mp_head(&p, rb->p + rb->len, &m);
		rec_begin(&r, tb);
		rec_pairs(&r, p, rb->p + rb->len - p, m.v.n);
		rec_str(&r, keys[i], strlen(keys[i]), vals[i], strlen(vals[i]));
		rec_end(&r);
		rb->len = 0;
		buf_put(rb, tb->p, tb->len);
	}
	*rec = rb->p;
	*len = rb->len;
}

/*
 * Queues the ack of the frame just finished, if it asked for one: a chunk
 * that is not nil or false, as in_forward tests it.  With --end-to-end it
 * waits for a mark after the events to come back.
 */
static void
frame_end(struct conn *c)
{
	struct fwd_str chunk;
	const char *opt;
	size_t olen, size;

	size = reader_offset(c->r) - c->frame_off;
	if (o.chunk_warn && size > o.chunk_warn)
		warn("%s: request of %zu bytes is larger than "
		    "--chunk-size-warn %zu", c->name, size, o.chunk_warn);
	opt = reader_frame_option(c->r, &olen);
	if (!opt || !fwd_option_chunk(opt, olen, &chunk) ||
	    *chunk.p == (char)0xc0 || *chunk.p == (char)0xc2)
		return;
	conn_reply_after_flush(c, chunk.p, chunk.len, o.e2e ? R_E2E : 0);
}

/* The reader found bad data, or a request over the limit: closing. */
static void
bad_data(struct conn *c)
{
	counts.bad++;
	if (reader_too_big(c->r)) {
		counts.chunks_dropped++;
		warn("%s: request larger than --chunk-size-limit %zu: dropped, "
		    "not acked; closing", c->name, o.chunk_limit);
	} else if (c->mode == M_JSON) {
		/* the reader's offsets count msgpack: say where the JSON was */
		warn("%s: byte %llu: %s (connection closed)", c->name,
		    (unsigned long long)c->jval, reader_errwhat(c->r));
	} else {
		warn("%s (connection closed)", reader_errmsg(c->r));
	}
	conn_closing(c);
}

/* {"ack": chunk}: in msgpack, or as JSON text to a JSON client. */
void
fwd_in_ack(struct conn *c, const char *chunk, size_t n)
{
	const char *p = chunk;

	if (c->mode != M_JSON) {
		fwd_ack_put(&c->wb, chunk, n);
		return;
	}
	buf_puts(&c->wb, "{\"ack\":");
	json_from_mp(&c->wb, &p, chunk + n);
	buf_putc(&c->wb, '}');
}

/* Writes every whole event the connection's reader holds. */
static void
drain(struct conn *c)
{
	struct event ev;
	uint64_t before;
	int ret;

	for (;;) {
		before = reader_offset(c->r);
		ret = reader_next_buffered(c->r, &ev);
		if (ret != READ_EVENT && ret != READ_FRAME)
			break;
		if (!c->in_frame) {
			c->in_frame = 1;
			c->frame_off = before;
		}
		if (ret == READ_EVENT)
			conn_emit(c, &ev);
		if (ret == READ_FRAME || reader_frame_done(c->r)) {
			c->in_frame = 0;
			frame_end(c);
		}
		if (out.b.len >= OUT_BLOCK && !loop.out_waiting)
			loop_out_write();       /* a big frame need not wait */
	}
	if (ret == READ_ERR)
		bad_data(c);
	else if (ret == READ_EOF)
		c->eof = 1;
}

/* The reader of c's requests, with the limits of the options. */
static void
new_reader(struct conn *c)
{
	c->r = reader_new(-1, c->name);
	reader_set_max(c->r, o.chunk_limit);
	reader_set_skip_invalid(c->r, o.skip_invalid);
	reader_set_frame_end(c->r, 1);
	mp_scan_init(&c->ms);
}

/* Takes msgpack request bytes: through skip_in with --skip-invalid-event. */
static void
msgpack_in(struct conn *c, const char *p, size_t n)
{
	if (!o.skip_invalid) {
		reader_feed(c->r, p, n);
		return;
	}
	buf_put(&c->jin, p, n);
	skip_in(c, 0);
}

/* Advances the scan of p[0..len); the end of the value, or 0 if unseen. */
static size_t
jscan_end(struct jscan *s, const char *p, size_t len)
{
	static const char delim[] = " \t\r\n[]{},:\"";
	unsigned char ch;

	for (; s->pos < len; s->pos++) {
		ch = p[s->pos];
		if (!s->started) {
			if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r')
				continue;
			s->started = 1;
			s->start = s->pos;
			s->str = ch == '"';
			s->depth = ch == '[' || ch == '{';
			s->scalar = !s->str && !s->depth;
		} else if (s->str) {
			if (s->esc)
				s->esc = 0;
			else if (ch == '\\')
				s->esc = 1;
			else if (ch == '"' && (s->str = 0, !s->depth))
				return ++s->pos;
		} else if (s->scalar) {
			/* a number or a literal ends at what cannot be in it */
			if (memchr(delim, ch, sizeof(delim) - 1))
				return s->pos;
		} else if (ch == '[' || ch == '{') {
			s->depth++;
		} else if (ch == ']' || ch == '}') {
			if (--s->depth == 0)
				return ++s->pos;
		} else if (ch == '"') {
			s->str = 1;
		}
	}
	return 0;
}

/* JSON mode: bad text at stream offset at; closing. */
static void
bad_json(struct conn *c, uint64_t at, const char *why)
{
	counts.bad++;
	warn("%s: byte %llu: bad JSON: %s (connection closed)", c->name,
	    (unsigned long long)at, why);
	conn_closing(c);
}

/* Drops the JSON text already converted; an unfinished value stays. */
static void
jin_compact(struct conn *c)
{
	size_t k = c->js.started ? c->js.start : c->js.pos;

	if (k == 0)
		return;
	memmove(c->jin.p, c->jin.p + k, c->jin.len - k);
	c->jin.len -= k;
	c->jbase += k;
	c->js.pos -= k;
	c->js.start -= c->js.started ? k : 0;
}

/* Converts one whole value at jin[start..end) and writes its events. */
static int
json_value(struct conn *c, size_t end)
{
	struct json_err err;
	size_t used;

	scratch.json_mp.len = 0;
	c->jval = c->jbase + c->js.start;
	if (json_parse(c->jin.p + c->js.start, end - c->js.start, 1, &used,
	    &scratch.json_mp, &err) != JSON_OK) {
		bad_json(c, c->jval + err.offset, err.msg);
		return -1;
	}
	c->js.pos = c->js.start + used;         /* what follows is looked at */
	c->js.started = c->js.depth = c->js.str = c->js.esc = 0;
	if (o.skip_invalid)
		skip_value(c, scratch.json_mp.p, scratch.json_mp.len);
	else
		reader_feed(c->r, scratch.json_mp.p, scratch.json_mp.len);
	drain(c);
	return c->state == S_DATA ? 0 : -1;
}

/*
 * JSON mode (in_forward's): each whole JSON value in jin becomes msgpack
 * for the reader, so the carrier shapes, limits and acks are the same.
 */
static void
json_events(struct conn *c, int eof)
{
	size_t end;

	while (c->state == S_DATA) {
		end = jscan_end(&c->js, c->jin.p, c->jin.len);
		if (!end && (!eof || !c->js.started))
			break;
		if (json_value(c, end ? end : c->jin.len) < 0)
			return;
	}
	if (c->state != S_DATA)
		return;
	jin_compact(c);
	if (c->js.started && c->jin.len > o.chunk_limit) {
		counts.bad++;
		counts.chunks_dropped++;
		warn("%s: request larger than --chunk-size-limit %zu: dropped, "
		    "not acked; closing", c->name, o.chunk_limit);
		conn_closing(c);
	} else if (eof) {
		reader_feed_eof(c->r);
		drain(c);
	}
}

/* The handshake phase: reads the PING whole.  -1 if c is dropped. */
static int
ping_read(struct conn *c)
{
	size_t used;
	ssize_t n;

	buf_reserve(&c->tin, PEEK_MAX - c->tin.len);
	n = conn_io(c, c->tin.p + c->tin.len, PEEK_MAX - c->tin.len, 0);
	if (n == -1)
		return 0;
	if (n <= 0) {
		conn_drop(c);  /* a transport heartbeat, or a quitter */
		return -1;
	}
	c->tin.len += n;
	c->last = clock_ms();
	if (*c->tin.p == '{' || *c->tin.p == '[') {
		counts.bad++;
		warn("%s: JSON requests cannot do the --shared-key handshake "
		    "(msgpack only): closing", c->name);
		conn_closing(c);
		return 0;
	}
	if (!(used = ping_from(c, c->tin.p, c->tin.len)) || c->state != S_DATA)
		return 0;
	c->mode = M_MSGPACK;
	new_reader(c);
	if (c->tin.len > used)
		msgpack_in(c, c->tin.p + used, c->tin.len - used);
	buf_free(&c->tin);
	if (c->state == S_DATA)
		drain(c);
	return 1;
}

/* The first byte says msgpack or JSON; 1 known, 0 wait, -1 c dropped. */
static int
sniff(struct conn *c)
{
	char b;
	ssize_t n = conn_io(c, &b, 1, 1);

	if (n == -1)
		return 0;
	if (n <= 0) {
		conn_drop(c);  /* a transport heartbeat: no bytes */
		return -1;
	}
	c->mode = b == '{' || b == '[' ? M_JSON : M_MSGPACK;
	new_reader(c);
	return 1;
}

/* One read of requests: 1 bytes came, 0 none now, -1 c is dropped. */
static int
data_read(struct conn *c)
{
	size_t cap;
	ssize_t n;
	char *p;
	int r;

	if (c->mode == M_UNKNOWN && (r = sniff(c)) <= 0)
		return r;
	if (c->mode == M_JSON || o.skip_invalid) {
		buf_reserve(&c->jin, JSON_READ);
		p = c->jin.p + c->jin.len;
		cap = c->jin.cap - c->jin.len;
	} else {
		p = reader_space(c->r, &cap);
	}
	if ((n = conn_io(c, p, cap, 0)) == -1)
		return 0;
	if (n == -2) {
		conn_drop(c);
		return -1;
	}
	c->last = clock_ms();
	c->got_data |= n > 0;
	if (c->mode == M_JSON) {
		c->jin.len += n;
		json_events(c, n == 0);
	} else if (o.skip_invalid) {
		c->jin.len += n;
		if (skip_in(c, n == 0) < 0)
			return 0;
		if (n == 0)
			reader_feed_eof(c->r);
		drain(c);
	} else {
		if (n > 0)
			reader_commit(c->r, n);
		else
			reader_feed_eof(c->r);
		drain(c);
	}
	c->eof |= n == 0;
	return n > 0;
}

/* Forward: the TLS handshake, the PING, then requests. */
void
fwd_in_read(struct conn *c)
{
	int i, r = 1;

	if (c->state == S_TLS && (r = conn_tls_accept(c)) != 0) {
		if (r < 0)
			conn_drop(c);
		return;
	}
	/* TLS may hold decrypted bytes epoll knows nothing of: read on */
	for (i = 0; i < (c->ssl ? TLS_ROUNDS : 1); i++) {
		r = c->state == S_PING ? ping_read(c) : data_read(c);
		if (r < 0)
			return;
		if (r == 0 || (c->state != S_DATA && c->state != S_PING) ||
		    c->eof || out.b.len >= HIGH_WATER)
			break;
	}
	if (c->ssl && c->state == S_DATA && !c->eof && (r > 0 ||
	    SSL_pending(c->ssl)))
		loop.tls_more = 1;      /* stopped with bytes in hand */
}

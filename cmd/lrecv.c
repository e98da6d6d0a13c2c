/* lrecv - accept the Forward protocol (TCP, TLS, UDP, unix) and HTTP input */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "../common/err.h"
#include "../common/fwd.h"
#include "../common/http.h"
#include "../common/json.h"
#include "../common/mp.h"
#include "../common/net.h"
#include "../common/opt.h"
#include "../common/rec.h"
#include "../common/sig.h"
#include "../common/stats.h"
#include "../common/stream.h"

#define USAGE "[options]"
#define ABOUT "Accept events over the Forward protocol (Fluentd in_forward) " \
	"and HTTP (in_http)\nand write them to stdout.  Acks and HTTP " \
	"responses are sent once the events\nare written."

#define MAX_LISTEN 8
#define MAX_USERS 32
#define MAX_ALLOW 64
#define HIGH_WATER (8u * 1024 * 1024)   /* stdout bytes held before pausing */
#define WB_PAUSE (256u * 1024)          /* unsent reply bytes before pausing */
#define PEEK_MAX 4096                   /* largest PING accepted */
#define CLOSE_WAIT_MS 2000              /* lingering after a refusal */
#define TLS_ROUNDS 16                   /* TLS reads in a row per wakeup */
#define JSON_READ (16u * 1024)          /* JSON mode: bytes asked per read */
#define TRIM_BYTES (512u * 1024)        /* larger idle buffers are freed */
#define TRIM_MS 1000                    /* quiet this long: buffers trimmed */
#define FLUSH_MS 5                      /* busy: stdout flushed this often */
#define ACCEPT_PAUSE_MS 1000            /* out of descriptors: stop accepting */
#define LOG_EVERY_MS 10000              /* repeated troubles: one line per */
#define MEM_FLOOR (256u * 1024)         /* never refused for the budget */
#define TLS_MEM (64u * 1024)            /* a TLS session, roughly */
#define RECLAIM_MS 100                  /* over budget: trim idle buffers */

enum {
	O_LISTEN = OPT_LONG, O_UNIX, O_PORT_FILE, O_NO_UDP, O_SHARED_KEY,
	O_USER, O_SELF_HOST, O_ALLOW, O_CHUNK_LIMIT, O_CHUNK_WARN,
	O_SKIP_INVALID, O_SRC_HOST_KEY, O_SRC_ADDR_KEY, O_TAG_PREFIX,
	O_IDLE, O_MAX_CONN, O_DENY_KEEPALIVE, O_CERT, O_KEY, O_CA, O_HTTP,
	O_BODY_LIMIT, O_CORS, O_ADD_HEADERS, O_ADD_REMOTE, O_METRICS, O_STATS,
	O_MEM_LIMIT, O_HANDSHAKE_TIMEOUT, O_REQUEST_TIMEOUT
};

static const struct opt opts[] = {
	{ O_LISTEN, "listen", "[ADDR]:PORT", "Forward over TCP, and UDP "
	    "heartbeats, here (default 0.0.0.0:24224; repeatable; port 0 "
	    "picks one)" },
	{ O_UNIX, "unix", "PATH", "Forward over a unix socket at PATH" },
	{ O_PORT_FILE, "port-file", "FILE", "write the ports bound to FILE "
	    "(--listen's, http N, metrics N)" },
	{ O_NO_UDP, "no-udp", NULL, "do not answer UDP heartbeats" },
	{ O_SHARED_KEY, "shared-key", "KEY", "require the HELO/PING/PONG "
	    "handshake with KEY" },
	{ O_USER, "user", "NAME:PASSWORD", "also require this user (repeatable)" },
	{ O_SELF_HOST, "self-hostname", "NAME", "hostname sent in PONG "
	    "(default: the host name)" },
	{ O_DENY_KEEPALIVE, "deny-keepalive", NULL, "tell clients (HELO) not "
	    "to keep connections open" },
	{ O_ALLOW, "allow", "CIDR[,CIDR...]", "accept clients from these "
	    "addresses only (repeatable)" },
	{ O_CHUNK_LIMIT, "chunk-size-limit", "SIZE", "drop larger requests, "
	    "unacked, and close (default 64M)" },
	{ O_CHUNK_WARN, "chunk-size-warn", "SIZE", "log requests larger than "
	    "SIZE" },
	{ O_SKIP_INVALID, "skip-invalid-event", NULL, "skip bad events and go "
	    "on, instead of closing the connection" },
	{ O_SRC_HOST_KEY, "source-hostname-key", "KEY", "add the client's "
	    "host name to each record as KEY" },
	{ O_SRC_ADDR_KEY, "source-address-key", "KEY", "add the client's "
	    "address to each record as KEY" },
	{ O_TAG_PREFIX, "add-tag-prefix", "PREFIX", "prepend PREFIX. to "
	    "every tag" },
	{ O_IDLE, "idle-timeout", "DURATION", "close connections silent this "
	    "long (default 300s, 0 never)" },
	{ O_HANDSHAKE_TIMEOUT, "handshake-timeout", "DURATION", "close "
	    "clients not through TLS and PING this long after connecting "
	    "(default 10s)" },
	{ O_REQUEST_TIMEOUT, "request-timeout", "DURATION", "drop a request "
	    "not whole this long after its first byte (default 60s, 0 never)" },
	{ O_MAX_CONN, "max-connections", "N", "refuse connections beyond N "
	    "(default 1024)" },
	{ O_MEM_LIMIT, "memory-limit", "SIZE", "refuse requests that would "
	    "take connection buffers beyond SIZE in all (default 1G)" },
	{ O_CERT, "cert", "FILE", "serve TLS with this certificate chain "
	    "(PEM)" },
	{ O_KEY, "key", "FILE", "the private key of --cert (PEM)" },
	{ O_CA, "ca-file", "FILE", "require client certificates signed by "
	    "these CAs" },
	{ O_HTTP, "http", "[ADDR]:PORT", "accept HTTP POST /TAG (Fluentd "
	    "in_http) here" },
	{ O_BODY_LIMIT, "body-size-limit", "SIZE", "largest HTTP body, "
	    "else 413 (default 32M)" },
	{ O_CORS, "cors-allow-origins", "ORIGIN[,ORIGIN...]", "answer CORS "
	    "for these origins (* for any); 403 others" },
	{ O_ADD_HEADERS, "add-http-headers", NULL, "add the request headers "
	    "to records as HTTP_NAME" },
	{ O_ADD_REMOTE, "add-remote-addr", NULL, "add the client address to "
	    "records as REMOTE_ADDR" },
	{ O_METRICS, "metrics", "[ADDR]:PORT", "serve /metrics (Prometheus) "
	    "and /api/plugins.json here" },
	{ O_STATS, "stats", NULL, "print counters to stderr at exit" },
	OPT_STD,
	OPT_END
};

static const struct opt_exit exits[] = {
	{ 0, "stopped by a signal" },
	{ 2, "usage error" },
	{ 4, "system failure: a port, a certificate, standard output" },
	{ 141, "the reader of standard output went away" },
	OPT_EXIT_END
};

static const struct opt_prog prog = { USAGE, ABOUT, opts, exits, 0 };

struct user {
	char *name;
	char *pass;
};

static struct {
	const char *listen[MAX_LISTEN];
	int nlisten;
	const char *unix_path, *port_file, *shared_key, *self_host;
	const char *tag_prefix, *src_host_key, *src_addr_key;
	const char *cert, *key, *ca, *http, *metrics, *cors;
	int add_headers, add_remote;
	size_t body_limit;
	struct user users[MAX_USERS];
	int nusers;
	struct net_cidr allow[MAX_ALLOW];
	int nallow;
	size_t chunk_limit, chunk_warn, mem_limit;
	int skip_invalid, stats, no_udp, deny_keepalive, max_conn;
	long long idle_ms, handshake_ms, request_ms;
} o = { .chunk_limit = 64u << 20, .idle_ms = 300000, .max_conn = 1024,
	.body_limit = 32u << 20, .mem_limit = 1u << 30, .handshake_ms = 10000,
	.request_ms = 60000 };

enum { T_LISTEN, T_UNIX, T_UDP, T_HTTP, T_METRICS, T_CONN, T_STDOUT, T_SIG };
enum { K_FWD, K_HTTP, K_METRICS };
enum { S_TLS, S_PING, S_DATA, S_CLOSING };
enum { M_UNKNOWN, M_MSGPACK, M_JSON };  /* what the first byte said */

/* Where a JSON value ends, in text that arrives piecewise. */
struct jscan {
	size_t pos;             /* the next byte to look at */
	size_t start;           /* the value's first byte, once started */
	int started, depth, str, esc, scalar;
};

struct item {
	int type;
	int fd;
};

/*
 * A connection has one owner, the main loop: code that is done with one
 * marks it (conn_drop, conn_closing) and only reap() frees it, between
 * events, so no caller is left holding a freed connection.
 */
struct conn {
	struct item it;
	int kind;
	int state;
	int dead;               /* conn_drop: freed by the next reap() */
	int on_todo;            /* on the todo list for reap() */
	int shut;               /* closing: our write side is shut */
	int eof;                /* the client sent its last byte */
	int got_data;
	uint32_t events;        /* epoll mask set */
	int mode;               /* M_MSGPACK or M_JSON, once known */
	struct reader *r;       /* msgpack requests (JSON ones converted) */
	SSL *ssl;
	struct buf tin;         /* the PING, read whole */
	struct buf hin;         /* HTTP: request bytes */
	struct http_dechunker dc;       /* HTTP: the chunked body so far */
	size_t dc_from;         /* HTTP: where in hin that body starts */
	size_t hwant;           /* HTTP: bytes the request needs, if known */
	int hchunked;           /* HTTP: waiting for a chunked body's end */
	int continued;          /* HTTP: 100 Continue sent for this request */
	struct buf jin;         /* JSON mode: text not yet converted */
	struct jscan js;
	uint64_t jbase;         /* stream offset of jin.p[0] */
	uint64_t jval;          /* stream offset of the value being read */
	struct buf wb;          /* replies to send */
	size_t woff;
	struct buf acks;        /* pending: u64 out position, u32 len, chunk */
	size_t aoff;
	int in_ackq;
	int in_frame;
	uint64_t frame_off;
	unsigned char nonce[FWD_NONCE_LEN], auth[FWD_NONCE_LEN];
	struct sockaddr_storage sa;
	char addr[NET_ADDR_MAX];        /* ip only */
	char name[NET_ADDR_MAX + 16];   /* "client IP:PORT" for messages */
	char *hostname;                 /* resolved on first use */
	long long last, born, born_stall;
	long long req_start, req_stall; /* the request in progress began */
	uint64_t req_off;       /* ... at this offset (or request count) */
	uint64_t nreq;          /* HTTP requests answered */
	size_t mem;             /* bytes counted against --memory-limit */
	struct conn *prev, *next;
	struct conn *aprev, *anext;
	struct conn *tnext;     /* the todo list */
};

static int ep = -1;
static struct out out;
static int out_nb;              /* stdout is a non-blocking pipe */
static int out_flags = -1;
static int out_waiting;         /* EPOLLOUT armed on stdout */
static struct item listeners[MAX_LISTEN * 2 + 1];
static int nlisteners;
static struct item stdout_item = { T_STDOUT, 1 }, sig_item = { T_SIG, -1 };
static struct conn *conns, *ackq, *todo;
static int nconns, nkind[3], kind_used[3];
static size_t mem_total;        /* what every connection holds */
static long long stalled_ms;    /* time spent waiting for stdout alone */
static long long last_flush, last_reclaim;
static int accept_paused;
static long long accept_resume;

/* A trouble that may repeat fast: said once, then counted. */
struct ratelog {
	long long at;           /* when it was last said */
	uint64_t n;             /* times since */
};
static struct ratelog rl_accept, rl_full;
static char self_host[256];
static struct buf tagb, recb, tmpb;
static uint64_t c_accepted, c_refused, c_acks, c_chunks_dropped, c_bad;
static uint64_t c_heartbeats, c_skipped, c_http_requests, c_http_errors;
static struct buf vb, pb, zb, hb, hb2, tagb2;   /* HTTP scratch */
static struct buf jmp;          /* a JSON request as msgpack */
static char why_buf[256];
static SSL_CTX *ssl_ctx;
static int tls_more;            /* a TLS connection holds unread bytes */

static long long
now_ms(void)
{
	return stream_ms();
}

static void
ep_set(struct conn *c, uint32_t ev)
{
	struct epoll_event e;

	if (c->events == ev)
		return;
	e.events = ev;
	e.data.ptr = c;
	if (epoll_ctl(ep, EPOLL_CTL_MOD, c->it.fd, &e) == 0)
		c->events = ev;
}

static void
ep_add(struct item *it, uint32_t ev)
{
	struct epoll_event e;

	e.events = ev;
	e.data.ptr = it;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, it->fd, &e) < 0)
		die(EX_SYS, "epoll_ctl:");
}

static void
ackq_remove(struct conn *c)
{
	if (!c->in_ackq)
		return;
	if (c->aprev)
		c->aprev->anext = c->anext;
	else
		ackq = c->anext;
	if (c->anext)
		c->anext->aprev = c->aprev;
	c->in_ackq = 0;
}

/* Bytes c holds, as --memory-limit counts them. */
static size_t
conn_mem(const struct conn *c)
{
	size_t m = sizeof(*c) + c->tin.cap + c->hin.cap + c->jin.cap +
	    c->wb.cap + c->acks.cap;

	if (c->r)
		m += reader_mem(c->r);
	if (c->ssl)
		m += TLS_MEM;
	return m;
}

/* Brings mem_total up to date with c; how many bytes c grew by. */
static size_t
mem_update(struct conn *c)
{
	size_t m = conn_mem(c), grew = m > c->mem ? m - c->mem : 0;

	mem_total = mem_total - c->mem + m;
	c->mem = m;
	return grew;
}

/* A quiet connection gives back what a big request made it take. */
static void
conn_trim(struct conn *c)
{
	if (c->r)
		reader_trim(c->r);
	if (c->jin.len == 0 && c->jin.cap > TRIM_BYTES)
		buf_free(&c->jin);
	if (c->hin.len == 0 && c->hin.cap > TRIM_BYTES)
		buf_free(&c->hin);
	if (c->wb.len == 0 && c->wb.cap > TRIM_BYTES)
		buf_free(&c->wb);
}

/* Frees what reading requests took: the reader and the input buffers. */
static void
conn_release(struct conn *c)
{
	if (c->mode == M_JSON)
		stats.bytes_in += c->jbase + c->jin.len;
	c->jbase = 0;           /* counted: a second call adds nothing */
	if (c->r) {
		if (c->mode != M_JSON)
			stats.bytes_in += reader_stats(c->r)->bytes;
		c_skipped += reader_stats(c->r)->skipped_places;
		reader_free(c->r);
		c->r = NULL;
	}
	buf_free(&c->tin);
	buf_free(&c->hin);
	buf_free(&c->jin);
	c->hwant = 0;
	c->hchunked = 0;
	c->req_start = 0;
	mem_update(c);
}

/* Only reap() and shutdown_all() call this. */
static void
conn_free(struct conn *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	ackq_remove(c);
	close(c->it.fd);
	conn_release(c);
	mem_total -= c->mem;
	if (c->ssl)
		SSL_free(c->ssl);
	buf_free(&c->wb);
	buf_free(&c->acks);
	free(c->hostname);
	nkind[c->kind]--;
	free(c);
	nconns--;
}

static void
todo_add(struct conn *c)
{
	if (c->on_todo)
		return;
	c->on_todo = 1;
	c->tnext = todo;
	todo = c;
}

/* Done with c: the main loop frees it (and closes it) in reap(). */
static void
conn_drop(struct conn *c)
{
	c->dead = 1;
	todo_add(c);
}

/*
 * Stops taking requests: what is queued is sent, then the write side is
 * shut and what the client still sends is read and dropped until it
 * leaves (or CLOSE_WAIT_MS).  The input buffers go in reap().
 */
static void
conn_closing(struct conn *c)
{
	if (c->state == S_CLOSING)
		return;
	c->state = S_CLOSING;
	c->last = now_ms();
	todo_add(c);
}

/* Between events: frees dropped connections, and closing ones' input. */
static void
reap(void)
{
	struct conn *c;
	int freed = 0;

	while ((c = todo)) {
		todo = c->tnext;
		c->on_todo = 0;
		if (c->dead) {
			conn_free(c);
			freed = 1;
		} else if (c->state == S_CLOSING) {
			conn_release(c);
		}
	}
	if (freed && accept_paused)
		accept_resume = 0;      /* descriptors came free: try now */
}

/* send(2) or SSL_write: bytes sent, -1 with errno (EAGAIN to wait). */
static ssize_t
conn_send(struct conn *c, const char *p, size_t n)
{
	int r, e;

	if (!c->ssl)
		return send(c->it.fd, p, n, MSG_NOSIGNAL);
	ERR_clear_error();
	if ((r = SSL_write(c->ssl, p, (int)n)) > 0)
		return r;
	e = SSL_get_error(c->ssl, r);
	errno = e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ ? EAGAIN :
	    e == SSL_ERROR_SYSCALL && errno ? errno : EPROTO;
	return -1;
}

/* Sends what wb holds; -1 if the connection is dropped. */
static int
conn_write(struct conn *c)
{
	ssize_t n;

	if (c->dead)
		return -1;
	while (c->woff < c->wb.len) {
		n = conn_send(c, c->wb.p + c->woff, c->wb.len - c->woff);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n < 0) {
			if (c->state != S_CLOSING)
				warn("%s: unable to send: %s", c->name,
				    strerror(errno));
			conn_drop(c);
			return -1;
		}
		c->woff += n;
		c->last = now_ms();
	}
	if (c->woff == c->wb.len)
		c->woff = c->wb.len = 0;
	return 0;
}

/* Sets the epoll mask from the state: read unless paused, write if due. */
static void
conn_arm(struct conn *c)
{
	uint32_t ev = 0;

	if (c->wb.len > c->woff)
		ev |= EPOLLOUT;
	if (!c->eof && (c->state == S_CLOSING || c->wb.len - c->woff < WB_PAUSE))
		ev |= EPOLLIN;
	ep_set(c, ev);
}

/* Closing, everything sent: the client sees the end of our replies. */
static void
conn_shut(struct conn *c)
{
	c->shut = 1;
	if (c->ssl)
		SSL_shutdown(c->ssl);
	shutdown(c->it.fd, SHUT_WR);
}

/* After a change: sends, closes when nothing is left to do, re-arms. */
static void
conn_settle(struct conn *c)
{
	if (conn_write(c) < 0)
		return;
	mem_update(c);
	if (c->wb.len == 0 && c->aoff == c->acks.len) {
		if (c->eof) {
			conn_drop(c);
			return;
		}
		if (c->state == S_CLOSING && !c->shut)
			conn_shut(c);
	}
	conn_arm(c);
}

static void
refuse(struct conn *c, const char *reason)
{
	struct fwd_pong po = { 0, { reason, strlen(reason) }, { "", 0 },
		{ "", 0 } };

	warn("%s: handshake refused: %s", c->name, reason);
	c_refused++;
	fwd_pong_put(&c->wb, &po);
	conn_closing(c);
}

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

static void
send_helo(struct conn *c)
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

static int
user_ok(const struct fwd_ping *pg, const struct conn *c)
{
	struct fwd_str auth = { (char *)c->auth, sizeof(c->auth) }, u, pw;
	char hex[FWD_DIGEST_LEN + 1];
	int i;

	for (i = 0; i < o.nusers; i++) {
		u.p = o.users[i].name;
		u.len = strlen(u.p);
		if (u.len != pg->user.len || memcmp(u.p, pg->user.p, u.len))
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
	struct fwd_str key = { o.shared_key, strlen(o.shared_key) };
	struct fwd_str me = { self_hostname(), strlen(self_hostname()) };
	struct fwd_pong po = { 1, { "", 0 }, me, { NULL, 0 } };
	char hex[FWD_DIGEST_LEN + 1];

	if (pg->host.len == me.len && memcmp(pg->host.p, me.p, me.len) == 0) {
		refuse(c, "same hostname between input and output: invalid "
		    "configuration");
		return;
	}
	fwd_digest(hex, &pg->salt, &pg->host, &nonce, &key);
	if (pg->digest.len != FWD_DIGEST_LEN ||
	    memcmp(hex, pg->digest.p, FWD_DIGEST_LEN) != 0) {
		refuse(c, "shared_key mismatch");
		return;
	}
	if (o.nusers && !user_ok(pg, c)) {
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

static const char *
conn_hostname(struct conn *c)
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

/* The record with the source keys set (replacing any already there). */
static void
source_keys(struct conn *c, const char **rec, size_t *len)
{
	const char *keys[2] = { o.src_host_key, o.src_addr_key };
	const char *vals[2], *p, *v;
	struct mp_obj m;
	struct rec r;
	size_t vl;
	int i;

	vals[0] = o.src_host_key ? conn_hostname(c) : NULL;
	vals[1] = c->addr;
	recb.len = 0;
	buf_put(&recb, *rec, *len);
	for (i = 0; i < 2; i++) {
		if (!keys[i])
			continue;
		if (mp_map_get(recb.p, recb.p + recb.len, keys[i],
		    strlen(keys[i]), &v, &vl)) {
			tmpb.len = 0;
			mp_map_put_without(&tmpb, recb.p, recb.p + recb.len,
			    keys[i], strlen(keys[i]));
			recb.len = 0;
			buf_put(&recb, tmpb.p, tmpb.len);
		}
		tmpb.len = 0;
		p = recb.p;
		mp_head(&p, recb.p + recb.len, &m);
		rec_begin(&r, &tmpb);
		rec_pairs(&r, p, recb.p + recb.len - p, m.v.n);
		rec_str(&r, keys[i], strlen(keys[i]), vals[i], strlen(vals[i]));
		rec_end(&r);
		recb.len = 0;
		buf_put(&recb, tmpb.p, tmpb.len);
	}
	*rec = recb.p;
	*len = recb.len;
}

/* Appends one event in Message mode to the stdout buffer (no flush). */
static void
emit(struct conn *c, struct event *ev)
{
	const char *tag = ev->tag, *rec = ev->rec;
	size_t tag_len = ev->tag_len, rec_len = ev->rec_len;
	struct buf *b = &out.b;

	if (o.tag_prefix) {
		tagb.len = 0;
		buf_puts(&tagb, o.tag_prefix);
		buf_putc(&tagb, '.');
		buf_put(&tagb, ev->tag, ev->tag_len);
		tag = tagb.p;
		tag_len = tagb.len;
	}
	if (ev->sec == 0 && ev->nsec == 0)
		event_now(&ev->sec, &ev->nsec);
	if ((o.src_host_key || o.src_addr_key) && c->kind == K_FWD)
		source_keys(c, &rec, &rec_len);
	buf_reserve(b, 16 + tag_len + rec_len);
	b->p[b->len++] = (char)0x93;
	mp_put_strhdr(b, tag_len);
	buf_put(b, tag, tag_len);
	event_put_time(b, ev->sec, ev->nsec);
	buf_put(b, rec, rec_len);
	stats.in++;
	stats.out++;
}

/*
 * Queues a reply to send once everything written so far is flushed: an
 * ack for the chunk p[0..n), or with R_RAW the bytes as they are (an HTTP
 * response).
 */
enum { R_RAW = 1 };

static void
reply_after_flush(struct conn *c, const char *p, size_t n, uint32_t flags)
{
	uint64_t pos = out.bytes + out.b.len;
	uint32_t len = (uint32_t)n;

	buf_put(&c->acks, &pos, sizeof(pos));
	buf_put(&c->acks, &len, sizeof(len));
	buf_put(&c->acks, &flags, sizeof(flags));
	buf_put(&c->acks, p, n);
	if (!c->in_ackq) {
		c->aprev = NULL;
		c->anext = ackq;
		if (ackq)
			ackq->aprev = c;
		ackq = c;
		c->in_ackq = 1;
	}
}

/*
 * Queues the ack of the frame just finished, if it asked for one: a chunk
 * that is not nil or false, as in_forward tests it.
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
	reply_after_flush(c, chunk.p, chunk.len, 0);
}

static void
bad_data(struct conn *c)
{
	c_bad++;
	if (reader_too_big(c->r)) {
		c_chunks_dropped++;
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

/* Writes what stdout takes now, without waiting on a full pipe. */
static void
out_write(void)
{
	if (out.b.len && out_flush_try(&out) < 0) {
		if (errno == EPIPE)
			exit(128 + 13);
		if (errno != EAGAIN)
			die(EX_SYS, "unable to write stdout:");
	}
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
			emit(c, &ev);
		if (ret == READ_FRAME || reader_frame_done(c->r)) {
			c->in_frame = 0;
			frame_end(c);
		}
		if (out.b.len >= OUT_BLOCK && !out_waiting)
			out_write();    /* a big frame need not be held whole */
	}
	if (ret == READ_ERR)
		bad_data(c);
	else if (ret == READ_EOF)
		c->eof = 1;
}

static void preflight(struct conn *, const struct http_req *, const char *,
    size_t);
static void metrics_text(struct buf *);
static void metrics_json(struct buf *);

/* --- in_http and the metrics endpoint -------------------------------- */

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

/* Queues a response; code 200 has an empty body, others say why. */
static void
http_reply(struct conn *c, int code, const char *why, int keep,
    const char *origin, size_t olen)
{
	char body[600], extra[600] = "";
	int n = 0;

	if (code != 200 && why)
		n = snprintf(body, sizeof(body), "%d %s\n", code, why);
	if (origin && (size_t)snprintf(extra, sizeof(extra),
	    "Access-Control-Allow-Origin: %.*s\r\n", (int)olen, origin) >=
	    sizeof(extra))
		extra[0] = '\0';
	tmpb.len = 0;
	http_response(&tmpb, code, "text/plain", extra[0] ? extra : NULL, n,
	    keep);
	buf_put(&tmpb, body, n);
	if (code != 200)
		c_http_errors++;
	reply_after_flush(c, tmpb.p, tmpb.len, R_RAW);
	if (!keep)
		conn_closing(c);
}

/* The time of a record: its "time" field if it is a number (removed). */
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
	tmpb.len = 0;
	mp_map_put_without(&tmpb, *rec, *rec + *len, "time", 4);
	recb.len = 0;
	buf_put(&recb, tmpb.p, tmpb.len);
	*rec = recb.p;
	*len = recb.len;
}

/* Adds HTTP_* headers and REMOTE_ADDR to the record as asked. */
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
	hb2.len = 0;
	rec_begin(&r, &hb2);
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
	if (o.add_remote)
		rec_str(&r, "REMOTE_ADDR", 11, c->addr, strlen(c->addr));
	rec_end(&r);
	*rec = hb2.p;
	*len = hb2.len;
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

	ev.tag = tagb2.p;
	ev.tag_len = tagb2.len;
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
	emit(c, &ev);
}

/*
 * Checks (emit_them 0) or emits every record of the values in vb: maps
 * with str keys (lkit-stream(5)), alone or in arrays.  The tag is tagb2.
 */
static int
http_walk(struct conn *c, const struct http_req *rq, int emit_them,
    const int64_t *qsec, uint32_t qnsec, const char **why)
{
	const char *p = vb.p, *end = vb.p + vb.len, *v, *rec, *bk;
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

/* JSON text (one value, or one per line) into msgpack values in vb. */
static int
json_values(const char *p, size_t n, const char **why)
{
	struct json_err err;
	size_t used, off = 0;
	int r;

	for (;;) {
		r = json_parse(p + off, n - off, 1, &used, &vb, &err);
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
	buf_put(&vb, p, n);
	return 0;
}

/* Finds the records of a request and leaves them in vb as msgpack. */
static int
http_payload(const struct http_req *rq, const char *body, size_t blen,
    const char **why)
{
	const char *ct, *enc, *b, *v;
	size_t cl = 0, el, bl, vl;
	int r;

	vb.len = pb.len = 0;
	if ((enc = http_header(rq, "content-encoding", &el)) &&
	    (strncasecmp(enc, "gzip", 4) == 0 || strncasecmp(enc, "deflate",
	    7) == 0)) {
		zb.len = 0;
		if ((r = http_gunzip(&zb, body, blen, o.body_limit)) != HTTP_OK) {
			*why = r == HTTP_TOOBIG ? "body inflates beyond "
			    "--body-size-limit" : "bad gzip body";
			return r == HTTP_TOOBIG ? -2 : -1;
		}
		body = zb.p;
		blen = zb.len;
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
		if (http_param(body, blen, "json", &pb))
			return json_values(pb.p, pb.len, why);
		if (http_param(body, blen, "msgpack", &pb))
			return mp_values(pb.p, pb.len, why);
	}
	if (CT("multipart/form-data") && (b = http_boundary(ct, cl, &bl))) {
		if (http_multipart(body, blen, b, bl, "json", &v, &vl) == 1)
			return json_values(v, vl, why);
		if (http_multipart(body, blen, b, bl, "msgpack", &v, &vl) == 1)
			return mp_values(v, vl, why);
	}
#undef CT
	if (http_param(rq->query, rq->query_len, "json", &pb))
		return json_values(pb.p, pb.len, why);
	if (http_param(rq->query, rq->query_len, "msgpack", &pb))
		return mp_values(pb.p, pb.len, why);
	*why = "no records: send a JSON, NDJSON or msgpack body, or a json= or "
	    "msgpack= parameter";
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

/* The tag from the path into tagb2: 0, or -1 with *why. */
static int
http_tag(const struct http_req *rq, const char **why)
{
	unsigned char ch;
	size_t i;

	if (rq->path_len < 2) {
		*why = "no tag: POST to /TAG";
		return -1;
	}
	tagb2.len = 0;
	http_urldecode(&tagb2, rq->path + 1, rq->path_len - 1);
	for (i = 0; i < tagb2.len; i++) {
		ch = (unsigned char)tagb2.p[i];
		if (ch < 0x20 || ch == 0x7f) {
			snprintf(why_buf, sizeof(why_buf), "the tag holds a "
			    "control byte (0x%02x at %zu)", ch, i);
			*why = why_buf;
			return -1;
		}
		if (ch == '/')
			tagb2.p[i] = '.';
	}
	return 0;
}

/* The time= parameter, if any, into h: 0, or -1 with *why. */
static int
http_qtime(const struct http_req *rq, struct hhead *h, const char **why)
{
	char *t;
	double d;

	pb.len = 0;
	h->has_time = 0;
	if (!http_param(rq->query, rq->query_len, "time", &pb))
		return 0;
	buf_putc(&pb, '\0');
	d = strtod(pb.p, &t);
	if (*t || t == pb.p || event_time_from_double(d, &h->qs, &h->qn) < 0) {
		*why = "bad time= parameter";
		return -1;
	}
	h->has_time = 1;
	return 0;
}

static int
method_is(const struct http_req *rq, const char *m)
{
	return rq->method_len == strlen(m) && memcmp(rq->method, m,
	    rq->method_len) == 0;
}

/*
 * What the head alone decides: H_EVENTS (the tag in tagb2, the time in
 * h), H_PREFLIGHT, H_METRICS, or an error status with *why.
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
		http_reply(c, r == -2 ? 413 : 400, why, rq->keepalive,
		    h->origin, h->olen);
		return;
	}
	http_walk(c, rq, 1, h->has_time ? &h->qs : NULL, h->qn, &why);
	c_http_requests++;
	http_reply(c, 200, NULL, rq->keepalive, h->origin, h->olen);
}

/* GET /metrics (Prometheus) and /api/plugins.json (monitor_agent). */
static void
metrics(struct conn *c, const struct http_req *rq)
{
	const char *type = "text/plain; version=0.0.4";
	int code = 200;

	pb.len = 0;
	if (rq->path_len == 8 && memcmp(rq->path, "/metrics", 8) == 0) {
		metrics_text(&pb);
	} else if (rq->path_len == 17 && memcmp(rq->path,
	    "/api/plugins.json", 17) == 0) {
		metrics_json(&pb);
		type = "application/json";
	} else {
		code = 404;
		buf_puts(&pb, "404 Not Found: try /metrics or /api/plugins.json\n");
	}
	http_response(&c->wb, code, type, NULL, pb.len, rq->keepalive);
	buf_put(&c->wb, pb.p, pb.len);
	if (!rq->keepalive)
		conn_closing(c);
}

/* CORS preflight: allowed origins get the methods and headers. */
static void
preflight(struct conn *c, const struct http_req *rq, const char *origin,
    size_t olen)
{
	char extra[700];

	snprintf(extra, sizeof(extra), "Access-Control-Allow-Origin: %.*s\r\n"
	    "Access-Control-Allow-Methods: POST, GET, OPTIONS\r\n"
	    "Access-Control-Allow-Headers: Content-Type, Content-Encoding\r\n",
	    origin ? (int)olen : 1, origin ? origin : "*");
	tmpb.len = 0;
	http_response(&tmpb, 200, "text/plain", extra, 0, rq->keepalive);
	reply_after_flush(c, tmpb.p, tmpb.len, R_RAW);
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
		metrics(c, rq);
	} else if (v == H_PREFLIGHT) {
		preflight(c, rq, h.origin, h.olen);
	} else if (v == H_EVENTS) {
		http_events(c, rq, &h, body, blen);
	} else {
		if (v == 400)
			warn("%s: %s", c->name, why);
		http_reply(c, v, why, rq->keepalive, h.origin, h.olen);
	}
}

/* A request that cannot be served: the status, then the close.  -1. */
static int
http_fail(struct conn *c, int code, const char *why, const char *origin,
    size_t olen)
{
	warn("%s: %s", c->name, why);
	http_reply(c, code, why, 0, origin, olen);
	return -1;
}

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
		reply_after_flush(c, cont, sizeof(cont) - 1, R_RAW);
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
	 * The decoder scans only bytes it has not seen, and fills hb once,
	 * when the body is whole: http_worth may have done that just before.
	 */
	if (!c->hchunked) {
		c->hchunked = 1;
		c->dc_from = rq->head_len;
		http_dechunk_init(&c->dc);
		hb.len = 0;
	}
	r = http_dechunk_feed(&c->dc, c->hin.p + rq->head_len,
	    c->hin.len - rq->head_len, &hb, &used, o.body_limit);
	if (r == HTTP_TOOBIG)
		*why = "chunked body larger than --body-size-limit";
	else if (r != HTTP_OK && r != HTTP_SHORT)
		*why = "bad chunked body";
	*body = hb.p;
	*blen = hb.len;
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
		hb.len = 0;
		return http_dechunk_feed(&c->dc, c->hin.p + c->dc_from,
		    c->hin.len - c->dc_from, &hb, &used, o.body_limit) !=
		    HTTP_SHORT;
	}
	from = old > 0 ? old - 1 : 0;
	return c->hin.len > HTTP_MAX_HEAD || memchr(c->hin.p + from, '\n',
	    c->hin.len - from);
}

static void
http_read(struct conn *c)
{
	size_t old = c->hin.len;
	ssize_t n;

	if (c->hin.len > HTTP_MAX_HEAD + o.body_limit + 65536) {
		http_fail(c, 413, "request too large", NULL, 0);
		return;
	}
	buf_reserve(&c->hin, 64 * 1024);
	n = read(c->it.fd, c->hin.p + c->hin.len, c->hin.cap - c->hin.len);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		if (c->hin.len)
			warn("%s: connection closed inside a request", c->name);
		c->eof = 1;
		return;
	}
	c->hin.len += n;
	c->got_data = 1;
	c->last = now_ms();
	stats.bytes_in += n;
	if (!http_worth(c, old))
		return;
	while (http_one(c) > 0)
		;
}

static void
new_reader(struct conn *c)
{
	c->r = reader_new(-1, c->name);
	reader_set_max(c->r, o.chunk_limit);
	reader_set_skip_invalid(c->r, o.skip_invalid);
	reader_set_frame_end(c->r, 1);
}

/* The TLS handshake; 0 when done, 1 to wait, -1 failed (closing). */
static int
tls_accept(struct conn *c)
{
	int r, e;
	unsigned long err;

	ERR_clear_error();
	if ((r = SSL_accept(c->ssl)) == 1) {
		c->state = S_DATA;
		if (o.shared_key)
			send_helo(c);
		return 0;
	}
	e = SSL_get_error(c->ssl, r);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
		return 1;
	err = ERR_peek_last_error();
	if (c->got_data || err)
		warn("%s: TLS handshake failed: %s", c->name, err ?
		    ERR_reason_error_string(err) : "connection closed");
	c->eof = 1;
	return -1;
}

/* SSL_read or SSL_peek, with conn_io's results. */
static ssize_t
tls_io(struct conn *c, char *p, size_t cap, int peek)
{
	int n, e, cn = cap > INT_MAX ? INT_MAX : (int)cap;

	ERR_clear_error();
	errno = 0;      /* SSL_ERROR_SYSCALL without errno: the peer left */
	n = peek ? SSL_peek(c->ssl, p, cn) : SSL_read(c->ssl, p, cn);
	if (n > 0)
		return n;
	e = SSL_get_error(c->ssl, n);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
		return -1;
	if (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && !errno))
		return 0;
	if (c->state != S_CLOSING)
		warn("%s: TLS read failed: %s", c->name, e == SSL_ERROR_SSL ?
		    ERR_reason_error_string(ERR_peek_last_error()) :
		    strerror(errno));
	return -2;
}

/*
 * Reads (or with peek, looks at) up to cap bytes, through TLS if the
 * connection has it: bytes, 0 at the end, -1 none now, -2 failed (said).
 */
static ssize_t
conn_io(struct conn *c, char *p, size_t cap, int peek)
{
	ssize_t n;

	if (c->ssl)
		return tls_io(c, p, cap, peek);
	n = recv(c->it.fd, p, cap, peek ? MSG_PEEK : 0);
	if (n >= 0)
		return n;
	if (errno == EAGAIN || errno == EINTR)
		return -1;
	if (c->state != S_CLOSING)
		warn("%s: unable to read: %s", c->name, strerror(errno));
	return -2;
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

static void
bad_json(struct conn *c, uint64_t at, const char *why)
{
	c_bad++;
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

	jmp.len = 0;
	c->jval = c->jbase + c->js.start;
	if (json_parse(c->jin.p + c->js.start, end - c->js.start, 1, &used,
	    &jmp, &err) != JSON_OK) {
		bad_json(c, c->jval + err.offset, err.msg);
		return -1;
	}
	c->js.pos = c->js.start + used;         /* what follows is looked at */
	c->js.started = c->js.depth = c->js.str = c->js.esc = 0;
	reader_feed(c->r, jmp.p, jmp.len);
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
		c_bad++;
		c_chunks_dropped++;
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
	c->last = now_ms();
	if (*c->tin.p == '{' || *c->tin.p == '[') {
		c_bad++;
		warn("%s: JSON requests cannot do the --shared-key handshake "
		    "(msgpack only): closing", c->name);
		conn_closing(c);
		return 0;
	}
	if (!(used = ping_from(c, c->tin.p, c->tin.len)) || c->state != S_DATA)
		return 0;
	c->mode = M_MSGPACK;
	new_reader(c);
	reader_feed(c->r, c->tin.p + used, c->tin.len - used);
	buf_free(&c->tin);
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
	if (c->mode == M_JSON) {
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
	c->last = now_ms();
	c->got_data |= n > 0;
	if (c->mode == M_JSON) {
		c->jin.len += n;
		json_events(c, n == 0);
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

/* After a refusal or bad data: reads and drops until the client closes. */
static void
closing_read(struct conn *c)
{
	char junk[4096];
	ssize_t n = 0;
	int i;

	for (i = 0; i < 16; i++)        /* level-triggered: the rest later */
		if ((n = conn_io(c, junk, sizeof(junk), 0)) <= 0)
			break;
	if (n == 0)
		c->eof = 1;
	else if (n == -2)
		conn_drop(c);
}

/* Forward: the TLS handshake, the PING, then requests. */
static void
fwd_read(struct conn *c)
{
	int i, r = 1;

	if (c->state == S_TLS && (r = tls_accept(c)) != 0) {
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
		tls_more = 1;   /* stopped with bytes in hand: come back */
}

/*
 * Is a request partly here?  *off then names it: the stream offset where
 * it starts (the count of requests answered, for HTTP).
 */
static int
conn_pending(const struct conn *c, uint64_t *off)
{
	*off = 0;
	if (c->state == S_CLOSING || c->dead)
		return 0;
	if (c->kind != K_FWD) {
		*off = c->nreq;
		return c->hin.len > 0;
	}
	if (c->mode == M_JSON && c->jin.len) {
		*off = c->jbase;
		return 1;
	}
	if (!c->r)
		return 0;
	*off = reader_offset(c->r);
	return c->in_frame || reader_stats(c->r)->bytes > *off;
}

/* Starts the clock of --request-timeout at a request's first byte. */
static void
req_clock(struct conn *c)
{
	uint64_t off;

	if (!conn_pending(c, &off)) {
		c->req_start = 0;
		return;
	}
	if (c->req_start && off == c->req_off)
		return;
	c->req_start = now_ms();
	c->req_stall = stalled_ms;
	c->req_off = off;
}

/* Over the budget: idle connections give back their big buffers. */
static void
reclaim(void)
{
	struct conn *c;

	if (now_ms() - last_reclaim < RECLAIM_MS)
		return;
	last_reclaim = now_ms();
	for (c = conns; c; c = c->next) {
		conn_trim(c);
		mem_update(c);
	}
}

/* The budget is spent and c grew: its request goes, unacked. */
static void
over_budget(struct conn *c)
{
	reclaim();
	if (mem_total <= o.mem_limit)
		return;
	c_bad++;
	warn("%s: --memory-limit %zu reached (%zu bytes in %d connections, "
	    "%zu in this one): request dropped, not acked; closing", c->name,
	    o.mem_limit, mem_total, nconns, c->mem);
	if (c->kind != K_FWD) {
		http_reply(c, 503, "over --memory-limit, try again later", 0,
		    NULL, 0);
		return;
	}
	c_chunks_dropped++;
	conn_closing(c);
}

static void
conn_read(struct conn *c)
{
	if (c->dead)
		return;
	if (c->state == S_CLOSING)
		closing_read(c);
	else if (c->kind != K_FWD)
		http_read(c);
	else
		fwd_read(c);
	if (c->dead)
		return;
	req_clock(c);
	if (mem_update(c) && c->mem > MEM_FLOOR && mem_total > o.mem_limit)
		over_budget(c);
	conn_settle(c);
}

static int
allowed(const struct sockaddr *sa)
{
	int i;

	if (!o.nallow || sa->sa_family == AF_UNIX)
		return 1;
	for (i = 0; i < o.nallow; i++)
		if (net_cidr_match(&o.allow[i], sa))
			return 1;
	return 0;
}

static void
tls_conn(struct conn *c)
{
	if (!(c->ssl = SSL_new(ssl_ctx)) || !SSL_set_fd(c->ssl, c->it.fd))
		die(EX_SYS, "unable to set up a TLS connection:");
	SSL_set_accept_state(c->ssl);
	c->state = S_TLS;
}

static void
conn_new(int fd, const struct sockaddr_storage *sa, int kind)
{
	struct conn *c = xcalloc(1, sizeof(*c));
	char port[16] = "";
	struct epoll_event e;

	c->it.type = T_CONN;
	c->it.fd = fd;
	c->kind = kind;
	c->sa = *sa;
	net_addr_str((const struct sockaddr *)sa, c->addr, sizeof(c->addr));
	if (sa->ss_family == AF_INET)
		snprintf(port, sizeof(port), ":%d",
		    ntohs(((const struct sockaddr_in *)sa)->sin_port));
	else if (sa->ss_family == AF_INET6)
		snprintf(port, sizeof(port), ":%d",
		    ntohs(((const struct sockaddr_in6 *)sa)->sin6_port));
	snprintf(c->name, sizeof(c->name), "client %s%s", c->addr, port);
	c->last = c->born = now_ms();
	c->born_stall = stalled_ms;
	c->state = S_DATA;
	c->next = conns;
	if (conns)
		conns->prev = c;
	conns = c;
	nconns++;
	nkind[kind]++;
	c_accepted++;
	if (kind != K_FWD)
		;
	else if (ssl_ctx)
		tls_conn(c);
	else if (o.shared_key)
		send_helo(c);
	e.events = c->events = EPOLLIN;
	e.data.ptr = c;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e) < 0)
		die(EX_SYS, "epoll_ctl:");
	conn_settle(c);
}

/*
 * 1 if a trouble that may repeat fast is to be said now: the first time,
 * then once per LOG_EVERY_MS, with *times the count since it was said.
 */
static int
ratelog_due(struct ratelog *rl, unsigned long long *times)
{
	long long now = now_ms();

	rl->n++;
	if (rl->at && now - rl->at < LOG_EVERY_MS)
		return 0;
	*times = rl->n;
	rl->n = 0;
	rl->at = now;
	return 1;
}

/* Polls the listeners for new connections (on 1) or stops (on 0). */
static void
listeners_arm(int on)
{
	struct epoll_event e;
	int i;

	accept_paused = !on;
	for (i = 0; i < nlisteners; i++) {
		if (listeners[i].type == T_UDP)
			continue;
		e.events = on ? EPOLLIN : 0;
		e.data.ptr = &listeners[i];
		epoll_ctl(ep, EPOLL_CTL_MOD, listeners[i].fd, &e);
	}
}

/*
 * Out of descriptors (or memory): accept(2) would fail at once again, so
 * the listeners rest until a connection closes or ACCEPT_PAUSE_MS pass.
 */
static void
accept_failed(int e)
{
	unsigned long long n;

	if (ratelog_due(&rl_accept, &n))
		warn("unable to accept a connection: %s (%llu time%s since the "
		    "last such message): not accepting for up to %d ms",
		    strerror(e), n, n == 1 ? "" : "s", ACCEPT_PAUSE_MS);
	listeners_arm(0);
	accept_resume = now_ms() + ACCEPT_PAUSE_MS;
}

/*
 * May one more connection of kind k open?  Each listener kind in use
 * keeps a tenth of --max-connections that the others cannot take.
 */
static int
room_for(int k)
{
	int j, need = 0, reserve = o.max_conn / 10;

	if (nconns >= o.max_conn)
		return 0;
	for (j = 0; j < 3; j++)
		if (j != k && kind_used[j] && nkind[j] < reserve)
			need += reserve - nkind[j];
	return nkind[k] < reserve || o.max_conn - nconns - 1 >= need;
}

/* 1 if a new connection may stay; else it is closed and counted. */
static int
admit(int fd, const struct sockaddr_storage *sa, int kind)
{
	static const char *const names[] = { "Forward", "HTTP", "metrics" };
	unsigned long long n;
	char a[NET_ADDR_MAX];

	if (!allowed((const struct sockaddr *)sa)) {
		net_addr_str((const struct sockaddr *)sa, a, sizeof(a));
		warn("client %s: not in --allow, closed", a);
	} else if (!room_for(kind)) {
		if (ratelog_due(&rl_full, &n))
			warn("%d connections open, %d of them %s "
			    "(--max-connections %d, a tenth kept for each other "
			    "listener): new ones are closed (%llu since the last "
			    "such message)", nconns, nkind[kind], names[kind],
			    o.max_conn, n);
	} else {
		return 1;
	}
	c_refused++;
	close(fd);
	return 0;
}

static void
do_accept(struct item *l)
{
	struct sockaddr_storage sa;
	socklen_t len;
	int fd, i, kind = l->type == T_HTTP ? K_HTTP : l->type == T_METRICS ?
	    K_METRICS : K_FWD;

	for (i = 0; i < 64 && !accept_paused; i++) {
		len = sizeof(sa);
		fd = accept(l->fd, (struct sockaddr *)&sa, &len);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM)
				accept_failed(errno);
			return;
		}
		if (l->type == T_UNIX)
			sa.ss_family = AF_UNIX;
		fcntl(fd, F_SETFD, FD_CLOEXEC);
		net_nonblock(fd);
		if (admit(fd, &sa, kind))
			conn_new(fd, &sa, kind);
	}
}

/* UDP heartbeat: any datagram gets a single 0 byte back. */
static void
do_udp(struct item *l)
{
	struct sockaddr_storage sa;
	socklen_t len;
	char b[1024];
	int i;

	for (i = 0; i < 64; i++) {
		len = sizeof(sa);
		if (recvfrom(l->fd, b, sizeof(b), 0, (struct sockaddr *)&sa,
		    &len) < 0)
			return;
		if (!allowed((struct sockaddr *)&sa))
			continue;
		c_heartbeats++;
		sendto(l->fd, "", 1, 0, (struct sockaddr *)&sa, len);
	}
}

/* {"ack": chunk}: in msgpack, or as JSON text to a JSON client. */
static void
put_ack(struct conn *c, const char *chunk, size_t n)
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

/* Sends the acks whose events are now written. */
static void
release_acks(void)
{
	struct conn *c, *next;
	uint64_t pos;
	uint32_t n, fl;

	for (c = ackq; c; c = next) {
		next = c->anext;
		while (c->aoff < c->acks.len) {
			memcpy(&pos, c->acks.p + c->aoff, sizeof(pos));
			if (pos > out.bytes)
				break;
			memcpy(&n, c->acks.p + c->aoff + 8, sizeof(n));
			memcpy(&fl, c->acks.p + c->aoff + 12, sizeof(fl));
			if (fl & R_RAW) {
				buf_put(&c->wb, c->acks.p + c->aoff + 16, n);
			} else {
				put_ack(c, c->acks.p + c->aoff + 16, n);
				c_acks++;
			}
			c->aoff += 16 + n;
		}
		if (c->aoff == c->acks.len) {
			c->aoff = c->acks.len = 0;
			ackq_remove(c);
		}
		conn_settle(c);
	}
}

/* Writes what stdout can take; arms EPOLLOUT when a pipe is full. */
static void
flush_out(void)
{
	struct epoll_event e;

	last_flush = now_ms();
	out_write();
	release_acks();
	if (out_nb && !!out.b.len != out_waiting) {
		out_waiting = !!out.b.len;
		e.events = out_waiting ? EPOLLOUT : 0;
		e.data.ptr = &stdout_item;
		epoll_ctl(ep, EPOLL_CTL_MOD, 1, &e);
	}
}

/*
 * Busy with other clients: is it time to write out what is held?  So one
 * connection that keeps epoll busy does not hold up the others' acks.
 */
static int
flush_due(void)
{
	return (out.b.len || ackq) && !out_waiting &&
	    now_ms() - last_flush >= FLUSH_MS;
}

/* Milliseconds elapsed since t, leaving out the waits on stdout since. */
static long long
since(long long t, long long stall)
{
	return now_ms() - t - (stalled_ms - stall);
}

/* The request in progress took too long: dropped, unacked. */
static void
request_late(struct conn *c)
{
	c_bad++;
	warn("%s: request not whole %lld ms after its first byte "
	    "(--request-timeout): dropped, not acked; closing", c->name,
	    o.request_ms);
	if (c->kind != K_FWD) {
		http_reply(c, 408, "request not whole within --request-timeout",
		    0, NULL, 0);
		return;
	}
	c_chunks_dropped++;
	conn_closing(c);
}

static void
idle_close(struct conn *c, long long idle)
{
	if (!c->got_data)
		warn("%s: sent nothing in %lld ms, closing", c->name, idle);
	else if (c->wb.len > c->woff)
		warn("%s: does not read its acks, closing", c->name);
	conn_drop(c);
}

/* One connection's timers: the deadlines, idleness, lingering. */
static void
conn_timers(struct conn *c, long long now)
{
	long long idle = now - c->last;

	if (c->state == S_CLOSING) {
		/* lingers while replies wait on stdout, not on the client */
		if ((idle > CLOSE_WAIT_MS && (c->shut || c->wb.len > c->woff)) ||
		    (o.idle_ms && idle > o.idle_ms))
			conn_drop(c);
	} else if ((c->state == S_TLS || c->state == S_PING) &&
	    o.handshake_ms && since(c->born, c->born_stall) > o.handshake_ms) {
		warn("%s: handshake not done %lld ms after connecting "
		    "(--handshake-timeout), closing", c->name, o.handshake_ms);
		conn_drop(c);
	} else if (c->req_start && o.request_ms &&
	    since(c->req_start, c->req_stall) > o.request_ms) {
		request_late(c);
		conn_settle(c);
	} else if (o.idle_ms && idle > o.idle_ms) {
		idle_close(c, idle);
	} else if (idle > TRIM_MS) {
		conn_trim(c);
		mem_update(c);
	}
}

/* Scratch buffers hold nothing between events: big ones go back. */
static void
scratch_trim(void)
{
	struct buf *b[] = { &tagb, &recb, &tmpb, &vb, &pb, &zb, &hb, &hb2,
		&tagb2, &jmp };
	size_t i;

	for (i = 0; i < sizeof(b) / sizeof(b[0]); i++)
		if (b[i]->cap > TRIM_BYTES)
			buf_free(b[i]);
}

/* Deadlines, idle connections and lingering ones, once a second. */
static void
sweep(void)
{
	struct conn *c;
	long long now = now_ms();

	for (c = conns; c; c = c->next)
		if (!c->dead)
			conn_timers(c, now);
	scratch_trim();
}

static void
dispatch(struct item *it, uint32_t ev)
{
	struct conn *c;

	switch (it->type) {
	case T_LISTEN:
	case T_UNIX:
	case T_HTTP:
	case T_METRICS:
		do_accept(it);
		break;
	case T_UDP:
		do_udp(it);
		break;
	case T_SIG:
		sig_drain();
		sig_service();
		break;
	case T_STDOUT:
		flush_out();
		break;
	case T_CONN:
		c = (struct conn *)it;
		if (c->dead)
			return;
		if ((ev & (EPOLLHUP | EPOLLERR)) && c->eof) {
			conn_drop(c);   /* gone both ways: nothing to send to */
			return;
		}
		if ((ev & EPOLLOUT) && conn_write(c) < 0)
			return;
		if (ev & (EPOLLIN | EPOLLHUP | EPOLLERR))
			conn_read(c);
		else
			conn_settle(c);
		break;
	}
}

/* While stdout is full: wait for it (and signals) only. */
static void
wait_stdout(void)
{
	struct pollfd p[2];
	long long t = now_ms();

	p[0].fd = sig_fd();
	p[0].events = POLLIN;
	p[1].fd = 1;
	p[1].events = POLLOUT;
	if (poll(p, 2, 1000) > 0 && p[0].revents) {
		sig_drain();
		sig_service();
	}
	stalled_ms += now_ms() - t;     /* no client's fault */
	flush_out();
}

/* Reads again from TLS connections that stopped with bytes in hand. */
static void
tls_resume(void)
{
	struct conn *c;

	tls_more = 0;
	for (c = conns; c; c = c->next)
		if (c->ssl && c->state == S_DATA && !c->eof)
			conn_read(c);
}

/* How long epoll may sleep. */
static int
wait_ms(void)
{
	long long t;

	if (((out.b.len || ackq) && !out_waiting) || tls_more)
		return 0;
	if (!accept_paused)
		return 1000;
	t = accept_resume - now_ms();
	return t < 0 ? 0 : t > 1000 ? 1000 : (int)t;
}

static void
serve(void)
{
	struct epoll_event evs[256];
	long long last_sweep = now_ms();
	int n, i;

	while (!sig_stop) {
		reap();
		if (accept_paused && now_ms() >= accept_resume)
			listeners_arm(1);
		if (out.b.len >= OUT_BLOCK)
			flush_out();
		else if (ackq)
			release_acks();         /* drain may have written */
		if (out_nb && out.b.len >= HIGH_WATER) {
			wait_stdout();
			continue;
		}
		if (tls_more)
			tls_resume();
		n = epoll_wait(ep, evs, 256, wait_ms());
		if (n < 0 && errno != EINTR)
			die(EX_SYS, "epoll_wait:");
		if (n <= 0 && (out.b.len || ackq))
			flush_out();
		for (i = 0; i < n; i++) {
			dispatch(evs[i].data.ptr, evs[i].events);
			if (flush_due())
				flush_out();
		}
		if (now_ms() - last_sweep >= 1000) {
			sweep();
			last_sweep = now_ms();
		}
	}
	reap();
}

/* The ports bound: the first --listen's, then "http N", "metrics N". */
static void
write_port_file(int fwd, int http, int metrics)
{
	FILE *f;
	char tmp[4096];
	int bad;

	snprintf(tmp, sizeof(tmp), "%s.tmp", o.port_file);
	if (!(f = fopen(tmp, "w")))
		die(EX_SYS, "unable to write %s:", tmp);
	bad = fwd >= 0 && fprintf(f, "%d\n", fwd) < 0;
	bad |= http >= 0 && fprintf(f, "http %d\n", http) < 0;
	bad |= metrics >= 0 && fprintf(f, "metrics %d\n", metrics) < 0;
	if (fclose(f) != 0 || bad || rename(tmp, o.port_file) < 0)
		die(EX_SYS, "unable to write %s:", o.port_file);
}

static void
add_listener(int type, int fd)
{
	listeners[nlisteners].type = type;
	listeners[nlisteners].fd = fd;
	ep_add(&listeners[nlisteners], EPOLLIN);
	nlisteners++;
}

/* A TCP listener for HTTP; its port, or -1 without an address. */
static int
listen_http(const char *addr, const char *defport, int type)
{
	char host[256], port[32], err[512];
	int fd;

	if (!addr)
		return -1;
	if (net_split(addr, "0.0.0.0", defport, host, sizeof(host), port,
	    sizeof(port)) < 0)
		die(EX_USAGE, "bad address '%s'", addr);
	if ((fd = net_listen(host, port, SOCK_STREAM, err, sizeof(err))) < 0)
		die(EX_SYS, "unable to listen on %s", err);
	add_listener(type, fd);
	return net_local_port(fd);
}

static void
open_listeners(void)
{
	char host[256], port[32], err[512];
	int i, fd, p, fwd_port = -1, http_port, metrics_port;

	for (i = 0; i < o.nlisten; i++) {
		if (net_split(o.listen[i], "0.0.0.0", "24224", host,
		    sizeof(host), port, sizeof(port)) < 0)
			die(EX_USAGE, "bad address '%s' for --listen", o.listen[i]);
		if ((fd = net_listen(host, port, SOCK_STREAM, err,
		    sizeof(err))) < 0)
			die(EX_SYS, "unable to listen on %s", err);
		add_listener(T_LISTEN, fd);
		p = net_local_port(fd);
		if (i == 0)
			fwd_port = p;
		if (o.no_udp)
			continue;
		snprintf(port, sizeof(port), "%d", p);
		if ((fd = net_listen(host, port, SOCK_DGRAM, err,
		    sizeof(err))) < 0)
			die(EX_SYS, "unable to listen on UDP %s", err);
		add_listener(T_UDP, fd);
	}
	if (o.unix_path) {
		if ((fd = net_listen_unix(o.unix_path, err, sizeof(err))) < 0)
			die(EX_SYS, "unable to listen on %s", err);
		add_listener(T_UNIX, fd);
	}
	http_port = listen_http(o.http, "9880", T_HTTP);
	metrics_port = listen_http(o.metrics, "24231", T_METRICS);
	if (o.port_file)
		write_port_file(fwd_port, http_port, metrics_port);
}

static void
setup_stdout(void)
{
	struct stat st;
	struct epoll_event e;

	out_init(&out, 1, "stdout");
	if (fstat(1, &st) < 0 || !(S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)))
		return;
	out_flags = fcntl(1, F_GETFL);
	if (out_flags < 0 || fcntl(1, F_SETFL, out_flags | O_NONBLOCK) < 0)
		return;
	out_nb = 1;
	e.events = 0;
	e.data.ptr = &stdout_item;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, 1, &e) < 0)
		die(EX_SYS, "epoll_ctl stdout:");
}

static void
sync_stats(void)
{
	stats.bytes_out = out.bytes + out.b.len;
}

static void
metrics_text(struct buf *b)
{
	char t[4096];
	int n;

	n = snprintf(t, sizeof(t),
	    "# HELP lrecv_events_total Events written to stdout.\n"
	    "# TYPE lrecv_events_total counter\nlrecv_events_total %llu\n"
	    "# TYPE lrecv_bytes_in_total counter\nlrecv_bytes_in_total %llu\n"
	    "# TYPE lrecv_bytes_out_total counter\nlrecv_bytes_out_total %llu\n"
	    "# TYPE lrecv_connections_total counter\n"
	    "lrecv_connections_total %llu\n"
	    "# TYPE lrecv_connections_open gauge\nlrecv_connections_open %d\n"
	    "# TYPE lrecv_refused_total counter\nlrecv_refused_total %llu\n"
	    "# TYPE lrecv_acks_total counter\nlrecv_acks_total %llu\n"
	    "# TYPE lrecv_bad_requests_total counter\n"
	    "lrecv_bad_requests_total %llu\n"
	    "# TYPE lrecv_chunks_dropped_total counter\n"
	    "lrecv_chunks_dropped_total %llu\n"
	    "# TYPE lrecv_heartbeats_total counter\nlrecv_heartbeats_total %llu\n"
	    "# TYPE lrecv_http_requests_total counter\n"
	    "lrecv_http_requests_total %llu\n"
	    "# TYPE lrecv_http_errors_total counter\n"
	    "lrecv_http_errors_total %llu\n"
	    "# TYPE lrecv_stdout_buffered_bytes gauge\n"
	    "lrecv_stdout_buffered_bytes %zu\n"
	    "# TYPE lrecv_memory_bytes gauge\nlrecv_memory_bytes %zu\n",
	    (unsigned long long)stats.out, (unsigned long long)stats.bytes_in,
	    (unsigned long long)(out.bytes + out.b.len),
	    (unsigned long long)c_accepted, nconns,
	    (unsigned long long)c_refused, (unsigned long long)c_acks,
	    (unsigned long long)c_bad, (unsigned long long)c_chunks_dropped,
	    (unsigned long long)c_heartbeats,
	    (unsigned long long)c_http_requests,
	    (unsigned long long)c_http_errors, out.b.len, mem_total);
	buf_put(b, t, n);
}

static void
metrics_json(struct buf *b)
{
	char t[1024];
	int n;

	n = snprintf(t, sizeof(t), "{\"plugins\":[{\"plugin_id\":\"lrecv\","
	    "\"plugin_category\":\"input\",\"type\":\"forward\","
	    "\"output_plugin\":false,\"retry_count\":null,"
	    "\"emit_records\":%llu,\"emit_size\":%llu,"
	    "\"connections\":%d,\"acks\":%llu,\"bad_requests\":%llu,"
	    "\"http_requests\":%llu,\"buffer_total_queued_size\":%zu}]}\n",
	    (unsigned long long)stats.out, (unsigned long long)(out.bytes +
	    out.b.len), nconns, (unsigned long long)c_acks,
	    (unsigned long long)c_bad, (unsigned long long)c_http_requests,
	    out.b.len);
	buf_put(b, t, n);
}

static void
extra_stats(char *b, size_t cap)
{
	snprintf(b, cap, ", connections %llu (open %d, refused %llu), acks %llu, "
	    "bad requests %llu, chunks dropped %llu, heartbeats %llu",
	    (unsigned long long)c_accepted, nconns,
	    (unsigned long long)c_refused, (unsigned long long)c_acks,
	    (unsigned long long)c_bad, (unsigned long long)c_chunks_dropped,
	    (unsigned long long)c_heartbeats);
}

static void
add_allow(const char *arg)
{
	char *s = xstrdup(arg), *tok, *save = NULL;

	for (tok = strtok_r(s, ", ", &save); tok; tok = strtok_r(NULL, ", ",
	    &save)) {
		if (o.nallow == MAX_ALLOW)
			die(EX_USAGE, "more than %d --allow ranges", MAX_ALLOW);
		if (net_cidr_parse(tok, &o.allow[o.nallow++]) < 0)
			die(EX_USAGE, "bad address range '%s' for --allow", tok);
	}
	free(s);
}

static void
add_user(const char *arg)
{
	const char *colon = strchr(arg, ':');

	if (!colon || colon == arg)
		die(EX_USAGE, "--user wants NAME:PASSWORD, not '%s'", arg);
	if (o.nusers == MAX_USERS)
		die(EX_USAGE, "more than %d --user options", MAX_USERS);
	o.users[o.nusers].name = xstrndup(arg, colon - arg);
	o.users[o.nusers].pass = xstrdup(colon + 1);
	o.nusers++;
}

static long long
size_arg(const char *arg, const char *name)
{
	long long v = opt_size(arg);

	if (v <= 0)
		die(EX_USAGE, "bad size '%s' for --%s", arg, name);
	return v;
}

static long long
duration_arg(const char *arg, const char *name)
{
	long long v = opt_duration_ms(arg);

	if (v < 0)
		die(EX_USAGE, "bad duration '%s' for --%s", arg, name);
	return v;
}

/* Splits and resolves addr as --opt would listen on it, or exits 2. */
static void
check_address(const char *addr, const char *defport, const char *opt)
{
	char host[256], port[32];
	struct addrinfo hints, *res;
	int e;

	if (net_split(addr, "0.0.0.0", defport, host, sizeof(host), port,
	    sizeof(port)) < 0)
		die(EX_USAGE, "bad address '%s' for --%s: want [HOST]:PORT, the "
		    "port from 0 to 65535", addr, opt);
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((e = getaddrinfo(*host ? host : NULL, port, &hints, &res)) != 0)
		die(e == EAI_SYSTEM || e == EAI_MEMORY ? EX_SYS : EX_USAGE,
		    "bad address '%s' for --%s: %s", addr, opt,
		    gai_strerror(e));
	freeaddrinfo(res);
}

/* Every address, before any listener opens: a typo is a usage error. */
static void
check_addresses(void)
{
	int i;

	if (!o.nlisten && !o.unix_path && !o.http)
		o.listen[o.nlisten++] = "0.0.0.0:24224";
	for (i = 0; i < o.nlisten; i++)
		check_address(o.listen[i], "24224", "listen");
	if (o.http)
		check_address(o.http, "9880", "http");
	if (o.metrics)
		check_address(o.metrics, "24231", "metrics");
	kind_used[K_FWD] = o.nlisten > 0 || o.unix_path;
	kind_used[K_HTTP] = !!o.http;
	kind_used[K_METRICS] = !!o.metrics;
}

static void
options(int argc, char **argv)
{
	const char *arg;
	long long v;
	int c;

	while ((c = opt_get(argc, argv, &prog, &arg)) != -1) {
		switch (c) {
		case O_LISTEN:
			if (o.nlisten == MAX_LISTEN)
				die(EX_USAGE, "more than %d --listen", MAX_LISTEN);
			o.listen[o.nlisten++] = arg;
			break;
		case O_UNIX: o.unix_path = arg; break;
		case O_PORT_FILE: o.port_file = arg; break;
		case O_NO_UDP: o.no_udp = 1; break;
		case O_SHARED_KEY: o.shared_key = arg; break;
		case O_USER: add_user(arg); break;
		case O_SELF_HOST: o.self_host = arg; break;
		case O_DENY_KEEPALIVE: o.deny_keepalive = 1; break;
		case O_ALLOW: add_allow(arg); break;
		case O_CHUNK_LIMIT:
			o.chunk_limit = size_arg(arg, "chunk-size-limit");
			break;
		case O_CHUNK_WARN:
			o.chunk_warn = size_arg(arg, "chunk-size-warn");
			break;
		case O_SKIP_INVALID: o.skip_invalid = 1; break;
		case O_SRC_HOST_KEY: o.src_host_key = arg; break;
		case O_SRC_ADDR_KEY: o.src_addr_key = arg; break;
		case O_TAG_PREFIX: o.tag_prefix = arg; break;
		case O_IDLE:
			o.idle_ms = duration_arg(arg, "idle-timeout");
			break;
		case O_HANDSHAKE_TIMEOUT:
			o.handshake_ms = duration_arg(arg, "handshake-timeout");
			break;
		case O_REQUEST_TIMEOUT:
			o.request_ms = duration_arg(arg, "request-timeout");
			break;
		case O_MEM_LIMIT:
			o.mem_limit = size_arg(arg, "memory-limit");
			break;
		case O_MAX_CONN:
			if ((v = opt_uint(arg)) <= 0 || v > 1000000)
				die(EX_USAGE, "bad number '%s' for "
				    "--max-connections", arg);
			o.max_conn = (int)v;
			break;
		case O_HTTP: o.http = arg; break;
		case O_METRICS: o.metrics = arg; break;
		case O_BODY_LIMIT:
			o.body_limit = size_arg(arg, "body-size-limit");
			break;
		case O_CORS: o.cors = arg; break;
		case O_ADD_HEADERS: o.add_headers = 1; break;
		case O_ADD_REMOTE: o.add_remote = 1; break;
		case O_CERT: o.cert = arg; break;
		case O_KEY: o.key = arg; break;
		case O_CA: o.ca = arg; break;
		case O_STATS: o.stats = 1; break;
		}
	}
	if (!o.cert != !o.key)
		die(EX_USAGE, "--cert and --key go together");
	if (o.ca && !o.cert)
		die(EX_USAGE, "--ca-file needs --cert and --key");
	if (optind != argc)
		opt_fail(&prog, "unexpected operand '%s': lrecv takes its "
		    "addresses as options", argv[optind]);
	if (o.nusers && !o.shared_key)
		die(EX_USAGE, "--user needs --shared-key (the handshake)");
	if (o.self_host && !o.shared_key)
		warn("--self-hostname is used only with --shared-key");
	check_addresses();
}

static void
setup_tls(void)
{
	if (!o.cert)
		return;
	if (!(ssl_ctx = SSL_CTX_new(TLS_server_method())))
		die(EX_SYS, "unable to set up TLS");
	SSL_CTX_set_min_proto_version(ssl_ctx, TLS1_2_VERSION);
#ifdef SSL_OP_IGNORE_UNEXPECTED_EOF
	SSL_CTX_set_options(ssl_ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
#endif
	if (SSL_CTX_use_certificate_chain_file(ssl_ctx, o.cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ssl_ctx, o.key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ssl_ctx) != 1)
		die(EX_USAGE, "unable to load the certificate %s and key %s: %s",
		    o.cert, o.key, ERR_reason_error_string(ERR_get_error()));
	if (o.ca) {
		if (SSL_CTX_load_verify_locations(ssl_ctx, o.ca, NULL) != 1)
			die(EX_USAGE, "unable to load CA certificates %s", o.ca);
		SSL_CTX_set_verify(ssl_ctx, SSL_VERIFY_PEER |
		    SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	}
}

static void
shutdown_all(void)
{
	struct conn *c;
	int i;

	for (i = 0; i < nlisteners; i++)
		close(listeners[i].fd);
	out_flush_try(&out);
	if (out_nb && out.b.len) {
		fcntl(1, F_SETFL, out_flags);
		out_flush(&out);
	}
	release_acks();
	reap();
	for (c = conns; c; c = c->next)
		if (c->wb.len > c->woff)
			conn_write(c);
	while (conns)
		conn_free(conns);
	todo = NULL;
	if (out_nb)
		fcntl(1, F_SETFL, out_flags);
	if (o.unix_path)
		unlink(o.unix_path);
}

int
main(int argc, char **argv)
{
	int i;

	progname_set(argv[0]);
	options(argc, argv);
	stream_tune_malloc();
	sig_init();
	stats_init(sync_stats, extra_stats);
	if ((ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
		die(EX_SYS, "epoll_create1:");
	sig_item.fd = sig_fd();
	ep_add(&sig_item, EPOLLIN);
	setup_tls();
	setup_stdout();
	open_listeners();
	serve();
	shutdown_all();
	if (o.stats)
		stats_print();
	if (c_skipped)
		warn("skipped invalid data in %llu places (--skip-invalid-event)",
		    (unsigned long long)c_skipped);
	out_free(&out);
	buf_free(&tagb);
	buf_free(&recb);
	buf_free(&tmpb);
	buf_free(&vb);
	buf_free(&pb);
	buf_free(&zb);
	buf_free(&hb);
	buf_free(&hb2);
	buf_free(&tagb2);
	buf_free(&jmp);
	for (i = 0; i < o.nusers; i++) {
		free(o.users[i].name);
		free(o.users[i].pass);
	}
	close(ep);
	if (ssl_ctx)
		SSL_CTX_free(ssl_ctx);
	return EX_OK;
}

/* lforward - send events to Forward-protocol servers (Fluentd out_forward) */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "../common/err.h"
#include "../common/fwd.h"
#include "../common/mp.h"
#include "../common/net.h"
#include "../common/opt.h"
#include "../common/sig.h"
#include "../common/stats.h"
#include "../common/stream.h"

#define USAGE "[options] HOST:PORT[,weight=N][,standby]..."
#define ABOUT "Send events from stdin to Forward-protocol servers (Fluentd, " \
	"Fluent Bit, lrecv)\nin PackedForward requests.  Exit status 0 only " \
	"when every event was delivered."

#define MAX_NODES 64
#define INFLIGHT 4              /* requests sent and not yet acked, per node */
#define POOL_BUFS (INFLIGHT + 4)        /* spent requests keeping memory */
#define VNODES 160              /* points per server on the hash ring */
#define SAMPLES 1000            /* heartbeat gaps kept by the detector */
#define REPLY_MAX 4096
#define ENTRY_HEAD 16           /* an entry's bytes beyond its record */
#define OPTION_MAX 80           /* {"size", "compressed", "chunk"} */

enum {
	O_ACK = OPT_LONG, O_ACK_TIMEOUT, O_COMPRESS, O_TIME_INT, O_CHUNK_SIZE,
	O_CHUNK_RECORDS, O_FLUSH, O_HB, O_HB_INTERVAL, O_PHI, O_HARD,
	O_RECOVER, O_SECONDARY, O_RETRY_WAIT, O_RETRY_MAX_INT, O_RETRY_TIMEOUT,
	O_RETRY_TIMES, O_RETRY_FOREVER, O_KEEPALIVE, O_CONNECT_TIMEOUT,
	O_SEND_TIMEOUT, O_BALANCE, O_SHARED_KEY, O_SELF_HOST, O_USERNAME,
	O_PASSWORD, O_TLS, O_CA, O_CERT, O_KEY, O_TLS_HOST, O_INSECURE,
	O_SHUTDOWN, O_BUFFER, O_STATS
};

static const struct opt opts[] = {
	{ O_ACK, "ack", NULL, "ask for an ack of every request; resend "
	    "until acked" },
	{ O_ACK_TIMEOUT, "ack-timeout", "DURATION", "wait this long for an "
	    "ack (default 190s)" },
	{ O_COMPRESS, "compress", "gzip", "send CompressedPackedForward" },
	{ O_TIME_INT, "time-as-integer", NULL, "send times as integer "
	    "seconds, not EventTime" },
	{ O_CHUNK_SIZE, "chunk-limit-size", "SIZE", "largest request "
	    "(default 1M)" },
	{ O_CHUNK_RECORDS, "chunk-limit-records", "N", "most events in a "
	    "request" },
	{ O_FLUSH, "flush-interval", "DURATION", "send a request at least "
	    "this often (default 1s); also when stdin is idle" },
	{ O_BUFFER, "buffer-limit", "SIZE", "stop reading stdin while this "
	    "much is held (default 64M)" },
	{ O_HB, "heartbeat", "transport|udp|none", "how servers are watched "
	    "(default transport)" },
	{ O_HB_INTERVAL, "heartbeat-interval", "DURATION", "default 1s" },
	{ O_PHI, "phi-threshold", "N", "detach a server when phi exceeds N "
	    "(default 16)" },
	{ O_HARD, "hard-timeout", "DURATION", "detach a server silent this "
	    "long (default 60s)" },
	{ O_RECOVER, "recover-wait", "DURATION", "heartbeats needed before "
	    "a server is used again (default 10s)" },
	{ O_SECONDARY, "secondary", "HOST:PORT", "where requests go when "
	    "retries are exhausted" },
	{ O_RETRY_WAIT, "retry-wait", "DURATION", "first wait after a "
	    "failure, doubled each time (default 1s)" },
	{ O_RETRY_MAX_INT, "retry-max-interval", "DURATION", "longest wait "
	    "between retries (default 60s)" },
	{ O_RETRY_TIMEOUT, "retry-timeout", "DURATION", "give a request up "
	    "after failing this long (default 72h)" },
	{ O_RETRY_TIMES, "retry-max-times", "N", "give a request up after N "
	    "failures" },
	{ O_RETRY_FOREVER, "retry-forever", NULL, "never give a request up" },
	{ O_KEEPALIVE, "keepalive", NULL, "keep connections open between "
	    "requests" },
	{ O_CONNECT_TIMEOUT, "connect-timeout", "DURATION", "default 10s" },
	{ O_SEND_TIMEOUT, "send-timeout", "DURATION", "longest stall while "
	    "sending (default 60s)" },
	{ O_BALANCE, "balance", "hash:KEY", "send events with the same value "
	    "of KEY to the same server" },
	{ O_SHARED_KEY, "shared-key", "KEY", "HELO/PING/PONG handshake with "
	    "KEY" },
	{ O_SELF_HOST, "self-hostname", "NAME", "hostname sent in PING "
	    "(default: the host name)" },
	{ O_USERNAME, "username", "NAME", "user for the handshake" },
	{ O_PASSWORD, "password", "PASSWORD", "password for the handshake" },
	{ O_TLS, "tls", NULL, "connect with TLS" },
	{ O_CA, "ca-file", "FILE", "CA certificates to verify servers "
	    "(default: the system's)" },
	{ O_CERT, "cert", "FILE", "client certificate (PEM)" },
	{ O_KEY, "key", "FILE", "client private key (PEM)" },
	{ O_TLS_HOST, "tls-verify-hostname", "NAME", "name the server "
	    "certificate must carry (default: HOST)" },
	{ O_INSECURE, "insecure", NULL, "do not verify server certificates" },
	{ O_SHUTDOWN, "shutdown-timeout", "DURATION", "after SIGTERM, time "
	    "left to deliver what is held (default 10s)" },
	{ O_STATS, "stats", NULL, "print counters to stderr at exit" },
	OPT_STD,
	OPT_END
};

static const struct opt_exit exits[] = {
	{ 0, "every event read was delivered (acknowledged, with --ack)" },
	{ 2, "usage error" },
	{ 3, "bad input data: the events before it were delivered" },
	{ 4, "some events were not delivered: the message says how many" },
	OPT_EXIT_END
};

static const struct opt_prog prog = { USAGE, ABOUT, opts, exits, 0 };

enum { HB_TRANSPORT, HB_UDP, HB_NONE };

static struct {
	int ack, gzip, time_int, hb, retry_forever, keepalive, tls, insecure;
	int stats;
	long long ack_ms, flush_ms, hb_ms, hard_ms, recover_ms, retry_ms;
	long long retry_max_ms, retry_timeout_ms, retry_times, connect_ms;
	long long send_ms, shutdown_ms;
	size_t chunk_size, buffer_limit;
	uint64_t chunk_records;
	double phi;
	const char *secondary, *hash_key, *shared_key, *self_host;
	const char *username, *password, *ca, *cert, *key, *tls_host;
} o = {
	.ack_ms = 190000, .flush_ms = 1000, .hb_ms = 1000, .hard_ms = 60000,
	.recover_ms = 10000, .retry_ms = 1000, .retry_max_ms = 60000,
	.retry_timeout_ms = 72LL * 3600 * 1000, .retry_times = -1,
	.connect_ms = 10000, .send_ms = 60000, .shutdown_ms = 10000,
	.chunk_size = 1u << 20, .buffer_limit = 64u << 20, .phi = 16
};

struct chunk {
	struct buf req;         /* head, entries, then the option map */
	char *tag;
	size_t tag_len, head;   /* head: bytes before the entries */
	uint64_t n;             /* events */
	char id[FWD_CHUNK_LEN];
	int node;               /* hash balancing: the server it belongs to */
	uint32_t hash;
	int fails, on_secondary;
	long long opened, first_fail;
	long long retry_at;     /* waiting with no server: failed again then */
	struct chunk *next;     /* in a queue, the open table or the pool */
};

struct queue {
	struct chunk *head, *tail;
	size_t n;
};

enum { N_DOWN, N_IDLE, N_CONNECTING, N_TLS, N_HELO, N_PONG, N_READY,
	N_CLOSING };

struct node {
	char host[256], port[32], name[300];
	int weight, standby, secondary;
	int available;
	int state, fd;
	SSL *ssl;
	long long deadline;     /* of the current step (connect, send, ack) */
	long long retry_at;     /* down without heartbeats: try again then */
	int fails;              /* consecutive failures */
	struct queue q;         /* assigned, not yet sent */
	struct chunk *flight[INFLIGHT]; /* sent or being sent, oldest first */
	int nflight;
	size_t woff;            /* bytes of flight[nflight-1] written */
	int writing;            /* flight[nflight-1] not written whole yet */
	struct buf rb;          /* replies read */
	struct buf hs;          /* handshake bytes to send */
	unsigned char nonce[FWD_NONCE_LEN];
	char salt[FWD_SALT_LEN + 1];
	int cw;                 /* smooth weighted round robin */
	/* heartbeats and the phi accrual failure detector */
	int hb_fd, hb_pending;
	long long hb_next, hb_sent;
	double last_hb;
	uint32_t gaps[SAMPLES];
	int ngaps, gfirst;
	uint64_t sent_events, requests;
};

static struct node nodes[MAX_NODES + 1];
static int nnodes;              /* regular and standby; secondary after */
static struct node *sec;
static struct { uint32_t h; int node; } *ring;
static int nring;

static struct reader *in;
static int in_eof, in_bad, stopping;
static long long stop_deadline;
static struct chunk *open_tab[256];
static struct chunk *pool;
static int npool;               /* in the pool with a buffer */
static struct buf gzb;          /* gzip output */
static struct buf spare;        /* a gzipped request's first buffer */
static struct queue pending;    /* sealed, waiting for a server */
static size_t held;             /* bytes in chunks, open or sealed */
static uint64_t ev_in, ev_done, ev_lost, req_sent, req_retried;
static SSL_CTX *ssl_ctx;
static char self_host[256];

static long long
now_ms(void)
{
	return stream_ms();
}

static double
now_s(void)
{
	return stream_ms() / 1000.0;
}

/* --- chunks ------------------------------------------------------------ */

static uint32_t
fnv(const char *p, size_t n, uint32_t h)
{
	while (n--)
		h = (h ^ (unsigned char)*p++) * 16777619u;
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	return h ^ (h >> 16);
}

static void
q_push(struct queue *q, struct chunk *c)
{
	c->next = NULL;
	if (q->tail)
		q->tail->next = c;
	else
		q->head = c;
	q->tail = c;
	q->n++;
}

static void
q_push_front(struct queue *q, struct chunk *c)
{
	c->next = q->head;
	q->head = c;
	if (!q->tail)
		q->tail = c;
	q->n++;
}

static struct chunk *
q_pop(struct queue *q)
{
	struct chunk *c = q->head;

	if (!c)
		return NULL;
	q->head = c->next;
	if (!q->head)
		q->tail = NULL;
	q->n--;
	c->next = NULL;
	return c;
}

static struct chunk *
chunk_new(const char *tag, size_t tag_len, int node, uint32_t hash)
{
	struct chunk *c = pool;

	if (c) {
		pool = c->next;
		npool -= c->req.cap > 0;
	} else {
		c = xcalloc(1, sizeof(*c));
	}
	if (!c->req.cap && spare.cap) {
		c->req = spare;
		memset(&spare, 0, sizeof(spare));
	}
	c->tag = xstrndup(tag, tag_len);
	c->tag_len = tag_len;
	c->node = node;
	c->hash = hash;
	c->n = 0;
	c->fails = c->on_secondary = 0;
	c->first_fail = c->retry_at = 0;
	c->opened = now_ms();
	c->req.len = 0;
	fwd_packed_head(&c->req, tag, tag_len, 0);
	c->head = c->req.len;
	c->next = NULL;
	return c;
}

static void
chunk_free(struct chunk *c)
{
	held -= c->req.len;
	free(c->tag);
	c->tag = NULL;
	/* a few buffers are reused; more would keep a burst's memory */
	if (npool >= POOL_BUFS || c->req.cap > o.chunk_size * 2 + 65536)
		buf_free(&c->req);
	npool += c->req.cap > 0;
	c->next = pool;
	pool = c;
}

/* Completes the request: entries length, gzip, the option map. */
static void
chunk_seal(struct chunk *c)
{
	size_t n = c->req.len - c->head, before = c->req.len;
	unsigned char *p;

	if (o.gzip) {
		gzb.len = 0;
		buf_put(&gzb, c->req.p, c->head);
		if (fwd_gzip(&gzb, c->req.p + c->head, n, Z_BEST_SPEED))
			die(EX_SYS, "gzip failed");
		n = gzb.len - c->head;
		/* a buffer of its size while in flight; the big one is reused */
		if (spare.cap)
			buf_free(&c->req);
		else
			spare = c->req;
		memset(&c->req, 0, sizeof(c->req));
		buf_reserve(&c->req, gzb.len + OPTION_MAX);
		buf_put(&c->req, gzb.p, gzb.len);
	}
	p = (unsigned char *)c->req.p + c->head - 4;
	p[0] = n >> 24; p[1] = n >> 16; p[2] = n >> 8; p[3] = (unsigned char)n;
	if (o.ack && fwd_chunk_id(c->id) < 0)
		die(EX_SYS, "unable to get random bytes");
	fwd_packed_option(&c->req, c->n, o.gzip, o.ack ? c->id : NULL,
	    FWD_CHUNK_LEN);
	held += c->req.len - before;
	q_push(&pending, c);
}

static unsigned
slot(const char *tag, size_t len, int node)
{
	return (fnv(tag, len, 2166136261u) + (unsigned)node * 31) & 255;
}

static void
seal_all(int older_only)
{
	struct chunk **pp, *c;
	long long now = now_ms();
	int i;

	for (i = 0; i < 256; i++) {
		for (pp = &open_tab[i]; (c = *pp);) {
			if (older_only && now - c->opened < o.flush_ms) {
				pp = &c->next;
				continue;
			}
			*pp = c->next;
			chunk_seal(c);
		}
	}
}

/* --- choosing a server ------------------------------------------------- */

static int
usable(const struct node *n)
{
	if (!n->available)
		return 0;
	return o.hb != HB_NONE && !n->secondary ? 1 : now_ms() >= n->retry_at;
}

/* Smooth weighted round robin; standbys only while a regular is down. */
static int
pick_wrr(void)
{
	int i, best = -1, total = 0, down = 0;

	for (i = 0; i < nnodes; i++)
		if (!nodes[i].standby && !usable(&nodes[i]))
			down = 1;
	for (i = 0; i < nnodes; i++) {
		if (!usable(&nodes[i]) || (nodes[i].standby && !down))
			continue;
		nodes[i].cw += nodes[i].weight;
		total += nodes[i].weight;
		if (best < 0 || nodes[i].cw > nodes[best].cw)
			best = i;
	}
	if (best >= 0)
		nodes[best].cw -= total;
	return best;
}

/* The first usable server on the ring at or after h (any, if !need). */
static int
pick_hash(uint32_t h, int need)
{
	int lo = 0, hi = nring, i, k;

	while (lo < hi) {
		i = (lo + hi) / 2;
		if (ring[i].h < h)
			lo = i + 1;
		else
			hi = i;
	}
	for (k = 0; k < nring; k++) {
		i = (lo + k) % nring;
		if (!need || usable(&nodes[ring[i].node]))
			return ring[i].node;
	}
	return -1;
}

static int
ring_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Points on the ring: VNODES for the default weight 60. */
static int
points(const struct node *n)
{
	int p = VNODES * n->weight / 60;

	return p > 0 ? p : 1;
}

static void
build_ring(void)
{
	char name[400];
	int i, v, n, total = 0;

	for (i = 0; i < nnodes; i++)
		total += points(&nodes[i]);
	ring = xcalloc(total, sizeof(*ring));
	for (i = 0; i < nnodes; i++) {
		for (v = 0; v < points(&nodes[i]); v++) {
			n = snprintf(name, sizeof(name), "%s:%s#%d", nodes[i].host,
			    nodes[i].port, v);
			ring[nring].h = fnv(name, n, 2166136261u);
			ring[nring].node = i;
			nring++;
		}
	}
	qsort(ring, nring, sizeof(*ring), ring_cmp);
}

/* Hands sealed requests to servers. */
static void
assign(void)
{
	struct chunk *c;
	int k;

	while (pending.head) {
		c = pending.head;
		if (c->on_secondary)
			k = usable(sec) ? MAX_NODES : -1;
		else if (o.hash_key)
			k = usable(&nodes[c->node]) ? c->node :
			    pick_hash(c->hash, 1);
		else
			k = pick_wrr();
		if (k < 0)
			return;
		q_pop(&pending);
		q_push(k == MAX_NODES ? &sec->q : &nodes[k].q, c);
	}
}

/* --- the failure detector (Fluentd's phi accrual) ---------------------- */

static void
hb_clear(struct node *n)
{
	n->ngaps = 0;
	n->gfirst = 0;
	n->last_hb = 0;
}

static double
phi(struct node *n, double now)
{
	double mean = 0, fact = 0, t;
	int i;

	if (!n->ngaps)
		return 0;
	for (i = 0; i < n->ngaps; i++) {
		mean += (double)n->gaps[(n->gfirst + i) % SAMPLES] * (i + 1);
		fact += i + 1;
	}
	mean = mean / fact / 1e6 - o.hb_ms / 1000.0 + 1;
	t = now - n->last_hb - o.hb_ms / 1000.0 + 1;
	return t / (mean * log(10.0));
}

static void
heartbeat(struct node *n)
{
	double now = now_s(), gap;

	if (!n->ngaps || n->last_hb == 0) {
		gap = o.hb_ms * 1000.0;
		n->ngaps = 0;
	} else {
		gap = (now - n->last_hb) * 1e6;
	}
	if (n->ngaps == SAMPLES) {
		n->gfirst = (n->gfirst + 1) % SAMPLES;
		n->ngaps--;
	}
	n->gaps[(n->gfirst + n->ngaps++) % SAMPLES] = (uint32_t)gap;
	n->last_hb = now;
	if (!n->available && n->ngaps > o.recover_ms / o.hb_ms) {
		n->available = 1;
		n->fails = 0;
		warn("%s: recovered", n->name);
	}
}

static void
detach(struct node *n, const char *why)
{
	if (n->available)
		warn("%s: detached (%s)", n->name, why);
	n->available = 0;
	hb_clear(n);
}

static void
tick(struct node *n)
{
	double now = now_s(), p;
	char why[64];

	if (o.hb == HB_NONE || n->secondary)
		return;
	if (n->last_hb == 0)
		n->last_hb = now;
	if (now - n->last_hb > o.hard_ms / 1000.0) {
		if (n->available)
			detach(n, "hard timeout");
		else
			hb_clear(n);
		n->last_hb = now;
		return;
	}
	if (n->available && (p = phi(n, now)) > o.phi) {
		snprintf(why, sizeof(why), "phi %.1f > %.1f", p, o.phi);
		detach(n, why);
	}
}

/* --- connections --------------------------------------------------------- */

static void
node_close(struct node *n)
{
	char junk[4096];

	if (n->ssl) {
		if (n->state == N_READY)
			SSL_shutdown(n->ssl);   /* close_notify */
		SSL_free(n->ssl);
		n->ssl = NULL;
	}
	if (n->fd >= 0) {
		/* unread input (TLS tickets) would make close send a RST */
		while (recv(n->fd, junk, sizeof(junk), MSG_DONTWAIT) > 0)
			;
		close(n->fd);
	}
	n->fd = -1;
	n->state = N_IDLE;
	n->rb.len = n->hs.len = 0;
	n->writing = 0;
	n->woff = 0;
}

/*
 * Closes after the server has seen the end: close_notify and FIN, then
 * its EOF (or a 2 s wait).  Closing at once could reset the connection
 * and lose what the server had not read yet.
 */
static void
node_linger(struct node *n)
{
	if (n->ssl)
		SSL_shutdown(n->ssl);
	shutdown(n->fd, SHUT_WR);
	n->state = N_CLOSING;
	n->deadline = now_ms() + 2000;
}

static void
linger_io(struct node *n)
{
	char junk[4096];
	ssize_t r;

	while ((r = recv(n->fd, junk, sizeof(junk), MSG_DONTWAIT)) > 0)
		;
	if (r == 0 || (errno != EAGAIN && errno != EINTR))
		node_close(n);
}

static long long
backoff(int fails)
{
	long long w = o.retry_ms;

	while (--fails > 0 && w < o.retry_max_ms)
		w *= 2;
	return w < o.retry_max_ms ? w : o.retry_max_ms;
}

/* A request given up: counted and said. */
static void
chunk_lost(struct chunk *c, const char *why)
{
	warn("giving up a request of %llu events for %s: %s",
	    (unsigned long long)c->n, c->tag, why);
	ev_lost += c->n;
	stats.dropped += c->n;
	chunk_free(c);
}

/*
 * Counts a failure of c (idle: it found no server available): passes it
 * to the secondary or gives it up (freed; then 1) once its retries are
 * exhausted, else sets when it counts as failing again if it still finds
 * no server.
 */
static int
chunk_count_fail(struct chunk *c, int idle)
{
	const char *why = "retries exhausted";
	long long now = now_ms();

	c->fails++;
	req_retried++;
	if (!c->first_fail)
		c->first_fail = now;
	if (!o.retry_forever && ((o.retry_times >= 0 && c->fails >
	    o.retry_times) || now - c->first_fail > o.retry_timeout_ms)) {
		if (sec && !c->on_secondary) {
			c->on_secondary = 1;
			c->fails = 0;
			c->first_fail = c->retry_at = now;
			return 0;
		}
		if (c->on_secondary)
			why = "the secondary failed too";
		else if (idle)
			why = "retries exhausted (no server available)";
		chunk_lost(c, why);
		return 1;
	}
	c->retry_at = now + backoff(c->fails);
	return 0;
}

/* A failed request: back to the queue, to the secondary, or given up. */
static void
chunk_failed(struct chunk *c)
{
	if (!chunk_count_fail(c, 0))
		q_push_front(&pending, c);
}

/* The connection failed: its requests go back for another server. */
static void
node_fail(struct node *n, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	int i;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	warn("%s: %s", n->name, msg);
	node_close(n);
	n->fails++;
	n->retry_at = now_ms() + backoff(n->fails);
	if (o.hb != HB_NONE && !n->secondary)
		detach(n, "request failed");
	if (!n->nflight && n->q.head)   /* the request it was about to send */
		n->flight[n->nflight++] = q_pop(&n->q);
	if (n->q.head) {        /* its queue goes first, in order */
		n->q.tail->next = pending.head;
		pending.head = n->q.head;
		if (!pending.tail)
			pending.tail = n->q.tail;
		pending.n += n->q.n;
		memset(&n->q, 0, sizeof(n->q));
	}
	for (i = n->nflight - 1; i >= 0; i--)
		chunk_failed(n->flight[i]);
	n->nflight = 0;
}

static int
tls_start(struct node *n)
{
	const char *name = o.tls_host ? o.tls_host : n->host;
	unsigned char a[16];

	if (!(n->ssl = SSL_new(ssl_ctx)) || !SSL_set_fd(n->ssl, n->fd))
		return -1;
	if (inet_pton(AF_INET, name, a) == 1 || inet_pton(AF_INET6, name, a) == 1) {
		if (!o.insecure && !X509_VERIFY_PARAM_set1_ip_asc(
		    SSL_get0_param(n->ssl), name))
			return -1;
	} else {
		SSL_set_tlsext_host_name(n->ssl, name);
		if (!o.insecure && !SSL_set1_host(n->ssl, name))
			return -1;
	}
	SSL_set_connect_state(n->ssl);
	n->state = N_TLS;
	return 0;
}

static void
node_connect(struct node *n)
{
	char err[512];
	int pend;

	n->fd = net_connect(n->host, n->port, SOCK_STREAM, &pend, err,
	    sizeof(err));
	if (n->fd < 0) {
		node_fail(n, "unable to connect: %s", err);
		return;
	}
	n->deadline = now_ms() + o.connect_ms;
	n->state = N_CONNECTING;
	n->rb.len = 0;
}

/* The connection is up (TCP, then TLS): handshake or ready. */
static void
connected(struct node *n)
{
	if (o.tls && !n->ssl) {
		if (tls_start(n) < 0)
			node_fail(n, "unable to start TLS");
		return;
	}
	n->fails = 0;
	n->state = o.shared_key ? N_HELO : N_READY;
	n->deadline = now_ms() + o.connect_ms;
}

/* send/recv through TLS or not: bytes, 0 would block, -1 error. */
static ssize_t
io_send(struct node *n, const char *p, size_t len)
{
	ssize_t r;
	int e;

	if (!n->ssl) {
		r = send(n->fd, p, len, MSG_NOSIGNAL);
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
		return r;
	}
	ERR_clear_error();
	r = SSL_write(n->ssl, p, (int)(len > (1u << 30) ? 1u << 30 : len));
	if (r > 0)
		return r;
	e = SSL_get_error(n->ssl, (int)r);
	if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ)
		return 0;
	errno = EPROTO;
	return -1;
}

static ssize_t
io_recv(struct node *n, char *p, size_t len)
{
	ssize_t r;
	int e;

	if (!n->ssl) {
		r = recv(n->fd, p, len, 0);
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			return -2;
		return r;
	}
	ERR_clear_error();
	r = SSL_read(n->ssl, p, (int)len);
	if (r > 0)
		return r;
	e = SSL_get_error(n->ssl, (int)r);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
		return -2;
	if (e == SSL_ERROR_ZERO_RETURN)
		return 0;
	errno = e == SSL_ERROR_SYSCALL && errno ? errno : EPROTO;
	return r == 0 && e == SSL_ERROR_SYSCALL ? 0 : -1;
}

static void
tls_step(struct node *n)
{
	int r, e;
	long v;

	ERR_clear_error();
	if ((r = SSL_do_handshake(n->ssl)) == 1) {
		connected(n);
		return;
	}
	e = SSL_get_error(n->ssl, r);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
		return;
	v = SSL_get_verify_result(n->ssl);
	node_fail(n, "TLS handshake failed: %s", v != X509_V_OK ?
	    X509_verify_cert_error_string(v) :
	    ERR_reason_error_string(ERR_get_error()) ?
	    ERR_reason_error_string(ERR_peek_last_error()) : "error");
}

/* Reads replies into n->rb; 0 ok, 1 the server closed, -1 failed. */
static int
read_replies(struct node *n)
{
	ssize_t r;

	for (;;) {
		buf_reserve(&n->rb, REPLY_MAX);
		r = io_recv(n, n->rb.p + n->rb.len, n->rb.cap - n->rb.len);
		if (r == -2)
			return 0;
		if (r == 0)
			return 1;
		if (r < 0) {
			node_fail(n, "unable to read: %s", strerror(errno));
			return -1;
		}
		n->rb.len += r;
		if (n->rb.len > 1u << 20) {
			node_fail(n, "server sends too much");
			return -1;
		}
	}
}

static void
consume(struct node *n, size_t used)
{
	memmove(n->rb.p, n->rb.p + used, n->rb.len - used);
	n->rb.len -= used;
}

static void
got_helo(struct node *n)
{
	struct fwd_helo h;
	struct fwd_ping pg;
	struct fwd_str key = { o.shared_key, strlen(o.shared_key) };
	struct fwd_str user = { o.username ? o.username : "", 0 };
	struct fwd_str pass = { o.password ? o.password : "", 0 };
	char kd[FWD_DIGEST_LEN + 1], pd[FWD_DIGEST_LEN + 1];
	size_t used;
	int r = fwd_helo_parse(n->rb.p, n->rb.len, &used, &h);

	if (r == FWD_SHORT)
		return;
	if (r != FWD_OK) {
		node_fail(n, "expected HELO, the server sent something else");
		return;
	}
	user.len = strlen(user.p);
	pass.len = strlen(pass.p);
	memcpy(n->nonce, h.nonce.p, h.nonce.len < FWD_NONCE_LEN ?
	    h.nonce.len : FWD_NONCE_LEN);
	pg.host.p = self_host;
	pg.host.len = strlen(self_host);
	pg.salt.p = n->salt;
	pg.salt.len = FWD_SALT_LEN;
	fwd_digest(kd, &pg.salt, &pg.host, &h.nonce, &key);
	pg.digest.p = kd;
	pg.digest.len = FWD_DIGEST_LEN;
	pg.user = user;
	pg.pass.p = "";
	pg.pass.len = 0;
	if (h.auth.len) {
		fwd_digest(pd, &h.auth, &user, &pass, NULL);
		pg.pass.p = pd;
		pg.pass.len = FWD_DIGEST_LEN;
	}
	n->hs.len = 0;
	fwd_ping_put(&n->hs, &pg);
	consume(n, used);
	n->state = N_PONG;
}

static void
got_pong(struct node *n)
{
	struct fwd_pong po;
	struct fwd_str key = { o.shared_key, strlen(o.shared_key) };
	struct fwd_str salt = { n->salt, FWD_SALT_LEN };
	struct fwd_str nonce = { (char *)n->nonce, FWD_NONCE_LEN };
	char hex[FWD_DIGEST_LEN + 1];
	size_t used;
	int r = fwd_pong_parse(n->rb.p, n->rb.len, &used, &po);

	if (r == FWD_SHORT)
		return;
	if (r != FWD_OK) {
		node_fail(n, "expected PONG, the server sent something else");
		return;
	}
	if (!po.ok) {
		node_fail(n, "authentication failed: %.*s", (int)po.reason.len,
		    po.reason.p);
		return;
	}
	if (po.host.len == strlen(self_host) &&
	    memcmp(po.host.p, self_host, po.host.len) == 0) {
		node_fail(n, "same hostname between input and output: invalid "
		    "configuration");
		return;
	}
	fwd_digest(hex, &salt, &po.host, &nonce, &key);
	if (po.digest.len != FWD_DIGEST_LEN ||
	    memcmp(hex, po.digest.p, FWD_DIGEST_LEN) != 0) {
		node_fail(n, "shared key mismatch (the PONG digest)");
		return;
	}
	consume(n, used);
	n->state = N_READY;
}

static void
delivered(struct node *n, struct chunk *c)
{
	ev_done += c->n;
	stats.out += c->n;
	n->sent_events += c->n;
	n->requests++;
	req_sent++;
	chunk_free(c);
}

static void
got_acks(struct node *n)
{
	struct fwd_str id;
	size_t used;
	int r, i;

	while (n->rb.len) {
		r = fwd_ack_parse(n->rb.p, n->rb.len, &used, &id);
		if (r == FWD_SHORT)
			return;
		if (r != FWD_OK) {
			node_fail(n, "the server's reply is not an ack");
			return;
		}
		for (i = 0; i < n->nflight - n->writing; i++)
			if (id.len == FWD_CHUNK_LEN &&
			    memcmp(id.p, n->flight[i]->id, FWD_CHUNK_LEN) == 0)
				break;
		if (i == n->nflight - n->writing) {
			node_fail(n, "ack for a request not sent (mismatch)");
			return;
		}
		delivered(n, n->flight[i]);
		memmove(n->flight + i, n->flight + i + 1,
		    (n->nflight - i - 1) * sizeof(n->flight[0]));
		n->nflight--;
		consume(n, used);
		n->deadline = now_ms() + o.ack_ms;
	}
}

/* Sends handshake bytes; 1 when all are out, 0 blocked, -1 failed. */
static int
write_hs(struct node *n)
{
	ssize_t r;

	while (n->hs.len) {
		if ((r = io_send(n, n->hs.p, n->hs.len)) < 0) {
			node_fail(n, "unable to send: %s", strerror(errno));
			return -1;
		}
		if (r == 0)
			return 0;
		memmove(n->hs.p, n->hs.p + r, n->hs.len - r);
		n->hs.len -= r;
	}
	return 1;
}

/* Writes the handshake, then the request being sent. */
static void
node_write(struct node *n)
{
	struct chunk *c;
	ssize_t r;

	if (write_hs(n) <= 0 || n->state != N_READY || !n->writing)
		return;
	c = n->flight[n->nflight - 1];
	while (n->woff < c->req.len) {
		r = io_send(n, c->req.p + n->woff, c->req.len - n->woff);
		if (r < 0) {
			node_fail(n, "unable to send: %s", strerror(errno));
			return;
		}
		if (r == 0)
			return;
		n->woff += r;
		n->deadline = now_ms() + o.send_ms;
	}
	n->writing = 0;
	n->woff = 0;
	if (!o.ack) {
		n->nflight--;
		delivered(n, c);
	} else {
		n->deadline = now_ms() + o.ack_ms;
	}
}

/* Starts the next request if the window allows. */
static void
node_next(struct node *n)
{
	if (n->state != N_READY || n->writing || !n->q.head)
		return;
	if (n->nflight == INFLIGHT || (!o.ack && n->nflight))
		return;
	n->flight[n->nflight++] = q_pop(&n->q);
	n->writing = 1;
	n->woff = 0;
	n->deadline = now_ms() + o.send_ms;
	node_write(n);
}

/* Moves the node's state machine after I/O readiness. */
static void
node_io(struct node *n, short rev)
{
	int eof = 0;

	if (n->state == N_CLOSING) {
		linger_io(n);
		return;
	}
	if (n->state == N_CONNECTING) {
		if (!(rev & (POLLOUT | POLLERR | POLLHUP)))
			return;
		if (net_connect_done(n->fd) < 0) {
			node_fail(n, "unable to connect: %s", strerror(errno));
			return;
		}
		connected(n);
	}
	if (n->state == N_TLS) {
		tls_step(n);
		if (n->state == N_TLS || n->fd < 0)
			return;
	}
	if (rev & (POLLIN | POLLHUP | POLLERR) || (n->ssl && SSL_pending(n->ssl)))
		if ((eof = read_replies(n)) < 0)
			return;
	if (n->state == N_HELO)
		got_helo(n);
	if (n->fd >= 0 && n->state == N_PONG && !n->hs.len)
		got_pong(n);
	if (n->fd >= 0 && n->state == N_READY && o.ack && n->rb.len)
		got_acks(n);
	if (n->fd >= 0 && eof) {
		if (n->nflight || n->state != N_READY)
			node_fail(n, "connection closed by the server%s",
			    n->nflight ? " before the ack" : "");
		else
			node_close(n);
		return;
	}
	if (n->fd >= 0)
		node_write(n);
	if (n->fd >= 0)
		node_next(n);
}

/* Timers and starting work: connect when requests wait, close when idle. */
static void
node_timers(struct node *n)
{
	long long now = now_ms();

	if (n->fd < 0) {
		if (n->q.head && usable(n))
			node_connect(n);
		return;
	}
	if (n->state == N_CLOSING) {
		if (now > n->deadline)
			node_close(n);
		return;
	}
	if (n->deadline && now > n->deadline) {
		if (n->state != N_READY)
			node_fail(n, "timed out %s", n->state == N_CONNECTING ?
			    "connecting" : "in the handshake");
		else if (n->writing)
			node_fail(n, "timed out sending (--send-timeout)");
		else if (n->nflight)
			node_fail(n, "no ack within --ack-timeout: regard the "
			    "server as unavailable");
		else
			n->deadline = 0;
		return;
	}
	node_next(n);
	if (n->state == N_READY && !n->nflight && !n->q.head &&
	    (!o.keepalive || in_eof))
		node_linger(n);
}

/* --- heartbeats ------------------------------------------------------- */

static void
hb_send(struct node *n)
{
	char err[256];
	int pend;

	if (n->hb_fd >= 0) {
		close(n->hb_fd);        /* the last one got no answer */
		n->hb_fd = -1;
	}
	n->hb_fd = net_connect(n->host, n->port, o.hb == HB_UDP ? SOCK_DGRAM :
	    SOCK_STREAM, &pend, err, sizeof(err));
	if (n->hb_fd < 0)
		return;
	n->hb_pending = pend;
	n->hb_sent = now_ms();
	if (o.hb == HB_UDP) {
		if (send(n->hb_fd, "", 1, 0) < 0) {
			close(n->hb_fd);
			n->hb_fd = -1;
		}
		return;
	}
	if (!pend) {
		heartbeat(n);
		close(n->hb_fd);
		n->hb_fd = -1;
	}
}

static void
hb_io(struct node *n, short rev)
{
	char b[64];

	if (o.hb == HB_UDP) {
		if (recv(n->hb_fd, b, sizeof(b), 0) >= 0)
			heartbeat(n);
	} else if (rev & POLLOUT && net_connect_done(n->hb_fd) == 0) {
		heartbeat(n);
	}
	close(n->hb_fd);
	n->hb_fd = -1;
}

/* --- stdin ------------------------------------------------------------- */

static void
add_event(struct event *ev)
{
	struct chunk **pp, *c;
	const char *v;
	size_t vlen, before;
	uint32_t h = 0;
	int node = -1;
	unsigned s;

	ev_in++;
	stats.in++;
	if (o.hash_key) {
		if (mp_map_get(ev->rec, ev->rec + ev->rec_len, o.hash_key,
		    strlen(o.hash_key), &v, &vlen)) {
			struct mp_obj k;
			const char *p = v;

			mp_head(&p, v + vlen, &k);
			if (k.type == MP_STR || k.type == MP_BIN)
				h = fnv(k.data, k.len, 2166136261u);
			else
				h = fnv(v, vlen, 2166136261u);
		}
		if ((node = pick_hash(h, 1)) < 0)
			node = pick_hash(h, 0);
	}
	s = slot(ev->tag, ev->tag_len, node);
	for (pp = &open_tab[s]; (c = *pp); pp = &c->next)
		if (c->node == node && c->tag_len == ev->tag_len &&
		    memcmp(c->tag, ev->tag, ev->tag_len) == 0)
			break;
	/* the whole request fits the limit, so its buffer never doubles */
	if (c && c->n && (c->req.len + ev->rec_len + ENTRY_HEAD + OPTION_MAX >
	    o.chunk_size || (o.chunk_records && c->n >= o.chunk_records))) {
		*pp = c->next;
		chunk_seal(c);
		c = NULL;
	}
	if (!c) {
		c = chunk_new(ev->tag, ev->tag_len, node, h);
		held += c->req.len;
		c->next = open_tab[s];
		open_tab[s] = c;
	}
	before = c->req.len;
	fwd_entry_put(&c->req, ev->sec, ev->nsec, ev->rec, ev->rec_len,
	    o.time_int);
	held += c->req.len - before;
	c->n++;
}

static void
read_stdin(void)
{
	struct event ev;
	ssize_t n;
	int r;

	n = reader_fill(in);
	if (n < 0 && errno != EINTR && errno != EAGAIN) {
		warn("unable to read stdin:");
		in_eof = in_bad = 1;
		return;
	}
	while ((r = reader_next_buffered(in, &ev)) == READ_EVENT)
		add_event(&ev);
	if (r == READ_ERR) {
		warn("%s", reader_errmsg(in));
		in_eof = 1;
		in_bad = 1;
	} else if (r == READ_EOF) {
		in_eof = 1;
	}
	if (in_eof)
		seal_all(0);
}

/* --- the loop ---------------------------------------------------------- */

static int
all_nodes(struct node **list)
{
	int i, k = 0;

	for (i = 0; i < nnodes; i++)
		list[k++] = &nodes[i];
	if (sec)
		list[k++] = sec;
	return k;
}

static int
all_done(void)
{
	struct node *list[MAX_NODES + 1];
	int i, nn;

	if (!in_eof || pending.head)
		return 0;
	for (i = 0; i < 256; i++)
		if (open_tab[i])
			return 0;
	nn = all_nodes(list);
	for (i = 0; i < nn; i++)
		if (list[i]->q.head || list[i]->nflight || list[i]->fd >= 0)
			return 0;
	return 1;
}

/*
 * Sealed requests wait for servers that are up: reading on would only
 * hold more in memory, so stdin waits (and its writer with it).  With no
 * server up (the secondary aside), --buffer-limit alone bounds what is
 * held, to ride out the outage.
 */
static int
backlogged(void)
{
	size_t waiting = pending.n + (sec ? sec->q.n : 0);
	int i, up = 0;

	for (i = 0; i < nnodes; i++) {
		waiting += nodes[i].q.n;
		up += usable(&nodes[i]);
	}
	return up > 0 && waiting >= (size_t)up;
}

static short
node_events(const struct node *n)
{
	short ev = POLLIN;

	if (n->state == N_CONNECTING || n->hs.len || n->writing)
		ev |= POLLOUT;
	return ev;
}

/*
 * Whether a server is available for c, or is only waiting out its
 * --retry-wait (no heartbeats, or the secondary): then c waits for it.
 * With heartbeats a detached server is not available.
 */
static int
available_for(const struct chunk *c)
{
	int i;

	if (c->on_secondary)
		return sec->available;
	for (i = 0; i < nnodes; i++)
		if (nodes[i].available)
			return 1;
	return 0;
}

/*
 * Requests no server is available for count as failing at each retry
 * time, as Fluentd counts "no nodes are available" as a failed flush: so
 * --retry-max-times and the secondary apply while every server is
 * detached.  Requests waiting beyond --retry-timeout are given up.
 */
static void
expire_pending(void)
{
	struct chunk *c, *keep = NULL, **tail = &keep;
	long long now = now_ms();
	int late;

	while ((c = q_pop(&pending))) {
		if (!available_for(c) && now >= c->retry_at &&
		    chunk_count_fail(c, 1))
			continue;
		late = !o.retry_forever && c->first_fail &&
		    now - c->first_fail > o.retry_timeout_ms;
		if (late && (!sec || c->on_secondary)) {
			chunk_lost(c, "retries exhausted (--retry-timeout)");
			continue;
		}
		if (late) {
			c->on_secondary = 1;
			c->first_fail = c->retry_at = now;
			c->fails = 0;
		}
		*tail = c;
		tail = &c->next;
	}
	for (c = keep; c;) {
		struct chunk *next = c->next;

		q_push(&pending, c);
		c = next;
	}
}

static void
loop_once(void)
{
	struct pollfd pf[2 * MAX_NODES + 4];
	struct node *list[MAX_NODES + 1], *who[2 * MAX_NODES + 4];
	int kind[2 * MAX_NODES + 4];
	int i, k, np = 0, nn, in_slot = -1, r, timeout = 100;
	long long now = now_ms();

	pf[np].fd = sig_fd();
	pf[np++].events = POLLIN;
	if (!in_eof && !stopping && held < o.buffer_limit && !backlogged()) {
		in_slot = np;
		pf[np].fd = 0;
		pf[np++].events = POLLIN;
	}
	nn = all_nodes(list);
	for (i = 0; i < nn; i++) {
		if (list[i]->fd >= 0) {
			who[np] = list[i];
			kind[np] = 0;
			pf[np].fd = list[i]->fd;
			pf[np++].events = node_events(list[i]);
		}
		if (list[i]->hb_fd >= 0) {
			who[np] = list[i];
			kind[np] = 1;
			pf[np].fd = list[i]->hb_fd;
			pf[np++].events = list[i]->hb_pending ? POLLOUT : POLLIN;
		}
		if (list[i]->ssl && SSL_pending(list[i]->ssl))
			timeout = 0;
	}
	r = poll(pf, np, timeout);
	if (r < 0 && errno != EINTR)
		die(EX_SYS, "poll:");
	if (r > 0 && pf[0].revents) {
		sig_drain();
		sig_service();
	}
	if (in_slot >= 0 && r > 0 && pf[in_slot].revents)
		read_stdin();
	else if (in_slot >= 0)
		seal_all(0);            /* stdin is idle: send what is held */
	seal_all(1);
	for (k = 1; k < np; k++) {
		if (k == in_slot || (!pf[k].revents && !(kind[k] == 0 &&
		    who[k]->ssl && SSL_pending(who[k]->ssl))))
			continue;
		if (kind[k] == 0 && who[k]->fd == pf[k].fd)
			node_io(who[k], pf[k].revents);
		else if (kind[k] == 1 && who[k]->hb_fd == pf[k].fd)
			hb_io(who[k], pf[k].revents);
	}
	now = now_ms();
	for (i = 0; i < nn; i++) {
		if (o.hb != HB_NONE && !list[i]->secondary &&
		    now >= list[i]->hb_next) {
			hb_send(list[i]);
			list[i]->hb_next = now + o.hb_ms;
		}
		tick(list[i]);
	}
	expire_pending();
	assign();
	for (i = 0; i < nn; i++)
		node_timers(list[i]);
}

static void
run(void)
{
	while (!all_done()) {
		if (sig_stop && !stopping) {
			stopping = 1;
			in_eof = 1;
			seal_all(0);
			stop_deadline = now_ms() + o.shutdown_ms;
		}
		if (stopping && now_ms() >= stop_deadline)
			break;
		loop_once();
	}
}

/* What was not delivered when the loop ended, counted. */
static void
count_undelivered(void)
{
	struct node *list[MAX_NODES + 1];
	struct chunk *c;
	int i, k, nn = all_nodes(list);

	seal_all(0);
	while ((c = q_pop(&pending)))
		chunk_lost(c, "not delivered before exit");
	for (i = 0; i < nn; i++) {
		for (k = 0; k < list[i]->nflight; k++)
			chunk_lost(list[i]->flight[k], "not acknowledged "
			    "before exit");
		list[i]->nflight = 0;
		while ((c = q_pop(&list[i]->q)))
			chunk_lost(c, "not delivered before exit");
		node_close(list[i]);
		if (list[i]->hb_fd >= 0)
			close(list[i]->hb_fd);
		buf_free(&list[i]->rb);
		buf_free(&list[i]->hs);
	}
}

/* --- setup ------------------------------------------------------------- */

/* Host and port of a server (s, its options cut off), or a usage error. */
static void
split_server(struct node *n, const char *s, const char *arg, int secondary)
{
	const char *what = secondary ? "--secondary server" : "server";

	if (net_split(s, "", "24224", n->host, sizeof(n->host), n->port,
	    sizeof(n->port)) < 0)
		die(EX_USAGE, "bad %s '%s': want HOST:PORT, a host of up to "
		    "255 bytes and a port from 1 to 65535", what, arg);
	if (!n->host[0])
		die(EX_USAGE, "bad %s '%s': no host", what, arg);
	if (atoi(n->port) == 0)
		die(EX_USAGE, "bad %s '%s': port 0 (want 1 to 65535)", what,
		    arg);
}

static void
parse_node(struct node *n, const char *arg, int secondary)
{
	char *s = xstrdup(arg), *opt = strchr(s, ','), *tok, *save = NULL;
	long long w;

	if (opt)
		*opt++ = '\0';
	split_server(n, s, arg, secondary);
	n->weight = 60;
	for (tok = opt ? strtok_r(opt, ",", &save) : NULL; tok;
	    tok = strtok_r(NULL, ",", &save)) {
		if (strncmp(tok, "weight=", 7) == 0 && (w = opt_uint(tok + 7))
		    >= 1 && w <= 1000 && !secondary)
			n->weight = (int)w;
		else if (strcmp(tok, "standby") == 0 && !secondary)
			n->standby = 1;
		else
			die(EX_USAGE, "bad %sserver option '%s' in '%s'",
			    secondary ? "--secondary " : "", tok, arg);
	}
	snprintf(n->name, sizeof(n->name), "%s%s:%s", secondary ?
	    "secondary " : "", n->host, n->port);
	n->secondary = secondary;
	n->available = 1;
	n->fd = n->hb_fd = -1;
	n->state = N_IDLE;
	if (fwd_salt(n->salt) < 0)
		die(EX_SYS, "unable to get random bytes");
	free(s);
}

static long long
dur(const char *arg, const char *name)
{
	long long v = opt_duration_ms(arg);

	if (v < 0)
		die(EX_USAGE, "bad duration '%s' for --%s", arg, name);
	return v;
}

static long long
num(const char *arg, const char *name)
{
	long long v = opt_uint(arg);

	if (v < 0)
		die(EX_USAGE, "bad number '%s' for --%s", arg, name);
	return v;
}

static void
option(int c, const char *arg)
{
	char *end;

	switch (c) {
	case O_ACK: o.ack = 1; break;
	case O_ACK_TIMEOUT: o.ack_ms = dur(arg, "ack-timeout"); break;
	case O_COMPRESS:
		if (strcmp(arg, "gzip") != 0 && strcmp(arg, "text") != 0)
			die(EX_USAGE, "--compress takes gzip or text");
		o.gzip = strcmp(arg, "gzip") == 0;
		break;
	case O_TIME_INT: o.time_int = 1; break;
	case O_CHUNK_SIZE:
		if ((long long)(o.chunk_size = opt_size(arg)) <= 0)
			die(EX_USAGE, "bad size '%s' for --chunk-limit-size", arg);
		break;
	case O_CHUNK_RECORDS:
		o.chunk_records = num(arg, "chunk-limit-records");
		break;
	case O_BUFFER:
		if ((long long)(o.buffer_limit = opt_size(arg)) <= 0)
			die(EX_USAGE, "bad size '%s' for --buffer-limit", arg);
		break;
	case O_FLUSH: o.flush_ms = dur(arg, "flush-interval"); break;
	case O_HB:
		if (strcmp(arg, "transport") == 0 || strcmp(arg, "tcp") == 0)
			o.hb = HB_TRANSPORT;
		else if (strcmp(arg, "udp") == 0)
			o.hb = HB_UDP;
		else if (strcmp(arg, "none") == 0)
			o.hb = HB_NONE;
		else
			die(EX_USAGE, "--heartbeat takes transport, udp or none");
		break;
	case O_HB_INTERVAL: o.hb_ms = dur(arg, "heartbeat-interval"); break;
	case O_PHI:
		o.phi = strtod(arg, &end);
		if (*end || end == arg || o.phi <= 0)
			die(EX_USAGE, "bad number '%s' for --phi-threshold", arg);
		break;
	case O_HARD: o.hard_ms = dur(arg, "hard-timeout"); break;
	case O_RECOVER: o.recover_ms = dur(arg, "recover-wait"); break;
	case O_SECONDARY: o.secondary = arg; break;
	case O_RETRY_WAIT: o.retry_ms = dur(arg, "retry-wait"); break;
	case O_RETRY_MAX_INT:
		o.retry_max_ms = dur(arg, "retry-max-interval");
		break;
	case O_RETRY_TIMEOUT: o.retry_timeout_ms = dur(arg, "retry-timeout"); break;
	case O_RETRY_TIMES: o.retry_times = num(arg, "retry-max-times"); break;
	case O_RETRY_FOREVER: o.retry_forever = 1; break;
	case O_KEEPALIVE: o.keepalive = 1; break;
	case O_CONNECT_TIMEOUT: o.connect_ms = dur(arg, "connect-timeout"); break;
	case O_SEND_TIMEOUT: o.send_ms = dur(arg, "send-timeout"); break;
	case O_BALANCE:
		if (strncmp(arg, "hash:", 5) != 0 || !arg[5])
			die(EX_USAGE, "--balance takes hash:KEY");
		o.hash_key = arg + 5;
		break;
	case O_SHARED_KEY: o.shared_key = arg; break;
	case O_SELF_HOST: o.self_host = arg; break;
	case O_USERNAME: o.username = arg; break;
	case O_PASSWORD: o.password = arg; break;
	case O_TLS: o.tls = 1; break;
	case O_CA: o.ca = arg; break;
	case O_CERT: o.cert = arg; break;
	case O_KEY: o.key = arg; break;
	case O_TLS_HOST: o.tls_host = arg; break;
	case O_INSECURE: o.insecure = 1; break;
	case O_SHUTDOWN: o.shutdown_ms = dur(arg, "shutdown-timeout"); break;
	case O_STATS: o.stats = 1; break;
	}
}

static void
options(int argc, char **argv)
{
	const char *arg;
	int c;

	/* options may follow servers (GNU order); "--" ends them */
	while ((c = opt_get(argc, argv, &prog, &arg)) != -1)
		option(c, arg);
	for (; optind < argc; optind++) {
		if (nnodes == MAX_NODES)
			die(EX_USAGE, "more than %d servers", MAX_NODES);
		parse_node(&nodes[nnodes++], argv[optind], 0);
	}
	if (!nnodes)
		opt_fail(&prog, "no server given: want at least one HOST:PORT");
	if (o.hb_ms <= 0)
		die(EX_USAGE, "--heartbeat-interval must be above 0");
	if ((o.username || o.password) && !o.shared_key)
		die(EX_USAGE, "--username and --password need --shared-key");
	if ((o.ca || o.cert || o.key || o.tls_host || o.insecure) && !o.tls)
		die(EX_USAGE, "TLS options need --tls");
	if (!o.cert != !o.key)
		die(EX_USAGE, "--cert and --key go together");
	if (o.secondary) {
		sec = &nodes[MAX_NODES];
		parse_node(sec, o.secondary, 1);
	}
}

static void
setup_tls(void)
{
	if (!o.tls)
		return;
	if (!(ssl_ctx = SSL_CTX_new(TLS_client_method())))
		die(EX_SYS, "unable to set up TLS");
	SSL_CTX_set_min_proto_version(ssl_ctx, TLS1_2_VERSION);
	if (o.insecure) {
		SSL_CTX_set_verify(ssl_ctx, SSL_VERIFY_NONE, NULL);
	} else {
		SSL_CTX_set_verify(ssl_ctx, SSL_VERIFY_PEER, NULL);
		if (o.ca ? !SSL_CTX_load_verify_locations(ssl_ctx, o.ca, NULL) :
		    !SSL_CTX_set_default_verify_paths(ssl_ctx))
			die(EX_USAGE, "unable to load CA certificates %s",
			    o.ca ? o.ca : "(system default)");
	}
	if (o.cert && (SSL_CTX_use_certificate_chain_file(ssl_ctx, o.cert) != 1
	    || SSL_CTX_use_PrivateKey_file(ssl_ctx, o.key, SSL_FILETYPE_PEM) != 1
	    || SSL_CTX_check_private_key(ssl_ctx) != 1))
		die(EX_USAGE, "unable to load the client certificate %s and key "
		    "%s", o.cert, o.key);
}

static void
extra_stats(char *b, size_t cap)
{
	snprintf(b, cap, ", delivered %llu, undelivered %llu, requests %llu, "
	    "retried %llu, held %zu bytes", (unsigned long long)ev_done,
	    (unsigned long long)ev_lost, (unsigned long long)req_sent,
	    (unsigned long long)req_retried, held);
}

static void
sync_stats(void)
{
	stats.bytes_in = reader_stats(in)->bytes;
}

int
main(int argc, char **argv)
{
	struct chunk *c;
	int status = EX_OK;

	progname_set(argv[0]);
	options(argc, argv);
	stream_tune_malloc();
	sig_init();
	stats_init(sync_stats, extra_stats);
	setup_tls();
	if (o.self_host)
		snprintf(self_host, sizeof(self_host), "%s", o.self_host);
	else if (gethostname(self_host, sizeof(self_host) - 1) < 0)
		snprintf(self_host, sizeof(self_host), "localhost");
	if (o.hash_key)
		build_ring();
	in = reader_new(0, "stdin");
	run();
	count_undelivered();
	if (o.stats)
		stats_print();
	if (ev_lost || ev_done != ev_in) {
		warn("%llu of %llu events not delivered", (unsigned long long)
		    (ev_in - ev_done), (unsigned long long)ev_in);
		status = EX_SYS;
	} else if (in_bad) {
		status = EX_DATA;
	}
	reader_free(in);
	while ((c = pool)) {
		pool = c->next;
		buf_free(&c->req);
		free(c);
	}
	buf_free(&gzb);
	buf_free(&spare);
	free(ring);
	if (ssl_ctx)
		SSL_CTX_free(ssl_ctx);
	return status;
}

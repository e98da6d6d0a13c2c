/* conn - lrecv's connections: opening, I/O, TLS, closing, the memory budget */
#include <errno.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <openssl/ssl.h>

#include "err.h"
#include "mp.h"
#include "stats.h"
#include "stream.h"

#include "lrecv.h"

#define WB_PAUSE (256u * 1024)          /* unsent reply bytes before pausing */
#define CLOSE_WAIT_MS 2000              /* lingering after a refusal */
#define TRIM_MS 1000                    /* quiet this long: buffers trimmed */
#define MEM_FLOOR (256u * 1024)         /* never refused for the budget */
#define TLS_MEM (64u * 1024)            /* a TLS session, roughly */
#define RECLAIM_MS 100                  /* over budget: trim idle buffers */

struct conn_set conns;
static SSL_CTX *ssl_ctx;
static long long last_reclaim;

/* Sets the epoll mask of c (loop.ep watches it since conn_new). */
static void
ep_set(struct conn *c, uint32_t ev)
{
	struct epoll_event e;

	if (c->events == ev)
		return;
	e.events = ev;
	e.data.ptr = c;
	if (epoll_ctl(loop.ep, EPOLL_CTL_MOD, c->it.fd, &e) == 0)
		c->events = ev;
}

/* c has no reply waiting on stdout any more. */
void
conn_ackq_remove(struct conn *c)
{
	if (!c->in_ackq)
		return;
	if (c->aprev)
		c->aprev->anext = c->anext;
	else
		conns.ackq = c->anext;
	if (c->anext)
		c->anext->aprev = c->aprev;
	c->in_ackq = 0;
	c->want = 0;
}

/* Forgets the replies c has waiting (their time is up). */
void
conn_acks_clear(struct conn *c)
{
	c->aoff = c->acks.len = 0;
	conn_ackq_remove(c);
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

/* Brings conns.mem up to date with c; how many bytes c grew by. */
static size_t
mem_update(struct conn *c)
{
	size_t m = conn_mem(c), grew = m > c->mem ? m - c->mem : 0;

	conns.mem = conns.mem - c->mem + m;
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
void
conn_release(struct conn *c)
{
	if (c->mode == M_JSON)
		stats.bytes_in += c->jbase + c->jin.len;
	c->jbase = 0;           /* counted: a second call adds nothing */
	if (c->r) {
		if (c->mode != M_JSON)
			stats.bytes_in += reader_stats(c->r)->bytes;
		counts.skipped += reader_stats(c->r)->skipped_places;
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

/* Only the loop's reap() and loop_end() call this. */
void
conn_free(struct conn *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		conns.all = c->next;
	if (c->next)
		c->next->prev = c->prev;
	conn_ackq_remove(c);
	close(c->it.fd);
	conn_release(c);
	conns.mem -= c->mem;
	if (c->ssl)
		SSL_free(c->ssl);
	buf_free(&c->wb);
	buf_free(&c->acks);
	free(c->hostname);
	conns.nkind[c->kind]--;
	free(c);
	conns.n--;
}

/* For the loop's reap(), between events. */
static void
todo_add(struct conn *c)
{
	if (c->on_todo)
		return;
	c->on_todo = 1;
	c->tnext = conns.todo;
	conns.todo = c;
}

/* Done with c: the loop frees it (and closes it) in its reap(). */
void
conn_drop(struct conn *c)
{
	c->dead = 1;
	todo_add(c);
}

/*
 * Stops taking requests: what is queued is sent, then the write side is
 * shut and what the client still sends is read and dropped until it
 * leaves (or CLOSE_WAIT_MS).  The input buffers go in the loop's reap().
 */
void
conn_closing(struct conn *c)
{
	if (c->state == S_CLOSING)
		return;
	c->state = S_CLOSING;
	c->last = clock_ms();
	todo_add(c);
}

/* Sends what wb holds; -1 if the connection is dropped. */
int
conn_write(struct conn *c)
{
	ssize_t n;
	short want;

	if (c->dead)
		return -1;
	while (c->woff < c->wb.len) {
		n = tls_send(c->it.fd, c->ssl, c->wb.p + c->woff,
		    c->wb.len - c->woff, &want);
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
		c->last = clock_ms();
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
void
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

/* Appends one event in Message mode to the stdout buffer (no flush). */
void
conn_emit(struct conn *c, struct event *ev)
{
	const char *tag = ev->tag, *rec = ev->rec;
	size_t tag_len = ev->tag_len, rec_len = ev->rec_len;
	struct buf *b = &out.b;

	if (o.tag_prefix) {
		scratch.tag.len = 0;
		buf_puts(&scratch.tag, o.tag_prefix);
		buf_putc(&scratch.tag, '.');
		buf_put(&scratch.tag, ev->tag, ev->tag_len);
		tag = scratch.tag.p;
		tag_len = scratch.tag.len;
	}
	if (ev->sec == 0 && ev->nsec == 0)
		event_now(&ev->sec, &ev->nsec);
	if ((o.src_host_key || o.src_addr_key) && (c->kind == K_FWD ||
	    c->kind == K_SYSLOG))
		fwd_in_source_keys(c, &rec, &rec_len);
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
 * response).  With R_E2E it waits until that is delivered at the end of
 * the pipeline (--end-to-end), or --end-to-end-timeout passes.
 */
void
conn_reply_after_flush(struct conn *c, const char *p, size_t n,
    uint32_t flags)
{
	struct ackhead h;

	h.pos = out.bytes + out.b.len;
	h.due = flags & R_E2E ? clock_ms() + o.e2e_ms : 0;
	h.len = (uint32_t)n;
	h.flags = flags;
	buf_put(&c->acks, &h, sizeof(h));
	buf_put(&c->acks, p, n);
	if (flags & R_E2E)
		c->want = h.pos;
	if (!c->in_ackq) {
		c->aprev = NULL;
		c->anext = conns.ackq;
		if (conns.ackq)
			conns.ackq->aprev = c;
		conns.ackq = c;
		c->in_ackq = 1;
	}
}

/* A Forward connection with --cert, or a --syslog tls: one, starts TLS. */
static void
tls_conn(struct conn *c)
{
	if (!(c->ssl = tls_server_new(ssl_ctx, c->it.fd)))
		die(EX_SYS, "unable to set up a TLS connection");
	c->state = S_TLS;
}

/*
 * The TLS handshake, then HELO if --shared-key: 0 when done, 1 to wait,
 * -1 failed (closing).
 */
int
conn_tls_accept(struct conn *c)
{
	char err[512];
	short want;
	int r = tls_handshake(c->ssl, &want, err, sizeof(err));

	if (r > 0) {
		c->state = S_DATA;
		if (o.shared_key && c->kind == K_FWD)
			fwd_in_helo(c);
		return 0;
	}
	if (r == 0)
		return 1;
	/* a peer gone without a word (a heartbeat, a probe) is not said */
	if (c->got_data || r == -1)
		warn("%s: %s", c->name, err);
	c->eof = 1;
	return -1;
}

/*
 * Reads (or with peek, looks at) up to cap bytes, through TLS if the
 * connection has it: bytes, 0 at the end, -1 none now, -2 failed (said).
 */
ssize_t
conn_io(struct conn *c, char *p, size_t cap, int peek)
{
	ssize_t n;
	short want;

	n = tls_recv(c->it.fd, c->ssl, p, cap, peek, &want);
	if (n >= 0)
		return n;
	if (errno == EAGAIN)
		return -1;
	/* reset before a byte came: a heartbeat closed with SO_LINGER 0 */
	if (c->state != S_CLOSING && (errno != ECONNRESET || c->got_data))
		warn("%s: %s: %s", c->name, c->ssl ? "TLS read failed" :
		    "unable to read", strerror(errno));
	return -2;
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
	if ((c->mode == M_JSON || o.skip_invalid) && c->jin.len) {
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
	c->req_start = clock_ms();
	c->req_stall = loop.stalled_ms;
	c->req_off = off;
}

/* Over the budget: idle connections give back their big buffers. */
static void
reclaim(void)
{
	struct conn *c;

	if (clock_ms() - last_reclaim < RECLAIM_MS)
		return;
	last_reclaim = clock_ms();
	for (c = conns.all; c; c = c->next) {
		conn_trim(c);
		mem_update(c);
	}
}

/* The budget is spent and c grew: its request goes, unacked. */
static void
over_budget(struct conn *c)
{
	reclaim();
	if (conns.mem <= o.mem_limit)
		return;
	counts.bad++;
	warn("%s: --memory-limit %zu reached (%zu bytes in %d connections, "
	    "%zu in this one): request dropped, not acked; closing", c->name,
	    o.mem_limit, conns.mem, conns.n, c->mem);
	if (c->kind == K_HTTP || c->kind == K_METRICS) {
		http_in_reply(c, 503, "over --memory-limit, try again later", 0,
		    NULL, 0);
		return;
	}
	if (c->kind == K_SYSLOG) {
		conn_closing(c);
		return;
	}
	counts.chunks_dropped++;
	conn_closing(c);
}

/* The client sent something (or left): read as its state says. */
void
conn_read(struct conn *c)
{
	if (c->dead)
		return;
	if (c->state == S_CLOSING)
		closing_read(c);
	else if (c->kind == K_SYSLOG)
		syslog_in_read(c);
	else if (c->kind != K_FWD)
		http_in_read(c);
	else
		fwd_in_read(c);
	if (c->dead)
		return;
	req_clock(c);
	if (mem_update(c) && c->mem > MEM_FLOOR && conns.mem > o.mem_limit)
		over_budget(c);
	conn_settle(c);
}

/*
 * A connection accepted, of kind K_FWD, K_HTTP, K_METRICS or K_SYSLOG
 * (with K_TLS: TLS first).
 */
void
conn_new(int fd, const struct sockaddr_storage *sa, int kind)
{
	struct conn *c = xcalloc(1, sizeof(*c));
	char port[16] = "";
	struct epoll_event e;
	int tls = kind & K_TLS;

	kind &= ~K_TLS;
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
	c->last = c->born = clock_ms();
	c->born_stall = loop.stalled_ms;
	c->state = S_DATA;
	c->next = conns.all;
	if (conns.all)
		conns.all->prev = c;
	conns.all = c;
	conns.n++;
	conns.nkind[kind]++;
	counts.accepted++;
	if (tls || (kind == K_FWD && ssl_ctx))
		tls_conn(c);
	else if (kind == K_FWD && o.shared_key)
		fwd_in_helo(c);
	e.events = c->events = EPOLLIN;
	e.data.ptr = c;
	if (epoll_ctl(loop.ep, EPOLL_CTL_ADD, fd, &e) < 0)
		die(EX_SYS, "epoll_ctl:");
	conn_settle(c);
}

/* Milliseconds elapsed since t, leaving out the waits on stdout since. */
static long long
since(long long t, long long stall)
{
	return clock_ms() - t - (loop.stalled_ms - stall);
}

/* The request in progress took too long: dropped, unacked. */
static void
request_late(struct conn *c)
{
	if (c->kind == K_SYSLOG) {
		syslog_in_late(c);
		return;
	}
	counts.bad++;
	warn("%s: request not whole %lld ms after its first byte "
	    "(--request-timeout): dropped, not acked; closing", c->name,
	    o.request_ms);
	if (c->kind != K_FWD) {
		http_in_reply(c, 408, "request not whole within "
		    "--request-timeout", 0, NULL, 0);
		return;
	}
	counts.chunks_dropped++;
	conn_closing(c);
}

/* Silent for --idle-timeout: said why, dropped. */
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
void
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
	} else if (o.idle_ms && idle > o.idle_ms &&
	    (!o.e2e || c->aoff == c->acks.len)) {
		idle_close(c, idle);    /* not while it waits for its mark */
	} else if (idle > TRIM_MS) {
		conn_trim(c);
		mem_update(c);
	}
}

/*
 * The TLS context of --cert, --key and --ca-file, if --cert is set: a
 * file that does not load is a usage error, as in the other programs.
 */
void
conn_tls_init(void)
{
	char err[512];

	if (!o.tls.cert)
		return;
	if (!(ssl_ctx = tls_server_ctx(&o.tls, err, sizeof(err))))
		die(EX_USAGE, "%s", err);
}

void
conn_tls_end(void)
{
	if (ssl_ctx)
		SSL_CTX_free(ssl_ctx);
	ssl_ctx = NULL;
}

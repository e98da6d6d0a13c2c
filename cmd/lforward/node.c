/* node - lforward's servers: connection, TLS, handshake, sending, heartbeats */
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <fcntl.h>
#include <netdb.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <openssl/ssl.h>

#include "err.h"
#include "fwd.h"
#include "net.h"
#include "tls.h"

#include "lforward.h"

struct servers srv;
static SSL_CTX *ssl_ctx;
static char self_host[256];

/* Whether requests may go to n now. */
int
node_usable(const struct node *n)
{
	if (!n->available)
		return 0;
	return o.hb != HB_NONE && !n->secondary ? 1 : clock_ms() >= n->retry_at;
}

/* The shared key of n's handshake (,shared_key= or --shared-key), or NULL. */
static const char *
node_key(const struct node *n)
{
	return n->shared_key ? n->shared_key : o.shared_key;
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

void
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
	n->deadline = clock_ms() + 2000;
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
	n->retry_at = clock_ms() + retry_wait(&o.retry, n->fails);
	if (o.hb != HB_NONE && !n->secondary)
		detach(n, "request failed");
	if (!n->nflight && n->q.head)   /* the request it was about to send */
		n->flight[n->nflight++] = chunk_pop(&n->q);
	chunk_requeue(&n->q);   /* its queue goes first, in order */
	for (i = n->nflight - 1; i >= 0; i--)
		chunk_failed(n->flight[i]);
	n->nflight = 0;
}

/* A client TLS session on fd that checks the server's name; NULL failed. */
static SSL *
tls_new(const struct node *n, int fd)
{
	const char *name = n->tls_name[0] ? n->tls_name :
	    o.tlsopt.verify_name ? o.tlsopt.verify_name : n->host;

	return tls_client_new(ssl_ctx, fd, name, o.tlsopt.insecure);
}

static int
tls_start(struct node *n)
{
	if (!(n->ssl = tls_new(n, n->fd)))
		return -1;
	n->state = N_TLS;
	return 0;
}

/* A stream connection to a unix socket, non-blocking; -1 and err failed. */
static int
unix_connect(const char *path, int *pending, char *err, size_t errcap)
{
	struct sockaddr_un sun;
	int fd;

	*pending = 0;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errcap, "%s: path too long", path);
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) < 0 ||
	    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) {
		snprintf(err, errcap, "%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0)
		return fd;
	if (errno == EINPROGRESS) {
		*pending = 1;
		return fd;
	}
	/* EAGAIN: the server's backlog is full */
	snprintf(err, errcap, "%s: %s", path, strerror(errno));
	close(fd);
	return -1;
}

/* --- the server's name ----------------------------------------------------
 *
 * Every connection, data or heartbeat, looks the name up again (Fluentd's
 * expire_dns_cache 0), on glibc's resolver thread: the loop never waits
 * for it.  A data connection waits for the answer, for --connect-timeout
 * at most; a heartbeat goes to the last answer's address meanwhile (or
 * is skipped before the first).  One lookup at a time per server.
 */

/* Starts a lookup of n's name, unless one is under way. */
static void
lookup_start(struct node *n)
{
	if (n->unix_path || n->lookup)
		return;
	n->lookup = net_resolve_start(n->host, n->port, SOCK_STREAM,
	    n->lookup_err, sizeof(n->lookup_err));
	n->lookup_failed = !n->lookup;
}

/* Takes the answer of a lookup that has ended. */
static void
lookup_poll(struct node *n)
{
	struct addrinfo *res;
	int r;

	if (!n->lookup || (r = net_resolve_poll(n->lookup, &res, n->lookup_err,
	    sizeof(n->lookup_err))) == 0)
		return;
	net_resolve_free(n->lookup);
	n->lookup = NULL;
	n->lookup_failed = r < 0;
	if (r < 0)
		return;
	if (n->addrs)
		freeaddrinfo(n->addrs);
	n->addrs = res;
}

/*
 * A connection of type to one of the addresses of the last answer: the
 * first, or with --dns-round-robin the next in turn (advance: this one
 * is the data connection's, it moves the turn on).
 */
static int
addr_connect(struct node *n, int type, int advance, int *pending, char *err,
    size_t errcap)
{
	char addr[NET_ADDR_MAX];
	int first = 0;

	if (o.dns_rr) {
		first = (int)(n->rr % (unsigned)net_addr_count(n->addrs));
		n->rr += advance;
	}
	return net_connect_ai(n->addrs, first, type, pending, addr,
	    sizeof(addr), err, errcap);
}

/* The socket is there, its connect under way or done. */
static void
connecting(struct node *n)
{
	n->deadline = clock_ms() + o.connect_ms;
	n->state = N_CONNECTING;
	n->rb.len = 0;
}

/* The name's lookup ended: a connection to an address it gave. */
static void
resolved(struct node *n)
{
	char err[512];
	int pend;

	if (n->lookup_failed) {
		node_fail(n, "unable to connect: %s", n->lookup_err);
		return;
	}
	if ((n->fd = addr_connect(n, SOCK_STREAM, 1, &pend, err,
	    sizeof(err))) < 0) {
		node_fail(n, "unable to connect to %s:%s: %s", n->host, n->port,
		    err);
		return;
	}
	connecting(n);
}

static void
node_connect(struct node *n)
{
	char err[512];
	int pend;

	if (!n->unix_path) {
		lookup_start(n);
		lookup_poll(n);         /* a numeric address is done at once */
		n->state = N_RESOLVING;
		n->deadline = clock_ms() + o.connect_ms;
		if (!n->lookup)
			resolved(n);
		return;
	}
	if ((n->fd = unix_connect(n->host, &pend, err, sizeof(err))) < 0) {
		node_fail(n, "unable to connect: %s", err);
		return;
	}
	connecting(n);
}

/* Frees what the name's lookups hold (at the end). */
void
node_free(struct node *n)
{
	net_resolve_free(n->lookup);
	n->lookup = NULL;
	if (n->addrs)
		freeaddrinfo(n->addrs);
	n->addrs = NULL;
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
	n->state = node_key(n) ? N_HELO : N_READY;
	n->deadline = clock_ms() + o.connect_ms;
}

/* Sends through TLS or not: bytes, 0 would block, -1 error (errno). */
static ssize_t
io_send(struct node *n, const char *p, size_t len)
{
	ssize_t r;
	short want;

	if ((r = tls_send(n->fd, n->ssl, p, len, &want)) < 0 &&
	    errno == EAGAIN)
		return 0;
	return r;
}

static void
tls_step(struct node *n)
{
	char err[512];
	short want;
	int r = tls_handshake(n->ssl, &want, err, sizeof(err));

	if (r > 0)
		connected(n);
	else if (r < 0)
		node_fail(n, "%s", err);
}

/* Reads replies into n->rb; 0 ok, 1 the server closed, -1 failed. */
static int
read_replies(struct node *n)
{
	ssize_t r;

	short want;

	for (;;) {
		buf_reserve(&n->rb, REPLY_MAX);
		r = tls_recv(n->fd, n->ssl, n->rb.p + n->rb.len,
		    n->rb.cap - n->rb.len, 0, &want);
		if (r < 0 && errno == EAGAIN)
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

/* Puts the PING that answers HELO h, for n's key and user, into out. */
static void
ping_put(const struct node *n, const struct fwd_helo *h, struct buf *out)
{
	struct fwd_ping pg;
	const char *k = node_key(n);
	struct fwd_str key = { k, strlen(k) };
	struct fwd_str user = { n->username ? n->username : o.username ?
	    o.username : "", 0 };
	struct fwd_str pass = { n->password ? n->password : o.password ?
	    o.password : "", 0 };
	char kd[FWD_DIGEST_LEN + 1], pd[FWD_DIGEST_LEN + 1];

	user.len = strlen(user.p);
	pass.len = strlen(pass.p);
	pg.host.p = self_host;
	pg.host.len = strlen(self_host);
	pg.salt.p = n->salt;
	pg.salt.len = FWD_SALT_LEN;
	fwd_digest(kd, &pg.salt, &pg.host, &h->nonce, &key);
	pg.digest.p = kd;
	pg.digest.len = FWD_DIGEST_LEN;
	pg.user = user;
	pg.pass.p = "";
	pg.pass.len = 0;
	if (h->auth.len) {
		fwd_digest(pd, &h->auth, &user, &pass, NULL);
		pg.pass.p = pd;
		pg.pass.len = FWD_DIGEST_LEN;
	}
	out->len = 0;
	fwd_ping_put(out, &pg);
}

static void
got_helo(struct node *n)
{
	struct fwd_helo h;
	size_t used;
	int r = fwd_helo_parse(n->rb.p, n->rb.len, &used, &h);

	if (r == FWD_SHORT)
		return;
	if (r != FWD_OK) {
		node_fail(n, "expected HELO, the server sent something else");
		return;
	}
	memcpy(n->nonce, h.nonce.p, h.nonce.len < FWD_NONCE_LEN ?
	    h.nonce.len : FWD_NONCE_LEN);
	ping_put(n, &h, &n->hs);
	consume(n, used);
	n->state = N_PONG;
}

static void
got_pong(struct node *n)
{
	struct fwd_pong po;
	const char *k = node_key(n);
	struct fwd_str key = { k, strlen(k) };
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
		metrics_fwd_acked(n->flight[i]);
		chunk_delivered(n, n->flight[i]);
		memmove(n->flight + i, n->flight + i + 1,
		    (n->nflight - i - 1) * sizeof(n->flight[0]));
		n->nflight--;
		consume(n, used);
		n->deadline = clock_ms() + o.ack_ms;
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
		n->deadline = clock_ms() + o.send_ms;
	}
	n->writing = 0;
	n->woff = 0;
	if (!o.ack) {
		n->nflight--;
		chunk_delivered(n, c);
	} else {
		n->deadline = clock_ms() + o.ack_ms;
		metrics_fwd_sent(c);
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
	n->flight[n->nflight++] = chunk_pop(&n->q);
	n->writing = 1;
	n->woff = 0;
	n->deadline = clock_ms() + o.send_ms;
	node_write(n);
}

/* What to poll the connection for. */
short
node_poll_events(const struct node *n)
{
	short ev = POLLIN;

	if (n->state == N_CONNECTING || n->hs.len || n->writing)
		ev |= POLLOUT;
	return ev;
}

/* Moves the node's state machine after I/O readiness. */
void
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
void
node_timers(struct node *n)
{
	long long now = clock_ms();

	if (n->state == N_RESOLVING) {
		if (!n->lookup)
			resolved(n);
		else if (now > n->deadline)
			node_fail(n, "unable to connect: timed out "
			    "resolving %s (--connect-timeout)", n->host);
		return;
	}
	if (n->fd < 0) {
		if (n->q.head && node_usable(n))
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
	    (!o.keepalive || intake.eof))
		node_linger(n);
}

/* --- heartbeats ------------------------------------------------------- */

/*
 * A transport heartbeat is a connection.  With --tls it completes the
 * TLS handshake, then closes cleanly (close_notify, then the server's
 * end), as a bare connect would make TLS servers log a failed handshake.
 * With a shared key it then also answers the server's HELO with the PING
 * the data connection would send and is counted when the PONG arrives,
 * as servers log a connection closed before PING as a failed handshake.
 */
void
node_hb_close(struct node *n)
{
	if (n->hb_ssl) {
		SSL_free(n->hb_ssl);
		n->hb_ssl = NULL;
	}
	if (n->hb_fd >= 0)
		close(n->hb_fd);
	n->hb_fd = -1;
	n->hb_pending = 0;
	n->hb_linger = 0;
	n->hb_hs = 0;
	buf_free(&n->hb_rb);
	buf_free(&n->hb_wb);
}

/* The heartbeat is answered: counted, then closed cleanly. */
static void
hb_done(struct node *n)
{
	heartbeat(n);
	n->hb_hs = 0;
	if (n->hb_ssl)
		SSL_shutdown(n->hb_ssl);        /* close_notify */
	shutdown(n->hb_fd, SHUT_WR);
	n->hb_linger = 1;
}

/* Sends what is left of the PING; 0 all sent or waiting, -1 failed. */
static int
hb_flush(struct node *n)
{
	ssize_t r;

	while (n->hb_wb.len) {
		r = tls_send(n->hb_fd, n->hb_ssl, n->hb_wb.p, n->hb_wb.len,
		    &n->hb_want);
		if (r < 0)
			return errno == EAGAIN ? 0 : -1;
		memmove(n->hb_wb.p, n->hb_wb.p + r, n->hb_wb.len - r);
		n->hb_wb.len -= r;
	}
	return 0;
}

/* Reads the server's handshake; 0 ok or waiting, 1 its end, -1 failed. */
static int
hb_read(struct node *n)
{
	ssize_t r;

	for (;;) {
		if (n->hb_rb.len >= REPLY_MAX)
			return -1;      /* no HELO or PONG is this long */
		buf_reserve(&n->hb_rb, REPLY_MAX - n->hb_rb.len);
		r = tls_recv(n->hb_fd, n->hb_ssl, n->hb_rb.p + n->hb_rb.len,
		    REPLY_MAX - n->hb_rb.len, 0, &n->hb_want);
		if (r < 0 && errno == EAGAIN)
			return 0;
		if (r <= 0)
			return r == 0 ? 1 : -1;
		n->hb_rb.len += r;
	}
}

/* The heartbeat's Forward handshake went on: HELO, PING, then PONG. */
static void
hb_hs_step(struct node *n)
{
	struct fwd_helo h;
	struct fwd_pong po;
	size_t used;
	int r, eof;

	n->hb_want = POLLIN;
	if (hb_flush(n) < 0 || (eof = hb_read(n)) < 0) {
		node_hb_close(n);
		return;
	}
	if (n->hb_hs == HB_HELO) {
		r = fwd_helo_parse(n->hb_rb.p, n->hb_rb.len, &used, &h);
		if (r != FWD_OK) {
			if (r != FWD_SHORT || eof)
				node_hb_close(n);
			return;
		}
		ping_put(n, &h, &n->hb_wb);
		memmove(n->hb_rb.p, n->hb_rb.p + used, n->hb_rb.len - used);
		n->hb_rb.len -= used;
		n->hb_hs = HB_PONG;
		if (hb_flush(n) < 0) {
			node_hb_close(n);
			return;
		}
	}
	if (n->hb_wb.len && !eof)
		return;
	r = fwd_pong_parse(n->hb_rb.p, n->hb_rb.len, &used, &po);
	if (r == FWD_OK)
		hb_done(n);     /* answered, whether the key matched or not */
	else if (r != FWD_SHORT || eof)
		node_hb_close(n);
}

/* The heartbeat's connection (and TLS) is up: done, or the handshake. */
static void
hb_ready(struct node *n)
{
	if (!node_key(n)) {
		if (n->hb_ssl) {
			hb_done(n);
		} else {
			heartbeat(n);
			node_hb_close(n);
		}
		return;
	}
	n->hb_hs = HB_HELO;
	hb_hs_step(n);
}

/* The heartbeat's TLS handshake went on. */
static void
hb_tls_step(struct node *n)
{
	char err[512];
	short want;
	int r = tls_handshake(n->hb_ssl, &want, err, sizeof(err));

	if (r > 0)
		hb_ready(n);
	else if (r < 0)
		node_hb_close(n);
}

/* The heartbeat's connection is up. */
static void
hb_connected(struct node *n)
{
	n->hb_pending = 0;
	if (!o.tls) {
		hb_ready(n);
		return;
	}
	if (!(n->hb_ssl = tls_new(n, n->hb_fd))) {
		node_hb_close(n);
		return;
	}
	hb_tls_step(n);
}

/* Reads what is left (TLS tickets, close_notify) until the server's end. */
static void
hb_linger_io(struct node *n)
{
	char junk[4096];
	ssize_t r;

	while ((r = recv(n->hb_fd, junk, sizeof(junk), MSG_DONTWAIT)) > 0)
		;
	if (r == 0 || (errno != EAGAIN && errno != EINTR))
		node_hb_close(n);
}

static void
hb_send(struct node *n)
{
	char err[256];
	int pend, type = o.hb == HB_UDP ? SOCK_DGRAM : SOCK_STREAM;

	node_hb_close(n);       /* the last one got no answer, or lingers */
	if (n->unix_path) {
		n->hb_fd = unix_connect(n->host, &pend, err, sizeof(err));
	} else {
		lookup_start(n);        /* the next one has a fresh answer */
		lookup_poll(n);
		if (!n->addrs)
			return;         /* none yet: skipped */
		n->hb_fd = addr_connect(n, type, 0, &pend, err, sizeof(err));
	}
	if (n->hb_fd < 0)
		return;
	n->hb_sent = clock_ms();
	if (o.hb == HB_UDP) {
		if (send(n->hb_fd, "", 1, 0) < 0)
			node_hb_close(n);
		return;
	}
	n->hb_pending = pend;
	if (!pend)
		hb_connected(n);
}

/* What to poll the heartbeat's socket for. */
short
node_hb_events(const struct node *n)
{
	if (n->hb_pending)
		return POLLOUT;
	if (n->hb_hs)
		return n->hb_wb.len ? POLLOUT | n->hb_want : n->hb_want;
	if (n->hb_ssl && !n->hb_linger && SSL_want_write(n->hb_ssl))
		return POLLOUT;
	return POLLIN;
}

void
node_hb_io(struct node *n, short rev)
{
	char b[64];

	if (o.hb == HB_UDP) {
		if (recv(n->hb_fd, b, sizeof(b), 0) >= 0)
			heartbeat(n);
		node_hb_close(n);
	} else if (n->hb_linger) {
		hb_linger_io(n);
	} else if (n->hb_hs) {
		hb_hs_step(n);
	} else if (n->hb_ssl) {
		hb_tls_step(n);
	} else if (rev & (POLLOUT | POLLERR | POLLHUP) &&
	    net_connect_done(n->hb_fd) == 0) {
		hb_connected(n);
	} else {
		node_hb_close(n);
	}
}

/* Sends a heartbeat when one is due and runs the failure detector. */
void
node_watch(struct node *n, long long now)
{
	lookup_poll(n);
	if (o.hb != HB_NONE && !n->secondary && now >= n->hb_next) {
		hb_send(n);
		n->hb_next = now + o.hb_ms;
	}
	tick(n);
}

/* --- setup --------------------------------------------------------------- */

/* The client context: a file that does not load is a usage error. */
static void
setup_tls(void)
{
	char err[512];

	if (!o.tls)
		return;
	if (!(ssl_ctx = tls_client_ctx(&o.tlsopt, err, sizeof(err))))
		die(EX_USAGE, "%s", err);
}

/* The TLS context and the host name sent in PING. */
void
node_init(void)
{
	setup_tls();
	if (o.self_host)
		snprintf(self_host, sizeof(self_host), "%s", o.self_host);
	else if (gethostname(self_host, sizeof(self_host) - 1) < 0)
		snprintf(self_host, sizeof(self_host), "localhost");
}

void
node_end(void)
{
	if (ssl_ctx)
		SSL_CTX_free(ssl_ctx);
}

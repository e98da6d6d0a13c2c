/* conn - lsyslog's connection: connect, TLS, writing the queue, retries */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "err.h"
#include "net.h"
#include "tls.h"

#include "lsyslog.h"

enum { C_DOWN, C_CONNECTING, C_TLS, C_UP, C_CLOSING };

struct queue q;

static struct {
	int state, fd;
	SSL *ssl;
	short want;             /* TLS: what a write waits for */
	long long deadline;     /* of connecting, a stalled write, closing */
	long long retry_at;     /* down after a failure: connect again then */
	int fails;              /* failures since a message was last written */
	long long first_fail;
} c = { .fd = -1 };
static SSL_CTX *ctx;

/* --- the queue ------------------------------------------------------- */

/* Empties the queue; the memory of an outage's backlog goes back. */
static void
queue_reset(void)
{
	q.b.len = q.head = q.wpos = 0;
	q.first = q.n = 0;
	if (q.b.cap > 4 * READ_AHEAD)
		buf_free(&q.b);
	if (q.cap > 65536) {
		free(q.end);
		q.end = NULL;
		q.cap = 0;
	}
}

/* The message just appended to q.b ends there. */
void
queue_push(void)
{
	if (q.n == q.cap && q.first) {
		memmove(q.end, q.end + q.first, (q.n - q.first) *
		    sizeof(*q.end));
		q.n -= q.first;
		q.first = 0;
	}
	if (q.n == q.cap) {
		q.cap = q.cap ? q.cap * 2 : 1024;
		q.end = xrealloc(q.end, q.cap * sizeof(*q.end));
	}
	q.end[q.n++] = q.b.len;
	q.added++;
}

/* Bytes and messages not yet written. */
size_t
queue_held(void)
{
	return q.b.len - q.head;
}

size_t
queue_count(void)
{
	return q.n - q.first;
}

/* Moves the unwritten messages to the start of the buffer. */
static void
queue_compact(void)
{
	size_t i, h = q.head;

	memmove(q.b.p, q.b.p + h, q.b.len - h);
	q.b.len -= h;
	for (i = q.first; i < q.n; i++)
		q.end[i] -= h;
	q.head = 0;
}

/* k more bytes were written: the messages they complete are delivered. */
static void
written(size_t k)
{
	size_t upto;

	q.wpos += k;
	cnt.bytes += k;
	upto = q.head + q.wpos;
	while (q.first < q.n && q.end[q.first] <= upto) {
		q.head = q.end[q.first++];
		cnt.done++;
		if (o.proto != P_UDP) {
			c.fails = 0;
			c.first_fail = 0;
		}
	}
	q.wpos = upto - q.head;
	if (q.first == q.n)
		queue_reset();
	else if (q.head >= READ_AHEAD && q.head * 2 >= q.b.len)
		queue_compact();
}

/* Gives up every message held: counted, said, and no mark goes back. */
static void
give_up(const char *why)
{
	uint64_t n = queue_count();

	if (n) {
		warn("giving up %llu events: %s", (unsigned long long)n, why);
		cnt.lost += n;
		marks_cancel();
	}
	queue_reset();
	c.fails = 0;
	c.first_fail = 0;
}

/* --- the connection -------------------------------------------------- */

static void
close_now(void)
{
	char junk[4096];

	if (c.ssl) {
		SSL_free(c.ssl);
		c.ssl = NULL;
	}
	if (c.fd >= 0) {
		/* unread input would make close send a RST */
		while (recv(c.fd, junk, sizeof(junk), MSG_DONTWAIT) > 0)
			;
		close(c.fd);
	}
	c.fd = -1;
	c.state = C_DOWN;
	c.deadline = 0;
	c.want = 0;
	q.wpos = 0;     /* a message cut short goes again whole */
}


/*
 * The connection failed: said, closed, and counted; the messages held are
 * tried again after the backoff, or given up once the retries run out.
 */
static void
fail(const char *fmt, ...)
{
	long long now = clock_ms();
	const char *over;
	char m[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(m, sizeof(m), fmt, ap);
	va_end(ap);
	warn("%s: %s", o.name, m);
	close_now();
	cnt.failures++;
	c.fails++;
	if (!c.first_fail)
		c.first_fail = now;
	if ((over = retry_over(&o.retry, c.fails, c.first_fail, now))) {
		snprintf(m, sizeof(m), "retries exhausted (%s)", over);
		give_up(m);
		return;
	}
	c.retry_at = now + retry_wait(&o.retry, c.fails);
}

static void
up(void)
{
	c.state = C_UP;
	c.deadline = 0;
	c.want = 0;
	cnt.connects++;
}

static void
tls_step(void)
{
	char err[512];
	int r = tls_handshake(c.ssl, &c.want, err, sizeof(err));

	if (r < 0)
		fail("%s", err);
	else if (r > 0)
		up();
}

/* TCP is connected: TLS starts, or the connection is up. */
static void
connected(void)
{
	if (o.proto != P_TLS) {
		up();
		return;
	}
	c.ssl = tls_client_new(ctx, c.fd, o.tlsopt.verify_name ?
	    o.tlsopt.verify_name : o.host, o.tlsopt.insecure);
	if (!c.ssl) {
		fail("unable to start TLS");
		return;
	}
	c.state = C_TLS;
	tls_step();
}

static void
start_connect(void)
{
	char err[512];
	int pend;

	c.fd = net_connect(o.host, o.port, o.proto == P_UDP ? SOCK_DGRAM :
	    SOCK_STREAM, &pend, err, sizeof(err));
	if (c.fd < 0) {
		fail("unable to connect: %s", err);
		return;
	}
	c.state = C_CONNECTING;
	c.deadline = clock_ms() + o.connect_ms;
	if (!pend)
		connected();
}

/*
 * Closes after the server has seen the end: close_notify and FIN, then
 * its EOF (or LINGER_MS).  Closing at once could reset the connection and
 * lose what the server had not read yet.
 */
static void
linger(void)
{
	if (o.proto == P_UDP) {
		close_now();
		return;
	}
	if (c.ssl)
		SSL_shutdown(c.ssl);
	shutdown(c.fd, SHUT_WR);
	c.state = C_CLOSING;
	c.deadline = clock_ms() + LINGER_MS;
}

static void
linger_read(void)
{
	char junk[4096];
	ssize_t r;
	int k;

	for (k = 0; k < 64; k++)
		if ((r = recv(c.fd, junk, sizeof(junk), MSG_DONTWAIT)) <= 0)
			break;
	if (k < 64 && (r == 0 || (errno != EAGAIN && errno != EINTR)))
		close_now();
}

/*
 * The server closed the connection, or it broke: a message cut short by
 * it is a failure; otherwise it is closed and made again when there is
 * something to send.
 */
static void
closed(const char *why)
{
	if (q.wpos > 0)
		fail("%s", why);
	else
		close_now();
}

/*
 * Reads what the server sent (nothing is expected; TLS has its records)
 * to see whether it closed: 1 open, 0 closed.
 */
static int
read_side(void)
{
	char junk[4096];
	ssize_t r = -2;
	short want;
	int k;

	for (k = 0; k < 64; k++) {
		r = c.ssl ? tls_recv(c.fd, c.ssl, junk, sizeof(junk), 0,
		    &want) : recv(c.fd, junk, sizeof(junk), MSG_DONTWAIT);
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			r = -2;
		if (r <= 0)
			break;
	}
	if (r > 0 || r == -2)
		return 1;
	if (r == 0)
		closed("connection closed by the server");
	else
		closed(strerror(errno));
	return 0;
}

/* Writes the queue to a stream until it would block or is empty. */
static void
write_stream(void)
{
	const char *p;
	size_t len;
	ssize_t r;
	short want;

	while (queue_count()) {
		p = q.b.p + q.head + q.wpos;
		len = q.b.len - q.head - q.wpos;
		if ((r = tls_send(c.fd, c.ssl, p, len, &want)) < 0 &&
		    errno == EAGAIN) {
			if (c.ssl)
				c.want = want;
			r = 0;
		}
		if (r < 0) {
			fail("unable to send: %s", strerror(errno));
			return;
		}
		if (r == 0) {
			if (!c.deadline)
				c.deadline = clock_ms() + o.send_ms;
			return;
		}
		c.want = 0;
		written((size_t)r);
		c.deadline = queue_count() ? clock_ms() + o.send_ms : 0;
	}
}

/* The first message could never go as a datagram: given up. */
static void
drop_first(const char *why)
{
	q.head = q.end[q.first++];
	q.wpos = 0;
	cnt.lost++;
	marks_cancel();
	warn("%s: giving up a message: %s", o.name, why);
	if (q.first == q.n)
		queue_reset();
}

/*
 * Sends the queue, a datagram a message, until it would block.  A server
 * that is not there shows as "refused" on a later send (the kernel's port
 * unreachable), so a datagram sent proves nothing: the failures in a row
 * end when all that was held has been sent.
 */
static void
write_dgrams(void)
{
	size_t len;
	ssize_t r;

	while (queue_count()) {
		len = q.end[q.first] - q.head;
		r = send(c.fd, q.b.p + q.head, len, MSG_NOSIGNAL);
		if (r < 0 && (errno == EAGAIN || errno == EINTR ||
		    errno == ENOBUFS)) {
			if (!c.deadline)
				c.deadline = clock_ms() + o.send_ms;
			return;
		}
		if (r < 0 && errno == EMSGSIZE) {
			drop_first(strerror(errno));
			continue;
		}
		if (r < 0) {
			fail("unable to send: %s", strerror(errno));
			return;
		}
		written(len);
		c.deadline = 0;
	}
	c.fails = 0;
	c.first_fail = 0;
}

static void
write_queue(void)
{
	if (o.proto == P_UDP)
		write_dgrams();
	else
		write_stream();
}

/* An error noted on the datagram socket (port unreachable): a failure. */
static void
dgram_error(void)
{
	int e = 0;
	socklen_t len = sizeof(e);

	if (getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &e, &len) < 0 || !e)
		return;
	fail("unable to send: %s", strerror(e));
}

/* --- the loop's side --------------------------------------------------- */

/* Whether a connection is open or being made. */
int
conn_up(void)
{
	return c.state != C_DOWN;
}

/* Whether the connection is closed (all said and done at the end). */
int
conn_idle(void)
{
	return c.state == C_DOWN;
}

/* What to poll the connection's fd (*fd, -1 for none) for. */
short
conn_poll(int *fd)
{
	short ev = 0;

	*fd = c.fd;
	switch (c.state) {
	case C_CONNECTING:
		return POLLOUT;
	case C_TLS:
		return c.want ? c.want : POLLIN;
	case C_CLOSING:
		return POLLIN;
	case C_UP:
		break;
	default:
		*fd = -1;
		return 0;
	}
	if (o.proto != P_UDP)
		ev = POLLIN;
	if (queue_count() && c.want != POLLIN)
		ev |= POLLOUT;
	if (c.want == POLLIN)
		ev |= POLLIN;
	return ev;
}

/* Moves the connection on after poll said it is ready. */
void
conn_io(short rev)
{
	switch (c.state) {
	case C_CONNECTING:
		if (!(rev & (POLLOUT | POLLERR | POLLHUP)))
			return;
		if (net_connect_done(c.fd) < 0)
			fail("unable to connect: %s", strerror(errno));
		else
			connected();
		return;
	case C_TLS:
		tls_step();
		return;
	case C_CLOSING:
		linger_read();
		return;
	case C_UP:
		break;
	default:
		return;
	}
	if (o.proto == P_UDP) {
		if (rev & POLLERR)
			dgram_error();
		return;
	}
	if (rev & (POLLIN | POLLHUP | POLLERR))
		read_side();
}

/*
 * Timers and work: connects when messages wait (after the backoff),
 * writes them, ends stalled steps, and closes once eof says no more
 * will come.
 */
void
conn_timers(int eof)
{
	long long now = clock_ms();

	if (c.state == C_DOWN && queue_count() && now >= c.retry_at)
		start_connect();
	if ((c.state == C_CONNECTING || c.state == C_TLS) && now > c.deadline)
		fail("timed out %s (--connect-timeout)", c.state == C_TLS ?
		    "in the TLS handshake" : "connecting");
	if (c.state == C_CLOSING && now > c.deadline)
		close_now();
	if (c.state != C_UP)
		return;
	/* records TLS read already: poll does not see them */
	if (c.ssl && SSL_pending(c.ssl) && !read_side())
		return;
	if (queue_count() && c.deadline && now > c.deadline) {
		fail("timed out sending (--send-timeout)");
		return;
	}
	if (queue_count())
		write_queue();
	if (c.state == C_UP && !queue_count() && eof)
		linger();
}

/* How long the loop may sleep before conn_timers has work: 0 to 100 ms. */
int
conn_wait_ms(void)
{
	long long at = 0, left;

	if (c.ssl && SSL_pending(c.ssl))
		return 0;
	if (c.state == C_DOWN && queue_count())
		at = c.retry_at;
	else if (c.deadline)
		at = c.deadline;
	if (!at)
		return 100;
	left = at - clock_ms() + 1;
	return left < 0 ? 0 : left > 100 ? 100 : (int)left;
}

/* At exit: what is held is given up (said), the connection closed. */
void
conn_abandon(const char *why)
{
	give_up(why);
	close_now();
}

void
conn_init(void)
{
	char err[512];

	if (o.proto == P_TLS &&
	    !(ctx = tls_client_ctx(&o.tlsopt, err, sizeof(err))))
		die(EX_USAGE, "%s", err);
}

void
conn_end(void)
{
	close_now();
	if (ctx)
		SSL_CTX_free(ctx);
	buf_free(&q.b);
	free(q.end);
}

/* e2e - lrecv --end-to-end: marks after the events, replies held for them */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "mark.h"
#include "opt.h"

#include "lrecv.h"

/*
 * With --end-to-end lrecv is a mark producer (lkit(7)): a mark follows in
 * its output the events of the replies waiting (a Forward ack, an HTTP
 * answer), and those replies go only once a mark at or after them came
 * back from the sink at the end of the pipeline.  One mark serves every
 * reply queued before it; without replies waiting, a mark still follows
 * new events now and then.  A reply whose mark does not come back within
 * --end-to-end-timeout is given up: the Forward connection is closed
 * without its ack, an HTTP client gets 503.
 */
#define MARK_OUT 64             /* marks outstanding at most */
#define MARK_MS 100             /* replies wait: marks this far apart
				 * while one is out */
#define MARK_AGAIN_MS 1000      /* a reply waits this long after its mark:
				 * another, should a return have been lost */
#define MARK_IDLE_MS 1000       /* events, no reply waiting: a mark at
				 * most this often */
#define LOG_EVERY_MS 10000      /* replies given up: one line per */
#define TICK_MS 20              /* the timers looked at this often */

static struct mark_src *msrc;
/*
 * The output offset after each mark out, by sequence % MARK_OUT: a slot
 * is made again only once its mark or a later one came back (and was
 * taken by e2e_recv), as at most MARK_OUT are out.
 */
static uint64_t ends[MARK_OUT];
static uint64_t last_end;       /* ... after the last mark made */
static uint64_t delivered;      /* ... after the last one returned */
static uint64_t seen;           /* the sequence of that one */
static long long mark_ms;       /* when the last mark was made */
static long long tick_ms;
static struct {
	long long at;           /* when it was last said */
	uint64_t n;             /* replies given up since */
} gave_up;

#define NOT_BACK "is the end of the pipeline an lkit sink (lout, lforward, " \
	"lbuffer)? acks and HTTP answers wait for the marks"

void
e2e_init(void)
{
	char err[512];

	if (!o.e2e)
		return;
	if (!(msrc = mark_src_new(MARK_OUT, err, sizeof(err))))
		die(EX_SYS, "--end-to-end: %s", err);
	atexit(e2e_free);       /* the socket goes however lrecv ends */
	mark_ms = clock_ms() - MARK_IDLE_MS;
}

void
e2e_free(void)
{
	mark_src_free(msrc);
	msrc = NULL;
}

int
e2e_fd(void)
{
	return msrc ? mark_src_fd(msrc) : -1;
}

/* Takes the marks that came back: the output before them is delivered. */
void
e2e_recv(void)
{
	uint64_t done;

	if (!msrc)
		return;
	done = mark_src_recv(msrc);
	if (done > seen) {
		seen = done;
		delivered = ends[done % MARK_OUT];
	}
}

/* The output offset the replies waiting need delivered (0: none wait). */
static uint64_t
need(void)
{
	const struct conn *c;
	uint64_t n = 0;

	for (c = conns.ackq; c; c = c->anext)
		if (c->want > n)
			n = c->want;
	return n;
}

int
e2e_ready(const struct ackhead *h)
{
	return h->pos <= delivered;
}

/* Is a mark to follow the output now? */
static int
mark_due(long long now)
{
	uint64_t n, end = out.bytes + out.b.len;

	if (!msrc || !mark_src_can_put(msrc))
		return 0;
	if (conns.ackq && (n = need()) > delivered) {
		if (n <= last_end)
			return now - mark_ms >= MARK_AGAIN_MS;
		return mark_src_done(msrc) >= mark_src_last(msrc) ||
		    now - mark_ms >= MARK_MS;
	}
	return end > last_end && now - mark_ms >= MARK_IDLE_MS;
}

/* Before stdout is written: a mark after the events, if one is due. */
void
e2e_mark(void)
{
	long long now;

	if (!msrc)
		return;
	now = clock_ms();
	if (!mark_due(now))
		return;
	mark_src_put(msrc, &out.b);
	last_end = out.bytes + out.b.len;
	ends[mark_src_last(msrc) % MARK_OUT] = last_end;
	mark_ms = now;
}

/* Counts the R_E2E replies c has waiting. */
static unsigned
held(const struct conn *c)
{
	struct ackhead h;
	size_t off;
	unsigned n = 0;

	for (off = c->aoff; off < c->acks.len; off += sizeof(h) + h.len) {
		memcpy(&h, c->acks.p + off, sizeof(h));
		n += !!(h.flags & R_E2E);
	}
	return n;
}

/*
 * The first reply c has waiting is past its time: every one goes, and
 * so does the connection, which tells the client at once to send again
 * (an HTTP client hears 503 first).  Said once per LOG_EVERY_MS.
 */
static void
give_up(struct conn *c, long long now)
{
	unsigned n = held(c);
	char t[32];

	counts.e2e_expired += n;
	gave_up.n += n;
	if (!gave_up.at || now - gave_up.at >= LOG_EVERY_MS) {
		warn("%s: %s: the events of %u request%s were not confirmed "
		    "delivered within %s (--end-to-end-timeout); connection "
		    "closed, so that the client sends them again (%llu given "
		    "up since the last such message)", c->name, c->kind ==
		    K_FWD ? "not acked" : "answered 503", n, n == 1 ? "" : "s",
		    opt_duration_str(o.e2e_ms, t, sizeof(t)),
		    (unsigned long long)gave_up.n);
		gave_up.at = now;
		gave_up.n = 0;
	}
	conn_acks_clear(c);
	if (c->kind == K_HTTP)
		http_in_reply(c, 503, "delivery not confirmed within "
		    "--end-to-end-timeout: send again", 0, NULL, 0);
	else
		conn_closing(c);
	conn_settle(c);
}

/* Gives up the replies past their time. */
static void
expire(long long now)
{
	struct conn *c, *next;
	struct ackhead h;

	for (c = conns.ackq; c; c = next) {
		next = c->anext;
		if (c->dead || c->aoff >= c->acks.len)
			continue;
		memcpy(&h, c->acks.p + c->aoff, sizeof(h));
		if ((h.flags & R_E2E) && h.due <= now)
			give_up(c, now);
	}
}

/* Says so when marks stopped coming back: once, then every few minutes. */
static void
warn_late(long long now)
{
	char t[32];

	if (mark_src_warn_due(msrc, now, o.e2e_ms))
		warn("no mark came back for %s: " NOT_BACK,
		    opt_duration_str(o.e2e_ms, t, sizeof(t)));
}

/*
 * The timers, every few tens of ms: replies past their time, the warning.
 * 1 if a mark is due (the caller flushes stdout, which puts it).
 */
int
e2e_tick(void)
{
	long long now;

	if (!msrc)
		return 0;
	now = clock_ms();
	if (now - tick_ms >= TICK_MS) {
		tick_ms = now;
		warn_late(now);
		if (conns.ackq)
			expire(now);
	}
	return mark_due(now);
}

/* Is anything waiting on a timer: replies, marks out, unmarked events? */
int
e2e_busy(void)
{
	return msrc && (conns.ackq || mark_src_last(msrc) > seen ||
	    out.bytes + out.b.len > last_end);
}

/*
 * Do replies wait for a mark that cannot be made, as many being out as
 * may be?  Then lrecv reads no more requests until some come back.
 */
int
e2e_blocked(void)
{
	return msrc && !mark_src_can_put(msrc) && conns.ackq &&
	    need() > last_end;
}

/* Do replies wait for their marks? */
int
e2e_holding(void)
{
	return msrc && conns.ackq && need() > delivered;
}

void
e2e_stats(char *b, size_t cap)
{
	if (!msrc || cap == 0) {
		if (cap)
			*b = '\0';
		return;
	}
	snprintf(b, cap, ", marks made %llu, returned %llu, replies given up "
	    "%llu", (unsigned long long)mark_src_last(msrc),
	    (unsigned long long)mark_src_done(msrc),
	    (unsigned long long)counts.e2e_expired);
}

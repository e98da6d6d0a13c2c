/* batch - lhttp's batches: filling, sealing, retries, what became of them */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "err.h"
#include "fwd.h"

#include "bulkresp.h"
#include "lhttp.h"

#define POOL 4                  /* spent batches keeping their memory */

struct batches bt;
static struct batch *pool;
static int npool;
static struct buf gzb;          /* gzip output, swapped with a body */
static struct buf scratch;      /* a bulk response as msgpack */
static struct bulk_item *items;
static size_t nitems;

/* --- queues and the pool ----------------------------------------------- */

static void
push(struct queue *q, struct batch *b)
{
	b->next = NULL;
	if (q->tail)
		q->tail->next = b;
	else
		q->head = b;
	q->tail = b;
	q->n++;
}

static void
push_front(struct queue *q, struct batch *b)
{
	b->next = q->head;
	q->head = b;
	if (!q->tail)
		q->tail = b;
	q->n++;
}

static struct batch *
pop(struct queue *q)
{
	struct batch *b = q->head;

	if (!b)
		return NULL;
	q->head = b->next;
	if (!q->head)
		q->tail = NULL;
	q->n--;
	b->next = NULL;
	return b;
}

static struct batch *
batch_new(void)
{
	struct batch *b = pool;

	if (b) {
		pool = b->next;
		npool--;
	} else {
		b = xcalloc(1, sizeof(*b));
	}
	b->ev.len = 0;
	b->n = 0;
	b->seq = 0;
	b->fails = 0;
	b->first_fail = 0;
	b->opened = clock_ms();
	b->next = NULL;
	format_begin(&b->body);
	return b;
}

static void
batch_free(struct batch *b)
{
	/* a few keep their buffers; more would keep a burst's memory */
	if (npool >= POOL || b->body.cap > o.batch_size * 2 + 65536) {
		buf_free(&b->ev);
		buf_free(&b->body);
		free(b->it);
		memset(b, 0, sizeof(*b));
	}
	b->next = pool;
	pool = b;
	npool++;
}

/* At exit: the pool and the scratch buffers. */
void
batch_free_all(void)
{
	struct batch *b;

	while ((b = pool)) {
		pool = b->next;
		buf_free(&b->ev);
		buf_free(&b->body);
		free(b->it);
		free(b);
	}
	buf_free(&gzb);
	buf_free(&scratch);
	free(items);
}

/* --- filling and sealing ------------------------------------------------- */

/* Appends the event to b's items (its body already holds it). */
static void
keep_event(struct batch *b, const struct event *ev)
{
	struct item *it;

	if (b->n == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 256;
		b->it = xrealloc(b->it, b->cap * sizeof(*b->it));
	}
	it = &b->it[b->n++];
	it->off = b->ev.len;
	it->tag_len = ev->tag_len;
	it->rec_len = ev->rec_len;
	it->sec = ev->sec;
	it->nsec = ev->nsec;
	buf_put(&b->ev, ev->tag, ev->tag_len);
	buf_put(&b->ev, ev->rec, ev->rec_len);
}

/* Ends b's body, gzip'd with --compress; gives it its seq. */
static void
seal(struct batch *b)
{
	struct buf t;

	format_finish(&b->body, b->n);
	b->raw_len = b->body.len;
	if (o.gzip) {
		gzb.len = 0;
		if (fwd_gzip(&gzb, b->body.p, b->body.len, 1) < 0)
			die(EX_SYS, "gzip failed");
		t = b->body;
		b->body = gzb;
		gzb = t;
	}
	if (!b->seq)
		b->seq = ++bt.sealed;
}

void
batch_seal_open(void)
{
	if (bt.open && bt.open->n) {
		seal(bt.open);
		push(&bt.ready, bt.open);
	} else if (bt.open)
		batch_free(bt.open);
	bt.open = NULL;
}

/* Seals the open batch if it is --flush-interval old. */
void
batch_seal_old(long long now)
{
	if (bt.open && bt.open->n && now - bt.open->opened >= o.flush_ms)
		batch_seal_open();
}

/* Adds an event to the open batch, sealing it first if it is full. */
void
batch_add(const struct event *ev)
{
	struct batch *b = bt.open;
	size_t before;

	if (b && o.batch_records && b->n >= o.batch_records) {
		batch_seal_open();
		b = NULL;
	}
	if (!b)
		b = bt.open = batch_new();
	before = b->body.len;
	format_event(&b->body, b->n, ev);
	if (b->n && b->body.len + format_tail() > o.batch_size) {
		b->body.len = before;
		batch_seal_open();
		b = bt.open = batch_new();
		format_event(&b->body, 0, ev);
	}
	keep_event(b, ev);
}

/* The next batch to send, unless a failure asked for a pause. */
struct batch *
batch_next_ready(long long now)
{
	if (now < bt.pause_until)
		return NULL;
	return pop(&bt.ready);
}

size_t
batch_held(void)
{
	return bt.ready.n;
}

/* The lowest seq of a sealed batch not yet done with (for marks). */
uint64_t
batch_low(void)
{
	uint64_t low = bt.sealed + 1, x;
	struct batch *b;

	for (b = bt.ready.head; b; b = b->next)
		if (b->seq < low)
			low = b->seq;
	x = xfer_low();
	return x < low ? x : low;
}

/* --- what became of a request ------------------------------------------ */

/* A batch given up: counted and said. */
void
batch_lost(struct batch *b, const char *why)
{
	warn("giving up %zu events: %s", b->n, why);
	cnt.lost += b->n;
	intake_lost(b->seq);
	batch_free(b);
}

void
batch_accepted(struct batch *b)
{
	cnt.done += b->n;
	cnt.requests++;
	cnt.bytes += b->body.len;
	bt.fails = 0;
	batch_free(b);
}

/*
 * A failure worth a retry (a connection error, 429, 5xx): b goes back to
 * the front of the queue, and no request starts before the wait is over;
 * b is given up once its retries are exhausted.
 */
void
batch_failed(struct batch *b, const char *why)
{
	long long now = clock_ms(), wait;

	cnt.retried++;
	b->fails++;
	if (!b->first_fail)
		b->first_fail = now;
	bt.fails++;
	wait = retry_wait(&o.retry, bt.fails);
	bt.pause_until = now + wait;
	if (retry_over(&o.retry, b->fails, b->first_fail, now)) {
		warn("%s: %s", o.shown, why);
		batch_lost(b, "retries exhausted");
		return;
	}
	warn("%s: %s; %zu events, retry in %lld ms", o.shown, why, b->n, wait);
	push_front(&bt.ready, b);
}

/*
 * Events the server refused for their content: all of b's, or with bulk
 * those whose item is BULK_REJECT; to --dead-letter, else counted lost.
 */
static void
refused(struct batch *b, int bulk, int status, const char *why,
    size_t wlen)
{
	struct event ev;
	size_t i, k = 0;

	for (i = 0; i < b->n; i++) {
		if (bulk && items[i].fate != BULK_REJECT)
			continue;
		k++;
		if (!o.dead_letter)
			continue;
		batch_event(b, i, &ev);
		if (bulk)
			dead_add(&ev, items[i].status, NULL, 0, items[i].err,
			    items[i].err_len);
		else
			dead_add(&ev, status, why, wlen, NULL, 0);
	}
	if (!k)
		return;
	if (o.dead_letter && dead_commit() == 0) {
		cnt.dead += k;
		return;
	}
	if (o.dead_letter)
		warn("%zu rejected events not written to --dead-letter", k);
	cnt.rejected += k;
	intake_lost(b->seq);
}

/*
 * The first line of a server's answer p[0..len), at most 200 bytes, as
 * text fit for a message: other control bytes become '?'.
 */
void
batch_msg_text(char *out, size_t cap, const char *p, size_t len)
{
	size_t i, n = 0;

	for (i = 0; i < len && n + 1 < cap && n < 200; i++) {
		if (p[i] == '\r' || p[i] == '\n')
			break;
		out[n++] = (unsigned char)p[i] < 0x20 || p[i] == 0x7f ? '?' :
		    p[i];
	}
	out[n] = '\0';
}

/* A status that is not worth a retry: the events are rejected. */
void
batch_rejected(struct batch *b, int status, const char *resp, size_t len)
{
	char text[256];

	batch_msg_text(text, sizeof(text), resp, len);
	warn("%s: HTTP %d, %zu events rejected%s%s: %s", o.shown, status, b->n,
	    o.dead_letter ? " and written to " : "", o.dead_letter ?
	    o.dead_letter : "", text);
	cnt.requests++;
	bt.fails = 0;
	refused(b, 0, status, resp, len);
	batch_free(b);
}

/* A batch of b's items whose fate is BULK_RETRY, to be sent again. */
static struct batch *
retry_part(struct batch *b)
{
	struct batch *r = batch_new();
	struct event ev;
	size_t i;

	for (i = 0; i < b->n; i++) {
		if (items[i].fate != BULK_RETRY)
			continue;
		batch_event(b, i, &ev);
		format_event(&r->body, r->n, &ev);
		keep_event(r, &ev);
	}
	r->seq = b->seq;
	r->fails = b->fails;
	r->first_fail = b->first_fail;
	seal(r);
	return r;
}

/*
 * A 2xx answer to a bulk request: each item accepted, rejected (to
 * --dead-letter) or sent again alone; an answer that cannot be read
 * sends the whole batch again.
 */
void
batch_bulk(struct batch *b, const char *resp, size_t len)
{
	size_t i, k[3] = { 0, 0, 0 };
	const char *why;
	char msg[160];

	if (b->n > nitems) {
		nitems = b->n;
		items = xrealloc(items, nitems * sizeof(*items));
	}
	if (bulk_parse(resp, len, b->n, &scratch, items, &why) < 0) {
		batch_failed(b, why);
		return;
	}
	for (i = 0; i < b->n; i++)
		k[items[i].fate]++;
	cnt.done += k[BULK_OK];
	cnt.requests++;
	cnt.bytes += b->body.len;
	if (k[BULK_REJECT]) {
		warn("%s: %zu of %zu items rejected%s%s", o.shown, k[BULK_REJECT],
		    b->n, o.dead_letter ? ", written to " : "", o.dead_letter ?
		    o.dead_letter : "");
		refused(b, 1, 0, NULL, 0);
	}
	if (k[BULK_RETRY]) {
		snprintf(msg, sizeof(msg), "%zu of %zu items failed (429 or "
		    "5xx)", k[BULK_RETRY], b->n);
		batch_failed(retry_part(b), msg);
	} else {
		bt.fails = 0;
	}
	batch_free(b);
}

/* At exit: what was never sent, given up. */
void
batch_lose_all(const char *why)
{
	struct batch *b;

	batch_seal_open();
	while ((b = pop(&bt.ready)))
		batch_lost(b, why);
}

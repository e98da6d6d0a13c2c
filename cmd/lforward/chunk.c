/* chunk - lforward's requests: queues, sealing, choosing a server, retries */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "fwd.h"
#include "gz.h"

#include "lforward.h"

#define GZIP_LEVEL 1             /* fastest: requests go out often */
#define ZSTD_LEVEL 1

struct requests rq;

/* --- queues and the pool ----------------------------------------------- */

void
chunk_push(struct queue *q, struct chunk *c)
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
push_front(struct queue *q, struct chunk *c)
{
	c->next = q->head;
	q->head = c;
	if (!q->tail)
		q->tail = c;
	q->n++;
}

struct chunk *
chunk_pop(struct queue *q)
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

struct chunk *
chunk_new(const char *tag, size_t tag_len, int node, uint32_t hash)
{
	struct chunk *c = rq.pool;

	if (c) {
		rq.pool = c->next;
		rq.npool -= c->req.cap > 0;
	} else {
		c = xcalloc(1, sizeof(*c));
	}
	if (!c->req.cap && rq.spare.cap) {
		c->req = rq.spare;
		memset(&rq.spare, 0, sizeof(rq.spare));
	}
	c->tag = xstrndup(tag, tag_len);
	c->tag_len = tag_len;
	c->node = node;
	c->hash = hash;
	c->n = 0;
	c->fails = c->on_secondary = 0;
	c->first_fail = c->retry_at = 0;
	c->opened = clock_ms();
	c->req.len = 0;
	fwd_packed_head(&c->req, tag, tag_len, 0);
	c->head = c->req.len;
	c->next = NULL;
	return c;
}

static void
chunk_free(struct chunk *c)
{
	rq.held -= c->req.len;
	free(c->tag);
	c->tag = NULL;
	/* a few buffers are reused; more would keep a burst's memory */
	if (rq.npool >= POOL_BUFS || c->req.cap > o.chunk_size * 2 + 65536)
		buf_free(&c->req);
	rq.npool += c->req.cap > 0;
	c->next = rq.pool;
	rq.pool = c;
}

/* At exit: the pool and the scratch buffers. */
void
chunk_free_all(void)
{
	struct chunk *c;

	while ((c = rq.pool)) {
		rq.pool = c->next;
		buf_free(&c->req);
		free(c);
	}
	buf_free(&rq.gzb);
	buf_free(&rq.spare);
	free(srv.ring);
}

/* --- sealing ----------------------------------------------------------- */

/* --compress: the entries compressed after the head, in rq.gzb. */
static void
compress_entries(const struct chunk *c, size_t n)
{
	int r;

	rq.gzb.len = 0;
	buf_put(&rq.gzb, c->req.p, c->head);
	if (o.compress == FWD_ZSTD)
		r = zst_compress(&rq.gzb, c->req.p + c->head, n, ZSTD_LEVEL);
	else
		r = gz_compress(&rq.gzb, c->req.p + c->head, n, GZIP_LEVEL);
	if (r < 0)
		die(EX_SYS, "unable to compress a request: out of memory");
}

/* Completes the request: entries length, compression, the option map. */
void
chunk_seal(struct chunk *c)
{
	size_t n = c->req.len - c->head, before = c->req.len;
	unsigned char *p;

	if (o.compress != FWD_TEXT) {
		compress_entries(c, n);
		n = rq.gzb.len - c->head;
		/* a buffer of its size while in flight; the big one is reused */
		if (rq.spare.cap)
			buf_free(&c->req);
		else
			rq.spare = c->req;
		memset(&c->req, 0, sizeof(c->req));
		buf_reserve(&c->req, rq.gzb.len + OPTION_MAX);
		buf_put(&c->req, rq.gzb.p, rq.gzb.len);
	}
	p = (unsigned char *)c->req.p + c->head - 4;
	p[0] = n >> 24; p[1] = n >> 16; p[2] = n >> 8; p[3] = (unsigned char)n;
	if (o.ack && fwd_chunk_id(c->id) < 0)
		die(EX_SYS, "unable to get random bytes");
	fwd_packed_option(&c->req, c->n, o.compress, o.ack ? c->id : NULL,
	    FWD_CHUNK_LEN);
	rq.held += c->req.len - before;
	c->seq = ++rq.sealed;
	chunk_push(&rq.pending, c);
}

/* Seals the open requests: all, or those open --flush-interval. */
void
chunk_seal_all(int older_only)
{
	struct chunk **pp, *c;
	long long now = clock_ms();
	int i;

	for (i = 0; i < NSLOTS; i++) {
		for (pp = &rq.open[i]; (c = *pp);) {
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

/* Smooth weighted round robin; standbys only while a regular is down. */
static int
pick_wrr(void)
{
	struct node *nodes = srv.nodes;
	int i, best = -1, total = 0, down = 0;

	for (i = 0; i < srv.n; i++)
		if (!nodes[i].standby && !node_usable(&nodes[i]))
			down = 1;
	for (i = 0; i < srv.n; i++) {
		if (!node_usable(&nodes[i]) || (nodes[i].standby && !down))
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
int
chunk_pick_hash(uint32_t h, int need)
{
	int lo = 0, hi = srv.nring, i, k;

	while (lo < hi) {
		i = (lo + hi) / 2;
		if (srv.ring[i].h < h)
			lo = i + 1;
		else
			hi = i;
	}
	for (k = 0; k < srv.nring; k++) {
		i = (lo + k) % srv.nring;
		if (!need || node_usable(&srv.nodes[srv.ring[i].node]))
			return srv.ring[i].node;
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

/* --balance hash:KEY: the consistent hash ring of the servers. */
void
chunk_ring_build(void)
{
	struct node *nodes = srv.nodes;
	char name[400];
	int i, v, n, total = 0;

	for (i = 0; i < srv.n; i++)
		total += points(&nodes[i]);
	srv.ring = xcalloc(total, sizeof(*srv.ring));
	for (i = 0; i < srv.n; i++) {
		for (v = 0; v < points(&nodes[i]); v++) {
			n = snprintf(name, sizeof(name), "%s:%s#%d", nodes[i].host,
			    nodes[i].port, v);
			srv.ring[srv.nring].h = hash_fnv32_mix(name, n);
			srv.ring[srv.nring].node = i;
			srv.nring++;
		}
	}
	qsort(srv.ring, srv.nring, sizeof(*srv.ring), ring_cmp);
}

/* Hands sealed requests to servers. */
void
chunk_assign(void)
{
	struct chunk *c;
	int k;

	while (rq.pending.head) {
		c = rq.pending.head;
		if (c->on_secondary)
			k = node_usable(srv.sec) ? MAX_NODES : -1;
		else if (o.hash_key)
			k = node_usable(&srv.nodes[c->node]) ? c->node :
			    chunk_pick_hash(c->hash, 1);
		else
			k = pick_wrr();
		if (k < 0)
			return;
		chunk_pop(&rq.pending);
		chunk_push(k == MAX_NODES ? &srv.sec->q : &srv.nodes[k].q, c);
	}
}

/* A failed server's queue goes back first, in order, for another one. */
void
chunk_requeue(struct queue *q)
{
	if (!q->head)
		return;
	q->tail->next = rq.pending.head;
	rq.pending.head = q->head;
	if (!rq.pending.tail)
		rq.pending.tail = q->tail;
	rq.pending.n += q->n;
	memset(q, 0, sizeof(*q));
}

/* --- delivered, retried, given up ---------------------------------------- */

void
chunk_delivered(struct node *n, struct chunk *c)
{
	cnt.done += c->n;
	n->sent_events += c->n;
	n->requests++;
	cnt.requests++;
	intake_delivered(c->seq);
	chunk_free(c);
}

/* A request given up: counted and said. */
void
chunk_lost(struct chunk *c, const char *why)
{
	if (o.lbuffer_chunk)
		warn("leaving a request of %llu events for %s to lbuffer: %s",
		    (unsigned long long)c->n, c->tag, why);
	else
		warn("giving up a request of %llu events for %s: %s",
		    (unsigned long long)c->n, c->tag, why);
	cnt.lost += c->n;
	intake_lost(c->seq);
	chunk_free(c);
}

/*
 * Counts a failure of c (idle: it found no server available): passes it
 * to the secondary or gives it up (freed; then 1) once its retries are
 * exhausted, else sets when it counts as failing again if it still finds
 * no server.
 */
static int
count_fail(struct chunk *c, int idle)
{
	const char *why = "retries exhausted";
	long long now = clock_ms();

	c->fails++;
	cnt.retried++;
	if (!c->first_fail)
		c->first_fail = now;
	if (retry_over(&o.retry, c->fails, c->first_fail, now)) {
		if (srv.sec && !c->on_secondary) {
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
	c->retry_at = now + retry_wait(&o.retry, c->fails);
	return 0;
}

/* A failed request: back to the queue, to the secondary, or given up. */
void
chunk_failed(struct chunk *c)
{
	if (!count_fail(c, 0))
		push_front(&rq.pending, c);
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
		return srv.sec->available;
	for (i = 0; i < srv.n; i++)
		if (srv.nodes[i].available)
			return 1;
	return 0;
}

/*
 * Requests no server is available for count as failing at each retry
 * time, as Fluentd counts "no nodes are available" as a failed flush: so
 * --retry-max-times and the secondary apply while every server is
 * detached.  Requests waiting beyond --retry-timeout are given up.
 */
void
chunk_expire(void)
{
	struct chunk *c, *keep = NULL, **tail = &keep;
	long long now = clock_ms();
	int late;

	while ((c = chunk_pop(&rq.pending))) {
		if (!available_for(c) && now >= c->retry_at &&
		    count_fail(c, 1))
			continue;
		/* 0 failures: only --retry-timeout can say it is over */
		late = retry_over(&o.retry, 0, c->first_fail, now) != NULL;
		if (late && (!srv.sec || c->on_secondary)) {
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

		chunk_push(&rq.pending, c);
		c = next;
	}
}

/* intake - lforward's standard input: each event into its open request */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "err.h"
#include "fwd.h"
#include "input.h"
#include "mark.h"
#include "mp.h"
#include "stream.h"

#include "lforward.h"

struct intake intake;

/*
 * End-to-end marks (lkit(7)): a mark seals every open request, so the
 * events before it are in requests sealed up to its barrier, and goes back
 * once every one of them is delivered.  The requests sealed after the
 * previous mark's barrier and up to a mark's own are its segment; left
 * counts those of them not yet delivered.  Marks come a few a second: the
 * queue is bounded, its oldest dropped when full (a later one covers it).
 */
#define MARK_QUEUE 256

struct qmark {
	uint64_t barrier;       /* the last request sealed before it */
	uint64_t left;          /* requests of its segment not delivered */
	size_t len;
	char b[MARK_MAX];
};

static struct {
	struct qmark q[MARK_QUEUE];     /* a ring, oldest first */
	unsigned first, n;
	uint64_t barrier;       /* the newest mark's barrier */
	uint64_t tail_done;     /* requests past it delivered */
	int off;                /* a request was given up: no more returns */
	struct qmark ready;     /* the newest mark ready, not yet returned */
} mk;

static struct qmark *
mark_at(unsigned k)
{
	return &mk.q[(mk.first + k) % MARK_QUEUE];
}

/* Whether two marks come from one producer (a merged stream has more). */
static int
same_producer(const struct qmark *a, const struct qmark *b)
{
	struct mark x, y;

	if (mark_parse(a->b, a->len, &x) != 1 ||
	    mark_parse(b->b, b->len, &y) != 1)
		return 0;
	return memcmp(x.id, y.id, MARK_ID_LEN) == 0 &&
	    x.path_len == y.path_len && memcmp(x.path, y.path, x.path_len) == 0;
}

/*
 * Takes the marks at the front whose requests are all delivered.  Of a
 * producer's marks ready one after the other only the newest goes back
 * (it says the same as the others, and more): the one held is returned
 * when a mark of another producer follows it, or by intake_marks_return,
 * once a loop.
 */
static void
marks_ready(void)
{
	struct qmark *m;

	while (mk.n && (m = mark_at(0))->left == 0) {
		if (mk.ready.len && !same_producer(&mk.ready, m))
			mark_return(mk.ready.b, mk.ready.len);
		mk.ready = *m;
		mk.first = (mk.first + 1) % MARK_QUEUE;
		mk.n--;
	}
}

/* Returns the newest mark ready, if any. */
void
intake_marks_return(void)
{
	if (!mk.ready.len)
		return;
	mark_return(mk.ready.b, mk.ready.len);
	mk.ready.len = 0;
}

/* The queued mark whose segment holds request seq, or -1. */
static int
mark_of(uint64_t seq)
{
	unsigned k;

	for (k = 0; k < mk.n; k++)
		if (mark_at(k)->barrier >= seq)
			return (int)k;
	return -1;
}

/* A request is delivered (chunk_delivered). */
void
intake_delivered(uint64_t seq)
{
	int k;

	if (seq > mk.barrier) {
		mk.tail_done++;
		return;
	}
	if ((k = mark_of(seq)) < 0)
		return;
	mark_at(k)->left--;
	marks_ready();
}

/*
 * A request is given up: the marks after it never go back (their
 * producer keeps its older position); those before it still may.
 */
void
intake_lost(uint64_t seq)
{
	int k;

	mk.off = 1;
	if (seq && seq <= mk.barrier && (k = mark_of(seq)) >= 0)
		mk.n = (unsigned)k;
}

/* The reader met a mark: seal what is open, queue the mark behind it. */
static void
on_mark(void *arg, const char *p, size_t len)
{
	struct qmark *m;
	uint64_t seg;

	(void)arg;
	if (mk.off || len > MARK_MAX)
		return;
	chunk_seal_all(0);
	seg = rq.sealed - mk.barrier - mk.tail_done;
	mk.barrier = rq.sealed;
	mk.tail_done = 0;
	if (mk.n == MARK_QUEUE) {       /* the next one takes its segment */
		mark_at(1)->left += mark_at(0)->left;
		mk.first = (mk.first + 1) % MARK_QUEUE;
		mk.n--;
	}
	m = mark_at(mk.n++);
	m->barrier = mk.barrier;
	m->left = seg;
	memcpy(m->b, p, len);
	m->len = len;
	marks_ready();
}

/* The open requests' slot of a tag (and server, with --balance). */
static unsigned
slot(const char *tag, size_t len, int node)
{
	return (hash_fnv32_mix(tag, len) + (unsigned)node * 31) &
	    (NSLOTS - 1);
}

/* With --balance hash:KEY: the hash of the event's KEY. */
static uint32_t
key_hash(const struct event *ev)
{
	struct mp_obj k;
	const char *v, *p;
	size_t vlen;

	if (!mp_map_get(ev->rec, ev->rec + ev->rec_len, o.hash_key,
	    strlen(o.hash_key), &v, &vlen))
		return 0;
	p = v;
	mp_head(&p, v + vlen, &k);
	if (k.type == MP_STR || k.type == MP_BIN)
		return hash_fnv32_mix(k.data, k.len);
	return hash_fnv32_mix(v, vlen);
}

/* Adds an event to the open request of its tag, sealing a full one. */
static void
add_event(struct event *ev)
{
	struct chunk **pp, *c;
	size_t before;
	uint32_t h = 0;
	int node = -1;
	unsigned s;

	cnt.in++;
	if (o.hash_key) {
		h = key_hash(ev);
		if ((node = chunk_pick_hash(h, 1)) < 0)
			node = chunk_pick_hash(h, 0);
	}
	s = slot(ev->tag, ev->tag_len, node);
	for (pp = &rq.open[s]; (c = *pp); pp = &c->next)
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
		rq.held += c->req.len;
		c->next = rq.open[s];
		rq.open[s] = c;
	}
	before = c->req.len;
	fwd_entry_put(&c->req, ev->sec, ev->nsec, ev->rec, ev->rec_len,
	    o.time_int);
	rq.held += c->req.len - before;
	c->n++;
}

/* Standard input, its marks handled here. */
void
intake_init(void)
{
	intake.rd = input_reader(0, "stdin", NULL, NULL);
	reader_set_mark(intake.rd, on_mark, NULL);
}

/*
 * No more input: its end (code 0), bad data (EX_DATA), a failed read
 * (EX_SYS) or a stop signal.  What is open is sealed, to be sent.
 */
void
intake_end(int code)
{
	if (!intake.eof)
		intake.code = code;
	intake.eof = 1;
	chunk_seal_all(0);
}

/* One read of stdin, and the events it completed. */
void
intake_read(void)
{
	struct event ev;
	ssize_t n;
	int r;

	n = reader_fill(intake.rd);
	if (n < 0 && errno != EINTR && errno != EAGAIN) {
		warn("unable to read stdin:");
		intake_end(EX_SYS);
		return;
	}
	while ((r = reader_next_buffered(intake.rd, &ev)) == READ_EVENT)
		add_event(&ev);
	if (r == READ_EOF) {
		intake_end(0);
	} else if (r != READ_AGAIN) {
		warn("%s", reader_errmsg(intake.rd));
		intake_end(r == READ_SYSERR ? EX_SYS : EX_DATA);
	}
}

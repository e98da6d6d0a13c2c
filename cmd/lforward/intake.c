/* intake - lforward's standard input: each event into its open request */
#include <stdint.h>
#include <string.h>

#include "fwd.h"
#include "input.h"
#include "mark.h"
#include "marksink.h"
#include "mp.h"
#include "sink.h"
#include "stream.h"

#include "lforward.h"

struct intake intake;

/*
 * End-to-end marks (lkit(7)): a mark seals every open request, so the
 * events before it are in requests sealed up to its barrier, and goes back
 * once every one of them is delivered (marksink, counting requests).
 */
static struct marksink mk;

/* Returns the marks whose requests are all delivered, once a loop. */
void
intake_marks_return(void)
{
	marksink_settle(&mk, 0);
}

/* A request is delivered (chunk_delivered). */
void
intake_delivered(uint64_t seq)
{
	marksink_done(&mk, seq);
}

/*
 * A request is given up: the marks after it never go back (their
 * producer keeps its older position); those before it still may.
 */
void
intake_lost(uint64_t seq)
{
	marksink_lost(&mk, seq);
}

/* The reader met a mark: seal what is open, queue the mark behind it. */
static void
on_mark(void *arg, const char *p, size_t len)
{
	(void)arg;
	if (marksink_off(&mk) || len > MARK_MAX)
		return;
	chunk_seal_all(0);
	marksink_put(&mk, p, len, rq.sealed);
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
	int code = sink_read(intake.rd, "stdin", add_event);

	if (code >= 0)
		intake_end(code);
}

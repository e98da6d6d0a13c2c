/* intake - lforward's standard input: each event into its open request */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "err.h"
#include "fwd.h"
#include "mp.h"
#include "stream.h"

#include "lforward.h"

struct intake intake;

/* The open requests' slot of a tag (and server, with --balance). */
static unsigned
slot(const char *tag, size_t len, int node)
{
	return (fnv(tag, len, 2166136261u) + (unsigned)node * 31) &
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
		return fnv(k.data, k.len, 2166136261u);
	return fnv(v, vlen, 2166136261u);
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

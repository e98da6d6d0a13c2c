/* intake - lhttp's standard input: events into batches, marks returned */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "err.h"
#include "input.h"
#include "mark.h"
#include "stream.h"

#include "lhttp.h"

struct intake intake;

/*
 * End-to-end marks (lkit(7)): a mark seals the open batch, so every event
 * before it is in a batch sealed at or before its barrier, and goes back
 * once no batch up to its barrier is waiting or in flight.  A batch given
 * up (or events rejected with nowhere to write them) stops every mark at
 * or after it: its producer keeps its older position.  Marks come a few
 * a second; the queue is bounded, its oldest dropped when full (a later
 * one of the same producer says the same and more).
 */
#define MARK_QUEUE 256

struct qmark {
	uint64_t barrier;       /* the last batch sealed before it */
	size_t len;
	char b[MARK_MAX];
};

static struct {
	struct qmark q[MARK_QUEUE];     /* a ring, oldest first */
	unsigned first, n;
	uint64_t lost_min;      /* the first batch given up, or 0 */
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

/* Whether the mark may never go back: a batch up to its barrier was lost. */
static int
doomed(const struct qmark *m)
{
	return mk.lost_min && m->barrier >= mk.lost_min;
}

/*
 * Returns the marks at the front whose batches are all done with; of a
 * producer's marks ready together only the newest goes back.
 */
void
intake_marks(void)
{
	uint64_t low = batch_low();
	unsigned k, i, j;

	for (k = 0; k < mk.n && mark_at(k)->barrier < low &&
	    !doomed(mark_at(k)); k++)
		;
	for (i = 0; i < k; i++) {
		for (j = i + 1; j < k && !same_producer(mark_at(i),
		    mark_at(j)); j++)
			;
		if (j == k)
			mark_return(mark_at(i)->b, mark_at(i)->len);
	}
	mk.first = (mk.first + k) % MARK_QUEUE;
	mk.n -= k;
	/* the rest wait, or never go back: barriers only grow */
	if (mk.n && doomed(mark_at(0)))
		mk.n = 0;
}

/* Events of batch seq are lost: no mark at or after it goes back. */
void
intake_lost(uint64_t seq)
{
	if (!mk.lost_min || seq < mk.lost_min)
		mk.lost_min = seq;
}

/* The reader met a mark: seal the open batch, queue the mark behind it. */
static void
on_mark(void *arg, const char *p, size_t len)
{
	struct qmark *m;

	(void)arg;
	if (len > MARK_MAX)
		return;
	batch_seal_open();
	if (mk.lost_min)
		return;         /* it could never go back */
	if (mk.n == MARK_QUEUE) {
		mk.first = (mk.first + 1) % MARK_QUEUE;
		mk.n--;
	}
	m = mark_at(mk.n++);
	m->barrier = bt.sealed;
	memcpy(m->b, p, len);
	m->len = len;
}

void
intake_init(void)
{
	intake.rd = input_reader(0, "stdin", NULL, NULL);
	reader_set_mark(intake.rd, on_mark, NULL);
}

/*
 * No more input: its end (code 0), bad data (EX_DATA), a failed read
 * (EX_SYS) or a stop signal.  The open batch is sealed, to be sent.
 */
void
intake_end(int code)
{
	if (!intake.eof)
		intake.code = code;
	intake.eof = 1;
	batch_seal_open();
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
	while ((r = reader_next_buffered(intake.rd, &ev)) == READ_EVENT) {
		cnt.in++;
		batch_add(&ev);
	}
	if (r == READ_EOF) {
		intake_end(0);
	} else if (r != READ_AGAIN) {
		warn("%s", reader_errmsg(intake.rd));
		intake_end(r == READ_SYSERR ? EX_SYS : EX_DATA);
	}
}

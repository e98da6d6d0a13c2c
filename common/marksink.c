/* marksink - a sink's end-to-end marks, held until their events are out */
#include <string.h>

#include "clock.h"
#include "mark.h"
#include "marksink.h"

static struct marksink_mark *
at(struct marksink *s, unsigned k)
{
	return &s->q[(s->first + k) % MARKSINK_QUEUE];
}

/* Drops the k oldest marks. */
static void
drop(struct marksink *s, unsigned k)
{
	s->first = (s->first + k) % MARKSINK_QUEUE;
	s->n -= k;
}

/* The first mark whose segment holds unit u, or s->n if none. */
static unsigned
mark_of(struct marksink *s, uint64_t u)
{
	unsigned k;

	for (k = 0; k < s->n && at(s, k)->barrier < u; k++)
		;
	return k;
}

/* Whether two marks come from one producer (a merged stream has more). */
static int
same_producer(const struct marksink_mark *a, const struct marksink_mark *b)
{
	struct mark x, y;

	if (mark_parse(a->b, a->len, &x) != 1 ||
	    mark_parse(b->b, b->len, &y) != 1)
		return 0;
	return memcmp(x.id, y.id, MARK_ID_LEN) == 0 &&
	    x.path_len == y.path_len && memcmp(x.path, y.path, x.path_len) == 0;
}

void
marksink_put(struct marksink *s, const char *p, size_t len, uint64_t barrier)
{
	struct marksink_mark *m;
	uint64_t seg = 0;

	if (s->off || len > MARK_MAX)
		return;
	if (barrier < s->barrier)
		barrier = s->barrier;
	if (barrier - s->barrier > s->tail_done)
		seg = barrier - s->barrier - s->tail_done;
	s->barrier = barrier;
	s->tail_done = 0;
	if (s->n == MARKSINK_QUEUE) {   /* the next one takes its segment */
		at(s, 1)->left += at(s, 0)->left;
		drop(s, 1);
	}
	m = at(s, s->n++);
	m->barrier = barrier;
	m->left = seg;
	m->ms = clock_ms();
	memcpy(m->b, p, len);
	m->len = len;
}

void
marksink_done(struct marksink *s, uint64_t u)
{
	unsigned k;

	if (u > s->barrier) {
		s->tail_done++;
		return;
	}
	if ((k = mark_of(s, u)) < s->n && at(s, k)->left)
		at(s, k)->left--;
}

unsigned
marksink_settle(struct marksink *s, uint64_t low)
{
	struct marksink_mark *m;
	unsigned k, i, j;

	for (k = 0; k < s->n && ((m = at(s, k))->left == 0 ||
	    m->barrier < low); k++)
		;
	for (i = 0; i < k; i++) {
		for (j = i + 1; j < k && !same_producer(at(s, i), at(s, j));
		    j++)
			;
		if (j == k)
			mark_return(at(s, i)->b, at(s, i)->len);
	}
	drop(s, k);
	return k;
}

void
marksink_lost(struct marksink *s, uint64_t u)
{
	s->off = 1;
	if (u)
		s->n = mark_of(s, u);
}

void
marksink_stop(struct marksink *s)
{
	s->off = 1;
	s->n = 0;
}

int
marksink_off(const struct marksink *s)
{
	return s->off;
}

unsigned
marksink_count(const struct marksink *s)
{
	return s->n;
}

long long
marksink_oldest_ms(const struct marksink *s)
{
	return s->n ? s->q[s->first].ms : -1;
}

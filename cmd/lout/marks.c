/* marks - lout's end-to-end marks: returned once their events are written */
#include <stdint.h>
#include <string.h>

#include "clock.h"
#include "mark.h"

#include "lout.h"

/*
 * End-to-end marks wait here until every event before them is written.
 * Each has a number, the count of marks taken in before it; each file
 * notes that count when it begins to hold bytes (file_put), so a mark
 * waits for exactly the files that held bytes when it came, and a file
 * closed was written out first.
 */
#define MARK_QUEUE 64
#define MARK_WAIT_MS 1000       /* then everything is written out */

struct pending {
	char m[MARK_MAX];
	size_t len;
	long long ms;           /* when it came */
	uint64_t seq;
};

static struct pending marks[MARK_QUEUE];
static size_t nmarks;
static uint64_t seen;                   /* marks taken in */
static int off;                         /* a write failed: none go back */

uint64_t
marks_seen(void)
{
	return seen;
}

/* After a failed write: no mark goes back any more. */
void
marks_stop(void)
{
	off = 1;
}

/* Whether marks a and b (validated) come from the same producer. */
static int
same_producer(const struct pending *a, const struct pending *b)
{
	struct mark ma, mb;

	mark_parse(a->m, a->len, &ma);
	mark_parse(b->m, b->len, &mb);
	return memcmp(ma.id, mb.id, MARK_ID_LEN) == 0 &&
	    ma.path_len == mb.path_len &&
	    memcmp(ma.path, mb.path, ma.path_len) == 0;
}

/*
 * Returns the marks whose events are all written.  They go in order, the
 * first ones first; of several from one producer only the last goes, as
 * it says the same and more.
 */
void
marks_settle(void)
{
	uint64_t oldest;
	size_t k, i, j;

	if (off || !nmarks)
		return;
	oldest = files_oldest();
	for (k = 0; k < nmarks && marks[k].seq < oldest; k++)
		;
	for (i = 0; i < k; i++) {
		for (j = i + 1; j < k && !same_producer(&marks[i], &marks[j]);
		    j++)
			;
		if (j == k)
			mark_return(marks[i].m, marks[i].len);
	}
	memmove(marks, marks + k, (nmarks - k) * sizeof(*marks));
	nmarks -= k;
}

/*
 * A mark from the stream: returned once every event before it is written,
 * at once if none is waiting.  Should the oldest wait long (a file that
 * fills slowly while the input never pauses), or the queue be full,
 * everything is written out first.
 */
void
marks_on(void *arg, const char *p, size_t len)
{
	struct pending *pm;
	long long now = clock_ms();
	uint64_t seq = seen++;

	(void)arg;
	if (nmarks && (nmarks == MARK_QUEUE || now - marks[0].ms >=
	    MARK_WAIT_MS))
		files_flush();
	if (off || nmarks == MARK_QUEUE)
		return;
	if (nmarks == 0 && files_oldest() == UINT64_MAX) {
		mark_return(p, len);
		return;
	}
	pm = &marks[nmarks++];
	memcpy(pm->m, p, len);
	pm->len = len;
	pm->ms = now;
	pm->seq = seq;
}

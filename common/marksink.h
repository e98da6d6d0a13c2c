/* marksink - a sink's end-to-end marks, held until their events are out */
#ifndef LKIT_MARKSINK_H
#define LKIT_MARKSINK_H

#include <stddef.h>
#include <stdint.h>

#include "mark.h"

/*
 * A sink (lforward, lhttp, lsyslog, lout) delivers events in units of its
 * own (requests, batches, messages), numbered from 1 in the order they are
 * made.  A mark read from the input is put here with its barrier, the last
 * unit made before it (so every event before the mark is in a unit up to
 * the barrier), and goes back to its producer (mark_return) once every
 * unit up to its barrier is delivered, in the order the marks came.
 *
 * The sink says what is delivered in one of two ways: a low-water mark,
 * the lowest unit not yet delivered, given to marksink_settle; or each
 * unit as it is delivered, to marksink_done (units delivered in any
 * order), and 0 as the low-water mark.
 *
 * Marks come a few a second; the queue is bounded, its oldest dropped
 * when full (a later mark of the same producer says the same and more).
 * Of a producer's marks ready together only the newest goes back.
 */
#define MARKSINK_QUEUE 256

struct marksink_mark {
	uint64_t barrier;       /* the last unit made before it */
	uint64_t left;          /* units of its segment not reported done */
	long long ms;           /* when it came (monotonic) */
	size_t len;
	char b[MARK_MAX];
};

struct marksink {
	struct marksink_mark q[MARKSINK_QUEUE]; /* a ring, oldest first */
	unsigned first, n;
	uint64_t barrier;       /* the newest mark's barrier */
	uint64_t tail_done;     /* units after it reported done */
	int off;                /* events were lost: no mark goes back */
};

/*
 * A mark p[0..len) (as read) whose events are in units up to barrier
 * (barriers never go down).  Ignored once marksink_off says so, or if
 * len is over MARK_MAX.
 */
void marksink_put(struct marksink *s, const char *p, size_t len,
    uint64_t barrier);

/* Unit u is delivered (for a sink that counts units one by one). */
void marksink_done(struct marksink *s, uint64_t u);

/*
 * Returns the marks at the front whose units are all delivered: those up
 * to the barrier are below low (the lowest unit not delivered; 0 for a
 * sink that uses marksink_done), or were each reported done.  Returns
 * how many marks left the queue.
 */
unsigned marksink_settle(struct marksink *s, uint64_t low);

/*
 * The events of unit u are lost (given up): no mark whose barrier is at
 * or after u goes back, nor any mark put later (their producer keeps its
 * older position); the marks before u still may.  u 0: a unit not yet
 * made, after every mark queued.
 */
void marksink_lost(struct marksink *s, uint64_t u);

/* Events were lost with no unit to name: no mark goes back any more. */
void marksink_stop(struct marksink *s);

/* Whether marks no longer go back (marksink_lost, marksink_stop). */
int marksink_off(const struct marksink *s);

/* How many marks wait. */
unsigned marksink_count(const struct marksink *s);

/* When the oldest mark waiting came (monotonic ms), -1 if none waits. */
long long marksink_oldest_ms(const struct marksink *s);

#endif

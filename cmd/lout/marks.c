/* marks - lout's end-to-end marks: returned once their events are written */
#include <stdint.h>

#include "clock.h"
#include "mark.h"
#include "marksink.h"

#include "lout.h"

/*
 * End-to-end marks wait here until every event before them is written.
 * Each has a number, the count of marks taken in up to it (its barrier);
 * each file notes the count before it when it begins to hold bytes
 * (file_put), so a mark waits for exactly the files that held bytes when
 * it came, and a file closed was written out first.
 */
#define MARK_WAIT_MS 1000       /* then everything is written out */

static struct marksink mk;
static uint64_t seen;                   /* marks taken in */

uint64_t
marks_seen(void)
{
	return seen;
}

/* After a failed write: no mark goes back any more. */
void
marks_stop(void)
{
	marksink_stop(&mk);
}

/*
 * Returns the marks whose events are all written: mark n waits for the
 * files that began to hold bytes before it, whose count is below n.
 */
void
marks_settle(void)
{
	uint64_t oldest;

	if (!marksink_count(&mk))
		return;
	oldest = files_oldest();
	marksink_settle(&mk, oldest == UINT64_MAX ? oldest : oldest + 1);
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
	long long oldest_ms = marksink_oldest_ms(&mk);

	(void)arg;
	if (oldest_ms >= 0 && (marksink_count(&mk) == MARKSINK_QUEUE ||
	    clock_ms() - oldest_ms >= MARK_WAIT_MS))
		files_flush();
	marksink_put(&mk, p, len, ++seen);
	marks_settle();
}

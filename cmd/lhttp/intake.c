/* intake - lhttp's standard input: events into batches, marks returned */
#include <stdint.h>

#include "input.h"
#include "mark.h"
#include "marksink.h"
#include "sink.h"
#include "stream.h"

#include "lhttp.h"

struct intake intake;

/*
 * End-to-end marks (lkit(7)): a mark seals the open batch, so every event
 * before it is in a batch sealed at or before its barrier, and goes back
 * once no batch up to its barrier is waiting or in flight.  A batch given
 * up (or events rejected with nowhere to write them) stops every mark at
 * or after it: its producer keeps its older position.
 */
static struct marksink mk;

/* Returns the marks whose batches are all done with. */
void
intake_marks(void)
{
	marksink_settle(&mk, batch_low());
}

/* Events of batch seq are lost: no mark at or after it goes back. */
void
intake_lost(uint64_t seq)
{
	marksink_lost(&mk, seq);
}

/* The reader met a mark: seal the open batch, queue the mark behind it. */
static void
on_mark(void *arg, const char *p, size_t len)
{
	(void)arg;
	if (len > MARK_MAX)
		return;
	batch_seal_open();
	marksink_put(&mk, p, len, bt.sealed);
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

static void
add_event(struct event *ev)
{
	cnt.in++;
	batch_add(ev);
}

/* One read of stdin, and the events it completed. */
void
intake_read(void)
{
	int code = sink_read(intake.rd, "stdin", add_event);

	if (code >= 0)
		intake_end(code);
}

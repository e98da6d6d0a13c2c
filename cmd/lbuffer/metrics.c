/* metrics - lbuffer's own families in the --metrics-file */
#include "input.h"
#include "metrics.h"

#include "lbuffer.h"

static void
chunks(struct metrics_sink *k)
{
	const struct chunk *c;
	uint64_t n = 0;

	for (c = lb.head; c; c = c->next)
		n++;
	metrics_put(k, NULL, (double)n);
}

static void
bytes(struct metrics_sink *k)
{
	metrics_put(k, NULL, (double)lb.total_bytes);
}

/* The age of the oldest chunk held, by the wall clock, 0 for none. */
static void
oldest(struct metrics_sink *k)
{
	const struct chunk *c;
	double now = wall(), age = 0;

	for (c = lb.head; c; c = c->next)
		if (now - c->created > age)
			age = now - c->created;
	metrics_put(k, NULL, age);
}

static void
dropped(struct metrics_sink *k)
{
	metrics_put(k, "invalid_input", (double)input_dropped(lb.in.rd));
	metrics_put(k, "overflow", (double)lb.cnt.dropped);
	metrics_put(k, "dead_letter", (double)lb.cnt.dead);
	metrics_put(k, "lost", (double)lb.cnt.lost);
	metrics_put(k, "quarantined", (double)lb.cnt.quarantined);
}

static const struct metric fams[] = {
	{ "lkit_chunks_queued", "Chunks held, open or queued.", METRIC_GAUGE,
	    NULL, NULL, chunks, NULL },
	{ "lkit_bytes_queued", "Bytes of the events in the chunks held.",
	    METRIC_GAUGE, NULL, NULL, bytes, NULL },
	{ "lkit_oldest_chunk_age_seconds", "Age of the oldest chunk held "
	    "(0 without one).", METRIC_GAUGE, NULL, NULL, oldest, NULL },
	{ "lkit_retries_total", "Failed attempts of the output, each "
	    "retried or given up.", METRIC_COUNTER, NULL, &lb.cnt.failures,
	    NULL, NULL },
	{ "lkit_chunks_dead_lettered_total", "Chunks moved to "
	    "--dead-letter-dir.", METRIC_COUNTER, NULL, &lb.cnt.dead_chunks,
	    NULL, NULL },
	{ "lkit_events_overflow_dropped_total", "Events dropped by "
	    "--overflow-action drop-oldest-chunk.", METRIC_COUNTER, NULL,
	    &lb.cnt.dropped, NULL, NULL }
};

void
metrics_families(void)
{
	metrics_add(fams, sizeof(fams) / sizeof(fams[0]));
	metrics_dropped(dropped);
}

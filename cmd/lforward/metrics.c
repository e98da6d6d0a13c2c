/* metrics - lforward's own families in the --metrics-file */
#include "input.h"
#include "metrics.h"

#include "lforward.h"

#define NSENT ((MAX_NODES + 1) * INFLIGHT)

/* The requests written and not yet acked: when each was written. */
static struct {
	const struct chunk *c;
	uint64_t seq;
	long long at;
} sent[NSENT];
static struct metrics_hist ack_lat;

/* node.c: c was written whole; its ack is awaited. */
void
metrics_fwd_sent(const struct chunk *c)
{
	size_t i, k = NSENT, old = 0;

	for (i = 0; i < NSENT; i++) {
		if (sent[i].c == c) {
			k = i;          /* sent again after a failure */
			break;
		}
		if (!sent[i].c && k == NSENT)
			k = i;
		if (sent[i].at < sent[old].at)
			old = i;
	}
	if (k == NSENT)
		k = old;        /* full: the oldest goes */
	sent[k].c = c;
	sent[k].seq = c->seq;
	sent[k].at = clock_ms();
}

/* node.c: c's ack came: its latency into the histogram. */
void
metrics_fwd_acked(const struct chunk *c)
{
	size_t i;

	for (i = 0; i < NSENT; i++)
		if (sent[i].c == c && sent[i].seq == c->seq) {
			metrics_observe(&ack_lat,
			    (clock_ms() - sent[i].at) / 1000.0);
			sent[i].c = NULL;
			return;
		}
}

/* One sample a server (at most MAX_NODES + 1): 1 while usable. */
static void
servers(struct metrics_sink *k)
{
	const struct node *n;
	int i;

	for (i = 0; i <= srv.n; i++) {
		n = i < srv.n ? &srv.nodes[i] : srv.sec;
		if (n)
			metrics_put(k, n->name, n->available && !n->fails &&
			    node_usable(n));
	}
}

static void
dropped(struct metrics_sink *k)
{
	metrics_put(k, "given_up", (double)cnt.lost);
	metrics_put(k, "invalid_input", (double)input_dropped(intake.rd));
}

static const struct metric fams[] = {
	{ "lkit_requests_total", "Requests delivered (acked with --ack).",
	    METRIC_COUNTER, NULL, &cnt.requests, NULL, NULL },
	{ "lkit_retries_total", "Failed requests, each retried or given up.",
	    METRIC_COUNTER, NULL, &cnt.retried, NULL, NULL },
	{ "lkit_events_given_up_total", "Events of requests given up.",
	    METRIC_COUNTER, NULL, &cnt.lost, NULL, NULL },
	{ "lkit_server_up", "1 while the server takes requests: available, "
	    "its last attempt did not fail.", METRIC_GAUGE, "server", NULL,
	    servers, NULL },
	{ "lkit_ack_latency_seconds", "Time from a request written to its "
	    "ack (--ack).", METRIC_HISTOGRAM, NULL, NULL, NULL, &ack_lat }
};

void
metrics_families(void)
{
	metrics_add(fams, sizeof(fams) / sizeof(fams[0]));
	metrics_dropped(dropped);
}

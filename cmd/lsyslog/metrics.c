/* metrics - lsyslog's own families in the --metrics-file */
#include "metrics.h"

#include "lsyslog.h"

/*
 * The server's state as the counters show it at each write: down once a
 * connection failed since the last write, up again once messages were
 * written with no failure in between.
 */
static void
servers(struct metrics_sink *k)
{
	static uint64_t fails, done;
	static int up = 1;

	if (cnt.failures != fails)
		up = 0;
	else if (cnt.done != done)
		up = 1;
	fails = cnt.failures;
	done = cnt.done;
	metrics_put(k, o.name, up);
}

static void
dropped(struct metrics_sink *k)
{
	metrics_put(k, "given_up", (double)cnt.lost);
}

static const struct metric fams[] = {
	{ "lkit_connections_total", "Connections made to the server.",
	    METRIC_COUNTER, NULL, &cnt.connects, NULL, NULL },
	{ "lkit_retries_total", "Connections failed, each retried or given "
	    "up.", METRIC_COUNTER, NULL, &cnt.failures, NULL, NULL },
	{ "lkit_events_given_up_total", "Events given up: retries "
	    "exhausted.", METRIC_COUNTER, NULL, &cnt.lost, NULL, NULL },
	{ "lkit_messages_truncated_total", "Messages cut to --max-size.",
	    METRIC_COUNTER, NULL, &cnt.truncated, NULL, NULL },
	{ "lkit_server_up", "1 while the server takes messages: no failure "
	    "since the last write of this file, or messages written since.",
	    METRIC_GAUGE, "server", NULL, servers, NULL }
};

void
metrics_families(void)
{
	metrics_add(fams, sizeof(fams) / sizeof(fams[0]));
	metrics_dropped(dropped);
}

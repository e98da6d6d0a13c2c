/* metrics - lparse's own families in the --metrics-file */
#include "input.h"
#include "metrics.h"

#include "lparse.h"

static void
dropped(struct metrics_sink *k)
{
	metrics_put(k, "parse_failure", (double)run.dropped);
	metrics_put(k, "invalid_input", (double)input_dropped(run.rd));
}

static const struct metric fams[] = {
	{ "lkit_parse_failures_total", "Parse failures (a JSON array may "
	    "fail more than once).", METRIC_COUNTER, NULL, &run.failures,
	    NULL, NULL },
	{ "lkit_parse_failed_events_total", "Events that did not parse, "
	    "whatever --on-error did with them.", METRIC_COUNTER, NULL,
	    &run.failed_events, NULL, NULL }
};

void
metrics_families(void)
{
	metrics_add(fams, sizeof(fams) / sizeof(fams[0]));
	metrics_dropped(dropped);
}

/* t_metrics - unit tests of common/metrics.c: the families, the text */
#include <stdio.h>
#include <string.h>

#include "tap.h"
#include "buf.h"
#include "err.h"
#include "metrics.h"
#include "stats.h"

static uint64_t hits = 7;
static struct metrics_hist lat;

static void
servers(struct metrics_sink *k)
{
	metrics_put(k, "a:1", 1);
	metrics_put(k, "b\"2", 0);
}

static void
reasons(struct metrics_sink *k)
{
	metrics_put(k, "bad", 2);
}

static const struct metric fams[] = {
	{ "lkit_hits_total", "Hits.", METRIC_COUNTER, NULL, &hits, NULL,
	    NULL },
	{ "lkit_server_up", "Up.", METRIC_GAUGE, "server", NULL, servers,
	    NULL },
	{ "lkit_lat_seconds", "Latency.", METRIC_HISTOGRAM, NULL, NULL, NULL,
	    &lat }
};

/* Whether line (a whole line) is in the text of b. */
static int
has(const struct buf *b, const char *line)
{
	size_t n = strlen(line);
	const char *p = b->p, *end = b->p + b->len;

	while (p < end) {
		const char *e = memchr(p, '\n', end - p);

		if (!e)
			return 0;
		if ((size_t)(e - p) == n && memcmp(p, line, n) == 0)
			return 1;
		p = e + 1;
	}
	return 0;
}

static void
render(struct buf *b)
{
	b->len = 0;
	metrics_render(b);
	buf_putc(b, '\0');
	b->len--;
}

int
main(void)
{
	struct buf b = { 0 };

	progname_set("t_metrics");
	ok(metrics_opt(OPT_PIPELINE, "p\\1"), "--pipeline taken");
	stats.in = 5;
	stats.dropped = 3;
	render(&b);
	ok(has(&b, "lkit_events_in_total{program=\"t_metrics\","
	    "pipeline=\"p\\\\1\"} 5"), "a common counter, pipeline escaped");
	ok(has(&b, "lkit_events_dropped_total{program=\"t_metrics\","
	    "pipeline=\"p\\\\1\"} 3"), "dropped without reasons: no label");

	metrics_add(fams, sizeof(fams) / sizeof(fams[0]));
	metrics_dropped(reasons);
	metrics_observe(&lat, 0.0005);
	metrics_observe(&lat, 0.3);
	metrics_observe(&lat, 60);
	render(&b);
	ok(has(&b, "lkit_events_dropped_total{program=\"t_metrics\","
	    "pipeline=\"p\\\\1\",reason=\"bad\"} 2"), "a named reason");
	ok(has(&b, "lkit_events_dropped_total{program=\"t_metrics\","
	    "pipeline=\"p\\\\1\",reason=\"other\"} 1"), "the rest is other");
	ok(has(&b, "# HELP lkit_hits_total Hits.") &&
	    has(&b, "# TYPE lkit_hits_total counter") &&
	    has(&b, "lkit_hits_total{program=\"t_metrics\","
	    "pipeline=\"p\\\\1\"} 7"), "a counter of the program's own");
	ok(has(&b, "# TYPE lkit_server_up gauge") &&
	    has(&b, "lkit_server_up{program=\"t_metrics\",pipeline=\"p\\\\1\","
	    "server=\"a:1\"} 1") &&
	    has(&b, "lkit_server_up{program=\"t_metrics\",pipeline=\"p\\\\1\","
	    "server=\"b\\\"2\"} 0"), "a gauge with an extra label, escaped");
	ok(has(&b, "# TYPE lkit_lat_seconds histogram"), "histogram TYPE");
	ok(has(&b, "lkit_lat_seconds_bucket{program=\"t_metrics\","
	    "pipeline=\"p\\\\1\",le=\"0.001\"} 1"), "first bucket");
	ok(has(&b, "lkit_lat_seconds_bucket{program=\"t_metrics\","
	    "pipeline=\"p\\\\1\",le=\"0.5\"} 2"), "buckets are cumulative");
	ok(has(&b, "lkit_lat_seconds_bucket{program=\"t_metrics\","
	    "pipeline=\"p\\\\1\",le=\"5\"} 2") &&
	    has(&b, "lkit_lat_seconds_bucket{program=\"t_metrics\","
	    "pipeline=\"p\\\\1\",le=\"+Inf\"} 3"), "+Inf holds every one");
	ok(has(&b, "lkit_lat_seconds_count{program=\"t_metrics\","
	    "pipeline=\"p\\\\1\"} 3") &&
	    has(&b, "lkit_lat_seconds_sum{program=\"t_metrics\","
	    "pipeline=\"p\\\\1\"} 60.3005"), "count and sum");
	stats.dropped = 2;
	render(&b);
	ok(!strstr(b.p, "reason=\"other\""), "no other when reasons cover all");
	buf_free(&b);
	return done_testing();
}

/* metrics - lhttp's own families in the --metrics-file */
#include <string.h>
#include <curl/curl.h>

#include "input.h"
#include "metrics.h"

#include "lhttp.h"

static struct metrics_hist resp_lat;
static char server[256];        /* the URL's host[:port], no user, path */

/* xfer.c: a request was answered (any status): its time, in the histogram */
void
metrics_http_answered(void *easy)
{
	double t = 0;

	if (curl_easy_getinfo((CURL *)easy, CURLINFO_TOTAL_TIME, &t) ==
	    CURLE_OK)
		metrics_observe(&resp_lat, t);
}

/* The server label: the URL's authority without its user information. */
static void
server_name(void)
{
	const char *p = o.url ? o.url : "", *e, *at;
	size_t n;

	if ((e = strstr(p, "://")))
		p = e + 3;
	n = strcspn(p, "/?#");
	at = memchr(p, '@', n);
	if (at) {
		n -= at + 1 - p;
		p = at + 1;
	}
	if (n >= sizeof(server))
		n = sizeof(server) - 1;
	memcpy(server, p, n);
	server[n] = '\0';
}

static void
servers(struct metrics_sink *k)
{
	if (!server[0])
		server_name();
	metrics_put(k, server, bt.fails == 0);
}

static void
dropped(struct metrics_sink *k)
{
	metrics_put(k, "given_up", (double)cnt.lost);
	metrics_put(k, "rejected", (double)cnt.rejected);
	metrics_put(k, "invalid_input", (double)input_dropped(intake.rd));
}

static const struct metric fams[] = {
	{ "lkit_requests_total", "Requests answered 2xx.", METRIC_COUNTER,
	    NULL, &cnt.requests, NULL, NULL },
	{ "lkit_retries_total", "Failed requests, each retried or given up.",
	    METRIC_COUNTER, NULL, &cnt.retried, NULL, NULL },
	{ "lkit_events_given_up_total", "Events given up: retries exhausted, "
	    "or at exit.", METRIC_COUNTER, NULL, &cnt.lost, NULL, NULL },
	{ "lkit_events_dead_lettered_total", "Events the server rejected, "
	    "written to --dead-letter.", METRIC_COUNTER, NULL, &cnt.dead, NULL,
	    NULL },
	{ "lkit_server_up", "1 while the last request to the server did not "
	    "fail.", METRIC_GAUGE, "server", NULL, servers, NULL },
	{ "lkit_response_latency_seconds", "Time from a request started to "
	    "its answer.", METRIC_HISTOGRAM, NULL, NULL, NULL, &resp_lat }
};

void
metrics_families(void)
{
	metrics_add(fams, sizeof(fams) / sizeof(fams[0]));
	metrics_dropped(dropped);
}

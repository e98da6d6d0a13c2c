/* metrics - lrecv's counters: /metrics, /api/plugins.json, --stats, SIGUSR1 */
#include <stdio.h>
#include <string.h>

#include "http.h"
#include "stats.h"
#include "stream.h"

#include "lrecv.h"

struct counts counts;

/* The Prometheus text exposition into t[0..cap): its length. */
static size_t
metrics_text(char *t, size_t cap)
{
	int n;

	n = snprintf(t, cap,
	    "# HELP lrecv_events_total Events written to stdout.\n"
	    "# TYPE lrecv_events_total counter\nlrecv_events_total %llu\n"
	    "# TYPE lrecv_bytes_in_total counter\nlrecv_bytes_in_total %llu\n"
	    "# TYPE lrecv_bytes_out_total counter\nlrecv_bytes_out_total %llu\n"
	    "# TYPE lrecv_connections_total counter\n"
	    "lrecv_connections_total %llu\n"
	    "# TYPE lrecv_connections_open gauge\nlrecv_connections_open %d\n"
	    "# TYPE lrecv_refused_total counter\nlrecv_refused_total %llu\n"
	    "# TYPE lrecv_acks_total counter\nlrecv_acks_total %llu\n"
	    "# TYPE lrecv_bad_requests_total counter\n"
	    "lrecv_bad_requests_total %llu\n"
	    "# TYPE lrecv_chunks_dropped_total counter\n"
	    "lrecv_chunks_dropped_total %llu\n"
	    "# TYPE lrecv_heartbeats_total counter\nlrecv_heartbeats_total %llu\n"
	    "# TYPE lrecv_http_requests_total counter\n"
	    "lrecv_http_requests_total %llu\n"
	    "# TYPE lrecv_http_errors_total counter\n"
	    "lrecv_http_errors_total %llu\n"
	    "# TYPE lrecv_syslog_messages_total counter\n"
	    "lrecv_syslog_messages_total %llu\n"
	    "# TYPE lrecv_syslog_bad_total counter\n"
	    "lrecv_syslog_bad_total %llu\n"
	    "# TYPE lrecv_stdout_buffered_bytes gauge\n"
	    "lrecv_stdout_buffered_bytes %zu\n"
	    "# TYPE lrecv_memory_bytes gauge\nlrecv_memory_bytes %zu\n",
	    (unsigned long long)stats.out, (unsigned long long)stats.bytes_in,
	    (unsigned long long)(out.bytes + out.b.len),
	    (unsigned long long)counts.accepted, conns.n,
	    (unsigned long long)counts.refused, (unsigned long long)counts.acks,
	    (unsigned long long)counts.bad,
	    (unsigned long long)counts.chunks_dropped,
	    (unsigned long long)counts.heartbeats,
	    (unsigned long long)counts.http_requests,
	    (unsigned long long)counts.http_errors,
	    (unsigned long long)counts.syslog_msgs,
	    (unsigned long long)counts.syslog_bad, out.b.len, conns.mem);
	return n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap - 1;
}

/* monitor_agent's answer, for the tools that read it, into t[0..cap). */
static size_t
metrics_json(char *t, size_t cap)
{
	int n;

	n = snprintf(t, cap, "{\"plugins\":[{\"plugin_id\":\"lrecv\","
	    "\"plugin_category\":\"input\",\"type\":\"forward\","
	    "\"output_plugin\":false,\"retry_count\":null,"
	    "\"emit_records\":%llu,\"emit_size\":%llu,"
	    "\"connections\":%d,\"acks\":%llu,\"bad_requests\":%llu,"
	    "\"http_requests\":%llu,\"buffer_total_queued_size\":%zu}]}\n",
	    (unsigned long long)stats.out, (unsigned long long)(out.bytes +
	    out.b.len), conns.n, (unsigned long long)counts.acks,
	    (unsigned long long)counts.bad,
	    (unsigned long long)counts.http_requests, out.b.len);
	return n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap - 1;
}

/* GET /metrics (Prometheus) and /api/plugins.json (monitor_agent). */
void
metrics_serve(struct conn *c, const struct http_req *rq)
{
	static const char notfound[] = "404 Not Found: try /metrics or "
	    "/api/plugins.json\n";
	const char *type = "text/plain; version=0.0.4", *body = notfound;
	char t[4096];
	size_t n = sizeof(notfound) - 1;
	int code = 404;

	if (rq->path_len == 8 && memcmp(rq->path, "/metrics", 8) == 0) {
		n = metrics_text(t, sizeof(t));
		body = t;
		code = 200;
	} else if (rq->path_len == 17 && memcmp(rq->path,
	    "/api/plugins.json", 17) == 0) {
		n = metrics_json(t, sizeof(t));
		body = t;
		code = 200;
		type = "application/json";
	}
	http_response(&c->wb, code, type, NULL, n, rq->keepalive);
	buf_put(&c->wb, body, n);
	if (!rq->keepalive)
		conn_closing(c);
}

/* Before each report: the bytes written, as the common counters say. */
static void
sync_stats(void)
{
	stats.bytes_out = out.bytes + out.b.len;
}

/* What --stats and SIGUSR1 add to the common counters. */
static void
extra_stats(char *b, size_t cap)
{
	int n;

	n = snprintf(b, cap, ", connections %llu (open %d, refused %llu), acks "
	    "%llu, bad requests %llu, chunks dropped %llu, heartbeats %llu, "
	    "syslog messages %llu (bad %llu)",
	    (unsigned long long)counts.accepted, conns.n,
	    (unsigned long long)counts.refused, (unsigned long long)counts.acks,
	    (unsigned long long)counts.bad,
	    (unsigned long long)counts.chunks_dropped,
	    (unsigned long long)counts.heartbeats,
	    (unsigned long long)counts.syslog_msgs,
	    (unsigned long long)counts.syslog_bad);
	if (n >= 0 && (size_t)n < cap)
		e2e_stats(b + n, cap - n);      /* with --end-to-end */
}

/* Registers the counters with --stats and SIGUSR1. */
void
metrics_init(void)
{
	stats_init(sync_stats, extra_stats);
}

/*
 * metrics - lrecv's counters: /metrics, /api/v1/health, /api/plugins.json,
 * --metrics-file, --stats, SIGUSR1
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "http.h"
#include "metrics.h"
#include "sig.h"
#include "stats.h"
#include "stream.h"

#include "lrecv.h"

struct counts counts;

/* Whether lrecv can take and pass on events now: see lrecv(1), METRICS. */
int
metrics_healthy(void)
{
	return !sig_stop && !loop.accept_paused && out.b.len < HIGH_WATER;
}

static void
open_conns(struct metrics_sink *k)
{
	metrics_put(k, NULL, conns.n);
}

static void
buffered(struct metrics_sink *k)
{
	metrics_put(k, NULL, (double)out.b.len);
}

static void
memory(struct metrics_sink *k)
{
	metrics_put(k, NULL, (double)conns.mem);
}

static void
healthy(struct metrics_sink *k)
{
	metrics_put(k, NULL, metrics_healthy());
}

static const struct metric fams[] = {
	{ "lkit_connections_open", "Connections open.", METRIC_GAUGE, NULL,
	    NULL, open_conns, NULL },
	{ "lkit_connections_total", "Connections accepted.", METRIC_COUNTER,
	    NULL, &counts.accepted, NULL, NULL },
	{ "lkit_connections_refused_total", "Connections closed at once: "
	    "not in --allow, or over --max-connections.", METRIC_COUNTER,
	    NULL, &counts.refused, NULL, NULL },
	{ "lkit_acks_total", "Forward acks sent.", METRIC_COUNTER, NULL,
	    &counts.acks, NULL, NULL },
	{ "lkit_bad_requests_total", "Requests refused as bad.",
	    METRIC_COUNTER, NULL, &counts.bad, NULL, NULL },
	{ "lkit_chunks_dropped_total", "Forward chunks dropped unacked.",
	    METRIC_COUNTER, NULL, &counts.chunks_dropped, NULL, NULL },
	{ "lkit_heartbeats_total", "UDP heartbeats answered.",
	    METRIC_COUNTER, NULL, &counts.heartbeats, NULL, NULL },
	{ "lkit_http_requests_total", "HTTP input requests.", METRIC_COUNTER,
	    NULL, &counts.http_requests, NULL, NULL },
	{ "lkit_http_errors_total", "HTTP input requests answered with an "
	    "error.", METRIC_COUNTER, NULL, &counts.http_errors, NULL, NULL },
	{ "lkit_syslog_messages_total", "Syslog messages read.",
	    METRIC_COUNTER, NULL, &counts.syslog_msgs, NULL, NULL },
	{ "lkit_syslog_bad_total", "Syslog messages that did not parse.",
	    METRIC_COUNTER, NULL, &counts.syslog_bad, NULL, NULL },
	{ "lkit_stdout_buffered_bytes", "Bytes held for stdout.",
	    METRIC_GAUGE, NULL, NULL, buffered, NULL },
	{ "lkit_memory_bytes", "Bytes the connections hold.", METRIC_GAUGE,
	    NULL, NULL, memory, NULL },
	{ "lkit_healthy", "1 while /api/v1/health answers 200.",
	    METRIC_GAUGE, NULL, NULL, healthy, NULL }
};

/*
 * The names lrecv served before the lkit_ ones, without labels, kept for
 * the scrapers that use them, into t[0..cap): its length.
 */
static size_t
legacy_text(char *t, size_t cap)
{
	int n;

	n = snprintf(t, cap,
	    "# HELP lrecv_events_total Events written to stdout.\n"
	    "# TYPE lrecv_events_total counter\nlrecv_events_total %llu\n"
	    "# HELP lrecv_bytes_in_total Bytes read.\n"
	    "# TYPE lrecv_bytes_in_total counter\nlrecv_bytes_in_total %llu\n"
	    "# HELP lrecv_bytes_out_total Bytes written.\n"
	    "# TYPE lrecv_bytes_out_total counter\nlrecv_bytes_out_total %llu\n"
	    "# HELP lrecv_connections_total Connections accepted.\n"
	    "# TYPE lrecv_connections_total counter\n"
	    "lrecv_connections_total %llu\n"
	    "# HELP lrecv_connections_open Connections open.\n"
	    "# TYPE lrecv_connections_open gauge\nlrecv_connections_open %d\n"
	    "# HELP lrecv_refused_total Connections refused.\n"
	    "# TYPE lrecv_refused_total counter\nlrecv_refused_total %llu\n"
	    "# HELP lrecv_acks_total Acks sent.\n"
	    "# TYPE lrecv_acks_total counter\nlrecv_acks_total %llu\n"
	    "# HELP lrecv_bad_requests_total Bad requests.\n"
	    "# TYPE lrecv_bad_requests_total counter\n"
	    "lrecv_bad_requests_total %llu\n"
	    "# HELP lrecv_chunks_dropped_total Chunks dropped.\n"
	    "# TYPE lrecv_chunks_dropped_total counter\n"
	    "lrecv_chunks_dropped_total %llu\n"
	    "# HELP lrecv_heartbeats_total Heartbeats answered.\n"
	    "# TYPE lrecv_heartbeats_total counter\nlrecv_heartbeats_total %llu\n"
	    "# HELP lrecv_http_requests_total HTTP requests.\n"
	    "# TYPE lrecv_http_requests_total counter\n"
	    "lrecv_http_requests_total %llu\n"
	    "# HELP lrecv_http_errors_total HTTP errors.\n"
	    "# TYPE lrecv_http_errors_total counter\n"
	    "lrecv_http_errors_total %llu\n"
	    "# HELP lrecv_syslog_messages_total Syslog messages.\n"
	    "# TYPE lrecv_syslog_messages_total counter\n"
	    "lrecv_syslog_messages_total %llu\n"
	    "# HELP lrecv_syslog_bad_total Bad syslog messages.\n"
	    "# TYPE lrecv_syslog_bad_total counter\n"
	    "lrecv_syslog_bad_total %llu\n"
	    "# HELP lrecv_stdout_buffered_bytes Bytes held for stdout.\n"
	    "# TYPE lrecv_stdout_buffered_bytes gauge\n"
	    "lrecv_stdout_buffered_bytes %zu\n"
	    "# HELP lrecv_memory_bytes Bytes the connections hold.\n"
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

/* The text /metrics serves: the file's, then the legacy names. */
static void
metrics_text(struct buf *b)
{
	char t[4096];

	metrics_render(b);
	buf_put(b, t, legacy_text(t, sizeof(t)));
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

/*
 * The answer to GET path into b (body) and *code, *type; healthy: what
 * /api/v1/health says.
 */
static void
answer(const char *path, size_t len, int healthy, struct buf *b, int *code,
    const char **type)
{
	static const char notfound[] = "404 Not Found: try /metrics, "
	    "/api/v1/health or /api/plugins.json\n";
	char t[4096];

	*code = 200;
	*type = "text/plain; version=0.0.4";
	if (len == 8 && memcmp(path, "/metrics", 8) == 0) {
		metrics_text(b);
	} else if (len == 14 && memcmp(path, "/api/v1/health", 14) == 0) {
		*type = "text/plain";
		*code = healthy ? 200 : 503;
		buf_puts(b, healthy ? "ok\n" : sig_stop ? "stopping\n" :
		    loop.accept_paused ? "out of descriptors: not "
		    "accepting\n" : "stdout is not taking events\n");
	} else if (len == 17 && memcmp(path, "/api/plugins.json", 17) == 0) {
		buf_put(b, t, metrics_json(t, sizeof(t)));
		*type = "application/json";
	} else {
		*code = 404;
		*type = "text/plain";
		buf_puts(b, notfound);
	}
}

/* GET /metrics, /api/v1/health, /api/plugins.json (monitor_agent). */
void
metrics_serve(struct conn *c, const struct http_req *rq)
{
	struct buf b = { 0 };
	const char *type;
	int code;

	answer(rq->path, rq->path_len, metrics_healthy(), &b, &code, &type);
	http_response(&c->wb, code, type, NULL, b.len, rq->keepalive);
	buf_put(&c->wb, b.p, b.len);
	buf_free(&b);
	if (!rq->keepalive)
		conn_closing(c);
}

/* Reads one request's head from fd (blocking, bounded): its path. */
static int
stalled_path(int fd, char *h, size_t cap, const char **path, size_t *len)
{
	struct timeval tv = { 0, 200000 };
	size_t n = 0;
	ssize_t r;
	char *e;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	while (n < cap - 1) {
		if ((r = read(fd, h + n, cap - 1 - n)) <= 0)
			return -1;
		n += r;
		h[n] = '\0';
		if (strstr(h, "\r\n\r\n") || strstr(h, "\n\n"))
			break;
	}
	if (strncmp(h, "GET ", 4) != 0)
		return -1;
	*path = h + 4;
	if (!(e = strpbrk(h + 4, " ?\r\n")))
		return -1;
	*len = e - *path;
	return 0;
}

/*
 * While stdout takes nothing the loop serves no connection; loop.c calls
 * this when the --metrics listener lfd has one: it is answered at once,
 * unhealthy, and closed (a client allowed 200ms to send its request).
 */
void
metrics_stalled(int lfd)
{
	struct sockaddr_storage sa;
	socklen_t sl = sizeof(sa);
	struct buf b = { 0 }, body = { 0 };
	const char *path, *type;
	char h[2048];
	size_t len, off = 0;
	ssize_t w;
	int fd, code;

	if ((fd = accept(lfd, (struct sockaddr *)&sa, &sl)) < 0)
		return;
	if (!loop_allowed((struct sockaddr *)&sa)) {
		counts.refused++;
		close(fd);
		return;
	}
	counts.accepted++;
	if (stalled_path(fd, h, sizeof(h), &path, &len) == 0) {
		answer(path, len, 0, &body, &code, &type);
		http_response(&b, code, type, NULL, body.len, 0);
		buf_put(&b, body.p, body.len);
		while (off < b.len && (w = write(fd, b.p + off,
		    b.len - off)) > 0)
			off += w;
	}
	buf_free(&body);
	buf_free(&b);
	close(fd);
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

/* Registers the counters with --stats, SIGUSR1 and --metrics-file. */
void
metrics_init(void)
{
	stats_init(sync_stats, extra_stats);
	metrics_families();
}

void
metrics_families(void)
{
	metrics_add(fams, sizeof(fams) / sizeof(fams[0]));
}

/* lhttp - send events in batches over HTTP (Fluentd out_http, out_elasticsearch) */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <curl/curl.h>

#include "clock.h"
#include "err.h"
#include "input.h"
#include "mark.h"
#include "metrics.h"
#include "opt.h"
#include "sig.h"
#include "sink.h"
#include "stats.h"
#include "stream.h"
#include "tls.h"
#include "wait.h"

#include "lhttp.h"

#define USAGE "[options] URL"
#define ABOUT "Send events from stdin in batches over HTTP: JSON lines, " \
	"a JSON array, msgpack,\nor Elasticsearch/OpenSearch bulk requests.  " \
	"Exit status 0 only when every event\nwas accepted by the server or " \
	"written to --dead-letter."

enum {
	O_BATCH_SIZE = OPT_LONG, O_BATCH_RECORDS, O_FLUSH, O_WORKERS, O_METHOD,
	O_BEARER, O_BEARER_FILE, O_COMPRESS, O_TIMEOUT, O_CONNECT_TIMEOUT,
	O_TIME_KEY,
	O_TIME_FORMAT, O_TIME_TYPE, O_TAG_KEY, O_UTC, O_TIMEZONE, O_INDEX,
	O_ID_KEY, O_PIPELINE, O_DEAD, O_SHUTDOWN
};

static const struct opt opts[] = {
	{ 'f', "format", "FORMAT", "ndjson (default), json, msgpack, "
	    "elasticsearch" },
	{ O_BATCH_SIZE, "batch-size", "SIZE", "largest request body (default "
	    "5M)" },
	{ O_BATCH_RECORDS, "batch-records", "N", "most events in a request" },
	{ O_FLUSH, "flush-interval", "DURATION", "send a batch at least this "
	    "often (default 1s)" },
	{ O_WORKERS, "workers", "N", "requests in flight at once (default 1)" },
	{ O_METHOD, "method", "POST|PUT", "the request method (default POST)" },
	{ 'H', "header", "'NAME: VALUE'", "add a request header (repeatable)" },
	{ 'u', "user", "USER:PASSWORD", "basic authentication" },
	{ O_BEARER, "bearer", "TOKEN", "send Authorization: Bearer TOKEN" },
	{ O_BEARER_FILE, "bearer-file", "FILE", "the same, the token read from "
	    "FILE (again on SIGHUP)" },
	{ O_COMPRESS, "compress", "gzip", "gzip request bodies" },
	{ O_TIMEOUT, "timeout", "DURATION", "longest request (default 60s)" },
	{ O_CONNECT_TIMEOUT, "connect-timeout", "DURATION", "longest connect "
	    "(default 10s)" },
	OPT_TLS_CLIENT,
	{ O_TIME_KEY, "time-key", "KEY", "add the event time to the record as "
	    "KEY" },
	{ O_TIME_FORMAT, "time-format", "FMT", "strftime format (with %L, %N) "
	    "of the --time-key value" },
	{ O_TIME_TYPE, "time-type", "TYPE", "type of the --time-key value: "
	    "float (default), unixtime, string" },
	{ O_TAG_KEY, "tag-key", "KEY", "add the tag to the record as KEY" },
	{ O_UTC, "utc", NULL, "times and --index in UTC" },
	{ O_TIMEZONE, "timezone", "TZ", "times and --index in TZ (+09:00, "
	    "Asia/Tokyo)" },
	{ O_INDEX, "index", "TEMPLATE", "elasticsearch: the index, with "
	    "strftime, ${tag}, ${record[\"k\"]}" },
	{ O_ID_KEY, "id-key", "KEY", "elasticsearch: the document _id from "
	    "field KEY" },
	{ O_PIPELINE, "pipeline", "NAME", "elasticsearch: the ingest "
	    "pipeline" },
	{ O_DEAD, "dead-letter", "DIR", "write events the server rejects to "
	    "DIR, with its reason" },
	OPT_RETRY("a batch "),
	{ O_SHUTDOWN, "shutdown-timeout", "DURATION", "after SIGTERM, time "
	    "left to deliver what is held (default 10s)" },
	OPT_INPUT,
	OPT_METRICS_ALT,
	OPT_STD,
	OPT_END
};

static const struct opt_exit exits[] = {
	{ 0, "every event read was accepted, or written to --dead-letter" },
	OPT_EXIT_USAGE,
	{ 3, "bad input data: the events before it were delivered" },
	{ 4, "some events were not delivered, or stdin could not be read: "
	    "the message says how many" },
	OPT_EXIT_END
};

static const struct opt_prog prog = { USAGE, ABOUT, opts, exits, 0 };

struct options o = {
	.batch_size = 5u << 20, .flush_ms = 1000, .timeout_ms = 60000,
	.connect_ms = 10000, .shutdown_ms = 10000, .retry = RETRY_DEFAULTS,
	.workers = 1
};

struct counts cnt;
static struct sink_stop stop;

/* --- the loop ------------------------------------------------------------ */

static int
all_done(void)
{
	return intake.eof && !bt.open && !bt.ready.n && !xfer_busy();
}

/* stdin is read while few batches wait: else it waits, and its writer. */
static int
may_read(void)
{
	return !intake.eof && !stop.stopping &&
	    batch_held() < (size_t)o.workers * 2;
}

/* How long the loop may sleep: until a batch is due or a pause ends. */
static int
wait_ms(long long now)
{
	long long t = 1000, d;

	if (bt.open && bt.open->n) {
		d = bt.open->opened + o.flush_ms - now;
		t = d < t ? d : t;
	}
	if (bt.ready.n && xfer_idle_slots()) {
		d = bt.pause_until - now;
		t = d < t ? d : t;
	}
	if (stop.stopping) {
		d = stop.deadline - now;
		t = d < t ? d : t;
	}
	return t < 0 ? 0 : (int)t;
}

static void
loop_once(void)
{
	struct batch *b;
	long long now = clock_ms();
	int in = may_read() ? 0 : -1;

	if (xfer_wait(in, wait_ms(now)))
		intake_read();
	else if (in >= 0 && xfer_idle_slots() && !bt.ready.n)
		batch_seal_open();      /* stdin is idle and a worker too */
	now = clock_ms();
	batch_seal_old(now);
	xfer_run();
	while (xfer_idle_slots() && (b = batch_next_ready(now)))
		xfer_start(b);
	intake_marks();
}

static void
run(void)
{
	while (!all_done() && sink_go_on(&stop, o.shutdown_ms, intake_end))
		loop_once();
	xfer_lose_all();
	batch_lose_all("not sent before exit");
	intake_marks();
}

/* --- options ------------------------------------------------------------- */

static void
add_header(const char *h)
{
	const char *c = strchr(h, ':');

	if (!c || c == h || strpbrk(h, "\r\n") || memchr(h, ' ', c - h))
		die(EX_USAGE, "bad --header '%s': want 'NAME: VALUE'", h);
	o.headers = xrealloc(o.headers, (o.nheaders + 1) *
	    sizeof(*o.headers));
	o.headers[o.nheaders++] = h;
}

static void
option(int c, const char *arg)
{
	static const char *const formats[] = { "ndjson", "json", "msgpack",
		"elasticsearch", NULL };
	static const char *const methods[] = { "POST", "PUT", NULL };
	long long v;

	switch (c) {
	case 'f': o.format = opt_choice_arg(arg, "format", formats); break;
	case O_BATCH_SIZE:
		if ((v = opt_size(arg)) <= 0 || v > (1LL << 30))
			die(EX_USAGE, "bad size '%s' for --batch-size (1 to "
			    "1G)", arg);
		o.batch_size = (size_t)v;
		break;
	case O_BATCH_RECORDS:
		o.batch_records = opt_uint_arg(arg, "batch-records");
		break;
	case O_FLUSH: o.flush_ms = opt_duration_arg(arg, "flush-interval"); break;
	case O_WORKERS:
		if ((v = opt_uint(arg)) < 1 || v > MAX_WORKERS)
			die(EX_USAGE, "bad number '%s' for --workers (1 to %d)",
			    arg, MAX_WORKERS);
		o.workers = (int)v;
		break;
	case O_METHOD: o.put = opt_choice_arg(arg, "method", methods); break;
	case 'H': add_header(arg); break;
	case 'u': o.user = arg; break;
	case O_BEARER: o.bearer = arg; break;
	case O_BEARER_FILE: o.bearer_file = arg; break;
	case O_COMPRESS:
		if (strcmp(arg, "gzip") != 0)
			die(EX_USAGE, "unknown compression '%s' (gzip is "
			    "supported)", arg);
		o.gzip = 1;
		break;
	case O_TIMEOUT: o.timeout_ms = opt_duration_arg(arg, "timeout"); break;
	case O_CONNECT_TIMEOUT:
		o.connect_ms = opt_duration_arg(arg, "connect-timeout");
		break;
	case O_TIME_KEY: o.inject.time_key = arg; break;
	case O_TIME_FORMAT: o.time_format = arg; break;
	case O_TIME_TYPE:
		o.inject.type = opt_choice_arg(arg, "time-type", inject_types);
		o.time_type_set = 1;
		break;
	case O_TAG_KEY: o.inject.tag_key = arg; break;
	case O_UTC: o.tz = "UTC"; break;
	case O_TIMEZONE: o.tz = arg; break;
	case O_INDEX: o.index = arg; break;
	case O_ID_KEY: o.id_key = arg; break;
	case O_PIPELINE: o.pipeline = arg; break;
	case O_DEAD: o.dead_letter = arg; break;
	case O_SHUTDOWN: o.shutdown_ms = opt_duration_arg(arg, "shutdown-timeout"); break;
	default:
		if (!tls_opt(&o.tls, c, arg) && !retry_opt(&o.retry, c, arg))
			input_opt(c, arg);
		break;
	}
}

/* The URL must be http:// or https://; 1 if https. */
static int
check_url(const char *url)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *shown = NULL;
	int tls = -1;

	if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK)
		tls = strcasecmp(scheme, "https") == 0 ? 1 :
		    strcasecmp(scheme, "http") == 0 ? 0 : -1;
	/* messages name the URL without a password in it */
	if (tls >= 0 && curl_url_set(u, CURLUPART_PASSWORD, NULL, 0) ==
	    CURLUE_OK && curl_url_get(u, CURLUPART_URL, &shown, 0) == CURLUE_OK)
		o.shown = xstrdup(shown);
	curl_free(shown);
	curl_free(scheme);
	curl_url_cleanup(u);
	if (tls < 0)
		die(EX_USAGE, "bad URL '%s': want http://HOST[:PORT]/PATH or "
		    "https://...", url);
	if (!o.shown)
		o.shown = xstrdup(url);
	return tls;
}

static void
readable(const char *file, const char *name)
{
	if (file && access(file, R_OK) < 0)
		die(EX_USAGE, "unable to read --%s %s:", name, file);
}

/*
 * The client certificate, its key and passphrase, and the cipher list
 * are loaded once here, as lforward and lsyslog load them, so a file that
 * does not load is a usage error before anything is sent.
 */
static void
tls_check(void)
{
	struct tls_opts to = o.tls;
	char err[512];
	SSL_CTX *ctx;

	if (!to.cert && !to.ciphers)
		return;
	if (!to.key)
		to.key = to.cert;
	to.ca = NULL;           /* the CAs are curl's to load */
	to.insecure = 1;
	if (!(ctx = tls_client_ctx(&to, err, sizeof(err))))
		die(EX_USAGE, "%s", err);
	SSL_CTX_free(ctx);
	if (to.pass_file && tls_pass_read(to.pass_file, o.tls_pass,
	    sizeof(o.tls_pass), err, sizeof(err)) < 0)
		die(EX_USAGE, "%s", err);
}

static void
check_options(void)
{
	int tls = check_url(o.url);

	if (o.format != F_ES && (o.index || o.id_key || o.pipeline))
		die(EX_USAGE, "--index, --id-key and --pipeline need --format "
		    "elasticsearch");
	if (!!o.user + !!o.bearer + !!o.bearer_file > 1)
		die(EX_USAGE, "--user, --bearer and --bearer-file exclude each "
		    "other");
	if (o.user && !strchr(o.user, ':'))
		die(EX_USAGE, "bad --user '%s': want USER:PASSWORD", o.user);
	if (o.bearer && strpbrk(o.bearer, "\r\n"))
		die(EX_USAGE, "bad --bearer: a token is one line");
	if (!tls && tls_opts_given(&o.tls))
		die(EX_USAGE, "--tls-* options need an https:// URL");
	if (o.tls.pass_file && !o.tls.cert)
		die(EX_USAGE, "--tls-key-passphrase-file needs --tls-cert");
	if (o.tls.key && !o.tls.cert)
		die(EX_USAGE, "--tls-key needs --tls-cert");
	readable(o.tls.ca, "tls-ca");
	readable(o.tls.cert, "tls-cert");
	readable(o.tls.key, "tls-key");
	tls_check();
	if (o.timeout_ms <= 0 || o.connect_ms <= 0)
		die(EX_USAGE, "--timeout and --connect-timeout must be above 0");
	if (input.max > (1u << 30))
		die(EX_USAGE, "--max-event-size goes up to 1G");
}

static void
options(int argc, char **argv)
{
	const char *arg;
	int c;

	while ((c = opt_get(argc, argv, &prog, &arg)) != -1)
		option(c, arg);
	if (optind == argc)
		opt_fail(&prog, "no URL given");
	if (optind + 1 < argc)
		opt_fail(&prog, "unexpected operand '%s': lhttp sends to one URL",
		    argv[optind + 1]);
	o.url = argv[optind];
	check_options();
}

/* --- counts -------------------------------------------------------------- */

static void
extra_stats(char *b, size_t cap)
{
	int n;

	n = snprintf(b, cap, ", accepted %llu, dead-lettered %llu, rejected "
	    "%llu, given up %llu, requests %llu, failures %llu",
	    (unsigned long long)cnt.done, (unsigned long long)cnt.dead,
	    (unsigned long long)cnt.rejected, (unsigned long long)cnt.lost,
	    (unsigned long long)cnt.requests, (unsigned long long)cnt.retried);
	if (n >= 0 && (size_t)n < cap)
		mark_return_stats(b + n, cap - n, reader_stats(intake.rd)->marks);
}

static void
sync_stats(void)
{
	stats.in = cnt.in;
	stats.out = cnt.done;
	stats.dropped = cnt.lost + cnt.rejected + input_dropped(intake.rd);
	stats.bytes_in = reader_stats(intake.rd)->bytes;
	stats.bytes_out = cnt.bytes;
}

/* SIGHUP: a new --dead-letter file, the --bearer-file read again. */
static void
reopen(void)
{
	dead_reopen();
	xfer_reload();
}

/* Says what became of the events; returns the exit status. */
static int
report(void)
{
	uint64_t missing = cnt.in - cnt.done - cnt.dead;

	input_report(intake.rd, "stdin");
	input_stats();
	if (missing) {
		warn("%llu of %llu events not delivered", (unsigned long long)
		    missing, (unsigned long long)cnt.in);
		return EX_SYS;
	}
	return intake.code;
}

int
main(int argc, char **argv)
{
	int status;

	progname_set(argv[0]);
	options(argc, argv);
	format_init();
	dead_init();
	xmalloc_tune();
	sig_init();
	sig_on_hup(reopen);
	stats_init(sync_stats, extra_stats);
	metrics_families();
	xfer_init();
	intake_init();
	run();
	status = report();
	reader_free(intake.rd);
	batch_free_all();
	xfer_end();
	dead_end();
	format_end();
	free(o.headers);
	free(o.shown);
	return status;
}

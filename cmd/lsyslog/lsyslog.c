/* lsyslog - send events to a syslog server (Fluent Bit's out_syslog) */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "err.h"
#include "input.h"
#include "mark.h"
#include "marksink.h"
#include "metrics.h"
#include "net.h"
#include "opt.h"
#include "sig.h"
#include "sink.h"
#include "stats.h"
#include "stream.h"
#include "tls.h"

#include "lsyslog.h"

#define USAGE "[options] [udp:|tcp:|tls:]HOST[:PORT]"
#define ABOUT "Send events from stdin to a syslog server as RFC 5424 or " \
	"RFC 3164 messages,\nover UDP, TCP or TLS.  Exit status 0 only when " \
	"every event was written\n(sent, over UDP)."

enum {
	O_FRAMING = OPT_LONG, O_MAX_SIZE, O_MESSAGE_KEY, O_SEVERITY_KEY,
	O_SEVERITY, O_FACILITY_KEY, O_FACILITY, O_HOSTNAME_KEY, O_HOSTNAME,
	O_APPNAME_KEY, O_APPNAME, O_PROCID_KEY, O_MSGID_KEY, O_SD_KEY,
	O_CONNECT_TIMEOUT, O_SEND_TIMEOUT, O_SHUTDOWN,
	O_BUFFER
};

static const struct opt opts[] = {
	{ 'f', "format", "rfc5424|rfc3164", "message format (default "
	    "rfc5424)" },
	{ O_FRAMING, "framing", "octet|newline", "tcp and tls framing "
	    "(default octet; rfc3164 newline)" },
	{ O_MAX_SIZE, "max-size", "SIZE", "cut longer messages (udp "
	    "default 2048; rfc3164 1024)" },
	{ O_MESSAGE_KEY, "message-key", "KEY", "the text (default message; "
	    "else the record as JSON)" },
	{ O_SEVERITY_KEY, "severity-key", "KEY", "field holding the severity, "
	    "a name or 0-7" },
	{ O_SEVERITY, "severity", "NAME|N", "severity otherwise (default "
	    "info)" },
	{ O_FACILITY_KEY, "facility-key", "KEY", "field holding the facility, "
	    "a name or 0-23" },
	{ O_FACILITY, "facility", "NAME|N", "facility otherwise (default "
	    "user)" },
	{ O_HOSTNAME_KEY, "hostname-key", "KEY", "field holding the "
	    "HOSTNAME" },
	{ O_HOSTNAME, "hostname", "NAME", "HOSTNAME otherwise (default: this "
	    "host's name)" },
	{ O_APPNAME_KEY, "appname-key", "KEY", "field holding the APP-NAME "
	    "(rfc3164: the TAG)" },
	{ O_APPNAME, "appname", "NAME", "APP-NAME otherwise (default: the "
	    "event's tag)" },
	{ O_PROCID_KEY, "procid-key", "KEY", "field holding the PROCID" },
	{ O_MSGID_KEY, "msgid-key", "KEY", "field holding the MSGID "
	    "(rfc5424)" },
	{ O_SD_KEY, "sd-key", "KEY", "map field sent as structured data "
	    "[KEY ...]" },
	OPT_RETRY(""),
	{ O_CONNECT_TIMEOUT, "connect-timeout", "DURATION", "connect and "
	    "TLS handshake (default 10s)" },
	{ O_SEND_TIMEOUT, "send-timeout", "DURATION", "longest stall while "
	    "sending (default 60s)" },
	{ O_SHUTDOWN, "shutdown-timeout", "DURATION", "after SIGTERM, time "
	    "left to send (default 10s)" },
	{ O_BUFFER, "buffer-limit", "SIZE", "stop reading stdin while this "
	    "much waits (default 64M)" },
	OPT_TLS_CLIENT,
	OPT_TLS_VERIFY,
	OPT_INPUT,
	OPT_METRICS,
	OPT_STD,
	OPT_END
};

static const struct opt_exit exits[] = {
	{ 0, "every event read was written to the server (sent, over udp)" },
	OPT_EXIT_USAGE,
	{ 3, "bad input data: the events before it were written" },
	{ 4, "some events were not written, or stdin could not be read: "
	    "the message says which" },
	OPT_EXIT_END
};

static const struct opt_prog prog = { USAGE, ABOUT, opts, exits, 0 };

struct options o = {
	.message_key = "message", .severity = 6, .facility = 1,
	.max_size = (size_t)-1, .retry = RETRY_DEFAULTS,
	.connect_ms = 10000, .send_ms = 60000, .shutdown_ms = 10000,
	.buffer_limit = 64u << 20
};

struct counts cnt;
static struct reader *rd;
static int in_eof, in_code;     /* no more is read; how it ended */
static struct sink_stop stop;

/* --- marks ------------------------------------------------------------- */

/*
 * End-to-end marks (lkit(7)): a mark goes back once the messages of every
 * event before it are written (sent, over UDP).  Its barrier is how many
 * messages were queued before it; they are written in order, so it is
 * ready once that many are.
 */
static struct marksink mk;

static void
marks_settle(void)
{
	marksink_settle(&mk, cnt.done + 1);
}

static void
on_mark(void *arg, const char *p, size_t len)
{
	(void)arg;
	marksink_put(&mk, p, len, q.added);
	marks_settle();
}

/* A message was given up: the producer keeps its older position. */
void
marks_cancel(void)
{
	marksink_stop(&mk);
}

/* --- standard input ---------------------------------------------------- */

static void
intake_end(int code)
{
	if (!in_eof)
		in_code = code;
	in_eof = 1;
}

/* An event read: its message queued. */
static void
add_event(struct event *ev)
{
	cnt.in++;
	format_event(ev, &q.b);
	queue_push();
}

/* One read of stdin, and a message queued for each event it completed. */
static void
intake_read(void)
{
	int code = sink_read(rd, "stdin", add_event);

	if (code >= 0)
		intake_end(code);
}

/*
 * Whether to read on: while a server takes the messages only a little is
 * read ahead; while none does, up to --buffer-limit, to ride out the
 * outage.
 */
static int
want_input(void)
{
	size_t limit = o.buffer_limit;

	if (conn_up() && limit > READ_AHEAD)
		limit = READ_AHEAD;
	return !in_eof && !stop.stopping && queue_held() < limit;
}

/* --- the loop ---------------------------------------------------------- */

static void
loop_once(void)
{
	struct pollfd pf[3];
	int np = 0, in_slot = -1, c_slot = -1, r, fd;
	short ev;

	pf[np].fd = sig_fd();
	pf[np++].events = POLLIN;
	if (want_input()) {
		in_slot = np;
		pf[np].fd = 0;
		pf[np++].events = POLLIN;
	}
	ev = conn_poll(&fd);
	if (fd >= 0) {
		c_slot = np;
		pf[np].fd = fd;
		pf[np++].events = ev;
	}
	r = poll(pf, np, metrics_timeout(conn_wait_ms()));
	if (r < 0 && errno != EINTR)
		die(EX_SYS, "poll:");
	if (r > 0 && pf[0].revents) {
		sig_drain();
		sig_service();
	}
	/* the server's close is seen before more is written to it */
	if (c_slot >= 0 && r > 0 && pf[c_slot].revents)
		conn_io(pf[c_slot].revents);
	if (in_slot >= 0 && r > 0 && pf[in_slot].revents)
		intake_read();
	conn_timers(in_eof);
	marks_settle();
}

static void
run(void)
{
	while ((!in_eof || queue_count() || !conn_idle()) &&
	    sink_go_on(&stop, o.shutdown_ms, intake_end))
		loop_once();
}

/* --- setup ------------------------------------------------------------- */

static void
parse_server(const char *arg)
{
	static const char *const names[] = { "udp", "tcp", "tls" };
	const char *s = arg;

	o.proto = P_UDP;
	if (strncmp(s, "udp:", 4) == 0)
		s += 4;
	else if (strncmp(s, "tcp:", 4) == 0)
		o.proto = P_TCP, s += 4;
	else if (strncmp(s, "tls:", 4) == 0)
		o.proto = P_TLS, s += 4;
	if (net_split(s, "", o.proto == P_TLS ? "6514" : "514", o.host,
	    sizeof(o.host), o.port, sizeof(o.port)) < 0 || !o.host[0] ||
	    atoi(o.port) == 0)
		die(EX_USAGE, "bad server '%s': want [udp:|tcp:|tls:]HOST[:PORT], "
		    "a host of up to 255 bytes and a port from 1 to 65535", arg);
	snprintf(o.name, sizeof(o.name), strchr(o.host, ':') ? "%s:[%s]:%s" :
	    "%s:%s:%s", names[o.proto], o.host, o.port);
}

static int
level_arg(const char *arg, int severity)
{
	int v = severity ? format_severity(arg, strlen(arg)) :
	    format_facility(arg, strlen(arg));

	if (v < 0)
		die(EX_USAGE, "unknown %s '%s'", severity ? "severity (want "
		    "a name or 0 to 7)" : "facility (want a name or 0 to 23)",
		    arg);
	return v;
}

static void
option(int c, const char *arg)
{
	static const char *const formats[] = { "rfc5424", "rfc3164", NULL };
	static const char *const framings[] = { "octet", "newline", NULL };

	switch (c) {
	case 'f':
		o.format = opt_choice_arg(arg, "format", formats);
		break;
	case O_FRAMING:
		o.framing = FR_OCTET + opt_choice_arg(arg, "framing", framings);
		break;
	case O_MAX_SIZE:
		if ((long long)(o.max_size = opt_size(arg)) < 0)
			die(EX_USAGE, "bad size '%s' for --max-size", arg);
		break;
	case O_MESSAGE_KEY: o.message_key = arg; break;
	case O_SEVERITY_KEY: o.severity_key = arg; break;
	case O_SEVERITY: o.severity = level_arg(arg, 1); break;
	case O_FACILITY_KEY: o.facility_key = arg; break;
	case O_FACILITY: o.facility = level_arg(arg, 0); break;
	case O_HOSTNAME_KEY: o.hostname_key = arg; break;
	case O_HOSTNAME: o.hostname = arg; break;
	case O_APPNAME_KEY: o.appname_key = arg; break;
	case O_APPNAME: o.appname = arg; break;
	case O_PROCID_KEY: o.procid_key = arg; break;
	case O_MSGID_KEY: o.msgid_key = arg; break;
	case O_SD_KEY:
		if (o.nsd == MAX_SD)
			die(EX_USAGE, "more than %d --sd-key options", MAX_SD);
		o.sd_keys[o.nsd++] = arg;
		break;
	case O_CONNECT_TIMEOUT: o.connect_ms = opt_duration_arg(arg, "connect-timeout"); break;
	case O_SEND_TIMEOUT: o.send_ms = opt_duration_arg(arg, "send-timeout"); break;
	case O_SHUTDOWN: o.shutdown_ms = opt_duration_arg(arg, "shutdown-timeout"); break;
	case O_BUFFER: o.buffer_limit = opt_size_arg(arg, "buffer-limit"); break;
	default:
		if (!tls_opt(&o.tlsopt, c, arg) &&
		    !retry_opt(&o.retry, c, arg))
			input_opt(c, arg);
		break;
	}
}

/* Defaults that hang on other options, and options that do not go together. */
static void
check_options(void)
{
	if (o.proto == P_UDP && o.framing)
		die(EX_USAGE, "--framing is for tcp: and tls: servers (over udp "
		    "a datagram holds one message)");
	if (!o.framing && o.proto != P_UDP)
		o.framing = o.format == F_5424 ? FR_OCTET : FR_NEWLINE;
	if (o.max_size == (size_t)-1)
		o.max_size = o.proto != P_UDP ? 0 : o.format == F_5424 ? 2048 :
		    1024;
	else if (o.proto == P_UDP && (o.max_size < 480 || o.max_size > UDP_MAX))
		die(EX_USAGE, "--max-size over udp goes from 480 to %d", UDP_MAX);
	else if (o.max_size && o.max_size < 480)
		die(EX_USAGE, "--max-size is 0 (no limit) or 480 and more");
	if (o.format == F_3164 && (o.msgid_key || o.nsd))
		die(EX_USAGE, "--msgid-key and --sd-key are for --format "
		    "rfc5424 (RFC 3164 has no such fields)");
	if (tls_opts_given(&o.tlsopt) && o.proto != P_TLS)
		die(EX_USAGE, "TLS options need a tls: server");
	if (o.tlsopt.pass_file && !o.tlsopt.key)
		die(EX_USAGE, "--tls-key-passphrase-file needs --tls-key");
	if (!o.tlsopt.cert != !o.tlsopt.key)
		die(EX_USAGE, "--tls-cert and --tls-key go together");
}

static void
options(int argc, char **argv)
{
	const char *arg;
	int c;

	/* options may follow the server (GNU order); "--" ends them */
	while ((c = opt_get(argc, argv, &prog, &arg)) != -1)
		option(c, arg);
	if (optind == argc)
		opt_fail(&prog, "no server given: want [udp:|tcp:|tls:]HOST:PORT");
	if (argc - optind > 1)
		opt_fail(&prog, "more than one server given ('%s' and '%s')",
		    argv[optind], argv[optind + 1]);
	parse_server(argv[optind]);
	check_options();
}

/* --- the end ------------------------------------------------------------ */

static void
sync_stats(void)
{
	stats.in = cnt.in;
	stats.out = cnt.done;
	stats.dropped = cnt.lost + input_dropped(rd);
	stats.bytes_in = reader_stats(rd)->bytes;
	stats.bytes_out = cnt.bytes;
}

static void
extra_stats(char *b, size_t cap)
{
	int n;

	n = snprintf(b, cap, ", written %llu, undelivered %llu, truncated "
	    "%llu, invalid values %llu, connections %llu, failures %llu",
	    (unsigned long long)cnt.done, (unsigned long long)cnt.lost,
	    (unsigned long long)cnt.truncated, (unsigned long long)cnt.invalid,
	    (unsigned long long)cnt.connects, (unsigned long long)cnt.failures);
	if (n >= 0 && (size_t)n < cap)
		mark_return_stats(b + n, cap - n, reader_stats(rd)->marks);
}

/* Says what became of the events; returns the exit status. */
static int
report(void)
{
	input_report(rd, "stdin");
	if (cnt.truncated)
		warn("%llu messages cut to --max-size %zu",
		    (unsigned long long)cnt.truncated, o.max_size);
	if (cnt.invalid)
		warn("%llu invalid values replaced by defaults",
		    (unsigned long long)cnt.invalid);
	input_stats();
	if (cnt.lost || cnt.done != cnt.in) {
		warn("%llu of %llu events not delivered", (unsigned long long)
		    (cnt.in - cnt.done), (unsigned long long)cnt.in);
		return EX_SYS;
	}
	return in_code;
}

int
main(int argc, char **argv)
{
	int status;

	progname_set(argv[0]);
	options(argc, argv);
	format_init();
	conn_init();
	sig_init();
	rd = input_reader(0, "stdin", NULL, NULL);
	reader_set_mark(rd, on_mark, NULL);
	stats_init(sync_stats, extra_stats);
	metrics_families();
	run();
	conn_abandon("not written before exit");
	marks_settle();
	status = report();
	reader_free(rd);
	conn_end();
	format_free();
	return status;
}

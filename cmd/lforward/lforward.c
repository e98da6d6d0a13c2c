/* lforward - send events to Forward-protocol servers (Fluentd out_forward) */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "fwd.h"
#include "input.h"
#include "mark.h"
#include "metrics.h"
#include "net.h"
#include "opt.h"
#include "sig.h"
#include "sink.h"
#include "stats.h"
#include "stream.h"
#include "tls.h"
#include "wait.h"

#include "lforward.h"

#define USAGE "[options] HOST:PORT|unix:PATH[,weight=N][,standby][,name=NAME]..."
#define ABOUT "Send events from stdin to Forward-protocol servers (Fluentd, " \
	"Fluent Bit, lrecv)\nin PackedForward requests.  Exit status 0 only " \
	"when every event was delivered."

enum {
	O_ACK = OPT_LONG, O_ACK_TIMEOUT, O_COMPRESS, O_TIME_INT, O_CHUNK_SIZE,
	O_CHUNK_RECORDS, O_FLUSH, O_HB, O_HB_INTERVAL, O_PHI, O_HARD,
	O_RECOVER, O_SECONDARY, O_KEEPALIVE, O_CONNECT_TIMEOUT,
	O_SEND_TIMEOUT, O_BALANCE, O_SHARED_KEY, O_SELF_HOST, O_USERNAME,
	O_PASSWORD, O_TLS, O_DNS_RR,
	O_SHUTDOWN, O_BUFFER
};

static const struct opt opts[] = {
	{ O_ACK, "ack", NULL, "ask for an ack of every request; resend "
	    "until acked" },
	{ O_ACK_TIMEOUT, "ack-timeout", "DURATION", "wait this long for an "
	    "ack (default 190s)" },
	{ O_COMPRESS, "compress", "gzip|zstd|text", "send CompressedPackedForward "
	    "(zstd: Fluentd 1.19)" },
	{ O_TIME_INT, "time-as-integer", NULL, "send times as integer "
	    "seconds, not EventTime" },
	{ O_CHUNK_SIZE, "chunk-limit-size", "SIZE", "largest request "
	    "(default 1M)" },
	{ O_CHUNK_RECORDS, "chunk-limit-records", "N", "most events in a "
	    "request" },
	{ O_FLUSH, "flush-interval", "DURATION", "send a request at least "
	    "this often (default 1s); also when stdin is idle" },
	{ O_BUFFER, "buffer-limit", "SIZE", "stop reading stdin while this "
	    "much is held (default 64M)" },
	{ O_HB, "heartbeat", "transport|udp|none", "how servers are watched "
	    "(default transport)" },
	{ O_HB_INTERVAL, "heartbeat-interval", "DURATION", "default 1s" },
	{ O_PHI, "phi-threshold", "N", "detach a server when phi exceeds N "
	    "(default 16)" },
	{ O_HARD, "hard-timeout", "DURATION", "detach a server silent this "
	    "long (default 60s)" },
	{ O_RECOVER, "recover-wait", "DURATION", "heartbeats needed before "
	    "a server is used again (default 10s)" },
	{ O_SECONDARY, "secondary", "SERVER", "where requests go when "
	    "retries are exhausted" },
	OPT_RETRY("a request "),
	{ O_KEEPALIVE, "keepalive", NULL, "keep connections open between "
	    "requests" },
	{ O_CONNECT_TIMEOUT, "connect-timeout", "DURATION", "default 10s" },
	{ O_SEND_TIMEOUT, "send-timeout", "DURATION", "longest stall while "
	    "sending (default 60s)" },
	{ O_BALANCE, "balance", "hash:KEY", "send events with the same value "
	    "of KEY to the same server" },
	{ O_SHARED_KEY, "shared-key", "KEY", "HELO/PING/PONG handshake with "
	    "KEY" },
	{ O_SELF_HOST, "self-hostname", "NAME", "hostname sent in PING "
	    "(default: the host name)" },
	{ O_USERNAME, "username", "NAME", "user for the handshake" },
	{ O_PASSWORD, "password", "PASSWORD", "password for the handshake" },
	{ O_TLS, "tls", NULL, "connect with TLS" },
	{ OPT_TLS_CA, "ca-file", "FILE", "CA certificates to verify servers "
	    "(default: the system's)" },
	{ OPT_TLS_CERT, "cert", "FILE", "client certificate (PEM)" },
	{ OPT_TLS_KEY, "key", "FILE", "client private key (PEM)" },
	{ OPT_TLS_VERIFY_NAME, "tls-verify-hostname", "NAME", "name the "
	    "server certificate must carry (default: HOST)" },
	{ OPT_TLS_INSECURE, "insecure", NULL, "do not verify server "
	    "certificates" },
	{ OPT_TLS_CA, "tls-ca", "FILE", "the same as --ca-file" },
	{ OPT_TLS_CERT, "tls-cert", "FILE", "the same as --cert" },
	{ OPT_TLS_KEY, "tls-key", "FILE", "the same as --key" },
	{ OPT_TLS_VERIFY_NAME, "tls-verify-name", "NAME", "the same as "
	    "--tls-verify-hostname" },
	{ OPT_TLS_INSECURE, "tls-insecure", NULL, "the same as --insecure" },
	OPT_TLS_COMMON,
	{ OPT_TLS_PASS_FILE, "key-passphrase-file", "FILE", "the passphrase "
	    "of an encrypted --key: the first line of FILE" },
	{ OPT_TLS_PASS_FILE, "tls-key-passphrase-file", "FILE", "the same as "
	    "--key-passphrase-file" },
	{ O_DNS_RR, "dns-round-robin", NULL, "each connection goes to the "
	    "next address of the server's name" },
	{ O_SHUTDOWN, "shutdown-timeout", "DURATION", "after SIGTERM, time "
	    "left to deliver what is held (default 10s)" },
	OPT_INPUT,
	OPT_METRICS,
	OPT_STD,
	OPT_END
};

static const struct opt_exit exits[] = {
	{ 0, "every event read was delivered (acknowledged, with --ack)" },
	OPT_EXIT_USAGE,
	{ 3, "bad input data: the events before it were delivered" },
	{ 4, "some events were not delivered, or stdin could not be read: "
	    "the message says which" },
	OPT_EXIT_END
};

static const struct opt_prog prog = { USAGE, ABOUT, opts, exits, 0 };

struct options o = {
	.ack_ms = 190000, .flush_ms = 1000, .hb_ms = 1000, .hard_ms = 60000,
	.recover_ms = 10000, .retry = RETRY_DEFAULTS,
	.connect_ms = 10000, .send_ms = 60000, .shutdown_ms = 10000,
	.chunk_size = 1u << 20, .buffer_limit = 64u << 20, .phi = 16
};

struct counts cnt;
static struct sink_stop stop;   /* a stop signal: delivering what is held */
static long long ended_at;      /* when the input ended, or 0 */
static int wait_said;           /* the wait at the end was said */

/* --- the loop ---------------------------------------------------------- */

static int
all_nodes(struct node **list)
{
	int i, k = 0;

	for (i = 0; i < srv.n; i++)
		list[k++] = &srv.nodes[i];
	if (srv.sec)
		list[k++] = srv.sec;
	return k;
}

static int
all_done(void)
{
	struct node *list[MAX_NODES + 1];
	int i, nn;

	if (!intake.eof || rq.pending.head)
		return 0;
	for (i = 0; i < NSLOTS; i++)
		if (rq.open[i])
			return 0;
	nn = all_nodes(list);
	for (i = 0; i < nn; i++)
		if (list[i]->q.head || list[i]->nflight || list[i]->fd >= 0)
			return 0;
	return 1;
}

/*
 * Sealed requests wait for servers that are up: reading on would only
 * hold more in memory, so stdin waits (and its writer with it).  With no
 * server up (the secondary aside), --buffer-limit alone bounds what is
 * held, to ride out the outage.
 */
static int
backlogged(void)
{
	size_t waiting = rq.pending.n + (srv.sec ? srv.sec->q.n : 0);
	int i, up = 0;

	for (i = 0; i < srv.n; i++) {
		waiting += srv.nodes[i].q.n;
		up += node_usable(&srv.nodes[i]);
	}
	return up > 0 && waiting >= (size_t)up;
}

/* --- the wait at the end ------------------------------------------------ */

#define WAIT_SAY_MS 500         /* a wait at the end this long is said */

/* A duration for messages: 250ms, 9.5s, 4m20s, 72h0m. */
static const char *
dur_str(long long ms, char *b, size_t cap)
{
	if (ms < 1000)
		snprintf(b, cap, "%lldms", ms);
	else if (ms < 60000)
		snprintf(b, cap, "%.1fs", ms / 1000.0);
	else if (ms < 2 * 3600000LL)
		snprintf(b, cap, "%lldm%llds", ms / 60000, ms / 1000 % 60);
	else
		snprintf(b, cap, "%lldh%lldm", ms / 3600000, ms / 60000 % 60);
	return b;
}

#define TRIES_COUNTED 10000      /* past them, --retry-timeout bounds */

/*
 * The most tries from fails failures on can take, at most --retry-timeout
 * past the first failure (in double: the options go up to 9.2e18 ms).
 */
static double
tries_ms(int fails, long long first_fail, long long now)
{
	double one = (double)o.connect_ms + o.send_ms + (o.ack ? o.ack_ms : 0);
	double by_time, by_count = 0;
	long long f;

	by_time = first_fail ? (double)first_fail + o.retry.timeout_ms - now :
	    one + o.retry.timeout_ms;
	by_time = (by_time > 0 ? by_time : 0) + o.retry.max_ms + one;
	if (o.retry.times < 0 || o.retry.times - fails >= TRIES_COUNTED)
		return by_time;
	for (f = fails; f <= o.retry.times; f++)
		by_count += one + (f && o.retry.wait_ms > 0 ?
		    retry_wait(&o.retry, (int)f) : 0);
	return by_count < by_time ? by_count : by_time;
}

/*
 * The longest c may still take to be delivered or given up, or -1 for
 * no limit: its tries end after --retry-max-times failures, or at the
 * first failure past --retry-timeout; then the secondary's tries follow.
 */
static long long
give_up_in(const struct chunk *c, long long now)
{
	double left;

	if (o.retry.forever)
		return -1;
	left = tries_ms(c->fails, c->first_fail, now);
	if (srv.sec && !c->on_secondary)
		left += tries_ms(0, 0, now);
	return left < 1e15 ? (long long)left : (long long)1e15;
}

/* What is outstanding at the end, and the longest it may take. */
struct waiting {
	uint64_t req, ev;       /* requests waiting to be sent, all events */
	uint64_t flight;        /* requests sent, not yet acked or written */
	long long most;         /* -1: no limit */
};

static void
wait_add(struct waiting *w, const struct chunk *c, long long now)
{
	long long t = give_up_in(c, now);

	w->ev += c->n;
	if (w->most >= 0 && (t < 0 || t > w->most))
		w->most = t;
}

static void
wait_tally(struct waiting *w, long long now)
{
	struct node *list[MAX_NODES + 1];
	const struct chunk *c;
	int i, k, nn = all_nodes(list);

	for (c = rq.pending.head; c; c = c->next, w->req++)
		wait_add(w, c, now);
	for (i = 0; i < nn; i++) {
		for (c = list[i]->q.head; c; c = c->next, w->req++)
			wait_add(w, c, now);
		for (k = 0; k < list[i]->nflight; k++, w->flight++)
			wait_add(w, list[i]->flight[k], now);
	}
}

/*
 * Appends to b the names of up to two servers (then how many more):
 * with flight, those with requests in flight (the secondary too); else
 * the regular ones not connected.
 */
static void
names(char *b, size_t cap, int flight)
{
	struct node *list[MAX_NODES + 1];
	size_t len;
	int i, k = 0, nn = flight ? all_nodes(list) : srv.n;

	for (i = 0; i < nn; i++) {
		if (!flight)
			list[i] = &srv.nodes[i];
		if (flight ? !list[i]->nflight : list[i]->state == N_READY)
			continue;
		len = strlen(b);
		if (k++ < 2)
			snprintf(b + len, cap - len, "%s%s", k > 1 ? ", " : "",
			    list[i]->name);
	}
	len = strlen(b);
	if (k > 2)
		snprintf(b + len, cap - len, " and %d more", k - 2);
}

/* What the requests outstanding wait for, in b. */
static void
wait_what(const struct waiting *w, char *b, size_t cap)
{
	char down[600] = "";
	size_t len;

	b[0] = '\0';
	if (w->flight) {
		snprintf(b, cap, "%s", o.ack ? "acks from " : "the writes to ");
		names(b, cap, 1);
	}
	if (!w->req)
		return;
	names(down, sizeof(down), 0);
	/* every server connected: the requests queue behind those in flight */
	if (!down[0] && w->flight)
		return;
	len = strlen(b);
	snprintf(b + len, cap - len, "%s%s%s", w->flight ? " and " : "",
	    down[0] ? "a connection to " : "a server to send to", down);
}

/*
 * Says once, when the end of the input (or a stop signal) is a while
 * past and requests are still outstanding, what lforward waits for and
 * for how long at most.
 */
static void
say_waiting(void)
{
	struct waiting w = { 0 };
	long long now = clock_ms(), grace = WAIT_SAY_MS;
	char what[800], t[32], lim[64];

	if (wait_said || !intake.eof)
		return;
	if (!ended_at)
		ended_at = now;
	if (stop.stopping && o.shutdown_ms / 2 < grace)
		grace = o.shutdown_ms / 2;
	if (now - ended_at < grace)
		return;
	wait_said = 1;
	wait_tally(&w, now);
	if (!w.req && !w.flight)
		return;
	wait_what(&w, what, sizeof(what));
	if (stop.stopping)
		snprintf(lim, sizeof(lim), "at most %s (--shutdown-timeout)",
		    dur_str(stop.deadline > now ? stop.deadline - now : 0, t,
		    sizeof(t)));
	else if (w.most < 0)
		snprintf(lim, sizeof(lim), "with no time limit "
		    "(--retry-forever)");
	else
		snprintf(lim, sizeof(lim), "at most %s (%s)", dur_str(w.most, t,
		    sizeof(t)), o.retry.times >= 0 ? "--retry-max-times and "
		    "the timeouts" : "--retry-timeout");
	warn("%s: waiting for %s: %llu requests (%llu events) outstanding, "
	    "%s", stop.stopping ? "stopping" : "end of input", what,
	    (unsigned long long)(w.req + w.flight), (unsigned long long)w.ev,
	    lim);
}

static void
loop_once(void)
{
	struct pollfd pf[2 * MAX_NODES + 4];
	struct node *list[MAX_NODES + 1], *who[2 * MAX_NODES + 4];
	int kind[2 * MAX_NODES + 4];
	int i, k, np = 0, nn, in_slot = -1, r, timeout = 100;
	long long now = clock_ms();

	pf[np].fd = sig_fd();
	pf[np++].events = POLLIN;
	if (!intake.eof && !stop.stopping && rq.held < o.buffer_limit &&
	    !backlogged()) {
		in_slot = np;
		pf[np].fd = 0;
		pf[np++].events = POLLIN;
	}
	nn = all_nodes(list);
	for (i = 0; i < nn; i++) {
		if (list[i]->fd >= 0) {
			who[np] = list[i];
			kind[np] = 0;
			pf[np].fd = list[i]->fd;
			pf[np++].events = node_poll_events(list[i]);
		}
		if (list[i]->hb_fd >= 0) {
			who[np] = list[i];
			kind[np] = 1;
			pf[np].fd = list[i]->hb_fd;
			pf[np++].events = node_hb_events(list[i]);
		}
		if (list[i]->ssl && SSL_pending(list[i]->ssl))
			timeout = 0;
		else if (list[i]->lookup && timeout > 5)
			timeout = 5;    /* a name's lookup is polled */
	}
	r = poll(pf, np, metrics_timeout(timeout));
	if (r < 0 && errno != EINTR)
		die(EX_SYS, "poll:");
	if (r > 0 && pf[0].revents) {
		sig_drain();
		sig_service();
	}
	if (in_slot >= 0 && r > 0 && pf[in_slot].revents)
		intake_read();
	else if (in_slot >= 0)
		chunk_seal_all(0);      /* stdin is idle: send what is held */
	chunk_seal_all(1);
	for (k = 1; k < np; k++) {
		if (k == in_slot || (!pf[k].revents && !(kind[k] == 0 &&
		    who[k]->ssl && SSL_pending(who[k]->ssl))))
			continue;
		if (kind[k] == 0 && who[k]->fd == pf[k].fd)
			node_io(who[k], pf[k].revents);
		else if (kind[k] == 1 && who[k]->hb_fd == pf[k].fd)
			node_hb_io(who[k], pf[k].revents);
	}
	now = clock_ms();
	for (i = 0; i < nn; i++)
		node_watch(list[i], now);
	chunk_expire();
	chunk_assign();
	for (i = 0; i < nn; i++)
		node_timers(list[i]);
	intake_marks_return();
}

static void
run(void)
{
	while (!all_done() && sink_go_on(&stop, o.shutdown_ms, intake_end)) {
		loop_once();
		say_waiting();
	}
}

/* What was not delivered when the loop ended, counted. */
static void
count_undelivered(void)
{
	struct node *list[MAX_NODES + 1];
	struct chunk *c;
	int i, k, nn = all_nodes(list);

	chunk_seal_all(0);
	while ((c = chunk_pop(&rq.pending)))
		chunk_lost(c, "not delivered before exit");
	for (i = 0; i < nn; i++) {
		for (k = 0; k < list[i]->nflight; k++)
			chunk_lost(list[i]->flight[k], "not acknowledged "
			    "before exit");
		list[i]->nflight = 0;
		while ((c = chunk_pop(&list[i]->q)))
			chunk_lost(c, "not delivered before exit");
		node_close(list[i]);
		node_hb_close(list[i]);
		node_free(list[i]);
		buf_free(&list[i]->rb);
		buf_free(&list[i]->hs);
	}
}

/* --- setup ------------------------------------------------------------- */

/* Host and port of a server (s, its options cut off), or a usage error. */
static void
split_server(struct node *n, const char *s, const char *arg, int secondary)
{
	const char *what = secondary ? "--secondary server" : "server";

	if (strncmp(s, "unix:", 5) == 0) {
		/* a unix socket's path: struct sockaddr_un holds 107 bytes */
		if (!s[5] || strlen(s + 5) > 107)
			die(EX_USAGE, "bad %s '%s': want unix:PATH, a path of 1 "
			    "to 107 bytes", what, arg);
		snprintf(n->host, sizeof(n->host), "%s", s + 5);
		n->unix_path = 1;
		return;
	}
	if (net_split(s, "", "24224", n->host, sizeof(n->host), n->port,
	    sizeof(n->port)) < 0)
		die(EX_USAGE, "bad %s '%s': want HOST:PORT, a host of up to "
		    "255 bytes and a port from 1 to 65535", what, arg);
	if (!n->host[0])
		die(EX_USAGE, "bad %s '%s': no host", what, arg);
	if (atoi(n->port) == 0)
		die(EX_USAGE, "bad %s '%s': port 0 (want 1 to 65535)", what,
		    arg);
}

/* A ,key=value server option that takes a string; 0 if tok is not key=. */
static int
str_opt(const char *tok, const char *key, char **dst, int empty_ok,
    const char *arg)
{
	size_t kl = strlen(key);

	if (strncmp(tok, key, kl) != 0 || tok[kl] != '=')
		return 0;
	if (!tok[kl + 1] && !empty_ok)
		die(EX_USAGE, "bad server option '%s' in '%s': empty", tok, arg);
	free(*dst);
	*dst = xstrdup(tok + kl + 1);
	return 1;
}

/* The options after a server's address: weight=, standby, name=, ... */
static void
node_opts(struct node *n, char *opt, const char *arg, int secondary)
{
	char *tok, *save = NULL, *name = NULL;
	long long w;

	for (tok = opt ? strtok_r(opt, ",", &save) : NULL; tok;
	    tok = strtok_r(NULL, ",", &save)) {
		if (strncmp(tok, "weight=", 7) == 0 && (w = opt_uint(tok + 7))
		    >= 1 && w <= 1000 && !secondary)
			n->weight = (int)w;
		else if (strcmp(tok, "standby") == 0 && !secondary)
			n->standby = 1;
		else if (!str_opt(tok, "name", &name, 0, arg) &&
		    !str_opt(tok, "shared_key", &n->shared_key, 1, arg) &&
		    !str_opt(tok, "username", &n->username, 0, arg) &&
		    !str_opt(tok, "password", &n->password, 1, arg))
			die(EX_USAGE, "bad %sserver option '%s' in '%s'",
			    secondary ? "--secondary " : "", tok, arg);
	}
	if (name && strlen(name) >= sizeof(n->tls_name))
		die(EX_USAGE, "bad server option 'name=%s' in '%s': longer than "
		    "255 bytes", name, arg);
	if (name)
		snprintf(n->tls_name, sizeof(n->tls_name), "%s", name);
	free(name);
}

static void
parse_node(struct node *n, const char *arg, int secondary)
{
	char *s = xstrdup(arg), *opt = strchr(s, ',');

	if (opt)
		*opt++ = '\0';
	split_server(n, s, arg, secondary);
	n->weight = 60;
	node_opts(n, opt, arg, secondary);
	if (n->tls_name[0])
		snprintf(n->name, sizeof(n->name), "%s%s", secondary ?
		    "secondary " : "", n->tls_name);
	else if (n->unix_path)
		snprintf(n->name, sizeof(n->name), "%sunix:%s", secondary ?
		    "secondary " : "", n->host);
	else
		snprintf(n->name, sizeof(n->name), "%s%s:%s", secondary ?
		    "secondary " : "", n->host, n->port);
	n->secondary = secondary;
	n->available = 1;
	n->fd = n->hb_fd = -1;
	n->state = N_IDLE;
	if (fwd_salt(n->salt) < 0)
		die(EX_SYS, "unable to get random bytes");
	free(s);
}

static void
option(int c, const char *arg)
{
	static const char *const comp[] = { "text", "gzip", "zstd", NULL };
	static const char *const hb[] = { "transport", "udp", "none", "tcp",
	    NULL };
	char *end;

	switch (c) {
	case O_ACK: o.ack = 1; break;
	case O_ACK_TIMEOUT: o.ack_ms = opt_duration_arg(arg, "ack-timeout"); break;
	case O_COMPRESS:
		o.compress = opt_choice_arg(arg, "compress", comp);
		break;
	case O_TIME_INT: o.time_int = 1; break;
	case O_CHUNK_SIZE:
		/* a request's entries carry a 32-bit length */
		if ((long long)(o.chunk_size = opt_size(arg)) <= 0 ||
		    o.chunk_size > (1u << 30))
			die(EX_USAGE, "bad size '%s' for --chunk-limit-size "
			    "(1 to 1G)", arg);
		break;
	case O_CHUNK_RECORDS:
		o.chunk_records = opt_uint_arg(arg, "chunk-limit-records");
		break;
	case O_BUFFER:
		if ((long long)(o.buffer_limit = opt_size(arg)) <= 0)
			die(EX_USAGE, "bad size '%s' for --buffer-limit", arg);
		break;
	case O_FLUSH: o.flush_ms = opt_duration_arg(arg, "flush-interval"); break;
	case O_HB:
		/* tcp: Fluentd's old name for transport */
		o.hb = opt_choice_arg(arg, "heartbeat", hb) % 3;
		break;
	case O_HB_INTERVAL: o.hb_ms = opt_duration_arg(arg, "heartbeat-interval"); break;
	case O_PHI:
		o.phi = strtod(arg, &end);
		if (*end || end == arg || o.phi <= 0)
			die(EX_USAGE, "bad number '%s' for --phi-threshold", arg);
		break;
	case O_HARD: o.hard_ms = opt_duration_arg(arg, "hard-timeout"); break;
	case O_RECOVER: o.recover_ms = opt_duration_arg(arg, "recover-wait"); break;
	case O_SECONDARY: o.secondary = arg; break;
	case O_KEEPALIVE: o.keepalive = 1; break;
	case O_CONNECT_TIMEOUT: o.connect_ms = opt_duration_arg(arg, "connect-timeout"); break;
	case O_SEND_TIMEOUT: o.send_ms = opt_duration_arg(arg, "send-timeout"); break;
	case O_BALANCE:
		if (strncmp(arg, "hash:", 5) != 0 || !arg[5])
			die(EX_USAGE, "--balance takes hash:KEY");
		o.hash_key = arg + 5;
		break;
	case O_SHARED_KEY: o.shared_key = arg; break;
	case O_SELF_HOST: o.self_host = arg; break;
	case O_USERNAME: o.username = arg; break;
	case O_PASSWORD: o.password = arg; break;
	case O_TLS: o.tls = 1; break;
	case O_DNS_RR: o.dns_rr = 1; break;
	case O_SHUTDOWN: o.shutdown_ms = opt_duration_arg(arg, "shutdown-timeout"); break;
	default:
		if (!tls_opt(&o.tlsopt, c, arg) &&
		    !retry_opt(&o.retry, c, arg))
			input_opt(c, arg);
		break;
	}
}

/*
 * A user for the handshake needs a shared key (the server's or
 * --shared-key); a unix:PATH server has no UDP heartbeats and no TLS.
 */
static void
servers_check(void)
{
	struct node *n;
	int i;

	for (i = 0; i <= MAX_NODES; i++) {
		n = &srv.nodes[i];
		if (i >= srv.n && n != srv.sec)
			continue;
		if ((n->username || n->password) && !n->shared_key &&
		    !o.shared_key)
			die(EX_USAGE, "bad server %s: username= and password= "
			    "need shared_key= or --shared-key", n->name);
		if ((o.username || o.password) && !n->shared_key &&
		    !o.shared_key)
			die(EX_USAGE, "--username and --password need "
			    "--shared-key (or shared_key= for %s)", n->name);
		if (!srv.nodes[i].unix_path)
			continue;
		if (o.hb == HB_UDP)
			die(EX_USAGE, "--heartbeat udp cannot watch unix:%s: use "
			    "transport or none", srv.nodes[i].host);
		if (o.tls)
			die(EX_USAGE, "--tls cannot go to unix:%s",
			    srv.nodes[i].host);
	}
}

static void
options(int argc, char **argv)
{
	const char *arg;
	int c;

	/* options may follow servers (GNU order); "--" ends them */
	while ((c = opt_get(argc, argv, &prog, &arg)) != -1)
		option(c, arg);
	for (; optind < argc; optind++) {
		if (srv.n == MAX_NODES)
			die(EX_USAGE, "more than %d servers", MAX_NODES);
		parse_node(&srv.nodes[srv.n++], argv[optind], 0);
	}
	if (!srv.n)
		opt_fail(&prog, "no server given: want at least one HOST:PORT");
	if (o.hb_ms <= 0)
		die(EX_USAGE, "--heartbeat-interval must be above 0");
	if (tls_opts_given(&o.tlsopt) && !o.tls)
		die(EX_USAGE, "TLS options need --tls");
	if (!o.tlsopt.cert != !o.tlsopt.key)
		die(EX_USAGE, "--cert and --key go together");
	if (o.tlsopt.pass_file && !o.tlsopt.key)
		die(EX_USAGE, "--key-passphrase-file needs --key");
	if (o.dns_rr && o.hb == HB_UDP)
		die(EX_USAGE, "--dns-round-robin needs --heartbeat transport "
		    "or none");
	/* a request's entries have a 32-bit length: one event stays below */
	if (input.max > 1u << 30)
		die(EX_USAGE, "--max-event-size goes up to 1G");
	if (o.secondary) {
		srv.sec = &srv.nodes[MAX_NODES];
		parse_node(srv.sec, o.secondary, 1);
	}
	servers_check();
}

static void
extra_stats(char *b, size_t cap)
{
	int n;

	n = snprintf(b, cap, ", delivered %llu, undelivered %llu, requests "
	    "%llu, retried %llu, held %zu bytes", (unsigned long long)cnt.done,
	    (unsigned long long)cnt.lost, (unsigned long long)cnt.requests,
	    (unsigned long long)cnt.retried, rq.held);
	if (n >= 0 && (size_t)n < cap)
		mark_return_stats(b + n, cap - n, reader_stats(intake.rd)->marks);
}

static void
sync_stats(void)
{
	stats.in = cnt.in;
	stats.out = cnt.done;
	stats.dropped = cnt.lost + input_dropped(intake.rd);
	stats.bytes_in = reader_stats(intake.rd)->bytes;
}

/* Says what became of the events; returns the exit status. */
static int
report(void)
{
	input_report(intake.rd, "stdin");
	input_stats();
	if (!cnt.lost && cnt.done == cnt.in)
		return intake.code;
	if (!o.lbuffer_chunk)
		warn("%llu of %llu events not delivered", (unsigned long long)
		    (cnt.in - cnt.done), (unsigned long long)cnt.in);
	else if (cnt.done)
		warn("%llu of %llu events not delivered: lbuffer keeps chunk "
		    "%s and retries it, all %llu events", (unsigned long long)
		    (cnt.in - cnt.done), (unsigned long long)cnt.in,
		    o.lbuffer_chunk, (unsigned long long)cnt.in);
	else
		warn("%llu of %llu events not delivered: lbuffer keeps chunk "
		    "%s and retries it", (unsigned long long)cnt.in,
		    (unsigned long long)cnt.in, o.lbuffer_chunk);
	return EX_SYS;
}

/*
 * Run by lbuffer (as its COMMAND), events not delivered stay in lbuffer's
 * chunk, which it retries: the messages say so.  The id, as lbuffer sets
 * it, is 16 hexadecimal digits.
 */
static void
under_lbuffer(void)
{
	const char *id = getenv("LBUFFER_CHUNK_ID");

	if (id && strlen(id) == 16 && strspn(id, "0123456789abcdef") == 16)
		o.lbuffer_chunk = id;
}

int
main(int argc, char **argv)
{
	int status;

	progname_set(argv[0]);
	options(argc, argv);
	under_lbuffer();
	xmalloc_tune();
	sig_init();
	stats_init(sync_stats, extra_stats);
	metrics_families();
	node_init();
	if (o.hash_key)
		chunk_ring_build();
	intake_init();
	run();
	count_undelivered();
	intake_marks_return();
	status = report();
	reader_free(intake.rd);
	chunk_free_all();
	node_end();
	return status;
}

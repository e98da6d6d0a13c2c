/* lrecv - accept the Forward protocol (TCP, TLS, UDP, unix) and HTTP input */
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "err.h"
#include "metrics.h"
#include "net.h"
#include "opt.h"
#include "sig.h"
#include "stats.h"
#include "stream.h"
#include "wait.h"

#include "lrecv.h"

#define USAGE "[options]"
#define ABOUT "Accept events over the Forward protocol (Fluentd in_forward), " \
	"HTTP (in_http)\nand syslog (in_syslog), and write them to stdout.  " \
	"Acks and HTTP responses are\nsent once the events are written " \
	"(with --end-to-end: delivered by the last stage)."

enum {
	O_LISTEN = OPT_LONG, O_UNIX, O_PORT_FILE, O_NO_UDP, O_SHARED_KEY,
	O_USER, O_SELF_HOST, O_ALLOW, O_CHUNK_LIMIT, O_CHUNK_WARN,
	O_SKIP_INVALID, O_SRC_HOST_KEY, O_SRC_ADDR_KEY, O_TAG_PREFIX,
	O_IDLE, O_MAX_CONN, O_DENY_KEEPALIVE, O_HTTP,
	O_BODY_LIMIT, O_CORS, O_ADD_HEADERS, O_ADD_REMOTE, O_METRICS, O_STATS,
	O_MEM_LIMIT, O_HANDSHAKE_TIMEOUT, O_REQUEST_TIMEOUT, O_E2E,
	O_E2E_TIMEOUT, O_SYSLOG, O_SYSLOG_TAG, O_SYSLOG_MAX,
	O_CLIENT, O_ALLOW_ANON, O_HTTP_204, O_TRUST_XFF, O_CORS_CRED
};

static const struct opt opts[] = {
	{ O_LISTEN, "listen", "[ADDR]:PORT", "Forward over TCP, and UDP "
	    "heartbeats, here (default 0.0.0.0:24224; repeatable; port 0 "
	    "picks one)" },
	{ O_UNIX, "unix", "PATH", "Forward over a unix socket at PATH" },
	{ O_PORT_FILE, "port-file", "FILE", "write the ports bound to FILE "
	    "(--listen's, http N, metrics N)" },
	{ O_NO_UDP, "no-udp", NULL, "do not answer UDP heartbeats" },
	{ O_SHARED_KEY, "shared-key", "KEY", "require the HELO/PING/PONG "
	    "handshake with KEY" },
	{ O_USER, "user", "NAME:PASSWORD", "also require this user (repeatable)" },
	{ O_SELF_HOST, "self-hostname", "NAME", "hostname sent in PONG "
	    "(default: the host name)" },
	{ O_DENY_KEEPALIVE, "deny-keepalive", NULL, "tell clients (HELO) not "
	    "to keep connections open" },
	{ O_ALLOW, "allow", "CIDR[,CIDR...]", "accept clients from these "
	    "addresses only (repeatable)" },
	{ O_CLIENT, "client", "CIDR[,shared_key=K][,users=A:B]", "clients "
	    "from CIDR use key K, users A and B only (repeatable)" },
	{ O_ALLOW_ANON, "allow-anonymous-source", "yes|no", "no: only "
	    "--client networks pass the handshake (default yes)" },
	{ O_CHUNK_LIMIT, "chunk-size-limit", "SIZE", "drop larger requests, "
	    "unacked, and close (default 64M)" },
	{ O_CHUNK_WARN, "chunk-size-warn", "SIZE", "log requests larger than "
	    "SIZE" },
	{ O_SKIP_INVALID, "skip-invalid-event", NULL, "drop invalid entries "
	    "alone and ack their request, instead of closing" },
	{ O_SRC_HOST_KEY, "source-hostname-key", "KEY", "add the client's "
	    "host name to each record as KEY" },
	{ O_SRC_ADDR_KEY, "source-address-key", "KEY", "add the client's "
	    "address to each record as KEY" },
	{ O_TAG_PREFIX, "add-tag-prefix", "PREFIX", "prepend PREFIX. to "
	    "every tag" },
	{ O_IDLE, "idle-timeout", "DURATION", "close connections silent this "
	    "long (default 300s, 0 never)" },
	{ O_HANDSHAKE_TIMEOUT, "handshake-timeout", "DURATION", "close "
	    "clients not through TLS and PING this long after connecting "
	    "(default 10s)" },
	{ O_REQUEST_TIMEOUT, "request-timeout", "DURATION", "drop a request "
	    "not whole this long after its first byte (default 60s, 0 never)" },
	{ O_MAX_CONN, "max-connections", "N", "refuse connections beyond N "
	    "(default 1024)" },
	{ O_MEM_LIMIT, "memory-limit", "SIZE", "refuse requests that would "
	    "take connection buffers beyond SIZE in all (default 1G)" },
	{ OPT_TLS_CERT, "cert", "FILE", "serve TLS with this certificate "
	    "chain (PEM)" },
	{ OPT_TLS_KEY, "key", "FILE", "the private key of --cert (PEM)" },
	{ OPT_TLS_CA, "ca-file", "FILE", "require client certificates signed "
	    "by these CAs" },
	{ OPT_TLS_CLIENT_NAME, "tls-client-name", "NAME", "with --ca-file: "
	    "require a client certificate for NAME (repeatable)" },
	OPT_TLS_COMMON,
	{ OPT_TLS_PASS_FILE, "key-passphrase-file", "FILE", "the passphrase "
	    "of an encrypted --key: the first line of FILE" },
	{ O_HTTP, "http", "[tls:][ADDR]:PORT", "accept HTTP POST /TAG (Fluentd "
	    "in_http) here; tls: HTTPS, with --cert" },
	{ O_BODY_LIMIT, "body-size-limit", "SIZE", "largest HTTP body, "
	    "else 413 (default 32M)" },
	{ O_CORS, "cors-allow-origins", "ORIGIN[,ORIGIN...]", "answer CORS "
	    "for these origins (* for any); 403 others" },
	{ O_ADD_HEADERS, "add-http-headers", NULL, "add the request headers "
	    "to records as HTTP_NAME" },
	{ O_ADD_REMOTE, "add-remote-addr", NULL, "add the client address to "
	    "records as REMOTE_ADDR" },
	{ O_TRUST_XFF, "trust-forwarded-for", NULL, "REMOTE_ADDR is the first "
	    "X-Forwarded-For address, if any" },
	{ O_HTTP_204, "http-204", NULL, "answer 204 No Content, not 200 "
	    "(in_http use_204_response)" },
	{ O_CORS_CRED, "cors-allow-credentials", NULL, "send "
	    "Access-Control-Allow-Credentials: true to allowed origins" },
	{ O_METRICS, "metrics", "[tls:][ADDR]:PORT", "serve /metrics "
	    "(Prometheus) and /api/plugins.json here; tls: HTTPS" },
	{ O_SYSLOG, "syslog", "tcp|udp|tls:[ADDR]:PORT", "accept syslog "
	    "(RFC 5424, 3164) here (repeatable)" },
	{ O_SYSLOG_TAG, "syslog-tag", "PREFIX", "tag syslog events "
	    "PREFIX.FACILITY.SEVERITY (default syslog)" },
	{ O_SYSLOG_MAX, "syslog-max-size", "SIZE", "drop larger syslog "
	    "messages (default 64k)" },
	{ O_E2E, "end-to-end", NULL, "ack and answer only once the last lkit "
	    "stage delivered the events" },
	{ O_E2E_TIMEOUT, "end-to-end-timeout", "DURATION", "give up a reply "
	    "not confirmed by then: no ack, or 503 (default 30s)" },
	{ O_STATS, "stats", NULL, "print counters to stderr at exit" },
	OPT_METRICS,
	OPT_STD,
	OPT_END
};

static const struct opt_exit exits[] = {
	{ 0, "stopped by a signal" },
	OPT_EXIT_USAGE,
	{ 4, "system failure: a port, standard output" },
	OPT_EXIT_PIPE,
	OPT_EXIT_END
};

static const struct opt_prog prog = { USAGE, ABOUT, opts, exits, 0 };

struct options o = { .chunk_limit = 64u << 20, .idle_ms = 300000,
	.max_conn = 1024, .body_limit = 32u << 20, .mem_limit = 1u << 30,
	.handshake_ms = 10000, .request_ms = 60000, .e2e_ms = 30000,
	.syslog_tag = "syslog", .syslog_max = 64u << 10 };

/* --allow: a list of address ranges. */
static void
add_allow(const char *arg)
{
	char *s = xstrdup(arg), *tok, *save = NULL;

	for (tok = strtok_r(s, ", ", &save); tok; tok = strtok_r(NULL, ", ",
	    &save)) {
		if (o.nallow == MAX_ALLOW)
			die(EX_USAGE, "more than %d --allow ranges", MAX_ALLOW);
		if (net_cidr_parse(tok, &o.allow[o.nallow++]) < 0)
			die(EX_USAGE, "bad address range '%s' for --allow", tok);
	}
	free(s);
}

/* --user NAME:PASSWORD. */
static void
add_user(const char *arg)
{
	const char *colon = strchr(arg, ':');

	if (!colon || colon == arg)
		die(EX_USAGE, "--user wants NAME:PASSWORD, not '%s'", arg);
	if (o.nusers == MAX_USERS)
		die(EX_USAGE, "more than %d --user options", MAX_USERS);
	o.users[o.nusers].name = xstrndup(arg, colon - arg);
	o.users[o.nusers].pass = xstrdup(colon + 1);
	o.nusers++;
}

/* Splits and resolves addr as --opt would listen on it, or exits 2. */
static void
check_address(const char *addr, const char *defport, const char *opt)
{
	char host[256], port[32];
	struct addrinfo hints, *res;
	int e;

	if (net_split(addr, "0.0.0.0", defport, host, sizeof(host), port,
	    sizeof(port)) < 0)
		die(EX_USAGE, "bad address '%s' for --%s: want [HOST]:PORT, the "
		    "port from 0 to 65535", addr, opt);
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((e = getaddrinfo(*host ? host : NULL, port, &hints, &res)) != 0)
		die(e == EAI_SYSTEM || e == EAI_MEMORY ? EX_SYS : EX_USAGE,
		    "bad address '%s' for --%s: %s", addr, opt,
		    gai_strerror(e));
	freeaddrinfo(res);
}

/* Every address, before any listener opens: a typo is a usage error. */
static void
check_addresses(void)
{
	int i;

	if (!o.nlisten && !o.unix_path && !o.http && !o.nsyslog)
		o.listen[o.nlisten++] = "0.0.0.0:24224";
	for (i = 0; i < o.nlisten; i++)
		check_address(o.listen[i], "24224", "listen");
	if (o.http)
		check_address(o.http, "9880", "http");
	if (o.metrics)
		check_address(o.metrics, "24231", "metrics");
	for (i = 0; i < o.nsyslog; i++) {
		if (strncmp(o.syslog[i], "tcp:", 4) != 0 &&
		    strncmp(o.syslog[i], "udp:", 4) != 0 &&
		    strncmp(o.syslog[i], "tls:", 4) != 0)
			die(EX_USAGE, "bad address '%s' for --syslog: want "
			    "tcp:[HOST]:PORT, udp:[HOST]:PORT or "
			    "tls:[HOST]:PORT", o.syslog[i]);
		if (strncmp(o.syslog[i], "tls:", 4) == 0 && !o.tls.cert)
			die(EX_USAGE, "--syslog %s needs --cert and --key",
			    o.syslog[i]);
		check_address(o.syslog[i] + 4, "514", "syslog");
		if (strncmp(o.syslog[i], "udp:", 4) != 0)
			conns.kind_used[K_SYSLOG] = 1;  /* has connections */
	}
	conns.kind_used[K_FWD] = o.nlisten > 0 || o.unix_path;
	conns.kind_used[K_HTTP] = !!o.http;
	conns.kind_used[K_METRICS] = !!o.metrics;
}

/* Reads the options into o; a usage error exits 2. */
static void
options(int argc, char **argv)
{
	/* deny: index % 2 == 1 */
	static const char *const yes_no[] = { "yes", "no", "true", "false",
	    NULL };
	const char *arg;
	long long v;
	int c, e2e_timeout_set = 0;

	while ((c = opt_get(argc, argv, &prog, &arg)) != -1) {
		switch (c) {
		case O_LISTEN:
			if (o.nlisten == MAX_LISTEN)
				die(EX_USAGE, "more than %d --listen", MAX_LISTEN);
			o.listen[o.nlisten++] = arg;
			break;
		case O_UNIX: o.unix_path = arg; break;
		case O_PORT_FILE: o.port_file = arg; break;
		case O_NO_UDP: o.no_udp = 1; break;
		case O_SHARED_KEY: o.shared_key = arg; break;
		case O_USER: add_user(arg); break;
		case O_SELF_HOST: o.self_host = arg; break;
		case O_DENY_KEEPALIVE: o.deny_keepalive = 1; break;
		case O_ALLOW: add_allow(arg); break;
		case O_CLIENT: client_add(arg); break;
		case O_ALLOW_ANON:
			o.deny_anon = opt_choice_arg(arg,
			    "allow-anonymous-source", yes_no) % 2;
			break;
		case O_CHUNK_LIMIT:
			o.chunk_limit = opt_size_arg(arg, "chunk-size-limit");
			break;
		case O_CHUNK_WARN:
			o.chunk_warn = opt_size_arg(arg, "chunk-size-warn");
			break;
		case O_SKIP_INVALID: o.skip_invalid = 1; break;
		case O_SRC_HOST_KEY: o.src_host_key = arg; break;
		case O_SRC_ADDR_KEY: o.src_addr_key = arg; break;
		case O_TAG_PREFIX: o.tag_prefix = arg; break;
		case O_IDLE:
			o.idle_ms = opt_duration_arg(arg, "idle-timeout");
			break;
		case O_HANDSHAKE_TIMEOUT:
			o.handshake_ms = opt_duration_arg(arg, "handshake-timeout");
			break;
		case O_REQUEST_TIMEOUT:
			o.request_ms = opt_duration_arg(arg, "request-timeout");
			break;
		case O_MEM_LIMIT:
			o.mem_limit = opt_size_arg(arg, "memory-limit");
			break;
		case O_MAX_CONN:
			if ((v = opt_uint(arg)) <= 0 || v > 1000000)
				die(EX_USAGE, "bad number '%s' for "
				    "--max-connections", arg);
			o.max_conn = (int)v;
			break;
		case O_HTTP:
			if ((o.http_tls = strncmp(arg, "tls:", 4) == 0))
				arg += 4;
			o.http = arg;
			break;
		case O_METRICS:
			if ((o.metrics_tls = strncmp(arg, "tls:", 4) == 0))
				arg += 4;
			o.metrics = arg;
			break;
		case O_BODY_LIMIT:
			o.body_limit = opt_size_arg(arg, "body-size-limit");
			break;
		case O_CORS: o.cors = arg; break;
		case O_ADD_HEADERS: o.add_headers = 1; break;
		case O_ADD_REMOTE: o.add_remote = 1; break;
		case O_TRUST_XFF: o.trust_xff = 1; break;
		case O_HTTP_204: o.http_204 = 1; break;
		case O_CORS_CRED: o.cors_cred = 1; break;
		case O_E2E: o.e2e = 1; break;
		case O_E2E_TIMEOUT:
			e2e_timeout_set = 1;
			o.e2e_ms = opt_duration_arg(arg, "end-to-end-timeout");
			if (o.e2e_ms == 0)
				die(EX_USAGE, "bad duration '%s' for "
				    "--end-to-end-timeout: it must be above 0",
				    arg);
			break;
		case O_SYSLOG:
			if (o.nsyslog == MAX_SYSLOG)
				die(EX_USAGE, "more than %d --syslog", MAX_SYSLOG);
			o.syslog[o.nsyslog++] = arg;
			break;
		case O_SYSLOG_TAG: o.syslog_tag = arg; break;
		case O_SYSLOG_MAX:
			o.syslog_max = opt_size_arg(arg, "syslog-max-size");
			if (o.syslog_max == 0 || o.syslog_max > (64u << 20))
				die(EX_USAGE, "bad size '%s' for --syslog-max-size: "
				    "from 1 to 64M", arg);
			break;
		case O_STATS: o.stats = 1; break;
		default:
			if (!tls_opt(&o.tls, c, arg))
				metrics_opt(c, arg);
			break;
		}
	}
	if (!o.tls.cert != !o.tls.key)
		die(EX_USAGE, "--cert and --key go together");
	if (o.tls.ca && !o.tls.cert)
		die(EX_USAGE, "--ca-file needs --cert and --key");
	if ((o.tls.min_version || o.tls.ciphers || o.tls.pass_file) &&
	    !o.tls.cert)
		die(EX_USAGE, "TLS options need --cert and --key");
	if (o.http_tls && !o.tls.cert)
		die(EX_USAGE, "--http tls:%s needs --cert and --key", o.http);
	if (o.metrics_tls && !o.tls.cert)
		die(EX_USAGE, "--metrics tls:%s needs --cert and --key",
		    o.metrics);
	if (o.tls.nnames && !o.tls.ca)
		die(EX_USAGE, "--tls-client-name needs --ca-file (client "
		    "certificates)");
	if (optind != argc)
		opt_fail(&prog, "unexpected operand '%s': lrecv takes its "
		    "addresses as options", argv[optind]);
	if (o.nusers && !o.shared_key)
		die(EX_USAGE, "--user needs --shared-key (the handshake)");
	client_check();
	if (o.trust_xff && !o.add_remote)
		die(EX_USAGE, "--trust-forwarded-for needs --add-remote-addr");
	if (o.cors_cred && (!o.cors || strchr(o.cors, '*')))
		die(EX_USAGE, "--cors-allow-credentials needs "
		    "--cors-allow-origins with no *: the origin is echoed");
	if (o.self_host && !o.shared_key)
		warn("--self-hostname is used only with --shared-key");
	if (e2e_timeout_set && !o.e2e)
		warn("--end-to-end-timeout is used only with --end-to-end");
	check_addresses();
}

int
main(int argc, char **argv)
{
	int i;

	progname_set(argv[0]);
	options(argc, argv);
	xmalloc_tune();
	sig_init();
	metrics_init();
	e2e_init();
	loop_init();
	conn_tls_init();
	loop_stdout();
	loop_listen();
	loop_run();
	loop_end();
	metrics_write();
	if (o.stats)
		stats_print();
	if (counts.skipped)
		warn("skipped invalid data in %llu places (--skip-invalid-event)",
		    (unsigned long long)counts.skipped);
	syslog_in_end();
	loop_free();
	e2e_free();
	for (i = 0; i < o.nusers; i++) {
		free(o.users[i].name);
		free(o.users[i].pass);
	}
	client_free();
	conn_tls_end();
	return EX_OK;
}

/* xfer - lhttp's requests, through libcurl's multi interface */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <curl/curl.h>

#include "err.h"
#include "metrics.h"
#include "sig.h"
#include "tls.h"

#include "bulkresp.h"
#include "lhttp.h"

#ifndef LKIT_VERSION
#define LKIT_VERSION "0.0"
#endif

#define TOKEN_MAX 65536         /* --bearer-file */

/* A worker: one request in flight at a time, its handle reused. */
struct slot {
	CURL *easy;
	struct batch *b;        /* NULL when idle */
	struct buf resp;
	size_t resp_max;
	char err[CURL_ERROR_SIZE];
};

static CURLM *multi;
static struct slot slots[MAX_WORKERS];
static int busy;
static struct curl_slist *hdrs;         /* for the next request */
static struct curl_slist *old[8];       /* replaced, maybe still in use */
static int nold;
static char *token;                     /* --bearer or --bearer-file */

/* --- headers ------------------------------------------------------------- */

static int
has_header(const char *name)
{
	size_t i, n = strlen(name);

	for (i = 0; i < o.nheaders; i++)
		if (strncasecmp(o.headers[i], name, n) == 0 &&
		    o.headers[i][n] == ':')
			return 1;
	return 0;
}

static struct curl_slist *
add(struct curl_slist *l, const char *h)
{
	struct curl_slist *n = curl_slist_append(l, h);

	if (!n)
		die(EX_SYS, "out of memory");
	return n;
}

/* The request headers: ours first, then --header, then the token. */
static struct curl_slist *
build_headers(void)
{
	struct curl_slist *l = NULL;
	char ctype[64], *auth;
	size_t i;

	if (!has_header("Content-Type")) {
		snprintf(ctype, sizeof(ctype), "Content-Type: %s",
		    format_content_type());
		l = add(l, ctype);
	}
	if (o.gzip)
		l = add(l, "Content-Encoding: gzip");
	l = add(l, "Expect:");          /* no 100-continue round trip */
	for (i = 0; i < o.nheaders; i++)
		l = add(l, o.headers[i]);
	if (token) {
		auth = xmalloc(strlen(token) + 32);
		sprintf(auth, "Authorization: Bearer %s", token);
		l = add(l, auth);
		free(auth);
	}
	return l;
}

/*
 * Reads the token of --bearer-file (trailing white space cut): 0, or -1
 * with a message in err.
 */
static int
read_token(char **out, char *err, size_t errcap)
{
	struct buf b = { 0 };
	ssize_t n;
	int fd;

	if ((fd = open(o.bearer_file, O_RDONLY | O_CLOEXEC)) < 0) {
		snprintf(err, errcap, "%s", strerror(errno));
		return -1;
	}
	do {
		buf_reserve(&b, 4096);
		n = read(fd, b.p + b.len, 4096);
		if (n > 0)
			b.len += n;
	} while ((n > 0 || (n < 0 && errno == EINTR)) && b.len <= TOKEN_MAX);
	close(fd);
	while (b.len && strchr(" \t\r\n", b.p[b.len - 1]))
		b.len--;
	buf_putc(&b, '\0');
	if (n < 0 || b.len - 1 > TOKEN_MAX || b.len == 1 ||
	    strpbrk(b.p, "\r\n")) {
		snprintf(err, errcap, "%s", n < 0 ? strerror(errno) :
		    "want one line of up to 64 KiB");
		buf_free(&b);
		return -1;
	}
	*out = b.p;
	return 0;
}

/* SIGHUP: --bearer-file read again, for the requests started from now. */
void
xfer_reload(void)
{
	char err[256], *t;

	if (!o.bearer_file)
		return;
	if (read_token(&t, err, sizeof(err)) < 0) {
		warn("unable to read --bearer-file %s: %s; the old token stays",
		    o.bearer_file, err);
		return;
	}
	free(token);
	token = t;
	if (nold == (int)(sizeof(old) / sizeof(old[0]))) {
		warn("too many reloads while requests are in flight; the old "
		    "token stays");
		return;
	}
	old[nold++] = hdrs;
	hdrs = build_headers();
}

/* Frees the replaced header lists no request uses any more. */
static void
free_old(void)
{
	if (busy)
		return;
	while (nold)
		curl_slist_free_all(old[--nold]);
}

/* --- set-up -------------------------------------------------------------- */

static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
	struct slot *s = arg;
	size_t len = size * n, keep = 0;

	if (s->resp.len < s->resp_max)
		keep = s->resp_max - s->resp.len;
	buf_put(&s->resp, p, len < keep ? len : keep);
	return len;
}

#define SET(e, opt, v) do { \
	if (curl_easy_setopt(e, opt, v) != CURLE_OK) \
		die(EX_SYS, "libcurl refused option " #opt); \
} while (0)

/*
 * The TLS version (1.2 and later unless --tls-min-version 1.3), the
 * cipher list split as common/tls does, the key's passphrase.
 */
static void
tls_set(CURL *e)
{
	char v12[1024], v13[1024];

	SET(e, CURLOPT_SSLVERSION, o.tls.min_version == TLS1_3_VERSION ?
	    (long)CURL_SSLVERSION_TLSv1_3 : (long)CURL_SSLVERSION_TLSv1_2);
	if (o.tls.ciphers && tls_ciphers_split(o.tls.ciphers, v12, sizeof(v12),
	    v13, sizeof(v13)) == 0) {
		if (v12[0])
			SET(e, CURLOPT_SSL_CIPHER_LIST, v12);
		if (v13[0])
			SET(e, CURLOPT_TLS13_CIPHERS, v13);
	}
	if (o.tls.pass_file)
		SET(e, CURLOPT_KEYPASSWD, o.tls_pass);
}

static void
slot_init(struct slot *s)
{
	CURL *e;

	if (!(e = s->easy = curl_easy_init()))
		die(EX_SYS, "unable to start libcurl");
	SET(e, CURLOPT_URL, o.url);
	SET(e, CURLOPT_PROTOCOLS_STR, "http,https");
	SET(e, CURLOPT_NOSIGNAL, 1L);
	SET(e, CURLOPT_USERAGENT, "lhttp/" LKIT_VERSION " (lkit)");
	SET(e, CURLOPT_TIMEOUT_MS, (long)o.timeout_ms);
	SET(e, CURLOPT_CONNECTTIMEOUT_MS, (long)o.connect_ms);
	SET(e, CURLOPT_WRITEFUNCTION, on_body);
	SET(e, CURLOPT_WRITEDATA, s);
	SET(e, CURLOPT_ERRORBUFFER, s->err);
	SET(e, CURLOPT_PRIVATE, s);
	SET(e, CURLOPT_POST, 1L);
	if (o.put)
		SET(e, CURLOPT_CUSTOMREQUEST, "PUT");
	if (o.user) {
		SET(e, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		SET(e, CURLOPT_USERPWD, o.user);
	}
	if (o.tls.ca)
		SET(e, CURLOPT_CAINFO, o.tls.ca);
	if (o.tls.cert)
		SET(e, CURLOPT_SSLCERT, o.tls.cert);
	if (o.tls.key)
		SET(e, CURLOPT_SSLKEY, o.tls.key);
	if (o.tls.insecure) {
		SET(e, CURLOPT_SSL_VERIFYPEER, 0L);
		SET(e, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	tls_set(e);
}

void
xfer_init(void)
{
	char err[256];
	int i;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		die(EX_SYS, "unable to start libcurl");
	if (o.bearer)
		token = xstrdup(o.bearer);
	if (o.bearer_file && read_token(&token, err, sizeof(err)) < 0)
		die(EX_USAGE, "unable to read --bearer-file %s: %s",
		    o.bearer_file, err);
	hdrs = build_headers();
	if (!(multi = curl_multi_init()))
		die(EX_SYS, "unable to start libcurl");
	/* one connection per worker, kept open between requests */
	curl_multi_setopt(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS,
	    (long)o.workers);
	curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, (long)o.workers);
	for (i = 0; i < o.workers; i++)
		slot_init(&slots[i]);
}

void
xfer_end(void)
{
	int i;

	for (i = 0; i < o.workers; i++) {
		curl_easy_cleanup(slots[i].easy);
		buf_free(&slots[i].resp);
	}
	curl_multi_cleanup(multi);
	curl_slist_free_all(hdrs);
	while (nold)
		curl_slist_free_all(old[--nold]);
	free(token);
	curl_global_cleanup();
}

/* --- requests ------------------------------------------------------------ */

int
xfer_idle_slots(void)
{
	return o.workers - busy;
}

int
xfer_busy(void)
{
	return busy;
}

/* The lowest seq of a batch in flight, or UINT64_MAX. */
uint64_t
xfer_low(void)
{
	uint64_t low = UINT64_MAX;
	int i;

	for (i = 0; i < o.workers; i++)
		if (slots[i].b && slots[i].b->seq < low)
			low = slots[i].b->seq;
	return low;
}

/* Sends b from an idle worker (there must be one). */
void
xfer_start(struct batch *b)
{
	struct slot *s = slots;
	CURLMcode rc;

	while (s->b)
		s++;
	s->b = b;
	s->resp.len = 0;
	s->resp_max = o.format == F_ES ? BULK_RESP_MAX : RESP_KEEP;
	s->err[0] = '\0';
	SET(s->easy, CURLOPT_HTTPHEADER, hdrs);
	SET(s->easy, CURLOPT_POSTFIELDS, b->body.p);
	SET(s->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)b->body.len);
	if ((rc = curl_multi_add_handle(multi, s->easy)) != CURLM_OK)
		die(EX_SYS, "libcurl: %s", curl_multi_strerror(rc));
	busy++;
}

/* A request is over: what the server said decides the batch's fate. */
static void
finish(struct slot *s, CURLcode rc)
{
	struct batch *b = s->b;
	char why[CURL_ERROR_SIZE + 400], text[256];
	const char *r;
	long status = 0;

	curl_multi_remove_handle(multi, s->easy);
	s->b = NULL;
	busy--;
	buf_reserve(&s->resp, 1);
	s->resp.p[s->resp.len] = '\0';
	r = s->resp.p;
	if (rc != CURLE_OK) {
		snprintf(why, sizeof(why), "unable to send: %s", s->err[0] ?
		    s->err : curl_easy_strerror(rc));
		batch_failed(b, why);
	} else {
		curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &status);
		metrics_http_answered(s->easy);
		switch (bulk_fate(status)) {
		case BULK_OK:
			if (o.format == F_ES)
				batch_bulk(b, r, s->resp.len);
			else
				batch_accepted(b);
			break;
		case BULK_RETRY:
			batch_msg_text(text, sizeof(text), r, s->resp.len);
			snprintf(why, sizeof(why), "HTTP %ld: %s", status, text);
			batch_failed(b, why);
			break;
		default:
			batch_rejected(b, (int)status, r, s->resp.len);
			break;
		}
	}
	if (s->resp.cap > (1u << 20))
		buf_free(&s->resp);
}

/*
 * Waits (at most timeout_ms) for the requests' sockets, a signal, or
 * standard input (in_fd, or -1 not to watch it).  Returns 1 if standard
 * input is readable.
 */
int
xfer_wait(int in_fd, int timeout_ms)
{
	struct curl_waitfd w[2];
	unsigned n = 1;

	w[0].fd = sig_fd();
	w[0].events = CURL_WAIT_POLLIN;
	w[0].revents = 0;
	if (in_fd >= 0) {
		w[1].fd = in_fd;
		w[1].events = CURL_WAIT_POLLIN;
		w[1].revents = 0;
		n = 2;
	}
	if (curl_multi_poll(multi, w, n, metrics_timeout(timeout_ms), NULL) !=
	    CURLM_OK)
		die(EX_SYS, "libcurl: unable to wait");
	if (w[0].revents) {
		sig_drain();
		sig_service();
	}
	return n == 2 && w[1].revents != 0;
}

/* Moves the requests on; the finished ones decide their batches' fate. */
void
xfer_run(void)
{
	CURLMsg *m;
	struct slot *s;
	int running, left;

	curl_multi_perform(multi, &running);
	while ((m = curl_multi_info_read(multi, &left))) {
		if (m->msg != CURLMSG_DONE)
			continue;
		s = NULL;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&s);
		if (s && s->b)
			finish(s, m->data.result);
	}
	free_old();
}

/* At exit: the requests still in flight are given up. */
void
xfer_lose_all(void)
{
	int i;

	for (i = 0; i < o.workers; i++) {
		if (!slots[i].b)
			continue;
		curl_multi_remove_handle(multi, slots[i].easy);
		batch_lost(slots[i].b, "not answered before exit");
		slots[i].b = NULL;
		busy--;
	}
}

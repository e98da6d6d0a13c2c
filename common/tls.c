/* tls - TLS over non-blocking sockets (OpenSSL): contexts, sessions, I/O */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "err.h"
#include "tls.h"

#define PASS_MAX 1024

/* The passphrase of a key, and whether OpenSSL asked for it. */
struct pass {
	char p[PASS_MAX];
	int have, asked;
};

int
tls_version_parse(const char *s)
{
	if (strcmp(s, "1.2") == 0)
		return TLS1_2_VERSION;
	if (strcmp(s, "1.3") == 0)
		return TLS1_3_VERSION;
	return -1;
}

int
tls_opt(struct tls_opts *t, int id, const char *arg)
{
	switch (id) {
	case OPT_TLS_CA: t->ca = arg; break;
	case OPT_TLS_CERT: t->cert = arg; break;
	case OPT_TLS_KEY: t->key = arg; break;
	case OPT_TLS_PASS_FILE: t->pass_file = arg; break;
	case OPT_TLS_CIPHERS: t->ciphers = arg; break;
	case OPT_TLS_INSECURE: t->insecure = 1; break;
	case OPT_TLS_VERIFY_NAME: t->verify_name = arg; break;
	case OPT_TLS_MIN:
		if ((t->min_version = tls_version_parse(arg)) < 0)
			die(EX_USAGE, "--tls-min-version takes 1.2 or 1.3");
		break;
	case OPT_TLS_CLIENT_NAME:
		if (t->nnames == TLS_NAMES_MAX)
			die(EX_USAGE, "more than %d --tls-client-name",
			    TLS_NAMES_MAX);
		t->names[t->nnames++] = arg;
		break;
	default:
		return 0;
	}
	return 1;
}

int
tls_opts_given(const struct tls_opts *t)
{
	return t->ca || t->cert || t->key || t->pass_file || t->ciphers ||
	    t->min_version || t->insecure || t->verify_name || t->nnames;
}

/* OpenSSL's last reason, or what. */
static const char *
reason(const char *what)
{
	const char *r = ERR_reason_error_string(ERR_peek_last_error());

	return r ? r : what;
}

static int
pass_cb(char *buf, int size, int rwflag, void *u)
{
	struct pass *ps = u;
	size_t n = strlen(ps->p);

	(void)rwflag;
	ps->asked = 1;
	if (!ps->have || size <= 0 || n >= (size_t)size)
		return -1;
	memcpy(buf, ps->p, n);
	return (int)n;
}

int
tls_pass_read(const char *path, char *buf, size_t cap, char *err,
    size_t errcap)
{
	FILE *f;
	size_t n;

	if (!(f = fopen(path, "r"))) {
		snprintf(err, errcap, "unable to open the passphrase file %s: "
		    "%s", path, strerror(errno));
		return -1;
	}
	if (!fgets(buf, (int)cap, f))
		buf[0] = '\0';
	fclose(f);
	if ((n = strcspn(buf, "\r\n")) == cap - 1) {
		snprintf(err, errcap, "the passphrase in %s is longer than %zu "
		    "bytes", path, cap - 2);
		return -1;
	}
	buf[n] = '\0';
	return 0;
}

/*
 * Loads the certificate chain and its key; -1 with err.  The message
 * starts as each program's did ("the client certificate" for a client).
 */
static int
load_pair(SSL_CTX *ctx, const struct tls_opts *o, int client, char *err,
    size_t errcap)
{
	struct pass ps = { "", 0, 0 };
	const char *why;
	int r = 0;

	if (o->pass_file && tls_pass_read(o->pass_file, ps.p, sizeof(ps.p),
	    err, errcap) < 0) {
		OPENSSL_cleanse(ps.p, sizeof(ps.p));
		return -1;
	}
	ps.have = o->pass_file != NULL;
	SSL_CTX_set_default_passwd_cb(ctx, pass_cb);
	SSL_CTX_set_default_passwd_cb_userdata(ctx, &ps);
	if (SSL_CTX_use_certificate_chain_file(ctx, o->cert) == 1)
		r = 1 + (SSL_CTX_use_PrivateKey_file(ctx, o->key,
		    SSL_FILETYPE_PEM) == 1);
	SSL_CTX_set_default_passwd_cb_userdata(ctx, NULL);
	OPENSSL_cleanse(ps.p, sizeof(ps.p));
	if (r == 2 && SSL_CTX_check_private_key(ctx) == 1)
		return 0;
	if (r == 1 && ps.asked && !o->pass_file)
		why = "the key is encrypted and no passphrase file was given";
	else if (r == 1 && ps.asked)
		why = "wrong passphrase";
	else
		why = reason("not PEM");
	snprintf(err, errcap, "unable to load the %scertificate %s and key "
	    "%s: %s", client ? "client " : "", o->cert, o->key, why);
	return -1;
}

/* Loads the CA certificates of a file or a hashed directory. */
static int
load_ca(SSL_CTX *ctx, const char *ca, char *err, size_t errcap)
{
	struct stat st;
	int dir = stat(ca, &st) == 0 && S_ISDIR(st.st_mode);

	if (SSL_CTX_load_verify_locations(ctx, dir ? NULL : ca, dir ? ca :
	    NULL) == 1)
		return 0;
	snprintf(err, errcap, "unable to load CA certificates %s: %s", ca,
	    reason("no certificate found"));
	return -1;
}

/* Appends the name one[0..n) to the list dst; -1 if it does not fit. */
static int
list_add(char *dst, size_t cap, const char *one, size_t n)
{
	size_t l = strlen(dst);

	if (l + n + 2 > cap)
		return -1;
	if (l)
		dst[l++] = ':';
	memcpy(dst + l, one, n);
	dst[l + n] = '\0';
	return 0;
}

int
tls_ciphers_split(const char *list, char *v12, size_t cap12, char *v13,
    size_t cap13)
{
	const char *p = list;
	size_t n;
	int r = 0;

	v12[0] = v13[0] = '\0';
	while (*p && r == 0) {
		n = strcspn(p, ":");
		if (n >= 4 && strncmp(p, "TLS_", 4) == 0)
			r = list_add(v13, cap13, p, n);
		else if (n)
			r = list_add(v12, cap12, p, n);
		p += n + (p[n] == ':');
	}
	return r < 0 || (!v12[0] && !v13[0]) ? -1 : 0;
}

/*
 * The cipher list: TLS 1.3 suites (TLS_...) and TLS 1.2 ciphers apart,
 * each left to OpenSSL's defaults if the list names none.
 */
static int
set_ciphers(SSL_CTX *ctx, const char *list, char *err, size_t errcap)
{
	char v12[1024], v13[1024];

	if (tls_ciphers_split(list, v12, sizeof(v12), v13, sizeof(v13)) < 0 ||
	    (v12[0] && SSL_CTX_set_cipher_list(ctx, v12) != 1) ||
	    (v13[0] && SSL_CTX_set_ciphersuites(ctx, v13) != 1)) {
		snprintf(err, errcap, "no cipher known in the list '%s'", list);
		return -1;
	}
	return 0;
}

/* What clients and servers share: versions, modes, ciphers, the pair. */
static SSL_CTX *
ctx_new(int client, const struct tls_opts *o, char *err, size_t errcap)
{
	SSL_CTX *ctx;

	if (!(ctx = SSL_CTX_new(client ? TLS_client_method() :
	    TLS_server_method()))) {
		snprintf(err, errcap, "unable to set up TLS");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, o->min_version ? o->min_version :
	    TLS1_2_VERSION);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
#ifdef SSL_OP_IGNORE_UNEXPECTED_EOF
	/* a peer that closes without close_notify has still ended */
	SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
#endif
	if ((o->ciphers && set_ciphers(ctx, o->ciphers, err, errcap) < 0) ||
	    (o->cert && load_pair(ctx, o, client, err, errcap) < 0)) {
		SSL_CTX_free(ctx);
		ERR_clear_error();
		return NULL;
	}
	return ctx;
}

SSL_CTX *
tls_client_ctx(const struct tls_opts *o, char *err, size_t errcap)
{
	SSL_CTX *ctx = ctx_new(1, o, err, errcap);

	if (!ctx || o->insecure) {
		if (ctx)
			SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
		return ctx;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if (o->ca ? load_ca(ctx, o->ca, err, errcap) < 0 :
	    SSL_CTX_set_default_verify_paths(ctx) != 1) {
		if (!o->ca)
			snprintf(err, errcap, "unable to load the system's CA "
			    "certificates");
		SSL_CTX_free(ctx);
		ERR_clear_error();
		return NULL;
	}
	return ctx;
}

SSL_CTX *
tls_server_ctx(const struct tls_opts *o, char *err, size_t errcap)
{
	SSL_CTX *ctx = ctx_new(0, o, err, errcap);
	X509_VERIFY_PARAM *vp;
	int i;

	if (!ctx || !o->ca)
		return ctx;
	if (load_ca(ctx, o->ca, err, errcap) < 0)
		goto fail;
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER |
	    SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	/* the chain check then also requires one of the names */
	vp = SSL_CTX_get0_param(ctx);
	for (i = 0; i < o->nnames; i++)
		if (X509_VERIFY_PARAM_add1_host(vp, o->names[i], 0) != 1) {
			snprintf(err, errcap, "unable to check client names");
			goto fail;
		}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	ERR_clear_error();
	return NULL;
}

SSL *
tls_client_new(SSL_CTX *ctx, int fd, const char *name, int insecure)
{
	unsigned char a[16];
	SSL *s;

	if (!(s = SSL_new(ctx)))
		return NULL;
	if (!SSL_set_fd(s, fd))
		goto fail;
	if (inet_pton(AF_INET, name, a) == 1 ||
	    inet_pton(AF_INET6, name, a) == 1) {
		if (!insecure && !X509_VERIFY_PARAM_set1_ip_asc(
		    SSL_get0_param(s), name))
			goto fail;
	} else {
		SSL_set_tlsext_host_name(s, name);
		if (!insecure && !SSL_set1_host(s, name))
			goto fail;
	}
	SSL_set_connect_state(s);
	return s;
fail:
	SSL_free(s);
	return NULL;
}

SSL *
tls_server_new(SSL_CTX *ctx, int fd)
{
	SSL *s;

	if (!(s = SSL_new(ctx)))
		return NULL;
	if (!SSL_set_fd(s, fd)) {
		SSL_free(s);
		return NULL;
	}
	SSL_set_accept_state(s);
	return s;
}

/* Whether the error e is a wait, and for what. */
static int
wants(int e, short *want)
{
	if (e == SSL_ERROR_WANT_READ)
		*want = POLLIN;
	else if (e == SSL_ERROR_WANT_WRITE)
		*want = POLLOUT;
	else
		return 0;
	return 1;
}

int
tls_handshake(SSL *s, short *want, char *err, size_t errcap)
{
	const char *why;
	long v;
	int r, e, saved, closed = 0;

	ERR_clear_error();
	errno = 0;
	if ((r = SSL_do_handshake(s)) == 1)
		return 1;
	saved = errno;
	if (wants(e = SSL_get_error(s, r), want))
		return 0;
	v = SSL_get_verify_result(s);
	if (v == X509_V_ERR_HOSTNAME_MISMATCH && SSL_is_server(s))
		why = "the client certificate carries none of the names "
		    "accepted";
	else if (v != X509_V_OK)
		why = X509_verify_cert_error_string(v);
	else if ((why = ERR_reason_error_string(ERR_peek_last_error())))
		;
	else if (e == SSL_ERROR_SYSCALL && saved)
		why = strerror(saved);
	else
		why = "the connection was closed", closed = 1;
	snprintf(err, errcap, "TLS handshake failed: %s", why);
	ERR_clear_error();
	return closed ? -2 : -1;
}

ssize_t
tls_send(int fd, SSL *s, const void *p, size_t len, short *want)
{
	ssize_t r;
	int e;

	*want = POLLOUT;
	if (!s) {
		while ((r = send(fd, p, len, MSG_NOSIGNAL)) < 0 &&
		    errno == EINTR)
			;
		return r;
	}
	ERR_clear_error();
	errno = 0;
	r = SSL_write(s, p, (int)(len > (1u << 30) ? 1u << 30 : len));
	if (r > 0)
		return r;
	e = SSL_get_error(s, (int)r);
	if (wants(e, want))
		errno = EAGAIN;
	else if (e != SSL_ERROR_SYSCALL || !errno)
		errno = EPROTO;
	ERR_clear_error();
	return -1;
}

ssize_t
tls_recv(int fd, SSL *s, void *p, size_t len, int peek, short *want)
{
	ssize_t r;
	int e, n = (int)(len > (1u << 30) ? 1u << 30 : len);

	*want = POLLIN;
	if (!s) {
		while ((r = recv(fd, p, len, peek ? MSG_PEEK : 0)) < 0 &&
		    errno == EINTR)
			;
		return r;
	}
	ERR_clear_error();
	errno = 0;      /* SSL_ERROR_SYSCALL without errno: the peer left */
	r = peek ? SSL_peek(s, p, n) : SSL_read(s, p, n);
	if (r > 0)
		return r;
	e = SSL_get_error(s, (int)r);
	if (wants(e, want)) {
		errno = EAGAIN;
		r = -1;
	} else if (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL &&
	    (r == 0 || !errno))) {
		r = 0;
	} else {
		if (e != SSL_ERROR_SYSCALL)
			errno = EPROTO;
		r = -1;
	}
	ERR_clear_error();
	return r;
}

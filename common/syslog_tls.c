/* syslog_tls - a TLS client on a non-blocking socket (OpenSSL) */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "syslog_tls.h"

SSL_CTX *
syslog_tls_ctx(const struct syslog_tls_opts *o, char *err, size_t errcap)
{
	SSL_CTX *ctx;

	if (!(ctx = SSL_CTX_new(TLS_client_method()))) {
		snprintf(err, errcap, "unable to set up TLS");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
#ifdef SSL_OP_IGNORE_UNEXPECTED_EOF
	/* a server that closes without close_notify has still ended */
	SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
#endif
	if (o->insecure) {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	} else {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
		if (o->ca ? !SSL_CTX_load_verify_locations(ctx, o->ca, NULL) :
		    !SSL_CTX_set_default_verify_paths(ctx)) {
			snprintf(err, errcap, "unable to load CA certificates %s",
			    o->ca ? o->ca : "(system default)");
			goto fail;
		}
	}
	if (o->cert && (SSL_CTX_use_certificate_chain_file(ctx, o->cert) != 1
	    || SSL_CTX_use_PrivateKey_file(ctx, o->key, SSL_FILETYPE_PEM) != 1
	    || SSL_CTX_check_private_key(ctx) != 1)) {
		snprintf(err, errcap, "unable to load the client certificate %s "
		    "and key %s", o->cert, o->key);
		goto fail;
	}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	ERR_clear_error();
	return NULL;
}

SSL *
syslog_tls_new(SSL_CTX *ctx, int fd, const char *name, int insecure)
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
syslog_tls_handshake(SSL *s, short *want, char *err, size_t errcap)
{
	const char *why;
	long v;
	int r, e, saved;

	ERR_clear_error();
	errno = 0;
	if ((r = SSL_do_handshake(s)) == 1)
		return 1;
	saved = errno;
	if (wants(e = SSL_get_error(s, r), want))
		return 0;
	v = SSL_get_verify_result(s);
	if (v != X509_V_OK)
		why = X509_verify_cert_error_string(v);
	else if ((why = ERR_reason_error_string(ERR_peek_last_error())))
		;
	else if (e == SSL_ERROR_SYSCALL && saved)
		why = strerror(saved);
	else
		why = "the connection was closed";
	snprintf(err, errcap, "TLS handshake failed: %s", why);
	ERR_clear_error();
	return -1;
}

ssize_t
syslog_tls_send(SSL *s, const char *p, size_t len, short *want)
{
	int r, e;

	ERR_clear_error();
	errno = 0;
	r = SSL_write(s, p, (int)(len > (1u << 30) ? 1u << 30 : len));
	if (r > 0)
		return r;
	e = SSL_get_error(s, r);
	if (wants(e, want))
		return 0;
	if (e != SSL_ERROR_SYSCALL || !errno)
		errno = EPROTO;
	ERR_clear_error();
	return -1;
}

ssize_t
syslog_tls_recv(SSL *s, char *p, size_t len, short *want)
{
	int r, e;

	ERR_clear_error();
	errno = 0;
	r = SSL_read(s, p, (int)(len > (1u << 30) ? 1u << 30 : len));
	if (r > 0)
		return r;
	e = SSL_get_error(s, r);
	if (wants(e, want))
		return -2;
	if (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL &&
	    (r == 0 || !errno))) {
		ERR_clear_error();
		return 0;
	}
	if (e != SSL_ERROR_SYSCALL)
		errno = EPROTO;
	ERR_clear_error();
	return -1;
}

/* syslog_tls - a TLS client on a non-blocking socket (OpenSSL) */
#ifndef LKIT_SYSLOG_TLS_H
#define LKIT_SYSLOG_TLS_H

#include <stddef.h>
#include <sys/types.h>
#include <openssl/ssl.h>

/*
 * What a client verifies and shows: CA certificates (NULL: the system's),
 * a client certificate chain and its key (both or neither, PEM), and
 * whether the server certificate is checked at all.
 */
struct syslog_tls_opts {
	const char *ca, *cert, *key;
	int insecure;
};

/*
 * A client context for TLS 1.2 and later with those settings.  NULL with
 * a message in err if a file cannot be loaded.  Free with SSL_CTX_free.
 */
SSL_CTX *syslog_tls_ctx(const struct syslog_tls_opts *o, char *err,
    size_t errcap);

/*
 * A session on the connected socket fd that sends name as SNI (not for an
 * address) and, unless insecure, requires the certificate to carry name
 * (a DNS name, or an IP address given as text).  NULL on failure.  The
 * caller frees it with SSL_free; the fd stays the caller's.
 */
SSL *syslog_tls_new(SSL_CTX *ctx, int fd, const char *name, int insecure);

/*
 * One step of the handshake: 1 done, 0 in progress (poll for *want,
 * POLLIN or POLLOUT), -1 failed with the reason in err (the certificate
 * check's, or OpenSSL's).
 */
int syslog_tls_handshake(SSL *s, short *want, char *err, size_t errcap);

/*
 * Writes up to len bytes: the count written, 0 if it would block (*want
 * says for what), -1 on a failure (errno set; EPROTO for a TLS error).
 * After 0, call again with at least the same len (the session is set for
 * partial writes from a buffer that may move).
 */
ssize_t syslog_tls_send(SSL *s, const char *p, size_t len, short *want);

/*
 * Reads up to len bytes: the count, 0 at the end (close_notify or EOF),
 * -2 if it would block (*want says for what), -1 on a failure (errno).
 */
ssize_t syslog_tls_recv(SSL *s, char *p, size_t len, short *want);

#endif

/* tls - TLS over non-blocking sockets (OpenSSL): contexts, sessions, I/O */
#ifndef LKIT_TLS_H
#define LKIT_TLS_H

#include <stddef.h>
#include <sys/types.h>
#include <openssl/ssl.h>

#define TLS_NAMES_MAX 32        /* --tls-client-name options */

/*
 * What a context loads and checks.  ca: a PEM file, or a directory made
 * with `openssl rehash`; for a client NULL is the system's, for a server
 * NULL asks for no client certificate.  cert and key: PEM, both or
 * neither (a server needs them).  pass_file: the first line of this file
 * is the passphrase of an encrypted key.  min_version: TLS1_2_VERSION
 * (also for 0) or TLS1_3_VERSION.  ciphers: a colon-separated list;
 * names starting "TLS_" are TLS 1.3 suites, the others TLS 1.2 ciphers.
 * insecure (client): no check of the server's certificate.  names
 * (server, with ca): a client certificate must carry one of them (DNS
 * name in its subjectAltName, or its CN when it has none).
 */
struct tls_opts {
	const char *ca, *cert, *key, *pass_file, *ciphers;
	int min_version, insecure;
	const char *verify_name;        /* client: the name the server's
					   certificate must carry, or NULL */
	const char *names[TLS_NAMES_MAX];
	int nnames;
};

/*
 * The TLS options' ids, clear of each program's own and of OPT_INPUT's
 * and OPT_METRICS's.  A program lists the rows below, or its own rows
 * with these ids where its option names are older (lforward --cert,
 * lrecv --ca-file), and passes the ids to tls_opt.
 */
enum {
	OPT_TLS_CA = 0x1200, OPT_TLS_CERT, OPT_TLS_KEY, OPT_TLS_PASS_FILE,
	OPT_TLS_MIN, OPT_TLS_CIPHERS, OPT_TLS_INSECURE, OPT_TLS_VERIFY_NAME,
	OPT_TLS_CLIENT_NAME
};

/* What every TLS end takes. */
#define OPT_TLS_COMMON \
	{ OPT_TLS_MIN, "tls-min-version", "1.2|1.3", "lowest TLS version " \
	    "(default 1.2)" }, \
	{ OPT_TLS_CIPHERS, "tls-ciphers", "LIST", "TLS 1.2 ciphers and TLS " \
	    "1.3 suites allowed, colon-separated" }

/* A client's files and checks (lhttp; lsyslog adds OPT_TLS_VERIFY). */
#define OPT_TLS_CLIENT \
	{ OPT_TLS_CA, "tls-ca", "FILE", "CA certificates to verify the " \
	    "server (default: the system's)" }, \
	{ OPT_TLS_CERT, "tls-cert", "FILE", "client certificate (PEM)" }, \
	{ OPT_TLS_KEY, "tls-key", "FILE", "client private key (PEM)" }, \
	{ OPT_TLS_INSECURE, "tls-insecure", NULL, "do not verify the " \
	    "server's certificate" }, \
	OPT_TLS_COMMON, \
	{ OPT_TLS_PASS_FILE, "tls-key-passphrase-file", "FILE", "the " \
	    "passphrase of an encrypted --tls-key: the first line of FILE" }
#define OPT_TLS_VERIFY \
	{ OPT_TLS_VERIFY_NAME, "tls-verify-name", "NAME", "name the server " \
	    "certificate must carry (default: HOST)" }

/*
 * Takes one of the OPT_TLS options into t; returns 0 if id is not one.
 * Exits with EX_USAGE on a bad version ("--tls-min-version takes 1.2 or
 * 1.3") or a --tls-client-name too many.
 */
int tls_opt(struct tls_opts *t, int id, const char *arg);

/* Whether any option of a TLS client was given (files, checks, names). */
int tls_opts_given(const struct tls_opts *t);

/* "1.2" or "1.3": the OpenSSL version number, or -1. */
int tls_version_parse(const char *s);

/*
 * Splits a cipher list as tls_opts.ciphers says into the TLS 1.2 ciphers
 * (v12) and the TLS 1.3 suites (v13), each colon-separated ("" if none):
 * 0, or -1 if it names none or a part is too long for its buffer.
 */
int tls_ciphers_split(const char *list, char *v12, size_t cap12, char *v13,
    size_t cap13);

/*
 * The passphrase in the first line of the file path (no line end) into
 * buf: 0, or -1 with a message in err.  Clear buf after use.
 */
int tls_pass_read(const char *path, char *buf, size_t cap, char *err,
    size_t errcap);

/*
 * A client or a server context with those settings: NULL with a message
 * in err if something cannot be loaded.  Free with SSL_CTX_free.
 */
SSL_CTX *tls_client_ctx(const struct tls_opts *o, char *err, size_t errcap);
SSL_CTX *tls_server_ctx(const struct tls_opts *o, char *err, size_t errcap);

/*
 * A client session on the connected socket fd that sends name as SNI
 * (not for an address) and, unless insecure, requires the certificate to
 * carry name (a DNS name, or an IP address given as text).  NULL on
 * failure.  Free with SSL_free; the fd stays the caller's.
 */
SSL *tls_client_new(SSL_CTX *ctx, int fd, const char *name, int insecure);

/* A server session on the accepted socket fd; NULL on failure. */
SSL *tls_server_new(SSL_CTX *ctx, int fd);

/*
 * One step of the handshake: 1 done, 0 in progress (poll for *want,
 * POLLIN or POLLOUT), -1 failed with the reason in err (the certificate
 * check's, OpenSSL's or the system's), -2 the peer closed with no error
 * (err says so too).
 */
int tls_handshake(SSL *s, short *want, char *err, size_t errcap);

/*
 * Send and receive on fd, through s if it is not NULL (plain otherwise).
 * Both return the count of bytes; tls_recv returns 0 at the end (EOF or
 * close_notify); -1 with errno on failure, EAGAIN when it would block,
 * *want then saying for what (POLLIN or POLLOUT; TLS may read to write).
 * A TLS failure that is not the system's is EPROTO.  After EAGAIN from
 * tls_send, call again with the same bytes (they may have moved).  peek
 * leaves what it reads to be read again.
 */
ssize_t tls_send(int fd, SSL *s, const void *p, size_t len, short *want);
ssize_t tls_recv(int fd, SSL *s, void *p, size_t len, int peek, short *want);

#endif

/* t_tls - common/tls.c: contexts, the handshake and the I/O convention */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "net.h"
#include "tls.h"
#include "tap.h"

static char dir[] = "/tmp/t_tls.XXXXXX";
static char certf[64], keyf[64], enckeyf[64], passf[64], badf[64], longf[64];

static void
put(const char *path, const char *s)
{
	FILE *f = fopen(path, "w");

	if (f) {
		fputs(s, f);
		fclose(f);
	}
}

/* A self-signed certificate for localhost, its key plain and encrypted. */
static int
make_cert(void)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	FILE *f;
	int ok = 0;

	if (!k || !x)
		goto out;
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -60);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_set_pubkey(x, k);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
	    (const unsigned char *)"localhost", -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	if (!X509_sign(x, k, EVP_sha256()))
		goto out;
	snprintf(certf, sizeof(certf), "%s/c.pem", dir);
	snprintf(keyf, sizeof(keyf), "%s/k.pem", dir);
	snprintf(enckeyf, sizeof(enckeyf), "%s/ek.pem", dir);
	if ((f = fopen(certf, "w"))) {
		ok = PEM_write_X509(f, x);
		fclose(f);
	}
	if ((f = fopen(keyf, "w"))) {
		ok &= PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
		fclose(f);
	}
	if ((f = fopen(enckeyf, "w"))) {
		ok &= PEM_write_PrivateKey(f, k, EVP_aes_256_cbc(),
		    (unsigned char *)"pw0rd", 5, NULL, NULL);
		fclose(f);
	}
out:
	EVP_PKEY_free(k);
	X509_free(x);
	return ok;
}

static void
t_options(void)
{
	struct tls_opts o = { 0 };
	char err[512] = "";
	SSL_CTX *c;

	is_int(tls_version_parse("1.2"), TLS1_2_VERSION, "1.2");
	is_int(tls_version_parse("1.3"), TLS1_3_VERSION, "1.3");
	is_int(tls_version_parse("1.1"), -1, "1.1 is refused");
	is_int(tls_version_parse(""), -1, "empty is refused");
	ok(!tls_opts_given(&o), "no option given");
	is_int(tls_opt(&o, OPT_TLS_MIN, "1.3"), 1, "--tls-min-version taken");
	is_int(o.min_version, TLS1_3_VERSION, "... as TLS 1.3");
	is_int(tls_opt(&o, OPT_TLS_VERIFY_NAME, "a.example"), 1,
	    "--tls-verify-name taken");
	ok(o.verify_name && strcmp(o.verify_name, "a.example") == 0 &&
	    tls_opts_given(&o), "... and counts as given");
	is_int(tls_opt(&o, OPT_TLS_CLIENT_NAME, "c1"), 1, "a client name");
	is_int(o.nnames, 1, "... is kept");
	is_int(tls_opt(&o, OPT_TLS_CLIENT_NAME - 0x200, "x"), 0,
	    "another id is not a TLS option");
	memset(&o, 0, sizeof(o));
	o.insecure = 1;
	o.ciphers = "NO-SUCH";
	ok(!tls_client_ctx(&o, err, sizeof(err)) &&
	    strstr(err, "no cipher known"), "an unknown cipher: %s", err);
	o.ciphers = "::";
	ok(!tls_client_ctx(&o, err, sizeof(err)), "an empty list is refused");
	o.ciphers = "ECDHE-RSA-AES128-GCM-SHA256:TLS_AES_128_GCM_SHA256";
	ok((c = tls_client_ctx(&o, err, sizeof(err))) != NULL,
	    "a TLS 1.2 cipher and a TLS 1.3 suite");
	SSL_CTX_free(c);
	o.ciphers = "TLS_AES_256_GCM_SHA384";
	o.min_version = TLS1_3_VERSION;
	ok((c = tls_client_ctx(&o, err, sizeof(err))) != NULL,
	    "a TLS 1.3 suite alone");
	is_int(c ? SSL_CTX_get_min_proto_version(c) : 0, TLS1_3_VERSION,
	    "the lowest version is set");
	SSL_CTX_free(c);
}

static void
t_keys(void)
{
	struct tls_opts o = { 0 };
	char err[512] = "", big[2100];
	SSL_CTX *c;

	o.cert = certf;
	o.key = enckeyf;
	ok(!tls_server_ctx(&o, err, sizeof(err)) && strstr(err,
	    "encrypted and no passphrase file"), "no passphrase: %s", err);
	o.pass_file = badf;
	ok(!tls_server_ctx(&o, err, sizeof(err)) && strstr(err,
	    "wrong passphrase"), "a wrong passphrase: %s", err);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	put(longf, big);
	o.pass_file = longf;
	ok(!tls_server_ctx(&o, err, sizeof(err)) && strstr(err, "longer than"),
	    "a passphrase too long: %s", err);
	o.pass_file = passf;
	c = tls_server_ctx(&o, err, sizeof(err));
	ok(c != NULL, "the right passphrase (a CRLF line)");
	SSL_CTX_free(c);
	o.pass_file = NULL;
	o.key = keyf;
	o.cert = keyf;
	ok(!tls_server_ctx(&o, err, sizeof(err)) && strstr(err,
	    "unable to load the certificate"), "a key as certificate: %s", err);
}

/* Steps both handshakes until done (bounded); 1 if both completed. */
static int
handshake(SSL *a, SSL *b)
{
	char err[512];
	short w;
	int i, ra = 0, rb = 0;

	for (i = 0; i < 1000 && (ra != 1 || rb != 1); i++) {
		if (ra != 1)
			ra = tls_handshake(a, &w, err, sizeof(err));
		if (rb != 1)
			rb = tls_handshake(b, &w, err, sizeof(err));
		if (ra < 0 || rb < 0)
			return 0;
	}
	return ra == 1 && rb == 1;
}

static void
t_io(void)
{
	struct tls_opts o = { 0 };
	char err[512], b[64];
	SSL_CTX *sc, *cc;
	SSL *s, *c;
	int sv[2];
	short w = 0;
	ssize_t r;

	o.cert = certf;
	o.key = keyf;
	sc = tls_server_ctx(&o, err, sizeof(err));
	o.cert = o.key = NULL;
	o.insecure = 1;
	cc = tls_client_ctx(&o, err, sizeof(err));
	if (!sc || !cc || socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0) {
		ok(0, "set up: %s", err);
		return;
	}
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	fcntl(sv[1], F_SETFL, O_NONBLOCK);
	s = tls_server_new(sc, sv[0]);
	c = tls_client_new(cc, sv[1], "localhost", 1);
	ok(s && c && handshake(c, s), "the handshake completes");
	r = tls_recv(sv[1], c, b, sizeof(b), 0, &w);
	ok(r == -1 && errno == EAGAIN && w == POLLIN,
	    "nothing to read: -1, EAGAIN, POLLIN");
	is_int(tls_send(sv[1], c, "hello", 5, &w), 5, "send: the count");
	r = tls_recv(sv[0], s, b, sizeof(b), 1, &w);
	is_mem(b, r > 0 ? (size_t)r : 0, "hello", 5, "peek");
	r = tls_recv(sv[0], s, b, sizeof(b), 0, &w);
	is_mem(b, r > 0 ? (size_t)r : 0, "hello", 5, "then read, the same");
	SSL_shutdown(c);
	is_int(tls_recv(sv[0], s, b, sizeof(b), 0, &w), 0,
	    "close_notify: 0, the end");
	SSL_free(s);
	SSL_free(c);
	close(sv[0]);
	close(sv[1]);
	/* the same calls without TLS */
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		return;
	fcntl(sv[1], F_SETFL, O_NONBLOCK);
	r = tls_recv(sv[1], NULL, b, sizeof(b), 0, &w);
	ok(r == -1 && errno == EAGAIN && w == POLLIN, "plain: EAGAIN, POLLIN");
	is_int(tls_send(sv[0], NULL, "abc", 3, &w), 3, "plain: send");
	is_int(tls_recv(sv[1], NULL, b, sizeof(b), 0, &w), 3, "plain: recv");
	close(sv[0]);
	is_int(tls_recv(sv[1], NULL, b, sizeof(b), 0, &w), 0, "plain: EOF 0");
	close(sv[1]);
	SSL_CTX_free(sc);
	SSL_CTX_free(cc);
}

static void
t_resolve(void)
{
	struct net_resolve *r;
	struct addrinfo *res = NULL;
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	char err[256] = "", addr[NET_ADDR_MAX];
	int i, k = 0, fd, pend, lfd;

	r = net_resolve_start("127.0.0.1", "9", SOCK_STREAM, err, sizeof(err));
	ok(r && net_resolve_poll(r, &res, err, sizeof(err)) == 1 && res,
	    "a numeric address is resolved at once");
	net_resolve_free(r);
	lfd = net_listen("127.0.0.1", "0", SOCK_STREAM, err, sizeof(err));
	if (res && lfd >= 0) {
		((struct sockaddr_in *)res->ai_addr)->sin_port =
		    htons((unsigned short)net_local_port(lfd));
		fd = net_connect_ai(res, 7, SOCK_STREAM, &pend, addr,
		    sizeof(addr), err, sizeof(err));
		ok(fd >= 0 && strcmp(addr, "127.0.0.1") == 0,
		    "net_connect_ai goes round to the one address");
		if (fd >= 0)
			close(fd);
	}
	if (lfd >= 0)
		close(lfd);
	if (res)
		freeaddrinfo(res);
	res = NULL;
	r = net_resolve_start("localhost", "9", SOCK_STREAM, err, sizeof(err));
	for (i = 0; r && i < 1000 && !(k = net_resolve_poll(r, &res, err,
	    sizeof(err))); i++)
		nanosleep(&ts, NULL);
	ok(k == 1 && res, "localhost, in the background: %s", k < 0 ? err : "");
	net_resolve_free(r);
	if (res)
		freeaddrinfo(res);
	r = net_resolve_start("localhost", "9", SOCK_STREAM, err, sizeof(err));
	net_resolve_free(r);    /* abandoned at once: freed when it ends */
	ok(1, "a lookup abandoned");
}

int
main(void)
{
	char cmd[128];

	if (!mkdtemp(dir) || !make_cert()) {
		ok(0, "a test certificate");
		return done_testing();
	}
	snprintf(passf, sizeof(passf), "%s/pass", dir);
	snprintf(badf, sizeof(badf), "%s/bad", dir);
	snprintf(longf, sizeof(longf), "%s/long", dir);
	put(passf, "pw0rd\r\n");
	put(badf, "nope\n");
	t_options();
	t_keys();
	t_io();
	t_resolve();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		ok(0, "clean up %s", dir);
	return done_testing();
}

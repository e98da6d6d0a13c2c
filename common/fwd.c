/* fwd - Forward protocol handshake, ack and PackedForward encoding */
#include <errno.h>
#include <string.h>
#include <sys/random.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "fwd.h"
#include "gz.h"
#include "mp.h"

static const char hexdig[] = "0123456789abcdef";

void
fwd_digest(char hex[FWD_DIGEST_LEN + 1], const struct fwd_str *a,
    const struct fwd_str *b, const struct fwd_str *c, const struct fwd_str *d)
{
	const struct fwd_str *parts[4] = { a, b, c, d };
	unsigned char md[64];
	unsigned int mdlen = 0, i;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	EVP_DigestInit_ex(ctx, EVP_sha512(), NULL);
	for (i = 0; i < 4; i++)
		if (parts[i] && parts[i]->len)
			EVP_DigestUpdate(ctx, parts[i]->p, parts[i]->len);
	EVP_DigestFinal_ex(ctx, md, &mdlen);
	EVP_MD_CTX_free(ctx);
	for (i = 0; i < 64; i++) {
		hex[2 * i] = hexdig[md[i] >> 4];
		hex[2 * i + 1] = hexdig[md[i] & 15];
	}
	hex[FWD_DIGEST_LEN] = '\0';
}

int
fwd_random(void *p, size_t n)
{
	ssize_t k;

	/*
	 * The kernel's generator: OpenSSL's would be as good, but starting it
	 * maps megabytes of libcrypto that a sender of chunk ids never needs.
	 */
	while (n > 0) {
		k = getrandom(p, n, 0);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return RAND_bytes(p, (int)n) == 1 ? 0 : -1;
		p = (char *)p + k;
		n -= k;
	}
	return 0;
}

int
fwd_salt(char salt[FWD_SALT_LEN + 1])
{
	unsigned char r[FWD_SALT_LEN / 2];
	size_t i;

	if (fwd_random(r, sizeof(r)) < 0)
		return -1;
	for (i = 0; i < sizeof(r); i++) {
		salt[2 * i] = hexdig[r[i] >> 4];
		salt[2 * i + 1] = hexdig[r[i] & 15];
	}
	salt[FWD_SALT_LEN] = '\0';
	return 0;
}

int
fwd_chunk_id(char id[FWD_CHUNK_LEN])
{
	unsigned char r[16], enc[32];

	if (fwd_random(r, sizeof(r)) < 0)
		return -1;
	EVP_EncodeBlock(enc, r, sizeof(r));    /* 24 characters and a NUL */
	memcpy(id, enc, 24);
	id[24] = '\n';
	return 0;
}

static void
put_str(struct buf *b, const char *s, size_t n)
{
	mp_put_strhdr(b, n);
	buf_put(b, s, n);
}

static void
put_fstr(struct buf *b, const struct fwd_str *s)
{
	put_str(b, s->p ? s->p : "", s->len);
}

static void
put_bin(struct buf *b, const struct fwd_str *s)
{
	unsigned char h[5];

	if (s->len < 256) {
		h[0] = 0xc4;
		h[1] = (unsigned char)s->len;
		buf_put(b, h, 2);
	} else {
		h[0] = 0xc6;
		h[1] = s->len >> 24; h[2] = s->len >> 16;
		h[3] = s->len >> 8; h[4] = (unsigned char)s->len;
		buf_put(b, h, 5);
	}
	buf_put(b, s->p, s->len);
}

void
fwd_helo_put(struct buf *b, const struct fwd_helo *h)
{
	buf_put(b, "\x92\xa4HELO\x83\xa5nonce", 13);
	put_bin(b, &h->nonce);
	buf_put(b, "\xa4" "auth", 5);
	if (h->auth.len)
		put_bin(b, &h->auth);
	else
		buf_putc(b, 0xa0);
	buf_put(b, "\xa9keepalive", 10);
	buf_putc(b, h->keepalive ? 0xc3 : 0xc2);
}

void
fwd_ping_put(struct buf *b, const struct fwd_ping *pg)
{
	buf_put(b, "\x96\xa4PING", 6);
	put_fstr(b, &pg->host);
	put_fstr(b, &pg->salt);
	put_fstr(b, &pg->digest);
	put_fstr(b, &pg->user);
	put_fstr(b, &pg->pass);
}

void
fwd_pong_put(struct buf *b, const struct fwd_pong *po)
{
	buf_put(b, "\x95\xa4PONG", 6);
	buf_putc(b, po->ok ? 0xc3 : 0xc2);
	put_fstr(b, &po->reason);
	put_fstr(b, &po->host);
	put_fstr(b, &po->digest);
}

void
fwd_ack_put(struct buf *b, const char *chunk, size_t len)
{
	buf_put(b, "\x81\xa3" "ack", 5);
	buf_put(b, chunk, len);
}

/* Reads a str or bin into *s; FWD_OK, FWD_SHORT or FWD_BAD. */
static int
get_str(const char **p, const char *end, struct fwd_str *s)
{
	struct mp_obj o;
	int r = mp_head(p, end, &o);

	if (r != MP_OK)
		return r == MP_SHORT ? FWD_SHORT : FWD_BAD;
	if (o.type != MP_STR && o.type != MP_BIN)
		return FWD_BAD;
	s->p = o.data;
	s->len = o.len;
	return FWD_OK;
}

/* As get_str, but nil (fluent-logger's missing username) is "". */
static int
get_opt_str(const char **p, const char *end, struct fwd_str *s)
{
	if (*p < end && (unsigned char)**p == 0xc0) {
		(*p)++;
		s->p = "";
		s->len = 0;
		return FWD_OK;
	}
	return get_str(p, end, s);
}

static int
is_word(const struct fwd_str *s, const char *w)
{
	return s->len == strlen(w) && memcmp(s->p, w, s->len) == 0;
}

/*
 * Checks that p holds one whole value, an array of n elements whose first
 * is the string word; leaves *q after the word.
 */
static int
array_of(const char *p, size_t len, uint32_t n, const char *word,
    const char **q, size_t *used)
{
	const char *s = p, *end = p + len;
	struct mp_obj a;
	struct fwd_str w;
	int r;

	if ((r = mp_skip(&s, end, NULL)) != MP_OK)
		return r == MP_SHORT ? FWD_SHORT : FWD_BAD;
	*used = s - p;
	*q = p;
	if (mp_head(q, end, &a) != MP_OK || a.type != MP_ARRAY || a.v.n != n)
		return FWD_BAD;
	if (get_str(q, end, &w) != FWD_OK || !is_word(&w, word))
		return FWD_BAD;
	return FWD_OK;
}

static int
helo_map(const char *q, const char *end, struct fwd_helo *h)
{
	struct mp_obj m, v;
	struct fwd_str k;
	uint32_t i;

	if (mp_head(&q, end, &m) != MP_OK || m.type != MP_MAP)
		return FWD_BAD;
	for (i = 0; i < m.v.n; i++) {
		if (get_str(&q, end, &k) != FWD_OK)
			return FWD_BAD;
		if (is_word(&k, "nonce") || is_word(&k, "auth")) {
			if (get_str(&q, end, is_word(&k, "nonce") ? &h->nonce :
			    &h->auth) != FWD_OK)
				return FWD_BAD;
			continue;
		}
		if (is_word(&k, "keepalive")) {
			if (mp_head(&q, end, &v) != MP_OK || v.type != MP_BOOL)
				return FWD_BAD;
			h->keepalive = v.v.b;
			continue;
		}
		if (mp_skip(&q, end, NULL) != MP_OK)
			return FWD_BAD;
	}
	return h->nonce.p ? FWD_OK : FWD_BAD;
}

int
fwd_helo_parse(const char *p, size_t len, size_t *used, struct fwd_helo *h)
{
	const char *q;
	int r;

	memset(h, 0, sizeof(*h));
	h->keepalive = 1;
	if ((r = array_of(p, len, 2, "HELO", &q, used)) != FWD_OK)
		return r;
	return helo_map(q, p + *used, h);
}

int
fwd_ping_parse(const char *p, size_t len, size_t *used, struct fwd_ping *pg)
{
	const char *q, *end;
	int r;

	memset(pg, 0, sizeof(*pg));
	if ((r = array_of(p, len, 6, "PING", &q, used)) != FWD_OK)
		return r;
	end = p + *used;
	if (get_str(&q, end, &pg->host) || get_str(&q, end, &pg->salt) ||
	    get_str(&q, end, &pg->digest) || get_opt_str(&q, end, &pg->user) ||
	    get_opt_str(&q, end, &pg->pass))
		return FWD_BAD;
	return FWD_OK;
}

int
fwd_pong_parse(const char *p, size_t len, size_t *used, struct fwd_pong *po)
{
	const char *q, *end;
	struct mp_obj b;
	int r;

	memset(po, 0, sizeof(*po));
	if ((r = array_of(p, len, 5, "PONG", &q, used)) != FWD_OK)
		return r;
	end = p + *used;
	if (mp_head(&q, end, &b) != MP_OK || b.type != MP_BOOL)
		return FWD_BAD;
	po->ok = b.v.b;
	if (get_str(&q, end, &po->reason) || get_str(&q, end, &po->host) ||
	    get_str(&q, end, &po->digest))
		return FWD_BAD;
	return FWD_OK;
}

int
fwd_ack_parse(const char *p, size_t len, size_t *used, struct fwd_str *chunk)
{
	const char *q = p, *end = p + len;
	struct mp_obj m;
	struct fwd_str k;
	uint32_t i;
	int r, found = 0;

	if ((r = mp_skip(&q, end, NULL)) != MP_OK)
		return r == MP_SHORT ? FWD_SHORT : FWD_BAD;
	*used = q - p;
	end = q;
	q = p;
	if (mp_head(&q, end, &m) != MP_OK || m.type != MP_MAP)
		return FWD_BAD;
	for (i = 0; i < m.v.n; i++) {
		if (get_str(&q, end, &k) != FWD_OK)
			return FWD_BAD;
		if (is_word(&k, "ack")) {
			if (get_str(&q, end, chunk) != FWD_OK)
				return FWD_BAD;
			found = 1;
		} else if (mp_skip(&q, end, NULL) != MP_OK) {
			return FWD_BAD;
		}
	}
	return found ? FWD_OK : FWD_BAD;
}

int
fwd_option_chunk(const char *opt, size_t len, struct fwd_str *val)
{
	const char *q = opt, *end = opt + len, *v;
	struct mp_obj m;
	struct fwd_str k;
	uint32_t i;

	if (!opt || mp_head(&q, end, &m) != MP_OK || m.type != MP_MAP)
		return 0;
	for (i = 0; i < m.v.n; i++) {
		if (get_str(&q, end, &k) != FWD_OK)
			return 0;
		v = q;
		if (mp_skip(&q, end, NULL) != MP_OK)
			return 0;
		if (is_word(&k, "chunk")) {
			val->p = v;
			val->len = q - v;
			return 1;
		}
	}
	return 0;
}

void
fwd_entry_put(struct buf *b, int64_t sec, uint32_t nsec, const char *rec,
    size_t rec_len, int time_as_integer)
{
	msgpack_packer pk;

	buf_reserve(b, 12 + rec_len);
	buf_putc(b, 0x92);
	if (time_as_integer) {
		mp_packer_init(&pk, b);
		msgpack_pack_int64(&pk, sec);
	} else if (sec >= 0 && sec <= 0xffffffffLL) {
		mp_put_eventtime(b, (uint32_t)sec, nsec);
	} else {
		mp_packer_init(&pk, b);
		msgpack_pack_int64(&pk, sec);
	}
	buf_put(b, rec, rec_len);
}

void
fwd_packed_head(struct buf *b, const char *tag, size_t tag_len, size_t n)
{
	unsigned char h[5];

	buf_putc(b, 0x93);
	put_str(b, tag, tag_len);
	h[0] = 0xdb;
	h[1] = n >> 24; h[2] = n >> 16; h[3] = n >> 8; h[4] = (unsigned char)n;
	buf_put(b, h, 5);
}

void
fwd_packed_option(struct buf *b, uint64_t events, int compressed,
    const char *id, size_t id_len)
{
	msgpack_packer pk;

	buf_putc(b, id ? 0x83 : 0x82);
	buf_put(b, "\xa4size", 5);
	mp_packer_init(&pk, b);
	msgpack_pack_uint64(&pk, events);
	buf_put(b, "\xaa" "compressed", 11);
	buf_put(b, compressed == FWD_GZIP ? "\xa4gzip" :
	    compressed == FWD_ZSTD ? "\xa4zstd" : "\xa4text", 5);
	if (id) {
		buf_put(b, "\xa5" "chunk", 6);
		put_str(b, id, id_len);
	}
}

int
fwd_gzip(struct buf *out, const char *p, size_t len, int level)
{
	return gz_compress(out, p, len, level);
}

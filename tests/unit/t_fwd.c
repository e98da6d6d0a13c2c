/* t_fwd - Forward protocol encoders and decoders against Fluentd's bytes */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <openssl/evp.h>

#include "fwd.h"
#include "mp.h"
#include "tap.h"

static char vdir[4300];

/*
 * Finds tests/data/vectors/forward: $VECTORS, or tests/data/vectors/forward
 * above the binary or the working directory.
 */
static int
find_vectors(const char *argv0)
{
	char base[4096], try[4200], *s;
	int up, pass;

	if (getenv("VECTORS")) {
		snprintf(vdir, sizeof(vdir), "%s", getenv("VECTORS"));
		return access(vdir, R_OK) == 0 ? 0 : -1;
	}
	for (pass = 0; pass < 2; pass++) {
		if (pass == 0)
			snprintf(base, sizeof(base), "%s", argv0);
		else if (!getcwd(base, sizeof(base) - 2))
			continue;
		else
			strcat(base, "/x");
		for (up = 0; up < 6 && (s = strrchr(base, '/')); up++) {
			*s = '\0';
			snprintf(try, sizeof(try),
			    "%s/tests/data/vectors/forward", *base ? base : ".");
			if (access(try, R_OK) == 0) {
				snprintf(vdir, sizeof(vdir), "%s", try);
				return 0;
			}
		}
	}
	return -1;
}

/* The bytes of NAME.hex, in b (reset first). */
static void
load(struct buf *b, const char *name)
{
	char path[8192];
	FILE *f;
	int c, hi = -1, v;

	b->len = 0;
	snprintf(path, sizeof(path), "%s/%s.hex", vdir, name);
	if (!(f = fopen(path, "r"))) {
		fprintf(stderr, "cannot open %s\n", path);
		exit(1);
	}
	while ((c = getc(f)) != EOF) {
		if (c >= '0' && c <= '9')
			v = c - '0';
		else if (c >= 'a' && c <= 'f')
			v = c - 'a' + 10;
		else
			continue;
		if (hi < 0) {
			hi = v;
		} else {
			buf_putc(b, hi << 4 | v);
			hi = -1;
		}
	}
	fclose(f);
}

static struct fwd_str
S(const char *s)
{
	struct fwd_str r = { s, strlen(s) };

	return r;
}

/* HELO, PING, PONG of a handshake capture, checked and re-encoded. */
static void
handshake(const char *name, const char *user, const char *pass)
{
	struct buf c2s = { 0 }, s2c = { 0 }, e = { 0 };
	struct fwd_helo h;
	struct fwd_ping pg;
	struct fwd_pong po;
	struct fwd_str key = S("s3cr3t"), u = S(user), pw = S(pass);
	size_t hu, pu, ou;
	char hex[FWD_DIGEST_LEN + 1], n1[64], n2[64];

	snprintf(n1, sizeof(n1), "%s.c2s", name);
	snprintf(n2, sizeof(n2), "%s.s2c", name);
	load(&c2s, n1);
	load(&s2c, n2);
	is_int(fwd_helo_parse(s2c.p, s2c.len, &hu, &h), FWD_OK, "%s: HELO", name);
	is_int(hu, 65, "%s: HELO is 65 bytes", name);
	is_int(h.nonce.len, 16, "%s: nonce of 16 bytes", name);
	ok(h.keepalive, "%s: keepalive true", name);
	fwd_helo_put(&e, &h);
	is_mem(e.p, e.len, s2c.p, hu, "%s: HELO re-encoded byte for byte", name);
	is_int(fwd_ping_parse(c2s.p, c2s.len, &pu, &pg), FWD_OK, "%s: PING", name);
	fwd_digest(hex, &pg.salt, &pg.host, &h.nonce, &key);
	is_mem(hex, 128, pg.digest.p, pg.digest.len, "%s: PING shared-key "
	    "digest recomputed", name);
	fwd_digest(hex, &h.auth, &u, &pw, NULL);
	is_mem(hex, 128, pg.pass.p, pg.pass.len, "%s: PING password digest "
	    "recomputed", name);
	e.len = 0;
	fwd_ping_put(&e, &pg);
	is_mem(e.p, e.len, c2s.p, pu, "%s: PING re-encoded byte for byte", name);
	is_int(fwd_pong_parse(s2c.p + hu, s2c.len - hu, &ou, &po), FWD_OK,
	    "%s: PONG", name);
	ok(po.ok, "%s: PONG true", name);
	fwd_digest(hex, &pg.salt, &po.host, &h.nonce, &key);
	is_mem(hex, 128, po.digest.p, po.digest.len, "%s: PONG digest "
	    "recomputed", name);
	e.len = 0;
	fwd_pong_put(&e, &po);
	is_mem(e.p, e.len, s2c.p + hu, ou, "%s: PONG re-encoded", name);
	buf_free(&c2s);
	buf_free(&s2c);
	buf_free(&e);
}

/* A refused handshake: the PONG false is re-encoded exactly. */
static void
refused(const char *name, const char *reason)
{
	struct buf s2c = { 0 }, e = { 0 };
	struct fwd_helo h;
	struct fwd_pong po = { 0, { reason, strlen(reason) }, { "", 0 },
		{ "", 0 } }, got;
	size_t hu, ou;
	char n[64];

	snprintf(n, sizeof(n), "%s.s2c", name);
	load(&s2c, n);
	fwd_helo_parse(s2c.p, s2c.len, &hu, &h);
	fwd_pong_put(&e, &po);
	is_mem(e.p, e.len, s2c.p + hu, s2c.len - hu, "%s: PONG false, \"%s\"",
	    name, reason);
	is_int(fwd_pong_parse(e.p, e.len, &ou, &got), FWD_OK, "%s: parsed", name);
	ok(!got.ok && got.reason.len == strlen(reason), "%s: reason read", name);
	buf_free(&s2c);
	buf_free(&e);
}

/* The option map of the top-level request at p (its last element). */
static int
request_option(const char *p, size_t len, const char **opt, size_t *olen)
{
	const char *q = p, *end = p + len;
	struct mp_obj a;
	uint32_t i;

	if (mp_head(&q, end, &a) != MP_OK || a.type != MP_ARRAY)
		return -1;
	for (i = 0; i + 1 < a.v.n; i++)
		mp_skip(&q, end, NULL);
	*opt = q;
	if (mp_skip(&q, end, NULL) != MP_OK)
		return -1;
	*olen = q - *opt;
	return 0;
}

/* The ack for a request's chunk is the captured reply, byte for byte. */
static void
ack(const char *name, size_t skip_c2s, size_t skip_s2c)
{
	struct buf c2s = { 0 }, s2c = { 0 }, e = { 0 };
	struct fwd_str chunk, got;
	const char *opt;
	size_t olen, used;
	char n1[64], n2[64];

	snprintf(n1, sizeof(n1), "%s.c2s", name);
	snprintf(n2, sizeof(n2), "%s.s2c", name);
	load(&c2s, n1);
	load(&s2c, n2);
	ok(request_option(c2s.p + skip_c2s, c2s.len - skip_c2s, &opt, &olen) == 0 &&
	    fwd_option_chunk(opt, olen, &chunk), "%s: chunk option found", name);
	fwd_ack_put(&e, chunk.p, chunk.len);
	is_mem(e.p, e.len, s2c.p + skip_s2c, s2c.len - skip_s2c,
	    "%s: ack reply byte for byte", name);
	is_int(fwd_ack_parse(e.p, e.len, &used, &got), FWD_OK, "%s: ack parsed",
	    name);
	ok(used == e.len && got.len + 1 <= chunk.len &&
	    memcmp(got.p, chunk.p + chunk.len - got.len, got.len) == 0,
	    "%s: ack carries the chunk id", name);
	is_int(fwd_ack_parse(e.p, e.len - 1, &used, &got), FWD_SHORT,
	    "%s: truncated ack wants more", name);
	buf_free(&c2s);
	buf_free(&s2c);
	buf_free(&e);
}

/* Re-encodes an out_forward PackedForward request from its parts. */
static void
packed(const char *name, size_t skip, int with_chunk)
{
	struct buf c2s = { 0 }, e = { 0 }, ents = { 0 };
	const char *q, *end, *ep, *eend, *rec, *opt;
	struct mp_obj a, tag, en, arr, t;
	struct fwd_str chunk = { NULL, 0 };
	size_t olen;
	uint64_t n = 0;

	load(&c2s, name);
	q = c2s.p + skip;
	end = c2s.p + c2s.len;
	mp_head(&q, end, &a);
	mp_head(&q, end, &tag);
	mp_head(&q, end, &en);
	ep = en.data;
	eend = en.data + en.len;
	while (ep < eend) {
		mp_head(&ep, eend, &arr);
		mp_head(&ep, eend, &t);
		rec = ep;
		mp_skip(&ep, eend, NULL);
		fwd_entry_put(&ents, (int64_t)(((unsigned char)t.data[0] << 24) |
		    ((unsigned char)t.data[1] << 16) |
		    ((unsigned char)t.data[2] << 8) | (unsigned char)t.data[3]),
		    (uint32_t)(((unsigned char)t.data[4] << 24) |
		    ((unsigned char)t.data[5] << 16) |
		    ((unsigned char)t.data[6] << 8) | (unsigned char)t.data[7]),
		    rec, ep - rec, 0);
		n++;
	}
	is_mem(ents.p, ents.len, en.data, en.len, "%s: entries re-encoded", name);
	request_option(c2s.p + skip, c2s.len - skip, &opt, &olen);
	if (with_chunk) {
		fwd_option_chunk(opt, olen, &chunk);
		chunk.p++;      /* past the fixstr header */
		chunk.len--;
	}
	fwd_packed_head(&e, tag.data, tag.len, ents.len);
	buf_put(&e, ents.p, ents.len);
	fwd_packed_option(&e, n, 0, chunk.p, chunk.len);
	is_mem(e.p, e.len, c2s.p + skip, c2s.len - skip,
	    "%s: PackedForward request byte for byte", name);
	buf_free(&c2s);
	buf_free(&e);
	buf_free(&ents);
}

static void
gzip_roundtrip(void)
{
	struct buf c2s = { 0 }, plain = { 0 }, gz = { 0 };
	const char *q, *end;
	struct mp_obj a, tag, en;
	unsigned char out[4096];
	uLongf olen = sizeof(out);
	z_stream zs;

	load(&c2s, "packed_plain.c2s");
	q = c2s.p;
	end = c2s.p + c2s.len;
	mp_head(&q, end, &a);
	mp_head(&q, end, &tag);
	mp_head(&q, end, &en);
	buf_put(&plain, en.data, en.len);
	ok(fwd_gzip(&gz, plain.p, plain.len, Z_DEFAULT_COMPRESSION) == 0,
	    "gzip: compressed");
	ok(gz.len > 10 && memcmp(gz.p, "\x1f\x8b\x08", 3) == 0,
	    "gzip: a gzip member");
	memset(&zs, 0, sizeof(zs));
	inflateInit2(&zs, 16 + MAX_WBITS);
	zs.next_in = (unsigned char *)gz.p;
	zs.avail_in = gz.len;
	zs.next_out = out;
	zs.avail_out = olen;
	ok(inflate(&zs, Z_FINISH) == Z_STREAM_END, "gzip: inflates");
	is_mem(out, zs.total_out, plain.p, plain.len, "gzip: same entries back");
	inflateEnd(&zs);
	buf_free(&c2s);
	buf_free(&plain);
	buf_free(&gz);
}

static void
chunk_ids(void)
{
	char a[FWD_CHUNK_LEN], b[FWD_CHUNK_LEN], salt[FWD_SALT_LEN + 1];
	unsigned char dec[32];
	int n;

	ok(fwd_chunk_id(a) == 0 && fwd_chunk_id(b) == 0, "chunk ids made");
	ok(a[24] == '\n', "chunk id ends with a newline, as Fluentd's");
	n = EVP_DecodeBlock(dec, (unsigned char *)a, 24);
	ok(n == 18 && a[22] == '=' && a[23] == '=', "chunk id is base64 of "
	    "16 bytes");
	ok(memcmp(a, b, FWD_CHUNK_LEN) != 0, "two chunk ids differ");
	ok(fwd_salt(salt) == 0 && strlen(salt) == 32 &&
	    strspn(salt, "0123456789abcdef") == 32, "salt is 32 hex chars");
}

static void
bad_input(void)
{
	struct fwd_ping pg;
	struct fwd_helo h;
	size_t u;

	is_int(fwd_ping_parse("\x93\xa1" "a\x01\x02", 5, &u, &pg), FWD_BAD,
	    "a Message-mode event is not a PING");
	is_int(fwd_ping_parse("\x96\xa4PI", 4, &u, &pg), FWD_SHORT,
	    "a truncated PING wants more");
	is_int(fwd_helo_parse("\xc1", 1, &u, &h), FWD_BAD, "0xc1 is bad");
	is_int(fwd_ping_parse("\x96\xa4PING\x01\xa0\xa0\xa0\xa0", 11, &u, &pg),
	    FWD_BAD, "a PING with an integer hostname is bad");
}

int
main(int argc, char **argv)
{
	(void)argc;
	if (find_vectors(argv[0]) < 0) {
		/* the captures are part of the repository: missing is a failure */
		printf("Bail out! tests/data/vectors/forward not found\n");
		return 1;
	}
	handshake("sharedkey_ack", "", "");
	handshake("sharedkey_userauth_ack", "alice", "pa55w0rd");
	refused("sharedkey_wrongkey", "shared_key mismatch");
	refused("secure_nonping", "invalid ping message");
	ack("packed_ack", 0, 0);
	ack("packed_gzip_ack", 0, 0);
	ack("sharedkey_ack", 316, 216);
	ack("sharedkey_userauth_ack", 321, 216);
	ack("probe_message_int_ack", 0, 0);
	ack("probe_forward_ack", 0, 0);
	ack("probe_packed_bin_ack", 0, 0);
	ack("probe_packed_str32_ack", 0, 0);
	ack("probe_compressed_gzip_ack", 0, 0);
	packed("packed_plain.c2s", 0, 0);
	packed("packed_ack.c2s", 0, 1);
	packed("sharedkey_ack.c2s", 316, 1);
	gzip_roundtrip();
	chunk_ids();
	bad_input();
	return done_testing();
}

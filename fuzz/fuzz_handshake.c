/* fuzz_handshake - libFuzzer target for the Forward handshake parsers */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "fwd.h"
#include "mp.h"

static struct buf b;

/* Is s a borrowed string inside [p, p + len)? */
static int
inside(const struct fwd_str *s, const char *p, size_t len)
{
	if (!s->p)
		return s->len == 0;
	if (s->len == 0)
		return 1;       /* "" may be a literal */
	return s->p >= p && s->p <= p + len &&
	    s->len <= (size_t)(p + len - s->p);
}

static int
same(const struct fwd_str *a, const struct fwd_str *c)
{
	return a->len == c->len && (a->len == 0 ||
	    memcmp(a->p, c->p, a->len) == 0);
}

/* Common checks of a parse: r a known code, used within, prefixes short. */
static void
check(int r, size_t used, size_t len,
    int (*again)(const char *, size_t, size_t *, void *), const char *p)
{
	size_t u;
	union {
		struct fwd_helo h;
		struct fwd_ping pg;
		struct fwd_pong po;
		struct fwd_str s;
	} obj;

	if (r != FWD_OK && r != FWD_SHORT && r != FWD_BAD)
		abort();
	if (r != FWD_OK)
		return;
	if (used == 0 || used > len)
		abort();
	/* one byte fewer is never a whole message */
	if (again(p, used - 1, &u, &obj) != FWD_SHORT)
		abort();
}

static int
helo(const char *p, size_t n, size_t *u, void *o)
{
	return fwd_helo_parse(p, n, u, o);
}

static int
ping(const char *p, size_t n, size_t *u, void *o)
{
	return fwd_ping_parse(p, n, u, o);
}

static int
pong(const char *p, size_t n, size_t *u, void *o)
{
	return fwd_pong_parse(p, n, u, o);
}

static int
ack(const char *p, size_t n, size_t *u, void *o)
{
	return fwd_ack_parse(p, n, u, o);
}

static void
test_helo(const char *p, size_t n)
{
	struct fwd_helo h, h2;
	size_t used = 0, u2;
	int r = fwd_helo_parse(p, n, &used, &h);

	check(r, used, n, helo, p);
	if (r != FWD_OK)
		return;
	if (!h.nonce.p || !inside(&h.nonce, p, used) ||
	    !inside(&h.auth, p, used))
		abort();
	/* what it read, written again, reads the same */
	b.len = 0;
	fwd_helo_put(&b, &h);
	if (fwd_helo_parse(b.p, b.len, &u2, &h2) != FWD_OK || u2 != b.len ||
	    !same(&h.nonce, &h2.nonce) || !same(&h.auth, &h2.auth) ||
	    h.keepalive != h2.keepalive)
		abort();
}

static void
test_ping(const char *p, size_t n)
{
	struct fwd_ping pg, pg2;
	size_t used = 0, u2;
	int r = fwd_ping_parse(p, n, &used, &pg);

	check(r, used, n, ping, p);
	if (r != FWD_OK)
		return;
	if (!inside(&pg.host, p, used) || !inside(&pg.salt, p, used) ||
	    !inside(&pg.digest, p, used) || !inside(&pg.user, p, used) ||
	    !inside(&pg.pass, p, used))
		abort();
	b.len = 0;
	fwd_ping_put(&b, &pg);
	if (fwd_ping_parse(b.p, b.len, &u2, &pg2) != FWD_OK || u2 != b.len ||
	    !same(&pg.host, &pg2.host) || !same(&pg.salt, &pg2.salt) ||
	    !same(&pg.digest, &pg2.digest) || !same(&pg.user, &pg2.user) ||
	    !same(&pg.pass, &pg2.pass))
		abort();
}

static void
test_pong(const char *p, size_t n)
{
	struct fwd_pong po, po2;
	size_t used = 0, u2;
	int r = fwd_pong_parse(p, n, &used, &po);

	check(r, used, n, pong, p);
	if (r != FWD_OK)
		return;
	if (!inside(&po.reason, p, used) || !inside(&po.host, p, used) ||
	    !inside(&po.digest, p, used))
		abort();
	b.len = 0;
	fwd_pong_put(&b, &po);
	if (fwd_pong_parse(b.p, b.len, &u2, &po2) != FWD_OK || u2 != b.len ||
	    po.ok != po2.ok || !same(&po.reason, &po2.reason) ||
	    !same(&po.host, &po2.host) || !same(&po.digest, &po2.digest))
		abort();
}

static void
test_ack(const char *p, size_t n)
{
	struct fwd_str c = { 0 }, c2 = { 0 };
	struct buf raw = { 0 };
	size_t used = 0, u2;
	int r = fwd_ack_parse(p, n, &used, &c);

	check(r, used, n, ack, p);
	if (r != FWD_OK)
		return;
	if (!inside(&c, p, used))
		abort();
	mp_put_strhdr(&raw, c.len);
	buf_put(&raw, c.p, c.len);
	b.len = 0;
	fwd_ack_put(&b, raw.p, raw.len);
	if (fwd_ack_parse(b.p, b.len, &u2, &c2) != FWD_OK || u2 != b.len ||
	    !same(&c, &c2))
		abort();
	buf_free(&raw);
}

static void
test_option(const char *p, size_t n)
{
	struct fwd_str v = { 0 };
	const char *q;

	if (fwd_option_chunk(p, n, &v) != 1)
		return;
	if (!v.p || !inside(&v, p, n))
		abort();
	/* the value is one whole msgpack value */
	q = v.p;
	if (mp_skip(&q, v.p + v.len, NULL) != MP_OK || q != v.p + v.len)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;

	test_helo(p, size);
	test_ping(p, size);
	test_pong(p, size);
	test_ack(p, size);
	test_option(p, size);
	return 0;
}

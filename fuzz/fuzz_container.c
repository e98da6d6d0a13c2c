/* fuzz_container - libFuzzer target for common/container.c */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "container.h"
#include "mp.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct buf mp;

#define CHECK(c) do { if (!(c)) abort(); } while (0)

/* p[0..n) lies within [lo, hi). */
static int
within(const char *p, size_t n, const char *lo, const char *hi)
{
	return p >= lo && p <= hi && n <= (size_t)(hi - p);
}

static void
time_checks(const char *s, size_t n)
{
	int64_t sec;
	uint32_t nsec;

	if (cont_time(s, n, &sec, &nsec) == 0) {
		CHECK(nsec < 1000000000u);
		CHECK(n >= 19);
		/* years 0 to 9999, zones within a day */
		CHECK(sec >= -62167219200LL - 86400 &&
		    sec <= 253402300800LL + 86400);
	}
}

static void
cri_checks(const char *s, size_t n)
{
	struct cont_line l;
	const char *why = NULL, *e = s + n;

	if (cont_cri(s, n, &l, &why) < 0) {
		CHECK(why != NULL);
		return;
	}
	CHECK(l.time == s && l.tlen > 0 && within(l.time, l.tlen, s, e));
	CHECK(within(l.stream, l.slen, s, e) && l.slen == 6);
	CHECK(l.sid == CONT_STDOUT || l.sid == CONT_STDERR);
	CHECK(within(l.tag, l.taglen, s, e) && l.taglen > 0);
	CHECK(l.partial == (l.tag[0] == 'P'));
	CHECK(within(l.msg, l.mlen, s, e) && l.msg + l.mlen == e);
	CHECK(l.time + l.tlen < l.stream && l.stream + l.slen < l.tag &&
	    l.tag + l.taglen <= l.msg);
	CHECK(!l.timed || l.nsec < 1000000000u);
	CHECK(!memchr(l.time, ' ', l.tlen) && !memchr(l.tag, ' ', l.taglen));
}

static void
docker_checks(const char *s, size_t n)
{
	struct cont_line l;
	const char *why = NULL, *p;

	if (cont_docker(s, n, &mp, &l, &why) < 0) {
		CHECK(why != NULL && l.msg == NULL);
		return;
	}
	CHECK(l.map == mp.p && l.maplen == mp.len);
	p = l.map;
	CHECK(mp_skip(&p, l.map + l.maplen, NULL) == MP_OK &&
	    p == l.map + l.maplen);
	CHECK(l.msg && within(l.msg, l.mlen, l.map, l.map + l.maplen));
	CHECK(l.partial == (l.mlen == 0 || l.msg[l.mlen - 1] != '\n'));
	CHECK(!l.stream || within(l.stream, l.slen, l.map,
	    l.map + l.maplen));
	CHECK(!l.time || within(l.time, l.tlen, l.map, l.map + l.maplen));
	CHECK(l.timed == 0 || l.time != NULL);
	CHECK(l.sid >= CONT_STDOUT && l.sid <= CONT_OTHER);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;

	time_checks(s, size);
	cri_checks(s, size);
	docker_checks(s, size);
	return 0;
}

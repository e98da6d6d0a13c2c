/* t_container - unit tests of common/container.c: CRI, Docker, RFC 3339 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "container.h"
#include "mp.h"
#include "tap.h"

#define S(lit) lit, sizeof(lit) - 1

static struct buf mp;

static void
times(void)
{
	int64_t sec = 0;
	uint32_t nsec = 0;

	ok(cont_time(S("1970-01-01T00:00:00Z"), &sec, &nsec) == 0 &&
	    sec == 0 && nsec == 0, "the epoch");
	ok(cont_time(S("2019-05-07T18:57:50.904275087+00:00"), &sec,
	    &nsec) == 0 && sec == 1557255470 && nsec == 904275087,
	    "CRI's time: nanoseconds kept");
	ok(cont_time(S("2021-02-01T16:45:03.01231z"), &sec, &nsec) == 0 &&
	    sec == 1612197903 && nsec == 12310000,
	    "a short fraction, a small z");
	ok(cont_time(S("2021-02-01T16:45:03.0123456789999Z"), &sec,
	    &nsec) == 0 && nsec == 12345678, "fraction digits past 9 dropped");
	ok(cont_time(S("2021-02-01T18:45:03+02:00"), &sec, &nsec) == 0 &&
	    sec == 1612197903 && nsec == 0, "+hh:mm is east of UTC");
	ok(cont_time(S("2021-02-01T14:15:03-0230"), &sec, &nsec) == 0 &&
	    sec == 1612197903, "-hhmm");
	ok(cont_time(S("2021-02-01 16:45:03"), &sec, &nsec) == 0 &&
	    sec == 1612197903, "a space for T, no zone: UTC");
	ok(cont_time(S("2024-02-29T00:00:00Z"), &sec, &nsec) == 0 &&
	    sec == 1709164800, "a leap day");
	ok(cont_time(S("2023-02-29T00:00:00Z"), &sec, &nsec) < 0,
	    "not a leap year");
	ok(cont_time(S("2100-02-29T00:00:00Z"), &sec, &nsec) < 0,
	    "2100 is not a leap year");
	ok(cont_time(S("2021-13-01T00:00:00Z"), &sec, &nsec) < 0 &&
	    cont_time(S("2021-01-01T24:00:00Z"), &sec, &nsec) < 0 &&
	    cont_time(S("2021-01-01T00:60:00Z"), &sec, &nsec) < 0,
	    "out of range fields");
	ok(cont_time(S("2021-01-01T00:00:00."), &sec, &nsec) < 0 &&
	    cont_time(S("2021-01-01T00:00:00.5X"), &sec, &nsec) < 0 &&
	    cont_time(S("2021-01-01T00:00:00+1"), &sec, &nsec) < 0 &&
	    cont_time(S("2021-01-01T00:00"), &sec, &nsec) < 0 &&
	    cont_time(S("2021-01-0aT00:00:00Z"), &sec, &nsec) < 0 &&
	    cont_time(S("+021-01-01T00:00:00Z"), &sec, &nsec) < 0,
	    "malformed times");
	ok(cont_time(S("9999-12-31T23:59:60.999999999+23:59"), &sec,
	    &nsec) == 0 && sec == 253402214460LL && nsec == 999999999,
	    "the largest time, a leap second");
	ok(cont_time(S("0000-01-01T00:00:00Z"), &sec, &nsec) == 0 &&
	    sec == -62167219200LL, "year 0");
}

static void
cri(void)
{
	struct cont_line l;
	const char *why = NULL;
	const char *s = "2019-05-07T18:57:50.904275087+00:00 stdout P "
	    "1a. some ";

	ok(cont_cri(s, strlen(s), &l, &why) == 0, "a CRI part");
	is_mem(l.time, l.tlen, s, 35, "its time text");
	ok(l.timed && l.sec == 1557255470 && l.nsec == 904275087,
	    "its time read");
	is_mem(l.stream, l.slen, "stdout", 6, "its stream");
	ok(l.sid == CONT_STDOUT && l.partial, "stdout, partial");
	is_mem(l.tag, l.taglen, "P", 1, "its tag");
	is_mem(l.msg, l.mlen, "1a. some ", 9, "its message, spaces kept");
	ok(cont_cri(S("2019-05-07T18:57:50Z stderr F:x a  b"), &l,
	    &why) == 0 && l.sid == CONT_STDERR && !l.partial &&
	    l.taglen == 3 && l.mlen == 4, "stderr, a full line, tag options");
	ok(cont_cri(S("2019-05-07T18:57:50Z stdout F"), &l, &why) == 0 &&
	    l.mlen == 0 && !l.partial, "no message after the tag: empty");
	ok(cont_cri(S("2019-05-07T18:57:50Z stdout F "), &l, &why) == 0 &&
	    l.mlen == 0, "a space after the tag, then nothing");
	ok(cont_cri(S("yesterday stdout F x"), &l, &why) == 0 && !l.timed,
	    "a time that is not RFC 3339 is not read");
	why = NULL;
	ok(cont_cri(S(""), &l, &why) < 0 && why &&
	    strstr(why, "empty"), "empty");
	ok(cont_cri(S(" stdout F x"), &l, &why) < 0, "a leading space");
	ok(cont_cri(S("2019-05-07T18:57:50Z"), &l, &why) < 0, "one word");
	ok(cont_cri(S("2019-05-07T18:57:50Z stdin F x"), &l, &why) < 0 &&
	    strstr(why, "stream"), "a stream other than stdout and stderr");
	ok(cont_cri(S("2019-05-07T18:57:50Z stdout X x"), &l, &why) < 0 &&
	    strstr(why, "tag"), "a tag other than P and F");
	ok(cont_cri(S("2019-05-07T18:57:50Z stdout FF x"), &l, &why) < 0,
	    "a tag FF");
	ok(cont_cri(S("2019-05-07T18:57:50Z stdout"), &l, &why) < 0,
	    "no tag");
	ok(cont_cri(S("2019-05-07T18:57:50Z stdout  F x"), &l, &why) < 0,
	    "two spaces before the tag");
}

/* The str value of key k in the map of l, or NULL. */
static const char *
member(const struct cont_line *l, const char *k, size_t *len)
{
	const char *v, *p;
	struct mp_obj o;
	size_t vlen;

	if (!mp_map_get(l->map, l->map + l->maplen, k, strlen(k), &v, &vlen))
		return NULL;
	p = v;
	if (mp_head(&p, v + vlen, &o) != MP_OK || o.type != MP_STR)
		return NULL;
	*len = o.len;
	return o.data;
}

static void
docker(void)
{
	struct cont_line l;
	const char *why = NULL, *v;
	size_t n = 0;

	ok(cont_docker(S("{\"log\":\"hey!\\n\",\"stream\":\"stdout\",\"time\":"
	    "\"2021-02-01T01:40:03.53412Z\"}"), &mp, &l, &why) == 0,
	    "Docker's example line");
	is_mem(l.msg, l.mlen, "hey!\n", 5, "the log, newline decoded");
	ok(!l.partial && l.sid == CONT_STDOUT, "whole, stdout");
	ok(l.timed && l.sec == 1612143603 && l.nsec == 534120000,
	    "its time read");
	ok((v = member(&l, "time", &n)) && n == 26, "the map has the time");
	ok(cont_docker(S(" {\"stream\":\"stderr\",\"log\":\"one, \\u00e9\\t"
	    "\\\"q\\\"\",\"attrs\":{\"a\":1}} \r"), &mp, &l, &why) == 0,
	    "members in any order, other members, spaces around");
	is_mem(l.msg, l.mlen, "one, \xc3\xa9\t\"q\"", 11,
	    "escapes decoded in the log");
	ok(l.partial && l.sid == CONT_STDERR && !l.time && !l.timed,
	    "no newline: partial; stderr; no time");
	ok(cont_docker(S("{\"log\":\"x\\n\",\"stream\":\"console\"}"), &mp,
	    &l, &why) == 0 && l.sid == CONT_OTHER && l.slen == 7,
	    "another stream");
	ok(cont_docker(S("{\"log\":\"\",\"log\":\"second\"}"), &mp, &l,
	    &why) == 0 && l.mlen == 0 && l.partial, "the first log counts");
	ok(cont_docker(S("{\"log\":1,\"log\":\"s\\n\"}"), &mp, &l, &why) == 0 &&
	    l.mlen == 2, "the first log string counts");
	ok(cont_docker(S("{\"log\":\"x\\n\",\"time\":\"soon\"}"), &mp, &l,
	    &why) == 0 && !l.timed && l.tlen == 4, "a bad time is not read");
	why = NULL;
	ok(cont_docker(S("{\"msg\":\"x\"}"), &mp, &l, &why) < 0 && why &&
	    strstr(why, "\"log\""), "no log: not a docker line");
	ok(cont_docker(S("{\"log\":null}"), &mp, &l, &why) < 0,
	    "a log that is not a string");
	ok(cont_docker(S("[\"log\"]"), &mp, &l, &why) < 0 &&
	    strstr(why, "object"), "an array");
	ok(cont_docker(S("2019-05-07T18:57:50Z stdout F x"), &mp, &l,
	    &why) < 0, "a CRI line");
	ok(cont_docker(S("{\"log\":\"x\""), &mp, &l, &why) < 0 &&
	    strstr(why, "bad JSON"), "a cut object");
	ok(cont_docker(S("{\"log\":\"x\"} {}"), &mp, &l, &why) < 0 &&
	    strstr(why, "after"), "text after the object");
	ok(cont_docker(S(""), &mp, &l, &why) < 0, "empty");
}

int
main(void)
{
	times();
	cri();
	docker();
	buf_free(&mp);
	return done_testing();
}

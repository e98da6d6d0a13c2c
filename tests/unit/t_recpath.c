/* t_recpath - unit tests of common/recpath.c */
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "json.h"
#include "mpjson.h"
#include "recpath.h"
#include "tap.h"

/* The JSON text of the msgpack value p[0..len), in t. */
static const char *
json_of(struct buf *t, const char *p, size_t len)
{
	t->len = 0;
	json_from_mp(t, &p, p + len);
	buf_putc(t, '\0');
	return t->p;
}

static void
get(const char *rec, const char *path, const char *want)
{
	struct buf b = { 0 }, t = { 0 };
	struct recpath rp;
	const char *err = "", *v;
	size_t vlen;
	int found;

	mp_of(&b, rec);
	if (recpath_parse(&rp, path, &err) < 0) {
		ok(0, "get %s: parse error %s", path, err);
		return;
	}
	found = recpath_get(&rp, b.p, b.p + b.len, &v, &vlen);
	if (!want)
		ok(!found, "get %s in %s: missing", path, rec);
	else if (!found)
		ok(0, "get %s in %s: found", path, rec);
	else
		is_str(json_of(&t, v, vlen), want, "get %s in %s", path, rec);
	recpath_free(&rp);
	buf_free(&b);
	buf_free(&t);
}

static void
without(const char *rec, const char *path, const char *want)
{
	struct buf b = { 0 }, o = { 0 }, t = { 0 };
	struct recpath rp;
	const char *err;
	int r;

	mp_of(&b, rec);
	recpath_parse(&rp, path, &err);
	r = recpath_put_without(&rp, &o, b.p, b.p + b.len);
	if (!want)
		ok(!r && o.len == 0, "without %s in %s: nothing", path, rec);
	else
		is_str(r ? json_of(&t, o.p, o.len) : "(none)", want,
		    "without %s in %s", path, rec);
	recpath_free(&rp);
	buf_free(&b);
	buf_free(&o);
	buf_free(&t);
}

static void
bad(const char *path)
{
	struct recpath rp;
	const char *err = NULL;

	ok(recpath_parse(&rp, path, &err) < 0 && err, "bad path %s (%s)",
	    path, err ? err : "accepted");
}

static void
to_s(const char *json, const char *want)
{
	struct buf b = { 0 }, t = { 0 };

	mp_of(&b, json);
	recpath_to_s(&t, b.p, b.p + b.len);
	is_mem(t.p ? t.p : "", t.len, want, strlen(want), "to_s %s", json);
	buf_free(&b);
	buf_free(&t);
}

static void
span(const char *s, size_t want)
{
	is_int(recpath_span(s), want, "span of %s", s);
}

int
main(void)
{
	get("{\"a\":1}", "a", "1");
	get("{\"a.b\":1,\"a\":{\"b\":2}}", "a.b", "1");
	get("{\"a.b\":1,\"a\":{\"b\":2}}", "$.a.b", "2");
	get("{\"a\":{\"b\":[10,20,30]}}", "$.a.b[1]", "20");
	get("{\"a\":{\"b\":[10,20,30]}}", "$.a.b[-1]", "30");
	get("{\"a\":{\"b\":[10,20,30]}}", "$.a.b[-4]", NULL);
	get("{\"a\":{\"b\":[10,20,30]}}", "$.a.b[3]", NULL);
	get("{\"a\":[[1,2],[3,4]]}", "$.a[1][0]", "3");
	get("{\"a b\":{\"c\":[{\"d\":\"x\"}]}}", "$['a b']['c'][0][\"d\"]",
	    "\"x\"");
	get("{\"a\":\"str\"}", "$.a.b", NULL);
	get("{\"a\":{\"0\":1}}", "$.a[0]", NULL);
	get("{\"a\":[1]}", "$.a.x", NULL);
	get("{}", "a", NULL);
	get("{\"x\":1,\"y\":{\"z\":null}}", "$.y.z", "null");

	without("{\"a\":1,\"b\":2}", "a", "{\"b\":2}");
	without("{\"a\":1,\"b\":{\"c\":3,\"d\":4}}", "$.b.c",
	    "{\"a\":1,\"b\":{\"d\":4}}");
	without("{\"a\":[1,2,3]}", "$.a[-1]", "{\"a\":[1,2]}");
	without("{\"a\":[1,{\"b\":1,\"c\":2}]}", "$['a'][1]['c']",
	    "{\"a\":[1,{\"b\":1}]}");
	without("{\"a\":1}", "$.a.b", NULL);
	without("{\"a\":1}", "zz", NULL);

	bad("$.");
	bad("$.a..b");
	bad("$.a b");
	bad("$.a[x]");
	bad("$.a[1");
	bad("$.a[1]x");
	bad("$['a");
	bad("$[a]");
	bad("$['a']x");
	bad("");

	to_s("\"s\"", "s");
	to_s("null", "");
	to_s("true", "true");
	to_s("-12", "-12");
	to_s("18446744073709551615", "18446744073709551615");
	to_s("1.0", "1.0");
	to_s("-2.5", "-2.5");
	to_s("100.0", "100.0");
	to_s("1e15", "1.0e+15");
	to_s("1e14", "100000000000000.0");
	to_s("1234567890123456.7", "1234567890123456.8");
	to_s("1e20", "1.0e+20");
	to_s("0.0001", "0.0001");
	to_s("0.00001", "1.0e-05");
	to_s("2.5e-300", "2.5e-300");
	to_s("0.1", "0.1");
	to_s("[1,\"a\",{\"b\":null}]", "[1,\"a\",{\"b\":null}]");

	span("key pattern", 3);
	span("$.a.b x", 5);
	span("$['a b'][0] x", 11);
	span("$[\"a ']\"] x", 9);
	span("nospace", 7);
	return done_testing();
}

/* maps - lparse's formats whose text holds maps: json, docker, msgpack */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "json.h"
#include "mp.h"
#include "parse_text.h"
#include "stream.h"

#include "lparse.h"

/* How a format names its values, for the reasons of failures. */
struct kind {
	const char *name;       /* "JSON" */
	const char *map, *maps; /* "an object", "objects" */
};

static const struct kind k_json = { "JSON", "an object", "objects" };
static const struct kind k_msgpack = { "msgpack", "a map with string keys",
	"maps with string keys" };

static struct buf jsonbuf;      /* a JSON line as msgpack */
static char whybuf[300];        /* a reason made for the event in hand */

/*
 * The pairs of a msgpack map (validated) as fields: 0, or -1 if a key is
 * not a str.
 */
static int
map_fields(const char *p, const char *end)
{
	struct mp_obj m, k;
	const char *v;
	struct pfield *f;
	uint32_t i;

	pfields_reset(&run.pf, 0);
	mp_head(&p, end, &m);
	for (i = 0; i < m.v.n; i++) {
		mp_head(&p, end, &k);
		if (k.type != MP_STR)
			return -1;
		v = p;
		mp_skip(&p, end, NULL);
		f = pfields_add(&run.pf, k.data, k.len);
		f->kind = PK_RAW;
		f->v = v;
		f->vlen = p - v;
	}
	return 0;
}

/*
 * As Fluentd: an event for each map of the array at p, a failure for
 * each other element; but --on-error takes the event once, so that a
 * line of many such elements is not multiplied.  strict (--format multi):
 * the first failure ends it.  0, or -1 with *why.
 */
static int
array_maps(const struct event *ev, const char *p, const char *end,
    uint32_t count, const struct kind *kd, int strict, const char *text,
    size_t len, const char **why)
{
	const char *e, *v, *w;
	struct mp_obj x;
	unsigned long bad = 0, first = 0;
	uint32_t i;

	for (i = 0; i < count; i++) {
		e = v = p;
		mp_skip(&p, end, NULL);
		if (mp_head(&v, end, &x) == MP_OK && x.type == MP_MAP &&
		    map_fields(e, p) == 0) {
			if (record_emit(ev, 0, 0, 0, &w) == 0)
				continue;
			if (strict)
				return *why = w, -1;
			errors_fail(ev, w, text, len);
		} else if (!bad++) {
			first = i + 1;
			if (strict)
				break;
		}
	}
	if (!bad)
		return 0;
	if (bad == 1)
		snprintf(whybuf, sizeof(whybuf), "element %lu of the %s array "
		    "is not %s", first, kd->name, kd->map);
	else
		snprintf(whybuf, sizeof(whybuf), "%lu elements of the %s array "
		    "are not %s (the first is element %lu)", bad, kd->name,
		    kd->maps, first);
	if (!strict)
		run.failures += bad - 1;
	*why = whybuf;
	return -1;
}

/* The value at p..end (validated): a map, or an array of maps. */
static int
value_maps(const struct event *ev, const char *p, const char *end,
    const struct kind *kd, int strict, const char *text, size_t len,
    const char **why)
{
	const char *v = p;
	struct mp_obj h;

	mp_head(&v, end, &h);
	if (h.type == MP_MAP) {
		if (map_fields(p, end) == 0)
			return record_emit(ev, 0, 0, 0, why);
		snprintf(whybuf, sizeof(whybuf), "a key of the %s map is not "
		    "a string", kd->name);
	} else if (h.type != MP_ARRAY) {
		snprintf(whybuf, sizeof(whybuf), "%s is not %s or an array",
		    kd->name, kd->map);
	} else if (h.v.n == 0) {
		snprintf(whybuf, sizeof(whybuf), "an empty %s array",
		    kd->name);
	} else {
		return array_maps(ev, v, end, h.v.n, kd, strict, text, len,
		    why);
	}
	*why = whybuf;
	return -1;
}

/* One JSON value, then only white space, as msgpack in jsonbuf. */
static inline int
json_value(const char *s, size_t n, const char **why)
{
	struct json_err err;
	size_t used, i;
	int r;

	jsonbuf.len = 0;
	if ((r = json_parse(s, n, 1, &used, &jsonbuf, &err)) != JSON_OK) {
		*why = r == JSON_BAD ? err.msg : "no JSON value";
		return -1;
	}
	for (i = used; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' &&
		    s[i] != '\r') {
			*why = "text after the JSON value";
			return -1;
		}
	return 0;
}

/* Fluentd's json parser: an object, or an array of objects. */
static int
format_json(const struct event *ev, const char *s, size_t n, int strict,
    const char **why)
{
	const char *p, *end;
	struct mp_obj h;

	if (json_value(s, n, why) < 0)
		return -1;
	p = jsonbuf.p;
	end = p + jsonbuf.len;
	if (mp_head(&p, end, &h) == MP_OK && h.type == MP_MAP) {
		map_fields(jsonbuf.p, end);     /* JSON keys are strings */
		return record_emit(ev, 0, 0, 0, why);
	}
	return value_maps(ev, jsonbuf.p, end, &k_json, strict, s, n, why);
}

/* The field "log" holds text. */
static int
has_log(void)
{
	const char *p;
	size_t i, n;

	for (i = 0; i < run.pf.n; i++)
		if (run.pf.f[i].klen == 3 && memcmp(run.pf.f[i].k, "log",
		    3) == 0 && field_text(&run.pf.f[i], &p, &n))
			return 1;
	return 0;
}

/*
 * Docker's json-file log: {"log":"...\n","stream":"stdout","time":"..."},
 * an object with a "log" string; its members become the fields as they
 * are (the newline that ends a whole line is kept), "time" the event time.
 */
static int
format_docker(const struct event *ev, const char *s, size_t n,
    const char **why)
{
	const char *p, *w;
	struct mp_obj h;

	if (json_value(s, n, &w) < 0) {
		snprintf(whybuf, sizeof(whybuf), "not a docker json-file line: "
		    "%s", w);
		*why = whybuf;
		return -1;
	}
	p = jsonbuf.p;
	if (mp_head(&p, jsonbuf.p + jsonbuf.len, &h) != MP_OK ||
	    h.type != MP_MAP) {
		*why = "not a docker json-file line: not a JSON object";
		return -1;
	}
	map_fields(jsonbuf.p, jsonbuf.p + jsonbuf.len);
	if (!has_log()) {
		*why = "not a docker json-file line: no \"log\" string";
		return -1;
	}
	return record_emit(ev, 0, 0, 0, why);
}

/* One msgpack value: a map, or an array of maps. */
static int
format_msgpack(const struct event *ev, const char *s, size_t n, int strict,
    const char **why)
{
	const char *p = s, *bad = s;
	int r;

	if (n == 0) {
		*why = "no msgpack value";
		return -1;
	}
	if ((r = mp_skip(&p, s + n, &bad)) != MP_OK) {
		if (r == MP_SHORT)
			snprintf(whybuf, sizeof(whybuf), "msgpack data that ends "
			    "inside a value (%zu bytes)", n);
		else
			snprintf(whybuf, sizeof(whybuf), "not msgpack: a bad byte "
			    "or too deep nesting at byte %zu", (size_t)(bad -
			    s));
		*why = whybuf;
		return -1;
	}
	if (p != s + n) {
		snprintf(whybuf, sizeof(whybuf), "%zu byte%s after the msgpack "
		    "value", (size_t)(s + n - p), s + n - p > 1 ? "s" : "");
		*why = whybuf;
		return -1;
	}
	return value_maps(ev, s, p, &k_msgpack, strict, s, n, why);
}

/*
 * Parses s[0..n) in o.format (json, docker or msgpack) and writes its
 * events: 0, or -1 with *why.  Not strict, an array's good elements are
 * written even if others fail, as Fluentd does; strict (for --format
 * multi), -1 means the text did not parse, and what was written is for
 * the caller to take back.
 */
int
maps_parse(const struct event *ev, const char *s, size_t n, int strict,
    const char **why)
{
	switch (o.format) {
	case F_DOCKER:
		return format_docker(ev, s, n, why);
	case F_MSGPACK:
		return format_msgpack(ev, s, n, strict, why);
	default:
		return format_json(ev, s, n, strict, why);
	}
}

/*
 * --format msgpack, and a field that is no text: a map or an array of
 * maps as it is (s: the value, in n bytes that run to the record's end).
 */
void
maps_raw(const struct event *ev, const char *s, size_t n)
{
	const char *p = s, *v = s, *why;
	struct mp_obj h;

	mp_skip(&p, s + n, NULL);
	if (mp_head(&v, p, &h) == MP_OK && (h.type == MP_MAP ||
	    h.type == MP_ARRAY)) {
		if (value_maps(ev, s, p, &k_msgpack, 0, NULL, 0, &why) < 0)
			errors_fail(ev, why, NULL, 0);
		return;
	}
	snprintf(whybuf, sizeof(whybuf), "field '%s' is not text, a map or an "
	    "array", o.key);
	errors_fail(ev, whybuf, NULL, 0);
}

void
maps_free(void)
{
	buf_free(&jsonbuf);
}

/* types - lparse's values: null patterns, empty strings null, --types */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "err.h"
#include "json.h"
#include "mp.h"
#include "parse_rx.h"
#include "parse_text.h"
#include "recpath.h"
#include "stream.h"
#include "timefmt.h"

#include "lparse.h"

enum conv_type { C_STRING, C_INTEGER, C_FLOAT, C_BOOL, C_TIME, C_ARRAY };

static const char *const conv_names[] = {
	"string", "integer", "float", "bool", "time", "array", NULL
};

/* One entry of --types. */
struct conv {
	char *key;
	size_t klen;
	enum conv_type type;
	char *sep;              /* array */
	size_t seplen;
	struct tparser tp;      /* time */
};

/* The conversions and what they need. */
static struct {
	struct conv *convs;
	size_t nconv;
	struct rxpair null;     /* --null-value-pattern */
	struct buf tmp;         /* a value's text (value_text) */
	struct buf val;         /* a value as msgpack, on the way to text */
} ty;

/*
 * Values.
 */

static void
put_nil(struct buf *b)
{
	buf_putc(b, (char)0xc0);
}

static void
put_bool(struct buf *b, int v)
{
	buf_putc(b, (char)(v ? 0xc3 : 0xc2));
}

static void
put_int(struct buf *b, int64_t v)
{
	msgpack_packer pk;

	mp_packer_init(&pk, b);
	msgpack_pack_int64(&pk, v);
}

static void
put_float(struct buf *b, double v)
{
	msgpack_packer pk;

	mp_packer_init(&pk, b);
	msgpack_pack_double(&pk, v);
}

static int
is_null(const char *s, size_t n)
{
	if (o.null_empty && n == 0)
		return 1;
	return ty.null.nl && rx_match(pick(&ty.null, s, n), s, n) == 1;
}

static struct conv *
conv_find(const char *k, size_t klen)
{
	size_t i;

	for (i = 0; i < ty.nconv; i++)
		if (ty.convs[i].klen == klen && memcmp(ty.convs[i].key, k,
		    klen) == 0)
			return &ty.convs[i];
	return NULL;
}

/* A field's value as it is, without conversions. */
static void
put_plain(struct buf *b, const struct pfield *f)
{
	switch (f->kind) {
	case PK_STR: put_str(b, f->v, f->vlen); break;
	case PK_RAW: buf_put(b, f->v, f->vlen); break;
	case PK_NIL: put_nil(b); break;
	case PK_TRUE: put_bool(b, 1); break;
	case PK_INT: put_int(b, f->i); break;
	case PK_FLOAT: put_float(b, f->f); break;
	}
}

/* The value as Ruby's to_s gives it (text as it is), in ty.tmp. */
static void
value_text(const struct pfield *f, const char **s, size_t *n)
{
	ty.tmp.len = 0;
	buf_reserve(&ty.tmp, 1);
	if (field_text(f, s, n))
		return;
	ty.val.len = 0;
	put_plain(&ty.val, f);
	recpath_to_s(&ty.tmp, ty.val.p, ty.val.p + ty.val.len);
	*s = ty.tmp.p;
	*n = ty.tmp.len;
}

/* Ruby's v.to_i (a float is truncated, anything else is 0). */
static int64_t
to_int(const struct pfield *f)
{
	const char *p = f->v, *s;
	struct mp_obj h = { 0 };
	double d = 0;
	size_t n;

	if (field_text(f, &s, &n))
		return parse_ruby_int(s, n);
	if (f->kind == PK_INT)
		return f->i;
	if (f->kind == PK_FLOAT)
		d = f->f;
	else if (f->kind == PK_RAW && mp_head(&p, f->v + f->vlen, &h) ==
	    MP_OK) {
		if (h.type == MP_UINT)
			return h.v.u > INT64_MAX ? INT64_MAX : (int64_t)h.v.u;
		if (h.type == MP_INT)
			return h.v.i;
		if (h.type == MP_FLOAT)
			d = h.v.f;
	}
	if (isnan(d))
		return 0;
	if (d >= 9223372036854775807.0)
		return INT64_MAX;
	if (d <= -9223372036854775808.0)
		return INT64_MIN;
	return (int64_t)d;
}

/* Ruby's v.to_f. */
static double
to_float(const struct pfield *f)
{
	const char *p = f->v, *s;
	struct mp_obj h;
	size_t n;

	if (field_text(f, &s, &n))
		return parse_ruby_float(s, n);
	if (f->kind == PK_INT)
		return (double)f->i;
	if (f->kind == PK_FLOAT)
		return f->f;
	if (f->kind == PK_RAW && mp_head(&p, f->v + f->vlen, &h) == MP_OK) {
		if (h.type == MP_UINT)
			return (double)h.v.u;
		if (h.type == MP_INT)
			return (double)h.v.i;
		if (h.type == MP_FLOAT)
			return h.v.f;
	}
	return 0.0;
}

/* Fluentd's bool: to_s.downcase is true, yes or 1. */
static int
to_bool(const struct pfield *f)
{
	static const char *const truthy[] = { "true", "yes", "1" };
	const char *s;
	size_t n, i;

	value_text(f, &s, &n);
	for (i = 0; i < 3; i++)
		if (n == strlen(truthy[i]) && strncasecmp(s, truthy[i], n) == 0)
			return 1;
	return 0;
}

static void
array_item(void *arg, const char *p, size_t n)
{
	put_str(arg, p, n);
}

static void
put_array(struct buf *b, const struct conv *c, const struct pfield *f)
{
	msgpack_packer pk;
	const char *s;
	size_t n, count;

	value_text(f, &s, &n);
	count = parse_split(s, n, c->sep, c->seplen, 0, NULL, NULL);
	mp_packer_init(&pk, b);
	msgpack_pack_array(&pk, count);
	parse_split(s, n, c->sep, c->seplen, 0, array_item, b);
}

static void
convert(struct buf *b, const struct conv *c, const struct pfield *f)
{
	const char *s, *why;
	int64_t sec;
	uint32_t nsec;
	size_t n;

	switch (c->type) {
	case C_STRING:
		value_text(f, &s, &n);
		put_str(b, s, n);
		break;
	case C_INTEGER:
		put_int(b, to_int(f));
		break;
	case C_FLOAT:
		put_float(b, to_float(f));
		break;
	case C_BOOL:
		put_bool(b, to_bool(f));
		break;
	case C_TIME:
		if (record_parse_time(&c->tp, f, &sec, &nsec, &why) == 0)
			event_put_time(b, sec, nsec);
		else
			put_nil(b);
		break;
	case C_ARRAY:
		put_array(b, c, f);
		break;
	}
}

/*
 * A field's value, after the null patterns and --types (record.c writes
 * a text value itself when there are none).
 */
void
types_put_value(struct buf *b, const struct pfield *f)
{
	const struct conv *c;
	const char *s;
	size_t n;

	if (f->kind == PK_NIL || (f->kind == PK_RAW &&
	    (unsigned char)*f->v == 0xc0)) {
		put_nil(b);
		return;
	}
	if ((o.null_empty || ty.null.nl) && field_text(f, &s, &n) &&
	    is_null(s, n)) {
		put_nil(b);
		return;
	}
	if (ty.nconv && (c = conv_find(f->k, f->klen)))
		convert(b, c, f);
	else
		put_plain(b, f);
}

/*
 * Setup.
 */

/* Fluentd's zones: [+-]HH[[:]MM], Region/Zone, and UTC. */
static int
zone_like(const char *s, size_t n)
{
	char path[512];

	if (n == 3 && strncasecmp(s, "UTC", 3) == 0)
		return 1;
	if (n >= 3 && (*s == '+' || *s == '-') && ISDIGIT(s[1]) &&
	    ISDIGIT(s[2]))
		return n == 3 || (n == 5 && ISDIGIT(s[3]) && ISDIGIT(s[4])) ||
		    (n == 6 && s[3] == ':' && ISDIGIT(s[4]) && ISDIGIT(s[5]));
	if (!memchr(s, '/', n) || n > 200 || memchr(s, '.', n))
		return 0;
	snprintf(path, sizeof(path), "/usr/share/zoneinfo/%.*s", (int)n, s);
	return access(path, R_OK) == 0;
}

/* time[:[TZ:]FMT] of --types, FMT also unixtime or float. */
static void
conv_time(struct conv *c, const char *opt)
{
	const char *fmt = opt, *colon;
	char *tz = NULL;

	c->tp.type = TT_STRING;
	if (opt && (colon = strchr(opt + (*opt == '+' || *opt == '-' ? 4 : 0),
	    ':')) && zone_like(opt, colon - opt)) {
		tz = xstrndup(opt, colon - opt);
		fmt = colon + 1;
		if (*tz != '+' && *tz != '-' && strcasecmp(tz, "UTC") != 0 &&
		    (!o.tz || strcmp(o.tz, tz) != 0))
			die(EX_USAGE, "bad --types: zone '%s' for '%s' needs "
			    "--timezone %s (or use an offset such as +09:00)",
			    tz, c->key, tz);
	}
	if (!fmt || strcmp(fmt, "string") == 0 || strcmp(fmt, "mixed") == 0) {
		time_need_guess();
	} else {
		if (strcmp(fmt, "unixtime") == 0)
			c->tp.type = TT_UNIXTIME;
		else if (strcmp(fmt, "float") == 0)
			c->tp.type = TT_FLOAT;
		c->tp.tf = time_compile(fmt, tz ? tz : o.tz,
		    "time format in --types");
	}
	free(tz);
}

/* One "key:type[:option]" of --types (what: where it was given). */
static void
conv_add(const char *k, size_t klen, const char *def, const char *what)
{
	const char *opt = strchr(def, ':');
	size_t tlen = opt ? (size_t)(opt - def) : strlen(def), i;
	struct conv *c;

	for (i = 0; conv_names[i]; i++)
		if (strlen(conv_names[i]) == tlen && strncmp(conv_names[i], def,
		    tlen) == 0)
			break;
	if (!conv_names[i])
		die(EX_USAGE, "bad %s: unknown type '%.*s' for '%.*s' "
		    "(string, integer, float, bool, time, array)", what,
		    (int)tlen, def, (int)klen, k);
	if ((c = conv_find(k, klen))) {
		/* a key given again: the last type wins, as in a Ruby Hash */
		free(c->key);
		free(c->sep);
		timefmt_free(c->tp.tf);
	} else {
		ty.convs = xrealloc(ty.convs, (ty.nconv + 1) *
		    sizeof(*ty.convs));
		c = &ty.convs[ty.nconv++];
	}
	memset(c, 0, sizeof(*c));
	c->key = xstrndup(k, klen);
	c->klen = klen;
	c->type = i;
	if (c->type == C_ARRAY) {
		c->sep = xstrdup(opt ? opt + 1 : ",");
		c->seplen = strlen(c->sep);
	} else if (c->type == C_TIME) {
		conv_time(c, opt ? opt + 1 : NULL);
	}
}

/* --types {"k":"type",...}, as Fluentd also takes it. */
static void
types_json(const char *s)
{
	struct buf b = { 0 }, def = { 0 };
	struct json_err err;
	struct mp_obj m, k, v;
	const char *p, *end;
	size_t used;
	uint32_t i;

	if (json_parse(s, strlen(s), 1, &used, &b, &err) != JSON_OK)
		die(EX_USAGE, "bad --types: %s", "invalid JSON");
	p = b.p;
	end = b.p + b.len;
	mp_head(&p, end, &m);
	for (i = 0; m.type == MP_MAP && i < m.v.n; i++) {
		mp_head(&p, end, &k);
		if (mp_head(&p, end, &v) != MP_OK || v.type != MP_STR)
			die(EX_USAGE, "bad --types: the type of '%.*s' is not "
			    "a string", (int)k.len, k.data);
		def.len = 0;
		buf_put(&def, v.data, v.len);
		buf_putc(&def, '\0');
		conv_add(k.data, k.len, def.p, "--types");
	}
	if (m.type != MP_MAP)
		die(EX_USAGE, "bad --types: JSON that is not an object");
	buf_free(&b);
	buf_free(&def);
}

/* The first --types-label-delimiter in s[0..n), or NULL. */
static const char *
find_label(const char *s, size_t n)
{
	size_t dl = strlen(o.types_label), i;

	for (i = 0; i + dl <= n; i++)
		if (memcmp(s + i, o.types_label, dl) == 0)
			return s + i;
	return NULL;
}

/*
 * A type "type[DELIM option]" as conv_add reads it, "type[:option]", as
 * Fluentd turns it (NUL-ended, to free).
 */
static char *
type_def(const char *t, size_t n)
{
	const char *d = find_label(t, n);
	size_t dl = strlen(o.types_label);
	char *def;

	if (!d)
		return xstrndup(t, n);
	def = xmalloc(n + 2);
	snprintf(def, n + 2, "%.*s:%.*s", (int)(d - t), t,
	    (int)(n - (d - t) - dl), d + dl);
	return def;
}

/* A --regex group (?<NAME:TYPE>...) of --types-label-delimiter. */
void
types_group(void *arg, const char *name, size_t nlen, const char *type,
    size_t tlen)
{
	char *def = type_def(type, tlen);

	(void)arg;
	conv_add(name, nlen, def, "type of a --regex group");
	free(def);
}

/*
 * --types k:type,k2:type2:option, ':' being --types-label-delimiter; white
 * space around ',' is ignored, as Fluentd ignores it.
 */
static void
types_parse(const char *spec)
{
	char *s = xstrdup(spec), *item, *next, *e, *def;
	const char *label;
	size_t dl = strlen(o.types_label);

	for (item = s; item; item = next) {
		if ((next = strchr(item, ',')))
			*next++ = '\0';
		while (ISSPACE(*item))
			item++;
		for (e = item + strlen(item); e > item && ISSPACE(e[-1]);)
			*--e = '\0';
		if (!(label = find_label(item, e - item)) || label == item)
			die(EX_USAGE, "bad --types: '%s' is not KEY%sTYPE",
			    item, o.types_label);
		def = type_def(label + dl, e - label - dl);
		conv_add(item, label - item, def, "--types");
		free(def);
	}
	free(s);
}

/* --types, then --null-value-pattern (typed --regex groups came first). */
void
types_setup(void)
{
	if (o.types)
		(o.types[0] == '{' ? types_json : types_parse)(o.types);
	if (o.null_pattern)
		format_rx_pair(&ty.null, "--null-value-pattern",
		    o.null_pattern);
	o.convert_values = o.null_empty || ty.null.nl || ty.nconv;
}

void
types_free(void)
{
	size_t i;

	for (i = 0; i < ty.nconv; i++) {
		free(ty.convs[i].key);
		free(ty.convs[i].sep);
		timefmt_free(ty.convs[i].tp.tf);
	}
	free(ty.convs);
	format_rx_pair_free(&ty.null);
	buf_free(&ty.tmp);
	buf_free(&ty.val);
}

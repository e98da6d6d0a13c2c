/* jqglue - libjq glue: compile once, run per event, msgpack <-> jv */
#include <jq.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "jqglue.h"
#include "json.h"
#include "mp.h"

#define KEYCACHE 256            /* interned keys, direct-mapped */
#define KEYMAX 40               /* longest key interned */

/*
 * Keys repeat from record to record: an interned key is one refcounted
 * jv string shared by every record, so building an object costs no
 * malloc and no hashing per key (jq caches a string's hash in it).
 */
struct keyslot {
	jv key;                 /* a string, or invalid when empty */
	size_t len;
	char bytes[KEYMAX];
};

/* A top-level field of the started record, to copy back exactly. */
struct top {
	const char *pair;       /* its raw key and value bytes */
	size_t pair_len;
	const char *k;          /* the key's bytes, NULL if not str or bin */
	size_t klen;
	jv val;                 /* a reference: its jv, to compare */
};

struct jqglue {
	jq_state *jq;
	struct buf err;         /* what the error callback said */
	struct buf msg;         /* the last runtime error */
	struct buf tmp;         /* JSON text of odd values */
	struct keyslot keys[KEYCACHE];
	struct top *top;
	size_t ntop, captop;
	int done;
	int wrapped;            /* input is [tag, time, record] */
};

static const char WRAP_HEAD[] = ".[0] as $tag | .[1] as $time | .[2] | (";
static const char WRAP_TAIL[] = "\n)";

/* Collects libjq's messages instead of letting it print them. */
static void
err_cb(void *data, jv msg)
{
	struct buf *b = data;
	const char *s;
	size_t n;

	if (jv_get_kind(msg) != JV_KIND_STRING)
		msg = jv_dump_string(msg, 0);
	s = jv_string_value(msg);
	if (strncmp(s, "jq: error: ", 11) == 0)
		s += 11;
	else if (strncmp(s, "jq: ", 4) == 0 && strstr(s, " compile error"))
		s = "";         /* the "jq: N compile errors" summary */
	n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\n'))
		n--;
	if (n) {
		if (b->len)
			buf_putc(b, '\n');
		buf_put(b, s, n);
	}
	jv_free(msg);
}

/* jq's `debug`: ["DEBUG:",value] on stderr, as jq(1) shows it. */
static void
debug_warn(void *data, jv msg)
{
	jv s = jv_dump_string(msg, 0);

	(void)data;
	warn("[\"DEBUG:\",%s]", jv_string_value(s));
	jv_free(s);
}

static jq_state *
new_state(struct buf *err)
{
	jq_state *jq = jq_init();

	if (!jq)
		die(EX_SYS, "out of memory");
	jq_set_error_cb(jq, err_cb, err);
	jq_set_debug_cb(jq, debug_warn, NULL);
	/* no module search path: without one, `include` crashes libjq 1.6 */
	jq_set_attr(jq, jv_string("JQ_LIBRARY_PATH"), jv_array());
	return jq;
}

/* The message of the bare program, which names the user's own lines. */
static void
bare_message(const char *program, struct buf *err)
{
	struct buf e = { 0 };
	jq_state *jq = new_state(&e);
	jv args = jv_object();

	args = jv_object_set(args, jv_string("tag"), jv_string(""));
	args = jv_object_set(args, jv_string("time"), jv_number(0));
	if (!jq_compile_args(jq, program, args) && e.len) {
		err->len = 0;
		buf_put(err, e.p, e.len);
	}
	jq_teardown(&jq);
	buf_free(&e);
}

struct jqglue *
jqglue_new(const char *program, char *err, size_t errcap)
{
	struct jqglue *jg = xcalloc(1, sizeof(*jg));
	struct buf w = { 0 };
	size_t i;
	int ok;

	for (i = 0; i < KEYCACHE; i++)
		jg->keys[i].key = jv_invalid();
	/* most programs use neither $tag nor $time: run those bare */
	jg->jq = new_state(&jg->err);
	if (jq_compile(jg->jq, program))
		return jg;
	jq_teardown(&jg->jq);
	jg->err.len = 0;
	jg->wrapped = 1;
	jg->jq = new_state(&jg->err);
	buf_puts(&w, WRAP_HEAD);
	buf_puts(&w, program);
	buf_puts(&w, WRAP_TAIL);
	buf_putc(&w, '\0');
	ok = jq_compile(jg->jq, w.p);
	buf_free(&w);
	if (!ok) {
		bare_message(program, &jg->err);
		if (!jg->err.len)
			buf_puts(&jg->err, "compile error");
		snprintf(err, errcap, "%.*s", (int)jg->err.len, jg->err.p);
		jqglue_free(jg);
		return NULL;
	}
	return jg;
}

static void
drop_tops(struct jqglue *jg)
{
	size_t i;

	for (i = 0; i < jg->ntop; i++)
		jv_free(jg->top[i].val);
	jg->ntop = 0;
}

void
jqglue_free(struct jqglue *jg)
{
	size_t i;

	if (!jg)
		return;
	drop_tops(jg);
	free(jg->top);
	for (i = 0; i < KEYCACHE; i++)
		jv_free(jg->keys[i].key);
	if (jg->jq)
		jq_teardown(&jg->jq);
	buf_free(&jg->err);
	buf_free(&jg->msg);
	buf_free(&jg->tmp);
	free(jg);
}

static jv
intern(struct jqglue *jg, const char *s, size_t len)
{
	struct keyslot *k;
	uint32_t h = 2166136261u;
	size_t i;

	if (len > KEYMAX)
		return jv_string_sized(s, (int)len);
	for (i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	k = &jg->keys[h % KEYCACHE];
	if (jv_get_kind(k->key) != JV_KIND_STRING || k->len != len ||
	    memcmp(k->bytes, s, len) != 0) {
		jv_free(k->key);
		k->key = jv_string_sized(s, (int)len);
		memcpy(k->bytes, s, len);
		k->len = len;
	}
	return jv_copy(k->key);
}

/* A jv parsed from the JSON text json_from_mp gives the value at at. */
static jv
from_json(struct jqglue *jg, const char *at, const char *end)
{
	jg->tmp.len = 0;
	json_from_mp(&jg->tmp, &at, end);
	return jv_parse_sized(jg->tmp.p, (int)jg->tmp.len);
}

/* The key at *p as a jv string; advances *p. */
static jv
key_jv(struct jqglue *jg, const char **p, const char *end)
{
	const char *at = *p;
	struct mp_obj k;

	mp_head(p, end, &k);
	if (k.type == MP_STR || k.type == MP_BIN)
		return intern(jg, k.data, k.len);
	*p = at;
	mp_skip(p, end, NULL);
	jg->tmp.len = 0;
	json_from_mp(&jg->tmp, &at, end);
	return jv_string_sized(jg->tmp.p, (int)jg->tmp.len);
}

static jv
ext_jv(struct jqglue *jg, const struct mp_obj *o, const char *at,
    const char *end)
{
	const unsigned char *u = (const unsigned char *)o->data;

	if (o->ext_type == 0 && o->len == 8)
		return jv_number((double)((uint32_t)u[0] << 24 |
		    (uint32_t)u[1] << 16 | (uint32_t)u[2] << 8 | u[3]));
	return from_json(jg, at, end);
}

jv
jqglue_from_mp(struct jqglue *jg, const char **p, const char *end)
{
	const char *at = *p;
	struct mp_obj o;
	uint32_t i;
	jv v, k;

	if (mp_head(p, end, &o) != MP_OK)
		return jv_null();
	switch (o.type) {
	case MP_NIL: return jv_null();
	case MP_BOOL: return jv_bool(o.v.b);
	case MP_UINT: return jv_number((double)o.v.u);
	case MP_INT: return jv_number((double)o.v.i);
	case MP_FLOAT: return jv_number(o.v.f);
	case MP_STR: case MP_BIN: return jv_string_sized(o.data, (int)o.len);
	case MP_EXT: return ext_jv(jg, &o, at, end);
	case MP_ARRAY:
		v = jv_array_sized((int)o.v.n);
		for (i = 0; i < o.v.n; i++)
			v = jv_array_append(v, jqglue_from_mp(jg, p, end));
		return v;
	case MP_MAP:
		v = jv_object();
		for (i = 0; i < o.v.n; i++) {
			k = key_jv(jg, p, end);
			v = jv_object_set(v, k, jqglue_from_mp(jg, p, end));
		}
		return v;
	}
	return jv_null();
}

/* The record as a jv object, noting each top-level field in jg->top. */
static jv
record_jv(struct jqglue *jg, const char *rec, const char *end)
{
	const char *p = rec, *pair;
	struct mp_obj m, k;
	struct top *t;
	uint32_t i;
	jv obj = jv_object(), key, val;

	drop_tops(jg);
	if (mp_head(&p, end, &m) != MP_OK || m.type != MP_MAP)
		return obj;
	if (m.v.n > jg->captop) {
		jg->captop = m.v.n;
		jg->top = xrealloc(jg->top, jg->captop * sizeof(*jg->top));
	}
	for (i = 0; i < m.v.n; i++) {
		pair = p;
		t = &jg->top[jg->ntop++];
		t->k = NULL;
		if (mp_head(&p, end, &k) == MP_OK && (k.type == MP_STR ||
		    k.type == MP_BIN)) {
			t->k = k.data;
			t->klen = k.len;
		}
		p = pair;
		key = key_jv(jg, &p, end);
		val = jqglue_from_mp(jg, &p, end);
		t->pair = pair;
		t->pair_len = p - pair;
		t->val = jv_copy(val);
		obj = jv_object_set(obj, key, val);
	}
	return obj;
}

void
jqglue_start(struct jqglue *jg, const char *tag, size_t tag_len,
    int64_t sec, uint32_t nsec, const char *rec, size_t rec_len)
{
	jv in;

	if (!jg->wrapped) {
		jq_start(jg->jq, record_jv(jg, rec, rec + rec_len), 0);
		jg->done = 0;
		return;
	}
	in = jv_array_sized(3);
	in = jv_array_append(in, jv_string_sized(tag, (int)tag_len));
	in = jv_array_append(in, jv_number((double)sec + nsec / 1e9));
	in = jv_array_append(in, record_jv(jg, rec, rec + rec_len));
	jq_start(jg->jq, in, 0);
	jg->done = 0;
}

/* Sets jg->msg from an error value (consumed). */
static void
set_msg(struct jqglue *jg, const char *prefix, jv m)
{
	jg->msg.len = 0;
	buf_puts(&jg->msg, prefix);
	if (jv_get_kind(m) == JV_KIND_STRING) {
		buf_put(&jg->msg, jv_string_value(m),
		    jv_string_length_bytes(jv_copy(m)));
		jv_free(m);
	} else {
		m = jv_dump_string(m, 0);
		buf_puts(&jg->msg, jv_string_value(m));
		buf_puts(&jg->msg, " (not a string)");
		jv_free(m);
	}
	while (jg->msg.len && jg->msg.p[jg->msg.len - 1] == '\n')
		jg->msg.len--;
	buf_putc(&jg->msg, '\0');
}

int
jqglue_next(struct jqglue *jg, jv *out)
{
	jv r, m;

	if (jg->done)
		return JQGLUE_END;
	r = jq_next(jg->jq);
	if (jv_is_valid(r)) {
		*out = r;
		return JQGLUE_OUT;
	}
	jg->done = 1;
	if (jv_invalid_has_msg(jv_copy(r))) {
		set_msg(jg, "", jv_invalid_get_msg(r));
		return JQGLUE_ERR;
	}
	jv_free(r);
	if (!jq_halted(jg->jq))
		return JQGLUE_END;
	m = jq_get_error_message(jg->jq);
	if (!jv_is_valid(m)) {
		jv_free(m);
		return JQGLUE_END;
	}
	set_msg(jg, "halt_error: ", m);
	return JQGLUE_ERR;
}

const char *
jqglue_errmsg(const struct jqglue *jg)
{
	return jg->msg.len ? jg->msg.p : "";
}

static void
put_str(struct buf *b, jv s)
{
	int n = jv_string_length_bytes(jv_copy(s));

	mp_put_strhdr(b, (size_t)n);
	buf_put(b, jv_string_value(s), (size_t)n);
	jv_free(s);
}

void
jqglue_put_number(struct buf *b, double d)
{
	msgpack_packer pk;

	mp_packer_init(&pk, b);
	if (d == floor(d) && d >= -9223372036854775808.0 &&
	    d < 9223372036854775808.0)
		msgpack_pack_int64(&pk, (int64_t)d);
	else if (d == floor(d) && d > 0 && d < 18446744073709551616.0)
		msgpack_pack_uint64(&pk, (uint64_t)d);
	else
		msgpack_pack_double(&pk, d);
}

static void
put_object(struct buf *b, jv v)
{
	int i;

	mp_put_maphdr(b, (uint32_t)jv_object_length(jv_copy(v)));
	for (i = jv_object_iter(v); jv_object_iter_valid(v, i);
	    i = jv_object_iter_next(v, i)) {
		put_str(b, jv_object_iter_key(v, i));
		jqglue_to_mp(b, jv_object_iter_value(v, i));
	}
	jv_free(v);
}

void
jqglue_to_mp(struct buf *b, jv v)
{
	msgpack_packer pk;
	int i, n;

	switch (jv_get_kind(v)) {
	case JV_KIND_FALSE: buf_putc(b, 0xc2); break;
	case JV_KIND_TRUE: buf_putc(b, 0xc3); break;
	case JV_KIND_NUMBER: jqglue_put_number(b, jv_number_value(v)); break;
	case JV_KIND_STRING: put_str(b, v); return;
	case JV_KIND_OBJECT: put_object(b, v); return;
	case JV_KIND_ARRAY:
		n = jv_array_length(jv_copy(v));
		mp_packer_init(&pk, b);
		msgpack_pack_array(&pk, (size_t)n);
		for (i = 0; i < n; i++)
			jqglue_to_mp(b, jv_array_get(jv_copy(v), i));
		break;
	default: buf_putc(b, 0xc0); break;
	}
	jv_free(v);
}

/* The started record's field named k (borrowed), or NULL. */
static struct top *
find_top(struct jqglue *jg, jv k, size_t *hint)
{
	const char *s = jv_string_value(k);
	size_t len = (size_t)jv_string_length_bytes(jv_copy(k)), i, j;
	struct top *t;

	for (j = 0; j < jg->ntop; j++) {
		i = (*hint + j) % jg->ntop;
		t = &jg->top[i];
		if (t->k && t->klen == len && memcmp(t->k, s, len) == 0) {
			*hint = i + 1;
			return t;
		}
	}
	return NULL;
}

void
jqglue_put(struct jqglue *jg, struct buf *b, jv v)
{
	struct top *t;
	size_t hint = 0;
	int i;
	jv k, val;

	if (jv_get_kind(v) != JV_KIND_OBJECT || !jg->ntop) {
		jqglue_to_mp(b, v);
		return;
	}
	mp_put_maphdr(b, (uint32_t)jv_object_length(jv_copy(v)));
	for (i = jv_object_iter(v); jv_object_iter_valid(v, i);
	    i = jv_object_iter_next(v, i)) {
		k = jv_object_iter_key(v, i);
		val = jv_object_iter_value(v, i);
		t = find_top(jg, k, &hint);
		if (t && jv_identical(jv_copy(val), jv_copy(t->val))) {
			buf_put(b, t->pair, t->pair_len);
			jv_free(val);
			jv_free(k);
		} else {
			put_str(b, k);
			jqglue_to_mp(b, val);
		}
	}
	jv_free(v);
}

int
jqglue_truthy(jv v)
{
	jv_kind k = jv_get_kind(v);

	jv_free(v);
	return k != JV_KIND_NULL && k != JV_KIND_FALSE &&
	    k != JV_KIND_INVALID;
}

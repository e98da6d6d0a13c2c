/* format - each event's line (stdout, json, ltsv, csv ...) in its buffer */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "json.h"
#include "mp.h"
#include "timefmt.h"

#include "lout.h"

static struct timefmt *tf_time;         /* time in lines and --time-key */
static char **fields;
static size_t *field_lens;
static size_t nfields;

/* Appends a value as text: str and bin raw, anything else as JSON. */
static void
put_text(struct buf *b, const char *v, const char *end)
{
	const char *p = v;
	struct mp_obj h;

	if (mp_head(&p, end, &h) == MP_OK && (h.type == MP_STR ||
	    h.type == MP_BIN)) {
		buf_put(b, h.data, h.len);
		return;
	}
	p = v;
	json_from_mp(b, &p, end);
}

/* As put_text, with the delimiter and newlines turned into spaces. */
static void
put_clean(struct buf *b, const char *v, const char *end, const char *delim)
{
	size_t from = b->len, dl = strlen(delim), i;

	put_text(b, v, end);
	for (i = from; i < b->len; i++) {
		if (b->p[i] == '\n' || b->p[i] == '\r')
			b->p[i] = ' ';
		else if (dl && b->len - i >= dl && memcmp(b->p + i, delim,
		    dl) == 0)
			memset(b->p + i, ' ', dl);
	}
}

static void
put_csv(struct buf *b, const char *v, const char *end)
{
	size_t from, i;

	buf_putc(b, '"');
	from = b->len;
	put_text(b, v, end);
	for (i = from; i < b->len; i++) {
		if (b->p[i] == '"') {
			buf_putc(b, 0);
			memmove(b->p + i + 1, b->p + i, b->len - 1 - i);
			i++;
		}
	}
	buf_putc(b, '"');
}

static void
put_time_text(struct buf *b, int64_t sec, uint32_t nsec)
{
	size_t n;

	buf_reserve(b, 128);
	n = timefmt_format(tf_time, sec, nsec, b->p + b->len, 128);
	b->len += n;
}

/* Appends the line (or msgpack) for one event to b. */
static void
format(struct buf *b, const struct event *ev, const char *rec, size_t len)
{
	const char *p = rec, *end = rec + len, *v;
	const char *delim = o.delim;
	struct mp_obj m, k;
	size_t vlen, i;
	uint32_t n;

	switch (o.format) {
	case F_STDOUT:
		put_time_text(b, ev->sec, ev->nsec);
		buf_putc(b, ' ');
		buf_put(b, ev->tag, ev->tag_len);
		buf_put(b, ": ", 2);
		json_from_mp(b, &p, end);
		break;
	case F_OUT_FILE:
		put_time_text(b, ev->sec, ev->nsec);
		buf_puts(b, delim ? delim : "\t");
		buf_put(b, ev->tag, ev->tag_len);
		buf_puts(b, delim ? delim : "\t");
		json_from_mp(b, &p, end);
		break;
	case F_JSON:
		json_from_mp(b, &p, end);
		break;
	case F_MSGPACK:
		buf_put(b, rec, len);
		return;
	case F_SINGLE:
		if (mp_map_get(rec, end, o.key, strlen(o.key), &v, &vlen))
			put_text(b, v, v + vlen);
		break;
	case F_LTSV:
		delim = delim ? delim : "\t";
		mp_head(&p, end, &m);
		for (n = 0; n < m.v.n; n++) {
			if (n)
				buf_puts(b, delim);
			v = p;
			if (mp_head(&p, end, &k) == MP_OK && (k.type == MP_STR ||
			    k.type == MP_BIN)) {
				buf_put(b, k.data, k.len);
			} else {
				p = v;
				mp_skip(&p, end, NULL);
				put_text(b, v, p);
			}
			buf_puts(b, o.label_delim);
			v = p;
			mp_skip(&p, end, NULL);
			put_clean(b, v, p, delim);
		}
		break;
	case F_CSV:
	case F_TSV:
		if (!delim)
			delim = o.format == F_CSV ? "," : "\t";
		for (i = 0; i < nfields; i++) {
			if (i)
				buf_puts(b, delim);
			if (!mp_map_get(rec, end, fields[i], field_lens[i], &v,
			    &vlen))
				continue;
			if (o.format == F_CSV)
				put_csv(b, v, v + vlen);
			else
				put_clean(b, v, v + vlen, delim);
		}
		break;
	}
	buf_putc(b, '\n');
}

static void
split_fields(void)
{
	char *s, *tok, *save = NULL, *e;

	if (o.format != F_CSV && o.format != F_TSV)
		return;
	if (!o.fields)
		die(EX_USAGE, "--format %s needs --fields", o.format == F_CSV ?
		    "csv" : "tsv");
	s = xstrdup(o.fields);
	for (tok = strtok_r(s, ",", &save); tok; tok = strtok_r(NULL, ",",
	    &save)) {
		/* white space around a name is trimmed, as Fluentd does */
		tok += strspn(tok, " \t\n\v\f\r");
		for (e = tok + strlen(tok); e > tok && strchr(" \t\n\v\f\r",
		    e[-1]); )
			*--e = '\0';
		if (!*tok)
			continue;
		fields = xrealloc(fields, (nfields + 1) * sizeof(*fields));
		field_lens = xrealloc(field_lens, (nfields + 1) *
		    sizeof(*field_lens));
		fields[nfields] = xstrdup(tok);
		field_lens[nfields++] = strlen(tok);
	}
	free(s);
	if (!nfields)
		die(EX_USAGE, "--fields names no field");
}

void
format_setup(void)
{
	split_fields();
	if (o.format == F_STDOUT)
		tf_time = compile_time(o.time_format ? o.time_format :
		    "%Y-%m-%d %H:%M:%S.%N %z");
	else if (o.format == F_OUT_FILE)
		tf_time = compile_time(o.time_format ? o.time_format :
		    "%Y-%m-%dT%H:%M:%S%z");
	if (o.inject.time_key && o.time_format && !o.time_type_set)
		o.inject.type = INJECT_STRING;
	if (o.inject.time_key && o.inject.type == INJECT_STRING)
		o.inject.tf = compile_time(o.time_format ? o.time_format :
		    "iso8601");
}

static void
ends_add(struct ends *e, size_t at)
{
	if (e->n == e->cap) {
		e->cap = e->cap ? e->cap * 2 : 1024;
		e->at = xrealloc(e->at, e->cap * sizeof(*e->at));
	}
	e->at[e->n++] = at;
}

/* Appends ev to f, written out when f holds a block. */
void
file_put(struct file *f, const struct event *ev)
{
	const char *rec = ev->rec;
	size_t len = ev->rec_len;

	if (!f->b.len)
		f->since = marks_seen();
	if (o.inject.time_key || o.inject.tag_key)      /* no call per event */
		rec = inject_record(&o.inject, ev, &len);
	format(&f->b, ev, rec, len);
	ends_add(&f->e, f->b.len);
	if (f->b.len >= f->block && file_flush(f) < 0)
		fail_exit(EX_SYS);
}

void
format_free(void)
{
	size_t i;

	for (i = 0; i < nfields; i++)
		free(fields[i]);
	free(fields);
	free(field_lens);
	timefmt_free(tf_time);
	timefmt_free(o.inject.tf);
	inject_free(&o.inject);
}

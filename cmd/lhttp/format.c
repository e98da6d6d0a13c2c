/* format - lhttp's request bodies: ndjson, json, msgpack, Elasticsearch bulk */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "json.h"
#include "mp.h"
#include "recpath.h"
#include "timefmt.h"
#include "tmpl.h"

#include "lhttp.h"

/*
 * The --index template, read by common/tmpl (Fluentd's placeholders):
 * its text strftime'd on the event time when it holds a '%'.
 */
struct seg {
	struct tmpl_seg t;
	struct timefmt *tf;     /* TMPL_LIT with a '%' */
};

static struct seg *segs;
static size_t nsegs;
static char hostname[256];
static struct recpath id_path;
static struct buf name, id;

static struct timefmt *
compile_time(const char *spec, const char *what)
{
	struct timefmt *tf;
	const char *err;

	if (!(tf = timefmt_new(spec, o.tz, &err)))
		die(EX_USAGE, "bad time format '%s' in %s: %s", spec, what, err);
	return tf;
}

static void
parse_index(const char *t)
{
	const char *p = t, *end = t + strlen(t), *why;
	struct seg *sg;
	char *text;
	int r;

	for (;;) {
		segs = xrealloc(segs, (nsegs + 1) * sizeof(*segs));
		sg = &segs[nsegs];
		memset(sg, 0, sizeof(*sg));
		if ((r = tmpl_next(&p, end, TMPL_TAG_INDEX, &sg->t, &why)) == 0)
			break;
		if (r < 0 || sg->t.kind == TMPL_TIME)
			die(EX_USAGE, "bad placeholder '${%.*s}' in --index: %s",
			    (int)sg->t.len, sg->t.s, r < 0 ? why : "use "
			    "strftime conversions such as %Y.%m.%d");
		nsegs++;
		if (sg->t.kind == TMPL_LIT && memchr(sg->t.s, '%', sg->t.len)) {
			text = xstrndup(sg->t.s, sg->t.len);
			sg->tf = compile_time(text, "--index");
			free(text);
		}
	}
	if (gethostname(hostname, sizeof(hostname) - 1) < 0)
		die(EX_SYS, "unable to get the host name:");
}

void
format_init(void)
{
	const char *err;

	if (o.inject.time_key && o.time_format && !o.time_type_set)
		o.inject.type = INJECT_STRING;
	if (o.inject.time_key && o.inject.type == INJECT_STRING)
		o.inject.tf = compile_time(o.time_format ? o.time_format :
		    "iso8601", "--time-format");
	else if (o.time_format)
		timefmt_free(compile_time(o.time_format, "--time-format"));
	if (o.index)
		parse_index(o.index);
	if (o.id_key && recpath_parse(&id_path, o.id_key, &err) < 0)
		die(EX_USAGE, "bad field name '%s' for --id-key: %s", o.id_key,
		    err);
}

void
format_end(void)
{
	size_t i;

	for (i = 0; i < nsegs; i++) {
		timefmt_free(segs[i].tf);
		if (segs[i].t.kind == TMPL_RECORD)
			recpath_free(&segs[i].t.path);
	}
	free(segs);
	if (o.id_key)
		recpath_free(&id_path);
	timefmt_free(o.inject.tf);
	inject_free(&o.inject);
	buf_free(&name);
	buf_free(&id);
}

const char *
format_content_type(void)
{
	switch (o.format) {
	case F_JSON: return "application/json";
	case F_MSGPACK: return "application/x-msgpack";
	default: return "application/x-ndjson";
	}
}

/* --- the record, with --time-key and --tag-key ------------------------ */

/* --- the Elasticsearch action line ------------------------------------ */

static void
put_seg(struct buf *b, const struct seg *s, const struct event *ev)
{
	const char *v;
	size_t vlen;

	switch (s->t.kind) {
	case TMPL_LIT:
		if (!s->tf) {
			buf_put(b, s->t.s, s->t.len);
			break;
		}
		buf_reserve(b, 4096);
		b->len += timefmt_format(s->tf, ev->sec, ev->nsec,
		    b->p + b->len, 4096);
		break;
	case TMPL_HOSTNAME:
		buf_puts(b, hostname);
		break;
	case TMPL_TAG:
		buf_put(b, ev->tag, ev->tag_len);
		break;
	case TMPL_PARTS: case TMPL_PREFIX: case TMPL_SUFFIX:
		if (tmpl_tag_piece(s->t.kind, s->t.n, ev->tag, ev->tag_len,
		    &v, &vlen))
			buf_put(b, v, vlen);
		break;
	case TMPL_RECORD:
		if (recpath_get(&s->t.path, ev->rec, ev->rec + ev->rec_len,
		    &v, &vlen))
			recpath_to_s(b, v, v + vlen);
		break;
	default:
		break;
	}
}

/* {"index":{"_index":...,"_id":...,"pipeline":...}} and a newline. */
static void
put_action(struct buf *b, const struct event *ev)
{
	const char *v;
	size_t vlen, i;
	int comma = 0;

	buf_puts(b, "{\"index\":{");
	if (nsegs) {
		name.len = 0;
		for (i = 0; i < nsegs; i++)
			put_seg(&name, &segs[i], ev);
		buf_puts(b, "\"_index\":");
		json_put_str(b, name.p, name.len);
		comma = 1;
	}
	if (o.id_key && recpath_get(&id_path, ev->rec, ev->rec + ev->rec_len,
	    &v, &vlen)) {
		id.len = 0;
		recpath_to_s(&id, v, v + vlen);
		buf_puts(b, comma ? ",\"_id\":" : "\"_id\":");
		json_put_str(b, id.p, id.len);
		comma = 1;
	}
	if (o.pipeline) {
		buf_puts(b, comma ? ",\"pipeline\":" : "\"pipeline\":");
		json_put_str(b, o.pipeline, strlen(o.pipeline));
	}
	buf_puts(b, "}}\n");
}

/* --- bodies ----------------------------------------------------------- */

void
format_begin(struct buf *body)
{
	body->len = 0;
	if (o.format == F_JSON)
		buf_putc(body, '[');
}

/* Appends the nth event (from 0) of a body. */
void
format_event(struct buf *body, size_t nth, const struct event *ev)
{
	const char *r, *p;
	size_t len;

	r = inject_record(&o.inject, ev, &len);
	p = r;
	switch (o.format) {
	case F_NDJSON:
		json_from_mp(body, &p, r + len);
		buf_putc(body, '\n');
		break;
	case F_JSON:
		if (nth)
			buf_putc(body, ',');
		json_from_mp(body, &p, r + len);
		break;
	case F_MSGPACK:
		buf_put(body, r, len);
		break;
	case F_ES:
		put_action(body, ev);
		json_from_mp(body, &p, r + len);
		buf_putc(body, '\n');
		break;
	}
}

/* Ends a body of n events. */
void
format_finish(struct buf *body, size_t n)
{
	(void)n;
	if (o.format == F_JSON)
		buf_putc(body, ']');
}

/* Bytes format_finish adds. */
size_t
format_tail(void)
{
	return o.format == F_JSON;
}

/* inject - Fluentd's <inject>: the event's time and tag put in its record */
#include <string.h>

#include <msgpack.h>

#include "inject.h"
#include "mp.h"
#include "rec.h"
#include "stream.h"
#include "timefmt.h"

const char *const inject_types[] = { "float", "unixtime", "string", NULL };

static void
put_time(struct inject *in, int64_t sec, uint32_t nsec)
{
	msgpack_packer pk;
	char t[256];
	size_t n;

	mp_packer_init(&pk, &in->b);
	switch (in->type) {
	case INJECT_FLOAT:
		msgpack_pack_double(&pk, (double)sec + nsec / 1e9);
		break;
	case INJECT_UNIXTIME:
		msgpack_pack_int64(&pk, sec);
		break;
	case INJECT_STRING:
		n = timefmt_format(in->tf, sec, nsec, t, sizeof(t));
		msgpack_pack_str_with_body(&pk, t, n);
		break;
	}
}

static int
is_key(const struct mp_obj *k, const char *s)
{
	return s && (k->type == MP_STR || k->type == MP_BIN) &&
	    strlen(s) == k->len && memcmp(s, k->data, k->len) == 0;
}

const char *
inject_record(struct inject *in, const struct event *ev, size_t *len)
{
	const char *p = ev->rec, *end = ev->rec + ev->rec_len, *pair;
	struct mp_obj m, k;
	struct rec r;
	uint32_t i;
	int drop;

	if (!in->time_key && !in->tag_key) {
		*len = ev->rec_len;
		return ev->rec;
	}
	in->b.len = 0;
	rec_begin(&r, &in->b);
	mp_head(&p, end, &m);
	for (i = 0; i < m.v.n; i++) {
		pair = p;
		drop = mp_head(&p, end, &k) == MP_OK &&
		    (is_key(&k, in->time_key) || is_key(&k, in->tag_key));
		p = pair;
		mp_skip(&p, end, NULL);
		mp_skip(&p, end, NULL);
		if (!drop)
			rec_pairs(&r, pair, p - pair, 1);
	}
	if (in->time_key) {
		rec_key(&r, in->time_key, strlen(in->time_key));
		put_time(in, ev->sec, ev->nsec);
	}
	if (in->tag_key)
		rec_str(&r, in->tag_key, strlen(in->tag_key), ev->tag,
		    ev->tag_len);
	rec_end(&r);
	*len = in->b.len;
	return in->b.p;
}

void
inject_free(struct inject *in)
{
	buf_free(&in->b);
}

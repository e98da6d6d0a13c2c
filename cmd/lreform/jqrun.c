/* jqrun - lreform --jq: each object the program outputs is an event */
#include <stdint.h>
#include <stdio.h>

#include "err.h"
#include "jqglue.h"
#include "stats.h"
#include "stream.h"

#include "lreform.h"

static struct {
	struct jqglue *jg;
	struct buf out;         /* an output object as msgpack */
	uint64_t shown;         /* problems warned about */
} jq;

/* Compiles --jq, if given. */
void
jqrun_init(void)
{
	char msg[4096];

	if (o.jq && !(jq.jg = jqglue_new(o.jq, msg, sizeof(msg))))
		die(EX_USAGE, "bad jq program: %s", msg);
}

int
jqrun_on(void)
{
	return jq.jg != NULL;
}

void
jqrun_free(void)
{
	buf_free(&jq.out);
	jqglue_free(jq.jg);
}

/* The --stats counters of the jq path. */
void
jqrun_extra(char *b, size_t cap)
{
	if (jq.jg)
		snprintf(b, cap, ", jq errors %llu, jq non-object outputs %llu",
		    (unsigned long long)cnt.jq_errors,
		    (unsigned long long)cnt.jq_nonobj);
}

static void
problem(const struct event *ev, const char *what, const char *msg)
{
	if (jq.shown++ < 10)
		warn("event %llu (tag %.*s): %s%s; dropped",
		    (unsigned long long)stats.in, (int)ev->tag_len, ev->tag,
		    what, msg);
	else if (jq.shown == 11)
		warn("further jq errors are counted, not shown");
}

void
jqrun_event(const struct event *ev)
{
	static const char *const kinds[] = { "invalid", "null", "false",
		"true", "a number", "a string", "an array", "an object" };
	uint64_t n = 0;
	int ret;
	jv v;

	jqglue_start(jq.jg, ev->tag, ev->tag_len, ev->sec, ev->nsec, ev->rec,
	    ev->rec_len);
	while ((ret = jqglue_next(jq.jg, &v)) == JQGLUE_OUT) {
		if (jv_get_kind(v) != JV_KIND_OBJECT) {
			cnt.jq_nonobj++;
			problem(ev, "jq output is ", kinds[jv_get_kind(v)]);
			jv_free(v);
			continue;
		}
		jq.out.len = 0;
		jqglue_put(jq.jg, &jq.out, v);
		build_emit(ev, jq.out.p, jq.out.len);
		n++;
	}
	if (ret == JQGLUE_ERR) {
		cnt.jq_errors++;
		problem(ev, "jq error: ", jqglue_errmsg(jq.jg));
	}
	if (!n)
		cnt.dropped++;
}

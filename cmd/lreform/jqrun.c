/* jqrun - lreform --jq: each object the program outputs is an event */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "jqglue.h"
#include "stats.h"
#include "stream.h"

#include "jqfast.h"
#include "lreform.h"

static struct {
	struct jqglue *jg;
	struct jqfast *jf;      /* the program run natively, or NULL */
	uint64_t native;        /* events the native evaluator did */
	struct buf out;         /* an output object as msgpack */
	uint64_t shown;         /* problems warned about */
} jq;

/*
 * Compiles --jq, if given, with libjq (its compile errors are the ones
 * shown), and natively too when the program is in jqfast's subset and
 * LKIT_JQ_NATIVE is not 0.
 */
void
jqrun_init(void)
{
	const char *env = getenv("LKIT_JQ_NATIVE");
	char msg[4096];

	if (!o.jq)
		return;
	if (!(jq.jg = jqglue_new(o.jq, msg, sizeof(msg))))
		die(EX_USAGE, "bad jq program: %s", msg);
	if (!env || strcmp(env, "0") != 0)
		jq.jf = jqfast_new(o.jq);
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
	jqfast_free(jq.jf);
	jqglue_free(jq.jg);
}

/* The --stats counters of the jq path. */
void
jqrun_extra(char *b, size_t cap)
{
	if (jq.jf)
		snprintf(b, cap, ", jq errors %llu, jq non-object outputs "
		    "%llu, jq native %llu", (unsigned long long)cnt.jq_errors,
		    (unsigned long long)cnt.jq_nonobj,
		    (unsigned long long)jq.native);
	else if (jq.jg)
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

	if (jq.jf) {
		jq.out.len = 0;
		ret = jqfast_run(jq.jf, ev->rec, ev->rec_len, &jq.out);
		if (ret != JQFAST_FALLBACK) {
			jq.native++;
			if (ret == JQFAST_OUT)
				build_emit(ev, jq.out.p, jq.out.len);
			else
				cnt.dropped++;
			return;
		}
	}
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

/* t_inject - common/inject.c: the time and tag put in a record */
#include <string.h>

#include "inject.h"
#include "json.h"
#include "stream.h"
#include "timefmt.h"
#include "mpjson.h"
#include "tap.h"

static struct buf in, out;

/* The record inject_record makes of JSON rec, as JSON (in out). */
static const char *
injected(struct inject *inj, const char *rec, int *same)
{
	struct event ev = { "app.web", 7, 1502884323, 500000000, NULL, 0 };
	const char *p;
	size_t len;

	mp_of(&in, rec);
	ev.rec = in.p;
	ev.rec_len = in.len;
	p = inject_record(inj, &ev, &len);
	*same = p == ev.rec && len == ev.rec_len;
	out.len = 0;
	json_from_mp(&out, &p, p + len);
	buf_putc(&out, '\0');
	return out.p;
}

int
main(void)
{
	struct inject inj = { 0 };
	const char *err;
	int same;

	is_str(injected(&inj, "{\"a\":1}", &same), "{\"a\":1}",
	    "no key: the record as it is");
	ok(same, "... not copied");
	inj.tag_key = "tag";
	is_str(injected(&inj, "{\"a\":1}", &same),
	    "{\"a\":1,\"tag\":\"app.web\"}", "--tag-key adds the tag");
	ok(!same, "... in a new record");
	inj.time_key = "time";
	is_str(injected(&inj, "{\"time\":\"x\",\"a\":1,\"tag\":2}", &same),
	    "{\"a\":1,\"time\":1502884323.5,\"tag\":\"app.web\"}",
	    "fields of those names are replaced; float by default");
	inj.type = INJECT_UNIXTIME;
	is_str(injected(&inj, "{}", &same),
	    "{\"time\":1502884323,\"tag\":\"app.web\"}", "unixtime: seconds");
	inj.type = INJECT_STRING;
	inj.tf = timefmt_new("%Y-%m-%dT%H:%M:%S.%L%z", "UTC", &err);
	is_str(injected(&inj, "{\"b\":[1,2]}", &same),
	    "{\"b\":[1,2],\"time\":\"2017-08-16T11:52:03.500+0000\","
	    "\"tag\":\"app.web\"}", "string: by the time format");
	inj.tag_key = NULL;
	is_str(injected(&inj, "{\"tag\":1}", &same),
	    "{\"tag\":1,\"time\":\"2017-08-16T11:52:03.500+0000\"}",
	    "a field named like no key given is kept");
	is_str(inject_types[INJECT_STRING], "string", "the choices' order");
	timefmt_free(inj.tf);
	inject_free(&inj);
	buf_free(&in);
	buf_free(&out);
	return done_testing();
}

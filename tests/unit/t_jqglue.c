/* t_jqglue - unit tests of common/jqglue.c */
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "jqglue.h"
#include "json.h"
#include "mpjson.h"
#include "tap.h"

static struct buf in, out, text;

static const char *
json_of(const struct buf *b)
{
	const char *p = b->p;

	text.len = 0;
	json_from_mp(&text, &p, b->p + b->len);
	buf_putc(&text, '\0');
	return text.p;
}

/* Runs program on rec; the outputs' JSON, one a line, or "ERR: msg". */
static void
run(const char *program, const char *rec, const char *want)
{
	char err[512];
	struct jqglue *jg = jqglue_new(program, err, sizeof(err));
	struct buf all = { 0 };
	int r;
	jv v;

	if (!jg) {
		ok(0, "%s compiles: %s", program, err);
		return;
	}
	mp_of(&in, rec);
	jqglue_start(jg, "app.web", 7, 1502880723, 500000000, in.p, in.len);
	while ((r = jqglue_next(jg, &v)) == JQGLUE_OUT) {
		out.len = 0;
		jqglue_put(jg, &out, v);
		buf_puts(&all, json_of(&out));
		buf_putc(&all, '\n');
	}
	if (r == JQGLUE_ERR) {
		buf_puts(&all, "ERR: ");
		buf_puts(&all, jqglue_errmsg(jg));
		buf_putc(&all, '\n');
	}
	is_mem(all.p ? all.p : "", all.len, want, strlen(want), "%s on %s",
	    program, rec);
	buf_free(&all);
	jqglue_free(jg);
}

static void
bad(const char *program, const char *want)
{
	char err[512];
	struct jqglue *jg = jqglue_new(program, err, sizeof(err));

	ok(!jg && strstr(err, want), "%s does not compile: %s", program,
	    want);
	if (jg)
		printf("#   it did\n");
	jqglue_free(jg);
}

int
main(void)
{
	run(".", "{\"a\":1,\"b\":[true,null,\"x\"]}",
	    "{\"a\":1,\"b\":[true,null,\"x\"]}\n");
	run(".a", "{\"a\":{\"b\":1.5}}", "{\"b\":1.5}\n");
	run("$tag", "{}", "\"app.web\"\n");
	run("$time", "{}", "1502880723.5\n");
	run("{t: $tag} + .", "{\"a\":1}", "{\"t\":\"app.web\",\"a\":1}\n");
	run(".a[]", "{\"a\":[1,2]}", "1\n2\n");
	run("empty", "{\"a\":1}", "");
	run(".a + 1", "{\"a\":\"x\"}",
	    "ERR: string (\"x\") and number (1) cannot be added\n");
	run("1, error(\"boom\")", "{}", "1\nERR: boom\n");
	run("error({a:1})", "{}", "ERR: {\"a\":1} (not a string)\n");
	run("halt_error", "{\"a\":1}",
	    "ERR: halt_error: {\"a\":1} (not a string)\n");
	run("halt", "{}", "");
	/* numbers jq computes: integral ones are integers */
	run("{a: (.n / 2), b: (.n * 2), c: -0.5, d: 1e19, e: 1e300}",
	    "{\"n\":3}",
	    "{\"a\":1.5,\"b\":6,\"c\":-0.5,\"d\":10000000000000000000,"
	    "\"e\":1e+300}\n");
	/* untouched fields keep their bytes; touched ones are converted */
	run(".x = 1", "{\"big\":18446744073709551615,\"f\":2.0}",
	    "{\"big\":18446744073709551615,\"f\":2.0,\"x\":1}\n");
	run(".f += 0", "{\"f\":2.0}", "{\"f\":2.0}\n");
	run(".f += 1", "{\"f\":2.0}", "{\"f\":3}\n");
	run("{g: .f}", "{\"f\":2.0}", "{\"g\":2}\n");
	run(".big |= . + 0", "{\"big\":9007199254740993}",
	    "{\"big\":9007199254740993}\n");
	/* a key repeated across records is one interned string */
	run("[.k, .k]", "{\"k\":\"v\"}", "[\"v\",\"v\"]\n");
	run("keys", "{\"b\":1,\"a\":2}", "[\"a\",\"b\"]\n");
	run("to_entries | map(.key)", "{\"b\":1,\"a\":2}", "[\"b\",\"a\"]\n");
	run("del(.a)", "{\"a\":1,\"b\":2}", "{\"b\":2}\n");
	run(". as $x | $x", "{\"z\":[{}]}", "{\"z\":[{}]}\n");

	bad(".a +* 1", "syntax error");
	bad("$nope", "$nope is not defined");
	bad("include \"m\"; .", "module not found");
	bad(".a[", "syntax error");
	ok(jqglue_truthy(jv_true()) && jqglue_truthy(jv_number(0)) &&
	    !jqglue_truthy(jv_null()) && !jqglue_truthy(jv_false()),
	    "truthy: only false and null are false");
	buf_free(&in);
	buf_free(&out);
	buf_free(&text);
	return done_testing();
}

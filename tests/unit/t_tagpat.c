/* t_tagpat - unit tests of common/tagpat.c */
#include <stdio.h>
#include <string.h>

#include "tap.h"
#include "tagpat.h"

struct tcase {
	const char *pattern;
	const char *tag;
	int want;
};

static const struct tcase cases[] = {
	/* literals */
	{ "a", "a", 1 },
	{ "a", "b", 0 },
	{ "a", "ab", 0 },
	{ "a", "a.b", 0 },
	{ "a", "", 0 },
	{ "a.b", "a.b", 1 },
	{ "a.b", "aab", 0 },
	{ "a.b", "a.b.c", 0 },
	{ "A.b", "a.b", 0 },
	{ "a_1.b-2", "a_1.b-2", 1 },
	/* "*": one part, possibly empty */
	{ "*", "a", 1 },
	{ "*", "", 1 },
	{ "*", "a.b", 0 },
	{ "a*", "abc", 1 },
	{ "a*", "ba", 0 },
	{ "a*", "a.b", 0 },
	{ "*a", "cba", 1 },
	{ "*a*", "bac", 1 },
	{ "a.*", "a.b", 1 },
	{ "a.*", "a.", 1 },
	{ "a.*", "a", 0 },
	{ "a.*", "ab", 0 },
	{ "a.*", "a.b.c", 0 },
	{ "a.*.c", "a.b.c", 1 },
	{ "a.*.c", "a..c", 1 },
	{ "a.*.c", "a.c", 0 },
	{ "a.b*", "a.bcd", 1 },
	{ "a.b*", "a.b.c", 0 },
	/* "**": zero or more parts */
	{ "**", "", 1 },
	{ "**", "a", 1 },
	{ "**", "a.b.c", 1 },
	{ "a.**", "a", 1 },
	{ "a.**", "a.b", 1 },
	{ "a.**", "a.b.c", 1 },
	{ "a.**", "ab", 0 },
	{ "a.**", "ab.c", 0 },
	{ "a.**", "b.a", 0 },
	{ "a**", "ab.c", 1 },
	{ "**.foo", "foo", 1 },
	{ "**.foo", "x.foo", 1 },
	{ "**.foo", "x.y.foo", 1 },
	{ "**.foo", "xfoo", 0 },
	{ "**.foo", "x.yfoo", 0 },
	{ "**.foo", "foo.x", 0 },
	{ "**foo", "x.yfoo", 1 },
	{ "a.**.b", "a.b", 1 },
	{ "a.**.b", "a.x.y.b", 1 },
	{ "a.**.b", "ab", 0 },
	{ "a.**.b", "a.xb", 0 },
	/* {a,b} */
	{ "a.{b,c}", "a.b", 1 },
	{ "a.{b,c}", "a.c", 1 },
	{ "a.{b,c}", "a.d", 0 },
	{ "a.{b,c}", "a.bc", 0 },
	{ "a.{b,c}.**", "a.c", 1 },
	{ "a.{b,c}.**", "a.b.x.y", 1 },
	{ "a.{b,c}.**", "a.cd", 0 },
	{ "{a,b}.**", "a", 1 },
	{ "{a,b}.**", "b.x.y", 1 },
	{ "{a,b}.**", "c", 0 },
	{ "{a,b}.**", "ab", 0 },
	{ "a.{b.**,c}", "a.b.c", 1 },
	{ "a.{b.**,c}", "a.c.d", 0 },
	{ "a.{b,c.{d,e}}", "a.b", 1 },
	{ "a.{b,c.{d,e}}", "a.c.e", 1 },
	{ "a.{b,c.{d,e}}", "a.c", 0 },
	{ "a.{b,*.x}", "a.q.x", 1 },
	{ "a.{b,}", "a.", 1 },
	{ "{}", "", 1 },
	{ "a.{b,c", "a.c", 1 },
	{ "a.{b,c", "a.{b,c", 0 },
	{ "a.{b,{c,d", "a.d", 1 },
	/* "}" and "," outside a group are literal */
	{ "a}", "a}", 1 },
	{ "a,b", "a,b", 1 },
	{ "a,b", "a", 0 },
	/* several alternatives */
	{ "a.b* c.*", "a.bx", 1 },
	{ "a.b* c.*", "c.d", 1 },
	{ "a.b* c.*", "c", 0 },
	{ "a.b* c.*", "d", 0 },
	{ "a.b.** a.c", "a.b.c", 1 },
	{ "a.b.** a.c", "a.c.d", 0 },
	{ "  a \t b  ", "b", 1 },
	/* escapes and characters that mean something to a regex */
	{ "a\\*", "a*", 1 },
	{ "a\\*", "ab", 0 },
	{ "a\\.**", "a.x", 1 },
	{ "a\\.**", "a", 0 },
	{ "\\{a,b\\}", "{a,b}", 1 },
	{ "\\{a,b\\}", "a", 0 },
	{ "a\\", "a", 1 },
	{ "\\d", "d", 1 },
	{ "\\d", "1", 0 },
	{ "a+b", "a+b", 1 },
	{ "a+b", "aab", 0 },
	{ "a?", "a?", 1 },
	{ "a?", "a", 0 },
	{ "a|b", "a", 0 },
	{ "a(b", "a(b", 1 },
	{ "[ab]", "a", 0 },
	{ "[ab]", "[ab]", 1 },
	{ "^a$", "^a$", 1 },
	{ "a/b", "a/b", 1 },
	{ "\xe3\x83\xad\xe3\x82\xb0.*", "\xe3\x83\xad\xe3\x82\xb0.x", 1 },
	{ "a.*", "a.\xff", 1 },
	/* a dot left pending at the end is dropped, as in Fluentd */
	{ "a.", "a", 1 },
	{ "a.", "a.", 0 },
	/* /regex/ */
	{ "/a/", "a", 1 },
	{ "/a/", "abc", 0 },
	{ "/a.*/", "abc", 1 },
	{ "/b.*/", "abc", 0 },
	{ "/a\\..*/", "a.b.c", 1 },
	{ "/a\\..*/", "b.b.c", 0 },
	{ "/(?!a\\.).*/", "a.b.c", 0 },
	{ "/(?!a\\.).*/", "b.b.c", 1 },
	{ "/a|b/", "b", 1 },
	{ "/a|b/", "ab", 0 },
	{ "/x+/ a.*", "xxx", 1 },
	{ "/x+/ a.*", "a.b", 1 },
	{ "/x+/ a.*", "b", 0 },
	{ "/.{2}/", "\xe6\x97\xa5\xe6\x9c\xac", 1 },
	/* in a /regex/, a byte that is not UTF-8 matches nothing */
	{ "/a.*/", "a\xff", 0 },
	{ "/", "", 1 },
	{ "/", "a", 0 },
	/* Ruby's syntax, translated as lparse and lgrep translate it */
	{ "/app\\.\\h+/", "app.ff", 1 },
	{ "/app\\.\\h+/", "app.fg", 0 },
	{ "/a\\z/", "a", 1 },
};

static void
check(const struct tcase *c)
{
	const char *err = "";
	struct tagpat *tp = tagpat_new(c->pattern, &err);
	char name[64], *p;
	int got = -1;

	if (tp)
		got = tagpat_match(tp, c->tag, strlen(c->tag));
	else
		printf("# tagpat_new(\"%s\"): %s\n", c->pattern, err);
	/* Keep the TAP output ASCII. */
	snprintf(name, sizeof name, "\"%s\" %s \"%s\"", c->pattern,
	    c->want ? "matches" : "does not match", c->tag);
	for (p = name; *p; p++)
		if ((unsigned char)*p < ' ' || (unsigned char)*p > '~')
			*p = '?';
	ok(got == c->want, "%s", name);
	tagpat_free(tp);
}

static void
bad(const char *pattern, const char *want)
{
	const char *err = NULL;
	struct tagpat *tp = tagpat_new(pattern, &err);

	ok(tp == NULL && err && strcmp(err, want) == 0, "\"%s\" is refused",
	    pattern);
	if (tp || !err || strcmp(err, want) != 0)
		printf("#   got %s\n", err ? err : "(no message)");
	tagpat_free(tp);
}

/* The same tagpat asked about several tags in turn, repeats included. */
static void
test_sequence(void)
{
	static const char *const tags[] = {
		"app.web", "app.web", "app", "app", "app.web.x", "web",
		"app.db", "web", "", "app.web"
	};
	static const int want[] = { 1, 1, 0, 0, 0, 0, 1, 0, 0, 1 };
	struct tagpat *tp;
	const char *err;
	size_t i;
	int bad = 0;

	tp = tagpat_new("app.*", &err);
	for (i = 0; i < sizeof tags / sizeof tags[0]; i++)
		if (tagpat_match(tp, tags[i], strlen(tags[i])) != want[i]) {
			printf("#   \"%s\": wrong answer\n", tags[i]);
			bad++;
		}
	ok(bad == 0, "answers stay right when tags repeat");
	ok(tagpat_match(tp, "app.webXYZ", 7) == 1, "only len bytes are read");
	ok(tagpat_match(tp, NULL, 0) == 0, "NULL empty tag");
	tagpat_free(tp);
}

int
main(void)
{
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
		check(&cases[i]);
	bad("", "empty tag pattern");
	bad("  \t ", "empty tag pattern");
	bad("/abc", "'/abc': a /regex/ needs its closing /");
	bad("a.b /abc", "'/abc': a /regex/ needs its closing /");
	/* PCRE2's message, the offset counted in the alternative */
	bad("/(/", "'/(/': missing closing parenthesis at offset 2");
	bad("a /[/", "'/[/': missing terminating ] for character class "
	    "at offset 2");
	/* Ruby's \\h, as lparse and lgrep read it */
	bad("/\\h{2,1}/", "'/\\h{2,1}/': numbers out of order in {} "
	    "quantifier at offset 7");
	test_sequence();
	return done_testing();
}

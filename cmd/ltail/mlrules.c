/* mlrules - the multiline parsers: built in, or read from a rules file */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "err.h"
#include "opt.h"
#include "parse_rx.h"
#include "rx.h"

#include "ltail.h"
#include "ml.h"

/* A rule as written: the states it applies in, its regex, the next state. */
struct rdef {
	const char *from, *rx, *to;
};

/* A parser: built in, or a [MULTILINE_PARSER] of the rules file. */
struct pdef {
	char *name;
	struct rdef *rules;
	size_t n;
	long long flush_ms;     /* flush_timeout, or -1 */
	int line;               /* where it was defined (0: built in) */
};

#define NDEF(a) (sizeof(a) / sizeof((a)[0]))

/*
 * The rules of the stack traces of Java (and C#, JavaScript's V8), Python,
 * Go and Ruby, as Fluent Bit's built-in multiline parsers have them.
 */
static const struct rdef java_rules[] = {
	{ "start_state, java_again",
	    "/(.)(?:Exception|Error|Throwable|V8 errors stack trace)[:\\r\\n]/",
	    "java_head" },
	{ "java_head", "/^[\\t ]*nested exception is:[\\t ]*/", "java_again" },
	{ "java_head", "/^[\\r\\n]*$/", "java_head" },
	{ "java_head, java_frames", "/^[\\t ]+(?:eval )?at /", "java_frames" },
	{ "java_head, java_frames",
	    "/^[\\t ]+--- End of inner exception stack trace ---$/",
	    "java_frames" },
	{ "java_head, java_frames", "/^--- End of stack trace from previous "
	    "location where exception was thrown ---$/", "java_frames" },
	{ "java_head, java_frames", "/^[\\t ]*(?:Caused by|Suppressed):/",
	    "java_head" },
	{ "java_head, java_frames",
	    "/^[\\t ]*... \\d+ (?:more|common frames omitted)/",
	    "java_frames" },
};

static const struct rdef python_rules[] = {
	{ "start_state", "/^Traceback \\(most recent call last\\):$/",
	    "py_frames" },
	{ "py_frames", "/^[\\t ]+File /", "py_code" },
	{ "py_code", "/[^\\t ]/", "py_frames" },
	{ "py_frames", "/^(?:[^\\s.():]+\\.)*[^\\s.():]+:/", "start_state" },
};

static const struct rdef go_rules[] = {
	{ "start_state", "/\\bpanic: /", "go_panic" },
	{ "start_state", "/http: panic serving/", "go_goroutine" },
	{ "go_panic, go_signal, go_frame", "/^$/", "go_goroutine" },
	{ "go_panic", "/^\\[signal /", "go_signal" },
	{ "go_goroutine", "/^goroutine \\d+ \\[[^\\]]+\\]:$/", "go_frame" },
	{ "go_frame", "/^(?:[^\\s.:]+\\.)*[^\\s.():]+\\(|^created by /",
	    "go_frame_src" },
	{ "go_frame_src", "/^\\s/", "go_frame" },
};

static const struct rdef ruby_rules[] = {
	{ "start_state", "/^.+:\\d+:in\\s+.*/", "rb_head" },
	{ "rb_head, rb_frames", "/^\\s+from\\s+.*:\\d+:in\\s+.*/",
	    "rb_frames" },
};

static const struct pdef builtin[] = {
	{ "java", (struct rdef *)java_rules, NDEF(java_rules), -1, 0 },
	{ "python", (struct rdef *)python_rules, NDEF(python_rules), -1, 0 },
	{ "go", (struct rdef *)go_rules, NDEF(go_rules), -1, 0 },
	{ "ruby", (struct rdef *)ruby_rules, NDEF(ruby_rules), -1, 0 },
};

static struct mlp mlp;
static struct pdef *fdefs;      /* the parsers of the rules file */
static size_t nfdefs;
static char *ftext;             /* its text, which the definitions borrow */
static int nstates = 1;         /* state 0 is start_state */

/* --- the rules file ---------------------------------------------------- */

static _Noreturn void
bad(int line, const char *what, const char *arg)
{
	die(EX_USAGE, "%s:%d: %s%s%s%s", o.mlp_rules, line, what,
	    arg ? " '" : "", arg ? arg : "", arg ? "'" : "");
}

/* The next word of *s, unquoted ("..." with \" for a quote), or NULL. */
static char *
word(char **s, int line)
{
	char *p = *s, *w, *q;

	while (*p == ' ' || *p == '\t')
		p++;
	if (!*p)
		return NULL;
	if (*p != '"') {
		w = p;
		while (*p && *p != ' ' && *p != '\t')
			p++;
		if (*p)
			*p++ = '\0';
		*s = p;
		return w;
	}
	w = q = ++p;
	for (; *p && *p != '"'; p++) {
		if (*p == '\\' && p[1] == '"')
			p++;
		*q++ = *p;
	}
	if (*p != '"')
		bad(line, "a quote is not closed", NULL);
	*q = '\0';
	*s = p + 1;
	return w;
}

static void
add_rule(struct pdef *d, char *v, int line)
{
	struct rdef r;
	char *extra;

	if (!(r.from = word(&v, line)) || !(r.rx = word(&v, line)) ||
	    !(r.to = word(&v, line)))
		bad(line, "a rule is \"STATES\" \"/REGEX/\" \"NEXT_STATE\"",
		    NULL);
	if ((extra = word(&v, line)))
		bad(line, "a rule has three parts; more:", extra);
	d->rules = xrealloc(d->rules, (d->n + 1) * sizeof(*d->rules));
	d->rules[d->n++] = r;
}

/* A "key value" line of a [MULTILINE_PARSER] section. */
static void
def_line(struct pdef *d, char *k, char *v, int line)
{
	long long ms;

	if (strcasecmp(k, "name") == 0) {
		if (!*v)
			bad(line, "an empty name", NULL);
		d->name = v;
	} else if (strcasecmp(k, "type") == 0) {
		if (strcasecmp(v, "regex") != 0)
			bad(line, "only type regex is supported, not", v);
	} else if (strcasecmp(k, "flush_timeout") == 0) {
		if ((ms = opt_uint(v)) < 0)
			bad(line, "bad flush_timeout (milliseconds)", v);
		d->flush_ms = ms;
	} else if (strcasecmp(k, "rule") == 0) {
		add_rule(d, v, line);
	} else if (strcasecmp(k, "key_content") != 0) {
		bad(line, "unknown or unsupported key", k);
	}
}

static void
load_text(void)
{
	FILE *fp = fopen(o.mlp_rules, "r");
	size_t len = 0;
	long sz;

	if (!fp)
		die(EX_USAGE, "unable to open %s:", o.mlp_rules);
	if (fseek(fp, 0, SEEK_END) < 0 || (sz = ftell(fp)) < 0 ||
	    sz > 1024 * 1024 || fseek(fp, 0, SEEK_SET) < 0) {
		fclose(fp);
		die(EX_USAGE, "%s: not a rules file (too large, or not a "
		    "file)", o.mlp_rules);
	}
	ftext = xmalloc((size_t)sz + 1);
	len = fread(ftext, 1, (size_t)sz, fp);
	if (ferror(fp))
		die(EX_USAGE, "unable to read %s:", o.mlp_rules);
	fclose(fp);
	ftext[len] = '\0';
}

static void
end_def(struct pdef *d)
{
	if (!d)
		return;
	if (!d->name)
		bad(d->line, "a [MULTILINE_PARSER] without a name", NULL);
	if (!d->n)
		bad(d->line, "a [MULTILINE_PARSER] without rules:", d->name);
}

/* Reads Fluent Bit's [MULTILINE_PARSER] sections from o.mlp_rules. */
static void
load_rules(void)
{
	struct pdef *d = NULL;
	char *s, *nl, *k;
	int line = 0, other = 0;

	load_text();
	for (s = ftext; *s; s = nl) {
		line++;
		if ((nl = strchr(s, '\n')))
			*nl++ = '\0';
		else
			nl = s + strlen(s);
		k = s + strlen(s);
		while (k > s && isspace((unsigned char)k[-1]))
			*--k = '\0';
		while (isspace((unsigned char)*s))
			s++;
		if (!*s || *s == '#')
			continue;
		if (*s == '[') {
			end_def(d);
			d = NULL;
			other = strcasecmp(s, "[MULTILINE_PARSER]") != 0;
			if (other)
				continue;
			fdefs = xrealloc(fdefs, (nfdefs + 1) * sizeof(*fdefs));
			d = &fdefs[nfdefs++];
			memset(d, 0, sizeof(*d));
			d->flush_ms = -1;
			d->line = line;
			continue;
		}
		if (other)
			continue;       /* [PARSER] and the like: not ours */
		if (!d)
			bad(line, "a key outside a [MULTILINE_PARSER] section",
			    NULL);
		k = s;
		while (*s && *s != ' ' && *s != '\t')
			s++;
		if (*s)
			*s++ = '\0';
		while (*s == ' ' || *s == '\t')
			s++;
		def_line(d, k, s, line);
	}
	end_def(d);
	if (!nfdefs)
		die(EX_USAGE, "%s: no [MULTILINE_PARSER] section", o.mlp_rules);
}

/* --- compiling the rules ----------------------------------------------- */

/* The state names of one parser and their numbers. */
struct names {
	const char *v[ML_STATES];
	int id[ML_STATES];
	size_t n;
};

static int
state_find(const struct names *nm, const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < nm->n; i++)
		if (strlen(nm->v[i]) == len && memcmp(nm->v[i], s, len) == 0)
			return nm->id[i];
	return len == 11 && memcmp(s, "start_state", 11) == 0 ? 0 : -1;
}

/* The states of a from list "a, b", registered as they are met. */
static uint64_t
from_states(const struct pdef *d, struct names *nm, const char *s)
{
	uint64_t m = 0;
	const char *e;
	size_t len;
	int id;

	for (;;) {
		while (*s == ' ' || *s == '\t' || *s == ',')
			s++;
		if (!*s)
			break;
		for (e = s; *e && *e != ',' && *e != ' ' && *e != '\t'; e++)
			;
		len = e - s;
		if ((id = state_find(nm, s, len)) < 0) {
			if (nstates == ML_STATES)
				die(EX_USAGE, "multiline parser %s: more than "
				    "%d states in all", d->name, ML_STATES - 1);
			id = nstates++;
			nm->v[nm->n] = xstrndup(s, len);
			nm->id[nm->n++] = id;
		}
		m |= 1ULL << id;
		s = e;
	}
	return m;
}

static void
names_free(struct names *nm)
{
	size_t i;

	for (i = 0; i < nm->n; i++)
		free((char *)nm->v[i]);
}

/* Adds the rules of d to mlp, its states numbered after the others'. */
static void
add_parser(const struct pdef *d)
{
	struct names nm = { .n = 0 };
	struct mlrule *r;
	char err[256];
	size_t i;

	mlp.rules = xrealloc(mlp.rules, (mlp.nrules + d->n) *
	    sizeof(*mlp.rules));
	for (i = 0; i < d->n; i++) {
		r = &mlp.rules[mlp.nrules + i];
		r->from = from_states(d, &nm, d->rules[i].from);
		r->start = r->from & 1;
		r->rx = NULL;
		if (!r->from)
			die(EX_USAGE, "multiline parser %s: a rule without "
			    "states", d->name);
		if (i == 0 && !r->start)
			die(EX_USAGE, "multiline parser %s: its first rule "
			    "must have the state start_state", d->name);
	}
	for (i = 0; i < d->n; i++) {
		r = &mlp.rules[mlp.nrules + i];
		r->to = state_find(&nm, d->rules[i].to, strlen(d->rules[i].to));
		if (r->to < 0)
			die(EX_USAGE, "multiline parser %s: no rule has the "
			    "state '%s'", d->name, d->rules[i].to);
		r->rx = parse_rx(d->rules[i].rx, mlp.docker ? 0 : PRX_NOLINE,
		    err, sizeof(err));
		if (!r->rx)
			die(EX_USAGE, "multiline parser %s: bad regex '%s': %s",
			    d->name, d->rules[i].rx, err);
	}
	mlp.nrules += d->n;
	names_free(&nm);
}

/* Whether the group ends after each rule: a start rule may come next. */
static void
set_ends(void)
{
	size_t i, j;

	for (i = 0; i < mlp.nrules; i++) {
		mlp.rules[i].ends = 0;
		for (j = 0; j < mlp.nrules; j++)
			if (mlp.rules[j].start && (mlp.rules[j].from >>
			    mlp.rules[i].to & 1))
				mlp.rules[i].ends = 1;
	}
}

static const struct pdef *
find_def(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < NDEF(builtin); i++)
		if (strlen(builtin[i].name) == len &&
		    memcmp(builtin[i].name, name, len) == 0)
			return &builtin[i];
	for (i = 0; i < nfdefs; i++)
		if (strlen(fdefs[i].name) == len &&
		    memcmp(fdefs[i].name, name, len) == 0)
			return &fdefs[i];
	return NULL;
}

/* The parsers named, in order: docker and cri first, then the rules. */
static size_t
pick(const struct pdef **v, size_t cap)
{
	const char *s = o.mlp_names, *e;
	size_t n = 0, len, i;

	if (!s) {
		for (i = 0; i < nfdefs && n < cap; i++)
			v[n++] = &fdefs[i];
		return n;
	}
	for (; *s; s = *e ? e + 1 : e) {
		while (*s == ' ')
			s++;
		for (e = s; *e && *e != ','; e++)
			;
		for (len = e - s; len && s[len - 1] == ' '; len--)
			;
		if (len == 6 && memcmp(s, "docker", 6) == 0) {
			mlp.docker = 1;
		} else if (len == 3 && memcmp(s, "cri", 3) == 0) {
			mlp.cri_first = !mlp.docker;
			mlp.cri = 1;
		} else if (!(v[n] = find_def(s, len))) {
			die(EX_USAGE, "unknown multiline parser '%.*s' "
			    "(docker, cri, go, java, python, ruby%s)",
			    (int)len, s, o.mlp_rules ? " or one of the rules "
			    "file" : "");
		} else {
			for (i = 0; i < n; i++)
				if (v[i] == v[n])
					die(EX_USAGE, "multiline parser '%.*s' "
					    "named twice", (int)len, s);
			if (++n == cap)
				die(EX_USAGE, "too many multiline parsers");
		}
	}
	return n;
}

/* A parser of the rules file may not take a name already given. */
static void
check_names(void)
{
	size_t i, k;

	for (i = 0; i < nfdefs; i++) {
		for (k = 0; k < NDEF(builtin); k++)
			if (strcmp(builtin[k].name, fdefs[i].name) == 0)
				bad(fdefs[i].line, "a built-in parser has this "
				    "name:", fdefs[i].name);
		for (k = 0; k < i; k++)
			if (strcmp(fdefs[k].name, fdefs[i].name) == 0)
				bad(fdefs[i].line, "a parser of this name is "
				    "already defined:", fdefs[i].name);
		if (strcmp(fdefs[i].name, "docker") == 0 ||
		    strcmp(fdefs[i].name, "cri") == 0)
			bad(fdefs[i].line, "a built-in parser has this name:",
			    fdefs[i].name);
	}
}

void
mlp_setup(void)
{
	const struct pdef *v[64];
	long long ms = -1;
	size_t i, n;

	if (o.mlp_rules) {
		load_rules();
		check_names();
	}
	n = pick(v, 64);
	for (i = 0; i < n; i++) {
		add_parser(v[i]);
		if (v[i]->flush_ms >= 0 && (ms < 0 || v[i]->flush_ms < ms))
			ms = v[i]->flush_ms;
	}
	if (ms >= 0 && !o.ml_ms_set)
		o.ml_ms = ms;
	set_ends();
	o.mlp = &mlp;
}

void
mlp_free(void)
{
	size_t i;

	for (i = 0; i < mlp.nrules; i++)
		rx_free(mlp.rules[i].rx);
	free(mlp.rules);
	for (i = 0; i < nfdefs; i++)
		free(fdefs[i].rules);
	free(fdefs);
	free(ftext);
}

/* opt - getopt_long from a table, help text, number parsing */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "err.h"
#include "opt.h"

#ifndef LKIT_VERSION
#define LKIT_VERSION "0.0"
#endif

static _Noreturn void
usage_line(const struct opt_prog *p)
{
	fprintf(stderr, "usage: %s %s\n", progname, p->usage);
	fprintf(stderr, "Try '%s --help' for more information.\n", progname);
	exit(EX_USAGE);
}

_Noreturn void
opt_fail(const struct opt_prog *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarn(fmt, ap);
	va_end(ap);
	usage_line(p);
}

static void
help(const struct opt_prog *p)
{
	char left[64];
	const struct opt *o;
	const struct opt_exit *e;

	printf("usage: %s %s\n%s\n\noptions:\n", progname, p->usage,
	    p->about);
	for (o = p->opts; o->name; o++) {
		if (o->id < OPT_LONG)
			snprintf(left, sizeof(left), "-%c, --%s%s%s", o->id,
			    o->name, o->arg ? " " : "", o->arg ? o->arg : "");
		else
			snprintf(left, sizeof(left), "    --%s%s%s", o->name,
			    o->arg ? " " : "", o->arg ? o->arg : "");
		if (strlen(left) < 28)
			printf("  %-28s %s\n", left, o->help);
		else
			printf("  %s\n  %-28s %s\n", left, "", o->help);
	}
	printf("\nexit status:\n");
	for (e = p->exits; e && e->what; e++)
		printf("  %-4d %s\n", e->code, e->what);
	printf("See %s(1) and lkit(7).\n", progname);
}

/* getopt_long's tables for p, built once per program. */
static void
build(const struct opt_prog *p, struct option **longs, char *shorts,
    size_t cap)
{
	const struct opt *opts = p->opts;
	size_t n, i, k = 0;

	for (n = 0; opts[n].name; n++)
		;
	free(*longs);
	*longs = xcalloc(n + 1, sizeof(**longs));
	if (p->in_order)
		shorts[k++] = '+';      /* stop at the first operand */
	shorts[k++] = ':';
	for (i = 0; i < n; i++) {
		(*longs)[i].name = opts[i].name;
		(*longs)[i].has_arg = opts[i].arg ? required_argument :
		    no_argument;
		(*longs)[i].val = opts[i].id;
		if (opts[i].id < OPT_LONG && k < cap - 3) {
			shorts[k++] = (char)opts[i].id;
			if (opts[i].arg)
				shorts[k++] = ':';
		}
	}
	shorts[k] = '\0';
}

int
opt_get(int argc, char **argv, const struct opt_prog *p, const char **arg)
{
	static const struct opt_prog *built;
	static struct option *longs;
	static char shorts[128];
	int c;

	if (built != p) {
		build(p, &longs, shorts, sizeof(shorts));
		built = p;
	}
	c = getopt_long(argc, argv, shorts, longs, NULL);
	*arg = optarg;
	switch (c) {
	case 'h':
		help(p);
		exit(fflush(stdout) == 0 ? EX_OK : EX_SYS);
	case 'V':
		printf("%s (lkit) %s\n", progname, LKIT_VERSION);
		exit(EX_OK);
	case ':':
		opt_fail(p, "option %s needs an argument", argv[optind - 1]);
	case '?':
		if (optopt)
			opt_fail(p, "unknown option -%c", optopt);
		opt_fail(p, "unknown option %s", argv[optind - 1]);
	}
	return c;
}

static long long
scaled(const char *s, const char *const *units, const long long *mult)
{
	char *end;
	double v;
	size_t i;

	if (!s || !*s || isspace((unsigned char)*s) || *s == '-')
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || v < 0)
		return -1;
	for (i = 0; units[i]; i++)
		if (strcasecmp(end, units[i]) == 0)
			break;
	if (!units[i])
		return -1;
	v *= mult[i];
	if (v > 9.2e18)
		return -1;
	return (long long)(v + 0.5);
}

long long
opt_size(const char *s)
{
	static const char *const u[] = { "", "b", "k", "kb", "kib", "m",
		"mb", "mib", "g", "gb", "gib", NULL };
	static const long long m[] = { 1, 1, 1LL << 10, 1LL << 10, 1LL << 10,
		1LL << 20, 1LL << 20, 1LL << 20, 1LL << 30, 1LL << 30,
		1LL << 30 };

	return scaled(s, u, m);
}

long long
opt_duration_ms(const char *s)
{
	static const char *const u[] = { "", "s", "ms", "m", "h", "d", NULL };
	static const long long m[] = { 1000, 1000, 1, 60000, 3600000,
		86400000 };

	return scaled(s, u, m);
}

long long
opt_uint(const char *s)
{
	char *end;
	long long v;

	if (!s || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end)
		return -1;
	return v;
}

long long
opt_size_arg(const char *arg, const char *name)
{
	long long v = opt_size(arg);

	if (v <= 0)
		die(EX_USAGE, "bad size '%s' for --%s", arg, name);
	return v;
}

long long
opt_uint_arg(const char *arg, const char *name)
{
	long long v = opt_uint(arg);

	if (v < 0)
		die(EX_USAGE, "bad number '%s' for --%s", arg, name);
	return v;
}

long long
opt_duration_arg(const char *arg, const char *name)
{
	long long v = opt_duration_ms(arg);

	if (v < 0)
		die(EX_USAGE, "bad duration '%s' for --%s", arg, name);
	return v;
}

int
opt_choice_arg(const char *arg, const char *name, const char *const *names)
{
	char list[256];
	size_t len = 0;
	int i, n;

	for (i = 0; names[i]; i++)
		if (strcasecmp(arg, names[i]) == 0)
			return i;
	list[0] = '\0';
	for (i = 0; names[i] && len < sizeof(list); i++) {
		n = snprintf(list + len, sizeof(list) - len, "%s%s",
		    i == 0 ? "" : names[i + 1] ? ", " : " or ", names[i]);
		if (n < 0)
			break;
		len += (size_t)n;
	}
	die(EX_USAGE, "bad value '%s' for --%s: %s", arg, name, list);
}

const char *
opt_duration_str(long long ms, char *b, size_t cap)
{
	if (ms % 1000)
		snprintf(b, cap, "%lld ms", ms);
	else
		snprintf(b, cap, "%lld s", ms / 1000);
	return b;
}

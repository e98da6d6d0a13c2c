/* opt - getopt_long from a table, help text, number parsing */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "err.h"
#include "opt.h"

#ifndef LKIT_VERSION
#define LKIT_VERSION "0.0"
#endif

_Noreturn void
opt_usage(const char *usage)
{
	fprintf(stderr, "usage: %s %s\n", progname, usage);
	fprintf(stderr, "Try '%s --help' for more information.\n", progname);
	exit(EX_USAGE);
}

static void
help(const struct opt *opts, const char *usage, const char *about)
{
	char left[64];
	const struct opt *o;

	printf("usage: %s %s\n%s\n\noptions:\n", progname, usage, about);
	for (o = opts; o->name; o++) {
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
	printf("\nexit status: 0 done, %s2 usage error, 3 bad input data, "
	    "4 system or I/O failure\nSee %s(1) and lkit(7).\n",
	    strcmp(progname, "lgrep") == 0 ? "1 nothing selected, " : "",
	    progname);
}

int
opt_next(int argc, char **argv, const struct opt *opts, const char *usage,
    const char *about, const char **arg)
{
	static const struct opt *built;
	static struct option *longs;
	static char shorts[128];
	size_t n, i, k = 0;
	int c;

	if (built != opts) {
		for (n = 0; opts[n].name; n++)
			;
		free(longs);
		longs = xcalloc(n + 1, sizeof(*longs));
		shorts[k++] = '+';      /* stop at the first operand */
		shorts[k++] = ':';
		for (i = 0; i < n; i++) {
			longs[i].name = opts[i].name;
			longs[i].has_arg = opts[i].arg ? required_argument :
			    no_argument;
			longs[i].val = opts[i].id;
			if (opts[i].id < OPT_LONG && k < sizeof(shorts) - 3) {
				shorts[k++] = (char)opts[i].id;
				if (opts[i].arg)
					shorts[k++] = ':';
			}
		}
		shorts[k] = '\0';
		built = opts;
	}
	c = getopt_long(argc, argv, shorts, longs, NULL);
	*arg = optarg;
	switch (c) {
	case 'h':
		help(opts, usage, about);
		exit(fflush(stdout) == 0 ? EX_OK : EX_SYS);
	case 'V':
		printf("%s (lkit) %s\n", progname, LKIT_VERSION);
		exit(EX_OK);
	case ':':
		warn("option %s needs an argument", argv[optind - 1]);
		opt_usage(usage);
	case '?':
		if (optopt)
			warn("unknown option -%c", optopt);
		else
			warn("unknown option %s", argv[optind - 1]);
		opt_usage(usage);
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

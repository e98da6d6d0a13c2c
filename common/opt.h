/* opt - one option table drives getopt_long, --help and the completion test */
#ifndef LKIT_OPT_H
#define LKIT_OPT_H

#include <stdio.h>

struct opt {
	int id;                 /* a letter also gives -x; ids >= 256 are long only */
	const char *name;       /* the long name, without "--" */
	const char *arg;        /* NULL for a flag, else the argument's name */
	const char *help;       /* one line for --help */
};

#define OPT_LONG 256            /* first id of long-only options */
#define OPT_STD \
	{ 'h', "help", NULL, "show this help and exit" }, \
	{ 'V', "version", NULL, "show the version and exit" }
#define OPT_END { 0, NULL, NULL, NULL }

/*
 * Returns the id of the next option and its argument in *arg, or -1 when
 * the options end (optind is then the first operand).  Handles -h and -V
 * itself (printing help or version, exit 0) and exits with EX_USAGE, after
 * getopt's message and the usage line, on an unknown option.  usage is the
 * synopsis without "usage: ", about one line of description.
 */
int opt_next(int argc, char **argv, const struct opt *opts,
    const char *usage, const char *about, const char **arg);

/* Prints "usage: ..." to stderr and exits with EX_USAGE. */
_Noreturn void opt_usage(const char *usage);

/* Parses a size such as 64M, 512k, 1g, 1024: bytes, or -1. */
long long opt_size(const char *s);
/* Parses a duration such as 500ms, 1.5s, 2m, 1h, 10 (seconds): ms, or -1. */
long long opt_duration_ms(const char *s);
/* Parses a non-negative integer that fits a long long, or -1. */
long long opt_uint(const char *s);

#endif

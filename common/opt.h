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

/* One line of a program's exit status: its code and what it means. */
struct opt_exit {
	int code;
	const char *what;
};
#define OPT_EXIT_END { -1, NULL }
/* The lines every program, or every one writing a stream, has alike. */
#define OPT_EXIT_USAGE { 2, "usage error" }
#define OPT_EXIT_PIPE { 141, "the reader of standard output went away" }

/* A program's command line: one table each, shared by --help and errors. */
struct opt_prog {
	const char *usage;              /* the synopsis, without "usage: PROG" */
	const char *about;              /* about one line of description */
	const struct opt *opts;         /* ends with OPT_END */
	const struct opt_exit *exits;   /* ends with OPT_EXIT_END */
	int in_order;                   /* options end at the first operand */
};

/*
 * Returns the id of the next option and its argument in *arg, or -1 when
 * the options end (optind is then the first operand).  Options may follow
 * operands, as GNU getopt permutes them, unless p->in_order (a command and
 * its own options follow); "--" ends them.  Handles -h and -V itself
 * (printing help or version, exit 0) and exits with EX_USAGE, after saying
 * what was wrong and the usage line, on an unknown option or a missing
 * argument.
 */
int opt_get(int argc, char **argv, const struct opt_prog *p,
    const char **arg);


/*
 * Says what was wrong ("PROG: ..."), then prints "usage: ..." to stderr and
 * exits with EX_USAGE.
 */
_Noreturn void opt_fail(const struct opt_prog *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Parses a size such as 64M, 512k, 1g, 1024: bytes, or -1. */
long long opt_size(const char *s);
/* Parses a duration such as 500ms, 1.5s, 2m, 1h, 10 (seconds): ms, or -1. */
long long opt_duration_ms(const char *s);
/* Parses a non-negative integer that fits a long long, or -1. */
long long opt_uint(const char *s);

/*
 * The same for the value arg of option --name, exiting with EX_USAGE and
 * "bad size 'ARG' for --NAME" (number, duration) when it does not parse;
 * a size must be above 0.
 */
long long opt_size_arg(const char *arg, const char *name);
long long opt_uint_arg(const char *arg, const char *name);
long long opt_duration_arg(const char *arg, const char *name);

/*
 * The index of arg among names (NULL-ended; case does not matter), or
 * exit with EX_USAGE and "bad value 'ARG' for --NAME: a, b or c".
 */
int opt_choice_arg(const char *arg, const char *name,
    const char *const *names);

/* "30 s" or "500 ms": a duration as the options take it; returns b. */
const char *opt_duration_str(long long ms, char *b, size_t cap);

#endif

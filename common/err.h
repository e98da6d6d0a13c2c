/* err - program name, messages and the exit codes shared by every tool */
#ifndef LKIT_ERR_H
#define LKIT_ERR_H

#include <stdarg.h>
#include <stddef.h>

/* Exit status, the same in every program (DESIGN.md). */
enum {
	EX_OK = 0,      /* done */
	EX_NOMATCH = 1, /* nothing selected (lgrep only) */
	EX_USAGE = 2,   /* usage error, bad regex, jq program or time format */
	EX_DATA = 3,    /* bad input data */
	EX_SYS = 4      /* system or I/O failure */
};

extern const char *progname;

/* Sets progname to the last path component of argv0. */
void progname_set(const char *argv0);

/*
 * die() prints "progname: message" to stderr and exits with code; warn()
 * prints the same and returns.  A format that ends in ':' gets
 * " strerror(errno)" appended, as sbase's eprintf does.
 */
_Noreturn void die(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void vwarn(const char *fmt, va_list ap);

/* Allocation that dies with EX_SYS on failure. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

/*
 * For programs with big buffers that come and go (one per connection, per
 * request): blocks of 4 MB and more get mappings of their own, so they grow
 * without copying and go back to the system when freed, and smaller ones
 * reuse the heap's pages.  glibc only; elsewhere it does nothing.
 */
void xmalloc_tune(void);

#endif

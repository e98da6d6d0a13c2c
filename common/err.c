/* err - program name, messages, and allocation that dies on failure */
#include <errno.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"

const char *progname = "lkit";

void
progname_set(const char *argv0)
{
	const char *s;

	if (!argv0 || !*argv0)
		return;
	s = strrchr(argv0, '/');
	progname = s ? s + 1 : argv0;
}

void
vwarn(const char *fmt, va_list ap)
{
	int saved = errno;
	size_t n = strlen(fmt);
	char line[4096];
	int len;

	len = snprintf(line, sizeof(line), "%s: ", progname);
	if (len < 0 || (size_t)len >= sizeof(line))
		len = 0;
	vsnprintf(line + len, sizeof(line) - len, fmt, ap);
	len = strlen(line);
	if (n && fmt[n - 1] == ':')
		snprintf(line + len, sizeof(line) - len, " %s", strerror(saved));
	len = strlen(line);
	if ((size_t)len < sizeof(line) - 1)
		line[len++] = '\n';
	else
		line[len - 1] = '\n';
	/* one write, so lines from several programs in a pipe do not mix */
	fwrite(line, 1, len, stderr);
	fflush(stderr);
	errno = saved;
}

void
warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarn(fmt, ap);
	va_end(ap);
}

void
die(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarn(fmt, ap);
	va_end(ap);
	exit(code);
}

void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		die(EX_SYS, "out of memory");
	return p;
}

void *
xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (!p)
		die(EX_SYS, "out of memory");
	return p;
}

void *
xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		die(EX_SYS, "out of memory");
	return p;
}

char *
xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *
xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

void
xmalloc_tune(void)
{
#ifdef M_MMAP_THRESHOLD
	/*
	 * Fixed thresholds.  glibc's moving one rises to the size of the last
	 * big block freed, after which growing a big buffer in the heap copies
	 * it and holds both; a fixed one alone would give memory back at each
	 * free and fault it in again for the next request.
	 */
	mallopt(M_MMAP_THRESHOLD, 4 << 20);
	mallopt(M_TRIM_THRESHOLD, 16 << 20);
#endif
}

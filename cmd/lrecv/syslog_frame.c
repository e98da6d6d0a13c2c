/* syslog_frame - where a syslog message ends on a TCP stream (RFC 6587) */
#include <string.h>

#include "syslog_frame.h"

/* "LEN SP MSG": the count checked digit by digit before any arithmetic. */
static int
octets(const char *p, size_t n, size_t max, struct sframe *f)
{
	size_t i, len = 0;

	for (i = 0; i < n && p[i] != ' '; i++) {
		if (p[i] < '0' || p[i] > '9' || i >= SF_MAX_DIGITS)
			return SF_BAD;
		len = len * 10 + (size_t)(p[i] - '0');
	}
	if (i == n)
		return SF_SHORT;
	if (len > max) {
		f->used = i + 1;
		f->skip = len;
		return SF_SKIP;
	}
	if (n - (i + 1) < len)
		return SF_SHORT;
	f->off = i + 1;
	f->len = len;
	f->used = i + 1 + len;
	return SF_MSG;
}

int
syslog_frame(const char *p, size_t n, size_t max, struct sframe *f)
{
	const char *nl;
	size_t look;

	memset(f, 0, sizeof(*f));
	if (n == 0)
		return SF_SHORT;
	if (p[0] >= '1' && p[0] <= '9')
		return octets(p, n, max, f);
	look = n > max ? max + 1 : n;
	if (!(nl = memchr(p, '\n', look)))
		return n > max ? SF_LONG : SF_SHORT;
	f->len = (size_t)(nl - p);
	if (f->len && p[f->len - 1] == '\r')
		f->len--;
	f->used = (size_t)(nl - p) + 1;
	return SF_MSG;
}

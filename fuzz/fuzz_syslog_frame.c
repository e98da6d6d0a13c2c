/* fuzz_syslog_frame - libFuzzer target for lrecv's syslog TCP framing */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parse_syslog.h"
/* the decoder is lrecv's, self-contained: built in here */
#include "../cmd/lrecv/syslog_frame.c"

#define MAX_MSG 256             /* small, so the limit is reached */

static struct pfields pf;

/* Each message through lrecv's parsers, as lrecv reads it. */
static void
message(const char *s, size_t n)
{
	static const struct syslog_opts so3164 = { 1, 3, 1, 1 };
	static const struct syslog_opts so5424 = { 1, 1, 0, 0 };
	const char *t, *why;
	size_t tlen, i;

	pfields_reset(&pf, n);
	if (parse_syslog_5424(&pf, s, n, &so5424, &t, &tlen, &why) == 0 &&
	    (t < s || t + tlen > s + n))
		abort();
	pfields_reset(&pf, n);
	parse_syslog_3164(&pf, s, n, &so3164, &t, &tlen, &why);
	for (i = 0; i < pf.n; i++)
		if (pf.f[i].kind == PK_STR && pf.f[i].vlen > n + 1)
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *q;
	size_t off = 0, skip = 0;
	struct sframe f;
	int r, line = 0;

	while (off < size) {
		if (skip) {
			r = size - off < skip ? (int)(size - off) : (int)skip;
			off += (size_t)r;
			skip -= (size_t)r;
			continue;
		}
		if (line) {
			if (!(q = memchr(p + off, '\n', size - off)))
				break;
			off = (size_t)(q - p) + 1;
			line = 0;
			continue;
		}
		r = syslog_frame(p + off, size - off, MAX_MSG, &f);
		if (r == SF_SHORT || r == SF_BAD)
			break;
		if (r == SF_LONG) {
			line = 1;
			continue;
		}
		if (f.used == 0 || f.used > size - off)
			abort();
		if (r == SF_MSG) {
			if (f.off + f.len > f.used || f.len > MAX_MSG)
				abort();
			message(p + off + f.off, f.len);
		} else if (f.skip <= MAX_MSG) {
			abort();
		}
		if (r == SF_SKIP)
			skip = f.skip;
		off += f.used;
	}
	return 0;
}

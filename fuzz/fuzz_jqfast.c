/*
 * fuzz_jqfast - libFuzzer target for lreform's native jq subset: the
 * input is a program, a NUL, and a msgpack record.  Whatever the parser
 * takes must compile in libjq too, and whatever it runs natively must
 * give libjq's output bytes (through jqglue, as lreform writes them).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "jqglue.h"
#include "mp.h"

#include "../cmd/lreform/jqfast.c"
#include "../cmd/lreform/jqfast_parse.c"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static const char DEFAULT_REC[] = "\x83\xa5level\xa4WARN\xa3msg\xa2hi"
    "\xa1n\x05";

static struct buf native, lib, prog;

/* libjq's output of the program on rec, as jqrun writes it; -1: error. */
static int
libjq(struct jqglue *jg, const char *rec, size_t len, struct buf *out)
{
	int n = 0, r;
	jv v;

	jqglue_start(jg, "t", 1, 0, 0, rec, len);
	while ((r = jqglue_next(jg, &v)) == JQGLUE_OUT) {
		if (jv_get_kind(v) != JV_KIND_OBJECT) {
			jv_free(v);
			return -1;
		}
		jqglue_put(jg, out, v);
		n++;
	}
	return r == JQGLUE_ERR ? -1 : n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data, *nul, *rec, *p;
	struct jqglue *jg;
	struct jqfast *jf;
	char err[256];
	size_t len;
	int r, n;

	if (!(nul = memchr(s, '\0', size)) || nul - s > 4096)
		return 0;
	prog.len = 0;
	buf_put(&prog, s, nul - s);
	buf_putc(&prog, '\0');
	rec = nul + 1;
	len = size - (rec - s);
	p = rec;
	if (mp_skip(&p, rec + len, NULL) != MP_OK || p != rec + len ||
	    (len && ((unsigned char)*rec & 0xf0) != 0x80 &&
	    (unsigned char)*rec != 0xde && (unsigned char)*rec != 0xdf) ||
	    !len) {
		rec = DEFAULT_REC;
		len = sizeof(DEFAULT_REC) - 1;
	}
	if (!(jf = jqfast_new(prog.p)))
		return 0;
	jg = jqglue_new(prog.p, err, sizeof(err));
	CHECK(jg != NULL);
	native.len = lib.len = 0;
	r = jqfast_run(jf, rec, len, &native);
	if (r != JQFAST_FALLBACK) {
		n = libjq(jg, rec, len, &lib);
		CHECK(n == (r == JQFAST_OUT));
		CHECK(native.len == lib.len);
		CHECK(!lib.len || memcmp(native.p, lib.p, lib.len) == 0);
	}
	jqglue_free(jg);
	jqfast_free(jf);
	return 0;
}

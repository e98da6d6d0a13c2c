/* enc - --from-encoding: lines converted with iconv, as Fluentd's in_tail */
#include <errno.h>
#include <iconv.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "err.h"

#include "ltail.h"

static iconv_t cd = (iconv_t)-1;
static struct buf cb;           /* the line converted */
static const char *repl;        /* for a byte that cannot be converted */
static size_t repl_len;

/* Whether enc writes "A\n" as those two bytes: lines end at a newline. */
static int
ascii_compatible(const char *enc)
{
	iconv_t c = iconv_open(enc, "UTF-8");
	char in[] = "A\n", out[16], *ip = in, *op = out;
	size_t il = 2, ol = sizeof(out);
	int r;

	if (c == (iconv_t)-1)
		return 0;
	r = iconv(c, &ip, &il, &op, &ol) != (size_t)-1 &&
	    iconv(c, NULL, NULL, &op, &ol) != (size_t)-1 &&
	    op - out == 2 && memcmp(out, "A\n", 2) == 0;
	iconv_close(c);
	return r;
}

void
enc_setup(void)
{
	iconv_t c;

	if (o.enc && !o.from_enc) {
		/* Fluentd's encoding alone names the bytes: nothing to do */
		if ((c = iconv_open(o.enc, o.enc)) == (iconv_t)-1)
			die(EX_USAGE, "unknown --encoding '%s'", o.enc);
		iconv_close(c);
		return;
	}
	if (!o.from_enc)
		return;
	if (!o.enc)
		die(EX_USAGE, "--from-encoding needs --encoding (the encoding "
		    "to write)");
	cd = iconv_open(o.enc, o.from_enc);
	if (cd == (iconv_t)-1)
		die(EX_USAGE, "unable to convert from '%s' to '%s': %s",
		    o.from_enc, o.enc, errno == EINVAL ? "unknown encoding" :
		    strerror(errno));
	if (!ascii_compatible(o.from_enc) || !ascii_compatible(o.enc))
		die(EX_USAGE, "--from-encoding '%s' and --encoding '%s' must "
		    "write ASCII as ASCII (lines end with the byte 0x0a)",
		    o.from_enc, o.enc);
	if (strcasecmp(o.enc, "UTF-8") == 0 || strcasecmp(o.enc, "UTF8") == 0) {
		repl = "\xef\xbf\xbd";  /* U+FFFD */
		repl_len = 3;
	} else {
		repl = "?";
		repl_len = 1;
	}
}

/* A byte of the line that cannot be converted: replaced, and counted. */
static void
bad_byte(struct file *f, size_t at)
{
	buf_put(&cb, repl, repl_len);
	if (counts.unconverted++ == 0)
		warn("%s: a byte that is not %s (or has no %s) in a line: "
		    "replaced (byte %zu of the line; more are counted)",
		    f->path, o.from_enc, o.enc, at);
}

/*
 * Converts the line *p, *len from --from-encoding to --encoding; *p then
 * points to the converted text, valid until the next line.
 */
void
enc_line(struct file *f, const char **p, size_t *len)
{
	char *ip = (char *)*p, *op;
	size_t il = *len, ol, r;

	cb.len = 0;
	iconv(cd, NULL, NULL, NULL, NULL);      /* the initial state */
	while (il) {
		buf_reserve(&cb, il * 4 + 16);
		op = cb.p + cb.len;
		ol = cb.cap - cb.len;
		r = iconv(cd, &ip, &il, &op, &ol);
		cb.len = op - cb.p;
		if (r != (size_t)-1 || errno == E2BIG)
			continue;
		bad_byte(f, ip - *p);   /* EILSEQ, or EINVAL: cut short */
		ip++;
		il--;
	}
	do {                    /* back to the initial state, if it shifted */
		buf_reserve(&cb, 16);
		op = cb.p + cb.len;
		ol = cb.cap - cb.len;
		r = iconv(cd, NULL, NULL, &op, &ol);
		cb.len = op - cb.p;
	} while (r == (size_t)-1 && errno == E2BIG);
	*p = cb.p;
	*len = cb.len;
}

void
enc_free(void)
{
	if (cd != (iconv_t)-1)
		iconv_close(cd);
	buf_free(&cb);
}

/* parse_text - csv, tsv, ltsv, logfmt into fields; Ruby's split, to_i */
#ifndef LKIT_PARSE_TEXT_H
#define LKIT_PARSE_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/*
 * These parsers follow Fluentd's parser plugins (and Ruby's String#split,
 * #to_i, #to_f and CSV.parse_line under them), so a line gives the record
 * Fluentd gives.  They produce a list of fields whose keys and values are
 * borrowed from the text, from the key list, or from the list's scratch
 * space: valid until the next pfields_reset.
 */

enum pkind {
	PK_STR,         /* v, vlen: text */
	PK_RAW,         /* v, vlen: the bytes of one msgpack value */
	PK_NIL,
	PK_TRUE,
	PK_INT,         /* i */
	PK_FLOAT        /* f */
};

struct pfield {
	const char *k;
	size_t klen;
	const char *v;
	size_t vlen;
	int64_t i;
	double f;
	unsigned char kind;
	unsigned char drop;     /* for the caller: leave out of the record */
	unsigned char used;     /* for the caller: already written */
};

struct pfields {
	struct pfield *f;
	size_t n;
	size_t cap;
	int dedup;              /* a repeated key keeps its place, takes the
				   last value (a Ruby Hash); off: kept twice */
	struct buf scratch;     /* unescaped values */
};

/* Empties the list and makes scratch room for text of len bytes. */
void pfields_reset(struct pfields *pf, size_t len);
void pfields_free(struct pfields *pf);

/*
 * Adds a field (PK_NIL until the caller sets it) and returns it.  With
 * dedup, a key already present returns that field, made PK_NIL.
 */
struct pfield *pfields_add_slow(struct pfields *pf, const char *k,
    size_t klen);

static inline struct pfield *
pfields_add(struct pfields *pf, const char *k, size_t klen)
{
	struct pfield *f;

	if (pf->dedup || pf->n == pf->cap)
		return pfields_add_slow(pf, k, klen);
	f = &pf->f[pf->n++];
	f->k = k;
	f->klen = klen;
	f->kind = PK_NIL;
	f->drop = f->used = 0;
	return f;
}

static inline struct pfield *
pfields_str(struct pfields *pf, const char *k, size_t klen, const char *v,
    size_t vlen)
{
	struct pfield *f = pfields_add(pf, k, klen);

	f->kind = PK_STR;
	f->v = v;
	f->vlen = vlen;
	return f;
}

/* Field names for csv and tsv, in order. */
struct pkeys {
	char **k;
	size_t *len;
	size_t n;
};

/*
 * Splits "a,b,c", white space around the names trimmed as Fluentd trims
 * the items of its array parameters (empty names refused): 0, or -1.
 */
int pkeys_split(struct pkeys *ks, const char *list);
void pkeys_free(struct pkeys *ks);

/*
 * Ruby's String#scrub("?") for UTF-8: returns 0 when s[0..len) is valid
 * UTF-8 (out untouched), else 1 with the text in out (emptied first),
 * each longest start of a character that does not go on to a whole
 * character, and each byte that starts none, made one '?'.
 */
int parse_scrub(struct buf *out, const char *s, size_t len);

/*
 * One CSV row as Ruby's CSV.parse_line: fields separated by sep, '"'
 * quoting with "" for a quote, the row ending at the first line break
 * outside quotes.  An empty unquoted field is nil, keys past the last
 * field are nil, fields past the last key are ignored.  Returns 0, or -1
 * with *why set (empty line, unclosed or stray quote).
 */
int parse_csv(struct pfields *pf, const char *s, size_t len, const char *sep,
    size_t seplen, const struct pkeys *ks, const char **why);

/*
 * Ruby's text.split(sep, keys): the last key takes the rest of the line,
 * missing values are nil.  A sep of one space splits on runs of white
 * space, as Ruby does.
 */
void parse_tsv(struct pfields *pf, const char *s, size_t len, const char *sep,
    size_t seplen, const struct pkeys *ks);

/*
 * LTSV: Ruby's text.split(sep), then each item split at its first label
 * delimiter; items without one are skipped.  parse_ltsv_item does one
 * item, for callers splitting on a pattern.
 */
void parse_ltsv(struct pfields *pf, const char *s, size_t len, const char *sep,
    size_t seplen, const char *label, size_t labellen);
void parse_ltsv_item(struct pfields *pf, const char *s, size_t len,
    const char *label, size_t labellen);

/*
 * logfmt as the Fluentd logfmt parser (the logfmt gem) reads it: key=value
 * pairs; a bare key (or key=) is true; unquoted integers and decimals
 * become numbers; "quoted" values stay text, with \" for a quote.
 */
void parse_logfmt(struct pfields *pf, const char *s, size_t len);

/*
 * Ruby's s.split(sep, limit) with a string separator: calls fn for each
 * piece and returns how many there were (fn may be NULL, to count).
 * limit 0 drops trailing empty pieces; limit n > 0 makes at most n pieces,
 * the last holding the rest.  sep " " splits on runs of white space after
 * skipping leading white space; an empty sep splits into UTF-8 characters.
 * An empty s has no pieces.
 */
size_t parse_split(const char *s, size_t len, const char *sep, size_t seplen,
    size_t limit, void (*fn)(void *arg, const char *p, size_t n), void *arg);

/*
 * Ruby's String#to_i: leading white space, a sign, digits with single
 * underscores between them; anything else ends the number; no digits is
 * 0.  Values beyond int64 saturate.
 */
int64_t parse_ruby_int(const char *s, size_t len);

/* Ruby's String#to_f: the same leniency, with a fraction and exponent. */
double parse_ruby_float(const char *s, size_t len);

#endif

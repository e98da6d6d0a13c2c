/* lreform.h - what lreform's files share: templates, the edits, the state */
#ifndef LREFORM_H
#define LREFORM_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "recpath.h"
#include "stream.h"

/* The options (lreform.c), set once before the first event. */
struct options {
	const char *jq, *tag, *renew_time_key, *time_format, *tz;
	int renew, typecast;
};
extern struct options o;

/* A template: text with placeholders, cut into segments. */
enum ph {
	PH_LIT, PH_HOSTNAME, PH_TAG, PH_PARTS, PH_PREFIX, PH_SUFFIX, PH_TIME,
	PH_RECORD
};

struct seg {
	enum ph kind;
	const char *s;          /* PH_LIT: the text (borrowed) */
	size_t len;
	long n;                 /* PH_PARTS, PH_PREFIX, PH_SUFFIX */
	struct recpath path;    /* PH_RECORD */
};

struct tmpl {
	struct seg *seg;
	size_t nseg;
	int dyn;                /* uses the time or the record */
	int single;             /* one placeholder, nothing else */
	int is_key;             /* a key in a JSON value: always a string */
};

/* A field's value: a template, or JSON whose strings are templates. */
struct value {
	struct tmpl t;
	int is_json, dyn;
	struct buf json;        /* msgpack; its strings are js[] in order */
	struct tmpl *js;
	size_t njs;
	int unit;               /* its rendering in the tag cache, or -1 */
};

/* What a placeholder may read: the event's tag, time and record. */
struct ctx {
	const char *tag;
	size_t tag_len;
	int64_t sec;
	uint32_t nsec;
	const char *rec, *rec_end;      /* NULL when rendering per tag */
};

/* A KEY=VALUE operand. */
struct field {
	const char *arg;        /* KEY=VALUE as given */
	struct tmpl key;
	const char *kconst;     /* a key without placeholders */
	size_t kconst_len;
	int key_unit;           /* a key rendered per tag, or -1 */
	struct value val;
	int shadowed;           /* a later field has the same constant key */
};

struct rename {
	const char *old, *new;
	size_t old_len, new_len;
};

struct name {                   /* a top-level name with a role */
	const char *s;
	size_t len;
	int remove;             /* in --remove-keys */
	int src, dst;           /* a rename's OLD or NEW, or -1 */
};

/*
 * What the command line asks to do to each event (fields.c), fixed before
 * the first event.  A unit is something rendered once per tag and kept in
 * the tag cache: a key or value without time or record, the tag.
 */
struct edits {
	struct field *fields;
	size_t nfields;
	int keys_vary;          /* some key has placeholders */
	struct rename *renames;
	size_t nrenames;
	struct recpath *removes;        /* owns every -d and -k path */
	size_t nremoves;
	struct recpath **nested;        /* removes below the top level */
	size_t nnested;
	struct name *names;
	size_t nnames;
	size_t nremove_names;   /* top-level --remove-keys */
	const char **keeps;
	size_t *keep_lens, nkeeps;
	uint64_t bloom;         /* of the names' bits */
	struct tmpl tag;        /* -t */
	int tag_set, tag_unit;
	size_t nunits;
	int plain;              /* nothing to do to the record */
	int strip_time;         /* -d names --renew-time-key: after it */
};
extern struct edits ed;

/* Standard output (lreform.c opens and closes it; build.c writes). */
extern struct out out;

/* What went wrong with events, for --stats and the exit status (lreform.c). */
struct counts {
	uint64_t bad_time;      /* --renew-time-key not a time (build.c) */
	uint64_t jq_errors, jq_nonobj, dropped; /* jqrun.c */
};
extern struct counts cnt;

/* A name's bit in a 64-bit Bloom filter of top-level names. */
static inline uint64_t
bloom_bit(const char *k, size_t len)
{
	if (!len)
		return 1;
	return 1ull << ((len * 7 + (unsigned char)k[0] +
	    3u * (unsigned char)k[len - 1]) & 63);
}

/* tmpl.c: placeholders and templates, parsed and rendered */
void tmpl_init(void);
void tmpl_end(void);
void tmpl_parse(struct tmpl *, const char *, size_t, const char *);
void tmpl_free(struct tmpl *);
void tmpl_text(const struct tmpl *, const struct ctx *, struct buf *);
void tmpl_value_parse(struct value *, const char *, const char *);
void tmpl_value_render(const struct value *, const struct ctx *,
    struct buf *);
void tmpl_value_free(struct value *);

/* fields.c: the operands and -d, -k, -m into the edits */
void fields_add(const char *);
void fields_paths(const char *, int);
void fields_rename(const char *);
void fields_setup(void);
void fields_free(void);

/* build.c: each event's new record, time and tag, written */
void build_init(void);
void build_emit(const struct event *, const char *, size_t);
void build_free(void);

/* jqrun.c: --jq, each output object an event */
void jqrun_init(void);
void jqrun_event(const struct event *);
int jqrun_on(void);
void jqrun_extra(char *, size_t);
void jqrun_free(void);

#endif

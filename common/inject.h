/* inject - Fluentd's <inject>: the event's time and tag put in its record */
#ifndef LKIT_INJECT_H
#define LKIT_INJECT_H

#include <stddef.h>

#include "buf.h"

struct event;
struct timefmt;

/* --time-type: the time as a float, whole seconds, or formatted text. */
enum inject_type { INJECT_FLOAT, INJECT_UNIXTIME, INJECT_STRING };

/* Its choices for opt_choice_arg, in that order. */
extern const char *const inject_types[];

struct inject {
	const char *time_key;   /* --time-key, or NULL */
	const char *tag_key;    /* --tag-key, or NULL */
	enum inject_type type;
	struct timefmt *tf;     /* INJECT_STRING: the format */
	struct buf b;           /* the record made last */
};

/*
 * The record of ev with the field time_key set to its time and tag_key to
 * its tag (the record's own fields of those names left out), or ev's own
 * record when neither key is set.  What it returns lasts until the next
 * call; *len is its length.
 */
const char *inject_record(struct inject *in, const struct event *ev,
    size_t *len);

void inject_free(struct inject *in);

#endif

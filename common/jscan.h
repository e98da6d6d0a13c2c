/* jscan - when a JSON value arriving in pieces may be whole */
#ifndef LKIT_JSCAN_H
#define LKIT_JSCAN_H

#include <stddef.h>

#include "json.h"

/*
 * A JSON value read in pieces is checked as its bytes arrive, by a state
 * machine that resumes where the last piece ended, so that it is parsed
 * once it is whole (or bad), not once a read.  json_parse has the last
 * word; the checker only says when to ask it.
 */
enum {
	J_VALUE,                /* a value is next (white space first) */
	J_FIRST,                /* after '[': a value or ']' */
	J_KEY_FIRST,            /* after '{': a key or '}' */
	J_KEY,                  /* after ',' in an object: a key */
	J_COLON,                /* after a key */
	J_NEXT,                 /* after a value: ',' or the close */
	J_STR, J_ESC, J_HEX,    /* in a string (key, if js->key) */
	J_MINUS, J_ZERO, J_INT, J_DOT, J_FRAC, J_E, J_ESIGN, J_EXP,
	J_LIT,                  /* the rest of true, false, null */
	J_END,                  /* the value may end here: parse it */
	J_WAIT                  /* no help: parse when the bytes double */
};

struct jscan {
	size_t at;              /* the next byte to look at, from the start */
	size_t tried;           /* bytes there at the last parse, 0 if none */
	int state;
	int key;                /* the string is an object key */
	int hex;                /* \u digits left */
	const char *lit;        /* the rest of the literal */
	size_t digits;          /* of a number: 1 an integer digit, 100 an
				 * exponent digit */
	size_t depth;
	char open[JSON_MAX_DEPTH];      /* '[' or '{' at each level */
};


/* Starts over: the next byte looked at is p[0]. */
void jscan_reset(struct jscan *js);

/*
 * Looks at the new bytes p[js->at..len); 1 if the value may end there
 * (or went bad there): then it is time to parse p[0..len).
 */
int jscan_end(struct jscan *js, const char *p, size_t len);

/*
 * Whether p[0..len) is worth parsing again: the first time, when the
 * value may have ended (or gone bad), or when the bytes doubled since
 * js->tried, the length at the last parse (the caller sets it).
 */
int jscan_ready(struct jscan *js, const char *p, size_t len);

#endif

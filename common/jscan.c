/* jscan - when a JSON value arriving in pieces may be whole */
#include <ctype.h>
#include <string.h>

#include "jscan.h"

void
jscan_reset(struct jscan *js)
{
	js->at = js->tried = js->depth = 0;
	js->state = J_VALUE;
}

static int
is_ws(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* A value just ended: what follows it. */
static int
after_value(struct jscan *js)
{
	return js->depth ? J_NEXT : J_END;
}

/* The first byte of a value (not white space). */
static int
value_start(struct jscan *js, int c)
{
	switch (c) {
	case '{': case '[':
		if (js->depth == JSON_MAX_DEPTH)
			return J_END;
		js->open[js->depth++] = (char)c;
		return c == '{' ? J_KEY_FIRST : J_FIRST;
	case '"':
		js->key = 0;
		return J_STR;
	case '-':
		return J_MINUS;
	case '0':
		js->digits = 1;
		return J_ZERO;
	case 't': case 'f': case 'n':
		js->lit = c == 't' ? "rue" : c == 'f' ? "alse" : "ull";
		return J_LIT;
	default:
		js->digits = 1;
		return c >= '1' && c <= '9' ? J_INT : J_END;
	}
}

/*
 * The next byte c of a number.  A byte that ends it is looked at again
 * (*again); a number that may be out of range (many digits, a long
 * exponent) is for the parser to judge.
 */
static int
number_next(struct jscan *js, int c, int *again)
{
	int digit = c >= '0' && c <= '9';

	switch (js->state) {
	case J_MINUS:
		js->digits = 1;
		return c == '0' ? J_ZERO : digit && c != '0' ? J_INT : J_END;
	case J_DOT:
		return digit ? J_FRAC : J_END;
	case J_E:
		if (c == '+' || c == '-')
			return J_ESIGN;
		/* FALLTHROUGH */
	case J_ESIGN:
		js->digits += 100;
		return digit ? J_EXP : J_END;
	}
	if (digit && js->state != J_ZERO) {
		if (js->state == J_INT || js->state == J_EXP)
			js->digits += js->state == J_INT ? 1 : 100;
		return js->state;
	}
	if (c == '.' && (js->state == J_ZERO || js->state == J_INT))
		return J_DOT;
	if ((c == 'e' || c == 'E') && js->state != J_EXP)
		return J_E;
	if (digit || js->digits >= 300)
		return J_END;   /* a leading zero; maybe out of range */
	*again = 1;
	return after_value(js);
}

/* In a container, after a value or at its start: c is not white space. */
static int
structure_next(struct jscan *js, int c)
{
	char open = js->open[js->depth - 1];

	switch (js->state) {
	case J_FIRST:
		if (c == ']')
			break;
		return value_start(js, c);
	case J_KEY_FIRST:
		if (c == '}')
			break;
		/* FALLTHROUGH */
	case J_KEY:
		js->key = 1;
		return c == '"' ? J_STR : J_END;
	case J_COLON:
		return c == ':' ? J_VALUE : J_END;
	default: /* J_NEXT */
		if (c == ',')
			return open == '{' ? J_KEY : J_VALUE;
		if (c != (open == '{' ? '}' : ']'))
			return J_END;
	}
	js->depth--;
	return after_value(js);
}

/* Looks at the new bytes p[js->at..len); 1 if the value may end there. */
int
jscan_end(struct jscan *js, const char *p, size_t len)
{
	int c, again;

	while (js->at < len && js->state < J_END) {
		c = (unsigned char)p[js->at];
		again = 0;
		switch (js->state) {
		case J_STR:
			if (c == '\\')
				js->state = J_ESC;
			else if (c == '"')
				js->state = js->key ? J_COLON : after_value(js);
			else if (c < 0x20)
				js->state = J_END;
			break;
		case J_ESC:
			js->hex = 4;
			if (c == 'u')
				js->state = J_HEX;
			else
				js->state = c && strchr("\"\\/bfnrt", c) ?
				    J_STR : J_END;
			break;
		case J_HEX:
			if (!isxdigit(c))
				js->state = J_END;
			else if (--js->hex == 0)
				js->state = J_STR;
			break;
		case J_LIT:
			if (c != *js->lit)
				js->state = J_END;
			else if (!*++js->lit)
				js->state = after_value(js);
			break;
		case J_VALUE:
			if (!is_ws(c))
				js->state = value_start(js, c);
			break;
		case J_FIRST: case J_KEY_FIRST: case J_KEY: case J_COLON:
		case J_NEXT:
			if (!is_ws(c))
				js->state = structure_next(js, c);
			break;
		default:
			js->state = number_next(js, c, &again);
			break;
		}
		js->at += !again;
	}
	return js->state == J_END;
}

/*
 * Is it worth parsing p[0..len) again?  Yes the first time, when the value
 * may have ended (or gone bad), or when the bytes doubled since the last
 * try.
 */
int
jscan_ready(struct jscan *js, const char *p, size_t len)
{
	if (js->tried == 0 || len >= 2 * js->tried)
		return 1;
	return jscan_end(js, p, len);
}

/* syslog_frame - where a syslog message ends on a TCP stream (RFC 6587) */
#ifndef LRECV_SYSLOG_FRAME_H
#define LRECV_SYSLOG_FRAME_H

#include <stddef.h>

#define SF_MAX_DIGITS 9         /* an octet count longer than this is bad */

enum {
	SF_MSG,         /* a message at p[off..off+len); used bytes consumed */
	SF_SHORT,       /* not whole yet: read more */
	SF_SKIP,        /* a count over max: used bytes, then skip more */
	SF_LONG,        /* a line longer than max: drop up to its newline */
	SF_BAD          /* a bad octet count: the framing is lost */
};

struct sframe {
	size_t off, len;        /* SF_MSG: the message */
	size_t used;            /* SF_MSG, SF_SKIP: bytes consumed */
	size_t skip;            /* SF_SKIP: message bytes still to drop */
};

/*
 * One frame at the start of p[0..n): octet counting ("LEN SP MSG") when
 * the first byte is a digit 1-9, else a line ended by a newline (without
 * it and a trailing \r).  max bounds a message's size.
 */
int syslog_frame(const char *p, size_t n, size_t max, struct sframe *f);

#endif

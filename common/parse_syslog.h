/* parse_syslog - syslog lines (RFC 3164, 5424) split as Fluentd does */
#ifndef LKIT_PARSE_SYSLOG_H
#define LKIT_PARSE_SYSLOG_H

#include <stddef.h>

#include "parse_text.h"

struct syslog_opts {
	int with_pri;           /* the line starts with <PRI> */
	int nspace;             /* words in the time: its format's spaces + 1 */
	int fixed;              /* 3164: the time is "Mmm dd hh:mm:ss[.frac]" */
	int colonless;          /* 3164: "host ident message" has an ident */
};

/*
 * Finds the time as Fluentd does: nspace words from s[off] on, a run of
 * spaces counting as one.  Returns the offset of the space after it, or
 * -1 if the line ends first.  *t is the time text, with runs of spaces
 * squeezed to one (into pf's scratch) if there were any.
 */
long parse_syslog_time(struct pfields *pf, const char *s, size_t len,
    size_t off, int nspace, const char **t, size_t *tlen);

/*
 * Reads <PRI> at the start of s into *pri (Ruby's to_i of the digits);
 * returns the offset after '>', or -1.
 */
long parse_syslog_pri(const char *s, size_t len, long *pri);

/*
 * Fluentd's "string" parser engine.  Adds the fields (3164: host, pri,
 * ident, pid, message; 5424: host, ident, pid, msgid, pri, extradata,
 * message) and gives the time text in *t.  Returns 0, or -1 with *why
 * set when the line has not the shape of the format.
 */
int parse_syslog_3164(struct pfields *pf, const char *s, size_t len,
    const struct syslog_opts *so, const char **t, size_t *tlen,
    const char **why);
int parse_syslog_5424(struct pfields *pf, const char *s, size_t len,
    const struct syslog_opts *so, const char **t, size_t *tlen,
    const char **why);

/* Ruby's chomp: the length without one trailing \r\n, \n or \r. */
size_t parse_chomp(const char *s, size_t len);

#endif

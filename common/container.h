/* container - the lines of container log files: CRI and Docker json-file */
#ifndef LKIT_CONTAINER_H
#define LKIT_CONTAINER_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* The stream a line came from. */
enum { CONT_STDOUT = 0, CONT_STDERR = 1, CONT_OTHER = 2 };

/*
 * One line of a container's log, decoded.  Pointers are borrowed: into the
 * line for CRI, into the caller's msgpack buffer for Docker.
 */
struct cont_line {
	const char *time;       /* the time as written (NULL: none) */
	size_t tlen;
	int64_t sec;            /* the time, when timed */
	uint32_t nsec;
	int timed;              /* the time was read as RFC 3339 */
	const char *stream;     /* "stdout", "stderr", or as written */
	size_t slen;
	int sid;                /* CONT_STDOUT, CONT_STDERR or CONT_OTHER */
	int partial;            /* a part: the rest of the line follows */
	const char *tag;        /* CRI: the tag word (P, F, P:..., F:...) */
	size_t taglen;
	const char *msg;        /* the text: CRI after the tag, Docker "log" */
	size_t mlen;
	const char *map;        /* Docker: the whole object as a msgpack map */
	size_t maplen;
};

/*
 * Reads a CRI line (containerd, CRI-O) "TIME STREAM TAG MESSAGE", without
 * its newline: STREAM is stdout or stderr, TAG is P (partial: the message
 * goes on in the next line of the stream) or F, maybe followed by ':' and
 * more; a line that ends after the tag has an empty message.  Returns 0,
 * or -1 and a static reason in *why.  A TIME that is not RFC 3339 leaves
 * timed 0.
 */
int cont_cri(const char *s, size_t n, struct cont_line *l, const char **why);

/*
 * Reads a line of Docker's json-file driver, {"log":"...\n",
 * "stream":"stdout","time":"..."}: a JSON object with a "log" string
 * (JSON escapes decoded), maybe "stream" and "time" strings.  A "log" that
 * does not end in a newline is partial (Docker cuts lines at 16 KiB).
 * The object's msgpack encoding replaces the contents of mp; l->map and
 * l->msg point into it.  Returns 0, or -1 and a static reason in *why.
 */
int cont_docker(const char *s, size_t n, struct buf *mp, struct cont_line *l,
    const char **why);

/*
 * Reads an RFC 3339 time, "2021-02-01T16:45:03.012345678Z" (a fraction of
 * up to 9 digits kept, more ignored; the zone Z or +hh:mm, +hhmm, none for
 * UTC; 't', 'z' and a space for 'T' also taken): 0 and the seconds since
 * the epoch and nanoseconds, or -1.
 */
int cont_time(const char *s, size_t n, int64_t *sec, uint32_t *nsec);

#endif

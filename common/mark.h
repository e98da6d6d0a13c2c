/* mark - end-to-end delivery marks: made by producers, returned by sinks */
#ifndef LKIT_MARK_H
#define LKIT_MARK_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/*
 * A mark is one top-level msgpack ext value in the event stream, between
 * events: ext8, type MARK_EXT, and a payload of
 *
 *	byte 0          MARK_VERSION
 *	bytes 1..16     the producer's id (random)
 *	bytes 17..24    the sequence number, big-endian, from 1
 *	bytes 25..      the return address: the absolute path of the
 *	                producer's unix datagram socket, 1 to MARK_PATH_MAX
 *	                bytes, starting with '/', no NUL
 *
 * A sink returns a mark by sending its bytes, exactly as it read them
 * (c7 LEN MARK_EXT payload), in one datagram to that path.  Returning mark
 * N says that every event before it in the stream is delivered; it
 * implies every earlier mark of the same producer.  See lkit-stream(5).
 */
#define MARK_EXT 108            /* 'l' */
#define MARK_VERSION 1
#define MARK_ID_LEN 16
#define MARK_HEAD 25            /* payload bytes before the path */
#define MARK_PATH_MAX 107       /* sun_path less its NUL */
#define MARK_MAX (3 + MARK_HEAD + MARK_PATH_MAX)        /* whole value */

struct mark {
	unsigned char id[MARK_ID_LEN];
	uint64_t seq;
	const char *path;       /* borrowed from the bytes parsed; no NUL */
	size_t path_len;
};

/*
 * Whether p[0..len) (one whole msgpack value) is a mark: 1 and m filled,
 * 0 if it is not an ext value of type MARK_EXT, -1 if it is one but
 * malformed (not ext8, wrong version or size, sequence 0, a path that is
 * not absolute or holds a NUL, or bytes after the value).
 */
int mark_parse(const char *p, size_t len, struct mark *m);

/* Appends a mark's bytes to b; path is 1 to MARK_PATH_MAX bytes, absolute. */
void mark_put(struct buf *b, const unsigned char id[MARK_ID_LEN],
    uint64_t seq, const char *path);

/*
 * Returns a mark (p[0..len), the bytes as read) to its producer: one
 * datagram to its path, never blocking.  0 if sent; -1 with errno if not
 * (a producer gone or busy: ECONNREFUSED, ENOENT, EAGAIN; EINVAL if p is
 * not a valid mark).  A return that is not sent loses nothing: the
 * producer's next returned mark covers it.
 */
int mark_return(const char *p, size_t len);

/*
 * A reader_set_mark handler for a stage that sends nothing downstream
 * (lgrep -c): each mark is returned as it is read.  arg is unused.
 */
void mark_return_cb(void *arg, const char *p, size_t len);

/* Counts of mark_return: sent, and not sent. */
void mark_return_counts(uint64_t *sent, uint64_t *unsent);

/*
 * For --stats: ", marks in IN, returned N, not sent N" into b (the counts
 * of mark_return), or nothing when no mark came in.
 */
void mark_return_stats(char *b, size_t cap, uint64_t in);

/*
 * The producer's side: a private directory (mode 0700, in
 * $XDG_RUNTIME_DIR, else $TMPDIR, else /tmp: the first where it can be
 * made with a path short enough) holding the return socket (non-blocking,
 * close-on-exec); its id; the next sequence number; the highest returned
 * one.
 */
struct mark_src;

/*
 * A new producer with at most max_out marks outstanding; NULL with a
 * message in err if the directory or socket cannot be made.
 */
struct mark_src *mark_src_new(unsigned max_out, char *err, size_t errcap);
/* Closes the socket, removes it and its directory. */
void mark_src_free(struct mark_src *s);

/* The socket to poll for returns (readable when some came back). */
int mark_src_fd(const struct mark_src *s);

/*
 * Whether another mark may be put now (fewer than max_out outstanding).
 * A producer that may not simply writes events without a mark, and
 * records no progress past them until marks come back.
 */
int mark_src_can_put(const struct mark_src *s);

/*
 * Appends a new mark to b and returns its sequence number.  Call it only
 * when mark_src_can_put says so (mark_src_waiting_ms keeps max_out times).
 */
uint64_t mark_src_put(struct mark_src *s, struct buf *b);

/*
 * Reads every return waiting on the socket, without blocking; ignores
 * datagrams that are not a mark of this producer, or name a sequence not
 * yet made.  Returns the highest sequence returned so far (0: none).
 */
uint64_t mark_src_recv(struct mark_src *s);

/* The highest sequence returned, and the last one made. */
uint64_t mark_src_done(const struct mark_src *s);
uint64_t mark_src_last(const struct mark_src *s);

/*
 * Monotonic ms since the oldest outstanding mark was made, or 0 if none
 * is outstanding (for "marks stopped coming back" warnings).
 */
long long mark_src_waiting_ms(const struct mark_src *s);

#define MARK_WARN_MS (5 * 60 * 1000)    /* least time between warnings */

/*
 * For the producer's "no mark came back" warning: 1 if it is due at now
 * (a mark outstanding for after_ms, and no warning in the last
 * MARK_WARN_MS), and then it counts as given.  mark_src_warn_at: when it
 * will be due (monotonic ms), -1 while no mark is outstanding.
 */
int mark_src_warn_due(struct mark_src *s, long long now, long long after_ms);
long long mark_src_warn_at(const struct mark_src *s, long long now,
    long long after_ms);

#endif

/* stream - the lkit event stream: reading every Forward shape, writing Message mode */
#ifndef LKIT_STREAM_H
#define LKIT_STREAM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "out.h"

#define STREAM_MAX_EVENT (64u * 1024 * 1024)    /* default size limit */

/* One event; every pointer is borrowed, valid until the next read call. */
struct event {
	const char *tag;
	size_t tag_len;
	int64_t sec;
	uint32_t nsec;
	const char *rec;        /* the record: raw msgpack map bytes */
	size_t rec_len;
};

struct reader_stats {
	uint64_t bytes;         /* read from the fd, or fed */
	uint64_t events;        /* returned */
	uint64_t skipped_bytes; /* dropped by --skip-invalid */
	uint64_t skipped_places;
	uint64_t nil_records;   /* entries with a nil record, skipped */
	uint64_t scanned;       /* bytes examined for the ends of values:
				 * a small multiple of bytes, however split */
	uint64_t marks;         /* marks met: given to the reader_set_mark
				 * handler, or dropped without one */
};

enum {
	READ_EOF = 0,           /* end of input, or a stop signal */
	READ_EVENT = 1,
	READ_FRAME = 2,         /* a frame gave no event (reader_set_frame_end) */
	READ_ERR = -1,          /* bad data: reader_errmsg says where */
	READ_SYSERR = -2,       /* read failed: reader_errmsg says why */
	READ_AGAIN = -3         /* reader_next_buffered: needs more bytes */
};

struct reader;

/*
 * name is used in messages ("stdin", a path); it is copied.  fd may be -1
 * for a reader given its bytes with reader_feed or reader_space.
 */
struct reader *reader_new(int fd, const char *name);
void reader_free(struct reader *r);

/* Largest single event or frame accepted (default STREAM_MAX_EVENT). */
void reader_set_max(struct reader *r, size_t max);
/* Skip bad bytes and resynchronise instead of failing. */
void reader_set_skip_invalid(struct reader *r, int on);
/* Called before the reader blocks waiting for input: flush output here. */
void reader_set_idle(struct reader *r, void (*fn)(void *), void *arg);

/*
 * While waiting for input, also watches out_fd, the stream's output: see
 * waiter_watch_out (wait.h).  A filter ends when its reader goes away.
 */
void reader_watch_out(struct reader *r, int out_fd);
/*
 * A top-level ext value of type MARK_EXT between events is a mark
 * (mark.h): the reader calls fn(arg, p, len) with its bytes (borrowed, for
 * the call only) when it meets one, before it returns any later event or
 * value.  Without a handler marks are dropped and counted in
 * reader_stats()->marks: the safe default for network input, where a mark
 * must be neither trusted nor passed on.  A malformed mark is bad data.
 * fn must not call the reader.
 */
void reader_set_mark(struct reader *r, void (*fn)(void *arg, const char *p,
    size_t len), void *arg);
/*
 * With on, the end of a Forward or PackedForward frame that came with no
 * event (no entries, or nil records last) is reported as READ_FRAME, its
 * option in reader_frame_option, so a receiver still acks it.  Off by
 * default.
 */
void reader_set_frame_end(struct reader *r, int on);

/*
 * Returns the next event, reading as needed.  After SIGINT/SIGTERM it
 * keeps returning what arrives until the input is idle for half a second
 * (an upstream stage flushing its last events) or five seconds pass, then
 * returns READ_EOF.
 */
int reader_next(struct reader *r, struct event *ev);

/* As reader_next, but never reads: READ_AGAIN when more bytes are needed. */
int reader_next_buffered(struct reader *r, struct event *ev);

/*
 * Reads the next top-level msgpack value whole, whatever it is (lcat
 * --msgpack), but a mark, which goes to the mark handler as above.  *p
 * and *len are borrowed like an event's pointers.
 */
int reader_next_value(struct reader *r, const char **p, size_t *len);

/*
 * One read(2) into the buffer: bytes read, 0 at end of input, -1 with
 * errno (EINTR, EAGAIN on a non-blocking fd, or a real error).
 */
ssize_t reader_fill(struct reader *r);

/*
 * Bytes that do not come from the reader's fd (a TLS session, a decoder).
 * reader_space makes room for one read at the end of the buffer, compacting
 * or growing it, and returns where to write (*avail bytes fit);
 * reader_commit then adds the n bytes written there.  reader_feed copies
 * p[0..n) in; reader_feed_eof marks the end of the input.  Call these only
 * after the reader returned READ_AGAIN (or before the first read): they
 * may move the buffer, ending the life of every borrowed pointer.
 */
char *reader_space(struct reader *r, size_t *avail);
void reader_commit(struct reader *r, size_t n);
void reader_feed(struct reader *r, const void *p, size_t n);
void reader_feed_eof(struct reader *r);

/*
 * Gives back the memory of a big event or frame once the reader holds no
 * bytes (for a connection gone quiet): the buffer keeps its size otherwise,
 * so a stream of big frames reuses the same pages.
 */
void reader_trim(struct reader *r);

/*
 * Bytes of memory the reader holds now: its input buffer, the window of
 * inflated entries of a compressed frame and zlib's state while one is
 * being inflated.  For a budget across many readers (lrecv).
 */
size_t reader_mem(const struct reader *r);

/* "NAME: byte OFFSET: what was found", after READ_ERR or READ_SYSERR. */
const char *reader_errmsg(const struct reader *r);
/* The same without its "NAME: byte OFFSET: " (for a caller's own position). */
const char *reader_errwhat(const struct reader *r);
/*
 * 1 if the last READ_ERR was an event or frame larger than the limit of
 * reader_set_max (gzip entries that inflate beyond it included), else 0.
 */
int reader_too_big(const struct reader *r);
const struct reader_stats *reader_stats(const struct reader *r);
/* Stream offset of the next unread byte. */
uint64_t reader_offset(const struct reader *r);

/*
 * The option map of the frame the last event (or READ_FRAME) came from
 * (Message mode's fourth element, or the Forward option), or NULL; and
 * whether that event was the frame's last.  For acks in lrecv.
 */
const char *reader_frame_option(const struct reader *r, size_t *len);
int reader_frame_done(const struct reader *r);

/* Appends one event in Message mode: [tag, EventTime, record]. */
void event_write(struct out *o, const char *tag, size_t tag_len,
    int64_t sec, uint32_t nsec, const char *rec, size_t rec_len);

/* Appends the msgpack time: EventTime, or an int if sec is out of range. */
void event_put_time(struct buf *b, int64_t sec, uint32_t nsec);

/*
 * Splits a float time into seconds and nanoseconds, rounding away the
 * digits finer than the double can hold (1502880723.309664 gives 309664000
 * ns, not the 309664011 of its binary value).  -1 if out of range.
 */
int event_time_from_double(double d, int64_t *sec, uint32_t *nsec);

/* The current time as seconds and nanoseconds (CLOCK_REALTIME). */
void event_now(int64_t *sec, uint32_t *nsec);

#endif

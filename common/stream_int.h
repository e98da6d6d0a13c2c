/*
 * stream_int - the reader's state, shared by the files of the stream
 * library (stream.c: the reader; stream_gz.c: compressed frames).  Not for
 * programs: they see struct reader only through stream.h.
 */
#ifndef LKIT_STREAM_INT_H
#define LKIT_STREAM_INT_H

#include <stddef.h>
#include <stdint.h>
#include <zlib.h>

#include "mp.h"
#include "stream.h"
#include "wait.h"

#define READ_MIN (16 * 1024)            /* a new reader's reads */
#define READ_SIZE (128 * 1024)          /* the most it asks for at once */
#define TRIM_AT (4 * READ_SIZE)         /* reader_trim frees larger buffers */
#define ZWIN (64 * 1024)                /* window of inflated entries */
#define ZSTATE (40 * 1024)              /* zlib's inflate state and window */
#define ZWHOLE (4u << 20)               /* gzip inflated whole up to this */

struct reader {
	int fd;
	char *name;
	char *buf;
	size_t cap;
	size_t start;           /* first byte not consumed */
	size_t end;             /* end of the bytes read */
	uint64_t base;          /* stream offset of buf[0] */
	size_t max;
	size_t rsize;           /* the next read: doubles while reads fill it */
	int eof;
	int skip;
	int toobig;             /* the last error was the size limit */
	int frame_marks;        /* READ_FRAME for frames with no event */
	void (*idle)(void *);
	void *idle_arg;
	void (*mark)(void *, const char *, size_t);
	void *mark_arg;
	char err[512];
	size_t errwhat;         /* where the text after the position starts */
	struct reader_stats st;
	/* the frame being expanded (Forward, PackedForward) */
	int in_frame;
	int frame_done;
	size_t frame_start;     /* in buf */
	size_t frame_end;
	const char *tag;
	size_t tag_len;
	const char *ent;        /* next entry (in buf, or in z) */
	const char *ent_end;
	uint32_t ent_left;      /* Forward: entries left */
	int packed;
	uint32_t ent_index;
	const char *opt;
	size_t opt_len;
	/*
	 * a compressed frame: inflated whole into z (zstd; gzip up to
	 * ZWHOLE, with libdeflate), else a window at a time as entries go
	 */
	int gz;                 /* the entries are in z */
	int codec;              /* C_GZIP or C_ZSTD */
	int zinit;              /* zs holds zlib's state */
	int zend;               /* the last member ended with the input */
	int zerr;               /* ZE_*: met before the bytes in z ran out */
	int zheld;              /* zbyte was inflated ahead, not yet in z */
	char zbyte;
	const char *zmsg;       /* the library's words for ZE_BAD */
	size_t zout;            /* bytes inflated from this frame */
	z_stream zs;
	struct buf z;           /* the window: inflated entries */
	/* a top-level value seen incomplete: its scan, resumed as bytes come */
	uint64_t scan_at;       /* its stream offset, or UINT64_MAX */
	struct mp_scan scan;
	/* skipping */
	int resyncing;
	uint64_t resync_from;
	struct waiter wait;
};

enum { ZE_BAD = 1, ZE_TRUNC, ZE_BIG };
enum { C_GZIP = 1, C_ZSTD };

/* stream.c: an error at byte `at` of the stream; returns READ_ERR. */
int reader_fail(struct reader *r, const char *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* stream.c: mp_skip, counting the bytes it walked in r->st.scanned. */
int reader_skip_count(struct reader *r, const char **p, const char *end,
    const char **bad);

/* stream_gz.c: a CompressedPackedForward frame's entries, inflated whole
 * or a window at a time. */
int option_codec(const char *p, const char *end);
int zstart(struct reader *r, const char *src, size_t len, const char *at,
    int codec);
void zpeek(struct reader *r);
int zentry(struct reader *r);

#endif

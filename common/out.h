/* out - buffered output in large writes, flushed when input goes idle */
#ifndef LKIT_OUT_H
#define LKIT_OUT_H

#include <stdint.h>

#include "buf.h"

#define OUT_BLOCK (256 * 1024)  /* bytes gathered before a write */

struct out {
	int fd;
	const char *name;       /* for messages; borrowed */
	struct buf b;
	uint64_t bytes;         /* written so far */
};

void out_init(struct out *o, int fd, const char *name);
void out_free(struct out *o);

/*
 * Writes everything buffered.  Like the x* allocators it does not return
 * on failure: a closed downstream (EPIPE) ends the program quietly with
 * status 141, as SIGPIPE would, after the atexit handlers run (so state
 * is saved); any other error dies with EX_SYS naming o->name.
 */
void out_flush(struct out *o);

/* As out_flush, but returns -1 with errno set instead of dying. */
int out_flush_try(struct out *o);

/* Idle hook for reader_set_idle: flushes the struct out given as arg. */
void out_flush_cb(void *arg);

static inline void
out_put(struct out *o, const void *p, size_t n)
{
	buf_put(&o->b, p, n);
	if (o->b.len >= OUT_BLOCK)
		out_flush(o);
}

/* Call after appending to o->b directly. */
static inline void
out_check(struct out *o)
{
	if (o->b.len >= OUT_BLOCK)
		out_flush(o);
}

#endif

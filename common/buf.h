/* buf - a growable byte buffer, reused across events (reset len, never free) */
#ifndef LKIT_BUF_H
#define LKIT_BUF_H

#include <stddef.h>
#include <string.h>

struct buf {
	char *p;
	size_t len;
	size_t cap;
};

/* Makes room for need more bytes; dies with EX_SYS when out of memory. */
void buf_grow(struct buf *b, size_t need);
void buf_free(struct buf *b);

static inline void
buf_reserve(struct buf *b, size_t n)
{
	if (b->cap - b->len < n)
		buf_grow(b, n);
}

static inline void
buf_put(struct buf *b, const void *p, size_t n)
{
	buf_reserve(b, n);
	if (n)
		memcpy(b->p + b->len, p, n);
	b->len += n;
}

static inline void
buf_putc(struct buf *b, int c)
{
	buf_reserve(b, 1);
	b->p[b->len++] = (char)c;
}

static inline void
buf_puts(struct buf *b, const char *s)
{
	buf_put(b, s, strlen(s));
}

#endif

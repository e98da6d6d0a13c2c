/* buf - growth and release of struct buf */
#include <stdlib.h>

#include "buf.h"
#include "err.h"

void
buf_grow(struct buf *b, size_t need)
{
	size_t cap = b->cap ? b->cap : 256;

	while (cap - b->len < need) {
		if (cap > ((size_t)-1) / 2)
			die(EX_SYS, "out of memory");
		cap *= 2;
	}
	b->p = xrealloc(b->p, cap);
	b->cap = cap;
}

void
buf_free(struct buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

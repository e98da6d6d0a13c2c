/* be - big-endian integers in bytes: msgpack's, the Forward stream's,
 * lbuffer's block headers */
#ifndef LKIT_BE_H
#define LKIT_BE_H

#include <stdint.h>

static inline uint16_t
be16_get(const void *p)
{
	const unsigned char *u = p;

	return (uint16_t)(u[0] << 8 | u[1]);
}

static inline uint32_t
be32_get(const void *p)
{
	const unsigned char *u = p;

	return (uint32_t)u[0] << 24 | (uint32_t)u[1] << 16 |
	    (uint32_t)u[2] << 8 | u[3];
}

static inline uint64_t
be64_get(const void *p)
{
	return (uint64_t)be32_get(p) << 32 |
	    be32_get((const unsigned char *)p + 4);
}

static inline void
be32_put(void *p, uint32_t v)
{
	unsigned char *u = p;

	u[0] = v >> 24;
	u[1] = v >> 16;
	u[2] = v >> 8;
	u[3] = v;
}

#endif

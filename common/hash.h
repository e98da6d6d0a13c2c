/* hash - the two string hashes: FNV-1a 64 for names kept in a table, and
 * FNV-1a 32 with a final mix for placing keys on a ring of servers */
#ifndef LKIT_HASH_H
#define LKIT_HASH_H

#include <stddef.h>
#include <stdint.h>

/* FNV-1a, 64 bits: chunk keys and tags in lbuffer's tables. */
static inline uint64_t
hash_fnv64(const char *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	while (n--) {
		h ^= (unsigned char)*p++;
		h *= 0x100000001b3ULL;
	}
	return h;
}

/*
 * FNV-1a, 32 bits, then murmur3's finaliser so that near keys land far
 * apart: lforward's key ring and request slots.
 */
static inline uint32_t
hash_fnv32_mix(const char *p, size_t n)
{
	uint32_t h = 2166136261u;

	while (n--)
		h = (h ^ (unsigned char)*p++) * 16777619u;
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	return h ^ (h >> 16);
}

#endif

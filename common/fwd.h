/* fwd - Forward protocol v1 pieces shared by lforward and lrecv */
#ifndef LKIT_FWD_H
#define LKIT_FWD_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/*
 * The byte layouts follow what Fluentd 1.18 puts on the wire (see
 * shared/vectors/forward): HELO, PING, PONG and the ack map in their
 * shortest msgpack forms, PackedForward as out_forward writes it.
 */

#define FWD_NONCE_LEN 16        /* HELO nonce and user-auth salt */
#define FWD_SALT_LEN 32         /* PING salt: 32 hex characters */
#define FWD_DIGEST_LEN 128      /* hex SHA-512 */
#define FWD_CHUNK_LEN 25        /* base64 of 16 bytes, then '\n' */

enum { FWD_OK = 0, FWD_SHORT = -1, FWD_BAD = -2 };

/* A borrowed string: points into the bytes parsed. */
struct fwd_str {
	const char *p;
	size_t len;
};

struct fwd_helo {
	struct fwd_str nonce;
	struct fwd_str auth;    /* user-auth salt, or empty */
	int keepalive;
};

struct fwd_ping {
	struct fwd_str host;    /* client self hostname */
	struct fwd_str salt;
	struct fwd_str digest;  /* hex SHA-512(salt host nonce key) */
	struct fwd_str user;
	struct fwd_str pass;    /* hex SHA-512(auth user password), or "" */
};

struct fwd_pong {
	int ok;
	struct fwd_str reason;
	struct fwd_str host;    /* server self hostname */
	struct fwd_str digest;  /* hex SHA-512(salt host nonce key) */
};

/*
 * Lowercase hex SHA-512 of the concatenation a b c d (d may be NULL):
 * the shared-key digest is (salt, hostname, nonce, key), the password
 * digest (auth salt, username, password, NULL).  hex gets 128 characters
 * and a NUL.
 */
void fwd_digest(char hex[FWD_DIGEST_LEN + 1], const struct fwd_str *a,
    const struct fwd_str *b, const struct fwd_str *c, const struct fwd_str *d);

/* Fills p with n random bytes (getrandom(2), else OpenSSL's); -1 on failure. */
int fwd_random(void *p, size_t n);

/* A fresh PING salt: 32 lowercase hex characters and a NUL. */
int fwd_salt(char salt[FWD_SALT_LEN + 1]);

/* A fresh chunk id as Fluentd makes it: base64 of 16 random bytes, '\n'. */
int fwd_chunk_id(char id[FWD_CHUNK_LEN]);

/* Appends ["HELO", {"nonce": bin, "auth": bin, "keepalive": bool}]. */
void fwd_helo_put(struct buf *b, const struct fwd_helo *h);
/* Appends ["PING", host, salt, digest, user, pass]. */
void fwd_ping_put(struct buf *b, const struct fwd_ping *pg);
/* Appends ["PONG", ok, reason, host, digest]. */
void fwd_pong_put(struct buf *b, const struct fwd_pong *po);
/* Appends {"ack": chunk}, chunk being the raw msgpack value to echo. */
void fwd_ack_put(struct buf *b, const char *chunk, size_t len);

/*
 * Parse one message from p[0..len): FWD_OK and the bytes it used in *used,
 * FWD_SHORT when more bytes are needed, FWD_BAD when it is not that
 * message.  Strings are borrowed from p.
 */
int fwd_helo_parse(const char *p, size_t len, size_t *used, struct fwd_helo *h);
int fwd_ping_parse(const char *p, size_t len, size_t *used, struct fwd_ping *pg);
int fwd_pong_parse(const char *p, size_t len, size_t *used, struct fwd_pong *po);
/* {"ack": str}: *chunk is the string's bytes. */
int fwd_ack_parse(const char *p, size_t len, size_t *used,
    struct fwd_str *chunk);

/*
 * Finds the value of "chunk" in the option map opt[0..len) (raw msgpack
 * bytes, borrowed) in *val; returns 1 if present, 0 if not.
 */
int fwd_option_chunk(const char *opt, size_t len, struct fwd_str *val);

/* Appends one entry [time, record]: EventTime, or integer seconds. */
void fwd_entry_put(struct buf *b, int64_t sec, uint32_t nsec,
    const char *rec, size_t rec_len, int time_as_integer);

/*
 * The head of a PackedForward request as out_forward writes it:
 * fixarray 3, the tag, then a str32 header for n bytes of entries.
 */
void fwd_packed_head(struct buf *b, const char *tag, size_t tag_len, size_t n);

/*
 * The option map that ends the request: {"size": events, "compressed":
 * "gzip", "zstd" or "text", "chunk": id} (chunk left out when id is NULL);
 * compressed is FWD_TEXT, FWD_GZIP or FWD_ZSTD.
 */
enum { FWD_TEXT, FWD_GZIP, FWD_ZSTD };
void fwd_packed_option(struct buf *b, uint64_t events, int compressed,
    const char *id, size_t id_len);

/* Appends p[0..len) as one gzip member (gz_compress); -1 on failure. */
int fwd_gzip(struct buf *out, const char *p, size_t len, int level);

#endif

/*
 * auth.h: who is calling.  API tokens (made, hashed), the rules for key
 * names and labels, and the request path's authentication and limits.
 *
 * A token is "idm_" and 43 base64url characters (32 bytes from
 * randombytes_buf, no padding).  Only its BLAKE2b-256 hash is stored; the
 * token itself is shown once and never logged.
 */
#ifndef IDMINT_AUTH_H
#define IDMINT_AUTH_H

#include <stddef.h>

#include "response.h"

#define TOKEN_PREFIX	"idm_"
#define TOKEN_RAW_LEN	32
#define TOKEN_STR_LEN	47		/* 4 + 43, without the NUL */
#define TOKEN_HASH_LEN	32

#define USER_MAX	64		/* usernames: 1..64 of a-z 0-9 . _ - */
#define LABEL_MAX	256		/* bytes of UTF-8, no control characters */

struct ctx;

/* ---- tokens and names ------------------------------------------------- */

/* A fresh token in out (TOKEN_STR_LEN + 1 bytes) and its hash.
 * -1 only if libsodium cannot start. */
int	 token_new(char *out, unsigned char hash[TOKEN_HASH_LEN]);
/* The hash of any presented string (no format check: a malformed token
 * costs what a good one does). */
void	 token_hash(const char *, size_t, unsigned char hash[TOKEN_HASH_LEN]);

/*
 * Lowercase and check a username: 1..64 of a-z 0-9 . _ - (upper case is
 * folded).  Returns 0, or -1 with a message naming the first bad
 * character, e.g. `invalid character '!' in username "bo!b"`.
 */
int	 user_norm(const char *in, size_t len, char out[USER_MAX + 1],
	    char *err, size_t errlen);
/* A label: at most LABEL_MAX bytes of UTF-8 without control characters. */
int	 label_check(const char *, char *err, size_t errlen);
/* A name for a message: quoted, non-printing bytes as \xNN, cut short. */
void	 name_quote(const char *s, size_t len, char *out, size_t outlen);

/* ---- the request path ------------------------------------------------- */

/*
 * Authenticate, then apply the key's limits.  ST_OK with x->key set, or
 * the status to answer with (401, 429, 503), its message set.
 */
enum status auth_user(struct ctx *, const char *user, size_t ulen,
	    const char *token, size_t tlen);
/* The token from X-Oanor-Key, X-Api-Key or Authorization: Bearer. */
enum status auth_header(struct ctx *);
/*
 * After the handler: count a 200 toward usage, give a refused call's
 * reservation back, and state the limits in RateLimit-* headers.
 */
void	 auth_finish(struct ctx *);

#endif

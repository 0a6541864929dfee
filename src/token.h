/*
 * token.h: API tokens.  A token is "idm_" and 43 base64url characters
 * (32 bytes from randombytes_buf, no padding).  Only its BLAKE2b-256 hash
 * is stored; the token itself is shown once and never logged.
 */
#ifndef IDMINT_TOKEN_H
#define IDMINT_TOKEN_H

#include <stddef.h>

#define TOKEN_PREFIX	"idm_"
#define TOKEN_RAW_LEN	32
#define TOKEN_STR_LEN	47		/* 4 + 43, without the NUL */
#define TOKEN_HASH_LEN	32

/* A fresh token in out (TOKEN_STR_LEN + 1 bytes) and its hash.
 * -1 only if libsodium cannot start. */
int	 token_new(char *out, unsigned char hash[TOKEN_HASH_LEN]);
/* The hash of any presented string (no format check: callers hash even
 * malformed tokens, so a bad token costs what a good one does). */
void	 token_hash(const char *, size_t, unsigned char hash[TOKEN_HASH_LEN]);
/* 1 if s looks like a token (prefix, length, alphabet), else 0. */
int	 token_wellformed(const char *s, size_t len);

#endif

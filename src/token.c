/*
 * token.c: making and hashing API tokens.
 */
#include "config.h"

#include <string.h>

#include <sodium.h>

#include "token.h"

#define B64_VARIANT sodium_base64_VARIANT_URLSAFE_NO_PADDING

int
token_new(char *out, unsigned char hash[TOKEN_HASH_LEN])
{
	unsigned char	 raw[TOKEN_RAW_LEN];
	char		 b64[sodium_base64_ENCODED_LEN(TOKEN_RAW_LEN,
			     B64_VARIANT)];

	if (sodium_init() < 0)
		return -1;
	randombytes_buf(raw, sizeof(raw));
	sodium_bin2base64(b64, sizeof(b64), raw, sizeof(raw), B64_VARIANT);
	memcpy(out, TOKEN_PREFIX, 4);
	memcpy(out + 4, b64, TOKEN_STR_LEN - 4);
	out[TOKEN_STR_LEN] = '\0';
	token_hash(out, TOKEN_STR_LEN, hash);
	sodium_memzero(raw, sizeof(raw));
	sodium_memzero(b64, sizeof(b64));
	return 0;
}

void
token_hash(const char *s, size_t len, unsigned char hash[TOKEN_HASH_LEN])
{
	crypto_generichash(hash, TOKEN_HASH_LEN, (const unsigned char *)s,
	    len, NULL, 0);
}

int
token_wellformed(const char *s, size_t len)
{
	size_t	 i;
	char	 c;

	if (len != TOKEN_STR_LEN || memcmp(s, TOKEN_PREFIX, 4) != 0)
		return 0;
	for (i = 4; i < len; i++) {
		c = s[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return 0;
	}
	return 1;
}

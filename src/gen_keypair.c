/*
 * gen_keypair.c: a fresh key pair, Ed25519 (signing) or X25519 (key
 * exchange), as lowercase hex in libsodium's own layouts.
 */
#include "config.h"

#include <string.h>

#include <sodium.h>

#include "gen.h"

static int
keypair_generate(const struct params *p, struct gen_result *res)
{
	unsigned char	 pk[crypto_sign_PUBLICKEYBYTES];
	unsigned char	 sk[crypto_sign_SECRETKEYBYTES];
	struct field	 f;
	size_t		 sklen;

	param_get(p, "algorithm", &f);
	if (f.kind == FIELD_ABSENT ||
	    (f.kind == FIELD_STRING && f.len == 7 &&
	    memcmp(f.str, "ed25519", 7) == 0)) {
		crypto_sign_keypair(pk, sk);
		sklen = crypto_sign_SECRETKEYBYTES;
	} else if (f.kind == FIELD_STRING && f.len == 6 &&
	    memcmp(f.str, "x25519", 6) == 0) {
		crypto_box_keypair(pk, sk);
		sklen = crypto_box_SECRETKEYBYTES;
	} else
		return gen_error(res, 400,
		    "Algorithm must be ed25519 or x25519");
	buf_add_hex(&res->id, pk, sizeof(pk));
	buf_add_hex(&res->priv, sk, sklen);
	/* The caller wipes priv; the copy on our stack is ours to wipe. */
	sodium_memzero(sk, sizeof(sk));
	return gen_done(res);
}

const struct generator gen_keypair = { "keypair", keypair_generate };

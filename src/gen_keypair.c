/*
 * gen_keypair.c: a fresh key pair, Ed25519 (signing) or X25519 (key
 * exchange), as lowercase hex in libsodium's own layouts.
 */
#include "config.h"

#include <string.h>

#include <sodium.h>

#include "gen.h"

enum { ALG_ED25519, ALG_X25519 };
static const char *const algorithms[] = { "ed25519", "x25519", NULL };

static enum status
keypair_generate(const struct gen_args *a, struct gen_result *res)
{
	unsigned char	 pk[crypto_sign_PUBLICKEYBYTES];
	unsigned char	 sk[crypto_sign_SECRETKEYBYTES];
	size_t		 sklen;

	if (a->num[0] == ALG_ED25519) {
		crypto_sign_keypair(pk, sk);
		sklen = crypto_sign_SECRETKEYBYTES;
	} else {
		crypto_box_keypair(pk, sk);
		sklen = crypto_box_SECRETKEYBYTES;
	}
	buf_add_hex(&res->id, pk, sizeof(pk));
	buf_add_hex(&res->priv, sk, sklen);
	/* The caller wipes priv; the copy on our stack is ours to wipe. */
	sodium_memzero(sk, sizeof(sk));
	return gen_done(res);
}

const struct generator gen_keypair = { "keypair", keypair_generate, {
	{ .name = "algorithm", .kind = GOPT_CHOICE, .choices = algorithms,
	  .bad = "Algorithm must be ed25519 or x25519" },
}, 0 };

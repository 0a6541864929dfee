/*
 * gen_cuid.c: cuid2-shaped IDs, a random lowercase letter then base-36
 * digits of a hash of the time, a counter, the host and fresh randomness.
 */
#include "config.h"

#include <string.h>

#include <sodium.h>

#include "clock.h"
#include "gen.h"
#include "rnd.h"

#define CUID_MIN	2
#define CUID_MAX	32
#define HASH_LIMBS	8		/* 256 bits of BLAKE2b */
#define POW36_5		60466176u	/* 36^5, the most digits per pass */

/*
 * Starts at a random point, as cuid2's does, so two processes that
 * fork from one parent do not walk in step.
 */
static struct {
	uint64_t	 n;
	int		 seeded;
} counter;

/*
 * The low digits of a 256-bit hash: 31 digits are ~160 bits, so the
 * number's excess over a multiple of 36^31 skews them by 2^-96 at most.
 */
static void
base36(uint32_t limb[HASH_LIMBS], char *out, size_t n)
{
	static const char digits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
	uint64_t	 rem;
	uint32_t	 r;
	size_t		 i, k;

	while (n > 0) {
		/* Divide the whole number by 36^5 at once: 5 digits a pass. */
		rem = 0;
		for (i = 0; i < HASH_LIMBS; i++) {
			rem = rem << 32 | limb[i];
			limb[i] = (uint32_t)(rem / POW36_5);
			rem %= POW36_5;
		}
		r = (uint32_t)rem;
		for (k = 0; k < 5 && n > 0; k++, n--) {
			*out++ = digits[r % 36];
			r /= 36;
		}
	}
}

static enum status
cuid_generate(const struct gen_args *a, struct gen_result *res)
{
	crypto_generichash_state st;
	unsigned char	 h[HASH_LIMBS * 4], rnd[40], first;
	uint32_t	 limb[HASH_LIMBS];
	uint64_t	 now;
	char		 out[CUID_MAX];
	int64_t		 len = a->num[0];
	size_t		 i;

	if (!counter.seeded) {
		counter.n = randombytes_uniform(476782367);
		counter.seeded = 1;
	}
	counter.n++;
	now = now_ms();
	/* One draw: 32 bytes for the hash, the rest for the letter. */
	rnd_bytes(rnd, sizeof(rnd));

	crypto_generichash_init(&st, NULL, 0, sizeof(h));
	crypto_generichash_update(&st, (unsigned char *)&now, sizeof(now));
	crypto_generichash_update(&st, (unsigned char *)&counter.n,
	    sizeof(counter.n));
	crypto_generichash_update(&st, gen_setup.fingerprint,
	    sizeof(gen_setup.fingerprint));
	crypto_generichash_update(&st, rnd, 32);
	crypto_generichash_final(&st, h, sizeof(h));
	for (i = 0; i < HASH_LIMBS; i++)
		limb[i] = (uint32_t)h[4 * i] << 24 | (uint32_t)h[4 * i + 1] << 16 |
		    (uint32_t)h[4 * i + 2] << 8 | h[4 * i + 3];

	/*
	 * The letter is drawn apart from the hash, so it is exactly uniform:
	 * a byte below 234 (9 * 26), else the next; past 8 misses, anew.
	 */
	for (i = 32; i < sizeof(rnd) && rnd[i] >= 234; i++)
		;
	if (i < sizeof(rnd))
		first = rnd[i] % 26;
	else
		gen_uniform(&first, 1, 26);
	out[0] = (char)('a' + first);
	base36(limb, out + 1, (size_t)len - 1);
	buf_add(&res->id, out, (size_t)len);
	return gen_done(res);
}

const struct generator gen_cuid = { "cuid", cuid_generate, {
	{ .name = "length", .kind = GOPT_INT, .min = CUID_MIN, .max = CUID_MAX,
	  .def = 24 },
}, 0 };

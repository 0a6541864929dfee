/*
 * bignum.h: just enough unsigned big-integer arithmetic for Hashids.
 *
 * hashids.js 2.3 takes numbers of any size through BigInt, so ours must
 * too; the hot path stays on uint64_t and reaches for this only past
 * 2^64.  Base 2^32 limbs make division by a small number (the alphabet
 * length, a separator modulus) one pass of 64-bit operations.
 *
 * bn_limb_ops counts the limbs every call below has walked, since the
 * process started: one addition per call, so it stays on in production,
 * and a unit test bounds Hashids decode's cost with it (no timing).
 */
#ifndef IDMINT_BIGNUM_H
#define IDMINT_BIGNUM_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

struct bignum {
	uint32_t	*d;	/* limbs, least significant first */
	size_t		 n;	/* limbs in use, d[n - 1] != 0; 0 means zero */
	size_t		 cap;
};

extern uint64_t	 bn_limb_ops;

void	 bn_init(struct bignum *);
void	 bn_free(struct bignum *);
int	 bn_set_u64(struct bignum *, uint64_t);
int	 bn_copy(struct bignum *, const struct bignum *);
/* Digits only (no sign, at least one); -1 on a bad digit or no memory. */
int	 bn_from_dec(struct bignum *, const char *, size_t);
int	 bn_is_zero(const struct bignum *);
/* -1, 0 or 1 as a is less than, equal to or greater than b. */
int	 bn_cmp(const struct bignum *a, const struct bignum *b);
/* 0 and the value in *v if it fits in 64 bits, else -1. */
int	 bn_to_u64(const struct bignum *, uint64_t *);
/* The remainder of division by m (m > 0; 0 gives 0). */
uint32_t bn_mod(const struct bignum *, uint32_t m);
/* Divide in place by m (m > 0) and return the remainder. */
uint32_t bn_divmod(struct bignum *, uint32_t m);
/* b = b * m + a; -1 on no memory. */
int	 bn_muladd(struct bignum *, uint32_t m, uint32_t a);
/* Append the value in decimal, or lowercase hex, without leading zeros. */
int	 bn_to_dec(const struct bignum *, struct buf *);
int	 bn_to_hex(const struct bignum *, struct buf *);

#endif

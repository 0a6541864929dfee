/*
 * bignum.c: unsigned big integers in base 2^32 for Hashids.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bignum.h"

#define DEC_BASE	1000000000U	/* 10^9: the most decimal digits in a limb */
#define DEC_DIGITS	9

uint64_t	 bn_limb_ops;

void
bn_init(struct bignum *b)
{
	memset(b, 0, sizeof(*b));
}

void
bn_free(struct bignum *b)
{
	free(b->d);
	bn_init(b);
}

static int
bn_grow(struct bignum *b, size_t need)
{
	uint32_t *p;
	size_t	  ncap;

	if (need <= b->cap)
		return 0;
	ncap = b->cap ? b->cap : 4;
	while (ncap < need) {
		if (ncap > SIZE_MAX / 2 / sizeof(uint32_t))
			return -1;
		ncap *= 2;
	}
	if ((p = realloc(b->d, ncap * sizeof(uint32_t))) == NULL)
		return -1;
	b->d = p;
	b->cap = ncap;
	return 0;
}

static void
bn_trim(struct bignum *b)
{
	while (b->n > 0 && b->d[b->n - 1] == 0)
		b->n--;
}

int
bn_set_u64(struct bignum *b, uint64_t v)
{
	if (bn_grow(b, 2) == -1)
		return -1;
	b->d[0] = (uint32_t)v;
	b->d[1] = (uint32_t)(v >> 32);
	b->n = 2;
	bn_trim(b);
	return 0;
}

int
bn_copy(struct bignum *dst, const struct bignum *src)
{
	if (bn_grow(dst, src->n) == -1)
		return -1;
	bn_limb_ops += src->n;
	if (src->n > 0)
		memcpy(dst->d, src->d, src->n * sizeof(uint32_t));
	dst->n = src->n;
	return 0;
}

int
bn_is_zero(const struct bignum *b)
{
	return b->n == 0;
}

int
bn_cmp(const struct bignum *a, const struct bignum *b)
{
	size_t	 i;

	if (a->n != b->n)
		return a->n < b->n ? -1 : 1;
	bn_limb_ops += a->n;
	for (i = a->n; i > 0; i--)
		if (a->d[i - 1] != b->d[i - 1])
			return a->d[i - 1] < b->d[i - 1] ? -1 : 1;
	return 0;
}

int
bn_to_u64(const struct bignum *b, uint64_t *v)
{
	if (b->n > 2)
		return -1;
	*v = 0;
	if (b->n > 1)
		*v = (uint64_t)b->d[1] << 32;
	if (b->n > 0)
		*v |= b->d[0];
	return 0;
}

uint32_t
bn_mod(const struct bignum *b, uint32_t m)
{
	uint64_t r = 0;
	size_t	 i;

	if (m == 0)
		return 0;
	bn_limb_ops += b->n;
	for (i = b->n; i > 0; i--)
		r = ((r << 32) | b->d[i - 1]) % m;
	return (uint32_t)r;
}

uint32_t
bn_divmod(struct bignum *b, uint32_t m)
{
	uint64_t r = 0, cur;
	size_t	 i;

	if (m == 0)
		return 0;
	bn_limb_ops += b->n;
	for (i = b->n; i > 0; i--) {
		cur = (r << 32) | b->d[i - 1];
		b->d[i - 1] = (uint32_t)(cur / m);
		r = cur % m;
	}
	bn_trim(b);
	return (uint32_t)r;
}

int
bn_muladd(struct bignum *b, uint32_t m, uint32_t a)
{
	uint64_t carry = a, cur;
	size_t	 i;

	bn_limb_ops += b->n;
	for (i = 0; i < b->n; i++) {
		cur = (uint64_t)b->d[i] * m + carry;
		b->d[i] = (uint32_t)cur;
		carry = cur >> 32;
	}
	if (carry != 0) {
		if (bn_grow(b, b->n + 1) == -1)
			return -1;
		b->d[b->n++] = (uint32_t)carry;
	}
	return 0;
}

int
bn_from_dec(struct bignum *b, const char *s, size_t len)
{
	uint32_t chunk, scale;
	size_t	 i, j, k, first;

	b->n = 0;
	if (len == 0)
		return -1;
	/* A short first chunk, then whole chunks of nine digits. */
	first = len % DEC_DIGITS ? len % DEC_DIGITS : DEC_DIGITS;
	for (i = 0; i < len; i += k) {
		k = i == 0 ? first : DEC_DIGITS;
		chunk = 0;
		scale = 1;
		for (j = 0; j < k; j++) {
			if (s[i + j] < '0' || s[i + j] > '9')
				return -1;
			chunk = chunk * 10 + (uint32_t)(s[i + j] - '0');
			scale *= 10;
		}
		if (bn_muladd(b, scale, chunk) == -1)
			return -1;
	}
	return 0;
}

int
bn_to_dec(const struct bignum *b, struct buf *out)
{
	struct bignum	 t;
	uint32_t	*chunk;
	size_t		 n = 0, max;
	char		 tmp[16];
	int		 rc = -1;

	if (b->n == 0) {
		buf_addc(out, '0');
		return out->err ? -1 : 0;
	}
	/* Each 32-bit limb holds less than 10 decimal digits: 2 chunks. */
	if (b->n > SIZE_MAX / 2 / sizeof(uint32_t))
		return -1;
	max = b->n * 2;
	bn_init(&t);
	if ((chunk = malloc(max * sizeof(uint32_t))) == NULL ||
	    bn_copy(&t, b) == -1)
		goto out;
	do {
		chunk[n++] = bn_divmod(&t, DEC_BASE);
	} while (t.n > 0 && n < max);
	snprintf(tmp, sizeof(tmp), "%u", (unsigned)chunk[--n]);
	buf_adds(out, tmp);
	while (n > 0) {
		snprintf(tmp, sizeof(tmp), "%09u", (unsigned)chunk[--n]);
		buf_add(out, tmp, DEC_DIGITS);
	}
	rc = out->err ? -1 : 0;
out:
	free(chunk);
	bn_free(&t);
	return rc;
}

int
bn_to_hex(const struct bignum *b, struct buf *out)
{
	char	 tmp[16];
	size_t	 i;

	if (b->n == 0) {
		buf_addc(out, '0');
		return out->err ? -1 : 0;
	}
	bn_limb_ops += b->n;
	snprintf(tmp, sizeof(tmp), "%x", (unsigned)b->d[b->n - 1]);
	buf_adds(out, tmp);
	for (i = b->n - 1; i > 0; i--) {
		snprintf(tmp, sizeof(tmp), "%08x", (unsigned)b->d[i - 1]);
		buf_add(out, tmp, 8);
	}
	return out->err ? -1 : 0;
}

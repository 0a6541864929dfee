/*
 * bench_hashids.c: in-process Hashids encodes and decodes per second.
 *
 * Figures, not a test: the default alphabet with [1,2,3] and a 24-digit
 * ObjectId through encode-hex and decode-hex, the cache's cost for a
 * salted set-up, and decodes of 4,096-character hashes: one number (past
 * the cap, hashids.h) and numbers of 999 digits (at the cap).
 * Usage: bench_hashids [seconds per case, default 0.5].
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bignum.h"
#include "buf.h"
#include "hashids.h"

#define OBJECTID	"507f1f77bcf86cd799439011"

enum op { ENC_U64, ENC_STR, DEC, ENC_HEX, DEC_HEX, GET_ENC, DEC_LONG,
    DEC_CAP };

struct bcase {
	const char	*name;
	enum op		 op;
};

static double	 budget = 0.5;
static size_t	 sink;
static struct buf long_hash, cap_hash;

static double
now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * 44^4095 - 1 (4,096 characters: 44 digits in the default alphabet), and
 * six numbers of 999 nines (about 3,700 characters).
 */
static int
long_hashes(const struct hashids *h)
{
	struct bignum	 b;
	struct buf	 num;
	const char	*p[6];
	size_t		 len[6], i;
	int		 rc;

	bn_init(&b);
	buf_init(&num, 0);
	for (i = 0; i < 4095; i++)
		bn_muladd(&b, 44, 43);
	bn_to_dec(&b, &num);
	p[0] = num.data;
	len[0] = num.len;
	rc = hashids_encode(h, p, len, 1, 0, &long_hash);
	buf_reset(&num);
	for (i = 0; i < 999; i++)
		buf_addc(&num, '9');
	for (i = 0; i < 6; i++) {
		p[i] = num.data;
		len[i] = num.len;
	}
	if (rc == HASHIDS_OK)
		rc = hashids_encode(h, p, len, 6, 0, &cap_hash);
	bn_free(&b);
	buf_free(&num);
	return rc == HASHIDS_OK ? 0 : -1;
}

static void
one(enum op op, const struct hashids *h, struct buf *out, const char *hash,
    const char *hexhash)
{
	static const uint64_t	 nums[] = { 1, 2, 3 };
	static const char	*strs[] = { "1", "2", "3" };
	static const size_t	 lens[] = { 1, 1, 1 };
	const struct hashids	*c;

	buf_reset(out);
	switch (op) {
	case ENC_U64:
		hashids_encode_u64(h, nums, 3, 0, out);
		break;
	case ENC_STR:
		hashids_encode(h, strs, lens, 3, 0, out);
		break;
	case DEC:
		hashids_decode(h, hash, strlen(hash), 0, out);
		break;
	case ENC_HEX:
		hashids_encode_hex(h, OBJECTID, sizeof(OBJECTID) - 1, 0, out);
		break;
	case DEC_HEX:
		hashids_decode_hex(h, hexhash, strlen(hexhash), 0, out);
		break;
	case GET_ENC:
		hashids_get(&c, "my-salt", 7, NULL, 0, NULL);
		hashids_encode_u64(c, nums, 3, 0, out);
		break;
	case DEC_LONG:
		hashids_decode(h, long_hash.data, long_hash.len, 0, out);
		break;
	case DEC_CAP:
		hashids_decode(h, cap_hash.data, cap_hash.len, 0, out);
		break;
	}
	sink += out->len;
}

int
main(int argc, char *argv[])
{
	static const struct bcase cases[] = {
		{ "encode [1,2,3] (uint64_t)", ENC_U64 },
		{ "encode [1,2,3] (strings)", ENC_STR },
		{ "decode o2fXhV", DEC },
		{ "encode-hex " OBJECTID, ENC_HEX },
		{ "decode-hex (ObjectId hash)", DEC_HEX },
		{ "get(salt) + encode [1,2,3]", GET_ENC },
		{ "decode 4,096 chars, 1 number", DEC_LONG },
		{ "decode 4,096 chars, at the cap", DEC_CAP },
	};
	const struct hashids *h;
	struct buf	 out, hexhash;
	double		 t0, t;
	size_t		 i, k, n;

	if (argc > 1)
		budget = atof(argv[1]);
	buf_init(&out, 0);
	buf_init(&hexhash, 0);
	buf_init(&long_hash, 0);
	buf_init(&cap_hash, 0);
	if (hashids_get(&h, "", 0, NULL, 0, NULL) != HASHIDS_OK ||
	    hashids_encode_hex(h, OBJECTID, sizeof(OBJECTID) - 1, 0,
	    &hexhash) != HASHIDS_OK || long_hashes(h) == -1)
		return 1;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		n = 0;
		t0 = now();
		do {
			for (k = 0; k < 1000; k++)
				one(cases[i].op, h, &out, "o2fXhV", hexhash.data);
			n += 1000;
		} while ((t = now() - t0) < budget);
		printf("%-32s %12.0f/s  (%.40s)\n", cases[i].name,
		    (double)n / t, out.len ? buf_cstr(&out) : "invalid");
	}
	buf_free(&out);
	buf_free(&hexhash);
	buf_free(&long_hash);
	buf_free(&cap_hash);
	hashids_cache_clear();
	return sink == 0;
}

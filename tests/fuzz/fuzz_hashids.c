/*
 * fuzz_hashids.c: libFuzzer target for Hashids decode (and encode).
 *
 * Input: 2 bytes of min_length, 1 byte of flags, then salt, alphabet and
 * hash separated by 0xff bytes (never valid in UTF-8, so no field loses
 * anything).  Flags bit 0: default alphabet; bit 1: the hash field is a
 * comma-separated list of numbers to encode first; bit 2: go through
 * the cache.  Whatever decodes as valid must re-encode to the same hash,
 * and whatever encodes must decode back to its numbers (unless past the
 * cap).  Decode's linear check must agree with the oracle, hashids.js's
 * own check (hashids.h), on every hash within the cap.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "hashids.h"

#define MAX_NUMS	256

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static size_t
field(const char **p, const char *end, const char **start)
{
	const char *q = *p;

	*start = q;
	while (q < end && (unsigned char)*q != 0xff)
		q++;
	*p = q < end ? q + 1 : q;
	return (size_t)(q - *start);
}

static size_t
split(const char *s, size_t len, const char **p, size_t *l)
{
	size_t	 n = 0, i, at = 0;

	for (i = 0; i <= len && n < MAX_NUMS; i++)
		if (i == len || s[i] == ',') {
			p[n] = s + at;
			l[n++] = i - at;
			at = i + 1;
		}
	return n;
}

/* A number in "1,2,3" has more than HASHIDS_MAX_DIGITS digits. */
static int
over_cap(const char *s, size_t len)
{
	size_t	 i, run = 0;

	for (i = 0; i < len; i++)
		if (s[i] == ',')
			run = 0;
		else if ((run > 0 || s[i] != '0') && ++run > HASHIDS_MAX_DIGITS)
			return 1;
	return 0;
}

/* The linear check and the oracle: the same verdict, the same numbers. */
static void
check_oracle(const struct hashids *h, const char *hash, size_t len,
    unsigned ml, const struct buf *nums, enum hashids_rc rc)
{
	struct buf ora;
	enum hashids_rc orc;
	int	 capped;

	buf_init(&ora, 0);
	orc = hashids_decode_oracle(h, hash, len, ml, &ora);
	/* Past the cap, decode says invalid where the oracle may not. */
	capped = orc == HASHIDS_OK && rc == HASHIDS_INVALID &&
	    over_cap(ora.data, ora.len);
	if (!capped && orc != rc)
		abort();
	if (rc == HASHIDS_OK && (ora.len != nums->len ||
	    memcmp(ora.data, nums->data, ora.len) != 0))
		abort();
	buf_free(&ora);
}

/* A valid hash re-encodes to itself: decode's own check, checked. */
static void
check_valid(const struct hashids *h, const char *hash, size_t len,
    unsigned ml)
{
	const char *p[MAX_NUMS];
	size_t	 l[MAX_NUMS], n;
	struct buf nums, again;
	enum hashids_rc rc;

	buf_init(&nums, 0);
	buf_init(&again, 0);
	rc = hashids_decode(h, hash, len, ml, &nums);
	check_oracle(h, hash, len, ml, &nums, rc);
	if (rc == HASHIDS_OK) {
		n = split(nums.data, nums.len, p, l);
		if (n < MAX_NUMS && (hashids_encode(h, p, l, n, ml, &again) !=
		    HASHIDS_OK || again.len != len ||
		    memcmp(again.data, hash, len) != 0))
			abort();
	}
	buf_reset(&nums);
	(void)hashids_decode_hex(h, hash, len, ml, &nums);
	buf_free(&nums);
	buf_free(&again);
}

/* Numbers that encode must decode back, unless U+0000 made a hole. */
static void
check_encode(const struct hashids *h, const char *s, size_t len,
    unsigned ml, int nul)
{
	const char *p[MAX_NUMS];
	size_t	 l[MAX_NUMS], n;
	struct buf hash, back;

	n = split(s, len, p, l);
	buf_init(&hash, 0);
	buf_init(&back, 0);
	if (n < MAX_NUMS && hashids_encode(h, p, l, n, ml, &hash) ==
	    HASHIDS_OK) {
		if (hashids_decode(h, hash.data, hash.len, ml, &back) !=
		    HASHIDS_OK && !nul && !over_cap(s, len))
			abort();
		check_valid(h, hash.data, hash.len, ml);
	}
	buf_reset(&hash);
	if (hashids_encode_hex(h, s, len, ml, &hash) == HASHIDS_OK)
		check_valid(h, hash.data, hash.len, ml);
	buf_free(&hash);
	buf_free(&back);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char	*p = (const char *)data + 3, *end = (const char *)data + size;
	const char	*salt, *alpha, *hash;
	size_t		 sl, al, hl;
	unsigned	 ml, flags;
	struct hashids	*own = NULL;
	const struct hashids *h;
	enum hashids_rc	 rc;

	if (size < 3)
		return 0;
	ml = (unsigned)(data[0] | data[1] << 8) % 1100;
	flags = data[2];
	sl = field(&p, end, &salt);
	al = field(&p, end, &alpha);
	hl = field(&p, end, &hash);
	if (flags & 1)
		alpha = NULL;
	if (flags & 4)
		rc = hashids_get(&h, salt, sl, alpha, al, NULL);
	else {
		rc = hashids_new(&own, salt, sl, alpha, al, NULL);
		h = own;
	}
	if (rc != HASHIDS_OK)
		return 0;
	if (flags & 2)
		check_encode(h, hash, hl, ml,
		    alpha != NULL && memchr(alpha, '\0', al) != NULL);
	else
		check_valid(h, hash, hl, ml);
	hashids_free(own);
	return 0;
}

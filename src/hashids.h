/*
 * hashids.h: Hashids, byte for byte as hashids.js 2.3.0 computes them.
 *
 * Salts, alphabets and hashes are UTF-8 and are taken as Unicode code
 * points, as hashids.js does (Array.from()), not as bytes (hashids.c).
 * Numbers are decimal digit strings of any size; up to 2^64 - 1 they stay
 * on uint64_t, past it they go through bignum.c, as hashids.js 2.3 goes
 * through BigInt.
 *
 * A set-up (the salt-shuffled alphabet, separators and guards) is built
 * once per distinct (salt, alphabet) by hashids_get() and kept in a small
 * process-local cache; the default alphabet with an empty salt is built
 * once for the life of the process.
 *
 * Every call returns one enum hashids_rc.  Output is appended to a
 * struct buf; on any result but HASHIDS_OK the buffer is left as it was.
 */
#ifndef IDMINT_HASHIDS_H
#define IDMINT_HASHIDS_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define HASHIDS_DEFAULT_ALPHABET \
	"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ1234567890"
#define HASHIDS_DEFAULT_SEPS	"cfhistuCFHISTU"
#define HASHIDS_MIN_ALPHABET	16

/*
 * Safety caps, far past the API's own limits (doc/api.md): they only
 * keep every index and modulus inside 32 bits whatever a caller passes.
 */
#define HASHIDS_MAX_BYTES	(1U << 20)	/* salt, alphabet, hash, hex */
#define HASHIDS_MAX_NUMBERS	(1U << 20)	/* numbers in one encode */
#define HASHIDS_MAX_MIN_LENGTH	(1U << 20)

/*
 * Decode's one difference from hashids.js: a hash whose numbers include
 * one of more than HASHIDS_MAX_DIGITS decimal digits (10^1000 or more) is
 * not valid, though the library would decode it.  Ten times what
 * /v1/encode takes (100 digits), and it bounds decode's cost: reading a
 * number is quadratic in its length, everything else is linear.
 */
#define HASHIDS_MAX_DIGITS	1000

enum hashids_rc {
	HASHIDS_OK = 0,
	HASHIDS_INVALID,	/* decode: not a hash this set-up makes */
	HASHIDS_EINPUT,		/* encode: no numbers, not digits, not hex */
	HASHIDS_EALPHABET,	/* fewer than 16 unique characters */
	HASHIDS_EUTF8,		/* salt or alphabet is not valid UTF-8 */
	HASHIDS_ERANGE,		/* past a HASHIDS_MAX_* cap */
	HASHIDS_ENOMEM,
	HASHIDS_ETHROWS,	/* encode: hashids.js throws RangeError here */
	HASHIDS__MAX
};

struct hashids;

/*
 * Build a set-up.  alphabet NULL means the default.  On failure, if err
 * is not NULL, a message is appended to it: for HASHIDS_EALPHABET it is
 * the library's own, "Hashids: alphabet must contain at least 16 unique
 * characters, provided: <the unique characters>".
 */
enum hashids_rc	 hashids_new(struct hashids **, const char *salt,
		    size_t saltlen, const char *alphabet, size_t alphabetlen,
		    struct buf *err);
void	 hashids_free(struct hashids *);

/*
 * The same through the cache.  The set-up belongs to the cache and stays
 * valid until the next hashids_get() or hashids_cache_clear().
 */
enum hashids_rc	 hashids_get(const struct hashids **, const char *salt,
		    size_t saltlen, const char *alphabet, size_t alphabetlen,
		    struct buf *err);
void	 hashids_cache_clear(void);

/*
 * Encode n numbers, each a string of decimal digits (leading zeros
 * allowed, no sign), into the hash.  HASHIDS_EINPUT where hashids.js
 * returns "": no numbers, or a number that is not all digits.
 * HASHIDS_ETHROWS where it throws instead: an alphabet holding U+0000
 * whose hash of a first number above 2^53 - 1 starts with U+0000 (a
 * BigInt % 0n); the same with a smaller number drops that separator,
 * as hashids.js does, and the hash can then be one short of min_length.
 */
enum hashids_rc	 hashids_encode(const struct hashids *,
		    const char *const *nums, const size_t *lens, size_t n,
		    unsigned min_length, struct buf *out);
enum hashids_rc	 hashids_encode_u64(const struct hashids *,
		    const uint64_t *nums, size_t n, unsigned min_length,
		    struct buf *out);
/* [0-9A-Fa-f]+ in 12-digit chunks, each prefixed with 1, as encodeHex. */
enum hashids_rc	 hashids_encode_hex(const struct hashids *, const char *hex,
		    size_t len, unsigned min_length, struct buf *out);

/*
 * Decode a hash.  HASHIDS_OK: the hash is valid (it re-encodes to itself)
 * and its numbers are appended in decimal, comma-separated, ready to go
 * between the brackets of a JSON array ("1,2,3").  HASHIDS_INVALID: it is
 * not valid (empty, bad UTF-8, a character outside the alphabet, a number
 * past HASHIDS_MAX_DIGITS, or it re-encodes differently); nothing is
 * appended.  The time taken is linear in the hash's length (and in the
 * alphabet's, per number): whether it re-encodes to itself is decided
 * without encoding the numbers again.
 */
enum hashids_rc	 hashids_decode(const struct hashids *, const char *hash,
		    size_t len, unsigned min_length, struct buf *out);
/*
 * For tests and the fuzzer only: the same by hashids.js's own check
 * (decode, encode the numbers again, compare), without the cap; it is
 * quadratic in a number's length.  hashids_decode() must agree with it
 * on every hash whose numbers have at most HASHIDS_MAX_DIGITS digits.
 */
enum hashids_rc	 hashids_decode_oracle(const struct hashids *,
		    const char *hash, size_t len, unsigned min_length,
		    struct buf *out);
/*
 * As decodeHex: each number in lowercase hex without its first digit,
 * all joined.  A valid hash can give "" (nothing appended, HASHIDS_OK).
 */
enum hashids_rc	 hashids_decode_hex(const struct hashids *, const char *hash,
		    size_t len, unsigned min_length, struct buf *out);

const char *hashids_strerror(enum hashids_rc);

#endif

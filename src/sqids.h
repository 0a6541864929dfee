/*
 * sqids.h: Sqids (sqids.org), short IDs from lists of numbers.
 *
 * Byte for byte what the reference implementation, the npm package
 * sqids 0.3.0, gives for every input it accepts, and numbers up to
 * 2^64 - 1 besides, as the specification allows for 64-bit integers
 * (the package stops at 2^53 - 1).  No I/O: a set-up (alphabet and
 * blocklist) is built once per distinct pair by sqids_get() and kept in a
 * small process-local cache; the defaults are built once for the life of
 * the process.
 *
 * Alphabets are ASCII, as the reference requires, so IDs are bytes.
 * Blocklist words are UTF-8; as in the reference, a word is kept when it
 * has at least 3 characters (UTF-16 units) and every character of its
 * lower case is in the lower case of the alphabet.
 */
#ifndef IDMINT_SQIDS_H
#define IDMINT_SQIDS_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define SQIDS_DEFAULT_ALPHABET \
	"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
#define SQIDS_MIN_ALPHABET	3
#define SQIDS_MAX_MIN_LENGTH	255

enum sqids_rc {
	SQIDS_OK = 0,
	SQIDS_EMULTIBYTE,	/* the alphabet holds a byte past ASCII */
	SQIDS_ESHORT,		/* fewer than SQIDS_MIN_ALPHABET characters */
	SQIDS_EUNIQUE,		/* a character twice */
	SQIDS_EATTEMPTS,	/* the blocklist refused every ID it tried */
	SQIDS_ERANGE,		/* decode: a number past 2^64 - 1 */
	SQIDS_ENOMEM,
	SQIDS__MAX
};

/* The reference's own message for each error. */
const char	*sqids_strerror(enum sqids_rc);

/* The default blocklist, generated from data/ by scripts/gen-words. */
extern const char *const sqids_blocklist[];
extern const size_t sqids_nblocklist;

struct sqids;

/*
 * The set-up for an alphabet (NULL: the default) and a blocklist of
 * comma-separated words (NULL: the default list; "": none), checked in
 * the reference's order.  The result is valid until the next
 * sqids_get() or sqids_cache_clear().
 */
enum sqids_rc	 sqids_get(const struct sqids **, const char *alphabet,
		    size_t alphabetlen, const char *blocklist,
		    size_t blocklistlen);
void		 sqids_cache_clear(void);

/*
 * Append the ID of n numbers, at least min_length (<= 255) characters
 * long, to out.  SQIDS_EATTEMPTS when the blocklist refuses every ID
 * the reference would try; out is then as it was.
 */
enum sqids_rc	 sqids_encode(const struct sqids *, const uint64_t *nums,
		    size_t n, unsigned min_length, struct buf *out);
/*
 * Decode id as the reference does, into nums (room for len of them; an
 * ID never holds more): *n numbers, none for an ID with a character
 * outside the alphabet, and only those before an empty chunk.
 * SQIDS_ERANGE (*n is 0) when a number would pass 2^64 - 1.  Whether id
 * is the canonical ID of its numbers is the caller's check: encode them
 * again and compare.
 */
enum sqids_rc	 sqids_decode(const struct sqids *, const char *id,
		    size_t len, uint64_t *nums, size_t *n);

#endif

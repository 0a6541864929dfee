/*
 * utf8.h: UTF-8 to code points and back, strictly (RFC 3629).
 *
 * Overlong forms, surrogates and values past U+10FFFF are errors, so a
 * string that passes here has exactly one code point reading, the same
 * one JavaScript's Array.from() gives for the equivalent UTF-16 string.
 */
#ifndef IDMINT_UTF8_H
#define IDMINT_UTF8_H

#include <stddef.h>
#include <stdint.h>

#define UTF8_MAX	4	/* bytes in one encoded code point */

/*
 * Decode the code point at s (n bytes available) into *cp; return the
 * number of bytes it took, or 0 if the bytes there are not valid UTF-8
 * (or n is 0).
 */
size_t	 utf8_next(const char *s, size_t n, uint32_t *cp);

/* Encode cp into out (UTF8_MAX bytes); return the length, 0 if invalid. */
size_t	 utf8_put(uint32_t cp, char *out);

/*
 * Count the code points in s, or return (size_t)-1 if s is not valid.
 */
size_t	 utf8_count(const char *s, size_t n);

/*
 * Decode all of s into out (room for utf8_count() entries); return the
 * count, or (size_t)-1 if s is not valid.
 */
size_t	 utf8_decode(const char *s, size_t n, uint32_t *out);

#endif

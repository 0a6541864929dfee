/*
 * parse.h: the one parser of unsigned decimal numbers.
 *
 * Strictly digits: no sign, no space, not empty, so "+5", " 5" and "" are
 * not numbers.  A value past max is PARSE_RANGE with *out set to
 * UINT64_MAX, so a caller that only compares against its own bounds sees
 * "too large", which is what the user sent.
 */
#ifndef IDMINT_PARSE_H
#define IDMINT_PARSE_H

#include <stddef.h>
#include <stdint.h>

enum parse_rc {
	PARSE_OK = 0,
	PARSE_SYNTAX,		/* empty, or not only digits */
	PARSE_RANGE		/* digits, but above max */
};

enum parse_rc	 parse_uint(const char *s, size_t len, uint64_t max,
		    uint64_t *out);

#endif

/*
 * params.h: query parameters checked against a table, as conf.c checks
 * settings: each row names a parameter, its kind, its bounds and whether
 * it is required, and every message is built from the row, so a limit is
 * stated once.
 */
#ifndef IDMINT_PARAMS_H
#define IDMINT_PARAMS_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "request.h"

enum pkind {
	PK_BYTES,	/* any bytes, at most max */
	PK_UTF8,	/* UTF-8, at most max bytes */
	PK_CHARS,	/* UTF-8, at most max characters */
	PK_UINT,	/* a whole number from min to max */
	PK_HEX,		/* hex digits, at most max of them */
	PK_NUMBERS,	/* comma-separated whole numbers: at most max of them,
			   each at most `each` digits; spaces around items */
	PK_UINTS	/* the same, each at most the value `each` (any
			   number of digits, leading zeros and all) */
};

struct pdef {
	const char	*name;
	enum pkind	 kind;
	uint64_t	 min, max;
	uint64_t	 each;		/* PK_NUMBERS: digits per number;
					   PK_UINTS: the largest number */
	int		 required;	/* absent or empty is an error */
};

struct param {
	int		 present;
	const char	*val;		/* decoded bytes, may hold NUL; "" */
	size_t		 len;
	uint64_t	 num;		/* PK_UINT: the value */
};

/*
 * Check q against n rows of defs, in their order, and fill out[i] for
 * defs[i].  0, or -1 with the message about the first bad one in msg:
 * "numbers is required", "salt must be at most 1024 bytes", ...
 */
int	 params_check(const struct qlist *, const struct pdef *, size_t n,
	    struct param *out, struct buf *msg);

/*
 * Split a PK_NUMBERS or PK_UINTS value that params_check passed: pointers
 * to each run of digits (room for def->max of them).  Returns how many.
 */
size_t	 params_numbers(const struct param *, const char **nums,
	    size_t *lens);
/* The values of a PK_UINTS value that params_check passed (room for
 * def->max of them).  Returns how many. */
size_t	 params_uints(const struct param *, uint64_t *nums, size_t max);

#endif

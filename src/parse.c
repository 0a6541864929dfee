/*
 * parse.c: bounded unsigned decimal numbers (see parse.h).
 */
#include "config.h"

#include "parse.h"

enum parse_rc
parse_uint(const char *s, size_t len, uint64_t max, uint64_t *out)
{
	uint64_t	 v = 0, d;
	size_t		 i;
	int		 over = 0;

	if (len == 0)
		return PARSE_SYNTAX;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return PARSE_SYNTAX;
		d = (uint64_t)(s[i] - '0');
		if (!over && v > (max - d) / 10)
			over = 1;
		if (!over)
			v = v * 10 + d;
	}
	if (over || v > max) {
		*out = UINT64_MAX;
		return PARSE_RANGE;
	}
	*out = v;
	return PARSE_OK;
}

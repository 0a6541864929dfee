/*
 * utf8.c: strict UTF-8 decoding and encoding of code points.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>

#include "utf8.h"

size_t
utf8_next(const char *s, size_t n, uint32_t *cp)
{
	const unsigned char *p = (const unsigned char *)s;
	uint32_t	 c, min;
	size_t		 len, i;

	if (n == 0)
		return 0;
	if (p[0] < 0x80) {
		*cp = p[0];
		return 1;
	}
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2, c = p[0] & 0x1fU, min = 0x80;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		len = 3, c = p[0] & 0x0fU, min = 0x800;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		len = 4, c = p[0] & 0x07U, min = 0x10000;
	else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (p[i] & 0x3fU);
	}
	/* Overlongs, UTF-16 surrogates and values past Unicode. */
	if (c < min || (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff)
		return 0;
	*cp = c;
	return len;
}

size_t
utf8_put(uint32_t cp, char *out)
{
	unsigned char *o = (unsigned char *)out;

	if (cp < 0x80) {
		o[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (unsigned char)(0xc0 | (cp >> 6));
		o[1] = (unsigned char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if ((cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	if (cp < 0x10000) {
		o[0] = (unsigned char)(0xe0 | (cp >> 12));
		o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (unsigned char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (unsigned char)(0xf0 | (cp >> 18));
	o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (unsigned char)(0x80 | (cp & 0x3f));
	return 4;
}

size_t
utf8_count(const char *s, size_t n)
{
	uint32_t	 cp;
	size_t		 i = 0, k, count = 0;

	while (i < n) {
		/* ASCII runs are the common case: skip the full decode. */
		if ((unsigned char)s[i] < 0x80) {
			i++;
			count++;
			continue;
		}
		if ((k = utf8_next(s + i, n - i, &cp)) == 0)
			return (size_t)-1;
		i += k;
		count++;
	}
	return count;
}

size_t
utf8_decode(const char *s, size_t n, uint32_t *out)
{
	size_t	 i = 0, k, count = 0;

	while (i < n) {
		if ((unsigned char)s[i] < 0x80) {
			out[count++] = (unsigned char)s[i++];
			continue;
		}
		if ((k = utf8_next(s + i, n - i, &out[count])) == 0)
			return (size_t)-1;
		i += k;
		count++;
	}
	return count;
}

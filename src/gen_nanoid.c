/*
 * gen_nanoid.c: nanoid, `length` characters drawn uniformly from an
 * alphabet of 3..256 Unicode characters.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "gen.h"

#define NANOID_MAX	256
#define ALPHA_MIN	3
#define ALPHA_MAX	256

/* nanoid's own order, so a default ID reads like one from the JS library. */
static const char default_alpha[] =
    "useandom-26T198340PX75pxJACKVERYMINDBUSHWOLF_GQZbfghjklqvwyzrict";

struct alpha {
	size_t		 n;
	uint32_t	 cp[ALPHA_MAX];		/* code points, for the checks */
	unsigned short	 off[ALPHA_MAX];	/* where each one's bytes start */
	unsigned char	 len[ALPHA_MAX];
};

/* Decode one UTF-8 character (no overlongs, no surrogates); 0 if bad. */
static size_t
utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
	uint32_t	 c;
	size_t		 len, i;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, c = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, c = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, c = s[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	if ((len == 3 && (c < 0x800 || (c >= 0xd800 && c <= 0xdfff))) ||
	    (len == 4 && (c < 0x10000 || c > 0x10ffff)))
		return 0;
	*cp = c;
	return len;
}

static int
cmp_cp(const void *a, const void *b)
{
	uint32_t	 x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * Validity first (a broken string has no character count), then the
 * count, then repeats.  Anything but a string has no characters at all.
 */
static int
alpha_parse(const struct field *f, struct alpha *a, struct gen_result *res)
{
	const unsigned char *s = (const unsigned char *)f->str;
	uint32_t	 sorted[ALPHA_MAX], cp;
	size_t		 i, k, n = 0;

	if (f->kind != FIELD_STRING)
		goto badlen;
	for (i = 0; i < f->len; i += k) {
		if ((k = utf8_decode(s + i, f->len - i, &cp)) == 0)
			return gen_error(res, 400,
			    "Alphabet must be valid UTF-8");
		/* Past the limit the rest need not be read. */
		if (n == ALPHA_MAX)
			goto badlen;
		a->cp[n] = cp;
		a->off[n] = (unsigned short)i;
		a->len[n] = (unsigned char)k;
		n++;
	}
	if (n < ALPHA_MIN)
		goto badlen;
	a->n = n;
	memcpy(sorted, a->cp, n * sizeof(sorted[0]));
	qsort(sorted, n, sizeof(sorted[0]), cmp_cp);
	for (i = 1; i < n; i++)
		if (sorted[i] == sorted[i - 1])
			return gen_error(res, 400,
			    "Alphabet must not repeat a character");
	return 200;
badlen:
	return gen_error(res, 400,
	    "Alphabet length must be between 3 and 256 characters");
}

static int
nanoid_generate(const struct params *p, struct gen_result *res)
{
	struct alpha	 a;
	struct field	 f;
	unsigned char	 idx[NANOID_MAX];
	int64_t		 len;
	size_t		 i;
	char		*o;
	int		 st;

	if ((st = param_length(p, "length", 1, NANOID_MAX, 0, 1, &len,
	    res)) != 200)
		return st;
	param_get(p, "alphabet", &f);
	if (f.kind == FIELD_ABSENT) {
		gen_uniform(idx, (size_t)len, sizeof(default_alpha) - 1);
		if (buf_reserve(&res->id, (size_t)len) == -1)
			return gen_done(res);
		o = res->id.data + res->id.len;
		for (i = 0; i < (size_t)len; i++)
			o[i] = default_alpha[idx[i]];
		res->id.len += (size_t)len;
		res->id.data[res->id.len] = '\0';
		return gen_done(res);
	}
	if ((st = alpha_parse(&f, &a, res)) != 200)
		return st;
	gen_uniform(idx, (size_t)len, (unsigned)a.n);
	for (i = 0; i < (size_t)len; i++)
		buf_add(&res->id, f.str + a.off[idx[i]], a.len[idx[i]]);
	return gen_done(res);
}

const struct generator gen_nanoid = { "nanoid", nanoid_generate };

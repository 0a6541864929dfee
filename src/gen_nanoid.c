/*
 * gen_nanoid.c: nanoid, `length` characters drawn uniformly from an
 * alphabet of 3..256 Unicode characters.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "gen.h"
#include "utf8.h"

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
static enum status
alpha_parse(const struct field *f, struct alpha *a, struct gen_result *res)
{
	const unsigned char *s = (const unsigned char *)f->str;
	uint32_t	 sorted[ALPHA_MAX], cp;
	size_t		 i, k, n = 0;

	if (f->kind != FIELD_STRING)
		goto badlen;
	for (i = 0; i < f->len; i += k) {
		if ((k = utf8_next((const char *)s + i, f->len - i, &cp)) == 0)
			return gen_error(res, HTTP_BAD_REQUEST,
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
			return gen_error(res, HTTP_BAD_REQUEST,
			    "Alphabet must not repeat a character");
	return HTTP_OK;
badlen:
	return gen_error(res, HTTP_BAD_REQUEST,
	    "Alphabet length must be between 3 and 256 characters");
}

static enum status
nanoid_generate(const struct gen_args *args, struct gen_result *res)
{
	const struct field *f = &args->field[1];
	struct alpha	 a;
	unsigned char	 idx[NANOID_MAX];
	int64_t		 len = args->num[0];
	size_t		 i;
	char		*o;
	enum status	 st;

	if (f->kind == FIELD_ABSENT) {
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
	if ((st = alpha_parse(f, &a, res)) != HTTP_OK)
		return st;
	gen_uniform(idx, (size_t)len, (unsigned)a.n);
	for (i = 0; i < (size_t)len; i++)
		buf_add(&res->id, f->str + a.off[idx[i]], a.len[idx[i]]);
	return gen_done(res);
}

const struct generator gen_nanoid = { "nanoid", nanoid_generate, {
	{ .name = "length", .kind = GOPT_INT, .min = 1, .max = NANOID_MAX,
	  .required = 1 },
	{ .name = "alphabet", .kind = GOPT_TEXT },
}, 0 };

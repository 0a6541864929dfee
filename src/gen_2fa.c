/*
 * gen_2fa.c: a one-time code of decimal digits, leading zeros kept.
 */
#include "config.h"

#include "gen.h"

#define TWOFA_MAX	256

static int
twofa_generate(const struct params *p, struct gen_result *res)
{
	unsigned char	 d[TWOFA_MAX];
	int64_t		 len;
	size_t		 i;
	int		 st;

	if ((st = param_length(p, "length", 1, TWOFA_MAX, 6, 0, &len,
	    res)) != 200)
		return st;
	gen_uniform(d, (size_t)len, 10);
	for (i = 0; i < (size_t)len; i++)
		d[i] += '0';
	buf_add(&res->id, d, (size_t)len);
	return gen_done(res);
}

const struct generator gen_2fa = { "2fa", twofa_generate };

/*
 * gen_2fa.c: a one-time code of decimal digits, leading zeros kept.
 */
#include "config.h"

#include "gen.h"

#define TWOFA_MAX	256

static enum status
twofa_generate(const struct gen_args *a, struct gen_result *res)
{
	unsigned char	 d[TWOFA_MAX];
	int64_t		 len = a->num[0];
	size_t		 i;

	gen_uniform(d, (size_t)len, 10);
	for (i = 0; i < (size_t)len; i++)
		d[i] += '0';
	buf_add(&res->id, d, (size_t)len);
	return gen_done(res);
}

const struct generator gen_2fa = { "2fa", twofa_generate, {
	{ .name = "length", .kind = GOPT_INT, .min = 1, .max = TWOFA_MAX,
	  .def = 6 },
}, 0 };

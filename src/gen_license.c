/*
 * gen_license.c: a licence key, five groups of five from 0-9A-Z.
 */
#include "config.h"

#include "gen.h"

#define GROUPS		5
#define GROUP_LEN	5

static enum status
license_generate(const struct gen_args *a, struct gen_result *res)
{
	static const char digits[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
	unsigned char	 d[GROUPS * GROUP_LEN];
	char		 out[GROUPS * (GROUP_LEN + 1)], *o = out;
	size_t		 i;

	(void)a;
	gen_uniform(d, sizeof(d), sizeof(digits) - 1);
	for (i = 0; i < sizeof(d); i++) {
		if (i > 0 && i % GROUP_LEN == 0)
			*o++ = '-';
		*o++ = digits[d[i]];
	}
	buf_add(&res->id, out, (size_t)(o - out));
	return gen_done(res);
}

const struct generator gen_license = { "license", license_generate, {
	{ .kind = GOPT_NONE },
}, 0 };

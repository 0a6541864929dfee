/*
 * plan.c: the plan table (limits.md) and parsing of custom plans.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "plan.h"

const struct plan plans[PLAN__MAX] = {
	[PLAN_FREE] =		{ "free", 2, 1540 },
	[PLAN_STARTER] =	{ "starter", 8, 30000 },
	[PLAN_PRO] =		{ "pro", 20, 186000 },
	[PLAN_MEGA] =		{ "mega", 50, 950000 },
	[PLAN_UNLIMITED] =	{ "unlimited", 0, 0 },
};

enum plan_id
plan_find(const char *name)
{
	enum plan_id	 i;

	for (i = 0; i < PLAN__MAX; i++)
		if (strcmp(plans[i].name, name) == 0)
			break;
	return i;
}

int
plan_lookup(const char *name, struct plan *out, char *err, size_t errlen)
{
	enum plan_id	 i;

	if ((i = plan_find(name)) == PLAN__MAX) {
		snprintf(err, errlen,
		    "unknown plan \"%s\" (free, starter, pro, mega, unlimited)",
		    name);
		return -1;
	}
	*out = plans[i];
	return 0;
}

int
plan_parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t	 v = 0;

	if (*s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		if (v > (max - (uint64_t)(*s - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	return 0;
}

int
plan_custom(const char *rate, const char *quota, struct plan *out,
    char *err, size_t errlen)
{
	uint64_t	 r, q;

	if (plan_parse_u64(rate, PLAN_RATE_MAX, &r) == -1) {
		snprintf(err, errlen, "--rate wants a whole number of "
		    "requests per second from 0 (no limit) to %u, not \"%s\"",
		    PLAN_RATE_MAX, rate);
		return -1;
	}
	if (plan_parse_u64(quota, UINT64_MAX, &q) == -1) {
		snprintf(err, errlen, "--quota wants a whole number of "
		    "calls per month, 0 for no limit, not \"%s\"", quota);
		return -1;
	}
	out->name = PLAN_CUSTOM;
	out->rate = (uint32_t)r;
	out->quota = q;
	return 0;
}

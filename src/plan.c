/*
 * plan.c: the plan table (doc/api.md) and parsing of custom plans.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "parse.h"
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
plan_custom(const char *rate, const char *quota, struct plan *out,
    char *err, size_t errlen)
{
	uint64_t	 r, q;

	if (parse_uint(rate, strlen(rate), PLAN_RATE_MAX, &r) != PARSE_OK) {
		snprintf(err, errlen, "--rate wants a whole number of "
		    "requests per second from 0 (no limit) to %u, not \"%s\"",
		    PLAN_RATE_MAX, rate);
		return -1;
	}
	if (parse_uint(quota, strlen(quota), UINT64_MAX, &q) != PARSE_OK) {
		snprintf(err, errlen, "--quota wants a whole number of "
		    "calls per month, 0 for no limit, not \"%s\"", quota);
		return -1;
	}
	out->name = PLAN_CUSTOM;
	out->rate = (uint32_t)r;
	out->quota = q;
	return 0;
}

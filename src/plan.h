/*
 * plan.h: the named plans (doc/api.md, "Plans, rate limits and quotas"), and custom ones.
 *
 * A plan is two numbers: requests per second and successful calls per UTC
 * month, 0 meaning no limit.  A key stores the numbers as well as the
 * name, so a key keeps its limits even if this table changes.
 */
#ifndef IDMINT_PLAN_H
#define IDMINT_PLAN_H

#include <stddef.h>
#include <stdint.h>

enum plan_id {
	PLAN_FREE,
	PLAN_STARTER,
	PLAN_PRO,
	PLAN_MEGA,
	PLAN_UNLIMITED,
	PLAN__MAX		/* also "custom" */
};

struct plan {
	const char	*name;
	uint32_t	 rate;	/* requests per second, 0 = unlimited */
	uint64_t	 quota;	/* calls per month, 0 = unlimited */
};

#define PLAN_CUSTOM	"custom"
#define PLAN_DEFAULT	PLAN_UNLIMITED
#define PLAN_RATE_MAX	1000000u	/* a sanity bound for --rate */

extern const struct plan plans[PLAN__MAX];

/* The named plan, or PLAN__MAX.  Names are matched exactly. */
enum plan_id	 plan_find(const char *name);
/*
 * Fill *out with the named plan; or -1 with the message
 * `unknown plan "x" (free, starter, pro, mega, unlimited)`.
 */
int		 plan_lookup(const char *name, struct plan *out,
		    char *err, size_t errlen);
/* A custom plan from two decimal strings (digits only, overflow checked).
 * -1 with a message naming the bad option otherwise. */
int		 plan_custom(const char *rate, const char *quota,
		    struct plan *out, char *err, size_t errlen);

#endif

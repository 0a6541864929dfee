/*
 * test_plan.c: the plan table of doc/api.md and custom plans.
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include <criterion/criterion.h>

#include "plan.h"

Test(plan, named_plans_match_the_api_doc)
{
	static const struct { const char *n; uint32_t r; uint64_t q; } want[] = {
		{ "free", 2, 1540 },
		{ "starter", 8, 30000 },
		{ "pro", 20, 186000 },
		{ "mega", 50, 950000 },
		{ "unlimited", 0, 0 },
	};
	struct plan	 p;
	char		 e[128];
	size_t		 i;

	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		cr_assert_eq(plan_lookup(want[i].n, &p, e, sizeof(e)), 0);
		cr_assert_str_eq(p.name, want[i].n);
		cr_assert_eq(p.rate, want[i].r, "%s", want[i].n);
		cr_assert_eq(p.quota, want[i].q, "%s", want[i].n);
	}
	cr_assert_eq(i, PLAN__MAX);
	cr_assert_str_eq(plans[PLAN_DEFAULT].name, "unlimited");
}

Test(plan, unknown_plan_message)
{
	struct plan	 p;
	char		 e[128];

	cr_assert_eq(plan_lookup("x", &p, e, sizeof(e)), -1);
	cr_assert_str_eq(e,
	    "unknown plan \"x\" (free, starter, pro, mega, unlimited)");
	cr_assert_eq(plan_lookup("Free", &p, e, sizeof(e)), -1);
	cr_assert_eq(plan_lookup("custom", &p, e, sizeof(e)), -1);
	cr_assert_eq(plan_lookup("", &p, e, sizeof(e)), -1);
	cr_assert_eq(plan_find("pro"), PLAN_PRO);
	cr_assert_eq(plan_find("nope"), PLAN__MAX);
}

Test(plan, custom_plans)
{
	struct plan	 p;
	char		 e[256];

	cr_assert_eq(plan_custom("5", "100", &p, e, sizeof(e)), 0);
	cr_assert_str_eq(p.name, "custom");
	cr_assert_eq(p.rate, 5);
	cr_assert_eq(p.quota, 100);
	cr_assert_eq(plan_custom("0", "0", &p, e, sizeof(e)), 0);
	cr_assert_eq(plan_custom("1000000", "18446744073709551615", &p, e,
	    sizeof(e)), 0);
	cr_assert_eq(p.quota, UINT64_MAX);
	cr_assert_eq(plan_custom("1000001", "1", &p, e, sizeof(e)), -1);
	cr_assert_not_null(strstr(e, "--rate"), "%s", e);
	cr_assert_eq(plan_custom("-1", "1", &p, e, sizeof(e)), -1);
	cr_assert_eq(plan_custom("1", "18446744073709551616", &p, e,
	    sizeof(e)), -1);
	cr_assert_not_null(strstr(e, "--quota"), "%s", e);
	cr_assert_eq(plan_custom("1", "1e3", &p, e, sizeof(e)), -1);
	cr_assert_eq(plan_custom("", "1", &p, e, sizeof(e)), -1);
	cr_assert_eq(plan_custom("1", " 1", &p, e, sizeof(e)), -1);
}

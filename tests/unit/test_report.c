/*
 * test_report.c: idmintctl's usage reports, summed from the store's rows
 * (ctl_report.c): per type, per key, this month and all time, sorted.
 */
#include "config.h"

#include <criterion/criterion.h>

#include "ctl.h"
#include "fixture.h"


static struct store *
fresh(void)
{
	fx_mkdir("test_report");
	return fx_store(0);
}

static void
done(struct store *st)
{
	store_close(st);
	fx_rmdir();
}

Test(usage, counts_per_type_and_month)
{
	struct store		*st = fresh();
	struct usage_cell	 c[5];
	struct summary	 s;
	uint64_t		 n;

	c[0] = fx_cell("bob", 202610, "uuid", 0, 4);
	c[1] = fx_cell("bob", 202611, "uuid", 1, 2);
	c[2] = fx_cell("bob", 202611, "encode-hex", 2, 1);
	c[3] = fx_cell("bobby", 202611, "uuid", 3, 50);
	c[4] = fx_cell("alice", 202611, "nanoid", 4, 7);
	cr_assert_eq(fx_apply(st, 1, c, 5), STORE_OK);
	cr_assert_eq(store_usage_month(st, "bob", 202611, &n), STORE_OK);
	cr_assert_eq(n, 3);
	cr_assert_eq(store_usage_month(st, "bob", 202610, &n), STORE_OK);
	cr_assert_eq(n, 4);

	cr_assert_eq(summary_make(st, "BOB", 202611, &s), STORE_OK);
	cr_assert_eq(s.month_total, 3);
	cr_assert_eq(s.all_total, 7);
	cr_assert_eq(s.ntypes, 2);
	cr_assert_str_eq(s.types[0].name, "encode-hex");
	cr_assert_eq(s.types[0].month, 1);
	cr_assert_eq(s.types[0].total, 1);
	cr_assert_str_eq(s.types[1].name, "uuid");
	cr_assert_eq(s.types[1].month, 2);
	cr_assert_eq(s.types[1].total, 6);
	cr_assert_eq(s.nusers, 0);
	summary_free(&s);

	cr_assert_eq(summary_make(st, NULL, 202611, &s), STORE_OK);
	cr_assert_eq(s.month_total, 60);
	cr_assert_eq(s.all_total, 64);
	cr_assert_eq(s.ntypes, 3);
	cr_assert_eq(s.nusers, 3);
	cr_assert_str_eq(s.users[0].name, "bobby");
	cr_assert_str_eq(s.users[1].name, "alice");
	cr_assert_str_eq(s.users[2].name, "bob");
	cr_assert_eq(s.users[2].total, 7);
	summary_free(&s);
	done(st);
}

Test(usage, many_users_in_summary)
{
	struct store		*st = fresh();
	struct usage_cell	 c[300];
	struct summary	 s;
	char			 u[16];
	int			 i;

	for (i = 0; i < 300; i++) {
		snprintf(u, sizeof(u), "u%03d", i);
		c[i] = fx_cell(u, 202611, "uuid", (uint32_t)i, (uint64_t)i + 1);
	}
	cr_assert_eq(fx_apply(st, 1, c, 300), STORE_OK);
	cr_assert_eq(summary_make(st, NULL, 202611, &s), STORE_OK);
	cr_assert_eq(s.nusers, 300);
	cr_assert_str_eq(s.users[0].name, "u299");
	cr_assert_eq(s.month_total, 300 * 301 / 2);
	summary_free(&s);
	done(st);
}


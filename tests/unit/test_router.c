/*
 * test_router.c: the route table, and what derives from its rows.
 */
#include "config.h"

#include <string.h>

#include <criterion/criterion.h>

#include "router.h"
#include "store.h"		/* TYPE_MAX */

Test(router, exact_paths)
{
	const struct route *rt;
	enum family fam;

	cr_assert_eq(router_find(M_POST, "/", &rt, &fam), 200);
	cr_assert_eq(rt, &routes[RT_IDGEN]);
	cr_assert_eq(fam, FAM_IDGEN);
	cr_assert_eq(router_find(M_POST, "", &rt, &fam), 200);
	cr_assert_eq(rt, &routes[RT_IDGEN]);
	cr_assert_eq(router_find(M_GET, "/healthz", &rt, &fam), 200);
	cr_assert_eq(rt, &routes[RT_HEALTHZ]);
	cr_assert_eq(router_find(M_GET, "/v1/encode-hex", &rt, &fam), 200);
	cr_assert_eq(rt, &routes[RT_V1_ENCODE_HEX]);
	cr_assert_eq(fam, FAM_V1);
	cr_assert_eq(router_find(M_GET, "/v1/meta", &rt, &fam), 200);
	cr_assert_eq(rt, &routes[RT_V1_META]);
}

Test(router, not_found)
{
	const struct route *rt;
	enum family fam;

	cr_assert_eq(router_find(M_GET, "/healthz/", &rt, &fam), 404);
	cr_assert_null(rt);
	cr_assert_eq(fam, FAM_PLAIN);
	cr_assert_eq(router_find(M_GET, "/v1/nope", &rt, &fam), 404);
	cr_assert_eq(fam, FAM_V1);
	cr_assert_eq(router_find(M_GET, "/v1/encode/", &rt, &fam), 404);
	cr_assert_eq(router_find(M_GET, "/V1/encode", &rt, &fam), 404);
	cr_assert_eq(fam, FAM_PLAIN);
}

Test(router, wrong_method_gives_allow)
{
	const struct route *rt;
	enum family fam;
	char	 allow[64];

	cr_assert_eq(router_find(M_GET, "/", &rt, &fam), 405);
	cr_assert_eq(rt, &routes[RT_IDGEN]);
	cr_assert_str_eq(route_allow(rt, allow, sizeof(allow)), "POST");
	cr_assert_eq(router_find(M_POST, "/v1/decode", &rt, &fam), 405);
	cr_assert_str_eq(route_allow(rt, allow, sizeof(allow)), "GET");
	cr_assert_eq(fam, FAM_V1);
	cr_assert_eq(router_find(M_OTHER, "/healthz", &rt, &fam), 405);
	cr_assert_eq(router_find(M_DELETE, "/healthz", &rt, &fam), 405);
}

/* Allow lists every method of a row, in the order of enum method. */
Test(router, allow_lists_every_method)
{
	struct route	 r = { "x", "/x", MB(M_GET) | MB(M_HEAD) | MB(M_POST),
	    FAM_PLAIN, AUTH_NONE, NULL, NULL };
	char		 allow[64];

	cr_assert_str_eq(route_allow(&r, allow, sizeof(allow)),
	    "GET, POST, HEAD");
}

/* Every row is whole, and a name a count is kept under fits the key. */
Test(router, rows_are_whole)
{
	size_t	 i, j;

	for (i = 0; i < RT__MAX; i++) {
		cr_assert_not_null(routes[i].handler, "%s", routes[i].path);
		cr_assert_neq(routes[i].methods, 0, "%s", routes[i].path);
		cr_assert_leq(strlen(routes[i].name), TYPE_MAX, "%s",
		    routes[i].name);
		cr_assert_eq(routes[i].family == FAM_V1,
		    routes[i].message != NULL, "%s", routes[i].path);
		cr_assert_eq(routes[i].family == FAM_V1,
		    routes[i].auth == AUTH_HEADER, "%s", routes[i].path);
		for (j = 0; j < i; j++)
			cr_assert_str_neq(routes[i].path, routes[j].path);
	}
}

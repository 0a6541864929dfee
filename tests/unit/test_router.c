#include "config.h"

#include <criterion/criterion.h>

#include "router.h"

Test(router, exact_paths)
{
	enum route rt;
	enum family fam;

	cr_assert_eq(router_find(M_POST, "/", &rt, &fam), 200);
	cr_assert_eq(rt, RT_IDGEN);
	cr_assert_eq(fam, FAM_IDGEN);
	cr_assert_eq(router_find(M_POST, "", &rt, &fam), 200);
	cr_assert_eq(rt, RT_IDGEN);
	cr_assert_eq(router_find(M_GET, "/healthz", &rt, &fam), 200);
	cr_assert_eq(rt, RT_HEALTHZ);
	cr_assert_eq(router_find(M_GET, "/v1/encode-hex", &rt, &fam), 200);
	cr_assert_eq(rt, RT_V1_ENCODE_HEX);
	cr_assert_eq(fam, FAM_HASHIDS);
	cr_assert_eq(router_find(M_GET, "/v1/meta", &rt, &fam), 200);
	cr_assert_eq(rt, RT_V1_META);
}

Test(router, not_found)
{
	enum route rt;
	enum family fam;

	cr_assert_eq(router_find(M_GET, "/healthz/", &rt, &fam), 404);
	cr_assert_eq(rt, RT__MAX);
	cr_assert_eq(fam, FAM_PLAIN);
	cr_assert_eq(router_find(M_GET, "/v1/nope", &rt, &fam), 404);
	cr_assert_eq(fam, FAM_HASHIDS);
	cr_assert_eq(router_find(M_GET, "/v1/encode/", &rt, &fam), 404);
	cr_assert_eq(router_find(M_GET, "/V1/encode", &rt, &fam), 404);
	cr_assert_eq(fam, FAM_PLAIN);
}

Test(router, wrong_method_gives_allow)
{
	enum route rt;
	enum family fam;

	cr_assert_eq(router_find(M_GET, "/", &rt, &fam), 405);
	cr_assert_eq(rt, RT_IDGEN);
	cr_assert_str_eq(routes[rt].allow, "POST");
	cr_assert_eq(router_find(M_POST, "/v1/decode", &rt, &fam), 405);
	cr_assert_str_eq(routes[rt].allow, "GET");
	cr_assert_eq(fam, FAM_HASHIDS);
	cr_assert_eq(router_find(M_OTHER, "/healthz", &rt, &fam), 405);
	cr_assert_eq(router_find(M_DELETE, "/healthz", &rt, &fam), 405);
}

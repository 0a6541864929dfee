/*
 * The dispatcher: routes, limits and error shapes, end to end in memory.
 */
#include "config.h"

#include <string.h>

#include <criterion/criterion.h>
#include <json-c/json.h>
#include <sodium.h>

#include "fixture.h"

static struct server srv;

static void
setup(void)
{
	struct conf c;

	cr_assert(sodium_init() >= 0);
	conf_defaults(&c);
	server_init(&srv, &c);
}

static void
teardown(void)
{
	server_free(&srv);
}

TestSuite(serve, .init = setup, .fini = teardown);

static const char *
jget(json_object *o, const char *k)
{
	return json_object_get_string(json_object_object_get(o, k));
}

Test(serve, healthz)
{
	const char *env[] = { "REQUEST_METHOD=GET", "PATH_INFO=/healthz", NULL };
	struct answer a;

	run_request(&srv, env, NULL, 0, &a);
	cr_assert_eq(a.status, 200);
	cr_assert_str_eq(a.body, "{\"status\":\"ok\",\"version\":\""
	    PACKAGE_VERSION "\"}");
	cr_assert_str_eq(answer_header(&a, "Content-Type"),
	    "application/json; charset=utf-8");
	cr_assert_str_eq(answer_header(&a, "Cache-Control"), "no-store");
	answer_free(&a);
}

Test(serve, not_found_plain_shape)
{
	const char *env[] = { "REQUEST_METHOD=GET", "PATH_INFO=/nope", NULL };
	struct answer a;

	run_request(&srv, env, NULL, 0, &a);
	cr_assert_eq(a.status, 404);
	cr_assert_str_eq(a.body, "{\"error\":\"Not found\"}");
	answer_free(&a);
}

Test(serve, not_found_v1_envelope)
{
	const char *env[] = { "REQUEST_METHOD=GET", "PATH_INFO=/v1/nope", NULL };
	struct answer a;
	json_object *o;

	run_request(&srv, env, NULL, 0, &a);
	cr_assert_eq(a.status, 404);
	o = json_tokener_parse(a.body);
	cr_assert_not_null(o);
	cr_assert_str_eq(jget(o, "message"), "Not found");
	cr_assert_str_eq(jget(o, "status"), "error");
	cr_assert_not_null(answer_header(&a, "X-Request-Id"));
	cr_assert_str_eq(jget(json_object_object_get(o, "meta"), "request_id"),
	    answer_header(&a, "X-Request-Id"));
	json_object_put(o);
	answer_free(&a);
}

Test(serve, method_not_allowed)
{
	const char *env1[] = { "REQUEST_METHOD=GET", "PATH_INFO=/", NULL };
	const char *env2[] = { "REQUEST_METHOD=DELETE", "PATH_INFO=/v1/encode", NULL };
	const char *env3[] = { "REQUEST_METHOD=POST", "PATH_INFO=/healthz", NULL };
	struct answer a;
	json_object *o;

	run_request(&srv, env1, NULL, 0, &a);
	cr_assert_eq(a.status, 405);
	cr_assert_str_eq(answer_header(&a, "Allow"), "POST");
	cr_assert_str_eq(a.body, "{\"error\":\"Method not allowed\"}");
	answer_free(&a);
	run_request(&srv, env2, NULL, 0, &a);
	cr_assert_eq(a.status, 405);
	cr_assert_str_eq(answer_header(&a, "Allow"), "GET");
	o = json_tokener_parse(a.body);
	cr_assert_str_eq(jget(o, "message"), "Method not allowed");
	json_object_put(o);
	answer_free(&a);
	run_request(&srv, env3, NULL, 0, &a);
	cr_assert_eq(a.status, 405);
	cr_assert_str_eq(answer_header(&a, "Allow"), "GET");
	answer_free(&a);
}

Test(serve, body_limits)
{
	const char *big[] = { "REQUEST_METHOD=POST", "PATH_INFO=/",
	    "CONTENT_LENGTH=65537", NULL };
	const char *junk[] = { "REQUEST_METHOD=POST", "PATH_INFO=/",
	    "CONTENT_LENGTH=12abc", NULL };
	const char *cut[] = { "REQUEST_METHOD=POST", "PATH_INFO=/",
	    "CONTENT_LENGTH=100", NULL };
	struct answer a;

	run_request(&srv, big, NULL, 0, &a);
	cr_assert_eq(a.status, 413);
	cr_assert_str_eq(a.body, "{\"error\":\"Request body too large\"}");
	answer_free(&a);
	run_request(&srv, junk, "{}", 2, &a);
	cr_assert_eq(a.status, 400);
	cr_assert_str_eq(a.body, "{\"error\":\"Invalid Content-Length\"}");
	answer_free(&a);
	run_request(&srv, cut, "{\"a\":1}", 7, &a);
	cr_assert_eq(a.status, 400);
	cr_assert_str_eq(a.body,
	    "{\"error\":\"Request body shorter than Content-Length\"}");
	answer_free(&a);
}

Test(serve, max_body_is_configurable)
{
	const char *env[] = { "REQUEST_METHOD=POST", "PATH_INFO=/",
	    "CONTENT_LENGTH=11", NULL };
	struct answer a;

	srv.conf.max_body = 10;
	run_request(&srv, env, "{\"a\":12345}", 11, &a);
	cr_assert_eq(a.status, 413);
	answer_free(&a);
}

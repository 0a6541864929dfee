#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "request.h"

static void
parse(struct request *r, const char *const *env, const char *body, size_t max)
{
	static struct io io;
	static struct io_mem m;

	memset(&m, 0, sizeof(m));
	m.env = env;
	m.in = body;
	m.inlen = body != NULL ? strlen(body) : 0;
	io_mem(&io, &m);
	req_parse(r, &io, max, 65536);
}

Test(request, basic_fields)
{
	const char *env[] = { "REQUEST_METHOD=POST", "PATH_INFO=/", "QUERY_STRING=a=1",
	    "CONTENT_TYPE=application/json; charset=utf-8", "CONTENT_LENGTH=2",
	    "HTTP_X_API_KEY=k1", NULL };
	struct request r;

	req_init(&r);
	parse(&r, env, "{}", 65536);
	cr_assert_eq(r.err, REQ_OK);
	cr_assert_eq(r.method, M_POST);
	cr_assert_str_eq(r.path, "/");
	cr_assert_str_eq(r.query, "a=1");
	cr_assert_eq(r.ctype, CT_JSON);
	cr_assert_eq(r.body.len, 2);
	cr_assert_str_eq(r.body.data, "{}");
	cr_assert_str_eq(req_header(&r, "X-Api-Key"), "k1");
	cr_assert_null(req_header(&r, "X-Oanor-Key"));
	req_free(&r);
}

Test(request, missing_env_is_empty)
{
	const char *env[] = { NULL };
	struct request r;

	req_init(&r);
	parse(&r, env, NULL, 65536);
	cr_assert_eq(r.err, REQ_OK);
	cr_assert_eq(r.method, M_OTHER);
	cr_assert_str_eq(r.path, "");
	cr_assert_str_eq(r.query, "");
	cr_assert_eq(r.ctype, CT_NONE);
	req_free(&r);
}

Test(request, content_length_junk)
{
	static const char *const junk[] = { "CONTENT_LENGTH=-1",
	    "CONTENT_LENGTH=+5", "CONTENT_LENGTH= 5", "CONTENT_LENGTH=5 ",
	    "CONTENT_LENGTH=0x10", "CONTENT_LENGTH=1e3",
	    "CONTENT_LENGTH=-99999999999999999999999999" };
	size_t i;

	for (i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
		const char *env[] = { "REQUEST_METHOD=POST", junk[i], NULL };
		struct request r;

		req_init(&r);
		parse(&r, env, "hello", 65536);
		cr_assert_eq(r.err, REQ_BAD_LENGTH, "%s", junk[i]);
		cr_assert_eq(r.body.len, 0);
		req_free(&r);
	}
}

Test(request, too_large_decided_before_reading)
{
	const char *env[] = { "REQUEST_METHOD=POST", "CONTENT_LENGTH=65537", NULL };
	struct request r;

	req_init(&r);
	/* No body at all: the decision must not need one. */
	parse(&r, env, NULL, 65536);
	cr_assert_eq(r.err, REQ_TOO_LARGE);
	cr_assert_null(r.body.data, "allocated for a refused body");
	req_free(&r);
}

Test(request, huge_length_is_too_large_not_junk)
{
	const char *env[] = { "REQUEST_METHOD=POST",
	    "CONTENT_LENGTH=99999999999999999999999999", NULL };
	const char *env2[] = { "REQUEST_METHOD=POST",
	    "CONTENT_LENGTH=18446744073709551616", NULL };
	struct request r;

	req_init(&r);
	parse(&r, env, "{}", 65536);
	cr_assert_eq(r.err, REQ_TOO_LARGE);
	parse(&r, env2, "{}", 65536);
	cr_assert_eq(r.err, REQ_TOO_LARGE);
	req_free(&r);
}

Test(request, limit_is_inclusive)
{
	char *body = malloc(65537);
	const char *env[] = { "REQUEST_METHOD=POST", "CONTENT_LENGTH=65536", NULL };
	struct request r;

	memset(body, 'x', 65536);
	body[65536] = '\0';
	req_init(&r);
	parse(&r, env, body, 65536);
	cr_assert_eq(r.err, REQ_OK);
	cr_assert_eq(r.body.len, 65536);
	req_free(&r);
	free(body);
}

Test(request, body_cut_short)
{
	const char *env[] = { "REQUEST_METHOD=POST", "CONTENT_LENGTH=10", NULL };
	struct request r;

	req_init(&r);
	parse(&r, env, "abc", 65536);
	cr_assert_eq(r.err, REQ_SHORT);
	req_free(&r);
}

Test(request, reused_between_requests)
{
	const char *env1[] = { "REQUEST_METHOD=POST", "CONTENT_LENGTH=5", NULL };
	const char *env2[] = { "REQUEST_METHOD=GET", NULL };
	struct request r;

	req_init(&r);
	parse(&r, env1, "hello", 65536);
	cr_assert_eq(r.body.len, 5);
	parse(&r, env2, NULL, 65536);
	cr_assert_eq(r.err, REQ_OK);
	cr_assert_eq(r.body.len, 0);
	cr_assert_eq(r.method, M_GET);
	req_free(&r);
}

Test(request, content_types)
{
	cr_assert_eq(ctype_parse(NULL), CT_NONE);
	cr_assert_eq(ctype_parse(""), CT_NONE);
	cr_assert_eq(ctype_parse("application/json"), CT_JSON);
	cr_assert_eq(ctype_parse("Application/JSON;charset=UTF-8"), CT_JSON);
	cr_assert_eq(ctype_parse("application/x-www-form-urlencoded"), CT_FORM);
	cr_assert_eq(ctype_parse("application/jsonx"), CT_OTHER);
	cr_assert_eq(ctype_parse("text/plain"), CT_OTHER);
	cr_assert_eq(ctype_parse("multipart/form-data; boundary=x"), CT_OTHER);
}

Test(request, percent_decoding)
{
	struct qlist q;
	const struct qparam *p;
	const char *qs = "salt=a%20b+c&numbers=1%2C2%2c3&bad=%zz%4&e=&flag&%73alt2=%00x";

	qlist_init(&q);
	cr_assert_eq(qlist_parse(&q, qs, strlen(qs)), 0);
	cr_assert_eq(q.dup, 0);
	cr_assert_eq(q.n, 6);
	p = qlist_get(&q, "salt");
	cr_assert_str_eq(p->val, "a b c");
	cr_assert_str_eq(qlist_get(&q, "numbers")->val, "1,2,3");
	cr_assert_str_eq(qlist_get(&q, "bad")->val, "%zz%4");
	cr_assert_eq(qlist_get(&q, "e")->vlen, 0);
	cr_assert_eq(qlist_get(&q, "flag")->vlen, 0);
	p = qlist_get(&q, "salt2");
	cr_assert_eq(p->vlen, 2);
	cr_assert_eq(p->val[0], '\0');
	cr_assert_eq(p->val[1], 'x');
	cr_assert_null(qlist_get(&q, "missing"));
	qlist_free(&q);
}

Test(request, duplicate_and_overflow)
{
	struct qlist q;
	char big[QPARAM_MAX * 8 + 16] = "";
	size_t i;

	qlist_init(&q);
	cr_assert_eq(qlist_parse(&q, "a=1&b=2&a=3", 11), 0);
	cr_assert_eq(q.dup, 1);
	cr_assert_str_eq(q.dupp->name, "a");
	/* %61 is 'a': duplicates are found after decoding. */
	cr_assert_eq(qlist_parse(&q, "a=1&%61=2", 9), 0);
	cr_assert_eq(q.dup, 1);
	for (i = 0; i <= QPARAM_MAX; i++)
		snprintf(big + strlen(big), sizeof(big) - strlen(big),
		    "k%zu=1&", i);
	cr_assert_eq(qlist_parse(&q, big, strlen(big)), 0);
	cr_assert_eq(q.overflow, 1);
	qlist_free(&q);
}

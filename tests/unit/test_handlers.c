/*
 * test_handlers.c: POST / and the /v1 routes in process, through serve(), with a
 * real store and shared table in a temporary directory: the handlers'
 * answers, authentication, limits and counting, without a web server.
 */
#include "config.h"

#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <json-c/json.h>
#include <sodium.h>

#include "clock.h"
#include "fixture.h"
#include "hashids.h"

static struct server	 srv;
static char		 tok[TOKEN_STR_LEN + 1];	/* alice, unlimited */
static char		 ftok[TOKEN_STR_LEN + 1];	/* fred, plan free */
static char		 post_env_len[48];

static void
setup(void)
{
	struct conf	 c;
	struct store	*st;
	char		 err[512];

	cr_assert(sodium_init() >= 0);
	fx_mkdir("test_handlers");
	st = fx_store(0);
	fx_key(st, "alice", NULL, tok);
	fx_key(st, "fred", &plans[PLAN_FREE], ftok);
	store_close(st);
	conf_defaults(&c);
	snprintf(c.db, sizeof(c.db), "%s", fx_db);
	c.flush_ms = 1;
	cr_assert_eq(server_init(&srv, &c), 0);
	cr_assert_eq(server_open(&srv, err, sizeof(err)), 0, "%s", err);
}

static void
teardown(void)
{
	server_free(&srv);
	fx_rmdir();
}

TestSuite(handlers, .init = setup, .fini = teardown, .timeout = 60);

/* POST / with a body of the given content type. */
static json_object *
post(const char *ctype, const char *body, struct answer *a)
{
	char		 ct[128];
	const char	*env[] = { "REQUEST_METHOD=POST", "PATH_INFO=/",
	    post_env_len, ct, NULL };

	snprintf(post_env_len, sizeof(post_env_len), "CONTENT_LENGTH=%zu",
	    strlen(body));
	snprintf(ct, sizeof(ct), "CONTENT_TYPE=%s", ctype);
	run_request(&srv, env, body, strlen(body), a);
	cr_assert_not_null(a->body);
	return json_tokener_parse(a->body);
}

static json_object *
post_json(const char *fmt, const char *token, struct answer *a)
{
	char	 body[1024];

	snprintf(body, sizeof(body), fmt, token);
	return post("application/json", body, a);
}

/* GET path?query with the token in X-Api-Key (NULL: no header). */
static json_object *
get(const char *path, const char *query, const char *token,
    struct answer *a)
{
	char		 p[256], q[8192], k[128];
	const char	*env[] = { "REQUEST_METHOD=GET", p, q, k, NULL };

	snprintf(p, sizeof(p), "PATH_INFO=%s", path);
	snprintf(q, sizeof(q), "QUERY_STRING=%s", query);
	if (token != NULL)
		snprintf(k, sizeof(k), "HTTP_X_API_KEY=%s", token);
	else
		env[3] = NULL;
	run_request(&srv, env, NULL, 0, a);
	cr_assert_not_null(a->body);
	return json_tokener_parse(a->body);
}

static const char *
jstr(json_object *o, const char *k)
{
	json_object	*v;

	cr_assert(json_object_object_get_ex(o, k, &v), "no %s", k);
	return json_object_get_string(v);
}

static json_object *
jdata(json_object *o)
{
	json_object	*v;

	cr_assert(json_object_object_get_ex(o, "data", &v));
	return v;
}

/* This month's durable count of user, after a flush. */
static uint64_t
counted(const char *user)
{
	uint64_t	 n;

	cr_assert_eq(usage_flush(srv.usage, srv.store), 0);
	cr_assert_eq(store_usage_month(srv.store, user, month_of(now_ms()),
	    &n), STORE_OK);
	return n;
}

/* ---- POST / ----------------------------------------------------------- */

Test(handlers, idgen_mints_and_counts)
{
	struct answer	 a;
	json_object	*o;
	const char	*id;

	o = post_json("{\"username\":\"alice\",\"token\":\"%s\","
	    "\"type\":\"uuid\"}", tok, &a);
	cr_assert_eq(a.status, 200, "%s", a.body);
	id = jstr(o, "id");
	cr_assert_eq(strlen(id), 36);
	cr_assert_eq(id[14], '4');
	cr_assert_str_eq(answer_header(&a, "RateLimit-Limit"), "1000000");
	json_object_put(o);
	answer_free(&a);
	o = post_json("{\"username\":\"ALICE\",\"token\":\"%s\","
	    "\"type\":\"word\",\"length\":\"2\",\"style\":\"title\"}", tok, &a);
	cr_assert_eq(a.status, 200, "%s", a.body);
	cr_assert_not_null(strchr(jstr(o, "id"), ' '));
	json_object_put(o);
	answer_free(&a);
	/* An error is not counted. */
	o = post_json("{\"username\":\"alice\",\"token\":\"%s\","
	    "\"type\":\"nanoid\"}", tok, &a);
	cr_assert_eq(a.status, 400);
	cr_assert_str_eq(jstr(o, "error"), "Please specify the length");
	json_object_put(o);
	answer_free(&a);
	cr_assert_eq(counted("alice"), 2);
}

Test(handlers, idgen_errors_in_their_order)
{
	static const struct {
		const char	*ctype, *body;
		int		 status;
		const char	*error;
	} cases[] = {
		{ "text/plain", "x", 415, "Unsupported Content-Type" },
		{ "application/json", "[1]", 400, "Invalid JSON body" },
		{ "application/json", "{\"username\":\"alice\"}", 401,
		  "Please provide a username and token" },
		{ "application/json", "{\"username\":\"alice\",\"token\":\"x\"}",
		  401, "Invalid username or token" },
		{ "application/json", "{\"username\":\"nobody\",\"token\":\"x\"}",
		  401, "Invalid username or token" },
	};
	struct answer	 a;
	json_object	*o;
	size_t		 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		o = post(cases[i].ctype, cases[i].body, &a);
		cr_assert_eq(a.status, cases[i].status, "%zu: %s", i, a.body);
		cr_assert_str_eq(jstr(o, "error"), cases[i].error);
		json_object_put(o);
		answer_free(&a);
	}
	o = post_json("{\"username\":\"alice\",\"token\":\"%s\","
	    "\"type\":\"ulid\"}", tok, &a);
	cr_assert_eq(a.status, 400);
	cr_assert_str_eq(jstr(o, "error"), "ID Type ulid not supported.");
	json_object_put(o);
	answer_free(&a);
	o = post_json("{\"username\":\"alice\",\"token\":\"%s\"}", tok, &a);
	cr_assert_eq(a.status, 400);
	cr_assert_str_eq(jstr(o, "error"), "Please specify the type");
	json_object_put(o);
	answer_free(&a);
}

Test(handlers, idgen_form_body)
{
	struct answer	 a;
	json_object	*o;
	char		 body[256];

	snprintf(body, sizeof(body), "username=alice&token=%s&type=2fa"
	    "&length=8", tok);
	o = post("application/x-www-form-urlencoded", body, &a);
	cr_assert_eq(a.status, 200, "%s", a.body);
	cr_assert_eq(strlen(jstr(o, "id")), 8);
	json_object_put(o);
	answer_free(&a);
}

/* A form that names a credential twice once authenticated as the first;
 * more than 64 pairs were dropped: both are now refused, as on /v1. */
Test(handlers, idgen_form_duplicates_and_overflow)
{
	struct answer	 a;
	json_object	*o;
	char		 body[2048];
	size_t		 o2, i;

	snprintf(body, sizeof(body), "username=alice&token=%s&type=uuid"
	    "&username=fred", tok);
	o = post("application/x-www-form-urlencoded", body, &a);
	cr_assert_eq(a.status, 400, "%s", a.body);
	cr_assert_str_eq(jstr(o, "error"),
	    "parameter username is given more than once");
	json_object_put(o);
	answer_free(&a);
	o2 = (size_t)snprintf(body, sizeof(body), "username=alice&token=%s"
	    "&type=uuid", tok);
	for (i = 0; i < 62; i++)
		o2 += (size_t)snprintf(body + o2, sizeof(body) - o2, "&x%zu=1",
		    i);
	o = post("application/x-www-form-urlencoded", body, &a);
	cr_assert_eq(a.status, 400, "%s", a.body);
	cr_assert_str_eq(jstr(o, "error"), "too many form fields");
	json_object_put(o);
	answer_free(&a);
	cr_assert_eq(counted("alice"), 0);
}

Test(handlers, idgen_snowflake_holds_a_slot)
{
	struct answer	 a;
	json_object	*o;

	o = post_json("{\"username\":\"alice\",\"token\":\"%s\","
	    "\"type\":\"snowflake\"}", tok, &a);
	cr_assert_eq(a.status, 200, "%s", a.body);
	cr_assert_gt(strlen(jstr(o, "id")), 10);
	cr_assert_geq(srv.slot, 0);
	json_object_put(o);
	answer_free(&a);
}

Test(handlers, idgen_rate_limit)
{
	struct answer	 a;
	json_object	*o;
	int		 i, refused = 0;

	/* The free plan: a burst of 2, then one every half second. */
	for (i = 0; i < 4; i++) {
		o = post_json("{\"username\":\"fred\",\"token\":\"%s\","
		    "\"type\":\"license\"}", ftok, &a);
		if (a.status == 429) {
			refused++;
			cr_assert_str_eq(jstr(o, "error"), "Rate limit exceeded");
			cr_assert_not_null(answer_header(&a, "Retry-After"));
		} else
			cr_assert_eq(a.status, 200, "%s", a.body);
		cr_assert_str_eq(answer_header(&a, "RateLimit-Limit"), "2");
		json_object_put(o);
		answer_free(&a);
	}
	cr_assert_geq(refused, 1);
	cr_assert_eq(counted("fred"), (uint64_t)(4 - refused));
}

/* A query string or a header idmint reads, past max_query: 414 in the
 * route's shape, before anything reads it. */
Test(handlers, long_query_and_header_are_414)
{
	static char	 q[70016], k[70016];
	const char	*env[] = { "REQUEST_METHOD=POST", "PATH_INFO=/", q,
	    "CONTENT_LENGTH=2", "CONTENT_TYPE=application/json", NULL };
	const char	*env2[] = { "REQUEST_METHOD=GET", "PATH_INFO=/v1/meta",
	    k, NULL };
	struct answer	 a;
	json_object	*o;

	snprintf(q, sizeof(q), "QUERY_STRING=");
	memset(q + 13, 'x', 70000);
	run_request(&srv, env, "{}", 2, &a);
	cr_assert_eq(a.status, 414);
	cr_assert_str_eq(a.body, "{\"error\":\"Query string too long\"}");
	answer_free(&a);
	snprintf(k, sizeof(k), "HTTP_X_API_KEY=");
	memset(k + 15, 'k', 70000);
	run_request(&srv, env2, NULL, 0, &a);
	cr_assert_eq(a.status, 414);
	o = json_tokener_parse(a.body);
	cr_assert_str_eq(jstr(o, "message"), "Request header too long");
	json_object_put(o);
	answer_free(&a);
	/* Exactly max_query passes. */
	q[13 + 65536] = '\0';
	run_request(&srv, env, "{}", 2, &a);
	cr_assert_eq(a.status, 401, "%d", a.status);
	answer_free(&a);
}

/* ---- batches ---------------------------------------------------------- */

static json_object *
jarr(json_object *o, const char *k, size_t n)
{
	json_object	*v;

	cr_assert(json_object_object_get_ex(o, k, &v), "no %s", k);
	cr_assert(json_object_is_type(v, json_type_array));
	cr_assert_eq(json_object_array_length(v), n);
	return v;
}

static const char *
jat(json_object *a, size_t i)
{
	return json_object_get_string(json_object_array_get_idx(a, i));
}

Test(handlers, idgen_batch_in_order_and_counted)
{
	struct answer	 a;
	json_object	*o, *ids, *priv;
	size_t		 i;

	o = post_json("{\"username\":\"alice\",\"token\":\"%s\","
	    "\"type\":\"uuid\",\"version\":7,\"count\":50}", tok, &a);
	cr_assert_eq(a.status, 200, "%s", a.body);
	cr_assert_null(json_object_object_get(o, "id"));
	ids = jarr(o, "ids", 50);
	for (i = 1; i < 50; i++)
		cr_assert_lt(strcmp(jat(ids, i - 1), jat(ids, i)), 0,
		    "%s !< %s", jat(ids, i - 1), jat(ids, i));
	json_object_put(o);
	answer_free(&a);
	o = post_json("{\"username\":\"alice\",\"token\":\"%s\","
	    "\"type\":\"snowflake\",\"count\":\"200\"}", tok, &a);
	cr_assert_eq(a.status, 200, "%s", a.body);
	ids = jarr(o, "ids", 200);
	for (i = 1; i < 200; i++)
		cr_assert_lt(strtoull(jat(ids, i - 1), NULL, 10),
		    strtoull(jat(ids, i), NULL, 10));
	json_object_put(o);
	answer_free(&a);
	o = post_json("{\"username\":\"alice\",\"token\":\"%s\","
	    "\"type\":\"keypair\",\"count\":3}", tok, &a);
	cr_assert_eq(a.status, 200, "%s", a.body);
	ids = jarr(o, "ids", 3);
	priv = jarr(o, "privateIDs", 3);
	for (i = 0; i < 3; i++) {
		cr_assert_eq(strlen(jat(ids, i)), 64);
		cr_assert_eq(strlen(jat(priv, i)), 128);
		/* An Ed25519 secret key ends with its public key. */
		cr_assert_str_eq(jat(priv, i) + 64, jat(ids, i));
	}
	json_object_put(o);
	answer_free(&a);
	o = post_json("{\"username\":\"alice\",\"token\":\"%s\","
	    "\"type\":\"license\",\"count\":1}", tok, &a);
	cr_assert_eq(a.status, 200, "%s", a.body);
	cr_assert_eq(strlen(jat(jarr(o, "ids", 1), 0)), 29);
	json_object_put(o);
	answer_free(&a);
	cr_assert_eq(counted("alice"), 254);
}

Test(handlers, idgen_batch_bad_count)
{
	static const struct {
		const char	*count, *error;
	} cases[] = {
		{ "0", "Count must be a whole number of at least 1" },
		{ "\"-1\"", "Count must be a whole number of at least 1" },
		{ "1.5", "Count must be a whole number of at least 1" },
		{ "true", "Count must be a whole number of at least 1" },
		{ "\"\"", "Count must be a whole number of at least 1" },
		{ "1001", "Count too large, please use a smaller number" },
		{ "99999999999999999999999",
		  "Count too large, please use a smaller number" },
	};
	struct answer	 a;
	json_object	*o;
	char		 fmt[256];
	size_t		 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(fmt, sizeof(fmt), "{\"username\":\"alice\","
		    "\"token\":\"%%s\",\"type\":\"uuid\",\"count\":%s}",
		    cases[i].count);
		o = post_json(fmt, tok, &a);
		cr_assert_eq(a.status, 400, "%s: %s", cases[i].count, a.body);
		cr_assert_str_eq(jstr(o, "error"), cases[i].error);
		json_object_put(o);
		answer_free(&a);
	}
	/* Credentials and the type come first. */
	o = post_json("{\"username\":\"alice\",\"token\":\"x%s\","
	    "\"count\":0}", tok, &a);
	cr_assert_eq(a.status, 401);
	json_object_put(o);
	answer_free(&a);
	o = post_json("{\"username\":\"alice\",\"token\":\"%s\","
	    "\"type\":\"ulid\",\"count\":0}", tok, &a);
	cr_assert_str_eq(jstr(o, "error"), "ID Type ulid not supported.");
	json_object_put(o);
	answer_free(&a);
	cr_assert_eq(counted("alice"), 0);
}

/* The free plan's 1,540 calls: a batch of 1,000, then one more is more
 * than is left, refused whole. */
Test(handlers, idgen_batch_over_the_quota_is_refused_whole)
{
	struct answer	 a;
	json_object	*o;

	o = post_json("{\"username\":\"fred\",\"token\":\"%s\","
	    "\"type\":\"2fa\",\"count\":1000}", ftok, &a);
	cr_assert_eq(a.status, 200, "%s", a.body);
	json_object_put(o);
	answer_free(&a);
	o = post_json("{\"username\":\"fred\",\"token\":\"%s\","
	    "\"type\":\"2fa\",\"count\":1000}", ftok, &a);
	cr_assert_eq(a.status, 429, "%s", a.body);
	cr_assert_str_eq(jstr(o, "error"), "Monthly quota exceeded");
	cr_assert_str_eq(answer_header(&a, "RateLimit-Remaining"), "540");
	json_object_put(o);
	answer_free(&a);
	cr_assert_eq(counted("fred"), 1000);
}

/* ---- /v1 -------------------------------------------------------------- */

Test(handlers, v1_encode_decode)
{
	struct answer	 a;
	json_object	*o, *d;

	o = get("/v1/encode", "numbers=1,2,3", tok, &a);
	cr_assert_eq(a.status, 200, "%s", a.body);
	d = jdata(o);
	cr_assert_str_eq(jstr(d, "hash"), "o2fXhV");
	cr_assert_str_eq(json_object_to_json_string(json_object_object_get(d,
	    "numbers")), "[ 1, 2, 3 ]");
	cr_assert_str_eq(jstr(o, "message"), "Encode integers to a hashid");
	cr_assert_str_eq(jstr(o, "status"), "ok");
	cr_assert_str_eq(jstr(json_object_object_get(o, "meta"),
	    "request_id"), answer_header(&a, "X-Request-Id"));
	json_object_put(o);
	answer_free(&a);
	o = get("/v1/decode", "hash=o2fXhV", tok, &a);
	cr_assert_eq(a.status, 200);
	cr_assert(json_object_get_boolean(json_object_object_get(jdata(o),
	    "valid")));
	cr_assert_str_eq(jstr(o, "message"), "Decode a hashid");
	json_object_put(o);
	answer_free(&a);
	o = get("/v1/decode-hex", "hash=o2fXhV&salt=x", tok, &a);
	cr_assert_eq(a.status, 200);
	cr_assert_null(json_object_object_get(jdata(o), "hex"));
	cr_assert_not(json_object_get_boolean(json_object_object_get(jdata(o),
	    "valid")));
	json_object_put(o);
	answer_free(&a);
	o = get("/v1/encode-hex", "hex=DEADbeef", tok, &a);
	cr_assert_eq(a.status, 200);
	cr_assert_str_eq(jstr(jdata(o), "hex"), "DEADbeef");
	json_object_put(o);
	answer_free(&a);
	cr_assert_eq(counted("alice"), 4);
}

Test(handlers, v1_errors_in_the_envelope)
{
	static const struct {
		const char	*path, *query;
		int		 key, status;
		const char	*message;
	} cases[] = {
		{ "/v1/encode", "numbers=1", 0, 401,
		  "Missing or invalid x-oanor-key header" },
		{ "/v1/encode", "", 1, 400, "numbers is required" },
		{ "/v1/encode", "numbers=1&numbers=2", 1, 400,
		  "parameter numbers is given more than once" },
		{ "/v1/encode-hex", "hex=xyz", 1, 400,
		  "hex must be hexadecimal digits (0-9, a-f, A-F)" },
		{ "/v1/decode", "hash=x&min_length=1001", 1, 400,
		  "min_length must be a whole number from 0 to 1000" },
		{ "/v1/encode", "numbers=1&alphabet=abc", 1, 400,
		  "Hashids: alphabet must contain at least 16 unique "
		  "characters, provided: abc" },
	};
	struct answer	 a;
	json_object	*o;
	size_t		 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		o = get(cases[i].path, cases[i].query, cases[i].key ? tok :
		    NULL, &a);
		cr_assert_eq(a.status, cases[i].status, "%zu: %s", i, a.body);
		cr_assert_str_eq(jstr(o, "message"), cases[i].message);
		cr_assert_str_eq(jstr(o, "status"), "error");
		cr_assert_null(jdata(o));
		json_object_put(o);
		answer_free(&a);
	}
	o = get("/v1/encode", "numbers=1", "idm_wrong", &a);
	cr_assert_eq(a.status, 401);
	json_object_put(o);
	answer_free(&a);
	cr_assert_eq(counted("alice"), 0);
}

/*
 * "X" and 3,950 times "m" is 44^3950 - 1 in the default alphabet, a hash
 * hashids.js 2.3.0 makes and decodes: a number past the cap (hashids.h),
 * so valid:false.
 */
Test(handlers, v1_decode_past_the_cap)
{
	struct answer	 a;
	json_object	*o, *d;
	char		 q[4096];

	memcpy(q, "hash=X", 6);
	memset(q + 6, 'm', 3950);
	q[6 + 3950] = '\0';
	o = get("/v1/decode", q, tok, &a);
	cr_assert_eq(a.status, 200, "%s", a.body);
	d = jdata(o);
	cr_assert_not(json_object_get_boolean(json_object_object_get(d,
	    "valid")));
	cr_assert_eq(json_object_array_length(json_object_object_get(d,
	    "numbers")), 0);
	cr_assert_eq(strlen(jstr(d, "hash")), 3951);
	json_object_put(o);
	answer_free(&a);
}

/* The endpoint list and the limits come from the route and param tables. */
Test(handlers, v1_meta_from_the_tables)
{
	struct answer	 a;
	json_object	*o, *d, *l, *e;
	size_t		 i, n = 0;

	o = get("/v1/meta", "", tok, &a);
	cr_assert_eq(a.status, 200, "%s", a.body);
	d = jdata(o);
	/* A count, as the hosted API sends it; the paths in a list. */
	cr_assert_eq(json_object_get_int(json_object_object_get(d,
	    "endpoints")), 9);
	cr_assert(json_object_is_type(json_object_object_get(d, "endpoints"),
	    json_type_int));
	e = json_object_object_get(d, "paths");
	for (i = 0; i < RT__MAX; i++)
		if (routes[i].family == FAM_V1)
			cr_assert_str_eq(json_object_get_string(
			    json_object_array_get_idx(e, n++)), routes[i].path);
	cr_assert_eq(json_object_array_length(e), n);
	cr_assert_eq(n, 9);
	l = json_object_object_get(d, "limits");
	cr_assert_eq(json_object_get_int(json_object_object_get(l, "numbers")),
	    100);
	cr_assert_eq(json_object_get_int(json_object_object_get(l, "digits")),
	    100);
	cr_assert_eq(json_object_get_int(json_object_object_get(l, "hash")),
	    4096);
	cr_assert_eq(json_object_get_int(json_object_object_get(l,
	    "decoded_digits")), HASHIDS_MAX_DIGITS);
	cr_assert_eq(json_object_get_int(json_object_object_get(l,
	    "min_length")), 1000);
	json_object_put(o);
	answer_free(&a);
}

/* ---- hardening -------------------------------------------------------- */

static uint64_t	 wall_now;
static uint64_t fake_wall(void) { return wall_now; }

/*
 * Rate limits run on the monotonic clock: a wall clock stepped back
 * (date -s, a VM restored from a snapshot) refuses nobody.  On the wall
 * clock, a step back of D seconds refused every limited key for D.
 */
Test(handlers, wall_clock_step_back_refuses_nobody)
{
	struct answer	 a;
	json_object	*o;
	int		 i;

	wall_now = now_ms();
	clock_set(fake_wall);
	/* fred's plan: a burst of 2, then one every half second. */
	for (i = 0; i < 3; i++) {
		o = post_json("{\"username\":\"fred\",\"token\":\"%s\","
		    "\"type\":\"license\"}", ftok, &a);
		cr_assert_eq(a.status, i < 2 ? 200 : 429, "%d: %s", i, a.body);
		json_object_put(o);
		answer_free(&a);
	}
	wall_now -= 1000 * 1000;		/* a thousand seconds back */
	usleep(600 * 1000);
	o = post_json("{\"username\":\"fred\",\"token\":\"%s\","
	    "\"type\":\"license\"}", ftok, &a);
	cr_assert_eq(a.status, 200, "%s", a.body);
	json_object_put(o);
	answer_free(&a);
	clock_set(NULL);
}

/* Does [p, p + n) hold needle anywhere? */
static int
holds(const char *p, size_t n, const char *needle)
{
	return p != NULL && memmem(p, n, needle, strlen(needle)) != NULL;
}

/*
 * Once the answer is out, the buffers reused from request to request hold
 * neither the key pair's secret nor the token.
 */
Test(handlers, secrets_are_wiped_after_the_answer)
{
	struct answer	 a;
	json_object	*o;
	char		 priv[200];

	o = post_json("{\"username\":\"alice\",\"token\":\"%s\","
	    "\"type\":\"keypair\"}", tok, &a);
	cr_assert_eq(a.status, 200, "%s", a.body);
	snprintf(priv, sizeof(priv), "%s", jstr(o, "privateID"));
	cr_assert_eq(strlen(priv), 128);
	cr_assert(holds(a.raw, strlen(a.raw), priv));	/* it was sent */
	cr_assert_not(holds(srv.resp.body.data, srv.resp.body.cap, priv));
	cr_assert_not(holds(srv.resp.out.data, srv.resp.out.cap, priv));
	cr_assert_not(holds(srv.resp.body.data, srv.resp.body.cap, priv + 64));
	cr_assert_not(holds(srv.req.body.data, srv.req.body.cap, tok));
	cr_assert_not(holds(srv.req.body.data, srv.req.body.cap, tok + 10));
	json_object_put(o);
	answer_free(&a);
}

/* Workers dump no core and are not dumpable, unless configured to. */
Test(handlers, no_core_dumps_unless_asked)
{
	struct conf	 c;
	struct rlimit	 rl;
	int		 status;
	pid_t		 pid;

	conf_defaults(&c);
	if ((pid = fork()) == 0) {
		if (harden_process(&c) == -1 ||
		    prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 0 ||
		    getrlimit(RLIMIT_CORE, &rl) == -1 || rl.rlim_cur != 0)
			_exit(1);
		_exit(0);
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	c.core_dumps = 1;
	if ((pid = fork()) == 0) {
		if (harden_process(&c) == -1 ||
		    prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 1)
			_exit(1);
		_exit(0);
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/*
 * A snowflake slot remembers the last millisecond issued in it: after a
 * restart on a clock stepped back, the next holder refuses rather than
 * issue an ID the last one may have issued (it issued them freely).
 */
Test(handlers, snowflake_slot_floor_after_a_restart)
{
	struct answer	 a;
	json_object	*o;
	struct conf	 c = srv.conf;
	char		 err[512], first[32];

	wall_now = now_ms();
	clock_set(fake_wall);
	o = post_json("{\"username\":\"alice\",\"token\":\"%s\","
	    "\"type\":\"snowflake\"}", tok, &a);
	cr_assert_eq(a.status, 200, "%s", a.body);
	snprintf(first, sizeof(first), "%s", jstr(o, "id"));
	json_object_put(o);
	answer_free(&a);
	/* The worker stops (its slot keeps the millisecond), another takes
	 * the slot, and the clock has gone back five seconds. */
	server_free(&srv);
	cr_assert_eq(server_init(&srv, &c), 0);
	cr_assert_eq(server_open(&srv, err, sizeof(err)), 0, "%s", err);
	wall_now -= 5000;
	o = post_json("{\"username\":\"alice\",\"token\":\"%s\","
	    "\"type\":\"snowflake\"}", tok, &a);
	cr_assert_eq(a.status, 503, "%s", a.body);
	cr_assert_str_eq(jstr(o, "error"), "Clock moved backwards");
	json_object_put(o);
	answer_free(&a);
	/* Past the floor, IDs come again, after the first one. */
	wall_now += 5001;
	o = post_json("{\"username\":\"alice\",\"token\":\"%s\","
	    "\"type\":\"snowflake\"}", tok, &a);
	cr_assert_eq(a.status, 200, "%s", a.body);
	cr_assert_gt(strtoull(jstr(o, "id"), NULL, 10),
	    strtoull(first, NULL, 10));
	json_object_put(o);
	answer_free(&a);
	clock_set(NULL);
}

/*
 * test_metrics.c: GET /metrics and the counters behind it, through
 * serve() in memory with a real store and shared table: what each kind of
 * answer adds, the histogram's buckets, the table's gauges, a clock that
 * steps back, `metrics` off, and a region laid out by another build.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <sodium.h>

#include "clock.h"
#include "fixture.h"
#include "metrics.h"

static struct server	 srv;
static char		 tok[TOKEN_STR_LEN + 1];	/* alice, unlimited */
static char		 ftok[TOKEN_STR_LEN + 1];	/* fred, plan free */
static char		 qtok[TOKEN_STR_LEN + 1];	/* quinn, quota 1 */
static char		 clen[48], hdr[128];

static void
setup(void)
{
	struct conf	 c;
	struct store	*st;
	struct plan	 q = { "custom", 0, 1 };
	char		 err[512];

	cr_assert(sodium_init() >= 0);
	fx_mkdir("test_metrics");
	st = fx_store(0);
	fx_key(st, "alice", NULL, tok);
	fx_key(st, "fred", &plans[PLAN_FREE], ftok);
	fx_key(st, "quinn", &q, qtok);
	store_close(st);
	conf_defaults(&c);
	snprintf(c.db, sizeof(c.db), "%s", fx_db);
	c.metrics = 1;
	c.flush_ms = 60000;
	cr_assert_eq(server_init(&srv, &c), 0);
	cr_assert_eq(server_open(&srv, err, sizeof(err)), 0, "%s", err);
}

static void
teardown(void)
{
	clock_set(NULL);
	clock_set_sleep(NULL);
	server_free(&srv);
	fx_rmdir();
}

TestSuite(metrics, .init = setup, .fini = teardown, .timeout = 60);

/* One request; path may hold a query string. */
static int
req(const char *method, const char *path, const char *header,
    const char *body)
{
	char		 m[32], p[256], q[256];
	const char	*env[] = { m, p, q, clen,
	    "CONTENT_TYPE=application/json", header != NULL ? header : "X=",
	    NULL };
	struct answer	 a;
	size_t		 n = strcspn(path, "?");
	int		 st;

	snprintf(m, sizeof(m), "REQUEST_METHOD=%s", method);
	snprintf(p, sizeof(p), "PATH_INFO=%.*s", (int)n, path);
	snprintf(q, sizeof(q), "QUERY_STRING=%s", path[n] ? path + n + 1 : "");
	snprintf(clen, sizeof(clen), "CONTENT_LENGTH=%zu",
	    body != NULL ? strlen(body) : 0);
	run_request(&srv, env, body, body != NULL ? strlen(body) : 0, &a);
	st = a.status;
	answer_free(&a);
	return st;
}

static int
mint(const char *user, const char *token, const char *type)
{
	char	 body[256];

	snprintf(body, sizeof(body),
	    "{\"username\":\"%s\",\"token\":\"%s\",\"type\":\"%s\"}", user,
	    token, type);
	return req("POST", "/", NULL, body);
}

static int
v1(const char *path, const char *token)
{
	snprintf(hdr, sizeof(hdr), "HTTP_X_API_KEY=%s", token);
	return req("GET", path, hdr, NULL);
}

/* GET /metrics: the whole text (free it), checked for the status and type. */
static char *
scrape(void)
{
	const char	*env[] = { "REQUEST_METHOD=GET", "PATH_INFO=/metrics", NULL };
	struct answer	 a;
	char		*text;

	run_request(&srv, env, NULL, 0, &a);
	cr_assert_eq(a.status, 200, "%s", a.raw);
	cr_assert_str_eq(answer_header(&a, "Content-Type"), METRICS_CTYPE);
	text = strdup(a.body);
	answer_free(&a);
	return text;
}

/* The value of one series ("name{labels}"); fails when it is not there. */
static double
value(const char *text, const char *series)
{
	const char	*p = text;
	size_t		 n = strlen(series);

	for (; p != NULL && *p != '\0'; p = strchr(p, '\n'), p = p ? p + 1 : p)
		if (strncmp(p, series, n) == 0 && p[n] == ' ')
			return strtod(p + n + 1, NULL);
	cr_assert_fail("no series %s in:\n%s", series, text);
	return -1;
}

static double
series(const char *series)
{
	char	*t = scrape();
	double	 v = value(t, series);

	free(t);
	return v;
}

#define REQS(route, class) \
	"idmint_requests_total{route=\"" route "\",class=\"" class "\"}"

Test(metrics, each_answer_adds_what_it_should)
{
	char	*t;
	int	 i;

	for (i = 0; i < 2; i++)
		cr_assert_eq(req("GET", "/healthz", NULL, NULL), 200);
	cr_assert_eq(req("GET", "/nope", NULL, NULL), 404);
	cr_assert_eq(req("GET", "/v1/nope", NULL, NULL), 404);
	cr_assert_eq(req("DELETE", "/healthz", NULL, NULL), 405);
	for (i = 0; i < 3; i++)
		cr_assert_eq(mint("alice", tok, "uuid"), 200);
	cr_assert_eq(mint("alice", tok, "word"), 200);
	cr_assert_eq(mint("alice", tok, "nope"), 400);
	cr_assert_eq(mint("alice", "idm_wrong", "uuid"), 401);
	cr_assert_eq(v1("/v1/encode?numbers=1,2", tok), 200);
	cr_assert_eq(v1("/v1/decode?hash=x", tok), 200);
	cr_assert_eq(v1("/v1/decode?hash=", tok), 400);
	cr_assert_eq(v1("/v1/meta", "idm_wrong"), 401);
	/* fred may send 2 at once: the third is refused by the rate. */
	for (i = 0; i < 3; i++)
		(void)v1("/v1/meta", ftok);
	/* quinn may make 1 call this month: the second is the quota's. */
	cr_assert_eq(mint("quinn", qtok, "2fa"), 200);
	cr_assert_eq(mint("quinn", qtok, "2fa"), 429);

	t = scrape();
	cr_assert_eq(value(t, REQS("healthz", "2xx")), 2);
	cr_assert_eq(value(t, REQS("healthz", "4xx")), 1);
	cr_assert_eq(value(t, REQS("unknown", "4xx")), 2);
	cr_assert_eq(value(t, REQS("idgen", "2xx")), 5);
	cr_assert_eq(value(t, REQS("idgen", "4xx")), 3);
	cr_assert_eq(value(t, REQS("encode", "2xx")), 1);
	cr_assert_eq(value(t, REQS("decode", "2xx")), 1);
	cr_assert_eq(value(t, REQS("decode", "4xx")), 1);
	cr_assert_eq(value(t, REQS("meta", "2xx")), 2);
	cr_assert_eq(value(t, REQS("meta", "4xx")), 2);
	cr_assert_eq(value(t, REQS("metrics", "2xx")), 0, "not yet counted");
	cr_assert_eq(value(t, "idmint_ids_minted_total{type=\"uuid\"}"), 3);
	cr_assert_eq(value(t, "idmint_ids_minted_total{type=\"words\"}"), 1);
	cr_assert_eq(value(t, "idmint_ids_minted_total{type=\"2fa\"}"), 1);
	cr_assert_eq(value(t, "idmint_ids_minted_total{type=\"cuid\"}"), 0);
	cr_assert_eq(value(t, "idmint_v1_calls_total{endpoint=\"encode\"}"), 1);
	cr_assert_eq(value(t, "idmint_v1_calls_total{endpoint=\"decode\"}"), 1);
	cr_assert_eq(value(t, "idmint_v1_calls_total{endpoint=\"meta\"}"), 2);
	cr_assert_eq(value(t, "idmint_unauthorized_total"), 2);
	cr_assert_eq(value(t, "idmint_limit_refusals_total{limit=\"rate\"}"), 1);
	cr_assert_eq(value(t, "idmint_limit_refusals_total{limit=\"quota\"}"), 1);
	cr_assert_eq(value(t, "idmint_server_errors_total"), 0);
	/* 20 answers so far: 4 plain, 8 of POST /, 8 under /v1 ... */
	cr_assert_eq(value(t, "idmint_request_duration_seconds_count"
	    "{family=\"plain\"}"), 4);
	cr_assert_eq(value(t, "idmint_request_duration_seconds_count"
	    "{family=\"idgen\"}"), 8);
	cr_assert_eq(value(t, "idmint_request_duration_seconds_count"
	    "{family=\"v1\"}"), 8);
	cr_assert_eq(value(t, "idmint_request_duration_seconds_bucket"
	    "{family=\"v1\",le=\"+Inf\"}"), 8);
	cr_assert_gt(value(t, "idmint_request_duration_seconds_sum"
	    "{family=\"v1\"}"), 0);
	/* fred and quinn have a quota (a cell each), fred a rate. */
	cr_assert_eq(value(t, "idmint_shared_table_cells_used{kind=\"quota\"}"), 2);
	cr_assert_eq(value(t, "idmint_shared_table_cells_used{kind=\"rate\"}"), 1);
	cr_assert_eq(value(t, "idmint_shared_table_cells{kind=\"count\"}"),
	    SHM_COUNT_DEFAULT);
	free(t);
	cr_assert_eq(series(REQS("metrics", "2xx")), 1, "the scrape before");
}

/* A batch mints count IDs: each counts. */
Test(metrics, batch_counts_each_id)
{
	char	 body[256];

	snprintf(body, sizeof(body), "{\"username\":\"alice\",\"token\":"
	    "\"%s\",\"type\":\"cuid\",\"count\":25}", tok);
	cr_assert_eq(req("POST", "/", NULL, body), 200);
	cr_assert_eq(mint("alice", tok, "cuid"), 200);
	cr_assert_eq(series("idmint_ids_minted_total{type=\"cuid\"}"), 26);
	cr_assert_eq(series(REQS("idgen", "2xx")), 2);
}

/* The counts not yet flushed, then none once flushed. */
Test(metrics, pending_counts_and_flush)
{
	int	 i;

	/* The first request of a process finds a flush due: have it now. */
	cr_assert_eq(usage_flush(srv.usage, srv.store), 0);
	for (i = 0; i < 7; i++)
		cr_assert_eq(mint("alice", tok, "license"), 200);
	cr_assert_eq(series("idmint_usage_pending_calls"), 7);
	cr_assert_eq(usage_flush(srv.usage, srv.store), 0);
	cr_assert_eq(series("idmint_usage_pending_calls"), 0);
	cr_assert_geq(series("idmint_usage_flushes_total"), 1);
	cr_assert_lt(series("idmint_usage_last_flush_age_seconds"), 60);
	cr_assert_eq(series("idmint_snowflake_slots_held"), 1, "this process");
	cr_assert_eq(series("idmint_snowflake_slots"), 32);
}

/* A duration on a bucket's bound falls in that bucket, past it in the next. */
Test(metrics, histogram_buckets)
{
	struct response	 r;
	struct ctx	 x;
	char		*t;

	memset(&x, 0, sizeof(x));
	resp_init(&r);
	x.resp = &r;
	x.fam = FAM_V1;
	metrics_count(srv.usage, &x, 50000);		/* 50 us */
	metrics_count(srv.usage, &x, 50001);
	metrics_count(srv.usage, &x, 3000000000ULL);	/* 3 s */
	resp_free(&r);
	t = scrape();
#define B(le) "idmint_request_duration_seconds_bucket{family=\"v1\",le=\"" le "\"}"
	cr_assert_eq(value(t, B("5e-05")), 1);
	cr_assert_eq(value(t, B("0.0001")), 2);
	cr_assert_eq(value(t, B("1")), 2);
	cr_assert_eq(value(t, B("+Inf")), 3);
#undef B
	cr_assert_eq(value(t, "idmint_request_duration_seconds_sum"
	    "{family=\"v1\"}"), 3.000100001);
	cr_assert_eq(value(t, REQS("unknown", "2xx")), 3);
	free(t);
}

static uint64_t	 fake_now;

static uint64_t
fake_clock(void)
{
	return fake_now;
}

static void
fake_sleep(unsigned ms)
{
	(void)ms;		/* the clock stays where it is */
}

Test(metrics, clock_back_refusals)
{
	clock_set(fake_clock);
	clock_set_sleep(fake_sleep);
	fake_now = 1700000000000ULL;
	cr_assert_eq(mint("alice", tok, "snowflake"), 200);
	fake_now -= 1000;		/* a second back: past the 10 ms wait */
	cr_assert_eq(mint("alice", tok, "snowflake"), 503);
	cr_assert_eq(mint("alice", tok, "snowflake"), 503);
	cr_assert_eq(series("idmint_snowflake_clock_back_total"), 2);
	cr_assert_eq(series("idmint_server_errors_total"), 2);
	cr_assert_eq(series(REQS("idgen", "5xx")), 2);
	cr_assert_eq(series("idmint_ids_minted_total{type=\"snowflake\"}"), 1);
}

/* Off: /metrics is a 404 for every method, and nothing is counted. */
Test(metrics, off)
{
	srv.conf.metrics = 0;
	cr_assert_eq(req("GET", "/metrics", NULL, NULL), 404);
	cr_assert_eq(req("POST", "/metrics", NULL, "{}"), 404);
	cr_assert_eq(req("GET", "/healthz", NULL, NULL), 200);
	srv.conf.metrics = 1;
	cr_assert_eq(series(REQS("healthz", "2xx")), 0);
	cr_assert_eq(series(REQS("unknown", "4xx")), 0);
	cr_assert_eq(req("HEAD", "/metrics", NULL, NULL), 405);
}

/* A region of another layout: no counting, and /metrics says 503. */
Test(metrics, other_layout)
{
	uint64_t	*version = usage_metrics(srv.usage);

	cr_assert_eq(req("GET", "/healthz", NULL, NULL), 200);
	cr_assert_eq(*version, 1);
	*version = 99;
	cr_assert_eq(req("GET", "/metrics", NULL, NULL), 503);
	cr_assert_eq(req("GET", "/healthz", NULL, NULL), 200);
	*version = 1;
	cr_assert_eq(series(REQS("healthz", "2xx")), 1);
	cr_assert_eq(series(REQS("metrics", "5xx")), 0);
}

/* Does the scrape hold a series of this name (any labels)? */
static int
has(const char *name)
{
	char	*t = scrape(), *p;
	size_t	 n = strlen(name);
	int	 found = 0;

	for (p = t; p != NULL && *p != '\0'; p = strchr(p, '\n'), p = p ? p + 1 : p)
		if (strncmp(p, name, n) == 0 && (p[n] == ' ' || p[n] == '{'))
			found = 1;
	free(t);
	return found;
}

/*
 * Cluster mode: the sync process's last round and the node-id lease, as
 * it left them in the store; nothing of it on a single machine.
 */
Test(metrics, cluster_sync_lag_and_lease)
{
	struct cluster_state cs;
	uint64_t	 mono = clock_mono_ns() / NS_PER_MS;
	double		 lag, left;

	cr_assert(!has("idmint_cluster_nodes"), "not in cluster mode");
	snprintf(srv.conf.cluster, sizeof(srv.conf.cluster), "dbname=unused");
	memset(&cs, 0, sizeof(cs));
	cs.nodes = 3;
	cs.leased = 1;
	cs.node_id = 2;
	cs.fence_ms = mono + 5000;
	cs.synced_ms = now_ms() - 1500;
	cr_assert_eq(store_cluster_set_state(srv.store, &cs), STORE_OK);
	cr_assert_eq(series("idmint_cluster_nodes"), 3);
	cr_assert_eq(series("idmint_cluster_lease_held"), 1);
	cr_assert_eq(series("idmint_cluster_node_id"), 2);
	lag = series("idmint_cluster_sync_lag_seconds");
	cr_assert(lag >= 1.5 && lag < 60, "lag %f", lag);
	left = series("idmint_cluster_lease_remaining_seconds");
	cr_assert(left > 0 && left <= 5, "left %f", left);
	/* The lease ran out: held 0, no node id, no time left. */
	cs.fence_ms = mono - 1;
	cr_assert_eq(store_cluster_set_state(srv.store, &cs), STORE_OK);
	cr_assert_eq(series("idmint_cluster_lease_held"), 0);
	cr_assert(!has("idmint_cluster_node_id"));
	cr_assert(!has("idmint_cluster_lease_remaining_seconds"));
	srv.conf.cluster[0] = '\0';
}

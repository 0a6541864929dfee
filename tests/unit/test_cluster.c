/*
 * test_cluster.c: the worker's side of cluster mode, without PostgreSQL:
 * what the sync process writes into the store (state, the other nodes'
 * counts, mirrored keys, the store's binding to its node name), and what
 * the request path makes of it: the rate split among live nodes, the
 * quota counting the other nodes' calls, and snowflakes under a leased
 * node id, fenced before the lease ends.  The PostgreSQL side is tested
 * through real servers in tests/http/suite_cluster.py.
 */
#include "config.h"

#include <string.h>

#include <criterion/criterion.h>
#include <json-c/json.h>
#include <sodium.h>

#include "clock.h"
#include "fixture.h"
#include "limit.h"

#define NS	NS_PER_S
#define MS	NS_PER_MS

static struct store	*st;
static struct usage	*u;

static void
setup(void)
{
	cr_assert(sodium_init() >= 0);
	fx_mkdir("test_cluster");
	st = fx_store(0);
	u = fx_usage();
}

static void
teardown(void)
{
	usage_close(u);
	store_close(st);
	fx_rmdir();
}

TestSuite(cluster, .init = setup, .fini = teardown, .timeout = 60);

/* ---- what the sync process writes ----------------------------------- */

Test(cluster, state_round_trip_and_default)
{
	struct cluster_state in, out;

	cr_assert_eq(store_cluster_state(st, &out), STORE_NOTFOUND);
	cr_assert_eq(out.nodes, 1, "no state yet: one node");
	cr_assert_eq(out.leased, 0, "no state yet: no lease");
	memset(&in, 0, sizeof(in));
	in.nodes = 3;
	in.leased = 1;
	in.node_id = 17;
	in.fence_ms = 123456789;
	in.not_before_ms = 1700000000000ULL;
	in.synced_ms = 1700000000123ULL;
	cr_assert_eq(store_cluster_set_state(st, &in), STORE_OK, "%s",
	    store_error(st));
	cr_assert_eq(store_cluster_state(st, &out), STORE_OK);
	cr_assert_eq(memcmp(&in, &out, sizeof(in)), 0);
}

Test(cluster, remote_counts_put_read_delete)
{
	struct remote_count c[3];
	uint64_t	 n;

	memset(c, 0, sizeof(c));
	snprintf(c[0].user, sizeof(c[0].user), "bob");
	c[0].month = 202611;
	c[0].count = 42;
	snprintf(c[1].user, sizeof(c[1].user), "bobby");
	c[1].month = 202611;
	c[1].count = 7;
	c[2] = c[0];
	c[2].month = 202610;
	c[2].count = 5;
	cr_assert_eq(store_cluster_set_remote(st, c, 3), STORE_OK);
	cr_assert_eq(store_cluster_remote(st, "bob", 202611, &n), STORE_OK);
	cr_assert_eq(n, 42);
	cr_assert_eq(store_cluster_remote(st, "bobby", 202611, &n), STORE_OK);
	cr_assert_eq(n, 7, "bob's count is not bobby's");
	cr_assert_eq(store_cluster_remote(st, "bob", 202610, &n), STORE_OK);
	cr_assert_eq(n, 5);
	cr_assert_eq(store_cluster_remote(st, "carol", 202611, &n), STORE_OK);
	cr_assert_eq(n, 0, "none: zero");
	c[0].count = 0;
	cr_assert_eq(store_cluster_set_remote(st, c, 1), STORE_OK);
	cr_assert_eq(store_cluster_remote(st, "bob", 202611, &n), STORE_OK);
	cr_assert_eq(n, 0, "a count of 0 deletes the row");
}

static struct key_change
change(const char *user, const unsigned char *hash, enum key_status s,
    int removed)
{
	struct key_change c;

	memset(&c, 0, sizeof(c));
	snprintf(c.key.user, sizeof(c.key.user), "%s", user);
	snprintf(c.key.plan, sizeof(c.key.plan), "free");
	c.key.rate = 2;
	c.key.quota = 1540;
	c.key.status = s;
	c.key.created = 1700000000;
	memcpy(c.key.hash, hash, TOKEN_HASH_LEN);
	c.removed = removed;
	return c;
}

Test(cluster, keys_mirrored_rotated_removed_and_full)
{
	unsigned char	 h1[TOKEN_HASH_LEN], h2[TOKEN_HASH_LEN];
	char		 t1[TOKEN_STR_LEN + 1], t2[TOKEN_STR_LEN + 1];
	char		 lt[TOKEN_STR_LEN + 1];
	struct key_change c[2];
	struct key	 k;

	cr_assert_eq(token_new(t1, h1), 0);
	cr_assert_eq(token_new(t2, h2), 0);
	c[0] = change("alice", h1, KEY_ACTIVE, 0);
	cr_assert_eq(store_cluster_keys(st, c, 1, 0), STORE_OK, "%s",
	    store_error(st));
	cr_assert_eq(store_auth_hash(st, h1, &k), STORE_OK);
	cr_assert_str_eq(k.plan, "free");
	cr_assert_eq(k.quota, 1540);
	cr_assert_eq(store_auth_user(st, "alice", 5, h1, &k), STORE_OK);

	/* Rotated elsewhere: the old token stops here too, the new works. */
	c[0] = change("alice", h2, KEY_ACTIVE, 0);
	cr_assert_eq(store_cluster_keys(st, c, 1, 0), STORE_OK);
	cr_assert_eq(store_auth_hash(st, h1, &k), STORE_DENIED);
	cr_assert_eq(store_auth_hash(st, h2, &k), STORE_OK);

	/* Suspended, then removed. */
	c[0] = change("alice", h2, KEY_SUSPENDED, 0);
	cr_assert_eq(store_cluster_keys(st, c, 1, 0), STORE_OK);
	cr_assert_eq(store_auth_hash(st, h2, &k), STORE_DENIED);
	c[0] = change("alice", h2, KEY_ACTIVE, 1);
	cr_assert_eq(store_cluster_keys(st, c, 1, 0), STORE_OK);
	cr_assert_eq(store_key_by_user(st, "alice", 5, &k), STORE_NOTFOUND);
	cr_assert_eq(store_key_by_hash(st, h2, &k), STORE_NOTFOUND);
	/* Removing what is not there is no error. */
	cr_assert_eq(store_cluster_keys(st, c, 1, 0), STORE_OK);

	/* In full: a key only this store had is gone, with its token. */
	fx_key(st, "local", NULL, lt);
	c[0] = change("bob", h1, KEY_ACTIVE, 0);
	c[1] = change("gone", h2, KEY_ACTIVE, 1);
	cr_assert_eq(store_cluster_keys(st, c, 2, 1), STORE_OK);
	cr_assert_eq(store_key_by_user(st, "local", 5, &k), STORE_NOTFOUND);
	cr_assert_eq(store_key_by_user(st, "gone", 4, &k), STORE_NOTFOUND);
	cr_assert_eq(store_auth_user(st, "bob", 3, h1, &k), STORE_OK);
	{
		unsigned char lh[TOKEN_HASH_LEN];

		token_hash(lt, TOKEN_STR_LEN, lh);
		cr_assert_eq(store_key_by_hash(st, lh, &k), STORE_NOTFOUND);
	}
}

Test(cluster, store_binds_to_one_node_name)
{
	unsigned char	 a[STORE_ID_LEN], b[STORE_ID_LEN];

	cr_assert_eq(store_cluster_bind(st, "node-a", a), STORE_OK, "%s",
	    store_error(st));
	cr_assert_eq(store_cluster_bind(st, "node-a", b), STORE_OK);
	cr_assert_eq(memcmp(a, b, STORE_ID_LEN), 0, "the same id again");
	cr_assert_eq(store_cluster_bind(st, "node-b", b), STORE_EXISTS);
	cr_assert(strstr(store_error(st), "counts of node \"node-a\"") != NULL,
	    "%s", store_error(st));
}

/* ---- limits: this node's share ------------------------------------- */

static int
check(const char *user, uint32_t rate, uint64_t quota, uint64_t now,
    const struct limit_share *sh, struct limit_verdict *v)
{
	cr_assert_eq(store_rd_begin(st), STORE_OK);
	cr_assert_eq(limits_check(u, st, user, rate, quota, now / MS, now, sh,
	    v), 0, "%s", v->message);
	if (v->ok)
		limits_done(u, st, v, "uuid", 200);
	store_rd_end(st);
	return v->ok;
}

Test(cluster, rate_split_among_live_nodes)
{
	struct limit_share sh = { 3, 0 };
	struct limit_verdict v;
	uint64_t	 t = 1800000000ULL * NS;
	int		 i, n = 0;

	/* 30/s over 3 nodes: a burst of 10 here, then one every 100 ms. */
	for (i = 0; i < 30; i++)
		n += check("alice", 30, 0, t, &sh, &v);
	cr_assert_eq(n, 10);
	cr_assert_eq(v.limit, 30, "the headers state the key's rate");
	cr_assert(!check("alice", 30, 0, t + 99 * MS, &sh, &v));
	cr_assert(check("alice", 30, 0, t + 100 * MS, &sh, &v));
	/* Over 10 s at full speed: 10 + 100, not 300. */
	for (n = 0, i = 1; i <= 1000; i++)
		n += check("alice", 30, 0, t + 100 * MS + i * 10 * MS, &sh, &v);
	cr_assert_eq(n, 100);

	/* 2/s over 3 nodes: one at once, then one every 1.5 s. */
	cr_assert(check("bob", 2, 0, t, &sh, &v));
	cr_assert(!check("bob", 2, 0, t + 1499 * MS, &sh, &v));
	cr_assert(check("bob", 2, 0, t + 1500 * MS, &sh, &v));
	cr_assert_eq(v.limit, 2);

	/* One node, or no share: the whole rate, as on one machine. */
	sh.nodes = 1;
	for (n = 0, i = 0; i < 40; i++)
		n += check("carol", 30, 0, t, &sh, &v);
	cr_assert_eq(n, 30);
	for (n = 0, i = 0; i < 40; i++)
		n += check("dave", 30, 0, t, NULL, &v);
	cr_assert_eq(n, 30);
}

Test(cluster, quota_counts_the_other_nodes)
{
	struct limit_share sh = { 3, 3 };
	struct limit_verdict v;
	uint64_t	 t = 1800000000ULL * NS;
	int		 i, n = 0;

	for (i = 0; i < 5; i++)
		n += check("alice", 0, 5, t, &sh, &v);
	cr_assert_eq(n, 2, "5 - 3 elsewhere");
	cr_assert_eq(v.status, 429);
	cr_assert_str_eq(v.message, "Monthly quota exceeded");
	cr_assert_eq(v.limit, 5);
	sh.remote = 0;
	cr_assert(check("bob", 0, 5, t, &sh, &v));
	cr_assert_eq(v.remaining, 4);
	sh.remote = 2;
	cr_assert(check("bob", 0, 5, t, &sh, &v));
	cr_assert_eq(v.remaining, 1, "5 - 1 here - 2 elsewhere - this one");
	sh.remote = 9;
	cr_assert(!check("bob", 0, 5, t, &sh, &v), "over by the others");
}

/* ---- snowflakes under a leased node id --------------------------- */

static struct server	 srv;
static char		 tok[TOKEN_STR_LEN + 1];

/* The server's own store only: one LMDB environment per process. */
static void
serve_setup(void)
{
	struct conf	 c;
	char		 err[512];

	cr_assert(sodium_init() >= 0);
	fx_mkdir("test_cluster");
	st = fx_store(0);
	fx_key(st, "alice", NULL, tok);
	store_close(st);
	conf_defaults(&c);
	snprintf(c.db, sizeof(c.db), "%s", fx_db);
	snprintf(c.cluster, sizeof(c.cluster), "dbname=unused");
	c.node_bits = 5;
	cr_assert_eq(server_init(&srv, &c), 0);
	cr_assert_eq(server_open(&srv, err, sizeof(err)), 0, "%s", err);
	st = srv.store;
}

static void
serve_teardown(void)
{
	server_free(&srv);
	fx_rmdir();
}

static int
snowflake(uint64_t *id)
{
	char		 body[256], len[48];
	const char	*env[] = { "REQUEST_METHOD=POST", "PATH_INFO=/", len,
	    "CONTENT_TYPE=application/json", NULL };
	struct answer	 a;
	json_object	*o;
	int		 status;

	snprintf(body, sizeof(body), "{\"username\":\"alice\",\"token\":"
	    "\"%s\",\"type\":\"snowflake\"}", tok);
	snprintf(len, sizeof(len), "CONTENT_LENGTH=%zu", strlen(body));
	run_request(&srv, env, body, strlen(body), &a);
	status = a.status;
	if (status == 200) {
		o = json_tokener_parse(a.body);
		*id = strtoull(json_object_get_string(json_object_object_get(o,
		    "id")), NULL, 10);
		json_object_put(o);
	}
	answer_free(&a);
	return status;
}

static void
lease(int leased, uint32_t id, int64_t fence_in_ms, int64_t nb_in_ms)
{
	struct cluster_state cs;

	memset(&cs, 0, sizeof(cs));
	cs.nodes = 1;
	cs.leased = leased;
	cs.node_id = id;
	cs.fence_ms = (uint64_t)((int64_t)(clock_mono_ns() / MS) + fence_in_ms);
	cs.not_before_ms = (uint64_t)((int64_t)now_ms() + nb_in_ms);
	cr_assert_eq(store_cluster_set_state(st, &cs), STORE_OK);
}

TestSuite(cluster_serve, .init = serve_setup, .fini = serve_teardown,
    .timeout = 60);

Test(cluster_serve, snowflakes_only_under_a_live_lease)
{
	uint64_t	 id = 0;

	cr_assert_eq(snowflake(&id), 503, "no lease yet");
	lease(1, 9, 5000, -5000);
	cr_assert_eq(snowflake(&id), 200);
	/* node id 9 in the high 5 bits of the 10-bit worker id */
	cr_assert_eq((id >> 12) & 0x3ff, 9u << 5 | (unsigned)srv.slot,
	    "worker id %llu", (unsigned long long)((id >> 12) & 0x3ff));
	lease(1, 9, -1, -5000);
	cr_assert_eq(snowflake(&id), 503, "fenced: past the lease's fence");
	lease(1, 9, 5000, 2000);
	cr_assert_eq(snowflake(&id), 503, "before the last holder's time");
	lease(0, 9, 5000, -5000);
	cr_assert_eq(snowflake(&id), 503, "lease given back");
	lease(1, 32, 5000, -5000);
	cr_assert_eq(snowflake(&id), 503, "an id past node_bits");
	lease(1, 3, 5000, -5000);
	cr_assert_eq(snowflake(&id), 200);
	cr_assert_eq((id >> 12) >> 5 & 0x1f, 3);
}

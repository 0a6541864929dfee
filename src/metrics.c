/*
 * metrics.c: the counters behind GET /metrics, in the shared table's
 * metrics region, and their text exposition.
 *
 * Per-route and per-type counters sit in slots keyed by a hash of the
 * name, not by position, so builds with other routes or ID types (a
 * rolling upgrade, a newer release) share one region without mixing up
 * their counts.  A process finds its slots once and keeps their index;
 * a slot's key is checked on every use, so a table made anew is noticed.
 * What is positional (status classes, route families, buckets) is fixed
 * by REGION_VERSION: change it and bump that.
 */
#include "config.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "clock.h"
#include "conf.h"
#include "gen.h"
#include "log.h"
#include "metrics.h"
#include "serve.h"
#include "store.h"
#include "usage.h"

#define REGION_VERSION	1
#define NSLOTS		64	/* routes and ID types, with room to grow */
#define NTYPES		16	/* ID types one build knows at most */
#define NBUCKETS	13	/* duration buckets, +Inf apart */
#define FNV0		UINT64_C(0xcbf29ce484222325)

#define ADD(p)		atomic_fetch_add_explicit((p), 1, memory_order_relaxed)
#define LOAD(p)		atomic_load_explicit((p), memory_order_relaxed)

enum mclass { MC_2XX, MC_4XX, MC_5XX, MC__MAX };
enum why { WHY_RATE, WHY_QUOTA, WHY__MAX };
/* In a route's slot: one counter per class, then its Hashids calls. */
#define N_HASHIDS	MC__MAX

struct slot {
	_Atomic uint64_t key;		/* hash of kind and name; 0: free */
	_Atomic uint64_t n[MC__MAX + 1];
};

struct region {
	_Atomic uint64_t version;	/* REGION_VERSION; 0 until first use */
	_Alignas(64) struct slot slot[NSLOTS];
	_Atomic uint64_t unauthorized;
	_Atomic uint64_t limited[WHY__MAX];
	_Atomic uint64_t server_errors;
	_Atomic uint64_t clock_back;
	struct {
		_Atomic uint64_t bucket[NBUCKETS + 1];	/* not cumulative */
		_Atomic uint64_t sum_ns;
	} dur[FAM__MAX];
};

_Static_assert(sizeof(struct region) <= USAGE_METRICS_SIZE, "region size");
_Static_assert(FAM__MAX == 3, "a new route family changes the region: "
    "bump REGION_VERSION and fam_names");

static const char *const class_names[MC__MAX] = { "2xx", "4xx", "5xx" };
static const char *const why_names[WHY__MAX] = { "rate", "quota" };
static const char *const fam_names[FAM__MAX] = { "plain", "idgen", "v1" };
static const char *const kind_names[3] = { "count", "quota", "rate" };

static const struct {
	uint64_t	 ns;
	const char	*le;
} buckets[NBUCKETS] = {
	{ 50000, "5e-05" }, { 100000, "0.0001" }, { 250000, "0.00025" },
	{ 500000, "0.0005" }, { 1000000, "0.001" }, { 2500000, "0.0025" },
	{ 5000000, "0.005" }, { 10000000, "0.01" }, { 25000000, "0.025" },
	{ 50000000, "0.05" }, { 100000000, "0.1" }, { 250000000, "0.25" },
	{ 1000000000, "1" },
};

/* ---- the region ------------------------------------------------------- */

static uint64_t
slot_key(const char *kind, const char *name)
{
	uint64_t	 h = FNV0;
	const char	*p;

	for (p = kind; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * UINT64_C(0x100000001b3);
	h = (h ^ ':') * UINT64_C(0x100000001b3);
	for (p = name; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * UINT64_C(0x100000001b3);
	return h | 1;			/* never 0, the free slot */
}

/* The slot of key: found, or claimed when claim; -1 if none. */
static int
slot_find(struct region *m, uint64_t key, int claim)
{
	uint64_t	 cur;
	unsigned	 i, n;

	for (n = 0, i = (unsigned)(key % NSLOTS); n < NSLOTS;
	    n++, i = (i + 1) % NSLOTS) {
		cur = LOAD(&m->slot[i].key);
		if (cur == key)
			return (int)i;
		if (cur != 0)
			continue;
		if (!claim)
			return -1;
		if (atomic_compare_exchange_strong(&m->slot[i].key, &cur, key) ||
		    cur == key)
			return (int)i;
	}
	return -1;
}

/* A name's slot, by a per-process cache of its index, checked each time. */
struct cached {
	uint64_t	 key;
	int		 slot;
};

static struct slot *
slot_of(struct region *m, struct cached *c, const char *kind,
    const char *name)
{
	if (c->key == 0)
		c->key = slot_key(kind, name);
	if (c->slot < 0 || c->slot >= NSLOTS ||
	    LOAD(&m->slot[c->slot].key) != c->key)
		c->slot = slot_find(m, c->key, 1);
	return c->slot < 0 ? NULL : &m->slot[c->slot];
}

static struct region *
region(struct usage *u)
{
	static int	 warned;
	struct region	*m = usage_metrics(u);
	uint64_t	 v = LOAD(&m->version);

	if (v == REGION_VERSION || (v == 0 &&
	    (atomic_compare_exchange_strong(&m->version, &v, REGION_VERSION) ||
	    v == REGION_VERSION)))
		return m;
	if (!warned++)
		log_warn("the metrics region of %s has layout %llu, this "
		    "build %d: not counting until the table is made anew",
		    USAGE_FILE, (unsigned long long)v, REGION_VERSION);
	return NULL;
}

/* ---- counting --------------------------------------------------------- */

static struct cached	 route_cache[RT__MAX + 1], type_cache[NTYPES];

static const char *
route_name(size_t r)
{
	return r < RT__MAX ? routes[r].name : "unknown";
}

/* A batch mints n IDs at once. */
static void
count_minted(struct region *m, const char *type, uint64_t n)
{
	struct slot	*s;
	size_t		 i;

	for (i = 0; i < NTYPES && generators[i] != NULL; i++)
		if (strcmp(generators[i]->name, type) == 0) {
			if ((s = slot_of(m, &type_cache[i], "type", type)) !=
			    NULL)
				atomic_fetch_add_explicit(&s->n[0], n,
				    memory_order_relaxed);
			return;
		}
}

/* Only this process refuses snowflakes: add what it refused since. */
static void
count_clock_back(struct region *m)
{
	static uint64_t	 seen;

	if (gen_clock_back != seen) {
		atomic_fetch_add_explicit(&m->clock_back, gen_clock_back - seen,
		    memory_order_relaxed);
		seen = gen_clock_back;
	}
}

void
metrics_count(struct usage *u, const struct ctx *x, uint64_t dur_ns)
{
	struct region	*m;
	struct slot	*s;
	enum status	 st = x->resp->status;
	size_t		 r = x->rt != NULL ? (size_t)(x->rt - routes) : RT__MAX;
	unsigned	 b;

	if (u == NULL || (m = region(u)) == NULL)
		return;
	s = slot_of(m, &route_cache[r], "route", route_name(r));
	if (s != NULL)
		ADD(&s->n[st >= 500 ? MC_5XX : st >= 400 ? MC_4XX : MC_2XX]);
	if (st == HTTP_OK && x->fam == FAM_IDGEN && x->count_type != NULL)
		count_minted(m, x->count_type, x->calls > 0 ? x->calls : 1);
	else if (st == HTTP_OK && x->fam == FAM_V1 && x->rt != NULL && s != NULL)
		ADD(&s->n[N_HASHIDS]);
	else if (st == HTTP_UNAUTHORIZED)
		ADD(&m->unauthorized);
	else if (st == HTTP_TOO_MANY)
		ADD(&m->limited[x->verdict.by_quota ? WHY_QUOTA : WHY_RATE]);
	else if (st >= 500)
		ADD(&m->server_errors);
	count_clock_back(m);
	for (b = 0; b < NBUCKETS && dur_ns > buckets[b].ns; b++)
		;
	ADD(&m->dur[x->fam].bucket[b]);
	atomic_fetch_add_explicit(&m->dur[x->fam].sum_ns, dur_ns,
	    memory_order_relaxed);
}

/* ---- the exposition --------------------------------------------------- */

static void
head(struct buf *b, const char *name, const char *type, const char *help)
{
	buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* One sample: name{labels} value; labels may be "". */
static void
sample(struct buf *b, const char *name, const char *labels, uint64_t v)
{
	buf_printf(b, "%s%s%s%s %llu\n", name, *labels ? "{" : "", labels,
	    *labels ? "}" : "", (unsigned long long)v);
}

/* A metric of one sample, without labels. */
static void
one(struct buf *b, const char *name, const char *type, const char *help,
    uint64_t v)
{
	head(b, name, type, help);
	sample(b, name, "", v);
}

/* A counter of a named slot that was never claimed is 0. */
static uint64_t
slot_value(struct region *m, const char *kind, const char *name, int n)
{
	int	 i = slot_find(m, slot_key(kind, name), 0);

	return i < 0 ? 0 : LOAD(&m->slot[i].n[n]);
}

static void
write_requests(struct region *m, struct buf *b)
{
	static const char name[] = "idmint_requests_total";
	char		 l[128];
	size_t		 r;
	int		 c;

	head(b, name, "counter", "Requests answered, by route (unknown: no "
	    "route matched) and status class.");
	for (r = 0; r <= RT__MAX; r++)
		for (c = 0; c < MC__MAX; c++) {
			snprintf(l, sizeof(l), "route=\"%s\",class=\"%s\"",
			    route_name(r), class_names[c]);
			sample(b, name, l, slot_value(m, "route", route_name(r),
			    c));
		}
}

static void
write_calls(struct region *m, struct buf *b)
{
	char		 l[128];
	size_t		 i;

	head(b, "idmint_ids_minted_total", "counter",
	    "IDs minted by POST / (each ID of a batch counts), by type.");
	for (i = 0; i < NTYPES && generators[i] != NULL; i++) {
		snprintf(l, sizeof(l), "type=\"%s\"", generators[i]->name);
		sample(b, "idmint_ids_minted_total", l,
		    slot_value(m, "type", generators[i]->name, 0));
	}
	head(b, "idmint_v1_calls_total", "counter",
	    "/v1 calls answered 200 (Hashids, Sqids, snowflakes), by endpoint.");
	for (i = 0; i < RT__MAX; i++) {
		if (routes[i].family != FAM_V1)
			continue;
		snprintf(l, sizeof(l), "endpoint=\"%s\"", routes[i].name);
		sample(b, "idmint_v1_calls_total", l,
		    slot_value(m, "route", routes[i].name, N_HASHIDS));
	}
}

static void
write_refusals(struct region *m, struct buf *b)
{
	char		 l[64];
	int		 w;

	one(b, "idmint_unauthorized_total", "counter",
	    "Requests refused with 401 (missing or wrong credentials).",
	    LOAD(&m->unauthorized));
	head(b, "idmint_limit_refusals_total", "counter",
	    "Requests refused with 429, by the limit that refused them.");
	for (w = 0; w < WHY__MAX; w++) {
		snprintf(l, sizeof(l), "limit=\"%s\"", why_names[w]);
		sample(b, "idmint_limit_refusals_total", l,
		    LOAD(&m->limited[w]));
	}
	one(b, "idmint_server_errors_total", "counter",
	    "Answers with a 5xx status.", LOAD(&m->server_errors));
}

static void
write_durations(struct region *m, struct buf *b)
{
	static const char name[] = "idmint_request_duration_seconds";
	uint64_t	 cum, sum;
	char		 l[128];
	int		 f, i;

	head(b, name, "histogram", "Time from the start of reading a request "
	    "to the end of writing its answer, by route family.");
	for (f = 0; f < FAM__MAX; f++) {
		for (cum = 0, i = 0; i <= NBUCKETS; i++) {
			cum += LOAD(&m->dur[f].bucket[i]);
			snprintf(l, sizeof(l), "family=\"%s\",le=\"%s\"",
			    fam_names[f], i < NBUCKETS ? buckets[i].le : "+Inf");
			sample(b, "idmint_request_duration_seconds_bucket", l,
			    cum);
		}
		sum = LOAD(&m->dur[f].sum_ns);
		buf_printf(b, "%s_sum{family=\"%s\"} %llu.%09llu\n", name,
		    fam_names[f], (unsigned long long)(sum / 1000000000),
		    (unsigned long long)(sum % 1000000000));
		snprintf(l, sizeof(l), "family=\"%s\"", fam_names[f]);
		sample(b, "idmint_request_duration_seconds_count", l, cum);
	}
}

static void
write_table(struct usage *u, struct buf *b)
{
	static const struct {
		const char	*name, *help;
	} fill[2] = {
		{ "idmint_shared_table_cells",
		  "Cells of the shared table, by kind." },
		{ "idmint_shared_table_cells_used",
		  "Cells of the shared table in use, by kind." },
	};
	struct usage_stats t;
	uint64_t	 v[2][3], age, now_ms;
	char		 l[64];
	int		 i, k;

	usage_stats(u, &t);
	now_ms = clock_mono_ns() / NS_PER_MS;	/* flush times are monotonic */
	v[0][0] = t.count_cells, v[0][1] = t.quota_cells, v[0][2] = t.rate_cells;
	v[1][0] = t.count_used, v[1][1] = t.quota_used, v[1][2] = t.rate_used;
	for (i = 0; i < 2; i++) {
		head(b, fill[i].name, "gauge", fill[i].help);
		for (k = 0; k < 3; k++) {
			snprintf(l, sizeof(l), "kind=\"%s\"", kind_names[k]);
			sample(b, fill[i].name, l, v[i][k]);
		}
	}
	one(b, "idmint_usage_pending_calls", "gauge", "Calls counted in the "
	    "shared table, not yet flushed to the store.", t.pending);
	if (t.last_flush_ms != 0) {
		age = now_ms > t.last_flush_ms ? now_ms - t.last_flush_ms : 0;
		head(b, "idmint_usage_last_flush_age_seconds", "gauge",
		    "Seconds since a process last took its turn to flush.");
		buf_printf(b, "idmint_usage_last_flush_age_seconds %llu.%03llu\n",
		    (unsigned long long)(age / 1000),
		    (unsigned long long)(age % 1000));
	}
	one(b, "idmint_usage_flushes_total", "counter",
	    "Flushes that moved counts into the store.", t.flushes);
	one(b, "idmint_usage_sync_commits_total", "counter", "Calls committed "
	    "to the store at once, the count table being full.", t.overflows);
	one(b, "idmint_usage_lost_calls_total", "counter",
	    "Calls that could not be counted at all.", t.lost);
}

static void
write_snowflake(struct region *m, struct store *st, const struct conf *c,
    struct buf *b)
{
	unsigned	 held;

	one(b, "idmint_snowflake_slots", "gauge", "Snowflake worker slots of "
	    "this machine (2^(10 - node_bits)).",
	    UINT64_C(1) << (10 - c->node_bits));
	if (st != NULL && store_lease_held(st, &held) == STORE_OK)
		one(b, "idmint_snowflake_slots_held", "gauge",
		    "Snowflake worker slots held by live processes.", held);
	one(b, "idmint_snowflake_clock_back_total", "counter", "Snowflakes "
	    "refused (503) because the clock stepped back.",
	    LOAD(&m->clock_back));
}

/* Seconds with milliseconds, as Prometheus takes base units. */
static void
one_ms(struct buf *b, const char *name, const char *help, uint64_t ms)
{
	head(b, name, "gauge", help);
	buf_printf(b, "%s %llu.%03llu\n", name, (unsigned long long)(ms / 1000),
	    (unsigned long long)(ms % 1000));
}

/*
 * Cluster mode: what the node's sync process last left in the store.  A
 * sync process that stopped shows as a lag that grows; a lease that could
 * not be renewed as lease_held 0 (no snowflakes from this node then).
 */
static void
write_cluster(struct store *st, const struct conf *c, struct buf *b)
{
	struct cluster_state cs;
	uint64_t	 wall = now_ms(), mono = clock_mono_ns() / NS_PER_MS;
	int		 held;

	if (c->cluster[0] == '\0' || st == NULL ||
	    store_cluster_state(st, &cs) != STORE_OK)
		return;
	one(b, "idmint_cluster_nodes", "gauge", "Live nodes of the cluster, "
	    "as last synced (rate limits are split among them).", cs.nodes);
	if (cs.synced_ms != 0)
		one_ms(b, "idmint_cluster_sync_lag_seconds", "Seconds since "
		    "this node's sync process last finished a round.",
		    wall > cs.synced_ms ? wall - cs.synced_ms : 0);
	held = cs.leased && mono < cs.fence_ms;
	one(b, "idmint_cluster_lease_held", "gauge", "1 while this node "
	    "holds its snowflake node-id lease, else 0 (no snowflakes).",
	    (uint64_t)held);
	if (held) {
		one(b, "idmint_cluster_node_id", "gauge",
		    "The snowflake node id this node leases.", cs.node_id);
		one_ms(b, "idmint_cluster_lease_remaining_seconds", "Seconds "
		    "until the workers stop minting snowflakes unless the "
		    "lease is renewed.", cs.fence_ms - mono);
	}
}

int
metrics_write(struct usage *u, struct store *st, const struct conf *c,
    struct buf *b)
{
	struct region	*m;

	if ((m = region(u)) == NULL)
		return -1;
	count_clock_back(m);
	write_requests(m, b);
	write_calls(m, b);
	write_refusals(m, b);
	write_durations(m, b);
	write_table(u, b);
	write_snowflake(m, st, c, b);
	write_cluster(st, c, b);
	head(b, "idmint_build_info", "gauge", "The running idmint's version.");
	sample(b, "idmint_build_info", "version=\"" PACKAGE_VERSION "\"", 1);
	return 0;
}

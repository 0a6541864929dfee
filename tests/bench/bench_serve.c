/*
 * bench_serve.c: whole requests through serve(), in process, with memory
 * I/O: everything idmint does per request (parsing, auth, limits,
 * counting, the handler, the response) without the FastCGI hop.
 *
 *	bench_serve [SECONDS]		one line per request kind: requests/s
 *					and microseconds, SECONDS (default
 *					0.5) of requests each
 *	bench_serve --once KIND N	N requests of one kind, untimed, for
 *					valgrind --tool=callgrind
 *
 * Besides the everyday requests, each route at its worst: the largest
 * parameters each /v1 endpoint takes, with a Hashids or Sqids set-up
 * built anew for every request (a salt or alphabet never seen before),
 * and POST / with the largest body or batch of the costliest type (the
 * README's "Cost per request").
 * Settings come from IDMINT_* in the environment (IDMINT_METRICS=on).
 * With BENCH_CLUSTER set in the environment, the server is a node in
 * cluster mode, as its sync process leaves the store: three live nodes,
 * a leased node id, counts of the limited key on other nodes.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "bignum.h"
#include "buf.h"
#include "clock.h"
#include "hashids.h"
#include "io.h"
#include "serve.h"
#include "plan.h"
#include "sqids.h"
#include "store.h"
#include "utf8.h"

static struct server	 srv;
static char		 tok_unl[TOKEN_STR_LEN + 1], tok_lim[TOKEN_STR_LEN + 1];
static char		 hdr_unl[128], hdr_lim[128], body[256], body100[256];
static char		 body_batch[256];
static char		 sbody[256];

struct kind {
	const char	*name;
	const char	*env[8];	/* a POST's CONTENT_LENGTH is added */
	const char	*body;
	char		 clen[32];
	int		 fresh;		/* a new set-up per request */
};

#define POST	"REQUEST_METHOD=POST", "PATH_INFO=/", \
		"CONTENT_TYPE=application/json"
/* The kinds whose query string (env[2]) is made at start-up: q[i] holds
 * kinds[i]'s. */
#define GET_V1(path)	{ "REQUEST_METHOD=GET", "PATH_INFO=" path, NULL, \
			    hdr_unl, NULL }
static struct buf	 q[40];

static struct kind kinds[] = {
	{ "healthz", { "REQUEST_METHOD=GET", "PATH_INFO=/healthz", NULL }, NULL },
	{ "encode", { "REQUEST_METHOD=GET", "PATH_INFO=/v1/encode",
	    "QUERY_STRING=numbers=1,2,3", hdr_unl, NULL }, NULL },
	{ "encode-limited", { "REQUEST_METHOD=GET", "PATH_INFO=/v1/encode",
	    "QUERY_STRING=numbers=1,2,3", hdr_lim, NULL }, NULL },
	{ "decode-hex", { "REQUEST_METHOD=GET", "PATH_INFO=/v1/decode-hex",
	    "QUERY_STRING=hash=y42LW46J9luq3Xq9XMly", hdr_unl, NULL }, NULL },
	{ "post-nanoid", { POST, NULL }, body },
	{ "post-nanoid-100", { POST, NULL }, body100 },	/* count 100 */
	{ "post-snowflake", { POST, NULL }, sbody },
	{ "sqids-encode", { "REQUEST_METHOD=GET", "PATH_INFO=/v1/sqids/encode",
	    "QUERY_STRING=numbers=1,2,3", hdr_unl, NULL }, NULL },
	{ "sqids-decode", { "REQUEST_METHOD=GET", "PATH_INFO=/v1/sqids/decode",
	    "QUERY_STRING=id=86Rf07", hdr_unl, NULL }, NULL },
	{ "snowflake-parse", { "REQUEST_METHOD=GET",
	    "PATH_INFO=/v1/snowflake/parse",
	    "QUERY_STRING=id=1541815603606036480", hdr_unl, NULL }, NULL },
	{ .name = "snowflake-info", .env = GET_V1("/v1/snowflake/info") },
	{ .name = "meta", .env = GET_V1("/v1/meta") },
	{ .name = "decode-short", .env = GET_V1("/v1/decode") },
	{ .name = "decode-long", .env = GET_V1("/v1/decode") },
	{ .name = "decode-cap", .env = GET_V1("/v1/decode") },
	{ .name = "decode-max", .env = GET_V1("/v1/decode"), .fresh = 1 },
	{ .name = "decode-hex-max", .env = GET_V1("/v1/decode-hex"),
	    .fresh = 1 },
	{ .name = "encode-max", .env = GET_V1("/v1/encode"), .fresh = 1 },
	{ .name = "encode-hex-max", .env = GET_V1("/v1/encode-hex"),
	    .fresh = 1 },
	{ .name = "sqids-encode-max", .env = GET_V1("/v1/sqids/encode"),
	    .fresh = 1 },
	{ .name = "sqids-decode-max", .env = GET_V1("/v1/sqids/decode"),
	    .fresh = 1 },
	{ .name = "post-string", .env = { POST, NULL } },
	{ .name = "post-members", .env = { POST, NULL } },
	{ .name = "post-batch-max", .env = { POST, NULL },	/* 1,000 keypairs */
	    .body = body_batch },
};
#define NKINDS	(sizeof(kinds) / sizeof(kinds[0]))

static struct kind *
kind_named(const char *name)
{
	size_t	 i;

	for (i = 0; i < NKINDS; i++)
		if (strcmp(kinds[i].name, name) == 0)
			return &kinds[i];
	exit(1);
}

static void
add_cp(struct buf *b, uint32_t cp)
{
	char	 tmp[UTF8_MAX];

	buf_add(b, tmp, utf8_put(cp, tmp));
}

/*
 * The largest salt and alphabet: 1,024 characters of two bytes, as a
 * 4,096-byte hash then holds the most numbers (each a shuffle of the
 * alphabet) times the largest alphabet.
 */
static void
big_setup(struct buf *salt, struct buf *alpha)
{
	size_t	 i;

	for (i = 0; i < 1024; i++) {
		buf_addc(salt, (char)('a' + i % 26));
		add_cp(alpha, 0x400 + (uint32_t)i);
	}
}

/*
 * Encode count numbers into hash: of digits nines each, or with digits
 * 0, 44^4095 - 1, one number that makes 4,096 characters of the default
 * alphabet (44 digits).
 */
static void
make_hash(const struct hashids *h, size_t digits, size_t count,
    unsigned ml, struct buf *hash)
{
	struct bignum	 b;
	struct buf	 nums;
	const char	*p[1024];
	size_t		 len[1024], i;

	buf_init(&nums, 0);
	bn_init(&b);
	for (i = 0; i < digits; i++)
		buf_addc(&nums, '9');
	for (i = 0; digits == 0 && i < 4095; i++)
		bn_muladd(&b, 44, 43);
	if (digits == 0 && bn_to_dec(&b, &nums) == 0)
		digits = nums.len;
	bn_free(&b);
	for (i = 0; i < count; i++) {
		p[i] = nums.data;
		len[i] = digits;
	}
	if (hashids_encode(h, p, len, count, ml, hash) != HASHIDS_OK)
		exit(1);
	buf_free(&nums);
}

/* GET kinds' query strings. */
static void
set_query(const char *name, const char *first, const struct buf *val,
    int big)
{
	struct kind	*k = kind_named(name);
	struct buf	*b = &q[k - kinds], salt, alpha;

	buf_init(&salt, 0);
	buf_init(&alpha, 0);
	buf_adds(b, "QUERY_STRING=");
	buf_adds(b, first);
	if (val != NULL)
		buf_add(b, val->data, val->len);
	if (big) {
		big_setup(&salt, &alpha);
		buf_addl(b, "&min_length=1000&salt=");
		buf_add(b, salt.data, salt.len);
		buf_addl(b, "&alphabet=");
		buf_add(b, alpha.data, alpha.len);
	}
	k->env[2] = buf_cstr(b);
	buf_free(&salt);
	buf_free(&alpha);
}

/*
 * Sqids at their largest: 100 numbers of 2^64 - 1 at min_length 255, and
 * an ID of 4,096 bytes, as many numbers (each a shuffle) as it holds; the
 * default alphabet and blocklist.
 */
static void
sqids_queries(struct buf *v)
{
	const struct sqids *s;
	uint64_t	 nums[2048];
	size_t		 i, n;

	for (i = 0; i < 100; i++)
		buf_adds(v, i ? ",18446744073709551615" : "18446744073709551615");
	set_query("sqids-encode-max", "min_length=255&numbers=", v, 0);
	memset(nums, 0, sizeof(nums));
	if (sqids_get(&s, NULL, 0, NULL, 0) != SQIDS_OK)
		exit(1);
	for (n = 2048; n > 0; n--) {
		buf_reset(v);
		if (sqids_encode(s, nums, n, 0, v) == SQIDS_OK && v->len <= 4096)
			break;
	}
	set_query("sqids-decode-max", "id=", v, 0);
}

static void
setup_queries(void)
{
	const struct hashids *h;
	struct hashids	*big;
	struct buf	 v, salt, alpha;
	size_t		 i;

	buf_init(&v, 0);
	buf_init(&salt, 0);
	buf_init(&alpha, 0);
	set_query("meta", "", NULL, 0);
	set_query("snowflake-info", "", NULL, 0);
	set_query("decode-short", "hash=o2fXhV", NULL, 0);
	if (hashids_get(&h, "", 0, NULL, 0, NULL) != HASHIDS_OK)
		exit(1);
	/* One number of 4,096 characters, valid for hashids.js. */
	make_hash(h, 0, 1, 0, &v);
	set_query("decode-long", "hash=", &v, 0);
	buf_reset(&v);
	/* Numbers of 999 digits, as many as make about 4,096 characters. */
	make_hash(h, HASHIDS_MAX_DIGITS - 1, 6, 0, &v);
	set_query("decode-cap", "hash=", &v, 0);
	buf_reset(&v);
	/* 1,024 one-character numbers: 4,096 bytes, the most shuffles. */
	big_setup(&salt, &alpha);
	if (hashids_new(&big, salt.data, salt.len, alpha.data, alpha.len,
	    NULL) != HASHIDS_OK)
		exit(1);
	make_hash(big, 1, 1024, 1000, &v);
	set_query("decode-max", "hash=", &v, 1);
	set_query("decode-hex-max", "hash=", &v, 1);
	hashids_free(big);
	buf_reset(&v);
	/* 100 numbers of 100 digits. */
	for (i = 0; i < 100 * 101 - 1; i++)
		buf_addc(&v, i % 101 == 100 ? ',' : (char)('1' + i % 9));
	set_query("encode-max", "numbers=", &v, 1);
	buf_reset(&v);
	for (i = 0; i < 1200; i++)
		buf_addc(&v, "0123456789abcdef"[i % 16]);
	set_query("encode-hex-max", "hex=", &v, 1);
	buf_reset(&v);
	sqids_queries(&v);
	buf_free(&v);
	buf_free(&salt);
	buf_free(&alpha);
}

/*
 * POST / at max_body (64 KiB), keypair (the costliest type, though the
 * type hardly counts), padded with one long string or with members, the
 * costliest body: every field read scans every member.
 */
static void
setup_big_body(const char *name, int members)
{
	struct kind	*k = kind_named(name);
	struct buf	 body;

	buf_init(&body, 0);
	buf_printf(&body, "{\"username\":\"unl\",\"token\":\"%s\","
	    "\"type\":\"keypair\"%s", tok_unl, members ? "" : ",\"pad\":\"");
	while (body.len < 65536 - 16) {
		if (members)
			buf_printf(&body, ",\"%zu\":0", body.len);
		else
			buf_addl(&body, "abcdefghij");
	}
	buf_adds(&body, members ? "}" : "\"}");
	k->body = buf_cstr(&body);	/* kept for the life of the process */
}

/* What a sync process leaves in the store (see store_cluster.c). */
static void
cluster(struct store *st, struct conf *c)
{
	struct cluster_state cs;
	struct remote_count rc;

	snprintf(c->cluster, sizeof(c->cluster), "dbname=unused");
	memset(&cs, 0, sizeof(cs));
	cs.nodes = 3;
	cs.leased = 1;
	cs.node_id = 1;
	cs.fence_ms = UINT64_MAX;
	memset(&rc, 0, sizeof(rc));
	snprintf(rc.user, sizeof(rc.user), "lim");
	rc.month = month_of(now_ms());
	rc.count = 12345;
	if (store_cluster_set_state(st, &cs) != STORE_OK ||
	    store_cluster_set_remote(st, &rc, 1) != STORE_OK) {
		fprintf(stderr, "bench_serve: %s\n", store_error(st));
		exit(1);
	}
}

static void
setup(void)
{
	struct conf	 c;
	struct store	*st;
	struct plan	 p = { "custom", 1000000000, 1000000000000ULL };
	char		 dir[] = "/tmp/idmint-bench-XXXXXX", err[512];
	size_t		 i;
	unsigned char	 h1[TOKEN_HASH_LEN], h2[TOKEN_HASH_LEN];

	if (sodium_init() < 0 || mkdtemp(dir) == NULL)
		exit(1);
	conf_defaults(&c);
	if (conf_load(&c, "/dev/null", err, sizeof(err)) == -1) {
		fprintf(stderr, "bench_serve: %s\n", err);
		exit(1);
	}
	snprintf(c.db, sizeof(c.db), "%s/db", dir);
	if (token_new(tok_unl, h1) == -1 || token_new(tok_lim, h2) == -1 ||
	    store_open(&st, c.db, 0, err, sizeof(err)) != STORE_OK ||
	    store_key_add(st, "unl", "", NULL, 0, h1) != STORE_OK ||
	    store_key_add(st, "lim", "", &p, 0, h2) != STORE_OK) {
		fprintf(stderr, "bench_serve: store: %s\n", err);
		exit(1);
	}
	if (getenv("BENCH_CLUSTER") != NULL)
		cluster(st, &c);
	store_close(st);
	if (server_init(&srv, &c) == -1 ||
	    server_open(&srv, err, sizeof(err)) == -1) {
		fprintf(stderr, "bench_serve: %s\n", err);
		exit(1);
	}
	snprintf(hdr_unl, sizeof(hdr_unl), "HTTP_X_API_KEY=%s", tok_unl);
	snprintf(hdr_lim, sizeof(hdr_lim), "HTTP_X_API_KEY=%s", tok_lim);
	snprintf(body, sizeof(body), "{\"username\":\"unl\",\"token\":\"%s\","
	    "\"type\":\"nanoid\",\"length\":21}", tok_unl);
	snprintf(body100, sizeof(body100), "{\"username\":\"unl\","
	    "\"token\":\"%s\",\"type\":\"nanoid\",\"length\":21,"
	    "\"count\":100}", tok_unl);
	snprintf(body_batch, sizeof(body_batch), "{\"username\":\"unl\","
	    "\"token\":\"%s\",\"type\":\"keypair\",\"count\":1000}", tok_unl);
	setup_queries();
	setup_big_body("post-string", 0);
	setup_big_body("post-members", 1);
	snprintf(sbody, sizeof(sbody), "{\"username\":\"unl\",\"token\":"
	    "\"%s\",\"type\":\"snowflake\"}", tok_unl);
	for (i = 0; i < NKINDS; i++) {
		if (kinds[i].body == NULL)
			continue;
		snprintf(kinds[i].clen, sizeof(kinds[i].clen),
		    "CONTENT_LENGTH=%zu", strlen(kinds[i].body));
		kinds[i].env[3] = kinds[i].clen;
	}
}

static int
one(const struct kind *k)
{
	struct io_mem	 m;
	struct io	 io;
	int		 status = 0;

	if (k->fresh) {
		hashids_cache_clear();
		sqids_cache_clear();
	}
	memset(&m, 0, sizeof(m));
	m.env = k->env;
	m.in = k->body;
	m.inlen = k->body != NULL ? strlen(k->body) : 0;
	io_mem(&io, &m);
	serve(&srv, &io);
	if (m.out != NULL)
		sscanf(m.out, "Status: %d", &status);
	free(m.out);
	return status;
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
main(int argc, char *argv[])
{
	size_t	 i;
	long	 n, j;
	double	 t, budget = 0.5;

	setup();
	if (argc == 4 && strcmp(argv[1], "--once") == 0) {
		n = atol(argv[3]);
		for (i = 0; i < NKINDS; i++)
			if (strcmp(kinds[i].name, argv[2]) == 0)
				for (j = 0; j < n; j++)
					one(&kinds[i]);
		server_free(&srv);
		return 0;
	}
	if (argc == 2)
		budget = atof(argv[1]);
	for (i = 0; i < NKINDS; i++) {
		if (one(&kinds[i]) != 200) {
			fprintf(stderr, "bench_serve: %s did not answer 200\n",
			    kinds[i].name);
			return 1;
		}
		n = 0;
		t = now();
		do {
			for (j = 0; j < 10; j++)
				one(&kinds[i]);
			n += 10;
		} while (now() - t < budget);
		t = now() - t;
		printf("%-16s %8ld requests %10.0f requests/s %8.2f us/request\n",
		    kinds[i].name, n, (double)n / t, t / (double)n * 1e6);
	}
	server_free(&srv);
	return 0;
}

/*
 * bench_serve.c: whole requests through serve(), in process, with memory
 * I/O: everything idmint does per request (parsing, auth, limits,
 * counting, the handler, the response) without the FastCGI hop.
 *
 *	bench_serve			one line per request kind: requests/s
 *	bench_serve --once KIND N	N requests of one kind, untimed, for
 *					valgrind --tool=callgrind
 *
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

#include "clock.h"
#include "io.h"
#include "serve.h"
#include "plan.h"
#include "store.h"

static struct server	 srv;
static char		 tok_unl[TOKEN_STR_LEN + 1], tok_lim[TOKEN_STR_LEN + 1];
static char		 hdr_unl[128], hdr_lim[128], body[256], body100[256];
static char		 sbody[256];

struct kind {
	const char	*name;
	const char	*env[8];	/* a POST's CONTENT_LENGTH is added */
	const char	*body;
	char		 clen[32];
};

#define POST	"REQUEST_METHOD=POST", "PATH_INFO=/", \
		"CONTENT_TYPE=application/json"

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
};
#define NKINDS	(sizeof(kinds) / sizeof(kinds[0]))

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
	double	 t;

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
	for (i = 0; i < NKINDS; i++) {
		if (one(&kinds[i]) != 200) {
			fprintf(stderr, "bench_serve: %s did not answer 200\n",
			    kinds[i].name);
			return 1;
		}
		n = strstr(kinds[i].name, "-100") != NULL ? 5000 : 200000;
		t = now();
		for (j = 0; j < n; j++)
			one(&kinds[i]);
		t = now() - t;
		printf("%-16s %8ld requests %10.0f requests/s %8.2f us/request\n",
		    kinds[i].name, n, (double)n / t, t / (double)n * 1e6);
	}
	server_free(&srv);
	return 0;
}

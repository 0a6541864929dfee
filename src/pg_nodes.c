/*
 * pg_nodes.c: what a node's sync process does in PostgreSQL each round:
 * push its usage totals and pull the other nodes' sums, join and beat,
 * and keep its snowflake node-id lease; and what idmintctl reads of it
 * (usage rows, the nodes).
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "pg_int.h"

#define PUSH_BATCH	500		/* rows per INSERT of a push */

/* ---- usage ------------------------------------------------------------ */

/* Names and types are [a-z0-9._-]: nothing to escape in an array. */
static int
array_safe(const char *s)
{
	return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789._-") ==
	    strlen(s) && *s != '\0';
}

struct arrays {
	char	*a[4];
	size_t	 len[4], cap[4];
};

static int
arr_add(struct arrays *x, int i, const char *s)
{
	size_t	 n = strlen(s) + 3;
	char	*b;

	if (x->len[i] + n + 2 > x->cap[i]) {
		x->cap[i] = (x->cap[i] + n + 2) * 2;
		if ((b = realloc(x->a[i], x->cap[i])) == NULL)
			return -1;
		x->a[i] = b;
	}
	if (x->len[i] == 0)
		x->a[i][x->len[i]++] = '{';
	else
		x->a[i][x->len[i]++] = ',';
	x->len[i] += (size_t)snprintf(x->a[i] + x->len[i], x->cap[i] -
	    x->len[i], "\"%s\"", s);
	x->a[i][x->len[i]] = '}';
	x->a[i][x->len[i] + 1] = '\0';
	return 0;
}

/* Rows [0, n) as four array literals, and one INSERT. */
static enum store_rc
push_batch(struct pg *p, const char *node, const struct usage_total *t,
    size_t n)
{
	struct arrays	 x;
	char		 m[16], c[24];
	const char	*v[5];
	enum store_rc	 r = STORE_OK;
	size_t		 i;
	int		 j;

	memset(&x, 0, sizeof(x));
	for (i = 0; i < n && r == STORE_OK; i++) {
		if (!array_safe(t[i].user) || !array_safe(t[i].type))
			continue;
		snprintf(m, sizeof(m), "%u", t[i].month);
		snprintf(c, sizeof(c), "%" PRIu64, t[i].count);
		if (arr_add(&x, 0, t[i].user) == -1 ||
		    arr_add(&x, 1, m) == -1 || arr_add(&x, 2, t[i].type) == -1 ||
		    arr_add(&x, 3, c) == -1) {
			pg_say(p, "pushing counts", "out of memory");
			r = STORE_ERROR;
		}
	}
	if (r == STORE_OK && x.len[0] > 0) {
		v[0] = node;
		for (j = 0; j < 4; j++)
			v[j + 1] = x.a[j];
		r = pg_exec(p, "INSERT INTO idmint.usage (node, name, month, "
		    "type, count) SELECT $1, n, m, t, c FROM unnest($2::text[], "
		    "$3::int[], $4::text[], $5::bigint[]) AS x(n, m, t, c) "
		    "ON CONFLICT (node, name, month, type) DO UPDATE SET "
		    "count = EXCLUDED.count, seq = nextval('idmint.usage_seq') "
		    "WHERE idmint.usage.count < EXCLUDED.count", 5, v);
	}
	for (j = 0; j < 4; j++)
		free(x.a[j]);
	return r;
}

enum store_rc
pg_usage_push(struct pg *p, const char *node, const struct usage_total *t,
    size_t n)
{
	enum store_rc	 r = STORE_OK;
	size_t		 i;

	if (n == 0)
		return STORE_OK;
	if (pg_begin(p, LOCK_USAGE) != STORE_OK)
		return STORE_ERROR;
	for (i = 0; i < n && r == STORE_OK; i += PUSH_BATCH)
		r = push_batch(p, node, t + i, n - i < PUSH_BATCH ? n - i :
		    PUSH_BATCH);
	return pg_end(p, r, "idmint_usage", node);
}

enum store_rc
pg_usage_remote(struct pg *p, const char *node, uint32_t from_month,
    uint64_t *seq, int (*cb)(void *, const struct remote_count *), void *arg)
{
	PGresult		*res;
	struct remote_count	 c;
	char			 lo[24], hi[24], m[16];
	const char *const	 v[] = { node, lo, hi, m };
	uint64_t		 top;
	int			 i;

	if ((res = pg_run(p, "SELECT coalesce(max(seq), 0) FROM idmint.usage", 0,
	    NULL)) == NULL)
		return STORE_ERROR;
	top = pg_num(res, 0, 0);
	PQclear(res);
	if (top == *seq)
		return STORE_OK;
	snprintf(lo, sizeof(lo), "%" PRIu64, *seq);
	snprintf(hi, sizeof(hi), "%" PRIu64, top);
	snprintf(m, sizeof(m), "%u", from_month);
	if ((res = pg_run(p, "SELECT u.name, u.month, coalesce(sum(u.count) "
	    "FILTER (WHERE u.node <> $1), 0) FROM idmint.usage u WHERE "
	    "(u.name, u.month) IN (SELECT name, month FROM idmint.usage WHERE "
	    "seq > $2 AND seq <= $3 AND month >= $4) GROUP BY u.name, u.month",
	    4, v)) == NULL)
		return STORE_ERROR;
	for (i = 0; i < PQntuples(res); i++) {
		if (strlen(PQgetvalue(res, i, 0)) > USER_MAX)
			continue;
		pg_copy(c.user, sizeof(c.user), res, i, 0);
		c.month = (uint32_t)pg_num(res, i, 1);
		c.count = pg_num(res, i, 2);
		if (cb(arg, &c) != 0)
			break;
	}
	PQclear(res);
	*seq = top;
	return STORE_OK;
}

enum store_rc
pg_usage_each(struct pg *p, const char *user,
    int (*cb)(void *, const char *, const char *, uint32_t, const char *,
    uint64_t), void *arg)
{
	PGresult	*res;
	const char *const v[] = { user };
	char		 node[USER_MAX + 1], name[USER_MAX + 1], type[TYPE_MAX + 1];
	int		 i;

	if ((res = pg_run(p, user != NULL ? "SELECT node, name, month, type, "
	    "count FROM idmint.usage WHERE name = $1 ORDER BY name, node" :
	    "SELECT node, name, month, type, count FROM idmint.usage "
	    "ORDER BY name, node", user != NULL, user != NULL ? v : NULL)) ==
	    NULL)
		return STORE_ERROR;
	for (i = 0; i < PQntuples(res); i++) {
		pg_copy(node, sizeof(node), res, i, 0);
		pg_copy(name, sizeof(name), res, i, 1);
		pg_copy(type, sizeof(type), res, i, 3);
		if (cb(arg, node, name, (uint32_t)pg_num(res, i, 2), type,
		    pg_num(res, i, 4)) != 0)
			break;
	}
	PQclear(res);
	return STORE_OK;
}

/* ---- nodes ------------------------------------------------------------ */

/* The cluster mints snowflakes with one layout; the first node sets it. */
static enum store_rc
same_layout(struct pg *p, unsigned bits, uint64_t epoch)
{
	PGresult	*res;
	char		 b[16], e[24], why[160];
	const char *const v[] = { b, e };
	enum store_rc	 r = STORE_OK;

	snprintf(b, sizeof(b), "%u", bits);
	snprintf(e, sizeof(e), "%" PRIu64, epoch);
	if ((res = pg_run(p, "UPDATE idmint.meta SET node_bits = coalesce("
	    "node_bits, $1), snowflake_epoch = coalesce(snowflake_epoch, $2) "
	    "RETURNING node_bits, snowflake_epoch", 2, v)) == NULL)
		return STORE_ERROR;
	if (PQntuples(res) == 1 && (pg_num(res, 0, 0) != bits ||
	    pg_num(res, 0, 1) != epoch)) {
		snprintf(why, sizeof(why), "the cluster's snowflakes use "
		    "node_bits %s and snowflake_epoch %s; this node has %u and "
		    "%" PRIu64, PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1),
		    bits, epoch);
		pg_say(p, "joining", why);
		r = STORE_INVALID;
	}
	PQclear(res);
	return r;
}

enum store_rc
pg_node_join(struct pg *p, const char *node,
    const unsigned char id[STORE_ID_LEN], unsigned bits, uint64_t epoch)
{
	PGresult	*res;
	char		 hex[STORE_ID_LEN * 2 + 1], why[256];
	const char *const v[] = { node, hex };
	enum store_rc	 r;

	if ((r = same_layout(p, bits, epoch)) != STORE_OK)
		return r;
	sodium_bin2hex(hex, sizeof(hex), id, STORE_ID_LEN);
	if ((res = pg_run(p, "INSERT INTO idmint.nodes (name, store_id, joined, "
	    "seen) VALUES ($1, $2, now(), now()) ON CONFLICT (name) DO UPDATE "
	    "SET seen = now() WHERE idmint.nodes.store_id = EXCLUDED.store_id "
	    "RETURNING name", 2, v)) == NULL)
		return STORE_ERROR;
	r = PQntuples(res) == 1 ? STORE_OK : STORE_EXISTS;
	PQclear(res);
	if (r == STORE_EXISTS) {
		snprintf(why, sizeof(why), "node name \"%s\" belongs to "
		    "another store, whose counts the cluster holds under it: "
		    "give this node another node_name", node);
		pg_say(p, "joining", why);
	}
	return r;
}

enum store_rc
pg_node_beat(struct pg *p, const char *node, uint64_t key_version,
    uint64_t live_ms, uint32_t *live)
{
	PGresult	*res;
	char		 kv[24], lm[24];
	const char *const v[] = { node, kv, lm };
	enum store_rc	 r;

	snprintf(kv, sizeof(kv), "%" PRIu64, key_version);
	snprintf(lm, sizeof(lm), "%" PRIu64, live_ms);
	if ((res = pg_run(p, "WITH b AS (UPDATE idmint.nodes SET seen = now(), "
	    "key_version = $2 WHERE name = $1 RETURNING name) SELECT (SELECT "
	    "count(*) FROM b), count(*) FROM idmint.nodes WHERE name <> $1 "
	    "AND seen > now() - $3 * interval '1 millisecond'", 3, v)) == NULL)
		return STORE_ERROR;
	r = pg_num(res, 0, 0) == 1 ? STORE_OK : STORE_NOTFOUND;
	*live = (uint32_t)pg_num(res, 0, 1) + 1;
	PQclear(res);
	return r;
}

enum store_rc
pg_node_each(struct pg *p, uint64_t live_ms,
    int (*cb)(void *, const struct node_info *), void *arg)
{
	PGresult	*res;
	struct node_info n;
	char		 lm[24];
	const char *const v[] = { lm };
	int		 i;

	snprintf(lm, sizeof(lm), "%" PRIu64, live_ms);
	if ((res = pg_run(p, "SELECT n.name, l.id, greatest(0, extract(epoch "
	    "FROM l.expires - now()) * 1000)::bigint, greatest(0, "
	    "extract(epoch FROM now() - n.seen) * 1000)::bigint, greatest(0, "
	    "(SELECT coalesce(max(version), 0) FROM idmint.keys) - "
	    "n.key_version), n.seen > now() - $1 * interval '1 millisecond' "
	    "FROM idmint.nodes n LEFT JOIN idmint.leases l ON l.node = n.name "
	    "AND l.expires > now() ORDER BY n.name", 1, v)) == NULL)
		return STORE_ERROR;
	for (i = 0; i < PQntuples(res); i++) {
		memset(&n, 0, sizeof(n));
		pg_copy(n.name, sizeof(n.name), res, i, 0);
		n.leased = !PQgetisnull(res, i, 1);
		n.node_id = (uint32_t)pg_num(res, i, 1);
		n.lease_left_ms = (int64_t)pg_num(res, i, 2);
		n.seen_ms = (int64_t)pg_num(res, i, 3);
		n.keys_behind = pg_num(res, i, 4);
		n.live = strcmp(PQgetvalue(res, i, 5), "t") == 0;
		if (cb(arg, &n) != 0)
			break;
	}
	PQclear(res);
	return STORE_OK;
}

/* ---- node-id leases ------------------------------------------------- */

static enum store_rc
lease_claim(struct pg *p, const char *const *v, int *id, uint64_t *nb)
{
	PGresult	*res;
	enum store_rc	 r = STORE_BUSY;

	if (pg_exec(p, "INSERT INTO idmint.leases (id) SELECT generate_series(0, "
	    "$1::int - 1) ON CONFLICT DO NOTHING", 1, v + 1) != STORE_OK)
		return STORE_ERROR;
	/* Its own last id first: its workers made those snowflakes. */
	if ((res = pg_run(p, "WITH pick AS (SELECT id, node, minted_until FROM "
	    "idmint.leases WHERE id < $2::int AND (node IS NULL OR "
	    "expires IS NULL OR expires <= now() OR node = $1) ORDER BY "
	    "node IS NOT DISTINCT FROM $1 DESC, id LIMIT 1 FOR UPDATE SKIP "
	    "LOCKED) UPDATE idmint.leases l SET node = $1, taken = now(), "
	    "expires = now() + $3 * interval '1 millisecond', minted_until = "
	    "greatest(l.minted_until, $4) FROM pick WHERE l.id = pick.id "
	    "RETURNING l.id, CASE WHEN pick.node IS NOT DISTINCT FROM $1 "
	    "THEN 0 ELSE pick.minted_until END", 4, v)) == NULL)
		return STORE_ERROR;
	if (PQntuples(res) == 1) {
		*id = (int)pg_num(res, 0, 0);
		*nb = pg_num(res, 0, 1);
		r = STORE_OK;
	}
	PQclear(res);
	if (r == STORE_BUSY)
		snprintf(p->err, sizeof(p->err), "every one of the %s snowflake "
		    "node ids is leased to a live node", v[1]);
	return r;
}

enum store_rc
pg_lease_take(struct pg *p, const char *node, unsigned bits,
    uint64_t lease_ms, uint64_t minted_until, int *id, uint64_t *nb)
{
	PGresult	*res;
	char		 n[16], lm[24], mu[24], held[16];
	const char	*v[] = { node, n, lm, mu, held };
	int		 kept = 0;

	snprintf(n, sizeof(n), "%u", 1u << bits);
	snprintf(lm, sizeof(lm), "%" PRIu64, lease_ms);
	snprintf(mu, sizeof(mu), "%" PRIu64, minted_until);
	snprintf(held, sizeof(held), "%d", *id);
	if (*id >= 0) {
		if ((res = pg_run(p, "UPDATE idmint.leases SET expires = now() + "
		    "$3 * interval '1 millisecond', minted_until = greatest("
		    "minted_until, $4) WHERE id = $5 AND node = $1 AND "
		    "expires > now() AND id < $2::int RETURNING id", 5, v)) ==
		    NULL)
			return STORE_ERROR;
		kept = PQntuples(res) == 1;
		PQclear(res);
		if (kept)
			return STORE_OK;
	}
	*id = -1;
	return lease_claim(p, v, id, nb);
}

enum store_rc
pg_lease_release(struct pg *p, const char *node, unsigned id,
    uint64_t minted_until)
{
	char	 i[16], mu[24];
	const char *const v[] = { node, i, mu };

	snprintf(i, sizeof(i), "%u", id);
	snprintf(mu, sizeof(mu), "%" PRIu64, minted_until);
	return pg_exec(p, "UPDATE idmint.leases SET expires = now(), "
	    "minted_until = greatest(minted_until, $3) WHERE id = $2 AND "
	    "node = $1 AND expires > now()", 3, v);
}

/*
 * ctl_cluster.c: idmintctl in cluster mode.  With the cluster setting on,
 * keys and plans are written to PostgreSQL (one transaction, then
 * NOTIFY), never into a node's store: every node's sync process mirrors
 * them.  Usage is the cluster's sum over nodes.  The keys_* calls here
 * pick the store or PostgreSQL, so the commands in ctl_keys.c and
 * ctl_usage.c are the same in both modes.  `cluster init` makes or
 * migrates the schema; `cluster status` lists the nodes; `cluster
 * import` copies a store's keys into the cluster.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "pg.h"

#define CTL_PG_TIMEOUT_MS	10000

static int
pg_connect(struct ctl *c)
{
	char	 err[600];

	if (pg_open(&c->pg, c->cluster, "idmintctl", CTL_PG_TIMEOUT_MS, err,
	    sizeof(err)) == -1)
		return fail(c, "%s", err);
	return 0;
}

int
ctl_pg_open(struct ctl *c)
{
	int	 v;

	if (pg_connect(c) != 0)
		return c->failrc;
	if (pg_schema_version(c->pg, &v) != STORE_OK)
		return fail(c, "%s", pg_error(c->pg));
	if (v != PG_SCHEMA_VERSION)
		return fail(c, "the cluster's schema is at version %d; this "
		    "idmintctl needs %d: run idmintctl cluster init", v,
		    PG_SCHEMA_VERSION);
	return 0;
}

/* ---- keys, wherever they live ----------------------------------------- */

enum store_rc
keys_add(struct ctl *c, const char *user, const char *label,
    const struct plan *p, int64_t expires, const unsigned char *hash)
{
	return c->pg != NULL ? pg_key_add(c->pg, user, label, p, expires,
	    hash) : store_key_add(c->st, user, label, p, expires, hash);
}

enum store_rc
keys_rotate(struct ctl *c, const char *user, const unsigned char *hash)
{
	return c->pg != NULL ? pg_key_rotate(c->pg, user, hash) :
	    store_key_rotate(c->st, user, hash);
}

enum store_rc
keys_status(struct ctl *c, const char *user, enum key_status s)
{
	return c->pg != NULL ? pg_key_set_status(c->pg, user, s) :
	    store_key_set_status(c->st, user, s);
}

enum store_rc
keys_plan(struct ctl *c, const char *user, const struct plan *p)
{
	return c->pg != NULL ? pg_key_set_plan(c->pg, user, p) :
	    store_key_set_plan(c->st, user, p);
}

enum store_rc
keys_expires(struct ctl *c, const char *user, int64_t expires)
{
	return c->pg != NULL ? pg_key_set_expires(c->pg, user, expires) :
	    store_key_set_expires(c->st, user, expires);
}

enum store_rc
keys_remove(struct ctl *c, const char *user)
{
	return c->pg != NULL ? pg_key_remove(c->pg, user) :
	    store_key_remove(c->st, user);
}

enum store_rc
keys_get(struct ctl *c, const char *user, struct key *k)
{
	return c->pg != NULL ? pg_key_by_user(c->pg, user, k) :
	    store_key_by_user(c->st, user, strlen(user), k);
}

enum store_rc
keys_each(struct ctl *c, int (*cb)(void *, const struct key *), void *arg)
{
	return c->pg != NULL ? pg_key_each(c->pg, cb, arg) :
	    store_key_each(c->st, cb, arg);
}

const char *
keys_error(struct ctl *c)
{
	return c->pg != NULL ? pg_error(c->pg) : store_error(c->st);
}

static int
cluster_row(void *arg, const char *node, const char *user, uint32_t month,
    const char *type, uint64_t n)
{
	struct summary	*s = arg;

	return summary_row(s, user, month, type, n) |
	    summary_node(s, node, month, n);
}

enum store_rc
keys_usage(struct ctl *c, const char *user, uint32_t month,
    struct summary *s)
{
	if (c->pg == NULL)
		return summary_make(c->st, user, month, s);
	summary_start(s, user, month);
	return summary_end(s, pg_usage_each(c->pg, user, cluster_row, s));
}

/* ---- cluster init ----------------------------------------------------- */

static int
cluster_init(struct ctl *c)
{
	json_object	*o;
	int		 from;

	if (pg_connect(c) != 0)
		return c->failrc;
	if (pg_schema_init(c->pg, &from) != STORE_OK)
		return fail(c, "%s", pg_error(c->pg));
	if (c->json) {
		o = json_object_new_object();
		jadd(o, "from", json_object_new_int(from));
		jadd(o, "version", json_object_new_int(PG_SCHEMA_VERSION));
		jadd(o, "changed", json_object_new_boolean(from !=
		    PG_SCHEMA_VERSION));
		json_print(o);
	} else if (from == PG_SCHEMA_VERSION)
		printf("the cluster schema is at version %d already: nothing "
		    "to do\n", from);
	else if (from == 0)
		printf("created the cluster schema, version %d\n",
		    PG_SCHEMA_VERSION);
	else
		printf("migrated the cluster schema from version %d to %d\n",
		    from, PG_SCHEMA_VERSION);
	return 0;
}

/* ---- cluster import --------------------------------------------------- */

struct import {
	struct ctl	*c;
	size_t		 added, kept;
	int		 failed;
};

static int
import_one(void *arg, const struct key *k)
{
	struct import	*im = arg;
	enum store_rc	 r = pg_key_import(im->c->pg, k);

	if (r == STORE_OK)
		im->added++;
	else if (r == STORE_EXISTS)
		im->kept++;
	else {
		im->failed = 1;
		return 1;
	}
	return 0;
}

/* A single machine's keys into the cluster, before its first sync (whose
 * full mirror makes the store's keys the cluster's). */
static int
cluster_import(struct ctl *c)
{
	struct import	 im = { c, 0, 0, 0 };
	char		 e[1024];
	enum store_rc	 r;

	if (ctl_pg_open(c) != 0)
		return c->failrc;
	if (store_open(&c->st, c->dir, 0, e, sizeof(e)) != STORE_OK)
		return fail(c, "%s", e);
	r = store_key_each(c->st, import_one, &im);
	if (r != STORE_OK)
		fail(c, "%s", store_error(c->st));
	else if (im.failed)
		fail(c, "%s", pg_error(c->pg));
	store_close(c->st);
	c->st = NULL;
	if (r != STORE_OK || im.failed)
		return c->failrc;
	printf("imported %zu keys from %s; %zu already in the cluster were left "
	    "as they are\n", im.added, c->dir, im.kept);
	return 0;
}

/* ---- cluster status --------------------------------------------------- */

static int
node_json(void *arg, const struct node_info *n)
{
	json_object	*o = json_object_new_object();

	jadd(o, "name", json_object_new_string(n->name));
	jadd(o, "node_id", n->leased ? json_object_new_int((int)n->node_id) :
	    NULL);
	jadd(o, "lease_left_ms", n->leased ?
	    json_object_new_int64(n->lease_left_ms) : NULL);
	jadd(o, "last_sync_ms_ago", json_object_new_int64(n->seen_ms));
	jadd(o, "keys_behind", json_object_new_uint64(n->keys_behind));
	jadd(o, "live", json_object_new_boolean(n->live));
	json_object_array_add(arg, o);
	return 0;
}

static int
node_text(void *arg, const struct node_info *n)
{
	char	 id[16], lease[24], seen[24], lag[32];

	(void)arg;
	snprintf(id, sizeof(id), n->leased ? "%u" : "-", n->node_id);
	if (n->leased)
		snprintf(lease, sizeof(lease), "%.1f s", n->lease_left_ms /
		    1000.0);
	else
		snprintf(lease, sizeof(lease), "-");
	snprintf(seen, sizeof(seen), "%.1f s ago", n->seen_ms / 1000.0);
	if (n->keys_behind == 0)
		snprintf(lag, sizeof(lag), "current");
	else
		snprintf(lag, sizeof(lag), "%llu behind",
		    (unsigned long long)n->keys_behind);
	printf("%-20s %4s %10s %14s %-12s %s\n", n->name, id, lease, seen, lag,
	    n->live ? "live" : "down");
	return 0;
}

static int
cluster_status(struct ctl *c, uint64_t live_ms)
{
	json_object	*o, *a;
	enum store_rc	 r;

	if (ctl_pg_open(c) != 0)
		return c->failrc;
	if (c->json) {
		a = json_object_new_array();
		if ((r = pg_node_each(c->pg, live_ms, node_json, a)) !=
		    STORE_OK) {
			json_object_put(a);
			return fail(c, "%s", pg_error(c->pg));
		}
		o = json_object_new_object();
		jadd(o, "schema", json_object_new_int(PG_SCHEMA_VERSION));
		jadd(o, "nodes", a);
		json_print(o);
		return 0;
	}
	printf("%-20s %4s %10s %14s %-12s %s\n", "NODE", "ID", "LEASE",
	    "LAST SYNC", "KEYS", "STATE");
	if (pg_node_each(c->pg, live_ms, node_text, NULL) != STORE_OK)
		return fail(c, "%s", pg_error(c->pg));
	return 0;
}

int
cmd_cluster(struct ctl *c)
{
	if (c->cluster == NULL || c->cluster[0] == '\0')
		return fail(c, "cluster commands need the cluster setting "
		    "(idmint.conf(5), or IDMINT_CLUSTER)");
	if (strcmp(c->args[0], "init") == 0)
		return cluster_init(c);
	if (strcmp(c->args[0], "status") == 0)
		return cluster_status(c, c->lease_ms);
	if (strcmp(c->args[0], "import") == 0)
		return cluster_import(c);
	return fail(c, "unknown cluster command \"%s\" (init, status, import)",
	    c->args[0]);
}

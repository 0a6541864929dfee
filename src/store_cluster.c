/*
 * store_cluster.c: the LMDB side of cluster mode.  The sync process
 * (sync.c) writes here what the workers need from PostgreSQL, and the
 * workers read it in the read transaction they already hold, one mdb_get
 * a value: no request ever waits on the network.
 *
 *   cluster  "node"  -> store id[16], node name: the one name this
 *                       store syncs as (its counts are that node's)
 *            "state" -> version u8, live nodes u32, leased u8,
 *                       node id u32, fence ms u64, not-before ms u64,
 *                       synced ms u64 (see struct cluster_state)
 *   remote   username NUL month(u32 BE) -> u64: the other nodes' calls
 *
 * Keys and tokens are mirrored into the store's own `keys` and `tokens`,
 * which the request path reads as in single-machine mode.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "store_int.h"

#define STATE_VERSION	1
#define STATE_LEN	(1 + 4 + 1 + 4 + 8 + 8 + 8)
#define RKEY_MAX	(USER_MAX + 1 + 4)

static const MDB_val state_key = { 5, (void *)"state" };
static const MDB_val node_key = { 4, (void *)"node" };

static size_t
rkey(unsigned char *b, const char *user, uint32_t month)
{
	size_t	 ul = strnlen(user, USER_MAX);

	memcpy(b, user, ul);
	b[ul] = '\0';
	put_be32(b + ul + 1, month);
	return ul + 5;
}

/* ---- the request path ------------------------------------------------- */

/*
 * Once per snapshot: requests between two commits (the sync process
 * writes about once a round, workers' flushes every flush_ms) share one
 * decoded record.  A snapshot's id names its contents, so this is safe.
 */
enum store_rc
store_cluster_state(struct store *st, struct cluster_state *out)
{
	MDB_val		 k = state_key, v = { 0, NULL };
	const unsigned char *b;
	enum store_rc	 r;
	size_t		 id;
	int		 own, rc;

	memset(out, 0, sizeof(*out));
	out->nodes = 1;
	if ((r = store_rd_enter(st, &own)) != STORE_OK)
		return r;
	if ((id = mdb_txn_id(st->rtxn)) == st->state_txn && id != 0) {
		*out = st->state;
		store_rd_leave(st, own);
		return st->state_rc;
	}
	rc = mdb_get(st->rtxn, st->cluster, &k, &v);
	b = v.mv_data;
	if (rc == 0 && (v.mv_size != STATE_LEN || b[0] != STATE_VERSION))
		rc = MDB_CORRUPTED;
	if (rc == 0) {
		out->nodes = (uint32_t)get_le(b + 1, 4);
		out->leased = b[5];
		out->node_id = (uint32_t)get_le(b + 6, 4);
		out->fence_ms = get_le(b + 10, 8);
		out->not_before_ms = get_le(b + 18, 8);
		out->synced_ms = get_le(b + 26, 8);
		if (out->nodes == 0)
			out->nodes = 1;
	}
	store_rd_leave(st, own);
	r = store_fail(st, rc, "reading the cluster state");
	if (r == STORE_OK || r == STORE_NOTFOUND) {
		st->state_txn = id;
		st->state = *out;
		st->state_rc = r;
	}
	return r;
}

enum store_rc
store_cluster_remote(struct store *st, const char *user, uint32_t month,
    uint64_t *count)
{
	unsigned char	 kb[RKEY_MAX];
	MDB_val		 k = { 0, kb }, v;
	enum store_rc	 r;
	int		 own, rc;

	*count = 0;
	k.mv_size = rkey(kb, user, month);
	if ((r = store_rd_enter(st, &own)) != STORE_OK)
		return r;
	rc = mdb_get(st->rtxn, st->remote, &k, &v);
	if (rc == 0 && v.mv_size == 8)
		*count = get_le(v.mv_data, 8);
	store_rd_leave(st, own);
	return rc == MDB_NOTFOUND ? STORE_OK :
	    store_fail(st, rc, "reading the other nodes' counts");
}

/* ---- the sync process ------------------------------------------------- */

enum store_rc
store_cluster_set_state(struct store *st, const struct cluster_state *s)
{
	unsigned char	 b[STATE_LEN];
	MDB_val		 k = state_key, v = { STATE_LEN, b };
	MDB_txn		*txn;
	int		 rc;

	b[0] = STATE_VERSION;
	put_le(b + 1, s->nodes, 4);
	b[5] = (unsigned char)(s->leased != 0);
	put_le(b + 6, s->node_id, 4);
	put_le(b + 10, s->fence_ms, 8);
	put_le(b + 18, s->not_before_ms, 8);
	put_le(b + 26, s->synced_ms, 8);
	if ((rc = store_wr_begin(st, &txn)) != 0)
		return store_fail(st, rc, "saving the cluster state");
	rc = mdb_put(txn, st->cluster, &k, &v, 0);
	return store_commit(st, txn, rc, "saving the cluster state");
}

enum store_rc
store_cluster_set_remote(struct store *st, const struct remote_count *c,
    size_t n)
{
	unsigned char	 kb[RKEY_MAX], vb[8];
	MDB_val		 k = { 0, kb }, v = { 8, vb };
	MDB_txn		*txn;
	size_t		 i;
	int		 rc;

	if (n == 0)
		return STORE_OK;
	if ((rc = store_wr_begin(st, &txn)) != 0)
		return store_fail(st, rc, "saving the other nodes' counts");
	for (i = 0; i < n && rc == 0; i++) {
		k.mv_size = rkey(kb, c[i].user, c[i].month);
		put_le(vb, c[i].count, 8);
		if (c[i].count > 0)
			rc = mdb_put(txn, st->remote, &k, &v, 0);
		else if ((rc = mdb_del(txn, st->remote, &k, NULL)) ==
		    MDB_NOTFOUND)
			rc = 0;
	}
	return store_commit(st, txn, rc, "saving the other nodes' counts");
}

enum store_rc
store_cluster_keys(struct store *st, const struct key_change *c, size_t n,
    int full)
{
	MDB_txn		*txn;
	size_t		 i;
	int		 rc;

	if (n == 0 && !full)
		return STORE_OK;
	if ((rc = store_wr_begin(st, &txn)) != 0)
		return store_fail(st, rc, "mirroring keys");
	/* In full: the cluster's keys and nothing else, in one commit, so
	 * a worker sees either the old set or the new one. */
	if (full && (rc = mdb_drop(txn, st->keys, 0)) == 0)
		rc = mdb_drop(txn, st->tokens, 0);
	for (i = 0; i < n && rc == 0; i++)
		rc = c[i].removed ? store_key_unmirror(st, txn, c[i].key.user) :
		    store_key_mirror(st, txn, &c[i].key);
	return store_commit(st, txn, rc, "mirroring keys");
}

enum store_rc
store_cluster_bind(struct store *st, const char *node,
    unsigned char id[STORE_ID_LEN])
{
	unsigned char	 b[STORE_ID_LEN + USER_MAX];
	size_t		 nl = strlen(node);
	MDB_val		 k = node_key, v;
	MDB_txn		*txn;
	int		 rc;

	if (nl == 0 || nl > USER_MAX)
		return store_say(st, STORE_INVALID, "bad node name %s", node);
	if ((rc = store_wr_begin(st, &txn)) != 0)
		return store_fail(st, rc, "binding the store to its node");
	rc = mdb_get(txn, st->cluster, &k, &v);
	if (rc == 0 && v.mv_size > STORE_ID_LEN) {
		if (v.mv_size - STORE_ID_LEN != nl || memcmp((const char *)
		    v.mv_data + STORE_ID_LEN, node, nl) != 0) {
			snprintf(st->err, sizeof(st->err), "the store in %s "
			    "holds the counts of node \"%.*s\", not of \"%s\": "
			    "set node_name back, or give this node a store of "
			    "its own", st->path, (int)(v.mv_size - STORE_ID_LEN),
			    (const char *)v.mv_data + STORE_ID_LEN, node);
			mdb_txn_abort(txn);
			return STORE_EXISTS;
		}
		memcpy(id, v.mv_data, STORE_ID_LEN);
		mdb_txn_abort(txn);
		return STORE_OK;
	}
	if (rc == 0 || rc == MDB_NOTFOUND) {
		randombytes_buf(id, STORE_ID_LEN);
		memcpy(b, id, STORE_ID_LEN);
		memcpy(b + STORE_ID_LEN, node, nl);
		v.mv_size = STORE_ID_LEN + nl;
		v.mv_data = b;
		rc = mdb_put(txn, st->cluster, &k, &v, 0);
	}
	return store_commit(st, txn, rc, "binding the store to its node");
}

/*
 * store_usage.c: durable usage counts, and the marks that make a flush of
 * the shared table idempotent (see store_usage_apply in store.h).
 *
 *   usage  username NUL month(u32 BE) type -> u64 count
 *   marks  generation(u64 BE) slot(u32 BE) -> u64 mark
 *   gens   generation(u64 BE) -> last flush i64 (Unix s), ring batch u64,
 *          retired u8
 *
 * Marks are per (generation, slot): two tables alive at once (a file
 * replaced while workers still map the old one) flush the same slot
 * numbers, and each must add only its own calls.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store_int.h"

#define UKEY_MAX	(USER_MAX + 1 + 4 + TYPE_MAX)

static size_t
ukey(unsigned char *b, const char *user, uint32_t month, const char *type)
{
	size_t	 ul = strnlen(user, USER_MAX), tl = strnlen(type, TYPE_MAX);

	memcpy(b, user, ul);
	b[ul] = '\0';
	put_be32(b + ul + 1, month);
	memcpy(b + ul + 5, type, tl);
	return ul + 5 + tl;
}

/* Split a usage key; -1 if it is not one. */
static int
ukey_parse(const MDB_val *k, char *user, uint32_t *month, char *type)
{
	const unsigned char *b = k->mv_data, *z;
	size_t	 ul, tl;

	if ((z = memchr(b, '\0', k->mv_size)) == NULL)
		return -1;
	ul = (size_t)(z - b);
	if (ul > USER_MAX || k->mv_size < ul + 5 ||
	    (tl = k->mv_size - ul - 5) > TYPE_MAX)
		return -1;
	memcpy(user, b, ul);
	user[ul] = '\0';
	*month = get_be32(b + ul + 1);
	memcpy(type, b + ul + 5, tl);
	type[tl] = '\0';
	return 0;
}

static int
add_count(struct store *st, MDB_txn *txn, const struct usage_cell *c,
    uint64_t delta)
{
	unsigned char	 kb[UKEY_MAX], vb[8];
	MDB_val		 k, v;
	uint64_t	 n = 0;
	int		 rc;

	k.mv_data = kb;
	k.mv_size = ukey(kb, c->user, c->month, c->type);
	rc = mdb_get(txn, st->usage, &k, &v);
	if (rc == 0 && v.mv_size == 8)
		n = get_le(v.mv_data, 8);
	else if (rc != 0 && rc != MDB_NOTFOUND)
		return rc;
	n = n > UINT64_MAX - delta ? UINT64_MAX : n + delta;
	put_le(vb, n, 8);
	v.mv_size = 8;
	v.mv_data = vb;
	return mdb_put(txn, st->usage, &k, &v, 0);
}

static void
mkey(unsigned char kb[12], uint64_t gen, uint32_t slot)
{
	put_be32(kb, (uint32_t)(gen >> 32));
	put_be32(kb + 4, (uint32_t)gen);
	put_be32(kb + 8, slot);
}

static int
apply_cell(struct store *st, MDB_txn *txn, uint64_t gen,
    const struct usage_cell *c)
{
	unsigned char	 kb[12], vb[8];
	MDB_val		 k = { 12, kb }, v;
	uint64_t	 mark = 0;
	int		 rc;

	mkey(kb, gen, c->slot);
	rc = mdb_get(txn, st->marks, &k, &v);
	if (rc == 0 && v.mv_size == 8)
		mark = get_le(v.mv_data, 8);
	else if (rc != 0 && rc != MDB_NOTFOUND)
		return rc;
	if (rc == 0 && mark == c->counter)
		return 0;		/* flushed already */
	/* A counter below its mark would be a reset the generation missed:
	 * count nothing and start again from it. */
	if (c->counter > mark && c->user[0] != '\0' &&
	    (rc = add_count(st, txn, c, c->counter - mark)) != 0)
		return rc;
	put_le(vb, c->counter, 8);
	v.mv_size = 8;
	v.mv_data = vb;
	return mdb_put(txn, st->marks, &k, &v, 0);
}

struct gen_row {
	int64_t		 last;		/* Unix s of the last flush */
	uint64_t	 ring;		/* the ring's last batch */
	int		 retired;
};

static int
gen_get(struct store *st, MDB_txn *txn, uint64_t gen, struct gen_row *g)
{
	unsigned char	 kb[8];
	MDB_val		 k = { 8, kb }, v;
	int		 rc;

	memset(g, 0, sizeof(*g));
	put_be32(kb, (uint32_t)(gen >> 32));
	put_be32(kb + 4, (uint32_t)gen);
	if ((rc = mdb_get(txn, st->gens, &k, &v)) != 0)
		return rc;
	if (v.mv_size != 17)
		return MDB_CORRUPTED;
	g->last = (int64_t)get_le(v.mv_data, 8);
	g->ring = get_le((const unsigned char *)v.mv_data + 8, 8);
	g->retired = ((const unsigned char *)v.mv_data)[16];
	return 0;
}

static int
gen_put(struct store *st, MDB_txn *txn, uint64_t gen, const struct gen_row *g)
{
	unsigned char	 kb[8], vb[17];
	MDB_val		 k = { 8, kb }, v = { 17, vb };

	put_be32(kb, (uint32_t)(gen >> 32));
	put_be32(kb + 4, (uint32_t)gen);
	put_le(vb, (uint64_t)g->last, 8);
	put_le(vb + 8, g->ring, 8);
	vb[16] = (unsigned char)g->retired;
	return mdb_put(txn, st->gens, &k, &v, 0);
}

static int
apply(struct store *st, MDB_txn *txn, const struct usage_batch *b)
{
	struct gen_row	 g;
	size_t		 i;
	int		 rc;

	if ((rc = gen_get(st, txn, b->generation, &g)) != 0 &&
	    rc != MDB_NOTFOUND)
		return rc;
	if (g.retired)
		return MDB_NOTFOUND - 1;	/* see store_usage_apply */
	for (i = 0, rc = 0; i < b->ncells && rc == 0; i++)
		rc = apply_cell(st, txn, b->generation, &b->cells[i]);
	for (i = 0; i < b->nadds && rc == 0; i++)
		if (b->adds[i].user[0] != '\0' && b->adds[i].counter > 0)
			rc = add_count(st, txn, &b->adds[i], b->adds[i].counter);
	if (rc != 0)
		return rc;
	g.last = (int64_t)time(NULL);
	if (b->ring_batch != 0)
		g.ring = b->ring_batch;
	return gen_put(st, txn, b->generation, &g);
}

enum store_rc
store_usage_apply(struct store *st, const struct usage_batch *b)
{
	MDB_txn		*txn;
	int		 rc;

	if (b->ncells == 0 && b->nadds == 0)
		return STORE_OK;
	if ((rc = store_wr_begin(st, &txn)) != 0)
		return store_fail(st, rc, "saving usage counts");
	if ((rc = apply(st, txn, b)) == MDB_NOTFOUND - 1) {
		mdb_txn_abort(txn);
		snprintf(st->err, sizeof(st->err), "saving usage counts: the "
		    "shared table of generation %016llx was retired: its "
		    "counts were left unflushed for too long",
		    (unsigned long long)b->generation);
		return STORE_INVALID;
	}
	return store_commit(st, txn, rc, "saving usage counts");
}

enum store_rc
store_usage_ring(struct store *st, uint64_t generation, uint64_t *batch)
{
	struct gen_row	 g;
	enum store_rc	 r;
	int		 own, rc;

	*batch = 0;
	if ((r = store_rd_enter(st, &own)) != STORE_OK)
		return r;
	rc = gen_get(st, st->rtxn, generation, &g);
	store_rd_leave(st, own);
	if (rc == MDB_NOTFOUND)
		return STORE_OK;
	if (rc != 0)
		return store_fail(st, rc, "reading usage marks");
	*batch = g.ring;
	return STORE_OK;
}

enum store_rc
store_usage_seed(struct store *st, const char *user, uint32_t month,
    uint64_t generation, const uint32_t *slots, uint64_t *marks, size_t n,
    uint64_t *ring, uint64_t *total)
{
	unsigned char	 kb[12];
	MDB_val		 k = { 12, kb }, v;
	MDB_txn		*txn, *saved = st->rtxn;
	struct gen_row	 g;
	enum store_rc	 r;
	size_t		 i;
	int		 active = st->rd_active, rc;

	*ring = *total = 0;
	/* MDB_NOTLS: a second read txn beside the request's. */
	if ((rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn)) != 0)
		return store_fail(st, rc, "reading usage");
	st->rtxn = txn;
	st->rd_active = 1;
	r = store_usage_month(st, user, month, total);
	st->rtxn = saved;
	st->rd_active = active;
	for (i = 0; r == STORE_OK && i < n; i++) {
		marks[i] = 0;
		mkey(kb, generation, slots[i]);
		if ((rc = mdb_get(txn, st->marks, &k, &v)) == 0 &&
		    v.mv_size == 8)
			marks[i] = get_le(v.mv_data, 8);
		else if (rc != 0 && rc != MDB_NOTFOUND)
			r = store_fail(st, rc, "reading usage marks");
	}
	if (r == STORE_OK) {
		if ((rc = gen_get(st, txn, generation, &g)) == 0)
			*ring = g.ring;
		else if (rc != MDB_NOTFOUND)
			r = store_fail(st, rc, "reading usage marks");
	}
	mdb_txn_abort(txn);
	return r;
}

/* Delete every mark of one generation. */
static int
drop_marks(struct store *st, MDB_txn *txn, uint64_t gen)
{
	unsigned char	 kb[12];
	MDB_cursor	*c;
	MDB_val		 k = { 12, kb }, v;
	int		 rc;

	mkey(kb, gen, 0);
	if ((rc = mdb_cursor_open(txn, st->marks, &c)) != 0)
		return rc;
	for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0;
	    rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (k.mv_size != 12 || memcmp(k.mv_data, kb, 8) != 0)
			break;
		if ((rc = mdb_cursor_del(c, 0)) != 0)
			break;
	}
	mdb_cursor_close(c);
	return rc == MDB_NOTFOUND || rc == 0 ? 0 : rc;
}

enum store_rc
store_usage_marks(struct store *st, uint64_t gen, size_t *n)
{
	unsigned char	 kb[12];
	MDB_cursor	*c;
	MDB_val		 k = { 12, kb }, v;
	enum store_rc	 r;
	int		 own, rc;

	*n = 0;
	mkey(kb, gen, 0);
	if ((r = store_rd_enter(st, &own)) != STORE_OK)
		return r;
	if ((rc = mdb_cursor_open(st->rtxn, st->marks, &c)) == 0) {
		for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0 &&
		    k.mv_size == 12 && memcmp(k.mv_data, kb, 8) == 0;
		    rc = mdb_cursor_get(c, &k, &v, MDB_NEXT))
			(*n)++;
		mdb_cursor_close(c);
	}
	store_rd_leave(st, own);
	return rc == 0 || rc == MDB_NOTFOUND ? STORE_OK :
	    store_fail(st, rc, "reading usage marks");
}

enum store_rc
store_usage_prune(struct store *st, uint64_t keep, int64_t before, size_t *n)
{
	MDB_txn		*txn;
	MDB_cursor	*c;
	MDB_val		 k, v;
	uint64_t	 gens[64], gen;
	struct gen_row	 g;
	size_t		 i, ng = 0;
	int		 rc;

	*n = 0;
	if ((rc = store_wr_begin(st, &txn)) != 0)
		return store_fail(st, rc, "pruning usage marks");
	if ((rc = mdb_cursor_open(txn, st->gens, &c)) != 0)
		return store_commit(st, txn, rc, "pruning usage marks");
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0 &&
	    ng < sizeof(gens) / sizeof(gens[0]);
	    rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (k.mv_size != 8 || v.mv_size != 17)
			continue;
		gen = (uint64_t)get_be32(k.mv_data) << 32 |
		    get_be32((const unsigned char *)k.mv_data + 4);
		if (gen != keep && !((const unsigned char *)v.mv_data)[16] &&
		    (int64_t)get_le(v.mv_data, 8) < before)
			gens[ng++] = gen;
	}
	mdb_cursor_close(c);
	for (i = 0, rc = 0; i < ng && rc == 0; i++) {
		if ((rc = gen_get(st, txn, gens[i], &g)) != 0 ||
		    (rc = drop_marks(st, txn, gens[i])) != 0)
			break;
		g.retired = 1;
		rc = gen_put(st, txn, gens[i], &g);
	}
	if (rc == 0)
		*n = ng;
	return store_commit(st, txn, rc, "pruning usage marks");
}

/*
 * Format 1 kept one mark per slot, keyed by the slot alone, with its
 * generation in the value: rewrite each under (generation, slot).  Rows
 * past the table's 32,768 cells marked one-off commits of a full table;
 * nothing repeats those, so they go.
 */
#define V1_CELLS	32768
int
store_marks_upgrade(struct store *st, MDB_txn *txn)
{
	unsigned char	 kb[12];
	MDB_cursor	*c;
	MDB_val		 k, v, nk = { 12, kb }, nv;
	struct { uint32_t slot; unsigned char v[16]; } *old;
	size_t		 n = 0, i;
	int		 rc;

	if ((old = calloc(V1_CELLS, sizeof(*old))) == NULL)
		return ENOMEM;
	if ((rc = mdb_cursor_open(txn, st->marks, &c)) != 0) {
		free(old);
		return rc;
	}
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (k.mv_size != 4)
			continue;
		if (v.mv_size == 16 && get_be32(k.mv_data) < V1_CELLS &&
		    n < V1_CELLS) {
			old[n].slot = get_be32(k.mv_data);
			memcpy(old[n++].v, v.mv_data, 16);
		}
		if ((rc = mdb_cursor_del(c, 0)) != 0)
			break;
	}
	mdb_cursor_close(c);
	if (rc == MDB_NOTFOUND)
		rc = 0;
	for (i = 0; i < n && rc == 0; i++) {
		mkey(kb, get_le(old[i].v, 8), old[i].slot);
		nv.mv_size = 8;
		nv.mv_data = old[i].v + 8;
		rc = mdb_put(txn, st->marks, &nk, &nv, 0);
	}
	free(old);
	return rc;
}

/* Call fn for every usage row whose key starts with prefix. */
static enum store_rc
usage_walk(struct store *st, const unsigned char *prefix, size_t plen,
    int (*fn)(void *, const char *, uint32_t, const char *, uint64_t),
    void *arg)
{
	char		 user[USER_MAX + 1], type[TYPE_MAX + 1];
	uint32_t	 month;
	MDB_cursor	*c;
	MDB_val		 k = { plen, (void *)prefix }, v;
	enum store_rc	 r;
	int		 own, rc;

	if ((r = store_rd_enter(st, &own)) != STORE_OK)
		return r;
	if ((rc = mdb_cursor_open(st->rtxn, st->usage, &c)) != 0) {
		store_rd_leave(st, own);
		return store_fail(st, rc, "reading usage");
	}
	rc = mdb_cursor_get(c, &k, &v, plen ? MDB_SET_RANGE : MDB_FIRST);
	for (; rc == 0; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (k.mv_size < plen || memcmp(k.mv_data, prefix, plen) != 0)
			break;
		if (ukey_parse(&k, user, &month, type) == 0 &&
		    v.mv_size == 8 &&
		    fn(arg, user, month, type, get_le(v.mv_data, 8)) != 0)
			break;
	}
	r = rc == 0 || rc == MDB_NOTFOUND ? STORE_OK :
	    store_fail(st, rc, "reading usage");
	mdb_cursor_close(c);
	store_rd_leave(st, own);
	return r;
}

static int
sum_row(void *arg, const char *user, uint32_t month, const char *type,
    uint64_t n)
{
	uint64_t	*t = arg;

	(void)user;
	(void)month;
	(void)type;
	*t = *t > UINT64_MAX - n ? UINT64_MAX : *t + n;
	return 0;
}

enum store_rc
store_usage_month(struct store *st, const char *user, uint32_t month,
    uint64_t *total)
{
	unsigned char	 p[USER_MAX + 5];
	size_t		 ul = strnlen(user, USER_MAX + 1);

	*total = 0;
	if (ul == 0 || ul > USER_MAX) {
		store_say(st, STORE_INVALID, "bad username %s", user);
		return STORE_INVALID;
	}
	memcpy(p, user, ul);
	p[ul] = '\0';
	put_be32(p + ul + 1, month);
	return usage_walk(st, p, ul + 5, sum_row, total);
}

enum store_rc
store_usage_each(struct store *st, const char *user,
    int (*cb)(void *, const char *, uint32_t, const char *, uint64_t),
    void *arg)
{
	unsigned char	 p[USER_MAX + 1];
	char		 u[USER_MAX + 1];
	size_t		 plen = 0;
	enum store_rc	 r;

	if (user != NULL) {
		if ((r = store_norm(st, user, u)) != STORE_OK)
			return r;
		plen = strlen(u) + 1;
		memcpy(p, u, plen);	/* with its NUL: "bob" is not "bobby" */
	}
	return usage_walk(st, p, plen, cb, arg);
}

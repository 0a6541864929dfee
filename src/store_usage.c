/*
 * store_usage.c: durable usage counts, and the marks that make a flush of
 * the shared table idempotent (see store_usage_apply in store.h).
 *
 *   usage  username NUL month(u32 BE) type -> u64 count
 *   marks  slot(u32 BE) -> generation u64, mark u64
 */
#include "config.h"

#include <string.h>

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

static int
apply_cell(struct store *st, MDB_txn *txn, uint64_t gen,
    const struct usage_cell *c)
{
	unsigned char	 kb[4], vb[16];
	MDB_val		 k = { 4, kb }, v;
	uint64_t	 mark = 0;
	int		 rc, same = 0;

	put_be32(kb, c->slot);
	rc = mdb_get(txn, st->marks, &k, &v);
	if (rc == 0 && v.mv_size == 16 && get_le(v.mv_data, 8) == gen) {
		mark = get_le((const unsigned char *)v.mv_data + 8, 8);
		same = 1;
	} else if (rc != 0 && rc != MDB_NOTFOUND)
		return rc;
	if (same && mark == c->counter)
		return 0;		/* flushed already */
	/* A counter below its mark would be a reset the generation missed:
	 * count nothing and start again from it. */
	if (c->counter > mark && c->user[0] != '\0' &&
	    (rc = add_count(st, txn, c, c->counter - mark)) != 0)
		return rc;
	put_le(vb, gen, 8);
	put_le(vb + 8, c->counter, 8);
	v.mv_size = 16;
	v.mv_data = vb;
	return mdb_put(txn, st->marks, &k, &v, 0);
}

enum store_rc
store_usage_apply(struct store *st, uint64_t generation,
    const struct usage_cell *cells, size_t n)
{
	MDB_txn		*txn;
	size_t		 i;
	int		 rc;

	if (n == 0)
		return STORE_OK;
	if ((rc = store_wr_begin(st, &txn)) != 0)
		return store_fail(st, rc, "saving usage counts");
	for (i = 0, rc = 0; i < n && rc == 0; i++)
		rc = apply_cell(st, txn, generation, &cells[i]);
	return store_commit(st, txn, rc, "saving usage counts");
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
